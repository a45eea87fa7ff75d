//! Liquidation attempts and their decisions: who tries when, what blocks
//! them (with the reason recorded), retries and recovery.

use super::*;

impl Engine<'_> {
    /// Counts a blocked attempt of position `i`, logged when the reason
    /// changes; `by`: the liquidator blocked ([`ALL_LIQUIDATORS`]: none
    /// could pay), None when the protocol blocked it.
    pub(super) fn block(&mut self, i: u32, t: Micros, reason: Reason, by: Option<usize>) {
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
    pub(super) fn retry(&mut self, i: u32, t: Micros, reason: Reason) {
        let at = self.next_retry(i, t, reason);
        self.schedule_attempt(i, 0, at, at);
    }

    /// The time of the next retry of a liquidation blocked at `t` (the
    /// backoff doubled for the one after).
    pub(super) fn next_retry(&mut self, i: u32, t: Micros, reason: Reason) -> Micros {
        let p = &mut self.pos[i as usize];
        let b = p.backoff;
        let cap = match reason {
            Reason::BelowDust | Reason::Unprofitable | Reason::MustNotLeaveDust => 86_400 * 365,
            _ => RETRY_MAX,
        };
        p.backoff = (b * 2).min(cap);
        Micros(t.0 + b * Micros::PER_SEC)
    }

    pub(super) fn attempt(
        &mut self,
        i: u32,
        k: usize,
        detect: Micros,
        t: Micros,
    ) -> Result<(), ReplayError> {
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
    pub(super) fn recovered(&mut self, i: u32) {
        self.pending[i as usize] = false;
        self.pos[i as usize].backoff = RETRY_MIN;
    }

    /// Any of the position's oracles stale (or out) at `t`.
    pub(super) fn oracle_stale(&self, i: u32, t: Micros) -> bool {
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
    pub(super) fn repeat_block(&self, i: u32, k: usize, t: Micros) -> Option<Blocked> {
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
    pub(super) fn blocked(
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
    pub(super) fn cannot_profit(&self, i: u32, t: Micros) -> bool {
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
}
