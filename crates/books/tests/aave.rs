//! Aave v2/v3 books from events, with the arithmetic worked by hand.

mod common;

use common::*;
use shortfall_books::{reconstruct, LedgerUnit, Snapshot};
use shortfall_core::{LegSide, LendingKind::*, Micros};

fn leg<'a>(
    r: &'a shortfall_books::Reconstruction,
    account: &str,
    asset: &str,
    side: LegSide,
) -> &'a shortfall_books::Leg {
    r.legs
        .iter()
        .find(|l| l.account == account && l.asset == asset && l.side == side)
        .unwrap_or_else(|| panic!("no leg {account} {asset} {side:?}: {:?}", r.legs))
}

#[test]
fn supply_earns_the_liquidity_index() {
    // Supply 1000 USDC (6 decimals: 1e9 base units) at liquidityIndex 1.02:
    //   scaled = rayDiv(1e9, 1.02) = 980392156.86... -> 980392157 (half up).
    // The index is later 1.05:
    //   balance = rayMul(980392157, 1.05) = 1029411764.85 -> 1029411765
    //   = 1029.411765 USDC.
    let p = "aave_v2";
    let events = vec![
        aave_index(p, 1, 0, 0, "USDC", RAY * 102 / 100, RAY, 0, 0),
        amt(ev(p, 1, 1, 0, Supply, "alice", "USDC"), 1_000_000_000),
        aave_index(p, 2, 0, 100, "USDC", RAY * 105 / 100, RAY, 0, 0),
    ];
    let r = reconstruct(
        &events,
        &[reserve(p, "USDC", 6)],
        Snapshot::Time(Micros::from_secs(T0 + 200)),
    )
    .unwrap();
    let l = leg(&r, "alice", "USDC", LegSide::Collateral);
    assert_eq!(l.scaled_raw, Some(980_392_157));
    assert_eq!(l.amount_raw, 1_029_411_765);
    assert_eq!(l.amount, wad("1029.411765"));
    let row = &r.reconciliation.rows[0];
    assert_eq!(row.unit, LedgerUnit::Scaled);
    assert_eq!(
        (row.increases, row.books, row.difference),
        (980_392_157, 980_392_157, 0)
    );
    assert_eq!(row.books_raw, 1_029_411_765);
}

#[test]
fn the_index_grows_with_the_rate_to_the_snapshot() {
    // Index 1.0 and a liquidity rate of 10% a year; half a year later
    // (15,768,000 s) calculateLinearInterest = 1 + 0.1 * 0.5 = 1.05, so
    // 1000 USDC supplied at 1.0 (scaled 1e9) is 1050 USDC.
    let p = "aave_v3";
    let events = vec![
        aave_index(p, 1, 0, 0, "USDC", RAY, RAY, RAY / 10, 0),
        amt(ev(p, 1, 1, 0, Supply, "alice", "USDC"), 1_000_000_000),
    ];
    let r = reconstruct(
        &events,
        &[reserve(p, "USDC", 6)],
        Snapshot::Time(Micros::from_secs(T0 + 15_768_000)),
    )
    .unwrap();
    assert_eq!(
        leg(&r, "alice", "USDC", LegSide::Collateral).amount,
        wad("1050")
    );
}

#[test]
fn variable_debt_compounds_with_the_borrow_index() {
    // Borrow 100 DAI at variableBorrowIndex 1.0 with a borrow rate of 10% a
    // year; one year later calculateCompoundedInterest gives
    //   v2: 1.105167270015202188556648 (ray), v3: 1.105162042821782412575504
    // (the 3-term approximation of e^0.1 = 1.10517..., see raymath), so the
    // debt is rayMul(100e18, index): 110.516727001520218856 DAI (v2),
    // 110.516204282178241258 DAI (v3).
    for (p, want) in [
        ("aave_v2", "110.516727001520218856"),
        ("aave_v3", "110.516204282178241258"),
    ] {
        let events = vec![
            aave_index(p, 1, 0, 0, "DAI", RAY, RAY, 0, RAY / 10),
            amt(ev(p, 1, 1, 0, Borrow, "bob", "DAI"), 100 * E18),
        ];
        let r = reconstruct(
            &events,
            &[reserve(p, "DAI", 18)],
            Snapshot::Time(Micros::from_secs(T0 + 365 * 86_400)),
        )
        .unwrap();
        let l = leg(&r, "bob", "DAI", LegSide::Debt);
        assert_eq!(l.scaled_raw, Some(100 * E18));
        assert_eq!(l.amount, wad(want), "{p}");
    }
}

#[test]
fn a_liquidation_burns_debt_and_collateral_at_their_indexes() {
    // alice supplies 10 ETH and borrows 1000 DAI at indexes 1.0. Later the
    // DAI borrow index is 1.1 and the ETH liquidity index 1.05, and a
    // liquidator repays 500 DAI and seizes 2.625 ETH:
    //   debt scaled  = 1000e18 - rayDiv(500e18, 1.1)
    //                = 1000e18 - 454545454545454545455 (…454.5 rounded up)
    //                = 545454545454545454545
    //   debt         = rayMul(545454545454545454545, 1.1)
    //                = 599999999999999999999.5 -> 600e18 (1000*1.1 - 500)
    //   ETH scaled   = 10e18 - rayDiv(2.625e18, 1.05) = 10e18 - 2.5e18 = 7.5e18
    //   ETH          = rayMul(7.5e18, 1.05) = 7.875e18 (10*1.05 - 2.625)
    // The liquidator's aTokens (receiveAToken) are not in the table: no leg.
    let p = "aave_v2";
    let mut liq = amt(ev(p, 3, 2, 200, Liquidation, "alice", "DAI"), 500 * E18);
    liq.collateral_asset = Some("ETH".into());
    liq.collateral_amount_raw = Some(2_625 * E18 / 1000);
    liq.liquidator = Some("keeper".into());
    let events = vec![
        aave_index(p, 1, 0, 0, "ETH", RAY, RAY, 0, 0),
        amt(ev(p, 1, 1, 0, Supply, "alice", "ETH"), 10 * E18),
        aave_index(p, 2, 0, 100, "DAI", RAY, RAY, 0, 0),
        amt(ev(p, 2, 1, 100, Borrow, "alice", "DAI"), 1000 * E18),
        aave_index(p, 3, 0, 200, "DAI", RAY, RAY * 11 / 10, 0, 0),
        aave_index(p, 3, 1, 200, "ETH", RAY * 105 / 100, RAY, 0, 0),
        liq,
    ];
    let reserves = [reserve(p, "ETH", 18), reserve(p, "DAI", 18)];
    let r = reconstruct(&events, &reserves, Snapshot::Block(3)).unwrap();
    let debt = leg(&r, "alice", "DAI", LegSide::Debt);
    assert_eq!(debt.scaled_raw, Some(545_454_545_454_545_454_545));
    assert_eq!(debt.amount, wad("600"));
    let eth = leg(&r, "alice", "ETH", LegSide::Collateral);
    assert_eq!(eth.scaled_raw, Some(7_500_000_000_000_000_000));
    assert_eq!(eth.amount, wad("7.875"));
    assert_eq!(r.legs.len(), 2);
    assert!(r.reconciliation.issues.is_empty());
    assert_eq!(r.snapshot_block, Some(3));
    assert_eq!(r.snapshot_ts, Micros::from_secs(T0 + 200));
    for row in &r.reconciliation.rows {
        assert_eq!(row.difference, 0, "{row:?}");
    }
}

#[test]
fn a_withdrawal_beyond_the_known_balance_is_listed_and_clamped() {
    // alice supplied 100 USDC in the data but withdraws 150 (she supplied
    // before the data starts); carol repays 20 DAI of debt never seen.
    // Events imply 100 - 150 = -50 (scaled, index 1.0); the book holds 0;
    // the difference, 50 USDC, is exactly the clamp.
    let p = "aave_v3";
    let events = vec![
        aave_index(p, 1, 0, 0, "USDC", RAY, RAY, 0, 0),
        amt(ev(p, 1, 1, 0, Supply, "alice", "USDC"), 100_000_000),
        aave_index(p, 2, 0, 12, "USDC", RAY, RAY, 0, 0),
        amt(ev(p, 2, 1, 12, Withdraw, "alice", "USDC"), 150_000_000),
        aave_index(p, 3, 0, 24, "DAI", RAY, RAY, 0, 0),
        amt(ev(p, 3, 1, 24, Repay, "carol", "DAI"), 20 * E18),
    ];
    let reserves = [reserve(p, "USDC", 6), reserve(p, "DAI", 18)];
    let r = reconstruct(&events, &reserves, Snapshot::Block(3)).unwrap();
    assert!(r.legs.is_empty(), "{:?}", r.legs);
    let rec = &r.reconciliation;
    assert_eq!(rec.issues.len(), 2);
    assert_eq!(rec.issues[0].at, "block 2 log 1");
    assert_eq!(
        rec.issues[0].problem,
        shortfall_books::Problem::ExceedsBalance
    );
    assert_eq!(rec.issues[0].clamped, 50_000_000);
    assert_eq!(rec.issues[1].at, "block 3 log 1");
    assert_eq!(
        rec.issues[1].problem,
        shortfall_books::Problem::UnknownBalance
    );
    let usdc = rec.rows.iter().find(|r| r.asset == "USDC").unwrap();
    assert_eq!(
        (usdc.increases, usdc.decreases, usdc.books),
        (100_000_000, 150_000_000, 0)
    );
    assert_eq!(usdc.difference, 50_000_000);
    assert_eq!(usdc.clamped, 50_000_000);
    assert_eq!(usdc.issues, 1);
    let dai = rec.rows.iter().find(|r| r.asset == "DAI").unwrap();
    assert_eq!(dai.difference, 20 * E18 as i128);
    assert_eq!(dai.unexplained(), 0);
}

#[test]
fn events_before_any_index_are_listed_not_guessed() {
    let p = "aave_v2";
    let events = vec![amt(ev(p, 1, 1, 0, Supply, "alice", "USDC"), 5)];
    let r = reconstruct(&events, &[reserve(p, "USDC", 6)], Snapshot::Block(1)).unwrap();
    assert!(r.legs.is_empty());
    assert_eq!(
        r.reconciliation.issues[0].problem,
        shortfall_books::Problem::NoIndex
    );
    assert_eq!(r.reconciliation.rows[0].issues, 1);
}

#[test]
fn decimals_are_inferred_from_amount_pairs_or_the_error_names_the_asset() {
    let p = "aave_v2";
    let mut s = amt(ev(p, 1, 1, 0, Supply, "alice", "WBTC"), 150_000_000);
    s.amount = Some(wad("1.5"));
    let events = vec![aave_index(p, 1, 0, 0, "WBTC", RAY, RAY, 0, 0), s.clone()];
    let r = reconstruct(&events, &[], Snapshot::Block(1)).unwrap();
    assert_eq!(r.legs[0].amount, wad("1.5"));

    s.amount = None;
    let events = vec![aave_index(p, 1, 0, 0, "WBTC", RAY, RAY, 0, 0), s];
    let e = reconstruct(&events, &[], Snapshot::Block(1)).unwrap_err();
    assert!(
        e.to_string()
            .contains("decimals of aave_v2 pool WBTC unknown"),
        "{e}"
    );
}

#[test]
fn a_block_snapshot_needs_block_numbers_and_maker_is_skipped_with_a_reason() {
    let mut e = ev("aave_v2", 1, 1, 0, Supply, "alice", "USDC");
    e.block = None;
    e.source_ref = Some("export.csv line 7".into());
    let err = reconstruct(&[e], &[], Snapshot::Block(5)).unwrap_err();
    assert!(err.to_string().contains("export.csv line 7"), "{err}");

    let bark = ev("maker", 1, 1, 0, AuctionStart, "urn", "ETH-A");
    let r = reconstruct(&[bark], &[], Snapshot::Time(Micros::from_secs(T0))).unwrap();
    assert_eq!(r.reconciliation.skipped.len(), 1);
    assert_eq!(r.reconciliation.skipped[0].events, 1);
    assert!(r.reconciliation.skipped[0].reason.contains("frob"));
}
