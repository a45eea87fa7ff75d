//! `series`: per-asset time buckets of a replay run (prices, liquidations, bad debt).

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray, TimestampMicrosecondArray};
use shortfall_core::run::SeriesPoint;
use shortfall_core::{Micros, Wad};

use super::access::{self, optional, required};
use super::{wad_col, CanonicalRow, ColType, Column, TableDef};
use crate::StoreError;

pub const TABLE: TableDef = TableDef {
    name: "series",
    version: 1,
    grain: "one time bucket of one asset in a replay run (`series.parquet` of a run folder)",
    key: &["ts", "asset"],
    columns: &[
        Column {
            name: "ts",
            ty: ColType::Ts,
            nullable: false,
            doc: "end of the bucket, UTC",
        },
        Column {
            name: "asset",
            ty: ColType::Utf8,
            nullable: false,
            doc: "asset symbol",
        },
        Column {
            name: "market_price_usd",
            ty: ColType::Amount,
            nullable: true,
            doc: "market price at the end of the bucket, USD per token",
        },
        Column {
            name: "oracle_price_usd",
            ty: ColType::Amount,
            nullable: true,
            doc: "oracle answer at the end of the bucket, USD per token",
        },
        Column {
            name: "liquidated_usd",
            ty: ColType::Amount,
            nullable: false,
            doc: "collateral of this asset seized in the bucket, at oracle prices",
        },
        Column {
            name: "cum_bad_debt_usd",
            ty: ColType::Amount,
            nullable: false,
            doc: "realised bad debt (all assets) up to the end of the bucket",
        },
    ],
};

impl CanonicalRow for SeriesPoint {
    type Key = (Micros, String);
    const TABLE: &'static TableDef = &TABLE;

    fn key(&self) -> Self::Key {
        (self.ts, self.asset.clone())
    }

    fn key_text(&self) -> String {
        format!("({}, {})", self.ts, self.asset)
    }

    fn ts(&self) -> Micros {
        self.ts
    }

    fn series(&self) -> String {
        self.asset.clone()
    }

    fn encode(rows: &[Self]) -> Result<RecordBatch, StoreError> {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(TimestampMicrosecondArray::from_iter_values(
                rows.iter().map(|r| r.ts.0),
            )),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.asset))),
            wad_col(rows.iter().map(|r| r.market_price.map(|v| v.0)))?,
            wad_col(rows.iter().map(|r| r.oracle_price.map(|v| v.0)))?,
            wad_col(rows.iter().map(|r| Some(r.liquidated_usd.0)))?,
            wad_col(rows.iter().map(|r| Some(r.cum_bad_debt_usd.0)))?,
        ];
        Ok(RecordBatch::try_new(TABLE.schema(), cols)?)
    }

    fn decode(b: &RecordBatch, p: &Path, first: usize) -> Result<Vec<Self>, StoreError> {
        let ts = access::ts(b, "ts", p)?;
        let asset = access::utf8(b, "asset", p)?;
        let market = access::decimal(b, "market_price_usd", p, 18)?;
        let oracle = access::decimal(b, "oracle_price_usd", p, 18)?;
        let liq = access::decimal(b, "liquidated_usd", p, 18)?;
        let bad = access::decimal(b, "cum_bad_debt_usd", p, 18)?;
        (0..b.num_rows())
            .map(|i| {
                Ok(SeriesPoint {
                    ts: Micros(required(ts, |i| ts.value(i), i, first, "ts", p)?),
                    asset: required(asset, |i| asset.value(i).to_string(), i, first, "asset", p)?,
                    market_price: optional(market, |i| Wad(market.value(i)), i),
                    oracle_price: optional(oracle, |i| Wad(oracle.value(i)), i),
                    liquidated_usd: Wad(required(
                        liq,
                        |i| liq.value(i),
                        i,
                        first,
                        "liquidated_usd",
                        p,
                    )?),
                    cum_bad_debt_usd: Wad(required(
                        bad,
                        |i| bad.value(i),
                        i,
                        first,
                        "cum_bad_debt_usd",
                        p,
                    )?),
                })
            })
            .collect()
    }
}
