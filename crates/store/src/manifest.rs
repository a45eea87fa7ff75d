//! `manifest.json`: what a dataset holds and where it came from.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use shortfall_core::SourceRecord;

use crate::StoreError;

pub const MANIFEST_FILE: &str = "manifest.json";
pub const MANIFEST_VERSION: u32 = 1;

/// The manifest of a dataset folder. Serialised with sorted maps and a fixed
/// layout, so the same content gives the same bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub manifest_version: u32,
    /// One entry per table file, by table name.
    pub tables: BTreeMap<String, TableEntry>,
    /// Every raw source ingested, sorted by (table, file, sha256).
    pub sources: Vec<SourceRecord>,
}

/// One table file of a dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableEntry {
    pub file: String,
    pub schema_version: u32,
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
    /// First and last key, as text.
    pub key_min: String,
    pub key_max: String,
    /// Rows and time range per series (venue and pair, or feed).
    pub series: BTreeMap<String, SeriesEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesEntry {
    pub rows: u64,
    pub ts_min: String,
    pub ts_max: String,
}

impl Default for Manifest {
    fn default() -> Self {
        Manifest {
            manifest_version: MANIFEST_VERSION,
            tables: BTreeMap::new(),
            sources: Vec::new(),
        }
    }
}

impl Manifest {
    pub fn read(dir: &Path) -> Result<Option<Manifest>, StoreError> {
        let path = dir.join(MANIFEST_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::io(path, e)),
        };
        let m: Manifest = serde_json::from_str(&text).map_err(|e| StoreError::Manifest {
            path: path.clone(),
            message: format!("line {}, column {}: {e}", e.line(), e.column()),
        })?;
        if m.manifest_version != MANIFEST_VERSION {
            return Err(StoreError::Manifest {
                path,
                message: format!(
                    "manifest version {} is not supported (expected {MANIFEST_VERSION})",
                    m.manifest_version
                ),
            });
        }
        Ok(Some(m))
    }

    /// Canonical bytes: pretty JSON with a trailing newline.
    pub fn to_bytes(&self, dir: &Path) -> Result<Vec<u8>, StoreError> {
        let mut s = serde_json::to_string_pretty(self).map_err(|e| StoreError::Manifest {
            path: dir.join(MANIFEST_FILE),
            message: e.to_string(),
        })?;
        s.push('\n');
        Ok(s.into_bytes())
    }
}
