//! Per-file parsing state shared by the adapters: collected rows, counters,
//! bad-row policy, notes.

use std::collections::BTreeMap;

use shortfall_core::{LiquidityRow, Micros, OracleRound, PriceBar, SourceRecord};

use crate::error::{IngestError, Location};
use crate::options::{IngestOptions, OnBadRow};

/// How many reasons of skipped or rejected rows are kept in the notes.
pub const MAX_REASONS: usize = 5;

/// One file being parsed.
pub(crate) struct FileCtx<'a> {
    /// Name used in messages (file name, or `archive.zip:inner.csv`).
    pub name: String,
    pub opts: &'a IngestOptions,
    pub rows_read: u64,
    pub skipped: u64,
    pub rejected: u64,
    /// Rows an adapter dropped as duplicates by a format rule.
    pub deduplicated: u64,
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
    /// Bars, with their source locations in `price_locs` (same index).
    pub prices: Vec<PriceBar>,
    pub price_locs: Vec<Location>,
    pub rounds: Vec<(OracleRound, Location)>,
    /// Depth rows of mappings with a `depth_usd` column.
    pub liquidity: Vec<(LiquidityRow, Location)>,
    skip_reasons: usize,
    reject_reasons: usize,
}

impl<'a> FileCtx<'a> {
    pub fn new(name: &str, opts: &'a IngestOptions) -> Self {
        FileCtx {
            name: name.to_string(),
            opts,
            rows_read: 0,
            skipped: 0,
            rejected: 0,
            deduplicated: 0,
            notes: Vec::new(),
            warnings: Vec::new(),
            prices: Vec::new(),
            price_locs: Vec::new(),
            rounds: Vec::new(),
            liquidity: Vec::new(),
            skip_reasons: 0,
            reject_reasons: 0,
        }
    }

    /// Collects one bar.
    pub fn push_price(&mut self, bar: PriceBar, loc: Location) {
        self.prices.push(bar);
        self.price_locs.push(loc);
    }

    /// Applies the bad-row policy: skip (count and note) or fail.
    pub fn bad(&mut self, e: IngestError) -> Result<(), IngestError> {
        if self.opts.on_bad_row == OnBadRow::Skip && e.is_row_level() {
            self.skipped += 1;
            if self.skip_reasons < MAX_REASONS {
                self.skip_reasons += 1;
                self.notes.push(format!("skipped: {e}"));
            }
            Ok(())
        } else {
            Err(e)
        }
    }

    /// Counts a row rejected as invalid by rule (not fatal in either mode).
    pub fn reject(&mut self, loc: Location, reason: &str) {
        self.rejected += 1;
        if self.reject_reasons < MAX_REASONS {
            self.reject_reasons += 1;
            self.notes.push(format!("rejected {loc}: {reason}"));
        }
    }

    pub fn bad_value(
        &self,
        loc: Location,
        column: &str,
        expected: &str,
        found: &[u8],
    ) -> IngestError {
        IngestError::BadValue {
            file: self.name.clone(),
            location: loc,
            column: column.to_string(),
            expected: expected.to_string(),
            found: crate::num::show(found),
        }
    }

    pub fn bad_row(&self, loc: Location, column: &str, message: String) -> IngestError {
        IngestError::BadRow {
            file: self.name.clone(),
            location: loc,
            column: column.to_string(),
            message,
        }
    }

    pub fn structure(&self, message: impl Into<String>) -> IngestError {
        IngestError::structure(&self.name, message)
    }

    /// Drops the rows outside `--window` (half-open) and notes how many.
    pub fn keep_in_window<T>(&mut self, rows: &mut Vec<T>, ts: impl Fn(&T) -> Micros) {
        let Some((a, b)) = self.opts.window else {
            return;
        };
        let before = rows.len();
        rows.retain(|r| {
            let t = ts(r);
            t >= a && t < b
        });
        if before > rows.len() {
            self.notes.push(format!(
                "{} valid rows outside the window left out",
                before - rows.len()
            ));
        }
    }

    /// The provenance record of this file, with this file's counters and
    /// notes (`rows_written` is filled in after deduplication).
    pub fn source_record(
        &self,
        bytes: &[u8],
        format: &str,
        table: &str,
        options: BTreeMap<String, String>,
        tool_version: &str,
    ) -> SourceRecord {
        SourceRecord {
            file: self.name.clone(),
            sha256: shortfall_core::sha256_hex(bytes),
            bytes: bytes.len() as u64,
            format: format.to_string(),
            options,
            table: table.to_string(),
            rows_read: self.rows_read,
            rows_written: 0,
            rows_skipped: self.skipped,
            rows_deduplicated: self.deduplicated,
            rows_rejected: self.rejected,
            notes: self.notes.clone(),
            tool_version: tool_version.to_string(),
        }
    }

    /// Adds a note to the source record and a warning to the output.
    pub fn warn(&mut self, message: String) {
        self.notes.push(message.clone());
        self.warnings.push(format!("{}: {message}", self.name));
    }
}
