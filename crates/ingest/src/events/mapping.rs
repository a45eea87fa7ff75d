//! The column mapping of `events-csv`: which column of a subgraph or Dune
//! export holds which field of `lending_events`, and how its reserves file
//! (decimals, thresholds, bonuses) is laid out.

#![allow(missing_docs)] // each field is named after the `lending_events` or `reserves` column it fills

use std::path::Path;

use serde::{Deserialize, Serialize};
use shortfall_core::LendingKind;

use crate::timefmt::TimeFormat;
use crate::IngestError;

/// How amounts are written in the export.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AmountUnits {
    /// Integers in token base units (wei); decimals come from the reserves file.
    #[default]
    Base,
    /// Decimal numbers in token units.
    Token,
}

/// Settings that may differ between the row layouts of one export.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Units {
    /// Unit of the amount columns.
    pub amount_units: AmountUnits,
    /// Price columns hold numbers scaled by 10^this (18 for wei per token).
    pub price_decimals: u32,
}

/// Rows where `when_present` is not empty use `units` instead of the defaults:
/// exports concatenated from two subgraph versions change units mid-file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    pub when_present: String,
    pub amount_units: AmountUnits,
    #[serde(default)]
    pub price_decimals: u32,
}

impl Layout {
    pub fn units(&self) -> Units {
        Units {
            amount_units: self.amount_units,
            price_decimals: self.price_decimals,
        }
    }
}

/// Columns of the reserves file (one row per market asset).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReservesMapping {
    pub market: String,
    pub asset: String,
    pub decimals: String,
    /// Liquidation threshold in basis points (8250 = 82.5%).
    pub liquidation_threshold_bps: String,
    /// Aave's liquidation bonus factor in basis points: 10500 = a 5% bonus;
    /// 0 (an asset that is not collateral) means no bonus.
    pub liquidation_bonus_factor_bps: String,
    #[serde(default)]
    pub usable_as_collateral: Option<String>,
    #[serde(default)]
    pub borrowing_enabled: Option<String>,
}

/// The whole mapping file.
///
/// ```toml
/// protocol = "aave_v2"
/// kind = "liquidation"            # or kind_column = "type" with [kinds]
/// time = "timestamp"
/// time_format = "s"
/// market = "pool"
/// account = "user"
/// asset = "principalReserve"
/// amount = "principalAmount"
/// collateral_asset = "collateralReserve"
/// collateral_amount = "collateralAmount"
/// liquidator = "liquidator"
/// price_unit = "ETH"
/// asset_price = "reservePriceETHPrincipal"
/// collateral_price = "reservePriceETHCollateral"
/// amount_units = "base"
/// price_decimals = 18
/// [[layouts]]
/// when_present = "liquidator"
/// amount_units = "token"
/// [reserves]
/// market = "pool"
/// asset = "symbol"
/// ...
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsMapping {
    pub protocol: String,
    /// Every row is this kind ...
    #[serde(default)]
    pub kind: Option<LendingKind>,
    /// ... or the kind is in this column, translated through `kinds`.
    #[serde(default)]
    pub kind_column: Option<String>,
    /// Source value -> kind (`LiquidationCall = "liquidation"`); values not
    /// listed are counted and left out, never guessed.
    #[serde(default)]
    pub kinds: std::collections::BTreeMap<String, LendingKind>,
    pub time: String,
    #[serde(default)]
    pub time_format: Option<String>,
    /// Constant market, or `market_column`.
    #[serde(default)]
    pub market: Option<String>,
    #[serde(default)]
    pub market_column: Option<String>,
    pub account: String,
    pub asset: String,
    pub amount: String,
    #[serde(default)]
    pub collateral_asset: Option<String>,
    #[serde(default)]
    pub collateral_amount: Option<String>,
    #[serde(default)]
    pub liquidator: Option<String>,
    #[serde(default)]
    pub block: Option<String>,
    #[serde(default)]
    pub tx_index: Option<String>,
    #[serde(default)]
    pub log_index: Option<String>,
    #[serde(default)]
    pub tx_hash: Option<String>,
    #[serde(default)]
    pub price_unit: Option<String>,
    #[serde(default)]
    pub asset_price: Option<String>,
    #[serde(default)]
    pub collateral_price: Option<String>,
    #[serde(default)]
    pub asset_price_usd: Option<String>,
    #[serde(default)]
    pub collateral_price_usd: Option<String>,
    /// Unit of the amount columns in rows no layout matches; default `base`.
    #[serde(default)]
    pub amount_units: AmountUnits,
    /// Price scale in rows no layout matches; default 0.
    #[serde(default)]
    pub price_decimals: u32,
    #[serde(default)]
    pub layouts: Vec<Layout>,
    /// Layout of the reserves file; required when amounts are in base units.
    #[serde(default)]
    pub reserves: Option<ReservesMapping>,
}

impl EventsMapping {
    /// Parses and checks a TOML mapping.
    pub fn from_toml_str(text: &str) -> Result<Self, IngestError> {
        let m: EventsMapping = toml::from_str(text)
            .map_err(|e| IngestError::Options(format!("events mapping: {e}")))?;
        m.check()?;
        Ok(m)
    }

    /// Reads a TOML mapping file.
    pub fn from_file(path: &Path) -> Result<Self, IngestError> {
        crate::options::read_mapping(path, Self::from_toml_str)
    }

    /// Rejects contradictory or incomplete mappings.
    pub fn check(&self) -> Result<(), IngestError> {
        let bad = |m: &str| Err(IngestError::Options(format!("events mapping: {m}")));
        match (&self.kind, &self.kind_column) {
            (Some(_), Some(_)) => return bad("give `kind` or `kind_column`, not both"),
            (None, None) => return bad("give `kind` (every row) or `kind_column` with [kinds]"),
            (None, Some(_)) if self.kinds.is_empty() => {
                return bad("`kind_column` needs a [kinds] table of source value = kind")
            }
            _ => {}
        }
        if self.market.is_some() == self.market_column.is_some() {
            return bad("give exactly one of `market` (a constant) and `market_column`");
        }
        if self.collateral_asset.is_some() != self.collateral_amount.is_some() {
            return bad("`collateral_asset` and `collateral_amount` go together");
        }
        let any_price = self.asset_price.is_some() || self.collateral_price.is_some();
        if any_price && self.price_unit.is_none() {
            return bad("`asset_price`/`collateral_price` need `price_unit` (ETH, USD)");
        }
        for u in self.all_units() {
            if u.price_decimals > 36 {
                return bad("`price_decimals` must be 0 to 36");
            }
            if u.amount_units == AmountUnits::Base && self.reserves.is_none() {
                return bad(
                    "amounts in base units need a [reserves] table and a --reserves file for token decimals",
                );
            }
        }
        if let Some(f) = &self.time_format {
            if TimeFormat::parse(f).is_none() {
                return bad(&format!("unknown time_format `{f}`"));
            }
        }
        Ok(())
    }

    /// Units of rows that no layout matches.
    pub fn default_units(&self) -> Units {
        Units {
            amount_units: self.amount_units,
            price_decimals: self.price_decimals,
        }
    }

    /// The default units and those of every layout.
    pub fn all_units(&self) -> impl Iterator<Item = Units> + '_ {
        std::iter::once(self.default_units()).chain(self.layouts.iter().map(Layout::units))
    }
}
