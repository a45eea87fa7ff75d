//! CoinAPI-style OHLCV JSON: an array of
//! `{time_period_start, time_period_end, price_open, price_high, price_low,
//! price_close, volume_traded, trades_count}`. The file names neither venue
//! nor symbol, so `--venue`, `--base` and `--quote` are required. Numbers are
//! read from their exact JSON text (never through f64).

use serde::Deserialize;
use serde_json::value::RawValue;
use shortfall_core::{Micros, PriceBar, Wad};

use crate::ctx::FileCtx;
use crate::error::{IngestError, Location};
use crate::{num, timefmt, validate};

#[derive(Deserialize)]
struct Bar<'a> {
    #[serde(borrow, default)]
    time_period_start: Option<&'a RawValue>,
    #[serde(borrow, default)]
    time_period_end: Option<&'a RawValue>,
    #[serde(borrow, default)]
    price_open: Option<&'a RawValue>,
    #[serde(borrow, default)]
    price_high: Option<&'a RawValue>,
    #[serde(borrow, default)]
    price_low: Option<&'a RawValue>,
    #[serde(borrow, default)]
    price_close: Option<&'a RawValue>,
    #[serde(borrow, default)]
    volume_traded: Option<&'a RawValue>,
    #[serde(borrow, default)]
    trades_count: Option<&'a RawValue>,
}

/// The text of a JSON scalar: a number as written, a string without quotes;
/// `None` for null or a missing key.
fn text(v: Option<&RawValue>) -> Option<&str> {
    let s = v?.get().trim();
    if s == "null" {
        return None;
    }
    Some(
        s.strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or(s),
    )
}

pub(crate) fn parse(ctx: &mut FileCtx, bytes: &[u8]) -> Result<(), IngestError> {
    super::check_not_empty(ctx, bytes)?;
    let need = |v: &Option<String>, flag: &str| {
        v.clone().ok_or_else(|| {
            IngestError::Options(format!(
                "{}: CoinAPI JSON does not name the venue or the symbol: pass {flag}",
                ctx.name
            ))
        })
    };
    let venue = need(&ctx.opts.venue, "--venue")?;
    let base = need(&ctx.opts.base, "--base")?.to_ascii_uppercase();
    let quote = need(&ctx.opts.quote, "--quote")?.to_ascii_uppercase();
    let items: Vec<&RawValue> = serde_json::from_slice(bytes).map_err(|e| {
        ctx.structure(format!(
            "line {}, column {}: expected a JSON array of OHLCV objects: {e}",
            e.line(),
            e.column()
        ))
    })?;
    if items.is_empty() {
        return Err(ctx.structure("no data rows (empty JSON array)"));
    }
    for (i, item) in items.iter().enumerate() {
        let loc = Location::Row(i as u64 + 1);
        ctx.rows_read += 1;
        match row(ctx, item, loc, &venue, &base, &quote) {
            Ok(bar) => ctx.push_price(bar, loc),
            Err(e) => ctx.bad(e)?,
        }
    }
    Ok(())
}

fn row(
    ctx: &FileCtx,
    item: &RawValue,
    loc: Location,
    venue: &str,
    base: &str,
    quote: &str,
) -> Result<PriceBar, IngestError> {
    let b: Bar = serde_json::from_str(item.get()).map_err(|e| {
        ctx.bad_row(
            loc,
            "-",
            format!("expected an object with time_period_start, price_open, ...: {e}"),
        )
    })?;
    let time = |v: Option<&RawValue>, col: &str| -> Result<Micros, IngestError> {
        let t = text(v).ok_or_else(|| ctx.bad_value(loc, col, "an ISO time", b"<missing>"))?;
        timefmt::parse_iso(t.as_bytes())
            .ok_or_else(|| ctx.bad_value(loc, col, "an ISO time", t.as_bytes()))
    };
    let price = |v: Option<&RawValue>, col: &str| -> Result<Wad, IngestError> {
        let t = text(v).ok_or_else(|| ctx.bad_value(loc, col, "a decimal number", b"<missing>"))?;
        num::parse_wad(t.as_bytes())
            .ok_or_else(|| ctx.bad_value(loc, col, "a decimal number", t.as_bytes()))
    };
    let start = time(b.time_period_start, "time_period_start")?;
    let interval_secs = match (ctx.opts.interval_secs, b.time_period_end) {
        (Some(i), _) => i,
        (None, None) => 0,
        (None, end) => {
            let end = time(end, "time_period_end")?;
            if end <= start {
                return Err(ctx.bad_row(
                    loc,
                    "time_period_end",
                    format!(
                        "expected an end after the start, found {} <= {}",
                        end.to_iso(),
                        start.to_iso()
                    ),
                ));
            }
            end.0.saturating_sub(start.0).saturating_add(999_999) / 1_000_000
        }
    };
    let volume_base = match text(b.volume_traded) {
        None => None,
        Some(t) => Some(num::parse_wad(t.as_bytes()).ok_or_else(|| {
            ctx.bad_value(loc, "volume_traded", "a decimal number", t.as_bytes())
        })?),
    };
    let trades = match text(b.trades_count) {
        None => None,
        Some(t) => Some(
            num::parse_i64_lenient(t.as_bytes())
                .ok_or_else(|| ctx.bad_value(loc, "trades_count", "an integer", t.as_bytes()))?,
        ),
    };
    let bar = PriceBar {
        ts: start,
        venue: venue.to_string(),
        base: base.to_string(),
        quote: quote.to_string(),
        interval_secs,
        open: price(b.price_open, "price_open")?,
        high: price(b.price_high, "price_high")?,
        low: price(b.price_low, "price_low")?,
        close: price(b.price_close, "price_close")?,
        volume_base,
        volume_quote: None,
        trades,
    };
    validate::check_bar(
        ctx,
        &bar,
        loc,
        &[
            "time_period_start",
            "price_open",
            "price_high",
            "price_low",
            "price_close",
            "volume_traded",
            "-",
        ],
    )?;
    Ok(bar)
}
