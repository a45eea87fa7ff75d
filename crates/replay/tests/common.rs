#![allow(dead_code)]
use shortfall_core::{Book, LegSide, Micros, OracleRound, PositionLeg, PriceBar, Wad};
use shortfall_replay::ReplayInput;

pub const T0: i64 = 1_583_971_200; // 2020-03-12 00:00 UTC

pub fn w(x: f64) -> Wad {
    Wad::parse_decimal(&format!("{x}"), true).unwrap()
}

/// One-minute bars for `asset`, price given per minute index.
pub fn bars(asset: &str, minutes: i64, f: impl Fn(i64) -> f64) -> Vec<PriceBar> {
    (0..minutes)
        .map(|m| {
            let p = w(f(m));
            PriceBar::flat(Micros::from_secs(T0 + m * 60), "test", asset, "USD", 60, p)
        })
        .collect()
}

pub fn round(asset: &str, secs: i64, answer: f64, id: u128) -> OracleRound {
    OracleRound {
        ts: Micros::from_secs(T0 + secs),
        feed: format!("chainlink:{asset}/USD"),
        base: asset.into(),
        quote: "USD".into(),
        round_id: id,
        phase_id: None,
        aggregator_round_id: None,
        answer: w(answer),
        started_at: None,
        answered_in_round: None,
        stale: false,
        block: None,
    }
}

pub fn leg(acct: &str, asset: &str, side: LegSide, amount: f64) -> PositionLeg {
    PositionLeg {
        account: acct.into(),
        market: "test".into(),
        asset: asset.into(),
        side,
        amount: w(amount),
    }
}

pub fn input(prices: Vec<PriceBar>, legs: Vec<PositionLeg>) -> ReplayInput {
    ReplayInput {
        prices,
        oracle_rounds: vec![],
        book: Book::from_legs(&legs),
        gas: None,
        input_hashes: [("prices".to_string(), "abc".to_string())]
            .into_iter()
            .collect(),
        tool_version: "0.1.0-test".into(),
        lending_events: None,
        liquidity: None,
        perp_positions: Vec::new(),
    }
}

/// ETH from 2000 falling linearly to `low` over `minutes`, then flat.
pub fn crash(low: f64, minutes: i64, _total: i64) -> impl Fn(i64) -> f64 {
    move |m| {
        if m >= minutes {
            low
        } else {
            2000.0 + (low - 2000.0) * (m as f64) / (minutes as f64)
        }
    }
}

/// Aave v3 rules for ETH collateral and USDC debt, ETH priced by the market
/// and USDC pegged: the scenario most engine tests start from (append
/// sections to vary it).
pub const AAVE: &str = r#"
name = "eth-crash"
seed = 1
[window]
start = "2020-03-12 00:00"
end = "2020-03-12 06:00"
[policy]
preset = "aave_v3"
[policy.assets.ETH]
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
"#;

/// Six hours of one-minute bars: ETH from 2000 down to `low` over `mins`
/// minutes, then flat; USDC at 1.
pub fn eth_crash_usdc_flat(low: f64, mins: i64) -> Vec<PriceBar> {
    let mut p = bars("ETH", 360, crash(low, mins, 360));
    p.extend(bars("USDC", 360, |_| 1.0));
    p
}
