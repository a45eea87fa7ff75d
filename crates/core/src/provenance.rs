//! Where a dataset's rows came from: one record per raw source file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A raw input file as recorded in a dataset manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRecord {
    /// File name as given (no directories: manifests must not leak local paths).
    pub file: String,
    /// sha256 of the raw bytes, lowercase hex.
    pub sha256: String,
    pub bytes: u64,
    /// Ingest format name (`cdd`, `binance-klines`, ...).
    pub format: String,
    /// Options that shaped the result (base, quote, venue, decimals, window, mapping...).
    pub options: BTreeMap<String, String>,
    /// Table the rows went to.
    pub table: String,
    pub rows_read: u64,
    pub rows_written: u64,
    pub rows_skipped: u64,
    /// Rows dropped as exact duplicates inside the source (e.g. overlapping oracle phases).
    pub rows_deduplicated: u64,
    /// Rows rejected as invalid (e.g. all-zero oracle rounds), counted not fatal.
    pub rows_rejected: u64,
    /// Human-readable notes: gaps, flagged rows, skipped-row reasons (first few).
    pub notes: Vec<String>,
    /// `shortfall <version>`.
    pub tool_version: String,
}
