//! Compound v2 books from events, with the arithmetic worked by hand.

mod common;

use common::*;
use shortfall_books::{reconstruct, LedgerUnit, Snapshot};
use shortfall_core::{LegSide, LendingEvent, LendingKind::*};

/// alice mints cDAI with 1000 DAI, borrows 100 USDC, repays 30, redeems
/// 210 DAI, and is liquidated by bob for 40 USDC and 2000 cDAI.
fn story() -> Vec<LendingEvent> {
    let c = "compound_v2";
    let with = |mut e: LendingEvent, amount: &str, shares: Option<u128>, balance: Option<u128>| {
        e.amount = Some(wad(amount));
        e.shares_raw = shares;
        e.account_balance_raw = balance;
        e
    };
    let dai = |n: u128| n * E18;
    let mut mint = amt(ev(c, 1, 1, 0, Supply, "alice", "DAI"), dai(1000));
    mint = with(mint, "1000", Some(50_000 * 100_000_000), None); // 50,000 cDAI
    let borrow = with(
        amt(ev(c, 2, 1, 12, Borrow, "alice", "USDC"), 100_000_000),
        "100",
        None,
        Some(100_000_000),
    );
    let repay = with(
        amt(ev(c, 3, 1, 24, Repay, "alice", "USDC"), 30_000_000),
        "30",
        None,
        Some(75_000_000),
    );
    let redeem = with(
        amt(ev(c, 4, 1, 36, Withdraw, "alice", "DAI"), dai(210)),
        "210",
        Some(10_000 * 100_000_000),
        None,
    );
    let mut liq = with(
        amt(ev(c, 5, 1, 48, Liquidation, "alice", "USDC"), 40_000_000),
        "40",
        Some(2_000 * 100_000_000),
        None,
    );
    liq.collateral_asset = Some("DAI".into());
    liq.liquidator = Some("bob".into());
    vec![
        accrue(1, 0, 0, "DAI", E18),
        mint,
        accrue(2, 0, 12, "USDC", E18),
        borrow,
        accrue(3, 0, 24, "USDC", E18 * 105 / 100),
        repay,
        accrue(4, 0, 36, "DAI", E18),
        redeem,
        accrue(5, 0, 48, "USDC", E18 * 112 / 100),
        liq,
    ]
}

fn amount_of(
    r: &shortfall_books::Reconstruction,
    account: &str,
    asset: &str,
    side: LegSide,
) -> (u128, Option<u128>) {
    let l = r
        .legs
        .iter()
        .find(|l| l.account == account && l.asset == asset && l.side == side)
        .unwrap_or_else(|| panic!("no leg {account} {asset}: {:?}", r.legs));
    (l.amount_raw, l.scaled_raw)
}

#[test]
fn mint_redeem_seize_and_borrow_with_the_borrow_index() {
    // Decimals inferred from the events (amount and amount_raw both given).
    let r = reconstruct(&story(), &[], Snapshot::Block(5)).unwrap();
    // cDAI: alice 50,000 - 10,000 - 2,000 = 38,000 cDAI (3.8e12 base units);
    // the latest exchange rate is the redeem's 210e18 / 1e12 = 2.1e8 base
    // units of DAI per base unit of cDAI, so 3.8e12 * 2.1e8 = 798e18 = 798 DAI.
    assert_eq!(
        amount_of(&r, "alice", "DAI", LegSide::Collateral),
        (798 * E18, Some(3_800_000_000_000))
    );
    // bob received the 2,000 seized cDAI: 2e11 * 2.1e8 = 42 DAI.
    assert_eq!(
        amount_of(&r, "bob", "DAI", LegSide::Collateral),
        (42 * E18, Some(200_000_000_000))
    );
    // USDC debt: accountBorrows 100 at borrowIndex 1.00; at 1.05 it is 105,
    // the repayment of 30 leaves accountBorrows 75 (as the event reports);
    // at 1.12 the liquidation finds 75 * 1.12 / 1.05 = 80 and repays 40.
    assert_eq!(
        amount_of(&r, "alice", "USDC", LegSide::Debt),
        (40_000_000, None)
    );
    let leg = r.legs.iter().find(|l| l.side == LegSide::Debt).unwrap();
    assert_eq!(leg.amount, wad("40"));

    let rows = &r.reconciliation.rows;
    let usdc = rows.iter().find(|r| r.asset == "USDC").unwrap();
    assert_eq!(usdc.unit, LedgerUnit::BaseUnits);
    // Events: +100 -30 -40 = 30; book 40; the 10 is interest (5 + 5).
    assert_eq!(
        (usdc.increases, usdc.decreases, usdc.books),
        (100_000_000, 70_000_000, 40_000_000)
    );
    assert_eq!(
        (usdc.difference, usdc.interest, usdc.opening, usdc.clamped),
        (10_000_000, 10_000_000, 0, 0)
    );
    let cdai = rows.iter().find(|r| r.asset == "DAI").unwrap();
    assert_eq!(cdai.unit, LedgerUnit::Ctokens);
    // +50,000 (mint) +2,000 (bob) -10,000 (redeem) -2,000 (seized) = 40,000 cDAI.
    assert_eq!(
        (cdai.books, cdai.difference, cdai.accounts),
        (4_000_000_000_000, 0, 2)
    );
    assert_eq!(cdai.books_raw, 840 * E18);
    assert!(
        r.reconciliation.issues.is_empty(),
        "{:?}",
        r.reconciliation.issues
    );
}

#[test]
fn a_block_range_replayed_from_events_reproduces_a_hand_checked_account() {
    // Up to block 3: alice holds 50,000 cDAI at the mint's rate 1000e18/5e12
    // = 2e8 -> 1000 DAI, and owes accountBorrows 75 USDC at borrowIndex 1.05
    // (no later AccrueInterest by block 3, so no growth): 75 USDC. Blocks 4
    // and 5 are not used.
    let r = reconstruct(&story(), &[], Snapshot::Block(3)).unwrap();
    assert_eq!(
        amount_of(&r, "alice", "DAI", LegSide::Collateral).0,
        1000 * E18
    );
    assert_eq!(amount_of(&r, "alice", "USDC", LegSide::Debt).0, 75_000_000);
    assert_eq!(r.legs.len(), 2);
    assert_eq!(r.reconciliation.events_after, 4);
    assert_eq!(r.snapshot_ts, shortfall_core::Micros::from_secs(T0 + 24));
}

#[test]
fn a_repay_of_debt_never_seen_is_listed_and_the_reported_balance_is_opening() {
    // carol repays 10 USDC with no borrow in the data; the event reports
    // accountBorrows 5 left. Events: -10; book 5; difference 15 = clamped
    // 10 + opening 5.
    let c = "compound_v2";
    let mut repay = amt(ev(c, 2, 1, 12, Repay, "carol", "USDC"), 10_000_000);
    repay.account_balance_raw = Some(5_000_000);
    let events = vec![accrue(2, 0, 12, "USDC", E18), repay];
    let r = reconstruct(&events, &[reserve(c, "USDC", 6)], Snapshot::Block(2)).unwrap();
    let row = &r.reconciliation.rows[0];
    assert_eq!(
        (row.difference, row.clamped, row.opening),
        (15_000_000, 10_000_000, 5_000_000)
    );
    assert_eq!(row.unexplained(), 0);
    assert_eq!(r.reconciliation.issues.len(), 1);
    assert_eq!(r.reconciliation.issues[0].at, "block 2 log 1");
    assert_eq!(r.legs[0].amount_raw, 5_000_000);
}
