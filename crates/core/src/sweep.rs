//! Rows of a policy sweep (`sweep.parquet`): one per variant and crisis.

use serde::{Deserialize, Serialize};

use crate::Wad;

/// One parameter of a variant: the scenario key (as `--set` takes it) and
/// its value as TOML text, exactly as applied (`0.825`, `600`, `"push"`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SweepParam {
    pub key: String,
    pub value: String,
}

/// The outcome of one variant of a sweep through one crisis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepRow {
    /// Index of the variant in the grid's expansion order (0-based).
    pub variant: u32,
    /// `v<index>-<first 8 hex of sha256 over the sets>`: names the variant
    /// for `shortfall sweep --explain`.
    pub variant_id: String,
    /// Name of the crisis scenario.
    pub scenario: String,
    /// The variant's settings, in grid order.
    pub params: Vec<SweepParam>,
    /// The `run_id` the variant's full run has (`--explain` writes it to
    /// `reports/<scenario>/<run_id>/`).
    pub run_id: String,
    pub positions: u64,
    pub initial_debt_usd: Wad,
    pub bad_debt_usd: Wad,
    pub npl_count: u64,
    /// Debt repaid by liquidations, USD.
    pub liquidated_volume_usd: Wad,
    pub liquidation_count: u64,
    /// Liquidation penalties paid by borrowers (bonus, chop), USD.
    pub penalty_usd: Wad,
    pub protocol_fees_usd: Wad,
    /// Largest fall of the protocol's reserves (insurance + protocol fees -
    /// bad debt) from a running peak over the window, USD.
    pub reserves_drawdown_usd: Wad,
}

impl SweepRow {
    /// The sets as `--set` arguments (`key=value`).
    pub fn sets(&self) -> Vec<String> {
        self.params
            .iter()
            .map(|p| format!("{}={}", p.key, p.value))
            .collect()
    }
}

/// One crisis of a sweep (`sweep.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepScenario {
    /// Scenario name (the `scenario` column of the rows).
    pub name: String,
    /// Report title of the scenario.
    pub title: String,
    /// How it was named on the command line (a crisis pack or a file).
    pub source: String,
    /// sha256 of the base scenario's resolved TOML (before the variants'
    /// sets).
    pub base_config_sha256: String,
    /// Input hashes of the runs (same for every variant).
    pub input_hashes: std::collections::BTreeMap<String, String>,
    /// Where the book comes from (`generated: ...` or the snapshot).
    pub book_origin: String,
    /// True when the book is generated (no real book).
    pub book_generated: bool,
    /// The base scenario run unchanged (no sets), as a row with variant
    /// `u32::MAX` and id `base`: what the variants are set against.
    pub baseline: SweepRow,
}

/// What a sweep ran (`sweep.json` beside `sweep.parquet`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepMeta {
    /// `sweep_id`: first 16 hex of sha256 over the grid, the scenarios'
    /// base configs and inputs, and the version.
    pub sweep_id: String,
    /// Grid title (default: the grid file's name).
    pub title: String,
    /// The grid file's text.
    pub grid: String,
    pub grid_sha256: String,
    /// Parameter keys, in grid order.
    pub params: Vec<String>,
    /// `product` or `random`.
    pub mode: String,
    /// Variants in the grid (each runs through every scenario).
    pub variants: u32,
    pub scenarios: Vec<SweepScenario>,
    /// `[index, count]` for one shard's part; absent for a whole sweep or a
    /// merge of all parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<[u32; 2]>,
    pub version: String,
}
