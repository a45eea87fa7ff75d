//! `events`: the sequence-numbered event log of a replay run.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use shortfall_core::run::{EventKind, EventRecord, Reason};
use shortfall_core::{Micros, Wad};

use super::access::{self, optional, parse_enum, required, unsigned};
use super::{wad_col, CanonicalRow, ColType, Column, TableDef};
use crate::StoreError;

pub const TABLE: TableDef = TableDef {
    name: "events",
    version: 1,
    grain: "one event of a replay run (append-only log, `events.parquet` of a run folder)",
    key: &["seq"],
    columns: &[
        Column { name: "seq", ty: ColType::Int64, nullable: false, doc: "sequence number, dense from 0 in replay order" },
        Column { name: "ts", ty: ColType::Ts, nullable: false, doc: "simulated time of the event, UTC" },
        Column { name: "kind", ty: ColType::Utf8, nullable: false, doc: "`oracle_update`, `oracle_rejected`, `health_crossing`, `liquidation_blocked`, `liquidation`, `auction_kick`, `auction_bid`, `auction_deal`, `bad_debt`, `circuit_breaker`, `margin_change`, `book_change` (a recorded supply, withdraw, borrow or repay: `amount` signed, `reason` the kind)" },
        Column { name: "account", ty: ColType::Utf8, nullable: true, doc: "position account" },
        Column { name: "asset", ty: ColType::Utf8, nullable: true, doc: "asset concerned" },
        Column { name: "amount", ty: ColType::Amount, nullable: true, doc: "token amount (seized collateral, bid lot, deficit, book change signed), token units" },
        Column { name: "value_usd", ty: ColType::Amount, nullable: true, doc: "USD value (repaid debt, bid, bad debt)" },
        Column { name: "price_usd", ty: ColType::Amount, nullable: true, doc: "price (oracle answer, auction price), USD per token" },
        Column { name: "health_wad", ty: ColType::Amount, nullable: true, doc: "health factor (1.0 = liquidation threshold)" },
        Column { name: "actor", ty: ColType::Utf8, nullable: true, doc: "liquidator or keeper" },
        Column { name: "reason", ty: ColType::Utf8, nullable: true, doc: "why (`below_one`, `oracle_stale`, `no_liquidator_capital`, ...; see the run docs)" },
    ],
};

impl CanonicalRow for EventRecord {
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
        self.kind.as_str().to_string()
    }

    fn encode(rows: &[Self]) -> Result<RecordBatch, StoreError> {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| r.seq as i64),
            )),
            Arc::new(TimestampMicrosecondArray::from_iter_values(
                rows.iter().map(|r| r.ts.0),
            )),
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.kind.as_str()),
            )),
            Arc::new(
                rows.iter()
                    .map(|r| r.account.as_deref())
                    .collect::<StringArray>(),
            ),
            Arc::new(
                rows.iter()
                    .map(|r| r.asset.as_deref())
                    .collect::<StringArray>(),
            ),
            wad_col(rows.iter().map(|r| r.amount.map(|v| v.0)))?,
            wad_col(rows.iter().map(|r| r.value_usd.map(|v| v.0)))?,
            wad_col(rows.iter().map(|r| r.price.map(|v| v.0)))?,
            wad_col(rows.iter().map(|r| r.health.map(|v| v.0)))?,
            Arc::new(
                rows.iter()
                    .map(|r| r.actor.as_deref())
                    .collect::<StringArray>(),
            ),
            Arc::new(
                rows.iter()
                    .map(|r| r.reason.map(|x| x.as_str()))
                    .collect::<StringArray>(),
            ),
        ];
        Ok(RecordBatch::try_new(TABLE.schema(), cols)?)
    }

    fn decode(b: &RecordBatch, p: &Path, first: usize) -> Result<Vec<Self>, StoreError> {
        let seq = access::int64(b, "seq", p)?;
        let ts = access::ts(b, "ts", p)?;
        let kind = access::utf8(b, "kind", p)?;
        let account = access::utf8(b, "account", p)?;
        let asset = access::utf8(b, "asset", p)?;
        let amount = access::decimal(b, "amount", p, 18)?;
        let value = access::decimal(b, "value_usd", p, 18)?;
        let price = access::decimal(b, "price_usd", p, 18)?;
        let health = access::decimal(b, "health_wad", p, 18)?;
        let actor = access::utf8(b, "actor", p)?;
        let reason = access::utf8(b, "reason", p)?;
        (0..b.num_rows())
            .map(|i| {
                Ok(EventRecord {
                    seq: unsigned(
                        required(seq, |i| seq.value(i), i, first, "seq", p)?,
                        i,
                        first,
                        "seq",
                        p,
                    )?,
                    ts: Micros(required(ts, |i| ts.value(i), i, first, "ts", p)?),
                    kind: parse_enum(
                        required(kind, |i| kind.value(i), i, first, "kind", p)?,
                        EventKind::parse,
                        i,
                        first,
                        "kind",
                        p,
                    )?,
                    account: optional(account, |i| account.value(i).to_string(), i),
                    asset: optional(asset, |i| asset.value(i).to_string(), i),
                    amount: optional(amount, |i| Wad(amount.value(i)), i),
                    value_usd: optional(value, |i| Wad(value.value(i)), i),
                    price: optional(price, |i| Wad(price.value(i)), i),
                    health: optional(health, |i| Wad(health.value(i)), i),
                    actor: optional(actor, |i| actor.value(i).to_string(), i),
                    reason: match optional(reason, |i| reason.value(i), i) {
                        Some(s) => Some(parse_enum(s, Reason::parse, i, first, "reason", p)?),
                        None => None,
                    },
                })
            })
            .collect()
    }
}
