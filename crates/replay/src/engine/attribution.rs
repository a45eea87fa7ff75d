//! Shortfall attribution: each position's loss split by cause (see the
//! crate documentation).

use super::*;

/// A position's legs at the start of the run.
pub(super) struct InitLegs<'a> {
    pub(super) coll: &'a [Leg],
    pub(super) debt: &'a [Leg],
}

impl Engine<'_> {
    /// Splits a shortfall into causes (see the crate docs for the method).
    pub(super) fn attribute(
        &self,
        i: usize,
        init: &InitLegs<'_>,
        s: Wad,
        mkt_f: &[Vec<f64>],
        orc_f: &[Vec<f64>],
    ) -> Attribution {
        let p = &self.pos[i];
        let maker = !self.preset.is_fixed_spread();
        let mat = self.sc.policy.maker.mat.0;
        let lt = |a: u16| -> i128 {
            if maker {
                mul_div_down(WAD, WAD, mat).unwrap_or(0)
            } else {
                self.assets[a as usize].params.liquidation_threshold.0
            }
        };
        let bonus = if maker {
            self.sc.policy.maker.chop.0
        } else {
            init.coll
                .iter()
                .map(|(a, _)| self.assets[*a as usize].params.liquidation_bonus.0)
                .max()
                .unwrap_or(WAD)
        };
        let loss = |ti: usize| -> i128 {
            let (mut c, mut d) = (0i128, 0i128);
            for (a, x) in init.coll {
                match self.mkt_ticks[*a as usize][ti] {
                    Some(px) => c += wmul(*x, px.0),
                    None => return 0,
                }
            }
            for (a, x) in init.debt {
                match self.mkt_ticks[*a as usize][ti] {
                    Some(px) => d += wmul(*x, px.0),
                    None => return 0,
                }
            }
            (d - mul_div_down(c, WAD, bonus).unwrap_or(0)).max(0)
        };
        // First crossing below 1 of the health at market / oracle prices
        // (initial legs). Searched in f64 on a 60-tick stride, then refined
        // tick by tick inside the first stride window that shows a crossing
        // (a dip shorter than the stride can be missed).
        let cf: Vec<(usize, f64, f64)> = init
            .coll
            .iter()
            .map(|(a, x)| (*a as usize, *x as f64, lt(*a) as f64 / WAD as f64))
            .collect();
        let df: Vec<(usize, f64)> = init
            .debt
            .iter()
            .map(|(a, x)| (*a as usize, *x as f64))
            .collect();
        let below = |ticks: &[Vec<f64>], ti: usize| -> bool {
            let c: f64 = cf.iter().map(|(a, x, l)| x * ticks[*a][ti] * l).sum();
            let d: f64 = df.iter().map(|(a, x)| x * ticks[*a][ti]).sum();
            c < d
        };
        let first = |ticks: &[Vec<f64>]| -> Option<usize> {
            let n = self.ticks.len();
            const STRIDE: usize = 60;
            let mut prev = 0usize;
            let mut ti = 0usize;
            while ti < n {
                if below(ticks, ti) {
                    return (prev..=ti).find(|&j| below(ticks, j));
                }
                prev = ti + 1;
                ti += STRIDE;
            }
            if prev < n {
                return (prev..n).find(|&j| below(ticks, j));
            }
            None
        };
        let tm = first(mkt_f);
        let to = first(orc_f);
        let mut out = Attribution::default();
        let gap = Wad(tm.map(loss).unwrap_or(0)).min(s);
        let oracle = match (tm, to) {
            (Some(m), Some(o)) => Wad((loss(o) - loss(m)).max(0)),
            (Some(_), None) => s - gap,
            _ => Wad::ZERO,
        }
        .min(s - gap);
        out.price_gap_usd = gap;
        out.oracle_usd = oracle;
        let rest = s - gap - oracle;
        let b = p.blocks;
        let total: i128 = b[..4].iter().map(|x| *x as i128).sum();
        if total == 0 {
            out.parameters_usd = rest;
            return out;
        }
        let mut parts = [0i128; 4];
        for c in 0..4 {
            parts[c] = mul_div_down(rest.0, b[c] as i128, total).unwrap_or(0);
        }
        let assigned: i128 = parts.iter().sum();
        let top = (0..4)
            .max_by(|x, y| b[*x].cmp(&b[*y]).then(y.cmp(x)))
            .unwrap_or(2);
        parts[top] += rest.0 - assigned;
        out.liquidator_capacity_usd = Wad(parts[0]);
        out.slippage_usd = Wad(parts[1]);
        out.parameters_usd = Wad(parts[2]);
        out.oracle_usd += Wad(parts[3]);
        out
    }

    /// Largest fall of the protocol's reserves from a running peak: the
    /// reserves start at `accounting.insurance_usd`, gain protocol fees when
    /// they are paid and lose bad debt when it is realised; the shortfall
    /// still open at the end (`bad` minus what was realised) is lost at the
    /// window's end. Same-time flows net before the peak is taken.
    pub(super) fn reserves_drawdown(&self, bad: Wad) -> Wad {
        let realised = self
            .bad_debt_events
            .iter()
            .fold(Wad::ZERO, |s, (_, x)| s + *x);
        let mut flows: Vec<(Micros, Wad)> = self.fee_events.clone();
        flows.extend(self.bad_debt_events.iter().map(|(t, x)| (*t, -*x)));
        flows.push((self.end, -(bad - realised).max(Wad::ZERO)));
        flows.sort_by_key(|f| f.0);
        let mut level = self.sc.accounting.insurance_usd;
        let (mut peak, mut worst) = (level, Wad::ZERO);
        let mut i = 0;
        while i < flows.len() {
            let t = flows[i].0;
            while i < flows.len() && flows[i].0 == t {
                level += flows[i].1;
                i += 1;
            }
            peak = peak.max(level);
            worst = worst.max(peak - level);
        }
        worst
    }
}
