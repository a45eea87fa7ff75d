//! `perp_liquidations`: liquidations a perp venue reported (e.g.
//! Hyperliquid's liquidation export), kept for forensics: compare them with
//! a replay's `perp_positions.parquet`, count them per day, size them.

use std::path::Path;

use arrow::array::RecordBatch;
use shortfall_core::{MarginMode, Micros, PerpLiquidationRow};

use super::cols::{self, Reader};
use super::{col, wad_col, CanonicalRow, ColType as T, TableDef};
use crate::StoreError;

pub const TABLE: TableDef = TableDef {
    name: "perp_liquidations",
    version: 1,
    grain: "one liquidation of one account as a perp venue reported it",
    key: &["ts", "account"],
    columns: &[
        col("ts", T::Ts, false, "time of the liquidation (UTC)"),
        col("venue", T::Utf8, false, "venue, e.g. `hyperliquid`"),
        col("account", T::Utf8, false, "liquidated account (untrusted text)"),
        col(
            "notional_usd",
            T::Amount,
            false,
            "notional of the liquidated position(s), USD, as reported",
        ),
        col(
            "account_value_usd",
            T::Amount,
            false,
            "account value at liquidation, USD, as reported (for isolated positions the venue's figure may be the whole account's)",
        ),
        col("margin_mode", T::Utf8, false, "`isolated` or `cross`"),
    ],
};

impl CanonicalRow for PerpLiquidationRow {
    type Key = (Micros, String);
    const TABLE: &'static TableDef = &TABLE;

    fn key(&self) -> Self::Key {
        (self.ts, self.account.clone())
    }

    fn cmp_key(&self, o: &Self) -> std::cmp::Ordering {
        (self.ts, &self.account).cmp(&(o.ts, &o.account))
    }

    fn key_text(&self) -> String {
        format!("({}, {:?})", self.ts, self.account)
    }

    fn ts(&self) -> Micros {
        self.ts
    }

    fn series(&self) -> String {
        self.venue.clone()
    }

    fn encode(rows: &[Self]) -> Result<RecordBatch, StoreError> {
        let r = rows.iter();
        let cols = vec![
            cols::ts(r.clone().map(|x| x.ts)),
            cols::text(r.clone().map(|x| x.venue.as_str())),
            cols::text(r.clone().map(|x| x.account.as_str())),
            wad_col(r.clone().map(|x| Some(x.notional_usd.0)))?,
            wad_col(r.clone().map(|x| Some(x.account_value_usd.0)))?,
            cols::text(r.clone().map(|x| x.margin_mode.as_str())),
        ];
        Ok(RecordBatch::try_new(TABLE.schema(), cols)?)
    }

    fn decode(batch: &RecordBatch, path: &Path, first: usize) -> Result<Vec<Self>, StoreError> {
        let c = Reader { batch, path, first };
        (0..batch.num_rows())
            .map(|i| {
                Ok(PerpLiquidationRow {
                    ts: c.ts("ts", i)?,
                    venue: c.text("venue", i)?,
                    account: c.text("account", i)?,
                    notional_usd: c.wad("notional_usd", i)?,
                    account_value_usd: c.wad("account_value_usd", i)?,
                    margin_mode: c.parse("margin_mode", i, |s| {
                        MarginMode::parse(s).ok_or("expected `isolated` or `cross`")
                    })?,
                })
            })
            .collect()
    }
}
