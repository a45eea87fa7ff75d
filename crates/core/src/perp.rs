//! Perpetual swap positions: one row of the `perp_positions` table.
//!
//! A position is one account's exposure to one instrument of one venue:
//! `size` base units (always positive; `side` gives the direction) opened at
//! `entry_price` (quote per base, USD for USDT/USDC-margined contracts),
//! with the collateral posted for it. In `isolated` mode the collateral
//! backs this position only; in `cross` mode the rows of one account and
//! venue share one margin account, whose collateral is the sum of the rows'
//! (a snapshot may put the whole collateral on one row and leave the
//! others' maps empty).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Wad;

/// Long (profits when the price rises) or short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PerpSide {
    Long,
    Short,
}

impl PerpSide {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            PerpSide::Long => "long",
            PerpSide::Short => "short",
        }
    }

    /// Inverse of [`PerpSide::as_str`].
    pub fn parse(s: &str) -> Option<PerpSide> {
        match s {
            "long" => Some(PerpSide::Long),
            "short" => Some(PerpSide::Short),
            _ => None,
        }
    }

    /// The other side.
    pub fn opposite(self) -> PerpSide {
        match self {
            PerpSide::Long => PerpSide::Short,
            PerpSide::Short => PerpSide::Long,
        }
    }
}

/// Isolated (collateral backs one position) or cross (one margin account
/// per account and venue).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarginMode {
    Isolated,
    Cross,
}

impl MarginMode {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            MarginMode::Isolated => "isolated",
            MarginMode::Cross => "cross",
        }
    }

    /// Inverse of [`MarginMode::as_str`].
    pub fn parse(s: &str) -> Option<MarginMode> {
        match s {
            "isolated" => Some(MarginMode::Isolated),
            "cross" => Some(MarginMode::Cross),
            _ => None,
        }
    }
}

/// One perpetual position (a row of `perp_positions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerpPosition {
    pub account: String,
    /// Venue, e.g. `binance`, `hyperliquid`.
    pub venue: String,
    /// Instrument, e.g. `BTCUSDT`.
    pub instrument: String,
    pub side: PerpSide,
    /// Base units (> 0).
    pub size: Wad,
    /// Average entry price, quote per base (> 0).
    pub entry_price: Wad,
    pub margin_mode: MarginMode,
    /// Collateral asset -> amount in asset units (>= 0).
    #[serde(default)]
    pub collateral: BTreeMap<String, Wad>,
    /// Leverage the position was opened with (notional at entry / margin);
    /// informational for the replay (margin comes from `collateral`), used by
    /// generators and by the initial-margin check of the tier table.
    pub leverage: Wad,
}

/// A `perp_positions` row that cannot be used; names the row and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("perp position {index} (account `{account}`, {instrument}): {field}: {detail}")]
pub struct PerpPositionError {
    /// Row index in the input.
    pub index: usize,
    pub account: String,
    pub instrument: String,
    pub field: &'static str,
    pub detail: String,
}

impl PerpPosition {
    /// Entry notional `size * entry_price` (quote units, rounded down).
    pub fn entry_notional(&self) -> Option<Wad> {
        self.size.checked_mul_down(self.entry_price)
    }

    /// Checks the row: non-empty names, size, entry price and leverage
    /// positive, collateral amounts not negative, entry notional in range.
    /// `index` is the row number reported in the error.
    pub fn validate(&self, index: usize) -> Result<(), PerpPositionError> {
        let err = |field: &'static str, detail: &str| PerpPositionError {
            index,
            account: self.account.clone(),
            instrument: self.instrument.clone(),
            field,
            detail: detail.to_string(),
        };
        if self.account.trim().is_empty() {
            return Err(err("account", "empty"));
        }
        if self.venue.trim().is_empty() {
            return Err(err("venue", "empty"));
        }
        if self.instrument.trim().is_empty() {
            return Err(err("instrument", "empty"));
        }
        if !self.size.is_positive() {
            return Err(err("size", &format!("must be > 0, got {}", self.size)));
        }
        if !self.entry_price.is_positive() {
            return Err(err(
                "entry_price",
                &format!("must be > 0, got {}", self.entry_price),
            ));
        }
        if !self.leverage.is_positive() {
            return Err(err(
                "leverage",
                &format!("must be > 0, got {}", self.leverage),
            ));
        }
        for (asset, amount) in &self.collateral {
            if asset.trim().is_empty() {
                return Err(err("collateral", "empty asset name"));
            }
            if amount.is_negative() {
                return Err(err(
                    "collateral",
                    &format!("{asset} amount {amount} is negative"),
                ));
            }
        }
        // size * entry must fit with room for P&L arithmetic (< 1e38 raw).
        match self.entry_notional() {
            Some(n) if n.raw() < i128::MAX / 16 => Ok(()),
            _ => Err(err("size", "size * entry_price out of range")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos() -> PerpPosition {
        PerpPosition {
            account: "a".into(),
            venue: "binance".into(),
            instrument: "BTCUSDT".into(),
            side: PerpSide::Long,
            size: Wad::from_int(2),
            entry_price: Wad::from_int(50_000),
            margin_mode: MarginMode::Isolated,
            collateral: [("USDT".to_string(), Wad::from_int(10_000))].into(),
            leverage: Wad::from_int(10),
        }
    }

    #[test]
    fn validates_and_round_trips() {
        let p = pos();
        p.validate(0).unwrap();
        assert_eq!(p.entry_notional(), Some(Wad::from_int(100_000)));
        let j = serde_json::to_string(&p).unwrap();
        assert!(j.contains("\"side\":\"long\""), "{j}");
        assert!(j.contains("\"margin_mode\":\"isolated\""), "{j}");
        let back: PerpPosition = serde_json::from_str(&j).unwrap();
        assert_eq!(back, p);
        assert_eq!(PerpSide::parse("short"), Some(PerpSide::Short));
        assert_eq!(MarginMode::parse("cross"), Some(MarginMode::Cross));
        assert_eq!(PerpSide::Long.opposite(), PerpSide::Short);
    }

    #[test]
    fn names_the_bad_field() {
        let mut p = pos();
        p.size = Wad::ZERO;
        let e = p.validate(3).unwrap_err();
        assert_eq!(e.field, "size");
        assert!(e.to_string().contains("perp position 3 (account `a`"));
        let mut p = pos();
        p.collateral.insert("USDC".into(), Wad::from_int(-1));
        assert_eq!(p.validate(0).unwrap_err().field, "collateral");
        let mut p = pos();
        p.leverage = Wad::ZERO;
        assert_eq!(p.validate(0).unwrap_err().field, "leverage");
    }
}
