//! Health factors bounded in floating point, so that most re-evaluations
//! need no exact (256-bit integer) health.
//!
//! A trigger asks for a position's band (below one, at risk, performing)
//! far more often than the band changes. The protocols' health is a ratio
//! of sums of truncated integer products; in `f64` the same sums are a few
//! multiplications, and every truncation loses less than one unit. So
//! [`Engine::health_bounds`] returns an interval that provably holds the
//! exact health: each floating-point result within [`REL`] (a few
//! operations of 2^-53 each lose far less), each integer truncation or
//! half-up rounding within its unit, added as absolute slack. When the
//! interval lies inside one band the band is certain and the exact health
//! is not computed; near a bound, or when a figure is too large for the
//! bound to be sound, the engine computes it exactly as before. The
//! outputs do not change: a band is never decided by an estimate unless
//! the estimate proves it.

use shortfall_core::money::WAD;

use crate::scenario::Preset;
use crate::triggers::floor_small;

use super::{Engine, BAND_AT_RISK, BAND_BELOW_ONE, BAND_OK};

/// Relative error allowed for each floating-point figure (sums and
/// products of a few terms: each operation is within 2^-53 ~ 1.1e-16).
const REL: f64 = 1e-12;

/// Figures past this are left to the exact path (the integer math's own
/// overflow handling then decides).
const LIMIT: f64 = 1e35;

const WAD_F: f64 = 1e18;

/// `x >= 0` as f64, within a few ulps (two exact conversions and one
/// rounded sum; no 128-bit library call).
#[inline]
fn approx(x: i128) -> f64 {
    debug_assert!(x >= 0);
    let x = x as u128;
    ((x >> 64) as u64 as f64) * 18_446_744_073_709_551_616.0 + (x as u64 as f64)
}

/// Per asset, a leg's value in the health's units as `amount * k` (the
/// amount in wad token units) within `e` units, for collateral and for
/// debt; `lt`: Aave's liquidation threshold in bps. Recomputed with the
/// asset's reserve ([`Engine::refresh_reserve`]).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct LegEst {
    /// False: no sound estimate (unpriced, or figures past [`LIMIT`]).
    ok: bool,
    coll_k: f64,
    coll_e: f64,
    debt_k: f64,
    debt_e: f64,
    /// Aave's threshold in bps (an integer, exact in f64; 0 elsewhere).
    lt: f64,
}

/// A health factor as the triggers need it: its value (infinite without
/// debt) and, when known, how far the exact health can stray relatively
/// from one linear in the prices ([`Engine::relative_slack`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct TriggerHealth {
    pub(super) hf: f64,
    pub(super) slack: Option<f64>,
}

impl TriggerHealth {
    /// From an exact health (wad); `i128::MAX`: no debt.
    pub(super) fn exact(h: i128) -> Self {
        TriggerHealth {
            hf: if h == i128::MAX {
                f64::INFINITY
            } else {
                super::to_f64(h) / WAD as f64
            },
            slack: None,
        }
    }
}

/// A position's health as sums of leg values ([`Engine::sums`]).
#[derive(Debug, Default, Clone, Copy)]
struct Sums {
    c: f64,
    ce: f64,
    acc: f64,
    lt_min: f64,
    lt_max: f64,
    d: f64,
    de: f64,
}

impl Sums {
    /// The relative slack of Aave's average threshold, floored to a basis
    /// point: none when every counted collateral has one threshold (the
    /// average is that threshold exactly).
    fn avg_slack(&self) -> f64 {
        if self.lt_min < self.lt_max {
            1.0 / self.lt_min
        } else {
            0.0
        }
    }
}

impl Engine<'_> {
    /// The estimate coefficients of asset `a` at its current reserve.
    pub(super) fn leg_est(&self, a: usize) -> LegEst {
        let st = &self.assets[a];
        let Some(answer) = st.oracle.answer else {
            return LegEst::default();
        };
        if answer.0 < 0 {
            return LegEst::default();
        }
        let ud = approx(st.unit_div);
        let est = match self.preset {
            Preset::CompoundV2 => {
                // Collateral: mul_exp(ttd, ctokens), ctokens = floor(base *
                // 1e18 / rate) (base itself when the rate is one), base =
                // floor(x / ud): the value is ttd * x / (ud * rate), less at
                // most ttd / rate (base), ttd / 1e18 (ctokens) and 1.
                let rate = st.params.exchange_rate.0;
                if st.comp_ttd < 0 || rate <= 0 {
                    return LegEst::default();
                }
                let (ttd, rate) = (approx(st.comp_ttd), approx(rate));
                // Debt: mul_exp(answer * ud, floor(x / ud)): answer * x /
                // 1e18, less at most answer * ud / 1e18 and 1.
                if answer.0.checked_mul(st.unit_div).is_none() {
                    return LegEst::default();
                }
                let px = approx(answer.0);
                LegEst {
                    ok: true,
                    coll_k: ttd / (ud * rate),
                    coll_e: ttd / rate + ttd / WAD_F + 1.0,
                    debt_k: px / WAD_F,
                    debt_e: px * ud / WAD_F + 1.0,
                    lt: 0.0,
                }
            }
            Preset::AaveV2 | Preset::AaveV3 | Preset::AaveV33 => {
                // in_base(floor(x / ud)) = floor(base * price / unit): the
                // value is x * price / (ud * unit), less at most price /
                // unit (base) and 1, on either side.
                let r = st.res;
                if r.price < 0 || r.unit <= 0 || !(0..=1_000_000_000).contains(&r.lt_bps) {
                    return LegEst::default();
                }
                let (px, unit) = (approx(r.price), approx(r.unit));
                let k = px / (ud * unit);
                let e = px / unit + 1.0;
                LegEst {
                    ok: true,
                    coll_k: k,
                    coll_e: e,
                    debt_k: k,
                    debt_e: e,
                    lt: r.lt_bps as f64,
                }
            }
            Preset::MakerFlip | Preset::MakerClip => {
                // wmul(x, answer): x * answer / 1e18, less at most 1.
                let k = approx(answer.0) / WAD_F;
                LegEst {
                    ok: true,
                    coll_k: k,
                    coll_e: 1.0,
                    debt_k: k,
                    debt_e: 1.0,
                    lt: 0.0,
                }
            }
            Preset::None => return LegEst::default(),
        };
        let finite = [est.coll_k, est.coll_e, est.debt_k, est.debt_e]
            .iter()
            .all(|v| v.is_finite() && *v < LIMIT);
        LegEst { ok: finite, ..est }
    }

    /// Position `i`'s health as sums, as the protocol forms it: the
    /// collateral's value `c` (for Aave, only collateral with a threshold),
    /// the debt's `d`, their absolute slacks `ce`, `de`, and for Aave the
    /// threshold-weighted collateral `acc` and the thresholds' range; None
    /// when a leg has no sound estimate.
    #[inline]
    fn sums(&self, i: u32) -> Option<Sums> {
        let (coll, debt) = self.legs.split(i);
        let mut s = Sums {
            lt_min: f64::INFINITY,
            ..Sums::default()
        };
        for (a, x) in debt {
            let est = &self.assets[*a as usize].est;
            if !est.ok || *x < 0 {
                return None;
            }
            s.d += approx(*x) * est.debt_k;
            s.de += est.debt_e;
        }
        let aave = !matches!(
            self.preset,
            Preset::CompoundV2 | Preset::MakerFlip | Preset::MakerClip
        );
        for (a, x) in coll {
            let est = &self.assets[*a as usize].est;
            if !est.ok || *x < 0 {
                return None;
            }
            if aave && (est.lt == 0.0 || *x == 0) {
                // Aave counts only collateral with a threshold.
                continue;
            }
            let v = approx(*x) * est.coll_k;
            s.c += v;
            s.ce += est.coll_e;
            s.acc += v * est.lt;
            s.lt_min = s.lt_min.min(est.lt);
            s.lt_max = s.lt_max.max(est.lt);
        }
        Some(s)
    }

    /// How far position `i`'s exact health can stray, relatively, from a
    /// health linear in its prices (the truncations' slack over the sums
    /// it is made of; for Aave with collateral of different thresholds,
    /// the floored average threshold's basis point too); 1 when unknown.
    /// [`Engine::arm`] widens the trigger margin by it.
    pub(super) fn relative_slack(&self, i: u32) -> f64 {
        match self.sums(i) {
            Some(s) if s.c > 0.0 && s.d > 0.0 => (s.ce / s.c + s.de / s.d + s.avg_slack()).min(1.0),
            _ => 1.0,
        }
    }

    /// An interval `[lo, hi]` (wad units) holding position `i`'s exact
    /// health ([`Engine::health`]), its midpoint and its relative slack
    /// (as [`Engine::relative_slack`]); None when it has no
    /// sound estimate (unpriced, no debt, an empty sum, a figure too large,
    /// or Aave's average threshold not certain), where the caller computes
    /// it exactly.
    pub(super) fn health_bounds(&self, i: u32) -> Option<(f64, f64, f64, f64)> {
        // The bounds below multiply by reciprocals instead of dividing (a
        // division's latency is most of an estimate): with relative slacks
        // sc, sd <= 1/2, c / d lies in [r (1 - sc)(1 - sd), r (1 + sc)(1 +
        // 2 sd)] for r = c * (1 / d), as 1 / (1 + x) >= 1 - x and
        // 1 / (1 - x) <= 1 + 2x.
        let s = self.sums(i)?;
        let Sums {
            c,
            ce,
            acc,
            lt_min,
            lt_max,
            d,
            de,
        } = s;
        if d <= 0.0 || d > LIMIT {
            return None;
        }
        let inv_d = 1.0 / d;
        let sd = de * inv_d + REL;
        if sd > 0.5 {
            return None;
        }
        if c <= 0.0 || c > LIMIT {
            return None;
        }
        let inv_c = 1.0 / c;
        let sc = ce * inv_c + REL;
        if sc > 0.5 {
            return None;
        }
        let slack = sc + sd + s.avg_slack();
        let (d_lo, d_hi) = (1.0 - sd, 1.0 + 2.0 * sd);
        let (c_lo, c_hi) = (c * (1.0 - sc), c * (1.0 + sc));
        let (lo, hi) = match self.preset {
            Preset::CompoundV2 => {
                // floor(sc * 1e18 / sb)
                let r = WAD_F * inv_d;
                (c_lo * r * d_lo - 1.0, c_hi * r * d_hi)
            }
            Preset::MakerFlip | Preset::MakerClip => {
                // floor(floor(cv * 1e18 / mat) * 1e18 / dv)
                let mat = self.sc.policy.maker.mat.0;
                if mat <= 0 {
                    return None;
                }
                let inv_mat = WAD_F / approx(mat) * (1.0 + REL);
                let (s_lo, s_hi) = (c_lo * inv_mat * (1.0 - 2.0 * REL) - 1.0, c_hi * inv_mat);
                if s_hi > LIMIT {
                    return None;
                }
                let r = WAD_F * inv_d;
                (s_lo.max(0.0) * r * d_lo - 1.0, s_hi * r * d_hi)
            }
            _ => {
                // Aave: wad_div(percent_mul(total_c, avg_lt), total_d), both
                // rounded half up; avg_lt = floor(sum(b * lt) / total_c).
                let avg = if lt_min == lt_max {
                    // sum(b * lt) / sum(b) = lt exactly.
                    lt_min
                } else {
                    // The weights move by at most their slack: the average
                    // by (max - min) * slack / (1 - slack).
                    let a = acc * inv_c;
                    let wobble = (lt_max - lt_min) * sc * (1.0 + 2.0 * sc) + a * REL;
                    let (f_lo, f_hi) = (floor_small(a - wobble)?, floor_small(a + wobble)?);
                    if f_lo != f_hi {
                        return None;
                    }
                    f_lo
                };
                let (n_lo, n_hi) = (c_lo * avg * 1e-4 - 0.5, c_hi * avg * 1e-4 + 0.5);
                let r = WAD_F * inv_d;
                (n_lo.max(0.0) * r * d_lo - 0.5, n_hi * r * d_hi + 0.5)
            }
        };
        if !(lo.is_finite() && hi.is_finite()) {
            return None;
        }
        // The products above are rounded too.
        let (lo, hi) = (lo * (1.0 - REL), hi * (1.0 + REL));
        Some((lo, hi, (lo + hi) * 0.5, slack.min(1.0)))
    }

    /// Position `i`'s band when [`Engine::health_bounds`] proves it, and
    /// its estimated health factor (for the trigger levels).
    pub(super) fn estimated_band(&self, i: u32) -> Option<(u8, TriggerHealth)> {
        let (lo, hi, mid, slack) = self.health_bounds(i)?;
        // The warning health as f64 rounded outward (it need not be exact
        // in binary).
        let w = approx(self.sc.policy.warn_health.0.max(0));
        let (w_lo, w_hi) = (w * (1.0 - 1e-14), w * (1.0 + 1e-14));
        let band = if hi < WAD_F {
            BAND_BELOW_ONE
        } else if lo >= WAD_F && hi < w_lo {
            BAND_AT_RISK
        } else if lo >= w_hi && lo >= WAD_F {
            BAND_OK
        } else {
            return None;
        };
        #[cfg(feature = "verify-estimates")]
        self.check_bounds(i, (lo, hi), band);
        Some((
            band,
            TriggerHealth {
                hf: mid * 1e-18,
                slack: Some(slack),
            },
        ))
    }

    /// Test builds (feature `verify-estimates`): the exact health lies in
    /// the bounds and has the band they proved.
    #[cfg(feature = "verify-estimates")]
    fn check_bounds(&self, i: u32, (lo, hi): (f64, f64), band: u8) {
        let h = self.health(i).expect("a bounded health is priced");
        let warn = self.sc.policy.warn_health.0;
        let exact = if h < WAD {
            BAND_BELOW_ONE
        } else if h < warn {
            BAND_AT_RISK
        } else {
            BAND_OK
        };
        assert!(
            exact == band && (h == i128::MAX || (lo <= h as f64 && h as f64 <= hi)),
            "health bounds [{lo}, {hi}] (band {band}) miss the exact health {h} (band {exact}) of position {i}"
        );
    }
}
