//! `datasets.liquidity`: the liquidity model's depth follows observed depth
//! over time instead of the scenario's constant.

mod common;

use common::*;
use shortfall_core::LegSide::{Collateral, Debt};
use shortfall_core::{LiquidityRow, Micros, PositionLeg};
use shortfall_replay::{run, RunOutput, Scenario};

/// The common Aave scenario with a linear liquidity model of $100M depth.
fn scenario() -> String {
    format!("{AAVE}[frictions.liquidity]\nmodel = \"linear\"\ndefault_depth_usd = 100000000\n")
}

fn book() -> Vec<PositionLeg> {
    vec![
        leg("alice", "ETH", Collateral, 10.0),
        leg("alice", "USDC", Debt, 15_000.0),
    ]
}

fn depth(minute: i64, venue: &str, usd: f64) -> LiquidityRow {
    LiquidityRow {
        ts: Micros::from_secs(T0 + minute * 60),
        venue: venue.into(),
        asset: "ETH".into(),
        quote: "USD".into(),
        depth_usd: w(usd),
    }
}

fn replay(sc: &str, rows: Option<Vec<LiquidityRow>>) -> Result<RunOutput, String> {
    let sc = Scenario::from_toml(sc).unwrap();
    let mut i = input(eth_crash_usdc_flat(1700.0, 120), book());
    i.liquidity = rows;
    run(&sc, &i).map_err(|e| e.to_string())
}

fn slippage(out: &RunOutput) -> shortfall_core::Wad {
    out.liquidations
        .iter()
        .fold(shortfall_core::Wad(0), |a, l| {
            shortfall_core::Wad(a.0 + l.slippage_usd.0)
        })
}

#[test]
fn observed_depth_replaces_the_constant_when_it_applies() {
    let base = replay(&scenario(), None).unwrap();
    assert!(!base.liquidations.is_empty());
    // $100M of depth: selling ~$8k of ETH costs almost nothing.
    let deep = slippage(&base);
    // Depth observed at $1M from the start: the same sales slip much more.
    let thin = replay(&scenario(), Some(vec![depth(0, "pool", 1_000_000.0)])).unwrap();
    let s_thin = slippage(&thin);
    assert!(s_thin.0 > deep.0 * 50, "thin {s_thin} vs deep {deep}");
    // Depth that only drops after the run's liquidations leaves them as with the constant.
    let late = replay(&scenario(), Some(vec![depth(359, "pool", 1_000_000.0)])).unwrap();
    assert_eq!(slippage(&late), deep);
    // The run is deterministic and says which inputs it used.
    let again = replay(&scenario(), Some(vec![depth(0, "pool", 1_000_000.0)])).unwrap();
    assert_eq!(
        again.run_meta.event_log_sha256,
        thin.run_meta.event_log_sha256
    );
}

#[test]
fn several_venues_need_a_choice() {
    let rows = vec![depth(0, "pool", 1_000_000.0), depth(0, "cex", 50_000_000.0)];
    let e = replay(&scenario(), Some(rows.clone())).unwrap_err();
    assert!(
        e.contains("ETH has depth from several venues (cex, pool): set frictions.liquidity.venue"),
        "{e}"
    );
    let sc = format!("{}venue = \"pool\"\n", scenario());
    let pool = replay(&sc, Some(rows.clone())).unwrap();
    let only = replay(&scenario(), Some(vec![depth(0, "pool", 1_000_000.0)])).unwrap();
    assert_eq!(slippage(&pool), slippage(&only));
}
