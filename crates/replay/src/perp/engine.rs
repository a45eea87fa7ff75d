//! The perp replay loop.
//!
//! Prices arrive as one stream sorted by time (bar closes at bar end,
//! recorded oracle rounds): each instrument's index goes through the
//! crate's oracle rules ([`crate::oracle::Oracle`]), its mark is the index
//! plus the perp venue's basis clamped to `basis_cap_bps` (or the index),
//! and collateral assets get their market or fixed price.
//!
//! Cost follows events, not positions x ticks: each margin account keeps,
//! per instrument it trades, a mark level down and one up at which it must
//! be re-evaluated, in the crate's bucketed trigger index
//! ([`crate::triggers`]). The levels split the account's buffer
//! `B = equity - threshold` (threshold: the maintenance margin, or the
//! backstop level during a partial-liquidation cooldown) evenly over its
//! `k` instruments and charge each unit of adverse move its worst case:
//! down moves `sum(long sizes)` (losses; maintenance margin only falls),
//! up moves `sum(short sizes) + mmr_hi * sum(sizes)` (losses plus margin
//! growth, `mmr_hi` the rate of the tier at twice the notional, the up
//! level capped at twice the mark). No instrument crossing its level means
//! the account has not used its buffer, so levels fire early, never late;
//! the exact fixed-point check decides. Market-priced collateral re-checks
//! its holders when its price changes.
//!
//! A liquidatable account (`equity < MM`) is closed through the book
//! (linear depth per instrument and side, recovering over time), all its
//! positions at once, or 20%-steps of large positions with a cooldown
//! ([`super::config::Partial`]). The liquidation fee (capped at the equity
//! left) goes to the insurance fund. A fill worse than bankruptcy leaves a
//! shortfall, which the insurance fund covers in full or not at all; when
//! it cannot (or the book has no depth), the account goes to the absorber
//! at the mark: ADL closes ranked profitable opposite positions at the
//! bankruptcy price, socialisation charges winners pro rata to profit, the
//! backstop vault takes the positions and the deficit. With a backstop
//! share (Hyperliquid 2/3), an account below that share of its maintenance
//! margin goes to the vault directly, its equity with it.
//!
//! Within one instant, liquidatable accounts are handled in account order
//! (first input row); the ADL ranking is computed once per instrument, side
//! and instant.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use shortfall_core::money::{mul_div_down, WAD};
use shortfall_core::run::{EventKind, EventRecord, Reason};
use shortfall_core::{MarginMode, Micros, OracleRound, PerpPosition, PerpSide, PriceBar, Wad};

use super::config::{CollateralPrice, LossAbsorber, PerpConfig, PerpRules, Tier};
use super::margin::{
    close_value, collateral_value, maintenance_margin, mul_div_dir, notional, tier_for, upnl,
    wmul_dir,
};
use crate::error::{cfg, ReplayError};
use crate::oracle::{Oracle, OracleOutcome};
use crate::scenario::{OracleRule, OracleSource};
use crate::stats::median;
use crate::triggers::Triggers;
use shortfall_core::perp_run::*;

/// Positions held by a party outside the traders (book takers, vault), per
/// instrument: sizes and cost bases by side.
#[derive(Debug, Clone, Copy, Default)]
struct Holdings {
    long_size: i128,
    long_cost: i128,
    short_size: i128,
    short_cost: i128,
}

impl Holdings {
    fn take(&mut self, trader_side: PerpSide, size: i128, value: i128) {
        // The party takes the trader's position over: same side.
        match trader_side {
            PerpSide::Long => {
                self.long_size += size;
                self.long_cost += value;
            }
            PerpSide::Short => {
                self.short_size += size;
                self.short_cost += value;
            }
        }
    }

    fn buy_from(&mut self, trader_side: PerpSide, size: i128, value: i128) {
        // The party is the other side of the trader's close: a long sold by
        // the trader is bought by the party (it becomes long).
        self.take(trader_side, size, value);
    }

    fn value(&self, mark: Wad) -> i128 {
        upnl(
            PerpSide::Long,
            Wad(self.long_size),
            Wad(self.long_cost),
            mark,
        )
        .0 + upnl(
            PerpSide::Short,
            Wad(self.short_size),
            Wad(self.short_cost),
            mark,
        )
        .0
    }
}

struct Inst {
    name: String,
    tiers: Vec<Tier>,
    oracle: Oracle,
    source: OracleSource,
    mark_venue: Option<String>,
    index: Option<Wad>,
    perp_px: Option<Wad>,
    mark: Option<Wad>,
    first_mark: Option<Wad>,
    depth: i128,
    /// Depth used by closes of longs (sells) and shorts (buys).
    used: [i128; 2],
    last_recover: Micros,
    trig: Triggers,
    longs: Vec<u32>,
    shorts: Vec<u32>,
    takers: Holdings,
    vault: Holdings,
    /// Long minus short size of the book at the start.
    net_size0: i128,
}

struct Coll {
    name: String,
    haircut: Wad,
    fixed: Option<Wad>,
    venues: Vec<String>,
    price: Option<Wad>,
    holders: Vec<u32>,
}

#[derive(Clone, Copy)]
struct Pos {
    acct: u32,
    inst: u16,
    side: PerpSide,
    size: i128,
    cost: i128,
}

#[derive(Clone, Copy, Default)]
struct Acct {
    pos_start: u32,
    pos_len: u32,
    coll_start: u32,
    coll_len: u32,
    cash: i128,
    gen: u32,
    cooldown_until: i64,
    closed: bool,
    equity_start: i128,
    coll_value_start: i128,
}

#[derive(Clone, Default)]
struct AcctStats {
    status: Option<PerpStatus>,
    fees: i128,
    shortfall: i128,
    insurance: i128,
    adl: i128,
    backstop: i128,
    socialised: i128,
    unabsorbed: i128,
    first_liq: Option<Micros>,
}

#[derive(Clone, Default)]
struct PosStats {
    liquidated: i128,
    deleveraged: i128,
    adl_loss: i128,
    socialised: i128,
    liqs: u32,
    partial: bool,
}

/// A price update of the static stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Stat {
    t: Micros,
    /// 0 index source, 1 perp venue price, 2 collateral price.
    kind: u8,
    target: u32,
    value: Wad,
}

struct Engine<'a> {
    cfg: &'a PerpConfig,
    rules: PerpRules,
    rows: &'a [PerpPosition],
    insts: Vec<Inst>,
    colls: Vec<Coll>,
    pos: Vec<Pos>,
    accts: Vec<Acct>,
    acct_pos: Vec<u32>,
    acct_coll: Vec<(u16, i128)>,
    acct_stats: BTreeMap<u32, AcctStats>,
    pos_stats: BTreeMap<u32, PosStats>,
    heap: BinaryHeap<Reverse<(i64, u32)>>,
    pending: Vec<u32>,
    fired: Vec<(u32, u32)>,
    insurance: i128,
    insurance_min: i128,
    vault_cash: i128,
    adl_rank: BTreeMap<(u16, bool), (Micros, Vec<u32>, usize)>,
    events: Vec<EventRecord>,
    lean: bool,
    n_events: u64,
    if_series: Vec<(Micros, Wad)>,
    totals: PerpTotals,
    waterfall: PerpWaterfall,
    reval: i128,
    started: bool,
    traders_start: i128,
    last_t: Option<Micros>,
    scratch: Vec<(u16, f64, f64, i128)>,
}

fn side_idx(s: PerpSide) -> usize {
    match s {
        PerpSide::Long => 0,
        PerpSide::Short => 1,
    }
}

/// Default base asset of an instrument name.
pub fn default_base(instrument: &str) -> String {
    for suf in ["-PERP", "PERP", "USDT", "USDC", "USD", "-"] {
        if let Some(b) = instrument.strip_suffix(suf) {
            if !b.is_empty() {
                return default_base(b);
            }
        }
    }
    instrument.to_string()
}

/// Replays `positions` through the window `[start, end]`.
///
/// `prices`: bars of the instruments' base assets (index, and the perp's
/// own venue for the basis) and of market-priced collateral;
/// `oracle_rounds`: for instruments whose index rule is `recorded`.
/// `lean`: count events without keeping them.
pub fn replay(
    cfg: &PerpConfig,
    start: Micros,
    end: Micros,
    prices: &[PriceBar],
    oracle_rounds: &[OracleRound],
    positions: &[PerpPosition],
    lean: bool,
) -> Result<PerpOutput, ReplayError> {
    if end < start {
        return Err(cfg_err("window", "end before start"));
    }
    let rules = cfg.resolve()?;
    for (i, p) in positions.iter().enumerate() {
        p.validate(i)?;
    }
    let mut e = Engine::build(cfg, rules, positions, start, lean)?;
    let stat = e.static_stream(start, end, prices, oracle_rounds);
    e.run(&stat, end)?;
    if !e.started && !positions.is_empty() {
        let mut missing: Vec<String> = e
            .insts
            .iter()
            .filter(|s| s.mark.is_none())
            .map(|s| format!("instrument {} (base {})", s.name, e.base_of(&s.name)))
            .collect();
        missing.extend(e.colls.iter().filter(|c| c.price.is_none()).map(|c| {
            format!(
                "collateral {} (no bars; set perp.collateral.{}.price = \"fixed\")",
                c.name, c.name
            )
        }));
        return Err(ReplayError::Input(format!(
            "perp: no price in the window for {}",
            missing.join(", ")
        )));
    }
    e.finish()
}

fn cfg_err(key: &str, detail: &str) -> ReplayError {
    cfg(key, detail)
}

impl<'a> Engine<'a> {
    fn build(
        cfg: &'a PerpConfig,
        rules: PerpRules,
        rows: &'a [PerpPosition],
        start: Micros,
        lean: bool,
    ) -> Result<Engine<'a>, ReplayError> {
        // Instruments and collateral assets, in name order.
        let mut inst_ix: BTreeMap<&str, u16> = BTreeMap::new();
        let mut coll_ix: BTreeMap<&str, u16> = BTreeMap::new();
        for p in rows {
            inst_ix.insert(&p.instrument, 0);
            for a in p.collateral.keys() {
                coll_ix.insert(a, 0);
            }
        }
        if inst_ix.len() > u16::MAX as usize || coll_ix.len() > u16::MAX as usize {
            return Err(ReplayError::Input("too many instruments or assets".into()));
        }
        let mut insts = Vec::with_capacity(inst_ix.len());
        for (i, (name, ix)) in inst_ix.iter_mut().enumerate() {
            *ix = i as u16;
            let ic = cfg.instruments.get(*name).cloned().unwrap_or_default();
            let rule: OracleRule = ic
                .index
                .as_ref()
                .map(|r| r.or(&cfg.index))
                .unwrap_or_else(|| cfg.index.clone());
            let source = rule.source.unwrap_or(OracleSource::Market);
            let depth = ic.depth_usd.unwrap_or(cfg.liquidity.depth_usd);
            if !depth.is_positive() {
                return Err(cfg_err(
                    &format!("perp.instruments.{name}.depth_usd"),
                    "must be > 0",
                ));
            }
            insts.push(Inst {
                name: name.to_string(),
                tiers: cfg.tiers_for(name)?,
                oracle: Oracle::new(rule, start, Vec::new()),
                source,
                mark_venue: ic.mark_venue.clone(),
                index: None,
                perp_px: None,
                mark: None,
                first_mark: None,
                depth: depth.0,
                used: [0, 0],
                last_recover: start,
                trig: Triggers::default(),
                longs: Vec::new(),
                shorts: Vec::new(),
                takers: Holdings::default(),
                vault: Holdings::default(),
                net_size0: 0,
            });
        }
        let mut colls = Vec::with_capacity(coll_ix.len());
        for (i, (name, ix)) in coll_ix.iter_mut().enumerate() {
            *ix = i as u16;
            let r = cfg.collateral.get(*name);
            let fixed = r
                .filter(|r| r.price == CollateralPrice::Fixed)
                .and_then(|r| r.value);
            colls.push(Coll {
                name: name.to_string(),
                haircut: r.map(|r| r.haircut).unwrap_or_default(),
                fixed,
                venues: r.map(|r| r.venues.clone()).unwrap_or_default(),
                price: fixed,
                holders: Vec::new(),
            });
        }
        // Margin accounts: each isolated row; one per (account, venue) of
        // the cross rows, in order of first row.
        let mut acct_of_row = Vec::with_capacity(rows.len());
        let mut cross: BTreeMap<(&str, &str), u32> = BTreeMap::new();
        let mut n_accts = 0u32;
        for p in rows {
            let a = match p.margin_mode {
                MarginMode::Isolated => {
                    n_accts += 1;
                    n_accts - 1
                }
                MarginMode::Cross => *cross
                    .entry((p.account.as_str(), p.venue.as_str()))
                    .or_insert_with(|| {
                        n_accts += 1;
                        n_accts - 1
                    }),
            };
            acct_of_row.push(a);
        }
        let mut order: Vec<u32> = (0..rows.len() as u32).collect();
        order.sort_by_key(|&r| acct_of_row[r as usize]);
        let mut accts = vec![Acct::default(); n_accts as usize];
        let mut acct_pos = Vec::with_capacity(rows.len());
        let mut acct_coll: Vec<(u16, i128)> = Vec::with_capacity(rows.len());
        let mut k = 0;
        while k < order.len() {
            let a = acct_of_row[order[k] as usize];
            let st = k;
            let mut coll: BTreeMap<u16, i128> = BTreeMap::new();
            while k < order.len() && acct_of_row[order[k] as usize] == a {
                let r = order[k];
                acct_pos.push(r);
                for (asset, amt) in &rows[r as usize].collateral {
                    let c = coll.entry(coll_ix[asset.as_str()]).or_default();
                    *c = c.checked_add(amt.0).ok_or_else(|| {
                        ReplayError::Input(format!(
                            "perp position {r} (account `{}`): collateral sum overflows",
                            rows[r as usize].account
                        ))
                    })?;
                }
                k += 1;
            }
            let ac = &mut accts[a as usize];
            ac.pos_start = st as u32;
            ac.pos_len = (k - st) as u32;
            ac.coll_start = acct_coll.len() as u32;
            for (c, amt) in coll {
                colls[c as usize].holders.push(a);
                acct_coll.push((c, amt));
            }
            ac.coll_len = acct_coll.len() as u32 - ac.coll_start;
        }
        let mut pos = Vec::with_capacity(rows.len());
        for (r, p) in rows.iter().enumerate() {
            let inst = inst_ix[p.instrument.as_str()];
            // Cost basis against the trader: a long paid q*entry rounded up,
            // a short received it rounded down.
            let up = p.side == PerpSide::Long;
            let cost = wmul_dir(p.size.0, p.entry_price.0, up)
                .ok_or(ReplayError::Overflow("perp entry notional"))?;
            let st = &mut insts[inst as usize];
            match p.side {
                PerpSide::Long => {
                    st.longs.push(r as u32);
                    st.net_size0 += p.size.0;
                }
                PerpSide::Short => {
                    st.shorts.push(r as u32);
                    st.net_size0 -= p.size.0;
                }
            }
            pos.push(Pos {
                acct: acct_of_row[r],
                inst,
                side: p.side,
                size: p.size.0,
                cost,
            });
        }
        let insurance = cfg.insurance_fund_usd.0;
        Ok(Engine {
            cfg,
            rules,
            rows,
            insts,
            colls,
            pos,
            accts,
            acct_pos,
            acct_coll,
            acct_stats: BTreeMap::new(),
            pos_stats: BTreeMap::new(),
            heap: BinaryHeap::new(),
            pending: Vec::new(),
            fired: Vec::new(),
            insurance,
            insurance_min: insurance,
            vault_cash: cfg.backstop_vault_usd.0,
            adl_rank: BTreeMap::new(),
            events: Vec::new(),
            lean,
            n_events: 0,
            if_series: Vec::new(),
            totals: PerpTotals {
                positions: rows.len() as u64,
                accounts: n_accts as u64,
                insurance_fund_start_usd: Wad(insurance),
                ..Default::default()
            },
            waterfall: PerpWaterfall::default(),
            reval: 0,
            started: false,
            traders_start: 0,
            last_t: None,
            scratch: Vec::new(),
        })
    }

    /// Price updates in `[start, end]`, sorted.
    fn static_stream(
        &self,
        start: Micros,
        end: Micros,
        prices: &[PriceBar],
        rounds: &[OracleRound],
    ) -> Vec<Stat> {
        let mut by_base: BTreeMap<String, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
        for (i, st) in self.insts.iter().enumerate() {
            by_base.entry(self.base_of(&st.name)).or_default().0.push(i);
        }
        for (i, c) in self.colls.iter().enumerate() {
            if c.fixed.is_none() {
                by_base.entry(c.name.clone()).or_default().1.push(i);
            }
        }
        let mut groups: BTreeMap<(Micros, &str), Vec<(&str, Wad)>> = BTreeMap::new();
        for b in prices {
            if !by_base.contains_key(b.base.as_str()) {
                continue;
            }
            let t = Micros(
                b.ts.0
                    .saturating_add(b.interval_secs.saturating_mul(Micros::PER_SEC)),
            );
            if t < start || t > end {
                continue;
            }
            groups
                .entry((t, b.base.as_str()))
                .or_default()
                .push((b.venue.as_str(), b.close));
        }
        let mut out = Vec::new();
        for ((t, base), bars) in &groups {
            let (insts, colls) = &by_base[*base];
            for &i in insts {
                let st = &self.insts[i];
                let mv = st.mark_venue.as_deref();
                let src = match st.source {
                    OracleSource::Market => median(
                        bars.iter()
                            .filter(|(v, _)| Some(*v) != mv)
                            .map(|x| x.1)
                            .collect(),
                    ),
                    OracleSource::Median => {
                        let vs = st.oracle.rule.venues.clone().unwrap_or_default();
                        median(
                            bars.iter()
                                .filter(|(v, _)| vs.is_empty() || vs.iter().any(|x| x == v))
                                .map(|x| x.1)
                                .collect(),
                        )
                    }
                    OracleSource::Recorded => None,
                };
                if let Some(v) = src {
                    out.push(Stat {
                        t: *t,
                        kind: 0,
                        target: i as u32,
                        value: v,
                    });
                }
                if let Some(mv) = mv {
                    if let Some((_, px)) = bars.iter().find(|(v, _)| *v == mv) {
                        out.push(Stat {
                            t: *t,
                            kind: 1,
                            target: i as u32,
                            value: *px,
                        });
                    }
                }
            }
            for &c in colls {
                let vs = &self.colls[c].venues;
                if let Some(v) = median(
                    bars.iter()
                        .filter(|(v, _)| vs.is_empty() || vs.iter().any(|x| x == v))
                        .map(|x| x.1)
                        .collect(),
                ) {
                    out.push(Stat {
                        t: *t,
                        kind: 2,
                        target: c as u32,
                        value: v,
                    });
                }
            }
        }
        for (i, st) in self.insts.iter().enumerate() {
            if st.source != OracleSource::Recorded {
                continue;
            }
            let base = self.base_of(&st.name);
            for r in rounds {
                if r.ts < start || r.ts > end || r.base != base {
                    continue;
                }
                if st.oracle.rule.feed.as_ref().is_some_and(|f| *f != r.feed) {
                    continue;
                }
                out.push(Stat {
                    t: r.ts,
                    kind: 0,
                    target: i as u32,
                    value: r.answer,
                });
            }
        }
        out.sort();
        out
    }

    fn base_of(&self, instrument: &str) -> String {
        self.cfg
            .instruments
            .get(instrument)
            .and_then(|c| c.base.clone())
            .unwrap_or_else(|| default_base(instrument))
    }

    fn run(&mut self, stat: &[Stat], end: Micros) -> Result<(), ReplayError> {
        let mut si = 0;
        let mut changed_inst: Vec<u16> = Vec::new();
        let mut changed_coll: Vec<u16> = Vec::new();
        loop {
            let ts = stat.get(si).map(|s| s.t);
            let th = self.heap.peek().map(|Reverse((t, _))| Micros(*t));
            let t = match (ts, th) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) => a,
                (None, Some(b)) => b,
                (None, None) => break,
            };
            if t > end {
                break;
            }
            changed_inst.clear();
            changed_coll.clear();
            while si < stat.len() && stat[si].t == t {
                let s = stat[si];
                si += 1;
                self.totals.price_updates += 1;
                match s.kind {
                    0 => {
                        let st = &mut self.insts[s.target as usize];
                        if let OracleOutcome::Answer(v) = st.oracle.on_source(t, s.value) {
                            st.index = Some(v);
                            changed_inst.push(s.target as u16);
                        }
                    }
                    1 => {
                        self.insts[s.target as usize].perp_px = Some(s.value);
                        changed_inst.push(s.target as u16);
                    }
                    _ => {
                        self.colls[s.target as usize].price = Some(s.value);
                        changed_coll.push(s.target as u16);
                    }
                }
            }
            changed_inst.sort_unstable();
            changed_inst.dedup();
            changed_coll.sort_unstable();
            changed_coll.dedup();
            let mut moved = Vec::new();
            for &i in &changed_inst {
                if self.update_mark(i as usize) {
                    moved.push(i);
                }
            }
            if !self.started {
                if self.insts.iter().all(|s| s.mark.is_some())
                    && self.colls.iter().all(|c| c.price.is_some())
                {
                    self.last_t = Some(t);
                    self.begin(t)?;
                }
                continue;
            }
            self.last_t = Some(t);
            for i in moved {
                let st = &mut self.insts[i as usize];
                let m = st.mark.expect("moved").to_f64();
                st.trig.fire(m, &mut self.fired);
            }
            let mut due: Vec<u32> = Vec::new();
            for (a, g) in self.fired.drain(..) {
                if self.accts[a as usize].gen == g {
                    due.push(a);
                }
            }
            for &c in &changed_coll {
                due.extend_from_slice(&self.colls[c as usize].holders);
            }
            while let Some(Reverse((th, a))) = self.heap.peek().copied() {
                if th != t.0 {
                    break;
                }
                self.heap.pop();
                due.push(a);
            }
            self.pending.extend(due);
            self.drain_pending(t)?;
        }
        Ok(())
    }

    fn update_mark(&mut self, i: usize) -> bool {
        let cap = self.cfg.basis_cap_bps as i128;
        let st = &mut self.insts[i];
        let Some(index) = st.index else {
            return false;
        };
        let mark = match st.perp_px {
            Some(p) if cap > 0 => {
                let lim = mul_div_down(index.0, cap, 10_000).unwrap_or(0);
                Wad(index.0 + (p.0 - index.0).clamp(-lim, lim))
            }
            _ => index,
        };
        if !mark.is_positive() {
            return false;
        }
        let moved = st.mark != Some(mark);
        st.mark = Some(mark);
        moved
    }

    /// The first instant with every price: values the book and arms it.
    fn begin(&mut self, t: Micros) -> Result<(), ReplayError> {
        self.started = true;
        self.totals.valued_from = Some(t);
        for st in &mut self.insts {
            st.first_mark = st.mark;
            st.last_recover = t;
        }
        self.if_series.push((t, Wad(self.insurance)));
        let mut total = 0i128;
        for a in 0..self.accts.len() {
            let cv = self.coll_value(a as u32);
            let (e, _) = self.margin(a as u32);
            let ac = &mut self.accts[a];
            ac.coll_value_start = cv;
            ac.equity_start = e;
            total += e;
        }
        self.traders_start = total;
        self.pending.extend(0..self.accts.len() as u32);
        // Arm (and liquidate what is already liquidatable) at `t`.
        self.drain_pending(t)
    }

    fn drain_pending(&mut self, t: Micros) -> Result<(), ReplayError> {
        while !self.pending.is_empty() {
            let mut due = std::mem::take(&mut self.pending);
            due.sort_unstable();
            due.dedup();
            for a in due {
                self.evaluate(a, t)?;
            }
        }
        Ok(())
    }

    fn positions_of(&self, a: u32) -> std::ops::Range<usize> {
        let ac = &self.accts[a as usize];
        ac.pos_start as usize..(ac.pos_start + ac.pos_len) as usize
    }

    fn coll_value(&self, a: u32) -> i128 {
        let ac = &self.accts[a as usize];
        let mut v = 0i128;
        for &(c, amt) in
            &self.acct_coll[ac.coll_start as usize..(ac.coll_start + ac.coll_len) as usize]
        {
            if amt == 0 {
                continue;
            }
            let co = &self.colls[c as usize];
            v += collateral_value(Wad(amt), co.price.unwrap_or_default(), co.haircut).0;
        }
        v
    }

    /// Exact (equity, maintenance margin) at the current marks.
    fn margin(&self, a: u32) -> (i128, i128) {
        let mut e = self.coll_value(a) + self.accts[a as usize].cash;
        let mut mm = 0i128;
        for k in self.positions_of(a) {
            let p = &self.pos[self.acct_pos[k] as usize];
            if p.size == 0 {
                continue;
            }
            let st = &self.insts[p.inst as usize];
            let m = st.mark.unwrap_or_default();
            e += upnl(p.side, Wad(p.size), Wad(p.cost), m).0;
            mm += maintenance_margin(&st.tiers, notional(Wad(p.size), m)).0;
        }
        (e, mm)
    }

    fn backstop_level(&self, mm: i128) -> Option<i128> {
        self.rules
            .backstop_share
            .map(|s| wmul_dir(mm.max(0), s.0, true).unwrap_or(i128::MAX))
    }

    fn evaluate(&mut self, a: u32, t: Micros) -> Result<(), ReplayError> {
        if self.accts[a as usize].closed {
            return Ok(());
        }
        self.totals.evaluations += 1;
        let (e, mm) = self.margin(a);
        if mm == 0 && e >= 0 {
            // No open position left.
            self.accts[a as usize].gen += 1;
            return Ok(());
        }
        let backstop = self.backstop_level(mm);
        if backstop.is_some_and(|b| e < b) {
            return self.takeover(a, t, e, mm, Reason::BelowBackstop);
        }
        if e < mm {
            if t.0 < self.accts[a as usize].cooldown_until {
                // Wait for the cooldown; the backstop still watches.
                if let Some(b) = backstop {
                    self.arm(a, e - b);
                } else {
                    self.accts[a as usize].gen += 1;
                }
                return Ok(());
            }
            return self.liquidate(a, t, e, mm);
        }
        self.arm(a, e - mm);
        Ok(())
    }

    /// Pushes the account's trigger levels for a buffer `b` (> 0; <= 0
    /// re-evaluates now).
    fn arm(&mut self, a: u32, b: i128) {
        let ac = &mut self.accts[a as usize];
        ac.gen = ac.gen.wrapping_add(1);
        let gen = ac.gen;
        if b <= 0 {
            self.pending.push(a);
            return;
        }
        // Per instrument: long size, short size (base units), notional.
        let mut per = std::mem::take(&mut self.scratch);
        per.clear();
        for k in self.positions_of(a) {
            let p = self.pos[self.acct_pos[k] as usize];
            if p.size == 0 {
                continue;
            }
            let m = self.insts[p.inst as usize].mark.unwrap_or_default();
            let q = p.size as f64 / WAD as f64;
            let nv = notional(Wad(p.size), m).0;
            let ix = match per.iter().position(|x| x.0 == p.inst) {
                Some(ix) => ix,
                None => {
                    per.push((p.inst, 0.0, 0.0, 0));
                    per.len() - 1
                }
            };
            match p.side {
                PerpSide::Long => per[ix].1 += q,
                PerpSide::Short => per[ix].2 += q,
            }
            per[ix].3 += nv;
        }
        if !per.is_empty() {
            let share = (b as f64 / WAD as f64) * (1.0 - 1e-9) / per.len() as f64;
            for &(inst, ql, qs, nv) in &per {
                let st = &mut self.insts[inst as usize];
                let m = st.mark.unwrap_or_default().to_f64();
                if ql > 0.0 {
                    let lvl = (m - share / ql) * (1.0 + 1e-9);
                    st.trig.push_down(lvl, a, gen);
                }
                let mmr_hi = tier_for(&st.tiers, Wad(nv.saturating_mul(2))).mmr.to_f64();
                let c_up = qs + mmr_hi * (ql + qs);
                if c_up > 0.0 {
                    let lvl = (m + share / c_up).min(2.0 * m) * (1.0 - 1e-9);
                    st.trig.push_up(lvl, a, gen);
                }
            }
        }
        self.scratch = per;
    }

    fn recover(&mut self, i: usize, t: Micros) {
        let rec = self.cfg.liquidity.recovery_secs.max(1) as i128;
        let st = &mut self.insts[i];
        let dt = ((t.0 - st.last_recover.0) / Micros::PER_SEC).max(0) as i128;
        if dt == 0 {
            return;
        }
        st.last_recover = t;
        let dec = mul_div_down(st.depth, dt, rec).unwrap_or(i128::MAX);
        for u in &mut st.used {
            *u = (*u - dec).max(0);
        }
    }

    fn log(&mut self, t: Micros, kind: EventKind, f: impl FnOnce(&mut EventRecord)) {
        let seq = self.n_events;
        self.n_events += 1;
        if self.lean {
            return;
        }
        let mut r = EventRecord::new(seq, t, kind);
        f(&mut r);
        self.events.push(r);
    }

    fn account_name(&self, a: u32) -> String {
        let r = self.acct_pos[self.accts[a as usize].pos_start as usize];
        self.rows[r as usize].account.clone()
    }

    fn insurance_move(&mut self, t: Micros, a: u32, delta: i128, reason: Reason) {
        if delta == 0 {
            return;
        }
        self.insurance += delta;
        self.insurance_min = self.insurance_min.min(self.insurance);
        self.if_series.push((t, Wad(self.insurance)));
        let name = self.account_name(a);
        let bal = self.insurance;
        self.log(t, EventKind::InsuranceFund, |r| {
            r.account = Some(name);
            r.value_usd = Some(Wad(delta));
            r.amount = Some(Wad(bal));
            r.reason = Some(reason);
        });
    }

    fn stats(&mut self, a: u32) -> &mut AcctStats {
        self.acct_stats.entry(a).or_default()
    }

    fn set_status(&mut self, a: u32, s: PerpStatus, t: Micros) {
        let st = self.acct_stats.entry(a).or_default();
        st.status = Some(st.status.map_or(s, |o| o.max(s)));
        if s >= PerpStatus::PartiallyLiquidated {
            st.first_liq.get_or_insert(t);
        }
    }

    /// Converts the account's collateral to cash at its haircut value (on
    /// a full close).
    fn seize_collateral(&mut self, a: u32) {
        let v = self.coll_value(a);
        let ac = self.accts[a as usize];
        for c in &mut self.acct_coll[ac.coll_start as usize..(ac.coll_start + ac.coll_len) as usize]
        {
            c.1 = 0;
        }
        self.reval += v - ac.coll_value_start;
        self.accts[a as usize].coll_value_start = 0;
        self.accts[a as usize].cash += v;
    }

    /// Fill of a close of `size` on the book: (fill price, trader's quote
    /// value), or None when the depth cannot take it. `used` is the side's
    /// used depth so far.
    fn quote_fill(
        &self,
        i: usize,
        side: PerpSide,
        size: i128,
        used: i128,
    ) -> Option<(Wad, i128, i128)> {
        let st = &self.insts[i];
        let m = st.mark?;
        let v = notional(Wad(size), m).0;
        if used + v > st.depth {
            return None;
        }
        // Average impact of a linear book: (used + v/2) / depth.
        let frac = mul_div_dir(used + v / 2, WAD, st.depth, true)?;
        let f = match side {
            PerpSide::Long => wmul_dir(m.0, WAD - frac, false)?,
            PerpSide::Short => wmul_dir(m.0, WAD + frac, true)?,
        };
        let value = close_value(side, Wad(size), Wad(f)).0;
        Some((Wad(f), value, v))
    }

    fn liquidate(&mut self, a: u32, t: Micros, e: i128, mm: i128) -> Result<(), ReplayError> {
        let name = self.account_name(a);
        let health = (mm > 0).then(|| Wad(mul_div_down(e, WAD, mm).unwrap_or(0)));
        let range = self.positions_of(a);
        let ids: Vec<u32> = range
            .map(|k| self.acct_pos[k])
            .filter(|&p| self.pos[p as usize].size > 0)
            .collect();
        let mut insts: Vec<u16> = ids.iter().map(|&p| self.pos[p as usize].inst).collect();
        insts.sort_unstable();
        insts.dedup();
        for &i in &insts {
            self.recover(i as usize, t);
        }
        // Plan: (pos, size closed, cost part).
        let partial = self.rules.partial;
        let mut plan: Vec<(u32, i128, i128)> = Vec::with_capacity(ids.len());
        let mut any_partial = false;
        for &p in &ids {
            let ps = self.pos[p as usize];
            let m = self.insts[ps.inst as usize].mark.unwrap_or_default();
            let mut x = ps.size;
            if let Some(pl) = partial {
                if notional(Wad(ps.size), m) > pl.threshold_usd {
                    let part = wmul_dir(ps.size, pl.step_share.0, false).unwrap_or(0);
                    if part > 0 && part < ps.size {
                        x = part;
                        any_partial = true;
                    }
                }
            }
            let c = if x == ps.size {
                ps.cost
            } else {
                mul_div_down(ps.cost, x, ps.size).unwrap_or(ps.cost)
            };
            plan.push((p, x, c));
        }
        // Quote the fills.
        let mut used: BTreeMap<(u16, usize), i128> = BTreeMap::new();
        let mut fills: Vec<(Wad, i128, i128)> = Vec::with_capacity(plan.len());
        let mut ok = true;
        for &(p, x, _) in &plan {
            let ps = self.pos[p as usize];
            let key = (ps.inst, side_idx(ps.side));
            let u0 = *used
                .entry(key)
                .or_insert(self.insts[ps.inst as usize].used[key.1]);
            match self.quote_fill(ps.inst as usize, ps.side, x, u0) {
                Some(q) => {
                    *used.get_mut(&key).expect("set") += q.2;
                    fills.push(q);
                }
                None => {
                    ok = false;
                    break;
                }
            }
        }
        let wallet = self.coll_value(a) + self.accts[a as usize].cash;
        let realised: i128 = plan
            .iter()
            .zip(&fills)
            .map(|(&(p, _, c), f)| match self.pos[p as usize].side {
                PerpSide::Long => f.1 - c,
                PerpSide::Short => c - f.1,
            })
            .sum();
        let closed_notional: i128 = fills.iter().map(|f| f.2).sum();
        let fee_full =
            wmul_dir(closed_notional, self.rules.liquidation_fee_rate.0, false).unwrap_or(0);
        if ok && any_partial {
            // Partial step: positions stay open; no shortfall is realised.
            let remaining_upnl: i128 = plan
                .iter()
                .map(|&(p, x, c)| {
                    let ps = self.pos[p as usize];
                    let m = self.insts[ps.inst as usize].mark.unwrap_or_default();
                    upnl(ps.side, Wad(ps.size - x), Wad(ps.cost - c), m).0
                })
                .sum();
            let e_after = wallet + realised + remaining_upnl;
            let fee = fee_full.min(e_after.max(0));
            self.commit_fills(t, &plan, &fills, &used, &name, health, true);
            self.accts[a as usize].cash += realised - fee;
            self.stats(a).fees += fee;
            self.waterfall.liquidation_fees_usd += Wad(fee);
            self.insurance_move(t, a, fee, Reason::LiquidationFee);
            self.totals.partial_liquidations += 1;
            self.set_status(a, PerpStatus::PartiallyLiquidated, t);
            let cd = self.rules.partial.map(|p| p.cooldown_secs).unwrap_or(0);
            let until = t.0 + cd * Micros::PER_SEC;
            self.accts[a as usize].cooldown_until = until;
            if cd > 0 {
                self.heap.push(Reverse((until, a)));
            }
            // Re-check now: the backstop may apply, or the next step after
            // the cooldown.
            let (e2, mm2) = self.margin(a);
            if self.backstop_level(mm2).is_some_and(|b| e2 < b) {
                return self.takeover(a, t, e2, mm2, Reason::BelowBackstop);
            }
            if cd == 0 && e2 < mm2 {
                self.pending.push(a);
                self.accts[a as usize].gen += 1;
                return Ok(());
            }
            let thr = if e2 < mm2 {
                self.backstop_level(mm2)
            } else {
                Some(mm2)
            };
            match thr {
                Some(b) => self.arm(a, e2 - b),
                None => self.accts[a as usize].gen += 1,
            }
            return Ok(());
        }
        if ok {
            let fee = fee_full.min((wallet + realised).max(0));
            let shortfall = (-(wallet + realised - fee)).max(0);
            if shortfall <= self.insurance {
                self.commit_fills(t, &plan, &fills, &used, &name, health, false);
                self.seize_collateral(a);
                self.accts[a as usize].cash += realised - fee;
                self.stats(a).fees += fee;
                self.waterfall.liquidation_fees_usd += Wad(fee);
                self.insurance_move(t, a, fee, Reason::LiquidationFee);
                self.totals.liquidations += 1;
                self.close_account(a);
                if shortfall > 0 {
                    self.bankrupt(a, t, shortfall, &ids);
                    self.insurance_move(t, a, -shortfall, Reason::ShortfallCovered);
                    self.accts[a as usize].cash += shortfall;
                    let s = self.stats(a);
                    s.insurance += shortfall;
                    self.waterfall.insurance_fund_usd += Wad(shortfall);
                    self.set_status(a, PerpStatus::Bankrupt, t);
                } else {
                    self.set_status(a, PerpStatus::Liquidated, t);
                }
                return Ok(());
            }
            if self.rules.absorber == LossAbsorber::Socialised {
                self.commit_fills(t, &plan, &fills, &used, &name, health, false);
                self.seize_collateral(a);
                self.accts[a as usize].cash += realised - fee;
                self.stats(a).fees += fee;
                self.waterfall.liquidation_fees_usd += Wad(fee);
                self.insurance_move(t, a, fee, Reason::LiquidationFee);
                self.totals.liquidations += 1;
                self.close_account(a);
                return self.socialise(a, t, shortfall, &ids);
            }
        }
        // The book cannot take it, or the insurance fund cannot cover it.
        let reason = if ok {
            Reason::InsuranceExhausted
        } else {
            Reason::NoLiquidity
        };
        match self.rules.absorber {
            LossAbsorber::Backstop => self.takeover(a, t, e, mm, reason),
            LossAbsorber::Adl => self.adl(a, t, e, &ids, reason),
            LossAbsorber::Socialised => {
                // No depth: close at the mark against book takers.
                let mut fee_base = 0i128;
                let mut realised = 0i128;
                for &p in &ids {
                    let ps = self.pos[p as usize];
                    let st = &mut self.insts[ps.inst as usize];
                    let m = st.mark.unwrap_or_default();
                    let v = close_value(ps.side, Wad(ps.size), m).0;
                    fee_base += notional(Wad(ps.size), m).0;
                    st.takers.buy_from(ps.side, ps.size, v);
                    realised += match ps.side {
                        PerpSide::Long => v - ps.cost,
                        PerpSide::Short => ps.cost - v,
                    };
                    self.close_pos(p, ps.size, ps.cost, t, &name, m, health, reason, false);
                }
                self.seize_collateral(a);
                let w = self.accts[a as usize].cash + realised;
                let fee = wmul_dir(fee_base, self.rules.liquidation_fee_rate.0, false)
                    .unwrap_or(0)
                    .min(w.max(0));
                self.accts[a as usize].cash = w - fee;
                self.stats(a).fees += fee;
                self.waterfall.liquidation_fees_usd += Wad(fee);
                self.insurance_move(t, a, fee, Reason::LiquidationFee);
                self.totals.liquidations += 1;
                self.close_account(a);
                let shortfall = (-(w - fee)).max(0);
                self.socialise(a, t, shortfall, &ids)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn commit_fills(
        &mut self,
        t: Micros,
        plan: &[(u32, i128, i128)],
        fills: &[(Wad, i128, i128)],
        used: &BTreeMap<(u16, usize), i128>,
        name: &str,
        health: Option<Wad>,
        partial: bool,
    ) {
        for (&(i, s), &u) in used {
            self.insts[i as usize].used[s] = u;
        }
        for (&(p, x, c), f) in plan.iter().zip(fills) {
            let ps = self.pos[p as usize];
            self.insts[ps.inst as usize]
                .takers
                .buy_from(ps.side, x, f.1);
            self.close_pos(
                p,
                x,
                c,
                t,
                name,
                f.0,
                health,
                Reason::BelowMaintenance,
                partial && x < ps.size,
            );
        }
    }

    /// Removes `x` of position `p` (cost part `c`) and logs it.
    #[allow(clippy::too_many_arguments)]
    fn close_pos(
        &mut self,
        p: u32,
        x: i128,
        c: i128,
        t: Micros,
        name: &str,
        price: Wad,
        health: Option<Wad>,
        reason: Reason,
        partial: bool,
    ) {
        let ps = &mut self.pos[p as usize];
        ps.size -= x;
        ps.cost -= c;
        let inst = ps.inst;
        let st = &self.insts[inst as usize];
        let m = st.mark.unwrap_or_default();
        let nv = notional(Wad(x), m);
        let iname = st.name.clone();
        self.totals.liquidated_notional_usd += nv;
        let s = self.pos_stats.entry(p).or_default();
        s.liquidated += x;
        s.liqs += 1;
        s.partial |= partial;
        let kind = if partial {
            EventKind::PerpPartialLiquidation
        } else {
            EventKind::PerpLiquidation
        };
        let name = name.to_string();
        self.log(t, kind, |r| {
            r.account = Some(name);
            r.asset = Some(iname);
            r.amount = Some(Wad(x));
            r.price = Some(price);
            r.value_usd = Some(nv);
            r.health = health;
            r.actor = Some("book".into());
            r.reason = Some(reason);
        });
    }

    fn close_account(&mut self, a: u32) {
        let ac = &mut self.accts[a as usize];
        ac.closed = true;
        ac.gen = ac.gen.wrapping_add(1);
    }

    fn bankrupt(&mut self, a: u32, t: Micros, shortfall: i128, ids: &[u32]) {
        self.totals.bankruptcies += 1;
        self.waterfall.shortfall_usd += Wad(shortfall);
        self.stats(a).shortfall += shortfall;
        let name = self.account_name(a);
        let inst = (ids.len() == 1).then(|| {
            self.insts[self.pos[ids[0] as usize].inst as usize]
                .name
                .clone()
        });
        self.log(t, EventKind::Bankruptcy, |r| {
            r.account = Some(name);
            r.asset = inst;
            r.value_usd = Some(Wad(shortfall));
            r.reason = Some(Reason::Deficit);
        });
    }

    /// The backstop vault takes the account's positions at the mark and its
    /// equity (negative: the vault absorbs the deficit).
    fn takeover(
        &mut self,
        a: u32,
        t: Micros,
        e: i128,
        mm: i128,
        reason: Reason,
    ) -> Result<(), ReplayError> {
        let name = self.account_name(a);
        let health = (mm > 0).then(|| Wad(mul_div_down(e, WAD, mm).unwrap_or(0)));
        let ids: Vec<u32> = self
            .positions_of(a)
            .map(|k| self.acct_pos[k])
            .filter(|&p| self.pos[p as usize].size > 0)
            .collect();
        let mut realised = 0i128;
        for &p in &ids {
            let ps = self.pos[p as usize];
            let st = &mut self.insts[ps.inst as usize];
            let m = st.mark.unwrap_or_default();
            let v = close_value(ps.side, Wad(ps.size), m).0;
            st.vault.take(ps.side, ps.size, v);
            realised += match ps.side {
                PerpSide::Long => v - ps.cost,
                PerpSide::Short => ps.cost - v,
            };
            let pp = &mut self.pos[p as usize];
            pp.size = 0;
            pp.cost = 0;
            let s = self.pos_stats.entry(p).or_default();
            s.liquidated += ps.size;
            s.liqs += 1;
        }
        self.seize_collateral(a);
        let rest = self.accts[a as usize].cash + realised;
        self.accts[a as usize].cash = 0;
        self.vault_cash += rest;
        self.close_account(a);
        self.totals.backstop_takeovers += 1;
        if rest < 0 {
            self.bankrupt(a, t, -rest, &ids);
            self.waterfall.backstop_usd += Wad(-rest);
            self.stats(a).backstop += -rest;
            self.set_status(a, PerpStatus::Bankrupt, t);
        } else {
            self.waterfall.backstop_received_usd += Wad(rest);
            self.set_status(a, PerpStatus::Backstopped, t);
        }
        self.log(t, EventKind::BackstopTakeover, |r| {
            r.account = Some(name);
            r.value_usd = Some(Wad(rest));
            r.health = health;
            r.actor = Some("backstop".into());
            r.reason = Some(reason);
        });
        Ok(())
    }

    /// Ranked ADL candidates of `inst` on `side` at `t` (cached per instant).
    fn adl_ranking(&mut self, inst: u16, side: PerpSide, t: Micros) {
        let key = (inst, side == PerpSide::Long);
        if self.adl_rank.get(&key).is_some_and(|c| c.0 == t) {
            return;
        }
        let list = match side {
            PerpSide::Long => &self.insts[inst as usize].longs,
            PerpSide::Short => &self.insts[inst as usize].shorts,
        };
        let m = self.insts[inst as usize].mark.unwrap_or_default();
        let mut scored: Vec<(i128, u32)> = Vec::new();
        let mut acct_cache: BTreeMap<u32, (i128, i128)> = BTreeMap::new();
        for &p in list {
            let ps = self.pos[p as usize];
            if ps.size == 0 || self.accts[ps.acct as usize].closed {
                continue;
            }
            let u = upnl(ps.side, Wad(ps.size), Wad(ps.cost), m).0;
            if u <= 0 {
                continue;
            }
            let (w, e) = *acct_cache.entry(ps.acct).or_insert_with(|| {
                let (e, _) = self.margin(ps.acct);
                let w = self.coll_value(ps.acct) + self.accts[ps.acct as usize].cash;
                (w, e)
            });
            scored.push((adl_score(u, notional(Wad(ps.size), m).0, w, e), p));
        }
        scored.sort_unstable_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
        self.adl_rank
            .insert(key, (t, scored.into_iter().map(|x| x.1).collect(), 0));
    }

    /// Auto-deleveraging: the account's positions close against ranked
    /// profitable opposite positions at the bankruptcy price (the price that
    /// takes the account's equity, after the fee, to zero when negative).
    fn adl(
        &mut self,
        a: u32,
        t: Micros,
        e: i128,
        ids: &[u32],
        reason: Reason,
    ) -> Result<(), ReplayError> {
        let name = self.account_name(a);
        // Equity at mark after the fee; a negative rest is spread over the
        // positions pro rata notional.
        let mut notionals = Vec::with_capacity(ids.len());
        let mut total_n = 0i128;
        for &p in ids {
            let ps = self.pos[p as usize];
            let m = self.insts[ps.inst as usize].mark.unwrap_or_default();
            let nv = notional(Wad(ps.size), m).0;
            notionals.push(nv);
            total_n += nv;
        }
        let fee = wmul_dir(total_n, self.rules.liquidation_fee_rate.0, false)
            .unwrap_or(0)
            .min(e.max(0));
        let deficit = (-(e - fee)).max(0);
        self.seize_collateral(a);
        self.accts[a as usize].cash -= fee;
        self.stats(a).fees += fee;
        self.waterfall.liquidation_fees_usd += Wad(fee);
        self.insurance_move(t, a, fee, Reason::LiquidationFee);
        self.totals.liquidations += 1;
        self.close_account(a);
        let mut alloc_done = 0i128;
        let mut n_done = 0i128;
        let mut adl_total = 0i128;
        for (k, &p) in ids.iter().enumerate() {
            let ps = self.pos[p as usize];
            let inst = ps.inst;
            let m = self.insts[inst as usize].mark.unwrap_or_default();
            // Deficit share (cumulative floor, so the shares sum exactly).
            n_done += notionals[k];
            let upto = if total_n > 0 {
                mul_div_down(deficit, n_done, total_n).unwrap_or(deficit)
            } else {
                deficit
            };
            let d_p = upto - alloc_done;
            alloc_done = upto;
            // Target quote of the whole close: long receives, short pays.
            let at_mark = close_value(ps.side, Wad(ps.size), m).0;
            let target = match ps.side {
                PerpSide::Long => at_mark + d_p,
                PerpSide::Short => at_mark - d_p,
            };
            let opp = ps.side.opposite();
            self.adl_ranking(inst, opp, t);
            let mut filled = 0i128;
            let mut paid_so_far = 0i128;
            let mut received = 0i128;
            let mut touched: Vec<u32> = Vec::new();
            loop {
                if filled >= ps.size {
                    break;
                }
                let key = (inst, opp == PerpSide::Long);
                let next = {
                    let c = self.adl_rank.get_mut(&key).expect("ranked");
                    let mut found = None;
                    while c.2 < c.1.len() {
                        let j = c.1[c.2];
                        let pj = self.pos[j as usize];
                        if pj.size > 0 && !self.accts[pj.acct as usize].closed && pj.acct != a {
                            found = Some(j);
                            break;
                        }
                        c.2 += 1;
                    }
                    found
                };
                let Some(j) = next else { break };
                let pj = self.pos[j as usize];
                let x = pj.size.min(ps.size - filled);
                let upto = mul_div_down(target, filled + x, ps.size).unwrap_or(target);
                let pay = upto - paid_so_far;
                paid_so_far = upto;
                filled += x;
                received += pay;
                let cj = if x == pj.size {
                    pj.cost
                } else {
                    mul_div_down(pj.cost, x, pj.size).unwrap_or(pj.cost)
                };
                // Counterparty closes x: a short buys back paying `pay`, a
                // long sells receiving it.
                let (realised, loss) = match pj.side {
                    PerpSide::Short => (cj - pay, pay - close_value(PerpSide::Short, Wad(x), m).0),
                    PerpSide::Long => (pay - cj, close_value(PerpSide::Long, Wad(x), m).0 - pay),
                };
                let pjm = &mut self.pos[j as usize];
                pjm.size -= x;
                pjm.cost -= cj;
                self.accts[pj.acct as usize].cash += realised;
                adl_total += loss;
                let s = self.pos_stats.entry(j).or_default();
                s.deleveraged += x;
                s.adl_loss += loss;
                self.set_status(pj.acct, PerpStatus::Deleveraged, t);
                self.totals.adl_events += 1;
                touched.push(pj.acct);
                let cname = self.account_name(pj.acct);
                let iname = self.insts[inst as usize].name.clone();
                let px = Wad(mul_div_down(pay.abs(), WAD, x).unwrap_or(0));
                let actor = name.clone();
                self.log(t, EventKind::Adl, |r| {
                    r.account = Some(cname);
                    r.asset = Some(iname);
                    r.amount = Some(Wad(x));
                    r.price = Some(px);
                    r.value_usd = Some(Wad(loss));
                    r.actor = Some(actor);
                    r.reason = Some(reason);
                });
            }
            // The trader's side of the filled part.
            let c_filled = if filled == ps.size {
                ps.cost
            } else {
                mul_div_down(ps.cost, filled, ps.size).unwrap_or(ps.cost)
            };
            let mut realised = match ps.side {
                PerpSide::Long => received - c_filled,
                PerpSide::Short => c_filled - received,
            };
            let price = if filled > 0 {
                Wad(mul_div_down(received.abs(), WAD, filled).unwrap_or(0))
            } else {
                m
            };
            if filled > 0 {
                self.close_pos(p, filled, c_filled, t, &name, price, None, reason, false);
            }
            // No counterparty left: the rest goes to book takers at mark.
            let rest = ps.size - filled;
            if rest > 0 {
                let c_rest = ps.cost - c_filled;
                let v = close_value(ps.side, Wad(rest), m).0;
                self.insts[inst as usize].takers.buy_from(ps.side, rest, v);
                realised += match ps.side {
                    PerpSide::Long => v - c_rest,
                    PerpSide::Short => c_rest - v,
                };
                self.close_pos(
                    p,
                    rest,
                    c_rest,
                    t,
                    &name,
                    m,
                    None,
                    Reason::NoLiquidity,
                    false,
                );
            }
            self.accts[a as usize].cash += realised;
            touched.sort_unstable();
            touched.dedup();
            self.pending.extend(touched);
        }
        let left = self.accts[a as usize].cash;
        let unabsorbed = (-left).max(0);
        let shortfall = adl_total.max(0) + unabsorbed;
        if deficit > 0 || unabsorbed > 0 {
            self.bankrupt(a, t, shortfall, ids);
            self.set_status(a, PerpStatus::Bankrupt, t);
        } else {
            // Rounding of the counterparties' fills only.
            self.waterfall.shortfall_usd += Wad(shortfall);
            self.set_status(a, PerpStatus::Liquidated, t);
        }
        self.waterfall.adl_usd += Wad(adl_total.max(0));
        self.waterfall.unabsorbed_usd += Wad(unabsorbed);
        let s = self.stats(a);
        s.adl += adl_total.max(0);
        s.unabsorbed += unabsorbed;
        Ok(())
    }

    /// Charges `shortfall` (after the insurance fund) to profitable
    /// opposite positions pro rata to their profit, capped at it.
    fn socialise(
        &mut self,
        a: u32,
        t: Micros,
        shortfall: i128,
        ids: &[u32],
    ) -> Result<(), ReplayError> {
        if shortfall <= 0 {
            self.set_status(a, PerpStatus::Liquidated, t);
            return Ok(());
        }
        self.bankrupt(a, t, shortfall, ids);
        self.set_status(a, PerpStatus::Bankrupt, t);
        let drawn = shortfall.min(self.insurance.max(0));
        if drawn > 0 {
            self.insurance_move(t, a, -drawn, Reason::ShortfallCovered);
            self.accts[a as usize].cash += drawn;
            self.stats(a).insurance += drawn;
            self.waterfall.insurance_fund_usd += Wad(drawn);
        }
        let rest = shortfall - drawn;
        if rest == 0 {
            return Ok(());
        }
        let mut sides: Vec<(u16, PerpSide)> = ids
            .iter()
            .map(|&p| {
                let ps = self.pos[p as usize];
                (ps.inst, ps.side.opposite())
            })
            .collect();
        sides.sort_unstable();
        sides.dedup();
        let mut winners: Vec<(u32, i128)> = Vec::new();
        for (inst, side) in sides {
            let m = self.insts[inst as usize].mark.unwrap_or_default();
            let list = match side {
                PerpSide::Long => &self.insts[inst as usize].longs,
                PerpSide::Short => &self.insts[inst as usize].shorts,
            };
            for &p in list {
                let ps = self.pos[p as usize];
                if ps.size == 0 || ps.acct == a || self.accts[ps.acct as usize].closed {
                    continue;
                }
                let u = upnl(ps.side, Wad(ps.size), Wad(ps.cost), m).0;
                if u > 0 {
                    winners.push((p, u));
                }
            }
        }
        let total: i128 = winners.iter().map(|w| w.1).sum();
        let charge_total = rest.min(total);
        let mut cum = 0i128;
        let mut charged = 0i128;
        let name = self.account_name(a);
        let mut touched = Vec::new();
        for (p, u) in winners {
            cum += u;
            let upto = mul_div_down(charge_total, cum, total.max(1)).unwrap_or(charge_total);
            let c = upto - charged;
            charged = upto;
            if c == 0 {
                continue;
            }
            let acct = self.pos[p as usize].acct;
            self.accts[acct as usize].cash -= c;
            self.pos_stats.entry(p).or_default().socialised += c;
            touched.push(acct);
            self.totals.socialised_events += 1;
            let wname = self.account_name(acct);
            let actor = name.clone();
            self.log(t, EventKind::SocialisedLoss, |r| {
                r.account = Some(wname);
                r.value_usd = Some(Wad(c));
                r.actor = Some(actor);
                r.reason = Some(Reason::InsuranceExhausted);
            });
        }
        self.accts[a as usize].cash += charged;
        let unabsorbed = rest - charged;
        self.waterfall.socialised_usd += Wad(charged);
        self.waterfall.unabsorbed_usd += Wad(unabsorbed);
        let s = self.stats(a);
        s.socialised += charged;
        s.unabsorbed += unabsorbed;
        touched.sort_unstable();
        touched.dedup();
        self.pending.extend(touched);
        Ok(())
    }

    fn finish(mut self) -> Result<PerpOutput, ReplayError> {
        let mut ledger = PerpLedger::default();
        if self.started {
            self.totals.valued_to = self.last_t;
        }
        let mut accounts = Vec::with_capacity(self.accts.len());
        let mut traders_end = 0i128;
        let mut reval = self.reval;
        for a in 0..self.accts.len() as u32 {
            let (e, _) = if self.started { self.margin(a) } else { (0, 0) };
            traders_end += e;
            let ac = self.accts[a as usize];
            if self.started {
                reval += self.coll_value(a) - ac.coll_value_start;
            }
            let st = self.acct_stats.get(&a).cloned().unwrap_or_default();
            let status = st.status.unwrap_or(PerpStatus::Performing);
            if status >= PerpStatus::Liquidated {
                self.waterfall.trader_equity_usd += Wad((ac.equity_start - e).max(0));
            }
            if status == PerpStatus::Deleveraged {
                self.totals.deleveraged_accounts += 1;
            }
            let r0 = self.acct_pos[ac.pos_start as usize] as usize;
            accounts.push(PerpAccountOutcome {
                account: self.rows[r0].account.clone(),
                venue: self.rows[r0].venue.clone(),
                margin_mode: self.rows[r0].margin_mode,
                positions: self
                    .positions_of(a)
                    .map(|k| self.acct_pos[k] as usize)
                    .collect(),
                status,
                equity_start_usd: Wad(ac.equity_start),
                equity_end_usd: Wad(e),
                liquidation_fees_usd: Wad(st.fees),
                shortfall_usd: Wad(st.shortfall),
                insurance_fund_usd: Wad(st.insurance),
                adl_usd: Wad(st.adl),
                backstop_usd: Wad(st.backstop),
                socialised_usd: Wad(st.socialised),
                unabsorbed_usd: Wad(st.unabsorbed),
                first_liquidation: st.first_liq,
            });
        }
        let mut positions = Vec::with_capacity(self.pos.len());
        for (r, row) in self.rows.iter().enumerate() {
            let p = self.pos[r];
            let s = self.pos_stats.get(&(r as u32)).cloned().unwrap_or_default();
            let acct_status = accounts[p.acct as usize].status;
            let status = if s.liquidated > 0 {
                if p.size > 0 {
                    PerpStatus::PartiallyLiquidated
                } else {
                    acct_status.max(PerpStatus::Liquidated)
                }
            } else if s.deleveraged > 0 {
                PerpStatus::Deleveraged
            } else {
                PerpStatus::Performing
            };
            positions.push(PerpPositionOutcome {
                account: row.account.clone(),
                venue: row.venue.clone(),
                instrument: row.instrument.clone(),
                side: row.side,
                margin_mode: row.margin_mode,
                status,
                size_start: row.size,
                size_end: Wad(p.size),
                liquidated_size: Wad(s.liquidated),
                deleveraged_size: Wad(s.deleveraged),
                adl_loss_usd: Wad(s.adl_loss),
                socialised_usd: Wad(s.socialised),
                liquidations: s.liqs,
            });
        }
        if self.started {
            let mut vault = self.vault_cash;
            let mut takers = 0i128;
            let mut unmatched = 0i128;
            for st in &self.insts {
                let m = st.mark.unwrap_or_default();
                vault += st.vault.value(m);
                takers += st.takers.value(m);
                let m0 = st.first_mark.unwrap_or(m);
                let d = m.0 - m0.0;
                let v = mul_div_down(st.net_size0.abs(), d.abs(), WAD).unwrap_or(0);
                unmatched += if (st.net_size0 < 0) ^ (d < 0) { v } else { -v };
            }
            ledger = PerpLedger {
                traders_start_usd: Wad(self.traders_start),
                traders_end_usd: Wad(traders_end),
                insurance_fund_start_usd: self.cfg.insurance_fund_usd,
                insurance_fund_end_usd: Wad(self.insurance),
                backstop_start_usd: self.cfg.backstop_vault_usd,
                backstop_end_usd: Wad(vault),
                book_takers_end_usd: Wad(takers),
                collateral_revaluation_usd: Wad(reval),
                unmatched_oi_usd: Wad(unmatched),
                residual_usd: Wad((traders_end - self.traders_start)
                    + (self.insurance - self.cfg.insurance_fund_usd.0)
                    + (vault - self.cfg.backstop_vault_usd.0)
                    + takers
                    - reval
                    - unmatched),
            };
        }
        self.totals.events = self.n_events;
        self.totals.insurance_fund_end_usd = Wad(self.insurance);
        self.totals.insurance_fund_min_usd = Wad(self.insurance_min);
        self.totals.backstop_vault_cash_end_usd = Wad(self.vault_cash);
        Ok(PerpOutput {
            events: self.events,
            positions,
            accounts,
            insurance_fund: self.if_series,
            waterfall: self.waterfall,
            ledger,
            totals: self.totals,
        })
    }
}

/// ADL ranking score, Binance's "LeveragePnL": unrealised PnL as a share of
/// the wallet balance (at least 1 USD) times the effective leverage
/// (notional / equity); Binance FAQ "What Is Auto-Deleveraging (ADL) and
/// How Does It Work": "More profitable and higher leveraged traders will be
/// liquidated first". Fixed point, rounded down; higher first.
pub fn adl_score(upnl: i128, notional: i128, wallet: i128, equity: i128) -> i128 {
    if upnl <= 0 {
        return 0;
    }
    let pnl_share = mul_div_down(upnl, WAD, wallet.max(WAD)).unwrap_or(i128::MAX);
    let lev = if equity > 0 {
        mul_div_down(notional, WAD, equity).unwrap_or(i128::MAX)
    } else {
        i128::MAX / WAD
    };
    mul_div_down(pnl_share, lev, WAD).unwrap_or(i128::MAX)
}
