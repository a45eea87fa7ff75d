//! The observed-auctions report: forensics of the `observed_auctions` table
//! of a dataset. Maker flip auctions hour by hour (zero-bid share against
//! the gas price and the OSM/market gap, ETH sold below market, DAI raised
//! against the collateral's value) and fixed-spread liquidation calls
//! (liquidator concentration, timing, collateral mix). Every string from
//! data is escaped by the template engine.

use serde::Serialize;
use shortfall_core::{Micros, Wad};
use shortfall_forensics::auctions::{CallForensics, MakerForensics, ZERO_BID_PRICE};
use shortfall_store::manifest::Manifest;

use crate::error::ReportError;
use crate::format as f;
use crate::observed::SourceRow;
use crate::render::{Page, Templates};
use crate::widgets::Card;

/// Hours listed in the Maker table (the busiest, in time order).
pub const MAX_HOURS: usize = 72;

/// Options of an observed-auctions report.
#[derive(Debug, Clone)]
pub struct AuctionsOptions {
    pub dataset: String,
    pub timestamp: Option<String>,
    pub top_n: usize,
    pub command: String,
    /// The window the figures cover, as the user gave it.
    pub window: Option<(Micros, Micros)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MakerHourRow {
    pub hour: String,
    pub dealt: String,
    pub zero_bids: String,
    pub zero_bid_share: String,
    pub eth_sold: String,
    pub dai_raised: String,
    pub gas_gwei: String,
    pub osm: String,
    pub market: String,
    pub gap: String,
    pub below_market_usd: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MakerView {
    pub headline: Vec<Card>,
    /// (label, zero-bid share) of the gas and gap splits.
    pub splits: Vec<(String, String)>,
    pub hours_note: String,
    pub hours: Vec<MakerHourRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShareRow {
    pub name: String,
    pub events: String,
    pub repaid: String,
    pub share: String,
    pub seized: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CallHourRow {
    pub hour: String,
    pub events: String,
    pub repaid: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CallView {
    pub protocol: String,
    pub debt_asset: String,
    pub headline: Vec<Card>,
    pub liquidators: Vec<ShareRow>,
    pub collateral: Vec<ShareRow>,
    pub hours: Vec<CallHourRow>,
    pub not_in_source: String,
}

/// Everything the report shows (its JSON twin).
#[derive(Debug, Clone, Serialize)]
pub struct AuctionsReport {
    pub title: String,
    pub generated_at: Option<String>,
    pub period: String,
    pub maker: Option<MakerView>,
    pub calls: Vec<CallView>,
    pub sources: Vec<SourceRow>,
    pub command: String,
}

fn opt(v: Option<Wad>, fmt: impl FnOnce(Wad) -> String) -> String {
    f::or_dash(v, fmt)
}

fn maker_headline(m: &MakerForensics) -> Vec<Card> {
    vec![
        Card::new("dealt", "Auctions dealt", f::count(m.dealt)),
        Card::new(
            "zero_bid_share",
            format!("Zero bids (below {} DAI per ETH)", f::price(ZERO_BID_PRICE)),
            format!("{} ({})", f::count(m.zero_bids), f::pct(m.zero_bid_share)),
        ),
        Card::new("eth_sold", "ETH sold", f::amount(m.eth_sold)),
        Card::new(
            "eth_zero_bid",
            "ETH sold for zero bids",
            f::amount(m.eth_zero_bid),
        ),
        Card::new("dai_raised", "DAI raised", f::amount(m.dai_raised)),
        Card::new(
            "market_value_usd",
            "ETH sold, at market (USD)",
            f::usd(m.market_value_usd),
        ),
        Card::new(
            "below_market_usd",
            "Sold below market (USD)",
            f::usd(m.below_market_usd),
        ),
        Card::new(
            "osm_value_usd",
            "ETH sold, at the OSM price (USD)",
            f::usd(m.osm_value_usd),
        ),
        Card::new(
            "raised_vs_osm",
            "DAI raised / value at the OSM price",
            f::share(m.dai_raised_usd, m.osm_value_usd),
        ),
        Card::new(
            "not_dealt",
            "Auctions without a deal in the source",
            f::count(m.not_dealt),
        ),
    ]
}

fn maker_view(m: &MakerForensics) -> MakerView {
    let headline = maker_headline(m);
    let splits = vec![
        (
            "hours with median gas at or above the median hour's".to_string(),
            opt(m.zero_bid_share_high_gas, f::pct),
        ),
        (
            "hours with median gas below it".to_string(),
            opt(m.zero_bid_share_low_gas, f::pct),
        ),
        (
            "hours with the OSM above the market by at least the median hour's gap".to_string(),
            opt(m.zero_bid_share_wide_gap, f::pct),
        ),
        (
            "hours with a narrower gap".to_string(),
            opt(m.zero_bid_share_narrow_gap, f::pct),
        ),
    ];
    let mut hours: Vec<&shortfall_forensics::auctions::MakerHour> = m.hours.iter().collect();
    let hours_note = if hours.len() > MAX_HOURS {
        hours.sort_by(|a, b| b.dealt.cmp(&a.dealt).then(a.hour.cmp(&b.hour)));
        hours.truncate(MAX_HOURS);
        hours.sort_by_key(|h| h.hour);
        format!(
            "The {MAX_HOURS} hours with the most deals of {} hours with any, in time order.",
            f::count(m.hours.len() as u64)
        )
    } else {
        "Every hour with a deal.".into()
    };
    MakerView {
        headline,
        splits,
        hours_note,
        hours: hours
            .into_iter()
            .map(|h| MakerHourRow {
                hour: f::minute(h.hour),
                dealt: f::count(h.dealt),
                zero_bids: f::count(h.zero_bids),
                zero_bid_share: f::pct(h.zero_bid_share),
                eth_sold: f::amount(h.eth_sold),
                dai_raised: f::amount(h.dai_raised),
                gas_gwei: opt(h.gas_gwei_median, f::price),
                osm: opt(h.osm_median, f::price),
                market: opt(h.market_median, f::price),
                gap: opt(h.osm_market_gap_median, f::pct),
                below_market_usd: f::usd(h.below_market_usd),
            })
            .collect(),
    }
}

fn call_headline(c: &CallForensics) -> Vec<Card> {
    vec![
        Card::new("events", "Liquidations", f::count(c.events)),
        Card::new("accounts", "Borrowers", f::count(c.accounts)),
        Card::new(
            "repaid",
            format!("Debt repaid ({})", c.debt_asset),
            f::amount(c.repaid),
        ),
        Card::new(
            "top_liquidator",
            "Largest liquidator's share",
            c.liquidators
                .first()
                .map_or_else(|| "-".into(), |l| f::pct(l.share)),
        ),
        Card::new(
            "liquidators",
            "Liquidators",
            f::count(c.liquidators.len() as u64),
        ),
        Card::new(
            "hhi",
            "Concentration (HHI, 1 = one liquidator)",
            f::ratio(c.hhi),
        ),
        Card::new(
            "rounded",
            "Events with amounts the source rounded",
            format!(
                "{} ({} of the debt)",
                f::count(c.rounded_events),
                f::share(c.rounded_repaid, c.repaid)
            ),
        ),
        Card::new(
            "max_rel_error",
            "Largest relative error bound of an amount",
            f::pct(c.max_rel_error),
        ),
    ]
}

fn call_view(c: &CallForensics, top_n: usize) -> CallView {
    let headline = call_headline(c);
    CallView {
        protocol: c.protocol.clone(),
        debt_asset: c.debt_asset.clone(),
        headline,
        liquidators: c
            .liquidators
            .iter()
            .take(top_n)
            .map(|l| ShareRow {
                name: l.liquidator.clone(),
                events: f::count(l.events),
                repaid: f::amount(l.repaid),
                share: f::pct(l.share),
                seized: String::new(),
            })
            .collect(),
        collateral: c
            .by_collateral
            .iter()
            .map(|s| ShareRow {
                name: s.asset.clone(),
                events: f::count(s.events),
                repaid: f::amount(s.repaid),
                share: f::share(s.repaid, c.repaid),
                seized: f::amount(s.seized),
            })
            .collect(),
        hours: c
            .hours
            .iter()
            .map(|h| CallHourRow {
                hour: f::minute(h.hour),
                events: f::count(h.events),
                repaid: f::amount(h.repaid),
            })
            .collect(),
        not_in_source: "The realised incentive (collateral seized at market against debt repaid at market, \
            against the configured incentive) and the oracle-to-market gap at each liquidation need the \
            collateral cToken's exchange rate and the oracle's and the market's prices at each block; the \
            source holds cTokens seized and amounts repaid only, so they are not computed here."
            .into(),
    }
}

/// Builds the report model.
pub fn build_auctions(
    maker: Option<&MakerForensics>,
    calls: &[CallForensics],
    manifest: &Manifest,
    opts: &AuctionsOptions,
) -> AuctionsReport {
    let mut first: Vec<Micros> = Vec::new();
    let mut last: Vec<Micros> = Vec::new();
    if let Some(m) = maker {
        first.extend(m.first_deal);
        last.extend(m.last_deal);
    }
    for c in calls {
        first.extend(c.first);
        last.extend(c.last);
    }
    let period = match (opts.window, first.iter().min(), last.iter().max()) {
        (Some((a, b)), _, _) => format!("{} to {}", f::time(a), f::time(b)),
        (None, Some(a), Some(b)) => format!("{} to {}", f::time(*a), f::time(*b)),
        _ => "no observed auctions".into(),
    };
    AuctionsReport {
        title: format!("Observed auctions and liquidations: {}", opts.dataset),
        generated_at: opts.timestamp.clone(),
        period,
        maker: maker.filter(|m| m.dealt + m.not_dealt > 0).map(maker_view),
        calls: calls
            .iter()
            .filter(|c| c.events > 0)
            .map(|c| call_view(c, opts.top_n))
            .collect(),
        sources: manifest
            .sources
            .iter()
            .filter(|s| s.table == "observed_auctions")
            .map(|s| SourceRow {
                file: s.file.clone(),
                table: s.table.clone(),
                sha256: s.sha256.clone(),
                rows: f::count(s.rows_written),
                notes: s.notes.clone(),
            })
            .collect(),
        command: opts.command.clone(),
    }
}

impl Page for AuctionsReport {
    const TEMPLATE: &'static str = "auctions.html";
    const KEY: &'static str = "a";
}

impl Templates {
    /// The HTML of an observed-auctions report.
    pub fn render_auctions(&self, a: &AuctionsReport) -> Result<String, ReportError> {
        self.render(a)
    }
}
