//! `oracle_rounds`: one oracle answer per (ts, feed, round).

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Decimal128Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use shortfall_core::{Micros, OracleRound, Wad};

use super::access::{self, optional, required};
use super::{CanonicalRow, ColType, Column, TableDef};
use crate::StoreError;

pub const TABLE: TableDef = TableDef {
    name: "oracle_rounds",
    version: 1,
    grain: "one oracle answer",
    key: &["ts", "feed", "round_id"],
    columns: &[
        Column {
            name: "ts",
            ty: ColType::Ts,
            nullable: false,
            doc: "when the answer took effect (`updatedAt`), UTC",
        },
        Column {
            name: "feed",
            ty: ColType::Utf8,
            nullable: false,
            doc: "feed name (`chainlink:USDC/USD`)",
        },
        Column {
            name: "base",
            ty: ColType::Utf8,
            nullable: false,
            doc: "priced asset",
        },
        Column {
            name: "quote",
            ty: ColType::Utf8,
            nullable: false,
            doc: "unit of the answer",
        },
        Column {
            name: "round_id",
            ty: ColType::BigId,
            nullable: false,
            doc: "proxy round id (`phaseId << 64 | aggregatorRoundId`)",
        },
        Column {
            name: "phase_id",
            ty: ColType::Int64,
            nullable: true,
            doc: "aggregator phase",
        },
        Column {
            name: "aggregator_round_id",
            ty: ColType::Int64,
            nullable: true,
            doc: "round id inside the phase",
        },
        Column {
            name: "answer",
            ty: ColType::Amount,
            nullable: false,
            doc: "price, quote units (decimals applied)",
        },
        Column {
            name: "started_at",
            ty: ColType::Ts,
            nullable: true,
            doc: "round start (`startedAt`), UTC",
        },
        Column {
            name: "answered_in_round",
            ty: ColType::BigId,
            nullable: true,
            doc: "round whose answer this is",
        },
        Column {
            name: "stale",
            ty: ColType::Bool,
            nullable: false,
            doc: "carried over from an earlier round (`answeredInRound < roundId`)",
        },
        Column {
            name: "block",
            ty: ColType::Int64,
            nullable: true,
            doc: "block number, when known",
        },
    ],
};

fn big(values: impl Iterator<Item = Option<u128>>) -> Result<ArrayRef, StoreError> {
    let v: Vec<Option<i128>> = values
        .map(|o| o.map(|u| i128::try_from(u).unwrap_or(i128::MAX)))
        .collect();
    Ok(Arc::new(
        Decimal128Array::from(v).with_precision_and_scale(38, 0)?,
    ))
}

impl CanonicalRow for OracleRound {
    type Key = (Micros, String, u128);
    const TABLE: &'static TableDef = &TABLE;

    fn key(&self) -> Self::Key {
        (self.ts, self.feed.clone(), self.round_id)
    }

    fn cmp_key(&self, other: &Self) -> std::cmp::Ordering {
        OracleRound::key(self).cmp(&OracleRound::key(other))
    }

    fn key_text(&self) -> String {
        format!("({}, {}, {})", self.ts, self.feed, self.round_id)
    }

    fn ts(&self) -> Micros {
        self.ts
    }

    fn series(&self) -> String {
        self.feed.clone()
    }

    fn encode(rows: &[Self]) -> Result<RecordBatch, StoreError> {
        if let Some(r) = rows.iter().find(|r| r.round_id >= 10u128.pow(38)) {
            return Err(StoreError::BadFile {
                path: "oracle_rounds".into(),
                message: format!("round id {} does not fit DECIMAL(38,0)", r.round_id),
            });
        }
        let cols: Vec<ArrayRef> = vec![
            Arc::new(TimestampMicrosecondArray::from_iter_values(
                rows.iter().map(|r| r.ts.0),
            )),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.feed))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.base))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.quote))),
            big(rows.iter().map(|r| Some(r.round_id)))?,
            Arc::new(rows.iter().map(|r| r.phase_id).collect::<Int64Array>()),
            Arc::new(
                rows.iter()
                    .map(|r| r.aggregator_round_id)
                    .collect::<Int64Array>(),
            ),
            Arc::new(
                rows.iter()
                    .map(|r| Some(r.answer.0))
                    .collect::<Decimal128Array>()
                    .with_precision_and_scale(38, 18)?,
            ),
            Arc::new(
                rows.iter()
                    .map(|r| r.started_at.map(|t| t.0))
                    .collect::<TimestampMicrosecondArray>(),
            ),
            big(rows.iter().map(|r| r.answered_in_round))?,
            Arc::new(rows.iter().map(|r| Some(r.stale)).collect::<BooleanArray>()),
            Arc::new(rows.iter().map(|r| r.block).collect::<Int64Array>()),
        ];
        Ok(RecordBatch::try_new(TABLE.schema(), cols)?)
    }

    fn decode(b: &RecordBatch, p: &Path, first: usize) -> Result<Vec<Self>, StoreError> {
        let ts = access::ts(b, "ts", p)?;
        let feed = access::utf8(b, "feed", p)?;
        let base = access::utf8(b, "base", p)?;
        let quote = access::utf8(b, "quote", p)?;
        let round = access::decimal(b, "round_id", p, 0)?;
        let phase = access::int64(b, "phase_id", p)?;
        let agg = access::int64(b, "aggregator_round_id", p)?;
        let answer = access::decimal(b, "answer", p, 18)?;
        let started = access::ts(b, "started_at", p)?;
        let air = access::decimal(b, "answered_in_round", p, 0)?;
        let stale = access::boolean(b, "stale", p)?;
        let block = access::int64(b, "block", p)?;
        let to_u = |v: i128, i: usize, col: &str| {
            u128::try_from(v).map_err(|_| StoreError::BadValue {
                path: p.to_path_buf(),
                row: first + i,
                column: col.to_string(),
                message: format!("negative id {v}"),
            })
        };
        (0..b.num_rows())
            .map(|i| {
                Ok(OracleRound {
                    ts: Micros(required(ts, |i| ts.value(i), i, first, "ts", p)?),
                    feed: required(feed, |i| feed.value(i).to_string(), i, first, "feed", p)?,
                    base: required(base, |i| base.value(i).to_string(), i, first, "base", p)?,
                    quote: required(quote, |i| quote.value(i).to_string(), i, first, "quote", p)?,
                    round_id: to_u(
                        required(round, |i| round.value(i), i, first, "round_id", p)?,
                        i,
                        "round_id",
                    )?,
                    phase_id: optional(phase, |i| phase.value(i), i),
                    aggregator_round_id: optional(agg, |i| agg.value(i), i),
                    answer: Wad(required(
                        answer,
                        |i| answer.value(i),
                        i,
                        first,
                        "answer",
                        p,
                    )?),
                    started_at: optional(started, |i| Micros(started.value(i)), i),
                    answered_in_round: match optional(air, |i| air.value(i), i) {
                        Some(v) => Some(to_u(v, i, "answered_in_round")?),
                        None => None,
                    },
                    stale: required(stale, |i| stale.value(i), i, first, "stale", p)?,
                    block: optional(block, |i| block.value(i), i),
                })
            })
            .collect()
    }
}
