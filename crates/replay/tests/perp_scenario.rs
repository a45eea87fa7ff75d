//! `[perp]` in a scenario: perpetual swaps replayed with the lending book,
//! in one event log, with their summary and outcomes.

mod common;

use common::*;
use shortfall_core::LegSide::{Collateral, Debt};
use shortfall_core::PriceBar;
use shortfall_replay::{run, EventKind, ReplayError, Scenario};

/// Generated BTC perpetuals on Binance's 2021 tiers, ADL after a $10k
/// insurance fund.
const PERP: &str = r#"
[perp]
preset = "binance_2021"
insurance_fund_usd = 10000
liquidation_fee_rate = 0.005
[perp.liquidity]
depth_usd = 2000000
[perp.book]
source = "generated"
[perp.book.generator]
accounts = 400
venue = "binance"
[[perp.book.generator.instruments]]
instrument = "BTCUSDT"
open_interest_usd = 20000000
"#;

const WINDOW: &str = r#"
name = "btc-perps"
seed = 3
[window]
start = "2020-03-12 00:00"
end = "2020-03-12 06:00"
[market]
pegs = { USDT = 1 }
"#;

/// BTC from 8000 down 40% over two hours (BTCUSDT bars read as BTC).
fn btc() -> Vec<PriceBar> {
    bars("BTC", 360, |m| {
        if m >= 120 {
            4800.0
        } else {
            8000.0 - 3200.0 * m as f64 / 120.0
        }
    })
}

fn perp_only() -> Scenario {
    Scenario::from_toml(&format!("{WINDOW}{PERP}")).unwrap()
}

#[test]
fn a_derivatives_only_scenario_replays_its_perpetuals() {
    let sc = perp_only();
    assert!(!sc.resolved_toml().contains("[policy]"), "no lending rules");
    let out = run(&sc, &input(btc(), vec![])).unwrap();
    let p = out.summary.perp.as_ref().expect("perp summary");
    assert_eq!(p.preset, "binance_2021");
    assert!(p.book_generated);
    assert_eq!(p.totals.positions, 400);
    assert!(p.totals.liquidations > 0, "{:?}", p.totals);
    assert!(p.totals.bankruptcies > 0, "a 40% fall bankrupts 10x+ longs");
    assert!(p.totals.adl_events > 0, "the $10k fund runs out: ADL");
    // The waterfall adds up.
    let w = p.waterfall;
    assert_eq!(
        w.shortfall_usd,
        w.insurance_fund_usd + w.backstop_usd + w.adl_usd + w.socialised_usd + w.unabsorbed_usd
    );
    // One event log, in time order, numbered from 0.
    assert!(out.events.iter().any(|e| e.kind == EventKind::Adl));
    for (i, e) in out.events.iter().enumerate() {
        assert_eq!(e.seq, i as u64);
    }
    assert!(out.events.windows(2).all(|w| w[0].ts <= w[1].ts));
    assert_eq!(out.summary.events, out.events.len() as u64);
    let perp = out.perp.as_ref().unwrap();
    assert_eq!(perp.positions.len(), 400);
    assert_eq!(
        p.status_counts.values().sum::<u64>(),
        400,
        "{:?}",
        p.status_counts
    );
    // Deterministic.
    assert_eq!(run(&sc, &input(btc(), vec![])).unwrap(), out);
}

#[test]
fn lending_and_perpetuals_share_one_log() {
    let lending = Scenario::from_toml(AAVE).unwrap();
    let both =
        Scenario::from_toml(&format!("{AAVE}[market]\npegs = {{ USDT = 1 }}\n{PERP}")).unwrap();
    let mut prices = eth_crash_usdc_flat(1500.0, 120);
    prices.extend(btc());
    let legs = vec![
        leg("alice", "ETH", Collateral, 10.0),
        leg("alice", "USDC", Debt, 15_000.0),
    ];
    let a = run(&lending, &input(prices.clone(), legs.clone())).unwrap();
    let b = run(&both, &input(prices, legs)).unwrap();
    // The lending figures do not change.
    assert_eq!(a.summary.bad_debt_usd, b.summary.bad_debt_usd);
    assert_eq!(a.loans, b.loans);
    assert!(b.summary.perp.is_some() && a.summary.perp.is_none());
    assert_ne!(a.run_meta.event_log_sha256, b.run_meta.event_log_sha256);
    assert_ne!(a.run_meta.run_id, b.run_meta.run_id);
    // Liquidation records still point at their events.
    assert!(!b.liquidations.is_empty());
    for l in &b.liquidations {
        let e = &b.events[l.seq as usize];
        assert_eq!(e.kind, EventKind::Liquidation);
        assert_eq!(e.account.as_deref(), Some(l.account.as_str()));
    }
    let lending_events = b
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Liquidation)
        .count();
    assert_eq!(lending_events, a.liquidations.len());
}

#[test]
fn a_scenario_needs_rules() {
    let e = Scenario::from_toml(WINDOW).unwrap_err().to_string();
    assert!(e.contains("[policy] (lending), [perp]"), "{e}");
    let e = Scenario::from_toml(&format!("{WINDOW}{PERP}[book]\nsource = \"generated\"\n"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("lending book but no lending rules"), "{e}");
    // A lending book handed in without lending rules.
    let err = run(
        &perp_only(),
        &input(btc(), vec![leg("x", "BTC", Collateral, 1.0)]),
    )
    .unwrap_err();
    assert!(matches!(err, ReplayError::Config { .. }), "{err}");
    assert!(err.to_string().contains("no lending rules"), "{err}");
}
