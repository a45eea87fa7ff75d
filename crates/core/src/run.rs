//! Typed, in-memory output tables of a run: the event log, liquidations,
//! loan outcomes, series, summary and run metadata. The replay engine
//! produces them; the store writes and reads them (parquet + JSON); the
//! report reads them back without depending on the engine.

use std::collections::BTreeMap;

use crate::{BookOrigin, Micros, Wad};
use serde::{Deserialize, Serialize};

/// Kinds of events in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    OracleUpdate,
    OracleRejected,
    HealthCrossing,
    LiquidationBlocked,
    Liquidation,
    AuctionKick,
    AuctionBid,
    AuctionDeal,
    BadDebt,
    CircuitBreaker,
    MarginChange,
    /// A recorded supply, withdraw, borrow or repay applied to a position
    /// (`amount` signed: + supply/borrow, - withdraw/repay; `reason` the
    /// kind).
    BookChange,
    /// Perps: a margin account closed in full through the order book
    /// (`amount` base units closed, `price` the fill, `value_usd` notional
    /// at mark).
    PerpLiquidation,
    /// Perps: one step of a partial liquidation (Hyperliquid: 20% of a
    /// position above $100k, then a cooldown).
    PerpPartialLiquidation,
    /// Perps: a margin account's equity fell below zero (`value_usd` the
    /// shortfall, `price` the bankruptcy price when one position).
    Bankruptcy,
    /// Perps: an insurance fund movement (`value_usd` signed: + liquidation
    /// fee in, - shortfall covered; `amount` the balance after).
    InsuranceFund,
    /// Perps: a profitable opposite position closed by auto-deleveraging at
    /// the bankruptcy price (`amount` base units, `value_usd` the profit it
    /// gave up against the mark).
    Adl,
    /// Perps: the backstop vault took over a margin account's positions
    /// (`value_usd` the equity it received, negative when it absorbed a
    /// deficit).
    BackstopTakeover,
    /// Perps: a shortfall charged to profitable opposite positions pro rata
    /// (`value_usd` one account's share).
    SocialisedLoss,
}

impl EventKind {
    /// Stable name (the parquet column value).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::OracleUpdate => "oracle_update",
            EventKind::OracleRejected => "oracle_rejected",
            EventKind::HealthCrossing => "health_crossing",
            EventKind::LiquidationBlocked => "liquidation_blocked",
            EventKind::Liquidation => "liquidation",
            EventKind::AuctionKick => "auction_kick",
            EventKind::AuctionBid => "auction_bid",
            EventKind::AuctionDeal => "auction_deal",
            EventKind::BadDebt => "bad_debt",
            EventKind::CircuitBreaker => "circuit_breaker",
            EventKind::MarginChange => "margin_change",
            EventKind::BookChange => "book_change",
            EventKind::PerpLiquidation => "perp_liquidation",
            EventKind::PerpPartialLiquidation => "perp_partial_liquidation",
            EventKind::Bankruptcy => "bankruptcy",
            EventKind::InsuranceFund => "insurance_fund",
            EventKind::Adl => "adl",
            EventKind::BackstopTakeover => "backstop_takeover",
            EventKind::SocialisedLoss => "socialised_loss",
        }
    }

    /// Every variant, in declaration order.
    pub const ALL: &'static [EventKind] = &[
        EventKind::OracleUpdate,
        EventKind::OracleRejected,
        EventKind::HealthCrossing,
        EventKind::LiquidationBlocked,
        EventKind::Liquidation,
        EventKind::AuctionKick,
        EventKind::AuctionBid,
        EventKind::AuctionDeal,
        EventKind::BadDebt,
        EventKind::CircuitBreaker,
        EventKind::MarginChange,
        EventKind::BookChange,
        EventKind::PerpLiquidation,
        EventKind::PerpPartialLiquidation,
        EventKind::Bankruptcy,
        EventKind::InsuranceFund,
        EventKind::Adl,
        EventKind::BackstopTakeover,
        EventKind::SocialisedLoss,
    ];

    /// Inverse of [`EventKind::as_str`].
    pub fn parse(s: &str) -> Option<EventKind> {
        Self::ALL.iter().copied().find(|v| v.as_str() == s)
    }
}

/// Why something happened or did not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Oracle answer stale or in an outage.
    OracleStale,
    /// Gas makes the position not worth liquidating (too small).
    BelowDust,
    /// Below the liquidator's minimum profit for other reasons.
    Unprofitable,
    /// The liquidator lacks capital.
    NoLiquidatorCapital,
    /// Slippage / exhausted depth makes the sale not worth it.
    NoLiquidity,
    /// A circuit breaker paused liquidations.
    Paused,
    /// Aave v3.3 `MUST_NOT_LEAVE_DUST`.
    MustNotLeaveDust,
    /// Gas price above the liquidator's ceiling: the transaction did not land.
    GasTooHigh,
    /// Health fell below the warning level.
    BelowWarn,
    /// Health fell below 1: liquidatable.
    BelowOne,
    /// Health rose back above a level.
    Recovered,
    /// The anchor bounds rejected an oracle answer.
    AnchorRejected,
    /// Aave v3.3 deficit booked (no collateral left).
    Deficit,
    /// A Maker auction raised less than the debt.
    AuctionShortfall,
    /// Realised volatility above / back below the dynamic margin threshold.
    VolatilityHigh,
    VolatilityNormal,
    /// Circuit breaker tripped.
    PriceMove,
    /// Book changes: the owner supplied, withdrew, borrowed or repaid.
    Supply,
    Withdraw,
    Borrow,
    Repay,
    /// Perps: margin account equity below the maintenance margin.
    BelowMaintenance,
    /// Perps: equity below the backstop threshold (Hyperliquid: 2/3 of the
    /// maintenance margin).
    BelowBackstop,
    /// Perps: a liquidation fee paid into the insurance fund.
    LiquidationFee,
    /// Perps: the insurance fund covered a shortfall.
    ShortfallCovered,
    /// Perps: the insurance fund could not cover a shortfall; the loss went
    /// to auto-deleveraging, socialisation or the backstop vault.
    InsuranceExhausted,
    /// Perps: a partial liquidation's cooldown holds the next step.
    Cooldown,
}

impl Reason {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::OracleStale => "oracle_stale",
            Reason::BelowDust => "below_dust",
            Reason::Unprofitable => "unprofitable",
            Reason::NoLiquidatorCapital => "no_liquidator_capital",
            Reason::NoLiquidity => "no_liquidity",
            Reason::Paused => "paused",
            Reason::MustNotLeaveDust => "must_not_leave_dust",
            Reason::GasTooHigh => "gas_too_high",
            Reason::BelowWarn => "below_warn",
            Reason::BelowOne => "below_one",
            Reason::Recovered => "recovered",
            Reason::AnchorRejected => "anchor_rejected",
            Reason::Deficit => "deficit",
            Reason::AuctionShortfall => "auction_shortfall",
            Reason::VolatilityHigh => "volatility_high",
            Reason::VolatilityNormal => "volatility_normal",
            Reason::PriceMove => "price_move",
            Reason::Supply => "supply",
            Reason::Withdraw => "withdraw",
            Reason::Borrow => "borrow",
            Reason::Repay => "repay",
            Reason::BelowMaintenance => "below_maintenance",
            Reason::BelowBackstop => "below_backstop",
            Reason::LiquidationFee => "liquidation_fee",
            Reason::ShortfallCovered => "shortfall_covered",
            Reason::InsuranceExhausted => "insurance_exhausted",
            Reason::Cooldown => "cooldown",
        }
    }

    /// Every variant, in declaration order.
    pub const ALL: &'static [Reason] = &[
        Reason::OracleStale,
        Reason::BelowDust,
        Reason::Unprofitable,
        Reason::NoLiquidatorCapital,
        Reason::NoLiquidity,
        Reason::Paused,
        Reason::MustNotLeaveDust,
        Reason::GasTooHigh,
        Reason::BelowWarn,
        Reason::BelowOne,
        Reason::Recovered,
        Reason::AnchorRejected,
        Reason::Deficit,
        Reason::AuctionShortfall,
        Reason::VolatilityHigh,
        Reason::VolatilityNormal,
        Reason::PriceMove,
        Reason::Supply,
        Reason::Withdraw,
        Reason::Borrow,
        Reason::Repay,
        Reason::BelowMaintenance,
        Reason::BelowBackstop,
        Reason::LiquidationFee,
        Reason::ShortfallCovered,
        Reason::InsuranceExhausted,
        Reason::Cooldown,
    ];

    /// Inverse of [`Reason::as_str`].
    pub fn parse(s: &str) -> Option<Reason> {
        Self::ALL.iter().copied().find(|v| v.as_str() == s)
    }
}

/// One event of the sequence-numbered log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    pub seq: u64,
    pub ts: Micros,
    pub kind: EventKind,
    pub account: Option<String>,
    pub asset: Option<String>,
    /// Token amount (seized collateral, bid lot, deficit, ...).
    pub amount: Option<Wad>,
    /// USD value (repaid debt, bid, bad debt, ...).
    pub value_usd: Option<Wad>,
    /// Price (oracle answer, auction price).
    pub price: Option<Wad>,
    /// Health factor (wad).
    pub health: Option<Wad>,
    /// Liquidator or keeper.
    pub actor: Option<String>,
    pub reason: Option<Reason>,
}

impl EventRecord {
    /// An event with only its number, time and kind set.
    pub fn new(seq: u64, ts: Micros, kind: EventKind) -> EventRecord {
        EventRecord {
            seq,
            ts,
            kind,
            account: None,
            asset: None,
            amount: None,
            value_usd: None,
            price: None,
            health: None,
            actor: None,
            reason: None,
        }
    }
}

/// One executed liquidation (or settled auction).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiquidationRecord {
    pub seq: u64,
    pub ts: Micros,
    pub account: String,
    pub market: String,
    /// `fixed_spread`, `flip` or `clip`.
    pub mechanism: String,
    pub liquidator: String,
    pub collateral_asset: String,
    pub debt_asset: String,
    /// Debt repaid (debt token units).
    pub debt_repaid: Wad,
    /// Collateral leaving the position (to liquidator + protocol fee).
    pub collateral_seized: Wad,
    /// Of which to the protocol treasury.
    pub protocol_fee: Wad,
    pub repaid_usd: Wad,
    /// Seized collateral at the oracle price.
    pub seized_usd: Wad,
    /// Seized value minus repaid value at oracle prices (bonus, chop).
    pub penalty_usd: Wad,
    pub sale_proceeds_usd: Wad,
    pub slippage_usd: Wad,
    pub gas_usd: Wad,
    pub health_before: Option<Wad>,
    pub health_after: Option<Wad>,
}

/// Outcome class of a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoanStatus {
    Performing,
    AtRisk,
    Liquidated,
    NonPerforming,
    Unpriced,
}

impl LoanStatus {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            LoanStatus::Performing => "performing",
            LoanStatus::AtRisk => "at_risk",
            LoanStatus::Liquidated => "liquidated",
            LoanStatus::NonPerforming => "non_performing",
            LoanStatus::Unpriced => "unpriced",
        }
    }

    /// Every variant, in declaration order.
    pub const ALL: &'static [LoanStatus] = &[
        LoanStatus::Performing,
        LoanStatus::AtRisk,
        LoanStatus::Liquidated,
        LoanStatus::NonPerforming,
        LoanStatus::Unpriced,
    ];

    /// Inverse of [`LoanStatus::as_str`].
    pub fn parse(s: &str) -> Option<LoanStatus> {
        Self::ALL.iter().copied().find(|v| v.as_str() == s)
    }
}

/// A shortfall split by cause; the parts add up to the shortfall exactly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    pub price_gap_usd: Wad,
    pub oracle_usd: Wad,
    pub liquidator_capacity_usd: Wad,
    pub slippage_usd: Wad,
    pub parameters_usd: Wad,
}

impl Attribution {
    /// Sum of the parts.
    pub fn total(&self) -> Wad {
        self.price_gap_usd
            + self.oracle_usd
            + self.liquidator_capacity_usd
            + self.slippage_usd
            + self.parameters_usd
    }

    /// Adds another attribution part by part.
    pub fn add(&mut self, o: &Attribution) {
        self.price_gap_usd += o.price_gap_usd;
        self.oracle_usd += o.oracle_usd;
        self.liquidator_capacity_usd += o.liquidator_capacity_usd;
        self.slippage_usd += o.slippage_usd;
        self.parameters_usd += o.parameters_usd;
    }
}

/// One position's outcome (values at market prices at the end of the window
/// unless said otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoanOutcome {
    pub account: String,
    pub market: String,
    pub status: LoanStatus,
    /// At market prices at the start.
    pub initial_collateral_usd: Wad,
    pub initial_debt_usd: Wad,
    pub final_collateral_usd: Wad,
    pub final_debt_usd: Wad,
    pub repaid_usd: Wad,
    pub seized_usd: Wad,
    pub penalty_usd: Wad,
    /// Debt written off by the protocol (v3.3 deficit, auction shortfall).
    pub written_off_usd: Wad,
    /// Bad debt of the position: written off + (debt - collateral)+.
    pub shortfall_usd: Wad,
    pub liquidations: u32,
    pub min_health: Option<Wad>,
    pub final_health: Option<Wad>,
    /// First time the oracle health fell below 1.
    pub first_liquidatable: Option<Micros>,
    /// The last reason a liquidation was blocked.
    pub last_blocked: Option<Reason>,
    pub attribution: Attribution,
}

/// One time bucket of one asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesPoint {
    /// End of the bucket.
    pub ts: Micros,
    pub asset: String,
    pub market_price: Option<Wad>,
    pub oracle_price: Option<Wad>,
    /// Collateral of this asset seized in the bucket, at oracle prices.
    pub liquidated_usd: Wad,
    /// Realised bad debt (all assets) up to the end of the bucket.
    pub cum_bad_debt_usd: Wad,
}

/// Loss waterfall: who absorbed the losses, in order of subordination.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waterfall {
    /// Equity of liquidated and non-performing borrowers lost (start
    /// equity minus end equity, at market prices, not below zero).
    pub borrower_equity_usd: Wad,
    /// Liquidation penalties paid by borrowers (bonus, chop).
    pub liquidation_penalty_usd: Wad,
    /// Bad debt covered by reserves / insurance (`accounting.insurance_usd`).
    pub reserves_usd: Wad,
    /// Bad debt left to lenders.
    pub socialised_usd: Wad,
}

/// Headline figures of a run (`summary.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub scenario: String,
    pub preset: String,
    pub window_start: Micros,
    pub window_end: Micros,
    pub positions: u64,
    pub book_generated: bool,
    pub book_origin: String,
    pub initial_debt_usd: Wad,
    pub bad_debt_usd: Wad,
    pub npl_count: u64,
    /// NPL count / positions.
    pub npl_ratio: Wad,
    pub liquidated_count: u64,
    pub at_risk_count: u64,
    pub performing_count: u64,
    pub unpriced_count: u64,
    pub liquidation_count: u64,
    /// Debt repaid by liquidations, USD at oracle prices.
    pub liquidated_volume_usd: Wad,
    pub penalty_usd: Wad,
    pub protocol_fees_usd: Wad,
    /// Largest fall of the protocol's reserves (insurance + protocol fees -
    /// bad debt, realised when booked; open shortfall at the window's end)
    /// from a running peak, USD.
    #[serde(default)]
    pub reserves_drawdown_usd: Wad,
    pub auction_incentives_usd: Wad,
    pub blocked_attempts: BTreeMap<String, u64>,
    pub waterfall: Waterfall,
    pub attribution: Attribution,
    pub events: u64,
    /// Lending events of `datasets.lending_events` in the window; absent
    /// when the run had none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lending_events: Option<LendingEventCounts>,
    /// What makes the run hypothetical, one plain-English line each: the
    /// scenario's stress transforms and uncited oracle overrides. Empty
    /// (and absent from `summary.json`): the run replays what happened.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hypothetical: Vec<String>,
    /// Perpetual swaps of the run (`[perp]`): outcome counts, loss
    /// waterfall (trader equity, fees, insurance fund, backstop vault, ADL
    /// counterparties, socialised), ledger, totals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub perp: Option<crate::perp_run::PerpSummary>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// What became of the lending events of a run (`summary.json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LendingEventCounts {
    /// Events in the window handed to the engine.
    pub total: u64,
    /// Events applied to the book (each one a `book_change` in the log).
    pub applied: u64,
    /// Of those, events between the book's snapshot time (`Book::as_of`)
    /// and the window start, applied at the start.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub before_window: u64,
    /// Applied events by kind (`supply`, `withdraw`, `borrow`, `repay`).
    pub applied_by_kind: BTreeMap<String, u64>,
    /// Withdrawals and repayments larger than the leg, clamped at zero
    /// (counted in `applied` too).
    pub clamped: u64,
    /// Positions opened by events (account and market not in the book).
    pub new_positions: u64,
    /// Events not applied, by reason: `unknown_asset` (not in
    /// `policy.assets`), `unknown_market` (no position of the book has
    /// it), `unknown_account` (a withdraw or repay of an account without a
    /// position), `no_amount`, `negative_amount`, `zero_amount`,
    /// `observed_only` (liquidations and deficits of the data: the replay
    /// makes its own), `kind_not_replayed` (index updates, auctions),
    /// `outside_window`, `in_snapshot` (at or before the book's snapshot time).
    pub ignored: BTreeMap<String, u64>,
}

/// Provenance of a run (`run.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunMeta {
    /// First 16 hex of sha256(resolved config, input hashes, version).
    pub run_id: String,
    pub version: String,
    pub seed: u64,
    pub resolved_config: String,
    pub input_hashes: BTreeMap<String, String>,
    /// sha256 of the event log as JSON lines.
    pub event_log_sha256: String,
    pub book_origin: BookOrigin,
}

/// A figure of a run that can be set against a published one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Bad debt (shortfall) in USD.
    BadDebtUsd,
    /// Debt repaid by liquidations, USD.
    LiquidatedVolumeUsd,
    /// Collateral seized by liquidations, USD at oracle prices.
    LiquidatedCollateralUsd,
    /// Number of non-performing loans.
    NplCount,
    /// Number of liquidations (or settled auctions).
    LiquidationCount,
    /// Liquidation penalties (bonus, chop) paid by borrowers, USD.
    PenaltyUsd,
    /// Share of settled auctions won with a zero bid (under one dollar).
    ZeroBidAuctionShare,
    /// Collateral (USD at oracle prices) sold in auctions won with a zero
    /// bid (under one dollar).
    ZeroBidCollateralUsd,
}

impl Metric {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::BadDebtUsd => "bad_debt_usd",
            Metric::LiquidatedVolumeUsd => "liquidated_volume_usd",
            Metric::LiquidatedCollateralUsd => "liquidated_collateral_usd",
            Metric::NplCount => "npl_count",
            Metric::LiquidationCount => "liquidation_count",
            Metric::PenaltyUsd => "penalty_usd",
            Metric::ZeroBidAuctionShare => "zero_bid_auction_share",
            Metric::ZeroBidCollateralUsd => "zero_bid_collateral_usd",
        }
    }

    /// Every variant, in declaration order.
    pub const ALL: &'static [Metric] = &[
        Metric::BadDebtUsd,
        Metric::LiquidatedVolumeUsd,
        Metric::LiquidatedCollateralUsd,
        Metric::NplCount,
        Metric::LiquidationCount,
        Metric::PenaltyUsd,
        Metric::ZeroBidAuctionShare,
        Metric::ZeroBidCollateralUsd,
    ];

    /// Inverse of [`Metric::as_str`].
    pub fn parse(s: &str) -> Option<Metric> {
        Self::ALL.iter().copied().find(|v| v.as_str() == s)
    }

    /// How the figure reads: `usd`, `count` or `ratio`.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::NplCount | Metric::LiquidationCount => "count",
            Metric::ZeroBidAuctionShare => "ratio",
            _ => "usd",
        }
    }
}

/// A published figure of a crisis, with its source, that a run of the same
/// crisis is set against (scenario `[[references]]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reference {
    pub metric: Metric,
    /// What the figure is (`Maker system deficit`).
    pub label: String,
    /// The central published value (USD, count, or ratio 0..1).
    pub value: Wad,
    /// Range where sources disagree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<Wad>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<Wad>,
    /// Where the figure comes from (publication, URL).
    pub source: String,
    /// What the model includes and leaves out compared with the figure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Everything a run produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutput {
    pub events: Vec<EventRecord>,
    pub liquidations: Vec<LiquidationRecord>,
    pub loans: Vec<LoanOutcome>,
    pub series: Vec<SeriesPoint>,
    pub summary: Summary,
    pub run_meta: RunMeta,
    /// Perpetual positions' outcomes, when the scenario has `[perp]`.
    pub perp: Option<crate::perp_run::PerpRun>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_names_round_trip() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(*k));
            let j = serde_json::to_string(k).unwrap();
            assert_eq!(j, format!("\"{}\"", k.as_str()));
        }
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.as_str()), Some(*r));
            let j = serde_json::to_string(r).unwrap();
            assert_eq!(j, format!("\"{}\"", r.as_str()));
        }
        for s in LoanStatus::ALL {
            assert_eq!(LoanStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(EventKind::ALL.len(), 19);
        assert_eq!(Reason::ALL.len(), 27);
        assert_eq!(LoanStatus::ALL.len(), 5);
        assert_eq!(Reason::parse("nope"), None);
        for m in Metric::ALL {
            assert_eq!(Metric::parse(m.as_str()), Some(*m));
            let j = serde_json::to_string(m).unwrap();
            assert_eq!(j, format!("\"{}\"", m.as_str()));
        }
    }
}
