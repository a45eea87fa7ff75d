//! Input shaping: the rows a run reads ([`ReplayInput`]) and the pure
//! functions that prepare them before an engine exists (pegged bars, start
//! prices, the engine's asset order and units, depth paths). Depends on the
//! scenario and core only; nothing here knows the engine.

use std::collections::{BTreeMap, BTreeSet};

use shortfall_core::{Book, LendingEvent, LiquidityRow, Micros, OracleRound, PriceBar, Wad};

use crate::error::ReplayError;
use crate::scenario::Scenario;

/// Rows and provenance the CLI hands to a run.
#[derive(Debug, Clone, Default)]
pub struct ReplayInput {
    pub prices: Vec<PriceBar>,
    pub oracle_rounds: Vec<OracleRound>,
    /// The position snapshot (ignored when the book is generated).
    pub book: Book,
    /// Gas price path (ts, gwei), sorted by ts.
    pub gas: Option<Vec<(Micros, Wad)>>,
    /// Input manifest hashes by dataset name.
    pub input_hashes: BTreeMap<String, String>,
    /// Tool version string recorded in `run.json` and the run id.
    pub tool_version: String,
    /// Recorded lending events (`datasets.lending_events`), None without
    /// the dataset. Supply, withdraw, borrow and repay in the window change
    /// the book when they happen (`book_change` events); liquidations and
    /// deficits are counted as observed only (the replay makes its own);
    /// the summary counts every event by what became of it.
    pub lending_events: Option<Vec<LendingEvent>>,
    /// Market depth over time (`datasets.liquidity`), None without the
    /// dataset: the liquidity model's depth of an asset follows its rows
    /// (the latest at or before each market print) instead of the
    /// scenario's constant `frictions.liquidity.depth_usd`.
    pub liquidity: Option<Vec<LiquidityRow>>,
    /// Perpetual positions (`datasets.perp_positions`, the snapshot at or
    /// before the window start); used when `[perp] book.source` is
    /// `snapshot`.
    pub perp_positions: Vec<shortfall_core::PerpPosition>,
}

/// Bars at a constant price for each `market.pegs` asset without bars of
/// its own, at the times and intervals of the other bars (so the pegged
/// asset is priced wherever anything is). Venue: the first of
/// `market.venues` (so the venue filter keeps them), else `peg`.
pub(crate) fn peg_bars(sc: &Scenario, prices: &[PriceBar]) -> Vec<PriceBar> {
    let pegs: Vec<(&String, &Wad)> = sc
        .market
        .pegs
        .iter()
        .filter(|(asset, _)| !prices.iter().any(|b| &b.base == *asset))
        .collect();
    if pegs.is_empty() {
        return Vec::new();
    }
    let venue = sc.market.venues.first().map_or("peg", String::as_str);
    let times: std::collections::BTreeSet<(i64, i64)> =
        prices.iter().map(|b| (b.ts.0, b.interval_secs)).collect();
    let mut out = Vec::with_capacity(pegs.len() * times.len());
    for (asset, peg) in pegs {
        for (ts, interval) in &times {
            out.push(PriceBar::flat(
                Micros(*ts),
                venue,
                asset,
                "USD",
                *interval,
                *peg,
            ));
        }
    }
    out
}

/// The first market close of each asset in the window (bars ending in
/// it, in input order; `market.pegs` included): the prices a generated
/// book is placed against. Pass the scenario and input with their
/// transforms applied.
pub fn start_prices(
    scenario: &Scenario,
    input: &ReplayInput,
) -> Result<BTreeMap<String, Wad>, ReplayError> {
    let (start, end) = scenario.window_micros()?;
    let pegged = peg_bars(scenario, &input.prices);
    let mut first: BTreeMap<String, Wad> = BTreeMap::new();
    for b in input.prices.iter().chain(pegged.iter()) {
        let t = Micros(b.ts.0 + b.interval_secs * Micros::PER_SEC);
        if t >= start && t <= end && !first.contains_key(&b.base) {
            first.insert(b.base.clone(), b.close);
        }
    }
    Ok(first)
}

/// The engine's assets in order (every asset priced by a bar, configured
/// in the policy or `held` by the book, by name), each with
/// 10^(18 - decimals), its token unit in wad.
pub(crate) fn asset_units<'b>(
    scenario: &Scenario,
    bars: impl Iterator<Item = &'b PriceBar>,
    held: &BTreeSet<String>,
) -> Vec<(String, i128)> {
    let mut names: BTreeSet<&str> = held.iter().map(String::as_str).collect();
    names.extend(scenario.policy.assets.keys().map(String::as_str));
    let mut names: BTreeSet<String> = names.into_iter().map(String::from).collect();
    for b in bars {
        if !names.contains(&b.base) {
            names.insert(b.base.clone());
        }
    }
    names
        .into_iter()
        .map(|n| {
            let unit = 10i128.pow(18 - scenario.asset(&n).decimals);
            (n, unit)
        })
        .collect()
}

/// Token amount (wad) to base units: `x / unit_div`, without the 128-bit
/// division for 18-decimal tokens (`unit_div` 1).
#[inline]
pub(crate) fn to_base(x: i128, unit_div: i128) -> i128 {
    if unit_div == 1 {
        x
    } else {
        shortfall_core::money::div_trunc(x, unit_div)
    }
}

/// Depth paths per asset from `datasets.liquidity` rows: one venue per
/// asset (`frictions.liquidity.venue` chooses when the rows hold several).
pub(crate) fn depth_paths(
    rows: Option<&[LiquidityRow]>,
    cfg: &crate::scenario::LiquidityConfig,
) -> Result<BTreeMap<String, Vec<(Micros, Wad)>>, ReplayError> {
    let mut venues: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut out: BTreeMap<String, Vec<(Micros, Wad)>> = BTreeMap::new();
    for r in rows.unwrap_or_default() {
        venues.entry(&r.asset).or_default().insert(&r.venue);
        if cfg.venue.as_deref().is_some_and(|v| v != r.venue) {
            continue;
        }
        out.entry(r.asset.clone())
            .or_default()
            .push((r.ts, r.depth_usd));
    }
    if cfg.venue.is_none() {
        if let Some((asset, v)) = venues.iter().find(|(_, v)| v.len() > 1) {
            let list: Vec<&str> = v.iter().copied().collect();
            return Err(ReplayError::Scenario(format!(
                "datasets.liquidity: {asset} has depth from several venues ({}): set frictions.liquidity.venue",
                list.join(", ")
            )));
        }
    }
    for path in out.values_mut() {
        path.sort();
    }
    Ok(out)
}
