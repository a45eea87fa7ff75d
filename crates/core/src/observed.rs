//! Canonical rows of the `observed_auctions` table: liquidations and
//! auctions that really happened (Maker flip auctions, Compound
//! `LiquidateBorrow`), as the source recorded them, for forensics and for
//! scoring replays against what happened.
//!
//! Every text field comes from chain data or an export of it, so it is
//! untrusted: whoever renders it must escape it.

use serde::{Deserialize, Serialize};

use crate::{Micros, Wad};

/// One observed liquidation or auction.
///
/// Amounts are in token units as the source gave them. A source that wrote
/// amounts as floats or rounded them loses digits: `amount_rel_error` bounds
/// the relative error of `collateral_amount` and `debt_amount` from the
/// digits the source kept (zero only for exact integer base units), and
/// `rounded` says the source rounded them to fewer significant digits than
/// a float holds (a spreadsheet's 4-5 digits), so they are never silently
/// taken for exact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedAuction {
    /// Settlement time: the deal of an auction, the block of a liquidation
    /// call; for an auction without a deal in the source, its last bid.
    pub ts: Micros,
    /// Resolution of `ts` in the source, seconds (1 for block timestamps,
    /// 60 for `dd/mm/yy hh:mm`).
    pub ts_precision_secs: i64,
    pub block: Option<i64>,
    /// Transaction of the settlement (liquidation call, deal), when known.
    pub tx_hash: Option<String>,
    pub log_index: Option<i64>,
    /// File and line the row came from.
    pub source_ref: String,
    /// `maker`, `compound_v2`, `aave_v2`.
    pub protocol: String,
    /// Ilk (`ETH-A`) or market (`cDAI`).
    pub market: String,
    /// `flip` (English auction) or `fixed_spread` (liquidation call).
    pub mechanism: String,
    /// `dealt`, `not_dealt` (bids but no deal in the source), `executed`.
    pub state: String,
    pub auction_id: Option<u128>,
    /// Liquidated vault or borrower, when the source names it.
    pub account: Option<String>,
    /// Liquidator or winning bidder, when the source names it.
    pub liquidator: Option<String>,
    /// Collateral sold or seized.
    pub collateral_asset: String,
    /// Collateral sold (the lot at the winning bid) or seized, token units.
    pub collateral_amount: Wad,
    /// Debt asset repaid or raised (`DAI`).
    pub debt_asset: String,
    /// Debt repaid, or raised by the winning bid, token units.
    pub debt_amount: Wad,
    /// Debt units paid per collateral unit, when the source gives it.
    pub price_paid: Option<Wad>,
    pub bid_count: Option<i64>,
    pub last_bid_ts: Option<Micros>,
    pub last_bid_block: Option<i64>,
    pub last_bid_tx: Option<String>,
    /// Gas price of the settlement transaction, gwei.
    pub gas_price_gwei: Option<Wad>,
    /// Gas cost of the settlement transaction, USD, as the source computed it.
    pub gas_cost_usd: Option<Wad>,
    /// The protocol's oracle price of the collateral at settlement, USD.
    pub oracle_price_usd: Option<Wad>,
    /// Market price of the collateral at settlement, USD, as the source recorded it.
    pub market_price_usd: Option<Wad>,
    /// Market price of the debt asset at settlement, USD, as the source recorded it.
    pub debt_price_usd: Option<Wad>,
    /// The source rounded the amounts to fewer digits than a float holds.
    pub rounded: bool,
    /// Bound on the relative error of the amounts from the digits the source kept.
    pub amount_rel_error: Wad,
    /// Why a figure is missing or suspect, empty when none.
    pub note: String,
}

/// Key of an observed row: settlement time, protocol, market, chain
/// position, auction id, then the account and the amounts (exports without
/// a chain position, such as the Aave v2 subgraph's, tell events of one
/// second apart only by these).
pub type ObservedKey = (
    Micros,
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<u128>,
    Option<String>,
    String,
    Wad,
    String,
    Wad,
);

impl ObservedAuction {
    /// Canonical sort key.
    pub fn key(&self) -> ObservedKey {
        (
            self.ts,
            self.protocol.clone(),
            self.market.clone(),
            self.block,
            self.log_index,
            self.auction_id,
            self.account.clone(),
            self.debt_asset.clone(),
            self.debt_amount,
            self.collateral_asset.clone(),
            self.collateral_amount,
        )
    }
}
