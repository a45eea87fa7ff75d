//! The replay loop.
//!
//! One merged stream ordered by [`ReplayKey`]: static data events (market
//! closes at bar end, recorded oracle rounds, override boundaries) in a sorted
//! vector and derived events (health checks, liquidation attempts, auction
//! steps) in a heap; the clock only moves forward (checked). Cost follows
//! events: each position keeps, per asset it holds, the price levels at which
//! its health could leave its current band (< 1, [1, warn), >= warn), in a
//! per-asset bucketed index ([`crate::triggers`]); an oracle update
//! re-evaluates only the positions whose levels it crossed. Health is linear
//! in prices on each side (collateral, debt), so with `h` the health at arm
//! time the level for a band edge `e` is `p0 * (e/h)^(1/s)` for collateral
//! and `q0 * (h/e)^(1/s)` for debt, `s` the number of sides with a moving
//! price (fixed pegs do not move). Levels are f64 with a margin and fire
//! early, never late; the exact integer health decides, so outputs do not
//! depend on the level arithmetic (tested by changing the bucket width).

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use sha2::{Digest, Sha256};
use shortfall_core::money::{mul_div_down, WAD};
use shortfall_core::{Book, LendingEvent, LendingKind, Micros, Phase, ReplayKey, Wad};

use crate::error::{cfg, ReplayError};
use crate::input::{asset_units, depth_paths, peg_bars, to_base, ReplayInput};
use crate::legs::{prefetch, prefetch_addr, Leg, Legs};
use crate::names::Names;
use crate::oracle::{Oracle, OracleOutcome, Override};
use crate::output::*;
use crate::prepared::{book_assets, convert, PreparedBook};
use crate::resolve::resolve_book;
use crate::rules::{aave, compound, maker, to_bps, RuleBlock};
use crate::scenario::*;
use crate::triggers::Triggers;

// Declared here rather than in lib.rs: private to the engine.
#[path = "agenda.rs"]
mod agenda;
#[path = "estimate.rs"]
mod estimate;
use estimate::TriggerHealth;
#[path = "eventjson.rs"]
mod eventjson;
#[path = "joint.rs"]
pub mod joint;
#[path = "parking.rs"]
mod parking;

const BLOCK_SECS: i64 = 12;
const RETRY_MIN: i64 = 60;
const RETRY_MAX: i64 = 3600;
const MARGIN: f64 = 1e-4;

#[derive(Debug, Clone)]
enum StaticEv {
    Market {
        asset: u16,
        price: Wad,
        median: Option<Wad>,
    },
    Round {
        asset: u16,
        answer: Wad,
    },
    Override {
        asset: u16,
    },
    /// A recorded book change: `Engine::book_evs[ev]`.
    Book {
        ev: u32,
    },
}

/// A recorded supply, withdraw, borrow or repay, checked against the
/// scenario (known asset and market, amount in token units).
#[derive(Debug, Clone)]
struct BookEv {
    kind: LendingKind,
    account: String,
    market: String,
    asset: u16,
    amount: i128,
}

/// A derived event in the heap, ordered by (key, insertion sequence). Every
/// dynamic key is derived (block `i64::MAX`, tx and log index 0), so the
/// order packs into one integer: time (sign bit flipped), phase, sequence.
#[derive(Debug)]
struct Scheduled {
    order: u128,
    ev: DynEv,
}

const SEQ_BITS: u32 = 56;

impl Scheduled {
    fn new(key: ReplayKey, seq: u64, ev: DynEv) -> Scheduled {
        debug_assert!(key == ReplayKey::derived(key.ts, key.phase));
        debug_assert!(seq < 1 << SEQ_BITS);
        let ts = (key.ts.0 as u64 ^ (1 << 63)) as u128;
        Scheduled {
            order: ts << 64 | (key.phase as u128) << SEQ_BITS | seq as u128,
            ev,
        }
    }

    fn key(&self) -> ReplayKey {
        let ts = Micros(((self.order >> 64) as u64 ^ (1 << 63)) as i64);
        let phase = match (self.order >> SEQ_BITS) as u8 {
            0 => Phase::Market,
            1 => Phase::Oracle,
            2 => Phase::BookChange,
            3 => Phase::Health,
            4 => Phase::Liquidation,
            _ => Phase::Auction,
        };
        ReplayKey::derived(ts, phase)
    }
}

impl PartialEq for Scheduled {
    fn eq(&self, o: &Self) -> bool {
        self.order == o.order
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.order.cmp(&o.order)
    }
}

#[derive(Debug, Clone)]
enum DynEv {
    Health,
    Attempt { pos: u32, k: u16, detect: Micros },
    AuctionStep { auction: u32, step: u32 },
    AuctionEnd { auction: u32 },
}

struct AssetState {
    name: String,
    params: AssetParams,
    unit_div: i128,
    lt_mult: Wad,
    dm_active: bool,
    raw_market: Option<Wad>,
    /// Lowest market price (impact included) at a market print.
    low_market: Option<Wad>,
    impact: Wad,
    used_depth: Wad,
    depth: Wad,
    last_recover: Micros,
    oracle: Oracle,
    prev_answer: Option<Wad>,
    ever_priced: bool,
    breaker_hist: VecDeque<(Micros, Wad)>,
    vol: VecDeque<(Micros, f64)>,
    vol_sum: f64,
    last_log_px: Option<f64>,
    res: aave::Reserve,
    /// Compound v2: `tokensToDenom` of the market at its current price and
    /// collateral factor ([`compound::tokens_to_denom`]), cached with `res`.
    comp_ttd: i128,
    variable: bool,
    /// [`Engine::stamp`] of the last change of this asset's state.
    touched: u64,
    /// (oracle answer, its natural log as f64) for the trigger levels.
    ln_answer: (i128, f64),
    memo: AssetMemo,
    /// Coefficients of the floating-point health bounds ([`estimate`]).
    est: estimate::LegEst,
    triggers: Triggers,
    paused_until: Micros,
    /// market series (raw, no impact) for auctions
    raw_series: Vec<(Micros, Wad)>,
    coll_initial: i128,
    debt_initial: i128,
    coll_seized: i128,
    coll_fee: i128,
    coll_in_auction: i128,
    debt_repaid: i128,
    debt_written_off: i128,
    debt_in_auction: i128,
    /// External flows of recorded book changes.
    coll_supplied: i128,
    coll_withdrawn: i128,
    debt_borrowed: i128,
    debt_repaid_owner: i128,
}

/// A position's replay state apart from its legs ([`Engine::legs`]) and
/// the two flags read on every evaluation ([`Engine::band`],
/// [`Engine::pending`]).
#[derive(Default)]
struct Pos {
    backoff: i64,
    first_liq: Option<Micros>,
    /// Lowest health sampled; [`NO_HEALTH`] before the first sample.
    min_health: i128,
    liqs: u32,
    repaid_usd: Wad,
    seized_usd: Wad,
    penalty_usd: Wad,
    written_off_usd: Wad,
    blocks: [u32; 5],
    last_reason: Option<Reason>,
    /// The outcome of the last blocked attempt, while it still holds
    /// ([`Engine::repeat_block`]).
    last_block: Option<Blocked>,
    /// Parked: the time of the next retry, which is not scheduled
    /// (see [`parking`]).
    parked: Option<Micros>,
    /// What is in auction (Maker), boxed: most positions never have any,
    /// and the state of every position is allocated for every replay.
    auction: Option<Box<AuctionLegs>>,
}

/// [`Pos::min_health`] before the first sample.
const NO_HEALTH: i128 = i128::MAX;

/// A position's collateral lots in auction and the debt they cover.
#[derive(Default)]
struct AuctionLegs {
    lot: Vec<Leg>,
    debt: Vec<Leg>,
}

impl Pos {
    fn new() -> Self {
        Pos {
            backoff: RETRY_MIN,
            min_health: NO_HEALTH,
            ..Default::default()
        }
    }

    fn auction_lot(&self) -> &[Leg] {
        self.auction.as_ref().map_or(&[], |a| &a.lot)
    }

    fn auction_debt(&self) -> &[Leg] {
        self.auction.as_ref().map_or(&[], |a| &a.debt)
    }
}

/// A blocked attempt, and what it read that can change: it ends the same
/// way again while none of it has ([`Engine::repeat_block`]).
#[derive(Clone, Copy)]
struct Blocked {
    /// [`Engine::stamp`] when it was blocked.
    at: u64,
    gwei: Wad,
    k: u16,
    reason: Reason,
    /// Blocked before any liquidator was asked (no liquidation can pay).
    unpayable: bool,
    /// The liquidator's capital, when it may have limited the repayment
    /// (capital only grows, so a limit that did not bind never will).
    capital: Option<Wad>,
}

struct Auction {
    pos: u32,
    coll: u16,
    debt: u16,
    lot: i128,
    art: i128,
    mech: &'static str,
    out: maker::AuctionOutcome,
}

/// [`Engine::block`]: blocked because no liquidator's liquidation can pay.
const ALL_LIQUIDATORS: usize = usize::MAX;

const BAND_BELOW_ONE: u8 = 0;
const BAND_AT_RISK: u8 = 1;
const BAND_OK: u8 = 2;
const BAND_NONE: u8 = 255;

/// Index of a blocked reason in `Pos::blocks` (attribution classes):
/// 0 capacity, 1 slippage, 2 parameters, 3 oracle, 4 other.
fn block_class(r: Reason) -> usize {
    match r {
        Reason::NoLiquidatorCapital | Reason::GasTooHigh => 0,
        Reason::NoLiquidity => 1,
        Reason::BelowDust | Reason::Unprofitable | Reason::MustNotLeaveDust | Reason::Paused => 2,
        Reason::OracleStale => 3,
        _ => 4,
    }
}

struct Env<'a> {
    assets: &'a [AssetState],
    gas: &'a [(Micros, Wad)],
    default_gwei: Wad,
    native: Option<u16>,
    coll: u16,
}

fn series_at(s: &[(Micros, Wad)], t: Micros) -> Option<Wad> {
    let i = s.partition_point(|(ts, _)| *ts <= t);
    if i == 0 {
        None
    } else {
        Some(s[i - 1].1)
    }
}

impl Env<'_> {
    fn gwei(&self, t: Micros) -> Wad {
        series_at(self.gas, t).unwrap_or(self.default_gwei)
    }
    fn gas_cost(&self, t: Micros, units: u64, native_px: Option<Wad>) -> Wad {
        gas_cost(self.gwei(t), units, native_px)
    }
}

/// USD cost of `units` of gas at `gwei` and a native token price
/// (`units * gwei * 1e-9` native tokens); zero without a price.
fn gas_cost(gwei: Wad, units: u64, native_px: Option<Wad>) -> Wad {
    let Some(px) = native_px else {
        return Wad::ZERO;
    };
    let native_amt = mul_div_down(gwei.0, units as i128, 1_000_000_000).unwrap_or(0);
    Wad(mul_div_down(native_amt, px.0, WAD).unwrap_or(0))
}

/// The last result of a pure function, with its inputs.
type Memo<K, V> = Cell<Option<(K, V)>>;

/// The inputs of the last [`gas_cost`] the engine computed, and its result.
type GasMemo = Memo<(Wad, u64, Option<Wad>), Wad>;

/// [`Memo`] of a function of two integers.
type Memo2 = Memo<(i128, i128), i128>;

/// `f()`, which depends on `key` alone, remembered in `cell` for the next
/// call with the same key.
#[inline]
fn memo<K: Copy + PartialEq, V: Copy>(cell: &Memo<K, V>, key: K, f: impl FnOnce() -> V) -> V {
    if let Some((k, v)) = cell.get() {
        if k == key {
            return v;
        }
    }
    let v = f();
    cell.set(Some((key, v)));
    v
}

/// Per asset, what [`Engine::cannot_profit`] computes from its prices
/// alone, remembered across the positions that hold it.
#[derive(Default)]
struct AssetMemo {
    /// (market, oracle) -> market / oracle (wad).
    rho: Memo2,
    /// (oracle, rho) -> the lowest price a liquidator pays per unit seized.
    floor: Memo2,
}

impl maker::AuctionEnv for Env<'_> {
    fn market(&self, t: Micros) -> Option<Wad> {
        series_at(&self.assets[self.coll as usize].raw_series, t)
    }
    fn oracle(&self, t: Micros) -> Option<Wad> {
        self.market(t)
    }
    fn gas_gwei(&self, t: Micros) -> Wad {
        self.gwei(t)
    }
    fn gas_usd(&self, t: Micros, units: u64) -> Wad {
        let px = self
            .native
            .and_then(|n| series_at(&self.assets[n as usize].raw_series, t));
        self.gas_cost(t, units, px)
    }
}

/// `a * b / WAD` truncated toward zero, exact (i128::MAX when it does not
/// fit); by the 256-bit product, whose division by WAD is two machine
/// divisions ([`mul_div_down`]).
pub(crate) fn wmul(a: i128, b: i128) -> i128 {
    mul_div_down(a, b, WAD).unwrap_or(i128::MAX)
}

/// Sorts `v` (positions below `n`) and removes repeats: by a bit per
/// position when `v` is long (a busy tick fires tens of thousands of
/// levels), else by sorting. `bits` is all clear before and after.
fn sort_dedup(v: &mut Vec<u32>, bits: &mut Vec<u64>, n: usize) {
    let words = n.div_ceil(64);
    if v.len() * 16 < words {
        v.sort_unstable();
        v.dedup();
        return;
    }
    if bits.len() < words {
        bits.resize(words, 0);
    }
    for &i in v.iter() {
        bits[i as usize / 64] |= 1 << (i % 64);
    }
    v.clear();
    for (w, word) in bits.iter_mut().enumerate().take(words) {
        let mut b = std::mem::take(word);
        while b != 0 {
            v.push((w * 64) as u32 + b.trailing_zeros());
            b &= b - 1;
        }
    }
}

/// `x as f64` (the nearest double), by the one-instruction conversion of
/// an i64 when `x` fits one (a health factor always does), the same
/// correctly rounded value as the 128-bit library routine gives.
#[inline]
pub(crate) fn to_f64(x: i128) -> f64 {
    match i64::try_from(x) {
        // Hidden from the optimiser, which would otherwise fold both arms
        // back into the library routine (they give the same value).
        Ok(v) => std::hint::black_box(v) as f64,
        Err(_) => x as f64,
    }
}

fn median(mut v: Vec<Wad>) -> Option<Wad> {
    if v.is_empty() {
        return None;
    }
    v.sort();
    Some(v[(v.len() - 1) / 2])
}

struct Engine<'a> {
    sc: &'a Scenario,
    preset: Preset,
    start: Micros,
    end: Micros,
    assets: Vec<AssetState>,
    /// Depth observations (time, USD) per asset from `datasets.liquidity`,
    /// kept out of `AssetState`, which the health checks read.
    depth_paths: Vec<Vec<(Micros, Wad)>>,
    pos: Vec<Pos>,
    /// Balances of every position.
    legs: Legs,
    /// The balances at the start, for the loan table.
    init_legs: Cow<'a, Legs>,
    /// The prepared book these balances came from (its valuation of them
    /// is shared with the other replays of it: [`PreparedBook::valuation`]).
    shared: Option<&'a PreparedBook>,
    /// Account ids and markets of the positions.
    names: Cow<'a, Names>,
    /// Health band per position (`BAND_*`).
    band: Vec<u8>,
    /// Per position: a liquidation attempt is scheduled.
    pending: Vec<bool>,
    /// Trigger generation per position (kept apart: the trigger index
    /// checks it for every fired entry).
    gens: Vec<u32>,
    liqs: Vec<Liquidator>,
    gas: Vec<(Micros, Wad)>,
    native: Option<u16>,
    heap: agenda::Agenda,
    dyn_seq: u64,
    events: Vec<EventRecord>,
    liquidations: Vec<LiquidationRecord>,
    dirty: Vec<bool>,
    any_dirty: bool,
    newly_priced: bool,
    health_scheduled_at: Option<Micros>,
    unarmed: Vec<u32>,
    /// Reused buffers of [`Engine::health_check`].
    scratch_hit: Vec<u32>,
    /// A bit per position, for [`sort_dedup`] (all clear between uses).
    scratch_bits: Vec<u64>,
    scratch_fired: Vec<(u32, u32)>,
    ticks: Vec<Micros>,
    cur_tick: usize,
    mkt_ticks: Vec<Vec<Option<Wad>>>,
    orc_ticks: Vec<Vec<Option<Wad>>>,
    auctions: Vec<Auction>,
    bad_debt_events: Vec<(Micros, Wad)>,
    liq_by_asset: Vec<(Micros, u16, Wad)>,
    last_key: Option<ReplayKey>,
    protocol_fees_usd: Wad,
    /// Protocol fee income by time (USD), for the reserves drawdown.
    fee_events: Vec<(Micros, Wad)>,
    /// Summary only: the event log is counted, not kept ([`summarise`]).
    lean: bool,
    /// Events logged so far (the next sequence number).
    n_events: u64,
    /// Liquidations so far (their records are kept unless `lean`).
    n_liquidations: usize,
    /// Counts the changes of state a liquidation attempt reads: an asset's
    /// prices, oracle, reserve, depth or pause ([`AssetState::touched`]),
    /// or anything at all ([`Engine::all_touched`]). See [`Blocked`].
    stamp: u64,
    all_touched: u64,
    /// Blocked retries may be parked ([`parking`]).
    park: bool,
    /// ln(1 + MARGIN), ln(1 - MARGIN): the trigger margins in logs.
    ln_margin: (f64, f64),
    /// ln of the warning health (a band bound of the triggers).
    ln_warn: f64,
    /// Per asset: the positions parked until it changes.
    parked_on: Vec<Vec<u32>>,
    /// (seq, asset, time) of the last circuit breaker event logged.
    last_breaker: Option<(u64, u16, Micros)>,
    auction_incentives: Wad,
    /// Blocked attempts by reason (strings only in the summary).
    blocked_counts: BTreeMap<Reason, u64>,
    price_div: i128,
    input_hashes: BTreeMap<String, String>,
    version: String,
    /// Recorded book changes, in replay order (see [`StaticEv::Book`]).
    book_evs: Vec<BookEv>,
    /// What became of the lending events; None without them.
    lend_counts: Option<LendingEventCounts>,
    /// (account, market) -> position, built at the first book change.
    pos_by_key: Option<HashMap<(String, String), u32>>,
    gas_memo: GasMemo,
}

/// Checks the recorded lending events against the scenario and puts the
/// book changes (supply, withdraw, borrow, repay in the window, known asset
/// and market, an amount) in the static stream; counts the rest by reason.
fn book_events(
    sc: &Scenario,
    input: &ReplayInput,
    book: &Book,
    index: &BTreeMap<&str, u16>,
    start: Micros,
    end: Micros,
    stat: &mut Vec<(ReplayKey, StaticEv)>,
) -> (Vec<BookEv>, Option<LendingEventCounts>) {
    let Some(evs) = &input.lending_events else {
        return (Vec::new(), None);
    };
    let mut c = LendingEventCounts::default();
    let markets: BTreeSet<&str> = book.positions.iter().map(|p| p.market.as_str()).collect();
    let mut sorted: Vec<&LendingEvent> = evs.iter().collect();
    sorted.sort_by(|a, b| a.cmp_order(b));
    let mut out = Vec::new();
    for ev in sorted {
        c.total += 1;
        // Between the snapshot and the window: applied at the start.
        let catch_up = book.as_of.is_some_and(|a| a < start && ev.ts > a) && ev.ts < start;
        let checked = (|| {
            if book.as_of.is_some_and(|a| ev.ts <= a) {
                return Err("in_snapshot");
            }
            if (ev.ts < start && !catch_up) || ev.ts > end {
                return Err("outside_window");
            }
            match ev.kind {
                LendingKind::Supply
                | LendingKind::Withdraw
                | LendingKind::Borrow
                | LendingKind::Repay => {}
                LendingKind::Liquidation | LendingKind::Deficit => return Err("observed_only"),
                _ => return Err("kind_not_replayed"),
            }
            let params = sc.policy.assets.get(&ev.asset).ok_or("unknown_asset")?;
            let asset = *index.get(ev.asset.as_str()).ok_or("unknown_asset")?;
            if !markets.contains(ev.market.as_str()) {
                return Err("unknown_market");
            }
            let unit_div = 10i128.pow(18 - params.decimals.min(18));
            let amount = match (ev.amount, ev.amount_raw) {
                (Some(a), _) => a.0,
                (None, Some(raw)) => i128::try_from(raw)
                    .ok()
                    .and_then(|r| r.checked_mul(unit_div))
                    .ok_or("amount_too_large")?,
                (None, None) => return Err("no_amount"),
            };
            if amount < 0 {
                return Err("negative_amount");
            }
            // token decimals, as the book's legs
            let amount = to_base(amount, unit_div) * unit_div;
            if amount == 0 {
                return Err("zero_amount");
            }
            Ok(BookEv {
                kind: ev.kind,
                account: ev.account.clone(),
                market: ev.market.clone(),
                asset,
                amount,
            })
        })();
        match checked {
            Ok(b) => {
                if catch_up {
                    c.before_window += 1;
                }
                // Catch-up events keep their order (block, tx, log) at the
                // start, after its market prints, before its health checks.
                let key = ReplayKey {
                    ts: ev.ts.max(start),
                    block: ev.block.unwrap_or(0),
                    tx_index: ev.tx_index.unwrap_or(0),
                    log_index: ev.log_index.unwrap_or(0),
                    phase: Phase::BookChange,
                };
                stat.push((
                    key,
                    StaticEv::Book {
                        ev: out.len() as u32,
                    },
                ));
                out.push(b);
            }
            Err(why) => *c.ignored.entry(why.to_string()).or_insert(0) += 1,
        }
    }
    (out, Some(c))
}

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
fn replay(
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

fn replay_transformed(
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

/// Replays the scenario's `[perp]` and puts its events in the run's one
/// event log: both logs merged by time (lending first on a tie, each in
/// its own order), renumbered, liquidation records following their
/// events; the log's hash is recomputed. No-op without `[perp]`.
pub(crate) fn attach_perp(
    scenario: &Scenario,
    input: &ReplayInput,
    lean: bool,
    out: &mut RunOutput,
) -> Result<(), ReplayError> {
    let Some((perp, summary)) = crate::perp::scenario::replay_scenario(scenario, input, lean)?
    else {
        return Ok(());
    };
    let (perp_events, run) = crate::perp::scenario::run_tables(perp);
    out.summary.events += summary.totals.events;
    out.summary.perp = Some(summary);
    out.perp = Some(run);
    if lean {
        return Ok(());
    }
    let lending = std::mem::take(&mut out.events);
    let mut remap = vec![0u64; lending.len()];
    let mut merged = Vec::with_capacity(lending.len() + perp_events.len());
    let (mut a, mut b) = (
        lending.into_iter().peekable(),
        perp_events.into_iter().peekable(),
    );
    loop {
        let take_lending = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => x.ts <= y.ts,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let mut ev = if take_lending {
            let ev = a.next().expect("peeked");
            if let Some(slot) = remap.get_mut(ev.seq as usize) {
                *slot = merged.len() as u64;
            }
            ev
        } else {
            b.next().expect("peeked")
        };
        ev.seq = merged.len() as u64;
        merged.push(ev);
    }
    for l in &mut out.liquidations {
        if let Some(s) = remap.get(l.seq as usize) {
            l.seq = *s;
        }
    }
    out.run_meta.event_log_sha256 = eventjson::hash_events(&merged);
    out.events = merged;
    Ok(())
}

/// A static event stream in replay order.
type Stream = Vec<(ReplayKey, StaticEv)>;

/// The engine of one replay, ready to run, and its static stream.
/// The engine at the start of the window, and its stream of recorded
/// events. `prepared`, when given, is `book` converted ([`PreparedBook`]).
fn build<'a>(
    scenario: &'a Scenario,
    input: &ReplayInput,
    book: &Book,
    prepared: Option<&'a PreparedBook>,
    mode: Mode,
) -> Result<(Engine<'a>, Stream), ReplayError> {
    scenario.validate()?;
    if scenario.policy.preset == Preset::None && !book.positions.is_empty() {
        return Err(cfg(
            "policy",
            format!(
                "missing: the lending book has {} positions but the scenario has no lending rules",
                book.positions.len()
            ),
        ));
    }
    let (start, end) = scenario.window_micros()?;
    // Market bars: the input's, plus constant ones for `market.pegs`.
    let pegged = peg_bars(scenario, &input.prices);
    let bars = || input.prices.iter().chain(pegged.iter());
    // Asset universe.
    let own_held;
    let held = match prepared {
        Some(p) => p.assets(),
        None => {
            own_held = book_assets(book);
            &own_held
        }
    };
    let units = asset_units(scenario, bars(), held);
    let names: Vec<String> = units.iter().map(|(n, _)| n.clone()).collect();
    if names.len() > u16::MAX as usize {
        return Err(ReplayError::Input("too many assets".into()));
    }
    let index: BTreeMap<&str, u16> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i as u16))
        .collect();
    let overrides: Vec<(u16, Override)> = scenario
        .oracle
        .overrides
        .iter()
        .enumerate()
        .map(|(i, o)| {
            index
                .get(o.asset.as_str())
                .map(|a| (*a, Override::from_config(o)))
                .ok_or_else(|| {
                    cfg(
                        &format!("oracle.overrides.{i}.asset"),
                        format!("unknown asset `{}`", o.asset),
                    )
                })
        })
        .collect::<Result<_, _>>()?;
    for k in scenario.oracle.assets.keys() {
        if !index.contains_key(k.as_str()) {
            return Err(cfg(
                &format!("oracle.assets.{k}"),
                "asset not in prices or book",
            ));
        }
    }
    let liq_cfg = &scenario.frictions.liquidity;
    let mut depth_paths = depth_paths(input.liquidity.as_deref(), liq_cfg)?;
    let mut assets: Vec<AssetState> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let params = scenario.asset(n);
            let rule = scenario
                .oracle
                .assets
                .get(n)
                .cloned()
                .unwrap_or_default()
                .or(&scenario.oracle.default);
            let ovs = overrides
                .iter()
                .filter(|(a, _)| *a as usize == i)
                .map(|(_, o)| o.clone())
                .collect();
            AssetState {
                name: n.clone(),
                unit_div: 10i128.pow(18 - params.decimals),
                params,
                lt_mult: Wad::ONE,
                dm_active: false,
                raw_market: None,
                low_market: None,
                impact: Wad::ONE,
                used_depth: Wad::ZERO,
                depth: liq_cfg
                    .depth_usd
                    .get(n)
                    .copied()
                    .unwrap_or(liq_cfg.default_depth_usd),
                last_recover: start,
                oracle: Oracle::new(rule, start, ovs),
                prev_answer: None,
                ever_priced: false,
                breaker_hist: VecDeque::new(),
                vol: VecDeque::new(),
                vol_sum: 0.0,
                last_log_px: None,
                res: aave::Reserve {
                    price: 0,
                    unit: 1,
                    lt_bps: 0,
                    bonus_bps: 0,
                    fee_bps: 0,
                },
                comp_ttd: 0,
                variable: true,
                touched: 0,
                ln_answer: (0, f64::NEG_INFINITY),
                memo: AssetMemo::default(),
                est: Default::default(),
                triggers: Triggers::default(),
                paused_until: Micros(i64::MIN),
                raw_series: Vec::new(),
                coll_initial: 0,
                debt_initial: 0,
                coll_seized: 0,
                coll_fee: 0,
                coll_in_auction: 0,
                debt_repaid: 0,
                debt_written_off: 0,
                debt_in_auction: 0,
                coll_supplied: 0,
                coll_withdrawn: 0,
                debt_borrowed: 0,
                debt_repaid_owner: 0,
            }
        })
        .collect();
    for (i, a) in assets.iter().enumerate() {
        if a.oracle.source == OracleSource::Recorded
            && held.contains(&a.name)
            && !input.oracle_rounds.iter().any(|r| r.base == a.name)
        {
            return Err(cfg(
                &format!("oracle.assets.{}.source", names[i]),
                "recorded, but no oracle rounds for this asset",
            ));
        }
    }

    // Static stream.
    let mut by_ts: BTreeMap<(Micros, u16), Vec<(String, Wad)>> = BTreeMap::new();
    for b in bars() {
        let t = Micros(b.ts.0 + b.interval_secs * Micros::PER_SEC);
        if t < start || t > end {
            continue;
        }
        let a = index[b.base.as_str()];
        by_ts
            .entry((t, a))
            .or_default()
            .push((b.venue.clone(), b.close));
    }
    let mut stat: Vec<(ReplayKey, StaticEv)> = Vec::with_capacity(by_ts.len());
    for ((t, a), v) in by_ts {
        let mv = &scenario.market.venues;
        let m = median(
            v.iter()
                .filter(|(ven, _)| mv.is_empty() || mv.contains(ven))
                .map(|x| x.1)
                .collect(),
        );
        let Some(m) = m else { continue };
        let st = &mut assets[a as usize];
        st.raw_series.push((t, m));
        let med = if st.oracle.source == OracleSource::Median {
            let vs = st.oracle.rule.venues.clone().unwrap_or_default();
            median(
                v.iter()
                    .filter(|(ven, _)| vs.is_empty() || vs.contains(ven))
                    .map(|x| x.1)
                    .collect(),
            )
        } else {
            None
        };
        stat.push((
            ReplayKey::data(t, 0, a as i64, Phase::Market),
            StaticEv::Market {
                asset: a,
                price: m,
                median: med,
            },
        ));
    }
    for r in &input.oracle_rounds {
        if r.ts < start || r.ts > end {
            continue;
        }
        let Some(&a) = index.get(r.base.as_str()) else {
            continue;
        };
        let o = &assets[a as usize].oracle;
        if o.source != OracleSource::Recorded || o.rule.feed.as_ref().is_some_and(|f| *f != r.feed)
        {
            continue;
        }
        stat.push((
            ReplayKey::data(r.ts, r.block.unwrap_or(0), a as i64, Phase::Oracle),
            StaticEv::Round {
                asset: a,
                answer: r.answer,
            },
        ));
    }
    for (i, a) in assets.iter().enumerate() {
        for t in a.oracle.override_times() {
            if t >= start && t <= end {
                stat.push((
                    ReplayKey::data(t, 0, i as i64, Phase::Oracle),
                    StaticEv::Override { asset: i as u16 },
                ));
            }
        }
    }
    let (book_evs, lend_counts) = book_events(scenario, input, book, &index, start, end, &mut stat);
    stat.sort_by_key(|x| x.0);
    let mut ticks: Vec<Micros> = stat
        .iter()
        .filter(|(_, e)| matches!(e, StaticEv::Market { .. }))
        .map(|(k, _)| k.ts)
        .collect();
    ticks.dedup();

    // Positions.
    let shared = prepared.and_then(|p| Some((p, p.conversion_for(&units)?)));
    let conversion = match shared {
        Some((_, c)) => Cow::Borrowed(c),
        None => Cow::Owned(convert(book, &units)?),
    };
    let shared = shared.map(|(p, _)| p);
    for (a, st) in assets.iter_mut().enumerate() {
        st.coll_initial = conversion.coll_initial[a];
        st.debt_initial = conversion.debt_initial[a];
    }
    let legs = conversion.legs.clone();
    let (init_legs, position_names) = match conversion {
        Cow::Borrowed(c) => (Cow::Borrowed(&c.legs), Cow::Borrowed(&c.names)),
        Cow::Owned(c) => (Cow::Owned(c.legs), Cow::Owned(c.names)),
    };
    let pos: Vec<Pos> = (0..legs.len()).map(|_| Pos::new()).collect();
    let native = index
        .get(scenario.frictions.gas.native_asset.as_str())
        .copied();
    let liqs = if scenario.frictions.liquidators.is_empty() {
        vec![Liquidator {
            name: "ideal".into(),
            latency_secs: 0,
            capital_usd: Wad(i128::MAX / 4),
            gas_units: 0,
            max_gas_gwei: None,
            min_profit_usd: Wad(i128::MIN / 4),
            margin: Wad::ZERO,
            opening_bid_share: Wad::ONE,
        }]
    } else {
        let mut l = scenario.frictions.liquidators.clone();
        l.sort_by(|a, b| (a.latency_secs, &a.name).cmp(&(b.latency_secs, &b.name)));
        l
    };
    let n_assets = assets.len();
    let n_ticks = ticks.len();
    let unarmed: Vec<u32> = (0..pos.len() as u32).collect();
    let depth_paths: Vec<Vec<(Micros, Wad)>> = names
        .iter()
        .map(|n| depth_paths.remove(n.as_str()).unwrap_or_default())
        .collect();
    let mut e = Engine {
        sc: scenario,
        preset: scenario.policy.preset,
        start,
        end,
        assets,
        depth_paths,
        gens: vec![0; pos.len()],
        band: vec![BAND_NONE; pos.len()],
        pending: vec![false; pos.len()],
        pos,
        init_legs,
        shared,
        legs,
        names: position_names,
        liqs,
        gas: input.gas.clone().unwrap_or_default(),
        native,
        heap: agenda::Agenda::default(),
        dyn_seq: 0,
        events: Vec::new(),
        liquidations: Vec::new(),
        dirty: vec![false; n_assets],
        any_dirty: false,
        newly_priced: false,
        health_scheduled_at: None,
        unarmed,
        scratch_hit: Vec::new(),
        scratch_bits: Vec::new(),
        scratch_fired: Vec::new(),
        ticks,
        cur_tick: 0,
        mkt_ticks: vec![vec![None; n_ticks]; n_assets],
        orc_ticks: vec![vec![None; n_ticks]; n_assets],
        auctions: Vec::new(),
        bad_debt_events: Vec::new(),
        liq_by_asset: Vec::new(),
        last_key: None,
        protocol_fees_usd: Wad::ZERO,
        fee_events: Vec::new(),
        lean: mode.lean,
        n_events: 0,
        n_liquidations: 0,
        stamp: 0,
        all_touched: 0,
        park: false,
        ln_margin: (MARGIN.ln_1p(), (-MARGIN).ln_1p()),
        ln_warn: scenario.policy.warn_health.to_f64().ln(),
        parked_on: vec![Vec::new(); n_assets],
        last_breaker: None,
        auction_incentives: Wad::ZERO,
        blocked_counts: BTreeMap::new(),
        price_div: match scenario.policy.preset {
            Preset::AaveV2 => 1,
            _ => 10_000_000_000,
        },
        input_hashes: input.input_hashes.clone(),
        version: input.tool_version.clone(),
        book_evs,
        lend_counts,
        pos_by_key: None,
        gas_memo: Cell::new(None),
    };
    e.gas.sort_by_key(|g| g.0);
    e.park = mode.park && e.parking_allowed();
    for a in 0..e.assets.len() {
        let o = &e.assets[a].oracle;
        e.assets[a].variable = !(o.mode == OracleMode::Fixed && o.override_times().is_empty());
        e.refresh_reserve(a);
    }
    Ok((e, stat))
}

impl Engine<'_> {
    /// Schedules a derived event. Liquidation attempts due at the same
    /// time go in position order (then liquidator, then scheduling order),
    /// whenever they were scheduled; other events in scheduling order.
    fn push(&mut self, key: ReplayKey, ev: DynEv) {
        let tie = match ev {
            DynEv::Attempt { pos, k, .. } => {
                (pos as u64) << 24 | (k.min(0xff) as u64) << 16 | (self.dyn_seq & 0xffff)
            }
            _ => self.dyn_seq,
        };
        self.heap.push(Scheduled::new(key, tie, ev));
        self.dyn_seq += 1;
    }

    /// Schedules liquidator `k`'s attempt on position `i` at `at`, for
    /// a shortfall detected at `detect`.
    fn schedule_attempt(&mut self, i: u32, k: u16, at: Micros, detect: Micros) {
        let key = ReplayKey::derived(at, Phase::Liquidation);
        self.push(key, DynEv::Attempt { pos: i, k, detect });
    }

    fn log(&mut self, ts: Micros, kind: EventKind, f: impl FnOnce(&mut EventRecord)) -> u64 {
        let seq = self.n_events;
        self.n_events += 1;
        if self.lean {
            return seq;
        }
        let mut r = EventRecord::new(seq, ts, kind);
        f(&mut r);
        self.events.push(r);
        seq
    }

    /// [`Engine::log`] of an event of position `i` (its account set).
    fn log_pos(
        &mut self,
        ts: Micros,
        kind: EventKind,
        i: u32,
        f: impl FnOnce(&mut EventRecord),
    ) -> u64 {
        if self.lean {
            return self.log(ts, kind, |_| {});
        }
        let acct = self.names.account(i).to_string();
        self.log(ts, kind, |r| {
            r.account = Some(acct);
            f(r);
        })
    }

    fn main_loop(&mut self, stat: &[(ReplayKey, StaticEv)]) -> Result<(), ReplayError> {
        let mut si = 0;
        while let Some((key, take_static)) = self.next_key(stat, si) {
            self.step(stat, &mut si, key, take_static)?;
        }
        Ok(())
    }

    /// The key of the next event (static or derived, static first on a
    /// tie) and whether it is static; None when the replay is over.
    #[inline]
    fn next_key(&self, stat: &[(ReplayKey, StaticEv)], si: usize) -> Option<(ReplayKey, bool)> {
        let take_static = match (stat.get(si), self.heap.peek()) {
            (Some((k, _)), Some(h)) => *k <= h.key(),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return None,
        };
        let key = if take_static {
            stat[si].0
        } else {
            self.heap.peek().expect("peeked").key()
        };
        (key.ts <= self.end).then_some((key, take_static))
    }

    /// Processes the event [`Engine::next_key`] returned.
    #[inline]
    fn step(
        &mut self,
        stat: &[(ReplayKey, StaticEv)],
        si: &mut usize,
        key: ReplayKey,
        take_static: bool,
    ) -> Result<(), ReplayError> {
        if let Some(last) = self.last_key {
            if key.ts < last.ts {
                return Err(ReplayError::Invariant {
                    seq: self.n_events,
                    event: "clock".into(),
                    detail: format!("clock moved back from {} to {}", last.ts, key.ts),
                });
            }
        }
        self.last_key = Some(key);
        if take_static {
            let ev = stat[*si].1.clone();
            *si += 1;
            self.on_static(key.ts, ev)
        } else {
            let Scheduled { ev, .. } = self.heap.pop().expect("peeked");
            self.prefetch_next();
            self.on_dyn(key.ts, ev)
        }
    }

    /// Asks the CPU to fetch what the next liquidation attempts will read:
    /// attempts come off the agenda in time order, for positions in no
    /// useful order, and each one's state and legs were a cache miss. The
    /// next few of the agenda's sorted runs and of its heap are known.
    fn prefetch_next(&self) {
        for (_, s) in self.heap.soon() {
            if let DynEv::Attempt { pos, .. } = s.ev {
                self.prefetch_pos(pos);
                prefetch(&self.band[pos as usize]);
                self.legs.prefetch_span(pos);
            }
        }
        // The next one's span was fetched a step ago: its legs now.
        if let Some(DynEv::Attempt { pos, .. }) = self.heap.peek().map(|s| &s.ev) {
            self.legs.prefetch_legs(*pos);
        }
    }

    /// Asks the CPU to fetch position `i`'s state (several cache lines).
    fn prefetch_pos(&self, i: u32) {
        if let Some(p) = self.pos.get(i as usize) {
            let p = p as *const Pos as *const u8;
            for line in 0..std::mem::size_of::<Pos>().div_ceil(64) {
                prefetch_addr(p.wrapping_add(64 * line));
            }
        }
    }

    fn recover(&mut self, a: usize, t: Micros) {
        let lc = &self.sc.frictions.liquidity;
        let st = &mut self.assets[a];
        // Observed depth: the latest row at or before t (the scenario's
        // constant until the first one).
        let path = &self.depth_paths[a];
        let k = path.partition_point(|(ts, _)| *ts <= t);
        if k > 0 {
            st.depth = path[k - 1].1;
        }
        let dt = (t.0 - st.last_recover.0).max(0) / Micros::PER_SEC;
        st.last_recover = t;
        if dt == 0 {
            return;
        }
        let rec = lc.recovery_secs.max(1) as i128;
        let dec = mul_div_down(st.depth.0, dt as i128, rec).unwrap_or(i128::MAX);
        st.used_depth = Wad((st.used_depth.0 - dec).max(0));
        self.update_impact(a);
    }

    /// Endogenous price impact: the market price is the recorded price times
    /// `1 - price_impact * used_depth / depth` (the marginal price of the
    /// linear book after the depth used by liquidation sales), so it falls
    /// with sales and recovers with the depth.
    fn update_impact(&mut self, a: usize) {
        let pi = self.sc.frictions.liquidity.price_impact.0;
        let st = &mut self.assets[a];
        if pi <= 0 || st.depth.0 <= 0 {
            st.impact = Wad::ONE;
            return;
        }
        let used = mul_div_down(st.used_depth.0, WAD, st.depth.0)
            .unwrap_or(WAD)
            .min(WAD);
        st.impact = Wad((WAD - wmul(pi, used)).max(0));
    }

    fn market_px(&self, a: usize) -> Option<Wad> {
        let st = &self.assets[a];
        // No impact (the common case): the recorded price, without the
        // multiplication by one.
        st.raw_market.map(|p| {
            if st.impact == Wad::ONE {
                p
            } else {
                Wad(wmul(p.0, st.impact.0))
            }
        })
    }

    fn mark_dirty(&mut self, a: usize, t: Micros) {
        if !self.dirty[a] {
            self.dirty[a] = true;
        }
        self.any_dirty = true;
        if self.health_scheduled_at != Some(t) {
            self.health_scheduled_at = Some(t);
            self.push(ReplayKey::derived(t, Phase::Health), DynEv::Health);
        }
    }

    fn on_oracle_outcome(&mut self, a: usize, t: Micros, o: OracleOutcome) {
        match o {
            OracleOutcome::None => {}
            OracleOutcome::Rejected(v) => {
                let name = self.assets[a].name.clone();
                self.log(t, EventKind::OracleRejected, |r| {
                    r.asset = Some(name);
                    r.price = Some(v);
                    r.reason = Some(Reason::AnchorRejected);
                });
            }
            OracleOutcome::Answer(v) => {
                if self.assets[a].prev_answer == Some(v) {
                    return;
                }
                let first = self.assets[a].prev_answer.is_none();
                self.assets[a].prev_answer = Some(v);
                self.refresh_reserve(a);
                if !self.assets[a].ever_priced {
                    self.assets[a].ever_priced = true;
                    self.newly_priced = true;
                }
                if !self.ticks.is_empty() {
                    let ti = self.cur_tick.min(self.ticks.len() - 1);
                    self.orc_ticks[a][ti] = Some(v);
                }
                let name = self.assets[a].name.clone();
                self.log(t, EventKind::OracleUpdate, |r| {
                    r.asset = Some(name);
                    r.price = Some(v);
                });
                if !first {
                    self.check_breakers(a, t, v);
                }
                self.assets[a].breaker_hist.push_back((t, v));
                self.mark_dirty(a, t);
            }
        }
    }

    fn check_breakers(&mut self, a: usize, t: Micros, v: Wad) {
        let brs = self.sc.frictions.circuit_breakers.clone();
        let maxw = brs.iter().map(|b| b.window_secs).max().unwrap_or(0);
        {
            let h = &mut self.assets[a].breaker_hist;
            while h
                .front()
                .is_some_and(|(ts, _)| t.0 - ts.0 > maxw * Micros::PER_SEC)
            {
                h.pop_front();
            }
        }
        let aname = self.assets[a].name.clone();
        for b in brs.iter().filter(|b| b.asset == "*" || b.asset == aname) {
            let lo = t.0 - b.window_secs * Micros::PER_SEC;
            let hit = self.assets[a]
                .breaker_hist
                .iter()
                .filter(|(ts, _)| ts.0 >= lo)
                .any(|(_, p)| {
                    p.0 != 0
                        && mul_div_down((v.0 - p.0).abs(), 10_000, p.0.abs()).unwrap_or(0)
                            >= b.move_bps as i128
                });
            if hit && b.action == BreakerAction::Liquidations {
                let until = Micros(t.0 + b.pause_secs * Micros::PER_SEC);
                let targets: Vec<usize> = if b.asset == "*" {
                    (0..self.assets.len()).collect()
                } else {
                    vec![a]
                };
                let mut newly = false;
                for i in targets {
                    if self.assets[i].paused_until < t {
                        newly = true;
                    }
                    if self.assets[i].paused_until < until {
                        self.assets[i].paused_until = until;
                        self.touch_recorded(i, t);
                    }
                }
                if newly {
                    let name = self.assets[a].name.clone();
                    let seq = self.log(t, EventKind::CircuitBreaker, |r| {
                        r.asset = Some(name);
                        r.price = Some(v);
                        r.reason = Some(Reason::PriceMove);
                    });
                    self.last_breaker = Some((seq, a as u16, t));
                }
            } else if hit {
                let name = self.assets[a].name.clone();
                // Once per asset and time: unless the last event logged is
                // this asset's breaker at this time.
                let again = self.n_events > 0
                    && self.last_breaker == Some((self.n_events - 1, a as u16, t));
                if !again {
                    let seq = self.log(t, EventKind::CircuitBreaker, |r| {
                        r.asset = Some(name);
                        r.price = Some(v);
                        r.reason = Some(Reason::PriceMove);
                        r.actor = Some("borrowing".into());
                    });
                    self.last_breaker = Some((seq, a as u16, t));
                }
            }
        }
    }

    /// Notes a change of asset `a`'s state (see [`Blocked`]).
    fn touch(&mut self, a: usize) {
        self.stamp += 1;
        self.assets[a].touched = self.stamp;
    }

    /// A recorded event changes asset `a` at `t`: noted, and its parked
    /// positions are retried from then on ([`parking`]).
    fn touch_recorded(&mut self, a: usize, t: Micros) {
        self.touch(a);
        self.wake(a, t);
    }

    fn touch_all(&mut self) {
        self.stamp += 1;
        self.all_touched = self.stamp;
    }

    fn on_static(&mut self, t: Micros, ev: StaticEv) -> Result<(), ReplayError> {
        match ev {
            StaticEv::Market { asset, .. }
            | StaticEv::Round { asset, .. }
            | StaticEv::Override { asset } => self.touch_recorded(asset as usize, t),
            // A change of balances: the position's own (see book_change).
            StaticEv::Book { .. } => {}
        }
        match ev {
            StaticEv::Market {
                asset,
                price,
                median,
            } => {
                let a = asset as usize;
                while self.cur_tick + 1 < self.ticks.len() && self.ticks[self.cur_tick + 1] <= t {
                    self.cur_tick += 1;
                }
                self.recover(a, t);
                self.assets[a].raw_market = Some(price);
                let m = self.market_px(a).expect("set");
                let low = &mut self.assets[a].low_market;
                *low = Some(low.map_or(m, |l| l.min(m)));
                if !self.ticks.is_empty() {
                    self.mkt_ticks[a][self.cur_tick] = Some(m);
                }
                self.dynamic_margin(a, t, m);
                let src = match self.assets[a].oracle.source {
                    OracleSource::Market => Some(m),
                    OracleSource::Median => median,
                    OracleSource::Recorded => None,
                };
                if let Some(v) = src {
                    let o = self.assets[a].oracle.on_source(t, v);
                    self.on_oracle_outcome(a, t, o);
                }
            }
            StaticEv::Round { asset, answer } => {
                let o = self.assets[asset as usize].oracle.on_source(t, answer);
                self.on_oracle_outcome(asset as usize, t, o);
            }
            StaticEv::Override { asset } => {
                let o = self.assets[asset as usize].oracle.on_override_time(t);
                self.on_oracle_outcome(asset as usize, t, o);
                // staleness changes: re-check positions of this asset
                self.mark_dirty(asset as usize, t);
            }
            StaticEv::Book { ev } => self.book_change(ev as usize, t),
        }
        Ok(())
    }

    /// The position of (account, market), if any.
    fn find_pos(&mut self, account: &str, market: &str) -> Option<u32> {
        let names = &self.names;
        let n = self.legs.len() as u32;
        let map = self.pos_by_key.get_or_insert_with(|| {
            let mut m = HashMap::with_capacity(n as usize);
            for i in 0..n {
                m.entry((names.account(i).to_string(), names.market(i).to_string()))
                    .or_insert(i);
            }
            m
        });
        map.get(&(account.to_string(), market.to_string())).copied()
    }

    /// Opens an empty position (an account the book does not hold).
    fn open_position(&mut self, account: &str, market: &str) -> u32 {
        let i = self.pos.len() as u32;
        self.legs.push(&[], &[]);
        self.init_legs.to_mut().push(&[], &[]);
        self.names.to_mut().push(account, market);
        self.band.push(BAND_NONE);
        self.pending.push(false);
        self.gens.push(0);
        self.pos.push(Pos::new());
        if let Some(m) = &mut self.pos_by_key {
            m.insert((account.to_string(), market.to_string()), i);
        }
        if let Some(c) = &mut self.lend_counts {
            c.new_positions += 1;
        }
        i
    }

    fn count_ignored(&mut self, why: &str) {
        if let Some(c) = &mut self.lend_counts {
            *c.ignored.entry(why.to_string()).or_insert(0) += 1;
        }
    }

    /// Applies a recorded supply, withdraw, borrow or repay to its position
    /// (a new account or asset gets a position or leg; a withdraw or repay
    /// larger than the leg is clamped at zero), logs it, then re-evaluates
    /// the position's health and re-arms its triggers as after any change.
    fn book_change(&mut self, k: usize, t: Micros) {
        let BookEv {
            kind,
            account,
            market,
            asset,
            amount,
        } = self.book_evs[k].clone();
        let adds = matches!(kind, LendingKind::Supply | LendingKind::Borrow);
        let is_coll = matches!(kind, LendingKind::Supply | LendingKind::Withdraw);
        let i = match self.find_pos(&account, &market) {
            Some(i) => i,
            None if adds => self.open_position(&account, &market),
            None => return self.count_ignored("unknown_account"),
        };
        // Its balances change: a parked retry is due from now on.
        self.unpark(i, t, true);
        self.pos[i as usize].last_block = None;
        let (coll, debt) = self.legs.split_mut(i);
        let side = if is_coll { coll } else { debt };
        let leg = side.iter_mut().find(|l| l.0 == asset);
        let mut clamped = false;
        let applied = if adds {
            match leg {
                Some(l) => match l.1.checked_add(amount) {
                    Some(x) => l.1 = x,
                    None => return self.count_ignored("amount_too_large"),
                },
                None if is_coll => self.legs.push_coll(i, (asset, amount)),
                None => self.legs.push_debt(i, (asset, amount)),
            }
            amount
        } else {
            let x = match leg {
                Some(l) => {
                    let x = amount.min(l.1);
                    l.1 -= x;
                    x
                }
                None => 0,
            };
            clamped = x < amount;
            self.legs.retain_nonzero(i);
            x
        };
        let st = &mut self.assets[asset as usize];
        match kind {
            LendingKind::Supply => st.coll_supplied += applied,
            LendingKind::Withdraw => st.coll_withdrawn += applied,
            LendingKind::Borrow => st.debt_borrowed += applied,
            _ => st.debt_repaid_owner += applied,
        }
        let (reason, signed) = match kind {
            LendingKind::Supply => (Reason::Supply, applied),
            LendingKind::Withdraw => (Reason::Withdraw, -applied),
            LendingKind::Borrow => (Reason::Borrow, applied),
            _ => (Reason::Repay, -applied),
        };
        if let Some(c) = &mut self.lend_counts {
            c.applied += 1;
            *c.applied_by_kind
                .entry(kind.as_str().to_string())
                .or_insert(0) += 1;
            c.clamped += clamped as u64;
        }
        let value = st.oracle.answer.map(|p| Wad(wmul(signed, p.0)));
        let name = st.name.clone();
        let h = self.health(i).filter(|h| *h != i128::MAX).map(Wad);
        self.log(t, EventKind::BookChange, |r| {
            r.account = Some(account);
            r.asset = Some(name);
            r.amount = Some(Wad(signed));
            r.value_usd = value;
            r.health = h;
            r.reason = Some(reason);
        });
        self.evaluate(i, t);
    }

    fn dynamic_margin(&mut self, a: usize, t: Micros, m: Wad) {
        let Some(dm) = self.sc.policy.dynamic_margin.clone() else {
            return;
        };
        let x = m.to_f64();
        if x <= 0.0 {
            return;
        }
        let lx = x.ln();
        let st = &mut self.assets[a];
        if let Some(prev) = st.last_log_px {
            let r2 = (lx - prev) * (lx - prev);
            st.vol.push_back((t, r2));
            st.vol_sum += r2;
        }
        st.last_log_px = Some(lx);
        while st
            .vol
            .front()
            .is_some_and(|(ts, _)| t.0 - ts.0 > dm.window_secs * Micros::PER_SEC)
        {
            let (_, r2) = st.vol.pop_front().expect("front");
            st.vol_sum -= r2;
        }
        let vol = st.vol_sum.max(0.0).sqrt();
        let high = vol > dm.vol_threshold;
        if high != st.dm_active {
            st.dm_active = high;
            st.lt_mult = if high { dm.lt_multiplier } else { Wad::ONE };
            let lt = Wad(wmul(st.params.liquidation_threshold.0, st.lt_mult.0));
            let name = st.name.clone();
            self.refresh_reserve(a);
            self.log(t, EventKind::MarginChange, |r| {
                r.asset = Some(name);
                r.amount = Some(lt);
                r.reason = Some(if high {
                    Reason::VolatilityHigh
                } else {
                    Reason::VolatilityNormal
                });
            });
            // Health of every holder changes without a price move.
            let holders: Vec<u32> = (0..self.pos.len() as u32)
                .filter(|&i| self.legs.coll(i).iter().any(|(x, _)| *x as usize == a))
                .collect();
            for i in holders {
                self.evaluate(i, t);
            }
        }
    }

    fn on_dyn(&mut self, t: Micros, ev: DynEv) -> Result<(), ReplayError> {
        match ev {
            DynEv::Health => self.health_check(t),
            DynEv::Attempt { pos, k, detect } => self.attempt(pos, k as usize, detect, t)?,
            DynEv::AuctionStep { auction, step } => {
                self.touch_all();
                self.auction_step(auction, step, t)
            }
            DynEv::AuctionEnd { auction } => {
                self.touch_all();
                self.auction_end(auction, t)?
            }
        }
        Ok(())
    }

    fn health_check(&mut self, t: Micros) {
        if !self.any_dirty {
            return;
        }
        self.any_dirty = false;
        // Buffers kept across checks: a busy tick fires tens of thousands of
        // levels, and fresh buffers would be page-faulted in every time.
        let mut hit = std::mem::take(&mut self.scratch_hit);
        let mut fired = std::mem::take(&mut self.scratch_fired);
        hit.clear();
        for a in 0..self.assets.len() {
            if !self.dirty[a] {
                continue;
            }
            self.dirty[a] = false;
            let Some(px) = self.assets[a].oracle.answer else {
                continue;
            };
            fired.clear();
            self.assets[a].triggers.fire(px.0 as f64, &mut fired);
            // Generations are read in no useful order: fetched ahead.
            const PF_GENS: usize = 16;
            for (j, &(i, g)) in fired.iter().enumerate() {
                if let Some(&(n, _)) = fired.get(j + PF_GENS) {
                    prefetch(&self.gens[n as usize]);
                }
                if self.gens[i as usize] == g {
                    hit.push(i);
                }
            }
            // Stale / outage: positions below one must be retried anyway.
        }
        if self.newly_priced {
            self.newly_priced = false;
            let un = std::mem::take(&mut self.unarmed);
            for i in un {
                let priced = self
                    .legs
                    .all(i)
                    .iter()
                    .all(|(a, _)| self.assets[*a as usize].oracle.answer.is_some());
                if priced {
                    hit.push(i);
                } else {
                    self.unarmed.push(i);
                }
            }
        }
        sort_dedup(&mut hit, &mut self.scratch_bits, self.pos.len());
        // Fetch ahead: spans PF_SPAN positions ahead, legs PF_LEGS ahead.
        const PF_SPAN: usize = 16;
        const PF_LEGS: usize = 8;
        for (j, &i) in hit.iter().enumerate() {
            if let Some(&n) = hit.get(j + PF_SPAN) {
                self.legs.prefetch_span(n);
            }
            if let Some(&n) = hit.get(j + PF_LEGS) {
                self.legs.prefetch_legs(n);
                self.names.prefetch(n);
                prefetch(&self.band[n as usize]);
                prefetch(&self.gens[n as usize]);
                // read when the position is below one
                let p = &self.pos[n as usize] as *const Pos as *const u8;
                prefetch_addr(p.wrapping_add(std::mem::offset_of!(Pos, first_liq)));
            }
            self.evaluate(i, t);
        }
        self.scratch_hit = hit;
        self.scratch_fired = fired;
    }

    /// Exact health (wad) at oracle prices; None when unpriced or no debt.
    fn health(&self, i: u32) -> Option<i128> {
        let (coll, debt) = self.legs.split(i);
        let debt_total: i128 = debt.iter().map(|d| d.1).sum();
        if debt_total == 0 {
            return Some(i128::MAX);
        }
        for (a, _) in coll.iter().chain(debt.iter()) {
            self.assets[*a as usize].oracle.answer?;
        }
        Some(match self.preset {
            Preset::AaveV2 | Preset::AaveV3 | Preset::AaveV33 => {
                let leg = |(a, x): &(u16, i128)| {
                    let st = &self.assets[*a as usize];
                    (to_base(*x, st.unit_div), st.res)
                };
                aave::account_data_iter(coll.iter().map(leg), debt.iter().map(leg)).health_factor
            }
            Preset::CompoundV2 => {
                // compound::account_liquidity with each market's
                // tokensToDenom cached (the same integer math).
                let sc: i128 = coll
                    .iter()
                    .map(|(a, x)| {
                        let ctokens = self.ctokens(*a, *x);
                        compound::mul_exp(self.assets[*a as usize].comp_ttd, ctokens)
                    })
                    .sum();
                let sb: i128 = debt
                    .iter()
                    .map(|(a, x)| {
                        let st = &self.assets[*a as usize];
                        let base = to_base(*x, st.unit_div);
                        compound::mul_exp(self.comp_price(*a), base)
                    })
                    .sum();
                if sb == 0 {
                    i128::MAX
                } else {
                    mul_div_down(sc, WAD, sb).unwrap_or(i128::MAX)
                }
            }
            Preset::MakerFlip | Preset::MakerClip => {
                let mat = self.sc.policy.maker.mat.0;
                let cv: i128 = coll
                    .iter()
                    .map(|(a, x)| {
                        wmul(
                            *x,
                            self.assets[*a as usize].oracle.answer.unwrap_or_default().0,
                        )
                    })
                    .sum();
                let dv: i128 = debt
                    .iter()
                    .map(|(a, x)| {
                        wmul(
                            *x,
                            self.assets[*a as usize].oracle.answer.unwrap_or_default().0,
                        )
                    })
                    .sum();
                let spot_v = mul_div_down(cv, WAD, mat).unwrap_or(0);
                mul_div_down(spot_v, WAD, dv).unwrap_or(i128::MAX)
            }
            // No lending rules: the book is empty (checked in `build`).
            Preset::None => return None,
        })
    }

    fn reserve(&self, a: u16) -> aave::Reserve {
        self.assets[a as usize].res
    }

    fn refresh_reserve(&mut self, a: usize) {
        let r = self.compute_reserve(a as u16);
        self.assets[a].res = r;
        if self.preset == Preset::CompoundV2 {
            let leg = self.ctoken_leg(a as u16, 0);
            self.assets[a].comp_ttd =
                compound::tokens_to_denom(leg.collateral_factor, leg.exchange_rate, leg.price);
        }
        self.assets[a].est = self.leg_est(a);
    }

    fn compute_reserve(&self, a: u16) -> aave::Reserve {
        let st = &self.assets[a as usize];
        let px = st.oracle.answer.unwrap_or_default().0 / self.price_div;
        let lt = wmul(st.params.liquidation_threshold.0, st.lt_mult.0);
        aave::Reserve {
            price: px,
            unit: 10i128.pow(st.params.decimals),
            lt_bps: to_bps(Wad(lt)),
            bonus_bps: to_bps(st.params.liquidation_bonus),
            fee_bps: to_bps(st.params.protocol_fee),
        }
    }

    fn comp_price(&self, a: u16) -> i128 {
        let st = &self.assets[a as usize];
        // getUnderlyingPrice: USD * 1e36 / 10^decimals = wad price * 10^(18 - decimals)
        st.oracle
            .answer
            .unwrap_or_default()
            .0
            .saturating_mul(st.unit_div)
    }

    /// cTokens of an underlying amount (18-decimal units): base units
    /// * 1e18 / rate, exact (a rate of one is the common case).
    fn ctokens(&self, a: u16, amount: i128) -> i128 {
        let st = &self.assets[a as usize];
        let base = to_base(amount, st.unit_div);
        let rate = st.params.exchange_rate.0;
        if rate == WAD {
            base
        } else {
            mul_div_down(base, WAD, rate).unwrap_or(0)
        }
    }

    fn ctoken_leg(&self, a: u16, amount: i128) -> compound::CollateralLeg {
        let st = &self.assets[a as usize];
        compound::CollateralLeg {
            ctokens: self.ctokens(a, amount),
            collateral_factor: wmul(st.params.liquidation_threshold.0, st.lt_mult.0),
            exchange_rate: st.params.exchange_rate.0,
            price: self.comp_price(a),
        }
    }

    /// Re-evaluates position `i`: its band, a liquidation attempt when
    /// below one, its triggers. The exact health is computed only when the
    /// floating-point bounds ([`estimate`]) do not prove the band, or when
    /// a full replay records it (at a band change).
    fn evaluate(&mut self, i: u32, t: Micros) {
        if let Some((band, th)) = self.estimated_band(i) {
            if self.lean || band == self.band[i as usize] {
                return self.evaluate_band(i, t, band, th, None);
            }
        }
        self.evaluate_at(i, t, self.health(i));
    }

    /// [`Engine::evaluate`] with the position's health `h` known.
    fn evaluate_at(&mut self, i: u32, t: Micros, h: Option<i128>) {
        let warn = self.sc.policy.warn_health.0;
        let Some(h) = h else {
            if !self.unarmed.contains(&i) {
                self.unarmed.push(i);
            }
            return;
        };
        let band = if h < WAD {
            BAND_BELOW_ONE
        } else if h < warn {
            BAND_AT_RISK
        } else {
            BAND_OK
        };
        self.evaluate_band(i, t, band, TriggerHealth::exact(h), Some(h));
    }

    /// [`Engine::evaluate_at`] once the band is known: `hf` the health
    /// factor (infinite without debt), `h` the exact health when computed
    /// (always at a band change of a full replay).
    fn evaluate_band(&mut self, i: u32, t: Micros, band: u8, th: TriggerHealth, h: Option<i128>) {
        let pidx = i as usize;
        let old = self.band[pidx];
        if old != band {
            // Sampled at band changes only, so it does not depend on how
            // often the trigger index asks for evaluations.
            if let Some(h) = h {
                self.note_health(i, h);
            }
        }
        if old != band && !(old == BAND_NONE && band == BAND_OK) {
            let reason = if band > old || old == BAND_NONE && band == BAND_OK {
                Reason::Recovered
            } else if band == BAND_BELOW_ONE {
                Reason::BelowOne
            } else {
                Reason::BelowWarn
            };
            let reason = if old == BAND_NONE {
                if band == BAND_BELOW_ONE {
                    Reason::BelowOne
                } else {
                    Reason::BelowWarn
                }
            } else {
                reason
            };
            self.log_pos(t, EventKind::HealthCrossing, i, |r| {
                r.health = h.map(Wad);
                r.reason = Some(reason);
            });
        }
        self.band[pidx] = band;
        if band == BAND_BELOW_ONE {
            self.pos[pidx].first_liq.get_or_insert(t);
            if !self.pending[pidx] {
                self.pending[pidx] = true;
                let lat = self.liqs[0].latency_secs;
                let at = Micros(t.0 + lat * Micros::PER_SEC);
                self.schedule_attempt(i, 0, at, t);
            }
        }
        self.arm(i, th, band);
    }

    fn note_health(&mut self, i: u32, h: i128) {
        if h != i128::MAX {
            let p = &mut self.pos[i as usize];
            p.min_health = p.min_health.min(h);
        }
    }

    /// Sets position `i`'s triggers for its band at health `th` (an
    /// infinite factor: no debt, nothing can make it liquidatable).
    fn arm(&mut self, i: u32, th: TriggerHealth, band: u8) {
        let g = self.gens[i as usize].wrapping_add(1);
        self.gens[i as usize] = g;
        let hf = th.hf;
        if hf == f64::INFINITY {
            return;
        }
        // The bounds of the band, as natural logs: ln 1 = 0 and ln warn.
        let ln_warn = self.ln_warn;
        let (lo, hi) = match band {
            BAND_BELOW_ONE => (None, Some(0.0)),
            BAND_AT_RISK => (Some(0.0), Some(ln_warn)),
            _ => (Some(ln_warn), None),
        };
        let hf = hf.max(1e-12);
        // Health is linear in prices on each side: with every collateral
        // price >= r * p0 the weighted collateral is >= r * C0, with every
        // debt price <= q0 / r the debt is <= D0 / r. The slack is shared
        // between the sides that can move (fixed-peg assets cannot). In
        // logs: ln r = ln(bound / hf) / sides.
        let var = |a: &u16| self.assets[*a as usize].variable;
        let (coll, debt) = self.legs.split(i);
        let sides =
            (coll.iter().any(|l| var(&l.0)) as u32 + debt.iter().any(|l| var(&l.0)) as u32).max(1);
        let ln_hf = hf.ln();
        // sides is 1 or 2: halving is exact, and a multiplication is a
        // fraction of a division's latency
        let per_side = if sides == 1 { 1.0 } else { 1.0 / sides as f64 };
        let ln_r = |ln_bound: f64| (ln_bound - ln_hf) * per_side;
        let (ln_lo, ln_hi) = (lo.map(ln_r), hi.map(ln_r));
        // Health is linear in prices only up to the protocol's integer
        // truncations (and Aave's average threshold, floored to a basis
        // point): MARGIN covers them when they are under a millionth of
        // the position; a position where they are not (dust, mixed
        // thresholds) gets three times as much more, so its triggers stay
        // early.
        let slack = th.slack.unwrap_or_else(|| self.relative_slack(i));
        let (ln_up, ln_down) = if slack <= 1e-6 {
            self.ln_margin
        } else {
            let m = (MARGIN + 3.0 * slack).min(0.5);
            (m.ln_1p(), (-m).ln_1p())
        };
        let legs = coll
            .iter()
            .map(|(a, _)| (*a, true))
            .chain(debt.iter().map(|(a, _)| (*a, false)));
        let assets = &mut self.assets;
        for (a, is_coll) in legs {
            let st = &mut assets[a as usize];
            if !st.variable {
                continue;
            }
            let Some(px) = st.oracle.answer else { continue };
            if st.ln_answer.0 != px.0 {
                st.ln_answer = (px.0, (px.0 as f64).ln());
            }
            let lp = st.ln_answer.1;
            if let Some(r) = ln_lo {
                if is_coll {
                    st.triggers.push_down(lp + r + ln_up, i, g);
                } else {
                    st.triggers.push_up(lp - r + ln_down, i, g);
                }
            }
            if let Some(r) = ln_hi {
                if is_coll {
                    st.triggers.push_up(lp + r + ln_down, i, g);
                } else {
                    st.triggers.push_down(lp - r + ln_up, i, g);
                }
            }
        }
    }

    /// Counts a blocked attempt of position `i`, logged when the reason
    /// changes; `by`: the liquidator blocked ([`ALL_LIQUIDATORS`]: none
    /// could pay), None when the protocol blocked it.
    fn block(&mut self, i: u32, t: Micros, reason: Reason, by: Option<usize>) {
        let p = &mut self.pos[i as usize];
        p.blocks[block_class(reason)] += 1;
        *self.blocked_counts.entry(reason).or_insert(0) += 1;
        if p.last_reason == Some(reason) {
            return;
        }
        p.last_reason = Some(reason);
        let actor = match by {
            None => "protocol",
            Some(ALL_LIQUIDATORS) => "all",
            Some(k) => &self.liqs[k].name,
        }
        .to_string();
        self.log_pos(t, EventKind::LiquidationBlocked, i, |r| {
            r.reason = Some(reason);
            r.actor = Some(actor);
        });
    }

    /// Retries a blocked liquidation later: exponential backoff from 60 s,
    /// capped at an hour for transient causes (liquidity, capital, gas,
    /// oracle) and uncapped when the position is not worth liquidating
    /// (its economics change only slowly).
    fn retry(&mut self, i: u32, t: Micros, reason: Reason) {
        let at = self.next_retry(i, t, reason);
        self.schedule_attempt(i, 0, at, at);
    }

    /// The time of the next retry of a liquidation blocked at `t` (the
    /// backoff doubled for the one after).
    fn next_retry(&mut self, i: u32, t: Micros, reason: Reason) -> Micros {
        let p = &mut self.pos[i as usize];
        let b = p.backoff;
        let cap = match reason {
            Reason::BelowDust | Reason::Unprofitable | Reason::MustNotLeaveDust => 86_400 * 365,
            _ => RETRY_MAX,
        };
        p.backoff = (b * 2).min(cap);
        Micros(t.0 + b * Micros::PER_SEC)
    }

    fn attempt(&mut self, i: u32, k: usize, detect: Micros, t: Micros) -> Result<(), ReplayError> {
        if let Some(b) = self.repeat_block(i, k, t) {
            self.blocked(i, k, detect, t, b.reason, b.unpayable);
            return Ok(());
        }
        // Still below one? A summary-only replay takes the band from the
        // health bounds when they prove it (it records no health).
        let estimate = if self.lean {
            self.estimated_band(i)
        } else {
            None
        };
        let h = match estimate {
            Some((BAND_BELOW_ONE, _)) => None,
            Some((band, th)) => {
                self.recovered(i);
                self.evaluate_band(i, t, band, th, None);
                return Ok(());
            }
            None => {
                let h = self.health(i);
                if let Some(h) = h {
                    self.note_health(i, h);
                }
                match h {
                    Some(h) if h < WAD => Some(h),
                    _ => {
                        self.recovered(i);
                        self.evaluate_at(i, t, h);
                        return Ok(());
                    }
                }
            }
        };
        if let Some(until) = self
            .legs
            .all(i)
            .iter()
            .map(|(a, _)| self.assets[*a as usize].paused_until)
            .filter(|u| *u > t)
            .max()
        {
            self.block(i, t, Reason::Paused, None);
            self.schedule_attempt(i, 0, until, until);
            return Ok(());
        }
        if self.oracle_stale(i, t) {
            self.block(i, t, Reason::OracleStale, None);
            self.retry(i, t, Reason::OracleStale);
            return Ok(());
        }
        if self.legs.coll(i).is_empty() {
            // nothing to seize; stays non-performing
            self.pending[i as usize] = false;
            return Ok(());
        }
        let outcome = if self.preset.is_fixed_spread() && self.cannot_profit(i, t) {
            Err((Reason::BelowDust, true))
        } else if self.preset.is_fixed_spread() {
            self.try_fixed(i, k, t, h)?.map_err(|r| (r, false))
        } else {
            self.bite(i, t);
            Ok(())
        };
        if let Err((reason, unpayable)) = outcome {
            // Capital beyond twice the debt's value limits nothing.
            let debt_usd: i128 = self
                .legs
                .debt(i)
                .iter()
                .map(|(a, x)| self.usd(*a, *x).0)
                .sum();
            let capital = self.liqs[k].capital_usd;
            self.pos[i as usize].last_block = Some(Blocked {
                at: self.stamp,
                gwei: self.gwei(t),
                k: k as u16,
                reason,
                unpayable,
                capital: (capital.0 <= debt_usd.saturating_mul(2).saturating_add(WAD))
                    .then_some(capital),
            });
            self.blocked(i, k, detect, t, reason, unpayable);
        }
        Ok(())
    }

    /// Recovered before a liquidator acted: no attempt pending, the
    /// backoff reset (the caller re-evaluates: logs the crossing, re-arms
    /// the triggers).
    fn recovered(&mut self, i: u32) {
        self.pending[i as usize] = false;
        self.pos[i as usize].backoff = RETRY_MIN;
    }

    /// Any of the position's oracles stale (or out) at `t`.
    fn oracle_stale(&self, i: u32, t: Micros) -> bool {
        self.legs
            .all(i)
            .iter()
            .any(|(a, _)| self.assets[*a as usize].oracle.is_stale(t))
    }

    /// The outcome of the position's last blocked attempt when this one
    /// (by the same liquidator) must end the same way because nothing it
    /// reads has changed since: the position's balances (a liquidation or
    /// book change clears the record), the prices, oracle answers,
    /// reserves and depth of its assets and of the gas asset
    /// ([`Engine::touch`]), the gas price and the liquidator's capital
    /// (compared); pauses and staleness depend on the time and are checked
    /// again (the attempt then takes its own course).
    fn repeat_block(&self, i: u32, k: usize, t: Micros) -> Option<Blocked> {
        let b = self.pos[i as usize].last_block?;
        let unchanged = |a: usize| self.assets[a].touched <= b.at;
        let same =
            b.at >= self.all_touched
                && usize::from(b.k) == k
                && self.legs.all(i).iter().all(|(a, _)| {
                    unchanged(*a as usize) && self.assets[*a as usize].paused_until <= t
                })
                && self.native.is_none_or(|n| unchanged(n as usize))
                && b.capital.is_none_or(|c| c == self.liqs[k].capital_usd)
                && b.gwei == self.gwei(t)
                && !self.oracle_stale(i, t);
        same.then_some(b)
    }

    /// A blocked attempt: counted, then handed to the next liquidator in
    /// line or retried later.
    fn blocked(
        &mut self,
        i: u32,
        k: usize,
        detect: Micros,
        t: Micros,
        reason: Reason,
        unpayable: bool,
    ) {
        if unpayable {
            self.block(i, t, reason, Some(ALL_LIQUIDATORS));
            self.retry_or_park(i, t, reason);
            return;
        }
        self.block(i, t, reason, Some(k));
        if k + 1 < self.liqs.len() {
            let at = Micros((detect.0 + self.liqs[k + 1].latency_secs * Micros::PER_SEC).max(t.0));
            self.schedule_attempt(i, (k + 1) as u16, at, detect);
        } else {
            self.retry_or_park(i, t, reason);
        }
    }

    /// Upper bound of any liquidator's profit on the position, against the
    /// lowest gas cost and minimum profit among the liquidators: the
    /// liquidator gets at most `c * p_mkt` of an asset for at least
    /// `rho * c * p_orc / bonus` (rho: lowest market/oracle ratio of the
    /// debt assets, at most 1). True when no liquidation can pay.
    fn cannot_profit(&self, i: u32, t: Micros) -> bool {
        let min_profit = self
            .liqs
            .iter()
            .map(|l| l.min_profit_usd)
            .min()
            .unwrap_or_default();
        if min_profit <= Wad::ZERO {
            return false;
        }
        let (coll, debt) = self.legs.split(i);
        let mut rho = WAD;
        for (a, _) in debt {
            let (Some(m), Some(o)) = (
                self.market_px(*a as usize),
                self.assets[*a as usize].oracle.answer,
            ) else {
                return false;
            };
            if o.0 > 0 {
                rho = rho.min(memo(&self.assets[*a as usize].memo.rho, (m.0, o.0), || {
                    mul_div_down(m.0, WAD, o.0).unwrap_or(WAD)
                }));
            }
        }
        let mut bound = 0i128;
        for (a, x) in coll {
            let st = &self.assets[*a as usize];
            let (Some(m), Some(o)) = (self.market_px(*a as usize), st.oracle.answer) else {
                return false;
            };
            let floor = memo(&st.memo.floor, (o.0, rho), || {
                let b = st.params.liquidation_bonus.0.max(WAD);
                mul_div_down(wmul(o.0, rho), WAD, b).unwrap_or(0)
            });
            bound += wmul(*x, (m.0 - floor).max(0));
        }
        let min_gas = self
            .liqs
            .iter()
            .map(|l| self.gas_usd(t, l.gas_units))
            .min()
            .unwrap_or_default();
        Wad(bound) - min_gas < min_profit
    }

    fn quote_sale(&self, a: usize, value: Wad) -> Option<Wad> {
        let lc = &self.sc.frictions.liquidity;
        let st = &self.assets[a];
        match lc.model {
            LiquidityModel::None => Some(value),
            LiquidityModel::Linear => {
                if st.used_depth + value > st.depth {
                    return None;
                }
                let frac_num = st.used_depth.0 + value.0 / 2;
                let keep = WAD - mul_div_down(frac_num, WAD, st.depth.0.max(1)).unwrap_or(WAD);
                Some(Wad(wmul(value.0, keep.max(0))))
            }
            LiquidityModel::ConstantProduct => {
                let y = st.depth.0 - st.used_depth.0;
                if y <= 0 {
                    return None;
                }
                Some(Wad(mul_div_down(value.0, y, y + value.0).unwrap_or(0)))
            }
        }
    }

    fn commit_sale(&mut self, a: usize, value: Wad) {
        if self.sc.frictions.liquidity.model != LiquidityModel::None {
            self.touch(a);
            self.assets[a].used_depth += value;
            self.update_impact(a);
        }
    }

    /// [`gas_cost`] at `t`, remembered: it changes only with the gas price
    /// or the native token's price, and every attempt asks for it.
    fn gas_usd(&self, t: Micros, units: u64) -> Wad {
        let px = self.native.and_then(|n| self.market_px(n as usize));
        let gwei = self.gwei(t);
        memo(&self.gas_memo, (gwei, units, px), || {
            gas_cost(gwei, units, px)
        })
    }

    fn gwei(&self, t: Micros) -> Wad {
        series_at(&self.gas, t).unwrap_or(self.sc.frictions.gas.gwei)
    }

    fn usd(&self, a: u16, amount: i128) -> Wad {
        Wad(wmul(
            amount,
            self.assets[a as usize].oracle.answer.unwrap_or_default().0,
        ))
    }

    fn mkt_usd(&self, a: u16, amount: i128) -> Wad {
        Wad(wmul(
            amount,
            self.market_px(a as usize).unwrap_or_default().0,
        ))
    }

    /// One fixed-spread liquidation by liquidator `k` of position `i` at
    /// health `h_before` (None: proven below one but not computed, in a
    /// summary-only replay); Err = blocked reason.
    fn try_fixed(
        &mut self,
        i: u32,
        k: usize,
        t: Micros,
        h_before: Option<i128>,
    ) -> Result<Result<(), Reason>, ReplayError> {
        let l = &self.liqs[k];
        let (capital, gas_units, min_profit) = (l.capital_usd, l.gas_units, l.min_profit_usd);
        if l.max_gas_gwei.is_some_and(|m| self.gwei(t) > m) {
            return Ok(Err(Reason::GasTooHigh));
        }
        if capital <= Wad::ZERO {
            return Ok(Err(Reason::NoLiquidatorCapital));
        }
        let (coll, debt) = self.legs.split(i);
        let pick = |legs: &[Leg]| -> Leg {
            *legs
                .iter()
                .max_by(|x, y| {
                    self.usd(x.0, x.1)
                        .cmp(&self.usd(y.0, y.1))
                        .then(y.0.cmp(&x.0))
                })
                .expect("non-empty")
        };
        let (ca, camt) = pick(coll);
        let (da, damt) = pick(debt);
        let dst = &self.assets[da as usize];
        let cst = &self.assets[ca as usize];
        let d_px = dst.oracle.answer.unwrap_or_default();
        // capital -> debt tokens -> base units
        let cover_tokens = mul_div_down(capital.0, WAD, d_px.0.max(1)).unwrap_or(i128::MAX);
        let cover_base = to_base(cover_tokens, dst.unit_div).max(0);
        let (repaid_base, coll_liq_base, fee_base, no_coll_left) = match self.preset {
            Preset::AaveV2 | Preset::AaveV3 | Preset::AaveV33 => {
                // each leg in base units with its reserve
                let reserves = |legs: &[Leg]| -> Vec<(i128, aave::Reserve)> {
                    legs.iter()
                        .map(|(a, x)| {
                            let ud = self.assets[*a as usize].unit_div;
                            (to_base(*x, ud), self.reserve(*a))
                        })
                        .collect()
                };
                let (c, d) = (reserves(coll), reserves(debt));
                let acct = aave::account_data(&c, &d);
                let version = match self.preset {
                    Preset::AaveV2 => aave::AaveVersion::V2,
                    Preset::AaveV3 => aave::AaveVersion::V3,
                    _ => aave::AaveVersion::V33,
                };
                let b = 10i128.pow(if self.preset == Preset::AaveV2 { 18 } else { 8 });
                let lc = aave::LiquidationConfig {
                    version,
                    close_factor_bps: self.sc.policy.close_factor.map(to_bps).unwrap_or(5000),
                    close_factor_hf_threshold: 950_000_000_000_000_000,
                    min_base_max_close_factor: wmul(
                        self.sc.policy.min_base_max_close_factor_usd.0,
                        b,
                    ),
                    min_leftover_base: wmul(self.sc.policy.min_leftover_usd.0, b),
                };
                match aave::liquidate(
                    &lc,
                    &acct,
                    &self.reserve(ca),
                    to_base(camt, cst.unit_div),
                    &self.reserve(da),
                    to_base(damt, dst.unit_div),
                    cover_base,
                ) {
                    Ok(x) => (
                        x.debt_repaid,
                        x.collateral_to_liquidator,
                        x.protocol_fee,
                        x.no_collateral_left,
                    ),
                    Err(RuleBlock::MustNotLeaveDust) => {
                        return Ok(Err(if cover_base < to_base(damt, dst.unit_div) {
                            Reason::NoLiquidatorCapital
                        } else {
                            Reason::MustNotLeaveDust
                        }))
                    }
                    Err(_) => return Ok(Err(Reason::BelowDust)),
                }
            }
            Preset::CompoundV2 => {
                let borrow = to_base(damt, dst.unit_div);
                let cf = self.sc.policy.close_factor.map(|w| w.0).unwrap_or(WAD / 2);
                let cap = compound::max_close(cf, borrow).min(cover_base);
                let leg = self.ctoken_leg(ca, camt);
                let inc = cst.params.liquidation_bonus.0;
                let pb = self.comp_price(da);
                let ratio = compound::seize_ratio(inc, pb, leg.price, leg.exchange_rate);
                let repay = compound::max_repay_with(ratio, leg.ctokens, cap);
                if repay <= 0 {
                    return Ok(Err(Reason::BelowDust));
                }
                let seize = compound::seize_with(ratio, repay);
                let fee_ct = wmul(seize, cst.params.protocol_fee.0);
                let to_under = |ct: i128| mul_div_down(ct, leg.exchange_rate, WAD).unwrap_or(0);
                let total_under = to_under(seize).min(to_base(camt, cst.unit_div));
                let fee_under = to_under(fee_ct).min(total_under);
                (repay, total_under - fee_under, fee_under, false)
            }
            _ => unreachable!("auction presets do not use fixed spread"),
        };
        if repaid_base <= 0 || coll_liq_base + fee_base <= 0 {
            return Ok(Err(Reason::BelowDust));
        }
        let repaid = repaid_base * dst.unit_div;
        let coll_liq = coll_liq_base * cst.unit_div;
        let fee = fee_base * cst.unit_div;
        // Economics at market prices.
        let value = self.mkt_usd(ca, coll_liq);
        let cost = self.mkt_usd(da, repaid);
        let gas = self.gas_usd(t, gas_units);
        let Some(proceeds) = self.quote_sale(ca as usize, value) else {
            return Ok(Err(Reason::NoLiquidity));
        };
        let profit = proceeds - cost - gas;
        if profit < min_profit {
            let why = if value - cost - gas >= min_profit {
                Reason::NoLiquidity
            } else if value - cost >= min_profit && gas > Wad::ZERO {
                Reason::BelowDust
            } else {
                Reason::Unprofitable
            };
            return Ok(Err(why));
        }
        // Execute.
        self.pos[i as usize].last_block = None;
        self.commit_sale(ca as usize, value);
        let seized = coll_liq + fee;
        let repaid_usd = self.usd(da, repaid);
        let seized_usd = self.usd(ca, seized);
        let fee_usd = self.usd(ca, fee);
        {
            let debt_before: i128 = self.legs.debt(i).iter().map(|d| d.1).sum();
            let (coll, debt) = self.legs.split_mut(i);
            for leg in coll.iter_mut().filter(|x| x.0 == ca) {
                leg.1 -= seized;
            }
            for leg in debt.iter_mut().filter(|x| x.0 == da) {
                leg.1 -= repaid;
            }
            let neg = self.legs.all(i).iter().any(|l| l.1 < 0);
            let debt_after: i128 = self.legs.debt(i).iter().map(|d| d.1).sum();
            if neg || debt_after > debt_before {
                return Err(ReplayError::Invariant {
                    seq: self.n_events,
                    event: format!("liquidation of {}", self.names.account(i)),
                    detail: if neg {
                        "negative balance".into()
                    } else {
                        "liquidation raised debt".into()
                    },
                });
            }
            self.legs.retain_nonzero(i);
            self.pending[i as usize] = false;
            let p = &mut self.pos[i as usize];
            p.liqs += 1;
            p.repaid_usd += repaid_usd;
            p.seized_usd += seized_usd;
            p.penalty_usd += (seized_usd - repaid_usd).max(Wad::ZERO);
            p.backoff = RETRY_MIN;
            p.last_reason = None;
        }
        self.assets[ca as usize].coll_seized += coll_liq;
        self.assets[ca as usize].coll_fee += fee;
        self.assets[da as usize].debt_repaid += repaid;
        #[cfg(feature = "fault-injection")]
        crate::fault::after_liquidation(self.n_liquidations + 1, self.legs.split_mut(i));
        self.protocol_fees_usd += fee_usd;
        if fee_usd.is_positive() {
            self.fee_events.push((t, fee_usd));
        }
        let cap = self.liqs[k].capital_usd;
        self.liqs[k].capital_usd = Wad(cap
            .0
            .saturating_add(profit.max(Wad::ZERO).0)
            .min(i128::MAX / 4));
        self.liq_by_asset.push((t, ca, seized_usd));
        self.n_liquidations += 1;
        if self.lean {
            // Counted only, as the log ([`Engine::log`]).
            self.log(t, EventKind::Liquidation, |_| {});
            if no_coll_left {
                self.book_deficit(i, t);
            }
            match self.estimated_band(i) {
                Some((band, th)) => self.reeval_band(i, t, band, th),
                None => {
                    let h_after = self.health(i);
                    self.reeval_later(i, t, h_after);
                }
            }
            return Ok(Ok(()));
        }
        let acct = self.names.account(i).to_string();
        let market = self.names.market(i).to_string();
        let (cn, dn) = (
            self.assets[ca as usize].name.clone(),
            self.assets[da as usize].name.clone(),
        );
        let liquidator = self.liqs[k].name.clone();
        let seq = self.log(t, EventKind::Liquidation, |r| {
            r.account = Some(acct.clone());
            r.asset = Some(cn.clone());
            r.amount = Some(Wad(seized));
            r.value_usd = Some(repaid_usd);
            r.health = h_before.map(Wad);
            r.actor = Some(liquidator.clone());
        });
        if no_coll_left {
            self.book_deficit(i, t);
        }
        let h_after = self.health(i);
        self.liquidations.push(LiquidationRecord {
            seq,
            ts: t,
            account: acct,
            market,
            mechanism: "fixed_spread".into(),
            liquidator,
            collateral_asset: cn,
            debt_asset: dn,
            debt_repaid: Wad(repaid),
            collateral_seized: Wad(seized),
            protocol_fee: Wad(fee),
            repaid_usd,
            seized_usd,
            penalty_usd: (seized_usd - repaid_usd).max(Wad::ZERO),
            sale_proceeds_usd: proceeds,
            slippage_usd: value - proceeds,
            gas_usd: gas,
            health_before: h_before.map(Wad),
            health_after: h_after.filter(|h| *h != i128::MAX).map(Wad),
        });
        self.reeval_later(i, t, h_after);
        Ok(Ok(()))
    }

    /// After a liquidation (`h`: the health it left): still below one, the
    /// next attempt comes a block later; else re-evaluate.
    fn reeval_later(&mut self, i: u32, t: Micros, h: Option<i128>) {
        match h {
            Some(h) if h < WAD && !self.legs.coll(i).is_empty() => {
                self.still_below_one(i, t, TriggerHealth::exact(h))
            }
            _ => self.evaluate_at(i, t, h),
        }
    }

    /// [`Engine::reeval_later`] with the band proven by the health bounds
    /// and the health factor estimated (a summary-only replay).
    fn reeval_band(&mut self, i: u32, t: Micros, band: u8, th: TriggerHealth) {
        if band == BAND_BELOW_ONE && !self.legs.coll(i).is_empty() {
            self.still_below_one(i, t, th)
        } else {
            self.evaluate_band(i, t, band, th, None)
        }
    }

    /// Still below one after a liquidation: the next attempt a block later.
    fn still_below_one(&mut self, i: u32, t: Micros, th: TriggerHealth) {
        self.pending[i as usize] = true;
        let lat = self.liqs[0].latency_secs.max(BLOCK_SECS);
        let at = Micros(t.0 + lat * Micros::PER_SEC);
        self.schedule_attempt(i, 0, at, at);
        self.arm(i, th, BAND_BELOW_ONE);
        self.band[i as usize] = BAND_BELOW_ONE;
    }

    fn book_deficit(&mut self, i: u32, t: Micros) {
        let debts = self.legs.take_debt(i);
        for (a, x) in debts {
            if x == 0 {
                continue;
            }
            let usd = self.usd(a, x);
            self.assets[a as usize].debt_written_off += x;
            self.pos[i as usize].written_off_usd += usd;
            self.bad_debt_events.push((t, usd));
            let name = self.assets[a as usize].name.clone();
            self.log_pos(t, EventKind::BadDebt, i, |r| {
                r.asset = Some(name);
                r.amount = Some(Wad(x));
                r.value_usd = Some(usd);
                r.reason = Some(Reason::Deficit);
            });
        }
    }

    /// Maker: bite the vault's largest collateral and start an auction.
    fn bite(&mut self, i: u32, t: Micros) {
        self.touch_all();
        let (coll, debt) = self.legs.split(i);
        let (ca, ink) = *coll
            .iter()
            .max_by(|x, y| {
                self.usd(x.0, x.1)
                    .cmp(&self.usd(y.0, y.1))
                    .then(y.0.cmp(&x.0))
            })
            .expect("coll");
        let (da, art) = *debt
            .iter()
            .max_by(|x, y| {
                self.usd(x.0, x.1)
                    .cmp(&self.usd(y.0, y.1))
                    .then(y.0.cmp(&x.0))
            })
            .expect("debt");
        let mp = self.sc.policy.maker.clone();
        let (lot, art_b, tab) = maker::bite(Wad(ink), Wad(art), &mp);
        let env = Env {
            assets: &self.assets,
            gas: &self.gas,
            default_gwei: self.sc.frictions.gas.gwei,
            native: self.native,
            coll: ca,
        };
        let keepers = &self.liqs;
        let (out, mech) = if self.preset == Preset::MakerFlip {
            (
                maker::run_flip(t, tab, lot, &mp, keepers, &env, self.end),
                "flip",
            )
        } else {
            (
                maker::run_clip(t, tab, lot, &mp, keepers, &env, self.end),
                "clip",
            )
        };
        {
            let (coll, debt) = self.legs.split_mut(i);
            for l in coll.iter_mut().filter(|x| x.0 == ca) {
                l.1 -= lot.0;
            }
            for l in debt.iter_mut().filter(|x| x.0 == da) {
                l.1 -= art_b.0;
            }
            self.legs.retain_nonzero(i);
            self.pending[i as usize] = true;
            let a = self.pos[i as usize]
                .auction
                .get_or_insert_with(Default::default);
            a.lot.push((ca, lot.0));
            a.debt.push((da, art_b.0));
        }
        self.assets[ca as usize].coll_in_auction += lot.0;
        self.assets[da as usize].debt_in_auction += art_b.0;
        self.auction_incentives += out.incentives;
        let id = self.auctions.len() as u32;
        let acct = self.names.account(i).to_string();
        let cname = self.assets[ca as usize].name.clone();
        let mut steps = Vec::new();
        for (s, st) in out.steps.iter().enumerate() {
            steps.push((st.ts, s as u32));
        }
        let settled = out.settled;
        let end = out.end;
        self.auctions.push(Auction {
            pos: i,
            coll: ca,
            debt: da,
            lot: lot.0,
            art: art_b.0,
            mech,
            out,
        });
        self.log(t, EventKind::AuctionKick, |r| {
            r.account = Some(acct);
            r.asset = Some(cname);
            r.amount = Some(lot);
            r.value_usd = Some(tab);
            r.actor = Some(mech.into());
        });
        for (ts, s) in steps {
            self.push(
                ReplayKey::derived(ts, Phase::Auction),
                DynEv::AuctionStep {
                    auction: id,
                    step: s,
                },
            );
        }
        if settled {
            self.push(
                ReplayKey::derived(end, Phase::Auction),
                DynEv::AuctionEnd { auction: id },
            );
        }
    }

    fn auction_step(&mut self, id: u32, s: u32, t: Micros) {
        let a = &self.auctions[id as usize];
        let st = a.out.steps[s as usize].clone();
        let acct = self.names.account(a.pos).to_string();
        let cname = self.assets[a.coll as usize].name.clone();
        if st.action == "deal" {
            return;
        }
        if st.action == "blocked" {
            let reason = match st.reason {
                Some("gas") => Reason::GasTooHigh,
                Some("capital") => Reason::NoLiquidatorCapital,
                _ => Reason::Unprofitable,
            };
            let p = a.pos;
            self.pos[p as usize].blocks[block_class(reason)] += 1;
            *self.blocked_counts.entry(reason).or_insert(0) += 1;
            self.log(t, EventKind::LiquidationBlocked, |r| {
                r.account = Some(acct);
                r.asset = Some(cname);
                r.reason = Some(reason);
                r.actor = Some(st.keeper.clone());
            });
            return;
        }
        self.log(t, EventKind::AuctionBid, |r| {
            r.account = Some(acct);
            r.asset = Some(cname);
            r.amount = Some(st.lot);
            r.value_usd = Some(st.bid);
            r.actor = Some(format!("{}:{}", st.keeper, st.action));
        });
    }

    fn auction_end(&mut self, id: u32, t: Micros) -> Result<(), ReplayError> {
        let (i, ca, da, lot, art, mech, out) = {
            let a = &self.auctions[id as usize];
            (a.pos, a.coll, a.debt, a.lot, a.art, a.mech, a.out.clone())
        };
        let raised = out.raised.0;
        let repaid = raised.min(art);
        let bad = art - repaid;
        let sold = out.lot_sold.0;
        let returned = out.lot_returned.0;
        if sold + returned != lot {
            return Err(ReplayError::Invariant {
                seq: self.n_events,
                event: format!("auction {id}"),
                detail: "lot sold + returned != lot".into(),
            });
        }
        let repaid_usd = Wad(repaid);
        let seized_usd = self.usd(ca, sold);
        let penalty = Wad(raised - repaid).max(Wad::ZERO);
        {
            let st = &mut self.assets[ca as usize];
            st.coll_in_auction -= lot;
            st.coll_seized += sold;
        }
        {
            let st = &mut self.assets[da as usize];
            st.debt_in_auction -= art;
            st.debt_repaid += repaid;
            st.debt_written_off += bad;
        }
        {
            let p = &mut self.pos[i as usize];
            if let Some(a) = p.auction.as_mut() {
                if let Some(ix) = a.lot.iter().position(|x| *x == (ca, lot)) {
                    a.lot.remove(ix);
                }
                if let Some(ix) = a.debt.iter().position(|x| *x == (da, art)) {
                    a.debt.remove(ix);
                }
            }
            p.liqs += 1;
            p.repaid_usd += repaid_usd;
            p.seized_usd += seized_usd;
            p.penalty_usd += penalty;
            p.written_off_usd += Wad(bad);
            self.pending[i as usize] = false;
            if returned > 0 {
                match self.legs.split_mut(i).0.iter_mut().find(|x| x.0 == ca) {
                    Some(l) => l.1 += returned,
                    None => self.legs.push_coll(i, (ca, returned)),
                }
            }
        }
        self.liq_by_asset.push((t, ca, seized_usd));
        let acct = self.names.account(i).to_string();
        let market = self.names.market(i).to_string();
        let cname = self.assets[ca as usize].name.clone();
        let dname = self.assets[da as usize].name.clone();
        let winner = out.winner.clone().unwrap_or_default();
        let seq = self.log(t, EventKind::AuctionDeal, |r| {
            r.account = Some(acct.clone());
            r.asset = Some(cname.clone());
            r.amount = Some(Wad(sold));
            r.value_usd = Some(Wad(raised));
            r.actor = Some(winner.clone());
        });
        if bad > 0 {
            self.bad_debt_events.push((t, Wad(bad)));
            self.log(t, EventKind::BadDebt, |r| {
                r.account = Some(acct.clone());
                r.asset = Some(dname.clone());
                r.amount = Some(Wad(bad));
                r.value_usd = Some(Wad(bad));
                r.reason = Some(Reason::AuctionShortfall);
            });
        }
        let sale = self.mkt_usd(ca, sold);
        let h_after = self.health(i);
        self.n_liquidations += 1;
        if !self.lean {
            self.liquidations.push(LiquidationRecord {
                seq,
                ts: t,
                account: acct,
                market,
                mechanism: mech.into(),
                liquidator: winner,
                collateral_asset: cname,
                debt_asset: dname,
                debt_repaid: Wad(repaid),
                collateral_seized: Wad(sold),
                protocol_fee: Wad::ZERO,
                repaid_usd,
                seized_usd,
                penalty_usd: penalty,
                sale_proceeds_usd: sale,
                slippage_usd: Wad::ZERO,
                gas_usd: Wad::ZERO,
                health_before: None,
                health_after: h_after.filter(|h| *h != i128::MAX).map(Wad),
            });
        }
        self.reeval_later(i, t, h_after);
        Ok(())
    }

    fn finish(mut self, book: &Book) -> Result<RunOutput, ReplayError> {
        self.flush_parked();
        // The log is complete: hash it on a second thread while the tables
        // are built (the hash does not depend on which thread computes it).
        let events = std::mem::take(&mut self.events);
        let n_events = self.n_events;
        let (tables, event_hash) = if self.lean {
            (self.tables(book, n_events), String::new())
        } else {
            std::thread::scope(|s| {
                let hash = s.spawn(|| eventjson::hash_events(&events));
                let tables = self.tables(book, n_events);
                (tables, hash.join().expect("event log hash"))
            })
        };
        let (loans, series, summary) = tables?;
        let resolved = self.sc.resolved_toml();
        let input_hashes = self.input_hashes.clone();
        let run_id = run_id(&resolved, &input_hashes, &self.version);
        Ok(RunOutput {
            events,
            liquidations: self.liquidations,
            loans,
            series,
            summary,
            run_meta: RunMeta {
                run_id,
                version: self.version.clone(),
                seed: self.sc.seed,
                resolved_config: resolved,
                input_hashes,
                event_log_sha256: event_hash,
                book_origin: book.origin.clone(),
            },
            perp: None,
        })
    }

    /// Loans, series and summary; `n_events`: length of the event log.
    fn tables(
        &mut self,
        book: &Book,
        n_events: u64,
    ) -> Result<(Vec<LoanOutcome>, Vec<SeriesPoint>, Summary), ReplayError> {
        // Forward-fill the aligned series.
        for a in 0..self.assets.len() {
            let (mut lm, mut lo) = (None, None);
            for ti in 0..self.ticks.len() {
                match self.mkt_ticks[a][ti] {
                    Some(v) => lm = Some(v),
                    None => self.mkt_ticks[a][ti] = lm,
                }
                match self.orc_ticks[a][ti] {
                    Some(v) => lo = Some(v),
                    None => self.orc_ticks[a][ti] = lo,
                }
            }
        }
        self.check_conservation(n_events)?;
        let to_f = |v: &Vec<Vec<Option<Wad>>>| -> Vec<Vec<f64>> {
            v.iter()
                .map(|row| {
                    row.iter()
                        .map(|x| x.map_or(f64::NAN, |w| w.0 as f64 / WAD as f64))
                        .collect()
                })
                .collect()
        };
        let mkt_f = to_f(&self.mkt_ticks);
        let orc_f = to_f(&self.orc_ticks);
        let end_px: Vec<Option<Wad>> = (0..self.assets.len())
            .map(|a| self.market_px(a).or_else(|| self.assets[a].oracle.answer))
            .collect();
        let start_px: Vec<Option<Wad>> = (0..self.assets.len())
            .map(|a| {
                self.mkt_ticks[a]
                    .iter()
                    .flatten()
                    .next()
                    .copied()
                    .or(self.assets[a].oracle.answer)
            })
            .collect();
        let val = |legs: &[(u16, i128)], px: &[Option<Wad>]| -> Option<Wad> {
            let mut s = Wad::ZERO;
            for (a, x) in legs {
                s += Wad(wmul(*x, px[*a as usize]?.0));
            }
            Some(s)
        };
        // The initial legs at the start and end prices, shared by the
        // replays of a prepared book (while its positions are all there is).
        let valuation = match (self.shared, &self.init_legs) {
            (Some(p), Cow::Borrowed(init)) => Some(p.valuation(&start_px, &end_px, || {
                crate::prepared::Valuation::new(init, start_px.clone(), end_px.clone(), val)
            })),
            _ => None,
        };
        // The replay is over: free its indexes before the loan table grows.
        for a in &mut self.assets {
            a.triggers = Triggers::default();
        }
        self.heap = agenda::Agenda::default();
        self.gens = Vec::new();
        self.unarmed = Vec::new();
        let warn = self.sc.policy.warn_health.0;
        let mut loans = Vec::with_capacity(self.pos.len());
        let mut totals = Attribution::default();
        let mut wf = Waterfall::default();
        let (mut bad, mut npl, mut liq_n, mut risk, mut perf, mut unp) =
            (Wad::ZERO, 0u64, 0u64, 0u64, 0u64, 0u64);
        let mut init_debt_total = Wad::ZERO;
        let mut penalty_total = Wad::ZERO;
        let mut repaid_total = Wad::ZERO;
        for i in 0..self.pos.len() {
            let p = &self.pos[i];
            let (coll, debt) = self.init_legs.split(i as u32);
            let init = InitLegs { coll, debt };
            let known = valuation.as_ref().map(|v| v.of(i));
            let unchanged = p.auction_lot().is_empty()
                && p.auction_debt().is_empty()
                && self.legs.all(i as u32) == self.init_legs.all(i as u32);
            let (ic, id, fc, fd) = match known {
                Some([ic, id, fc, fd]) if unchanged => (ic, id, fc, fd),
                _ => {
                    let (ic, id) = match known {
                        Some([ic, id, _, _]) => (ic, id),
                        None => (val(init.coll, &start_px), val(init.debt, &start_px)),
                    };
                    // what is left, with what is still in auction
                    let (coll, debt) = self.legs.split(i as u32);
                    let fc = val(coll, &end_px)
                        .zip(val(p.auction_lot(), &end_px))
                        .map(|(x, y)| x + y);
                    let fd = val(debt, &end_px)
                        .zip(val(p.auction_debt(), &end_px))
                        .map(|(x, y)| x + y);
                    (ic, id, fc, fd)
                }
            };
            // Needed for the at-risk status and the loan row only; a
            // summary-only replay skips it where the health bounds prove
            // the position at or above the warning health.
            let need_h = !self.lean
                || (p.liqs == 0
                    && p.written_off_usd == Wad::ZERO
                    && !matches!(self.estimated_band(i as u32), Some((BAND_OK, _))));
            let h = if need_h { self.health(i as u32) } else { None };
            let (status, shortfall) = match (ic, id, fc, fd) {
                (Some(ic), Some(id), Some(fc), Some(fd)) => {
                    init_debt_total += id;
                    let sf = p.written_off_usd + (fd - fc).max(Wad::ZERO);
                    let st = if sf > Wad::ZERO {
                        LoanStatus::NonPerforming
                    } else if p.liqs > 0 {
                        LoanStatus::Liquidated
                    } else if h.is_some_and(|h| h < warn) {
                        LoanStatus::AtRisk
                    } else {
                        LoanStatus::Performing
                    };
                    if p.liqs > 0 || sf > Wad::ZERO {
                        let e0 = (ic - id).max(Wad::ZERO);
                        let e1 = (fc - fd).max(Wad::ZERO);
                        wf.borrower_equity_usd += (e0 - e1).max(Wad::ZERO);
                    }
                    (st, sf)
                }
                _ => (LoanStatus::Unpriced, Wad::ZERO),
            };
            let attribution = if shortfall > Wad::ZERO {
                self.attribute(i, &init, shortfall, &mkt_f, &orc_f)
            } else {
                Attribution::default()
            };
            totals.add(&attribution);
            bad += shortfall;
            penalty_total += p.penalty_usd;
            repaid_total += p.repaid_usd;
            match status {
                LoanStatus::NonPerforming => npl += 1,
                LoanStatus::Liquidated => liq_n += 1,
                LoanStatus::AtRisk => risk += 1,
                LoanStatus::Performing => perf += 1,
                LoanStatus::Unpriced => unp += 1,
            }
            if self.lean {
                continue;
            }
            loans.push(LoanOutcome {
                account: self.names.account(i as u32).to_string(),
                market: self.names.market(i as u32).to_string(),
                status,
                initial_collateral_usd: ic.unwrap_or_default(),
                initial_debt_usd: id.unwrap_or_default(),
                final_collateral_usd: fc.unwrap_or_default(),
                final_debt_usd: fd.unwrap_or_default(),
                repaid_usd: p.repaid_usd,
                seized_usd: p.seized_usd,
                penalty_usd: p.penalty_usd,
                written_off_usd: p.written_off_usd,
                shortfall_usd: shortfall,
                liquidations: p.liqs,
                min_health: (p.min_health != NO_HEALTH).then_some(Wad(p.min_health)),
                final_health: h.filter(|h| *h != i128::MAX).map(Wad),
                first_liquidatable: p.first_liq,
                last_blocked: p.last_reason,
                attribution,
            });
        }
        wf.liquidation_penalty_usd = penalty_total;
        wf.reserves_usd = bad.min(self.sc.accounting.insurance_usd.max(Wad::ZERO));
        wf.socialised_usd = bad - wf.reserves_usd;
        let series = if self.lean { Vec::new() } else { self.series() };
        let n = self.pos.len() as u64;
        let summary = Summary {
            scenario: self.sc.name.clone(),
            preset: serde_json::to_value(self.preset)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            window_start: self.start,
            window_end: self.end,
            positions: n,
            book_generated: book.origin.kind == "generated",
            book_origin: book.origin.detail.clone(),
            initial_debt_usd: init_debt_total,
            bad_debt_usd: bad,
            npl_count: npl,
            npl_ratio: if n == 0 {
                Wad::ZERO
            } else {
                Wad(mul_div_down(npl as i128, WAD, n as i128).unwrap_or(0))
            },
            liquidated_count: liq_n,
            at_risk_count: risk,
            performing_count: perf,
            unpriced_count: unp,
            liquidation_count: self.n_liquidations as u64,
            liquidated_volume_usd: repaid_total,
            penalty_usd: penalty_total,
            protocol_fees_usd: self.protocol_fees_usd,
            reserves_drawdown_usd: self.reserves_drawdown(bad),
            auction_incentives_usd: self.auction_incentives,
            blocked_attempts: self
                .blocked_counts
                .iter()
                .map(|(r, n)| (r.as_str().to_string(), *n))
                .collect(),
            waterfall: wf,
            attribution: totals,
            events: n_events,
            lending_events: self.lend_counts.clone(),
            // filled by `replay` from the scenario as written
            hypothetical: Vec::new(),
            perp: None,
        };
        Ok((loans, series, summary))
    }
}

/// A position's legs at the start of the run.
struct InitLegs<'a> {
    coll: &'a [Leg],
    debt: &'a [Leg],
}

/// `run_id`: first 16 hex digits of sha256 over the resolved config, the
/// input hashes (`name=hash` lines, sorted) and the version.
pub fn run_id(resolved: &str, input_hashes: &BTreeMap<String, String>, version: &str) -> String {
    let mut h = Sha256::new();
    h.update(resolved.as_bytes());
    h.update(b"\n--inputs--\n");
    for (k, v) in input_hashes {
        h.update(format!("{k}={v}\n").as_bytes());
    }
    h.update(b"--version--\n");
    h.update(version.as_bytes());
    hex::encode(h.finalize())[..16].to_string()
}

impl Engine<'_> {
    /// Collateral and debt conservation per asset.
    fn check_conservation(&self, n_events: u64) -> Result<(), ReplayError> {
        let n = self.assets.len();
        let (mut coll_now, mut coll_auction, mut debt_now, mut debt_auction) = (
            vec![0i128; n],
            vec![0i128; n],
            vec![0i128; n],
            vec![0i128; n],
        );
        for (i, p) in self.pos.iter().enumerate() {
            let (coll, debt) = self.legs.split(i as u32);
            if coll.iter().chain(debt.iter()).any(|l| l.1 < 0) {
                return Err(ReplayError::Invariant {
                    seq: n_events,
                    event: format!("end of run, {}", self.names.account(i as u32)),
                    detail: "negative balance".into(),
                });
            }
            for l in coll {
                coll_now[l.0 as usize] += l.1;
            }
            for l in p.auction_lot() {
                coll_auction[l.0 as usize] += l.1;
            }
            for l in debt {
                debt_now[l.0 as usize] += l.1;
            }
            for l in p.auction_debt() {
                debt_auction[l.0 as usize] += l.1;
            }
        }
        for (a, st) in self.assets.iter().enumerate() {
            let inv = |what: &str, l: i128, r: i128| ReplayError::Invariant {
                seq: n_events,
                event: format!("end of run, asset {}", st.name),
                detail: format!("{what}: initial {} != accounted {}", Wad(l), Wad(r)),
            };
            if coll_auction[a] != st.coll_in_auction || debt_auction[a] != st.debt_in_auction {
                return Err(inv("auction balances", st.coll_in_auction, coll_auction[a]));
            }
            // initial + supplied = remaining + seized + fees + in auction + withdrawn
            let c =
                coll_now[a] + st.coll_seized + st.coll_fee + st.coll_in_auction + st.coll_withdrawn;
            if c != st.coll_initial + st.coll_supplied {
                return Err(inv(
                    "collateral (initial + supplied vs remaining + seized + fees + in auction + withdrawn)",
                    st.coll_initial + st.coll_supplied,
                    c,
                ));
            }
            // initial + borrowed = outstanding + repaid in liquidations +
            // written off + in auction + repaid by the owner
            let d = debt_now[a]
                + st.debt_repaid
                + st.debt_written_off
                + st.debt_in_auction
                + st.debt_repaid_owner;
            if d != st.debt_initial + st.debt_borrowed {
                return Err(inv(
                    "debt (initial + borrowed vs outstanding + repaid + written off + in auction + repaid by owner)",
                    st.debt_initial + st.debt_borrowed,
                    d,
                ));
            }
        }
        Ok(())
    }

    /// Splits a shortfall into causes (see the crate docs for the method).
    fn attribute(
        &self,
        i: usize,
        init: &InitLegs<'_>,
        s: Wad,
        mkt_f: &[Vec<f64>],
        orc_f: &[Vec<f64>],
    ) -> Attribution {
        let p = &self.pos[i];
        let maker = !self.preset.is_fixed_spread();
        let mat = self.sc.policy.maker.mat.0;
        let lt = |a: u16| -> i128 {
            if maker {
                mul_div_down(WAD, WAD, mat).unwrap_or(0)
            } else {
                self.assets[a as usize].params.liquidation_threshold.0
            }
        };
        let bonus = if maker {
            self.sc.policy.maker.chop.0
        } else {
            init.coll
                .iter()
                .map(|(a, _)| self.assets[*a as usize].params.liquidation_bonus.0)
                .max()
                .unwrap_or(WAD)
        };
        let loss = |ti: usize| -> i128 {
            let (mut c, mut d) = (0i128, 0i128);
            for (a, x) in init.coll {
                match self.mkt_ticks[*a as usize][ti] {
                    Some(px) => c += wmul(*x, px.0),
                    None => return 0,
                }
            }
            for (a, x) in init.debt {
                match self.mkt_ticks[*a as usize][ti] {
                    Some(px) => d += wmul(*x, px.0),
                    None => return 0,
                }
            }
            (d - mul_div_down(c, WAD, bonus).unwrap_or(0)).max(0)
        };
        // First crossing below 1 of the health at market / oracle prices
        // (initial legs). Searched in f64 on a 60-tick stride, then refined
        // tick by tick inside the first stride window that shows a crossing
        // (a dip shorter than the stride can be missed).
        let cf: Vec<(usize, f64, f64)> = init
            .coll
            .iter()
            .map(|(a, x)| (*a as usize, *x as f64, lt(*a) as f64 / WAD as f64))
            .collect();
        let df: Vec<(usize, f64)> = init
            .debt
            .iter()
            .map(|(a, x)| (*a as usize, *x as f64))
            .collect();
        let below = |ticks: &[Vec<f64>], ti: usize| -> bool {
            let c: f64 = cf.iter().map(|(a, x, l)| x * ticks[*a][ti] * l).sum();
            let d: f64 = df.iter().map(|(a, x)| x * ticks[*a][ti]).sum();
            c < d
        };
        let first = |ticks: &[Vec<f64>]| -> Option<usize> {
            let n = self.ticks.len();
            const STRIDE: usize = 60;
            let mut prev = 0usize;
            let mut ti = 0usize;
            while ti < n {
                if below(ticks, ti) {
                    return (prev..=ti).find(|&j| below(ticks, j));
                }
                prev = ti + 1;
                ti += STRIDE;
            }
            if prev < n {
                return (prev..n).find(|&j| below(ticks, j));
            }
            None
        };
        let tm = first(mkt_f);
        let to = first(orc_f);
        let mut out = Attribution::default();
        let gap = Wad(tm.map(loss).unwrap_or(0)).min(s);
        let oracle = match (tm, to) {
            (Some(m), Some(o)) => Wad((loss(o) - loss(m)).max(0)),
            (Some(_), None) => s - gap,
            _ => Wad::ZERO,
        }
        .min(s - gap);
        out.price_gap_usd = gap;
        out.oracle_usd = oracle;
        let rest = s - gap - oracle;
        let b = p.blocks;
        let total: i128 = b[..4].iter().map(|x| *x as i128).sum();
        if total == 0 {
            out.parameters_usd = rest;
            return out;
        }
        let mut parts = [0i128; 4];
        for c in 0..4 {
            parts[c] = mul_div_down(rest.0, b[c] as i128, total).unwrap_or(0);
        }
        let assigned: i128 = parts.iter().sum();
        let top = (0..4)
            .max_by(|x, y| b[*x].cmp(&b[*y]).then(y.cmp(x)))
            .unwrap_or(2);
        parts[top] += rest.0 - assigned;
        out.liquidator_capacity_usd = Wad(parts[0]);
        out.slippage_usd = Wad(parts[1]);
        out.parameters_usd = Wad(parts[2]);
        out.oracle_usd += Wad(parts[3]);
        out
    }

    /// Largest fall of the protocol's reserves from a running peak: the
    /// reserves start at `accounting.insurance_usd`, gain protocol fees when
    /// they are paid and lose bad debt when it is realised; the shortfall
    /// still open at the end (`bad` minus what was realised) is lost at the
    /// window's end. Same-time flows net before the peak is taken.
    fn reserves_drawdown(&self, bad: Wad) -> Wad {
        let realised = self
            .bad_debt_events
            .iter()
            .fold(Wad::ZERO, |s, (_, x)| s + *x);
        let mut flows: Vec<(Micros, Wad)> = self.fee_events.clone();
        flows.extend(self.bad_debt_events.iter().map(|(t, x)| (*t, -*x)));
        flows.push((self.end, -(bad - realised).max(Wad::ZERO)));
        flows.sort_by_key(|f| f.0);
        let mut level = self.sc.accounting.insurance_usd;
        let (mut peak, mut worst) = (level, Wad::ZERO);
        let mut i = 0;
        while i < flows.len() {
            let t = flows[i].0;
            while i < flows.len() && flows[i].0 == t {
                level += flows[i].1;
                i += 1;
            }
            peak = peak.max(level);
            worst = worst.max(peak - level);
        }
        worst
    }

    fn series(&self) -> Vec<SeriesPoint> {
        let bucket = self.sc.output.series_bucket_secs * Micros::PER_SEC;
        let mut out = Vec::new();
        let mut b_end = self.start.0 + bucket;
        let mut li = 0usize;
        let mut bi = 0usize;
        let mut cum_bad = Wad::ZERO;
        let mut liq = self.liq_by_asset.clone();
        liq.sort_by_key(|x| x.0);
        let mut bads = self.bad_debt_events.clone();
        bads.sort_by_key(|x| x.0);
        loop {
            let be = b_end.min(self.end.0);
            let ti = self.ticks.partition_point(|t| t.0 <= be);
            let mut per_asset = vec![Wad::ZERO; self.assets.len()];
            while li < liq.len() && liq[li].0 .0 <= be {
                per_asset[liq[li].1 as usize] += liq[li].2;
                li += 1;
            }
            while bi < bads.len() && bads[bi].0 .0 <= be {
                cum_bad += bads[bi].1;
                bi += 1;
            }
            for (a, st) in self.assets.iter().enumerate() {
                let (m, o) = if ti == 0 {
                    (None, None)
                } else {
                    (self.mkt_ticks[a][ti - 1], self.orc_ticks[a][ti - 1])
                };
                out.push(SeriesPoint {
                    ts: Micros(be),
                    asset: st.name.clone(),
                    market_price: m,
                    oracle_price: o,
                    liquidated_usd: per_asset[a],
                    cum_bad_debt_usd: cum_bad,
                });
            }
            if be >= self.end.0 {
                break;
            }
            b_end += bucket;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn sort_dedup_equals_sorting() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut bits = Vec::new();
        for round in 0..200 {
            let n = rng.gen_range(1..5_000usize);
            let len = if round % 2 == 0 {
                rng.gen_range(0..20)
            } else {
                rng.gen_range(0..3 * n)
            };
            let mut v: Vec<u32> = (0..len).map(|_| rng.gen_range(0..n as u32)).collect();
            let mut want = v.clone();
            want.sort_unstable();
            want.dedup();
            sort_dedup(&mut v, &mut bits, n);
            assert_eq!(v, want);
            assert!(bits.iter().all(|b| *b == 0));
        }
    }
}
