//! The ledger the protocols' events move, and its reconciliation.
//!
//! Every leg is tracked in its protocol's own unit (the *ledger unit*): Aave
//! scaled balances, Compound cTokens, Compound borrow balances in base units.
//! Per (protocol, market, asset, side) the reconciliation compares what the
//! events imply (increases minus decreases) with the sum of the accounts'
//! balances at the snapshot. The difference is explained, exactly in
//! integers, by:
//!
//! - `clamped`: decreases larger than the account's known balance (the
//!   account existed before the data starts); the balance stops at zero and
//!   the event is listed;
//! - `opening`: Compound borrow balances the events report themselves
//!   (`accountBorrows`) beyond what the tracked events imply (debt from
//!   before the data, or rounding);
//! - `interest`: Compound borrow interest (growth of `borrowIndex`). Aave
//!   interest does not appear here: scaled balances do not move with it.
//!
//! so `difference = clamped + opening + interest` always holds; a row where it
//! does not would be a bug, and the CLI prints the check.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};
use shortfall_core::{LegSide, LendingEvent, LendingKind, Micros, Wad};

use crate::error::BooksError;
use crate::position::at;

/// Unit of a reconciliation row's ledger figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerUnit {
    /// Aave scaled balance (base units divided by the index at each event).
    Scaled,
    /// Compound cTokens (8 decimals, base units).
    Ctokens,
    /// Token base units.
    BaseUnits,
}

impl LedgerUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            LedgerUnit::Scaled => "scaled",
            LedgerUnit::Ctokens => "ctokens",
            LedgerUnit::BaseUnits => "base_units",
        }
    }
}

/// Why an event was not applied, or not applied in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// A withdrawal, repayment or seizure larger than the known balance:
    /// applied up to the balance, the rest clamped.
    ExceedsBalance,
    /// A repayment or seizure of a balance the data never showed.
    UnknownBalance,
    /// No index update of the reserve at or before the event (Aave: not
    /// applied; Compound: applied without interest).
    NoIndex,
    /// A Compound mint, redeem or seizure without its cToken amount: not applied.
    MissingShares,
    /// A Compound seizure without a liquidator: the seized cTokens are
    /// taken from the borrower but credited to nobody.
    MissingLiquidator,
    /// An event kind the protocol's accounting has no rule for here.
    NotApplicable,
    /// cTokens of an asset with no mint or redeem to take an exchange rate
    /// from: left out of the book.
    NoExchangeRate,
}

impl Problem {
    pub fn as_str(self) -> &'static str {
        match self {
            Problem::ExceedsBalance => "exceeds_balance",
            Problem::UnknownBalance => "unknown_balance",
            Problem::NoIndex => "no_index",
            Problem::MissingShares => "missing_shares",
            Problem::MissingLiquidator => "missing_liquidator",
            Problem::NotApplicable => "not_applicable",
            Problem::NoExchangeRate => "no_exchange_rate",
        }
    }
}

/// One event (or, for `no_exchange_rate`, one leg) the reconstruction could
/// not apply as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// Chain position: `block B [tx T] log L`, or the event's `source_ref`.
    pub at: String,
    pub ts: Micros,
    pub protocol: String,
    pub market: String,
    pub account: String,
    pub asset: String,
    pub kind: LendingKind,
    pub side: Option<LegSide>,
    pub problem: Problem,
    /// The part of the decrease not applied, in the row's ledger unit.
    #[serde(serialize_with = "as_text")]
    pub clamped: u128,
    pub detail: String,
}

/// One row of the reconciliation; ledger figures in `unit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReconRow {
    pub protocol: String,
    pub market: String,
    pub asset: String,
    pub side: LegSide,
    pub unit: LedgerUnit,
    /// Accounts with a balance at the snapshot.
    pub accounts: u64,
    #[serde(serialize_with = "as_text")]
    pub increases: u128,
    #[serde(serialize_with = "as_text")]
    pub decreases: u128,
    /// Sum of the accounts' balances at the snapshot.
    #[serde(serialize_with = "as_text")]
    pub books: u128,
    /// `books - (increases - decreases)`.
    #[serde(serialize_with = "as_text")]
    pub difference: i128,
    #[serde(serialize_with = "as_text")]
    pub clamped: u128,
    #[serde(serialize_with = "as_text")]
    pub opening: i128,
    #[serde(serialize_with = "as_text")]
    pub interest: u128,
    /// The books in base units and token units at the snapshot (with Aave
    /// interest; Compound cTokens at the exchange rate).
    #[serde(serialize_with = "as_text")]
    pub books_raw: u128,
    pub books_amount: Wad,
    /// Listed events of this row.
    pub issues: u64,
}

impl ReconRow {
    /// `difference - clamped - opening - interest`: zero unless there is a bug.
    pub fn unexplained(&self) -> i128 {
        self.difference - self.clamped as i128 - self.opening - self.interest as i128
    }
}

/// A protocol whose events were not used, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub protocol: String,
    pub events: u64,
    pub reason: String,
}

/// What the events imply against what the book holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Reconciliation {
    pub rows: Vec<ReconRow>,
    /// In chain order, then the legs left out.
    pub issues: Vec<Issue>,
    pub skipped: Vec<Skipped>,
    /// Events at or before the snapshot that went into the book.
    pub events_used: u64,
    /// Events after the snapshot (not used).
    pub events_after: u64,
}

fn as_text<T: std::fmt::Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// (protocol, market, account, asset, side).
pub(crate) type LegKey = (String, String, String, String, LegSide);
/// (protocol, market, asset, side).
pub(crate) type RowKey = (String, String, String, LegSide);

#[derive(Debug)]
pub(crate) struct Totals {
    pub unit: LedgerUnit,
    pub increases: u128,
    pub decreases: u128,
    pub clamped: u128,
    pub opening: i128,
    pub interest: u128,
    pub books: u128,
    pub books_raw: u128,
    pub books_amount: Wad,
    pub accounts: u64,
    pub issues: u64,
}

/// Balances in ledger units, the reconciliation totals and the issues.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    pub balances: BTreeMap<LegKey, u128>,
    pub totals: BTreeMap<RowKey, Totals>,
    pub issues: Vec<Issue>,
}

pub(crate) fn overflow(what: &str, e: &LendingEvent) -> BooksError {
    BooksError::Overflow {
        what: format!("{what} at {}", at(e)),
    }
}

pub(crate) fn add(a: u128, b: u128, what: &str) -> Result<u128, BooksError> {
    a.checked_add(b).ok_or_else(|| BooksError::Overflow {
        what: what.to_string(),
    })
}

/// `a - b` as a signed number.
pub(crate) fn signed_diff(a: u128, b: u128, what: &str) -> Result<i128, BooksError> {
    let (x, y) = (i128::try_from(a), i128::try_from(b));
    match (x, y) {
        (Ok(x), Ok(y)) => Ok(x - y),
        _ => Err(BooksError::Overflow {
            what: what.to_string(),
        }),
    }
}

impl Ledger {
    pub fn totals(&mut self, row: RowKey) -> &mut Totals {
        let unit = unit_of(&row.0, row.3);
        self.totals.entry(row).or_insert(Totals {
            unit,
            increases: 0,
            decreases: 0,
            clamped: 0,
            opening: 0,
            interest: 0,
            books: 0,
            books_raw: 0,
            books_amount: Wad::ZERO,
            accounts: 0,
            issues: 0,
        })
    }

    /// Adds one account's balance at the snapshot to its row's books.
    pub fn book(
        &mut self,
        row: RowKey,
        ledger_units: u128,
        raw: u128,
        amount: Wad,
    ) -> Result<(), BooksError> {
        let what = format!("books of {} {} {}", row.0, row.1, row.2);
        let t = self.totals(row);
        t.books = add(t.books, ledger_units, &what)?;
        t.books_raw = add(t.books_raw, raw, &what)?;
        t.books_amount = t
            .books_amount
            .checked_add(amount)
            .ok_or_else(|| BooksError::Overflow { what: what.clone() })?;
        if ledger_units > 0 || raw > 0 {
            t.accounts += 1;
        }
        Ok(())
    }

    /// Adds `q` ledger units to an account's leg.
    pub fn credit(
        &mut self,
        e: &LendingEvent,
        account: &str,
        asset: &str,
        side: LegSide,
        q: u128,
    ) -> Result<(), BooksError> {
        let key = leg_key(e, account, asset, side);
        let b = self.balances.entry(key).or_insert(0);
        *b = b.checked_add(q).ok_or_else(|| overflow("balance", e))?;
        let t = self.totals(row_key(e, asset, side));
        t.increases = t
            .increases
            .checked_add(q)
            .ok_or_else(|| overflow("increases", e))?;
        Ok(())
    }

    /// Takes `q` ledger units from an account's leg; beyond its balance the
    /// rest is clamped and the event listed.
    pub fn debit(
        &mut self,
        e: &LendingEvent,
        account: &str,
        asset: &str,
        side: LegSide,
        q: u128,
    ) -> Result<(), BooksError> {
        let key = leg_key(e, account, asset, side);
        let known = self.balances.get(&key).copied();
        let have = known.unwrap_or(0);
        let clamp = q.saturating_sub(have);
        self.balances.insert(key, have - (q - clamp));
        let t = self.totals(row_key(e, asset, side));
        let unit = t.unit;
        t.decreases = t
            .decreases
            .checked_add(q)
            .ok_or_else(|| overflow("decreases", e))?;
        t.clamped = t
            .clamped
            .checked_add(clamp)
            .ok_or_else(|| overflow("clamped", e))?;
        if clamp > 0 {
            let (problem, detail) = match known {
                None => (
                    Problem::UnknownBalance,
                    format!(
                        "{} of {q} {} with no known {} balance: the position predates the data; clamped {clamp}",
                        e.kind, unit.as_str(), side.as_str()
                    ),
                ),
                Some(h) => (
                    Problem::ExceedsBalance,
                    format!(
                        "{} of {q} {} exceeds the known {} balance {h}: clamped {clamp}",
                        e.kind, unit.as_str(), side.as_str()
                    ),
                ),
            };
            self.issue(e, account, asset, Some(side), problem, clamp, detail);
        }
        Ok(())
    }

    /// Lists an event (counted on its row, which it opens if need be).
    #[allow(clippy::too_many_arguments)]
    pub fn issue(
        &mut self,
        e: &LendingEvent,
        account: &str,
        asset: &str,
        side: Option<LegSide>,
        problem: Problem,
        clamped: u128,
        detail: String,
    ) {
        if let Some(s) = side {
            self.totals(row_key(e, asset, s)).issues += 1;
        }
        self.issues.push(Issue {
            at: at(e),
            ts: e.ts,
            protocol: e.protocol.clone(),
            market: e.market.clone(),
            account: account.to_string(),
            asset: asset.to_string(),
            kind: e.kind,
            side,
            problem,
            clamped,
            detail,
        });
    }
}

/// The ledger unit of a protocol's side.
pub(crate) fn unit_of(protocol: &str, side: LegSide) -> LedgerUnit {
    match (protocol, side) {
        ("compound_v2", LegSide::Collateral) => LedgerUnit::Ctokens,
        ("compound_v2", LegSide::Debt) => LedgerUnit::BaseUnits,
        _ => LedgerUnit::Scaled,
    }
}

pub(crate) fn leg_key(e: &LendingEvent, account: &str, asset: &str, side: LegSide) -> LegKey {
    (
        e.protocol.clone(),
        e.market.clone(),
        account.to_string(),
        asset.to_string(),
        side,
    )
}

pub(crate) fn row_key(e: &LendingEvent, asset: &str, side: LegSide) -> RowKey {
    (
        e.protocol.clone(),
        e.market.clone(),
        asset.to_string(),
        side,
    )
}
