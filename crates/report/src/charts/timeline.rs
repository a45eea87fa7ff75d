//! The timeline of a run: price (market and oracle) of the main asset,
//! liquidations per bucket, cumulative realised bad debt; three panels on
//! one time axis.

use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use super::draw::{
    chart_err, label, legend_line, legend_upper_right, padded, price_axis, price_panel, secs, svg,
    time_label, usd_panel, wad, y_max, y_range, Root, LIQ, LOSS, MARKET, ORACLE,
};
use crate::error::ReportError;

/// One point of the timeline (exact decimals, `None` when unknown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelinePoint {
    pub ts: String,
    pub market_price: Option<String>,
    pub oracle_price: Option<String>,
    pub liquidated_usd: String,
    pub cum_bad_debt_usd: String,
}

/// The series of the chart in drawing coordinates: x in hours from the
/// hour before the first point, so that plotters' round tick values fall
/// on round hours.
struct Series {
    origin: f64,
    x1: f64,
    bucket: f64,
    market: Vec<(f64, f64)>,
    oracle: Vec<(f64, f64)>,
    liquidated: Vec<(f64, f64)>,
    bad_debt: Vec<(f64, f64)>,
}

fn series(points: &[TimelinePoint]) -> Series {
    let origin = (secs(&points[0].ts) / 3600.0).floor() * 3600.0;
    let xs: Vec<f64> = points
        .iter()
        .map(|p| (secs(&p.ts) - origin) / 3600.0)
        .collect();
    let x1 = xs[xs.len() - 1].max(1.0);
    let bucket = if xs.len() > 1 {
        (x1 - xs[0]) / (xs.len() - 1) as f64
    } else {
        1.0
    };
    let of = |v: fn(&TimelinePoint) -> Option<&str>| -> Vec<(f64, f64)> {
        xs.iter()
            .zip(points)
            .filter_map(|(x, p)| v(p).map(|v| (*x, wad(v))))
            .collect()
    };
    Series {
        origin,
        x1,
        bucket,
        market: of(|p| p.market_price.as_deref()),
        oracle: of(|p| p.oracle_price.as_deref()),
        liquidated: of(|p| Some(&p.liquidated_usd)),
        bad_debt: of(|p| Some(&p.cum_bad_debt_usd)),
    }
}

/// The timeline of `asset` (its name from data: cut to printable
/// characters, escaped by the SVG backend); empty without points.
pub fn timeline_svg(asset: &str, points: &[TimelinePoint]) -> Result<String, ReportError> {
    if points.is_empty() {
        return Ok(String::new());
    }
    let s = series(points);
    let asset = label(asset, 24);
    svg(620, |root| {
        let (top, rest) = root.split_vertically(300);
        let (mid, bottom) = rest.split_vertically(160);
        let fmt_x = |h: &f64| time_label(s.origin, *h);
        prices(&top, &s, &asset, &fmt_x)?;
        liquidations(&mid, &s, &fmt_x)?;
        bad_debt(&bottom, &s, &fmt_x)
    })
}

/// Market and oracle price: both are sampled at bucket ends, so both are
/// drawn the same way; the oracle's dashes let the market line show under
/// it.
fn prices(
    area: &Root<'_>,
    s: &Series,
    asset: &str,
    fmt_x: &dyn Fn(&f64) -> String,
) -> Result<(), ReportError> {
    let (lo, hi) = padded_range(s);
    let price_fmt = price_axis(if hi - lo < 1.0 { 4 } else { 2 });
    let mut c = price_panel(
        area,
        (&format!("{asset} price (USD)"), 16),
        (0.0, s.x1),
        (lo, hi),
        6,
        fmt_x,
        &price_fmt,
    )?;
    c.draw_series(LineSeries::new(
        s.market.iter().copied(),
        MARKET.stroke_width(2),
    ))
    .map_err(chart_err)?
    .label("market")
    .legend(legend_line(MARKET));
    c.draw_series(DashedLineSeries::new(
        s.oracle.iter().copied(),
        6,
        4,
        ORACLE.stroke_width(2),
    ))
    .map_err(chart_err)?
    .label("oracle")
    .legend(legend_line(ORACLE));
    legend_upper_right(&mut c)
}

fn padded_range(s: &Series) -> (f64, f64) {
    let (lo, hi) = y_range(s.market.iter().chain(&s.oracle));
    padded(lo, hi)
}

/// Collateral liquidated per bucket, a bar ending at the bucket's end.
fn liquidations(
    area: &Root<'_>,
    s: &Series,
    fmt_x: &dyn Fn(&f64) -> String,
) -> Result<(), ReportError> {
    let lmax = y_max(s.liquidated.iter());
    let mut c = usd_panel(
        area,
        "Collateral liquidated per bucket (USD)",
        (0.0, s.x1),
        (lmax * 1.1).max(1.0),
        fmt_x,
    )?;
    let w = s.bucket * 0.8;
    c.draw_series(
        s.liquidated
            .iter()
            .filter(|(_, y)| *y > 0.0)
            .map(|(x, y)| Rectangle::new([(*x - w, 0.0), (*x, *y)], LIQ.filled())),
    )
    .map_err(chart_err)?;
    Ok(())
}

/// Cumulative realised bad debt, an area.
fn bad_debt(
    area: &Root<'_>,
    s: &Series,
    fmt_x: &dyn Fn(&f64) -> String,
) -> Result<(), ReportError> {
    let bmax = y_max(s.bad_debt.iter());
    let caption = if bmax > 0.0 {
        "Cumulative realised bad debt (USD)"
    } else {
        "Cumulative realised bad debt (USD): none realised in the window"
    };
    let mut c = usd_panel(area, caption, (0.0, s.x1), (bmax * 1.1).max(1000.0), fmt_x)?;
    c.draw_series(
        AreaSeries::new(s.bad_debt.iter().copied(), 0.0, LOSS.mix(0.25))
            .border_style(LOSS.stroke_width(2)),
    )
    .map_err(chart_err)?;
    Ok(())
}
