//! The Pareto chart of a sweep's crisis: every variant as a dot
//! (liquidated volume across, bad debt up), the frontier as a line through
//! its variants, the baseline (scenario unchanged) as a red triangle. No
//! text from data is drawn (the table beside it names the variants).

use plotters::prelude::*;
use serde::Serialize;

use super::draw::{
    chart_err, legend_line, legend_upper_right, svg, usd_axis, wad, GRID, LIQ, LOSS, MARKET,
};
use crate::error::ReportError;

/// A dot of the frontier chart (wad text, as the chart reads it).
#[derive(Debug, Clone, Serialize)]
pub struct ChartPoint {
    pub variant_id: String,
    pub liquidated_volume_usd: String,
    pub bad_debt_usd: String,
    pub frontier: bool,
}

/// The data of the Pareto chart of one crisis.
#[derive(Debug, Clone, Serialize)]
pub struct FrontierChart {
    /// Every variant, in variant order.
    pub points: Vec<ChartPoint>,
    /// The frontier's points in ascending liquidated volume.
    pub frontier: Vec<ChartPoint>,
    pub baseline: ChartPoint,
}

fn xy(p: &ChartPoint) -> (f64, f64) {
    (wad(&p.liquidated_volume_usd), wad(&p.bad_debt_usd))
}

/// The chart of `c`.
pub fn sweep_frontier_svg(c: &FrontierChart) -> Result<String, ReportError> {
    let dots: Vec<(f64, f64)> = c.points.iter().filter(|p| !p.frontier).map(xy).collect();
    let front: Vec<(f64, f64)> = c.frontier.iter().map(xy).collect();
    let base = xy(&c.baseline);
    let (xmax, ymax) = dots
        .iter()
        .chain(&front)
        .chain(std::iter::once(&base))
        .fold((0.0f64, 0.0f64), |(a, b), (x, y)| (a.max(*x), b.max(*y)));
    let xmax = if xmax > 0.0 { xmax * 1.08 } else { 1000.0 };
    let ymax = if ymax > 0.0 { ymax * 1.1 } else { 1000.0 };
    svg(440, |root| {
        let mut ch = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d(0.0..xmax, 0.0..ymax)
            .map_err(chart_err)?;
        ch.configure_mesh()
            .light_line_style(GRID)
            .x_labels(8)
            .y_labels(6)
            .x_desc("Liquidated volume (USD)")
            .y_desc("Bad debt (USD)")
            .x_label_formatter(&usd_axis)
            .y_label_formatter(&usd_axis)
            .draw()
            .map_err(chart_err)?;
        ch.draw_series(
            dots.iter()
                .map(|p| Circle::new(*p, 3, LIQ.mix(0.55).filled())),
        )
        .map_err(chart_err)?
        .label("variant")
        .legend(|(x, y)| Circle::new((x + 9, y), 3, LIQ.mix(0.55).filled()));
        ch.draw_series(LineSeries::new(
            front.iter().copied(),
            MARKET.stroke_width(2),
        ))
        .map_err(chart_err)?
        .label("Pareto frontier")
        .legend(legend_line(MARKET));
        ch.draw_series(front.iter().map(|p| Circle::new(*p, 4, MARKET.filled())))
            .map_err(chart_err)?;
        ch.draw_series(std::iter::once(TriangleMarker::new(base, 8, LOSS.filled())))
            .map_err(chart_err)?
            .label("baseline (scenario unchanged)")
            .legend(|(x, y)| TriangleMarker::new((x + 9, y), 6, LOSS.filled()));
        legend_upper_right(&mut ch)
    })
}
