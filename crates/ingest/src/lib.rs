//! Source adapters: raw market and oracle files -> canonical rows.
//!
//! [`ingest_files`] reads raw files in one [`Format`] and returns sorted,
//! deduplicated, validated rows plus a [`SourceRecord`] per file. Writing
//! them into a dataset (merge, manifest, atomic rename) is `shortfall-store`'s job.
//!
//! Rules common to all formats:
//! - bad values (text in a number column, price <= 0, low > high, a time
//!   before 2009 or from 2100 on, a truncated row) fail the ingest with an
//!   [`IngestError`] naming file, line (or row) and column, or with
//!   [`OnBadRow::Skip`] are skipped, counted and noted;
//! - structural problems (empty file, wrong delimiter, unknown header, zip
//!   without CSV, mixed symbols) are always fatal;
//! - exact duplicate rows are dropped and counted; rows with the same key but
//!   different values are a conflict (an error, or with `Skip` the later row
//!   in input order is skipped);
//! - output is sorted by the table key and deterministic;
//! - gaps, relistings and suspicious prints are reported as warnings.

#![warn(missing_docs)]

#[allow(missing_docs)] // log fields and ABI names are the chain's own
pub mod chain;
mod ctx;
pub mod error;
pub mod events;
pub mod formats;
pub mod num;
pub mod observed;
pub mod options;
pub mod perp;
pub mod timefmt;
mod validate;

use std::collections::BTreeMap;
use std::path::PathBuf;

use shortfall_core::{sha256_hex, LiquidityRow, OracleRound, PriceBar, SourceRecord};

use crate::ctx::FileCtx;
pub use crate::error::{IngestError, Location};
pub use crate::options::{ColumnMapping, Format, IngestOptions, OnBadRow};
pub use crate::timefmt::TimeFormat;

/// Rows and provenance produced by one ingest call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestOutput {
    /// Sorted by (ts, venue, base, quote); empty for oracle formats.
    pub prices: Vec<PriceBar>,
    /// Sorted by (ts, feed, round_id); empty for market formats.
    pub oracle_rounds: Vec<OracleRound>,
    /// Sorted by (ts, venue, asset): depth rows of a mapping with `depth_usd`.
    pub liquidity: Vec<LiquidityRow>,
    /// Source records of the depth rows (table `liquidity`), one per file that gave any.
    pub liquidity_sources: Vec<SourceRecord>,
    /// One record per input file, in input order.
    pub sources: Vec<SourceRecord>,
    /// Human-readable warnings (gaps, relistings, phase overlaps, suspicious prints),
    /// each prefixed with the file name.
    pub warnings: Vec<String>,
}

/// Progress callback: (bytes done, bytes total).
pub type Progress<'a> = &'a dyn Fn(u64, u64);

/// Reads and ingests files of one format.
pub fn ingest_files(
    format: Format,
    files: &[PathBuf],
    opts: &IngestOptions,
    tool_version: &str,
) -> Result<IngestOutput, IngestError> {
    ingest_files_with_progress(format, files, opts, tool_version, &|_, _| {})
}

/// [`ingest_files`] with a progress callback, called before and after each
/// file is parsed with (bytes of finished files, total bytes of all files).
pub fn ingest_files_with_progress(
    format: Format,
    files: &[PathBuf],
    opts: &IngestOptions,
    tool_version: &str,
    progress: Progress,
) -> Result<IngestOutput, IngestError> {
    let total: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .sum();
    let mut done = 0u64;
    let mut parsed = Vec::with_capacity(files.len());
    for path in files {
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let bytes = std::fs::read(path).map_err(|source| IngestError::Io {
            file: path.display().to_string(),
            source,
        })?;
        // Sizes may have changed since `metadata`: never report done > total.
        let total = total.max(done + bytes.len() as u64);
        progress(done, total);
        parsed.push(parse_one(format, &name, &bytes, opts, tool_version)?);
        done += bytes.len() as u64;
        progress(done, total);
    }
    finish(parsed, opts)
}

/// Ingests one in-memory file (`name` is used in messages and the source record).
pub fn ingest_bytes(
    format: Format,
    name: &str,
    bytes: &[u8],
    opts: &IngestOptions,
    tool_version: &str,
) -> Result<IngestOutput, IngestError> {
    let name = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let p = parse_one(format, name, bytes, opts, tool_version)?;
    finish(vec![p], opts)
}

/// One file after its adapter ran.
struct Parsed {
    record: SourceRecord,
    prices: Vec<PriceBar>,
    price_locs: Vec<Location>,
    rounds: Vec<(OracleRound, Location)>,
    liquidity: Vec<(LiquidityRow, Location)>,
    warnings: Vec<String>,
}

fn parse_one(
    format: Format,
    name: &str,
    bytes: &[u8],
    opts: &IngestOptions,
    tool_version: &str,
) -> Result<Parsed, IngestError> {
    let mut ctx = FileCtx::new(name, opts);
    // Hash big files on a second thread while parsing.
    let sha256 = if bytes.len() >= 1 << 20 {
        std::thread::scope(|s| {
            let hasher = s.spawn(|| sha256_hex(bytes));
            let parsed = formats::parse(format, &mut ctx, bytes);
            let hash = hasher.join().unwrap_or_else(|_| sha256_hex(bytes));
            parsed.map(|()| hash)
        })?
    } else {
        formats::parse(format, &mut ctx, bytes)?;
        sha256_hex(bytes)
    };
    let record = SourceRecord {
        file: name.to_string(),
        sha256,
        bytes: bytes.len() as u64,
        format: format.name().to_string(),
        options: opts.record(),
        table: format.table().to_string(),
        rows_read: ctx.rows_read,
        rows_written: 0,
        rows_skipped: ctx.skipped,
        rows_deduplicated: ctx.deduplicated,
        rows_rejected: ctx.rejected,
        notes: ctx.notes,
        tool_version: tool_version.to_string(),
    };
    Ok(Parsed {
        record,
        prices: ctx.prices,
        price_locs: ctx.price_locs,
        rounds: ctx.rounds,
        liquidity: ctx.liquidity,
        warnings: ctx.warnings,
    })
}

/// Sorts and dedupes depth rows (the same key with another depth is a conflict).
fn finish_depth(
    mut depth: Vec<(LiquidityRow, Location, usize)>,
    opts: &IngestOptions,
    names: &[String],
    records: &mut [SourceRecord],
) -> Result<(Vec<LiquidityRow>, Vec<SourceRecord>), IngestError> {
    depth.sort_by(|a, b| {
        (a.0.ts, &a.0.venue, &a.0.asset)
            .cmp(&(b.0.ts, &b.0.venue, &b.0.asset))
            .then(a.2.cmp(&b.2))
    });
    let mut out: Vec<(LiquidityRow, Location, usize)> = Vec::with_capacity(depth.len());
    for item in depth {
        match out.last() {
            Some(last)
                if (last.0.ts, &last.0.venue, &last.0.asset)
                    == (item.0.ts, &item.0.venue, &item.0.asset) =>
            {
                if last.0 != item.0 {
                    let msg = format!(
                        "conflicting depth for {} {} {}: {} here, {} in {}, {}",
                        item.0.ts.to_iso(),
                        item.0.venue,
                        item.0.asset,
                        item.0.depth_usd,
                        last.0.depth_usd,
                        names[last.2],
                        last.1
                    );
                    conflict(opts, &names[item.2], item.1, msg, &mut records[item.2])?;
                }
            }
            _ => out.push(item),
        }
    }
    let mut written = vec![0u64; records.len()];
    for (_, _, src) in &out {
        written[*src] += 1;
    }
    let sources = records
        .iter()
        .zip(written)
        .filter(|(_, n)| *n > 0)
        .map(|(r, n)| SourceRecord {
            table: "liquidity".into(),
            rows_written: n,
            ..r.clone()
        })
        .collect();
    Ok((out.into_iter().map(|(d, _, _)| d).collect(), sources))
}

/// Keeps the elements of two parallel vectors where `keep` holds for the first.
fn retain_parallel<T, U>(a: &mut Vec<T>, b: &mut Vec<U>, keep: impl Fn(&T) -> bool) {
    let flags: Vec<bool> = a.iter().map(keep).collect();
    let mut i = 0;
    a.retain(|_| {
        i += 1;
        flags.get(i - 1).copied().unwrap_or(false)
    });
    let mut i = 0;
    b.retain(|_| {
        i += 1;
        flags.get(i - 1).copied().unwrap_or(false)
    });
}

/// Window filter, merge, sort, dedupe, series checks, counts.
fn finish(parsed: Vec<Parsed>, opts: &IngestOptions) -> Result<IngestOutput, IngestError> {
    let mut records = Vec::with_capacity(parsed.len());
    let mut warnings = Vec::new();
    // Bars and, at the same index, (location, source index).
    let mut bars: Vec<PriceBar> = Vec::new();
    let mut meta: Vec<(Location, usize)> = Vec::new();
    let mut rounds: Vec<(OracleRound, Location, usize)> = Vec::new();
    let mut depth: Vec<(LiquidityRow, Location, usize)> = Vec::new();
    let inside = |ts| opts.window.is_none_or(|(a, b)| ts >= a && ts < b);
    for (src, p) in parsed.into_iter().enumerate() {
        depth.extend(
            p.liquidity
                .into_iter()
                .filter(|(d, _)| inside(d.ts))
                .map(|(d, l)| (d, l, src)),
        );
        let mut rec = p.record;
        warnings.extend(p.warnings);
        let before = p.prices.len() + p.rounds.len();
        let mut pb = p.prices;
        let mut pm: Vec<(Location, usize)> = p.price_locs.into_iter().map(|l| (l, src)).collect();
        if opts.window.is_some() {
            retain_parallel(&mut pb, &mut pm, |b| inside(b.ts));
        }
        let n0 = rounds.len();
        rounds.extend(
            p.rounds
                .into_iter()
                .filter(|(r, _)| inside(r.ts))
                .map(|(r, l)| (r, l, src)),
        );
        let kept = pb.len() + rounds.len() - n0;
        if before > kept {
            rec.notes.push(format!(
                "{} valid rows outside the window left out",
                before - kept
            ));
        }
        if bars.is_empty() {
            bars = pb;
            meta = pm;
        } else {
            bars.extend(pb);
            meta.extend(pm);
        }
        records.push(rec);
    }
    let names: Vec<String> = records.iter().map(|r| r.file.clone()).collect();

    if !bars.is_empty() {
        sort_bars(&mut bars, &mut meta);
        // Dedupe in place: equal keys are adjacent, file order kept among them.
        let mut w = 0usize;
        for r in 0..bars.len() {
            if w > 0 && price_key(&bars[w - 1]) == price_key(&bars[r]) {
                let (loc, src) = meta[r];
                if bars[w - 1] == bars[r] {
                    records[src].rows_deduplicated += 1;
                } else {
                    let (kept_loc, kept_src) = meta[w - 1];
                    let b = &bars[r];
                    let msg = format!(
                        "conflicting rows for {} {} {}/{}: this row differs from {}, {}",
                        b.ts.to_iso(),
                        b.venue,
                        b.base,
                        b.quote,
                        names[kept_src],
                        kept_loc
                    );
                    conflict(opts, &names[src], loc, msg, &mut records[src])?;
                }
                continue;
            }
            if w != r {
                bars.swap(w, r);
                meta.swap(w, r);
            }
            w += 1;
        }
        bars.truncate(w);
        meta.truncate(w);
        // Series checks per (venue, base, quote); bars are sorted by time within each.
        type Key<'a> = (&'a str, &'a str, &'a str);
        let mut series: BTreeMap<Key, (Vec<&PriceBar>, usize)> = BTreeMap::new();
        let mut run: Option<(Key, Vec<&PriceBar>, usize)> = None;
        for (b, (_, src)) in bars.iter().zip(&meta) {
            let key = (b.venue.as_str(), b.base.as_str(), b.quote.as_str());
            // Consecutive bars of one series (the usual case) skip the map.
            match &mut run {
                Some((k, v, _)) if *k == key => v.push(b),
                _ => {
                    if let Some((k, v, s)) = run.take() {
                        series
                            .entry(k)
                            .or_insert_with(|| (Vec::new(), s))
                            .0
                            .extend(v);
                    }
                    run = Some((key, vec![b], *src));
                }
            }
        }
        if let Some((k, v, s)) = run {
            series
                .entry(k)
                .or_insert_with(|| (Vec::new(), s))
                .0
                .extend(v);
        }
        for (s, src) in series.values() {
            for w in validate::check_series(s).warnings {
                records[*src].notes.push(w.clone());
                warnings.push(format!("{}: {w}", names[*src]));
            }
        }
        for (_, src) in &meta {
            records[*src].rows_written += 1;
        }
        let (liquidity, liquidity_sources) = finish_depth(depth, opts, &names, &mut records)?;
        return Ok(IngestOutput {
            prices: bars,
            oracle_rounds: Vec::new(),
            liquidity,
            liquidity_sources,
            sources: records,
            warnings,
        });
    }

    // Oracle rounds: dedupe by (feed, round id), then sort by key.
    rounds.sort_by(|a, b| (&a.0.feed, a.0.round_id).cmp(&(&b.0.feed, b.0.round_id)));
    let mut out: Vec<(OracleRound, Location, usize)> = Vec::with_capacity(rounds.len());
    for item in rounds {
        match out.last() {
            Some(last) if last.0.feed == item.0.feed && last.0.round_id == item.0.round_id => {
                if last.0 == item.0 {
                    records[item.2].rows_deduplicated += 1;
                } else {
                    let msg = format!(
                        "conflicting rows for {} round {}: answer {} at {} here, answer {} at {} in {}, {}",
                        item.0.feed,
                        item.0.round_id,
                        item.0.answer,
                        item.0.ts.to_iso(),
                        last.0.answer,
                        last.0.ts.to_iso(),
                        names[last.2],
                        last.1
                    );
                    conflict(opts, &names[item.2], item.1, msg, &mut records[item.2])?;
                }
            }
            _ => out.push(item),
        }
    }
    for (feed, w, src) in phase_overlaps(&out) {
        let msg = format!("{feed}: {w}");
        records[src].notes.push(msg.clone());
        warnings.push(format!("{}: {msg}", names[src]));
    }
    out.sort_by(|a, b| a.0.key().cmp(&b.0.key()));
    for (_, _, src) in &out {
        records[*src].rows_written += 1;
    }
    Ok(IngestOutput {
        prices: Vec::new(),
        oracle_rounds: out.into_iter().map(|x| x.0).collect(),
        liquidity: Vec::new(),
        liquidity_sources: Vec::new(),
        sources: records,
        warnings,
    })
}

/// Sorts bars (and their metadata) by key, stably; a no-op when already sorted.
fn sort_bars(bars: &mut Vec<PriceBar>, meta: &mut Vec<(Location, usize)>) {
    if bars
        .windows(2)
        .all(|w| price_key(&w[0]) <= price_key(&w[1]))
    {
        return;
    }
    let mut perm: Vec<usize> = (0..bars.len()).collect();
    perm.sort_by(|&i, &j| price_key(&bars[i]).cmp(&price_key(&bars[j])));
    let mut old: Vec<Option<PriceBar>> = std::mem::take(bars).into_iter().map(Some).collect();
    *bars = perm
        .iter()
        .filter_map(|&i| old.get_mut(i).and_then(Option::take))
        .collect();
    *meta = perm.iter().filter_map(|&i| meta.get(i).copied()).collect();
}

fn price_key(b: &PriceBar) -> (shortfall_core::Micros, &str, &str, &str) {
    (b.ts, &b.venue, &b.base, &b.quote)
}

/// A conflicting duplicate: an error, or with `Skip` counted and noted.
fn conflict(
    opts: &IngestOptions,
    file: &str,
    loc: Location,
    message: String,
    rec: &mut SourceRecord,
) -> Result<(), IngestError> {
    let e = IngestError::Conflict {
        file: file.to_string(),
        location: loc,
        message,
    };
    if opts.on_bad_row == OnBadRow::Skip {
        rec.rows_skipped += 1;
        if rec
            .notes
            .iter()
            .filter(|n| n.starts_with("skipped"))
            .count()
            < ctx::MAX_REASONS
        {
            rec.notes.push(format!("skipped: {e}"));
        }
        Ok(())
    } else {
        Err(e)
    }
}

/// Phases of one feed whose time ranges overlap (an old aggregator still
/// answering after the next phase started). Rounds of both are kept.
fn phase_overlaps(rounds: &[(OracleRound, Location, usize)]) -> Vec<(String, String, usize)> {
    // (feed, phase) -> (first ts, last ts, count, src)
    let mut ranges: BTreeMap<(&str, u128), (i64, i64, u64, usize)> = BTreeMap::new();
    for (r, _, src) in rounds {
        let e = ranges
            .entry((&r.feed, r.round_id >> 64))
            .or_insert((r.ts.0, r.ts.0, 0, *src));
        e.0 = e.0.min(r.ts.0);
        e.1 = e.1.max(r.ts.0);
        e.2 += 1;
    }
    let mut out = Vec::new();
    let list: Vec<_> = ranges.iter().collect();
    for (i, ((feed, p), (_, last, _, src))) in list.iter().enumerate() {
        for ((feed2, q), (first2, _, _, _)) in list.iter().skip(i + 1) {
            if feed2 != feed || first2 > last {
                continue;
            }
            let n = rounds
                .iter()
                .filter(|(r, _, _)| r.feed == *feed && r.round_id >> 64 == *p && r.ts.0 >= *first2)
                .count();
            out.push((
                feed.to_string(),
                format!(
                    "phases {p} and {q} overlap in time: phase {q} starts {} while phase {p} answers until {} \
                     ({n} rounds of phase {p} after phase {q} started); all rounds kept",
                    shortfall_core::Micros(*first2).to_iso(),
                    shortfall_core::Micros(*last).to_iso()
                ),
                *src,
            ));
        }
    }
    out
}
