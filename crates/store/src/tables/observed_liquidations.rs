//! `observed_liquidations`: forensics of the liquidations in `lending_events`
//! (derived by `shortfall forensics`, not ingested).

use std::path::Path;

use arrow::array::RecordBatch;
use shortfall_core::{Micros, ObservedLiquidation, Wad};

use super::cols::{self, Reader};
use super::{col, wad_col, CanonicalRow, ColType as T, TableDef};
use crate::StoreError;

pub const TABLE: TableDef = TableDef {
    name: "observed_liquidations",
    version: 1,
    grain: "one observed liquidation with its realised bonus (derived from `lending_events` and `reserves` by `shortfall forensics`)",
    key: &["ts", "block", "log_index", "source_ref", "protocol", "market", "account", "debt_asset", "debt_repaid", "collateral_asset", "collateral_seized"],
    columns: &[
        col("ts", T::Ts, false, "block time, UTC"),
        col("block", T::Int64, true, "block number"),
        col("log_index", T::Int64, true, "log index"),
        col("tx_hash", T::Utf8, true, "transaction hash"),
        col("source_ref", T::Utf8, true, "file and line of the event when it has no chain position"),
        col("protocol", T::Utf8, false, "protocol"),
        col("market", T::Utf8, false, "pool or comptroller (untrusted text)"),
        col("account", T::Utf8, false, "liquidated borrower (untrusted text)"),
        col("liquidator", T::Utf8, true, "liquidator, when the source has it (untrusted text)"),
        col("debt_asset", T::Utf8, false, "debt repaid (untrusted text)"),
        col("debt_repaid", T::Amount, false, "debt repaid, token units"),
        col("collateral_asset", T::Utf8, false, "collateral seized (untrusted text)"),
        col("collateral_seized", T::Amount, false, "collateral seized, token units"),
        col("value_unit", T::Utf8, true, "unit of the two values below (the event's price unit)"),
        col("repaid_value", T::Amount, true, "debt repaid at the price recorded at the event"),
        col("seized_value", T::Amount, true, "collateral seized at the price recorded at the event"),
        col("repaid_usd", T::Amount, true, "debt repaid in USD, when the source has USD prices"),
        col("seized_usd", T::Amount, true, "collateral seized in USD"),
        col("realised_bonus", T::Amount, true, "seized value / repaid value - 1"),
        col("configured_bonus", T::Amount, true, "liquidation bonus of the collateral reserve"),
        col("bonus_gap", T::Amount, true, "realised minus configured bonus"),
        col("note", T::Utf8, false, "why a figure is missing or suspect (empty when none)"),
    ],
};

type Key = (
    Micros,
    Option<i64>,
    Option<i64>,
    Option<String>,
    String,
    String,
    String,
    String,
    Wad,
    String,
    Wad,
);

impl CanonicalRow for ObservedLiquidation {
    type Key = Key;
    const TABLE: &'static TableDef = &TABLE;

    fn key(&self) -> Key {
        (
            self.ts,
            self.block,
            self.log_index,
            self.source_ref.clone(),
            self.protocol.clone(),
            self.market.clone(),
            self.account.clone(),
            self.debt_asset.clone(),
            self.debt_repaid,
            self.collateral_asset.clone(),
            self.collateral_seized,
        )
    }

    fn key_text(&self) -> String {
        format!(
            "({}, {} liquidation of {:?}: {:?} for {:?})",
            self.ts, self.protocol, self.account, self.debt_asset, self.collateral_asset
        )
    }

    fn ts(&self) -> Micros {
        self.ts
    }

    fn series(&self) -> String {
        format!("{} {}", self.protocol, self.market)
    }

    fn encode(rows: &[Self]) -> Result<RecordBatch, StoreError> {
        let r = rows.iter();
        let w = |f: fn(&ObservedLiquidation) -> Option<Wad>| {
            wad_col(rows.iter().map(move |x| f(x).map(|v| v.0)))
        };
        let cols = vec![
            cols::ts(r.clone().map(|x| x.ts)),
            cols::opt_i64(r.clone().map(|x| x.block)),
            cols::opt_i64(r.clone().map(|x| x.log_index)),
            cols::opt_text(r.clone().map(|x| x.tx_hash.as_deref())),
            cols::opt_text(r.clone().map(|x| x.source_ref.as_deref())),
            cols::text(r.clone().map(|x| x.protocol.as_str())),
            cols::text(r.clone().map(|x| x.market.as_str())),
            cols::text(r.clone().map(|x| x.account.as_str())),
            cols::opt_text(r.clone().map(|x| x.liquidator.as_deref())),
            cols::text(r.clone().map(|x| x.debt_asset.as_str())),
            w(|x| Some(x.debt_repaid))?,
            cols::text(r.clone().map(|x| x.collateral_asset.as_str())),
            w(|x| Some(x.collateral_seized))?,
            cols::opt_text(r.clone().map(|x| x.value_unit.as_deref())),
            w(|x| x.repaid_value)?,
            w(|x| x.seized_value)?,
            w(|x| x.repaid_usd)?,
            w(|x| x.seized_usd)?,
            w(|x| x.realised_bonus)?,
            w(|x| x.configured_bonus)?,
            w(|x| x.bonus_gap)?,
            cols::text(r.clone().map(|x| x.note.as_str())),
        ];
        Ok(RecordBatch::try_new(TABLE.schema(), cols)?)
    }

    fn decode(batch: &RecordBatch, path: &Path, first: usize) -> Result<Vec<Self>, StoreError> {
        let c = Reader { batch, path, first };
        (0..batch.num_rows())
            .map(|i| {
                Ok(ObservedLiquidation {
                    ts: c.ts("ts", i)?,
                    block: c.opt_i64("block", i)?,
                    log_index: c.opt_i64("log_index", i)?,
                    tx_hash: c.opt_text("tx_hash", i)?,
                    source_ref: c.opt_text("source_ref", i)?,
                    protocol: c.text("protocol", i)?,
                    market: c.text("market", i)?,
                    account: c.text("account", i)?,
                    liquidator: c.opt_text("liquidator", i)?,
                    debt_asset: c.text("debt_asset", i)?,
                    debt_repaid: c.wad("debt_repaid", i)?,
                    collateral_asset: c.text("collateral_asset", i)?,
                    collateral_seized: c.wad("collateral_seized", i)?,
                    value_unit: c.opt_text("value_unit", i)?,
                    repaid_value: c.opt_wad("repaid_value", i)?,
                    seized_value: c.opt_wad("seized_value", i)?,
                    repaid_usd: c.opt_wad("repaid_usd", i)?,
                    seized_usd: c.opt_wad("seized_usd", i)?,
                    realised_bonus: c.opt_wad("realised_bonus", i)?,
                    configured_bonus: c.opt_wad("configured_bonus", i)?,
                    bonus_gap: c.opt_wad("bonus_gap", i)?,
                    note: c.text("note", i)?,
                })
            })
            .collect()
    }
}
