//! SVG charts of a report, drawn with plotters from the report model (so a
//! chart shows only data that is in `report.json`). Floats appear here only
//! as drawing coordinates. Text is escaped by plotters' SVG backend; labels
//! from chain data are additionally cut to printable characters.

use plotters::prelude::*;
use shortfall_core::{Micros, Wad};

use crate::format as f;
use crate::model::{Timeline, WaterfallRow};
use crate::ReportError;

const WIDTH: u32 = 960;
const MARKET: RGBColor = RGBColor(31, 94, 168);
const ORACLE: RGBColor = RGBColor(214, 120, 0);
const LIQ: RGBColor = RGBColor(90, 90, 90);
const LOSS: RGBColor = RGBColor(178, 34, 34);
const GRID: RGBColor = RGBColor(225, 225, 225);

fn chart_err<E: std::fmt::Debug>(e: E) -> ReportError {
    ReportError::Chart(format!("{e:?}"))
}

fn wad(s: &str) -> f64 {
    s.parse::<Wad>().map(Wad::to_f64).unwrap_or(0.0)
}

fn secs(iso: &str) -> f64 {
    Micros::parse(iso).map(|m| m.secs() as f64).unwrap_or(0.0)
}

/// Keeps printable characters of a label from data, at most `n`.
pub fn label(s: &str, n: usize) -> String {
    s.chars().filter(|c| !c.is_control()).take(n).collect()
}

/// `MM-DD HH:MM` of `hours` after `origin` (epoch seconds).
fn time_label(origin: f64, hours: f64) -> String {
    let m = f::minute(Micros::from_secs((origin + hours * 3600.0).round() as i64));
    m.get(5..).unwrap_or(&m).to_string()
}

fn padded(lo: f64, hi: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    if hi <= lo {
        let d = if lo.abs() > 0.0 { lo.abs() * 0.05 } else { 1.0 };
        return (lo - d, hi + d);
    }
    let d = (hi - lo) * 0.06;
    (lo - d, hi + d)
}

fn usd_axis(y: &f64) -> String {
    f::usd_short(Wad((*y * 1e18) as i128))
}

/// Price axis labels: the same decimals on every tick, enough for the range
/// (a stablecoin between 0.78 and 1.00 gets four, ETH at 100-200 two).
fn price_axis(places: u32) -> impl Fn(&f64) -> String {
    move |y: &f64| f::decimal(Wad((*y * 1e18) as i128), places)
}

type Panel<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// The series legend of a chart, boxed in its upper right corner.
fn legend_upper_right<'a, 'b: 'a>(c: &mut Panel<'a, 'b>) -> Result<(), ReportError> {
    c.configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(chart_err)
}

/// A panel of USD values from 0 to `ymax` on the timeline's time axis.
fn usd_panel<'a, 'b>(
    area: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    caption: &str,
    (x0, x1): (f64, f64),
    ymax: f64,
    fmt_x: &dyn Fn(&f64) -> String,
) -> Result<Panel<'a, 'b>, ReportError> {
    let mut c = ChartBuilder::on(area)
        .margin(8)
        .caption(caption, ("sans-serif", 14))
        .x_label_area_size(22)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, 0.0..ymax)
        .map_err(chart_err)?;
    c.configure_mesh()
        .light_line_style(GRID)
        .x_labels(8)
        .y_labels(4)
        .x_label_formatter(fmt_x)
        .y_label_formatter(&usd_axis)
        .draw()
        .map_err(chart_err)?;
    Ok(c)
}

/// The timeline: price (market and oracle) of the main asset, liquidations
/// per bucket, cumulative realised bad debt; three panels on one time axis.
pub fn timeline_svg(t: &Timeline) -> Result<String, ReportError> {
    let mut svg = String::new();
    if t.points.is_empty() {
        return Ok(svg);
    }
    // x in hours from the hour before the first point, so that plotters'
    // round tick values fall on round hours.
    let origin = (secs(&t.points[0].ts) / 3600.0).floor() * 3600.0;
    let xs: Vec<f64> = t
        .points
        .iter()
        .map(|p| (secs(&p.ts) - origin) / 3600.0)
        .collect();
    let x0 = 0.0;
    let x1 = xs[xs.len() - 1].max(x0 + 1.0);
    let bucket = if xs.len() > 1 {
        (x1 - xs[0]) / (xs.len() - 1) as f64
    } else {
        1.0
    };
    let mkt: Vec<(f64, f64)> = xs
        .iter()
        .zip(&t.points)
        .filter_map(|(x, p)| p.market_price.as_deref().map(|v| (*x, wad(v))))
        .collect();
    let orc: Vec<(f64, f64)> = xs
        .iter()
        .zip(&t.points)
        .filter_map(|(x, p)| p.oracle_price.as_deref().map(|v| (*x, wad(v))))
        .collect();
    let liq: Vec<(f64, f64)> = xs
        .iter()
        .zip(&t.points)
        .map(|(x, p)| (*x, wad(&p.liquidated_usd)))
        .collect();
    let bad: Vec<(f64, f64)> = xs
        .iter()
        .zip(&t.points)
        .map(|(x, p)| (*x, wad(&p.cum_bad_debt_usd)))
        .collect();
    let asset = label(&t.asset, 24);
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 620)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let (top, rest) = root.split_vertically(300);
        let (mid, bottom) = rest.split_vertically(160);
        let fmt_x = |h: &f64| time_label(origin, *h);

        let (lo, hi) = mkt
            .iter()
            .chain(&orc)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (_, y)| {
                (a.min(*y), b.max(*y))
            });
        let (lo, hi) = padded(lo, hi);
        let price_fmt = price_axis(if hi - lo < 1.0 { 4 } else { 2 });
        let mut c = ChartBuilder::on(&top)
            .margin(8)
            .caption(format!("{asset} price (USD)"), ("sans-serif", 16))
            .x_label_area_size(22)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, lo..hi)
            .map_err(chart_err)?;
        c.configure_mesh()
            .light_line_style(GRID)
            .x_labels(8)
            .y_labels(6)
            .x_label_formatter(&fmt_x)
            .y_label_formatter(&price_fmt)
            .draw()
            .map_err(chart_err)?;
        c.draw_series(LineSeries::new(mkt.iter().copied(), MARKET.stroke_width(2)))
            .map_err(chart_err)?
            .label("market")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], MARKET.stroke_width(2)));
        // Both series are sampled at bucket ends, so both are drawn the same
        // way; the oracle's dashes let the market line show under it.
        c.draw_series(DashedLineSeries::new(
            orc.iter().copied(),
            6,
            4,
            ORACLE.stroke_width(2),
        ))
        .map_err(chart_err)?
        .label("oracle")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], ORACLE.stroke_width(2)));
        legend_upper_right(&mut c)?;

        let lmax = liq.iter().fold(0.0f64, |a, (_, y)| a.max(*y));
        let mut c = usd_panel(
            &mid,
            "Collateral liquidated per bucket (USD)",
            (x0, x1),
            (lmax * 1.1).max(1.0),
            &fmt_x,
        )?;
        let w = bucket * 0.8;
        c.draw_series(
            liq.iter()
                .filter(|(_, y)| *y > 0.0)
                .map(|(x, y)| Rectangle::new([(*x - w, 0.0), (*x, *y)], LIQ.filled())),
        )
        .map_err(chart_err)?;

        let bmax = bad.iter().fold(0.0f64, |a, (_, y)| a.max(*y));
        let caption = if bmax > 0.0 {
            "Cumulative realised bad debt (USD)"
        } else {
            "Cumulative realised bad debt (USD): none realised in the window"
        };
        let mut c = usd_panel(&bottom, caption, (x0, x1), (bmax * 1.1).max(1000.0), &fmt_x)?;
        c.draw_series(
            AreaSeries::new(bad.iter().copied(), 0.0, LOSS.mix(0.25))
                .border_style(LOSS.stroke_width(2)),
        )
        .map_err(chart_err)?;
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}

/// The loss waterfall: each layer a bar starting where the previous ended.
pub fn waterfall_svg(rows: &[WaterfallRow]) -> Result<String, ReportError> {
    let mut svg = String::new();
    let vals: Vec<f64> = rows.iter().map(|r| wad(&r.value).max(0.0)).collect();
    let total: f64 = vals.iter().sum();
    {
        let h = 60 + 44 * rows.len() as u32;
        let root = SVGBackend::with_string(&mut svg, (WIDTH, h)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let n = rows.len().max(1) as f64;
        let mut c = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(24)
            .y_label_area_size(10)
            .build_cartesian_2d(0.0..(total * 1.05).max(1.0), 0.0..n)
            .map_err(chart_err)?;
        c.configure_mesh()
            .disable_y_mesh()
            .disable_y_axis()
            .light_line_style(GRID)
            .x_labels(6)
            .x_label_formatter(&usd_axis)
            .draw()
            .map_err(chart_err)?;
        let mut start = 0.0;
        let colours = [LIQ, ORACLE, MARKET, LOSS];
        let mut bars = Vec::new();
        for (i, v) in vals.iter().enumerate() {
            let y = n - i as f64;
            let colour = colours[i % colours.len()];
            bars.push(Rectangle::new(
                [(start, y - 0.95), (start + v, y - 0.45)],
                colour.filled(),
            ));
            start += v;
        }
        c.draw_series(bars).map_err(chart_err)?;
        // Layer names above their bars, from the bar's start.
        let mut start = 0.0;
        let mut texts = Vec::new();
        for (i, (r, v)) in rows.iter().zip(&vals).enumerate() {
            let y = n - i as f64;
            let at = if start > total * 0.6 {
                total * 0.6
            } else {
                start
            };
            texts.push(Text::new(
                format!("{}: {}", label(&r.layer, 32), r.display),
                (at, y - 0.1),
                ("sans-serif", 14).into_font(),
            ));
            start += v;
        }
        c.draw_series(texts).map_err(chart_err)?;
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}

/// Observed liquidations over time: the USD price of the oracle's unit
/// (ETH for Aave v2) implied by the events, and debt repaid per day.
pub fn observed_svg(
    days: &[crate::observed::DayRow],
    unit: Option<&str>,
) -> Result<String, ReportError> {
    let mut svg = String::new();
    if days.is_empty() {
        return Ok(svg);
    }
    let day_secs = |d: &str| secs(&format!("{d} 00:00"));
    let origin = day_secs(&days[0].day);
    let xs: Vec<f64> = days
        .iter()
        .map(|d| (day_secs(&d.day) - origin) / 86_400.0)
        .collect();
    let x1 = xs[xs.len() - 1] + 1.0;
    let fmt_x = |x: &f64| {
        let m = f::minute(Micros::from_secs((origin + x * 86_400.0).round() as i64));
        m.get(..10).unwrap_or(&m).to_string()
    };
    let px: Vec<(f64, f64)> = xs
        .iter()
        .zip(days)
        .filter_map(|(x, d)| d.unit_usd.as_deref().map(|v| (*x + 0.5, wad(v))))
        .collect();
    let bars: Vec<(f64, f64)> = xs
        .iter()
        .zip(days)
        .map(|(x, d)| (*x, wad(&d.repaid_usd)))
        .collect();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 460)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let (top, bottom) = root.split_vertically(220);
        if !px.is_empty() {
            let (lo, hi) = px
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (_, y)| {
                    (a.min(*y), b.max(*y))
                });
            let (lo, hi) = padded(lo, hi);
            let unit = label(unit.unwrap_or("price unit"), 12);
            let mut c = ChartBuilder::on(&top)
                .margin(8)
                .caption(
                    format!("{unit} in USD, daily median implied by the events' prices"),
                    ("sans-serif", 14),
                )
                .x_label_area_size(22)
                .y_label_area_size(70)
                .build_cartesian_2d(0.0..x1, lo..hi)
                .map_err(chart_err)?;
            c.configure_mesh()
                .light_line_style(GRID)
                .x_labels(8)
                .y_labels(5)
                .x_label_formatter(&fmt_x)
                .y_label_formatter(&price_axis(2))
                .draw()
                .map_err(chart_err)?;
            c.draw_series(LineSeries::new(px.iter().copied(), MARKET.stroke_width(2)))
                .map_err(chart_err)?;
        }
        let ymax = bars.iter().fold(0.0f64, |a, (_, y)| a.max(*y));
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
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}

/// The Pareto chart of a sweep's crisis: every variant as a dot
/// (liquidated volume across, bad debt up), the frontier as a line through
/// its variants, the baseline (scenario unchanged) as a red triangle. No
/// text from data is drawn (the table beside it names the variants).
pub fn sweep_frontier_svg(c: &crate::sweep::FrontierChart) -> Result<String, ReportError> {
    let mut svg = String::new();
    let xy = |p: &crate::sweep::ChartPoint| (wad(&p.liquidated_volume_usd), wad(&p.bad_debt_usd));
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
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 440)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let mut ch = ChartBuilder::on(&root)
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
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], MARKET.stroke_width(2)));
        ch.draw_series(front.iter().map(|p| Circle::new(*p, 4, MARKET.filled())))
            .map_err(chart_err)?;
        ch.draw_series(std::iter::once(TriangleMarker::new(base, 8, LOSS.filled())))
            .map_err(chart_err)?
            .label("baseline (scenario unchanged)")
            .legend(|(x, y)| TriangleMarker::new((x + 9, y), 6, LOSS.filled()));
        legend_upper_right(&mut ch)?;
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}

/// A histogram of a stress run's outcome: paths per bin (grey bars), the
/// VaR 95% (orange) and 99% (red) and the historical path (blue) as
/// vertical lines. No text from data is drawn.
pub fn stress_histogram_svg(h: &crate::stress::Histogram) -> Result<String, ReportError> {
    let mut svg = String::new();
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
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 360)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let mut ch = ChartBuilder::on(&root)
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
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        }
        legend_upper_right(&mut ch)?;
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}

/// Text style of a label drawn at a pixel position, anchored by `h`/`v`.
fn anchored(
    size: u32,
    bold: bool,
    color: RGBColor,
    h: plotters::style::text_anchor::HPos,
    v: plotters::style::text_anchor::VPos,
) -> TextStyle<'static> {
    let font = if bold {
        ("sans-serif", size, FontStyle::Bold).into_font()
    } else {
        ("sans-serif", size).into_font()
    };
    font.color(&color)
        .pos(plotters::style::text_anchor::Pos::new(h, v))
}

/// The exposure graph of a contagion: protocols on the left, assets on
/// the right, a line per exposure whose width is proportional to the
/// collateral (dashed when debt only); assets whose market is shared and
/// their lines in red, the others grey. Names from data are cut to
/// printable characters and escaped by the SVG backend.
pub fn contagion_exposure_svg(g: &crate::contagion::ExposureGraph) -> Result<String, ReportError> {
    use plotters::style::text_anchor::{HPos, VPos};
    let mut svg = String::new();
    if g.edges.is_empty() {
        return Ok(svg);
    }
    const ROW: i32 = 56;
    const TOP: i32 = 56;
    const PX: i32 = 300;
    const AX: i32 = 640;
    const MAX_W: f64 = 24.0;
    let rows = g.protocols.len().max(g.assets.len()).max(1) as i32;
    let span = rows * ROW;
    let h = (TOP + span + 64) as u32;
    // Nodes of a column spread evenly over the tallest column.
    let at = |i: usize, n: usize| TOP + ((2 * i as i32 + 1) * span) / (2 * n.max(1) as i32);
    let max = g
        .edges
        .iter()
        .map(|e| e.collateral_usd.to_f64())
        .fold(0.0f64, f64::max);
    let width = |e: &crate::contagion::GraphEdge| -> u32 {
        if max > 0.0 {
            ((e.collateral_usd.to_f64() / max * MAX_W).round() as u32).max(1)
        } else {
            1
        }
    };
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, h)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let grey = RGBColor(60, 60, 60);
        root.draw(&Text::new(
            "Protocol (collateral held)",
            (PX + 8, 22),
            anchored(16, true, BLACK, HPos::Right, VPos::Center),
        ))
        .map_err(chart_err)?;
        root.draw(&Text::new(
            "Asset (collateral held by all)",
            (AX - 8, 22),
            anchored(16, true, BLACK, HPos::Left, VPos::Center),
        ))
        .map_err(chart_err)?;
        // Widest lines first, so thin ones stay visible on top.
        let mut order: Vec<usize> = (0..g.edges.len()).collect();
        order.sort_by_key(|i| std::cmp::Reverse(width(&g.edges[*i])));
        for i in order {
            let e = &g.edges[i];
            let from = (PX + 8, at(e.protocol, g.protocols.len()));
            let to = (AX - 8, at(e.asset, g.assets.len()));
            let color = if e.shared { LOSS } else { LIQ };
            if e.collateral_usd.is_positive() {
                root.draw(&PathElement::new(
                    vec![from, to],
                    color.mix(0.55).stroke_width(width(e)),
                ))
                .map_err(chart_err)?;
            } else {
                root.draw(&plotters::element::DashedPathElement::new(
                    vec![from, to],
                    6,
                    4,
                    color.stroke_width(1),
                ))
                .map_err(chart_err)?;
            }
        }
        for (i, p) in g.protocols.iter().enumerate() {
            let y = at(i, g.protocols.len());
            root.draw(&Rectangle::new(
                [(PX, y - 16), (PX + 8, y + 16)],
                MARKET.filled(),
            ))
            .map_err(chart_err)?;
            root.draw(&Text::new(
                label(&p.name, 32),
                (PX - 8, y - 8),
                anchored(17, false, BLACK, HPos::Right, VPos::Center),
            ))
            .map_err(chart_err)?;
            root.draw(&Text::new(
                p.collateral.clone(),
                (PX - 8, y + 9),
                anchored(14, false, grey, HPos::Right, VPos::Center),
            ))
            .map_err(chart_err)?;
        }
        for (j, a) in g.assets.iter().enumerate() {
            let y = at(j, g.assets.len());
            let color = if a.shared { LOSS } else { LIQ };
            root.draw(&Rectangle::new(
                [(AX - 8, y - 16), (AX, y + 16)],
                color.filled(),
            ))
            .map_err(chart_err)?;
            root.draw(&Text::new(
                label(&a.name, 32),
                (AX + 8, y - 8),
                anchored(17, a.shared, BLACK, HPos::Left, VPos::Center),
            ))
            .map_err(chart_err)?;
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
            root.draw(&Text::new(
                note,
                (AX + 8, y + 9),
                anchored(14, false, grey, HPos::Left, VPos::Center),
            ))
            .map_err(chart_err)?;
        }
        // Legend along the bottom.
        let y = TOP + span + 32;
        let items: [(RGBColor, u32, bool, &str); 3] = [
            (LOSS, 6, false, "shared market"),
            (LIQ, 6, false, "market per protocol"),
            (LIQ, 1, true, "debt only"),
        ];
        let mut x = 40;
        for (color, w, dashed, text) in items {
            if dashed {
                root.draw(&plotters::element::DashedPathElement::new(
                    vec![(x, y), (x + 28, y)],
                    6,
                    4,
                    color.stroke_width(w),
                ))
                .map_err(chart_err)?;
            } else {
                root.draw(&PathElement::new(
                    vec![(x, y), (x + 28, y)],
                    color.mix(0.55).stroke_width(w),
                ))
                .map_err(chart_err)?;
            }
            root.draw(&Text::new(
                text,
                (x + 36, y),
                anchored(14, false, BLACK, HPos::Left, VPos::Center),
            ))
            .map_err(chart_err)?;
            x += 200;
        }
        root.draw(&Text::new(
            format!("line width: collateral (widest {})", g.max_collateral),
            (x, y),
            anchored(14, false, BLACK, HPos::Left, VPos::Center),
        ))
        .map_err(chart_err)?;
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}

/// Bad debt of each protocol of a contagion, alone (grey) and together
/// (red), side by side, the amounts above the bars and the protocols'
/// names under them.
pub fn contagion_bad_debt_svg(bars: &[crate::contagion::BarRow]) -> Result<String, ReportError> {
    use plotters::style::text_anchor::{HPos, VPos};
    let mut svg = String::new();
    if bars.is_empty() {
        return Ok(svg);
    }
    let n = bars.len() as f64;
    let ymax = bars
        .iter()
        .flat_map(|b| [b.alone_usd.to_f64(), b.together_usd.to_f64()])
        .fold(0.0f64, f64::max);
    let ymax = if ymax > 0.0 { ymax * 1.15 } else { 1000.0 };
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 380)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let mut ch = ChartBuilder::on(&root)
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
        let series = [(0.12, 0.48, LIQ, "alone"), (0.52, 0.88, LOSS, "together")];
        for (k, (a, b, color, name)) in series.into_iter().enumerate() {
            let value = |r: &crate::contagion::BarRow| {
                if k == 0 {
                    r.alone_usd.to_f64()
                } else {
                    r.together_usd.to_f64()
                }
            };
            ch.draw_series(bars.iter().enumerate().map(|(i, r)| {
                let x = i as f64;
                Rectangle::new([(x + a, 0.0), (x + b, value(r).max(0.0))], color.filled())
            }))
            .map_err(chart_err)?
            .label(name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled()));
            ch.draw_series(bars.iter().enumerate().map(|(i, r)| {
                let shown = if k == 0 { r.alone_usd } else { r.together_usd };
                Text::new(
                    f::usd_short(shown),
                    (i as f64 + (a + b) / 2.0, value(r).max(0.0)),
                    anchored(14, false, BLACK, HPos::Center, VPos::Bottom),
                )
            }))
            .map_err(chart_err)?;
        }
        legend_upper_right(&mut ch)?;
        // Protocol names under their bars (pixel positions of the chart).
        for (i, r) in bars.iter().enumerate() {
            let (x, y) = ch.backend_coord(&(i as f64 + 0.5, 0.0));
            root.draw(&Text::new(
                label(&r.protocol, 32),
                (x, y + 8),
                anchored(16, false, BLACK, HPos::Center, VPos::Top),
            ))
            .map_err(chart_err)?;
        }
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}

/// The insurance fund of a perp run over time (a step line).
pub fn perp_fund_svg(points: &[crate::perp::FundPoint]) -> Result<String, ReportError> {
    let mut svg = String::new();
    if points.len() < 2 {
        return Ok(svg);
    }
    let origin = (points[0].secs as f64 / 3600.0).floor() * 3600.0;
    let xy: Vec<(f64, f64)> = points
        .iter()
        .map(|p| ((p.secs as f64 - origin) / 3600.0, p.balance_usd.to_f64()))
        .collect();
    let x1 = xy[xy.len() - 1].0.max(1.0);
    let ymax = xy.iter().fold(0.0f64, |a, (_, y)| a.max(*y)).max(1.0) * 1.1;
    // A step line: each balance holds until the next change.
    let mut steps = Vec::with_capacity(xy.len() * 2);
    for (i, p) in xy.iter().enumerate() {
        if i > 0 {
            steps.push((p.0, xy[i - 1].1));
        }
        steps.push(*p);
    }
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 260)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        let fmt_x = |h: &f64| time_label(origin, *h);
        let mut c = usd_panel(
            &root,
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
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}
