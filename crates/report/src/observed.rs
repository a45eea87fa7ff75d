//! The observed-liquidations report: forensics of real liquidation events
//! (the `observed_liquidations` table of a dataset): realised versus
//! configured bonus, liquidator concentration, liquidations over time against
//! the price, and accounts left with debt and no collateral.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use shortfall_core::{Micros, ObservedLiquidation, Wad};
use shortfall_forensics::{implied_rate, Balances, BONUS_TOLERANCE};
use shortfall_store::manifest::Manifest;

use crate::charts::observed::{observed_svg, Day};
use crate::error::ReportError;
use crate::format as f;
use crate::render::{Page, Svg, Templates};
use crate::widgets::Card;

/// Options of an observed-liquidations report.
#[derive(Debug, Clone)]
pub struct ObservedOptions {
    /// Dataset name shown in the title.
    pub dataset: String,
    /// Shown only when given (byte-stable output otherwise).
    pub timestamp: Option<String>,
    /// Rows of the liquidator and account tables.
    pub top_n: usize,
    /// The command that produced the report, shell-quoted.
    pub command: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct BonusRow {
    pub collateral: String,
    pub events: String,
    pub valued: String,
    pub configured: String,
    pub realised_p05: String,
    pub realised_median: String,
    pub realised_p95: String,
    pub above: String,
    pub below: String,
    pub bonus_usd: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Quantile {
    pub label: String,
    pub gap: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LiquidatorRow {
    pub liquidator: String,
    pub events: String,
    pub repaid_usd: String,
    pub share: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HourRow {
    pub hour: String,
    pub events: String,
    pub repaid_usd: String,
}

/// One day of the timeline (also the chart's data).
#[derive(Debug, Clone, Serialize)]
pub struct DayRow {
    pub day: String,
    pub events: u64,
    /// Debt repaid that day, USD (wad text).
    pub repaid_usd: String,
    /// Median USD price of the price unit (ETH) implied by the day's events
    /// (both legs of each), wad text, when known.
    pub unit_usd: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LeftRow {
    pub account: String,
    pub market: String,
    pub last_liquidation: String,
    pub debt: String,
    pub debt_usd: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceRow {
    pub file: String,
    pub table: String,
    pub sha256: String,
    pub rows: String,
    pub notes: Vec<String>,
}

/// Everything the report shows (`observed.json`).
#[derive(Debug, Clone, Serialize)]
pub struct ObservedReport {
    pub title: String,
    pub generated_at: Option<String>,
    pub period: String,
    pub headline: Vec<Card>,
    pub usd_basis: String,
    pub bonus_tolerance: String,
    pub bonus_summary: String,
    pub gap_quantiles: Vec<Quantile>,
    pub bonus_by_collateral: Vec<BonusRow>,
    pub liquidator_summary: String,
    pub liquidators: Vec<LiquidatorRow>,
    pub busiest_hours: Vec<HourRow>,
    pub price_unit: Option<String>,
    pub days: Vec<DayRow>,
    pub left_summary: String,
    pub left: Vec<LeftRow>,
    pub sources: Vec<SourceRow>,
    pub command: String,
    pub notes_count: Vec<(String, String)>,
}

fn sum(values: impl Iterator<Item = Wad>) -> Wad {
    values.fold(Wad(0), |a, b| Wad(a.0.saturating_add(b.0)))
}

/// The value at quantile `q` (0..=100) of sorted values, nearest rank.
fn quantile(sorted: &[Wad], q: usize) -> Option<Wad> {
    if sorted.is_empty() {
        return None;
    }
    let i = (q * (sorted.len() - 1) + 50) / 100;
    sorted.get(i).copied()
}

fn day_of(t: Micros) -> String {
    t.to_iso()[..10].to_string()
}

fn hour_of(t: Micros) -> String {
    format!("{}:00", &t.to_iso()[..13])
}

/// The sums over the events with USD prices on both sides: repaid,
/// seized, bonus, and the sentence that says so.
struct UsdTotals {
    repaid: Wad,
    seized: Wad,
    bonus: Wad,
    basis: String,
}

fn usd_totals(rows: &[ObservedLiquidation]) -> UsdTotals {
    // Repaid, seized and their difference over the same events: those with
    // USD prices for both sides (sums over different subsets would mislead).
    let both: Vec<(Wad, Wad)> = rows
        .iter()
        .filter_map(|r| Some((r.repaid_usd?, r.seized_usd?)))
        .collect();
    let repaid = sum(both.iter().map(|b| b.0));
    let seized = sum(both.iter().map(|b| b.1));
    UsdTotals {
        repaid,
        seized,
        bonus: Wad(seized.0.saturating_sub(repaid.0)),
        basis: format!(
            "Debt repaid, collateral seized and bonus paid are summed over the {} of {} events with USD prices on both sides.",
            f::count(both.len() as u64),
            f::count(rows.len() as u64)
        ),
    }
}

fn headline(rows: &[ObservedLiquidation], usd: &UsdTotals) -> Vec<Card> {
    let n = rows.len() as u64;
    let accounts: BTreeSet<&str> = rows.iter().map(|r| r.account.as_str()).collect();
    let with_liq = rows.iter().filter(|r| r.liquidator.is_some()).count() as u64;
    vec![
        Card::new("events", "Liquidations", f::count(n)),
        Card::new(
            "accounts",
            "Accounts liquidated",
            f::count(accounts.len() as u64),
        ),
        Card::new(
            "repaid_usd",
            "Debt repaid (USD at the event)",
            f::usd(usd.repaid),
        ),
        Card::new(
            "seized_usd",
            "Collateral seized (USD at the event)",
            f::usd(usd.seized),
        ),
        Card::new(
            "bonus_usd",
            "Bonus paid by borrowers (seized minus repaid, USD)",
            f::usd(usd.bonus),
        ),
        Card::new(
            "liquidator_known",
            "Events naming their liquidator",
            format!("{} of {}", f::count(with_liq), f::count(n)),
        ),
    ]
}

/// The tolerance of a matching bonus, unsigned (`0.10 pp`).
fn tolerance() -> String {
    f::signed_pp(BONUS_TOLERANCE)
        .trim_start_matches('+')
        .to_string()
}

/// The bonus gaps: the summary sentence and their quantiles.
fn gaps(rows: &[ObservedLiquidation]) -> (String, Vec<Quantile>) {
    let n = rows.len() as u64;
    let mut gaps: Vec<Wad> = rows.iter().filter_map(|r| r.bonus_gap).collect();
    gaps.sort();
    let tol = BONUS_TOLERANCE.0;
    let matching = gaps.iter().filter(|g| g.0.abs() <= tol).count() as u64;
    let above = gaps.iter().filter(|g| g.0 > tol).count() as u64;
    let below = gaps.iter().filter(|g| g.0 < -tol).count() as u64;
    let summary = format!(
        "{} of {} liquidations could be valued against a configured bonus: {} within {} of it, {} above, {} below. {} lack a price at the event or a reserve entry (see notes).",
        f::count(gaps.len() as u64),
        f::count(n),
        f::count(matching),
        tolerance(),
        f::count(above),
        f::count(below),
        f::count(n - gaps.len() as u64),
    );
    let quantiles = [1, 5, 25, 50, 75, 95, 99]
        .iter()
        .filter_map(|q| {
            quantile(&gaps, *q).map(|g| Quantile {
                label: format!("p{q}"),
                gap: f::signed_pp(g),
            })
        })
        .collect();
    (summary, quantiles)
}

fn bonus_row(asset: &str, rs: &[&ObservedLiquidation]) -> BonusRow {
    let tol = BONUS_TOLERANCE.0;
    let mut realised: Vec<Wad> = rs.iter().filter_map(|r| r.realised_bonus).collect();
    realised.sort();
    let configured: BTreeSet<Wad> = rs.iter().filter_map(|r| r.configured_bonus).collect();
    let gaps: Vec<Wad> = rs.iter().filter_map(|r| r.bonus_gap).collect();
    let usd = sum(rs
        .iter()
        .filter_map(|r| Some(Wad(r.seized_usd?.0 - r.repaid_usd?.0))));
    BonusRow {
        collateral: asset.to_string(),
        events: f::count(rs.len() as u64),
        valued: f::count(realised.len() as u64),
        configured: if configured.is_empty() {
            "-".into()
        } else {
            configured
                .iter()
                .map(|c| f::pct(*c))
                .collect::<Vec<_>>()
                .join(", ")
        },
        realised_p05: f::or_dash(quantile(&realised, 5), f::pct),
        realised_median: f::or_dash(quantile(&realised, 50), f::pct),
        realised_p95: f::or_dash(quantile(&realised, 95), f::pct),
        above: f::count(gaps.iter().filter(|g| g.0 > tol).count() as u64),
        below: f::count(gaps.iter().filter(|g| g.0 < -tol).count() as u64),
        bonus_usd: f::usd(usd),
    }
}

/// The bonus per collateral asset, most events first.
fn bonus_by_collateral(rows: &[ObservedLiquidation]) -> Vec<BonusRow> {
    let mut by_coll: BTreeMap<&str, Vec<&ObservedLiquidation>> = BTreeMap::new();
    for r in rows {
        by_coll
            .entry(r.collateral_asset.as_str())
            .or_default()
            .push(r);
    }
    let mut out: Vec<(u64, BonusRow)> = by_coll
        .into_iter()
        .map(|(asset, rs)| (rs.len() as u64, bonus_row(asset, &rs)))
        .collect();
    out.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.collateral.cmp(&b.1.collateral)));
    out.into_iter().map(|(_, r)| r).collect()
}

/// Liquidators by debt repaid in USD: the summary sentence and the top
/// `top_n`.
fn liquidators(rows: &[ObservedLiquidation], top_n: usize) -> (String, Vec<LiquidatorRow>) {
    let mut liq: BTreeMap<&str, (u64, Wad)> = BTreeMap::new();
    for r in rows {
        if let Some(l) = &r.liquidator {
            let e = liq.entry(l.as_str()).or_insert((0, Wad(0)));
            e.0 += 1;
            e.1 = Wad(e.1 .0.saturating_add(r.repaid_usd.unwrap_or(Wad(0)).0));
        }
    }
    let named_usd = sum(liq.values().map(|v| v.1));
    let mut ranked: Vec<(&str, u64, Wad)> = liq.iter().map(|(k, v)| (*k, v.0, v.1)).collect();
    ranked.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.cmp(&a.1)).then(a.0.cmp(b.0)));
    // Herfindahl-Hirschman index of shares of debt repaid (0..10,000).
    let hhi: i128 = ranked
        .iter()
        .filter_map(|(_, _, v)| f::fraction(*v, named_usd))
        .map(|s| {
            let bp = s.0 / 10i128.pow(14); // basis points
            bp * bp / 10_000
        })
        .sum();
    let top5 = sum(ranked.iter().take(5).map(|r| r.2));
    let with_liq = rows.iter().filter(|r| r.liquidator.is_some()).count() as u64;
    let summary = if ranked.is_empty() {
        "No event names its liquidator.".to_string()
    } else {
        format!(
            "{} liquidators over the {} events that name one; the top 5 repaid {} of the debt those events repaid; concentration index (HHI of shares of debt repaid, 0 to 10,000): {}.",
            f::count(ranked.len() as u64),
            f::count(with_liq),
            f::share(top5, named_usd),
            f::count(hhi.max(0) as u64)
        )
    };
    let rows = ranked
        .iter()
        .take(top_n)
        .map(|(l, n, v)| LiquidatorRow {
            liquidator: l.to_string(),
            events: f::count(*n),
            repaid_usd: f::usd(*v),
            share: f::share(*v, named_usd),
        })
        .collect();
    (summary, rows)
}

/// The busiest hours (at most `top_n`, 24) and every day.
fn hours_and_days(rows: &[ObservedLiquidation], top_n: usize) -> (Vec<HourRow>, Vec<DayRow>) {
    let mut hours: BTreeMap<String, (u64, Wad)> = BTreeMap::new();
    let mut days: BTreeMap<String, (u64, Wad, Vec<Wad>)> = BTreeMap::new();
    for r in rows {
        let usd = r.repaid_usd.unwrap_or(Wad(0));
        let h = hours.entry(hour_of(r.ts)).or_insert((0, Wad(0)));
        h.0 += 1;
        h.1 = Wad(h.1 .0.saturating_add(usd.0));
        let d = days.entry(day_of(r.ts)).or_insert((0, Wad(0), Vec::new()));
        d.0 += 1;
        d.1 = Wad(d.1 .0.saturating_add(usd.0));
        // USD per price unit implied by each leg (USD value over unit value).
        if r.value_unit.as_deref() != Some("USD") {
            d.2.extend(implied_rate(r.repaid_usd, r.repaid_value));
            d.2.extend(implied_rate(r.seized_usd, r.seized_value));
        }
    }
    let mut busiest: Vec<(String, u64, Wad)> =
        hours.into_iter().map(|(k, v)| (k, v.0, v.1)).collect();
    busiest.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
    let busiest = busiest
        .into_iter()
        .take(top_n.min(24))
        .map(|(h, n, v)| HourRow {
            hour: format!("{h} UTC"),
            events: f::count(n),
            repaid_usd: f::usd(v),
        })
        .collect();
    let days = days
        .into_iter()
        .map(|(day, (events, usd, mut px))| {
            px.sort();
            DayRow {
                day,
                events,
                repaid_usd: usd.to_string(),
                unit_usd: quantile(&px, 50).map(|p| p.to_string()),
            }
        })
        .collect();
    (busiest, days)
}

/// Accounts left with debt and no collateral: the summary sentence and
/// the `top_n` largest by debt.
fn left(balances: &Balances, events: u64, top_n: usize) -> (String, Vec<LeftRow>) {
    let summary = if !balances.has_balance_events {
        format!(
            "Not determinable from this dataset: it holds {} liquidation events and no supply, borrow, withdraw or repay events, so the accounts' balances after their liquidations are unknown. Ingest the protocol's balance events (or a positions snapshot) to answer it.",
            f::count(events)
        )
    } else {
        format!(
            "{} of {} liquidated accounts were left with debt and no collateral (balances replayed in token units from the dataset's events, interest not accrued); {} liquidated accounts opened their positions before the data starts and cannot be judged.",
            f::count(balances.left.len() as u64),
            f::count(balances.accounts_liquidated),
            f::count(balances.accounts_without_history)
        )
    };
    let mut sorted = balances.left.clone();
    sorted.sort_by(|a, b| b.debt_usd.cmp(&a.debt_usd).then(a.account.cmp(&b.account)));
    let rows = sorted
        .iter()
        .take(top_n)
        .map(|l| LeftRow {
            account: l.account.clone(),
            market: l.market.clone(),
            last_liquidation: f::minute(l.last_liquidation),
            debt: l
                .debt
                .iter()
                .map(|(a, v)| format!("{} {a}", f::amount(*v)))
                .collect::<Vec<_>>()
                .join(", "),
            debt_usd: f::or_dash(l.debt_usd, f::usd),
        })
        .collect();
    (summary, rows)
}

fn sources(manifest: &Manifest) -> Vec<SourceRow> {
    manifest
        .sources
        .iter()
        .map(|s| SourceRow {
            file: s.file.clone(),
            table: s.table.clone(),
            sha256: s.sha256.clone(),
            rows: f::count(s.rows_written),
            notes: s.notes.clone(),
        })
        .collect()
}

/// Each note part (`; `-separated) of the events, with its count.
fn notes_count(rows: &[ObservedLiquidation]) -> Vec<(String, String)> {
    let mut notes: BTreeMap<&str, u64> = BTreeMap::new();
    for r in rows {
        for part in r.note.split("; ").filter(|p| !p.is_empty()) {
            *notes.entry(part).or_default() += 1;
        }
    }
    let mut out: Vec<(String, String)> = notes
        .into_iter()
        .map(|(k, v)| (k.to_string(), f::count(v)))
        .collect();
    out.sort();
    out
}

/// Builds the report model from the forensics rows and the balance replay.
pub fn build_observed(
    rows: &[ObservedLiquidation],
    balances: &Balances,
    manifest: &Manifest,
    opts: &ObservedOptions,
) -> ObservedReport {
    let usd = usd_totals(rows);
    let period = match (rows.first(), rows.last()) {
        (Some(a), Some(b)) => format!("{} to {}", f::time(a.ts), f::time(b.ts)),
        _ => "no liquidations".into(),
    };
    let (bonus_summary, gap_quantiles) = gaps(rows);
    let (liquidator_summary, liquidators) = liquidators(rows, opts.top_n);
    let (busiest_hours, days) = hours_and_days(rows, opts.top_n);
    let (left_summary, left) = left(balances, rows.len() as u64, opts.top_n);
    ObservedReport {
        title: format!("Observed liquidations: {}", opts.dataset),
        generated_at: opts.timestamp.clone(),
        period,
        headline: headline(rows, &usd),
        usd_basis: usd.basis,
        bonus_tolerance: tolerance(),
        bonus_summary,
        gap_quantiles,
        bonus_by_collateral: bonus_by_collateral(rows),
        liquidator_summary,
        liquidators,
        busiest_hours,
        price_unit: rows
            .iter()
            .filter_map(|r| r.value_unit.clone())
            .find(|u| u != "USD"),
        days,
        left_summary,
        left,
        sources: sources(manifest),
        command: opts.command.clone(),
        notes_count: notes_count(rows),
    }
}

impl Page for ObservedReport {
    const TEMPLATE: &'static str = "observed.html";
    const KEY: &'static str = "o";

    fn charts(&self) -> Result<Vec<(&'static str, Svg)>, ReportError> {
        let days: Vec<Day<'_>> = self
            .days
            .iter()
            .map(|d| Day {
                day: &d.day,
                repaid_usd: &d.repaid_usd,
                unit_usd: d.unit_usd.as_deref(),
            })
            .collect();
        let svg = observed_svg(&days, self.price_unit.as_deref())?;
        Ok(vec![("observed_svg", Svg::One(svg))])
    }
}

impl Templates {
    /// The HTML of an observed-liquidations report ([`Templates::render`]).
    pub fn render_observed(&self, o: &ObservedReport) -> Result<String, ReportError> {
        self.render(o)
    }
}
