//! `liquidity`: market depth per asset over time, for the replay's
//! liquidity model (`datasets.liquidity`).

use std::path::Path;

use arrow::array::RecordBatch;
use shortfall_core::{LiquidityRow, Micros};

use super::cols::{self, Reader};
use super::{col, wad_col, CanonicalRow, ColType as T, TableDef};
use crate::StoreError;

pub const TABLE: TableDef = TableDef {
    name: "liquidity",
    version: 1,
    grain: "the depth of one asset's market at one time",
    key: &["ts", "venue", "asset"],
    columns: &[
        col("ts", T::Ts, false, "time of the observation, UTC"),
        col("venue", T::Utf8, false, "venue or pool"),
        col("asset", T::Utf8, false, "asset sold into the market"),
        col("quote", T::Utf8, false, "what it is sold for"),
        col(
            "depth_usd",
            T::Amount,
            false,
            "USD depth the replay's liquidity model uses (constant product: USD on each side)",
        ),
    ],
};

impl CanonicalRow for LiquidityRow {
    type Key = (Micros, String, String);
    const TABLE: &'static TableDef = &TABLE;

    fn key(&self) -> Self::Key {
        (self.ts, self.venue.clone(), self.asset.clone())
    }

    fn cmp_key(&self, o: &Self) -> std::cmp::Ordering {
        (self.ts, &self.venue, &self.asset).cmp(&(o.ts, &o.venue, &o.asset))
    }

    fn key_text(&self) -> String {
        format!("({}, {}, {})", self.ts, self.venue, self.asset)
    }

    fn ts(&self) -> Micros {
        self.ts
    }

    fn series(&self) -> String {
        format!("{} {}/{}", self.venue, self.asset, self.quote)
    }

    fn encode(rows: &[Self]) -> Result<RecordBatch, StoreError> {
        let r = rows.iter();
        let cols = vec![
            cols::ts(r.clone().map(|x| x.ts)),
            cols::text(r.clone().map(|x| x.venue.as_str())),
            cols::text(r.clone().map(|x| x.asset.as_str())),
            cols::text(r.clone().map(|x| x.quote.as_str())),
            wad_col(r.clone().map(|x| Some(x.depth_usd.0)))?,
        ];
        Ok(RecordBatch::try_new(TABLE.schema(), cols)?)
    }

    fn decode(batch: &RecordBatch, path: &Path, first: usize) -> Result<Vec<Self>, StoreError> {
        let c = Reader { batch, path, first };
        (0..batch.num_rows())
            .map(|i| {
                Ok(LiquidityRow {
                    ts: c.ts("ts", i)?,
                    venue: c.text("venue", i)?,
                    asset: c.text("asset", i)?,
                    quote: c.text("quote", i)?,
                    depth_usd: c.wad("depth_usd", i)?,
                })
            })
            .collect()
    }
}
