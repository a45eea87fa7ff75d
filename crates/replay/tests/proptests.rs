mod common;

use common::*;
use proptest::prelude::*;
use shortfall_core::{LegSide::*, Wad};
use shortfall_replay::{run, Scenario};

fn scenario(preset: &str, frictions: bool) -> Scenario {
    let mut s = format!(
        r#"
name = "prop"
[window]
start = "2020-03-12 00:00"
end = "2020-03-12 04:00"
[policy]
preset = "{preset}"
[policy.assets.USDC]
decimals = 6
[policy.assets.ETH]
liquidation_threshold = 0.8
liquidation_bonus = 1.08
protocol_fee = 0.1
[policy.assets.BTC]
decimals = 8
liquidation_threshold = 0.75
liquidation_bonus = 1.1
[oracle.default]
mode = "push"
deviation_bps = 100
heartbeat_secs = 600
[oracle.assets.USDC]
mode = "fixed"
peg = 1
"#
    );
    if frictions {
        s.push_str(
            r#"
[frictions.liquidity]
model = "linear"
default_depth_usd = 200000
recovery_secs = 600
price_impact = 0.5
[[frictions.liquidators]]
name = "a"
latency_secs = 30
capital_usd = 20000
gas_units = 300000
min_profit_usd = 5
"#,
        );
    }
    Scenario::from_toml(&s).unwrap()
}

/// ETH and BTC on their paths (BTC at 20 times its path), USDC at one;
/// for the Maker presets, vaults: the ETH collateral and a USDC debt.
fn prop_input(
    eth: &[f64],
    btc: &[f64],
    preset: &str,
    legs: Vec<shortfall_core::PositionLeg>,
) -> shortfall_replay::ReplayInput {
    let n = eth.len() as i64;
    let mut p = bars("ETH", n, |m| eth[m as usize]);
    p.extend(bars("BTC", n, |m| btc[m as usize] * 20.0));
    p.extend(bars("USDC", n, |_| 1.0));
    let legs = if preset.starts_with("maker") {
        legs.into_iter()
            .filter(|l| l.asset != "BTC")
            .map(|mut l| {
                if l.side == Debt {
                    l.asset = "USDC".into();
                }
                l
            })
            .collect()
    } else {
        legs
    };
    input(p, legs)
}

prop_compose! {
    fn path()(steps in prop::collection::vec(-300i32..300, 24), start in 500.0f64..3000.0) -> Vec<f64> {
        // 24 ten-minute steps of up to +/-30%, expanded to minutes.
        let mut p = start;
        let mut out = Vec::new();
        for s in steps {
            let next = (p * (1.0 + s as f64 / 1000.0)).max(1.0);
            for m in 0..10 {
                out.push(p + (next - p) * m as f64 / 10.0);
            }
            p = next;
        }
        out
    }
}

prop_compose! {
    fn book()(accts in prop::collection::vec((0.01f64..50.0, 0.0001f64..2.0, 10.0f64..60000.0, any::<bool>()), 1..12)) -> Vec<shortfall_core::PositionLeg> {
        let mut legs = Vec::new();
        for (i, (eth, btc, debt, two)) in accts.into_iter().enumerate() {
            let a = format!("acct{i}");
            legs.push(leg(&a, "ETH", Collateral, (eth * 1e6).round() / 1e6));
            if two {
                legs.push(leg(&a, "BTC", Collateral, (btc * 1e6).round() / 1e6));
            }
            legs.push(leg(&a, "USDC", Debt, debt.round()));
        }
        legs
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_on_random_books_and_paths(
        eth in path(), btc in path(), legs in book(),
        preset in prop::sample::select(vec!["aave_v2", "aave_v3", "aave_v33", "compound_v2", "maker_flip", "maker_clip"]),
        frictions in any::<bool>(),
    ) {
        let sc = scenario(preset, frictions);
        let inp = prop_input(&eth, &btc, preset, legs);
        // run() checks conservation, non-negative balances, monotonic clock
        // and "a liquidation never raises debt"; an Err here is a violation.
        let out = run(&sc, &inp).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for l in &out.loans {
            prop_assert_eq!(l.attribution.total(), l.shortfall_usd);
            prop_assert!(l.shortfall_usd >= Wad::ZERO);
        }
        prop_assert_eq!(out.summary.attribution.total(), out.summary.bad_debt_usd);
        let wf = out.summary.waterfall;
        prop_assert_eq!(wf.reserves_usd + wf.socialised_usd, out.summary.bad_debt_usd);
        for w in out.events.windows(2) {
            prop_assert!(w[0].ts <= w[1].ts);
            prop_assert_eq!(w[0].seq + 1, w[1].seq);
        }
        for l in &out.liquidations {
            prop_assert!(l.debt_repaid >= Wad::ZERO && l.collateral_seized >= Wad::ZERO);
        }
        let again = run(&sc, &inp).unwrap();
        prop_assert_eq!(&out, &again);
    }
}

prop_compose! {
    /// Positions of every size from dust to whales (amounts 10^-12 to
    /// 10^4 tokens), one or two collateral assets of different thresholds,
    /// a USDC or an ETH debt: the shapes where the summary-only replay's
    /// floating-point health bounds are tightest.
    fn mixed_book()(accts in prop::collection::vec(
        (-12i32..5, 1u32..1000, prop::option::of((-12i32..3, 1u32..1000)), -3i32..5, 1u32..1000, any::<bool>()),
        1..16,
    )) -> Vec<shortfall_core::PositionLeg> {
        let amt = |e: i32, m: u32| m as f64 * 10f64.powi(e - 3);
        let mut legs = Vec::new();
        for (i, (ce, cm, btc, de, dm, eth_debt)) in accts.into_iter().enumerate() {
            let a = format!("acct{i}");
            legs.push(leg(&a, "ETH", Collateral, amt(ce, cm)));
            if let Some((be, bm)) = btc {
                legs.push(leg(&a, "BTC", Collateral, amt(be, bm)));
            }
            if eth_debt {
                legs.push(leg(&a, "ETH", Debt, amt(de - 3, dm)));
            } else {
                legs.push(leg(&a, "USDC", Debt, amt(de + 2, dm)));
            }
        }
        legs
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// The summary-only replay decides bands from floating-point health
    /// bounds where they prove them (and, with the feature
    /// verify-estimates, on in `cargo test --workspace`, checks each
    /// against the exact health); its summary equals the full run's.
    #[test]
    fn summary_only_equals_full_run_on_mixed_books(
        eth in path(), btc in path(), legs in mixed_book(),
        preset in prop::sample::select(vec!["aave_v2", "aave_v3", "aave_v33", "compound_v2", "maker_flip", "maker_clip"]),
        frictions in any::<bool>(),
    ) {
        let sc = scenario(preset, frictions);
        let inp = prop_input(&eth, &btc, preset, legs);
        let book = shortfall_replay::resolve_book(&sc, &inp).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let full = shortfall_replay::Replay::new(&sc, &inp).book(&book).run().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let lean = shortfall_replay::Replay::new(&sc, &inp).book(&book).mode(shortfall_replay::Mode::Summary).run().map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&lean.summary, &full.summary);
    }
}
