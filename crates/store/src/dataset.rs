//! A dataset: a folder of canonical tables plus `manifest.json`.
//!
//! Changes are staged in memory and committed at once: every new table file is
//! written to a temp name and synced, then renamed into place, and the manifest
//! is renamed last. An ingest that fails before the commit leaves the folder
//! exactly as it was.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use shortfall_core::SourceRecord;

use crate::manifest::{Manifest, SeriesEntry, TableEntry, MANIFEST_FILE};
use crate::parquet_io::{self, sha256_hex};
use crate::tables::{self, CanonicalRow, TableDef};
use crate::StoreError;

/// An open dataset folder (which may not exist yet).
#[derive(Debug)]
pub struct Dataset {
    dir: PathBuf,
    manifest: Manifest,
    staged: BTreeMap<String, Vec<u8>>,
}

/// What adding one table's rows did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddReport {
    pub table: String,
    /// Rows new to the dataset.
    pub added: u64,
    /// Incoming rows identical to rows already there (overlapping sources): not doubled.
    pub duplicates: u64,
    /// Sources skipped because the same bytes were already ingested with the same options.
    pub already_ingested: Vec<String>,
    /// Rows in the table after the merge.
    pub total: u64,
}

/// Result of [`Dataset::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub files_checked: usize,
    pub rows: u64,
}

impl Dataset {
    /// Opens an existing dataset; errors if it has no manifest.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let manifest = Manifest::read(dir)?.ok_or_else(|| StoreError::Manifest {
            path: dir.join(MANIFEST_FILE),
            message: "not found: is this a dataset folder?".into(),
        })?;
        Ok(Dataset {
            dir: dir.to_path_buf(),
            manifest,
            staged: BTreeMap::new(),
        })
    }

    /// Opens a dataset, or starts an empty one if the folder has no manifest.
    pub fn open_or_new(dir: &Path) -> Result<Self, StoreError> {
        let manifest = Manifest::read(dir)?.unwrap_or_default();
        Ok(Dataset {
            dir: dir.to_path_buf(),
            manifest,
            staged: BTreeMap::new(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Path of a table's file (whether or not it exists).
    pub fn table_path(&self, table: &TableDef) -> PathBuf {
        self.dir.join(table.file_name())
    }

    /// Reads all rows of a table (empty if the dataset lacks it).
    pub fn read<R: CanonicalRow>(&self) -> Result<Vec<R>, StoreError> {
        if !self.manifest.tables.contains_key(R::TABLE.name) {
            return Ok(Vec::new());
        }
        parquet_io::read_rows(&self.table_path(R::TABLE))
    }

    /// Merges sorted rows from `sources` into the table, staged until [`commit`](Self::commit).
    ///
    /// A source whose bytes and options were already ingested into this table
    /// is skipped (re-running an ingest changes nothing). Rows whose key is
    /// already present with identical values are counted as duplicates and
    /// not doubled; the same key with different values is a conflict error.
    pub fn add<R: CanonicalRow>(
        &mut self,
        rows: Vec<R>,
        sources: Vec<SourceRecord>,
    ) -> Result<AddReport, StoreError> {
        let table = R::TABLE;
        let mut report = AddReport {
            table: table.name.to_string(),
            ..Default::default()
        };
        let known: BTreeSet<(String, String, String)> = self
            .manifest
            .sources
            .iter()
            .map(|s| (s.table.clone(), s.sha256.clone(), options_text(s)))
            .collect();
        let (old_sources, new_sources): (Vec<_>, Vec<_>) = sources
            .into_iter()
            .partition(|s| known.contains(&(s.table.clone(), s.sha256.clone(), options_text(s))));
        report.already_ingested = old_sources.iter().map(|s| s.file.clone()).collect();
        if new_sources.is_empty() {
            report.total = self.manifest.tables.get(table.name).map_or(0, |t| t.rows);
            return Ok(report);
        }

        let existing: Vec<R> = self.read()?;
        let existing_name = self
            .manifest
            .sources
            .iter()
            .filter(|s| s.table == table.name)
            .map(|s| s.file.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let incoming_name = new_sources
            .iter()
            .map(|s| s.file.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let merged = merge_sorted(existing, rows, &mut report, &existing_name, &incoming_name)?;
        report.total = merged.len() as u64;

        let path = self.table_path(table);
        let batch = R::encode(&merged)?;
        let bytes = parquet_io::encode(&batch, table, &path)?;
        let entry = table_entry(table, &merged, &bytes);
        self.manifest.tables.insert(table.name.to_string(), entry);
        self.manifest.sources.extend(new_sources);
        self.manifest
            .sources
            .sort_by(|a, b| (&a.table, &a.file, &a.sha256).cmp(&(&b.table, &b.file, &b.sha256)));
        self.staged.insert(table.name.to_string(), bytes);
        Ok(report)
    }

    /// Replaces a derived table (computed from the dataset's other tables, so
    /// without raw sources of its own) with `rows`, staged until [`commit`](Self::commit).
    pub fn replace<R: CanonicalRow>(&mut self, mut rows: Vec<R>) -> Result<(), StoreError> {
        let table = R::TABLE;
        rows.sort_by(|a, b| a.cmp_key(b));
        let path = self.table_path(table);
        let batch = R::encode(&rows)?;
        let bytes = parquet_io::encode(&batch, table, &path)?;
        let entry = table_entry(table, &rows, &bytes);
        self.manifest.tables.insert(table.name.to_string(), entry);
        self.staged.insert(table.name.to_string(), bytes);
        Ok(())
    }

    /// Writes staged tables and the manifest atomically (temp files, then renames).
    pub fn commit(&mut self) -> Result<(), StoreError> {
        if self.staged.is_empty() {
            return Ok(());
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| StoreError::io(&self.dir, e))?;
        let manifest_bytes = self.manifest.to_bytes(&self.dir)?;
        let mut temps: Vec<(PathBuf, PathBuf)> = Vec::new();
        let cleanup = |temps: &[(PathBuf, PathBuf)]| {
            for (tmp, _) in temps {
                let _ = std::fs::remove_file(tmp);
            }
        };
        let mut writes: Vec<(PathBuf, &[u8])> = self
            .staged
            .iter()
            .map(|(name, bytes)| (self.dir.join(format!("{name}.parquet")), bytes.as_slice()))
            .collect();
        writes.push((self.dir.join(MANIFEST_FILE), &manifest_bytes));
        for (path, bytes) in &writes {
            let tmp = parquet_io::temp_path(path);
            if let Err(e) = parquet_io::write_synced(&tmp, bytes) {
                cleanup(&temps);
                return Err(e);
            }
            temps.push((tmp, path.clone()));
        }
        // Manifest last: a reader that sees the new manifest sees the new tables.
        for (tmp, path) in &temps {
            std::fs::rename(tmp, path).map_err(|e| {
                cleanup(&temps);
                StoreError::io(path, e)
            })?;
        }
        self.staged.clear();
        Ok(())
    }

    /// Recomputes the sha256 and size of every table file against the
    /// manifest, and checks that no table file is missing or unlisted.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        let mut problems = Vec::new();
        let mut rows = 0;
        for (name, entry) in &self.manifest.tables {
            let path = self.dir.join(&entry.file);
            match std::fs::read(&path) {
                Ok(bytes) => {
                    let got = sha256_hex(&bytes);
                    if got != entry.sha256 {
                        problems.push(format!(
                            "{}: sha256 {got} differs from the manifest's {}",
                            path.display(),
                            entry.sha256
                        ));
                    } else if bytes.len() as u64 != entry.bytes {
                        problems.push(format!(
                            "{}: size differs from the manifest",
                            path.display()
                        ));
                    }
                    rows += entry.rows;
                }
                Err(e) => problems.push(format!("{}: {e} (table {name})", path.display())),
            }
        }
        for t in tables::TABLES {
            let path = self.table_path(t);
            if path.exists() && !self.manifest.tables.contains_key(t.name) {
                problems.push(format!("{}: not listed in the manifest", path.display()));
            }
        }
        if problems.is_empty() {
            Ok(VerifyReport {
                files_checked: self.manifest.tables.len(),
                rows,
            })
        } else {
            Err(StoreError::Verify(problems.join("\n")))
        }
    }
}

fn options_text(s: &SourceRecord) -> String {
    serde_json::to_string(&s.options).unwrap_or_default()
}

/// Merges two key-sorted row lists. Incoming rows must already be sorted and
/// unique by key (the ingest adapters guarantee it; checked here anyway).
fn merge_sorted<R: CanonicalRow>(
    existing: Vec<R>,
    incoming: Vec<R>,
    report: &mut AddReport,
    existing_name: &str,
    incoming_name: &str,
) -> Result<Vec<R>, StoreError> {
    let table = R::TABLE.name;
    for w in incoming.windows(2) {
        if w[0].cmp_key(&w[1]) != std::cmp::Ordering::Less {
            return Err(StoreError::Conflict {
                table: table.into(),
                key: w[1].key_text(),
                existing: incoming_name.into(),
                incoming: format!("{incoming_name} (incoming rows not sorted and unique)"),
            });
        }
    }
    let mut out = Vec::with_capacity(existing.len() + incoming.len());
    let mut a = existing.into_iter().peekable();
    let mut b = incoming.into_iter().peekable();
    loop {
        let ord = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => x.cmp_key(y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => break,
        };
        match ord {
            std::cmp::Ordering::Less => out.extend(a.next()),
            std::cmp::Ordering::Greater => {
                report.added += 1;
                out.extend(b.next());
            }
            std::cmp::Ordering::Equal => {
                let (x, y) = (a.next(), b.next());
                if let (Some(x), Some(y)) = (x, y) {
                    if x != y {
                        return Err(StoreError::Conflict {
                            table: table.into(),
                            key: y.key_text(),
                            existing: existing_name.into(),
                            incoming: incoming_name.into(),
                        });
                    }
                    report.duplicates += 1;
                    out.push(x);
                }
            }
        }
    }
    Ok(out)
}

fn table_entry<R: CanonicalRow>(table: &TableDef, rows: &[R], bytes: &[u8]) -> TableEntry {
    let mut series: BTreeMap<String, SeriesEntry> = BTreeMap::new();
    for r in rows {
        let ts = r.ts().to_iso();
        series
            .entry(r.series())
            .and_modify(|e| {
                e.rows += 1;
                if ts < e.ts_min {
                    e.ts_min = ts.clone();
                }
                if ts > e.ts_max {
                    e.ts_max = ts.clone();
                }
            })
            .or_insert(SeriesEntry {
                rows: 1,
                ts_min: ts.clone(),
                ts_max: ts,
            });
    }
    TableEntry {
        file: table.file_name(),
        schema_version: table.version,
        rows: rows.len() as u64,
        bytes: bytes.len() as u64,
        sha256: sha256_hex(bytes),
        key_min: rows.first().map(|r| r.key_text()).unwrap_or_default(),
        key_max: rows.last().map(|r| r.key_text()).unwrap_or_default(),
        series,
    }
}
