//! Position books rebuilt from `lending_events` with the protocols' own
//! accounting, in integers.
//!
//! [`reconstruct`] replays the events at or before a [`Snapshot`] in chain
//! order and returns the position legs per (protocol, market, account,
//! asset, side) with a [`Reconciliation`] of what the events imply against
//! what the book holds. No I/O: the CLI (`shortfall positions`) reads the
//! dataset and writes the `positions` table.
//!
//! - **Aave v2/v3** ([`aave`](crate::aave)): scaled aToken and variable debt balances,
//!   `amount.rayDiv(index)` at each event, `scaled.rayMul(index)` at the
//!   snapshot, the indexes grown with `calculateLinearInterest` /
//!   `calculateCompoundedInterest` between updates.
//! - **Compound v2** ([`compound`](crate::compound)): cToken balances valued at
//!   an exchange rate read off mints and redeems, borrow snapshots
//!   `principal * borrowIndex / interestIndex`.
//! - **Maker**: skipped. Vault balances need the Vat's `frob` notes; bites,
//!   barks and auction events alone do not give them.
//!
//! Approximations, because `lending_events` does not carry what is needed:
//! Aave stable-rate debt is not told apart (all debt is treated as
//! variable); an Aave liquidator's aTokens (`receiveAToken`) are not
//! credited; the Aave v3 liquidation protocol fee is not taken from the
//! borrower; Compound's exchange rate is `amount / cTokens` of the latest
//! mint or redeem, not `exchangeRateStored`; Compound's `protocolSeizeShare`
//! is not taken from the liquidator; Compound debt grows to the latest
//! `AccrueInterest`, not to the snapshot time; token transfers (aTokens,
//! cTokens) between accounts are not in the table. Every supplied balance is
//! a `collateral` leg, whether or not the account enabled it as collateral.
//!
//! Errors ([`BooksError`]) are for input the accounting cannot read (an
//! amount without decimals, an index update without indexes). Events that
//! read fine but cannot be applied as they stand (a withdrawal larger than
//! the known balance: the account existed before the data starts) are
//! listed in the reconciliation with their chain position, never ignored.

mod aave;
mod compound;
mod error;
mod position;
pub mod raymath;
mod recon;
mod units;

use std::collections::BTreeMap;

use serde::Serialize;
use shortfall_core::{LegSide, LendingEvent, Micros, PositionRow, Reserve, Wad};

pub use error::BooksError;
pub use recon::{Issue, LedgerUnit, Problem, ReconRow, Reconciliation, Skipped};

/// When the book is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Snapshot {
    /// Every event with `ts <= t`; balances at time `t`.
    Time(Micros),
    /// Every event with `block <= b` (all events need a block number);
    /// balances at the time of the latest of those events (the block's own
    /// time is not in the table when it has no event).
    Block(i64),
}

impl std::fmt::Display for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Snapshot::Time(t) => write!(f, "{t}"),
            Snapshot::Block(b) => write!(f, "block {b}"),
        }
    }
}

/// One position leg at the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Leg {
    pub protocol: String,
    pub market: String,
    pub account: String,
    pub asset: String,
    pub side: LegSide,
    /// Token units.
    pub amount: Wad,
    /// Base units.
    pub amount_raw: u128,
    /// Aave scaled balance, Compound cTokens; None for Compound debt.
    pub scaled_raw: Option<u128>,
}

/// A rebuilt book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reconstruction {
    pub snapshot: Snapshot,
    /// The time the balances hold at.
    pub snapshot_ts: Micros,
    pub snapshot_block: Option<i64>,
    /// Legs with a balance, ordered by (protocol, market, account, asset, side).
    pub legs: Vec<Leg>,
    pub reconciliation: Reconciliation,
}

impl Reconstruction {
    /// The legs as rows of the `positions` table.
    pub fn rows(&self) -> Vec<PositionRow> {
        self.legs
            .iter()
            .map(|l| PositionRow {
                snapshot_ts: self.snapshot_ts,
                snapshot_block: self.snapshot_block,
                protocol: l.protocol.clone(),
                market: l.market.clone(),
                account: l.account.clone(),
                asset: l.asset.clone(),
                side: l.side,
                amount: l.amount,
                amount_raw: l.amount_raw,
                scaled_raw: l.scaled_raw,
            })
            .collect()
    }
}

/// Rebuilds the book at `at` from `events` (any order; replayed in
/// [`LendingEvent::cmp_order`]). `reserves` gives token decimals; assets
/// without a reserves row get theirs from events with both `amount` and
/// `amount_raw`.
pub fn reconstruct(
    events: &[LendingEvent],
    reserves: &[Reserve],
    at: Snapshot,
) -> Result<Reconstruction, BooksError> {
    let mut used: Vec<&LendingEvent> = Vec::with_capacity(events.len());
    for e in events {
        let inside = match at {
            Snapshot::Time(t) => e.ts <= t,
            Snapshot::Block(b) => {
                let eb = e.block.ok_or_else(|| BooksError::NoBlock {
                    block: b,
                    at: position::at(e),
                })?;
                eb <= b
            }
        };
        if inside {
            used.push(e);
        }
    }
    let events_after = (events.len() - used.len()) as u64;
    used.sort_by(|a, b| a.cmp_order(b));
    let (snapshot_ts, snapshot_block) = match at {
        Snapshot::Time(t) => (t, None),
        Snapshot::Block(b) => match used.last() {
            Some(e) => (e.ts, Some(b)),
            None => {
                return Err(BooksError::NothingBefore {
                    snapshot: at.to_string(),
                })
            }
        },
    };

    let units = units::Units::new(events.iter(), reserves);
    let mut ledger = recon::Ledger::default();
    let mut aave = aave::Aave::default();
    let mut compound = compound::Compound::default();
    let mut skipped: BTreeMap<String, (u64, &str)> = BTreeMap::new();
    let mut events_used = 0;
    for e in &used {
        match e.protocol.as_str() {
            "aave_v2" | "aave_v3" => aave.apply(e, &units, &mut ledger)?,
            "compound_v2" => compound.apply(e, &units, &mut ledger)?,
            "maker" => {
                skipped
                    .entry(e.protocol.clone())
                    .or_insert((0, "vault balances are not derivable from bite, bark and auction events alone (they need the Vat's frob notes)"))
                    .0 += 1;
                continue;
            }
            _ => {
                skipped
                    .entry(e.protocol.clone())
                    .or_insert((0, "no accounting rules for this protocol"))
                    .0 += 1;
                continue;
            }
        }
        events_used += 1;
    }

    let mut legs = aave.finish(&mut ledger, &units, snapshot_ts.secs())?;
    legs.extend(compound.finish(&mut ledger, &units)?);
    legs.retain(|l| l.amount_raw > 0 || l.scaled_raw.is_some_and(|s| s > 0));
    legs.sort_by(|a, b| {
        (&a.protocol, &a.market, &a.account, &a.asset, a.side).cmp(&(
            &b.protocol,
            &b.market,
            &b.account,
            &b.asset,
            b.side,
        ))
    });

    let mut rows = Vec::with_capacity(ledger.totals.len());
    for ((protocol, market, asset, side), t) in ledger.totals {
        let net = recon::signed_diff(t.increases, t.decreases, "event totals")?;
        let books = i128::try_from(t.books).map_err(|_| BooksError::Overflow {
            what: format!("books of {protocol} {market} {asset}"),
        })?;
        rows.push(ReconRow {
            protocol,
            market,
            asset,
            side,
            unit: t.unit,
            accounts: t.accounts,
            increases: t.increases,
            decreases: t.decreases,
            books: t.books,
            difference: books - net,
            clamped: t.clamped,
            opening: t.opening,
            interest: t.interest,
            books_raw: t.books_raw,
            books_amount: t.books_amount,
            issues: t.issues,
        });
    }
    Ok(Reconstruction {
        snapshot: at,
        snapshot_ts,
        snapshot_block,
        legs,
        reconciliation: Reconciliation {
            rows,
            issues: ledger.issues,
            skipped: skipped
                .into_iter()
                .map(|(protocol, (events, reason))| Skipped {
                    protocol,
                    events,
                    reason: reason.to_string(),
                })
                .collect(),
            events_used,
            events_after,
        },
    })
}
