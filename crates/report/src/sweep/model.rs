//! The sweep report's model (`sweep-report.json`) and its options.

use std::path::PathBuf;

use serde::Serialize;

pub use crate::charts::frontier::{ChartPoint, FrontierChart};
use crate::charts::sweep_frontier_svg;
use crate::error::ReportError;
use crate::render::{Page, Svg};
use crate::widgets::{Card, KeyValue, Term};

/// The report's HTML file in a sweep folder.
pub const SWEEP_HTML: &str = "sweep.html";
/// The report's JSON twin in a sweep folder (`sweep.json` is the meta).
pub const SWEEP_REPORT_JSON: &str = "sweep-report.json";
/// Options of a sweep report.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// A folder of templates replacing the built-ins by file name
    /// (`sweep.html`, `base.html`, `report.css`), as `--templates`.
    pub templates: Option<PathBuf>,
    /// How many best policies to list per crisis (and across crises).
    pub top: usize,
    /// The command line that produced the sweep (shown shell-quoted).
    pub command: Vec<String>,
    /// Shown only when given (byte-stable output otherwise).
    pub timestamp: Option<String>,
}

impl Default for SweepOptions {
    fn default() -> Self {
        SweepOptions {
            templates: None,
            top: 10,
            command: Vec::new(),
            timestamp: None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Notice {
    /// `book-generated`, `book-snapshot` or `partial`.
    pub kind: String,
    pub text: String,
}

/// One variant (or the baseline) in one crisis, every figure formatted.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyRow {
    /// Rank in its table (`1`...), empty for the baseline.
    pub rank: String,
    /// Variant index, `base` for the baseline.
    pub variant: String,
    pub variant_id: String,
    /// Values of the sweep's parameters, in the sweep's order (`-` when the
    /// row does not set one).
    pub params: Vec<String>,
    pub bad_debt_usd: String,
    /// Bad debt minus the baseline's (negative: less bad debt).
    pub bad_debt_vs_baseline: String,
    pub npl_count: String,
    pub liquidated_volume_usd: String,
    pub liquidation_count: String,
    pub penalty_usd: String,
    /// Penalty minus the baseline's (positive: borrowers pay more).
    pub penalty_vs_baseline: String,
    pub reserves_drawdown_usd: String,
    pub run_id: String,
    /// The command that replays the variant in full.
    pub explain: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeatCell {
    /// Least bad debt of the cell's variants, USD (`-` when none).
    pub bad_debt_usd: String,
    /// The same, short (`$1.2M`).
    pub display: String,
    /// The variant with that bad debt (best by the ranking rule).
    pub variant_id: String,
    /// Inline CSS of the cell (background shade).
    pub style: String,
    /// The least bad debt of the whole heatmap.
    pub best: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeatRow {
    pub value: String,
    pub cells: Vec<HeatCell>,
}

/// Bad debt over the first two parameters.
#[derive(Debug, Clone, Serialize)]
pub struct Heatmap {
    /// First parameter: one row per value.
    pub row_key: String,
    /// Second parameter: one column per value.
    pub col_key: String,
    pub cols: Vec<String>,
    pub rows: Vec<HeatRow>,
    pub caption: String,
    pub scale: String,
}

/// The sections of one crisis.
#[derive(Debug, Clone, Serialize)]
pub struct CrisisReport {
    /// HTML id of the section (`crisis-1`...).
    pub anchor: String,
    pub name: String,
    pub title: String,
    pub summary: String,
    pub cards: Vec<Card>,
    pub baseline: PolicyRow,
    pub best_caption: String,
    pub best: Vec<PolicyRow>,
    pub frontier_caption: String,
    pub frontier: Vec<PolicyRow>,
    pub chart: FrontierChart,
    pub heatmap: Option<Heatmap>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AcrossView {
    pub rank: String,
    pub variant_id: String,
    pub params: Vec<String>,
    pub crises: String,
    pub total_bad_debt_usd: String,
    pub worst_bad_debt_usd: String,
    pub worst_crisis: String,
    pub total_penalty_usd: String,
    pub total_liquidated_volume_usd: String,
    pub npl_count: String,
    pub explain: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AcrossSection {
    pub caption: String,
    pub baseline_total_bad_debt_usd: String,
    pub rows: Vec<AcrossView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioProvenance {
    pub name: String,
    pub title: String,
    pub source: String,
    pub base_config_sha256: String,
    pub inputs: Vec<KeyValue>,
    pub book_origin: String,
    pub book_generated: bool,
    pub baseline_run_id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SweepProvenance {
    pub sweep_id: String,
    pub version: String,
    pub mode: String,
    pub variants: String,
    pub params: Vec<String>,
    pub grid: String,
    pub grid_sha256: String,
    /// `index i of n parts` for a shard's part.
    pub shard: Option<String>,
    pub rows: String,
    pub command: String,
    pub scenarios: Vec<ScenarioProvenance>,
}

/// Everything the sweep report shows (`sweep-report.json`).
#[derive(Debug, Clone, Serialize)]
pub struct SweepReport {
    pub title: String,
    pub subtitle: String,
    pub generated_at: Option<String>,
    pub sweep_id: String,
    pub params: Vec<String>,
    /// Columns of the best-policies table (for spanning rows).
    pub best_columns: usize,
    pub notices: Vec<Notice>,
    pub crises: Vec<CrisisReport>,
    /// With more than one crisis.
    pub across: Option<AcrossSection>,
    pub provenance: SweepProvenance,
    pub method: Vec<Term>,
}

impl Page for SweepReport {
    const TEMPLATE: &'static str = "sweep.html";
    const KEY: &'static str = "s";

    fn charts(&self) -> Result<Vec<(&'static str, Svg)>, ReportError> {
        let svgs = self
            .crises
            .iter()
            .map(|c| sweep_frontier_svg(&c.chart))
            .collect::<Result<Vec<String>, ReportError>>()?;
        Ok(vec![("frontier_svgs", Svg::Many(svgs))])
    }
}
