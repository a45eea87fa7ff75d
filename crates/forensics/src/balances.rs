//! Accounts left with debt and no collateral after their liquidations.
//!
//! Replays the balance events of each account in chain order in token units:
//! supply and withdraw move collateral, borrow and repay move debt, a
//! liquidation repays debt and seizes collateral. Interest is not accrued
//! (that needs the reserves' indexes), so debt is if anything understated.
//! Accounts whose first event in the dataset is a liquidation opened their
//! position before the data starts: their balances are unknown and they are
//! counted, not guessed.

use std::collections::BTreeMap;

use serde::Serialize;
use shortfall_core::{LendingEvent, LendingKind, Micros, Wad};

/// One account whose collateral is gone while debt remains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeftWithDebt {
    pub protocol: String,
    pub market: String,
    pub account: String,
    pub last_liquidation: Micros,
    /// Debt left per asset, token units.
    pub debt: Vec<(String, Wad)>,
    /// That debt at the last USD prices seen in the events, when known for every asset.
    pub debt_usd: Option<Wad>,
}

/// What the balance replay found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Balances {
    /// Whether the events include any supply, withdraw, borrow or repay.
    pub has_balance_events: bool,
    /// Accounts with at least one liquidation.
    pub accounts_liquidated: u64,
    /// Of those, accounts whose first event is a liquidation (position opened
    /// before the data starts, balances unknown).
    pub accounts_without_history: u64,
    pub left: Vec<LeftWithDebt>,
}

#[derive(Default)]
struct Account {
    collateral: BTreeMap<String, Wad>,
    debt: BTreeMap<String, Wad>,
    seen_before_liquidation: bool,
    last_liquidation: Option<Micros>,
}

fn add(m: &mut BTreeMap<String, Wad>, asset: &str, delta: i128) {
    let v = m.entry(asset.to_string()).or_insert(Wad(0));
    // A withdrawal or repayment larger than the tracked balance includes
    // interest this replay does not accrue: the balance is then zero.
    v.0 = (v.0.saturating_add(delta)).max(0);
}

/// Replays balance events (in the table's chain order) per account.
pub fn left_with_debt(events: &[LendingEvent]) -> Balances {
    let mut out = Balances::default();
    let mut accounts: BTreeMap<(&str, &str, &str), Account> = BTreeMap::new();
    let mut usd: BTreeMap<(&str, &str), Wad> = BTreeMap::new();
    for e in events {
        let a = accounts
            .entry((e.protocol.as_str(), e.market.as_str(), e.account.as_str()))
            .or_default();
        let amount = e.amount.unwrap_or(Wad(0)).0;
        if let Some(p) = e.asset_price_usd {
            usd.insert((e.market.as_str(), e.asset.as_str()), p);
        }
        match e.kind {
            LendingKind::Supply => add(&mut a.collateral, &e.asset, amount),
            LendingKind::Withdraw => add(&mut a.collateral, &e.asset, -amount),
            LendingKind::Borrow => add(&mut a.debt, &e.asset, amount),
            LendingKind::Repay => add(&mut a.debt, &e.asset, -amount),
            LendingKind::Liquidation => {
                if a.last_liquidation.is_none() && !a.seen_before_liquidation {
                    out.accounts_without_history += 1;
                }
                add(&mut a.debt, &e.asset, -amount);
                if let (Some(c), Some(s)) = (&e.collateral_asset, e.collateral_amount) {
                    add(&mut a.collateral, c, -s.0);
                }
                a.last_liquidation = Some(e.ts);
                continue;
            }
            _ => continue,
        }
        out.has_balance_events = true;
        if a.last_liquidation.is_none() {
            a.seen_before_liquidation = true;
        }
    }
    for ((protocol, market, account), a) in accounts {
        let Some(last) = a.last_liquidation else {
            continue;
        };
        out.accounts_liquidated += 1;
        if !a.seen_before_liquidation {
            continue;
        }
        let debt: Vec<(String, Wad)> = a
            .debt
            .into_iter()
            .filter(|(_, v)| v.is_positive())
            .collect();
        let no_collateral = a.collateral.values().all(|v| !v.is_positive());
        if debt.is_empty() || !no_collateral {
            continue;
        }
        let debt_usd = debt.iter().try_fold(Wad(0), |acc, (asset, v)| {
            let p = usd.get(&(market, asset.as_str()))?;
            acc.checked_add(v.checked_mul_down(*p)?)
        });
        out.left.push(LeftWithDebt {
            protocol: protocol.to_string(),
            market: market.to_string(),
            account: account.to_string(),
            last_liquidation: last,
            debt,
            debt_usd,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Wad {
        Wad::parse_decimal(s, false).unwrap()
    }

    fn ev(t: i64, kind: LendingKind, account: &str, asset: &str, amount: &str) -> LendingEvent {
        let mut e = LendingEvent::new(
            Micros::from_secs(t),
            "aave_v2",
            "pool",
            kind,
            account,
            asset,
        );
        e.amount = Some(w(amount));
        e
    }

    fn liq(t: i64, account: &str, repaid: &str, seized: &str) -> LendingEvent {
        let mut e = ev(t, LendingKind::Liquidation, account, "USDC", repaid);
        e.collateral_asset = Some("WETH".into());
        e.collateral_amount = Some(w(seized));
        e.asset_price_usd = Some(w("1"));
        e
    }

    #[test]
    fn finds_the_account_whose_collateral_ran_out() {
        let events = vec![
            ev(1, LendingKind::Supply, "bad", "WETH", "10"),
            ev(2, LendingKind::Borrow, "bad", "USDC", "15000"),
            ev(1, LendingKind::Supply, "ok", "WETH", "10"),
            ev(2, LendingKind::Borrow, "ok", "USDC", "10000"),
            liq(3, "bad", "7500", "6"),
            liq(4, "bad", "3000", "4"),
            liq(5, "ok", "5000", "3"),
            liq(6, "early", "100", "1"),
        ];
        let mut events = events;
        events.sort_by(|a, b| a.cmp_order(b));
        let b = left_with_debt(&events);
        assert!(b.has_balance_events);
        assert_eq!(b.accounts_liquidated, 3);
        assert_eq!(b.accounts_without_history, 1);
        assert_eq!(b.left.len(), 1);
        let l = &b.left[0];
        assert_eq!(l.account, "bad");
        assert_eq!(l.debt, vec![("USDC".to_string(), w("4500"))]);
        assert_eq!(l.debt_usd, Some(w("4500")));
        assert_eq!(l.last_liquidation, Micros::from_secs(4));
    }

    #[test]
    fn liquidations_alone_cannot_tell() {
        let b = left_with_debt(&[liq(3, "x", "1", "1")]);
        assert!(!b.has_balance_events);
        assert_eq!((b.accounts_liquidated, b.accounts_without_history), (1, 1));
        assert!(b.left.is_empty());
    }
}
