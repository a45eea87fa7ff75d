mod common;

use common::*;
use shortfall_core::LegSide::*;
use shortfall_replay::{run, Scenario};

/// A small fixed scenario: Aave v3.3, ETH 2000 -> 1200 in two hours then a
/// gap to 900, push oracle, one liquidator with latency and capital, linear
/// liquidity; its `summary.json` is snapshotted.
const SC: &str = r#"
name = "snapshot"
seed = 3
[window]
start = "2020-03-12 00:00"
end = "2020-03-12 06:00"
[policy]
preset = "aave_v33"
[policy.assets.ETH]
liquidation_threshold = 0.825
liquidation_bonus = 1.05
protocol_fee = 0.1
[policy.assets.USDC]
decimals = 6
liquidation_threshold = 0.87
liquidation_bonus = 1.045
[oracle.default]
mode = "push"
deviation_bps = 50
heartbeat_secs = 3600
[oracle.assets.USDC]
mode = "fixed"
peg = 1
[frictions.liquidity]
model = "linear"
default_depth_usd = 2000000
recovery_secs = 1800
[[frictions.liquidators]]
name = "bot"
latency_secs = 24
capital_usd = 50000
gas_units = 400000
min_profit_usd = 10
[accounting]
insurance_usd = 1000
"#;

#[test]
fn summary_json_snapshot() {
    let sc = Scenario::from_toml(SC).unwrap();
    let mut p = bars("ETH", 360, |m| {
        if m < 120 {
            2000.0 - 800.0 * m as f64 / 120.0
        } else if m < 200 {
            1200.0
        } else {
            900.0
        }
    });
    p.extend(bars("USDC", 360, |_| 1.0));
    let mut legs = Vec::new();
    for (i, (eth, debt)) in [
        (10.0, 15000.0),
        (1.0, 1400.0),
        (100.0, 140000.0),
        (3.0, 3000.0),
        (0.5, 700.0),
    ]
    .iter()
    .enumerate()
    {
        let a = format!("acct{i}");
        legs.push(leg(&a, "ETH", Collateral, *eth));
        legs.push(leg(&a, "USDC", Debt, *debt));
    }
    let out = run(&sc, &input(p, legs)).unwrap();
    // Snapshots are found through the run-time CARGO_MANIFEST_DIR: a test
    // binary shared by two checkouts of one target dir reads its own tree.
    let mut settings = insta::Settings::clone_current();
    if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
        settings.set_snapshot_path(std::path::PathBuf::from(dir).join("tests/snapshots"));
    }
    settings.bind(|| {
        insta::assert_json_snapshot!("summary", out.summary);
        insta::assert_snapshot!("run_id", out.run_meta.run_id);
    });
}
