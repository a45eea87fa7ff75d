//! `lending_events`: one on-chain action of a lending protocol.

use std::path::Path;

use arrow::array::RecordBatch;
use shortfall_core::{LendingEvent, LendingKind, Micros, Wad};

use super::cols::{self, Reader};
use super::{col, wad_col, CanonicalRow, ColType as T, TableDef};
use crate::StoreError;

pub const TABLE: TableDef = TableDef {
    name: "lending_events",
    version: 1,
    grain: "one on-chain action of a lending protocol (supply, borrow, liquidation, ...)",
    key: &[
        "ts", "block", "tx_index", "log_index", "protocol", "market", "kind", "account", "asset",
        "amount", "collateral_asset", "collateral_amount", "source_ref",
    ],
    columns: &[
        col("ts", T::Ts, false, "block time, UTC"),
        col("ts_estimated", T::Bool, false, "block time estimated, not known"),
        col("block", T::Int64, true, "block number, when the source has it"),
        col("tx_index", T::Int64, true, "transaction index in the block"),
        col("log_index", T::Int64, true, "log index in the block"),
        col("tx_hash", T::Utf8, true, "transaction hash"),
        col("source_ref", T::Utf8, true, "file and line of an event without chain position (two identical export rows can be two events of one block)"),
        col("protocol", T::Utf8, false, "`aave_v2`, `aave_v3`, `compound_v2`, `maker`"),
        col("market", T::Utf8, false, "pool, comptroller or ilk (untrusted text)"),
        col("kind", T::Utf8, false, "supply, withdraw, borrow, repay, liquidation, index_update, deficit, auction_start, auction_bid, auction_end"),
        col("account", T::Utf8, false, "borrower or supplier (untrusted text)"),
        col("asset", T::Utf8, false, "asset of `amount`; for a liquidation the debt repaid (untrusted text)"),
        col("amount", T::Amount, true, "token units"),
        col("amount_raw", T::BigId, true, "base units, when the source gave them"),
        col("collateral_asset", T::Utf8, true, "liquidations: collateral seized (untrusted text)"),
        col("collateral_amount", T::Amount, true, "collateral seized, token units"),
        col("collateral_amount_raw", T::BigId, true, "collateral seized, base units"),
        col("liquidator", T::Utf8, true, "liquidator or keeper (untrusted text)"),
        col("asset_price", T::Amount, true, "price of `asset` at the event as the source recorded it, in `price_unit`"),
        col("collateral_price", T::Amount, true, "price of `collateral_asset` at the event, in `price_unit`"),
        col("price_unit", T::Utf8, true, "unit of the two prices (`ETH` for Aave v2's oracle)"),
        col("asset_price_usd", T::Amount, true, "USD price of `asset` at the event, when the source has it"),
        col("collateral_price_usd", T::Amount, true, "USD price of `collateral_asset` at the event"),
        col("liquidity_index_raw", T::BigId, true, "index updates: Aave liquidityIndex (ray, 27 decimals)"),
        col("borrow_index_raw", T::BigId, true, "index updates: Aave variableBorrowIndex (ray) or Compound borrowIndex (18 decimals)"),
        col("liquidity_rate_raw", T::BigId, true, "index updates: Aave liquidityRate (ray per year)"),
        col("borrow_rate_raw", T::BigId, true, "index updates: Aave variableBorrowRate (ray per year)"),
        col("shares_raw", T::BigId, true, "protocol shares moved, base units (Compound cTokens minted, redeemed or seized)"),
        col("auction_id", T::BigId, true, "Maker flip or clip auction id"),
        col("account_balance_raw", T::BigId, true, "the account's balance after the event as the event reports it, base units (Compound accountBorrows)"),
    ],
};

/// (chain position, what happened, amounts and source line): tuples of at
/// most 12 are `Ord`.
type Key = (
    (Micros, Option<i64>, Option<i64>, Option<i64>),
    (String, String, LendingKind, String, String),
    (Option<Wad>, Option<String>, Option<Wad>, Option<String>),
);

impl CanonicalRow for LendingEvent {
    type Key = Key;
    const TABLE: &'static TableDef = &TABLE;

    fn key(&self) -> Key {
        (
            (self.ts, self.block, self.tx_index, self.log_index),
            (
                self.protocol.clone(),
                self.market.clone(),
                self.kind,
                self.account.clone(),
                self.asset.clone(),
            ),
            (
                self.amount,
                self.collateral_asset.clone(),
                self.collateral_amount,
                self.source_ref.clone(),
            ),
        )
    }

    fn cmp_key(&self, o: &Self) -> std::cmp::Ordering {
        self.cmp_order(o)
    }

    fn key_text(&self) -> String {
        let pos = match (self.block, self.log_index) {
            (Some(b), Some(l)) => format!("block {b} log {l}"),
            (Some(b), None) => format!("block {b}"),
            _ => self
                .source_ref
                .clone()
                .unwrap_or_else(|| "no chain position".into()),
        };
        format!(
            "({}, {pos}, {} {} of {:?} by {:?})",
            self.ts, self.protocol, self.kind, self.asset, self.account
        )
    }

    fn ts(&self) -> Micros {
        self.ts
    }

    fn series(&self) -> String {
        format!("{} {}", self.protocol, self.kind)
    }

    fn encode(rows: &[Self]) -> Result<RecordBatch, StoreError> {
        let r = rows.iter();
        let big = |f: fn(&LendingEvent) -> Option<u128>, c: &str| {
            cols::opt_big(rows.iter().map(f), TABLE.name, c)
        };
        let cols = vec![
            cols::ts(r.clone().map(|e| e.ts)),
            cols::boolean(r.clone().map(|e| e.ts_estimated)),
            cols::opt_i64(r.clone().map(|e| e.block)),
            cols::opt_i64(r.clone().map(|e| e.tx_index)),
            cols::opt_i64(r.clone().map(|e| e.log_index)),
            cols::opt_text(r.clone().map(|e| e.tx_hash.as_deref())),
            cols::opt_text(r.clone().map(|e| e.source_ref.as_deref())),
            cols::text(r.clone().map(|e| e.protocol.as_str())),
            cols::text(r.clone().map(|e| e.market.as_str())),
            cols::text(r.clone().map(|e| e.kind.as_str())),
            cols::text(r.clone().map(|e| e.account.as_str())),
            cols::text(r.clone().map(|e| e.asset.as_str())),
            wad_col(r.clone().map(|e| e.amount.map(|w| w.0)))?,
            cols::opt_big(r.clone().map(|e| e.amount_raw), TABLE.name, "amount_raw")?,
            cols::opt_text(r.clone().map(|e| e.collateral_asset.as_deref())),
            wad_col(r.clone().map(|e| e.collateral_amount.map(|w| w.0)))?,
            cols::opt_big(
                r.clone().map(|e| e.collateral_amount_raw),
                TABLE.name,
                "collateral_amount_raw",
            )?,
            cols::opt_text(r.clone().map(|e| e.liquidator.as_deref())),
            wad_col(r.clone().map(|e| e.asset_price.map(|w| w.0)))?,
            wad_col(r.clone().map(|e| e.collateral_price.map(|w| w.0)))?,
            cols::opt_text(r.clone().map(|e| e.price_unit.as_deref())),
            wad_col(r.clone().map(|e| e.asset_price_usd.map(|w| w.0)))?,
            wad_col(r.clone().map(|e| e.collateral_price_usd.map(|w| w.0)))?,
            big(|e| e.liquidity_index_raw, "liquidity_index_raw")?,
            big(|e| e.borrow_index_raw, "borrow_index_raw")?,
            big(|e| e.liquidity_rate_raw, "liquidity_rate_raw")?,
            big(|e| e.borrow_rate_raw, "borrow_rate_raw")?,
            big(|e| e.shares_raw, "shares_raw")?,
            big(|e| e.auction_id, "auction_id")?,
            big(|e| e.account_balance_raw, "account_balance_raw")?,
        ];
        Ok(RecordBatch::try_new(TABLE.schema(), cols)?)
    }

    fn decode(batch: &RecordBatch, path: &Path, first: usize) -> Result<Vec<Self>, StoreError> {
        let c = Reader { batch, path, first };
        (0..batch.num_rows())
            .map(|i| {
                Ok(LendingEvent {
                    ts: c.ts("ts", i)?,
                    ts_estimated: c.boolean("ts_estimated", i)?,
                    block: c.opt_i64("block", i)?,
                    tx_index: c.opt_i64("tx_index", i)?,
                    log_index: c.opt_i64("log_index", i)?,
                    tx_hash: c.opt_text("tx_hash", i)?,
                    source_ref: c.opt_text("source_ref", i)?,
                    protocol: c.text("protocol", i)?,
                    market: c.text("market", i)?,
                    kind: c.parse("kind", i, str::parse::<LendingKind>)?,
                    account: c.text("account", i)?,
                    asset: c.text("asset", i)?,
                    amount: c.opt_wad("amount", i)?,
                    amount_raw: c.opt_big("amount_raw", i)?,
                    collateral_asset: c.opt_text("collateral_asset", i)?,
                    collateral_amount: c.opt_wad("collateral_amount", i)?,
                    collateral_amount_raw: c.opt_big("collateral_amount_raw", i)?,
                    liquidator: c.opt_text("liquidator", i)?,
                    asset_price: c.opt_wad("asset_price", i)?,
                    collateral_price: c.opt_wad("collateral_price", i)?,
                    price_unit: c.opt_text("price_unit", i)?,
                    asset_price_usd: c.opt_wad("asset_price_usd", i)?,
                    collateral_price_usd: c.opt_wad("collateral_price_usd", i)?,
                    liquidity_index_raw: c.opt_big("liquidity_index_raw", i)?,
                    borrow_index_raw: c.opt_big("borrow_index_raw", i)?,
                    liquidity_rate_raw: c.opt_big("liquidity_rate_raw", i)?,
                    borrow_rate_raw: c.opt_big("borrow_rate_raw", i)?,
                    shares_raw: c.opt_big("shares_raw", i)?,
                    auction_id: c.opt_big("auction_id", i)?,
                    account_balance_raw: c.opt_big("account_balance_raw", i)?,
                })
            })
            .collect()
    }
}
