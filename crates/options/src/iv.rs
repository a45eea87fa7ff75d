//! Implied volatility from a Black-76 price: a bracketed, safeguarded
//! Newton iteration (Newton steps inside a shrinking bracket, bisection when
//! a step leaves it or vega vanishes), so it always converges when a
//! solution exists, and a clear error when the price lies outside the
//! no-arbitrage bounds.
//!
//! The solve runs on the out-of-the-money side: an in-the-money price is
//! turned into its time value (put-call parity on the forward, exact with no
//! discounting), which is the price of the out-of-the-money option of the
//! same strike. That keeps deep in-the-money quotes from losing their
//! digits to the intrinsic value.

use crate::black::{Black76, OptionKind, PricingError};

/// The largest volatility the solver searches (10,000%).
pub const MAX_VOL: f64 = 100.0;

/// Why a price has no implied volatility.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IvError {
    #[error("price {0} is not a finite number")]
    NotFinite(f64),
    #[error("price {price} is below the intrinsic value {intrinsic} (no-arbitrage lower bound)")]
    BelowIntrinsic { price: f64, intrinsic: f64 },
    #[error(
        "price {price} equals the intrinsic value {intrinsic}: no time value, volatility undefined"
    )]
    NoTimeValue { price: f64, intrinsic: f64 },
    #[error("price {price} is at or above the no-arbitrage upper bound {bound}")]
    AboveUpperBound { price: f64, bound: f64 },
    #[error("expired option (t = 0): volatility undefined")]
    Expired,
    #[error("no volatility up to {MAX_VOL} reproduces price {0}")]
    TooHigh(f64),
    #[error(transparent)]
    Pricing(#[from] PricingError),
}

/// Implied volatility of an undiscounted USD price.
pub fn implied_vol(model: &Black76, kind: OptionKind, price: f64) -> Result<f64, IvError> {
    if !price.is_finite() {
        return Err(IvError::NotFinite(price));
    }
    let intrinsic = model.intrinsic(kind);
    let bound = model.upper_bound(kind);
    if price >= bound {
        return Err(IvError::AboveUpperBound { price, bound });
    }
    // Prices within a few ulps of the intrinsic value carry no time value.
    let tol = 4.0 * f64::EPSILON * model.forward().max(model.strike());
    if price < intrinsic - tol {
        return Err(IvError::BelowIntrinsic { price, intrinsic });
    }
    if price <= intrinsic + tol {
        return Err(IvError::NoTimeValue { price, intrinsic });
    }
    if model.t() == 0.0 {
        return Err(IvError::Expired);
    }
    let otm = if model.strike() >= model.forward() {
        OptionKind::Call
    } else {
        OptionKind::Put
    };
    let target = price - intrinsic;
    solve(model, otm, target)
}

/// Implied volatility of an inverse (coin) price: `price_coin × forward`
/// in USD.
pub fn implied_vol_coin(
    model: &Black76,
    kind: OptionKind,
    price_coin: f64,
) -> Result<f64, IvError> {
    implied_vol(model, kind, price_coin * model.forward())
}

/// Solves `price(otm, σ) = target` for an out-of-the-money option.
fn solve(model: &Black76, otm: OptionKind, target: f64) -> Result<f64, IvError> {
    let f = |s: f64| -> Result<f64, IvError> { Ok(model.price(otm, s)? - target) };
    // Bracket: f(0) = -target < 0; grow the top until f > 0.
    let mut lo = 0.0_f64;
    let mut hi = 1.0_f64;
    while f(hi)? <= 0.0 {
        lo = hi;
        hi *= 2.0;
        if hi > MAX_VOL {
            return Err(IvError::TooHigh(target));
        }
    }
    // Start from the at-the-money approximation, kept inside the bracket.
    let atm = (2.0 * std::f64::consts::PI / model.t()).sqrt() * target / model.forward();
    let mut s = if atm > lo && atm < hi {
        atm
    } else {
        0.5 * (lo + hi)
    };
    // Relative to the target: far-wing prices are tiny.
    let price_tol = 1e-13 * target;
    for _ in 0..200 {
        let fs = f(s)?;
        if fs.abs() <= price_tol {
            return Ok(s);
        }
        if fs > 0.0 {
            hi = s;
        } else {
            lo = s;
        }
        let vega = model.vega(s)?;
        let newton = s - fs / vega;
        let next = if vega > 0.0 && newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if (next - s).abs() <= 1e-15 * s.max(1e-3) || hi - lo <= 1e-15 * hi {
            return Ok(next);
        }
        s = next;
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_the_volatility_it_priced() {
        for &(f, k, t) in &[
            (64_000.0, 64_000.0, 0.01),
            (64_000.0, 20_000.0, 0.4),
            (64_000.0, 320_000.0, 0.4),
            (1_900.0, 2_600.0, 0.003),
            (1_900.0, 1_000.0, 1.0),
        ] {
            let m = Black76::new(f, k, t).unwrap();
            for &vol in &[0.05, 0.38, 1.02, 2.5] {
                for kind in [OptionKind::Call, OptionKind::Put] {
                    let p = m.price(kind, vol).unwrap();
                    match implied_vol(&m, kind, p) {
                        // Deep in the money the input price itself holds the
                        // time value to a few ulps only: then the price must
                        // come back, not the vol.
                        Ok(iv) => assert!(
                            (iv - vol).abs() < 1e-9
                                || (m.price(kind, iv).unwrap() - p).abs() <= 1e-13 * p,
                            "{f} {k} {t} {vol} {kind:?}: {iv}"
                        ),
                        // Far wings at low vol have no time value left in f64.
                        Err(IvError::NoTimeValue { .. }) => {
                            assert!(p - m.intrinsic(kind) < 1e-9 * f)
                        }
                        Err(e) => panic!("{f} {k} {t} {vol} {kind:?}: {e}"),
                    }
                }
            }
        }
    }

    #[test]
    fn prices_outside_the_bounds_are_named_errors() {
        let m = Black76::new(100.0, 90.0, 0.5).unwrap();
        assert!(matches!(
            implied_vol(&m, OptionKind::Call, 9.0),
            Err(IvError::BelowIntrinsic { .. })
        ));
        assert!(matches!(
            implied_vol(&m, OptionKind::Call, 10.0),
            Err(IvError::NoTimeValue { .. })
        ));
        assert!(matches!(
            implied_vol(&m, OptionKind::Call, 100.0),
            Err(IvError::AboveUpperBound { .. })
        ));
        assert!(matches!(
            implied_vol(&m, OptionKind::Put, 90.0),
            Err(IvError::AboveUpperBound { .. })
        ));
        assert!(matches!(
            implied_vol(&m, OptionKind::Put, f64::NAN),
            Err(IvError::NotFinite(_))
        ));
        let expired = Black76::new(100.0, 90.0, 0.0).unwrap();
        assert_eq!(
            implied_vol(&expired, OptionKind::Call, 11.0),
            Err(IvError::Expired)
        );
    }
}
