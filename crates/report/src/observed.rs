//! The observed-liquidations report: forensics of real liquidation events
//! (the `observed_liquidations` table of a dataset): realised versus
//! configured bonus, liquidator concentration, liquidations over time against
//! the price, and accounts left with debt and no collateral.

use std::collections::BTreeMap;

use serde::Serialize;
use shortfall_core::{Micros, ObservedLiquidation, Wad};
use shortfall_forensics::{implied_rate, Balances, BONUS_TOLERANCE};
use shortfall_store::manifest::Manifest;

use crate::format as f;

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
pub struct Card {
    pub key: String,
    pub label: String,
    pub value: String,
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

fn signed_pp(w: Wad) -> String {
    let sign = if w.0 > 0 { "+" } else { "" };
    format!("{sign}{} pp", f::decimal(Wad(w.0.saturating_mul(100)), 2))
}

fn opt_pct(w: Option<Wad>) -> String {
    w.map_or_else(|| "-".into(), f::pct)
}

fn day_of(t: Micros) -> String {
    t.to_iso()[..10].to_string()
}

fn hour_of(t: Micros) -> String {
    format!("{}:00", &t.to_iso()[..13])
}

/// Builds the report model from the forensics rows and the balance replay.
pub fn build_observed(
    rows: &[ObservedLiquidation],
    balances: &Balances,
    manifest: &Manifest,
    opts: &ObservedOptions,
) -> ObservedReport {
    let n = rows.len() as u64;
    let accounts: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r.account.as_str()).collect();
    // Repaid, seized and their difference over the same events: those with
    // USD prices for both sides (sums over different subsets would mislead).
    let both: Vec<(Wad, Wad)> = rows
        .iter()
        .filter_map(|r| Some((r.repaid_usd?, r.seized_usd?)))
        .collect();
    let repaid_usd = sum(both.iter().map(|b| b.0));
    let seized_usd = sum(both.iter().map(|b| b.1));
    let bonus_usd = Wad(seized_usd.0.saturating_sub(repaid_usd.0));
    let usd_basis = format!(
        "Debt repaid, collateral seized and bonus paid are summed over the {} of {} events with USD prices on both sides.",
        f::count(both.len() as u64),
        f::count(n)
    );
    let period = match (rows.first(), rows.last()) {
        (Some(a), Some(b)) => format!("{} to {}", f::time(a.ts), f::time(b.ts)),
        _ => "no liquidations".into(),
    };
    let with_liq = rows.iter().filter(|r| r.liquidator.is_some()).count() as u64;
    let card = |key: &str, label: &str, value: String| Card {
        key: key.into(),
        label: label.into(),
        value,
    };
    let headline = vec![
        card("events", "Liquidations", f::count(n)),
        card(
            "accounts",
            "Accounts liquidated",
            f::count(accounts.len() as u64),
        ),
        card(
            "repaid_usd",
            "Debt repaid (USD at the event)",
            f::usd(repaid_usd),
        ),
        card(
            "seized_usd",
            "Collateral seized (USD at the event)",
            f::usd(seized_usd),
        ),
        card(
            "bonus_usd",
            "Bonus paid by borrowers (seized minus repaid, USD)",
            f::usd(bonus_usd),
        ),
        card(
            "liquidator_known",
            "Events naming their liquidator",
            format!("{} of {}", f::count(with_liq), f::count(n)),
        ),
    ];

    // Bonus: gap quantiles and per collateral.
    let mut gaps: Vec<Wad> = rows.iter().filter_map(|r| r.bonus_gap).collect();
    gaps.sort();
    let tol = BONUS_TOLERANCE.0;
    let matching = gaps.iter().filter(|g| g.0.abs() <= tol).count() as u64;
    let above = gaps.iter().filter(|g| g.0 > tol).count() as u64;
    let below = gaps.iter().filter(|g| g.0 < -tol).count() as u64;
    let bonus_summary = format!(
        "{} of {} liquidations could be valued against a configured bonus: {} within {} of it, {} above, {} below. {} lack a price at the event or a reserve entry (see notes).",
        f::count(gaps.len() as u64),
        f::count(n),
        f::count(matching),
        signed_pp(BONUS_TOLERANCE).trim_start_matches('+'),
        f::count(above),
        f::count(below),
        f::count(n - gaps.len() as u64),
    );
    let gap_quantiles = [1, 5, 25, 50, 75, 95, 99]
        .iter()
        .filter_map(|q| {
            quantile(&gaps, *q).map(|g| Quantile {
                label: format!("p{q}"),
                gap: signed_pp(g),
            })
        })
        .collect();
    let mut by_coll: BTreeMap<&str, Vec<&ObservedLiquidation>> = BTreeMap::new();
    for r in rows {
        by_coll
            .entry(r.collateral_asset.as_str())
            .or_default()
            .push(r);
    }
    let mut bonus_by_collateral: Vec<(u64, BonusRow)> = by_coll
        .into_iter()
        .map(|(asset, rs)| {
            let mut realised: Vec<Wad> = rs.iter().filter_map(|r| r.realised_bonus).collect();
            realised.sort();
            let configured: std::collections::BTreeSet<Wad> =
                rs.iter().filter_map(|r| r.configured_bonus).collect();
            let gaps: Vec<Wad> = rs.iter().filter_map(|r| r.bonus_gap).collect();
            let usd = sum(rs
                .iter()
                .filter_map(|r| Some(Wad(r.seized_usd?.0 - r.repaid_usd?.0))));
            (
                rs.len() as u64,
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
                    realised_p05: opt_pct(quantile(&realised, 5)),
                    realised_median: opt_pct(quantile(&realised, 50)),
                    realised_p95: opt_pct(quantile(&realised, 95)),
                    above: f::count(gaps.iter().filter(|g| g.0 > tol).count() as u64),
                    below: f::count(gaps.iter().filter(|g| g.0 < -tol).count() as u64),
                    bonus_usd: f::usd(usd),
                },
            )
        })
        .collect();
    bonus_by_collateral.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.collateral.cmp(&b.1.collateral)));

    // Liquidators, by debt repaid in USD.
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
    let liquidator_summary = if ranked.is_empty() {
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
    let liquidators = ranked
        .iter()
        .take(opts.top_n)
        .map(|(l, n, v)| LiquidatorRow {
            liquidator: l.to_string(),
            events: f::count(*n),
            repaid_usd: f::usd(*v),
            share: f::share(*v, named_usd),
        })
        .collect();

    // Hours and days.
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
    let busiest_hours = busiest
        .into_iter()
        .take(opts.top_n.min(24))
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
    let price_unit = rows
        .iter()
        .filter_map(|r| r.value_unit.clone())
        .find(|u| u != "USD");

    let left_summary = if !balances.has_balance_events {
        format!(
            "Not determinable from this dataset: it holds {} liquidation events and no supply, borrow, withdraw or repay events, so the accounts' balances after their liquidations are unknown. Ingest the protocol's balance events (or a positions snapshot) to answer it.",
            f::count(n)
        )
    } else {
        format!(
            "{} of {} liquidated accounts were left with debt and no collateral (balances replayed in token units from the dataset's events, interest not accrued); {} liquidated accounts opened their positions before the data starts and cannot be judged.",
            f::count(balances.left.len() as u64),
            f::count(balances.accounts_liquidated),
            f::count(balances.accounts_without_history)
        )
    };
    let mut left_sorted = balances.left.clone();
    left_sorted.sort_by(|a, b| b.debt_usd.cmp(&a.debt_usd).then(a.account.cmp(&b.account)));
    let left = left_sorted
        .iter()
        .take(opts.top_n)
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
            debt_usd: l.debt_usd.map_or_else(|| "-".into(), f::usd),
        })
        .collect();

    let sources = manifest
        .sources
        .iter()
        .map(|s| SourceRow {
            file: s.file.clone(),
            table: s.table.clone(),
            sha256: s.sha256.clone(),
            rows: f::count(s.rows_written),
            notes: s.notes.clone(),
        })
        .collect();
    let mut notes: BTreeMap<&str, u64> = BTreeMap::new();
    for r in rows {
        for part in r.note.split("; ").filter(|p| !p.is_empty()) {
            *notes.entry(part).or_default() += 1;
        }
    }
    let mut notes_count: Vec<(String, String)> = notes
        .into_iter()
        .map(|(k, v)| (k.to_string(), f::count(v)))
        .collect();
    notes_count.sort();

    ObservedReport {
        title: format!("Observed liquidations: {}", opts.dataset),
        generated_at: opts.timestamp.clone(),
        period,
        headline,
        usd_basis,
        bonus_tolerance: signed_pp(BONUS_TOLERANCE)
            .trim_start_matches('+')
            .to_string(),
        bonus_summary,
        gap_quantiles,
        bonus_by_collateral: bonus_by_collateral.into_iter().map(|(_, r)| r).collect(),
        liquidator_summary,
        liquidators,
        busiest_hours,
        price_unit,
        days,
        left_summary,
        left,
        sources,
        command: opts.command.clone(),
        notes_count,
    }
}
