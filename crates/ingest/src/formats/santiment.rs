//! Santiment `getMetric` time series JSON:
//! `{"data":{"getMetric":{"timeseriesData":[{"datetime","value"}, ...]}}}`,
//! one price per step (5 minutes in the March 2020 exports). The file names
//! neither the asset nor the unit, so `--base` is required (`--quote`
//! defaults to USD, `--venue` to `santiment`). Each value becomes a bar of
//! the series' step with open = high = low = close = value (the source gives
//! one price per bar, not a range). Numbers are read from their JSON text.

use serde::Deserialize;
use serde_json::value::RawValue;
use shortfall_core::PriceBar;

use crate::ctx::FileCtx;
use crate::error::{IngestError, Location};
use crate::{num, timefmt, validate};

#[derive(Deserialize)]
struct Doc<'a> {
    #[serde(borrow)]
    data: Data<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data<'a> {
    #[serde(borrow)]
    get_metric: Metric<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metric<'a> {
    #[serde(borrow)]
    timeseries_data: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct Point<'a> {
    #[serde(borrow, default)]
    datetime: Option<&'a RawValue>,
    #[serde(borrow, default)]
    value: Option<&'a RawValue>,
}

/// Default step of a series whose step cannot be inferred (a single point).
const DEFAULT_STEP_SECS: i64 = 300;

pub(crate) fn parse(ctx: &mut FileCtx, bytes: &[u8]) -> Result<(), IngestError> {
    super::check_not_empty(ctx, bytes)?;
    let base = ctx
        .opts
        .base
        .clone()
        .ok_or_else(|| {
            IngestError::Options(format!(
                "{}: Santiment JSON does not name the asset: pass --base",
                ctx.name
            ))
        })?
        .to_ascii_uppercase();
    let quote = ctx
        .opts
        .quote
        .clone()
        .unwrap_or_else(|| "USD".into())
        .to_ascii_uppercase();
    let venue = ctx.opts.venue.clone().unwrap_or_else(|| "santiment".into());
    let text = std::str::from_utf8(bytes).map_err(|e| ctx.structure(format!("not UTF-8: {e}")))?;
    let doc: Doc = serde_json::from_str(text).map_err(|e| {
        ctx.structure(format!(
            "line {}, column {}: expected {{\"data\":{{\"getMetric\":{{\"timeseriesData\":[...]}}}}}}: {e}",
            e.line(),
            e.column()
        ))
    })?;
    let items = doc.data.get_metric.timeseries_data;
    if items.is_empty() {
        return Err(ctx.structure("no data rows (empty timeseriesData)"));
    }
    let mut points = Vec::with_capacity(items.len());
    for item in &items {
        ctx.rows_read += 1;
        let loc = Location::Line(super::line_of(text, item.get()));
        match point(ctx, item, loc) {
            Ok(p) => points.push((p, loc)),
            Err(e) => ctx.bad(e)?,
        }
    }
    let step = ctx.opts.interval_secs.unwrap_or_else(|| {
        let mut steps: Vec<i64> = points
            .windows(2)
            .map(|w| (w[1].0 .0 .0 - w[0].0 .0 .0) / 1_000_000)
            .filter(|s| *s > 0)
            .collect();
        steps.sort_unstable();
        steps
            .get(steps.len() / 2)
            .copied()
            .unwrap_or(DEFAULT_STEP_SECS)
    });
    for ((ts, value), loc) in points {
        let bar = PriceBar {
            ts,
            venue: venue.clone(),
            base: base.clone(),
            quote: quote.clone(),
            interval_secs: step,
            open: value,
            high: value,
            low: value,
            close: value,
            volume_base: None,
            volume_quote: None,
            trades: None,
        };
        let cols = ["datetime", "value", "value", "value", "value", "-", "-"];
        match validate::check_bar(ctx, &bar, loc, &cols) {
            Ok(()) => ctx.push_price(bar, loc),
            Err(e) => ctx.bad(e)?,
        }
    }
    Ok(())
}

fn point(
    ctx: &FileCtx,
    item: &RawValue,
    loc: Location,
) -> Result<(shortfall_core::Micros, shortfall_core::Wad), IngestError> {
    let p: Point = serde_json::from_str(item.get()).map_err(|e| {
        ctx.bad_row(
            loc,
            "-",
            format!("expected an object with datetime and value: {e}"),
        )
    })?;
    let raw = |v: Option<&RawValue>| -> Option<String> {
        let s = v?.get().trim();
        (s != "null").then(|| s.trim_matches('"').to_string())
    };
    let t = raw(p.datetime).unwrap_or_default();
    let ts = timefmt::parse_iso(t.as_bytes())
        .ok_or_else(|| ctx.bad_value(loc, "datetime", "an ISO time", t.as_bytes()))?;
    let v = raw(p.value).unwrap_or_default();
    let value = num::parse_wad(v.as_bytes())
        .ok_or_else(|| ctx.bad_value(loc, "value", "a decimal number", v.as_bytes()))?;
    Ok((ts, value))
}
