//! Canonical rows of the `lending_events` and `reserves` tables: what
//! happened on chain in a lending protocol, and the parameters of its markets.
//!
//! Every text field (`asset`, `account`, `market`...) comes from chain data or
//! an export of it, so it is untrusted: whoever renders it must escape it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Micros, Wad};

/// What a lending event did. Names follow the protocols' own event names,
/// normalised across protocols (Aave `Deposit`/`Supply` and Compound `Mint`
/// are both `supply`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LendingKind {
    Supply,
    Withdraw,
    Borrow,
    Repay,
    /// A fixed-spread liquidation: `asset`/`amount` is the debt repaid,
    /// `collateral_asset`/`collateral_amount` the collateral seized.
    Liquidation,
    /// Aave `ReserveDataUpdated` / Compound `AccrueInterest`: index updates.
    IndexUpdate,
    /// Aave v3.3 `DeficitCreated`: debt written off when collateral ran out.
    Deficit,
    /// Maker `Bite`/`Bark`: a vault sent to auction.
    AuctionStart,
    /// Maker flip `tend`/`dent`, clip `take`: a bid or purchase in an auction.
    AuctionBid,
    /// Maker flip `deal`: an auction settled.
    AuctionEnd,
}

impl LendingKind {
    pub const ALL: [LendingKind; 10] = [
        LendingKind::Supply,
        LendingKind::Withdraw,
        LendingKind::Borrow,
        LendingKind::Repay,
        LendingKind::Liquidation,
        LendingKind::IndexUpdate,
        LendingKind::Deficit,
        LendingKind::AuctionStart,
        LendingKind::AuctionBid,
        LendingKind::AuctionEnd,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LendingKind::Supply => "supply",
            LendingKind::Withdraw => "withdraw",
            LendingKind::Borrow => "borrow",
            LendingKind::Repay => "repay",
            LendingKind::Liquidation => "liquidation",
            LendingKind::IndexUpdate => "index_update",
            LendingKind::Deficit => "deficit",
            LendingKind::AuctionStart => "auction_start",
            LendingKind::AuctionBid => "auction_bid",
            LendingKind::AuctionEnd => "auction_end",
        }
    }
}

impl fmt::Display for LendingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LendingKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        LendingKind::ALL
            .into_iter()
            .find(|k| k.as_str() == t)
            .ok_or_else(|| {
                let names: Vec<&str> = LendingKind::ALL.iter().map(|k| k.as_str()).collect();
                format!(
                    "unknown event kind `{s}`: expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// One on-chain action of a lending protocol.
///
/// Amounts are in token units (`amount`) and, when the source gave them, in
/// raw base units (`amount_raw`, the integer the contract saw). Prices are
/// those the source recorded at the event (for Aave v2 the oracle's price in
/// ETH), when it has them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LendingEvent {
    pub ts: Micros,
    /// Block time not known and estimated (only when the user asked for it).
    pub ts_estimated: bool,
    pub block: Option<i64>,
    pub tx_index: Option<i64>,
    pub log_index: Option<i64>,
    pub tx_hash: Option<String>,
    /// Where an event without a chain position came from (`export.csv line
    /// 261`): two identical rows of an export may be two real events of one
    /// block, and without a log index only the source line tells them apart.
    pub source_ref: Option<String>,
    /// `aave_v2`, `aave_v3`, `compound_v2`, `maker`.
    pub protocol: String,
    /// Pool, comptroller or ilk the event belongs to.
    pub market: String,
    pub kind: LendingKind,
    /// The borrower or supplier whose position changed.
    pub account: String,
    /// The asset of `amount` (for a liquidation: the debt asset repaid).
    pub asset: String,
    pub amount: Option<Wad>,
    pub amount_raw: Option<u128>,
    /// Liquidations: the collateral asset seized.
    pub collateral_asset: Option<String>,
    pub collateral_amount: Option<Wad>,
    pub collateral_amount_raw: Option<u128>,
    /// Liquidations: who repaid and seized (liquidator, keeper).
    pub liquidator: Option<String>,
    /// Price of `asset` at the event in `price_unit`, as the source recorded it.
    pub asset_price: Option<Wad>,
    /// Price of `collateral_asset` at the event in `price_unit`.
    pub collateral_price: Option<Wad>,
    /// Unit of the two prices above (`ETH` for Aave v2's oracle, `USD`).
    pub price_unit: Option<String>,
    /// USD prices at the event, when the source has them.
    pub asset_price_usd: Option<Wad>,
    pub collateral_price_usd: Option<Wad>,
    /// Index updates: Aave `liquidityIndex` (ray, 27 decimals).
    pub liquidity_index_raw: Option<u128>,
    /// Index updates: Aave `variableBorrowIndex` (ray) or Compound
    /// `borrowIndex` (18 decimals).
    pub borrow_index_raw: Option<u128>,
    /// Index updates: Aave `liquidityRate` (ray per year).
    pub liquidity_rate_raw: Option<u128>,
    /// Index updates: Aave `variableBorrowRate` (ray per year).
    pub borrow_rate_raw: Option<u128>,
    /// Protocol shares moved by the event, base units: Compound cTokens
    /// minted, redeemed or seized (8 decimals).
    pub shares_raw: Option<u128>,
    /// Maker auctions: the auction id (flip or clip).
    pub auction_id: Option<u128>,
    /// The account's balance after the event as the event itself reports
    /// it, base units (Compound `accountBorrows` of Borrow and RepayBorrow).
    pub account_balance_raw: Option<u128>,
}

impl LendingEvent {
    /// The table order: chain position first, then what the event did.
    /// Two events that compare equal are the same event.
    pub fn cmp_order(&self, o: &Self) -> std::cmp::Ordering {
        (self.ts, self.block, self.tx_index, self.log_index)
            .cmp(&(o.ts, o.block, o.tx_index, o.log_index))
            .then_with(|| {
                (
                    &self.protocol,
                    &self.market,
                    self.kind,
                    &self.account,
                    &self.asset,
                )
                    .cmp(&(&o.protocol, &o.market, o.kind, &o.account, &o.asset))
            })
            .then_with(|| {
                (self.amount, &self.collateral_asset, self.collateral_amount).cmp(&(
                    o.amount,
                    &o.collateral_asset,
                    o.collateral_amount,
                ))
            })
            .then_with(|| self.source_ref.cmp(&o.source_ref))
    }

    /// A bare event of `kind` with no amounts, prices or chain position.
    pub fn new(
        ts: Micros,
        protocol: &str,
        market: &str,
        kind: LendingKind,
        account: &str,
        asset: &str,
    ) -> LendingEvent {
        LendingEvent {
            ts,
            ts_estimated: false,
            block: None,
            tx_index: None,
            log_index: None,
            tx_hash: None,
            source_ref: None,
            protocol: protocol.to_string(),
            market: market.to_string(),
            kind,
            account: account.to_string(),
            asset: asset.to_string(),
            amount: None,
            amount_raw: None,
            collateral_asset: None,
            collateral_amount: None,
            collateral_amount_raw: None,
            liquidator: None,
            asset_price: None,
            collateral_price: None,
            price_unit: None,
            asset_price_usd: None,
            collateral_price_usd: None,
            liquidity_index_raw: None,
            borrow_index_raw: None,
            liquidity_rate_raw: None,
            borrow_rate_raw: None,
            shares_raw: None,
            auction_id: None,
            account_balance_raw: None,
        }
    }
}

/// Parameters of one reserve (market asset) of a lending protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reserve {
    pub protocol: String,
    pub market: String,
    pub asset: String,
    pub decimals: u32,
    /// Fraction of collateral value counted towards the health factor (0.85).
    pub liquidation_threshold: Wad,
    /// Bonus paid to liquidators on seized collateral (0.05 for Aave's 10500).
    pub liquidation_bonus: Wad,
    pub usable_as_collateral: Option<bool>,
    pub borrowing_enabled: Option<bool>,
}

/// Forensics of one observed liquidation: what the liquidator repaid and
/// seized, valued at the prices recorded at the event, and the bonus it
/// realised against the bonus configured for the collateral reserve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedLiquidation {
    pub ts: Micros,
    pub block: Option<i64>,
    pub log_index: Option<i64>,
    pub tx_hash: Option<String>,
    /// The event's `source_ref` (export line) when it has no chain position.
    pub source_ref: Option<String>,
    pub protocol: String,
    pub market: String,
    pub account: String,
    pub liquidator: Option<String>,
    pub debt_asset: String,
    pub debt_repaid: Wad,
    pub collateral_asset: String,
    pub collateral_seized: Wad,
    /// Unit of `repaid_value` and `seized_value` (the event's `price_unit`).
    pub value_unit: Option<String>,
    pub repaid_value: Option<Wad>,
    pub seized_value: Option<Wad>,
    pub repaid_usd: Option<Wad>,
    pub seized_usd: Option<Wad>,
    /// `seized_value / repaid_value - 1`, when both prices are known.
    pub realised_bonus: Option<Wad>,
    /// The collateral reserve's configured bonus, when the reserve is known.
    pub configured_bonus: Option<Wad>,
    /// `realised_bonus - configured_bonus`.
    pub bonus_gap: Option<Wad>,
    /// Why a figure is missing or suspect, empty when none.
    pub note: String,
}
