//! A histogram of simulated outcomes: paths per bin (grey bars), the VaR
//! 95% (orange) and 99% (red) and the historical path (blue) as vertical
//! lines. No text from data is drawn.

use plotters::prelude::*;
use serde::Serialize;
use shortfall_core::Wad;

use super::draw::{
    chart_err, legend_line, legend_upper_right, padded, svg, usd_axis, GRID, LIQ, LOSS, MARKET,
    ORACLE,
};
use crate::error::ReportError;

/// One bin of a histogram: outcomes in `[lo, hi)` (the last bin closed).
#[derive(Debug, Clone, Serialize)]
pub struct Bin {
    pub lo_usd: Wad,
    pub hi_usd: Wad,
    pub count: u64,
}

/// What the chart draws.
#[derive(Debug, Clone, Copy)]
pub struct HistogramChart<'a> {
    pub bins: &'a [Bin],
    pub var95_usd: Wad,
    pub var99_usd: Wad,
    pub historical_usd: Wad,
}

/// The chart of `h`.
pub fn stress_histogram_svg(h: &HistogramChart<'_>) -> Result<String, ReportError> {
    let bars: Vec<(f64, f64, f64)> = h
        .bins
        .iter()
        .map(|b| (b.lo_usd.to_f64(), b.hi_usd.to_f64(), b.count as f64))
        .collect();
    let marks = [
        (h.var95_usd.to_f64(), ORACLE, "VaR 95%"),
        (h.var99_usd.to_f64(), LOSS, "VaR 99%"),
        (h.historical_usd.to_f64(), MARKET, "historical path"),
    ];
    let lo = bars
        .iter()
        .map(|b| b.0)
        .chain(marks.iter().map(|m| m.0))
        .fold(f64::INFINITY, f64::min);
    let hi = bars
        .iter()
        .map(|b| b.1)
        .chain(marks.iter().map(|m| m.0))
        .fold(f64::NEG_INFINITY, f64::max);
    let (x0, x1) = padded(lo.min(0.0), hi);
    let ymax = bars.iter().map(|b| b.2).fold(0.0, f64::max).max(1.0) * 1.15;
    svg(360, |root| {
        let mut ch = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, 0.0..ymax)
            .map_err(chart_err)?;
        ch.configure_mesh()
            .light_line_style(GRID)
            .x_labels(8)
            .y_labels(6)
            .x_desc("USD")
            .y_desc("Paths")
            .x_label_formatter(&usd_axis)
            .y_label_formatter(&|y: &f64| format!("{y:.0}"))
            .draw()
            .map_err(chart_err)?;
        // A bin of zero width (all outcomes equal) gets a visible bar.
        let w = ((x1 - x0) / 200.0).max(f64::MIN_POSITIVE);
        ch.draw_series(bars.iter().map(|(a, b, c)| {
            let b = if b - a < w { a + w } else { *b };
            Rectangle::new([(*a, 0.0), (b, *c)], LIQ.mix(0.6).filled())
        }))
        .map_err(chart_err)?;
        for (x, color, name) in marks {
            ch.draw_series(LineSeries::new(
                vec![(x, 0.0), (x, ymax)],
                color.stroke_width(2),
            ))
            .map_err(chart_err)?
            .label(name)
            .legend(legend_line(color));
        }
        legend_upper_right(&mut ch)
    })
}
