//! `shortfall replay`: load a scenario's datasets, run the engine, write the
//! run folder (`<reports-dir>/<scenario>/<run_id>/` or `--out`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use shortfall_core::{
    Book, LendingEvent, LendingKind, OracleRound, PositionLeg, PositionRow, PriceBar,
};
use shortfall_replay::{ReplayError, ReplayInput, Scenario};
use shortfall_store::parquet_io::sha256_hex;
use shortfall_store::Dataset;

use crate::cli::{Global, ReplayArgs};

/// Exit code of a run that finished but failed an invariant.
pub const EXIT_INVARIANT: u8 = 3;

/// Maps an engine error to the process exit code and message: invariant
/// failures are exit 3 (the message names the event), the rest exit 1.
pub fn error_exit(e: &ReplayError) -> (u8, String) {
    match e {
        ReplayError::Invariant { .. } => (EXIT_INVARIANT, format!("error: run invalid: {e}")),
        _ => (1, format!("error: {e}")),
    }
}

/// A USD amount rounded half away from zero to cents.
fn usd(w: shortfall_core::Wad) -> String {
    const CENT: i128 = 10_000_000_000_000_000;
    let neg = w.0 < 0;
    let cents = (w.0.unsigned_abs() + (CENT as u128) / 2) / CENT as u128;
    format!(
        "{}{}.{:02}",
        if neg && cents > 0 { "-" } else { "" },
        cents / 100,
        cents % 100
    )
}

/// A dataset reference of the scenario: relative to the scenario file, else
/// to `--data-dir`.
pub(crate) fn resolve(
    reference: &str,
    scenario_dir: &Path,
    data_dir: &Path,
) -> anyhow::Result<PathBuf> {
    let p = Path::new(reference);
    if p.is_absolute() {
        return Ok(p.to_path_buf());
    }
    let a = scenario_dir.join(p);
    if a.exists() {
        return Ok(a);
    }
    let b = data_dir.join(p);
    if b.exists() {
        return Ok(b);
    }
    bail!(
        "dataset `{reference}` not found (looked in {} and {})",
        a.display(),
        b.display()
    )
}

/// One gas price observation of a gas file (`gas.json`, written by
/// `shortfall crisis build`): `[{"ts": "2020-03-12 00:00:00", "gwei": "12.88"}, ...]`.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GasPoint {
    pub ts: String,
    pub gwei: shortfall_core::Wad,
}

/// Reads a gas file into the engine's sorted (time, gwei) path.
pub fn read_gas(
    path: &Path,
    bytes: &[u8],
) -> anyhow::Result<Vec<(shortfall_core::Micros, shortfall_core::Wad)>> {
    let points: Vec<GasPoint> = serde_json::from_slice(bytes).with_context(|| {
        format!(
            "{}: expected a JSON array of {{\"ts\", \"gwei\"}}",
            path.display()
        )
    })?;
    let mut out = Vec::with_capacity(points.len());
    for (i, p) in points.iter().enumerate() {
        let ts = shortfall_core::Micros::parse(&p.ts)
            .with_context(|| format!("{}: item {i}, field \"ts\"", path.display()))?;
        if p.gwei.is_negative() {
            bail!(
                "{}: item {i}, field \"gwei\": negative gas price",
                path.display()
            );
        }
        out.push((ts, p.gwei));
    }
    out.sort_by_key(|x| x.0);
    Ok(out)
}

/// Records what a run read of a dataset table, for its provenance: the
/// table file's sha256 (`TABLE`), the manifest's (`TABLE/manifest.json`) and
/// each raw source file the table was ingested from (`TABLE/source/FILE`).
fn record_inputs(
    d: &Dataset,
    table: &str,
    hashes: &mut BTreeMap<String, String>,
) -> anyhow::Result<()> {
    if let Some(t) = d.manifest().tables.get(table) {
        hashes.insert(table.to_string(), t.sha256.clone());
    }
    let m = d.dir().join("manifest.json");
    let bytes = std::fs::read(&m).with_context(|| format!("reading {}", m.display()))?;
    hashes.insert(format!("{table}/manifest.json"), sha256_hex(&bytes));
    for s in d.manifest().sources.iter().filter(|s| s.table == table) {
        hashes.insert(format!("{table}/source/{}", s.file), s.sha256.clone());
    }
    Ok(())
}

/// The legs of a `positions` table's snapshot for a window starting at
/// `start`: the latest snapshot at or before it (a book taken later would
/// already hold the crisis). Returns the snapshot's time (and block) as text.
fn snapshot_legs(
    rows: &[PositionRow],
    start: shortfall_core::Micros,
    path: &Path,
) -> anyhow::Result<(shortfall_core::Micros, String, Vec<PositionLeg>)> {
    let snapshots: std::collections::BTreeSet<shortfall_core::Micros> =
        rows.iter().map(|p| p.snapshot_ts).collect();
    let Some(&at) = snapshots.range(..=start).next_back() else {
        if snapshots.is_empty() {
            bail!(
                "{}: no positions table (write one with `shortfall positions --dataset {} --at ...`)",
                path.display(),
                path.display()
            );
        }
        let list: Vec<String> = snapshots.iter().map(|t| t.to_string()).collect();
        bail!(
            "{}: no positions snapshot at or before the window start {start} (snapshots: {})",
            path.display(),
            list.join(", ")
        );
    };
    let mut block = None;
    let legs = rows
        .iter()
        .filter(|p| p.snapshot_ts == at)
        .map(|p| {
            block = block.or(p.snapshot_block);
            PositionLeg {
                account: p.account.clone(),
                market: p.market.clone(),
                asset: p.asset.clone(),
                side: p.side,
                amount: p.amount,
            }
        })
        .collect();
    let text = match block {
        Some(b) => format!("{at} (block {b})"),
        None => at.to_string(),
    };
    Ok((at, text, legs))
}

/// Loads the datasets a scenario names (paths relative to the scenario
/// file, else to `--data-dir`), keeping what its window needs, with the
/// hashes of everything read for the run's provenance.
pub fn load_input(
    g: &Global,
    scenario_path: &Path,
    sc: &Scenario,
    spinner: &indicatif::ProgressBar,
) -> anyhow::Result<ReplayInput> {
    let (start, end) = sc.window_micros()?;
    let scenario_dir = scenario_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let ds = &sc.datasets;
    let mut input_hashes = BTreeMap::new();
    spinner.set_message("loading prices");
    let mut prices: Vec<PriceBar> = Vec::new();
    if let Some(r) = &ds.prices {
        let dir = resolve(r, &scenario_dir, &g.data_dir).context("datasets.prices")?;
        let d = Dataset::open(&dir)?;
        record_inputs(&d, "prices", &mut input_hashes)?;
        prices = d.read::<PriceBar>()?;
        // Keep bars that end inside the window (the engine times a bar by its end).
        prices.retain(|b| {
            let t = b.ts.0 + b.interval_secs * shortfall_core::Micros::PER_SEC;
            t >= start.0 && t <= end.0
        });
    }
    spinner.set_message("loading oracle rounds");
    let mut oracle_rounds: Vec<OracleRound> = Vec::new();
    if let Some(r) = &ds.oracle_rounds {
        let dir = resolve(r, &scenario_dir, &g.data_dir).context("datasets.oracle_rounds")?;
        let d = Dataset::open(&dir)?;
        record_inputs(&d, "oracle_rounds", &mut input_hashes)?;
        oracle_rounds = d.read::<OracleRound>()?;
        // Rounds before the window are kept: they set the oracle's start answer.
        oracle_rounds.retain(|o| o.ts <= end);
    }
    if prices.is_empty() {
        bail!(
            "no price bars in the window {}..{} (datasets.prices = {:?})",
            sc.window.start,
            sc.window.end,
            ds.prices
        );
    }
    let mut book = Book::default();
    if let Some(r) = &ds.positions {
        let path = resolve(r, &scenario_dir, &g.data_dir).context("datasets.positions")?;
        if path.is_dir() {
            // A dataset with a positions table (`shortfall positions`).
            let d = Dataset::open(&path).context("datasets.positions")?;
            record_inputs(&d, "positions", &mut input_hashes)?;
            let rows: Vec<PositionRow> = d.read()?;
            let (at, snapshot, legs) = snapshot_legs(&rows, start, &path)?;
            book = Book::from_legs(&legs);
            book.as_of = Some(at);
            book.origin.kind = "reconstructed".into();
            book.origin.detail = format!("positions of {r} at {snapshot}");
        } else {
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let legs: Vec<PositionLeg> = serde_json::from_slice(&bytes).with_context(|| {
                format!("{}: expected a JSON array of position legs", path.display())
            })?;
            input_hashes.insert("positions".to_string(), sha256_hex(&bytes));
            book = Book::from_legs(&legs);
            book.origin.kind = "snapshot".into();
            book.origin.detail = r.clone();
        }
    }
    let gas = match &ds.gas {
        Some(r) => {
            let path = resolve(r, &scenario_dir, &g.data_dir).context("datasets.gas")?;
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            input_hashes.insert("gas".to_string(), sha256_hex(&bytes));
            Some(read_gas(&path, &bytes)?)
        }
        None => None,
    };
    let lending_events = match &ds.lending_events {
        Some(r) => {
            spinner.set_message("loading lending events");
            let dir = resolve(r, &scenario_dir, &g.data_dir).context("datasets.lending_events")?;
            let d = Dataset::open(&dir).context("datasets.lending_events")?;
            if !d.manifest().tables.contains_key("lending_events") {
                bail!(
                    "datasets.lending_events: {}: no lending_events table (ingest one, e.g. with --format events-csv)",
                    dir.display()
                );
            }
            record_inputs(&d, "lending_events", &mut input_hashes)?;
            let mut rows: Vec<LendingEvent> = d
                .read()
                .with_context(|| format!("{}: lending_events", dir.display()))?;
            // The window's book changes, and the observed liquidations and
            // deficits (counted, not applied); index updates and auctions
            // are not replayed.
            // From the book's snapshot on (the engine applies the events
            // between it and the window at the start).
            let from = book.as_of.filter(|a| *a < start);
            rows.retain(|e| {
                from.map_or(e.ts >= start, |a| e.ts > a)
                    && e.ts <= end
                    && matches!(
                        e.kind,
                        LendingKind::Supply
                            | LendingKind::Withdraw
                            | LendingKind::Borrow
                            | LendingKind::Repay
                            | LendingKind::Deficit
                            | LendingKind::Liquidation
                    )
            });
            Some(rows)
        }
        None => None,
    };
    let liquidity = match &ds.liquidity {
        Some(r) => {
            spinner.set_message("loading liquidity");
            let dir = resolve(r, &scenario_dir, &g.data_dir).context("datasets.liquidity")?;
            let d = Dataset::open(&dir).context("datasets.liquidity")?;
            if !d.manifest().tables.contains_key("liquidity") {
                bail!(
                    "datasets.liquidity: {}: no liquidity table (ingest one with a mapping's depth_usd column)",
                    dir.display()
                );
            }
            record_inputs(&d, "liquidity", &mut input_hashes)?;
            let mut rows: Vec<shortfall_core::LiquidityRow> = d
                .read()
                .with_context(|| format!("{}: liquidity", dir.display()))?;
            // Rows up to the window's end; the latest one before the start
            // sets the depth at the start.
            rows.retain(|r| r.ts <= end);
            Some(rows)
        }
        None => None,
    };
    let perp_positions = match &ds.perp_positions {
        Some(r) => {
            spinner.set_message("loading perp positions");
            super::perp_input::load_perp_positions(g, scenario_path, r, start, &mut input_hashes)?
        }
        None => Vec::new(),
    };
    Ok(ReplayInput {
        prices,
        oracle_rounds,
        book,
        gas,
        input_hashes,
        tool_version: super::tool_version(),
        lending_events,
        liquidity,
        perp_positions,
    })
}

pub fn run(g: &Global, args: ReplayArgs) -> anyhow::Result<ExitCode> {
    Ok(execute(g, args)?.0)
}

/// Runs a scenario; returns the exit code and the report, when one was
/// written.
pub fn execute(
    g: &Global,
    args: ReplayArgs,
) -> anyhow::Result<(ExitCode, Option<shortfall_report::Report>)> {
    let text = std::fs::read_to_string(&args.scenario)
        .with_context(|| format!("reading scenario {}", args.scenario.display()))?;
    let sc = Scenario::from_toml_with_sets(&text, &args.set)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.scenario.display()))?;
    let spinner = crate::progress::spinner(!g.no_progress && !g.quiet, "replay");
    let input = load_input(g, &args.scenario, &sc, &spinner)?;
    spinner.set_message("replaying");
    let out = match shortfall_replay::run(&sc, &input) {
        Ok(o) => o,
        Err(e) => {
            spinner.finish_and_clear();
            let (code, msg) = error_exit(&e);
            if code == 1 {
                return Err(anyhow::anyhow!("{}: {e}", args.scenario.display()));
            }
            eprintln!("{msg}");
            return Ok((ExitCode::from(code), None));
        }
    };
    spinner.set_message("writing run folder");
    let dir = match &args.out {
        Some(d) => d.clone(),
        None => g.reports_dir.join(&sc.name).join(&out.run_meta.run_id),
    };
    let command_line: Vec<String> = std::env::args().skip(1).collect();
    shortfall_store::write_run(&dir, &out, &command_line)?;
    // The report is built from the run in memory: the same data the folder
    // holds (a run folder reads back equal), without reading it again.
    let run = shortfall_store::RunData::for_report(out, &command_line);
    let report = if args.no_report {
        None
    } else {
        spinner.set_message("writing report");
        Some(super::report::write_in_memory(&run, &dir, &args.render)?)
    };
    spinner.finish_and_clear();
    let s = &run.summary;
    println!("{}", dir.display());
    println!("run_id            {}", run.run.meta.run_id);
    if !s.hypothetical.is_empty() {
        println!(
            "HYPOTHETICAL      not what happened: {}",
            s.hypothetical.join("; ")
        );
    }
    if s.preset != "none" {
        println!(
            "book              {} positions ({})",
            s.positions, s.book_origin
        );
        println!("initial debt      {} USD", usd(s.initial_debt_usd));
        println!("bad debt          {} USD", usd(s.bad_debt_usd));
        println!("NPL count         {} of {}", s.npl_count, s.positions);
        println!(
            "liquidated volume {} USD in {} liquidations",
            usd(s.liquidated_volume_usd),
            s.liquidation_count
        );
    }
    if let Some(p) = &s.perp {
        let t = &p.totals;
        let w = &p.waterfall;
        println!(
            "perp book         {} positions, {} accounts ({})",
            t.positions, t.accounts, p.book_origin
        );
        let counts: Vec<String> = p
            .status_counts
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        println!("perp outcomes     {}", counts.join(", "));
        println!(
            "perp shortfall    {} USD: insurance fund {}, ADL {}, backstop {}, socialised {}, unabsorbed {}",
            usd(w.shortfall_usd),
            usd(w.insurance_fund_usd),
            usd(w.adl_usd),
            usd(w.backstop_usd),
            usd(w.socialised_usd),
            usd(w.unabsorbed_usd)
        );
        println!(
            "insurance fund    {} -> {} USD (low {}); {} ADL fills on {} accounts",
            usd(t.insurance_fund_start_usd),
            usd(t.insurance_fund_end_usd),
            usd(t.insurance_fund_min_usd),
            t.adl_events,
            t.deleveraged_accounts
        );
    }
    if let Some(c) = &s.lending_events {
        let ignored: u64 = c.ignored.values().sum();
        println!(
            "lending events    {} applied{}, {} not applied{}",
            c.applied,
            if c.before_window > 0 {
                format!(
                    " ({} between the snapshot and the window, at its start)",
                    c.before_window
                )
            } else {
                String::new()
            },
            ignored,
            if ignored == 0 {
                String::new()
            } else {
                let parts: Vec<String> =
                    c.ignored.iter().map(|(k, v)| format!("{k} {v}")).collect();
                format!(" ({})", parts.join(", "))
            }
        );
    }
    let report = report.map(|(r, html)| {
        println!("report            {}", html.display());
        r
    });
    Ok((ExitCode::SUCCESS, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invariant_maps_to_exit_3_naming_the_event() {
        let e = ReplayError::Invariant {
            seq: 42,
            event: "liquidation of alice".into(),
            detail: "debt rose".into(),
        };
        let (code, msg) = error_exit(&e);
        assert_eq!(code, 3);
        assert!(
            msg.contains("#42") && msg.contains("liquidation of alice"),
            "{msg}"
        );
        let (code, _) = error_exit(&ReplayError::Scenario("x".into()));
        assert_eq!(code, 1);
    }

    #[test]
    fn usd_rounds_to_cents() {
        use shortfall_core::Wad;
        assert_eq!(usd(Wad::ZERO), "0.00");
        assert_eq!(usd(Wad(1_234_567_000_000_000_000)), "1.23");
        assert_eq!(usd(Wad(1_235_000_000_000_000_000)), "1.24");
        assert_eq!(usd(Wad(-2_500_000_000_000_000_000)), "-2.50");
    }
}
