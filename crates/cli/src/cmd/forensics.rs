//! `shortfall forensics`: observed liquidations of a dataset -> the
//! `observed_liquidations` table and the observed-liquidations report.

use std::process::ExitCode;

use anyhow::{bail, Context};
use shortfall_core::{LendingEvent, ObservedAuction, ObservedLiquidation, Reserve};
use shortfall_report::{build_observed, ObservedOptions, Templates};
use shortfall_store::Dataset;

use crate::cli::{ForensicsArgs, Global};

/// The report path of the observed auctions: `<stem>-auctions.html`.
fn auctions_path(out: &std::path::Path) -> std::path::PathBuf {
    let stem = out.file_stem().map_or_else(
        || "observed".to_string(),
        |s| s.to_string_lossy().into_owned(),
    );
    out.with_file_name(format!("{stem}-auctions.html"))
}

/// Forensics of `observed_auctions`: printed figures and the report.
fn run_auctions(
    g: &Global,
    args: &ForensicsArgs,
    ds: &Dataset,
    rows: &[ObservedAuction],
    out: &std::path::Path,
    command: &str,
) -> anyhow::Result<()> {
    use shortfall_forensics::auctions::{calls, maker};
    let window = args
        .window
        .as_deref()
        .map(super::ingest::parse_window)
        .transpose()?;
    let inside: Vec<ObservedAuction> = rows
        .iter()
        .filter(|r| window.is_none_or(|(a, b)| r.ts >= a && r.ts < b))
        .cloned()
        .collect();
    let m = maker(&inside, None);
    let protocols: std::collections::BTreeSet<&str> = inside
        .iter()
        .filter(|r| r.mechanism == "fixed_spread")
        .map(|r| r.protocol.as_str())
        .collect();
    let call_list: Vec<_> = protocols.into_iter().map(|p| calls(&inside, p)).collect();
    let name = args.dataset.file_name().map_or_else(
        || "dataset".to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let opts = shortfall_report::AuctionsOptions {
        dataset: name,
        timestamp: args.render.timestamp.clone(),
        top_n: args.render.top,
        command: command.to_string(),
        window,
    };
    let report = shortfall_report::build_auctions(Some(&m), &call_list, ds.manifest(), &opts);
    let t = Templates::load(args.render.templates.as_deref()).context("loading templates")?;
    let w = shortfall_report::write_auctions(&report, out, &t)
        .with_context(|| format!("writing {}", out.display()))?;
    if !g.quiet {
        println!(
            "{}: observed_auctions: {} rows{}",
            args.dataset.display(),
            inside.len(),
            if window.is_some() {
                " in the window"
            } else {
                ""
            }
        );
        if let Some(v) = &report.maker {
            println!("  Maker flip auctions");
            for c in &v.headline {
                println!("    {:<50} {}", c.label, c.value);
            }
            for (label, share) in &v.splits {
                println!("    zero-bid share, {label}: {share}");
            }
        }
        for c in &report.calls {
            println!("  {} liquidation calls", c.protocol);
            for k in &c.headline {
                println!("    {:<50} {}", k.label, k.value);
            }
        }
    }
    println!("{}", w.html.display());
    Ok(())
}

pub fn run(g: &Global, args: ForensicsArgs) -> anyhow::Result<ExitCode> {
    let mut ds = Dataset::open(&args.dataset)?;
    let events: Vec<LendingEvent> = ds.read()?;
    let auctions: Vec<ObservedAuction> = ds.read()?;
    if events.is_empty() && auctions.is_empty() {
        bail!(
            "{}: no lending_events table (ingest one with --format events-csv) and no observed_auctions \
             (--format maker-flip-auctions or compound-liquidations-dune)",
            args.dataset.display()
        );
    }
    if args.window.is_some() && auctions.is_empty() {
        bail!("--window applies to observed_auctions only, and the dataset has none");
    }
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
    if !auctions.is_empty() {
        let path = if events.is_empty() {
            out.clone()
        } else {
            auctions_path(&out)
        };
        run_auctions(g, &args, &ds, &auctions, &path, &command.join(" "))?;
    }
    if events.is_empty() {
        return Ok(ExitCode::SUCCESS);
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
