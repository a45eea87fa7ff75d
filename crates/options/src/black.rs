//! Black-76 on the forward, and the inverse (coin-settled) valuation.
//!
//! Deribit prices its BTC and ETH options with Black-76 on the forward of
//! the option's expiry (a listed future, or the synthetic `SYN.*` forward
//! where no future is listed), with no discounting, and quotes them in coin:
//! the USD value divided by that forward. Checked on the real chain of
//! 2026-02-05 21:29 (see `tests/pricing.rs`): `mark_price` matches
//! `black76 / forward` to a median relative 5e-4 (the file's IVs have four
//! decimals), against 6e-3 for `black76 / index`. The chain's `delta` is
//! the Black-76 forward delta `N(d1)` (`N(d1) - 1` for puts) and its `vega`
//! is USD per one vol point (`F φ(d1) √T / 100`).
//!
//! All of this is f64: pricing and implied volatility are numerical
//! analysis. Amounts become fixed-point money only at the boundary in
//! [`crate::money`].

use serde::{Deserialize, Serialize};

/// Call or put.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptionKind {
    Call,
    Put,
}

impl OptionKind {
    /// Stable name, as in the chain files (`call`, `put`).
    pub fn as_str(self) -> &'static str {
        match self {
            OptionKind::Call => "call",
            OptionKind::Put => "put",
        }
    }

    /// Inverse of [`OptionKind::as_str`]; also takes Deribit's `C`/`P`.
    pub fn parse(s: &str) -> Option<OptionKind> {
        match s {
            "call" | "C" | "c" => Some(OptionKind::Call),
            "put" | "P" | "p" => Some(OptionKind::Put),
            _ => None,
        }
    }
}

/// Bad pricing input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PricingError {
    #[error("forward {0} is not a positive finite number")]
    Forward(f64),
    #[error("strike {0} is not a positive finite number")]
    Strike(f64),
    #[error("time to expiry {0} (years) is negative or not finite")]
    Expiry(f64),
    #[error("volatility {0} is negative or not finite")]
    Vol(f64),
}

/// Standard normal cumulative distribution, `0.5 erfc(-x/√2)` (accurate
/// in both tails).
pub fn norm_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x * std::f64::consts::FRAC_1_SQRT_2)
}

/// Standard normal density.
pub fn norm_pdf(x: f64) -> f64 {
    const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
    INV_SQRT_2PI * (-0.5 * x * x).exp()
}

/// One option's forward, strike and time to expiry (years), validated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Black76 {
    forward: f64,
    strike: f64,
    t: f64,
}

impl Black76 {
    /// `forward` and `strike` in USD (positive, finite), `t` in years (zero
    /// or more: at zero an option is worth its intrinsic value).
    pub fn new(forward: f64, strike: f64, t: f64) -> Result<Self, PricingError> {
        if !(forward.is_finite() && forward > 0.0) {
            return Err(PricingError::Forward(forward));
        }
        if !(strike.is_finite() && strike > 0.0) {
            return Err(PricingError::Strike(strike));
        }
        if !(t.is_finite() && t >= 0.0) {
            return Err(PricingError::Expiry(t));
        }
        Ok(Black76 { forward, strike, t })
    }

    pub fn forward(&self) -> f64 {
        self.forward
    }

    pub fn strike(&self) -> f64 {
        self.strike
    }

    pub fn t(&self) -> f64 {
        self.t
    }

    /// The same option on another forward (a price scenario).
    pub fn with_forward(&self, forward: f64) -> Result<Self, PricingError> {
        Black76::new(forward, self.strike, self.t)
    }

    /// Log-moneyness on the forward, `ln(K/F)`.
    pub fn log_moneyness(&self) -> f64 {
        (self.strike / self.forward).ln()
    }

    /// Intrinsic value on the forward, USD.
    pub fn intrinsic(&self, kind: OptionKind) -> f64 {
        match kind {
            OptionKind::Call => (self.forward - self.strike).max(0.0),
            OptionKind::Put => (self.strike - self.forward).max(0.0),
        }
    }

    /// The no-arbitrage upper bound of the undiscounted price: `F` for a
    /// call, `K` for a put.
    pub fn upper_bound(&self, kind: OptionKind) -> f64 {
        match kind {
            OptionKind::Call => self.forward,
            OptionKind::Put => self.strike,
        }
    }

    /// `(d1, d2)` for volatility `vol`; `None` when `vol √T` is zero.
    fn d1_d2(&self, vol: f64) -> Option<(f64, f64)> {
        let sd = vol * self.t.sqrt();
        if sd <= 0.0 {
            return None;
        }
        let d1 = ((self.forward / self.strike).ln() + 0.5 * sd * sd) / sd;
        Some((d1, d1 - sd))
    }

    /// Undiscounted Black-76 price in USD. A zero `vol` or `t` gives the
    /// intrinsic value.
    pub fn price(&self, kind: OptionKind, vol: f64) -> Result<f64, PricingError> {
        check_vol(vol)?;
        let Some((d1, d2)) = self.d1_d2(vol) else {
            return Ok(self.intrinsic(kind));
        };
        let (f, k) = (self.forward, self.strike);
        let p = match kind {
            OptionKind::Call => f * norm_cdf(d1) - k * norm_cdf(d2),
            OptionKind::Put => k * norm_cdf(-d2) - f * norm_cdf(-d1),
        };
        // Rounding can leave a deep option a hair under its intrinsic value.
        Ok(p.max(self.intrinsic(kind)))
    }

    /// Inverse (coin-settled) price: the USD price divided by the forward,
    /// in coin per contract of one coin (Deribit's `mark_price`).
    pub fn price_coin(&self, kind: OptionKind, vol: f64) -> Result<f64, PricingError> {
        Ok(self.price(kind, vol)? / self.forward)
    }

    /// Forward delta `∂price/∂F`: `N(d1)` for a call, `N(d1) - 1` for a
    /// put (what the chain files' `delta` column holds).
    pub fn delta(&self, kind: OptionKind, vol: f64) -> Result<f64, PricingError> {
        check_vol(vol)?;
        let n = match self.d1_d2(vol) {
            Some((d1, _)) => norm_cdf(d1),
            None => match self.forward.partial_cmp(&self.strike) {
                Some(std::cmp::Ordering::Greater) => 1.0,
                Some(std::cmp::Ordering::Less) => 0.0,
                _ => 0.5,
            },
        };
        Ok(match kind {
            OptionKind::Call => n,
            OptionKind::Put => n - 1.0,
        })
    }

    /// Coin delta of an inverse option: coins of underlying that hedge one
    /// contract whose value is held in coin, `∂(F·V_coin)/∂F - V_coin`,
    /// i.e. the forward delta less the premium in coin.
    pub fn delta_coin(&self, kind: OptionKind, vol: f64) -> Result<f64, PricingError> {
        Ok(self.delta(kind, vol)? - self.price_coin(kind, vol)?)
    }

    /// Vega `∂price/∂σ`, USD per 1.00 of volatility (divide by 100 for the
    /// chain's per-vol-point figure). The same for calls and puts.
    pub fn vega(&self, vol: f64) -> Result<f64, PricingError> {
        check_vol(vol)?;
        Ok(match self.d1_d2(vol) {
            Some((d1, _)) => self.forward * norm_pdf(d1) * self.t.sqrt(),
            None => 0.0,
        })
    }

    /// Gamma `∂²price/∂F²`, the same for calls and puts.
    pub fn gamma(&self, vol: f64) -> Result<f64, PricingError> {
        check_vol(vol)?;
        Ok(match self.d1_d2(vol) {
            Some((d1, _)) => norm_pdf(d1) / (self.forward * vol * self.t.sqrt()),
            None => 0.0,
        })
    }
}

fn check_vol(vol: f64) -> Result<(), PricingError> {
    if vol.is_finite() && vol >= 0.0 {
        Ok(())
    } else {
        Err(PricingError::Vol(vol))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_cdf_known_values() {
        assert!((norm_cdf(0.0) - 0.5).abs() < 1e-16);
        assert!((norm_cdf(1.959_963_984_540_054) - 0.975).abs() < 1e-15);
        // Far tail keeps relative accuracy (1 - N(8) would be 0).
        let t = norm_cdf(-8.0);
        assert!((t / 6.220_960_574_271_785e-16 - 1.0).abs() < 1e-12, "{t}");
    }

    #[test]
    fn put_call_parity_and_greeks_against_finite_differences() {
        let m = Black76::new(64_000.0, 70_000.0, 0.1).unwrap();
        let vol = 0.8;
        let c = m.price(OptionKind::Call, vol).unwrap();
        let p = m.price(OptionKind::Put, vol).unwrap();
        assert!((c - p - (64_000.0 - 70_000.0)).abs() < 1e-9);
        let h = 1e-3;
        let up = Black76::new(64_000.0 + h, 70_000.0, 0.1).unwrap();
        let dn = Black76::new(64_000.0 - h, 70_000.0, 0.1).unwrap();
        let fd = (up.price(OptionKind::Call, vol).unwrap()
            - dn.price(OptionKind::Call, vol).unwrap())
            / (2.0 * h);
        assert!((fd - m.delta(OptionKind::Call, vol).unwrap()).abs() < 1e-6);
        let fd_vega = (m.price(OptionKind::Put, vol + 1e-6).unwrap()
            - m.price(OptionKind::Put, vol - 1e-6).unwrap())
            / 2e-6;
        assert!((fd_vega / m.vega(vol).unwrap() - 1.0).abs() < 1e-6);
        // Coin delta: the derivative of the coin value times F, less the value.
        let coin = |b: &Black76| b.price_coin(OptionKind::Call, vol).unwrap();
        let fd_coin = (up.forward() * coin(&up) - dn.forward() * coin(&dn)) / (2.0 * h) - coin(&m);
        assert!((fd_coin - m.delta_coin(OptionKind::Call, vol).unwrap()).abs() < 1e-6);
    }

    #[test]
    fn expiry_and_zero_vol_give_intrinsic() {
        let m = Black76::new(100.0, 90.0, 0.0).unwrap();
        assert_eq!(m.price(OptionKind::Call, 0.5).unwrap(), 10.0);
        assert_eq!(m.price(OptionKind::Put, 0.5).unwrap(), 0.0);
        let m = Black76::new(100.0, 90.0, 1.0).unwrap();
        assert_eq!(m.price(OptionKind::Call, 0.0).unwrap(), 10.0);
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert_eq!(Black76::new(0.0, 1.0, 1.0), Err(PricingError::Forward(0.0)));
        assert!(Black76::new(1.0, f64::NAN, 1.0).is_err());
        assert!(Black76::new(1.0, 1.0, -1.0).is_err());
        let m = Black76::new(1.0, 1.0, 1.0).unwrap();
        assert!(m.price(OptionKind::Call, -0.1).is_err());
    }
}
