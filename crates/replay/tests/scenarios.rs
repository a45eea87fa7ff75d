mod common;

use common::*;
use shortfall_core::{LegSide::*, Wad};
use shortfall_replay::{run, EventKind, LoanStatus, Reason, ReplayError, Scenario};

fn book() -> Vec<shortfall_core::PositionLeg> {
    vec![
        // HF 1.1 at 2000: liquidatable below ~1818
        leg("alice", "ETH", Collateral, 10.0),
        leg("alice", "USDC", Debt, 15000.0),
        // very safe
        leg("bob", "ETH", Collateral, 10.0),
        leg("bob", "USDC", Debt, 1000.0),
        // high leverage: HF 1.02 at 2000, underwater (C < D) below ~1617
        leg("carol", "ETH", Collateral, 1.0),
        leg("carol", "USDC", Debt, 1617.0),
    ]
}

fn prices(low: f64, mins: i64) -> Vec<shortfall_core::PriceBar> {
    eth_crash_usdc_flat(low, mins)
}

#[test]
fn aave_v3_orderly_crash_liquidates_without_bad_debt() {
    let sc = Scenario::from_toml(AAVE).unwrap();
    let out = run(&sc, &input(prices(1700.0, 120), book())).unwrap();
    let st = |a: &str| out.loans.iter().find(|l| l.account == a).unwrap().status;
    assert_eq!(st("alice"), LoanStatus::Liquidated);
    assert_eq!(st("bob"), LoanStatus::Performing);
    assert_eq!(st("carol"), LoanStatus::Liquidated);
    assert_eq!(out.summary.bad_debt_usd, Wad::ZERO);
    assert!(out.summary.liquidation_count >= 2);
    // event log: seq dense, clock monotonic
    for (i, e) in out.events.iter().enumerate() {
        assert_eq!(e.seq, i as u64);
        if i > 0 {
            assert!(out.events[i - 1].ts <= e.ts);
        }
    }
    assert!(out
        .events
        .iter()
        .any(|e| e.kind == EventKind::HealthCrossing && e.reason == Some(Reason::BelowOne)));
    // every liquidation record: health before < 1, repaid > 0
    for l in &out.liquidations {
        assert!(l.health_before.unwrap() < Wad::ONE);
        assert!(l.debt_repaid > Wad::ZERO);
    }
}

#[test]
fn aave_v33_gap_books_deficit_and_attribution_adds_up() {
    let sc = Scenario::from_toml_with_sets(AAVE, &["policy.preset=aave_v33".into()]).unwrap();
    // instant gap from 2000 to 1000 at minute 10
    let mut p = bars("ETH", 360, |m| if m < 10 { 2000.0 } else { 1000.0 });
    p.extend(bars("USDC", 360, |_| 1.0));
    let out = run(&sc, &input(p, book())).unwrap();
    let carol = out.loans.iter().find(|l| l.account == "carol").unwrap();
    assert_eq!(carol.status, LoanStatus::NonPerforming);
    assert!(carol.written_off_usd > Wad::ZERO);
    assert!(out
        .events
        .iter()
        .any(|e| e.kind == EventKind::BadDebt && e.reason == Some(Reason::Deficit)));
    for l in &out.loans {
        assert_eq!(l.attribution.total(), l.shortfall_usd, "{}", l.account);
    }
    assert_eq!(out.summary.attribution.total(), out.summary.bad_debt_usd);
    // price gap: the market jumped through the threshold
    assert!(carol.attribution.price_gap_usd > Wad::ZERO);
    let wf = out.summary.waterfall;
    assert_eq!(
        wf.reserves_usd + wf.socialised_usd,
        out.summary.bad_debt_usd
    );
}

#[test]
fn deterministic_and_run_id_stable() {
    let sc = Scenario::from_toml(AAVE).unwrap();
    let a = run(&sc, &input(prices(1500.0, 60), book())).unwrap();
    let b = run(&sc, &input(prices(1500.0, 60), book())).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.run_meta.run_id.len(), 16);
    let sc2 = Scenario::from_toml_with_sets(AAVE, &["seed=2".into()]).unwrap();
    let c = run(&sc2, &input(prices(1500.0, 60), book())).unwrap();
    assert_ne!(a.run_meta.run_id, c.run_meta.run_id);
}

#[test]
fn luna_min_answer_oracle_blocks_liquidation() {
    // LUNA collapses to 0.01 while the feed is floored at 0.10 (minAnswer).
    let toml = r#"
name = "luna"
[window]
start = "2020-03-12 00:00"
end = "2020-03-12 06:00"
[policy]
preset = "aave_v2"
[policy.assets.LUNA]
liquidation_threshold = 0.8
liquidation_bonus = 1.1
[oracle.default]
mode = "direct"
[oracle.assets.LUNA]
min_answer = 0.1
[oracle.assets.USDC]
mode = "fixed"
peg = 1
"#;
    let sc = Scenario::from_toml(toml).unwrap();
    let mut p = bars("LUNA", 360, |m| {
        if m < 60 {
            1.0
        } else if m < 240 {
            0.2 - 0.19 * (m - 60) as f64 / 180.0
        } else {
            0.01
        }
    });
    p.extend(bars("USDC", 360, |_| 1.0));
    let legs = vec![
        leg("x", "LUNA", Collateral, 100_000.0),
        // HF at 0.1 oracle: 100000*0.1*0.8/7000 = 1.14 -> never liquidatable at the floor
        leg("x", "USDC", Debt, 7_000.0),
    ];
    let out = run(&sc, &input(p, legs)).unwrap();
    let x = &out.loans[0];
    assert_eq!(x.status, LoanStatus::NonPerforming);
    assert_eq!(x.liquidations, 0);
    // the oracle never flagged it while the market did: all oracle
    assert_eq!(
        x.attribution.oracle_usd + x.attribution.price_gap_usd,
        x.shortfall_usd
    );
    assert!(x.attribution.oracle_usd > Wad::ZERO);
}

#[test]
fn compound_v2_preset_runs() {
    let sc = Scenario::from_toml_with_sets(
        AAVE,
        &[
            "policy.preset=compound_v2".into(),
            "policy.assets.ETH.liquidation_bonus=1.08".into(),
            "policy.assets.ETH.protocol_fee=0.028".into(),
        ],
    )
    .unwrap();
    let out = run(&sc, &input(prices(1600.0, 120), book())).unwrap();
    let alice = out.loans.iter().find(|l| l.account == "alice").unwrap();
    assert_eq!(alice.status, LoanStatus::Liquidated);
    // Compound close factor 50%: first liquidation repays 7500 USDC
    let first = out
        .liquidations
        .iter()
        .find(|l| l.account == "alice")
        .unwrap();
    assert_eq!(first.debt_repaid, w(7500.0));
}

#[test]
fn frictions_block_with_reasons() {
    let toml = format!(
        "{AAVE}\n[[frictions.liquidators]]\nname = \"small\"\nlatency_secs = 30\ncapital_usd = 100\ngas_units = 500000\nmin_profit_usd = 50\n[frictions.gas]\ngwei = 200\n"
    );
    let sc = Scenario::from_toml(&toml).unwrap();
    let out = run(&sc, &input(prices(1500.0, 60), book())).unwrap();
    let reasons: Vec<_> = out
        .events
        .iter()
        .filter(|e| e.kind == EventKind::LiquidationBlocked)
        .filter_map(|e| e.reason)
        .collect();
    assert!(!reasons.is_empty());
    assert!(out.summary.blocked_attempts.values().sum::<u64>() > 0);
}

#[test]
fn circuit_breaker_pauses() {
    let toml = format!(
        "{AAVE}\n[[frictions.circuit_breakers]]\nasset = \"ETH\"\nmove_bps = 1000\nwindow_secs = 3600\npause_secs = 1800\naction = \"liquidations\"\n"
    );
    let sc = Scenario::from_toml(&toml).unwrap();
    let out = run(&sc, &input(prices(1500.0, 30), book())).unwrap();
    assert!(out
        .events
        .iter()
        .any(|e| e.kind == EventKind::CircuitBreaker));
    assert!(out.events.iter().any(|e| e.reason == Some(Reason::Paused)));
}

#[test]
fn unknown_asset_in_override_is_config_error() {
    let toml = format!("{AAVE}\n[[oracle.overrides]]\nasset = \"XYZ\"\nkind = \"freeze\"\nfrom = \"2020-03-12 01:00\"\n");
    let sc = Scenario::from_toml(&toml).unwrap();
    let e = run(&sc, &input(prices(1500.0, 30), book())).unwrap_err();
    assert!(matches!(e, ReplayError::Config { .. }), "{e}");
    assert!(e.to_string().contains("oracle.overrides.0.asset"));
}

#[test]
fn recorded_rounds_with_staleness_block_liquidations() {
    // Two ETH rounds (2000 at 00:00, 1700 at 00:10), then the feed stops.
    // The only liquidator reacts after 4000 s, when the answer is older than
    // the 1 h staleness limit: blocked with reason oracle_stale.
    let toml = format!(
        "{AAVE}\n[oracle.assets.ETH]\nsource = \"recorded\"\nstaleness_secs = 3600\n[[frictions.liquidators]]\nname = \"slow\"\nlatency_secs = 4000\ncapital_usd = 1000000\n"
    );
    let sc = Scenario::from_toml(&toml).unwrap();
    let mut inp = input(prices(1000.0, 60), book());
    inp.oracle_rounds = vec![round("ETH", 0, 2000.0, 1), round("ETH", 600, 1700.0, 2)];
    let out = run(&sc, &inp).unwrap();
    assert!(out
        .events
        .iter()
        .any(|e| e.reason == Some(Reason::OracleStale)));
    let upd: Vec<_> = out
        .events
        .iter()
        .filter(|e| e.kind == EventKind::OracleUpdate && e.asset.as_deref() == Some("ETH"))
        .collect();
    assert_eq!(upd.len(), 2);
    assert_eq!(out.summary.liquidation_count, 0);
}

#[test]
fn generated_book_is_recorded() {
    let toml = format!(
        "{AAVE}\n[book]\nsource = \"generated\"\n[book.generator]\naccounts = 50\ntotal_debt_usd = 1000000\nnear_liquidation_share = 0.3\ncollateral_assets = [\"ETH\"]\ndebt_assets = [\"USDC\"]\n"
    );
    let sc = Scenario::from_toml(&toml).unwrap();
    let out = run(&sc, &input(prices(1500.0, 60), vec![])).unwrap();
    assert!(out.summary.book_generated);
    assert!(out.summary.book_origin.contains("seed=1"));
    assert_eq!(out.loans.len(), 50);
    assert!(out.summary.liquidation_count > 0);
}

#[test]
fn dynamic_margin_logs_changes() {
    let toml = format!("{AAVE}\n[policy.dynamic_margin]\nwindow_secs = 1800\nvol_threshold = 0.05\nlt_multiplier = 0.9\n");
    let sc = Scenario::from_toml(&toml).unwrap();
    let out = run(&sc, &input(prices(1200.0, 30), book())).unwrap();
    let changes: Vec<_> = out
        .events
        .iter()
        .filter(|e| e.kind == EventKind::MarginChange)
        .collect();
    assert!(changes.len() >= 2, "{changes:?}"); // raised during the crash, back after
    assert_eq!(changes[0].reason, Some(Reason::VolatilityHigh));
}

/// `market.pegs` prices an asset that has no bars; without it the positions
/// holding it are unpriced.
#[test]
fn market_pegs_price_assets_without_data() {
    let eth_only = bars("ETH", 360, crash(1700.0, 120, 360));
    let sc = Scenario::from_toml(AAVE).unwrap();
    let out = run(&sc, &input(eth_only.clone(), book())).unwrap();
    assert_eq!(out.summary.unpriced_count, 3, "no USDC bars, no peg");
    let pegged = format!("{AAVE}\n[market]\npegs = {{ USDC = 1 }}\n");
    let sc = Scenario::from_toml(&pegged).unwrap();
    let a = run(&sc, &input(eth_only, book())).unwrap();
    let b = run(
        &Scenario::from_toml(AAVE).unwrap(),
        &input(prices(1700.0, 120), book()),
    )
    .unwrap();
    assert_eq!(a.summary.unpriced_count, 0);
    // A peg of 1 is the same as flat USDC bars at 1.
    assert_eq!(a.loans, b.loans);
    assert_eq!(a.liquidations, b.liquidations);
}

/// Aave v2 keeps USD prices in 18 decimals: with an 18-decimal debt asset
/// the liquidation amounts' denominator (collateral price x debt unit,
/// 2e21 x 1e18) passes 2^127. The amounts must be those of a 6-decimal
/// debt (Aave's uint256 math), not an overflow blocking every liquidation.
#[test]
fn aave_v2_liquidates_an_18_decimal_debt() {
    let mut seized = Vec::new();
    for dec in ["decimals = 6", "decimals = 18"] {
        let sc = AAVE
            .replace("preset = \"aave_v3\"", "preset = \"aave_v2\"")
            .replace("decimals = 6", dec);
        let sc = Scenario::from_toml(&sc).unwrap();
        let i = input(
            eth_crash_usdc_flat(1500.0, 120),
            vec![
                leg("a", "ETH", Collateral, 10.0),
                leg("a", "USDC", Debt, 15_000.0),
            ],
        );
        let o = run(&sc, &i).unwrap();
        assert!(
            o.summary.liquidation_count > 0,
            "{dec}: {:?}",
            o.summary.blocked_attempts
        );
        seized.push(
            o.liquidations
                .iter()
                .map(|l| l.collateral_seized)
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(seized[0], seized[1]);
}
