//! Canonical rows of the `prices` and `oracle_rounds` tables, as the ingest
//! adapters produce them and the replay engine consumes them.

use serde::{Deserialize, Serialize};

use crate::{Micros, Wad};

/// One candle (or a trade print, with open = high = low = close).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceBar {
    /// Start of the bar.
    pub ts: Micros,
    pub venue: String,
    pub base: String,
    pub quote: String,
    /// Bar length in seconds (0 for a single print).
    pub interval_secs: i64,
    pub open: Wad,
    pub high: Wad,
    pub low: Wad,
    pub close: Wad,
    /// Volume in base units, when the source has it.
    pub volume_base: Option<Wad>,
    /// Volume in quote units, when the source has it.
    pub volume_quote: Option<Wad>,
    pub trades: Option<i64>,
}

impl PriceBar {
    /// A bar at one price (open = high = low = close), without volume: a
    /// constant peg, a single print, or a test fixture.
    pub fn flat(
        ts: Micros,
        venue: &str,
        base: &str,
        quote: &str,
        interval_secs: i64,
        price: Wad,
    ) -> PriceBar {
        PriceBar {
            ts,
            venue: venue.into(),
            base: base.into(),
            quote: quote.into(),
            interval_secs,
            open: price,
            high: price,
            low: price,
            close: price,
            volume_base: None,
            volume_quote: None,
            trades: None,
        }
    }

    /// Canonical sort key: (ts, venue, base, quote). The quote is part of the
    /// key so ETH/USDT and ETH/BTC of one venue never collide.
    pub fn key(&self) -> (Micros, &str, &str, &str) {
        (self.ts, &self.venue, &self.base, &self.quote)
    }
}

/// One oracle answer (a Chainlink round, a Maker OSM poke, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OracleRound {
    /// When the answer took effect on chain (`updatedAt`).
    pub ts: Micros,
    /// Feed name, e.g. `chainlink:USDC/USD`.
    pub feed: String,
    pub base: String,
    pub quote: String,
    /// Round id as a decimal string: Chainlink proxy ids are
    /// `phaseId << 64 | aggregatorRoundId` and exceed 64 bits.
    pub round_id: u128,
    pub phase_id: Option<i64>,
    pub aggregator_round_id: Option<i64>,
    pub answer: Wad,
    pub started_at: Option<Micros>,
    pub answered_in_round: Option<u128>,
    /// Carried over from an earlier round (`answeredInRound < roundId`).
    pub stale: bool,
    pub block: Option<i64>,
}

impl OracleRound {
    /// Canonical sort key: (ts, feed, round).
    pub fn key(&self) -> (Micros, &str, u128) {
        (self.ts, &self.feed, self.round_id)
    }
}

/// Market depth of one asset at one time: the USD value the replay's
/// liquidity model uses as `depth` (for the constant-product model, the
/// USD on each side of the pool; for the linear model, the sale that would
/// take the average price to zero).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiquidityRow {
    pub ts: Micros,
    pub venue: String,
    pub asset: String,
    pub quote: String,
    pub depth_usd: Wad,
}
