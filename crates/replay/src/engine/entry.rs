//! The one entry point: [`Replay`], a scenario and its input replayed on
//! a book (resolved from the scenario, given, prepared, or with the
//! transforms already applied), in full or for the summary only.

use super::*;

/// What a replay keeps: everything, or the summary and run metadata only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// The event log, liquidations, loans, series, summary and metadata.
    #[default]
    Full,
    /// The same replay, summary and run metadata (`run_id` included), but
    /// the event log and the liquidations are only counted (`events` and
    /// `liquidations` empty, `event_log_sha256` empty) and no loan or
    /// series rows are built (a sweep's or a stress run's rows).
    Summary,
}

/// How the engine runs: `lean` keeps the summary only ([`Mode::Summary`]);
/// `park` lets blocked retries park ([`parking`]; off in a joint replay,
/// and to test that parking changes nothing).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Flags {
    pub(crate) lean: bool,
    pub(crate) park: bool,
}

/// The book a [`Replay`] runs on.
#[derive(Clone, Copy)]
enum Source<'a> {
    /// [`resolve_book`] of the scenario and input (the scenario validated
    /// first).
    Resolve,
    /// A book already resolved: it must be [`resolve_book`]`(scenario,
    /// input)` (a sweep generates it once for all its variants).
    Book(&'a Book),
    /// A [`PreparedBook`]: the same output, without converting the book
    /// again when the scenario's assets and decimals are the ones it was
    /// prepared for.
    Prepared(&'a PreparedBook),
    /// The transforms already applied by the caller (see [`Replay::applied`]).
    Applied {
        scenario: &'a Scenario,
        input: &'a ReplayInput,
        book: &'a Book,
    },
}

/// A replay of `scenario` over `input`:
/// `Replay::new(&sc, &input).book(&b).mode(Mode::Summary).run()`.
/// Without a book, the book is resolved from the scenario ([`resolve_book`]);
/// the default mode is [`Mode::Full`]. The scenario's stress transforms
/// ([`crate::transforms`]) are applied first; the run records the scenario
/// as written (its transforms included).
#[derive(Clone, Copy)]
pub struct Replay<'a> {
    scenario: &'a Scenario,
    input: &'a ReplayInput,
    source: Source<'a>,
    mode: Mode,
    park: bool,
}

impl<'a> Replay<'a> {
    pub fn new(scenario: &'a Scenario, input: &'a ReplayInput) -> Self {
        Replay {
            scenario,
            input,
            source: Source::Resolve,
            mode: Mode::Full,
            park: true,
        }
    }

    /// On `book`, which must be [`resolve_book`]`(scenario, input)`.
    pub fn book(mut self, book: &'a Book) -> Self {
        self.source = Source::Book(book);
        self
    }

    /// On a prepared book ([`PreparedBook`]).
    pub fn prepared(mut self, prepared: &'a PreparedBook) -> Self {
        self.source = Source::Prepared(prepared);
        self
    }

    /// On `book` with the transforms already applied by the caller:
    /// `applied` and `applied_input` must be what
    /// [`crate::transforms::apply`]`(scenario, input)` returns (a stress
    /// run fits its model once and builds each path's inputs itself). The
    /// output equals the replay of the scenario as written on `book`.
    pub fn applied(
        mut self,
        applied: &'a Scenario,
        applied_input: &'a ReplayInput,
        book: &'a Book,
    ) -> Self {
        self.source = Source::Applied {
            scenario: applied,
            input: applied_input,
            book,
        };
        self
    }

    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Every blocked retry scheduled, none parked: the same outputs, more
    /// slowly. For tests of [`parking`] only.
    #[doc(hidden)]
    pub fn unparked(mut self) -> Self {
        self.park = false;
        self
    }

    pub fn run(self) -> Result<RunOutput, ReplayError> {
        let flags = Flags {
            lean: self.mode == Mode::Summary,
            park: self.park,
        };
        let (sc, input) = (self.scenario, self.input);
        match self.source {
            Source::Resolve => {
                sc.validate()?;
                let book = resolve_book(sc, input)?;
                replay(sc, input, &book, None, flags)
            }
            Source::Book(book) => replay(sc, input, book, None, flags),
            Source::Prepared(p) => replay(sc, input, p.book(), Some(p), flags),
            Source::Applied {
                scenario: applied,
                input: applied_input,
                book,
            } => {
                let mut out = replay_transformed(applied, applied_input, book, None, flags)?;
                out.summary.hypothetical = crate::transforms::describe(sc);
                let m = &mut out.run_meta;
                m.resolved_config = sc.resolved_toml();
                m.run_id = run_id(&m.resolved_config, &m.input_hashes, &m.version);
                Ok(out)
            }
        }
    }
}

/// Replays `scenario` over `input` on the book it resolves, in full:
/// `Replay::new(scenario, input).run()`.
pub fn run(scenario: &Scenario, input: &ReplayInput) -> Result<RunOutput, ReplayError> {
    Replay::new(scenario, input).run()
}

/// Applies the scenario's stress transforms ([`crate::transforms`]), then
/// replays. The run records the scenario as written (its transforms
/// included), not the frictions the transforms changed.
pub(super) fn replay(
    scenario: &Scenario,
    input: &ReplayInput,
    book: &Book,
    prepared: Option<&PreparedBook>,
    flags: Flags,
) -> Result<RunOutput, ReplayError> {
    let (sc, inp) = crate::transforms::apply(scenario, input)?;
    let mut out = replay_transformed(&sc, &inp, book, prepared, flags)?;
    out.summary.hypothetical = crate::transforms::describe(scenario);
    if let std::borrow::Cow::Owned(_) = sc {
        let m = &mut out.run_meta;
        m.resolved_config = scenario.resolved_toml();
        m.run_id = run_id(&m.resolved_config, &m.input_hashes, &m.version);
    }
    Ok(out)
}

pub(super) fn replay_transformed(
    scenario: &Scenario,
    input: &ReplayInput,
    book: &Book,
    prepared: Option<&PreparedBook>,
    flags: Flags,
) -> Result<RunOutput, ReplayError> {
    let (mut e, stat) = build(scenario, input, book, prepared, flags)?;
    e.main_loop(&stat)?;
    let mut out = e.finish(book)?;
    attach_perp(scenario, input, flags.lean, &mut out)?;
    Ok(out)
}
