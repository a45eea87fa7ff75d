//! The insurance fund of a perp run over time: a step line, each balance
//! held until the next change.

use plotters::prelude::*;
use serde::{Deserialize, Serialize};
use shortfall_core::Wad;

use super::draw::{chart_err, svg, time_label, usd_panel, MARKET};
use crate::error::ReportError;

/// A point of the insurance fund chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundPoint {
    pub ts: String,
    pub secs: i64,
    pub balance_usd: Wad,
}

/// The chart of `points` (in time order); empty with fewer than two.
pub fn perp_fund_svg(points: &[FundPoint]) -> Result<String, ReportError> {
    if points.len() < 2 {
        return Ok(String::new());
    }
    let origin = (points[0].secs as f64 / 3600.0).floor() * 3600.0;
    let xy: Vec<(f64, f64)> = points
        .iter()
        .map(|p| ((p.secs as f64 - origin) / 3600.0, p.balance_usd.to_f64()))
        .collect();
    let x1 = xy[xy.len() - 1].0.max(1.0);
    let ymax = xy.iter().fold(0.0f64, |a, (_, y)| a.max(*y)).max(1.0) * 1.1;
    let mut steps = Vec::with_capacity(xy.len() * 2);
    for (i, p) in xy.iter().enumerate() {
        if i > 0 {
            steps.push((p.0, xy[i - 1].1));
        }
        steps.push(*p);
    }
    svg(260, |root| {
        let fmt_x = |h: &f64| time_label(origin, *h);
        let mut c = usd_panel(
            root,
            "Insurance fund balance (USD)",
            (0.0, x1),
            ymax,
            &fmt_x,
        )?;
        c.draw_series(
            AreaSeries::new(steps.iter().copied(), 0.0, MARKET.mix(0.15))
                .border_style(MARKET.stroke_width(2)),
        )
        .map_err(chart_err)?;
        Ok(())
    })
}
