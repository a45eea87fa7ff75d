//! Chain data: EVM logs of lending protocols and oracles (`rpc-logs`,
//! `cryo-logs`) decoded into `lending_events` and `oracle_rounds`.
//!
//! The contracts file says which address is which contract (Aave pool,
//! cToken, Maker cat/dog/flip/clip, Chainlink aggregator), the token list
//! gives symbols and decimals, and block times come from the logs
//! (`blockTimestamp`) or a blocks file. A log whose block time is unknown
//! fails the ingest unless estimates are asked for (then it is interpolated
//! between known blocks and marked `ts_estimated`). Logs of unknown contracts
//! or events are counted per address and topic in the source record, never
//! dropped silently.

pub mod abi;
pub mod blocks;
pub mod decode;
pub mod logs;
pub mod osm;
pub mod registry;
pub mod synth;

use std::collections::BTreeMap;
use std::path::PathBuf;

use shortfall_core::{LendingEvent, Micros, OracleRound, SourceRecord};

pub use blocks::BlockTimes;
pub use decode::{decode, Decoded};
pub use logs::RawLog;
pub use registry::{Contract, Registry, Role};

use crate::error::IngestError;
use crate::options::OnBadRow;

/// A CSV reader past its header, and the trimmed column names.
pub(crate) fn csv_with_header<'b>(
    file: &str,
    bytes: &'b [u8],
) -> Result<(csv::Reader<&'b [u8]>, Vec<String>), IngestError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes);
    let names = rdr
        .headers()
        .map_err(|e| IngestError::structure(file, format!("unreadable CSV: {e}")))?
        .iter()
        .map(|s| s.trim().to_string())
        .collect();
    Ok((rdr, names))
}

/// Log file layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `eth_getLogs` JSON.
    Rpc,
    /// cryo `logs` (parquet or CSV).
    Cryo,
}

impl LogFormat {
    /// Command-line name.
    pub fn name(self) -> &'static str {
        match self {
            LogFormat::Rpc => "rpc-logs",
            LogFormat::Cryo => "cryo-logs",
        }
    }

    /// From a command-line name.
    pub fn parse(s: &str) -> Option<LogFormat> {
        match s.trim() {
            "rpc-logs" => Some(LogFormat::Rpc),
            "cryo-logs" => Some(LogFormat::Cryo),
            _ => None,
        }
    }
}

/// Options of a log ingest.
#[derive(Debug, Clone, Default)]
pub struct ChainOptions {
    /// Interpolate unknown block times between known blocks (marked estimated).
    pub estimate_block_times: bool,
    /// Keep events with `start <= ts < end`.
    pub window: Option<(Micros, Micros)>,
    /// Fail on a known event that does not decode, or skip and count it.
    pub on_bad_row: OnBadRow,
    /// Recorded in each source record (registry and blocks files with their sha256).
    pub record: BTreeMap<String, String>,
}

/// Rows and provenance of a log ingest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainOutput {
    /// Sorted by chain order, deduplicated.
    pub events: Vec<LendingEvent>,
    /// Sorted by (ts, feed, round), deduplicated.
    pub rounds: Vec<OracleRound>,
    /// One record per file for `lending_events`.
    pub event_sources: Vec<SourceRecord>,
    /// One record per file that held oracle rounds, for `oracle_rounds`.
    pub round_sources: Vec<SourceRecord>,
    /// Logs not decoded, per (address, topic0).
    pub unknown: BTreeMap<(String, String), u64>,
    /// Human-readable warnings, prefixed with the file name.
    pub warnings: Vec<String>,
}

/// Per-file counts.
#[derive(Default)]
struct FileCount {
    read: u64,
    events: u64,
    rounds: u64,
    rejected: u64,
    skipped: u64,
    removed: u64,
    estimated: u64,
    unknown: BTreeMap<(String, String), u64>,
    notes: Vec<String>,
}

/// Reads, decodes and orders the logs of `files`.
pub fn ingest_logs(
    format: LogFormat,
    files: &[PathBuf],
    blocks: &BlockTimes,
    registry: &Registry,
    opts: &ChainOptions,
    tool_version: &str,
) -> Result<ChainOutput, IngestError> {
    let mut out = ChainOutput::default();
    let mut events: Vec<(LendingEvent, usize)> = Vec::new();
    let mut rounds: Vec<(OracleRound, usize)> = Vec::new();
    let inside = |t: Micros| opts.window.is_none_or(|(a, b)| t >= a && t < b);
    let mut hashes = Vec::new();
    let mut counts = Vec::new();
    for (src, path) in files.iter().enumerate() {
        let bytes = std::fs::read(path).map_err(|source| IngestError::Io {
            file: path.display().to_string(),
            source,
        })?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        if bytes.trim_ascii().is_empty() {
            return Err(IngestError::structure(&name, "empty file"));
        }
        let mut n = FileCount::default();
        let logs = match format {
            LogFormat::Rpc => {
                let (l, removed) = logs::read_rpc(&name, &bytes)?;
                n.removed = removed;
                l
            }
            LogFormat::Cryo => logs::read_cryo(&name, &bytes)?,
        };
        n.read = logs.len() as u64 + n.removed;
        // Block times the logs carry also anchor estimates for the others.
        let mut known = blocks.clone();
        for log in &logs {
            if let Some(t) = log.block_ts {
                known.insert(log.block, t, &name, log.loc)?;
            }
        }
        for log in &logs {
            match decode(log, registry) {
                Decoded::Unknown => {
                    let topic = log
                        .topics
                        .first()
                        .map_or_else(|| "(none)".to_string(), |t| format!("{t:#x}"));
                    *n.unknown
                        .entry((format!("{:#x}", log.address), topic))
                        .or_default() += 1;
                }
                Decoded::Rejected(why) => {
                    let e = IngestError::BadRow {
                        file: name.clone(),
                        location: log.loc,
                        column: "data".into(),
                        message: format!("block {} log {}: {why}", log.block, log.log_index),
                    };
                    if opts.on_bad_row == OnBadRow::Skip || why.ends_with("<= 0") {
                        // Non-positive oracle answers are rejected by rule, like
                        // the Chainlink CSV adapter's; others only when skipping.
                        if why.ends_with("<= 0") {
                            n.rejected += 1;
                        } else {
                            n.skipped += 1;
                        }
                        if n.notes.len() < 5 {
                            n.notes.push(format!("rejected: {e}"));
                        }
                    } else {
                        return Err(e);
                    }
                }
                Decoded::Round(r) => {
                    if inside(r.ts) {
                        n.rounds += 1;
                        rounds.push((r, src));
                    }
                }
                Decoded::Lending(e) => {
                    let mut e = *e;
                    let no_time = |why: &str| IngestError::BadRow {
                        file: name.clone(),
                        location: log.loc,
                        column: "block_number".into(),
                        message: format!("block {}: {why}", log.block),
                    };
                    let (ts, estimated) = match known.get(log.block) {
                        Some(t) => (t, false),
                        None if opts.estimate_block_times => match known.estimate(log.block) {
                            Some(t) => (t, true),
                            None => {
                                return Err(no_time(
                                    "no known block before and after it to estimate its time from",
                                ))
                            }
                        },
                        None => {
                            return Err(no_time(
                                "block time unknown (give --blocks FILE, or --estimate-block-times to interpolate)",
                            ))
                        }
                    };
                    e.ts = Micros::from_secs(ts);
                    e.ts_estimated = estimated;
                    if inside(e.ts) {
                        n.estimated += u64::from(estimated);
                        n.events += 1;
                        events.push((e, src));
                    }
                }
            }
        }
        hashes.push((name, shortfall_core::sha256_hex(&bytes), bytes.len() as u64));
        counts.push(n);
    }

    // Order and dedupe (the same log in two overlapping files).
    events.sort_by(|a, b| a.0.cmp_order(&b.0).then(a.1.cmp(&b.1)));
    let mut dup = vec![0u64; files.len()];
    let mut kept: Vec<(LendingEvent, usize)> = Vec::with_capacity(events.len());
    for item in events {
        match kept.last() {
            Some(last) if last.0.cmp_order(&item.0).is_eq() => {
                if last.0 != item.0 {
                    return Err(IngestError::Conflict {
                        file: hashes[item.1].0.clone(),
                        location: crate::Location::Row(0),
                        message: format!(
                            "block {:?} log {:?} decodes differently here and in {}",
                            item.0.block, item.0.log_index, hashes[last.1].0
                        ),
                    });
                }
                dup[item.1] += 1;
            }
            _ => kept.push(item),
        }
    }
    rounds.sort_by(|a, b| {
        (a.0.ts, &a.0.feed, a.0.round_id)
            .cmp(&(b.0.ts, &b.0.feed, b.0.round_id))
            .then(a.1.cmp(&b.1))
    });
    let mut rdup = vec![0u64; files.len()];
    let mut rkept: Vec<(OracleRound, usize)> = Vec::with_capacity(rounds.len());
    for item in rounds {
        match rkept.last() {
            Some(last)
                if (last.0.ts, &last.0.feed, last.0.round_id)
                    == (item.0.ts, &item.0.feed, item.0.round_id) =>
            {
                rdup[item.1] += 1;
            }
            _ => rkept.push(item),
        }
    }
    let mut written = vec![0u64; files.len()];
    for (_, s) in &kept {
        written[*s] += 1;
    }
    let mut rwritten = vec![0u64; files.len()];
    for (_, s) in &rkept {
        rwritten[*s] += 1;
    }

    for (i, ((name, sha, size), n)) in hashes.into_iter().zip(counts).enumerate() {
        let mut notes = n.notes;
        if n.removed > 0 {
            notes.push(format!(
                "{} logs marked removed (reorged out) left out",
                n.removed
            ));
        }
        if n.estimated > 0 {
            notes.push(format!(
                "{} events with an estimated block time (interpolated, ts_estimated = true)",
                n.estimated
            ));
        }
        let unknown: u64 = n.unknown.values().sum();
        if unknown > 0 {
            notes.push(format!(
                "{unknown} logs not decoded (unknown contract or event), per address and topic0 below"
            ));
            for ((a, t), c) in &n.unknown {
                notes.push(format!("unknown: address {a} topic0 {t}: {c}"));
                *out.unknown.entry((a.clone(), t.clone())).or_default() += c;
            }
            out.warnings.push(format!(
                "{name}: {unknown} logs not decoded (listed in the manifest)"
            ));
        }
        let mut options = opts.record.clone();
        options.insert(
            "estimate_block_times".into(),
            opts.estimate_block_times.to_string(),
        );
        options.insert("on_bad_row".into(), opts.on_bad_row.to_string());
        if let Some((a, b)) = opts.window {
            options.insert("window".into(), format!("[{}, {})", a.to_iso(), b.to_iso()));
        }
        let record = |table: &str, written: u64, dedup: u64| SourceRecord {
            file: name.clone(),
            sha256: sha.clone(),
            bytes: size,
            format: format.name().to_string(),
            options: options.clone(),
            table: table.to_string(),
            rows_read: n.read,
            rows_written: written,
            rows_skipped: n.skipped,
            rows_deduplicated: dedup,
            rows_rejected: n.rejected,
            notes: notes.clone(),
            tool_version: tool_version.to_string(),
        };
        out.event_sources
            .push(record("lending_events", written[i], dup[i]));
        if n.rounds > 0 {
            out.round_sources
                .push(record("oracle_rounds", rwritten[i], rdup[i]));
        }
    }
    out.events = kept.into_iter().map(|(e, _)| e).collect();
    out.rounds = rkept.into_iter().map(|(r, _)| r).collect();
    Ok(out)
}
