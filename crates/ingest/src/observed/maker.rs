//! `maker-flip-auctions`: every Maker ETH-A flip auction as the
//! ethernian/maker-auctions export records it, one row per auction id:
//! the winning bid price in DAI per ETH, the lot at that bid, the last bid's
//! time, block, tx hash and bid count, the deal's time, block, gas price and
//! cost, the OSM price at the deal and Santiment's ETH and DAI prices. The
//! author's profit columns are derived and not read.
//!
//! The export wrote amounts as JavaScript doubles (`0.1800009680070473` ETH),
//! so each carries a relative error of up to 2^-53; DAI raised is the product
//! of two of them ([`super::F64_REL_ERROR`] twice). Winning prices are
//! rounded to 18 decimals: those below 5 × 10^-19 DAI per ETH (1-wei bids,
//! `4.0000000000000003e-29`) become 0, counted in the notes. A row without a deal (blank `state`, deal columns empty) is
//! an auction that had bids but no deal when the export was made: kept as
//! `not_dealt` at its last bid's time.

use shortfall_core::{Micros, ObservedAuction, Wad};

use crate::ctx::FileCtx;
use crate::error::{IngestError, Location};
use crate::events::{each_row, Row};
use crate::timefmt::in_bounds;

use super::{opt_wad, source_ref, wad, F64_REL_ERROR};

const COLUMNS: [&str; 15] = [
    "id",
    "best_price_ethdai",
    "osm_price_ethusd",
    "lot",
    "lastbid_timestamp",
    "lastbid_blockNumber",
    "bidCount",
    "lastbid_txHash",
    "gasPrice_GWei",
    "timestamp",
    "blockNumber",
    "txCost",
    "state",
    "san_price_ethusd",
    "san_price_daiusd",
];

/// Reads one export file.
pub(super) fn parse(
    ctx: &mut FileCtx,
    bytes: &[u8],
    rows: &mut Vec<(ObservedAuction, Location)>,
) -> Result<(), IngestError> {
    let mut tiny_prices = 0u64;
    let mut not_dealt = 0u64;
    each_row(
        ctx,
        bytes,
        |ctx, t| t.indices(ctx, "maker-flip-auctions column", &COLUMNS),
        |ctx, row, idx| {
            let r = parse_row(ctx, row, idx)?;
            if r.price_paid == Some(Wad::ZERO) && !is_zero_text(row.raw(idx[1])) {
                tiny_prices += 1;
            }
            if r.state == "not_dealt" {
                not_dealt += 1;
            }
            rows.push((r, row.loc));
            Ok(())
        },
    )?;
    if tiny_prices > 0 {
        ctx.notes.push(format!(
            "{tiny_prices} winning prices below 5e-19 DAI per ETH (1-wei bids) round to 0 at 18 decimals"
        ));
    }
    if not_dealt > 0 {
        ctx.warn(format!(
            "{not_dealt} auctions without a deal in the export (blank state): kept as not_dealt at their last bid"
        ));
    }
    Ok(())
}

fn is_zero_text(b: &[u8]) -> bool {
    crate::num::parse_wad(b).is_some_and(|w| w == Wad::ZERO)
        && !b.iter().any(|c| (b'1'..=b'9').contains(c))
}

fn secs(ctx: &FileCtx, row: &Row<'_>, i: usize) -> Result<Micros, IngestError> {
    crate::num::parse_i64(row.raw(i))
        .and_then(|s| s.checked_mul(1_000_000))
        .map(Micros)
        .filter(|t| in_bounds(*t))
        .ok_or_else(|| row.bad(ctx, i, "epoch seconds between 2009 and 2100"))
}

fn block(ctx: &FileCtx, row: &Row<'_>, i: usize) -> Result<i64, IngestError> {
    crate::num::parse_i64(row.raw(i))
        .filter(|b| *b >= 0)
        .ok_or_else(|| row.bad(ctx, i, "a block number"))
}

fn tx(ctx: &FileCtx, row: &Row<'_>, i: usize) -> Result<String, IngestError> {
    let t = String::from_utf8_lossy(row.raw(i)).to_ascii_lowercase();
    match t.strip_prefix("0x") {
        Some(h) if h.len() == 64 && h.bytes().all(|c| c.is_ascii_hexdigit()) => Ok(t),
        _ => Err(row.bad(ctx, i, "a 0x-prefixed 32-byte transaction hash")),
    }
}

fn parse_row(
    ctx: &FileCtx,
    row: &Row<'_>,
    idx: &[usize; COLUMNS.len()],
) -> Result<ObservedAuction, IngestError> {
    let [id, price, osm, lot, lb_ts, lb_block, bids, lb_tx, gas, deal_ts, deal_block, cost, state, san_eth, san_dai] =
        *idx;
    let auction_id = crate::num::parse_u128(row.raw(id))
        .filter(|v| *v > 0)
        .ok_or_else(|| row.bad(ctx, id, "a positive auction id"))?;
    let price_paid = wad(
        ctx,
        row,
        price,
        "a non-negative price in DAI per ETH",
        |w| !w.is_negative(),
    )?;
    let lot_eth = wad(ctx, row, lot, "a positive lot in ETH", Wad::is_positive)?;
    let last_bid_ts = secs(ctx, row, lb_ts)?;
    let last_bid_block = block(ctx, row, lb_block)?;
    let bid_count = crate::num::parse_i64(row.raw(bids))
        .filter(|n| *n >= 1)
        .ok_or_else(|| row.bad(ctx, bids, "a bid count of at least 1"))?;
    let last_bid_tx = tx(ctx, row, lb_tx)?;
    let positive = |i: usize, what: &str| opt_wad(ctx, row, i, what, |w| w.is_positive());
    let oracle = positive(osm, "a positive OSM price in USD")?;
    let market = positive(san_eth, "a positive ETH price in USD")?;
    let dai = positive(san_dai, "a positive DAI price in USD")?;
    let state_text = String::from_utf8_lossy(row.raw(state)).to_string();
    let dealt = match state_text.as_str() {
        "CLOSED" => true,
        "" => false,
        _ => return Err(row.bad(ctx, state, "CLOSED or empty")),
    };
    let deal_cols = [gas, deal_ts, deal_block, cost];
    let (ts, blk, gas_price, gas_cost) = if dealt {
        let ts = secs(ctx, row, deal_ts)?;
        let b = block(ctx, row, deal_block)?;
        if b < last_bid_block {
            return Err(ctx.bad_row(
                row.loc,
                "blockNumber",
                format!("deal block {b} before the last bid's block {last_bid_block}"),
            ));
        }
        if ts < last_bid_ts {
            return Err(ctx.bad_row(
                row.loc,
                "timestamp",
                format!(
                    "deal at {} before the last bid at {}",
                    ts.to_iso(),
                    last_bid_ts.to_iso()
                ),
            ));
        }
        let g = positive(gas, "a positive gas price in gwei")?;
        let c = opt_wad(ctx, row, cost, "a non-negative cost in USD", |w| {
            !w.is_negative()
        })?;
        (ts, Some(b), g, c)
    } else {
        if let Some(&i) = deal_cols.iter().find(|&&i| !row.raw(i).is_empty()) {
            return Err(row.bad(ctx, i, "empty, as the state is empty (no deal)"));
        }
        (last_bid_ts, None, None, None)
    };
    let debt = price_paid
        .checked_mul_down(lot_eth)
        .ok_or_else(|| row.bad(ctx, price, "a price whose product with the lot fits"))?;
    Ok(ObservedAuction {
        ts,
        ts_precision_secs: 1,
        block: blk,
        tx_hash: None,
        log_index: None,
        source_ref: source_ref(ctx, row.loc),
        protocol: "maker".into(),
        market: "ETH-A".into(),
        mechanism: "flip".into(),
        state: if dealt { "dealt" } else { "not_dealt" }.into(),
        auction_id: Some(auction_id),
        account: None,
        liquidator: None,
        collateral_asset: "ETH".into(),
        collateral_amount: lot_eth,
        debt_asset: "DAI".into(),
        debt_amount: debt,
        price_paid: Some(price_paid),
        bid_count: Some(bid_count),
        last_bid_ts: Some(last_bid_ts),
        last_bid_block: Some(last_bid_block),
        last_bid_tx: Some(last_bid_tx),
        gas_price_gwei: gas_price,
        gas_cost_usd: gas_cost,
        oracle_price_usd: oracle,
        market_price_usd: market,
        debt_price_usd: dai,
        rounded: false,
        amount_rel_error: Wad(F64_REL_ERROR.0 * 2),
        note: if dealt {
            String::new()
        } else {
            "no deal in the source: time, block and gas are the last bid's or unknown".into()
        },
    })
}
