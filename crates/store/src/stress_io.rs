//! `stress.parquet`: one row per simulated path of a stress run.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch};
use arrow::datatypes::{Field, Schema};
use shortfall_core::StressRow;

use crate::tables::cols;
use crate::tables::{col, outcome, wad_col, ColType as T, TableDef};
use crate::StoreError;

pub const TABLE: TableDef = TableDef {
    name: "stress",
    version: 1,
    grain: "one simulated path of a stress run",
    key: &["path"],
    columns: &[
        col("path", T::Int64, false, "path index (0-based)"),
        outcome::BAD_DEBT_USD,
        outcome::NPL_COUNT,
        outcome::LIQUIDATED_VOLUME_USD,
        outcome::LIQUIDATION_COUNT,
        outcome::PENALTY_USD,
        outcome::RESERVES_DRAWDOWN_USD,
        col("run_id", T::Utf8, false, "run_id of the path's full run"),
    ],
};

/// Encodes rows (order kept) as parquet bytes.
pub fn encode_stress(rows: &[StressRow], path: &Path) -> Result<Vec<u8>, StoreError> {
    let i64s = |f: &dyn Fn(&StressRow) -> i64| -> ArrayRef {
        Arc::new(Int64Array::from_iter_values(rows.iter().map(f)))
    };
    let r = rows.iter();
    let columns: Vec<ArrayRef> = vec![
        i64s(&|x| x.path as i64),
        wad_col(r.clone().map(|x| Some(x.bad_debt_usd.0)))?,
        i64s(&|x| x.npl_count as i64),
        wad_col(r.clone().map(|x| Some(x.liquidated_volume_usd.0)))?,
        i64s(&|x| x.liquidation_count as i64),
        wad_col(r.clone().map(|x| Some(x.penalty_usd.0)))?,
        wad_col(r.clone().map(|x| Some(x.reserves_drawdown_usd.0)))?,
        cols::text(r.clone().map(|x| x.run_id.as_str())),
    ];
    let fields: Vec<Field> = TABLE
        .columns
        .iter()
        .map(|c| Field::new(c.name, c.ty.arrow(), c.nullable))
        .collect();
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?;
    crate::parquet_io::encode(&batch, &TABLE, path)
}

/// Reads a `stress.parquet` back into rows.
pub fn read_stress(path: &Path) -> Result<Vec<StressRow>, StoreError> {
    cols::read_file(path, |c, i| {
        Ok(StressRow {
            path: c.count32("path", i)?,
            bad_debt_usd: c.wad("bad_debt_usd", i)?,
            npl_count: c.count("npl_count", i)?,
            liquidated_volume_usd: c.wad("liquidated_volume_usd", i)?,
            liquidation_count: c.count("liquidation_count", i)?,
            penalty_usd: c.wad("penalty_usd", i)?,
            reserves_drawdown_usd: c.wad("reserves_drawdown_usd", i)?,
            run_id: c.text("run_id", i)?,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use shortfall_core::Wad;

    #[test]
    fn round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("stress.parquet");
        let rows: Vec<StressRow> = (0..3)
            .map(|k| StressRow {
                path: k,
                bad_debt_usd: Wad(k as i128 * 7),
                npl_count: k as u64,
                liquidated_volume_usd: Wad::from_int(3),
                liquidation_count: 2,
                penalty_usd: Wad::ZERO,
                reserves_drawdown_usd: Wad(1),
                run_id: format!("r{k}"),
            })
            .collect();
        let bytes = encode_stress(&rows, &p).unwrap();
        assert_eq!(bytes, encode_stress(&rows, &p).unwrap());
        std::fs::write(&p, bytes).unwrap();
        assert_eq!(read_stress(&p).unwrap(), rows);
    }
}
