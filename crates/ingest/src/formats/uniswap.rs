//! Uniswap v2 pair reserves sampled at a fixed step, as a bare JSON list of
//! `{"<token0>": reserve, "<token1>": reserve}` in token units without
//! times (BerkeleyBlockchain/stablesims' `eth_dai_liquidity` feeds: row k is
//! `--start` + k × step, 10 minutes unless `interval_secs` says otherwise).
//!
//! Each row gives a `liquidity` row for the volatile token (WETH is
//! recorded as ETH) sold into the pool for the other: `depth_usd` is the
//! stable side's reserve, the USD on each side of a constant-product pool,
//! taking one stable token for one USD (the file has no stable price); and
//! a `prices` print of the pool's mid price (stable reserve / volatile
//! reserve). Numbers are read from their JSON text (never through f64).

use serde_json::value::RawValue;
use shortfall_core::{LiquidityRow, Micros, PriceBar, Wad};

use crate::ctx::FileCtx;
use crate::error::{IngestError, Location};
use crate::{num, timefmt};

/// The source's step: 10 minutes.
const DEFAULT_STEP_SECS: i64 = 600;
/// Tokens taken as one USD each.
const STABLES: [&str; 4] = ["DAI", "USDC", "USDT", "USD"];

fn symbol(s: &str) -> String {
    match s.trim().to_ascii_uppercase().as_str() {
        "WETH" => "ETH".into(),
        o => o.to_string(),
    }
}

pub(crate) fn parse(ctx: &mut FileCtx, bytes: &[u8]) -> Result<(), IngestError> {
    super::check_not_empty(ctx, bytes)?;
    let start = ctx.opts.start.ok_or_else(|| {
        IngestError::Options(format!(
            "{}: the reserves file has no times: pass --start (the time of its first row, e.g. 2021-05-19T00:00:00Z)",
            ctx.name
        ))
    })?;
    if !timefmt::in_bounds(start) {
        return Err(IngestError::Options(format!(
            "--start {}: expected a time between 2009 and 2100",
            start.to_iso()
        )));
    }
    let step = ctx.opts.interval_secs.unwrap_or(DEFAULT_STEP_SECS);
    let venue = ctx
        .opts
        .venue
        .clone()
        .unwrap_or_else(|| "uniswap_v2".into());
    let text = std::str::from_utf8(bytes).map_err(|e| ctx.structure(format!("not UTF-8: {e}")))?;
    let items: Vec<std::collections::BTreeMap<String, &RawValue>> =
        serde_json::from_str(text).map_err(|e| {
            ctx.structure(format!(
                "line {}, column {}: expected a JSON array of {{\"TOKEN\": reserve, ...}} objects: {e}",
                e.line(),
                e.column()
            ))
        })?;
    if items.is_empty() {
        return Err(ctx.structure("no data rows (empty JSON array)"));
    }
    let first: Vec<String> = items[0].keys().cloned().collect();
    let pair = pick_pair(&first).ok_or_else(|| {
        ctx.structure(format!(
            "expected two reserves, one of a stable token ({}) and one other, found keys {}",
            STABLES.join(", "),
            first.join(", ")
        ))
    })?;
    let (stable_key, asset_key) = pair;
    let (asset, quote) = (symbol(&asset_key), symbol(&stable_key));
    for (k, item) in items.iter().enumerate() {
        ctx.rows_read += 1;
        let loc = Location::Row(k as u64 + 1);
        let ts = Micros(start.0 + (k as i64) * step * 1_000_000);
        let res = (|| {
            let keys: Vec<&String> = item.keys().collect();
            if keys.len() != 2 || !item.contains_key(&stable_key) || !item.contains_key(&asset_key)
            {
                return Err(ctx.bad_row(
                    loc,
                    "-",
                    format!(
                        "expected the keys {stable_key} and {asset_key}, found {}",
                        keys.iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            let reserve = |key: &str| -> Result<Wad, IngestError> {
                let t = item[key].get().trim();
                num::parse_wad(t.as_bytes())
                    .filter(|w| w.is_positive())
                    .ok_or_else(|| {
                        ctx.bad_value(loc, key, "a positive reserve in token units", t.as_bytes())
                    })
            };
            let stable = reserve(&stable_key)?;
            let volatile = reserve(&asset_key)?;
            let mid = stable
                .checked_div(volatile)
                .filter(|p| p.is_positive())
                .ok_or_else(|| {
                    ctx.bad_row(loc, &asset_key, "reserves give no positive price".into())
                })?;
            Ok((stable, mid))
        })();
        match res {
            Ok((depth, mid)) => {
                ctx.push_price(
                    PriceBar {
                        ts,
                        venue: venue.clone(),
                        base: asset.clone(),
                        quote: quote.clone(),
                        interval_secs: 0,
                        open: mid,
                        high: mid,
                        low: mid,
                        close: mid,
                        volume_base: None,
                        volume_quote: None,
                        trades: None,
                    },
                    loc,
                );
                ctx.liquidity.push((
                    LiquidityRow {
                        ts,
                        venue: venue.clone(),
                        asset: asset.clone(),
                        quote: quote.clone(),
                        depth_usd: depth,
                    },
                    loc,
                ));
            }
            Err(e) => ctx.bad(e)?,
        }
    }
    ctx.notes.push(format!(
        "times assigned: row k at {} + k x {step} s (the file has none); depth_usd = {quote} reserve at 1 {quote} = 1 USD",
        start.to_iso()
    ));
    Ok(())
}

/// (stable key, other key) of a two-token object.
fn pick_pair(keys: &[String]) -> Option<(String, String)> {
    if keys.len() != 2 {
        return None;
    }
    let is_stable = |k: &String| STABLES.contains(&symbol(k).as_str());
    match (is_stable(&keys[0]), is_stable(&keys[1])) {
        (true, false) => Some((keys[0].clone(), keys[1].clone())),
        (false, true) => Some((keys[1].clone(), keys[0].clone())),
        _ => None,
    }
}
