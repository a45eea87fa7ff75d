//! Column builders and a row reader shared by the tables that have many
//! optional columns (`lending_events`, `reserves`, `observed_liquidations`).

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Decimal128Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use shortfall_core::{Micros, Wad};

use super::access;
use crate::StoreError;

pub(crate) fn text<'r>(values: impl Iterator<Item = &'r str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(values))
}

pub(crate) fn opt_text<'r>(values: impl Iterator<Item = Option<&'r str>>) -> ArrayRef {
    Arc::new(values.collect::<StringArray>())
}

pub(crate) fn ts(values: impl Iterator<Item = Micros>) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from_iter_values(
        values.map(|t| t.0),
    ))
}

pub(crate) fn opt_ts(values: impl Iterator<Item = Option<Micros>>) -> ArrayRef {
    Arc::new(
        values
            .map(|t| t.map(|t| t.0))
            .collect::<TimestampMicrosecondArray>(),
    )
}

pub(crate) fn opt_i64(values: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    Arc::new(values.collect::<Int64Array>())
}

pub(crate) fn boolean(values: impl Iterator<Item = bool>) -> ArrayRef {
    Arc::new(values.map(Some).collect::<BooleanArray>())
}

pub(crate) fn opt_bool(values: impl Iterator<Item = Option<bool>>) -> ArrayRef {
    Arc::new(values.collect::<BooleanArray>())
}

/// `DECIMAL(38,0)` from optional unsigned integers; values of 10^38 and more
/// do not fit and are an error naming the table and column.
pub(crate) fn opt_big(
    values: impl Iterator<Item = Option<u128>>,
    table: &str,
    column: &str,
) -> Result<ArrayRef, StoreError> {
    let mut out = Vec::new();
    for v in values {
        out.push(match v {
            Some(u) if u >= 10u128.pow(38) => {
                return Err(StoreError::BadFile {
                    path: table.into(),
                    message: format!("{column} {u} does not fit DECIMAL(38,0)"),
                })
            }
            Some(u) => Some(u as i128),
            None => None,
        });
    }
    Ok(Arc::new(
        Decimal128Array::from(out).with_precision_and_scale(38, 0)?,
    ))
}

/// Reads cells of one batch by column name, with errors naming the file,
/// the row (counted from the start of the file) and the column.
pub(crate) struct Reader<'a> {
    pub batch: &'a RecordBatch,
    pub path: &'a Path,
    pub first: usize,
}

impl Reader<'_> {
    fn bad(&self, i: usize, column: &str, message: String) -> StoreError {
        StoreError::BadValue {
            path: self.path.to_path_buf(),
            row: self.first + i,
            column: column.to_string(),
            message,
        }
    }

    fn need<T>(&self, v: Option<T>, i: usize, column: &str) -> Result<T, StoreError> {
        v.ok_or_else(|| self.bad(i, column, "null in a non-nullable column".into()))
    }

    pub fn opt_text(&self, column: &str, i: usize) -> Result<Option<String>, StoreError> {
        let a = access::utf8(self.batch, column, self.path)?;
        Ok((!a.is_null(i)).then(|| a.value(i).to_string()))
    }

    pub fn text(&self, column: &str, i: usize) -> Result<String, StoreError> {
        let v = self.opt_text(column, i)?;
        self.need(v, i, column)
    }

    pub fn opt_wad(&self, column: &str, i: usize) -> Result<Option<Wad>, StoreError> {
        let a = access::decimal(self.batch, column, self.path, 18)?;
        Ok((!a.is_null(i)).then(|| Wad(a.value(i))))
    }

    pub fn wad(&self, column: &str, i: usize) -> Result<Wad, StoreError> {
        let v = self.opt_wad(column, i)?;
        self.need(v, i, column)
    }

    pub fn opt_big(&self, column: &str, i: usize) -> Result<Option<u128>, StoreError> {
        let a = access::decimal(self.batch, column, self.path, 0)?;
        if a.is_null(i) {
            return Ok(None);
        }
        let v = a.value(i);
        u128::try_from(v)
            .map(Some)
            .map_err(|_| self.bad(i, column, format!("negative value {v}")))
    }

    pub fn opt_i64(&self, column: &str, i: usize) -> Result<Option<i64>, StoreError> {
        let a = access::int64(self.batch, column, self.path)?;
        Ok((!a.is_null(i)).then(|| a.value(i)))
    }

    pub fn int64(&self, column: &str, i: usize) -> Result<i64, StoreError> {
        let v = self.opt_i64(column, i)?;
        self.need(v, i, column)
    }

    pub fn ts(&self, column: &str, i: usize) -> Result<Micros, StoreError> {
        let a = access::ts(self.batch, column, self.path)?;
        let v = (!a.is_null(i)).then(|| Micros(a.value(i)));
        self.need(v, i, column)
    }

    pub fn opt_ts(&self, column: &str, i: usize) -> Result<Option<Micros>, StoreError> {
        let a = access::ts(self.batch, column, self.path)?;
        Ok((!a.is_null(i)).then(|| Micros(a.value(i))))
    }

    pub fn opt_bool(&self, column: &str, i: usize) -> Result<Option<bool>, StoreError> {
        let a = access::boolean(self.batch, column, self.path)?;
        Ok((!a.is_null(i)).then(|| a.value(i)))
    }

    pub fn boolean(&self, column: &str, i: usize) -> Result<bool, StoreError> {
        let v = self.opt_bool(column, i)?;
        self.need(v, i, column)
    }

    /// A text cell parsed into an enum (or any type), with the value in the error.
    pub fn parse<T, E: std::fmt::Display>(
        &self,
        column: &str,
        i: usize,
        parse: impl Fn(&str) -> Result<T, E>,
    ) -> Result<T, StoreError> {
        let s = self.text(column, i)?;
        parse(&s).map_err(|e| self.bad(i, column, e.to_string()))
    }
}

/// Reads every row of a parquet file with `row(reader, i)`: for the tables
/// outside the canonical registry (`sweep.parquet`, `stress.parquet`).
pub(crate) fn read_file<T>(
    path: &Path,
    row: impl Fn(&Reader<'_>, usize) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let file = std::fs::File::open(path).map_err(|e| StoreError::io(path, e))?;
    let pq = |source| StoreError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(pq)?
        .build()
        .map_err(pq)?;
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch?;
        let c = Reader {
            batch: &batch,
            path,
            first: rows.len(),
        };
        for i in 0..batch.num_rows() {
            rows.push(row(&c, i)?);
        }
    }
    Ok(rows)
}

impl Reader<'_> {
    /// A non-negative integer cell.
    pub fn count(&self, column: &str, i: usize) -> Result<u64, StoreError> {
        let v = self.int64(column, i)?;
        u64::try_from(v).map_err(|_| self.bad(i, column, format!("negative value {v}")))
    }

    /// A non-negative integer cell below 2^32.
    pub fn count32(&self, column: &str, i: usize) -> Result<u32, StoreError> {
        let v = self.count(column, i)?;
        u32::try_from(v).map_err(|_| self.bad(i, column, format!("{v} out of range")))
    }
}
