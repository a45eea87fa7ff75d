//! Deterministic parquet encoding and atomic file writes.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use crate::tables::{CanonicalRow, TableDef};
use crate::StoreError;

/// Rows per row group: large enough for good compression, small enough to stream.
const ROW_GROUP: usize = 1 << 20;

pub use shortfall_core::sha256_hex;

/// Encodes a batch as a zstd parquet file in memory. The output depends only
/// on the rows and the parquet crate version, so re-runs are byte-identical.
pub fn encode(batch: &RecordBatch, table: &TableDef, path: &Path) -> Result<Vec<u8>, StoreError> {
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).map_err(|e| {
            StoreError::Parquet {
                path: path.to_path_buf(),
                source: e,
            }
        })?))
        .set_max_row_group_row_count(Some(ROW_GROUP))
        .set_key_value_metadata(Some(vec![
            KeyValue::new("shortfall.table".into(), table.name.to_string()),
            KeyValue::new("shortfall.schema_version".into(), table.version.to_string()),
        ]))
        .build();
    let pq = |source| StoreError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let mut buf = Vec::new();
    let mut w = ArrowWriter::try_new(&mut buf, batch.schema(), Some(props)).map_err(pq)?;
    w.write(batch).map_err(pq)?;
    w.close().map_err(pq)?;
    Ok(buf)
}

/// Temp name beside `path`, so the final rename stays on one file system.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Writes `bytes` to a temp file beside `path`, syncs it, then renames it over
/// `path`: readers see the old file or the new one, never a partial one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let tmp = temp_path(path);
    write_synced(&tmp, bytes)?;
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        StoreError::io(path, e)
    })
}

/// Writes and fsyncs a file (no rename).
pub fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let res = (|| {
        let mut f = File::create(path)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    res.map_err(|e| {
        let _ = fs::remove_file(path);
        StoreError::io(path, e)
    })
}

/// Reads a canonical table file, checking its schema as it decodes.
pub fn read_rows<R: CanonicalRow>(path: &Path) -> Result<Vec<R>, StoreError> {
    let file = File::open(path).map_err(|e| StoreError::io(path, e))?;
    let pq = |source| StoreError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(pq)?
        .with_batch_size(64 * 1024)
        .build()
        .map_err(pq)?;
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch?;
        let first = rows.len();
        rows.extend(R::decode(&batch, path, first)?);
    }
    Ok(rows)
}
