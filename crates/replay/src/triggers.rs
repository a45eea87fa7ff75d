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
    if level.is_infinite() {
        return Some(i32::MAX);
    }
    Some(
        (level.ln() * K)
            .floor()
            .clamp(i32::MIN as f64 + 1.0, i32::MAX as f64 - 1.0) as i32,
    )
}

/// Down triggers fire when the price falls to their level, up triggers when
/// it rises to it. Entries are (position, generation).
#[derive(Debug, Default)]
pub(crate) struct Triggers {
    down: BTreeMap<i32, Vec<(u32, u32)>>,
    up: BTreeMap<i32, Vec<(u32, u32)>>,
    pub(crate) len: usize,
}

impl Triggers {
    /// Fire when price <= level (a level <= 0 never fires).
    pub(crate) fn push_down(&mut self, level: f64, pos: u32, gen: u32) {
        if let Some(b) = bucket(level) {
            self.down.entry(b).or_default().push((pos, gen));
            self.len += 1;
        }
    }

    /// Fire when price >= level (an infinite level never fires).
    pub(crate) fn push_up(&mut self, level: f64, pos: u32, gen: u32) {
        if level.is_infinite() || level.is_nan() {
            return;
        }
        let b = bucket(level).unwrap_or(i32::MIN);
        self.up.entry(b).or_default().push((pos, gen));
        self.len += 1;
    }

    /// Removes and returns every entry whose bucket the price reached.
    pub(crate) fn fire(&mut self, price: f64, out: &mut Vec<(u32, u32)>) {
        let b = bucket(price).unwrap_or(i32::MIN);
        let fired = self.down.split_off(&b);
        for v in fired.into_values() {
            self.len -= v.len();
            out.extend(v);
        }
        let rest = self.up.split_off(&b.saturating_add(1));
        let fired = std::mem::replace(&mut self.up, rest);
        for v in fired.into_values() {
            self.len -= v.len();
            out.extend(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_at_or_before_the_level_never_after() {
        let mut t = Triggers::default();
        t.push_down(100.0, 1, 0);
        t.push_up(200.0, 2, 0);
        t.push_down(0.0, 3, 0); // never
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
}
