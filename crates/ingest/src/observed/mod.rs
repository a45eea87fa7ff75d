//! Observed liquidations and auctions -> `observed_auctions`:
//! `maker-flip-auctions` (the ethernian/maker-auctions export of Maker's
//! ETH-A flip auctions) and `compound-liquidations-dune` (a spreadsheet
//! export of Compound v2 `LiquidateBorrow` events).
//!
//! Same rules as the other adapters: a bad value fails with file, line and
//! column (or is skipped and counted with `--on-bad-row skip`); exact
//! duplicate rows are dropped and counted; two rows of the same key that
//! disagree are a conflict; output is sorted by the table key. Amounts the
//! source wrote as floats or rounded carry `amount_rel_error` and, when
//! rounded below float precision, `rounded`: never silently exact.

mod compound;
mod maker;

use std::path::{Path, PathBuf};

use shortfall_core::{ObservedAuction, SourceRecord, Wad};

use crate::ctx::FileCtx;
use crate::error::{IngestError, Location};
use crate::events::Row;
use crate::num;
use crate::options::{IngestOptions, OnBadRow};

pub use compound::{ctoken, CTOKENS};

/// `--format` name of the Maker flip auctions export.
pub const MAKER_FORMAT: &str = "maker-flip-auctions";
/// `--format` name of the Compound `LiquidateBorrow` spreadsheet export.
pub const COMPOUND_FORMAT: &str = "compound-liquidations-dune";
/// The table both formats fill.
pub const TABLE: &str = "observed_auctions";

/// Whether `name` is one of the observed formats.
pub fn is_format(name: &str) -> bool {
    matches!(name.trim(), MAKER_FORMAT | COMPOUND_FORMAT)
}

/// Rows and provenance of one observed ingest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedOutput {
    /// Sorted by the table key, deduplicated.
    pub rows: Vec<ObservedAuction>,
    /// One record per input file, in input order.
    pub sources: Vec<SourceRecord>,
    /// Warnings, each prefixed with the file name.
    pub warnings: Vec<String>,
}

/// An adapter: one file's bytes -> rows with their locations.
type ParseFn =
    fn(&mut FileCtx, &[u8], &mut Vec<(ObservedAuction, Location)>) -> Result<(), IngestError>;

/// Ingests files of one observed format (`MAKER_FORMAT` or `COMPOUND_FORMAT`).
pub fn ingest_observed(
    format: &str,
    files: &[PathBuf],
    opts: &IngestOptions,
    tool_version: &str,
) -> Result<ObservedOutput, IngestError> {
    let format = format.trim();
    let parse: ParseFn = match format {
        MAKER_FORMAT => maker::parse,
        COMPOUND_FORMAT => compound::parse,
        other => {
            return Err(IngestError::Options(format!(
                "unknown observed format `{other}`: expected {MAKER_FORMAT} or {COMPOUND_FORMAT}"
            )))
        }
    };
    let mut out = ObservedOutput::default();
    let mut all: Vec<(ObservedAuction, usize, Location)> = Vec::new();
    for (src, path) in files.iter().enumerate() {
        let bytes = read(path)?;
        let name = file_name(path);
        let mut ctx = FileCtx::new(&name, opts);
        let mut rows = Vec::new();
        parse(&mut ctx, &bytes, &mut rows)?;
        ctx.keep_in_window(&mut rows, |(r, _)| r.ts);
        all.extend(rows.into_iter().map(|(r, l)| (r, src, l)));
        out.warnings.extend(ctx.warnings.iter().cloned());
        out.sources
            .push(ctx.source_record(&bytes, format, TABLE, opts.record(), tool_version));
    }
    // Stable: among equal keys, file and line order. One event (same
    // identity) seen twice is a duplicate when the rows agree, else a conflict.
    all.sort_by_key(|a| a.0.key());
    let mut kept: Vec<(ObservedAuction, usize, Location)> = Vec::with_capacity(all.len());
    let mut seen: std::collections::BTreeMap<Identity, usize> = std::collections::BTreeMap::new();
    for item in all {
        let id = identity(&item.0);
        if let Some(&k) = seen.get(&id) {
            let last = &kept[k];
            if same_fact(&last.0, &item.0) {
                out.sources[item.1].rows_deduplicated += 1;
            } else {
                let e = IngestError::Conflict {
                    file: out.sources[item.1].file.clone(),
                    location: item.2,
                    message: format!(
                        "conflicting rows for {}: this row differs from {}, {}",
                        shortfall_store_key(&item.0),
                        out.sources[last.1].file,
                        last.2
                    ),
                };
                if opts.on_bad_row == OnBadRow::Skip {
                    let rec = &mut out.sources[item.1];
                    rec.rows_skipped += 1;
                    rec.notes.push(format!("skipped: {e}"));
                } else {
                    return Err(e);
                }
            }
            continue;
        }
        seen.insert(id, kept.len());
        kept.push(item);
    }
    for (_, src, _) in &kept {
        out.sources[*src].rows_written += 1;
    }
    out.rows = kept.into_iter().map(|(r, _, _)| r).collect();
    Ok(out)
}

/// What makes two rows one event: the auction id, else the chain position,
/// else the whole key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Identity {
    Auction(String, String, u128),
    Log(String, i64, i64),
    Key(shortfall_core::observed::ObservedKey),
}

fn identity(r: &ObservedAuction) -> Identity {
    match (r.auction_id, r.block, r.log_index) {
        (Some(id), _, _) => Identity::Auction(r.protocol.clone(), r.market.clone(), id),
        (None, Some(b), Some(l)) => Identity::Log(r.protocol.clone(), b, l),
        _ => Identity::Key(r.key()),
    }
}

/// Two rows are the same fact when they differ only in where they were read.
fn same_fact(a: &ObservedAuction, b: &ObservedAuction) -> bool {
    ObservedAuction {
        source_ref: String::new(),
        ..a.clone()
    } == ObservedAuction {
        source_ref: String::new(),
        ..b.clone()
    }
}

fn shortfall_store_key(r: &ObservedAuction) -> String {
    let mut s = format!("{} {} {}", r.ts.to_iso(), r.protocol, r.market);
    if let Some(id) = r.auction_id {
        s.push_str(&format!(" auction {id}"));
    }
    if let (Some(b), Some(l)) = (r.block, r.log_index) {
        s.push_str(&format!(" block {b} log {l}"));
    }
    s
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn read(path: &Path) -> Result<Vec<u8>, IngestError> {
    std::fs::read(path).map_err(|source| IngestError::Io {
        file: path.display().to_string(),
        source,
    })
}

/// `file:line` of a row.
fn source_ref(ctx: &FileCtx, loc: Location) -> String {
    match loc {
        Location::Line(n) | Location::Row(n) => format!("{}:{n}", ctx.name),
    }
}

/// A decimal cell that must satisfy `ok`.
fn wad(
    ctx: &FileCtx,
    row: &Row<'_>,
    i: usize,
    what: &str,
    ok: impl Fn(Wad) -> bool,
) -> Result<Wad, IngestError> {
    num::parse_wad(row.raw(i))
        .filter(|w| ok(*w))
        .ok_or_else(|| row.bad(ctx, i, what))
}

/// An optional decimal cell (empty: `None`).
fn opt_wad(
    ctx: &FileCtx,
    row: &Row<'_>,
    i: usize,
    what: &str,
    ok: impl Fn(Wad) -> bool,
) -> Result<Option<Wad>, IngestError> {
    if row.raw(i).is_empty() {
        return Ok(None);
    }
    wad(ctx, row, i, what, ok).map(Some)
}

/// Relative precision of an IEEE double: 2^-53, rounded up to 18 decimals.
pub const F64_REL_ERROR: Wad = Wad(112);

/// Significant digits of the shortest decimal that reads back as `v`
/// (`4.6139999999999997E+25` -> `4.614e25` -> 4).
pub fn shortest_digits(v: f64) -> u32 {
    let s = format!("{:e}", v.abs());
    let mantissa = s.split('e').next().unwrap_or("");
    mantissa.chars().filter(char::is_ascii_digit).count() as u32
}

/// `0.5 * 10^(1 - digits)`: the relative error bound of a value rounded to
/// `digits` significant digits, as a wad (digits >= 1).
pub fn rel_error_of_digits(digits: u32) -> Wad {
    // 0.5 * 10^(1-d) = 5 * 10^(-d); as a wad: 5 * 10^(18-d).
    let d = digits.clamp(1, 18);
    Wad(5 * 10i128.pow(18 - d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_and_bounds() {
        assert_eq!(
            shortest_digits("4.6139999999999997E+25".parse().unwrap()),
            4
        );
        assert_eq!(
            shortest_digits("6.0597498173081099E+20".parse().unwrap()),
            15
        );
        assert_eq!(shortest_digits(2.39682512793648E+17), 15);
        assert_eq!(shortest_digits(2E+21), 1);
        assert_eq!(rel_error_of_digits(4), Wad(500_000_000_000_000));
        assert_eq!(rel_error_of_digits(15), Wad(5_000));
    }
}
