//! `shortfall forensics`: observed liquidations of a dataset -> the
//! `observed_liquidations` table and the observed-liquidations report.

use std::process::ExitCode;

use anyhow::{bail, Context};
use shortfall_core::{LendingEvent, ObservedLiquidation, Reserve};
use shortfall_report::{build_observed, ObservedOptions, Templates};
use shortfall_store::Dataset;

use crate::cli::{ForensicsArgs, Global};

pub fn run(g: &Global, args: ForensicsArgs) -> anyhow::Result<ExitCode> {
    let mut ds = Dataset::open(&args.dataset)?;
    let events: Vec<LendingEvent> = ds.read()?;
    if events.is_empty() {
        bail!(
            "{}: no lending_events table (ingest one with --format events-csv)",
            args.dataset.display()
        );
    }
    let reserves: Vec<Reserve> = ds.read()?;
    // Sorted as the table stores them, so the report does not depend on input order.
    let mut rows = shortfall_forensics::observe(&events, &reserves);
    rows.sort_by(|a, b| {
        use shortfall_store::tables::CanonicalRow;
        a.cmp_key(b)
    });
    let balances = shortfall_forensics::left_with_debt(&events);
    ds.replace::<ObservedLiquidation>(rows.clone())?;
    ds.commit()?;

    let name = args.dataset.file_name().map_or_else(
        || "dataset".to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| g.reports_dir.join("observed").join(format!("{name}.html")));
    let command: Vec<String> = std::iter::once("shortfall".to_string())
        .chain(std::env::args().skip(1))
        .map(|a| shortfall_report::format::shell_quote(&a))
        .collect();
    let opts = ObservedOptions {
        dataset: name,
        timestamp: args.render.timestamp.clone(),
        top_n: args.render.top,
        command: command.join(" "),
    };
    let report = build_observed(&rows, &balances, ds.manifest(), &opts);
    let t = Templates::load(args.render.templates.as_deref()).context("loading templates")?;
    let w = shortfall_report::write_observed(&report, &out, &t)
        .with_context(|| format!("writing {}", out.display()))?;
    if !g.quiet {
        println!(
            "{}: observed_liquidations: {} rows",
            args.dataset.display(),
            rows.len()
        );
        for c in &report.headline {
            println!("  {:<52} {}", c.label, c.value);
        }
        println!("  {}", report.bonus_summary);
    }
    println!("{}", w.html.display());
    Ok(ExitCode::SUCCESS)
}
