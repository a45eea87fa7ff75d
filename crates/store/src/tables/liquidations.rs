//! `liquidations`: one executed liquidation (or settled auction) of a replay run.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use shortfall_core::run::LiquidationRecord;
use shortfall_core::{Micros, Wad};

use super::access::{self, optional, required, unsigned};
use super::{wad_col, CanonicalRow, ColType, Column, TableDef};
use crate::StoreError;

pub const TABLE: TableDef = TableDef {
    name: "liquidations",
    version: 1,
    grain: "one executed liquidation or settled auction of a replay run (`liquidations.parquet` of a run folder)",
    key: &["seq"],
    columns: &[
        Column { name: "seq", ty: ColType::Int64, nullable: false, doc: "`seq` of the liquidation event in `events`" },
        Column { name: "ts", ty: ColType::Ts, nullable: false, doc: "simulated time, UTC" },
        Column { name: "account", ty: ColType::Utf8, nullable: false, doc: "liquidated account" },
        Column { name: "market", ty: ColType::Utf8, nullable: false, doc: "protocol market" },
        Column { name: "mechanism", ty: ColType::Utf8, nullable: false, doc: "`fixed_spread`, `flip` or `clip`" },
        Column { name: "liquidator", ty: ColType::Utf8, nullable: false, doc: "liquidator or keeper" },
        Column { name: "collateral_asset", ty: ColType::Utf8, nullable: false, doc: "seized asset" },
        Column { name: "debt_asset", ty: ColType::Utf8, nullable: false, doc: "repaid asset" },
        Column { name: "debt_repaid", ty: ColType::Amount, nullable: false, doc: "debt repaid, debt token units" },
        Column { name: "collateral_seized", ty: ColType::Amount, nullable: false, doc: "collateral leaving the position (liquidator + protocol fee), collateral token units" },
        Column { name: "protocol_fee", ty: ColType::Amount, nullable: false, doc: "of which to the protocol treasury, collateral token units" },
        Column { name: "repaid_usd", ty: ColType::Amount, nullable: false, doc: "debt repaid at the oracle price" },
        Column { name: "seized_usd", ty: ColType::Amount, nullable: false, doc: "seized collateral at the oracle price" },
        Column { name: "penalty_usd", ty: ColType::Amount, nullable: false, doc: "seized minus repaid at oracle prices (bonus, chop)" },
        Column { name: "sale_proceeds_usd", ty: ColType::Amount, nullable: false, doc: "what selling the seized collateral raised" },
        Column { name: "slippage_usd", ty: ColType::Amount, nullable: false, doc: "market value minus sale proceeds" },
        Column { name: "gas_usd", ty: ColType::Amount, nullable: false, doc: "gas cost of the transaction" },
        Column { name: "health_before_wad", ty: ColType::Amount, nullable: true, doc: "health factor before" },
        Column { name: "health_after_wad", ty: ColType::Amount, nullable: true, doc: "health factor after" },
    ],
};

impl CanonicalRow for LiquidationRecord {
    type Key = u64;
    const TABLE: &'static TableDef = &TABLE;

    fn key(&self) -> Self::Key {
        self.seq
    }

    fn key_text(&self) -> String {
        format!("#{}", self.seq)
    }

    fn ts(&self) -> Micros {
        self.ts
    }

    fn series(&self) -> String {
        format!("{} {}", self.market, self.collateral_asset)
    }

    fn encode(rows: &[Self]) -> Result<RecordBatch, StoreError> {
        let s = |f: fn(&LiquidationRecord) -> &str| -> ArrayRef {
            Arc::new(StringArray::from_iter_values(rows.iter().map(f)))
        };
        let w = |f: fn(&LiquidationRecord) -> Wad| wad_col(rows.iter().map(|r| Some(f(r).0)));
        let cols: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| r.seq as i64),
            )),
            Arc::new(TimestampMicrosecondArray::from_iter_values(
                rows.iter().map(|r| r.ts.0),
            )),
            s(|r| &r.account),
            s(|r| &r.market),
            s(|r| &r.mechanism),
            s(|r| &r.liquidator),
            s(|r| &r.collateral_asset),
            s(|r| &r.debt_asset),
            w(|r| r.debt_repaid)?,
            w(|r| r.collateral_seized)?,
            w(|r| r.protocol_fee)?,
            w(|r| r.repaid_usd)?,
            w(|r| r.seized_usd)?,
            w(|r| r.penalty_usd)?,
            w(|r| r.sale_proceeds_usd)?,
            w(|r| r.slippage_usd)?,
            w(|r| r.gas_usd)?,
            wad_col(rows.iter().map(|r| r.health_before.map(|v| v.0)))?,
            wad_col(rows.iter().map(|r| r.health_after.map(|v| v.0)))?,
        ];
        Ok(RecordBatch::try_new(TABLE.schema(), cols)?)
    }

    fn decode(b: &RecordBatch, p: &Path, first: usize) -> Result<Vec<Self>, StoreError> {
        let seq = access::int64(b, "seq", p)?;
        let ts = access::ts(b, "ts", p)?;
        let text = |n: &str, i: usize| -> Result<String, StoreError> {
            let a = access::utf8(b, n, p)?;
            required(a, |i| a.value(i).to_string(), i, first, n, p)
        };
        let wad = |n: &str, i: usize| -> Result<Wad, StoreError> {
            let a = access::decimal(b, n, p, 18)?;
            Ok(Wad(required(a, |i| a.value(i), i, first, n, p)?))
        };
        let hb = access::decimal(b, "health_before_wad", p, 18)?;
        let ha = access::decimal(b, "health_after_wad", p, 18)?;
        (0..b.num_rows())
            .map(|i| {
                Ok(LiquidationRecord {
                    seq: unsigned(
                        required(seq, |i| seq.value(i), i, first, "seq", p)?,
                        i,
                        first,
                        "seq",
                        p,
                    )?,
                    ts: Micros(required(ts, |i| ts.value(i), i, first, "ts", p)?),
                    account: text("account", i)?,
                    market: text("market", i)?,
                    mechanism: text("mechanism", i)?,
                    liquidator: text("liquidator", i)?,
                    collateral_asset: text("collateral_asset", i)?,
                    debt_asset: text("debt_asset", i)?,
                    debt_repaid: wad("debt_repaid", i)?,
                    collateral_seized: wad("collateral_seized", i)?,
                    protocol_fee: wad("protocol_fee", i)?,
                    repaid_usd: wad("repaid_usd", i)?,
                    seized_usd: wad("seized_usd", i)?,
                    penalty_usd: wad("penalty_usd", i)?,
                    sale_proceeds_usd: wad("sale_proceeds_usd", i)?,
                    slippage_usd: wad("slippage_usd", i)?,
                    gas_usd: wad("gas_usd", i)?,
                    health_before: optional(hb, |i| Wad(hb.value(i)), i),
                    health_after: optional(ha, |i| Wad(ha.value(i)), i),
                })
            })
            .collect()
    }
}
