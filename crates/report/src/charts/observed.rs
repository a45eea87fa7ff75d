//! Observed liquidations over time: the USD price of the oracle's unit
//! (ETH for Aave v2) implied by the events, and debt repaid per day.

use plotters::prelude::*;
use shortfall_core::Micros;

use super::draw::{
    chart_err, label, padded, price_axis, price_panel, secs, svg, usd_panel, wad, y_max, y_range,
    Root, LIQ, MARKET,
};
use crate::error::ReportError;
use crate::format as f;

/// One day of the chart.
#[derive(Debug, Clone, Copy)]
pub struct Day<'a> {
    /// `YYYY-MM-DD`.
    pub day: &'a str,
    /// Debt repaid that day, USD (wad text).
    pub repaid_usd: &'a str,
    /// The day's USD price of the price unit (wad text), when known.
    pub unit_usd: Option<&'a str>,
}

/// The chart of `days` (in order); `unit`: the price unit's name from data
/// (cut to printable characters). Empty without days.
pub fn observed_svg(days: &[Day<'_>], unit: Option<&str>) -> Result<String, ReportError> {
    if days.is_empty() {
        return Ok(String::new());
    }
    let day_secs = |d: &str| secs(&format!("{d} 00:00"));
    let origin = day_secs(days[0].day);
    let xs: Vec<f64> = days
        .iter()
        .map(|d| (day_secs(d.day) - origin) / 86_400.0)
        .collect();
    let x1 = xs[xs.len() - 1] + 1.0;
    let fmt_x = |x: &f64| {
        let m = f::minute(Micros::from_secs((origin + x * 86_400.0).round() as i64));
        m.get(..10).unwrap_or(&m).to_string()
    };
    let px: Vec<(f64, f64)> = xs
        .iter()
        .zip(days)
        .filter_map(|(x, d)| d.unit_usd.map(|v| (*x + 0.5, wad(v))))
        .collect();
    let bars: Vec<(f64, f64)> = xs
        .iter()
        .zip(days)
        .map(|(x, d)| (*x, wad(d.repaid_usd)))
        .collect();
    svg(460, |root| {
        let (top, bottom) = root.split_vertically(220);
        if !px.is_empty() {
            unit_price(&top, &px, unit, x1, &fmt_x)?;
        }
        let ymax = y_max(bars.iter());
        let mut c = usd_panel(
            &bottom,
            "Debt repaid by liquidators per day (USD at the event)",
            (0.0, x1),
            (ymax * 1.1).max(1.0),
            &fmt_x,
        )?;
        c.draw_series(
            bars.iter()
                .filter(|(_, y)| *y > 0.0)
                .map(|(x, y)| Rectangle::new([(*x, 0.0), (*x + 0.9, *y)], LIQ.filled())),
        )
        .map_err(chart_err)?;
        Ok(())
    })
}

/// The daily median price of the unit, a line.
fn unit_price(
    area: &Root<'_>,
    px: &[(f64, f64)],
    unit: Option<&str>,
    x1: f64,
    fmt_x: &dyn Fn(&f64) -> String,
) -> Result<(), ReportError> {
    let (lo, hi) = y_range(px.iter());
    let (lo, hi) = padded(lo, hi);
    let unit = label(unit.unwrap_or("price unit"), 12);
    let mut c = price_panel(
        area,
        (
            &format!("{unit} in USD, daily median implied by the events' prices"),
            14,
        ),
        (0.0, x1),
        (lo, hi),
        5,
        fmt_x,
        &price_axis(2),
    )?;
    c.draw_series(LineSeries::new(px.iter().copied(), MARKET.stroke_width(2)))
        .map_err(chart_err)?;
    Ok(())
}
