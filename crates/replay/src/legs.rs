//! The balances of every position in one flat vector: a position's
//! collateral legs, then its debt legs, side by side. A health evaluation
//! reads one contiguous run of memory instead of a position struct and two
//! separately allocated vectors (the replay touches positions in no useful
//! order, so each of those was a cache miss).

/// (asset index, amount in wad token units).
pub(crate) type Leg = (u16, i128);

/// Where a position's legs are: `legs[start..start + n_coll]` collateral,
/// then `n_debt` debt legs; room for `cap` legs in all.
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    start: u32,
    cap: u16,
    n_coll: u16,
    n_debt: u16,
}

impl Span {
    fn coll(self) -> std::ops::Range<usize> {
        let s = self.start as usize;
        s..s + self.n_coll as usize
    }
    fn debt(self) -> std::ops::Range<usize> {
        let s = self.start as usize + self.n_coll as usize;
        s..s + self.n_debt as usize
    }
    fn all(self) -> std::ops::Range<usize> {
        let s = self.start as usize;
        s..s + self.n_coll as usize + self.n_debt as usize
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Legs {
    legs: Vec<Leg>,
    spans: Vec<Span>,
}

impl Legs {
    pub(crate) fn with_capacity(positions: usize, legs: usize) -> Self {
        Legs {
            legs: Vec::with_capacity(legs),
            spans: Vec::with_capacity(positions),
        }
    }

    /// Appends a position; its index is the number of positions before.
    pub(crate) fn push(&mut self, coll: &[Leg], debt: &[Leg]) {
        let n = coll.len() + debt.len();
        let span = Span {
            start: u32::try_from(self.legs.len()).expect("fewer than 2^32 legs"),
            cap: u16::try_from(n).expect("fewer than 2^16 legs per position"),
            n_coll: coll.len() as u16,
            n_debt: debt.len() as u16,
        };
        self.legs.extend_from_slice(coll);
        self.legs.extend_from_slice(debt);
        self.spans.push(span);
    }

    /// Asks the CPU to fetch position `i`'s span now (see [`prefetch`]).
    pub(crate) fn prefetch_span(&self, i: u32) {
        if let Some(s) = self.spans.get(i as usize) {
            prefetch(s);
        }
    }

    /// Asks the CPU to fetch position `i`'s legs now; its span should have
    /// been fetched a while before.
    pub(crate) fn prefetch_legs(&self, i: u32) {
        let s = self.spans[i as usize];
        if let Some(l) = self.legs.get(s.start as usize) {
            prefetch(l);
            // a position's legs span two or three cache lines
            if let Some(l) = self.legs.get(s.start as usize + 2) {
                prefetch(l);
            }
        }
    }

    pub(crate) fn coll(&self, i: u32) -> &[Leg] {
        &self.legs[self.spans[i as usize].coll()]
    }

    pub(crate) fn debt(&self, i: u32) -> &[Leg] {
        &self.legs[self.spans[i as usize].debt()]
    }

    /// Collateral legs, then debt legs.
    pub(crate) fn all(&self, i: u32) -> &[Leg] {
        &self.legs[self.spans[i as usize].all()]
    }

    /// (collateral, debt).
    pub(crate) fn split(&self, i: u32) -> (&[Leg], &[Leg]) {
        let s = self.spans[i as usize];
        self.legs[s.all()].split_at(s.n_coll as usize)
    }

    /// (collateral, debt), mutable.
    pub(crate) fn split_mut(&mut self, i: u32) -> (&mut [Leg], &mut [Leg]) {
        let s = self.spans[i as usize];
        self.legs[s.all()].split_at_mut(s.n_coll as usize)
    }

    /// Drops the legs whose amount is zero, keeping the order of the rest.
    pub(crate) fn retain_nonzero(&mut self, i: u32) {
        let s = &mut self.spans[i as usize];
        let base = s.start as usize;
        let (mut w, mut n_coll) = (base, 0u16);
        for r in base..base + s.n_coll as usize {
            if self.legs[r].1 != 0 {
                self.legs[w] = self.legs[r];
                w += 1;
                n_coll += 1;
            }
        }
        let mut n_debt = 0u16;
        for r in base + s.n_coll as usize..base + (s.n_coll + s.n_debt) as usize {
            if self.legs[r].1 != 0 {
                self.legs[w] = self.legs[r];
                w += 1;
                n_debt += 1;
            }
        }
        s.n_coll = n_coll;
        s.n_debt = n_debt;
    }

    /// Removes and returns the debt legs.
    pub(crate) fn take_debt(&mut self, i: u32) -> Vec<Leg> {
        let s = &mut self.spans[i as usize];
        let out = self.legs[s.debt()].to_vec();
        s.n_debt = 0;
        out
    }

    /// Number of positions.
    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    /// Makes room for one more leg of position `i`: a full span moves to
    /// the end of the vector with room for more (the old slots are left
    /// unused).
    fn grow(&mut self, i: u32) {
        let s = self.spans[i as usize];
        let n = (s.n_coll + s.n_debt) as usize;
        if n == s.cap as usize {
            let cap = (2 * n).max(4);
            let start = self.legs.len();
            self.legs.extend_from_within(s.all());
            self.legs.resize(start + cap, (0, 0));
            let sp = &mut self.spans[i as usize];
            sp.start = u32::try_from(start).expect("fewer than 2^32 legs");
            sp.cap = u16::try_from(cap).expect("fewer than 2^16 legs per position");
        }
    }

    /// Appends a debt leg (after the existing ones), moving the span when
    /// it is full.
    pub(crate) fn push_debt(&mut self, i: u32, leg: Leg) {
        self.grow(i);
        let s = &mut self.spans[i as usize];
        let end = s.start as usize + (s.n_coll + s.n_debt) as usize;
        self.legs[end] = leg;
        s.n_debt += 1;
    }

    /// Appends a collateral leg (after the existing ones). A full span moves
    /// to the end of the vector with room for more.
    pub(crate) fn push_coll(&mut self, i: u32, leg: Leg) {
        self.grow(i);
        let s = &mut self.spans[i as usize];
        let at = s.start as usize + s.n_coll as usize;
        let end = s.start as usize + (s.n_coll + s.n_debt) as usize;
        self.legs.copy_within(at..end, at + 1);
        self.legs[at] = leg;
        s.n_coll += 1;
    }
}

/// A hint to load the cache line of `x`: the replay visits positions in an
/// order the hardware prefetcher cannot guess, but the trigger index knows
/// them a few positions ahead.
#[inline(always)]
pub(crate) fn prefetch<T>(x: &T) {
    prefetch_addr((x as *const T).cast());
}

/// [`prefetch`] of an address, which need not be valid memory.
#[inline(always)]
pub(crate) fn prefetch_addr(p: *const u8) {
    // The crate's one unsafe block (unsafe code is denied workspace-wide).
    #[cfg(target_arch = "x86_64")]
    #[allow(unsafe_code)]
    // SAFETY: a prefetch reads nothing architecturally (it cannot fault,
    // whatever the address) and SSE is part of the x86_64 baseline.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_keep_sides_apart() {
        let mut l = Legs::default();
        l.push(&[(1, 10), (2, 20)], &[(3, 30)]);
        l.push(&[(4, 40)], &[(5, 50), (6, 60)]);
        assert_eq!(l.coll(0), &[(1, 10), (2, 20)]);
        assert_eq!(l.debt(0), &[(3, 30)]);
        assert_eq!(l.all(1), &[(4, 40), (5, 50), (6, 60)]);

        l.split_mut(0).0[0].1 = 0;
        l.retain_nonzero(0);
        assert_eq!(l.split(0), (&[(2, 20)][..], &[(3, 30)][..]));

        // room left by the removed leg, then a move to the end
        l.push_coll(0, (7, 70));
        assert_eq!(l.split(0), (&[(2, 20), (7, 70)][..], &[(3, 30)][..]));
        l.push_coll(0, (8, 80));
        assert_eq!(l.coll(0), &[(2, 20), (7, 70), (8, 80)]);
        assert_eq!(l.debt(0), &[(3, 30)]);
        assert_eq!(l.all(1), &[(4, 40), (5, 50), (6, 60)]);

        l.push_debt(0, (9, 90));
        l.push_debt(0, (10, 100));
        assert_eq!(l.coll(0), &[(2, 20), (7, 70), (8, 80)]);
        assert_eq!(l.debt(0), &[(3, 30), (9, 90), (10, 100)]);
        // a position without legs grows from nothing
        l.push(&[], &[]);
        l.push_debt(2, (1, 1));
        l.push_coll(2, (2, 2));
        assert_eq!(l.split(2), (&[(2, 2)][..], &[(1, 1)][..]));
        assert_eq!(l.len(), 3);
        assert_eq!(l.all(1), &[(4, 40), (5, 50), (6, 60)]);

        assert_eq!(l.take_debt(1), vec![(5, 50), (6, 60)]);
        assert!(l.debt(1).is_empty());
        assert_eq!(l.coll(1), &[(4, 40)]);
    }
}
