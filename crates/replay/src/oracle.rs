//! Oracle rules as online state machines, one per asset.
//!
//! Pipeline: source value (market / recorded round / median of venues) ->
//! mode (direct, push with deviation + heartbeat, OSM delay, TWAP, fixed peg)
//! -> guards (anchor bounds, CAPO-like cap, min/max answer clamp) ->
//! overrides (freeze, outage, manipulated print) -> answer.

use std::collections::VecDeque;

use shortfall_core::money::{mul_div_down, WAD};
use shortfall_core::{Micros, Wad};

use crate::scenario::{OracleMode, OracleOverride, OracleRule, OracleSource, OverrideKind};

const YEAR_SECS: i128 = 365 * 86_400;

/// Result of feeding a value to an oracle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OracleOutcome {
    /// No new answer (push threshold not reached, override, ...).
    None,
    /// A new answer (value may equal the old one: a heartbeat).
    Answer(Wad),
    /// Candidate rejected by the anchor bounds (value: the candidate).
    Rejected(Wad),
}

/// A resolved override interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub kind: OverrideKind,
    pub from: Micros,
    pub to: Option<Micros>,
    pub price: Option<Wad>,
}

impl Override {
    /// Parses a scenario override (times already validated).
    pub fn from_config(o: &OracleOverride) -> Override {
        Override {
            kind: o.kind,
            from: Micros::parse(&o.from).unwrap_or_default(),
            to: o.to.as_deref().and_then(|t| Micros::parse(t).ok()),
            price: o.price,
        }
    }

    fn active(&self, t: Micros) -> bool {
        t >= self.from && self.to.is_none_or(|e| t < e)
    }
}

/// One asset's oracle.
#[derive(Debug, Clone)]
pub struct Oracle {
    pub rule: OracleRule,
    pub source: OracleSource,
    pub mode: OracleMode,
    /// Current answer and when it was updated.
    pub answer: Option<Wad>,
    pub updated: Micros,
    start: Micros,
    // OSM
    osm_cur: Option<Wad>,
    osm_nxt: Option<Wad>,
    osm_zzz: i64,
    twap: VecDeque<(Micros, Wad)>,
    twap_sum: i128,
    anchor: VecDeque<(Micros, Wad)>,
    anchor_sum: i128,
    overrides: Vec<Override>,
    /// A manipulated print is holding until this time (or the next genuine
    /// answer if None while `print_hold` is set).
    print_hold: Option<Option<Micros>>,
}

impl Oracle {
    /// A new oracle with `rule` (already merged with the default rule).
    pub fn new(rule: OracleRule, start: Micros, overrides: Vec<Override>) -> Oracle {
        Oracle {
            source: rule.source.unwrap_or(OracleSource::Market),
            mode: rule.mode.unwrap_or(OracleMode::Direct),
            rule,
            answer: None,
            updated: Micros(i64::MIN),
            start,
            osm_cur: None,
            osm_nxt: None,
            osm_zzz: i64::MIN,
            twap: VecDeque::new(),
            twap_sum: 0,
            anchor: VecDeque::new(),
            anchor_sum: 0,
            overrides,
            print_hold: None,
        }
    }

    /// Overrides' boundary times (the engine schedules events there).
    pub fn override_times(&self) -> Vec<Micros> {
        let mut v = Vec::new();
        for o in &self.overrides {
            v.push(o.from);
            if let Some(t) = o.to {
                v.push(t);
            }
        }
        v
    }

    /// True when no answer can be relied on at `t` (outage, or older than
    /// `staleness_secs`).
    pub fn is_stale(&self, t: Micros) -> bool {
        if self.answer.is_none() {
            return true;
        }
        if self
            .overrides
            .iter()
            .any(|o| o.kind == OverrideKind::Outage && o.active(t))
        {
            return true;
        }
        match self.rule.staleness_secs {
            Some(s) => t.0 - self.updated.0 > s * Micros::PER_SEC,
            None => false,
        }
    }

    /// Applies overrides that begin at `t` (a manipulated print). Returns the
    /// forced answer if any.
    pub fn on_override_time(&mut self, t: Micros) -> OracleOutcome {
        if let Some((Some(end), _)) = self.print_hold.map(|h| (h, ())) {
            if t >= end {
                self.print_hold = None;
            }
        }
        let print = self
            .overrides
            .iter()
            .find(|o| o.kind == OverrideKind::Print && o.from == t)
            .cloned();
        if let Some(o) = print {
            let p = o.price.unwrap_or_default();
            self.answer = Some(p);
            self.updated = t;
            self.print_hold = Some(o.to);
            return OracleOutcome::Answer(p);
        }
        OracleOutcome::None
    }

    fn blocked_by_override(&mut self, t: Micros) -> bool {
        if let Some(hold) = self.print_hold {
            match hold {
                Some(end) if t < end => return true,
                Some(_) => self.print_hold = None,
                None => {
                    // held until the next genuine answer: this one.
                    self.print_hold = None;
                }
            }
        }
        for o in &self.overrides {
            if !o.active(t) {
                continue;
            }
            match o.kind {
                OverrideKind::Freeze => {
                    self.updated = t;
                    return true;
                }
                OverrideKind::Outage => return true,
                OverrideKind::Print => {}
            }
        }
        false
    }

    fn push_window(
        q: &mut VecDeque<(Micros, Wad)>,
        sum: &mut i128,
        t: Micros,
        v: Wad,
        secs: i64,
    ) -> Wad {
        q.push_back((t, v));
        *sum += v.0;
        let lo = t.0 - secs * Micros::PER_SEC;
        while q.len() > 1 && q.front().is_some_and(|(ts, _)| ts.0 <= lo) {
            let (_, old) = q.pop_front().expect("non-empty");
            *sum -= old.0;
        }
        Wad(*sum / q.len() as i128)
    }

    /// Feeds a source value observed at `t`.
    pub fn on_source(&mut self, t: Micros, v: Wad) -> OracleOutcome {
        // Anchor TWAP tracks the source whatever happens to the answer.
        let anchor = self.rule.anchor_bps.map(|_| {
            let secs = self.rule.anchor_twap_secs.unwrap_or(1800);
            Self::push_window(&mut self.anchor, &mut self.anchor_sum, t, v, secs)
        });
        let twap = if self.mode == OracleMode::Twap {
            let secs = self.rule.twap_secs.unwrap_or(1800);
            Some(Self::push_window(
                &mut self.twap,
                &mut self.twap_sum,
                t,
                v,
                secs,
            ))
        } else {
            None
        };
        if self.blocked_by_override(t) {
            return OracleOutcome::None;
        }
        let candidate = match self.mode {
            OracleMode::Direct => Some(v),
            OracleMode::Fixed => Some(self.rule.peg.unwrap_or(Wad::ONE)),
            OracleMode::Twap => twap,
            OracleMode::Push => {
                let dev = self.rule.deviation_bps.unwrap_or(50) as i128;
                let hb = self.rule.heartbeat_secs.unwrap_or(3600) * Micros::PER_SEC;
                match self.answer {
                    None => Some(v),
                    Some(a) => {
                        let moved = (v.0 - a.0).abs();
                        let dev_hit = a.0 == 0
                            || mul_div_down(moved, 10_000, a.0.abs()).unwrap_or(i128::MAX) >= dev;
                        if dev_hit || t.0 - self.updated.0 >= hb {
                            Some(v)
                        } else {
                            None
                        }
                    }
                }
            }
            OracleMode::Delay => {
                // OSM: poke when a hop has passed: cur = nxt; nxt = read();
                // zzz = start of the current hop.
                let hop = self.rule.delay_secs.unwrap_or(3600).max(1) * Micros::PER_SEC;
                let era = t.0.div_euclid(hop) * hop;
                if self.osm_nxt.is_none() {
                    self.osm_cur = Some(v);
                    self.osm_nxt = Some(v);
                    self.osm_zzz = era;
                    Some(v)
                } else if t.0 >= self.osm_zzz + hop {
                    self.osm_cur = self.osm_nxt;
                    self.osm_nxt = Some(v);
                    self.osm_zzz = era;
                    self.osm_cur
                } else {
                    None
                }
            }
        };
        let Some(mut c) = candidate else {
            return OracleOutcome::None;
        };
        if let (Some(bps), Some(a)) = (self.rule.anchor_bps, anchor) {
            if a.0 != 0 {
                let dev = mul_div_down((c.0 - a.0).abs(), 10_000, a.0.abs()).unwrap_or(i128::MAX);
                if dev > bps as i128 {
                    return OracleOutcome::Rejected(c);
                }
            }
        }
        if let (Some(r), Some(g)) = (self.rule.cap_ref_price, self.rule.cap_growth_bps_per_year) {
            let dt = ((t.0 - self.start.0) / Micros::PER_SEC).max(0) as i128;
            let growth = mul_div_down(g as i128 * WAD / 10_000, dt, YEAR_SECS).unwrap_or(0);
            let cap = Wad(mul_div_down(r.0, WAD + growth, WAD).unwrap_or(i128::MAX));
            c = c.min(cap);
        }
        if let Some(m) = self.rule.min_answer {
            c = c.max(m);
        }
        if let Some(m) = self.rule.max_answer {
            c = c.min(m);
        }
        self.answer = Some(c);
        self.updated = t;
        OracleOutcome::Answer(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(mode: OracleMode) -> OracleRule {
        OracleRule {
            source: Some(OracleSource::Market),
            mode: Some(mode),
            ..Default::default()
        }
    }
    fn s(x: i64) -> Micros {
        Micros::from_secs(x)
    }
    fn w(x: i64) -> Wad {
        Wad::from_int(x)
    }

    #[test]
    fn push_deviation_and_heartbeat() {
        let mut r = rule(OracleMode::Push);
        r.deviation_bps = Some(100);
        r.heartbeat_secs = Some(3600);
        let mut o = Oracle::new(r, s(0), vec![]);
        assert_eq!(o.on_source(s(0), w(100)), OracleOutcome::Answer(w(100)));
        assert_eq!(
            o.on_source(s(60), Wad(100_900_000_000_000_000_000)),
            OracleOutcome::None
        ); // 0.9%
        assert_eq!(o.on_source(s(120), w(101)), OracleOutcome::Answer(w(101))); // 0.99%? 1/100 = 100 bps
        assert_eq!(o.on_source(s(3000), w(101)), OracleOutcome::None);
        assert_eq!(o.on_source(s(3720), w(101)), OracleOutcome::Answer(w(101)));
        // heartbeat
    }

    #[test]
    fn osm_delays_one_hop() {
        let mut r = rule(OracleMode::Delay);
        r.delay_secs = Some(3600);
        let mut o = Oracle::new(r, s(0), vec![]);
        assert_eq!(o.on_source(s(0), w(200)), OracleOutcome::Answer(w(200)));
        assert_eq!(o.on_source(s(1800), w(150)), OracleOutcome::None);
        // 01:00: cur = nxt (200, read at 00:00), nxt = 140
        assert_eq!(o.on_source(s(3600), w(140)), OracleOutcome::Answer(w(200)));
        // 02:00: the price read at 01:00 takes effect
        assert_eq!(o.on_source(s(7260), w(100)), OracleOutcome::Answer(w(140)));
    }

    #[test]
    fn min_answer_clamps_like_luna() {
        let mut r = rule(OracleMode::Direct);
        r.min_answer = Some(Wad(100_000_000_000_000_000));
        let mut o = Oracle::new(r, s(0), vec![]);
        assert_eq!(
            o.on_source(s(0), Wad(10_000_000_000_000_000)),
            OracleOutcome::Answer(Wad(100_000_000_000_000_000))
        );
    }

    #[test]
    fn anchor_rejects_outliers() {
        let mut r = rule(OracleMode::Direct);
        r.anchor_bps = Some(2000);
        r.anchor_twap_secs = Some(1800);
        let mut o = Oracle::new(r, s(0), vec![]);
        for i in 0..30 {
            o.on_source(s(i * 60), w(1));
        }
        // a 30% print against a ~1.0 anchor is rejected (Compound DAI 1.30)
        assert!(matches!(
            o.on_source(s(1800), Wad(1_300_000_000_000_000_000)),
            OracleOutcome::Rejected(_)
        ));
        assert_eq!(o.answer, Some(w(1)));
    }

    #[test]
    fn twap_cap_peg_staleness_and_overrides() {
        let mut r = rule(OracleMode::Twap);
        r.twap_secs = Some(180);
        let mut o = Oracle::new(r, s(0), vec![]);
        o.on_source(s(0), w(100));
        o.on_source(s(60), w(100));
        assert_eq!(o.on_source(s(120), w(130)), OracleOutcome::Answer(w(110)));
        let mut r = rule(OracleMode::Direct);
        r.cap_ref_price = Some(w(100));
        r.cap_growth_bps_per_year = Some(1000); // 10%/yr
        let mut o = Oracle::new(r, s(0), vec![]);
        assert_eq!(o.on_source(s(0), w(150)), OracleOutcome::Answer(w(100)));
        let mut r = rule(OracleMode::Fixed);
        r.peg = Some(w(1));
        r.staleness_secs = Some(600);
        let ov = vec![
            Override {
                kind: OverrideKind::Outage,
                from: s(1000),
                to: Some(s(2000)),
                price: None,
            },
            Override {
                kind: OverrideKind::Print,
                from: s(3000),
                to: Some(s(3060)),
                price: Some(w(5)),
            },
        ];
        let mut o = Oracle::new(r, s(0), ov);
        assert_eq!(o.on_source(s(0), w(2)), OracleOutcome::Answer(w(1)));
        assert!(!o.is_stale(s(500)));
        assert!(o.is_stale(s(700)));
        assert_eq!(o.on_source(s(1100), w(2)), OracleOutcome::None);
        assert!(o.is_stale(s(1100)));
        assert_eq!(o.on_override_time(s(3000)), OracleOutcome::Answer(w(5)));
        assert_eq!(o.on_source(s(3030), w(2)), OracleOutcome::None);
        assert_eq!(o.on_source(s(3060), w(2)), OracleOutcome::Answer(w(1)));
    }
}
