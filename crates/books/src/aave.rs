//! Aave v2 and v3: scaled balances and reserve indexes.
//!
//! An aToken holds `scaledBalance`, minted as `amount.rayDiv(liquidityIndex)`
//! on supply and burned the same way on withdraw and when collateral is
//! seized (`AToken.mint`/`burn`); `balanceOf = scaledBalance.rayMul(
//! getReserveNormalizedIncome())`. A variable debt token holds the scaled
//! debt, `amount.rayDiv(variableBorrowIndex)` minted on borrow and burned on
//! repay, on the debt repaid by a liquidation and on a v3.3 deficit;
//! `balanceOf = scaledBalance.rayMul(getNormalizedDebt())`.
//!
//! The index at an event is the reserve's latest `ReserveDataUpdated` at or
//! before it in chain order (the pool emits it before `Supply`/`Borrow` in the
//! same transaction), grown to the event's time with the rates of that update
//! (`calculateLinearInterest` for the liquidity index,
//! `calculateCompoundedInterest` for the variable borrow index) if the event is
//! later. Balances at the snapshot use the indexes grown to the snapshot time.
//!
//! Not in `lending_events`, so approximated (see the crate docs): stable-rate
//! debt (all debt is treated as variable), a liquidator's aTokens when it
//! chose `receiveAToken` (not credited), the v3 liquidation protocol fee
//! (burned from the borrower on top of the collateral the event reports),
//! `repayWithATokens` (the aTokens it burns).

use std::collections::BTreeMap;

use shortfall_core::{LegSide, LendingEvent, LendingKind};

use crate::error::BooksError;
use crate::raymath::{compounded_interest, linear_interest, ray_div, ray_mul, AaveVersion};
use crate::recon::{overflow, Ledger, Problem};
use crate::units::{to_wad, Units};
use crate::Leg;

/// A reserve's last `ReserveDataUpdated`.
#[derive(Debug, Clone, Copy)]
struct ReserveIndex {
    liquidity_index: u128,
    borrow_index: u128,
    liquidity_rate: u128,
    borrow_rate: u128,
    /// Block time of the update, seconds.
    updated: i64,
}

impl ReserveIndex {
    /// `getReserveNormalizedIncome` (collateral) or `getNormalizedDebt`
    /// (debt) at time `secs`.
    fn at(&self, version: AaveVersion, side: LegSide, secs: i64) -> Option<u128> {
        let dt = u64::try_from(secs.saturating_sub(self.updated)).unwrap_or(0);
        if dt == 0 {
            return Some(match side {
                LegSide::Collateral => self.liquidity_index,
                LegSide::Debt => self.borrow_index,
            });
        }
        match side {
            LegSide::Collateral => ray_mul(
                linear_interest(self.liquidity_rate, dt)?,
                self.liquidity_index,
            ),
            LegSide::Debt => ray_mul(
                compounded_interest(version, self.borrow_rate, dt)?,
                self.borrow_index,
            ),
        }
    }
}

fn version(protocol: &str) -> AaveVersion {
    if protocol == "aave_v2" {
        AaveVersion::V2
    } else {
        AaveVersion::V3
    }
}

/// The reserves' indexes as the events go by.
#[derive(Debug, Default)]
pub(crate) struct Aave {
    reserves: BTreeMap<(String, String, String), ReserveIndex>,
}

impl Aave {
    fn index(&self, e: &LendingEvent, asset: &str, side: LegSide, secs: i64) -> Option<u128> {
        self.reserves
            .get(&(e.protocol.clone(), e.market.clone(), asset.to_string()))?
            .at(version(&e.protocol), side, secs)
    }

    /// `amount` (base units) of `asset` as a scaled balance at the event, or
    /// the event listed when the reserve has no index yet.
    fn scaled(
        &self,
        e: &LendingEvent,
        ledger: &mut Ledger,
        asset: &str,
        side: LegSide,
        raw: u128,
    ) -> Result<Option<u128>, BooksError> {
        let Some(idx) = self.index(e, asset, side, e.ts.secs()) else {
            let name = match side {
                LegSide::Collateral => "liquidity index",
                LegSide::Debt => "variable borrow index",
            };
            ledger.issue(
                e,
                &e.account,
                asset,
                Some(side),
                Problem::NoIndex,
                0,
                format!(
                    "{} of {raw} base units not applied: no ReserveDataUpdated of {asset} at or \
                     before it, so the {name} is unknown",
                    e.kind
                ),
            );
            return Ok(None);
        };
        // amount.rayDiv(index), as AToken.mint/burn and
        // VariableDebtToken.mint/burn compute the scaled amount.
        ray_div(raw, idx)
            .map(Some)
            .ok_or_else(|| overflow("rayDiv", e))
    }

    pub fn apply(
        &mut self,
        e: &LendingEvent,
        units: &Units,
        ledger: &mut Ledger,
    ) -> Result<(), BooksError> {
        let amount = |u: &Units| u.raw_amount(e, &e.asset, e.amount, e.amount_raw, "amount");
        let (side, credit) = match e.kind {
            LendingKind::IndexUpdate => return self.update(e),
            LendingKind::Supply => (LegSide::Collateral, true),
            LendingKind::Withdraw => (LegSide::Collateral, false),
            LendingKind::Borrow => (LegSide::Debt, true),
            LendingKind::Repay | LendingKind::Deficit => (LegSide::Debt, false),
            LendingKind::Liquidation => return self.liquidation(e, units, ledger),
            LendingKind::AuctionStart | LendingKind::AuctionBid | LendingKind::AuctionEnd => {
                ledger.issue(
                    e,
                    &e.account,
                    &e.asset,
                    None,
                    Problem::NotApplicable,
                    0,
                    format!("{} is not an Aave event: ignored", e.kind),
                );
                return Ok(());
            }
        };
        let raw = amount(units)?;
        let Some(q) = self.scaled(e, ledger, &e.asset, side, raw)? else {
            return Ok(());
        };
        if credit {
            ledger.credit(e, &e.account, &e.asset, side, q)
        } else {
            ledger.debit(e, &e.account, &e.asset, side, q)
        }
    }

    /// `LiquidationCall`: the debt repaid burns scaled debt of the debt
    /// reserve; the collateral seized burns the borrower's scaled aTokens of
    /// the collateral reserve.
    fn liquidation(
        &mut self,
        e: &LendingEvent,
        units: &Units,
        ledger: &mut Ledger,
    ) -> Result<(), BooksError> {
        let debt = units.raw_amount(e, &e.asset, e.amount, e.amount_raw, "amount")?;
        if let Some(q) = self.scaled(e, ledger, &e.asset, LegSide::Debt, debt)? {
            ledger.debit(e, &e.account, &e.asset, LegSide::Debt, q)?;
        }
        let Some(ca) = e.collateral_asset.as_deref() else {
            return Err(BooksError::BadEvent {
                at: crate::position::at(e),
                what: "liquidation without collateral_asset".into(),
            });
        };
        let seized = units.raw_amount(
            e,
            ca,
            e.collateral_amount,
            e.collateral_amount_raw,
            "collateral_amount",
        )?;
        if let Some(q) = self.scaled(e, ledger, ca, LegSide::Collateral, seized)? {
            ledger.debit(e, &e.account, ca, LegSide::Collateral, q)?;
        }
        Ok(())
    }

    /// `ReserveDataUpdated(reserve, liquidityRate, stableBorrowRate,
    /// variableBorrowRate, liquidityIndex, variableBorrowIndex)`.
    fn update(&mut self, e: &LendingEvent) -> Result<(), BooksError> {
        let (Some(li), Some(bi)) = (e.liquidity_index_raw, e.borrow_index_raw) else {
            return Err(BooksError::BadEvent {
                at: crate::position::at(e),
                what: "Aave index update without liquidity_index_raw and borrow_index_raw".into(),
            });
        };
        if li == 0 || bi == 0 {
            return Err(BooksError::BadEvent {
                at: crate::position::at(e),
                what: "Aave index update with a zero index".into(),
            });
        }
        self.reserves.insert(
            (e.protocol.clone(), e.market.clone(), e.asset.clone()),
            ReserveIndex {
                liquidity_index: li,
                borrow_index: bi,
                // No rate: the index is held flat until the next update.
                liquidity_rate: e.liquidity_rate_raw.unwrap_or(0),
                borrow_rate: e.borrow_rate_raw.unwrap_or(0),
                updated: e.ts.secs(),
            },
        );
        Ok(())
    }

    /// The Aave legs at the snapshot: `scaled.rayMul(index at snapshot)`.
    pub fn finish(
        &self,
        ledger: &mut Ledger,
        units: &Units,
        snapshot_secs: i64,
    ) -> Result<Vec<Leg>, BooksError> {
        let mut legs = Vec::new();
        let balances: Vec<_> = ledger
            .balances
            .iter()
            .filter(|(k, _)| k.0.starts_with("aave_"))
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        for ((protocol, market, account, asset, side), scaled) in balances {
            let idx = self
                .reserves
                .get(&(protocol.clone(), market.clone(), asset.clone()))
                .and_then(|r| r.at(version(&protocol), side, snapshot_secs))
                .ok_or_else(|| BooksError::Overflow {
                    what: format!("index of {protocol} {market} {asset} at the snapshot"),
                })?;
            let raw = ray_mul(scaled, idx).ok_or_else(|| BooksError::Overflow {
                what: format!("balance of {account} in {protocol} {market} {asset}"),
            })?;
            let d = units.decimals(&protocol, &market, &asset)?;
            let amount = to_wad(raw, d).ok_or_else(|| BooksError::Overflow {
                what: format!("token units of {account} in {protocol} {market} {asset}"),
            })?;
            ledger.book(
                (protocol.clone(), market.clone(), asset.clone(), side),
                scaled,
                raw,
                amount,
            )?;
            legs.push(Leg {
                protocol,
                market,
                account,
                asset,
                side,
                amount,
                amount_raw: raw,
                scaled_raw: Some(scaled),
            });
        }
        Ok(legs)
    }
}
