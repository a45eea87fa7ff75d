//! Health and triggers: the exact health of a position under the preset's
//! rules, its band, and the price levels armed to look at it again.

use super::*;

impl Engine<'_> {
    pub(super) fn health_check(&mut self, t: Micros) {
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
    pub(super) fn health(&self, i: u32) -> Option<i128> {
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

    pub(super) fn reserve(&self, a: u16) -> aave::Reserve {
        self.assets[a as usize].res
    }

    pub(super) fn refresh_reserve(&mut self, a: usize) {
        let r = self.compute_reserve(a as u16);
        self.assets[a].res = r;
        if self.preset == Preset::CompoundV2 {
            let leg = self.ctoken_leg(a as u16, 0);
            self.assets[a].comp_ttd =
                compound::tokens_to_denom(leg.collateral_factor, leg.exchange_rate, leg.price);
        }
        self.assets[a].est = self.leg_est(a);
    }

    pub(super) fn compute_reserve(&self, a: u16) -> aave::Reserve {
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

    pub(super) fn comp_price(&self, a: u16) -> i128 {
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
    pub(super) fn ctokens(&self, a: u16, amount: i128) -> i128 {
        let st = &self.assets[a as usize];
        let base = to_base(amount, st.unit_div);
        let rate = st.params.exchange_rate.0;
        if rate == WAD {
            base
        } else {
            mul_div_down(base, WAD, rate).unwrap_or(0)
        }
    }

    pub(super) fn ctoken_leg(&self, a: u16, amount: i128) -> compound::CollateralLeg {
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
    pub(super) fn evaluate(&mut self, i: u32, t: Micros) {
        if let Some((band, th)) = self.estimated_band(i) {
            if self.lean || band == self.band[i as usize] {
                return self.evaluate_band(i, t, band, th, None);
            }
        }
        self.evaluate_at(i, t, self.health(i));
    }

    /// [`Engine::evaluate`] with the position's health `h` known.
    pub(super) fn evaluate_at(&mut self, i: u32, t: Micros, h: Option<i128>) {
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
    pub(super) fn evaluate_band(
        &mut self,
        i: u32,
        t: Micros,
        band: u8,
        th: TriggerHealth,
        h: Option<i128>,
    ) {
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

    pub(super) fn note_health(&mut self, i: u32, h: i128) {
        if h != i128::MAX {
            let p = &mut self.pos[i as usize];
            p.min_health = p.min_health.min(h);
        }
    }

    /// Sets position `i`'s triggers for its band at health `th` (an
    /// infinite factor: no debt, nothing can make it liquidatable).
    pub(super) fn arm(&mut self, i: u32, th: TriggerHealth, band: u8) {
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

    /// After a liquidation (`h`: the health it left): still below one, the
    /// next attempt comes a block later; else re-evaluate.
    pub(super) fn reeval_later(&mut self, i: u32, t: Micros, h: Option<i128>) {
        match h {
            Some(h) if h < WAD && !self.legs.coll(i).is_empty() => {
                self.still_below_one(i, t, TriggerHealth::exact(h))
            }
            _ => self.evaluate_at(i, t, h),
        }
    }

    /// [`Engine::reeval_later`] with the band proven by the health bounds
    /// and the health factor estimated (a summary-only replay).
    pub(super) fn reeval_band(&mut self, i: u32, t: Micros, band: u8, th: TriggerHealth) {
        if band == BAND_BELOW_ONE && !self.legs.coll(i).is_empty() {
            self.still_below_one(i, t, th)
        } else {
            self.evaluate_band(i, t, band, th, None)
        }
    }

    /// Still below one after a liquidation: the next attempt a block later.
    pub(super) fn still_below_one(&mut self, i: u32, t: Micros, th: TriggerHealth) {
        self.pending[i as usize] = true;
        let lat = self.liqs[0].latency_secs.max(BLOCK_SECS);
        let at = Micros(t.0 + lat * Micros::PER_SEC);
        self.schedule_attempt(i, 0, at, at);
        self.arm(i, th, BAND_BELOW_ONE);
        self.band[i as usize] = BAND_BELOW_ONE;
    }
}
