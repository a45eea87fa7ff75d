//! Parked retries. A liquidation blocked because no liquidator's
//! liquidation can pay (or for another reason) is retried with exponential
//! backoff ([`Engine::retry`]); while nothing the attempt reads changes,
//! every retry ends as the last one did ([`Engine::repeat_block`]). In a
//! crash those repeats are most of the scheduled events: tens of
//! thousands of small positions below one, retried for hours.
//!
//! A parked position has no scheduled retry: the engine keeps the time of
//! its next one and waits for a change of one of its assets (a price,
//! oracle answer, reserve or pause: [`Engine::touch`]) or of its balances.
//! Then it counts the repeats the retries before the change would have
//! been, exactly as they would have been counted, and schedules the first
//! retry at or after the change. At the end of the window the repeats up
//! to its end are counted. The output is the same as without parking.
//!
//! Only changes made by recorded events (which come before any derived
//! event of their time) can wake a position, so a position parks only
//! when nothing else can change what its attempt reads: fixed-spread
//! rules, no liquidity model (liquidation sales move no market), no gas
//! price path, a liquidator's capital that did not limit the repayment,
//! no oracle of its going stale within the window, and not in a joint
//! replay (where the other members' sales move the shared markets).

use shortfall_core::Micros;

use crate::output::Reason;

use super::{Engine, ALL_LIQUIDATORS};

/// Parked positions are visited in no useful order: their state is
/// fetched this many positions ahead.
const PF_AHEAD: usize = 8;

impl Engine<'_> {
    /// Whether the engine may park positions at all (see the module).
    pub(super) fn parking_allowed(&self) -> bool {
        self.preset.is_fixed_spread()
            && self.sc.frictions.liquidity.model == crate::scenario::LiquidityModel::None
            && self.gas.is_empty()
    }

    /// Retries position `i`'s blocked liquidation later ([`Engine::retry`]),
    /// parked when it would repeat the block just recorded until one of its
    /// assets changes.
    pub(super) fn retry_or_park(&mut self, i: u32, t: Micros, reason: Reason) {
        if !self.can_park(i, reason) {
            return self.retry(i, t, reason);
        }
        let at = self.next_retry(i, t, reason);
        self.pos[i as usize].parked = Some(at);
        for (a, _) in self.legs.all(i) {
            self.parked_on[*a as usize].push(i);
        }
        if let Some(n) = self.native {
            self.parked_on[n as usize].push(i);
        }
    }

    fn can_park(&self, i: u32, reason: Reason) -> bool {
        let Some(b) = self.pos[i as usize].last_block else {
            return false;
        };
        self.park
            && b.k == 0
            && b.reason == reason
            && b.capital.is_none()
            && self.legs.all(i).iter().all(|(a, _)| {
                let o = &self.assets[*a as usize].oracle;
                o.rule
                    .staleness_secs
                    .is_none_or(|s| o.updated.0.saturating_add(s * Micros::PER_SEC) >= self.end.0)
            })
    }

    /// Asset `a` changed at `t` (a recorded event): its parked positions
    /// are retried from `t` on.
    pub(super) fn wake(&mut self, a: usize, t: Micros) {
        if self.parked_on[a].is_empty() {
            return;
        }
        let list = std::mem::take(&mut self.parked_on[a]);
        for (j, &i) in list.iter().enumerate() {
            if let Some(&n) = list.get(j + PF_AHEAD) {
                self.prefetch_pos(n);
            }
            self.unpark(i, t, true);
        }
    }

    /// Counts position `i`'s retries before `bound` as repeats of its last
    /// block (each as [`Engine::attempt`] would: counted, not logged, the
    /// backoff doubled), then schedules the next one if `schedule`.
    pub(super) fn unpark(&mut self, i: u32, bound: Micros, schedule: bool) {
        let Some(mut at) = self.pos[i as usize].parked.take() else {
            return;
        };
        let b = self.pos[i as usize]
            .last_block
            .expect("a parked position keeps its block");
        let by = if b.unpayable { ALL_LIQUIDATORS } else { 0 };
        while at < bound && at <= self.end {
            self.block(i, at, b.reason, Some(by));
            at = self.next_retry(i, at, b.reason);
        }
        if schedule && at <= self.end {
            self.schedule_attempt(i, 0, at, at);
        }
    }

    /// The window is over: every parked position's repeats up to its end.
    pub(super) fn flush_parked(&mut self) {
        let after = Micros(self.end.0.saturating_add(1));
        // Every parked position is on the list of each of its assets (a
        // wake unparks the whole list): the lists hold them all, with
        // repeats and positions unparked since, which unpark skips. In
        // position order, as a pass over every position would be.
        let mut parked: Vec<u32> = self.parked_on.iter_mut().flat_map(std::mem::take).collect();
        super::sort_dedup(&mut parked, &mut self.scratch_bits, self.pos.len());
        for (j, &i) in parked.iter().enumerate() {
            if let Some(&n) = parked.get(j + PF_AHEAD) {
                self.prefetch_pos(n);
            }
            self.unpark(i, after, false);
        }
        debug_assert!(
            self.pos.iter().all(|p| p.parked.is_none()),
            "a parked position was on no asset's list"
        );
    }
}
