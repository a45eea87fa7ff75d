//! The oracle feed: answers reaching the engine, circuit breakers, dynamic
//! margin, and marking the assets whose positions must be looked at again.

use super::*;

impl Engine<'_> {
    pub(super) fn mark_dirty(&mut self, a: usize, t: Micros) {
        if !self.dirty[a] {
            self.dirty[a] = true;
        }
        self.any_dirty = true;
        if self.health_scheduled_at != Some(t) {
            self.health_scheduled_at = Some(t);
            self.push(ReplayKey::derived(t, Phase::Health), DynEv::Health);
        }
    }

    pub(super) fn on_oracle_outcome(&mut self, a: usize, t: Micros, o: OracleOutcome) {
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

    pub(super) fn check_breakers(&mut self, a: usize, t: Micros, v: Wad) {
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
    pub(super) fn touch(&mut self, a: usize) {
        self.stamp += 1;
        self.assets[a].touched = self.stamp;
    }

    /// A recorded event changes asset `a` at `t`: noted, and its parked
    /// positions are retried from then on ([`parking`]).
    pub(super) fn touch_recorded(&mut self, a: usize, t: Micros) {
        self.touch(a);
        self.wake(a, t);
    }

    pub(super) fn touch_all(&mut self) {
        self.stamp += 1;
        self.all_touched = self.stamp;
    }

    pub(super) fn dynamic_margin(&mut self, a: usize, t: Micros, m: Wad) {
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
}
