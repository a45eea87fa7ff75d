//! The perpetual swaps section of a run report: outcomes, the loss
//! waterfall from trader equity to ADL counterparties, the insurance fund
//! over time, who was auto-deleveraged and how much profit they gave up,
//! the bankrupt accounts, and the ledger check.

use serde::{Deserialize, Serialize};
use shortfall_core::perp_run::{PerpRun, PerpStatus, PerpSummary};
use shortfall_core::{Micros, Wad};

pub use crate::charts::fund::FundPoint;
use crate::format as f;

/// One line of the perp loss waterfall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerpLossRow {
    pub label: String,
    pub value: String,
    pub value_usd: Wad,
    pub share: String,
}

/// An auto-deleveraged position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdlRow {
    pub account: String,
    pub instrument: String,
    pub side: String,
    pub size_start: String,
    pub deleveraged: String,
    pub profit_lost: String,
}

/// A bankrupt (or backstopped) margin account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankruptRow {
    pub account: String,
    pub mode: String,
    pub status: String,
    pub first_liquidation: String,
    pub equity_start: String,
    pub shortfall: String,
    pub insurance_fund: String,
    pub adl: String,
    pub backstop: String,
    pub unabsorbed: String,
}

/// The section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerpSection {
    pub preset: String,
    pub absorber: String,
    pub book_origin: String,
    pub book_generated: bool,
    pub positions: String,
    pub accounts: String,
    pub outcomes: Vec<(String, String)>,
    pub cards: Vec<(String, String)>,
    pub waterfall: Vec<PerpLossRow>,
    pub trader_equity: String,
    pub liquidation_fees: String,
    pub fund: Vec<FundPoint>,
    pub adl: Vec<AdlRow>,
    pub adl_total: String,
    pub adl_count: String,
    pub bankrupt: Vec<BankruptRow>,
    pub bankrupt_count: String,
    pub ledger_residual: String,
    pub ledger_ok: bool,
}

/// At most this many points in the insurance fund chart (the last of each
/// stretch kept).
const FUND_POINTS: usize = 2000;

fn status_label(s: PerpStatus) -> &'static str {
    match s {
        PerpStatus::Performing => "performing",
        PerpStatus::Deleveraged => "deleveraged (ADL counterparty)",
        PerpStatus::PartiallyLiquidated => "partially liquidated",
        PerpStatus::Liquidated => "liquidated",
        PerpStatus::Backstopped => "taken over by the backstop vault",
        PerpStatus::Bankrupt => "bankrupt (shortfall absorbed)",
    }
}

fn waterfall(s: &PerpSummary) -> Vec<PerpLossRow> {
    let w = &s.waterfall;
    let row = |label: &str, v: Wad| PerpLossRow {
        label: label.into(),
        value: f::usd(v),
        value_usd: v,
        share: f::share(v, w.shortfall_usd),
    };
    vec![
        row("Insurance fund", w.insurance_fund_usd),
        row("Backstop vault", w.backstop_usd),
        row("ADL counterparties (profit given up)", w.adl_usd),
        row("Socialised across winners", w.socialised_usd),
        row("Unabsorbed (negative equity left)", w.unabsorbed_usd),
    ]
}

fn cards(s: &PerpSummary) -> Vec<(String, String)> {
    let t = &s.totals;
    vec![
        (
            "Shortfall beyond trader equity".to_string(),
            f::usd(s.waterfall.shortfall_usd),
        ),
        (
            "Insurance fund".to_string(),
            format!(
                "{} → {}",
                f::usd(t.insurance_fund_start_usd),
                f::usd(t.insurance_fund_end_usd)
            ),
        ),
        (
            "Liquidations".to_string(),
            format!(
                "{} ({} partial)",
                f::count(t.liquidations),
                f::count(t.partial_liquidations)
            ),
        ),
        (
            "ADL".to_string(),
            format!(
                "{} fills, {} accounts",
                f::count(t.adl_events),
                f::count(t.deleveraged_accounts)
            ),
        ),
    ]
}

/// The insurance fund's balances, at most [`FUND_POINTS`] (the last of
/// each stretch kept), the last one held to `valued_to`.
fn fund(r: &PerpRun, valued_to: Option<Micros>) -> Vec<FundPoint> {
    let mut fund = Vec::new();
    let n = r.insurance_fund.len();
    let stride = n.div_ceil(FUND_POINTS).max(1);
    for (i, (ts, b)) in r.insurance_fund.iter().enumerate() {
        if i % stride == stride - 1 || i + 1 == n || i == 0 {
            fund.push(FundPoint {
                ts: f::minute(*ts),
                secs: ts.0 / Micros::PER_SEC,
                balance_usd: *b,
            });
        }
    }
    if let (Some(last), Some(end)) = (fund.last().cloned(), valued_to) {
        let end_secs = end.0 / Micros::PER_SEC;
        if end_secs > last.secs {
            fund.push(FundPoint {
                ts: f::minute(end),
                secs: end_secs,
                balance_usd: last.balance_usd,
            });
        }
    }
    fund
}

/// The `top` auto-deleveraged positions by profit given up, their count
/// and total.
fn adl(r: &PerpRun, top: usize) -> (Vec<AdlRow>, u64, Wad) {
    let mut d: Vec<_> = r
        .positions
        .iter()
        .filter(|p| p.deleveraged_size > Wad::ZERO)
        .collect();
    let count = d.len() as u64;
    let total = d.iter().fold(Wad::ZERO, |a, p| a + p.adl_loss_usd);
    d.sort_by(|a, b| {
        b.adl_loss_usd
            .cmp(&a.adl_loss_usd)
            .then(a.account.cmp(&b.account))
    });
    let rows = d
        .into_iter()
        .take(top)
        .map(|p| AdlRow {
            account: p.account.clone(),
            instrument: p.instrument.clone(),
            side: p.side.as_str().to_string(),
            size_start: f::amount(p.size_start),
            deleveraged: f::amount(p.deleveraged_size),
            profit_lost: f::usd(p.adl_loss_usd),
        })
        .collect();
    (rows, count, total)
}

/// The `top` bankrupt or backstopped accounts by shortfall, and their
/// count.
fn bankrupt(r: &PerpRun, top: usize) -> (Vec<BankruptRow>, u64) {
    let mut b: Vec<_> = r
        .accounts
        .iter()
        .filter(|a| a.shortfall_usd > Wad::ZERO || a.status == PerpStatus::Backstopped)
        .collect();
    let count = b.len() as u64;
    b.sort_by(|x, y| {
        y.shortfall_usd
            .cmp(&x.shortfall_usd)
            .then(x.account.cmp(&y.account))
    });
    let rows = b
        .into_iter()
        .take(top)
        .map(|a| BankruptRow {
            account: a.account.clone(),
            mode: a.margin_mode.as_str().to_string(),
            status: status_label(a.status).to_string(),
            first_liquidation: a.first_liquidation.map(f::minute).unwrap_or_default(),
            equity_start: f::usd(a.equity_start_usd),
            shortfall: f::usd(a.shortfall_usd),
            insurance_fund: f::usd(a.insurance_fund_usd),
            adl: f::usd(a.adl_usd),
            backstop: f::usd(a.backstop_usd),
            unabsorbed: f::usd(a.unabsorbed_usd),
        })
        .collect();
    (rows, count)
}

/// The section of a run with `[perp]`; `top` rows per table.
pub fn build_perp(s: &PerpSummary, run: Option<&PerpRun>, top: usize) -> PerpSection {
    let t = &s.totals;
    let outcomes = PerpStatus::ALL
        .into_iter()
        .filter_map(|st| {
            let n = s.status_counts.get(st.as_str())?;
            Some((status_label(st).to_string(), f::count(*n)))
        })
        .collect();
    let (fund, (adl, adl_count, adl_total), (bankrupt, bankrupt_count)) = match run {
        Some(r) => (fund(r, t.valued_to), adl(r, top), bankrupt(r, top)),
        None => (Vec::new(), (Vec::new(), 0, Wad::ZERO), (Vec::new(), 0)),
    };
    PerpSection {
        preset: s.preset.clone(),
        absorber: s.absorber.clone(),
        book_origin: s.book_origin.clone(),
        book_generated: s.book_generated,
        positions: f::count(t.positions),
        accounts: f::count(t.accounts),
        outcomes,
        cards: cards(s),
        waterfall: waterfall(s),
        trader_equity: f::usd(s.waterfall.trader_equity_usd),
        liquidation_fees: f::usd(s.waterfall.liquidation_fees_usd),
        fund,
        adl,
        adl_total: f::usd(adl_total),
        adl_count: f::count(adl_count),
        bankrupt,
        bankrupt_count: f::count(bankrupt_count),
        ledger_residual: f::usd(s.ledger.residual_usd),
        ledger_ok: s.ledger.residual_usd.0.unsigned_abs() <= (t.positions as u128 + 1) * 4,
    }
}
