//! `compound-liquidations-dune`: Compound v2 `LiquidateBorrow` events as a
//! spreadsheet export of a Dune query writes them (kybx86/compound's
//! compensation-proposal sheet): `Liquidator,Borrower,Repay Amount,
//! Collateral cToken,cTokens Seized,Repay cToken,Transaction,evt_index,
//! evt_block_time,evt_block,DAI Repaid`.
//!
//! `LiquidateBorrow(liquidator, borrower, repayAmount, cTokenCollateral,
//! seizeTokens)`: `repayAmount` in the repaid token's base units,
//! `seizeTokens` in collateral cToken base units (8 decimals). The sheet
//! wrote both as floats in E notation (`4.6139999999999997E+25`): each is
//! read as the shortest decimal that gives back the same double (`4.614e25`),
//! with a relative error bound from its significant digits (a spreadsheet
//! keeps at most 15); amounts of 10 digits or fewer were rounded by the
//! sheet (46,140,000 DAI against 46,142,428.595 on chain) and the row is
//! flagged `rounded`. `DAI Repaid` must agree with `Repay Amount`. Times are
//! `dd/mm/yy hh:mm` (UTC, Dune's block time to the minute); cToken
//! addresses and tx hashes come without `0x`.

use shortfall_core::{Micros, ObservedAuction, Wad};

use crate::ctx::FileCtx;
use crate::error::{IngestError, Location};
use crate::events::{each_row, Row};
use crate::timefmt::{in_bounds, parse_chrono};

use super::{rel_error_of_digits, shortest_digits, source_ref, wad};

/// Compound v2 cTokens on Ethereum mainnet: (address without `0x`, symbol,
/// underlying symbol, underlying decimals). cTokens have 8 decimals.
pub const CTOKENS: [(&str, &str, &str, u32); 12] = [
    (
        "4ddc2d193948926d02f9b1fe9e1daa0718270ed5",
        "cETH",
        "ETH",
        18,
    ),
    (
        "5d3a536e4d6dbd6114cc1ead35777bab948e3643",
        "cDAI",
        "DAI",
        18,
    ),
    (
        "39aa39c021dfbae8fac545936693ac917d5e7563",
        "cUSDC",
        "USDC",
        6,
    ),
    (
        "f650c3d88d12db855b8bf7d11be6c55a4e07dcc9",
        "cUSDT",
        "USDT",
        6,
    ),
    (
        "c11b1268c1a384e55c48c2391d8d480264a3a7f4",
        "cWBTC",
        "WBTC",
        8,
    ),
    (
        "35a18000230da775cac24873d00ff85bccded550",
        "cUNI",
        "UNI",
        18,
    ),
    (
        "70e36f6bf80a52b3b46b3af8e106cc0ed743e8e4",
        "cCOMP",
        "COMP",
        18,
    ),
    (
        "6c8c6b02e7b2be14d4fa6022dfd6d75921d90e4e",
        "cBAT",
        "BAT",
        18,
    ),
    (
        "b3319f5d18bc0d84dd1b4825dcde5d5f7266d407",
        "cZRX",
        "ZRX",
        18,
    ),
    (
        "158079ee67fce2f58472a96584a73c7ab9ac95c1",
        "cREP",
        "REP",
        18,
    ),
    (
        "12392f67bdf24fae0af363c24ac620a2f67dad86",
        "cTUSD",
        "TUSD",
        18,
    ),
    (
        "face851a4921ce59e912d19329929ce6da6eb0c7",
        "cLINK",
        "LINK",
        18,
    ),
];

/// Decimals of every cToken.
pub const CTOKEN_DECIMALS: u32 = 8;

/// Looks a cToken up by address (with or without `0x`, any case).
pub fn ctoken(address: &str) -> Option<(&'static str, &'static str, u32)> {
    let a = address.trim().to_ascii_lowercase();
    let a = a.strip_prefix("0x").unwrap_or(&a);
    CTOKENS.iter().find(|c| c.0 == a).map(|c| (c.1, c.2, c.3))
}

/// Amounts with this many significant digits or fewer were rounded by the sheet.
const ROUNDED_DIGITS: u32 = 10;
/// A spreadsheet keeps at most 15 significant digits.
const SHEET_DIGITS: u32 = 15;

const COLUMNS: [&str; 11] = [
    "Liquidator",
    "Borrower",
    "Repay Amount",
    "Collateral cToken",
    "cTokens Seized",
    "Repay cToken",
    "Transaction",
    "evt_index",
    "evt_block_time",
    "evt_block",
    "DAI Repaid",
];

pub(super) fn parse(
    ctx: &mut FileCtx,
    bytes: &[u8],
    rows: &mut Vec<(ObservedAuction, Location)>,
) -> Result<(), IngestError> {
    let mut rounded = 0u64;
    each_row(
        ctx,
        bytes,
        |ctx, t| t.indices(ctx, "compound-liquidations-dune column", &COLUMNS),
        |ctx, row, idx| {
            let r = parse_row(ctx, row, idx)?;
            if r.rounded {
                rounded += 1;
            }
            rows.push((r, row.loc));
            Ok(())
        },
    )?;
    if rounded > 0 {
        ctx.warn(format!(
            "{rounded} rows with amounts the spreadsheet rounded to {ROUNDED_DIGITS} significant digits or fewer: flagged rounded"
        ));
    }
    Ok(())
}

/// An amount in base units written as a number (plain integer or a float in
/// E notation): (token units, relative error bound).
fn base_units(
    ctx: &FileCtx,
    row: &Row<'_>,
    i: usize,
    decimals: u32,
) -> Result<(Wad, Wad), IngestError> {
    let raw = row.raw(i);
    let bad = || row.bad(ctx, i, "a non-negative amount in base units");
    let text = std::str::from_utf8(raw).map_err(|_| bad())?;
    if !text.is_empty() && text.bytes().all(|c| c.is_ascii_digit()) {
        // Exact integer text: no rounding, unless a double could not hold it.
        let v = crate::num::parse_wad_scaled(raw, decimals).ok_or_else(bad)?;
        let err = if text.trim_start_matches('0').len() > SHEET_DIGITS as usize {
            rel_error_of_digits(SHEET_DIGITS)
        } else {
            Wad::ZERO
        };
        return Ok((v, err));
    }
    let f: f64 = text.parse().map_err(|_| bad())?;
    if !f.is_finite() || f < 0.0 {
        return Err(bad());
    }
    let digits = shortest_digits(f).min(SHEET_DIGITS);
    let shortest = format!("{f:e}");
    let v = crate::num::parse_wad_scaled(shortest.as_bytes(), decimals).ok_or_else(bad)?;
    Ok((v, rel_error_of_digits(digits)))
}

fn hex_text(
    ctx: &FileCtx,
    row: &Row<'_>,
    i: usize,
    len: usize,
    what: &str,
) -> Result<String, IngestError> {
    let t = String::from_utf8_lossy(row.raw(i)).to_ascii_lowercase();
    let h = t.strip_prefix("0x").unwrap_or(&t);
    if h.len() == len && h.bytes().all(|c| c.is_ascii_hexdigit()) {
        Ok(format!("0x{h}"))
    } else {
        Err(row.bad(ctx, i, what))
    }
}

fn parse_row(
    ctx: &FileCtx,
    row: &Row<'_>,
    idx: &[usize; COLUMNS.len()],
) -> Result<ObservedAuction, IngestError> {
    let [liq, borrower, repay, coll, seized, repay_ct, txi, evt_index, time, blk, dai] = *idx;
    let liquidator = hex_text(ctx, row, liq, 40, "a 20-byte address")?;
    let account = hex_text(ctx, row, borrower, 40, "a 20-byte address")?;
    let known = "a known Compound v2 cToken address";
    let (market, debt_asset, debt_decimals) = ctoken(&String::from_utf8_lossy(row.raw(repay_ct)))
        .ok_or_else(|| row.bad(ctx, repay_ct, known))?;
    let (coll_symbol, _, _) =
        ctoken(&String::from_utf8_lossy(row.raw(coll))).ok_or_else(|| row.bad(ctx, coll, known))?;
    let (debt_amount, repay_err) = base_units(ctx, row, repay, debt_decimals)?;
    let (collateral_amount, seize_err) = base_units(ctx, row, seized, CTOKEN_DECIMALS)?;
    if !debt_amount.is_positive() {
        return Err(row.bad(ctx, repay, "a positive repay amount"));
    }
    // `DAI Repaid` is the same figure in token units: a check on the row.
    let stated = wad(ctx, row, dai, "a decimal amount of DAI", |w| {
        !w.is_negative()
    })?;
    let diff = (stated.0 - debt_amount.0).abs();
    if debt_asset != "DAI" || diff > debt_amount.0 / 1_000_000_000 {
        return Err(ctx.bad_row(
            row.loc,
            "DAI Repaid",
            format!("{stated} DAI does not match Repay Amount {debt_amount} {debt_asset}"),
        ));
    }
    let tx_hash = hex_text(ctx, row, txi, 64, "a 32-byte transaction hash")?;
    let log_index = crate::num::parse_i64(row.raw(evt_index))
        .filter(|v| *v >= 0)
        .ok_or_else(|| row.bad(ctx, evt_index, "a log index"))?;
    let ts: Micros = parse_chrono(row.raw(time), "%d/%m/%y %H:%M")
        .filter(|t| in_bounds(*t))
        .ok_or_else(|| row.bad(ctx, time, "a time dd/mm/yy hh:mm between 2009 and 2100"))?;
    let block = crate::num::parse_i64(row.raw(blk))
        .filter(|v| *v >= 0)
        .ok_or_else(|| row.bad(ctx, blk, "a block number"))?;
    let err = repay_err.max(seize_err);
    let rounded = err > rel_error_of_digits(ROUNDED_DIGITS + 1);
    Ok(ObservedAuction {
        ts,
        ts_precision_secs: 60,
        block: Some(block),
        tx_hash: Some(tx_hash),
        log_index: Some(log_index),
        source_ref: source_ref(ctx, row.loc),
        protocol: "compound_v2".into(),
        market: market.into(),
        mechanism: "fixed_spread".into(),
        state: "executed".into(),
        auction_id: None,
        account: Some(account),
        liquidator: Some(liquidator),
        collateral_asset: coll_symbol.into(),
        collateral_amount,
        debt_asset: debt_asset.into(),
        debt_amount,
        price_paid: None,
        bid_count: None,
        last_bid_ts: None,
        last_bid_block: None,
        last_bid_tx: None,
        gas_price_gwei: None,
        gas_cost_usd: None,
        oracle_price_usd: None,
        market_price_usd: None,
        debt_price_usd: None,
        rounded,
        amount_rel_error: err,
        note: String::new(),
    })
}
