//! The exposure graph of a contagion: protocols on the left, assets on the
//! right, a line per exposure whose width is proportional to the collateral
//! (dashed when debt only); assets whose market is shared and their lines
//! in red, the others grey. Names from data are cut to printable characters
//! and escaped by the SVG backend.

use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use serde::Serialize;
use shortfall_core::Wad;

use super::draw::{anchored, chart_err, label, svg, Root, LIQ, LOSS, MARKET};
use crate::error::ReportError;

/// A node of the exposure graph: a protocol or an asset, with the
/// collateral on its edges.
#[derive(Debug, Clone, Serialize)]
pub struct GraphNode {
    pub name: String,
    pub collateral_usd: Wad,
    pub collateral: String,
    pub debt_usd: Wad,
    pub debt: String,
    /// An asset whose market is shared (always false for a protocol).
    pub shared: bool,
}

/// An edge of the exposure graph: indexes into the protocols and assets.
#[derive(Debug, Clone, Serialize)]
pub struct GraphEdge {
    pub protocol: usize,
    pub asset: usize,
    pub collateral_usd: Wad,
    pub debt_usd: Wad,
    pub shared: bool,
}

/// The exposure graph: protocols on the left, assets on the right.
#[derive(Debug, Clone, Serialize)]
pub struct ExposureGraph {
    pub protocols: Vec<GraphNode>,
    pub assets: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
    /// Collateral of the widest edge (the chart's width scale).
    pub max_collateral: String,
}

const ROW: i32 = 56;
const TOP: i32 = 56;
/// x of the protocols' and the assets' column.
const PX: i32 = 300;
const AX: i32 = 640;
/// Width of the widest line.
const MAX_W: f64 = 24.0;
const GREY: RGBColor = RGBColor(60, 60, 60);

/// Pixel positions of the graph's nodes.
struct Layout {
    span: i32,
    max: f64,
}

impl Layout {
    fn of(g: &ExposureGraph) -> Layout {
        let rows = g.protocols.len().max(g.assets.len()).max(1) as i32;
        let max = g
            .edges
            .iter()
            .map(|e| e.collateral_usd.to_f64())
            .fold(0.0f64, f64::max);
        Layout {
            span: rows * ROW,
            max,
        }
    }

    /// y of node `i` of `n`: nodes of a column spread evenly over the
    /// tallest column.
    fn at(&self, i: usize, n: usize) -> i32 {
        TOP + ((2 * i as i32 + 1) * self.span) / (2 * n.max(1) as i32)
    }

    fn width(&self, e: &GraphEdge) -> u32 {
        if self.max > 0.0 {
            ((e.collateral_usd.to_f64() / self.max * MAX_W).round() as u32).max(1)
        } else {
            1
        }
    }
}

/// The chart of `g`; empty without edges.
pub fn contagion_exposure_svg(g: &ExposureGraph) -> Result<String, ReportError> {
    if g.edges.is_empty() {
        return Ok(String::new());
    }
    let l = Layout::of(g);
    svg((TOP + l.span + 64) as u32, |root| {
        text(
            root,
            "Protocol (collateral held)",
            (PX + 8, 22),
            16,
            true,
            BLACK,
            HPos::Right,
        )?;
        text(
            root,
            "Asset (collateral held by all)",
            (AX - 8, 22),
            16,
            true,
            BLACK,
            HPos::Left,
        )?;
        edges(root, g, &l)?;
        protocols(root, g, &l)?;
        assets(root, g, &l)?;
        legend(root, g, TOP + l.span + 32)
    })
}

/// A label centred vertically on `at`.
fn text(
    root: &Root<'_>,
    s: &str,
    at: (i32, i32),
    size: u32,
    bold: bool,
    color: RGBColor,
    h: HPos,
) -> Result<(), ReportError> {
    root.draw(&Text::new(
        s,
        at,
        anchored(size, bold, color, h, VPos::Center),
    ))
    .map_err(chart_err)
}

/// A line from `from` to `to`: solid and translucent, or dashed.
fn line(
    root: &Root<'_>,
    from: (i32, i32),
    to: (i32, i32),
    color: RGBColor,
    width: u32,
    dashed: bool,
) -> Result<(), ReportError> {
    if dashed {
        root.draw(&DashedPathElement::new(
            vec![from, to],
            6,
            4,
            color.stroke_width(width),
        ))
        .map_err(chart_err)
    } else {
        root.draw(&PathElement::new(
            vec![from, to],
            color.mix(0.55).stroke_width(width),
        ))
        .map_err(chart_err)
    }
}

/// The exposures, widest lines first so thin ones stay visible on top.
fn edges(root: &Root<'_>, g: &ExposureGraph, l: &Layout) -> Result<(), ReportError> {
    let mut order: Vec<usize> = (0..g.edges.len()).collect();
    order.sort_by_key(|i| std::cmp::Reverse(l.width(&g.edges[*i])));
    for i in order {
        let e = &g.edges[i];
        let from = (PX + 8, l.at(e.protocol, g.protocols.len()));
        let to = (AX - 8, l.at(e.asset, g.assets.len()));
        let color = if e.shared { LOSS } else { LIQ };
        if e.collateral_usd.is_positive() {
            line(root, from, to, color, l.width(e), false)?;
        } else {
            line(root, from, to, color, 1, true)?;
        }
    }
    Ok(())
}

fn protocols(root: &Root<'_>, g: &ExposureGraph, l: &Layout) -> Result<(), ReportError> {
    for (i, p) in g.protocols.iter().enumerate() {
        let y = l.at(i, g.protocols.len());
        root.draw(&Rectangle::new(
            [(PX, y - 16), (PX + 8, y + 16)],
            MARKET.filled(),
        ))
        .map_err(chart_err)?;
        text(
            root,
            &label(&p.name, 32),
            (PX - 8, y - 8),
            17,
            false,
            BLACK,
            HPos::Right,
        )?;
        text(
            root,
            &p.collateral,
            (PX - 8, y + 9),
            14,
            false,
            GREY,
            HPos::Right,
        )?;
    }
    Ok(())
}

fn assets(root: &Root<'_>, g: &ExposureGraph, l: &Layout) -> Result<(), ReportError> {
    for (j, a) in g.assets.iter().enumerate() {
        let y = l.at(j, g.assets.len());
        let color = if a.shared { LOSS } else { LIQ };
        root.draw(&Rectangle::new(
            [(AX - 8, y - 16), (AX, y + 16)],
            color.filled(),
        ))
        .map_err(chart_err)?;
        text(
            root,
            &label(&a.name, 32),
            (AX + 8, y - 8),
            17,
            a.shared,
            BLACK,
            HPos::Left,
        )?;
        let held = if a.collateral_usd.is_positive() {
            a.collateral.clone()
        } else {
            format!("debt only ({})", a.debt)
        };
        let market = if a.shared {
            "shared market"
        } else {
            "market per protocol"
        };
        let note = format!("{held} · {market}");
        text(root, &note, (AX + 8, y + 9), 14, false, GREY, HPos::Left)?;
    }
    Ok(())
}

/// The legend along the bottom, at `y`.
fn legend(root: &Root<'_>, g: &ExposureGraph, y: i32) -> Result<(), ReportError> {
    let items: [(RGBColor, u32, bool, &str); 3] = [
        (LOSS, 6, false, "shared market"),
        (LIQ, 6, false, "market per protocol"),
        (LIQ, 1, true, "debt only"),
    ];
    let mut x = 40;
    for (color, w, dashed, s) in items {
        line(root, (x, y), (x + 28, y), color, w, dashed)?;
        text(root, s, (x + 36, y), 14, false, BLACK, HPos::Left)?;
        x += 200;
    }
    let s = format!("line width: collateral (widest {})", g.max_collateral);
    text(root, &s, (x, y), 14, false, BLACK, HPos::Left)
}
