//! Forensic reports of Shortfall runs.
//!
//! A run folder (`reports/<scenario>/<run_id>/`, written by `shortfall
//! replay`) becomes `report.html`, one self-contained file (inline CSS and
//! SVG, no scripts, fonts or network; a Content-Security-Policy forbids any
//! load), and `report.json`, its twin with every figure the HTML shows.
//! Figures are formatted in Rust ([`format`]); the templates only place
//! them. Without a timestamp the same run gives byte-identical files.
//!
//! Every page is a view model (its JSON twin) built from its inputs and
//! rendered by [`Templates::render`] with the page's charts: the run report
//! ([`build::build_report`] -> [`model::Report`], with its [`perp`]
//! section), [`compare`], [`observed`], [`sweep`], [`stress`] and
//! [`contagion`]. Data flows one way: pages depend on [`charts`] (one
//! chart per module, each with its own input type), [`widgets`] and
//! [`format`]; a chart never knows a page.

#![warn(clippy::too_many_lines)]

pub mod auctions;
pub mod build;
pub mod charts;
pub mod compare;
pub mod contagion;
mod error;
pub mod format;
pub mod model;
pub mod observed;
pub mod output;
pub mod perp;
pub mod references;
pub mod render;
pub mod settings;
pub mod stress;
pub mod sweep;
pub mod widgets;

use std::path::Path;

pub use auctions::{build_auctions, AuctionsOptions, AuctionsReport};
pub use build::{build_report, ReportOptions};
pub use compare::{build_compare, CompareOptions};
pub use contagion::{
    build_contagion, render_contagion, write_contagion, ContagionOptions, ContagionReport,
};
pub use error::ReportError;
pub use model::{Compare, Report};
pub use observed::{build_observed, ObservedOptions, ObservedReport};
pub use output::{json_twin, Written, REPORT_HTML, REPORT_JSON};
pub use render::{Page, Templates};
pub use sweep::{
    across, best, build_sweep, pareto, render_sweep, write_sweep, AcrossRow, SweepOptions,
    SweepReport,
};

use output::{html_and_json, write_pair};

/// Renders a run report to HTML and JSON strings.
pub fn render_run(
    run: &shortfall_store::RunData,
    templates: &Templates,
    opts: &ReportOptions,
) -> Result<(Report, String, Vec<u8>), ReportError> {
    let report = build_report(run, opts)?;
    let (html, json) = html_and_json(templates, &report)?;
    Ok((report, html, json))
}

/// Writes the report of `run` to `html_path` and the JSON twin next to it,
/// each atomically (for a run still in memory, e.g. just replayed).
pub fn write_run_report(
    run: &shortfall_store::RunData,
    html_path: &Path,
    templates: &Templates,
    opts: &ReportOptions,
) -> Result<(Report, Written), ReportError> {
    let (report, html, json) = render_run(run, templates, opts)?;
    let w = write_pair(html_path, &html, &json)?;
    Ok((report, w))
}

/// Reads the run folder `run_dir` and writes its report to `out` (default
/// `run_dir/report.html`) and the JSON twin next to it, each atomically.
pub fn write_report(
    run_dir: &Path,
    out: Option<&Path>,
    templates: &Templates,
    opts: &ReportOptions,
) -> Result<(Report, Written), ReportError> {
    let run = shortfall_store::read_run_without_events(run_dir)?;
    let html_path = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| run_dir.join(REPORT_HTML));
    write_run_report(&run, &html_path, templates, opts)
}

/// Reads two run folders and writes their comparison to `out` (HTML) and
/// its JSON twin.
pub fn write_compare(
    a_dir: &Path,
    b_dir: &Path,
    out: &Path,
    templates: &Templates,
    opts: &CompareOptions,
) -> Result<(Compare, Written), ReportError> {
    let a = shortfall_store::read_run_without_events(a_dir)?;
    let b = shortfall_store::read_run_without_events(b_dir)?;
    let c = build_compare(&a, &b, opts)?;
    let (html, json) = html_and_json(templates, &c)?;
    let w = write_pair(out, &html, &json)?;
    Ok((c, w))
}

/// Writes an observed-auctions report to `out` (HTML) and its JSON twin.
pub fn write_auctions(
    report: &AuctionsReport,
    out: &Path,
    templates: &Templates,
) -> Result<Written, ReportError> {
    let (html, json) = html_and_json(templates, report)?;
    write_pair(out, &html, &json)
}

/// Writes an observed-liquidations report to `out` (HTML) and its JSON twin.
pub fn write_observed(
    report: &ObservedReport,
    out: &Path,
    templates: &Templates,
) -> Result<Written, ReportError> {
    let (html, json) = html_and_json(templates, report)?;
    write_pair(out, &html, &json)
}
