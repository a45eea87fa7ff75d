//! The report model: everything a run report shows, already formatted.
//! Serialised, it is `report.json` (the JSON twin); the HTML template
//! renders only fields of it, so the HTML shows nothing the JSON lacks.
//!
//! Numbers come twice where a reader may want to recompute: `value` is the
//! exact decimal from the run (fixed point, no float), `display` the string
//! the HTML shows.

use serde::{Deserialize, Serialize};

pub use crate::charts::timeline::TimelinePoint;
use crate::charts::waterfall::Layer;
use crate::charts::{perp_fund_svg, timeline_svg, waterfall_svg};
use crate::error::ReportError;
use crate::perp::PerpSection;
use crate::render::{Page, Svg, Templates};
pub use crate::widgets::KeyValue;

/// Format tag of `report.json`.
pub const REPORT_FORMAT: &str = "shortfall.report/1";
/// Format tag of `compare.json`.
pub const COMPARE_FORMAT: &str = "shortfall.compare/1";

/// One figure: a label, the exact value and its display string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figure {
    pub key: String,
    pub label: String,
    pub value: String,
    pub display: String,
}

/// A titled group of settings (policy, oracle, frictions, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingGroup {
    pub title: String,
    pub rows: Vec<KeyValue>,
}

/// How the book was obtained; `notice` is shown in the executive summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookInfo {
    pub generated: bool,
    pub kind: String,
    pub detail: String,
    pub positions: String,
    pub notice: String,
}

/// A published figure set against the replayed one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceRow {
    pub metric: String,
    pub label: String,
    pub published: String,
    pub published_range: Option<String>,
    pub replayed: String,
    /// Replayed minus published, and replayed / published.
    pub difference: String,
    pub ratio: String,
    /// `within range`, `below range`, `above range` (or `no range`).
    pub verdict: String,
    pub source: String,
    pub note: Option<String>,
}

/// The hour with the most realised bad debt (else the most liquidations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorstHour {
    pub hour: String,
    pub bad_debt: String,
    pub liquidated: String,
    pub liquidations: String,
    pub basis: String,
}

/// The timeline chart's data: the price path of the asset that carried most
/// liquidations, liquidations of all assets, cumulative bad debt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    pub asset: String,
    pub bucket: String,
    pub caption: String,
    pub points: Vec<TimelinePoint>,
}

/// One step of the loss waterfall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaterfallRow {
    pub layer: String,
    pub explanation: String,
    pub value: String,
    pub display: String,
    pub share: String,
}

/// One non-performing loan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NplRow {
    pub rank: String,
    pub account: String,
    /// The account cut to fit a table cell (`0x1234…abcd`).
    pub account_short: String,
    pub market: String,
    pub shortfall: String,
    pub shortfall_value: String,
    pub initial_debt: String,
    pub final_debt: String,
    pub final_collateral: String,
    pub written_off: String,
    pub recovery: String,
    pub cause: String,
    pub blocked: String,
    pub first_liquidatable: String,
    pub under_water: String,
    pub liquidations: String,
    pub min_health: String,
}

/// The NPL table: the top positions by shortfall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NplTable {
    pub total: String,
    pub shown: String,
    pub total_shortfall: String,
    pub shown_shortfall: String,
    pub rows: Vec<NplRow>,
}

/// One cause of loss.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributionRow {
    pub cause: String,
    pub explanation: String,
    pub value: String,
    pub display: String,
    pub share: String,
}

/// Liquidations of one liquidator (or keeper).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiquidatorRow {
    pub liquidator: String,
    pub liquidations: String,
    pub repaid: String,
    pub seized: String,
    pub penalty: String,
    pub share: String,
}

/// Liquidations and bad debt of one hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourRow {
    pub hour: String,
    pub liquidations: String,
    pub repaid: String,
    pub seized: String,
    pub bad_debt: String,
}

/// Blocked liquidation attempts by reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockedRow {
    pub reason: String,
    pub attempts: String,
}

/// Where the run's inputs came from and how to reproduce it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub run_id: String,
    pub tool_version: String,
    pub seed: String,
    pub inputs: Vec<KeyValue>,
    pub event_log_sha256: String,
    pub command: String,
    pub resolved_config: String,
}

/// A run report (`report.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub format: String,
    pub title: String,
    pub description: Option<String>,
    pub scenario: String,
    pub run_id: String,
    pub preset: String,
    pub window: String,
    /// Only with `--timestamp`: reports are byte-stable without it.
    pub generated_at: Option<String>,
    /// What makes the run hypothetical (`summary.hypothetical`): stress
    /// transforms and uncited oracle overrides. Empty: the run replays what
    /// happened.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hypothetical: Vec<String>,
    pub book: BookInfo,
    pub headline: Vec<Figure>,
    pub worst_hour: Option<WorstHour>,
    pub references: Vec<ReferenceRow>,
    pub timeline: Timeline,
    pub waterfall: Vec<WaterfallRow>,
    pub waterfall_total: String,
    pub npl: NplTable,
    pub attribution: Vec<AttributionRow>,
    pub liquidators: Vec<LiquidatorRow>,
    pub liquidators_note: Option<String>,
    pub hours: Vec<HourRow>,
    pub blocked: Vec<BlockedRow>,
    pub settings: Vec<SettingGroup>,
    pub provenance: Provenance,
    pub methodology: Vec<String>,
    pub limitations: Vec<String>,
    /// Perpetual swaps (runs with `[perp]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub perp: Option<PerpSection>,
}

/// One headline figure of two runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompareFigure {
    pub key: String,
    pub label: String,
    pub a: String,
    pub b: String,
    pub delta: String,
}

/// A position whose outcome differs between the runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompareRow {
    pub account: String,
    pub market: String,
    pub status_a: String,
    pub status_b: String,
    pub shortfall_a: String,
    pub shortfall_b: String,
    pub delta: String,
    pub delta_value: String,
}

/// A list of positions with its full count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompareList {
    pub total: String,
    pub shown: String,
    pub rows: Vec<CompareRow>,
}

/// A setting that differs between the runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingDiff {
    pub key: String,
    pub a: String,
    pub b: String,
}

/// Summary of one side of a comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompareSide {
    pub label: String,
    pub scenario: String,
    pub run_id: String,
    pub preset: String,
    pub window: String,
    pub book: String,
}

/// A comparison of two runs of one crisis (`compare.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compare {
    pub format: String,
    pub title: String,
    pub generated_at: Option<String>,
    pub a: CompareSide,
    pub b: CompareSide,
    pub warnings: Vec<String>,
    pub headline: Vec<CompareFigure>,
    pub settings: Vec<SettingDiff>,
    pub npl_only_a: CompareList,
    pub npl_only_b: CompareList,
    pub shortfall_changes: CompareList,
    pub positions_compared: String,
    pub positions_unmatched: String,
}

impl Page for Report {
    const TEMPLATE: &'static str = "report.html";
    const KEY: &'static str = "r";

    fn charts(&self) -> Result<Vec<(&'static str, Svg)>, ReportError> {
        let layers: Vec<Layer<'_>> = self
            .waterfall
            .iter()
            .map(|w| Layer {
                name: &w.layer,
                value: &w.value,
                display: &w.display,
            })
            .collect();
        let fund = match &self.perp {
            Some(p) => perp_fund_svg(&p.fund)?,
            None => String::new(),
        };
        let t = &self.timeline;
        Ok(vec![
            ("timeline_svg", Svg::One(timeline_svg(&t.asset, &t.points)?)),
            ("waterfall_svg", Svg::One(waterfall_svg(&layers)?)),
            ("perp_fund_svg", Svg::One(fund)),
        ])
    }
}

impl Page for Compare {
    const TEMPLATE: &'static str = "compare.html";
    const KEY: &'static str = "c";
}

impl Templates {
    /// The HTML of a run report ([`Templates::render`]).
    pub fn render_report(&self, r: &Report) -> Result<String, ReportError> {
        self.render(r)
    }

    /// The HTML of a comparison ([`Templates::render`]).
    pub fn render_compare(&self, c: &Compare) -> Result<String, ReportError> {
        self.render(c)
    }
}
