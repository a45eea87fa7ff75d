//! The engine's agenda of derived events: a priority queue by
//! [`Scheduled::order`] (time, phase, then position or sequence).
//!
//! Most events arrive in order: a price move sends thousands of positions
//! below one, and their attempts are scheduled in position order for one
//! time. A binary heap pays a full sift-down per pop for them, through a
//! heap too large for the cache. So the agenda keeps a few sorted runs
//! beside the heap: an event goes to the end of a run whose last event is
//! not after it, else to the heap, and the smallest of the fronts comes
//! out (the heap's on a tie). Which events come out, and in which order,
//! is what a heap alone would give whenever orders are distinct (they are:
//! the order ends with the position or a sequence number).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use super::Scheduled;

/// Sorted runs kept beside the heap: the engine's streams of in-order
/// events (attempts a latency after a tick, re-attempts a block after a
/// liquidation, retries a backoff later) interleave, each in order.
const RUNS: usize = 4;

#[derive(Debug, Default)]
pub(super) struct Agenda {
    heap: BinaryHeap<Reverse<Scheduled>>,
    runs: [VecDeque<Scheduled>; RUNS],
}

impl Agenda {
    /// To the run whose last event is the latest not after it (an empty
    /// run if none), else to the heap.
    pub(super) fn push(&mut self, s: Scheduled) {
        let mut best: Option<(usize, u128)> = None;
        let mut empty = None;
        for (k, r) in self.runs.iter().enumerate() {
            match r.back() {
                Some(b) if b.order <= s.order => {
                    if best.is_none_or(|(_, o)| b.order > o) {
                        best = Some((k, b.order));
                    }
                }
                Some(_) => {}
                None => {
                    empty.get_or_insert(k);
                }
            }
        }
        match best.map(|b| b.0).or(empty) {
            Some(k) => self.runs[k].push_back(s),
            None => self.heap.push(Reverse(s)),
        }
    }

    /// Where the next event is: the heap (None) or a run, the heap's on a
    /// tie; None of both when the agenda is empty.
    fn front(&self) -> Option<Option<usize>> {
        let mut best: Option<(Option<usize>, u128)> = self.heap.peek().map(|h| (None, h.0.order));
        for (k, r) in self.runs.iter().enumerate() {
            if let Some(f) = r.front() {
                if best.is_none_or(|(_, o)| f.order < o) {
                    best = Some((Some(k), f.order));
                }
            }
        }
        best.map(|b| b.0)
    }

    pub(super) fn peek(&self) -> Option<&Scheduled> {
        match self.front()? {
            None => self.heap.peek().map(|r| &r.0),
            Some(k) => self.runs[k].front(),
        }
    }

    pub(super) fn pop(&mut self) -> Option<Scheduled> {
        match self.front()? {
            None => self.heap.pop().map(|r| r.0),
            Some(k) => self.runs[k].pop_front(),
        }
    }

    /// Events that come out soon: the first two of each run and the
    /// heap's first three in heap order (its front, then candidates after
    /// it), each list's front first, for fetching their data ahead.
    pub(super) fn soon(&self) -> impl Iterator<Item = (bool, &Scheduled)> {
        let runs = self.runs.iter().flat_map(|r| r.iter().take(2).enumerate());
        let heap = self
            .heap
            .as_slice()
            .iter()
            .take(3)
            .map(|r| &r.0)
            .enumerate();
        runs.chain(heap).map(|(j, s)| (j == 0, s))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{DynEv, Scheduled};
    use super::*;
    use rand::{Rng, SeedableRng};
    use shortfall_core::{Micros, Phase, ReplayKey};

    /// The same events in the same order as a binary heap alone, whatever
    /// mix of in-order and out-of-order pushes and pops.
    #[test]
    fn pops_as_a_heap_would() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for _ in 0..50 {
            let (mut a, mut h) = (Agenda::default(), BinaryHeap::new());
            let (mut seq, mut now) = (0u64, 0i64);
            for _ in 0..2_000 {
                if rng.gen_bool(0.6) {
                    // mostly later than anything queued, sometimes earlier
                    let ts = now + rng.gen_range(0..50);
                    let phase = if rng.gen_bool(0.5) {
                        Phase::Health
                    } else {
                        Phase::Liquidation
                    };
                    let key = ReplayKey::derived(Micros(ts), phase);
                    seq += rng.gen_range(1..3);
                    let s = || Scheduled::new(key, seq, DynEv::Health);
                    a.push(s());
                    h.push(Reverse(s()));
                } else {
                    let x = a.pop().map(|s| s.order);
                    let y = h.pop().map(|r| r.0);
                    assert_eq!(x, y.as_ref().map(|s| s.order));
                    if let Some(s) = y {
                        now = s.key().ts.0;
                    }
                }
                assert_eq!(a.peek().map(|s| s.order), h.peek().map(|r| r.0.order));
            }
            while let Some(y) = h.pop() {
                assert_eq!(a.pop().map(|s| s.order), Some(y.0.order));
            }
            assert!(a.pop().is_none());
        }
    }
}
