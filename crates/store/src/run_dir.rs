//! A run folder: `reports/<scenario>/<run_id>/` with the event log,
//! liquidations, loans and series as parquet (and, for runs with perpetual
//! swaps, `perp_positions`, `perp_accounts` and `perp_insurance_fund`), `run.json` (provenance) and
//! `summary.json` (headline figures).
//!
//! [`write_run`] is atomic at the folder level: every file is written and
//! synced into a temp sibling folder, which is then renamed into place. An
//! existing folder of the same run is renamed away first and deleted after
//! the new one is in place, so readers see the old run or the new one, never
//! a mix. The bytes depend only on the [`RunOutput`] and the command line,
//! so the same run writes the same folder.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use shortfall_core::perp_run::PerpRun;
use shortfall_core::run::{
    EventRecord, LiquidationRecord, LoanOutcome, RunMeta, RunOutput, SeriesPoint, Summary,
};

use crate::parquet_io::{self, write_synced};
use crate::tables::CanonicalRow;
use crate::StoreError;

pub const EVENTS_FILE: &str = "events.parquet";
pub const LIQUIDATIONS_FILE: &str = "liquidations.parquet";
pub const LOANS_FILE: &str = "loans.parquet";
pub const SERIES_FILE: &str = "series.parquet";
/// Perp runs only: one row per input position, one per margin account, and
/// the insurance fund's balance (absent when the run has no `[perp]`).
pub const PERP_POSITIONS_FILE: &str = "perp_positions.parquet";
pub const PERP_ACCOUNTS_FILE: &str = "perp_accounts.parquet";
pub const PERP_INSURANCE_FUND_FILE: &str = "perp_insurance_fund.parquet";
pub const RUN_FILE: &str = "run.json";
pub const SUMMARY_FILE: &str = "summary.json";

/// `run.json`: the run's provenance ([`RunMeta`], flattened so its fields sit
/// at the top level) plus the command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunJson {
    #[serde(flatten)]
    pub meta: RunMeta,
    /// Arguments after the program name.
    pub command_line: Vec<String>,
}

impl RunJson {
    pub fn new(meta: &RunMeta, command_line: &[String]) -> RunJson {
        RunJson {
            meta: meta.clone(),
            command_line: command_line.to_vec(),
        }
    }
}

/// A run folder read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunData {
    pub events: Vec<EventRecord>,
    pub liquidations: Vec<LiquidationRecord>,
    pub loans: Vec<LoanOutcome>,
    pub series: Vec<SeriesPoint>,
    pub summary: Summary,
    pub run: RunJson,
    /// Perpetual positions' outcomes, when the run had `[perp]` (the
    /// `perp_*.parquet` files exist).
    pub perp: Option<PerpRun>,
}

impl RunData {
    /// A run just replayed, for its report: everything but the event log
    /// (reports do not read it), with the command line that made it.
    pub fn for_report(out: RunOutput, command_line: &[String]) -> RunData {
        RunData {
            run: RunJson::new(&out.run_meta, command_line),
            events: Vec::new(),
            liquidations: out.liquidations,
            loans: out.loans,
            series: out.series,
            summary: out.summary,
            perp: out.perp,
        }
    }

    /// The run as the engine produced it (without the command line).
    pub fn into_output(self) -> RunOutput {
        let run_meta = self.run.meta.clone();
        RunOutput {
            events: self.events,
            liquidations: self.liquidations,
            loans: self.loans,
            series: self.series,
            summary: self.summary,
            run_meta,
            perp: self.perp,
        }
    }
}

/// Pretty JSON with a trailing newline (deterministic: struct order, sorted maps).
pub fn to_json_bytes<T: Serialize>(v: &T, path: &Path) -> Result<Vec<u8>, StoreError> {
    let mut b = serde_json::to_vec_pretty(v).map_err(|e| StoreError::BadFile {
        path: path.to_path_buf(),
        message: format!("json: {e}"),
    })?;
    b.push(b'\n');
    Ok(b)
}

fn table_bytes<R: CanonicalRow>(rows: &[R], path: &Path) -> Result<Vec<u8>, StoreError> {
    let batch = R::encode(rows)?;
    parquet_io::encode(&batch, R::TABLE, path)
}

/// Every file of a run folder, by name (what [`write_run`] writes).
pub fn run_files(
    out: &RunOutput,
    command_line: &[String],
) -> Result<Vec<(&'static str, Vec<u8>)>, StoreError> {
    let p = Path::new;
    let mut files = vec![
        (EVENTS_FILE, table_bytes(&out.events, p(EVENTS_FILE))?),
        (
            LIQUIDATIONS_FILE,
            table_bytes(&out.liquidations, p(LIQUIDATIONS_FILE))?,
        ),
        (LOANS_FILE, table_bytes(&out.loans, p(LOANS_FILE))?),
        (SERIES_FILE, table_bytes(&out.series, p(SERIES_FILE))?),
        (
            RUN_FILE,
            to_json_bytes(&RunJson::new(&out.run_meta, command_line), p(RUN_FILE))?,
        ),
        (SUMMARY_FILE, to_json_bytes(&out.summary, p(SUMMARY_FILE))?),
    ];
    if let Some(perp) = &out.perp {
        files.extend([
            (
                PERP_POSITIONS_FILE,
                table_bytes(&perp.positions, p(PERP_POSITIONS_FILE))?,
            ),
            (
                PERP_ACCOUNTS_FILE,
                table_bytes(&perp.accounts, p(PERP_ACCOUNTS_FILE))?,
            ),
            (
                PERP_INSURANCE_FUND_FILE,
                table_bytes(&perp.insurance_fund, p(PERP_INSURANCE_FUND_FILE))?,
            ),
        ]);
    }
    Ok(files)
}

fn sibling(dir: &Path, tag: &str) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.with_file_name(format!(".{name}.{}.{tag}", std::process::id()))
}

/// Writes a run folder at `dir` (e.g. `reports/<scenario>/<run_id>`),
/// atomically replacing an existing folder of the same name.
pub fn write_run(dir: &Path, out: &RunOutput, command_line: &[String]) -> Result<(), StoreError> {
    let files = run_files(out, command_line)?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| StoreError::io(&parent, e))?;
    let tmp = sibling(dir, "tmp");
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
    }
    fs::create_dir(&tmp).map_err(|e| StoreError::io(&tmp, e))?;
    let staged = (|| {
        for (name, bytes) in &files {
            write_synced(&tmp.join(name), bytes)?;
        }
        Ok::<(), StoreError>(())
    })();
    if let Err(e) = staged {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if dir.exists() {
        let old = sibling(dir, "old");
        if old.exists() {
            fs::remove_dir_all(&old).map_err(|e| StoreError::io(&old, e))?;
        }
        fs::rename(dir, &old).map_err(|e| {
            let _ = fs::remove_dir_all(&tmp);
            StoreError::io(dir, e)
        })?;
        if let Err(e) = fs::rename(&tmp, dir) {
            // Put the old run back.
            let _ = fs::rename(&old, dir);
            let _ = fs::remove_dir_all(&tmp);
            return Err(StoreError::io(dir, e));
        }
        fs::remove_dir_all(&old).map_err(|e| StoreError::io(&old, e))?;
    } else {
        fs::rename(&tmp, dir).map_err(|e| {
            let _ = fs::remove_dir_all(&tmp);
            StoreError::io(dir, e)
        })?;
    }
    // Make the renames durable where the platform allows it.
    if let Ok(f) = fs::File::open(&parent) {
        let _ = f.sync_all();
    }
    Ok(())
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, StoreError> {
    let bytes = fs::read(path).map_err(|e| StoreError::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| StoreError::BadFile {
        path: path.to_path_buf(),
        message: format!("json: {e}"),
    })
}

/// Reads a run folder written by [`write_run`].
pub fn read_run(dir: &Path) -> Result<RunData, StoreError> {
    let mut run = read_run_without_events(dir)?;
    run.events = parquet_io::read_rows(&dir.join(EVENTS_FILE))?;
    Ok(run)
}

/// Reads a run folder but its event log (`events` left empty): what a report
/// needs, without the largest table.
pub fn read_run_without_events(dir: &Path) -> Result<RunData, StoreError> {
    if !dir.join(RUN_FILE).is_file() {
        return Err(StoreError::BadFile {
            path: dir.to_path_buf(),
            message: format!("not a run folder (no {RUN_FILE})"),
        });
    }
    // The two large tables decode in parallel (the result does not depend
    // on the order).
    let (loans, liquidations) = std::thread::scope(|s| {
        let loans = s.spawn(|| parquet_io::read_rows(&dir.join(LOANS_FILE)));
        let liquidations = parquet_io::read_rows(&dir.join(LIQUIDATIONS_FILE));
        let loans = loans
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (loans, liquidations)
    });
    Ok(RunData {
        events: Vec::new(),
        liquidations: liquidations?,
        loans: loans?,
        series: parquet_io::read_rows(&dir.join(SERIES_FILE))?,
        summary: read_json(&dir.join(SUMMARY_FILE))?,
        run: read_json(&dir.join(RUN_FILE))?,
        perp: read_perp(dir)?,
    })
}

/// The `perp_*.parquet` files of a run folder: all three, or none (a
/// lending-only run); one without the others is an error.
pub fn read_perp(dir: &Path) -> Result<Option<PerpRun>, StoreError> {
    let names = [
        PERP_POSITIONS_FILE,
        PERP_ACCOUNTS_FILE,
        PERP_INSURANCE_FUND_FILE,
    ];
    let present: Vec<bool> = names.iter().map(|n| dir.join(n).is_file()).collect();
    if present.iter().all(|p| !p) {
        return Ok(None);
    }
    if let Some(i) = present.iter().position(|p| !p) {
        return Err(StoreError::BadFile {
            path: dir.join(names[i]),
            message: "missing: a perp run folder has perp_positions, perp_accounts and perp_insurance_fund".into(),
        });
    }
    Ok(Some(PerpRun {
        positions: parquet_io::read_rows(&dir.join(PERP_POSITIONS_FILE))?,
        accounts: parquet_io::read_rows(&dir.join(PERP_ACCOUNTS_FILE))?,
        insurance_fund: parquet_io::read_rows(&dir.join(PERP_INSURANCE_FUND_FILE))?,
    }))
}
