//! `perp_positions`: snapshots of perpetual swap positions, the input of a
//! perp replay. One row per (position, collateral asset): amounts stay
//! `DECIMAL(38,18)` and SQL can sum them (`SUM(collateral_amount) GROUP BY
//! collateral_asset`); a position without collateral of its own has one row
//! with a null asset. See [`shortfall_core::perp_rows`].

use std::path::Path;

use arrow::array::RecordBatch;
use shortfall_core::{MarginMode, Micros, PerpPositionRow, PerpSide};

use super::cols::{self, Reader};
use super::{col, wad_col, CanonicalRow, ColType as T, TableDef};
use crate::StoreError;

pub const TABLE: TableDef = TableDef {
    name: "perp_positions",
    version: 1,
    grain: "one collateral asset of one perpetual swap position at a snapshot (a position without collateral of its own: one row with a null asset)",
    key: &[
        "snapshot_ts",
        "venue",
        "account",
        "instrument",
        "side",
        "collateral_asset",
    ],
    columns: &[
        col("snapshot_ts", T::Ts, false, "time the positions hold at (UTC)"),
        col(
            "snapshot_block",
            T::Int64,
            true,
            "block the snapshot was taken at, when taken at a block",
        ),
        col("venue", T::Utf8, false, "venue, e.g. `binance`, `hyperliquid`"),
        col("account", T::Utf8, false, "account (untrusted text)"),
        col("instrument", T::Utf8, false, "instrument, e.g. `BTCUSDT` (untrusted text)"),
        col("side", T::Utf8, false, "`long` or `short`"),
        col(
            "margin_mode",
            T::Utf8,
            false,
            "`isolated` (collateral backs this position) or `cross` (one margin account per account and venue: the collateral of its rows adds up)",
        ),
        col("size", T::Amount, false, "position size, base units (> 0)"),
        col("entry_price", T::Amount, false, "average entry price, quote per base (> 0)"),
        col("leverage", T::Amount, false, "leverage the position was opened with (> 0)"),
        col(
            "collateral_asset",
            T::Utf8,
            true,
            "collateral asset; null: no collateral of its own (repeated position columns agree across a position's rows)",
        ),
        col(
            "collateral_amount",
            T::Amount,
            true,
            "collateral, asset units (>= 0); null exactly when the asset is",
        ),
    ],
};

fn parse_side(s: &str) -> Result<PerpSide, &'static str> {
    PerpSide::parse(s).ok_or("expected `long` or `short`")
}

fn parse_mode(s: &str) -> Result<MarginMode, &'static str> {
    MarginMode::parse(s).ok_or("expected `isolated` or `cross`")
}

impl CanonicalRow for PerpPositionRow {
    type Key = (Micros, String, String, String, PerpSide, Option<String>);
    const TABLE: &'static TableDef = &TABLE;

    fn key(&self) -> Self::Key {
        (
            self.snapshot_ts,
            self.venue.clone(),
            self.account.clone(),
            self.instrument.clone(),
            self.side,
            self.collateral_asset.clone(),
        )
    }

    fn cmp_key(&self, o: &Self) -> std::cmp::Ordering {
        (
            self.snapshot_ts,
            &self.venue,
            &self.account,
            &self.instrument,
            self.side,
            &self.collateral_asset,
        )
            .cmp(&(
                o.snapshot_ts,
                &o.venue,
                &o.account,
                &o.instrument,
                o.side,
                &o.collateral_asset,
            ))
    }

    fn key_text(&self) -> String {
        format!(
            "({}, {}, {:?}, {:?}, {}, {:?})",
            self.snapshot_ts,
            self.venue,
            self.account,
            self.instrument,
            self.side.as_str(),
            self.collateral_asset
        )
    }

    fn ts(&self) -> Micros {
        self.snapshot_ts
    }

    fn series(&self) -> String {
        format!("{} {}", self.venue, self.instrument)
    }

    fn encode(rows: &[Self]) -> Result<RecordBatch, StoreError> {
        let r = rows.iter();
        let cols = vec![
            cols::ts(r.clone().map(|x| x.snapshot_ts)),
            cols::opt_i64(r.clone().map(|x| x.snapshot_block)),
            cols::text(r.clone().map(|x| x.venue.as_str())),
            cols::text(r.clone().map(|x| x.account.as_str())),
            cols::text(r.clone().map(|x| x.instrument.as_str())),
            cols::text(r.clone().map(|x| x.side.as_str())),
            cols::text(r.clone().map(|x| x.margin_mode.as_str())),
            wad_col(r.clone().map(|x| Some(x.size.0)))?,
            wad_col(r.clone().map(|x| Some(x.entry_price.0)))?,
            wad_col(r.clone().map(|x| Some(x.leverage.0)))?,
            cols::opt_text(r.clone().map(|x| x.collateral_asset.as_deref())),
            wad_col(r.clone().map(|x| x.collateral_amount.map(|v| v.0)))?,
        ];
        Ok(RecordBatch::try_new(TABLE.schema(), cols)?)
    }

    fn decode(batch: &RecordBatch, path: &Path, first: usize) -> Result<Vec<Self>, StoreError> {
        let c = Reader { batch, path, first };
        (0..batch.num_rows())
            .map(|i| {
                let collateral_asset = c.opt_text("collateral_asset", i)?;
                let collateral_amount = c.opt_wad("collateral_amount", i)?;
                if collateral_asset.is_some() != collateral_amount.is_some() {
                    return Err(StoreError::BadValue {
                        path: path.to_path_buf(),
                        row: first + i,
                        column: "collateral_amount".into(),
                        message: "null exactly when collateral_asset is null".into(),
                    });
                }
                Ok(PerpPositionRow {
                    snapshot_ts: c.ts("snapshot_ts", i)?,
                    snapshot_block: c.opt_i64("snapshot_block", i)?,
                    venue: c.text("venue", i)?,
                    account: c.text("account", i)?,
                    instrument: c.text("instrument", i)?,
                    side: c.parse("side", i, parse_side)?,
                    margin_mode: c.parse("margin_mode", i, parse_mode)?,
                    size: c.wad("size", i)?,
                    entry_price: c.wad("entry_price", i)?,
                    leverage: c.wad("leverage", i)?,
                    collateral_asset,
                    collateral_amount,
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
        let row = |account: &str, asset: Option<&str>| PerpPositionRow {
            snapshot_ts: Micros::from_secs(1_618_000_000),
            snapshot_block: None,
            venue: "binance".into(),
            account: account.into(),
            instrument: "BTCUSDT".into(),
            side: PerpSide::Short,
            margin_mode: MarginMode::Cross,
            size: "0.125".parse::<Wad>().unwrap(),
            entry_price: "61234.5".parse::<Wad>().unwrap(),
            leverage: Wad::from_int(20),
            collateral_asset: asset.map(str::to_string),
            collateral_amount: asset.map(|_| "1000.000000000000000001".parse().unwrap()),
        };
        let rows = vec![
            row("a", None),
            row("b", Some("BTC")),
            row("b", Some("USDT")),
        ];
        let batch = PerpPositionRow::encode(&rows).unwrap();
        let back = PerpPositionRow::decode(&batch, Path::new("perp_positions.parquet"), 0).unwrap();
        assert_eq!(back, rows);
    }
}
