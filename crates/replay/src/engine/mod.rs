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
use crate::stats::median;
use crate::triggers::Triggers;

mod agenda;
mod attempts;
mod attribution;
mod auction;
mod audit;
mod book;
mod build;
mod entry;
mod estimate;
mod eventjson;
mod execute;
mod feed;
mod frictions;
mod health;
mod invariants;
pub mod joint;
mod market;
mod parking;
mod tables;

use attribution::*;
use audit::*;
use book::*;
use build::*;
use entry::*;
pub use entry::{run, Mode, Replay};
use estimate::TriggerHealth;
use frictions::*;
pub use invariants::run_id;

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
    /// Summary only: the event log is counted, not kept ([`Mode::Summary`]).
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
