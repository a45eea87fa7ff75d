//! The trigger index never lets a crossing pass: every position is found
//! liquidatable at the first tick where its exact health (the Aave rules
//! module on that tick's oracle prices, the legs untouched until then) is
//! below one, also where the protocol's integer math bends the health away
//! from linear in prices (Aave's average threshold is floored to a basis
//! point: with a collateral of a 2% threshold beside ETH, the health strays
//! from linear by up to 1/average, 0.4% here, four times the triggers'
//! base margin).

mod common;

use common::*;
use proptest::prelude::*;
use shortfall_core::{LegSide::*, Micros, PositionLeg, Wad};
use shortfall_replay::rules::{aave, to_bps};
use shortfall_replay::{run, Scenario};

fn scenario() -> Scenario {
    Scenario::from_toml(
        r#"
name = "mixed-thresholds"
[window]
start = "2020-03-12 00:00"
end = "2020-03-12 04:00"
[policy]
preset = "aave_v3"
[policy.assets.USDC]
decimals = 6
[policy.assets.ETH]
liquidation_threshold = 0.8
liquidation_bonus = 1.05
[policy.assets.LOW]
liquidation_threshold = 0.02
liquidation_bonus = 1.1
[oracle.default]
mode = "direct"
[oracle.assets.USDC]
mode = "fixed"
peg = 1
"#,
    )
    .unwrap()
}

/// Accounts with ETH and LOW collateral and a USDC debt for a health
/// factor of `hf` at the first prices.
fn book(accts: &[(f64, f64, f64)], eth0: f64, low0: f64) -> Vec<PositionLeg> {
    let mut legs = Vec::new();
    for (i, (eth, low, hf)) in accts.iter().enumerate() {
        let a = format!("acct{i:03}");
        let coll = eth * eth0 * 0.8 + low * low0 * 0.02;
        legs.push(leg(&a, "ETH", Collateral, *eth));
        legs.push(leg(&a, "LOW", Collateral, *low));
        legs.push(leg(&a, "USDC", Debt, ((coll / hf) * 1e6).floor() / 1e6));
    }
    legs
}

/// Replays the book on the minute paths and compares every position's
/// first liquidatable time with the first minute its exact health is below
/// one. Returns how many positions crossed.
fn check(eth: &[f64], low: &[f64], legs: Vec<PositionLeg>) -> Result<usize, TestCaseError> {
    let sc = scenario();
    let n = eth.len() as i64;
    let mut p = bars("ETH", n, |m| eth[m as usize]);
    p.extend(bars("LOW", n, |m| low[m as usize]));
    p.extend(bars("USDC", n, |_| 1.0));
    let out = run(&sc, &input(p, legs.clone())).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let reserve = |asset: &str, px: f64| aave::Reserve {
        // v3 prices: USD with 8 decimals
        price: w(px).0 / 10_000_000_000,
        unit: 10i128.pow(sc.asset(asset).decimals),
        lt_bps: to_bps(sc.asset(asset).liquidation_threshold),
        bonus_bps: 0,
        fee_bps: 0,
    };
    let base = |asset: &str, x: Wad| x.0 / 10i128.pow(18 - sc.asset(asset).decimals);
    let mut crossed = 0;
    for loan in &out.loans {
        let amount = |asset: &str| {
            let l = legs
                .iter()
                .find(|l| l.account == loan.account && l.asset == asset)
                .expect("leg");
            base(asset, l.amount)
        };
        let first_below = (0..n).find(|&m| {
            let h = aave::account_data(
                &[
                    (amount("ETH"), reserve("ETH", eth[m as usize])),
                    (amount("LOW"), reserve("LOW", low[m as usize])),
                ],
                &[(amount("USDC"), reserve("USDC", 1.0))],
            )
            .health_factor;
            h < 1_000_000_000_000_000_000
        });
        // The bar of minute m closes, and is replayed, a minute later.
        let expected = first_below.map(|m| Micros::from_secs(T0 + (m + 1) * 60));
        prop_assert_eq!(loan.first_liquidatable, expected, "{}", loan.account);
        crossed += expected.is_some() as usize;
    }
    Ok(crossed)
}

/// ETH falling 0.02% a minute, LOW flat: ETH-light positions (average
/// threshold 200 to 600 bps) cross one in the last hour. A fixed margin of
/// 1e-4 found most of them two to four minutes late.
#[test]
fn crossings_of_mixed_threshold_positions_are_found_on_time() {
    let eth: Vec<f64> = (0..240).map(|m| 1000.0 * 0.9998f64.powi(m)).collect();
    let low = vec![10.0; 240];
    let accts: Vec<(f64, f64, f64)> = (0..200)
        .map(|k| (0.1 + k as f64 * 0.0137, 1000.0, 1.03))
        .collect();
    let crossed = check(&eth, &low, book(&accts, eth[0], low[0])).unwrap();
    assert!(
        crossed > 100,
        "{crossed} positions crossed: the test tests little"
    );
}

prop_compose! {
    /// Four hours of one-minute prices moving by at most 0.1% a minute and
    /// drifting down (a health creeps across its bounds instead of jumping
    /// them).
    fn slow_path()(steps in prop::collection::vec(-12i32..9, 240), start in 5.0f64..3000.0) -> Vec<f64> {
        let mut p = start;
        steps.into_iter().map(|s| { p *= 1.0 + s as f64 / 10_000.0; p }).collect()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn crossings_are_found_at_the_first_tick_below_one(
        eth in slow_path(), low in slow_path(), low_flat in any::<bool>(),
        accts in prop::collection::vec((-9i32..3, 1u32..1000, -3i32..4, 1u32..1000, 1.0f64..1.12), 1..12),
    ) {
        let low = if low_flat { vec![low[0]; low.len()] } else { low };
        let accts: Vec<(f64, f64, f64)> = accts
            .into_iter()
            .map(|(ee, em, le, lm, hf)| (em as f64 * 10f64.powi(ee - 3), lm as f64 * 10f64.powi(le + 1), hf))
            .collect();
        check(&eth, &low, book(&accts, eth[0], low[0]))?;
    }
}
