//! Forensic reports of Shortfall runs.
//!
//! A run folder (`reports/<scenario>/<run_id>/`, written by `shortfall
//! replay`) becomes `report.html`, one self-contained file (inline CSS and
//! SVG, no scripts, fonts or network; a Content-Security-Policy forbids any
//! load), and `report.json`, its twin with every figure the HTML shows.
//! Figures are formatted in Rust ([`format`]); the templates only place
//! them. Without a timestamp the same run gives byte-identical files.
//!
//! Flow: [`build::build_report`] (run -> [`model::Report`]) ->
//! [`render::Templates::render_report`] (tera + [`charts`]) -> files.
//! [`compare`] does the same for two runs of one crisis.

pub mod build;
pub mod charts;
pub mod compare;
pub mod contagion;
mod error;
pub mod format;
pub mod model;
pub mod observed;
pub mod perp;
pub mod render;
pub mod settings;
pub mod stress;
pub mod sweep;

use std::path::{Path, PathBuf};

pub use build::{build_report, ReportOptions};
pub use compare::{build_compare, CompareOptions};
pub use contagion::{
    build_contagion, render_contagion, write_contagion, ContagionOptions, ContagionReport,
};
pub use error::ReportError;
pub use model::{Compare, Report};
pub use observed::{build_observed, ObservedOptions, ObservedReport};
pub use render::Templates;
pub use sweep::{
    across, best, build_sweep, pareto, render_sweep, write_sweep, AcrossRow, SweepOptions,
    SweepReport,
};

/// Default file names in a run folder.
pub const REPORT_HTML: &str = "report.html";
pub const REPORT_JSON: &str = "report.json";

/// Paths of a written report.
#[derive(Debug, Clone)]
pub struct Written {
    pub html: PathBuf,
    pub json: PathBuf,
}

/// The JSON twin's path of an HTML path: same name, `.json`.
pub fn json_twin(html: &Path) -> PathBuf {
    html.with_extension("json")
}

fn json_bytes<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, ReportError> {
    let mut b = serde_json::to_vec_pretty(v)?;
    b.push(b'\n');
    Ok(b)
}

fn write_pair(html_path: &Path, html: &str, json: &[u8]) -> Result<Written, ReportError> {
    write_files(html_path, html, &json_twin(html_path), json)
}

/// Writes a report's HTML and its JSON twin, each atomically (temporary
/// file, then rename), creating the folder.
fn write_files(
    html_path: &Path,
    html: &str,
    json_path: &Path,
    json: &[u8],
) -> Result<Written, ReportError> {
    if let Some(p) = html_path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(p).map_err(|e| ReportError::io(p, e))?;
    }
    shortfall_store::parquet_io::write_atomic(json_path, json)?;
    shortfall_store::parquet_io::write_atomic(html_path, html.as_bytes())?;
    Ok(Written {
        html: html_path.to_path_buf(),
        json: json_path.to_path_buf(),
    })
}

/// Renders a run report to HTML and JSON strings.
pub fn render_run(
    run: &shortfall_store::RunData,
    templates: &Templates,
    opts: &ReportOptions,
) -> Result<(Report, String, Vec<u8>), ReportError> {
    let report = build_report(run, opts)?;
    let html = templates.render_report(&report)?;
    let json = json_bytes(&report)?;
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
    let html = templates.render_compare(&c)?;
    let w = write_pair(out, &html, &json_bytes(&c)?)?;
    Ok((c, w))
}

/// Writes an observed-liquidations report to `out` (HTML) and its JSON twin.
pub fn write_observed(
    report: &ObservedReport,
    out: &Path,
    templates: &Templates,
) -> Result<Written, ReportError> {
    let html = templates.render_observed(report)?;
    write_pair(out, &html, &json_bytes(report)?)
}
