//! The column mapping of `perp-positions-csv`: which column of a positions
//! export holds which field of `perp_positions`, and the snapshot time.

use std::path::Path;

use serde::{Deserialize, Serialize};
use shortfall_core::{MarginMode, Micros};

use crate::timefmt::TimeFormat;
use crate::IngestError;

/// The whole mapping file. Field names are column names of the export
/// unless said otherwise.
///
/// ```toml
/// venue = "binance"                # constant venue, or venue_column = "exchange"
/// account = "account"
/// instrument = "symbol"
/// side = "side"                    # long/short or buy/sell (any case); without it
///                                  # the sign of `size` gives the side
/// size = "position_amt"            # base units
/// entry_price = "entry_price"
/// margin_mode = "margin_type"      # isolated/cross (any case), or margin_mode_value = "cross"
/// leverage = "leverage"
/// collateral_asset = "margin_asset"  # or collateral_asset_value = "USDT"
/// collateral_amount = "isolated_wallet"
/// snapshot_time = "update_time"    # a column, or snapshot_at = "2021-04-18T00:00:00Z"
/// time_format = "ms"
/// snapshot_block = "block"         # optional
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // each field is named after the `perp_positions` column it fills
pub struct PerpPositionsMapping {
    #[serde(default)]
    pub venue: Option<String>,
    #[serde(default)]
    pub venue_column: Option<String>,
    pub account: String,
    pub instrument: String,
    #[serde(default)]
    pub side: Option<String>,
    pub size: String,
    pub entry_price: String,
    #[serde(default)]
    pub margin_mode: Option<String>,
    #[serde(default)]
    pub margin_mode_value: Option<MarginMode>,
    pub leverage: String,
    #[serde(default)]
    pub collateral_asset: Option<String>,
    #[serde(default)]
    pub collateral_asset_value: Option<String>,
    #[serde(default)]
    pub collateral_amount: Option<String>,
    #[serde(default)]
    pub snapshot_time: Option<String>,
    /// A fixed snapshot time for every row (date, date and time, or epoch seconds).
    #[serde(default)]
    pub snapshot_at: Option<String>,
    #[serde(default)]
    pub time_format: Option<String>,
    #[serde(default)]
    pub snapshot_block: Option<String>,
}

impl PerpPositionsMapping {
    /// Parses a TOML mapping (not checked: `--map` pairs may complete it).
    pub fn from_toml_str(text: &str) -> Result<Self, IngestError> {
        toml::from_str(text)
            .map_err(|e| IngestError::Options(format!("perp positions mapping: {e}")))
    }

    /// Reads a TOML mapping file.
    pub fn from_file(path: &Path) -> Result<Self, IngestError> {
        crate::options::read_mapping(path, Self::from_toml_str)
    }

    /// Sets one key (same names as the TOML file), e.g. from `--map snapshot_at=2021-04-18`.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), IngestError> {
        let v = Some(value.to_string());
        match key.trim() {
            "venue" => self.venue = v,
            "venue_column" => self.venue_column = v,
            "account" => self.account = value.to_string(),
            "instrument" => self.instrument = value.to_string(),
            "side" => self.side = v,
            "size" => self.size = value.to_string(),
            "entry_price" => self.entry_price = value.to_string(),
            "margin_mode" => self.margin_mode = v,
            "margin_mode_value" => {
                self.margin_mode_value = Some(MarginMode::parse(value.trim()).ok_or_else(|| {
                    IngestError::Options(format!(
                        "perp positions mapping: `margin_mode_value` expects isolated or cross, found `{value}`"
                    ))
                })?)
            }
            "leverage" => self.leverage = value.to_string(),
            "collateral_asset" => self.collateral_asset = v,
            "collateral_asset_value" => self.collateral_asset_value = v,
            "collateral_amount" => self.collateral_amount = v,
            "snapshot_time" => self.snapshot_time = v,
            "snapshot_at" => self.snapshot_at = v,
            "time_format" => self.time_format = v,
            "snapshot_block" => self.snapshot_block = v,
            other => {
                return Err(IngestError::Options(format!(
                    "perp positions mapping: unknown key `{other}` (expected venue, venue_column, account, \
                     instrument, side, size, entry_price, margin_mode, margin_mode_value, leverage, \
                     collateral_asset, collateral_asset_value, collateral_amount, snapshot_time, snapshot_at, \
                     time_format, snapshot_block)"
                )))
            }
        }
        Ok(())
    }

    /// Rejects contradictory or incomplete mappings.
    pub fn check(&self) -> Result<(), IngestError> {
        let bad = |m: &str| Err(IngestError::Options(format!("perp positions mapping: {m}")));
        for (k, v) in [
            ("account", &self.account),
            ("instrument", &self.instrument),
            ("size", &self.size),
            ("entry_price", &self.entry_price),
            ("leverage", &self.leverage),
        ] {
            if v.trim().is_empty() {
                return bad(&format!("`{k}` (a column name) is required"));
            }
        }
        if self.venue.is_some() == self.venue_column.is_some() {
            return bad("give exactly one of `venue` (a constant) and `venue_column`");
        }
        if self.margin_mode.is_some() == self.margin_mode_value.is_some() {
            return bad("give exactly one of `margin_mode` (a column) and `margin_mode_value` (isolated or cross)");
        }
        if self.collateral_asset.is_some() && self.collateral_asset_value.is_some() {
            return bad("give `collateral_asset` (a column) or `collateral_asset_value`, not both");
        }
        let asset = self.collateral_asset.is_some() || self.collateral_asset_value.is_some();
        if asset != self.collateral_amount.is_some() {
            return bad(
                "`collateral_amount` goes with `collateral_asset` or `collateral_asset_value`",
            );
        }
        match (&self.snapshot_time, &self.snapshot_at) {
            (Some(_), Some(_)) => {
                return bad("give `snapshot_time` (a column) or `snapshot_at` (a time), not both")
            }
            (None, None) => {
                return bad(
                    "the snapshot time is missing: map a column with `snapshot_time`, or give `snapshot_at` \
                     (in the file or as --map snapshot_at=2021-04-18T00:00:00Z)",
                )
            }
            _ => {}
        }
        self.fixed_snapshot()?;
        if let Some(f) = &self.time_format {
            if TimeFormat::parse(f).is_none() {
                return bad(&format!("unknown time_format `{f}`"));
            }
        }
        Ok(())
    }

    /// The `snapshot_at` time, parsed.
    pub fn fixed_snapshot(&self) -> Result<Option<Micros>, IngestError> {
        self.snapshot_at
            .as_deref()
            .map(|t| {
                Micros::parse(t).map_err(|e| {
                    IngestError::Options(format!(
                        "perp positions mapping: `snapshot_at` `{t}`: {e}"
                    ))
                })
            })
            .transpose()
    }
}
