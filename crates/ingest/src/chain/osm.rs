//! `maker-osm-web3`: the raw `LogValue(bytes32 val)` events of a Maker
//! Oracle Security Module as web3.js event objects (a JSON array of
//! `{address, blockNumber, logIndex, transactionHash, removed, raw: {data,
//! topics}}`), into `oracle_rounds`.
//!
//! `OSM.poke()` moves `nxt` into `cur` and emits `LogValue(cur.val)`: each
//! event is the price the OSM serves from that block on (the price its
//! source read one `hop`, an hour, earlier). The objects carry no time, so
//! block times come from blocks files (`--blocks`, any file that pairs
//! block numbers with times: a cryo `blocks` table, a `number,timestamp`
//! CSV, or the Maker flip auctions export's last-bid and deal columns);
//! with `--estimate-block-times` the others are interpolated between the
//! nearest known blocks, and the estimate's error, measured by leaving
//! each known block out in turn, is stated in the source record. A round
//! outside the known blocks has no time: a bad row. A zero price (`cur`
//! before the first poke filled it) is rejected and counted. Round ids are
//! `block << 32 | logIndex`, so the same log in two files is a duplicate.

use std::path::PathBuf;

use serde_json::value::RawValue;
use shortfall_core::{Micros, OracleRound, SourceRecord, Wad};

use super::blocks::BlockTimes;
use crate::ctx::FileCtx;
use crate::error::{IngestError, Location};
use crate::options::IngestOptions;

/// `--format` name.
pub const FORMAT: &str = "maker-osm-web3";
/// keccak256("LogValue(bytes32)").
pub const LOG_VALUE_TOPIC: &str =
    "0x296ba4ca62c6c21c95e828080cb8aec7481b71390585605300a8a76f9e95b527";

/// Options of an OSM ingest.
#[derive(Debug, Clone, Default)]
pub struct OsmOptions {
    /// Feed name (default `maker-osm:ETH/USD`).
    pub feed: Option<String>,
    /// Priced asset (default `ETH`).
    pub base: Option<String>,
    /// Interpolate unknown block times.
    pub estimate_block_times: bool,
    /// Blocks files, `name sha256 ...`, recorded in each source record.
    pub blocks_record: Vec<(String, String)>,
}

/// Rows and provenance of an OSM ingest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsmOutput {
    /// Sorted by (ts, feed, round), deduplicated.
    pub rounds: Vec<OracleRound>,
    /// One record per input file.
    pub sources: Vec<SourceRecord>,
    /// Warnings, prefixed with the file name.
    pub warnings: Vec<String>,
}

#[derive(serde::Deserialize)]
struct Raw {
    data: String,
    topics: Vec<String>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Log {
    address: String,
    block_number: u64,
    log_index: u64,
    transaction_hash: Option<String>,
    #[serde(default)]
    removed: bool,
    raw: Raw,
}

/// Leave-one-out error of linear interpolation over the known blocks, in
/// seconds: (count, median, 95th percentile, max).
pub fn interpolation_error(blocks: &BlockTimes) -> Option<(usize, i64, i64, i64)> {
    let pts = blocks.points();
    if pts.len() < 3 {
        return None;
    }
    let mut errs: Vec<i64> = pts
        .windows(3)
        .map(|w| {
            let ((b0, t0), (b, t), (b1, t1)) = (w[0], w[1], w[2]);
            let est = i128::from(t0)
                + (i128::from(t1) - i128::from(t0)) * i128::from(b - b0) / i128::from(b1 - b0);
            (i128::from(t) - est).unsigned_abs().min(i64::MAX as u128) as i64
        })
        .collect();
    errs.sort_unstable();
    let at = |q: usize| errs[(errs.len() - 1) * q / 100];
    Some((errs.len(), at(50), at(95), errs[errs.len() - 1]))
}

/// Ingests OSM `LogValue` files.
pub fn ingest_osm(
    files: &[PathBuf],
    blocks: &BlockTimes,
    osm: &OsmOptions,
    opts: &IngestOptions,
    tool_version: &str,
) -> Result<OsmOutput, IngestError> {
    let feed = osm
        .feed
        .clone()
        .unwrap_or_else(|| format!("maker-osm:{}/USD", osm.base.as_deref().unwrap_or("ETH")));
    let base = osm.base.clone().unwrap_or_else(|| "ETH".into());
    let loo = interpolation_error(blocks);
    let mut out = OsmOutput::default();
    let mut all: Vec<(OracleRound, Location, usize)> = Vec::new();
    for (src, path) in files.iter().enumerate() {
        let bytes = std::fs::read(path).map_err(|source| IngestError::Io {
            file: path.display().to_string(),
            source,
        })?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let mut ctx = FileCtx::new(&name, opts);
        let text = std::str::from_utf8(&bytes)
            .map_err(|e| ctx.structure(format!("not UTF-8 text: {e}")))?;
        let items: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| {
            ctx.structure(format!("not a JSON array of web3.js event objects: {e}"))
        })?;
        if items.is_empty() {
            return Err(ctx.structure("no events"));
        }
        let mut address: Option<String> = None;
        let (mut estimated, mut widest) = (0u64, 0u64);
        let mut rows: Vec<(OracleRound, Location)> = Vec::new();
        for item in items {
            ctx.rows_read += 1;
            let loc = Location::Line(crate::formats::line_of(text, item.get()));
            let res = (|| -> Result<Result<OracleRound, &'static str>, IngestError> {
                let bad = |column: &str, message: String| ctx.bad_row(loc, column, message);
                let log: Log = serde_json::from_str(item.get())
                    .map_err(|e| bad("event", format!("not a web3.js event object: {e}")))?;
                if log
                    .raw
                    .topics
                    .first()
                    .map(|t| t.to_ascii_lowercase())
                    .as_deref()
                    != Some(LOG_VALUE_TOPIC)
                {
                    return Err(bad(
                        "raw.topics",
                        format!("topic0 is not LogValue(bytes32) ({LOG_VALUE_TOPIC})"),
                    ));
                }
                let addr = log.address.to_ascii_lowercase();
                match &address {
                    None => address = Some(addr),
                    Some(a) if *a != addr => {
                        return Err(ctx.structure(format!(
                            "events of two contracts ({a} and {addr}): one OSM per file"
                        )))
                    }
                    Some(_) => {}
                }
                let hex = log.raw.data.strip_prefix("0x").unwrap_or(&log.raw.data);
                if hex.len() != 64 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                    return Err(bad("raw.data", "expected a 32-byte hex word".into()));
                }
                let (hi, lo) = hex.split_at(32);
                let value = u128::from_str_radix(lo, 16)
                    .ok()
                    .filter(|_| hi.bytes().all(|c| c == b'0'))
                    .and_then(|v| i128::try_from(v).ok())
                    .ok_or_else(|| {
                        bad(
                            "raw.data",
                            "a price too large for 18-decimal fixed point".into(),
                        )
                    })?;
                if log.removed {
                    return Ok(Err("removed log (chain reorganisation)"));
                }
                if value == 0 {
                    return Ok(Err("zero price (the OSM's value before its first poke)"));
                }
                let block = i64::try_from(log.block_number)
                    .map_err(|_| bad("blockNumber", "a block number".into()))?;
                let (ts, est) = match blocks.get(log.block_number) {
                    Some(t) => (t, false),
                    None if osm.estimate_block_times => match blocks.estimate(log.block_number) {
                        Some(t) => {
                            widest = widest.max(blocks.bracket(log.block_number).unwrap_or(0));
                            (t, true)
                        }
                        None => {
                            return Err(bad(
                                "blockNumber",
                                format!(
                                    "block {block}: no known block before and after it to estimate its time from"
                                ),
                            ))
                        }
                    },
                    None => {
                        return Err(bad(
                            "blockNumber",
                            format!(
                                "block {block}: time unknown (give --blocks FILE, or --estimate-block-times to interpolate)"
                            ),
                        ))
                    }
                };
                estimated += u64::from(est);
                let _ = log.transaction_hash;
                Ok(Ok(OracleRound {
                    ts: Micros::from_secs(ts),
                    feed: feed.clone(),
                    base: base.clone(),
                    quote: "USD".into(),
                    round_id: (u128::from(log.block_number) << 32) | u128::from(log.log_index),
                    phase_id: None,
                    aggregator_round_id: None,
                    answer: Wad(value),
                    started_at: None,
                    answered_in_round: None,
                    stale: false,
                    block: Some(block),
                }))
            })();
            match res {
                Ok(Ok(r)) => rows.push((r, loc)),
                // Rejections by rule: counted, never fatal.
                Ok(Err(why)) => ctx.reject(loc, why),
                Err(e) => ctx.bad(e)?,
            }
        }
        if estimated > 0 {
            let stats = match loo {
                Some((n, med, p95, max)) => format!(
                    "leave-one-out error over {n} known blocks: median {med} s, 95th percentile {p95} s, max {max} s"
                ),
                None => "too few known blocks to measure the error".into(),
            };
            ctx.warn(format!(
                "{estimated} block times estimated by linear interpolation between {} known blocks ({stats}); widest bracket used: {widest} blocks",
                blocks.len()
            ));
        }
        ctx.keep_in_window(&mut rows, |(r, _)| r.ts);
        let mut options = opts.record();
        options.insert("feed".into(), feed.clone());
        options.insert(
            "estimate_block_times".into(),
            osm.estimate_block_times.to_string(),
        );
        for (k, v) in &osm.blocks_record {
            options.insert(k.clone(), v.clone());
        }
        out.warnings.extend(ctx.warnings.iter().cloned());
        out.sources
            .push(ctx.source_record(&bytes, FORMAT, "oracle_rounds", options, tool_version));
        all.extend(rows.into_iter().map(|(r, l)| (r, l, src)));
    }
    // Dedupe by (feed, round id), as the other oracle formats.
    all.sort_by(|a, b| {
        (&a.0.feed, a.0.round_id)
            .cmp(&(&b.0.feed, b.0.round_id))
            .then(a.2.cmp(&b.2))
    });
    let mut kept: Vec<(OracleRound, Location, usize)> = Vec::with_capacity(all.len());
    for item in all {
        if let Some(last) = kept.last() {
            if last.0.feed == item.0.feed && last.0.round_id == item.0.round_id {
                if last.0 == item.0 {
                    out.sources[item.2].rows_deduplicated += 1;
                } else {
                    let e = IngestError::Conflict {
                        file: out.sources[item.2].file.clone(),
                        location: item.1,
                        message: format!(
                            "conflicting rows for {} round {}: answer {} here, {} in {}, {}",
                            item.0.feed,
                            item.0.round_id,
                            item.0.answer,
                            last.0.answer,
                            out.sources[last.2].file,
                            last.1
                        ),
                    };
                    if opts.on_bad_row == crate::OnBadRow::Skip {
                        out.sources[item.2].rows_skipped += 1;
                        out.sources[item.2].notes.push(format!("skipped: {e}"));
                    } else {
                        return Err(e);
                    }
                }
                continue;
            }
        }
        kept.push(item);
    }
    kept.sort_by(|a, b| a.0.key().cmp(&b.0.key()));
    for (_, _, src) in &kept {
        out.sources[*src].rows_written += 1;
    }
    out.rounds = kept.into_iter().map(|(r, _, _)| r).collect();
    Ok(out)
}
