//! Entry points: a scenario and its input replayed, in full or for the
//! summary only.

use super::*;

/// How a replay runs: `lean` keeps the summary only ([`summarise`]);
/// `park` lets blocked retries park ([`parking`]; off in a joint replay,
/// and to test that parking changes nothing).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mode {
    pub(crate) lean: bool,
    pub(crate) park: bool,
}

impl Mode {
    const FULL: Mode = Mode {
        lean: false,
        park: true,
    };
    const LEAN: Mode = Mode {
        lean: true,
        park: true,
    };
}

/// [`run`] with every blocked retry scheduled, none parked: the same
/// outputs, more slowly. For tests of [`parking`] only.
#[doc(hidden)]
pub fn run_unparked(scenario: &Scenario, input: &ReplayInput) -> Result<RunOutput, ReplayError> {
    scenario.validate()?;
    let book = resolve_book(scenario, input)?;
    let mode = Mode {
        lean: false,
        park: false,
    };
    replay(scenario, input, &book, None, mode)
}

/// Replays `scenario` over `input`.
pub fn run(scenario: &Scenario, input: &ReplayInput) -> Result<RunOutput, ReplayError> {
    scenario.validate()?;
    let book = resolve_book(scenario, input)?;
    run_on_book(scenario, input, &book)
}

/// [`run`] with the book already resolved: `book` must be
/// [`resolve_book`]`(scenario, input)` (a sweep generates it once for all
/// its variants).
pub fn run_on_book(
    scenario: &Scenario,
    input: &ReplayInput,
    book: &Book,
) -> Result<RunOutput, ReplayError> {
    replay(scenario, input, book, None, Mode::FULL)
}

/// [`run_on_book`] for the summary only (a sweep's rows): the same
/// replay, summary and run metadata (`run_id` included), but the event log
/// and the liquidations are only counted (`events` and `liquidations`
/// empty, `event_log_sha256` empty) and no loan or series rows are built.
pub fn summarise(
    scenario: &Scenario,
    input: &ReplayInput,
    book: &Book,
) -> Result<RunOutput, ReplayError> {
    replay(scenario, input, book, None, Mode::LEAN)
}

/// [`summarise`] of the prepared book (the same output, without
/// converting the book again when the scenario's assets and decimals are
/// the ones it was prepared for).
pub fn summarise_prepared(
    scenario: &Scenario,
    input: &ReplayInput,
    prepared: &PreparedBook,
) -> Result<RunOutput, ReplayError> {
    replay(scenario, input, prepared.book(), Some(prepared), Mode::LEAN)
}

/// [`run_on_book`] of the prepared book (see [`summarise_prepared`]).
pub fn run_on_prepared(
    scenario: &Scenario,
    input: &ReplayInput,
    prepared: &PreparedBook,
) -> Result<RunOutput, ReplayError> {
    replay(scenario, input, prepared.book(), Some(prepared), Mode::FULL)
}

/// Applies the scenario's stress transforms ([`crate::transforms`]), then
/// replays. The run records the scenario as written (its transforms
/// included), not the frictions the transforms changed.
pub(super) fn replay(
    scenario: &Scenario,
    input: &ReplayInput,
    book: &Book,
    prepared: Option<&PreparedBook>,
    mode: Mode,
) -> Result<RunOutput, ReplayError> {
    let (sc, inp) = crate::transforms::apply(scenario, input)?;
    let mut out = replay_transformed(&sc, &inp, book, prepared, mode)?;
    out.summary.hypothetical = crate::transforms::describe(scenario);
    if let std::borrow::Cow::Owned(_) = sc {
        let m = &mut out.run_meta;
        m.resolved_config = scenario.resolved_toml();
        m.run_id = run_id(&m.resolved_config, &m.input_hashes, &m.version);
    }
    Ok(out)
}

/// [`summarise`] with the transforms already applied by the caller:
/// `applied` and `applied_input` must be what
/// [`crate::transforms::apply`]`(scenario, input)` returns (a stress run
/// fits its model once and builds each path's inputs itself). The output
/// equals `summarise(scenario, input, book)`: the run records `scenario`
/// as written.
pub fn summarise_applied(
    scenario: &Scenario,
    applied: &Scenario,
    applied_input: &ReplayInput,
    book: &Book,
) -> Result<RunOutput, ReplayError> {
    let mut out = replay_transformed(applied, applied_input, book, None, Mode::LEAN)?;
    out.summary.hypothetical = crate::transforms::describe(scenario);
    let m = &mut out.run_meta;
    m.resolved_config = scenario.resolved_toml();
    m.run_id = run_id(&m.resolved_config, &m.input_hashes, &m.version);
    Ok(out)
}

pub(super) fn replay_transformed(
    scenario: &Scenario,
    input: &ReplayInput,
    book: &Book,
    prepared: Option<&PreparedBook>,
    mode: Mode,
) -> Result<RunOutput, ReplayError> {
    let (mut e, stat) = build(scenario, input, book, prepared, mode)?;
    e.main_loop(&stat)?;
    let mut out = e.finish(book)?;
    attach_perp(scenario, input, mode.lean, &mut out)?;
    Ok(out)
}
