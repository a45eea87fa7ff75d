//! Per-asset trigger index: the price levels at which positions must be
//! re-evaluated, in logarithmic buckets 0.1% wide.
//!
//! A level fires when the price reaches its bucket, so it may fire up to one
//! bucket early (never late); an early firing only costs an evaluation. Stale
//! entries (a position re-armed since) are dropped by a generation check
//! when their bucket fires. Draining a bucket is O(entries), with no heap
//! sifting, and entries are 8 bytes.

use std::collections::BTreeMap;

/// Buckets per unit of ln(price): ln(1.001)^-1.
const K: f64 = 1_000.499_833_375;

fn bucket(level: f64) -> Option<i32> {
    if level.is_nan() || level <= 0.0 {
        return None;
    }
    bucket_ln(level.ln())
}

/// The bucket of the level whose natural log is `ln` (None for a level of
/// zero, -inf).
fn bucket_ln(ln: f64) -> Option<i32> {
    if ln.is_nan() || ln == f64::NEG_INFINITY {
        return None;
    }
    if ln == f64::INFINITY {
        return Some(i32::MAX);
    }
    let v = ln * K;
    if let Some(f) = floor_small(v) {
        // |f| < 1e9 fits an i32
        return Some(f as i32);
    }
    Some(
        v.floor()
            .clamp(i32::MIN as f64 + 1.0, i32::MAX as f64 - 1.0) as i32,
    )
}

/// `x.floor()` for |x| < 1e9 without the libm call (SSE2 has no rounding
/// instruction): truncate, then step down for a negative fraction; exact
/// in that range. None outside it or for NaN.
#[inline]
pub(crate) fn floor_small(x: f64) -> Option<f64> {
    // (written so that NaN fails the test too)
    if x.abs().partial_cmp(&1e9) != Some(std::cmp::Ordering::Less) {
        return None;
    }
    let t = x as i64 as f64;
    Some(if t > x { t - 1.0 } else { t })
}

/// Buckets of one direction: a dense window of per-bucket lists around the
/// first level seen (cheap pushes, no tree search) and an ordered map for
/// buckets outside it (extreme levels).
#[derive(Debug, Default)]
struct Side {
    /// Bucket of `slots[0]`.
    base: i32,
    slots: Vec<Vec<(u32, u32)>>,
    /// Occupied slot range (indices into `slots`), `lo > hi` when empty.
    lo: usize,
    hi: usize,
    far: BTreeMap<i32, Vec<(u32, u32)>>,
}

/// Half-width of the dense window: ln(1.001)^-1 * ln(1e6) buckets each way
/// covers prices within a factor of 1e6 of the first level.
const WINDOW: i64 = 14_000;

impl Side {
    #[inline]
    fn slot(&mut self, b: i32) -> Option<usize> {
        if self.slots.is_empty() {
            if b == i32::MAX || b == i32::MIN {
                return None;
            }
            self.base = b.saturating_sub(WINDOW as i32);
            self.slots.resize_with(2 * WINDOW as usize + 1, Vec::new);
            self.lo = usize::MAX;
            self.hi = 0;
        }
        let k = b as i64 - self.base as i64;
        if (0..self.slots.len() as i64).contains(&k) {
            Some(k as usize)
        } else {
            None
        }
    }

    #[inline]
    fn push(&mut self, b: i32, e: (u32, u32)) {
        match self.slot(b) {
            Some(k) => {
                self.slots[k].push(e);
                if self.lo > self.hi {
                    self.lo = k;
                    self.hi = k;
                } else {
                    self.lo = self.lo.min(k);
                    self.hi = self.hi.max(k);
                }
            }
            None => self.far.entry(b).or_default().push(e),
        }
    }

    fn take(v: &mut Vec<(u32, u32)>, out: &mut Vec<(u32, u32)>) -> usize {
        let n = v.len();
        out.extend_from_slice(v);
        if v.capacity() > 1024 {
            *v = Vec::new();
        } else {
            v.clear();
        }
        n
    }

    /// Every entry with bucket >= b.
    fn fire_at_or_above(&mut self, b: i32, out: &mut Vec<(u32, u32)>) -> usize {
        let mut n = 0;
        if !self.far.is_empty() {
            for v in self.far.split_off(&b).into_values() {
                n += v.len();
                out.extend(v);
            }
        }
        if self.lo <= self.hi && !self.slots.is_empty() {
            let k = b as i64 - self.base as i64;
            let from = k.max(self.lo as i64);
            if from <= self.hi as i64 {
                for s in from as usize..=self.hi {
                    n += Self::take(&mut self.slots[s], out);
                }
                if from as usize <= self.lo {
                    self.lo = usize::MAX;
                    self.hi = 0;
                } else {
                    self.hi = from as usize - 1;
                }
            }
        }
        n
    }

    /// Every entry with bucket <= b.
    fn fire_at_or_below(&mut self, b: i32, out: &mut Vec<(u32, u32)>) -> usize {
        let mut n = 0;
        if !self.far.is_empty() {
            let rest = self.far.split_off(&b.saturating_add(1));
            for v in std::mem::replace(&mut self.far, rest).into_values() {
                n += v.len();
                out.extend(v);
            }
        }
        if self.lo <= self.hi && !self.slots.is_empty() {
            let k = b as i64 - self.base as i64;
            let to = k.min(self.hi as i64);
            if to >= self.lo as i64 {
                for s in self.lo..=to as usize {
                    n += Self::take(&mut self.slots[s], out);
                }
                if to as usize >= self.hi {
                    self.lo = usize::MAX;
                    self.hi = 0;
                } else {
                    self.lo = to as usize + 1;
                }
            }
        }
        n
    }
}

/// Down triggers fire when the price falls to their level, up triggers when
/// it rises to it. Entries are (position, generation).
#[derive(Debug, Default)]
pub(crate) struct Triggers {
    down: Side,
    up: Side,
    pub(crate) len: usize,
}

/// Levels are given as their natural logs: the engine adds the logs of a
/// price and of a health ratio instead of taking a log per level.
impl Triggers {
    /// Fire when price <= the level `e^ln` (a level of 0 never fires).
    pub(crate) fn push_down(&mut self, ln: f64, pos: u32, gen: u32) {
        if let Some(b) = bucket_ln(ln) {
            self.down.push(b, (pos, gen));
            self.len += 1;
        }
    }

    /// Fire when price >= the level `e^ln` (an infinite level never fires,
    /// a level of 0 fires at once).
    pub(crate) fn push_up(&mut self, ln: f64, pos: u32, gen: u32) {
        if ln == f64::INFINITY || ln.is_nan() {
            return;
        }
        let b = bucket_ln(ln).unwrap_or(i32::MIN);
        self.up.push(b, (pos, gen));
        self.len += 1;
    }

    /// Removes and returns every entry whose bucket the price reached.
    pub(crate) fn fire(&mut self, price: f64, out: &mut Vec<(u32, u32)>) {
        let b = bucket(price).unwrap_or(i32::MIN);
        self.len -= self.down.fire_at_or_above(b, out);
        self.len -= self.up.fire_at_or_below(b, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_at_or_before_the_level_never_after() {
        let mut t = Triggers::default();
        t.push_down(100f64.ln(), 1, 0);
        t.push_up(200f64.ln(), 2, 0);
        t.push_down(0f64.ln(), 3, 0); // never
        let mut out = Vec::new();
        t.fire(150.0, &mut out);
        assert!(out.is_empty());
        t.fire(100.05, &mut out); // same 0.1% bucket: may fire early
        t.fire(99.0, &mut out);
        assert_eq!(out, vec![(1, 0)]);
        out.clear();
        t.fire(200.0, &mut out);
        assert_eq!(out, vec![(2, 0)]);
        assert_eq!(t.len, 0);
    }

    /// The ordered-map index this replaced, as a reference.
    #[derive(Default)]
    struct Reference {
        down: BTreeMap<i32, Vec<(u32, u32)>>,
        up: BTreeMap<i32, Vec<(u32, u32)>>,
    }

    impl Reference {
        fn push_down(&mut self, level: f64, e: (u32, u32)) {
            if let Some(b) = bucket(level) {
                self.down.entry(b).or_default().push(e);
            }
        }
        fn push_up(&mut self, level: f64, e: (u32, u32)) {
            if level.is_infinite() || level.is_nan() {
                return;
            }
            let b = bucket(level).unwrap_or(i32::MIN);
            self.up.entry(b).or_default().push(e);
        }
        fn fire(&mut self, price: f64, out: &mut Vec<(u32, u32)>) {
            let b = bucket(price).unwrap_or(i32::MIN);
            for v in self.down.split_off(&b).into_values() {
                out.extend(v);
            }
            let rest = self.up.split_off(&b.saturating_add(1));
            for v in std::mem::replace(&mut self.up, rest).into_values() {
                out.extend(v);
            }
        }
    }

    #[test]
    fn same_firings_as_the_ordered_map() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for round in 0..20 {
            let mut t = Triggers::default();
            let mut r = Reference::default();
            let mut px = 100.0f64;
            for step in 0..3_000u32 {
                let level = match rng.gen_range(0..20) {
                    0 => f64::INFINITY,
                    1 => 0.0,
                    2 => px * 1e-9,
                    3 => px * 1e9,
                    4 => f64::MIN_POSITIVE,
                    _ => px * rng.gen_range(0.9..1.1),
                };
                let e = (step, round);
                if rng.gen_bool(0.5) {
                    t.push_down(level.ln(), e.0, e.1);
                    r.push_down(level, e);
                } else {
                    t.push_up(level.ln(), e.0, e.1);
                    r.push_up(level, e);
                }
                if rng.gen_range(0..10) == 0 {
                    px *= rng.gen_range(0.97..1.03);
                    let p = match rng.gen_range(0..200) {
                        0 => f64::INFINITY,
                        1 => 0.0,
                        _ => px,
                    };
                    let (mut a, mut b) = (Vec::new(), Vec::new());
                    t.fire(p, &mut a);
                    r.fire(p, &mut b);
                    a.sort_unstable();
                    b.sort_unstable();
                    assert_eq!(a, b);
                }
            }
            let left: usize = r.down.values().chain(r.up.values()).map(Vec::len).sum();
            assert_eq!(t.len, left);
        }
    }
}
