//! `datasets.liquidity`: the liquidity model's depth follows observed depth
//! over time instead of the scenario's constant.

mod common;

use common::*;
use shortfall_core::LegSide::{Collateral, Debt};
use shortfall_core::{LiquidityRow, Micros, PositionLeg};
use shortfall_replay::{run, RunOutput, Scenario};

const SCENARIO: &str = r#"
name = "depth-path"
seed = 1
[window]
start = "2020-03-12 00:00"
end = "2020-03-12 06:00"
[policy]
preset = "aave_v3"
[policy.assets.ETH]
liquidation_threshold = 0.825
liquidation_bonus = 1.05
[policy.assets.USDC]
decimals = 6
liquidation_threshold = 0.87
liquidation_bonus = 1.045
[oracle.default]
source = "market"
mode = "direct"
[oracle.assets.USDC]
mode = "fixed"
peg = 1
[frictions.liquidity]
model = "linear"
default_depth_usd = 100000000
"#;

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
    let mut prices = bars("ETH", 360, crash(1700.0, 120, 360));
    prices.extend(bars("USDC", 360, |_| 1.0));
    let mut i = input(prices, book());
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
    let base = replay(SCENARIO, None).unwrap();
    assert!(!base.liquidations.is_empty());
    // $100M of depth: selling ~$8k of ETH costs almost nothing.
    let deep = slippage(&base);
    // Depth observed at $1M from the start: the same sales slip much more.
    let thin = replay(SCENARIO, Some(vec![depth(0, "pool", 1_000_000.0)])).unwrap();
    let s_thin = slippage(&thin);
    assert!(s_thin.0 > deep.0 * 50, "thin {s_thin} vs deep {deep}");
    // Depth that only drops after the run's liquidations leaves them as with the constant.
    let late = replay(SCENARIO, Some(vec![depth(359, "pool", 1_000_000.0)])).unwrap();
    assert_eq!(slippage(&late), deep);
    // The run is deterministic and says which inputs it used.
    let again = replay(SCENARIO, Some(vec![depth(0, "pool", 1_000_000.0)])).unwrap();
    assert_eq!(
        again.run_meta.event_log_sha256,
        thin.run_meta.event_log_sha256
    );
}

#[test]
fn several_venues_need_a_choice() {
    let rows = vec![depth(0, "pool", 1_000_000.0), depth(0, "cex", 50_000_000.0)];
    let e = replay(SCENARIO, Some(rows.clone())).unwrap_err();
    assert!(
        e.contains("ETH has depth from several venues (cex, pool): set frictions.liquidity.venue"),
        "{e}"
    );
    let sc = format!("{SCENARIO}venue = \"pool\"\n");
    let pool = replay(&sc, Some(rows.clone())).unwrap();
    let only = replay(SCENARIO, Some(vec![depth(0, "pool", 1_000_000.0)])).unwrap();
    assert_eq!(slippage(&pool), slippage(&only));
}
