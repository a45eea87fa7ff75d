//! `sweep.parquet`: one row per variant and crisis of a policy sweep, with
//! one column per swept parameter (named by its scenario key), so DuckDB can
//! group and filter by them directly.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{Field, Schema};
use shortfall_core::{SweepParam, SweepRow};

use crate::tables::cols;
use crate::tables::{col, outcome, wad_col, ColType as T, TableDef};
use crate::StoreError;

/// The fixed columns; the parameter columns follow them, in grid order:
/// `BIGINT` when every value is an integer, `DOUBLE` when every value is a
/// number, else `VARCHAR` (TOML text).
pub const TABLE: TableDef = TableDef {
    name: "sweep",
    version: 1,
    grain: "one variant of a policy sweep replayed through one crisis",
    key: &["variant", "scenario"],
    columns: &[
        col(
            "variant",
            T::Int64,
            false,
            "index of the variant in the grid's expansion order",
        ),
        col(
            "variant_id",
            T::Utf8,
            false,
            "v<index>-<hash of the sets>, for `sweep --explain`",
        ),
        col("scenario", T::Utf8, false, "crisis scenario name"),
        col(
            "sets",
            T::Utf8,
            false,
            "the variant's settings as a JSON list of [key, TOML value] pairs",
        ),
        col("run_id", T::Utf8, false, "run_id of the variant's full run"),
        col("positions", T::Int64, false, "positions in the book"),
        col(
            "initial_debt_usd",
            T::Amount,
            false,
            "debt at the start, USD",
        ),
        outcome::BAD_DEBT_USD,
        outcome::NPL_COUNT,
        outcome::LIQUIDATED_VOLUME_USD,
        outcome::LIQUIDATION_COUNT,
        outcome::PENALTY_USD,
        col("protocol_fees_usd", T::Amount, false, "protocol fees, USD"),
        outcome::RESERVES_DRAWDOWN_USD,
    ],
};

fn number(v: &str) -> Option<f64> {
    v.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// Encodes rows (any order is kept as given) as parquet bytes. `params`:
/// the grid's keys, in order; every row must have exactly these keys.
pub fn encode_sweep(
    rows: &[SweepRow],
    params: &[String],
    path: &Path,
) -> Result<Vec<u8>, StoreError> {
    let bad = |m: String| StoreError::BadFile {
        path: path.to_path_buf(),
        message: m,
    };
    for r in rows {
        let keys: Vec<&str> = r.params.iter().map(|p| p.key.as_str()).collect();
        if keys != params.iter().map(String::as_str).collect::<Vec<_>>() {
            return Err(bad(format!(
                "variant {} of {}: parameters {keys:?}, expected {params:?}",
                r.variant, r.scenario
            )));
        }
    }
    let i64s = |f: &dyn Fn(&SweepRow) -> i64| -> ArrayRef {
        Arc::new(Int64Array::from_iter_values(rows.iter().map(f)))
    };
    let r = rows.iter();
    let sets: Vec<String> = rows
        .iter()
        .map(|x| {
            let pairs: Vec<[&str; 2]> = x
                .params
                .iter()
                .map(|p| [p.key.as_str(), p.value.as_str()])
                .collect();
            serde_json::to_string(&pairs).expect("strings serialise")
        })
        .collect();
    let mut columns: Vec<ArrayRef> = vec![
        i64s(&|x| x.variant as i64),
        cols::text(r.clone().map(|x| x.variant_id.as_str())),
        cols::text(r.clone().map(|x| x.scenario.as_str())),
        cols::text(sets.iter().map(String::as_str)),
        cols::text(r.clone().map(|x| x.run_id.as_str())),
        i64s(&|x| x.positions as i64),
        wad_col(r.clone().map(|x| Some(x.initial_debt_usd.0)))?,
        wad_col(r.clone().map(|x| Some(x.bad_debt_usd.0)))?,
        i64s(&|x| x.npl_count as i64),
        wad_col(r.clone().map(|x| Some(x.liquidated_volume_usd.0)))?,
        i64s(&|x| x.liquidation_count as i64),
        wad_col(r.clone().map(|x| Some(x.penalty_usd.0)))?,
        wad_col(r.clone().map(|x| Some(x.protocol_fees_usd.0)))?,
        wad_col(r.clone().map(|x| Some(x.reserves_drawdown_usd.0)))?,
    ];
    let mut fields: Vec<Field> = TABLE
        .columns
        .iter()
        .map(|c| Field::new(c.name, c.ty.arrow(), c.nullable))
        .collect();
    for (k, key) in params.iter().enumerate() {
        if TABLE.columns.iter().any(|c| c.name == key) {
            return Err(bad(format!(
                "parameter `{key}` has the name of a fixed column"
            )));
        }
        let values: Vec<&str> = rows.iter().map(|x| x.params[k].value.as_str()).collect();
        if values.iter().all(|v| v.parse::<i64>().is_ok()) {
            fields.push(Field::new(key, arrow::datatypes::DataType::Int64, false));
            columns.push(Arc::new(Int64Array::from_iter_values(
                values.iter().map(|v| v.parse::<i64>().expect("checked")),
            )));
        } else if values.iter().all(|v| number(v).is_some()) {
            fields.push(Field::new(key, arrow::datatypes::DataType::Float64, false));
            columns.push(Arc::new(Float64Array::from_iter_values(
                values.iter().map(|v| number(v).expect("checked")),
            )));
        } else {
            fields.push(Field::new(key, arrow::datatypes::DataType::Utf8, false));
            columns.push(Arc::new(StringArray::from_iter_values(values)));
        }
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?;
    crate::parquet_io::encode(&batch, &TABLE, path)
}

/// Reads a `sweep.parquet` (or one shard's part) back into rows.
pub fn read_sweep(path: &Path) -> Result<Vec<SweepRow>, StoreError> {
    cols::read_file(path, |c, i| {
        let pairs: Vec<[String; 2]> = c.parse("sets", i, |s| serde_json::from_str(s))?;
        Ok(SweepRow {
            variant: c.count32("variant", i)?,
            variant_id: c.text("variant_id", i)?,
            scenario: c.text("scenario", i)?,
            params: pairs
                .into_iter()
                .map(|[key, value]| SweepParam { key, value })
                .collect(),
            run_id: c.text("run_id", i)?,
            positions: c.count("positions", i)?,
            initial_debt_usd: c.wad("initial_debt_usd", i)?,
            bad_debt_usd: c.wad("bad_debt_usd", i)?,
            npl_count: c.count("npl_count", i)?,
            liquidated_volume_usd: c.wad("liquidated_volume_usd", i)?,
            liquidation_count: c.count("liquidation_count", i)?,
            penalty_usd: c.wad("penalty_usd", i)?,
            protocol_fees_usd: c.wad("protocol_fees_usd", i)?,
            reserves_drawdown_usd: c.wad("reserves_drawdown_usd", i)?,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use shortfall_core::Wad;
    use std::fs::File;

    fn row(v: u32, lt: &str, mode: &str) -> SweepRow {
        SweepRow {
            variant: v,
            variant_id: format!("v{v}-00000000"),
            scenario: "crisis <b>".into(),
            params: vec![
                SweepParam {
                    key: "policy.assets.ETH.liquidation_threshold".into(),
                    value: lt.into(),
                },
                SweepParam {
                    key: "oracle.default.mode".into(),
                    value: mode.into(),
                },
            ],
            run_id: "abc".into(),
            positions: 10,
            initial_debt_usd: Wad::from_int(1000),
            bad_debt_usd: Wad(1),
            npl_count: 1,
            liquidated_volume_usd: Wad::from_int(3),
            liquidation_count: 2,
            penalty_usd: Wad::ZERO,
            protocol_fees_usd: Wad::ZERO,
            reserves_drawdown_usd: Wad(1),
        }
    }

    #[test]
    fn round_trips_with_typed_parameter_columns() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sweep.parquet");
        let rows = vec![row(0, "0.8", "\"push\""), row(1, "0.825", "\"twap\"")];
        let ints = vec![row(0, "600", "1"), row(1, "10800", "2")];
        let keys: Vec<String> = ints[0].params.iter().map(|p| p.key.clone()).collect();
        std::fs::write(&p, encode_sweep(&ints, &keys, &p).unwrap()).unwrap();
        assert_eq!(read_sweep(&p).unwrap(), ints);
        let file = File::open(&p).unwrap();
        let schema = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .schema()
            .clone();
        assert_eq!(
            schema
                .field_with_name("oracle.default.mode")
                .unwrap()
                .data_type(),
            &arrow::datatypes::DataType::Int64
        );
        let keys: Vec<String> = rows[0].params.iter().map(|p| p.key.clone()).collect();
        let bytes = encode_sweep(&rows, &keys, &p).unwrap();
        assert_eq!(bytes, encode_sweep(&rows, &keys, &p).unwrap());
        std::fs::write(&p, &bytes).unwrap();
        assert_eq!(read_sweep(&p).unwrap(), rows);
        let file = File::open(&p).unwrap();
        let b = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        let schema = b.schema().clone();
        let f = |n: &str| schema.field_with_name(n).unwrap().data_type().clone();
        assert_eq!(
            f("policy.assets.ETH.liquidation_threshold"),
            arrow::datatypes::DataType::Float64
        );
        assert_eq!(f("oracle.default.mode"), arrow::datatypes::DataType::Utf8);
    }

    #[test]
    fn rows_with_other_keys_are_an_error() {
        let p = Path::new("sweep.parquet");
        let e = encode_sweep(&[row(0, "0.8", "1")], &["x".into()], p).unwrap_err();
        assert!(e.to_string().contains("expected [\"x\"]"), "{e}");
    }
}
