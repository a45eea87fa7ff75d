//! `shortfall report` and `shortfall compare`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use shortfall_report::{CompareOptions, ReportOptions, Templates};

use crate::cli::{CompareArgs, Global, RenderArgs, ReportArgs};

fn templates(r: &RenderArgs) -> anyhow::Result<Templates> {
    Templates::load(r.templates.as_deref()).context("loading templates")
}

fn options(r: &RenderArgs) -> ReportOptions {
    ReportOptions {
        top_n: r.top,
        timestamp: r.timestamp.clone(),
        ..ReportOptions::default()
    }
}

/// Writes the report of a run folder; returns the HTML path.
pub fn write(
    run_dir: &Path,
    out: Option<&Path>,
    r: &RenderArgs,
) -> anyhow::Result<std::path::PathBuf> {
    let t = templates(r)?;
    let (_, w) = shortfall_report::write_report(run_dir, out, &t, &options(r))
        .with_context(|| format!("report of {}", run_dir.display()))?;
    Ok(w.html)
}

/// Writes the report of a run still in memory into its folder `run_dir`.
pub fn write_in_memory(
    run: &shortfall_store::RunData,
    run_dir: &Path,
    r: &RenderArgs,
) -> anyhow::Result<(shortfall_report::Report, std::path::PathBuf)> {
    let t = templates(r)?;
    let (report, w) = shortfall_report::write_run_report(
        run,
        &run_dir.join(shortfall_report::REPORT_HTML),
        &t,
        &options(r),
    )
    .with_context(|| format!("report of {}", run_dir.display()))?;
    Ok((report, w.html))
}

pub fn run(_g: &Global, args: ReportArgs) -> anyhow::Result<ExitCode> {
    let html = write(&args.run, args.out.as_deref(), &args.render)?;
    println!("{}", html.display());
    Ok(ExitCode::SUCCESS)
}

pub fn compare(_g: &Global, args: CompareArgs) -> anyhow::Result<ExitCode> {
    let t = templates(&args.render)?;
    let opts = CompareOptions {
        top_n: args.render.top,
        timestamp: args.render.timestamp.clone(),
    };
    let (c, w) = shortfall_report::write_compare(&args.a, &args.b, &args.out, &t, &opts)
        .with_context(|| format!("comparing {} and {}", args.a.display(), args.b.display()))?;
    println!("{}", w.html.display());
    for f in &c.headline {
        println!("{:<30} {:>16} {:>16} {:>16}", f.label, f.a, f.b, f.delta);
    }
    Ok(ExitCode::SUCCESS)
}
