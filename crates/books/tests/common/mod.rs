//! Event builders for the reconstruction tests.
#![allow(dead_code)]

use shortfall_core::{LendingEvent, LendingKind, Micros, Reserve, Wad};

pub const RAY: u128 = 1_000_000_000_000_000_000_000_000_000;
pub const E18: u128 = 1_000_000_000_000_000_000;
pub const T0: i64 = 1_600_000_000;

/// A bare event at block `block`, log `log`, `secs` seconds after T0.
pub fn ev(
    protocol: &str,
    block: i64,
    log: i64,
    secs: i64,
    kind: LendingKind,
    account: &str,
    asset: &str,
) -> LendingEvent {
    let market = if protocol == "compound_v2" {
        "compound_v2"
    } else {
        "pool"
    };
    let mut e = LendingEvent::new(
        Micros::from_secs(T0 + secs),
        protocol,
        market,
        kind,
        account,
        asset,
    );
    e.block = Some(block);
    e.log_index = Some(log);
    e
}

/// An event moving `raw` base units.
pub fn amt(mut e: LendingEvent, raw: u128) -> LendingEvent {
    e.amount_raw = Some(raw);
    e
}

/// Aave `ReserveDataUpdated` with indexes and rates (ray).
#[allow(clippy::too_many_arguments)]
pub fn aave_index(
    protocol: &str,
    block: i64,
    log: i64,
    secs: i64,
    asset: &str,
    li: u128,
    bi: u128,
    lr: u128,
    br: u128,
) -> LendingEvent {
    let mut e = ev(
        protocol,
        block,
        log,
        secs,
        LendingKind::IndexUpdate,
        "",
        asset,
    );
    e.liquidity_index_raw = Some(li);
    e.borrow_index_raw = Some(bi);
    e.liquidity_rate_raw = Some(lr);
    e.borrow_rate_raw = Some(br);
    e
}

/// Compound `AccrueInterest` with a borrowIndex (1e18 = 1.0).
pub fn accrue(block: i64, log: i64, secs: i64, asset: &str, bi: u128) -> LendingEvent {
    let mut e = ev(
        "compound_v2",
        block,
        log,
        secs,
        LendingKind::IndexUpdate,
        "",
        asset,
    );
    e.borrow_index_raw = Some(bi);
    e
}

pub fn reserve(protocol: &str, asset: &str, decimals: u32) -> Reserve {
    Reserve {
        protocol: protocol.into(),
        market: if protocol == "compound_v2" {
            "compound_v2"
        } else {
            "pool"
        }
        .into(),
        asset: asset.into(),
        decimals,
        liquidation_threshold: Wad::ZERO,
        liquidation_bonus: Wad::ZERO,
        usable_as_collateral: None,
        borrowing_enabled: None,
    }
}

pub fn wad(s: &str) -> Wad {
    s.parse().unwrap()
}
