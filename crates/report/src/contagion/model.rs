//! The contagion report's model (`contagion-report.json`).

use serde::Serialize;
use shortfall_core::Wad;

pub use crate::charts::bars::BarRow;
pub use crate::charts::exposure::{ExposureGraph, GraphEdge, GraphNode};
use crate::charts::{contagion_bad_debt_svg, contagion_exposure_svg};
use crate::error::ReportError;
use crate::render::{Page, Svg};
use crate::widgets::{Card, KeyValue, Term};

/// One protocol (or the total over them) alone and together.
#[derive(Debug, Clone, Serialize)]
pub struct MemberRow {
    pub protocol: String,
    pub scenario: String,
    pub sets: Vec<String>,
    pub preset: String,
    pub book: String,
    pub positions: String,
    pub initial_debt_usd: String,
    pub bad_debt_alone: String,
    pub bad_debt_together: String,
    /// Together minus alone, signed (`+$1,234`).
    pub bad_debt_difference: String,
    pub bad_debt_alone_usd: Wad,
    pub bad_debt_together_usd: Wad,
    pub bad_debt_difference_usd: Wad,
    pub npl_alone: String,
    pub npl_together: String,
    pub liquidations_alone: String,
    pub liquidations_together: String,
    pub liquidated_alone: String,
    pub liquidated_together: String,
    pub liquidated_alone_usd: Wad,
    pub liquidated_together_usd: Wad,
    pub penalty_alone: String,
    pub penalty_together: String,
    pub blocked_alone: String,
    pub blocked_together: String,
    /// Relative links to the full runs' reports (none for the total).
    pub alone_report: Option<String>,
    pub together_report: Option<String>,
    pub alone_run_id: String,
    pub together_run_id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExposureRow {
    pub protocol: String,
    pub asset: String,
    pub collateral_usd: String,
    pub debt_usd: String,
    pub positions: String,
    pub shared: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OverlapRow {
    pub a: String,
    pub b: String,
    pub accounts: String,
    pub debt_a_usd: String,
    pub debt_b_usd: String,
}

/// One protocol's side of a shared market.
#[derive(Debug, Clone, Serialize)]
pub struct MarketProtocol {
    pub protocol: String,
    pub low_alone: String,
    pub sold_alone_usd: String,
    pub sold_together_usd: String,
}

/// A shared market: lows and collateral sold, alone and together.
#[derive(Debug, Clone, Serialize)]
pub struct MarketRow {
    pub asset: String,
    pub low_recorded: String,
    pub low_together: String,
    pub sold_alone_total_usd: String,
    pub sold_together_total_usd: String,
    pub protocols: Vec<MarketProtocol>,
}

/// The report model (also its JSON twin).
#[derive(Debug, Clone, Serialize)]
pub struct ContagionReport {
    pub title: String,
    pub subtitle: String,
    pub name: String,
    pub contagion_id: String,
    pub generated_at: Option<String>,
    pub description: Option<String>,
    pub window: String,
    /// The joint replay is a model: always shown.
    pub model_notice: String,
    /// Non-empty: the runs are HYPOTHETICAL, one line per reason.
    pub hypothetical: Vec<String>,
    pub hypothetical_notice: Option<String>,
    pub shared_assets: Vec<String>,
    pub cards: Vec<Card>,
    pub summary: String,
    pub members: Vec<MemberRow>,
    pub total: MemberRow,
    pub graph: ExposureGraph,
    pub graph_caption: String,
    pub exposure: Vec<ExposureRow>,
    pub overlap: Vec<OverlapRow>,
    /// Said when no overlap is listed, or when some books are left out.
    pub overlap_note: Option<String>,
    pub markets: Vec<MarketRow>,
    pub bars: Vec<BarRow>,
    pub bars_caption: String,
    pub method: Vec<Term>,
    pub liquidity: Vec<String>,
    pub sources: Vec<KeyValue>,
    pub provenance: Vec<KeyValue>,
    pub spec_sha256: String,
    pub spec_text: String,
    pub inputs: Vec<KeyValue>,
    pub command: String,
    pub version: String,
}

impl Page for ContagionReport {
    const TEMPLATE: &'static str = "contagion.html";
    const KEY: &'static str = "c";

    fn charts(&self) -> Result<Vec<(&'static str, Svg)>, ReportError> {
        Ok(vec![
            (
                "exposure_svg",
                Svg::One(contagion_exposure_svg(&self.graph)?),
            ),
            (
                "bad_debt_svg",
                Svg::One(contagion_bad_debt_svg(&self.bars)?),
            ),
        ])
    }
}
