//! The stress report (`stress.html` + `stress-report.json`): bad debt at
//! risk over simulated market paths. Labelled HYPOTHETICAL throughout;
//! summary cards, the VaR / ES table (metric, measure, percentile,
//! horizon, value, the historical path's figure beside it), histograms of
//! bad debt and liquidated volume, the worst paths with the command that
//! replays each in full, the method and the provenance. Same inputs, same
//! bytes (no timestamp unless given).

use std::path::{Path, PathBuf};

use serde::Serialize;
use shortfall_core::{StressMeta, StressRow, Wad};

pub use crate::charts::histogram::Bin;
use crate::charts::histogram::{stress_histogram_svg, HistogramChart};
use crate::error::ReportError;
use crate::format as f;
use crate::output::{html_and_json, write_files, Written};
use crate::render::{Page, Svg, Templates};
use crate::widgets::{Card, KeyValue, Term};

pub const STRESS_HTML: &str = "stress.html";
pub const STRESS_REPORT_JSON: &str = "stress-report.json";

/// Bins of the histograms.
pub const BINS: usize = 20;

/// Options of a stress report.
#[derive(Debug, Clone, Default)]
pub struct StressOptions {
    /// A folder of templates replacing the built-ins by file name.
    pub templates: Option<PathBuf>,
    /// Shown only when given (byte-stable output otherwise).
    pub timestamp: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RiskRow {
    pub metric: String,
    pub measure: String,
    pub percentile: String,
    pub horizon: String,
    pub value: String,
    pub value_usd: Wad,
    pub historical: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Histogram {
    pub metric: String,
    pub title: String,
    pub bins: Vec<Bin>,
    pub var95_usd: Wad,
    pub var99_usd: Wad,
    pub historical_usd: Wad,
    pub caption: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorstRow {
    pub rank: usize,
    pub path: u32,
    pub bad_debt_usd: String,
    pub npl_count: String,
    pub liquidated_volume_usd: String,
    pub liquidation_count: String,
    pub penalty_usd: String,
    pub reserves_drawdown_usd: String,
    pub run_id: String,
    pub scenario_file: String,
    pub explain: String,
}

/// The report model (also its JSON twin).
#[derive(Debug, Clone, Serialize)]
pub struct StressReport {
    pub title: String,
    pub subtitle: String,
    pub stress_id: String,
    pub generated_at: Option<String>,
    pub notice: String,
    pub cards: Vec<Card>,
    pub risk: Vec<RiskRow>,
    pub histograms: Vec<Histogram>,
    pub worst: Vec<WorstRow>,
    pub method: Vec<Term>,
    pub provenance: Vec<KeyValue>,
    pub inputs: Vec<KeyValue>,
    pub command: String,
    pub version: String,
}

/// Counts of `values` in `BINS` equal bins over `[min, max]` (integer
/// arithmetic; one bin when every value is equal).
pub fn histogram(values: &[Wad]) -> Vec<Bin> {
    let (Some(lo), Some(hi)) = (values.iter().min(), values.iter().max()) else {
        return Vec::new();
    };
    let (lo, hi) = (lo.0, hi.0);
    if lo == hi {
        return vec![Bin {
            lo_usd: Wad(lo),
            hi_usd: Wad(hi),
            count: values.len() as u64,
        }];
    }
    let n = BINS as i128;
    let width = hi - lo;
    let edge = |k: i128| Wad(lo + width / n * k + (width % n) * k / n);
    let mut bins: Vec<Bin> = (0..n)
        .map(|k| Bin {
            lo_usd: edge(k),
            hi_usd: edge(k + 1),
            count: 0,
        })
        .collect();
    for v in values {
        let k = bins
            .iter()
            .position(|b| v.0 < b.hi_usd.0)
            .unwrap_or(BINS - 1);
        bins[k].count += 1;
    }
    bins
}

fn command(meta: &StressMeta) -> Vec<String> {
    let mut c: Vec<String> = vec![
        "shortfall".into(),
        "stress".into(),
        "--scenario".into(),
        meta.source.clone(),
        "--paths".into(),
        meta.paths.to_string(),
        "--horizon".into(),
        meta.horizon.clone(),
        "--seed".into(),
        meta.seed.to_string(),
        "--model".into(),
        meta.model.clone(),
    ];
    if let Some(b) = meta.block_secs.filter(|b| *b != 3600) {
        c.push("--block".into());
        c.push(format!("{b}s"));
    }
    c
}

fn label(metric: &str) -> &'static str {
    match metric {
        "bad_debt_usd" => "Bad debt",
        "liquidated_volume_usd" => "Liquidated volume",
        _ => "Outcome",
    }
}

fn cards(meta: &StressMeta) -> Vec<Card> {
    let mut cards = vec![Card::new(
        "paths",
        "Simulated paths",
        f::count(meta.paths as u64),
    )];
    if let Some(d) = meta.statistics.iter().find(|d| d.metric == "bad_debt_usd") {
        cards.push(Card::new(
            "bad_debt_mean",
            format!("Mean bad debt, {}", meta.horizon),
            f::usd(d.mean),
        ));
        cards.push(Card::new(
            "bad_debt_var99",
            format!("Bad debt VaR 99%, {}", meta.horizon),
            f::usd(d.var99),
        ));
    }
    cards.push(Card::new(
        "historical",
        "Bad debt on the historical path",
        f::usd(meta.baseline.bad_debt_usd),
    ));
    cards
}

/// The historical path's figure of `metric`.
fn historical(meta: &StressMeta, metric: &str) -> Wad {
    match metric {
        "bad_debt_usd" => meta.baseline.bad_debt_usd,
        _ => meta.baseline.liquidated_volume_usd,
    }
}

/// The horizon as given and as a duration (`24h (1 d)`).
fn horizon(meta: &StressMeta) -> String {
    format!("{} ({})", meta.horizon, f::duration(meta.horizon_secs))
}

fn risk(meta: &StressMeta) -> Vec<RiskRow> {
    let horizon = horizon(meta);
    let mut risk = Vec::new();
    for d in &meta.statistics {
        let hist = f::usd(historical(meta, &d.metric));
        let mut push = |measure: &str, pct: &str, v: Wad| {
            risk.push(RiskRow {
                metric: label(&d.metric).to_string(),
                measure: measure.to_string(),
                percentile: pct.to_string(),
                horizon: horizon.clone(),
                value: f::usd(v),
                value_usd: v,
                historical: hist.clone(),
            })
        };
        push("Mean", "", d.mean);
        push("VaR", "95%", d.var95);
        push("ES", "95%", d.es95);
        push("VaR", "99%", d.var99);
        push("ES", "99%", d.es99);
        push("Worst path", "100%", d.max);
    }
    risk
}

fn histograms(meta: &StressMeta, rows: &[StressRow]) -> Vec<Histogram> {
    meta.statistics
        .iter()
        .map(|d| {
            let values: Vec<Wad> = rows
                .iter()
                .map(|r| match d.metric.as_str() {
                    "bad_debt_usd" => r.bad_debt_usd,
                    _ => r.liquidated_volume_usd,
                })
                .collect();
            let hist = historical(meta, &d.metric);
            Histogram {
                metric: d.metric.clone(),
                title: format!("{} over {} paths, horizon {}", label(&d.metric), meta.paths, meta.horizon),
                bins: histogram(&values),
                var95_usd: d.var95,
                var99_usd: d.var99,
                historical_usd: hist,
                caption: format!(
                    "{} of each simulated path ({} bins from {} to {}): paths per bin. Orange line: VaR 95% ({}); red: VaR 99% ({}); blue: the historical path ({}).",
                    label(&d.metric),
                    BINS,
                    f::usd(d.min),
                    f::usd(d.max),
                    f::usd(d.var95),
                    f::usd(d.var99),
                    f::usd(hist)
                ),
            }
        })
        .collect()
}

/// The worst paths, each with the command that replays it in full.
fn worst(meta: &StressMeta, rows: &[StressRow]) -> Vec<WorstRow> {
    let base = command(meta);
    meta.worst
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let r = rows.iter().find(|r| r.path == w.path);
            let mut c = base.clone();
            c.push("--explain".into());
            c.push(w.path.to_string());
            WorstRow {
                rank: i + 1,
                path: w.path,
                bad_debt_usd: f::usd(w.bad_debt_usd),
                npl_count: r.map_or_else(String::new, |r| f::count(r.npl_count)),
                liquidated_volume_usd: f::usd(w.liquidated_volume_usd),
                liquidation_count: r.map_or_else(String::new, |r| f::count(r.liquidation_count)),
                penalty_usd: r.map_or_else(String::new, |r| f::usd(r.penalty_usd)),
                reserves_drawdown_usd: r
                    .map_or_else(String::new, |r| f::usd(r.reserves_drawdown_usd)),
                run_id: w.run_id.clone(),
                scenario_file: w.scenario_file.clone(),
                explain: f::shell_join(&c),
            }
        })
        .collect()
}

fn model_text(meta: &StressMeta) -> String {
    match meta.model.as_str() {
        "bootstrap" => format!(
            "Block bootstrap: the horizon is cut into blocks of {}; each block copies the joint log returns of every priced asset ({}) over one block of the fit period, its start drawn uniformly; every asset takes the same block, which keeps their correlation.",
            f::duration(meta.block_secs.unwrap_or(3600)),
            meta.assets.join(", ")
        ),
        _ => format!(
            "Multivariate normal: each step's log returns of the priced assets ({}) drawn with the mean and covariance of the fit period's per-step log returns (Cholesky factor, Box-Muller normals).",
            meta.assets.join(", ")
        ),
    }
}

fn method(meta: &StressMeta) -> Vec<Term> {
    let mut method = vec![
        Term::new("Model", model_text(meta)),
        Term::new(
            "Path",
            format!(
                "Each path starts from the real prices at the window start ({} UTC) and is simulated for {}; later prices hold the last simulated value to the window end ({} UTC). Oracle rounds of the priced assets follow the simulated market price. The book, the rules and the frictions are those of the scenario, the same for every path.",
                meta.window_start, horizon(meta), meta.window_end
            ),
        ),
        Term::new("Fit period", format!("{} to {} UTC", meta.fit_start, meta.fit_end)),
    ];
    if !meta.given.is_empty() {
        method.push(Term::new(
            "Given parameters",
            format!(
                "In place of the fitted ones (the fitted means stay; volatilities are standard deviations of one-hour log returns, scaled to the fit's step by the square root of time): {}.",
                meta.given.join("; ")
            ),
        ));
    }
    method.push(Term::new(
        "VaR",
        format!(
            "VaR at q over the horizon: the ceil(q x N)-th smallest outcome of the N = {} paths (the loss not exceeded on a share q of the paths); 95%: the {}-th, 99%: the {}-th.",
            meta.paths,
            (meta.paths as usize * 95).div_ceil(100).max(1),
            (meta.paths as usize * 99).div_ceil(100).max(1)
        ),
    ));
    method.push(Term::new(
        "ES",
        "Expected shortfall at q: the mean of the outcomes from the VaR's rank to the largest (the outcomes at or beyond the VaR), rounded down to the wei.",
    ));
    method.push(Term::new(
        "Replay a path",
        "Each row names its path: `--explain K` writes the full run and report of path K; worst/path-K.toml in the stress folder is the exact scenario of path K (the base scenario plus its `simulated` transform), replayable with `shortfall replay --scenario`.",
    ));
    method
}

fn provenance(meta: &StressMeta) -> Vec<KeyValue> {
    let book = format!(
        "{}{}",
        if meta.book_generated {
            "generated: "
        } else {
            ""
        },
        meta.book_origin
    );
    vec![
        KeyValue::new("Stress id", &meta.stress_id),
        KeyValue::new("Tool version", &meta.version),
        KeyValue::new("Scenario", &meta.scenario),
        KeyValue::new("Named as", &meta.source),
        KeyValue::new(
            "Window",
            format!("{} to {} UTC", meta.window_start, meta.window_end),
        ),
        KeyValue::new("Model", &meta.model),
        KeyValue::new(
            "Block",
            meta.block_secs
                .map_or_else(|| "none (gaussian)".to_string(), f::duration),
        ),
        KeyValue::new("Horizon", horizon(meta)),
        KeyValue::new("Seed", meta.seed.to_string()),
        KeyValue::new("Paths", meta.paths.to_string()),
        KeyValue::new("Base config sha256", &meta.base_config_sha256),
        KeyValue::new("Book", book),
        KeyValue::new("Historical path run id", &meta.baseline.run_id),
    ]
}

/// Builds the report model.
pub fn build_stress(
    meta: &StressMeta,
    rows: &[StressRow],
    opts: &StressOptions,
) -> Result<StressReport, ReportError> {
    Ok(StressReport {
        title: format!("Bad debt at risk: {}", meta.title),
        subtitle: format!(
            "{} simulated paths, {} model, horizon {}, seed {}",
            meta.paths, meta.model, meta.horizon, meta.seed
        ),
        stress_id: meta.stress_id.clone(),
        generated_at: opts.timestamp.clone(),
        notice: format!(
            "HYPOTHETICAL: simulated market paths, not what happened. Every figure below comes from replaying the book of {} through {} paths generated from its own price history; the historical path is shown beside them for scale.",
            meta.scenario, meta.paths
        ),
        cards: cards(meta),
        risk: risk(meta),
        histograms: histograms(meta, rows),
        worst: worst(meta, rows),
        method: method(meta),
        provenance: provenance(meta),
        inputs: KeyValue::list(&meta.input_hashes),
        command: f::shell_join(&command(meta)),
        version: meta.version.clone(),
    })
}

impl Page for StressReport {
    const TEMPLATE: &'static str = "stress.html";
    const KEY: &'static str = "s";

    fn charts(&self) -> Result<Vec<(&'static str, Svg)>, ReportError> {
        let svgs = self
            .histograms
            .iter()
            .map(|h| {
                stress_histogram_svg(&HistogramChart {
                    bins: &h.bins,
                    var95_usd: h.var95_usd,
                    var99_usd: h.var99_usd,
                    historical_usd: h.historical_usd,
                })
            })
            .collect::<Result<Vec<String>, ReportError>>()?;
        Ok(vec![("histogram_svgs", Svg::Many(svgs))])
    }
}

/// Builds and renders: the model, the HTML and the JSON.
pub fn render_stress(
    meta: &StressMeta,
    rows: &[StressRow],
    opts: &StressOptions,
) -> Result<(StressReport, String, Vec<u8>), ReportError> {
    let report = build_stress(meta, rows, opts)?;
    let templates = Templates::load(opts.templates.as_deref())?;
    let (html, json) = html_and_json(&templates, &report)?;
    Ok((report, html, json))
}

/// Writes `stress.html` and `stress-report.json` into `dir`.
pub fn write_stress(
    meta: &StressMeta,
    rows: &[StressRow],
    dir: &Path,
    opts: &StressOptions,
) -> Result<(StressReport, Written), ReportError> {
    let (report, html, json) = render_stress(meta, rows, opts)?;
    let written = write_files(
        &dir.join(STRESS_HTML),
        &html,
        &dir.join(STRESS_REPORT_JSON),
        &json,
    )?;
    Ok((report, written))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_bins_cover_every_value() {
        let v: Vec<Wad> = (0..=100).map(Wad::from_int).collect();
        let b = histogram(&v);
        assert_eq!(b.len(), BINS);
        assert_eq!(b.iter().map(|x| x.count).sum::<u64>(), 101);
        assert_eq!(b[0].lo_usd, Wad::ZERO);
        assert_eq!(b[BINS - 1].hi_usd, Wad::from_int(100));
        assert_eq!(b[0].count, 5);
        assert_eq!(b[BINS - 1].count, 6);
        let same = histogram(&[Wad(3), Wad(3)]);
        assert_eq!((same.len(), same[0].count), (1, 2));
    }
}
