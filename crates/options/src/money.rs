//! The boundary between pricing (f64) and ledger money (fixed point).
//!
//! Black-76 values, implied volatilities and scenario P&L of options are
//! computed in f64. Every amount that reaches a margin requirement or a
//! ledger becomes a [`Wad`] (18-decimal fixed point, shortfall-core) here and
//! only here: rounded half away from zero to [`COIN_DECIMALS`] decimals of
//! coin, since an f64 carries 15 to 17 significant digits and the digits
//! below 1e-12 coin are noise of the floating-point computation, not money.
//! From then on sums, maxima and products are integer and exact (or rounded
//! by `Wad`'s documented rules), so a margin does not depend on the order in
//! which positions are added.

use shortfall_core::Wad;

/// Decimals of coin kept when an f64 amount becomes money.
pub const COIN_DECIMALS: u32 = 12;

/// An f64 amount that cannot be money.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount {0} is not a finite number")]
    NotFinite(f64),
    #[error("amount {0} is out of the fixed-point range")]
    OutOfRange(f64),
    #[error("fixed-point overflow in {0}")]
    Overflow(&'static str),
}

/// `x` coin as money, rounded half away from zero to [`COIN_DECIMALS`].
pub fn coin_from_f64(x: f64) -> Result<Wad, MoneyError> {
    if !x.is_finite() {
        return Err(MoneyError::NotFinite(x));
    }
    if x.abs() >= 1e20 {
        return Err(MoneyError::OutOfRange(x));
    }
    let scaled = (x * 1e12).round();
    let raw = (scaled as i128) * 1_000_000;
    Ok(Wad(raw))
}

/// `w` rounded half away from zero to `decimals` decimals (at most 18).
pub fn round_to(w: Wad, decimals: u32) -> Wad {
    assert!(decimals <= 18, "at most 18 decimals");
    let unit = 10i128.pow(18 - decimals);
    let q = w.0 / unit;
    let r = w.0 % unit;
    let q = if 2 * r.abs() >= unit {
        q + r.signum()
    } else {
        q
    };
    Wad(q * unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Wad {
        Wad::parse_decimal(s, false).unwrap()
    }

    #[test]
    fn f64_becomes_twelve_decimals() {
        assert_eq!(
            coin_from_f64(0.15246412672881357).unwrap(),
            w("0.152464126729")
        );
        assert_eq!(
            coin_from_f64(-0.15246412672881357).unwrap(),
            w("-0.152464126729")
        );
        assert_eq!(coin_from_f64(0.0).unwrap(), Wad::ZERO);
        assert!(coin_from_f64(f64::NAN).is_err());
        assert!(coin_from_f64(1e21).is_err());
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round_to(w("0.1524641265"), 9), w("0.152464127"));
        assert_eq!(round_to(w("0.1524641264999"), 9), w("0.152464126"));
        assert_eq!(round_to(w("-0.1524641265"), 9), w("-0.152464127"));
        assert_eq!(round_to(w("1.5"), 0), w("2"));
    }
}
