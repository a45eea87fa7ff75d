#![allow(dead_code)]
//! A small run made by the real engine: ETH gaps down, Aave v3.3 rules, some
//! positions liquidated, some left with bad debt. Names can be hostile.

use shortfall_core::{Book, LegSide, Micros, PositionLeg, PriceBar, Wad};
use shortfall_replay::{run, ReplayInput, Scenario};
use shortfall_store::{RunData, RunJson};

pub const T0: i64 = 1_583_971_200; // 2020-03-12 00:00 UTC
pub const EVIL: &str = "<script>alert(1)</script>";
pub const EVIL_ATTR: &str = "\"><img src=x onerror=alert(1)>";

fn w(x: f64) -> Wad {
    Wad::parse_decimal(&format!("{x}"), true).unwrap()
}

fn bars(asset: &str, minutes: i64, f: impl Fn(i64) -> f64) -> Vec<PriceBar> {
    (0..minutes)
        .map(|m| {
            let p = w(f(m));
            PriceBar::flat(Micros::from_secs(T0 + m * 60), "test", asset, "USD", 60, p)
        })
        .collect()
}

fn leg(acct: &str, asset: &str, side: LegSide, amount: f64) -> PositionLeg {
    PositionLeg {
        account: acct.into(),
        market: "test".into(),
        asset: asset.into(),
        side,
        amount: w(amount),
    }
}

pub fn scenario_text(coll: &str, close_factor: Option<f64>) -> String {
    let cf = close_factor
        .map(|c| format!("close_factor = {c}\n"))
        .unwrap_or_default();
    format!(
        r#"
name = "report-test"
title = "Gap crash {coll}"
description = 'A test crash. <b>bold</b> {EVIL_ATTR}' 
seed = 1
[window]
start = "2020-03-12 00:00"
end = "2020-03-12 06:00"
[policy]
preset = "aave_v3"
{cf}
[policy.assets."{coll}"]
liquidation_threshold = 0.825
liquidation_bonus = 1.05
protocol_fee = 0.1
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
[output]
series_bucket_secs = 1800
[[references]]
metric = "bad_debt_usd"
label = 'Published deficit {EVIL}' 
value = "5000"
low = "4000"
high = "9000"
source = 'A test source {EVIL_ATTR}' 
note = "The test book is small."
[[references]]
metric = "zero_bid_auction_share"
label = "Zero-bid auctions"
value = "0.36"
source = "none"
"#,
        coll = coll.replace('"', "\\\"")
    )
}

/// Runs the engine; `coll` is the collateral symbol (hostile in some tests).
pub fn make_run(coll: &str, close_factor: Option<f64>) -> RunData {
    make_run_with(coll, close_factor, "")
}

/// [`make_run`] with `extra` scenario TOML appended (stress transforms).
pub fn make_run_with(coll: &str, close_factor: Option<f64>, extra: &str) -> RunData {
    let sc = Scenario::from_toml(&format!("{}{extra}", scenario_text(coll, close_factor))).unwrap();
    // ETH-like asset: 2000 for an hour, then a gap to 1200 in one minute.
    let path = |m: i64| if m < 60 { 2000.0 } else { 1200.0 };
    let mut prices = bars(coll, 360, path);
    prices.extend(bars("USDC", 360, |_| 1.0));
    let mut legs = Vec::new();
    for i in 0..40 {
        let acct = if i == 0 {
            format!("{EVIL}{EVIL_ATTR}")
        } else {
            format!("0x{i:040x}")
        };
        let debt = 10_000.0 + 500.0 * i as f64;
        // Health factors from 1.02 to 2.0 at 2000.
        let hf = 1.02 + 0.025 * i as f64;
        let coll_amt = debt * hf / (0.825 * 2000.0);
        legs.push(leg(&acct, coll, LegSide::Collateral, coll_amt));
        legs.push(leg(&acct, "USDC", LegSide::Debt, debt));
    }
    let input = ReplayInput {
        prices,
        oracle_rounds: vec![],
        book: Book::from_legs(&legs),
        gas: None,
        input_hashes: [("prices".to_string(), "ab".repeat(32))]
            .into_iter()
            .collect(),
        tool_version: "shortfall 0.1.0-test".into(),
        lending_events: None,
        liquidity: None,
        perp_positions: Vec::new(),
    };
    let out = run(&sc, &input).unwrap();
    let cmd: Vec<String> = ["replay", "--scenario", "it's here.toml"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    RunData {
        run: RunJson::new(&out.run_meta, &cmd),
        events: out.events,
        liquidations: out.liquidations,
        loans: out.loans,
        series: out.series,
        summary: out.summary,
        perp: out.perp,
    }
}
