//! `reserves`: the parameters of one asset of a lending market.

use std::path::Path;

use arrow::array::RecordBatch;
use shortfall_core::{Micros, Reserve};

use super::cols::{self, Reader};
use super::{col, wad_col, CanonicalRow, ColType as T, TableDef};
use crate::StoreError;

pub const TABLE: TableDef = TableDef {
    name: "reserves",
    version: 1,
    grain: "one asset of a lending market with its risk parameters",
    key: &["protocol", "market", "asset"],
    columns: &[
        col("protocol", T::Utf8, false, "`aave_v2`, `compound_v2`, ..."),
        col(
            "market",
            T::Utf8,
            false,
            "pool or comptroller (untrusted text)",
        ),
        col("asset", T::Utf8, false, "asset symbol (untrusted text)"),
        col("decimals", T::Int64, false, "token decimals"),
        col(
            "liquidation_threshold",
            T::Amount,
            false,
            "fraction of collateral value counted in the health factor",
        ),
        col(
            "liquidation_bonus",
            T::Amount,
            false,
            "liquidator bonus on seized collateral (0.05 for Aave's 10500)",
        ),
        col("usable_as_collateral", T::Bool, true, "collateral enabled"),
        col("borrowing_enabled", T::Bool, true, "borrowing enabled"),
    ],
};

impl CanonicalRow for Reserve {
    type Key = (String, String, String);
    const TABLE: &'static TableDef = &TABLE;

    fn key(&self) -> Self::Key {
        (
            self.protocol.clone(),
            self.market.clone(),
            self.asset.clone(),
        )
    }

    fn key_text(&self) -> String {
        format!("({}, {:?}, {:?})", self.protocol, self.market, self.asset)
    }

    /// Reserve parameters carry no time of their own.
    fn ts(&self) -> Micros {
        Micros(0)
    }

    fn series(&self) -> String {
        format!("{} {}", self.protocol, self.market)
    }

    fn encode(rows: &[Self]) -> Result<RecordBatch, StoreError> {
        let r = rows.iter();
        let cols = vec![
            cols::text(r.clone().map(|x| x.protocol.as_str())),
            cols::text(r.clone().map(|x| x.market.as_str())),
            cols::text(r.clone().map(|x| x.asset.as_str())),
            cols::opt_i64(r.clone().map(|x| Some(i64::from(x.decimals)))),
            wad_col(r.clone().map(|x| Some(x.liquidation_threshold.0)))?,
            wad_col(r.clone().map(|x| Some(x.liquidation_bonus.0)))?,
            cols::opt_bool(r.clone().map(|x| x.usable_as_collateral)),
            cols::opt_bool(r.clone().map(|x| x.borrowing_enabled)),
        ];
        Ok(RecordBatch::try_new(TABLE.schema(), cols)?)
    }

    fn decode(batch: &RecordBatch, path: &Path, first: usize) -> Result<Vec<Self>, StoreError> {
        let c = Reader { batch, path, first };
        (0..batch.num_rows())
            .map(|i| {
                let d = c.int64("decimals", i)?;
                Ok(Reserve {
                    protocol: c.text("protocol", i)?,
                    market: c.text("market", i)?,
                    asset: c.text("asset", i)?,
                    decimals: u32::try_from(d).ok().filter(|d| *d <= 38).ok_or_else(|| {
                        StoreError::BadValue {
                            path: path.to_path_buf(),
                            row: first + i,
                            column: "decimals".into(),
                            message: format!("{d} is not 0 to 38"),
                        }
                    })?,
                    liquidation_threshold: c.wad("liquidation_threshold", i)?,
                    liquidation_bonus: c.wad("liquidation_bonus", i)?,
                    usable_as_collateral: c.opt_bool("usable_as_collateral", i)?,
                    borrowing_enabled: c.opt_bool("borrowing_enabled", i)?,
                })
            })
            .collect()
    }
}
