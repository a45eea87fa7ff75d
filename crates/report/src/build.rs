//! Builds the [`Report`] model of a run: aggregates, top-N tables and every
//! figure formatted. Cost is linear in the loans and liquidations of the run
//! (one pass each, plus a partial sort for the top N).

use std::collections::BTreeMap;

use shortfall_core::run::{LoanOutcome, LoanStatus};
use shortfall_core::{Micros, Wad};
use shortfall_store::RunData;

use crate::error::ReportError;
use crate::format as f;
use crate::model::*;
use crate::perp::build_perp;
use crate::references::reference_row;
use crate::settings::{self, Config};

/// Options of a run report.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Rows of the NPL table.
    pub top_n: usize,
    /// Rows of the liquidator table (the rest are summed in one row).
    pub top_liquidators: usize,
    /// Points of the timeline at most (buckets are merged beyond).
    pub max_timeline_points: usize,
    /// Shown as the generation time; `None` keeps the report byte-stable.
    pub timestamp: Option<String>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            top_n: 50,
            top_liquidators: 20,
            max_timeline_points: 1500,
            timestamp: None,
        }
    }
}

const HOUR: i64 = 3600 * Micros::PER_SEC;

fn figure(key: &str, label: &str, value: String, display: String) -> Figure {
    Figure {
        key: key.into(),
        label: label.into(),
        value,
        display,
    }
}

fn usd_figure(key: &str, label: &str, w: Wad) -> Figure {
    figure(key, label, w.to_string(), f::usd(w))
}

/// Per hour: liquidations, repaid, seized, realised bad debt.
#[derive(Default, Clone, Copy)]
struct HourAgg {
    n: u64,
    repaid: Wad,
    seized: Wad,
    bad_debt: Wad,
}

fn hours(run: &RunData) -> BTreeMap<i64, HourAgg> {
    let mut h: BTreeMap<i64, HourAgg> = BTreeMap::new();
    for l in &run.liquidations {
        let e = h.entry(l.ts.0.div_euclid(HOUR)).or_default();
        e.n += 1;
        e.repaid += l.repaid_usd;
        e.seized += l.seized_usd;
    }
    // Realised bad debt: increments of the cumulative series, booked to the
    // hour holding the end of each bucket.
    let mut cum: BTreeMap<i64, Wad> = BTreeMap::new();
    for p in &run.series {
        let e = cum.entry(p.ts.0).or_insert(Wad::ZERO);
        *e = (*e).max(p.cum_bad_debt_usd);
    }
    let mut prev = Wad::ZERO;
    for (ts, c) in cum {
        if c > prev {
            h.entry((ts - 1).div_euclid(HOUR)).or_default().bad_debt += c - prev;
        }
        prev = prev.max(c);
    }
    h
}

fn hour_label(h: i64) -> String {
    format!("{} UTC", f::minute(Micros(h * HOUR)))
}

const CAUSES: [(&str, &str); 5] = [
    (
        "price gap",
        "the market moved through the liquidation threshold faster than any liquidation could follow: an instant full liquidation at the first market crossing would already have lost this much",
    ),
    (
        "oracle",
        "the oracle flagged the position later than the market did (delay, heartbeat, deviation threshold, bounds or a fixed price)",
    ),
    (
        "liquidator capacity",
        "liquidations were attempted but liquidators lacked capital or gas prices were above their ceiling",
    ),
    (
        "slippage",
        "liquidations were not worth it because selling the collateral would have cost too much in thin markets",
    ),
    (
        "parameters",
        "the rest: close factor, dust and minimum-profit rules, pauses, or the liquidation bonus leaving too little margin",
    ),
];

fn parts(a: &shortfall_core::run::Attribution) -> [Wad; 5] {
    [
        a.price_gap_usd,
        a.oracle_usd,
        a.liquidator_capacity_usd,
        a.slippage_usd,
        a.parameters_usd,
    ]
}

fn main_cause(l: &LoanOutcome) -> String {
    let p = parts(&l.attribution);
    let mut best = 0;
    for i in 1..5 {
        if p[i] > p[best] {
            best = i;
        }
    }
    if p[best] == Wad::ZERO {
        "-".into()
    } else {
        CAUSES[best].0.into()
    }
}

fn npl_table(run: &RunData, opts: &ReportOptions) -> NplTable {
    let end = run.summary.window_end;
    let mut npl: Vec<&LoanOutcome> = run
        .loans
        .iter()
        .filter(|l| l.status == LoanStatus::NonPerforming || l.shortfall_usd > Wad::ZERO)
        .collect();
    let total = npl.len();
    let total_shortfall: Wad = npl.iter().map(|l| l.shortfall_usd).sum();
    let order = |a: &&LoanOutcome, b: &&LoanOutcome| {
        b.shortfall_usd
            .cmp(&a.shortfall_usd)
            .then_with(|| a.account.cmp(&b.account))
            .then_with(|| a.market.cmp(&b.market))
    };
    if npl.len() > opts.top_n && opts.top_n > 0 {
        npl.select_nth_unstable_by(opts.top_n - 1, order);
        npl.truncate(opts.top_n);
    } else if opts.top_n == 0 {
        npl.clear();
    }
    npl.sort_by(order);
    let shown_shortfall: Wad = npl.iter().map(|l| l.shortfall_usd).sum();
    let rows = npl
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let recovered = (l.initial_debt_usd - l.shortfall_usd).max(Wad::ZERO);
            NplRow {
                rank: (i + 1).to_string(),
                account: l.account.clone(),
                account_short: f::short_id(&l.account),
                market: l.market.clone(),
                shortfall: f::usd(l.shortfall_usd),
                shortfall_value: l.shortfall_usd.to_string(),
                initial_debt: f::usd(l.initial_debt_usd),
                final_debt: f::usd(l.final_debt_usd),
                final_collateral: f::usd(l.final_collateral_usd),
                written_off: f::usd(l.written_off_usd),
                recovery: f::share(recovered, l.initial_debt_usd),
                cause: main_cause(l),
                blocked: l
                    .last_blocked
                    .map(|r| r.as_str().replace('_', " "))
                    .unwrap_or_else(|| "-".into()),
                first_liquidatable: l
                    .first_liquidatable
                    .map(f::minute)
                    .unwrap_or_else(|| "-".into()),
                under_water: l
                    .first_liquidatable
                    .map(|t| f::duration((end.0 - t.0) / Micros::PER_SEC))
                    .unwrap_or_else(|| "-".into()),
                liquidations: l.liquidations.to_string(),
                min_health: l.min_health.map(f::ratio).unwrap_or_else(|| "-".into()),
            }
        })
        .collect::<Vec<_>>();
    NplTable {
        total: f::count(total as u64),
        shown: f::count(rows.len() as u64),
        total_shortfall: f::usd(total_shortfall),
        shown_shortfall: f::usd(shown_shortfall),
        rows,
    }
}

fn liquidators(run: &RunData, opts: &ReportOptions) -> (Vec<LiquidatorRow>, Option<String>) {
    #[derive(Default)]
    struct Agg {
        n: u64,
        repaid: Wad,
        seized: Wad,
        penalty: Wad,
    }
    let mut by: BTreeMap<&str, Agg> = BTreeMap::new();
    for l in &run.liquidations {
        let a = by.entry(l.liquidator.as_str()).or_default();
        a.n += 1;
        a.repaid += l.repaid_usd;
        a.seized += l.seized_usd;
        a.penalty += l.penalty_usd;
    }
    let total: Wad = by.values().map(|a| a.repaid).sum();
    let mut v: Vec<(&str, Agg)> = by.into_iter().collect();
    v.sort_by(|a, b| b.1.repaid.cmp(&a.1.repaid).then_with(|| a.0.cmp(b.0)));
    let row = |name: String, a: &Agg| LiquidatorRow {
        liquidator: name,
        liquidations: f::count(a.n),
        repaid: f::usd(a.repaid),
        seized: f::usd(a.seized),
        penalty: f::usd(a.penalty),
        share: f::share(a.repaid, total),
    };
    let mut rows: Vec<LiquidatorRow> = v
        .iter()
        .take(opts.top_liquidators)
        .map(|(n, a)| row(n.to_string(), a))
        .collect();
    let mut note = None;
    if v.len() > opts.top_liquidators {
        let mut rest = Agg::default();
        for (_, a) in &v[opts.top_liquidators..] {
            rest.n += a.n;
            rest.repaid += a.repaid;
            rest.seized += a.seized;
            rest.penalty += a.penalty;
        }
        let others = v.len() - opts.top_liquidators;
        rows.push(row(format!("{} others", f::count(others as u64)), &rest));
        note = Some(format!(
            "The {} largest liquidators by debt repaid are shown; {} others are summed in the last row.",
            opts.top_liquidators,
            f::count(others as u64)
        ));
    }
    (rows, note)
}

/// The asset with the most liquidated value; without liquidations, the
/// one whose market price moved most (max / min).
fn main_asset(run: &RunData) -> String {
    let mut liq: BTreeMap<&str, Wad> = BTreeMap::new();
    let mut range: BTreeMap<&str, (Wad, Wad)> = BTreeMap::new();
    for p in &run.series {
        *liq.entry(p.asset.as_str()).or_insert(Wad::ZERO) += p.liquidated_usd;
        if let Some(px) = p.market_price {
            let r = range.entry(p.asset.as_str()).or_insert((px, px));
            r.0 = r.0.min(px);
            r.1 = r.1.max(px);
        }
    }
    let moved = |a: &str| -> f64 {
        range
            .get(a)
            .map(|(lo, hi)| {
                if lo.0 > 0 {
                    hi.to_f64() / lo.to_f64()
                } else {
                    0.0
                }
            })
            .unwrap_or(0.0)
    };
    liq.iter()
        .max_by(|a, b| {
            a.1.cmp(b.1)
                .then_with(|| moved(a.0).total_cmp(&moved(b.0)))
                .then_with(|| b.0.cmp(a.0))
        })
        .map(|(a, _)| a.to_string())
        .unwrap_or_default()
}

fn timeline(run: &RunData, opts: &ReportOptions, bucket_secs: Option<i64>) -> Timeline {
    let asset = main_asset(run);
    // One row per bucket end: the asset's prices, all assets' liquidations,
    // cumulative bad debt.
    let mut rows: BTreeMap<i64, (Option<Wad>, Option<Wad>, Wad, Wad)> = BTreeMap::new();
    for p in &run.series {
        let r = rows
            .entry(p.ts.0)
            .or_insert((None, None, Wad::ZERO, Wad::ZERO));
        if p.asset == asset {
            r.0 = p.market_price;
            r.1 = p.oracle_price;
        }
        r.2 += p.liquidated_usd;
        r.3 = r.3.max(p.cum_bad_debt_usd);
    }
    let rows: Vec<_> = rows.into_iter().collect();
    let per = rows.len().div_ceil(opts.max_timeline_points.max(1)).max(1);
    let points = rows
        .chunks(per)
        .map(|c| {
            let last = &c[c.len() - 1];
            let liq: Wad = c.iter().map(|r| r.1 .2).sum();
            let mkt = c.iter().rev().find_map(|r| r.1 .0);
            let orc = c.iter().rev().find_map(|r| r.1 .1);
            TimelinePoint {
                ts: Micros(last.0).to_iso(),
                market_price: mkt.map(|w| w.to_string()),
                oracle_price: orc.map(|w| w.to_string()),
                liquidated_usd: liq.to_string(),
                cum_bad_debt_usd: last.1 .3.to_string(),
            }
        })
        .collect();
    let bucket = match bucket_secs {
        Some(s) => f::duration(s * per as i64),
        None => "-".into(),
    };
    Timeline {
        caption: format!(
            "{asset} market and oracle price, collateral liquidated per {bucket} (all assets, USD at oracle prices) and cumulative realised bad debt"
        ),
        asset,
        bucket,
        points,
    }
}

fn waterfall(run: &RunData) -> (Vec<WaterfallRow>, String) {
    let w = &run.summary.waterfall;
    let layers = [
        (
            "borrower equity",
            "equity of liquidated and non-performing borrowers lost (start minus end, market prices)",
            w.borrower_equity_usd,
        ),
        (
            "liquidation penalties",
            "bonuses and penalties paid by borrowers to liquidators, keepers and the protocol",
            w.liquidation_penalty_usd,
        ),
        (
            "reserves",
            "bad debt covered by reserves or insurance (accounting.insurance_usd)",
            w.reserves_usd,
        ),
        (
            "lenders (socialised)",
            "bad debt left to lenders after reserves",
            w.socialised_usd,
        ),
    ];
    let total: Wad = layers.iter().map(|l| l.2).sum();
    let rows = layers
        .iter()
        .map(|(layer, ex, v)| WaterfallRow {
            layer: layer.to_string(),
            explanation: ex.to_string(),
            value: v.to_string(),
            display: f::usd(*v),
            share: f::share(*v, total),
        })
        .collect();
    (rows, f::usd(total))
}

fn book_notice(run: &RunData) -> BookInfo {
    let s = &run.summary;
    let o = &run.run.meta.book_origin;
    let positions = f::count(s.positions);
    let notice = if s.book_generated {
        format!(
            "The book of {positions} positions is GENERATED, not observed: {}. Prices and oracle data are historical; the positions are not. Figures say what these rules would do to such a book on this price path, not what any protocol lost.",
            o.detail
        )
    } else if o.kind == "reconstructed" {
        format!(
            "The book of {positions} positions is RECONSTRUCTED from on-chain events ({}): balances follow the protocols' own accounting of the events in the dataset; see the reconciliation of `shortfall positions` for events that could not be applied.",
            o.detail
        )
    } else {
        format!(
            "The book of {positions} positions is a {} ({}).",
            if o.kind.is_empty() {
                "snapshot"
            } else {
                o.kind.as_str()
            },
            o.detail
        )
    };
    BookInfo {
        generated: s.book_generated,
        kind: o.kind.clone(),
        detail: o.detail.clone(),
        positions,
        notice,
    }
}

fn headline(run: &RunData, liquidated_collateral: Wad) -> Vec<Figure> {
    let s = &run.summary;
    let blocked: u64 = s.blocked_attempts.values().sum();
    let bad_share = f::fraction(s.bad_debt_usd, s.initial_debt_usd).unwrap_or(Wad::ZERO);
    vec![
        usd_figure("bad_debt_usd", "Bad debt", s.bad_debt_usd),
        figure(
            "bad_debt_share",
            "Bad debt / initial debt",
            bad_share.to_string(),
            f::pct(bad_share),
        ),
        figure(
            "npl_count",
            "Non-performing loans",
            s.npl_count.to_string(),
            f::count(s.npl_count),
        ),
        figure(
            "npl_ratio",
            "NPL ratio (of positions)",
            s.npl_ratio.to_string(),
            f::pct(s.npl_ratio),
        ),
        usd_figure(
            "liquidated_volume_usd",
            "Debt repaid by liquidations",
            s.liquidated_volume_usd,
        ),
        usd_figure(
            "liquidated_collateral_usd",
            "Collateral liquidated (oracle prices)",
            liquidated_collateral,
        ),
        figure(
            "liquidation_count",
            "Liquidations",
            s.liquidation_count.to_string(),
            f::count(s.liquidation_count),
        ),
        usd_figure("penalty_usd", "Liquidation penalties", s.penalty_usd),
        figure(
            "blocked_attempts",
            "Blocked liquidation attempts",
            blocked.to_string(),
            f::count(blocked),
        ),
        figure(
            "positions",
            "Positions",
            s.positions.to_string(),
            f::count(s.positions),
        ),
        usd_figure("initial_debt_usd", "Initial debt", s.initial_debt_usd),
        figure(
            "liquidated_positions",
            "Positions liquidated and performing at the end",
            s.liquidated_count.to_string(),
            f::count(s.liquidated_count),
        ),
    ]
}

fn methodology(run: &RunData, cfg: &Config, book: &BookInfo) -> (Vec<String>, Vec<String>) {
    let s = &run.summary;
    let mut m = vec![
        format!(
            "Replay. Each position of the book is replayed through the historical market and oracle price path from {} to {} under the {} liquidation rules with the parameters listed below. Liquidations happen only when the oracle says a position is liquidatable and a modelled liquidator, with the latency, capital, gas and profit threshold listed under frictions, finds it worth doing. The engine is event-driven and deterministic: the same inputs and settings give byte-identical results.",
            f::time(s.window_start),
            f::time(s.window_end),
            s.preset
        ),
        "Amounts are fixed point with 18 decimals; health factors, close factors, bonuses and seizures follow the protocols' own integer math and rounding (Aave WadRayMath and PercentageMath, Compound's seize formula, Maker's flip and clip auctions).".to_string(),
        "Bad debt. The shortfall of a position is the debt the protocol wrote off during the window (Aave v3.3 deficits, auction shortfalls) plus the excess of its debt over its collateral at the end of the window, both at market prices. A loan is non-performing when its shortfall is positive. Recovery is the share of the initial debt that is not shortfall.".to_string(),
        "Attribution. Each shortfall is split by cause: the price gap is the loss of an instant full liquidation at the first tick the market took the position below the threshold; the oracle part is the extra loss by the time the oracle saw it; the rest is split over the reasons liquidation attempts were blocked (liquidator capacity, slippage, parameters). The parts add up to the shortfall exactly.".to_string(),
        "Loss waterfall. Losses are absorbed first by the borrowers' equity and the penalties they pay, then by the protocol's reserves, and what remains is socialised to lenders.".to_string(),
    ];
    if let Some(b) = cfg.output_bucket_secs() {
        m.push(format!(
            "Series and the timeline are aggregated in buckets of {}; hours are UTC.",
            f::duration(b)
        ));
    }
    let mut l = Vec::new();
    if book.generated {
        l.push(book.notice.clone());
    }
    l.push("Market prices are bar closes of the venues in the datasets; moves inside a bar are not seen. Prices quoted in USDT or USDC are read as USD.".into());
    for (asset, peg) in cfg.pegs() {
        l.push(format!(
            "{asset} has no market data in the datasets: it is valued at a constant {peg} USD (market.pegs), so its own depeg, if any, is not in the figures."
        ));
    }
    match &s.lending_events {
        Some(c) => {
            let ignored: u64 = c.ignored.values().sum();
            m.push(format!(
                "Book changes. {} lending events applied during the window (supply, withdraw, borrow and repay of datasets.lending_events, each when it happened, before the health checks of its block){}; {} not applied (unknown asset, market or account, no amount, or liquidations and deficits the replay makes itself).",
                f::count(c.applied - c.before_window),
                if c.before_window > 0 {
                    format!(
                        ", and {} between the book's snapshot and the window, applied at the window's start to bring the book forward",
                        f::count(c.before_window)
                    )
                } else {
                    String::new()
                },
                f::count(ignored)
            ));
            l.push("No interest accrues during the window; positions change only by the recorded lending events listed under methodology.".into());
        }
        None => l.push("No interest accrues during the window and no position is opened, topped up or repaid by its owner: the book is held as it was at the start.".into()),
    }
    l.push(
        "Liquidators are the ones configured under frictions, not the real ones of the day.".into(),
    );
    l.push("Bad debt left at the end is valued at the market prices of the end of the window; later recoveries are not counted.".into());
    if s.unpriced_count > 0 {
        l.push(format!(
            "{} positions hold an asset without prices in the window and were left out of the figures.",
            f::count(s.unpriced_count)
        ));
    }
    (m, l)
}

/// The hour with the most realised bad debt (else the most debt
/// liquidated), if any hour saw either.
fn worst_hour(hours: &BTreeMap<i64, HourAgg>) -> Option<WorstHour> {
    hours
        .iter()
        .max_by(|a, b| {
            a.1.bad_debt
                .cmp(&b.1.bad_debt)
                .then_with(|| a.1.repaid.cmp(&b.1.repaid))
                .then_with(|| b.0.cmp(a.0))
        })
        .filter(|(_, h)| h.bad_debt > Wad::ZERO || h.n > 0)
        .map(|(k, h)| WorstHour {
            hour: hour_label(*k),
            bad_debt: f::usd(h.bad_debt),
            liquidated: f::usd(h.repaid),
            liquidations: f::count(h.n),
            basis: if h.bad_debt > Wad::ZERO {
                "the hour with the most realised bad debt".into()
            } else {
                "the hour with the most debt liquidated; no bad debt was realised within the window"
                    .into()
            },
        })
}

fn hour_rows(hours: &BTreeMap<i64, HourAgg>) -> Vec<HourRow> {
    hours
        .iter()
        .map(|(k, h)| HourRow {
            hour: hour_label(*k),
            liquidations: f::count(h.n),
            repaid: f::usd(h.repaid),
            seized: f::usd(h.seized),
            bad_debt: f::usd(h.bad_debt),
        })
        .collect()
}

fn attribution(a: &shortfall_core::run::Attribution) -> Vec<AttributionRow> {
    let total = a.total();
    parts(a)
        .iter()
        .zip(CAUSES)
        .map(|(v, (cause, ex))| AttributionRow {
            cause: cause.into(),
            explanation: ex.into(),
            value: v.to_string(),
            display: f::usd(*v),
            share: f::share(*v, total),
        })
        .collect()
}

/// Blocked attempts by reason, most first.
fn blocked(attempts: &BTreeMap<String, u64>) -> Vec<BlockedRow> {
    let mut blocked: Vec<(&String, &u64)> = attempts.iter().collect();
    blocked.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    blocked
        .into_iter()
        .map(|(r, n)| BlockedRow {
            reason: r.replace('_', " "),
            attempts: f::count(*n),
        })
        .collect()
}

fn provenance(run: &RunData) -> Provenance {
    let meta = &run.run.meta;
    let mut command = vec!["shortfall".to_string()];
    command.extend(run.run.command_line.iter().cloned());
    Provenance {
        run_id: meta.run_id.clone(),
        tool_version: meta.version.clone(),
        seed: meta.seed.to_string(),
        inputs: KeyValue::list(&meta.input_hashes),
        event_log_sha256: meta.event_log_sha256.clone(),
        command: f::shell_join(&command),
        resolved_config: meta.resolved_config.clone(),
    }
}

/// Builds the report model of a run.
pub fn build_report(run: &RunData, opts: &ReportOptions) -> Result<Report, ReportError> {
    let cfg = settings::parse(&run.run.meta.resolved_config)?;
    let s = &run.summary;
    let liquidated_collateral: Wad = run.liquidations.iter().map(|l| l.seized_usd).sum();
    let hours = hours(run);
    let (waterfall, waterfall_total) = waterfall(run);
    let (liquidators, liquidators_note) = liquidators(run, opts);
    let book = book_notice(run);
    let (methodology, limitations) = methodology(run, &cfg, &book);
    let hypothetical = !s.hypothetical.is_empty();
    let title = cfg.title().unwrap_or_else(|| s.scenario.clone());
    Ok(Report {
        format: REPORT_FORMAT.into(),
        title: if hypothetical {
            format!("{title} (hypothetical scenario)")
        } else {
            title
        },
        description: cfg.description(),
        scenario: s.scenario.clone(),
        run_id: run.run.meta.run_id.clone(),
        preset: s.preset.clone(),
        window: format!("{} to {}", f::time(s.window_start), f::time(s.window_end)),
        generated_at: opts.timestamp.clone(),
        hypothetical: s.hypothetical.clone(),
        book,
        headline: headline(run, liquidated_collateral),
        worst_hour: worst_hour(&hours),
        references: cfg
            .references()?
            .iter()
            .map(|r| reference_row(r, run, hypothetical))
            .collect(),
        timeline: timeline(run, opts, cfg.output_bucket_secs()),
        waterfall,
        waterfall_total,
        npl: npl_table(run, opts),
        attribution: attribution(&s.attribution),
        liquidators,
        liquidators_note,
        hours: hour_rows(&hours),
        blocked: blocked(&s.blocked_attempts),
        settings: cfg.groups(),
        provenance: provenance(run),
        methodology,
        limitations,
        perp: s
            .perp
            .as_ref()
            .map(|p| build_perp(p, run.perp.as_ref(), opts.top_n.max(1))),
    })
}
