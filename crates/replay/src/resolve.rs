//! The book a run replays: the input's snapshot or a generated book,
//! placed against the prices of the scenario with its transforms applied.

use std::borrow::Cow;

use shortfall_core::Book;

use crate::error::{cfg, ReplayError};
use crate::input::{start_prices, ReplayInput};
use crate::scenario::{BookSource, Scenario};

/// The book a run of `scenario` replays: the input's snapshot, or the book
/// generated from `book.generator` and the seed (a pure function of the
/// scenario and the input's prices).
pub fn resolve_book<'a>(
    scenario: &Scenario,
    input: &'a ReplayInput,
) -> Result<Cow<'a, Book>, ReplayError> {
    crate::transforms::validate(scenario)?;
    scenario.window_micros()?;
    Ok(match scenario.book.source {
        BookSource::Snapshot => Cow::Borrowed(&input.book),
        BookSource::Generated => {
            // Stress transforms first: the book is placed against the
            // prices the run replays.
            let (scenario, input) = crate::transforms::apply(scenario, input)?;
            let (scenario, input) = (&*scenario, &*input);
            let spec = scenario
                .book
                .generator
                .as_ref()
                .ok_or_else(|| cfg("book.generator", "missing"))?;
            let first = start_prices(scenario, input)?;
            // Health factors are placed against the pinned calibration
            // thresholds where given, else the policy's.
            let lt = spec
                .collateral_assets
                .iter()
                .map(|a| {
                    let v = spec
                        .calibration_lt
                        .get(a)
                        .copied()
                        .unwrap_or_else(|| scenario.asset(a).liquidation_threshold);
                    (a.clone(), v)
                })
                .collect();
            Cow::Owned(crate::generator::generate_book(
                spec,
                scenario.seed,
                &first,
                &lt,
            )?)
        }
    })
}
