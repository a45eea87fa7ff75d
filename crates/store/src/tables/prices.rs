//! `prices`: one candle or trade print per (ts, venue, base).

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Decimal128Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use shortfall_core::{Micros, PriceBar, Wad};

use super::access::{self, optional, required};
use super::{CanonicalRow, ColType, Column, TableDef};
use crate::StoreError;

pub const TABLE: TableDef = TableDef {
    name: "prices",
    version: 1,
    grain: "one candle or trade print of a venue and pair",
    key: &["ts", "venue", "base", "quote"],
    columns: &[
        Column {
            name: "ts",
            ty: ColType::Ts,
            nullable: false,
            doc: "start of the bar, UTC",
        },
        Column {
            name: "venue",
            ty: ColType::Utf8,
            nullable: false,
            doc: "exchange or source (`binance`, `gemini`, `coinapi`)",
        },
        Column {
            name: "base",
            ty: ColType::Utf8,
            nullable: false,
            doc: "base asset symbol (`ETH`)",
        },
        Column {
            name: "quote",
            ty: ColType::Utf8,
            nullable: false,
            doc: "quote asset symbol (`USDT`, `USD`)",
        },
        Column {
            name: "interval_secs",
            ty: ColType::Int64,
            nullable: false,
            doc: "bar length in seconds, 0 for a single print",
        },
        Column {
            name: "open",
            ty: ColType::Amount,
            nullable: false,
            doc: "first price, quote units",
        },
        Column {
            name: "high",
            ty: ColType::Amount,
            nullable: false,
            doc: "highest price",
        },
        Column {
            name: "low",
            ty: ColType::Amount,
            nullable: false,
            doc: "lowest price",
        },
        Column {
            name: "close",
            ty: ColType::Amount,
            nullable: false,
            doc: "last price",
        },
        Column {
            name: "volume_base",
            ty: ColType::Amount,
            nullable: true,
            doc: "traded volume in base units",
        },
        Column {
            name: "volume_quote",
            ty: ColType::Amount,
            nullable: true,
            doc: "traded volume in quote units",
        },
        Column {
            name: "trades",
            ty: ColType::Int64,
            nullable: true,
            doc: "number of trades",
        },
    ],
};

fn dec(values: impl Iterator<Item = Option<i128>>) -> Result<ArrayRef, StoreError> {
    Ok(Arc::new(
        values
            .collect::<Decimal128Array>()
            .with_precision_and_scale(38, 18)?,
    ))
}

impl CanonicalRow for PriceBar {
    type Key = (Micros, String, String, String);
    const TABLE: &'static TableDef = &TABLE;

    fn key(&self) -> Self::Key {
        (
            self.ts,
            self.venue.clone(),
            self.base.clone(),
            self.quote.clone(),
        )
    }

    fn cmp_key(&self, other: &Self) -> std::cmp::Ordering {
        PriceBar::key(self).cmp(&PriceBar::key(other))
    }

    fn key_text(&self) -> String {
        format!(
            "({}, {}, {}/{})",
            self.ts, self.venue, self.base, self.quote
        )
    }

    fn ts(&self) -> Micros {
        self.ts
    }

    fn series(&self) -> String {
        format!("{} {}/{}", self.venue, self.base, self.quote)
    }

    fn encode(rows: &[Self]) -> Result<RecordBatch, StoreError> {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(TimestampMicrosecondArray::from_iter_values(
                rows.iter().map(|r| r.ts.0),
            )),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.venue))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.base))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.quote))),
            Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| r.interval_secs),
            )),
            dec(rows.iter().map(|r| Some(r.open.0)))?,
            dec(rows.iter().map(|r| Some(r.high.0)))?,
            dec(rows.iter().map(|r| Some(r.low.0)))?,
            dec(rows.iter().map(|r| Some(r.close.0)))?,
            dec(rows.iter().map(|r| r.volume_base.map(|v| v.0)))?,
            dec(rows.iter().map(|r| r.volume_quote.map(|v| v.0)))?,
            Arc::new(rows.iter().map(|r| r.trades).collect::<Int64Array>()),
        ];
        Ok(RecordBatch::try_new(TABLE.schema(), cols)?)
    }

    fn decode(b: &RecordBatch, p: &Path, first: usize) -> Result<Vec<Self>, StoreError> {
        let ts = access::ts(b, "ts", p)?;
        let venue = access::utf8(b, "venue", p)?;
        let base = access::utf8(b, "base", p)?;
        let quote = access::utf8(b, "quote", p)?;
        let interval = access::int64(b, "interval_secs", p)?;
        let open = access::decimal(b, "open", p, 18)?;
        let high = access::decimal(b, "high", p, 18)?;
        let low = access::decimal(b, "low", p, 18)?;
        let close = access::decimal(b, "close", p, 18)?;
        let vb = access::decimal(b, "volume_base", p, 18)?;
        let vq = access::decimal(b, "volume_quote", p, 18)?;
        let trades = access::int64(b, "trades", p)?;
        (0..b.num_rows())
            .map(|i| {
                Ok(PriceBar {
                    ts: Micros(required(ts, |i| ts.value(i), i, first, "ts", p)?),
                    venue: required(venue, |i| venue.value(i).to_string(), i, first, "venue", p)?,
                    base: required(base, |i| base.value(i).to_string(), i, first, "base", p)?,
                    quote: required(quote, |i| quote.value(i).to_string(), i, first, "quote", p)?,
                    interval_secs: required(
                        interval,
                        |i| interval.value(i),
                        i,
                        first,
                        "interval_secs",
                        p,
                    )?,
                    open: Wad(required(open, |i| open.value(i), i, first, "open", p)?),
                    high: Wad(required(high, |i| high.value(i), i, first, "high", p)?),
                    low: Wad(required(low, |i| low.value(i), i, first, "low", p)?),
                    close: Wad(required(close, |i| close.value(i), i, first, "close", p)?),
                    volume_base: optional(vb, |i| Wad(vb.value(i)), i),
                    volume_quote: optional(vq, |i| Wad(vq.value(i)), i),
                    trades: optional(trades, |i| trades.value(i), i),
                })
            })
            .collect()
    }
}
