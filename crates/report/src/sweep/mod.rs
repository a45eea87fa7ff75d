//! The sweep report: many variants of a scenario's margin and oracle
//! parameters replayed through one or several crises (`shortfall sweep`).
//!
//! [`build_sweep`] turns the sweep's meta (`sweep.json`) and rows
//! (`sweep.parquet`) into a [`SweepReport`]: per crisis the best policies, the
//! Pareto frontier of bad debt against liquidated volume (what borrowers pay
//! for safety), a heatmap of bad debt over the first two parameters, and,
//! with several crises, the best policies across them; then provenance and
//! method. [`render_sweep`] renders it with the `sweep.html` template
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
mod analysis;
mod crisis;
mod heatmap;
mod model;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use shortfall_core::sweep::{SweepMeta, SweepRow};
use shortfall_core::Wad;

use analysis::add;
pub use analysis::{across, best, pareto, AcrossRow};
pub use crisis::explain_command;
use crisis::{crisis, param_values};
pub use model::*;

use crate::error::ReportError;
use crate::format as f;
use crate::output::{html_and_json, write_files, Written};
use crate::render::Templates;
use crate::widgets::{KeyValue, Term};

fn method() -> Vec<Term> {
    let m = Term::new;
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

/// The rows of each crisis of the sweep, in variant order; a row of a
/// crisis not in `meta`, or two rows of one variant and crisis, are an
/// error.
fn by_crisis<'a>(
    meta: &'a SweepMeta,
    rows: &'a [SweepRow],
) -> Result<BTreeMap<&'a str, Vec<&'a SweepRow>>, ReportError> {
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
    Ok(by_crisis)
}

/// The shard of a shard's part (`index i of n parts`).
fn shard(meta: &SweepMeta) -> Option<String> {
    meta.shard.map(|[i, n]| format!("index {i} of {n} parts"))
}

/// What each crisis's book is, and whether the report covers a shard only.
fn notices(meta: &SweepMeta) -> Vec<Notice> {
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
    if let Some(s) = &shard(meta) {
        notices.push(Notice {
            kind: "partial".into(),
            text: format!(
                "This report covers one shard of the sweep ({s}), not all its variants: rankings and the frontier are over this part only."
            ),
        });
    }
    notices
}

/// Row `k` of the across-crises table; `title_of`: crisis titles by name.
fn across_view(
    meta: &SweepMeta,
    opts: &SweepOptions,
    title_of: &BTreeMap<&str, &str>,
    k: usize,
    a: &AcrossRow,
) -> AcrossView {
    let title = title_of.get(a.worst_scenario.as_str());
    AcrossView {
        rank: (k + 1).to_string(),
        variant_id: a.variant_id.clone(),
        params: param_values(&meta.params, &a.params),
        crises: format!(
            "{} of {}",
            f::count(u64::from(a.crises)),
            f::count(meta.scenarios.len() as u64)
        ),
        total_bad_debt_usd: f::usd(a.total_bad_debt_usd),
        worst_bad_debt_usd: f::usd(a.worst_bad_debt_usd),
        worst_crisis: title.map_or_else(|| a.worst_scenario.clone(), |t| t.to_string()),
        total_penalty_usd: f::usd(a.total_penalty_usd),
        total_liquidated_volume_usd: f::usd(a.total_liquidated_volume_usd),
        npl_count: f::count(a.npl_count),
        explain: explain_command(opts, &a.variant_id),
    }
}

/// The best variants across the crises (with more than one crisis).
fn across_section(
    meta: &SweepMeta,
    rows: &[SweepRow],
    opts: &SweepOptions,
) -> Option<AcrossSection> {
    if meta.scenarios.len() <= 1 {
        return None;
    }
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
        .map(|(k, a)| across_view(meta, opts, &title_of, k, a))
        .collect();
    Some(AcrossSection {
        caption: format!(
            "The {} best of {} variants over the {} crises: least total bad debt, then least total penalty. The baselines lose {} in all.",
            f::count(rows_out.len() as u64),
            f::count(all.len() as u64),
            f::count(meta.scenarios.len() as u64),
            f::usd(base_total)
        ),
        baseline_total_bad_debt_usd: f::usd(base_total),
        rows: rows_out,
    })
}

fn provenance(meta: &SweepMeta, rows: &[SweepRow], opts: &SweepOptions) -> SweepProvenance {
    SweepProvenance {
        sweep_id: meta.sweep_id.clone(),
        version: meta.version.clone(),
        mode: meta.mode.clone(),
        variants: f::count(u64::from(meta.variants)),
        params: meta.params.clone(),
        grid: meta.grid.clone(),
        grid_sha256: meta.grid_sha256.clone(),
        shard: shard(meta),
        rows: f::count(rows.len() as u64),
        command: f::shell_join(&opts.command),
        scenarios: meta
            .scenarios
            .iter()
            .map(|s| ScenarioProvenance {
                name: s.name.clone(),
                title: s.title.clone(),
                source: s.source.clone(),
                base_config_sha256: s.base_config_sha256.clone(),
                inputs: KeyValue::list(&s.input_hashes),
                book_origin: s.book_origin.clone(),
                book_generated: s.book_generated,
                baseline_run_id: s.baseline.run_id.clone(),
            })
            .collect(),
    }
}

/// Builds the report model of a sweep. Rows must name crises of `meta`;
/// two rows for the same variant and crisis are an error.
pub fn build_sweep(
    meta: &SweepMeta,
    rows: &[SweepRow],
    opts: &SweepOptions,
) -> Result<SweepReport, ReportError> {
    let by_crisis = by_crisis(meta, rows)?;
    let crises: Vec<CrisisReport> = meta
        .scenarios
        .iter()
        .enumerate()
        .map(|(i, sc)| crisis(i, sc, meta, &by_crisis[sc.name.as_str()], opts))
        .collect();
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
        notices: notices(meta),
        crises,
        across: across_section(meta, rows, opts),
        provenance: provenance(meta, rows, opts),
        method: method(),
    })
}

/// Builds and renders a sweep report: the model, the HTML (templates from
/// `opts.templates` if given) and the JSON.
pub fn render_sweep(
    meta: &SweepMeta,
    rows: &[SweepRow],
    opts: &SweepOptions,
) -> Result<(SweepReport, String, Vec<u8>), ReportError> {
    let report = build_sweep(meta, rows, opts)?;
    let templates = Templates::load(opts.templates.as_deref())?;
    let (html, json) = html_and_json(&templates, &report)?;
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
    let written = write_files(
        &dir.join(SWEEP_HTML),
        &html,
        &dir.join(SWEEP_REPORT_JSON),
        &json,
    )?;
    Ok((report, written))
}
