//! What a perp replay produces (outcomes, waterfall, ledger, totals).

use crate::run::EventRecord;
use crate::{MarginMode, Micros, PerpSide, Wad};
use serde::{Deserialize, Serialize};

/// Outcome class of a position (or margin account), worst first in
/// [`PerpStatus::rank`] order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PerpStatus {
    /// Never liquidated nor deleveraged.
    Performing,
    /// Reduced by auto-deleveraging as a profitable counterparty.
    Deleveraged,
    /// Reduced by partial liquidation steps, still open.
    PartiallyLiquidated,
    /// Closed through the book; equity covered the loss.
    Liquidated,
    /// Taken over by the backstop vault.
    Backstopped,
    /// Closed with a shortfall (negative equity) that the insurance fund,
    /// auto-deleveraging, socialisation or the vault absorbed, or that was
    /// left unabsorbed.
    Bankrupt,
}

impl PerpStatus {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            PerpStatus::Performing => "performing",
            PerpStatus::Deleveraged => "deleveraged",
            PerpStatus::PartiallyLiquidated => "partially_liquidated",
            PerpStatus::Liquidated => "liquidated",
            PerpStatus::Backstopped => "backstopped",
            PerpStatus::Bankrupt => "bankrupt",
        }
    }

    /// Every status, best first.
    pub const ALL: [PerpStatus; 6] = [
        PerpStatus::Performing,
        PerpStatus::Deleveraged,
        PerpStatus::PartiallyLiquidated,
        PerpStatus::Liquidated,
        PerpStatus::Backstopped,
        PerpStatus::Bankrupt,
    ];

    /// Inverse of [`PerpStatus::as_str`].
    pub fn parse(s: &str) -> Option<PerpStatus> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// One input position's outcome (positions in input order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerpPositionOutcome {
    pub account: String,
    pub venue: String,
    pub instrument: String,
    pub side: PerpSide,
    pub margin_mode: MarginMode,
    pub status: PerpStatus,
    pub size_start: Wad,
    pub size_end: Wad,
    /// Closed by liquidation (book, takeover or as the bankrupt side of ADL).
    pub liquidated_size: Wad,
    /// Closed as an ADL counterparty.
    pub deleveraged_size: Wad,
    /// Profit given up against the mark as an ADL counterparty.
    pub adl_loss_usd: Wad,
    /// Charged as a winner under socialised loss.
    pub socialised_usd: Wad,
    /// Liquidation steps (full or partial) on this position.
    pub liquidations: u32,
}

/// One margin account's outcome (isolated: one position; cross: an account
/// and venue). Values at mark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerpAccountOutcome {
    pub account: String,
    pub venue: String,
    pub margin_mode: MarginMode,
    /// Input rows of the account's positions.
    pub positions: Vec<usize>,
    pub status: PerpStatus,
    /// Equity at the first mark of the window.
    pub equity_start_usd: Wad,
    /// Equity at the last mark of the window.
    pub equity_end_usd: Wad,
    pub liquidation_fees_usd: Wad,
    /// Negative equity after its liquidation, before absorption.
    pub shortfall_usd: Wad,
    pub insurance_fund_usd: Wad,
    pub adl_usd: Wad,
    pub backstop_usd: Wad,
    pub socialised_usd: Wad,
    pub unabsorbed_usd: Wad,
    pub first_liquidation: Option<Micros>,
}

/// Loss waterfall of the run: who absorbed the losses of liquidated
/// accounts, in order of subordination. `shortfall_usd` = insurance fund +
/// backstop + ADL + socialised + unabsorbed, exactly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerpWaterfall {
    /// Equity lost by liquidated, backstopped and bankrupt accounts (start
    /// equity minus end equity, not below zero), fees included.
    pub trader_equity_usd: Wad,
    /// Liquidation fees paid into the insurance fund.
    pub liquidation_fees_usd: Wad,
    /// Shortfall beyond the traders' equity.
    pub shortfall_usd: Wad,
    /// Drawn from the insurance fund.
    pub insurance_fund_usd: Wad,
    /// Deficits taken by the backstop vault.
    pub backstop_usd: Wad,
    /// Profit given up by ADL counterparties against the mark.
    pub adl_usd: Wad,
    /// Charged to winners.
    pub socialised_usd: Wad,
    /// Left as negative equity (no absorber had capacity).
    pub unabsorbed_usd: Wad,
    /// Positive equity the backstop vault received on takeovers
    /// (Hyperliquid: the maintenance margin is not returned).
    pub backstop_received_usd: Wad,
}

/// Conservation of money: every party valued at the first and last mark.
/// `residual_usd` = Δ traders + Δ insurance fund + Δ backstop vault +
/// book takers - collateral revaluation - unmatched open interest; zero up
/// to rounding of one unit (1e-18) per position valuation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerpLedger {
    pub traders_start_usd: Wad,
    pub traders_end_usd: Wad,
    pub insurance_fund_start_usd: Wad,
    pub insurance_fund_end_usd: Wad,
    pub backstop_start_usd: Wad,
    /// Vault cash plus the value of the positions it took over.
    pub backstop_end_usd: Wad,
    /// Book takers (the market on the other side of liquidation fills):
    /// value of the positions they took over (they start at zero).
    pub book_takers_end_usd: Wad,
    /// Change of the collateral's haircut value from its price (external:
    /// no counterparty in the venue).
    pub collateral_revaluation_usd: Wad,
    /// `(long size - short size)` of the book times the mark change, per
    /// instrument: P&L owed by positions outside the book.
    pub unmatched_oi_usd: Wad,
    pub residual_usd: Wad,
}

/// Counts and headline figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerpTotals {
    pub positions: u64,
    pub accounts: u64,
    /// First and last time the book was valued.
    pub valued_from: Option<Micros>,
    pub valued_to: Option<Micros>,
    pub liquidations: u64,
    pub partial_liquidations: u64,
    pub bankruptcies: u64,
    pub backstop_takeovers: u64,
    /// ADL fills (one per counterparty position per bankrupt position).
    pub adl_events: u64,
    pub deleveraged_accounts: u64,
    pub socialised_events: u64,
    /// Notional closed by liquidation at mark.
    pub liquidated_notional_usd: Wad,
    pub insurance_fund_start_usd: Wad,
    pub insurance_fund_end_usd: Wad,
    pub insurance_fund_min_usd: Wad,
    pub backstop_vault_cash_end_usd: Wad,
    /// Events produced (also when `lean` drops them).
    pub events: u64,
    /// Exact margin evaluations (the cost measure: events, not positions x
    /// ticks).
    pub evaluations: u64,
    pub price_updates: u64,
}

/// Everything a perp replay produces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerpOutput {
    /// Sequence-numbered event log (empty when `lean`).
    pub events: Vec<EventRecord>,
    pub positions: Vec<PerpPositionOutcome>,
    pub accounts: Vec<PerpAccountOutcome>,
    /// Insurance fund balance after each change (and at the start).
    pub insurance_fund: Vec<(Micros, Wad)>,
    pub waterfall: PerpWaterfall,
    pub ledger: PerpLedger,
    pub totals: PerpTotals,
}

/// The derivatives part of a run's summary (`summary.json` `perp`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerpSummary {
    /// `binance_2021`, `hyperliquid` or `custom`.
    pub preset: String,
    /// Who takes losses the insurance fund cannot (`adl`, `socialised`,
    /// `backstop`).
    pub absorber: String,
    /// Where the positions came from (snapshot or generator spec).
    pub book_origin: String,
    pub book_generated: bool,
    /// Positions by outcome class ([`PerpStatus::as_str`]).
    pub status_counts: std::collections::BTreeMap<String, u64>,
    pub waterfall: PerpWaterfall,
    pub ledger: PerpLedger,
    pub totals: PerpTotals,
}

/// The derivatives outputs of a run: written as `perp_positions.parquet`
/// (one row per input position), `perp_accounts.parquet` (one per margin
/// account) and `perp_insurance_fund.parquet` (the fund's balance after
/// each change); the events are in the run's one event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerpRun {
    pub positions: Vec<PerpPositionOutcome>,
    pub accounts: Vec<PerpAccountOutcome>,
    pub insurance_fund: Vec<(Micros, Wad)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_round_trip() {
        for s in PerpStatus::ALL {
            assert_eq!(PerpStatus::parse(s.as_str()), Some(s));
            let j = serde_json::to_string(&s).unwrap();
            assert_eq!(j, format!("\"{}\"", s.as_str()));
        }
        assert_eq!(PerpStatus::parse("solvent"), None);
    }
}
