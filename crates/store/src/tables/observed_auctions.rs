//! `observed_auctions`: liquidations and auctions that really happened, as
//! ingested from their sources (Maker flip auctions, Compound
//! `LiquidateBorrow` exports). One row per settled auction or liquidation
//! call, easy to aggregate per hour against a replay's `liquidations`.

use std::path::Path;

use arrow::array::RecordBatch;
use shortfall_core::observed::ObservedKey;
use shortfall_core::{Micros, ObservedAuction, Wad};

use super::cols::{self, Reader};
use super::{col, wad_col, CanonicalRow, ColType as T, TableDef};
use crate::StoreError;

pub const TABLE: TableDef = TableDef {
    name: "observed_auctions",
    version: 1,
    grain: "one observed liquidation or auction as its source recorded it: a Maker flip auction (settled or not), a Compound `LiquidateBorrow`, an Aave `LiquidationCall`",
    key: &[
        "ts",
        "protocol",
        "market",
        "block",
        "log_index",
        "auction_id",
        "account",
        "debt_asset",
        "debt_amount",
        "collateral_asset",
        "collateral_amount",
    ],
    columns: &[
        col("ts", T::Ts, false, "settlement time, UTC: the deal of an auction, the block of a liquidation call; for an auction the source has no deal for, its last bid"),
        col("ts_precision_secs", T::Int64, false, "resolution of `ts` in the source, seconds (1: block timestamp; 60: a `dd/mm/yy hh:mm` export)"),
        col("block", T::Int64, true, "block of the settlement"),
        col("tx_hash", T::Utf8, true, "transaction of the settlement (liquidation call, deal), when known"),
        col("log_index", T::Int64, true, "log index of the event in its block"),
        col("source_ref", T::Utf8, false, "file and line the row came from"),
        col("protocol", T::Utf8, false, "`maker`, `compound_v2`, `aave_v2`"),
        col("market", T::Utf8, false, "ilk (`ETH-A`) or market (`cDAI`) (untrusted text)"),
        col("mechanism", T::Utf8, false, "`flip` (English auction) or `fixed_spread` (liquidation call)"),
        col("state", T::Utf8, false, "`dealt`, `not_dealt` (bids but no deal in the source), `executed`"),
        col("auction_id", T::BigId, true, "auction id (Maker flip)"),
        col("account", T::Utf8, true, "liquidated vault or borrower, when the source names it (untrusted text)"),
        col("liquidator", T::Utf8, true, "liquidator or winning bidder, when the source names it (untrusted text)"),
        col("collateral_asset", T::Utf8, false, "collateral sold or seized (untrusted text)"),
        col("collateral_amount", T::Amount, false, "collateral sold (the lot at the winning bid) or seized, token units"),
        col("debt_asset", T::Utf8, false, "debt asset repaid or raised (untrusted text)"),
        col("debt_amount", T::Amount, false, "debt repaid, or raised by the winning bid, token units"),
        col("price_paid", T::Amount, true, "debt units paid per collateral unit (the winning bid's price), when the source gives it"),
        col("bid_count", T::Int64, true, "bids in the auction"),
        col("last_bid_ts", T::Ts, true, "time of the last bid, UTC"),
        col("last_bid_block", T::Int64, true, "block of the last bid"),
        col("last_bid_tx", T::Utf8, true, "transaction of the last bid"),
        col("gas_price_gwei", T::Amount, true, "gas price of the settlement transaction, gwei"),
        col("gas_cost_usd", T::Amount, true, "gas cost of the settlement transaction, USD, as the source computed it"),
        col("oracle_price_usd", T::Amount, true, "the protocol's oracle price of the collateral at settlement (Maker: the OSM), USD"),
        col("market_price_usd", T::Amount, true, "market price of the collateral at settlement as the source recorded it, USD"),
        col("debt_price_usd", T::Amount, true, "market price of the debt asset at settlement as the source recorded it, USD"),
        col("rounded", T::Bool, false, "the source rounded the amounts to fewer significant digits than a float holds (a spreadsheet's 4-5 digits)"),
        col("amount_rel_error", T::Amount, false, "bound on the relative error of the two amounts from the digits the source kept (0: exact base units)"),
        col("note", T::Utf8, false, "why a figure is missing or suspect (empty when none)"),
    ],
};

impl CanonicalRow for ObservedAuction {
    type Key = ObservedKey;
    const TABLE: &'static TableDef = &TABLE;

    fn key(&self) -> ObservedKey {
        ObservedAuction::key(self)
    }

    fn key_text(&self) -> String {
        format!(
            "({}, {} {:?} block {:?} log {:?} auction {:?})",
            self.ts, self.protocol, self.market, self.block, self.log_index, self.auction_id
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
        let w = |f: fn(&ObservedAuction) -> Option<Wad>| {
            wad_col(rows.iter().map(move |x| f(x).map(|v| v.0)))
        };
        let cols = vec![
            cols::ts(r.clone().map(|x| x.ts)),
            cols::opt_i64(r.clone().map(|x| Some(x.ts_precision_secs))),
            cols::opt_i64(r.clone().map(|x| x.block)),
            cols::opt_text(r.clone().map(|x| x.tx_hash.as_deref())),
            cols::opt_i64(r.clone().map(|x| x.log_index)),
            cols::text(r.clone().map(|x| x.source_ref.as_str())),
            cols::text(r.clone().map(|x| x.protocol.as_str())),
            cols::text(r.clone().map(|x| x.market.as_str())),
            cols::text(r.clone().map(|x| x.mechanism.as_str())),
            cols::text(r.clone().map(|x| x.state.as_str())),
            cols::opt_big(r.clone().map(|x| x.auction_id), TABLE.name, "auction_id")?,
            cols::opt_text(r.clone().map(|x| x.account.as_deref())),
            cols::opt_text(r.clone().map(|x| x.liquidator.as_deref())),
            cols::text(r.clone().map(|x| x.collateral_asset.as_str())),
            w(|x| Some(x.collateral_amount))?,
            cols::text(r.clone().map(|x| x.debt_asset.as_str())),
            w(|x| Some(x.debt_amount))?,
            w(|x| x.price_paid)?,
            cols::opt_i64(r.clone().map(|x| x.bid_count)),
            cols::opt_ts(r.clone().map(|x| x.last_bid_ts)),
            cols::opt_i64(r.clone().map(|x| x.last_bid_block)),
            cols::opt_text(r.clone().map(|x| x.last_bid_tx.as_deref())),
            w(|x| x.gas_price_gwei)?,
            w(|x| x.gas_cost_usd)?,
            w(|x| x.oracle_price_usd)?,
            w(|x| x.market_price_usd)?,
            w(|x| x.debt_price_usd)?,
            cols::boolean(r.clone().map(|x| x.rounded)),
            w(|x| Some(x.amount_rel_error))?,
            cols::text(r.clone().map(|x| x.note.as_str())),
        ];
        Ok(RecordBatch::try_new(TABLE.schema(), cols)?)
    }

    fn decode(batch: &RecordBatch, path: &Path, first: usize) -> Result<Vec<Self>, StoreError> {
        let c = Reader { batch, path, first };
        (0..batch.num_rows())
            .map(|i| {
                Ok(ObservedAuction {
                    ts: c.ts("ts", i)?,
                    ts_precision_secs: c.int64("ts_precision_secs", i)?,
                    block: c.opt_i64("block", i)?,
                    tx_hash: c.opt_text("tx_hash", i)?,
                    log_index: c.opt_i64("log_index", i)?,
                    source_ref: c.text("source_ref", i)?,
                    protocol: c.text("protocol", i)?,
                    market: c.text("market", i)?,
                    mechanism: c.text("mechanism", i)?,
                    state: c.text("state", i)?,
                    auction_id: c.opt_big("auction_id", i)?,
                    account: c.opt_text("account", i)?,
                    liquidator: c.opt_text("liquidator", i)?,
                    collateral_asset: c.text("collateral_asset", i)?,
                    collateral_amount: c.wad("collateral_amount", i)?,
                    debt_asset: c.text("debt_asset", i)?,
                    debt_amount: c.wad("debt_amount", i)?,
                    price_paid: c.opt_wad("price_paid", i)?,
                    bid_count: c.opt_i64("bid_count", i)?,
                    last_bid_ts: c.opt_ts("last_bid_ts", i)?,
                    last_bid_block: c.opt_i64("last_bid_block", i)?,
                    last_bid_tx: c.opt_text("last_bid_tx", i)?,
                    gas_price_gwei: c.opt_wad("gas_price_gwei", i)?,
                    gas_cost_usd: c.opt_wad("gas_cost_usd", i)?,
                    oracle_price_usd: c.opt_wad("oracle_price_usd", i)?,
                    market_price_usd: c.opt_wad("market_price_usd", i)?,
                    debt_price_usd: c.opt_wad("debt_price_usd", i)?,
                    rounded: c.boolean("rounded", i)?,
                    amount_rel_error: c.wad("amount_rel_error", i)?,
                    note: c.text("note", i)?,
                })
            })
            .collect()
    }
}
