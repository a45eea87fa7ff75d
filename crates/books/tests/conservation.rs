//! Conservation: without clamps, what the accounts hold adds up to what the
//! events imply, in each row's ledger unit; with clamps, the difference is
//! exactly what was clamped (plus Compound interest).

mod common;

use std::collections::BTreeMap;

use common::*;
use proptest::prelude::*;
use shortfall_books::{reconstruct, LedgerUnit, Snapshot};
use shortfall_core::{LendingEvent, LendingKind};

const KINDS: [LendingKind; 4] = [
    LendingKind::Supply,
    LendingKind::Withdraw,
    LendingKind::Borrow,
    LendingKind::Repay,
];
const ACCOUNTS: [&str; 3] = ["a", "b", "c"];
const ASSETS: [&str; 2] = ["DAI", "USDC"];

/// (protocol, kind, account, asset, amount, index bump, rate, seconds later)
type Op = (usize, usize, usize, usize, u128, u128, u128, i64);

fn op() -> impl Strategy<Value = Op> {
    (
        0..2usize,
        0..4usize,
        0..3usize,
        0..2usize,
        1..1_000_000_000_000u128,
        0..RAY / 100,
        0..RAY / 5,
        0..86_400i64,
    )
}

fn events(ops: &[Op]) -> Vec<LendingEvent> {
    let mut out = Vec::new();
    let mut index: BTreeMap<(usize, usize), (u128, u128)> = BTreeMap::new();
    let mut secs = 0;
    for (i, &(proto, kind, acct, asset, amount, bump, rate, dt)) in ops.iter().enumerate() {
        secs += dt;
        let block = i as i64 + 1;
        let (li, bi) = index.entry((proto, asset)).or_insert((RAY, RAY));
        *li += bump;
        *bi += bump * 2;
        let kind = KINDS[kind];
        if proto == 0 {
            let p = "aave_v3";
            out.push(aave_index(
                p,
                block,
                0,
                secs,
                ASSETS[asset],
                *li,
                *bi,
                rate,
                rate * 2,
            ));
            out.push(amt(
                ev(p, block, 1, secs, kind, ACCOUNTS[acct], ASSETS[asset]),
                amount,
            ));
        } else {
            // borrowIndex in 1e18, grown from the same bumps.
            out.push(accrue(block, 0, secs, ASSETS[asset], *bi / 1_000_000_000));
            let mut e = amt(
                ev(
                    "compound_v2",
                    block,
                    1,
                    secs,
                    kind,
                    ACCOUNTS[acct],
                    ASSETS[asset],
                ),
                amount,
            );
            if matches!(kind, LendingKind::Supply | LendingKind::Withdraw) {
                // cTokens at an exchange rate of 0.02 (amount / 50).
                e.shares_raw = Some(amount * 50);
            }
            out.push(e);
        }
    }
    out
}

proptest! {
    #[test]
    fn books_add_up_to_the_events(ops in proptest::collection::vec(op(), 1..60)) {
        let evs = events(&ops);
        let reserves: Vec<_> = ["aave_v3", "compound_v2"]
            .iter()
            .flat_map(|p| [reserve(p, "DAI", 18), reserve(p, "USDC", 6)])
            .collect();
        let r = reconstruct(&evs, &reserves, Snapshot::Block(i64::MAX)).unwrap();
        for row in &r.reconciliation.rows {
            // The difference is explained exactly, row by row.
            prop_assert_eq!(row.unexplained(), 0, "{:?}", row);
            // The book is the sum of the accounts' legs.
            let legs: u128 = r
                .legs
                .iter()
                .filter(|l| l.protocol == row.protocol && l.asset == row.asset && l.side == row.side)
                .map(|l| if row.unit == LedgerUnit::BaseUnits { l.amount_raw } else { l.scaled_raw.unwrap() })
                .sum();
            prop_assert_eq!(legs, row.books);
            // Without clamps the accounts hold exactly what the events imply
            // (Compound debt: plus the interest of the borrow index).
            if row.clamped == 0 {
                prop_assert_eq!(row.difference, row.interest as i128 + row.opening, "{:?}", row);
                prop_assert_eq!(row.opening, 0);
            }
            if row.unit != LedgerUnit::BaseUnits {
                prop_assert_eq!(row.interest, 0);
            }
        }
        let clamped: usize = r.reconciliation.rows.iter().filter(|r| r.clamped > 0).count();
        let listed = r.reconciliation.issues.iter().filter(|i| i.clamped > 0).count();
        prop_assert!(clamped <= listed);
    }
}
