//! Rows and metadata of a stress run (`stress.parquet`, `stress.json`):
//! one row per simulated path.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Wad;

/// The outcome of one simulated path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StressRow {
    /// Path index (0-based; `u32::MAX`: the historical path, the baseline).
    pub path: u32,
    pub bad_debt_usd: Wad,
    pub npl_count: u64,
    /// Debt repaid by liquidations, USD.
    pub liquidated_volume_usd: Wad,
    pub liquidation_count: u64,
    /// Liquidation penalties paid by borrowers, USD.
    pub penalty_usd: Wad,
    /// Largest fall of the protocol's reserves from a running peak, USD.
    pub reserves_drawdown_usd: Wad,
    /// The `run_id` of the path's full run (`stress --explain K`).
    pub run_id: String,
}

/// The distribution of one outcome over the paths. `VaR_q` is the
/// `ceil(q N)`-th smallest of the `N` outcomes; `ES_q` the mean of the
/// outcomes from that one to the largest (order statistics, ties by path
/// index); means rounded down to the wei.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distribution {
    /// Column of the rows (`bad_debt_usd`, `liquidated_volume_usd`).
    pub metric: String,
    pub mean: Wad,
    pub min: Wad,
    pub max: Wad,
    pub var95: Wad,
    pub es95: Wad,
    pub var99: Wad,
    pub es99: Wad,
}

/// One of the worst paths (most bad debt first, ties by path index).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorstPath {
    pub path: u32,
    pub bad_debt_usd: Wad,
    pub liquidated_volume_usd: Wad,
    pub run_id: String,
    /// The replayable scenario, relative to the stress folder.
    pub scenario_file: String,
}

/// What a stress run did (`stress.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StressMeta {
    pub stress_id: String,
    pub scenario: String,
    pub title: String,
    /// How it was named on the command line.
    pub source: String,
    /// `bootstrap` or `gaussian`.
    pub model: String,
    /// Bootstrap block length, seconds (None for gaussian).
    pub block_secs: Option<i64>,
    pub horizon_secs: i64,
    /// The horizon as given (`24h`).
    pub horizon: String,
    pub seed: u64,
    pub paths: u32,
    pub window_start: String,
    pub window_end: String,
    pub fit_start: String,
    pub fit_end: String,
    /// Gaussian parameters given instead of fitted (`ETH volatility 0.03
    /// per hour`, `BTC/ETH correlation 1`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub given: Vec<String>,
    /// Simulated assets.
    pub assets: Vec<String>,
    /// Bad debt and liquidated volume over the paths.
    pub statistics: Vec<Distribution>,
    /// The historical path replayed over the same scenario (path u32::MAX).
    pub baseline: StressRow,
    pub worst: Vec<WorstPath>,
    pub base_config_sha256: String,
    pub input_hashes: BTreeMap<String, String>,
    pub book_origin: String,
    pub book_generated: bool,
    pub version: String,
}
