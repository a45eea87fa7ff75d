//! Binance public kline archives (`data.binance.vision`):
//! `open_time,open,high,low,close,volume,close_time,quote_volume,trades,taker_base,taker_quote,ignore`,
//! with or without a header row, times in ms (µs in spot archives since 2025,
//! detected per row by magnitude).

use csv::ByteRecord;
use shortfall_core::{Micros, PriceBar};

use super::{check_delimiter, check_not_empty, csv_reader, next_record, wad_field, Lines};
use crate::ctx::FileCtx;
use crate::error::{IngestError, Location};
use crate::num;
use crate::validate;

/// Column names of the archive layout.
pub const COLUMNS: [&str; 12] = [
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "trades",
    "taker_base",
    "taker_quote",
    "ignore",
];

/// Parses one kline CSV. `inner` is the CSV's name inside a zip, if any.
pub(crate) fn parse(
    ctx: &mut FileCtx,
    bytes: &[u8],
    inner: Option<&str>,
) -> Result<(), IngestError> {
    check_not_empty(ctx, bytes)?;
    let (base, quote) = match (&ctx.opts.base, &ctx.opts.quote) {
        (Some(b), Some(q)) => (b.to_ascii_uppercase(), q.to_ascii_uppercase()),
        (b, q) => {
            let outer = ctx.name.split(':').next().unwrap_or_default().to_string();
            let found = inner
                .and_then(super::symbol_from_name)
                .or_else(|| super::symbol_from_name(&outer))
                .ok_or_else(|| {
                    IngestError::Options(format!(
                        "{}: cannot tell the symbol from the file name: pass --base and --quote",
                        ctx.name
                    ))
                })?;
            let base = b.as_ref().map_or(found.0, |s| s.to_ascii_uppercase());
            let quote = q.as_ref().map_or(found.1, |s| s.to_ascii_uppercase());
            ctx.notes
                .push(format!("symbol {base}/{quote} taken from the file name"));
            (base, quote)
        }
    };
    let venue = ctx
        .opts
        .venue
        .clone()
        .unwrap_or_else(|| "binance".to_string());
    let mut rdr = csv_reader(bytes, b',', false);
    let mut rec = ByteRecord::new();
    let mut lines = Lines::new(bytes);
    let mut first = true;
    let before = ctx.rows_read;
    ctx.prices.reserve(bytes.len() / 120);
    ctx.price_locs.reserve(bytes.len() / 120);
    while next_record(ctx, &mut rdr, &mut rec)? {
        let loc = lines.of(&rec);
        if first {
            first = false;
            check_delimiter(ctx, &rec, loc, b',')?;
            let f0 = rec.get(0).unwrap_or_default();
            if num::parse_i64(f0).is_none() {
                if f0.trim_ascii().eq_ignore_ascii_case(b"open_time") {
                    continue;
                }
                return Err(ctx.structure(format!(
                    "{loc}: expected a Binance kline header (open_time,open,high,...) or data, found \"{}\"",
                    super::show_record(&rec)
                )));
            }
        }
        ctx.rows_read += 1;
        match row(ctx, &rec, loc, &venue, &base, &quote) {
            Ok(bar) => ctx.push_price(bar, loc),
            Err(e) => ctx.bad(e)?,
        }
    }
    if ctx.rows_read == before {
        return Err(ctx.structure("no data rows"));
    }
    Ok(())
}

fn row(
    ctx: &FileCtx,
    rec: &ByteRecord,
    loc: Location,
    venue: &str,
    base: &str,
    quote: &str,
) -> Result<PriceBar, IngestError> {
    if rec.len() < COLUMNS.len() {
        return Err(ctx.bad_row(
            loc,
            COLUMNS.get(rec.len()).unwrap_or(&"?"),
            format!(
                "expected {} columns, found {} (truncated row?)",
                COLUMNS.len(),
                rec.len()
            ),
        ));
    }
    let time = |i: usize| -> Result<i64, IngestError> {
        let f = rec.get(i).unwrap_or_default();
        num::parse_i64(f)
            .and_then(num::epoch_auto_to_micros)
            .ok_or_else(|| ctx.bad_value(loc, COLUMNS[i], "an epoch time in ms or µs", f))
    };
    let open_us = time(0)?;
    let close_us = time(6)?;
    if close_us <= open_us {
        return Err(ctx.bad_row(
            loc,
            "close_time",
            format!(
                "expected close_time after open_time, found {} <= {}",
                Micros(close_us).to_iso(),
                Micros(open_us).to_iso()
            ),
        ));
    }
    // close_time is the last ms/µs of the bar: round the length up to seconds.
    let interval_secs = close_us.saturating_sub(open_us).saturating_add(999_999) / 1_000_000;
    let trades_f = rec.get(8).unwrap_or_default();
    let trades = num::parse_i64(trades_f)
        .ok_or_else(|| ctx.bad_value(loc, "trades", "an integer", trades_f))?;
    let bar = PriceBar {
        ts: Micros(open_us),
        venue: venue.to_string(),
        base: base.to_string(),
        quote: quote.to_string(),
        interval_secs: ctx.opts.interval_secs.unwrap_or(interval_secs),
        open: wad_field(ctx, rec, 1, "open", loc)?,
        high: wad_field(ctx, rec, 2, "high", loc)?,
        low: wad_field(ctx, rec, 3, "low", loc)?,
        close: wad_field(ctx, rec, 4, "close", loc)?,
        volume_base: Some(wad_field(ctx, rec, 5, "volume", loc)?),
        volume_quote: Some(wad_field(ctx, rec, 7, "quote_volume", loc)?),
        trades: Some(trades),
    };
    validate::check_bar(
        ctx,
        &bar,
        loc,
        &[
            "open_time",
            "open",
            "high",
            "low",
            "close",
            "volume",
            "quote_volume",
        ],
    )?;
    Ok(bar)
}
