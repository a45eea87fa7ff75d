//! The loss waterfall: each layer a bar starting where the previous ended,
//! its name and amount above it.

use plotters::prelude::*;

use super::draw::{chart_err, label, svg, usd_axis, wad, GRID, LIQ, LOSS, MARKET, ORACLE};
use crate::error::ReportError;

/// One layer of the waterfall.
#[derive(Debug, Clone, Copy)]
pub struct Layer<'a> {
    /// The layer's name (cut to printable characters).
    pub name: &'a str,
    /// The amount, wad text (a negative one draws as zero).
    pub value: &'a str,
    /// The amount as the label shows it.
    pub display: &'a str,
}

/// The waterfall of `layers`, top to bottom.
pub fn waterfall_svg(layers: &[Layer<'_>]) -> Result<String, ReportError> {
    let vals: Vec<f64> = layers.iter().map(|r| wad(r.value).max(0.0)).collect();
    let total: f64 = vals.iter().sum();
    let n = layers.len().max(1) as f64;
    svg(60 + 44 * layers.len() as u32, |root| {
        let mut c = ChartBuilder::on(root)
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
        let colours = [LIQ, ORACLE, MARKET, LOSS];
        let mut start = 0.0;
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
        for (i, (r, v)) in layers.iter().zip(&vals).enumerate() {
            let y = n - i as f64;
            let at = if start > total * 0.6 {
                total * 0.6
            } else {
                start
            };
            texts.push(Text::new(
                format!("{}: {}", label(r.name, 32), r.display),
                (at, y - 0.1),
                ("sans-serif", 14).into_font(),
            ));
            start += v;
        }
        c.draw_series(texts).map_err(chart_err)?;
        Ok(())
    })
}
