//! CryptoDataDownload CSV exports.
//!
//! A banner line (`https://www.CryptoDataDownload.com` or
//! `Created on ...,https://...`), then a header such as
//! `unix,date,symbol,open,high,low,close,Volume BTC,Volume USDT,tradecount`
//! or `Unix Timestamp,Date,Symbol,Open,High,Low,Close,Volume`, rows newest
//! first. The `unix` column (seconds, possibly `1584057600.0`, or
//! milliseconds) is the time of record; the `date` column is ignored (it
//! switches between ISO and a 12-hour `2020-03-12 11-PM` layout).
//! `NULL` trade counts become missing values. Zero prices are bad rows.
//! Bars with a high/low far beyond their neighbours' closes are kept and
//! reported as warnings (see `validate::check_series`).

use csv::ByteRecord;
use shortfall_core::{Micros, PriceBar};

use super::{
    check_delimiter, check_not_empty, csv_reader, next_record, split_symbol, wad_field, Lines,
};
use crate::ctx::FileCtx;
use crate::error::{IngestError, Location};
use crate::num;
use crate::validate;

#[derive(Default)]
struct Cols {
    unix: Option<usize>,
    symbol: Option<usize>,
    open: Option<usize>,
    high: Option<usize>,
    low: Option<usize>,
    close: Option<usize>,
    /// (index, header name, currency after "Volume ")
    volumes: Vec<(usize, String, String)>,
    trades: Option<usize>,
    names: Vec<String>,
}

fn header(rec: &ByteRecord) -> Cols {
    let mut c = Cols::default();
    for (i, f) in rec.iter().enumerate() {
        let name = String::from_utf8_lossy(f).trim().to_string();
        let lower = name.to_ascii_lowercase();
        match lower.as_str() {
            "unix" | "unix timestamp" | "timestamp" => c.unix = Some(i),
            "symbol" => c.symbol = Some(i),
            "open" => c.open = Some(i),
            "high" => c.high = Some(i),
            "low" => c.low = Some(i),
            "close" => c.close = Some(i),
            "tradecount" | "trade count" | "trades" => c.trades = Some(i),
            l if l == "volume" || l.starts_with("volume ") || l.starts_with("volume_") => {
                let cur = name
                    .get(7..)
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_uppercase();
                c.volumes.push((i, name.clone(), cur));
            }
            _ => {}
        }
        c.names.push(name);
    }
    c
}

fn is_banner(rec: &ByteRecord) -> bool {
    rec.iter().any(|f| {
        let l = f.trim_ascii().to_ascii_lowercase();
        l.starts_with(b"http") || l.windows(17).any(|w| w == b"cryptodatadownload")
    })
}

pub(crate) fn parse(ctx: &mut FileCtx, bytes: &[u8]) -> Result<(), IngestError> {
    check_not_empty(ctx, bytes)?;
    let venue = match &ctx.opts.venue {
        Some(v) => v.clone(),
        None => {
            let v = super::venue_from_name(&ctx.name).ok_or_else(|| {
                IngestError::Options(format!(
                    "{}: CryptoDataDownload files do not name the venue and the file name does not either: pass --venue",
                    ctx.name
                ))
            })?;
            ctx.notes
                .push(format!("venue {v} taken from the file name"));
            v
        }
    };
    let mut rdr = csv_reader(bytes, b',', false);
    let mut rec = ByteRecord::new();
    let mut lines = Lines::new(bytes);
    // Banner and header.
    let cols = loop {
        if !next_record(ctx, &mut rdr, &mut rec)? {
            return Err(
                ctx.structure("no CryptoDataDownload header found (file holds only a banner?)")
            );
        }
        let loc = lines.of(&rec);
        check_delimiter(ctx, &rec, loc, b',')?;
        if is_banner(&rec) {
            continue;
        }
        let c = header(&rec);
        if c.unix.is_none()
            || c.open.is_none()
            || c.high.is_none()
            || c.low.is_none()
            || c.close.is_none()
        {
            return Err(ctx.structure(format!(
                "{loc}: expected a CryptoDataDownload header (unix,date,symbol,open,high,low,close,...), found \"{}\"",
                super::show_record(&rec)
            )));
        }
        break c;
    };
    let width = cols.names.len();
    let col_name = |i: usize| cols.names.get(i).map_or("?", |s| s.as_str()).to_string();
    // Base/quote: flags, else the symbol of the first row; every row must agree.
    let mut symbol: Option<(Vec<u8>, Location)> = None;
    let mut pair: Option<(String, String)> = match (&ctx.opts.base, &ctx.opts.quote) {
        (Some(b), Some(q)) => Some((b.to_ascii_uppercase(), q.to_ascii_uppercase())),
        _ => None,
    };
    // Volume columns: which one is base, which one quote (decided on the first row).
    let mut vol_cols: Option<(Option<usize>, Option<usize>)> = None;
    let before = ctx.rows_read;
    // Per collected bar: whether its unix field was in seconds (older export layout).
    let mut secs_layout: Vec<bool> = Vec::new();
    while next_record(ctx, &mut rdr, &mut rec)? {
        let loc = lines.of(&rec);
        ctx.rows_read += 1;
        if rec.len() < width {
            let e = ctx.bad_row(
                loc,
                &col_name(rec.len()),
                format!(
                    "expected {width} columns, found {} (truncated row?)",
                    rec.len()
                ),
            );
            ctx.bad(e)?;
            continue;
        }
        if let Some(si) = cols.symbol {
            let s = rec.get(si).unwrap_or_default().trim_ascii();
            match &symbol {
                None => {
                    symbol = Some((s.to_vec(), loc));
                    let text = String::from_utf8_lossy(s);
                    if pair.is_none() {
                        let (b, q) = split_symbol(&text).ok_or_else(|| {
                            ctx.bad_value(loc, &col_name(si), "a symbol like BTC/USDT or BTCUSD", s)
                        })?;
                        let b = ctx.opts.base.as_ref().map_or(b, |x| x.to_ascii_uppercase());
                        let q = ctx
                            .opts
                            .quote
                            .as_ref()
                            .map_or(q, |x| x.to_ascii_uppercase());
                        pair = Some((b, q));
                    }
                }
                Some((first, first_loc)) if first.as_slice() != s => {
                    return Err(ctx.structure(format!(
                        "mixed symbols: {first_loc} has \"{}\" but {loc}, column \"{}\" has \"{}\"; split the file by symbol",
                        num::show(first),
                        col_name(si),
                        num::show(s)
                    )));
                }
                Some(_) => {}
            }
        }
        let Some((base, quote)) = pair.clone() else {
            return Err(IngestError::Options(format!(
                "{}: the file has no symbol column: pass --base and --quote",
                ctx.name
            )));
        };
        let (vb, vq) =
            *vol_cols.get_or_insert_with(|| assign_volumes(&cols.volumes, &base, &quote));
        match row(ctx, &rec, loc, &cols, (vb, vq), &venue, &base, &quote) {
            Ok(bar) => {
                let unix = rec.get(cols.unix.unwrap_or(0)).unwrap_or_default();
                secs_layout.push(
                    num::parse_i64_lenient(unix)
                        .is_some_and(|v| v.unsigned_abs() < 100_000_000_000),
                );
                ctx.push_price(bar, loc);
            }
            Err(e) => ctx.bad(e)?,
        }
    }
    if ctx.rows_read == before {
        return Err(ctx.structure("no data rows"));
    }
    resolve_export_overlap(ctx, &secs_layout);
    // Interval: the most common step between bars.
    let interval = match ctx.opts.interval_secs {
        Some(i) => i,
        None => validate::infer_interval(&ctx.prices).unwrap_or(0),
    };
    for b in ctx.prices.iter_mut() {
        b.interval_secs = interval;
    }
    Ok(())
}

/// Some CryptoDataDownload files are two exports glued together: a newer one
/// with millisecond times, 8-decimal prices and trade counts, and an older
/// one with second times, rounded values and `NULL` trade counts, covering
/// the same hours for a while. Where an hour appears in both layouts, the
/// millisecond row is kept; the seconds row is counted as deduplicated when
/// its OHLC is the same, else as rejected (the old export sometimes holds a
/// bar captured before it closed). Duplicates within one layout are left to
/// the common duplicate rules.
fn resolve_export_overlap(ctx: &mut FileCtx, secs_layout: &[bool]) {
    let mut by_ts: std::collections::BTreeMap<i64, Vec<usize>> = std::collections::BTreeMap::new();
    for (i, b) in ctx.prices.iter().enumerate() {
        by_ts.entry(b.ts.0).or_default().push(i);
    }
    let mut drop = vec![false; ctx.prices.len()];
    let (mut same, mut differ) = (0u64, 0u64);
    let mut first: Option<String> = None;
    for idx in by_ts.values().filter(|v| v.len() > 1) {
        let Some(&keep) = idx
            .iter()
            .find(|&&i| !secs_layout.get(i).copied().unwrap_or(true))
        else {
            continue;
        };
        let Some(kept) = ctx.prices.get(keep) else {
            continue;
        };
        for &i in idx {
            if i == keep || !secs_layout.get(i).copied().unwrap_or(false) {
                continue;
            }
            let (Some(b), Some(loc)) = (ctx.prices.get(i), ctx.price_locs.get(i)) else {
                continue;
            };
            if (b.open, b.high, b.low, b.close) == (kept.open, kept.high, kept.low, kept.close) {
                same += 1;
            } else {
                differ += 1;
                if first.is_none() {
                    first = Some(format!("{loc}"));
                }
            }
            if let Some(d) = drop.get_mut(i) {
                *d = true;
            }
        }
    }
    if same + differ == 0 {
        return;
    }
    let mut i = 0;
    ctx.prices.retain(|_| {
        let keep = !drop.get(i).copied().unwrap_or(false);
        i += 1;
        keep
    });
    let mut i = 0;
    ctx.price_locs.retain(|_| {
        let keep = !drop.get(i).copied().unwrap_or(false);
        i += 1;
        keep
    });
    ctx.deduplicated += same;
    ctx.rejected += differ;
    ctx.warn(format!(
        "{} bars appear twice (a millisecond-time export and an older seconds-time export): kept the \
         millisecond rows; {same} seconds rows had the same OHLC (deduplicated), {differ} differed (rejected{})",
        same + differ,
        first.map_or(String::new(), |l| format!(", first at {l}"))
    ));
}

fn assign_volumes(
    vols: &[(usize, String, String)],
    base: &str,
    quote: &str,
) -> (Option<usize>, Option<usize>) {
    let (mut vb, mut vq) = (None, None);
    for (i, _, cur) in vols {
        let is_quote = cur == quote
            || (!cur.is_empty() && cur != base && super::QUOTE_SUFFIXES.contains(&cur.as_str()));
        if is_quote {
            vq = vq.or(Some(*i));
        } else {
            vb = vb.or(Some(*i));
        }
    }
    (vb, vq)
}

#[allow(clippy::too_many_arguments)]
fn row(
    ctx: &FileCtx,
    rec: &ByteRecord,
    loc: Location,
    cols: &Cols,
    (vb, vq): (Option<usize>, Option<usize>),
    venue: &str,
    base: &str,
    quote: &str,
) -> Result<PriceBar, IngestError> {
    let name = |i: Option<usize>| {
        i.and_then(|i| cols.names.get(i))
            .map_or("?", |s| s.as_str())
    };
    let ui = cols.unix.unwrap_or(0);
    let uf = rec.get(ui).unwrap_or_default();
    let ts = num::parse_i64_lenient(uf)
        .and_then(num::epoch_auto_to_micros)
        .ok_or_else(|| {
            ctx.bad_value(
                loc,
                name(cols.unix),
                "a unix time in seconds or milliseconds",
                uf,
            )
        })?;
    let w = |i: Option<usize>| wad_field(ctx, rec, i.unwrap_or(usize::MAX), name(i), loc);
    let opt_w = |i: Option<usize>| -> Result<Option<shortfall_core::Wad>, IngestError> {
        match i {
            None => Ok(None),
            Some(i) => {
                let f = rec.get(i).unwrap_or_default().trim_ascii();
                if f.is_empty() || f.eq_ignore_ascii_case(b"null") || f.eq_ignore_ascii_case(b"nan")
                {
                    Ok(None)
                } else {
                    wad_field(ctx, rec, i, name(Some(i)), loc).map(Some)
                }
            }
        }
    };
    let trades =
        match cols.trades {
            None => None,
            Some(i) => {
                let f = rec.get(i).unwrap_or_default().trim_ascii();
                if f.is_empty() || f.eq_ignore_ascii_case(b"null") {
                    None
                } else {
                    Some(num::parse_i64_lenient(f).ok_or_else(|| {
                        ctx.bad_value(loc, name(Some(i)), "an integer or NULL", f)
                    })?)
                }
            }
        };
    let bar = PriceBar {
        ts: Micros(ts),
        venue: venue.to_string(),
        base: base.to_string(),
        quote: quote.to_string(),
        interval_secs: 0,
        open: w(cols.open)?,
        high: w(cols.high)?,
        low: w(cols.low)?,
        close: w(cols.close)?,
        volume_base: opt_w(vb)?,
        volume_quote: opt_w(vq)?,
        trades,
    };
    validate::check_bar(
        ctx,
        &bar,
        loc,
        &[
            name(cols.unix),
            name(cols.open),
            name(cols.high),
            name(cols.low),
            name(cols.close),
            name(vb),
            name(vq),
        ],
    )?;
    Ok(bar)
}
