//! The sweep report: many variants of a scenario's margin and oracle
//! parameters replayed through one or several crises (`shortfall sweep`).
//!
//! [`build_sweep`] turns the sweep's meta (`sweep.json`) and rows
//! (`sweep.parquet`) into a [`SweepReport`]: per crisis the best policies, the
//! Pareto frontier of bad debt against liquidated volume (what borrowers pay
//! for safety), a heatmap of bad debt over the first two parameters, and,
//! with several crises, the best policies across them; then provenance and
//! method. [`render_sweep_html`] renders it with the `sweep.html` template
//! (overridable like the others) and [`write_sweep`] writes `sweep.html` and
//! its JSON twin `sweep-report.json` (the sweep folder's `sweep.json` is the
//! meta) into the sweep folder, each atomically.
//!
//! The analysis functions ([`pareto`], [`best`], [`across`]) are pure and
//! work on the rows themselves, for the command line's summary too.
//!
//! Every figure is formatted here ([`crate::format`]); every text from the
//! rows or the meta (scenario names and titles, parameter keys and values,
//! the grid) is data and is escaped by the template (autoescape) or, inside
//! the SVG chart, by plotters. Same inputs give byte-identical output.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;
use shortfall_core::sweep::{SweepMeta, SweepParam, SweepRow, SweepScenario};
use shortfall_core::Wad;

use crate::build::shell_quote;
use crate::format as f;
use crate::{charts, ReportError, Written};

/// The report's HTML file in a sweep folder.
pub const SWEEP_HTML: &str = "sweep.html";
/// The report's JSON twin in a sweep folder (`sweep.json` is the meta).
pub const SWEEP_REPORT_JSON: &str = "sweep-report.json";
/// Options of a sweep report.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// A folder of templates replacing the built-ins by file name
    /// (`sweep.html`, `base.html`, `report.css`), as `--templates`.
    pub templates: Option<PathBuf>,
    /// How many best policies to list per crisis (and across crises).
    pub top: usize,
    /// The command line that produced the sweep (shown shell-quoted).
    pub command: Vec<String>,
    /// Shown only when given (byte-stable output otherwise).
    pub timestamp: Option<String>,
}

impl Default for SweepOptions {
    fn default() -> Self {
        SweepOptions {
            templates: None,
            top: 10,
            command: Vec::new(),
            timestamp: None,
        }
    }
}

// ---------------------------------------------------------------------------
// Analysis (pure)
// ---------------------------------------------------------------------------

fn add(a: Wad, b: Wad) -> Wad {
    Wad(a.0.saturating_add(b.0))
}

/// Indices (into `rows`) of the Pareto frontier minimising bad debt and
/// liquidated volume: a row is on it when no other row has both figures
/// lower or equal and one strictly lower. Of rows with identical figures
/// only the lowest variant is kept. In ascending liquidated volume.
pub fn pareto(rows: &[&SweepRow]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..rows.len()).collect();
    idx.sort_by(|&a, &b| {
        let (x, y) = (rows[a], rows[b]);
        x.liquidated_volume_usd
            .cmp(&y.liquidated_volume_usd)
            .then(x.bad_debt_usd.cmp(&y.bad_debt_usd))
            .then(x.variant.cmp(&y.variant))
            .then(a.cmp(&b))
    });
    // Walking up the liquidated volume, a row is on the frontier when its
    // bad debt is strictly below every row before it (those have less or
    // equal volume, so equal or more bad debt means dominated or a tie
    // with a lower variant).
    let mut out = Vec::new();
    let mut lowest: Option<Wad> = None;
    for i in idx {
        let b = rows[i].bad_debt_usd;
        if lowest.is_none_or(|l| b < l) {
            out.push(i);
            lowest = Some(b);
        }
    }
    out
}

fn rank_cmp(x: &SweepRow, y: &SweepRow) -> std::cmp::Ordering {
    x.bad_debt_usd
        .cmp(&y.bad_debt_usd)
        .then(x.penalty_usd.cmp(&y.penalty_usd))
        .then(x.liquidated_volume_usd.cmp(&y.liquidated_volume_usd))
        .then(x.variant.cmp(&y.variant))
}

/// Indices (into `rows`) of the `n` best rows: least bad debt, then least
/// penalty paid by borrowers, then least liquidated volume, then lowest
/// variant index.
pub fn best(rows: &[&SweepRow], n: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..rows.len()).collect();
    idx.sort_by(|&a, &b| rank_cmp(rows[a], rows[b]).then(a.cmp(&b)));
    idx.truncate(n);
    idx
}

/// One variant's outcome summed over the crises of a sweep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AcrossRow {
    pub variant: u32,
    pub variant_id: String,
    pub params: Vec<SweepParam>,
    /// Crises with a row of this variant (fewer than the sweep's crises
    /// only in a shard's part).
    pub crises: u32,
    /// Bad debt summed over the crises, USD.
    pub total_bad_debt_usd: Wad,
    /// Largest bad debt in a single crisis, USD.
    pub worst_bad_debt_usd: Wad,
    /// The crisis of the largest bad debt (first in the sweep's order on a
    /// tie).
    pub worst_scenario: String,
    pub total_penalty_usd: Wad,
    pub total_liquidated_volume_usd: Wad,
    /// Non-performing loans summed over the crises.
    pub npl_count: u64,
}

/// The variants summed over the sweep's crises (rows of other scenarios
/// are ignored), best first: least total bad debt, then least total
/// penalty, then lowest variant index. A variant missing a crisis (a
/// shard's part) ranks after every complete one, since its totals are
/// not comparable.
pub fn across(meta: &SweepMeta, rows: &[SweepRow]) -> Vec<AcrossRow> {
    let order: BTreeMap<&str, usize> = meta
        .scenarios
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let mut by_variant: BTreeMap<u32, Vec<(usize, &SweepRow)>> = BTreeMap::new();
    for r in rows {
        if let Some(&i) = order.get(r.scenario.as_str()) {
            by_variant.entry(r.variant).or_default().push((i, r));
        }
    }
    let mut out: Vec<AcrossRow> = by_variant
        .into_values()
        .map(|mut rs| {
            rs.sort_by_key(|(i, _)| *i);
            let first = rs[0].1;
            let mut a = AcrossRow {
                variant: first.variant,
                variant_id: first.variant_id.clone(),
                params: first.params.clone(),
                crises: rs.len() as u32,
                total_bad_debt_usd: Wad::ZERO,
                worst_bad_debt_usd: first.bad_debt_usd,
                worst_scenario: first.scenario.clone(),
                total_penalty_usd: Wad::ZERO,
                total_liquidated_volume_usd: Wad::ZERO,
                npl_count: 0,
            };
            for (_, r) in &rs {
                a.total_bad_debt_usd = add(a.total_bad_debt_usd, r.bad_debt_usd);
                a.total_penalty_usd = add(a.total_penalty_usd, r.penalty_usd);
                a.total_liquidated_volume_usd =
                    add(a.total_liquidated_volume_usd, r.liquidated_volume_usd);
                a.npl_count = a.npl_count.saturating_add(r.npl_count);
                if r.bad_debt_usd > a.worst_bad_debt_usd {
                    a.worst_bad_debt_usd = r.bad_debt_usd;
                    a.worst_scenario = r.scenario.clone();
                }
            }
            a
        })
        .collect();
    let n = meta.scenarios.len() as u32;
    out.sort_by(|x, y| {
        (n.saturating_sub(x.crises))
            .cmp(&n.saturating_sub(y.crises))
            .then(x.total_bad_debt_usd.cmp(&y.total_bad_debt_usd))
            .then(x.total_penalty_usd.cmp(&y.total_penalty_usd))
            .then(x.variant.cmp(&y.variant))
    });
    out
}

// ---------------------------------------------------------------------------
// Model (`sweep-report.json`)
// ---------------------------------------------------------------------------

/// A summary card (the observed report's).
pub use crate::observed::Card;

#[derive(Debug, Clone, Serialize)]
pub struct Notice {
    /// `book-generated`, `book-snapshot` or `partial`.
    pub kind: String,
    pub text: String,
}

/// One variant (or the baseline) in one crisis, every figure formatted.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyRow {
    /// Rank in its table (`1`...), empty for the baseline.
    pub rank: String,
    /// Variant index, `base` for the baseline.
    pub variant: String,
    pub variant_id: String,
    /// Values of the sweep's parameters, in the sweep's order (`-` when the
    /// row does not set one).
    pub params: Vec<String>,
    pub bad_debt_usd: String,
    /// Bad debt minus the baseline's (negative: less bad debt).
    pub bad_debt_vs_baseline: String,
    pub npl_count: String,
    pub liquidated_volume_usd: String,
    pub liquidation_count: String,
    pub penalty_usd: String,
    /// Penalty minus the baseline's (positive: borrowers pay more).
    pub penalty_vs_baseline: String,
    pub reserves_drawdown_usd: String,
    pub run_id: String,
    /// The command that replays the variant in full.
    pub explain: String,
}

/// A dot of the frontier chart (wad text, as the chart reads it).
#[derive(Debug, Clone, Serialize)]
pub struct ChartPoint {
    pub variant_id: String,
    pub liquidated_volume_usd: String,
    pub bad_debt_usd: String,
    pub frontier: bool,
}

/// The data of the Pareto chart of one crisis.
#[derive(Debug, Clone, Serialize)]
pub struct FrontierChart {
    /// Every variant, in variant order.
    pub points: Vec<ChartPoint>,
    /// The frontier's points in ascending liquidated volume.
    pub frontier: Vec<ChartPoint>,
    pub baseline: ChartPoint,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeatCell {
    /// Least bad debt of the cell's variants, USD (`-` when none).
    pub bad_debt_usd: String,
    /// The same, short (`$1.2M`).
    pub display: String,
    /// The variant with that bad debt (best by the ranking rule).
    pub variant_id: String,
    /// Inline CSS of the cell (background shade).
    pub style: String,
    /// The least bad debt of the whole heatmap.
    pub best: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeatRow {
    pub value: String,
    pub cells: Vec<HeatCell>,
}

/// Bad debt over the first two parameters.
#[derive(Debug, Clone, Serialize)]
pub struct Heatmap {
    /// First parameter: one row per value.
    pub row_key: String,
    /// Second parameter: one column per value.
    pub col_key: String,
    pub cols: Vec<String>,
    pub rows: Vec<HeatRow>,
    pub caption: String,
    pub scale: String,
}

/// The sections of one crisis.
#[derive(Debug, Clone, Serialize)]
pub struct CrisisReport {
    /// HTML id of the section (`crisis-1`...).
    pub anchor: String,
    pub name: String,
    pub title: String,
    pub summary: String,
    pub cards: Vec<Card>,
    pub baseline: PolicyRow,
    pub best_caption: String,
    pub best: Vec<PolicyRow>,
    pub frontier_caption: String,
    pub frontier: Vec<PolicyRow>,
    pub chart: FrontierChart,
    pub heatmap: Option<Heatmap>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AcrossView {
    pub rank: String,
    pub variant_id: String,
    pub params: Vec<String>,
    pub crises: String,
    pub total_bad_debt_usd: String,
    pub worst_bad_debt_usd: String,
    pub worst_crisis: String,
    pub total_penalty_usd: String,
    pub total_liquidated_volume_usd: String,
    pub npl_count: String,
    pub explain: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AcrossSection {
    pub caption: String,
    pub baseline_total_bad_debt_usd: String,
    pub rows: Vec<AcrossView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioProvenance {
    pub name: String,
    pub title: String,
    pub source: String,
    pub base_config_sha256: String,
    pub inputs: Vec<KeyValue>,
    pub book_origin: String,
    pub book_generated: bool,
    pub baseline_run_id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Provenance {
    pub sweep_id: String,
    pub version: String,
    pub mode: String,
    pub variants: String,
    pub params: Vec<String>,
    pub grid: String,
    pub grid_sha256: String,
    /// `index i of n parts` for a shard's part.
    pub shard: Option<String>,
    pub rows: String,
    pub command: String,
    pub scenarios: Vec<ScenarioProvenance>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MethodItem {
    pub term: String,
    pub text: String,
}

/// Everything the sweep report shows (`sweep-report.json`).
#[derive(Debug, Clone, Serialize)]
pub struct SweepReport {
    pub title: String,
    pub subtitle: String,
    pub generated_at: Option<String>,
    pub sweep_id: String,
    pub params: Vec<String>,
    /// Columns of the best-policies table (for spanning rows).
    pub best_columns: usize,
    pub notices: Vec<Notice>,
    pub crises: Vec<CrisisReport>,
    /// With more than one crisis.
    pub across: Option<AcrossSection>,
    pub provenance: Provenance,
    pub method: Vec<MethodItem>,
}

// ---------------------------------------------------------------------------
// Build
// ---------------------------------------------------------------------------

/// `+$5`, `-$5`, `$0`.
fn signed_usd(w: Wad) -> String {
    let s = f::usd(w);
    if w.0 > 0 && s != "$0" {
        format!("+{s}")
    } else {
        s
    }
}

/// The command that replays a variant in full: the sweep's command
/// (`opts.command`, shell-quoted; `shortfall sweep` when empty) with
/// `--explain`.
pub fn explain_command(opts: &SweepOptions, variant_id: &str) -> String {
    let base = if opts.command.is_empty() {
        "shortfall sweep".to_string()
    } else {
        opts.command
            .iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!("{base} --explain {}", shell_quote(variant_id))
}

fn param_values(keys: &[String], r: &SweepRow) -> Vec<String> {
    keys.iter()
        .map(|k| {
            r.params
                .iter()
                .find(|p| &p.key == k)
                .map_or_else(|| "-".to_string(), |p| p.value.clone())
        })
        .collect()
}

fn policy_row(
    opts: &SweepOptions,
    keys: &[String],
    r: &SweepRow,
    base: &SweepRow,
    rank: String,
) -> PolicyRow {
    let is_base = r.variant == u32::MAX;
    PolicyRow {
        rank,
        variant: if is_base {
            "base".into()
        } else {
            r.variant.to_string()
        },
        variant_id: r.variant_id.clone(),
        params: if is_base {
            vec!["as configured".to_string(); keys.len()]
        } else {
            param_values(keys, r)
        },
        bad_debt_usd: f::usd(r.bad_debt_usd),
        bad_debt_vs_baseline: signed_usd(r.bad_debt_usd.saturating_sub(base.bad_debt_usd)),
        npl_count: f::count(r.npl_count),
        liquidated_volume_usd: f::usd(r.liquidated_volume_usd),
        liquidation_count: f::count(r.liquidation_count),
        penalty_usd: f::usd(r.penalty_usd),
        penalty_vs_baseline: signed_usd(r.penalty_usd.saturating_sub(base.penalty_usd)),
        reserves_drawdown_usd: f::usd(r.reserves_drawdown_usd),
        run_id: r.run_id.clone(),
        explain: if is_base {
            String::new()
        } else {
            explain_command(opts, &r.variant_id)
        },
    }
}

fn point(r: &SweepRow, frontier: bool) -> ChartPoint {
    ChartPoint {
        variant_id: r.variant_id.clone(),
        liquidated_volume_usd: r.liquidated_volume_usd.to_string(),
        bad_debt_usd: r.bad_debt_usd.to_string(),
        frontier,
    }
}

/// Distinct values of parameter `key` over `rows`: numerically when every
/// value is a number, else in the order the variants first use them.
fn axis_values(rows: &[&SweepRow], key: &str) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut vals: Vec<String> = Vec::new();
    for r in rows {
        if let Some(p) = r.params.iter().find(|p| p.key == key) {
            if seen.insert(p.value.clone()) {
                vals.push(p.value.clone());
            }
        }
    }
    let nums: Option<Vec<f64>> = vals
        .iter()
        .map(|v| v.trim().parse::<f64>().ok().filter(|x| x.is_finite()))
        .collect();
    if let Some(nums) = nums {
        let mut pairs: Vec<(f64, String)> = nums.into_iter().zip(vals).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        vals = pairs.into_iter().map(|p| p.1).collect();
    }
    vals
}

/// Light (least bad debt) to red (most), `t` in 0..=1000.
fn shade(t: i128) -> String {
    let t = t.clamp(0, 1000) as i32;
    let mix = |a: i32, b: i32| a + (b - a) * t / 1000;
    format!(
        "background-color:#{:02x}{:02x}{:02x}",
        mix(247, 222),
        mix(247, 102),
        mix(244, 84)
    )
}

fn heatmap(keys: &[String], rows: &[&SweepRow]) -> Option<Heatmap> {
    if keys.len() < 2 || rows.is_empty() {
        return None;
    }
    let (rk, ck) = (&keys[0], &keys[1]);
    let rvals = axis_values(rows, rk);
    let cvals = axis_values(rows, ck);
    if rvals.is_empty() || cvals.is_empty() {
        return None;
    }
    let mut cells: BTreeMap<(&str, &str), &SweepRow> = BTreeMap::new();
    for r in rows {
        let v = |k: &String| {
            r.params
                .iter()
                .find(|p| &p.key == k)
                .map(|p| p.value.as_str())
        };
        if let (Some(a), Some(b)) = (v(rk), v(ck)) {
            let e = cells.entry((a, b)).or_insert(r);
            if rank_cmp(r, e).is_lt() {
                *e = r;
            }
        }
    }
    let lo = cells.values().map(|r| r.bad_debt_usd).min()?;
    let hi = cells.values().map(|r| r.bad_debt_usd).max()?;
    let span = hi.0.saturating_sub(lo.0);
    let rows_out = rvals
        .iter()
        .map(|a| HeatRow {
            value: a.clone(),
            cells: cvals
                .iter()
                .map(|b| match cells.get(&(a.as_str(), b.as_str())) {
                    Some(r) => {
                        let t = if span > 0 {
                            shortfall_core::money::mul_div_down(
                                r.bad_debt_usd.0.saturating_sub(lo.0),
                                1000,
                                span,
                            )
                            .unwrap_or(0)
                        } else {
                            0
                        };
                        HeatCell {
                            bad_debt_usd: f::usd(r.bad_debt_usd),
                            display: f::usd_short(r.bad_debt_usd),
                            variant_id: r.variant_id.clone(),
                            style: shade(t),
                            best: r.bad_debt_usd == lo,
                        }
                    }
                    None => HeatCell {
                        bad_debt_usd: "-".into(),
                        display: "-".into(),
                        variant_id: String::new(),
                        style: String::new(),
                        best: false,
                    },
                })
                .collect(),
        })
        .collect();
    let mut caption = format!(
        "Bad debt (USD) by {rk} (rows) and {ck} (columns); darker is more bad debt, the least is in bold."
    );
    if keys.len() > 2 {
        caption.push_str(&format!(
            " Each cell is the minimum over the other parameters ({}): the best any of its variants did.",
            keys[2..].join(", ")
        ));
    }
    if cells.len() < rvals.len() * cvals.len() {
        caption.push_str(" Cells marked - have no variant in the grid.");
    }
    Some(Heatmap {
        row_key: rk.clone(),
        col_key: ck.clone(),
        cols: cvals,
        rows: rows_out,
        caption,
        scale: format!("from {} (lightest) to {} (darkest)", f::usd(lo), f::usd(hi)),
    })
}

fn crisis(
    i: usize,
    sc: &SweepScenario,
    meta: &SweepMeta,
    rows: &[&SweepRow],
    opts: &SweepOptions,
) -> CrisisReport {
    let keys = &meta.params;
    let base = &sc.baseline;
    let card = |key: &str, label: &str, value: String| Card {
        key: key.into(),
        label: label.into(),
        value,
    };
    let top = best(rows, opts.top);
    let front = pareto(rows);
    let on_front: BTreeSet<usize> = front.iter().copied().collect();
    let variants_text = if rows.len() as u64 == u64::from(meta.variants) {
        f::count(rows.len() as u64)
    } else {
        format!(
            "{} of {}",
            f::count(rows.len() as u64),
            f::count(u64::from(meta.variants))
        )
    };
    let mut cards = vec![
        card("variants", "Variants run", variants_text),
        card("crises", "Crises", f::count(meta.scenarios.len() as u64)),
        card("params", "Parameters varied", f::count(keys.len() as u64)),
        card(
            "baseline_bad_debt",
            "Baseline bad debt (scenario unchanged)",
            f::usd(base.bad_debt_usd),
        ),
    ];
    let mut summary = format!(
        "{} variants of {} replayed through {}. The baseline (the scenario as configured) leaves {} of bad debt in {} non-performing loans after {} of liquidations.",
        f::count(rows.len() as u64),
        if keys.is_empty() {
            "no parameter".to_string()
        } else {
            keys.join(", ")
        },
        sc.title,
        f::usd(base.bad_debt_usd),
        f::count(base.npl_count),
        f::usd(base.liquidated_volume_usd),
    );
    if let Some(&b) = top.first() {
        let r = rows[b];
        let diff = base.bad_debt_usd.saturating_sub(r.bad_debt_usd);
        cards.push(card(
            "best_bad_debt",
            "Best variant's bad debt",
            f::usd(r.bad_debt_usd),
        ));
        let pct = f::share(Wad(diff.0.saturating_abs()), base.bad_debt_usd);
        let with_pct = |v: Wad| {
            if pct == "-" {
                f::usd(v)
            } else {
                format!("{} ({pct})", f::usd(v))
            }
        };
        let (label, value, words) = match diff.0.signum() {
            1 => (
                "Lower than baseline by",
                with_pct(diff),
                format!("{} lower", with_pct(diff)),
            ),
            -1 => (
                "Higher than baseline by",
                with_pct(Wad(-diff.0)),
                format!(
                    "{} higher: no variant beats the baseline",
                    with_pct(Wad(-diff.0))
                ),
            ),
            _ => (
                "Same as baseline",
                f::usd(Wad::ZERO),
                "the same".to_string(),
            ),
        };
        cards.push(card("best_vs_baseline", label, value));
        let sets = r.sets().join(" ");
        summary.push_str(&format!(
            " The best variant, {} ({}), leaves {} of bad debt: {}.",
            r.variant_id,
            if sets.is_empty() {
                "no sets".into()
            } else {
                sets
            },
            f::usd(r.bad_debt_usd),
            words
        ));
    } else {
        summary.push_str(" This sweep has no rows for this crisis.");
    }
    let best_rows: Vec<PolicyRow> = top
        .iter()
        .enumerate()
        .map(|(k, &j)| policy_row(opts, keys, rows[j], base, (k + 1).to_string()))
        .collect();
    let frontier: Vec<PolicyRow> = front
        .iter()
        .enumerate()
        .map(|(k, &j)| policy_row(opts, keys, rows[j], base, (k + 1).to_string()))
        .collect();
    let best_caption = format!(
        "The {} best of {} variants: least bad debt, then least penalty paid by borrowers, then least liquidated volume. \"vs baseline\" is the variant minus the baseline. Replay one in full (events, positions, its own report) with the command under it.",
        f::count(best_rows.len() as u64),
        f::count(rows.len() as u64)
    );
    let frontier_caption = format!(
        "The Pareto frontier, how much borrowers pay for safety: the {} variants that no other variant beats on both bad debt and liquidated volume, in ascending liquidated volume. Down the table, the protocol loses less and borrowers are liquidated more and pay more penalty.",
        f::count(frontier.len() as u64)
    );
    let chart = FrontierChart {
        points: rows
            .iter()
            .enumerate()
            .map(|(j, r)| point(r, on_front.contains(&j)))
            .collect(),
        frontier: front.iter().map(|&j| point(rows[j], true)).collect(),
        baseline: point(base, false),
    };
    CrisisReport {
        anchor: format!("crisis-{}", i + 1),
        name: sc.name.clone(),
        title: sc.title.clone(),
        summary,
        cards,
        baseline: policy_row(opts, keys, base, base, String::new()),
        best_caption,
        best: best_rows,
        frontier_caption,
        frontier,
        chart,
        heatmap: heatmap(keys, rows),
    }
}

fn method() -> Vec<MethodItem> {
    let m = |term: &str, text: &str| MethodItem {
        term: term.into(),
        text: text.into(),
    };
    vec![
        m("Variant", "One set of parameter values of the grid, applied to each crisis scenario with --set (as the settings show them); the scenario's other rules, prices and book are unchanged."),
        m("Baseline", "The crisis scenario run as configured, without the sweep's settings: what each variant is set against."),
        m("Bad debt", "Debt left without collateral to cover it at the end of the crisis window (USD), summed over positions: what the protocol loses."),
        m("NPL count", "Non-performing loans: positions left with debt after their collateral is gone."),
        m("Liquidated volume", "Debt repaid by liquidations over the window, USD."),
        m("Penalty", "Liquidation penalties paid by borrowers (liquidation bonus, chop), USD: what borrowers pay for the protocol's safety."),
        m("Reserves drawdown", "Largest fall of the protocol's reserves (insurance plus protocol fees minus bad debt) from a running peak over the window, USD."),
        m("Best policies", "Ranked by least bad debt, then least penalty, then least liquidated volume, then lowest variant index."),
        m("Pareto frontier", "The variants no other variant beats on both bad debt and liquidated volume (both lower or equal, one strictly lower); of variants with identical figures the lowest index is kept."),
        m("Heatmap", "Bad debt over the first two parameters; with more parameters, each cell is the least bad debt over the others."),
        m("Across crises", "Per variant, bad debt, penalty, liquidated volume and non-performing loans summed over the crises, and the worst single crisis; ranked by total bad debt, then total penalty, then variant index."),
        m("Figures", "Money is exact 18-decimal fixed point, rounded half away from zero for display; every figure of this page is in sweep-report.json beside it."),
    ]
}

/// Builds the report model of a sweep. Rows must name crises of `meta`;
/// two rows for the same variant and crisis are an error.
pub fn build_sweep(
    meta: &SweepMeta,
    rows: &[SweepRow],
    opts: &SweepOptions,
) -> Result<SweepReport, ReportError> {
    let mut by_crisis: BTreeMap<&str, Vec<&SweepRow>> = meta
        .scenarios
        .iter()
        .map(|s| (s.name.as_str(), Vec::new()))
        .collect();
    let mut seen: BTreeSet<(u32, &str)> = BTreeSet::new();
    for r in rows {
        let Some(list) = by_crisis.get_mut(r.scenario.as_str()) else {
            return Err(ReportError::Config(format!(
                "sweep row of variant {} names crisis {:?}, which is not in the sweep's meta ({})",
                r.variant_id,
                r.scenario,
                meta.scenarios
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        if !seen.insert((r.variant, r.scenario.as_str())) {
            return Err(ReportError::Config(format!(
                "two sweep rows for variant {} in crisis {:?}",
                r.variant_id, r.scenario
            )));
        }
        list.push(r);
    }
    for list in by_crisis.values_mut() {
        list.sort_by_key(|r| r.variant);
    }

    let mut notices = Vec::new();
    for sc in &meta.scenarios {
        notices.push(if sc.book_generated {
            Notice {
                kind: "book-generated".into(),
                text: format!(
                    "The book of {} is generated, not a real book of positions: {}. Its figures show how the policies compare on a plausible book, not what the protocol held.",
                    sc.title, sc.book_origin
                ),
            }
        } else {
            Notice {
                kind: "book-snapshot".into(),
                text: format!("The book of {}: {}.", sc.title, sc.book_origin),
            }
        });
    }
    let shard = meta.shard.map(|[i, n]| format!("index {i} of {n} parts"));
    if let Some(s) = &shard {
        notices.push(Notice {
            kind: "partial".into(),
            text: format!(
                "This report covers one shard of the sweep ({s}), not all its variants: rankings and the frontier are over this part only."
            ),
        });
    }

    let crises: Vec<CrisisReport> = meta
        .scenarios
        .iter()
        .enumerate()
        .map(|(i, sc)| crisis(i, sc, meta, &by_crisis[sc.name.as_str()], opts))
        .collect();

    let across_section = (meta.scenarios.len() > 1).then(|| {
        let all = across(meta, rows);
        let base_total = meta
            .scenarios
            .iter()
            .fold(Wad::ZERO, |a, s| add(a, s.baseline.bad_debt_usd));
        let title_of: BTreeMap<&str, &str> = meta
            .scenarios
            .iter()
            .map(|s| (s.name.as_str(), s.title.as_str()))
            .collect();
        let rows_out: Vec<AcrossView> = all
            .iter()
            .take(opts.top)
            .enumerate()
            .map(|(k, a)| {
                let values: Vec<String> = meta
                    .params
                    .iter()
                    .map(|key| {
                        a.params
                            .iter()
                            .find(|p| &p.key == key)
                            .map_or_else(|| "-".to_string(), |p| p.value.clone())
                    })
                    .collect();
                AcrossView {
                    rank: (k + 1).to_string(),
                    variant_id: a.variant_id.clone(),
                    params: values,
                    crises: format!(
                        "{} of {}",
                        f::count(u64::from(a.crises)),
                        f::count(meta.scenarios.len() as u64)
                    ),
                    total_bad_debt_usd: f::usd(a.total_bad_debt_usd),
                    worst_bad_debt_usd: f::usd(a.worst_bad_debt_usd),
                    worst_crisis: title_of
                        .get(a.worst_scenario.as_str())
                        .map_or_else(|| a.worst_scenario.clone(), |t| t.to_string()),
                    total_penalty_usd: f::usd(a.total_penalty_usd),
                    total_liquidated_volume_usd: f::usd(a.total_liquidated_volume_usd),
                    npl_count: f::count(a.npl_count),
                    explain: explain_command(opts, &a.variant_id),
                }
            })
            .collect();
        AcrossSection {
            caption: format!(
                "The {} best of {} variants over the {} crises: least total bad debt, then least total penalty. The baselines lose {} in all.",
                f::count(rows_out.len() as u64),
                f::count(all.len() as u64),
                f::count(meta.scenarios.len() as u64),
                f::usd(base_total)
            ),
            baseline_total_bad_debt_usd: f::usd(base_total),
            rows: rows_out,
        }
    });

    let provenance = Provenance {
        sweep_id: meta.sweep_id.clone(),
        version: meta.version.clone(),
        mode: meta.mode.clone(),
        variants: f::count(u64::from(meta.variants)),
        params: meta.params.clone(),
        grid: meta.grid.clone(),
        grid_sha256: meta.grid_sha256.clone(),
        shard,
        rows: f::count(rows.len() as u64),
        command: opts
            .command
            .iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" "),
        scenarios: meta
            .scenarios
            .iter()
            .map(|s| ScenarioProvenance {
                name: s.name.clone(),
                title: s.title.clone(),
                source: s.source.clone(),
                base_config_sha256: s.base_config_sha256.clone(),
                inputs: s
                    .input_hashes
                    .iter()
                    .map(|(k, v)| KeyValue {
                        key: k.clone(),
                        value: v.clone(),
                    })
                    .collect(),
                book_origin: s.book_origin.clone(),
                book_generated: s.book_generated,
                baseline_run_id: s.baseline.run_id.clone(),
            })
            .collect(),
    };

    Ok(SweepReport {
        title: format!("Policy sweep: {}", meta.title),
        subtitle: format!(
            "{} variants ({}) of {} through {} {}",
            f::count(u64::from(meta.variants)),
            meta.mode,
            if meta.params.is_empty() {
                "no parameter".to_string()
            } else {
                meta.params.join(", ")
            },
            f::count(meta.scenarios.len() as u64),
            if meta.scenarios.len() == 1 {
                "crisis"
            } else {
                "crises"
            }
        ),
        generated_at: opts.timestamp.clone(),
        sweep_id: meta.sweep_id.clone(),
        params: meta.params.clone(),
        best_columns: 9 + meta.params.len(),
        notices,
        crises,
        across: across_section,
        provenance,
        method: method(),
    })
}

// ---------------------------------------------------------------------------
// Render and write
// ---------------------------------------------------------------------------

/// The HTML of a sweep report (templates from `opts.templates` if given).
pub fn render_sweep_html(report: &SweepReport, opts: &SweepOptions) -> Result<String, ReportError> {
    let templates = crate::render::Templates::load(opts.templates.as_deref())?;
    let svgs = report
        .crises
        .iter()
        .map(|c| charts::sweep_frontier_svg(&c.chart))
        .collect::<Result<Vec<String>, ReportError>>()?;
    templates.render_sweep(report, &svgs)
}

/// The JSON twin of a sweep report.
pub fn sweep_json(report: &SweepReport) -> Result<Vec<u8>, ReportError> {
    crate::json_bytes(report)
}

/// Builds and renders a sweep report: the model, the HTML and the JSON.
pub fn render_sweep(
    meta: &SweepMeta,
    rows: &[SweepRow],
    opts: &SweepOptions,
) -> Result<(SweepReport, String, Vec<u8>), ReportError> {
    let report = build_sweep(meta, rows, opts)?;
    let html = render_sweep_html(&report, opts)?;
    let json = sweep_json(&report)?;
    Ok((report, html, json))
}

/// Writes the sweep report into the sweep folder `dir`: `sweep.html` and
/// `sweep-report.json`, each atomically (temporary file, then rename).
pub fn write_sweep(
    meta: &SweepMeta,
    rows: &[SweepRow],
    dir: &Path,
    opts: &SweepOptions,
) -> Result<(SweepReport, Written), ReportError> {
    let (report, html, json) = render_sweep(meta, rows, opts)?;
    let written = crate::write_files(
        &dir.join(SWEEP_HTML),
        &html,
        &dir.join(SWEEP_REPORT_JSON),
        &json,
    )?;
    Ok((report, written))
}
