//! The registry of canonical tables. Adding a table: one module with its
//! column list, encoder and decoder, and one line in [`TABLES`].

pub(crate) mod cols;
pub mod events;
pub mod lending_events;
pub mod liquidations;
pub mod liquidity;
pub mod loans;
pub mod observed_auctions;
pub mod observed_liquidations;
pub mod oracle_rounds;
pub mod perp_liquidations;
pub mod perp_outcomes;
pub mod perp_positions;
pub mod positions;
pub mod prices;
pub mod reserves;
pub mod series;

use std::path::Path;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use shortfall_core::Micros;

use crate::StoreError;

/// Logical column types of canonical tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    /// UTC microseconds, Arrow `Timestamp(Microsecond, None)` = DuckDB `TIMESTAMP`.
    Ts,
    /// Amount, `Decimal128(38, 18)`.
    Amount,
    /// Large integer id, `Decimal128(38, 0)` (Chainlink round ids exceed 64 bits).
    BigId,
    Int64,
    Bool,
    Utf8,
}

impl ColType {
    pub fn arrow(self) -> DataType {
        match self {
            ColType::Ts => DataType::Timestamp(TimeUnit::Microsecond, None),
            ColType::Amount => DataType::Decimal128(38, 18),
            ColType::BigId => DataType::Decimal128(38, 0),
            ColType::Int64 => DataType::Int64,
            ColType::Bool => DataType::Boolean,
            ColType::Utf8 => DataType::Utf8,
        }
    }

    pub fn sql(self) -> &'static str {
        match self {
            ColType::Ts => "TIMESTAMP",
            ColType::Amount => "DECIMAL(38,18)",
            ColType::BigId => "DECIMAL(38,0)",
            ColType::Int64 => "BIGINT",
            ColType::Bool => "BOOLEAN",
            ColType::Utf8 => "VARCHAR",
        }
    }
}

/// One column: name (units in the name), type, nullability, meaning.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColType,
    pub nullable: bool,
    pub doc: &'static str,
}

/// Shorthand for a [`Column`] in table definitions.
pub(crate) const fn col(
    name: &'static str,
    ty: ColType,
    nullable: bool,
    doc: &'static str,
) -> Column {
    Column {
        name,
        ty,
        nullable,
        doc,
    }
}

/// The outcome columns a sweep row and a stress row share (one replay's
/// summary figures), declared once.
pub(crate) mod outcome {
    use super::{col, ColType as T, Column};

    pub const BAD_DEBT_USD: Column = col(
        "bad_debt_usd",
        T::Amount,
        false,
        "bad debt (shortfall), USD",
    );
    pub const NPL_COUNT: Column = col("npl_count", T::Int64, false, "non-performing loans");
    pub const LIQUIDATED_VOLUME_USD: Column = col(
        "liquidated_volume_usd",
        T::Amount,
        false,
        "debt repaid by liquidations, USD",
    );
    pub const LIQUIDATION_COUNT: Column = col("liquidation_count", T::Int64, false, "liquidations");
    pub const PENALTY_USD: Column = col(
        "penalty_usd",
        T::Amount,
        false,
        "liquidation penalties paid by borrowers, USD",
    );
    pub const RESERVES_DRAWDOWN_USD: Column = col(
        "reserves_drawdown_usd",
        T::Amount,
        false,
        "largest fall of protocol reserves from a running peak, USD",
    );
}

/// A canonical table.
#[derive(Debug)]
pub struct TableDef {
    pub name: &'static str,
    pub version: u32,
    pub grain: &'static str,
    pub key: &'static [&'static str],
    pub columns: &'static [Column],
}

/// Every canonical table this version writes.
pub const TABLES: &[&TableDef] = &[
    &prices::TABLE,
    &oracle_rounds::TABLE,
    &events::TABLE,
    &liquidations::TABLE,
    &loans::TABLE,
    &series::TABLE,
    &lending_events::TABLE,
    &liquidity::TABLE,
    &reserves::TABLE,
    &observed_liquidations::TABLE,
    &observed_auctions::TABLE,
    &positions::TABLE,
    &perp_positions::TABLE,
    &perp_liquidations::TABLE,
    &perp_outcomes::POSITIONS,
    &perp_outcomes::ACCOUNTS,
    &perp_outcomes::INSURANCE_FUND,
];

/// Decimal128(38, 18) column from optional raw wad values.
pub(crate) fn wad_col(
    values: impl Iterator<Item = Option<i128>>,
) -> Result<arrow::array::ArrayRef, StoreError> {
    Ok(Arc::new(
        values
            .collect::<arrow::array::Decimal128Array>()
            .with_precision_and_scale(38, 18)?,
    ))
}

/// Looks a table up by name.
pub fn table(name: &str) -> Result<&'static TableDef, StoreError> {
    TABLES
        .iter()
        .copied()
        .find(|t| t.name == name)
        .ok_or_else(|| StoreError::UnknownTable(name.to_string()))
}

impl TableDef {
    /// Arrow schema with key-value metadata naming the table and schema version.
    pub fn schema(&self) -> SchemaRef {
        let fields: Vec<Field> = self
            .columns
            .iter()
            .map(|c| Field::new(c.name, c.ty.arrow(), c.nullable))
            .collect();
        let meta: std::collections::HashMap<String, String> = [
            ("shortfall.table".to_string(), self.name.to_string()),
            (
                "shortfall.schema_version".to_string(),
                self.version.to_string(),
            ),
        ]
        .into_iter()
        .collect();
        Arc::new(Schema::new_with_metadata(fields, meta))
    }

    /// File name of the table inside a dataset folder.
    pub fn file_name(&self) -> String {
        format!("{}.parquet", self.name)
    }

    /// Markdown description (used by `datasets schema` and `datasets/README.md`).
    pub fn markdown(&self) -> String {
        let mut s = format!(
            "### `{}` (schema version {})\n\nGrain: {}. Key: `{}`. Sorted by key.\n\n| column | type | null | meaning |\n|---|---|---|---|\n",
            self.name,
            self.version,
            self.grain,
            self.key.join(", ")
        );
        for c in self.columns {
            s.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                c.name,
                c.ty.sql(),
                if c.nullable { "yes" } else { "no" },
                c.doc
            ));
        }
        s
    }
}

/// A canonical row type with its table, key and codec.
pub trait CanonicalRow: Clone + PartialEq + Sized {
    type Key: Ord + Clone;
    const TABLE: &'static TableDef;
    fn key(&self) -> Self::Key;
    /// Compares keys without building them (the merge's hot path).
    fn cmp_key(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
    /// The key as text, for messages and manifests.
    fn key_text(&self) -> String;
    fn ts(&self) -> Micros;
    /// The series this row belongs to (`binance ETH/USDT`, `chainlink:USDC/USD`),
    /// summarised per series in the manifest.
    fn series(&self) -> String;
    fn encode(rows: &[Self]) -> Result<RecordBatch, StoreError>;
    /// Decodes one batch; `first_row` is the index of its first row in the file.
    fn decode(batch: &RecordBatch, path: &Path, first_row: usize) -> Result<Vec<Self>, StoreError>;
}

/// Typed column access with errors that name the file and column.
pub(crate) mod access {
    use std::path::Path;

    use arrow::array::{
        Array, BooleanArray, Decimal128Array, Int64Array, RecordBatch, StringArray,
        TimestampMicrosecondArray,
    };
    use arrow::datatypes::DataType;

    use crate::StoreError;

    fn column<'a, T: 'static>(
        batch: &'a RecordBatch,
        name: &str,
        path: &Path,
        want: &str,
    ) -> Result<&'a T, StoreError> {
        let col = batch
            .column_by_name(name)
            .ok_or_else(|| StoreError::BadFile {
                path: path.to_path_buf(),
                message: format!("missing column \"{name}\""),
            })?;
        col.as_any()
            .downcast_ref::<T>()
            .ok_or_else(|| StoreError::BadFile {
                path: path.to_path_buf(),
                message: format!(
                    "column \"{name}\" has type {}, expected {want}",
                    col.data_type()
                ),
            })
    }

    pub fn ts<'a>(
        b: &'a RecordBatch,
        n: &str,
        p: &Path,
    ) -> Result<&'a TimestampMicrosecondArray, StoreError> {
        column(b, n, p, "Timestamp(Microsecond, None)")
    }
    pub fn utf8<'a>(b: &'a RecordBatch, n: &str, p: &Path) -> Result<&'a StringArray, StoreError> {
        column(b, n, p, "Utf8")
    }
    pub fn int64<'a>(b: &'a RecordBatch, n: &str, p: &Path) -> Result<&'a Int64Array, StoreError> {
        column(b, n, p, "Int64")
    }
    pub fn boolean<'a>(
        b: &'a RecordBatch,
        n: &str,
        p: &Path,
    ) -> Result<&'a BooleanArray, StoreError> {
        column(b, n, p, "Boolean")
    }
    pub fn decimal<'a>(
        b: &'a RecordBatch,
        n: &str,
        p: &Path,
        scale: i8,
    ) -> Result<&'a Decimal128Array, StoreError> {
        let a: &Decimal128Array = column(b, n, p, "Decimal128")?;
        if a.data_type() != &DataType::Decimal128(38, scale) {
            return Err(StoreError::BadFile {
                path: p.to_path_buf(),
                message: format!(
                    "column \"{n}\" is {}, expected Decimal128(38, {scale})",
                    a.data_type()
                ),
            });
        }
        Ok(a)
    }

    /// Value of a non-nullable column, or an error naming row and column.
    pub fn required<T>(
        arr: &dyn Array,
        value: impl Fn(usize) -> T,
        i: usize,
        first_row: usize,
        col: &str,
        path: &Path,
    ) -> Result<T, StoreError> {
        if arr.is_null(i) {
            return Err(StoreError::BadValue {
                path: path.to_path_buf(),
                row: first_row + i,
                column: col.to_string(),
                message: "null in a non-nullable column".into(),
            });
        }
        Ok(value(i))
    }

    pub fn optional<T>(arr: &dyn Array, value: impl Fn(usize) -> T, i: usize) -> Option<T> {
        if arr.is_null(i) {
            None
        } else {
            Some(value(i))
        }
    }

    /// Parses a stable enum name, or an error naming row, column and value.
    pub fn parse_enum<T>(
        s: &str,
        parse: impl Fn(&str) -> Option<T>,
        i: usize,
        first_row: usize,
        col: &str,
        path: &Path,
    ) -> Result<T, StoreError> {
        parse(s).ok_or_else(|| StoreError::BadValue {
            path: path.to_path_buf(),
            row: first_row + i,
            column: col.to_string(),
            message: format!("unknown value \"{s}\""),
        })
    }

    /// A non-negative Int64 as an unsigned count.
    pub fn unsigned(
        v: i64,
        i: usize,
        first_row: usize,
        col: &str,
        path: &Path,
    ) -> Result<u64, StoreError> {
        u64::try_from(v).map_err(|_| StoreError::BadValue {
            path: path.to_path_buf(),
            row: first_row + i,
            column: col.to_string(),
            message: format!("negative value {v}"),
        })
    }
}
