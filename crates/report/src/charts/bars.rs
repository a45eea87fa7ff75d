//! Bad debt of each protocol of a contagion, alone (grey) and together
//! (red), side by side, the amounts above the bars and the protocols'
//! names under them.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use serde::Serialize;
use shortfall_core::Wad;

use super::draw::{
    anchored, chart_err, label, legend_upper_right, svg, usd_axis, Panel, Root, GRID, LIQ, LOSS,
};
use crate::error::ReportError;
use crate::format as f;

/// A group of the bad debt chart.
#[derive(Debug, Clone, Serialize)]
pub struct BarRow {
    pub protocol: String,
    pub alone_usd: Wad,
    pub together_usd: Wad,
    pub alone: String,
    pub together: String,
}

/// The chart of `bars`; empty without bars.
pub fn contagion_bad_debt_svg(bars: &[BarRow]) -> Result<String, ReportError> {
    if bars.is_empty() {
        return Ok(String::new());
    }
    let n = bars.len() as f64;
    let ymax = bars
        .iter()
        .flat_map(|b| [b.alone_usd.to_f64(), b.together_usd.to_f64()])
        .fold(0.0f64, f64::max);
    let ymax = if ymax > 0.0 { ymax * 1.15 } else { 1000.0 };
    svg(380, |root| {
        let mut ch = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(80)
            .build_cartesian_2d(0.0..n, 0.0..ymax)
            .map_err(chart_err)?;
        ch.configure_mesh()
            .disable_x_mesh()
            .light_line_style(GRID)
            .x_labels(0)
            .y_labels(6)
            .y_desc("Bad debt (USD)")
            .y_label_formatter(&usd_axis)
            .draw()
            .map_err(chart_err)?;
        series(&mut ch, bars, (0.12, 0.48), LIQ, "alone", |r| r.alone_usd)?;
        series(&mut ch, bars, (0.52, 0.88), LOSS, "together", |r| {
            r.together_usd
        })?;
        legend_upper_right(&mut ch)?;
        names(root, &ch, bars)
    })
}

/// One bar per protocol from `a` to `b` within its slot, its amount above.
fn series(
    ch: &mut Panel<'_, '_>,
    bars: &[BarRow],
    (a, b): (f64, f64),
    color: RGBColor,
    name: &str,
    value: fn(&BarRow) -> Wad,
) -> Result<(), ReportError> {
    let y = |r: &BarRow| value(r).to_f64().max(0.0);
    ch.draw_series(bars.iter().enumerate().map(|(i, r)| {
        let x = i as f64;
        Rectangle::new([(x + a, 0.0), (x + b, y(r))], color.filled())
    }))
    .map_err(chart_err)?
    .label(name)
    .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled()));
    ch.draw_series(bars.iter().enumerate().map(|(i, r)| {
        Text::new(
            f::usd_short(value(r)),
            (i as f64 + (a + b) / 2.0, y(r)),
            anchored(14, false, BLACK, HPos::Center, VPos::Bottom),
        )
    }))
    .map_err(chart_err)?;
    Ok(())
}

/// Protocol names under their bars (pixel positions of the chart).
fn names(root: &Root<'_>, ch: &Panel<'_, '_>, bars: &[BarRow]) -> Result<(), ReportError> {
    for (i, r) in bars.iter().enumerate() {
        let (x, y) = ch.backend_coord(&(i as f64 + 0.5, 0.0));
        root.draw(&Text::new(
            label(&r.protocol, 32),
            (x, y + 8),
            anchored(16, false, BLACK, HPos::Center, VPos::Top),
        ))
        .map_err(chart_err)?;
    }
    Ok(())
}
