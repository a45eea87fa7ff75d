//! What the charts share: the canvas, colours, axes, panels, legends and
//! label text. Floats appear here only as drawing coordinates.

use plotters::prelude::*;
use shortfall_core::{Micros, Wad};

use crate::error::ReportError;
use crate::format as f;

/// Width of every chart, pixels.
pub const WIDTH: u32 = 960;
pub const MARKET: RGBColor = RGBColor(31, 94, 168);
pub const ORACLE: RGBColor = RGBColor(214, 120, 0);
pub const LIQ: RGBColor = RGBColor(90, 90, 90);
pub const LOSS: RGBColor = RGBColor(178, 34, 34);
pub const GRID: RGBColor = RGBColor(225, 225, 225);

/// The drawing area of a chart.
pub type Root<'b> = DrawingArea<SVGBackend<'b>, plotters::coord::Shift>;

/// A chart panel with two float axes.
pub type Panel<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

pub fn chart_err<E: std::fmt::Debug>(e: E) -> ReportError {
    ReportError::Chart(format!("{e:?}"))
}

/// An SVG of `WIDTH` x `height` on white, drawn by `draw`.
pub fn svg(
    height: u32,
    draw: impl FnOnce(&Root<'_>) -> Result<(), ReportError>,
) -> Result<String, ReportError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        draw(&root)?;
        root.present().map_err(chart_err)?;
    }
    Ok(svg)
}

/// A wad's text as a drawing coordinate (0 when it is not a wad).
pub fn wad(s: &str) -> f64 {
    s.parse::<Wad>().map(Wad::to_f64).unwrap_or(0.0)
}

/// Epoch seconds of a time's text (0 when it is not a time).
pub fn secs(iso: &str) -> f64 {
    Micros::parse(iso).map(|m| m.secs() as f64).unwrap_or(0.0)
}

/// Keeps printable characters of a label from data, at most `n`.
pub fn label(s: &str, n: usize) -> String {
    s.chars().filter(|c| !c.is_control()).take(n).collect()
}

/// `MM-DD HH:MM` of `hours` after `origin` (epoch seconds).
pub fn time_label(origin: f64, hours: f64) -> String {
    let m = f::minute(Micros::from_secs((origin + hours * 3600.0).round() as i64));
    m.get(5..).unwrap_or(&m).to_string()
}

/// The least and the largest `y` of points.
pub fn y_range<'a>(points: impl Iterator<Item = &'a (f64, f64)>) -> (f64, f64) {
    points.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (_, y)| {
        (a.min(*y), b.max(*y))
    })
}

/// The largest `y` of points, at least 0.
pub fn y_max<'a>(points: impl Iterator<Item = &'a (f64, f64)>) -> f64 {
    points.fold(0.0f64, |a, (_, y)| a.max(*y))
}

/// A range with a margin of 6% (or 5% of the value, or 1, when empty).
pub fn padded(lo: f64, hi: f64) -> (f64, f64) {
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

pub fn usd_axis(y: &f64) -> String {
    f::usd_short(Wad((*y * 1e18) as i128))
}

/// Price axis labels: the same decimals on every tick, enough for the range
/// (a stablecoin between 0.78 and 1.00 gets four, ETH at 100-200 two).
pub fn price_axis(places: u32) -> impl Fn(&f64) -> String {
    move |y: &f64| f::decimal(Wad((*y * 1e18) as i128), places)
}

/// The series legend of a chart, boxed in its upper right corner.
pub fn legend_upper_right<'a, 'b: 'a>(c: &mut Panel<'a, 'b>) -> Result<(), ReportError> {
    c.configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(chart_err)
}

/// A short line of a legend entry at `(x, y)`.
pub fn legend_line(color: RGBColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
}

/// A panel of prices from `lo` to `hi` on a time axis.
pub fn price_panel<'a, 'b>(
    area: &'a Root<'b>,
    (caption, caption_size): (&str, u32),
    (x0, x1): (f64, f64),
    (lo, hi): (f64, f64),
    y_labels: usize,
    fmt_x: &dyn Fn(&f64) -> String,
    fmt_y: &dyn Fn(&f64) -> String,
) -> Result<Panel<'a, 'b>, ReportError> {
    let mut c = ChartBuilder::on(area)
        .margin(8)
        .caption(caption, ("sans-serif", caption_size))
        .x_label_area_size(22)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, lo..hi)
        .map_err(chart_err)?;
    c.configure_mesh()
        .light_line_style(GRID)
        .x_labels(8)
        .y_labels(y_labels)
        .x_label_formatter(fmt_x)
        .y_label_formatter(fmt_y)
        .draw()
        .map_err(chart_err)?;
    Ok(c)
}

/// A panel of USD values from 0 to `ymax` on a time axis.
pub fn usd_panel<'a, 'b>(
    area: &'a Root<'b>,
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

/// Text style of a label drawn at a pixel position, anchored by `h`/`v`.
pub fn anchored(
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
