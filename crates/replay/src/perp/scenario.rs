//! `[perp]` of a scenario: the positions (snapshot or generated), the
//! replay on the scenario's window and inputs, and the summary.

use std::collections::BTreeMap;

use shortfall_core::perp_run::{PerpOutput, PerpRun, PerpSummary};
use shortfall_core::{PerpPosition, Wad};

use super::config::PerpConfig;
use super::generator::generate_perp_book;
use crate::error::{cfg, ReplayError};
use crate::input::ReplayInput;
use crate::scenario::{BookSource, Scenario};

/// The perp positions of a scenario and where they come from.
pub fn resolve_positions(
    sc: &Scenario,
    p: &PerpConfig,
    input: &ReplayInput,
) -> Result<(Vec<PerpPosition>, String, bool), ReplayError> {
    match p.book.source {
        BookSource::Snapshot => Ok((
            input.perp_positions.clone(),
            match &sc.datasets.perp_positions {
                Some(d) => format!("perp_positions snapshot of {d}"),
                None => "no perp positions (datasets.perp_positions not set)".to_string(),
            },
            false,
        )),
        BookSource::Generated => {
            let spec =
                p.book.generator.as_ref().ok_or_else(|| {
                    cfg("perp.book.generator", "missing (book.source = generated)")
                })?;
            // Leverage is capped by the first instrument's tier table.
            let first = spec
                .instruments
                .first()
                .ok_or_else(|| cfg("perp.book.generator.instruments", "must not be empty"))?;
            let tiers = p.tiers_for(&first.instrument)?;
            // Start prices from the data where the spec gives none.
            let mut spec = spec.clone();
            if spec.instruments.iter().any(|i| i.start_price == Wad::ZERO) {
                let first_close = crate::input::start_prices(sc, input)?;
                for (k, i) in spec.instruments.iter_mut().enumerate() {
                    if i.start_price == Wad::ZERO {
                        let base = p
                            .instruments
                            .get(&i.instrument)
                            .and_then(|c| c.base.clone())
                            .unwrap_or_else(|| super::engine::default_base(&i.instrument));
                        i.start_price = *first_close.get(&base).ok_or_else(|| {
                            cfg(
                                &format!("perp.book.generator.instruments.{k}.start_price"),
                                format!("not given and no {base} price in the window"),
                            )
                        })?;
                    }
                }
            }
            let spec = &spec;
            let book = generate_perp_book(spec, sc.seed, Some(&tiers))?;
            Ok((
                book,
                format!(
                    "generate_perp_book(seed={}, accounts={}, instruments={}, long_share={}, leverage={:?}, size_sigma={}, cross_share={}): lognormal sizes, balanced open interest, leverage buckets",
                    sc.seed,
                    spec.accounts,
                    spec.instruments
                        .iter()
                        .map(|i| format!("{} OI {} at {}", i.instrument, i.open_interest_usd, i.start_price))
                        .collect::<Vec<_>>()
                        .join("; "),
                    spec.long_share,
                    spec.leverage,
                    spec.size_sigma,
                    spec.cross_share
                ),
                true,
            ))
        }
    }
}

/// Replays the scenario's `[perp]` (None without it).
pub fn replay_scenario(
    sc: &Scenario,
    input: &ReplayInput,
    lean: bool,
) -> Result<Option<(PerpOutput, PerpSummary)>, ReplayError> {
    let Some(p) = &sc.perp else {
        return Ok(None);
    };
    let (start, end) = sc.window_micros()?;
    let (positions, origin, generated) = resolve_positions(sc, p, input)?;
    // Assets of `market.pegs` (a USDT collateral at $1) are priced as in
    // the lending replay.
    let pegged = crate::input::peg_bars(sc, &input.prices);
    let prices: std::borrow::Cow<[shortfall_core::PriceBar]> = if pegged.is_empty() {
        std::borrow::Cow::Borrowed(&input.prices)
    } else {
        std::borrow::Cow::Owned(input.prices.iter().cloned().chain(pegged).collect())
    };
    let out = super::engine::replay(
        p,
        start,
        end,
        &prices,
        &input.oracle_rounds,
        &positions,
        lean,
    )?;
    let mut status_counts: BTreeMap<String, u64> = BTreeMap::new();
    for o in &out.positions {
        *status_counts
            .entry(o.status.as_str().to_string())
            .or_default() += 1;
    }
    let rules = p.resolve()?;
    let summary = PerpSummary {
        preset: match p.preset {
            super::PerpPreset::Binance2021 => "binance_2021",
            super::PerpPreset::Hyperliquid => "hyperliquid",
            super::PerpPreset::Custom => "custom",
        }
        .to_string(),
        absorber: match rules.absorber {
            super::LossAbsorber::Adl => "adl",
            super::LossAbsorber::Socialised => "socialised",
            super::LossAbsorber::Backstop => "backstop",
        }
        .to_string(),
        book_origin: origin,
        book_generated: generated,
        status_counts,
        waterfall: out.waterfall,
        ledger: out.ledger,
        totals: out.totals.clone(),
    };
    Ok(Some((out, summary)))
}

/// The run tables of a perp replay.
pub fn run_tables(out: PerpOutput) -> (Vec<shortfall_core::run::EventRecord>, PerpRun) {
    (
        out.events,
        PerpRun {
            positions: out.positions,
            accounts: out.accounts,
            insurance_fund: out.insurance_fund,
        },
    )
}
