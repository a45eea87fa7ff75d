//! `shortfall positions`: rebuild the position book of a dataset's
//! `lending_events` at a time or block (crate `shortfall-books`), write it
//! as the dataset's `positions` table and print the reconciliation.

use std::process::ExitCode;

use anyhow::{bail, Context};
use shortfall_books::{Reconciliation, Reconstruction, Snapshot};
use shortfall_core::{LendingEvent, Micros, PositionRow, Reserve};
use shortfall_store::Dataset;

use crate::cli::{Global, PositionsArgs};

/// Events not applied that are printed; the JSON has them all.
const ISSUES_SHOWN: usize = 20;

/// `--at`: a plain integer is a block number, anything else a time.
pub fn parse_at(text: &str) -> anyhow::Result<Snapshot> {
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        let b: i64 = t
            .parse()
            .with_context(|| format!("--at `{text}`: block number out of range"))?;
        return Ok(Snapshot::Block(b));
    }
    Micros::parse(t)
        .map(Snapshot::Time)
        .with_context(|| format!("--at `{text}`: neither a block number nor a time"))
}

/// Chain text shown in the terminal without its control characters.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// The JSON written by `--json`.
#[derive(serde::Serialize)]
struct PositionsJson<'a> {
    dataset: String,
    snapshot: String,
    snapshot_ts: String,
    snapshot_block: Option<i64>,
    protocol: Option<&'a str>,
    legs: usize,
    reconciliation: &'a Reconciliation,
}

pub fn run(g: &Global, args: PositionsArgs) -> anyhow::Result<ExitCode> {
    let at = parse_at(&args.at)?;
    let dir = &args.dataset;
    let mut ds = Dataset::open(dir)?;
    let mut events: Vec<LendingEvent> = ds.read()?;
    if events.is_empty() {
        bail!(
            "{}: no lending_events table (ingest one, e.g. with --format events-csv)",
            dir.display()
        );
    }
    if let Some(p) = &args.protocol {
        let present: std::collections::BTreeSet<String> =
            events.iter().map(|e| e.protocol.clone()).collect();
        events.retain(|e| &e.protocol == p);
        if events.is_empty() {
            bail!(
                "{}: no lending_events of protocol `{p}` (present: {})",
                dir.display(),
                present.into_iter().collect::<Vec<_>>().join(", ")
            );
        }
    }
    let reserves: Vec<Reserve> = ds.read()?;
    let r = shortfall_books::reconstruct(&events, &reserves, at)
        .with_context(|| format!("{}: lending_events", dir.display()))?;

    // Other snapshots stay; so do other protocols of this snapshot when the
    // book was rebuilt for one protocol only.
    let mut rows: Vec<PositionRow> = ds.read()?;
    rows.retain(|x| {
        x.snapshot_ts != r.snapshot_ts || args.protocol.as_ref().is_some_and(|p| &x.protocol != p)
    });
    rows.extend(r.rows());
    ds.replace(rows)?;
    ds.commit()?;

    if let Some(path) = &args.json {
        let doc = PositionsJson {
            dataset: dir.display().to_string(),
            snapshot: r.snapshot.to_string(),
            snapshot_ts: r.snapshot_ts.to_iso(),
            snapshot_block: r.snapshot_block,
            protocol: args.protocol.as_deref(),
            legs: r.legs.len(),
            reconciliation: &r.reconciliation,
        };
        let mut bytes = serde_json::to_vec_pretty(&doc)?;
        bytes.push(b'\n');
        std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    if !g.quiet {
        print_summary(dir, &r);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_summary(dir: &std::path::Path, r: &Reconstruction) {
    let rec = &r.reconciliation;
    let accounts: std::collections::BTreeSet<(&str, &str, &str)> = r
        .legs
        .iter()
        .map(|l| (l.protocol.as_str(), l.market.as_str(), l.account.as_str()))
        .collect();
    let block = r
        .snapshot_block
        .map_or(String::new(), |b| format!(" (block {b})"));
    println!(
        "{}: positions at {}{block}: {} legs of {} accounts; {} events used, {} after the snapshot",
        dir.display(),
        r.snapshot_ts,
        r.legs.len(),
        accounts.len(),
        rec.events_used,
        rec.events_after
    );
    println!();
    println!("reconciliation (ledger units: scaled = Aave scaled balance, ctokens = Compound cTokens, base_units = token base units)");
    let mut table = vec![[
        "protocol",
        "market",
        "asset",
        "side",
        "unit",
        "accounts",
        "events_net",
        "books",
        "difference",
        "clamped",
        "opening",
        "interest",
        "issues",
        "book_amount",
    ]
    .map(String::from)];
    for row in &rec.rows {
        let net = row.increases as i128 - row.decreases as i128;
        table.push([
            row.protocol.clone(),
            clean(&row.market),
            clean(&row.asset),
            row.side.as_str().to_string(),
            row.unit.as_str().to_string(),
            row.accounts.to_string(),
            net.to_string(),
            row.books.to_string(),
            row.difference.to_string(),
            row.clamped.to_string(),
            row.opening.to_string(),
            row.interest.to_string(),
            row.issues.to_string(),
            row.books_amount.to_string(),
        ]);
    }
    let widths: Vec<usize> = (0..table[0].len())
        .map(|c| {
            table
                .iter()
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in &table {
        let cells: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(c, v)| {
                if c < 5 {
                    format!("{v:<w$}", w = widths[c])
                } else {
                    format!("{v:>w$}", w = widths[c])
                }
            })
            .collect();
        println!("  {}", cells.join("  ").trim_end());
    }
    let bad = rec.rows.iter().filter(|r| r.unexplained() != 0).count();
    if bad == 0 {
        println!("  check: difference = clamped + opening + interest in every row");
    } else {
        println!(
            "  check FAILED: {bad} rows with a difference not explained (a bug: please report)"
        );
    }
    println!();
    let mut by_problem: std::collections::BTreeMap<&str, usize> = Default::default();
    for i in &rec.issues {
        *by_problem.entry(i.problem.as_str()).or_default() += 1;
    }
    let counts: Vec<String> = by_problem.iter().map(|(p, n)| format!("{p} {n}")).collect();
    if counts.is_empty() {
        println!("events not applied as they stand: 0");
    } else {
        println!(
            "events not applied as they stand: {} ({})",
            rec.issues.len(),
            counts.join(", ")
        );
    }
    for i in rec.issues.iter().take(ISSUES_SHOWN) {
        println!(
            "  {}  {} {} {} {}: {}: {}",
            clean(&i.at),
            i.protocol,
            clean(&i.market),
            clean(&i.account),
            clean(&i.asset),
            i.problem.as_str(),
            clean(&i.detail)
        );
    }
    if rec.issues.len() > ISSUES_SHOWN {
        println!(
            "  ... and {} more (all in --json)",
            rec.issues.len() - ISSUES_SHOWN
        );
    }
    for s in &rec.skipped {
        println!(
            "skipped {}: {} events: {}",
            clean(&s.protocol),
            s.events,
            s.reason
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_is_a_block_or_a_time() {
        assert_eq!(parse_at("11000000").unwrap(), Snapshot::Block(11_000_000));
        assert_eq!(
            parse_at("2020-03-12").unwrap(),
            Snapshot::Time(Micros::parse("2020-03-12").unwrap())
        );
        let e = parse_at("yesterday").unwrap_err();
        assert!(format!("{e:#}").contains("--at `yesterday`"), "{e:#}");
    }
}
