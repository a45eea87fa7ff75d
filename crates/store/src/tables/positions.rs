//! `positions`: position legs at a snapshot, e.g. rebuilt from
//! `lending_events` by `shortfall positions`.

use std::path::Path;

use arrow::array::RecordBatch;
use shortfall_core::{LegSide, Micros, PositionRow};

use super::cols::{self, Reader};
use super::{col, wad_col, CanonicalRow, ColType as T, TableDef};
use crate::StoreError;

pub const TABLE: TableDef = TableDef {
    name: "positions",
    version: 1,
    grain: "one position leg (an account's balance of one asset on one side) at a snapshot",
    key: &[
        "snapshot_ts",
        "protocol",
        "market",
        "account",
        "asset",
        "side",
    ],
    columns: &[
        col(
            "snapshot_ts",
            T::Ts,
            false,
            "time the balances hold at (UTC)",
        ),
        col(
            "snapshot_block",
            T::Int64,
            true,
            "block the snapshot was taken at, when taken at a block",
        ),
        col(
            "protocol",
            T::Utf8,
            false,
            "`aave_v2`, `aave_v3`, `compound_v2`",
        ),
        col(
            "market",
            T::Utf8,
            false,
            "pool or comptroller (untrusted text)",
        ),
        col("account", T::Utf8, false, "account (untrusted text)"),
        col("asset", T::Utf8, false, "asset symbol (untrusted text)"),
        col("side", T::Utf8, false, "`collateral` or `debt`"),
        col("amount", T::Amount, false, "balance, token units"),
        col("amount_raw", T::BigId, false, "balance, token base units"),
        col(
            "scaled_raw",
            T::BigId,
            true,
            "the protocol's own unit: Aave scaled balance, Compound cTokens (base units)",
        ),
    ],
};

impl CanonicalRow for PositionRow {
    type Key = (Micros, String, String, String, String, LegSide);
    const TABLE: &'static TableDef = &TABLE;

    fn key(&self) -> Self::Key {
        (
            self.snapshot_ts,
            self.protocol.clone(),
            self.market.clone(),
            self.account.clone(),
            self.asset.clone(),
            self.side,
        )
    }

    fn key_text(&self) -> String {
        format!(
            "({}, {}, {:?}, {:?}, {:?}, {})",
            self.snapshot_ts,
            self.protocol,
            self.market,
            self.account,
            self.asset,
            self.side.as_str()
        )
    }

    fn ts(&self) -> Micros {
        self.snapshot_ts
    }

    fn series(&self) -> String {
        format!("{} {}", self.protocol, self.market)
    }

    fn encode(rows: &[Self]) -> Result<RecordBatch, StoreError> {
        let r = rows.iter();
        let cols = vec![
            cols::ts(r.clone().map(|x| x.snapshot_ts)),
            cols::opt_i64(r.clone().map(|x| x.snapshot_block)),
            cols::text(r.clone().map(|x| x.protocol.as_str())),
            cols::text(r.clone().map(|x| x.market.as_str())),
            cols::text(r.clone().map(|x| x.account.as_str())),
            cols::text(r.clone().map(|x| x.asset.as_str())),
            cols::text(r.clone().map(|x| x.side.as_str())),
            wad_col(r.clone().map(|x| Some(x.amount.0)))?,
            cols::opt_big(
                r.clone().map(|x| Some(x.amount_raw)),
                TABLE.name,
                "amount_raw",
            )?,
            cols::opt_big(r.clone().map(|x| x.scaled_raw), TABLE.name, "scaled_raw")?,
        ];
        Ok(RecordBatch::try_new(TABLE.schema(), cols)?)
    }

    fn decode(batch: &RecordBatch, path: &Path, first: usize) -> Result<Vec<Self>, StoreError> {
        let c = Reader { batch, path, first };
        (0..batch.num_rows())
            .map(|i| {
                let amount_raw =
                    c.opt_big("amount_raw", i)?
                        .ok_or_else(|| StoreError::BadValue {
                            path: path.to_path_buf(),
                            row: first + i,
                            column: "amount_raw".into(),
                            message: "null in a non-nullable column".into(),
                        })?;
                Ok(PositionRow {
                    snapshot_ts: c.ts("snapshot_ts", i)?,
                    snapshot_block: c.opt_i64("snapshot_block", i)?,
                    protocol: c.text("protocol", i)?,
                    market: c.text("market", i)?,
                    account: c.text("account", i)?,
                    asset: c.text("asset", i)?,
                    side: c.parse("side", i, |s| {
                        LegSide::parse(s).ok_or("expected `collateral` or `debt`")
                    })?,
                    amount: c.wad("amount", i)?,
                    amount_raw,
                    scaled_raw: c.opt_big("scaled_raw", i)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shortfall_core::Wad;

    #[test]
    fn round_trips() {
        let row = |account: &str, side, scaled| PositionRow {
            snapshot_ts: Micros::from_secs(1_600_000_000),
            snapshot_block: Some(11_000_000),
            protocol: "aave_v2".into(),
            market: "0xpool".into(),
            account: account.into(),
            asset: "USDC".into(),
            side,
            amount: "1029.411765".parse::<Wad>().unwrap(),
            amount_raw: 1_029_411_765,
            scaled_raw: scaled,
        };
        let rows = vec![
            row("alice", LegSide::Collateral, Some(980_392_157)),
            row("bob", LegSide::Debt, None),
        ];
        let batch = PositionRow::encode(&rows).unwrap();
        let back = PositionRow::decode(&batch, Path::new("positions.parquet"), 0).unwrap();
        assert_eq!(back, rows);
    }
}
