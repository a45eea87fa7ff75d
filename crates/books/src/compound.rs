//! Compound v2: cToken balances and borrow snapshots.
//!
//! Collateral is the account's cToken balance: `Mint` adds `mintTokens`,
//! `Redeem` removes `redeemTokens`, `LiquidateBorrow` moves `seizeTokens` of
//! the collateral market from the borrower to the liquidator
//! (`CToken.seizeInternal`). Its underlying value is `cTokens x exchange
//! rate`, the rate taken as `amount / shares` of the asset's latest `Mint` or
//! `Redeem` at or before the snapshot: the events do not carry
//! `exchangeRateStored`, and `mintTokens = mintAmount / exchangeRate`
//! truncates, so the rate read back is at most one cToken's worth high.
//!
//! Debt follows `CToken.borrowBalanceStored`: an account's borrow snapshot is
//! `(principal, interestIndex)` and its balance `principal * borrowIndex /
//! interestIndex` (truncating). `Borrow` and `RepayBorrow` report the new
//! `accountBorrows`, which becomes the principal at the market's
//! `borrowIndex` of that moment (the latest `AccrueInterest` at or before the
//! event); a liquidation's `repayAmount` is taken from the grown balance as
//! `repayBorrowFresh` does. At the snapshot the balance grows to the latest
//! `AccrueInterest` at or before it (no extrapolation: the event carries no
//! rate).
//!
//! Not modelled: `protocolSeizeShare` (since 2021 part of the seized cTokens
//! goes to reserves, not the liquidator: the liquidator is credited all of
//! `seizeTokens`), and cToken transfers between accounts (no event in the
//! table).

use std::collections::BTreeMap;

use shortfall_core::money::mul_div_down;
use shortfall_core::{LegSide, LendingEvent, LendingKind};

use crate::error::BooksError;
use crate::recon::{add, overflow, signed_diff, Ledger, Problem};
use crate::units::{to_wad, Units};
use crate::Leg;

type AssetKey = (String, String, String);

/// One account's borrow snapshot.
#[derive(Debug, Clone, Copy)]
struct BorrowSnapshot {
    principal: u128,
    /// The market's borrowIndex when the principal was set; None when no
    /// `AccrueInterest` had been seen (the balance is then not grown).
    interest_index: Option<u128>,
}

#[derive(Debug, Default)]
pub(crate) struct Compound {
    borrow_index: BTreeMap<AssetKey, u128>,
    /// Latest (underlying, cTokens) pair of a mint or redeem.
    exchange: BTreeMap<AssetKey, (u128, u128)>,
    borrows: BTreeMap<(String, String, String, String), BorrowSnapshot>,
}

/// `principal * borrowIndex / interestIndex`, truncating.
fn grow(s: BorrowSnapshot, now: Option<u128>) -> Option<u128> {
    match (s.interest_index, now) {
        (Some(then), Some(now)) => {
            let v = mul_div_down(
                i128::try_from(s.principal).ok()?,
                i128::try_from(now).ok()?,
                i128::try_from(then).ok()?,
            )?;
            u128::try_from(v).ok()
        }
        _ => Some(s.principal),
    }
}

fn asset_key(e: &LendingEvent, asset: &str) -> AssetKey {
    (e.protocol.clone(), e.market.clone(), asset.to_string())
}

impl Compound {
    pub fn apply(
        &mut self,
        e: &LendingEvent,
        units: &Units,
        ledger: &mut Ledger,
    ) -> Result<(), BooksError> {
        let amount = |u: &Units| u.raw_amount(e, &e.asset, e.amount, e.amount_raw, "amount");
        match e.kind {
            LendingKind::IndexUpdate => {
                let Some(bi) = e.borrow_index_raw.filter(|b| *b > 0) else {
                    return Err(BooksError::BadEvent {
                        at: crate::position::at(e),
                        what: "Compound AccrueInterest without a borrow_index_raw".into(),
                    });
                };
                self.borrow_index.insert(asset_key(e, &e.asset), bi);
                Ok(())
            }
            LendingKind::Supply | LendingKind::Withdraw => {
                let raw = amount(units)?;
                let Some(shares) = e.shares_raw else {
                    ledger.issue(
                        e,
                        &e.account,
                        &e.asset,
                        Some(LegSide::Collateral),
                        Problem::MissingShares,
                        0,
                        format!(
                            "{} of {raw} base units without its cToken amount: not applied",
                            e.kind
                        ),
                    );
                    return Ok(());
                };
                if shares > 0 {
                    self.exchange.insert(asset_key(e, &e.asset), (raw, shares));
                }
                if e.kind == LendingKind::Supply {
                    ledger.credit(e, &e.account, &e.asset, LegSide::Collateral, shares)
                } else {
                    ledger.debit(e, &e.account, &e.asset, LegSide::Collateral, shares)
                }
            }
            LendingKind::Borrow | LendingKind::Repay => {
                let raw = amount(units)?;
                self.move_debt(
                    e,
                    ledger,
                    raw,
                    e.kind == LendingKind::Borrow,
                    e.account_balance_raw,
                )
            }
            LendingKind::Liquidation => {
                let raw = amount(units)?;
                self.move_debt(e, ledger, raw, false, None)?;
                self.seize(e, ledger)
            }
            LendingKind::Deficit
            | LendingKind::AuctionStart
            | LendingKind::AuctionBid
            | LendingKind::AuctionEnd => {
                ledger.issue(
                    e,
                    &e.account,
                    &e.asset,
                    None,
                    Problem::NotApplicable,
                    0,
                    format!("{} is not a Compound v2 event: ignored", e.kind),
                );
                Ok(())
            }
        }
    }

    /// A borrow (`increase`) or a repayment: the snapshot grows to the
    /// current borrowIndex, moves by `raw`, and is replaced by the balance
    /// the event reports when it reports one.
    fn move_debt(
        &mut self,
        e: &LendingEvent,
        ledger: &mut Ledger,
        raw: u128,
        increase: bool,
        reported: Option<u128>,
    ) -> Result<(), BooksError> {
        let key = (
            e.protocol.clone(),
            e.market.clone(),
            e.account.clone(),
            e.asset.clone(),
        );
        let now = self.borrow_index.get(&asset_key(e, &e.asset)).copied();
        let known = self.borrows.get(&key).copied();
        let snap = known.unwrap_or(BorrowSnapshot {
            principal: 0,
            interest_index: now,
        });
        let before = grow(snap, now).ok_or_else(|| overflow("borrowBalanceStored", e))?;
        let interest = before - snap.principal.min(before);
        let (implied, clamp) = if increase {
            let v = before
                .checked_add(raw)
                .ok_or_else(|| overflow("borrow balance", e))?;
            (v, 0)
        } else {
            (before.saturating_sub(raw), raw.saturating_sub(before))
        };
        let after = reported.unwrap_or(implied);
        let opening = signed_diff(after, implied, "opening borrow balance")?;
        let t = ledger.totals(crate::recon::row_key(e, &e.asset, LegSide::Debt));
        t.interest = t
            .interest
            .checked_add(interest)
            .ok_or_else(|| overflow("interest", e))?;
        if increase {
            t.increases = t
                .increases
                .checked_add(raw)
                .ok_or_else(|| overflow("increases", e))?;
        } else {
            t.decreases = t
                .decreases
                .checked_add(raw)
                .ok_or_else(|| overflow("decreases", e))?;
        }
        t.clamped = t
            .clamped
            .checked_add(clamp)
            .ok_or_else(|| overflow("clamped", e))?;
        t.opening += opening;
        self.borrows.insert(
            key,
            BorrowSnapshot {
                principal: after,
                interest_index: now,
            },
        );
        if clamp > 0 {
            let (problem, detail) = match known {
                None => (
                    Problem::UnknownBalance,
                    format!(
                        "{} of {raw} base units with no known borrow balance: the loan predates \
                         the data; clamped {clamp}",
                        e.kind
                    ),
                ),
                Some(_) => (
                    Problem::ExceedsBalance,
                    format!(
                        "{} of {raw} base units exceeds the borrow balance {before}: clamped {clamp}",
                        e.kind
                    ),
                ),
            };
            ledger.issue(
                e,
                &e.account,
                &e.asset,
                Some(LegSide::Debt),
                problem,
                clamp,
                detail,
            );
        }
        if now.is_none() {
            ledger.issue(
                e,
                &e.account,
                &e.asset,
                Some(LegSide::Debt),
                Problem::NoIndex,
                0,
                format!(
                    "no AccrueInterest of {} at or before it: the borrow balance is not grown \
                     until one is seen",
                    e.asset
                ),
            );
        }
        Ok(())
    }

    /// `seizeTokens` of the collateral market move from the borrower to the
    /// liquidator.
    fn seize(&mut self, e: &LendingEvent, ledger: &mut Ledger) -> Result<(), BooksError> {
        let Some(ca) = e.collateral_asset.as_deref() else {
            return Err(BooksError::BadEvent {
                at: crate::position::at(e),
                what: "liquidation without collateral_asset".into(),
            });
        };
        let Some(seized) = e.shares_raw else {
            ledger.issue(
                e,
                &e.account,
                ca,
                Some(LegSide::Collateral),
                Problem::MissingShares,
                0,
                "liquidation without seizeTokens (shares_raw): collateral not moved".into(),
            );
            return Ok(());
        };
        ledger.debit(e, &e.account, ca, LegSide::Collateral, seized)?;
        match e.liquidator.as_deref() {
            Some(l) => ledger.credit(e, l, ca, LegSide::Collateral, seized),
            None => {
                ledger.issue(
                    e,
                    &e.account,
                    ca,
                    Some(LegSide::Collateral),
                    Problem::MissingLiquidator,
                    0,
                    format!("{seized} cTokens seized and credited to nobody: no liquidator"),
                );
                Ok(())
            }
        }
    }

    /// The Compound legs at the snapshot.
    pub fn finish(&self, ledger: &mut Ledger, units: &Units) -> Result<Vec<Leg>, BooksError> {
        let mut legs = Vec::new();
        // Debt: the snapshots grown to the latest borrowIndex.
        for ((protocol, market, account, asset), snap) in &self.borrows {
            let now = self
                .borrow_index
                .get(&(protocol.clone(), market.clone(), asset.clone()))
                .copied();
            let raw = grow(*snap, now).ok_or_else(|| BooksError::Overflow {
                what: format!("borrow balance of {account} in {protocol} {market} {asset}"),
            })?;
            let d = units.decimals(protocol, market, asset)?;
            let amount = to_wad(raw, d).ok_or_else(|| BooksError::Overflow {
                what: format!("token units of {account} in {protocol} {market} {asset}"),
            })?;
            let row = (
                protocol.clone(),
                market.clone(),
                asset.clone(),
                LegSide::Debt,
            );
            let t = ledger.totals(row.clone());
            t.interest = add(t.interest, raw - snap.principal.min(raw), "interest")?;
            ledger.book(row, raw, raw, amount)?;
            legs.push(Leg {
                protocol: protocol.clone(),
                market: market.clone(),
                account: account.clone(),
                asset: asset.clone(),
                side: LegSide::Debt,
                amount,
                amount_raw: raw,
                scaled_raw: None,
            });
        }
        // Collateral: cTokens at the latest exchange rate.
        let balances: Vec<_> = ledger
            .balances
            .iter()
            .filter(|(k, _)| k.0 == "compound_v2")
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        for ((protocol, market, account, asset, side), ctokens) in balances {
            let Some(&(under, shares)) =
                self.exchange
                    .get(&(protocol.clone(), market.clone(), asset.clone()))
            else {
                if ctokens > 0 {
                    ledger.issues.push(crate::recon::Issue {
                        at: "snapshot".into(),
                        ts: shortfall_core::Micros(0),
                        protocol: protocol.clone(),
                        market: market.clone(),
                        account: account.clone(),
                        asset: asset.clone(),
                        kind: LendingKind::Supply,
                        side: Some(side),
                        problem: Problem::NoExchangeRate,
                        clamped: 0,
                        detail: format!(
                            "{ctokens} cTokens of {asset} not valued: no Mint or Redeem of {asset} \
                             at or before the snapshot gives an exchange rate; left out of the book"
                        ),
                    });
                    let row = (protocol.clone(), market.clone(), asset.clone(), side);
                    ledger.totals(row.clone()).issues += 1;
                    ledger.book(row, ctokens, 0, shortfall_core::Wad::ZERO)?;
                }
                continue;
            };
            // balanceOfUnderlying = exchangeRate * balance / 1e18, truncating.
            let raw = mul_div_down(
                i128::try_from(ctokens).unwrap_or(i128::MAX),
                i128::try_from(under).unwrap_or(i128::MAX),
                i128::try_from(shares).unwrap_or(i128::MAX),
            )
            .and_then(|v| u128::try_from(v).ok())
            .ok_or_else(|| BooksError::Overflow {
                what: format!("underlying of {account} in {protocol} {market} {asset}"),
            })?;
            let d = units.decimals(&protocol, &market, &asset)?;
            let amount = to_wad(raw, d).ok_or_else(|| BooksError::Overflow {
                what: format!("token units of {account} in {protocol} {market} {asset}"),
            })?;
            ledger.book(
                (protocol.clone(), market.clone(), asset.clone(), side),
                ctokens,
                raw,
                amount,
            )?;
            legs.push(Leg {
                amount,
                protocol,
                market,
                account,
                asset,
                side,
                amount_raw: raw,
                scaled_raw: Some(ctokens),
            });
        }
        Ok(legs)
    }
}
