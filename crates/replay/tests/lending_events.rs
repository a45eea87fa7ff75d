//! Recorded lending events (`ReplayInput::lending_events`) change the book
//! during the replay: supply, withdraw, borrow and repay, each when it
//! happened, with the position re-evaluated at once.

mod common;

use common::*;
use shortfall_core::{LegSide::*, LendingEvent, LendingKind, Micros, PositionLeg, Wad};
use shortfall_replay::{run, EventKind, LoanStatus, Reason, ReplayInput, RunOutput, Scenario};

fn book() -> Vec<PositionLeg> {
    vec![
        // HF 1.1 at 2000: liquidatable below ~1818
        leg("alice", "ETH", Collateral, 10.0),
        leg("alice", "USDC", Debt, 15000.0),
        // very safe
        leg("bob", "ETH", Collateral, 10.0),
        leg("bob", "USDC", Debt, 1000.0),
        // HF 1.02 at 2000
        leg("carol", "ETH", Collateral, 1.0),
        leg("carol", "USDC", Debt, 1617.0),
    ]
}

/// ETH from 2000 down to 1700 over two hours, then flat.
fn prices() -> Vec<shortfall_core::PriceBar> {
    eth_crash_usdc_flat(1700.0, 120)
}

/// An event `secs` after the window start (between bar ends when not a
/// multiple of 60).
fn ev(secs: i64, kind: LendingKind, account: &str, asset: &str, amount: f64) -> LendingEvent {
    let mut e = LendingEvent::new(
        Micros::from_secs(T0 + secs),
        "aave_v3",
        "test",
        kind,
        account,
        asset,
    );
    e.amount = Some(w(amount));
    e
}

fn with_events(events: Vec<LendingEvent>) -> ReplayInput {
    let mut i = input(prices(), book());
    i.lending_events = Some(events);
    i
}

fn replay(events: Option<Vec<LendingEvent>>) -> RunOutput {
    let sc = Scenario::from_toml(AAVE).unwrap();
    let mut i = input(prices(), book());
    i.lending_events = events;
    run(&sc, &i).unwrap()
}

fn status(out: &RunOutput, a: &str) -> LoanStatus {
    out.loans.iter().find(|l| l.account == a).unwrap().status
}

fn first_liquidation(out: &RunOutput, a: &str) -> Option<(u64, Micros)> {
    out.liquidations
        .iter()
        .find(|l| l.account == a)
        .map(|l| (l.seq, l.ts))
}

#[test]
fn borrow_makes_a_healthy_position_liquidatable_after_it() {
    let base = replay(None);
    assert_eq!(status(&base, "bob"), LoanStatus::Performing);
    assert!(base.summary.lending_events.is_none());

    // bob borrows 14000 more at minute 30 (ETH ~1925): HF 1.06, then the
    // crash to 1700 takes it to 0.94.
    let out = replay(Some(vec![ev(
        30 * 60 + 30,
        LendingKind::Borrow,
        "bob",
        "USDC",
        14000.0,
    )]));
    assert_eq!(status(&out, "bob"), LoanStatus::Liquidated);
    let change = out
        .events
        .iter()
        .find(|e| e.kind == EventKind::BookChange)
        .unwrap();
    assert_eq!(change.account.as_deref(), Some("bob"));
    assert_eq!(change.asset.as_deref(), Some("USDC"));
    assert_eq!(change.amount, Some(w(14000.0)));
    assert_eq!(change.reason, Some(Reason::Borrow));
    assert!(change.health.unwrap() > Wad::ONE, "{change:?}");
    let (seq, ts) = first_liquidation(&out, "bob").unwrap();
    assert!(seq > change.seq && ts > change.ts, "{ts} {}", change.ts);
    let c = out.summary.lending_events.as_ref().unwrap();
    assert_eq!((c.total, c.applied, c.clamped), (1, 1, 0));
    assert_eq!(c.applied_by_kind["borrow"], 1);

    // A borrow that takes bob below 1 at once is liquidated in the same
    // instant, after the borrow.
    let out = replay(Some(vec![ev(
        30 * 60 + 30,
        LendingKind::Borrow,
        "bob",
        "USDC",
        16000.0,
    )]));
    let change = out
        .events
        .iter()
        .find(|e| e.kind == EventKind::BookChange)
        .unwrap();
    assert!(change.health.unwrap() < Wad::ONE);
    let (seq, ts) = first_liquidation(&out, "bob").unwrap();
    assert!(seq > change.seq);
    assert_eq!(ts, change.ts);
}

#[test]
fn a_repay_before_the_crash_saves_a_position() {
    let base = replay(None);
    assert_eq!(status(&base, "alice"), LoanStatus::Liquidated);
    // the amount in base units only (6 decimals)
    let mut repay = ev(10 * 60 + 5, LendingKind::Repay, "alice", "USDC", 0.0);
    repay.amount = None;
    repay.amount_raw = Some(5_000_000_000);
    let out = replay(Some(vec![repay]));
    assert_eq!(status(&out, "alice"), LoanStatus::Performing);
    assert!(first_liquidation(&out, "alice").is_none());
    let e = out
        .events
        .iter()
        .find(|e| e.kind == EventKind::BookChange)
        .unwrap();
    assert_eq!(e.amount, Some(w(-5000.0)));
    assert_eq!(e.value_usd, Some(w(-5000.0)));
    assert_eq!(e.reason, Some(Reason::Repay));
}

#[test]
fn a_supply_for_a_new_account_opens_a_position_and_new_legs_grow() {
    let out = replay(Some(vec![
        ev(60, LendingKind::Supply, "dave", "ETH", 5.0),
        // 5 ETH at ~1997: HF 1.03, below 1 on the way to 1700
        ev(61, LendingKind::Borrow, "dave", "USDC", 8000.0),
        // a new collateral leg for bob (his span is full: it moves)
        ev(62, LendingKind::Supply, "bob", "USDC", 1000.0),
        ev(63, LendingKind::Withdraw, "bob", "ETH", 4.0),
    ]));
    assert_eq!(out.summary.positions, 4);
    let dave = out.loans.iter().find(|l| l.account == "dave").unwrap();
    assert_eq!(dave.market, "test");
    assert_eq!(dave.initial_debt_usd, Wad::ZERO);
    assert!(dave.liquidations > 0, "{dave:?}");
    assert!(out.liquidations.iter().any(|l| l.account == "dave"));
    let bob = out.loans.iter().find(|l| l.account == "bob").unwrap();
    // 6 ETH at 1700 + 1000 USDC
    assert_eq!(bob.final_collateral_usd, w(6.0 * 1700.0 + 1000.0));
    let c = out.summary.lending_events.as_ref().unwrap();
    assert_eq!((c.applied, c.new_positions), (4, 1));
    assert!(c.ignored.is_empty(), "{c:?}");
}

#[test]
fn events_not_applied_are_counted_by_reason_and_overdrafts_clamped() {
    let mut liq = ev(100, LendingKind::Liquidation, "alice", "USDC", 1.0);
    liq.collateral_asset = Some("ETH".into());
    let mut no_amount = ev(101, LendingKind::Supply, "alice", "ETH", 0.0);
    no_amount.amount = None;
    let mut other_market = ev(102, LendingKind::Supply, "alice", "ETH", 1.0);
    other_market.market = "elsewhere".into();
    let before = ev(-60, LendingKind::Supply, "alice", "ETH", 1.0);
    let out = replay(Some(vec![
        ev(90, LendingKind::Supply, "alice", "WBTC", 1.0),
        ev(91, LendingKind::Borrow, "bob", "WBTC", 1.0),
        liq,
        no_amount,
        other_market,
        before,
        ev(103, LendingKind::Withdraw, "nobody", "ETH", 1.0),
        ev(104, LendingKind::IndexUpdate, "", "ETH", 0.0),
        // carol owes 1617: repaying 2000 clears it, clamped
        ev(105, LendingKind::Repay, "carol", "USDC", 2000.0),
        // and she has no USDC collateral to withdraw
        ev(106, LendingKind::Withdraw, "carol", "USDC", 5.0),
    ]));
    let c = out.summary.lending_events.as_ref().unwrap();
    assert_eq!(c.total, 10);
    assert_eq!(c.applied, 2);
    assert_eq!(c.clamped, 2);
    let ignored: Vec<(&str, u64)> = c.ignored.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        ignored,
        [
            ("kind_not_replayed", 1),
            ("no_amount", 1),
            ("observed_only", 1),
            ("outside_window", 1),
            ("unknown_account", 1),
            ("unknown_asset", 2),
            ("unknown_market", 1),
        ]
    );
    let carol = out.loans.iter().find(|l| l.account == "carol").unwrap();
    assert_eq!(carol.final_debt_usd, Wad::ZERO);
    assert_eq!(carol.status, LoanStatus::Performing);
    let changes: Vec<Option<Wad>> = out
        .events
        .iter()
        .filter(|e| e.kind == EventKind::BookChange)
        .map(|e| e.amount)
        .collect();
    assert_eq!(changes, [Some(w(-1617.0)), Some(Wad::ZERO)]);
    // the summary serialises the counts; without events it has none
    let j = serde_json::to_value(&out.summary).unwrap();
    assert_eq!(j["lending_events"]["ignored"]["unknown_asset"], 2);
    let j = serde_json::to_value(&replay(None).summary).unwrap();
    assert!(j.get("lending_events").is_none());
}

fn busy() -> Vec<LendingEvent> {
    vec![
        ev(30, LendingKind::Supply, "dave", "ETH", 3.0),
        ev(31, LendingKind::Borrow, "dave", "USDC", 4500.0),
        ev(600, LendingKind::Repay, "alice", "USDC", 500.0),
        ev(1800, LendingKind::Borrow, "bob", "USDC", 12000.0),
        ev(2400, LendingKind::Withdraw, "bob", "ETH", 1.0),
        ev(3000, LendingKind::Repay, "carol", "USDC", 5000.0),
        ev(3001, LendingKind::Supply, "carol", "ETH", 2.0),
        ev(3002, LendingKind::Borrow, "carol", "USDC", 3000.0),
        ev(5000, LendingKind::Supply, "erin", "USDC", 100.0),
    ]
}

#[test]
fn conservation_holds_with_the_flows() {
    // A gap: liquidations and (v3.3) deficits alongside the flows; the
    // engine's own conservation check runs at the end of every run.
    let sc = Scenario::from_toml_with_sets(AAVE, &["policy.preset=aave_v33".into()]).unwrap();
    let mut p = bars("ETH", 360, |m| if m < 70 { 2000.0 } else { 1000.0 });
    p.extend(bars("USDC", 360, |_| 1.0));
    let mut i = input(p, book());
    i.lending_events = Some(busy());
    let out = run(&sc, &i).unwrap();
    assert!(!out.liquidations.is_empty());
    // USDC debt at 1 USD: initial + borrowed - repaid by owners - repaid
    // in liquidations - written off = outstanding.
    let initial: i128 = [15000.0, 1000.0, 1617.0].iter().map(|x| w(*x).0).sum();
    let flows: i128 = out
        .events
        .iter()
        .filter(|e| {
            e.kind == EventKind::BookChange
                && e.asset.as_deref() == Some("USDC")
                && matches!(e.reason, Some(Reason::Borrow | Reason::Repay))
        })
        .map(|e| e.amount.unwrap().0)
        .sum();
    let liquidated: i128 = out.liquidations.iter().map(|l| l.debt_repaid.0).sum();
    let written_off: i128 = out
        .events
        .iter()
        .filter(|e| e.kind == EventKind::BadDebt)
        .map(|e| e.amount.unwrap().0)
        .sum();
    let outstanding: i128 = out.loans.iter().map(|l| l.final_debt_usd.0).sum();
    assert_eq!(initial + flows - liquidated - written_off, outstanding);
    for l in &out.loans {
        assert_eq!(l.attribution.total(), l.shortfall_usd, "{}", l.account);
    }
}

#[test]
fn deterministic_with_events_in_any_input_order() {
    let sc = Scenario::from_toml(AAVE).unwrap();
    let a = run(&sc, &with_events(busy())).unwrap();
    let b = run(&sc, &with_events(busy())).unwrap();
    assert_eq!(a, b);
    let mut rev = busy();
    rev.reverse();
    let c = run(&sc, &with_events(rev)).unwrap();
    assert_eq!(a.run_meta.event_log_sha256, c.run_meta.event_log_sha256);
    assert_eq!(a.loans, c.loans);
    assert_eq!(
        a.events
            .iter()
            .filter(|e| e.kind == EventKind::BookChange)
            .count(),
        9
    );
}

#[test]
fn events_between_the_snapshot_and_the_window_bring_the_book_forward() {
    let sc = Scenario::from_toml(AAVE).unwrap();
    // Carol (HF 1.02 at 2000) repays most of her debt 30 s before the
    // window; an event before the snapshot is already in the book.
    let events = vec![
        ev(-300, LendingKind::Borrow, "carol", "USDC", 5000.0),
        ev(-30, LendingKind::Repay, "carol", "USDC", 1500.0),
        ev(60, LendingKind::Supply, "bob", "ETH", 1.0),
    ];
    let mut i = input(prices(), book());
    i.lending_events = Some(events.clone());
    i.book.as_of = Some(Micros::from_secs(T0 - 120));
    let out = run(&sc, &i).unwrap();
    let c = out.summary.lending_events.as_ref().unwrap();
    assert_eq!((c.applied, c.before_window), (2, 1));
    assert_eq!(c.ignored.get("in_snapshot"), Some(&1));
    // Applied at the window start, before any health check: carol is safe.
    let first = out
        .events
        .iter()
        .find(|e| e.kind == EventKind::BookChange)
        .unwrap();
    assert_eq!(first.ts, Micros::from_secs(T0));
    assert_eq!(first.account.as_deref(), Some("carol"));
    assert_eq!(status(&out, "carol"), LoanStatus::Performing);

    // Without a snapshot time the same events before the window are not
    // applied (the book is taken as of the window start).
    let mut i = input(prices(), book());
    i.lending_events = Some(events);
    let out = run(&sc, &i).unwrap();
    let c = out.summary.lending_events.as_ref().unwrap();
    assert_eq!((c.applied, c.before_window), (1, 0));
    assert_eq!(c.ignored.get("outside_window"), Some(&2));
    assert_ne!(status(&out, "carol"), LoanStatus::Performing);
}
