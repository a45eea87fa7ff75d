//! A book of lending positions: what the replay engine liquidates.
//!
//! A position is one account in one market, with per-asset collateral and
//! debt amounts in token units ([`Wad`], 18 decimals whatever the token's own
//! decimals). The `positions` table decodes into [`PositionLeg`] rows and
//! [`Book::from_legs`] groups them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Wad;

/// Collateral or debt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegSide {
    Collateral,
    Debt,
}

/// One row of a `positions` snapshot: an amount of one asset on one side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionLeg {
    pub account: String,
    /// Protocol market, e.g. `aave-v3-ethereum`.
    pub market: String,
    pub asset: String,
    pub side: LegSide,
    /// Token units (not base units), 18-decimal fixed point.
    pub amount: Wad,
}

/// One row of the canonical `positions` table: a position leg at a
/// snapshot, as reconstructed from `lending_events` (`shortfall positions`)
/// or taken from a protocol's own snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PositionRow {
    /// The time the balances hold at.
    pub snapshot_ts: crate::Micros,
    /// The block the snapshot was taken at, when it was taken at a block.
    pub snapshot_block: Option<i64>,
    /// `aave_v2`, `aave_v3`, `compound_v2`.
    pub protocol: String,
    /// Pool or comptroller (untrusted text).
    pub market: String,
    pub account: String,
    pub asset: String,
    pub side: LegSide,
    /// Token units, 18-decimal fixed point.
    pub amount: Wad,
    /// Base units (the integer the token contract holds).
    pub amount_raw: u128,
    /// The protocol's own unit of the balance: Aave scaled balance (aToken
    /// or variable debt token), Compound cTokens; None where it has none.
    pub scaled_raw: Option<u128>,
}

impl LegSide {
    pub fn as_str(self) -> &'static str {
        match self {
            LegSide::Collateral => "collateral",
            LegSide::Debt => "debt",
        }
    }

    /// Parses `collateral` or `debt`.
    pub fn parse(s: &str) -> Option<LegSide> {
        match s {
            "collateral" => Some(LegSide::Collateral),
            "debt" => Some(LegSide::Debt),
            _ => None,
        }
    }
}

/// One account's position in one market.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Position {
    pub account: String,
    pub market: String,
    /// Collateral per asset (token units).
    pub collateral: BTreeMap<String, Wad>,
    /// Debt per asset (token units).
    pub debt: BTreeMap<String, Wad>,
}

/// How a book was obtained; recorded with the run.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BookOrigin {
    /// `snapshot` or `generated`.
    pub kind: String,
    /// Free text: the generator spec and seed, or the dataset name.
    pub detail: String,
}

/// A set of positions, ordered by (account, market).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Book {
    pub positions: Vec<Position>,
    pub origin: BookOrigin,
    /// The time the positions reflect (a `positions` snapshot's time), when
    /// known: recorded lending events after it and before the replay
    /// window are applied at the window's start, bringing the book forward.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<crate::Micros>,
}

impl Book {
    /// Groups legs by (account, market); amounts of repeated legs add up.
    /// Zero legs are dropped; output order is (account, market) ascending.
    pub fn from_legs(legs: &[PositionLeg]) -> Book {
        let mut by: BTreeMap<(String, String), Position> = BTreeMap::new();
        for l in legs {
            let p = by
                .entry((l.account.clone(), l.market.clone()))
                .or_insert_with(|| Position {
                    account: l.account.clone(),
                    market: l.market.clone(),
                    ..Default::default()
                });
            let side = match l.side {
                LegSide::Collateral => &mut p.collateral,
                LegSide::Debt => &mut p.debt,
            };
            *side.entry(l.asset.clone()).or_insert(Wad::ZERO) += l.amount;
        }
        let positions = by
            .into_values()
            .map(|mut p| {
                p.collateral.retain(|_, v| *v != Wad::ZERO);
                p.debt.retain(|_, v| *v != Wad::ZERO);
                p
            })
            .collect();
        Book {
            positions,
            origin: BookOrigin {
                kind: "snapshot".into(),
                detail: String::new(),
            },
            as_of: None,
        }
    }

    /// Back to legs, in (account, market, side, asset) order.
    pub fn to_legs(&self) -> Vec<PositionLeg> {
        let mut out = Vec::new();
        for p in &self.positions {
            for (side, m) in [
                (LegSide::Collateral, &p.collateral),
                (LegSide::Debt, &p.debt),
            ] {
                for (a, v) in m {
                    out.push(PositionLeg {
                        account: p.account.clone(),
                        market: p.market.clone(),
                        asset: a.clone(),
                        side,
                        amount: *v,
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_legs() {
        let leg = |a: &str, asset: &str, side, x: i64| PositionLeg {
            account: a.into(),
            market: "m".into(),
            asset: asset.into(),
            side,
            amount: Wad::from_int(x),
        };
        let b = Book::from_legs(&[
            leg("b", "ETH", LegSide::Collateral, 1),
            leg("a", "ETH", LegSide::Collateral, 2),
            leg("a", "ETH", LegSide::Collateral, 3),
            leg("a", "USDC", LegSide::Debt, 4),
        ]);
        assert_eq!(b.positions.len(), 2);
        assert_eq!(b.positions[0].account, "a");
        assert_eq!(b.positions[0].collateral["ETH"], Wad::from_int(5));
        assert_eq!(b.to_legs().len(), 3);
    }
}
