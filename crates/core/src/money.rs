//! Fixed-point money.
//!
//! [`Wad`] is a signed 18-decimal fixed-point number held in an `i128`
//! (range about ±1.7e20 units), the same scale as the canonical
//! `Decimal128(38, 18)` columns and as Aave/Maker `wad` math. [`Ray`] is the
//! 27-decimal scale Aave uses for indexes and Maker for rates.
//!
//! Multiplication and division round half up, like Aave's `WadRayMath`
//! (`(a * b + HALF_WAD) / WAD`); use the `_down` variants where a protocol
//! truncates (Solidity's plain `/`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// 10^18.
pub const WAD: i128 = 1_000_000_000_000_000_000;
/// 10^27.
pub const RAY: i128 = 1_000_000_000_000_000_000_000_000_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("`{0}` is not a decimal number")]
    NotANumber(String),
    #[error("`{0}` has more than {1} decimal places")]
    TooPrecise(String, u32),
    #[error("`{0}` is out of range")]
    OutOfRange(String),
    #[error("arithmetic overflow")]
    Overflow,
    #[error("division by zero")]
    DivisionByZero,
}

/// An 18-decimal fixed-point amount (tokens, USD, prices).
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Wad(pub i128);

/// A 27-decimal fixed-point number (indexes, rates).
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Ray(pub i128);

/// Alias used in row types: every amount column is a [`Wad`].
pub type Amount = Wad;

impl Wad {
    pub const ZERO: Wad = Wad(0);
    pub const ONE: Wad = Wad(WAD);

    pub const fn raw(self) -> i128 {
        self.0
    }

    pub const fn from_raw(raw: i128) -> Self {
        Wad(raw)
    }

    /// Whole units, e.g. `Wad::from_int(3)` is 3.0.
    pub fn from_int(n: i64) -> Self {
        Wad(n as i128 * WAD)
    }

    /// Parses a plain decimal (`-12.5`, `1e-3`, `0.000000001`) exactly.
    /// Scientific notation is accepted because pandas and JSON writers emit it.
    /// More than 18 decimal places is an error unless `round` is set, in which
    /// case the value is rounded half away from zero.
    pub fn parse_decimal(text: &str, round: bool) -> Result<Self, AmountError> {
        let bad = || AmountError::NotANumber(text.to_string());
        let s = text.trim();
        if s.is_empty() {
            return Err(bad());
        }
        let (mantissa, exp) = match s.find(['e', 'E']) {
            Some(i) => {
                let e: i32 = s[i + 1..].parse().map_err(|_| bad())?;
                (&s[..i], e)
            }
            None => (s, 0),
        };
        let (neg, digits) = match mantissa.as_bytes().first() {
            Some(b'-') => (true, &mantissa[1..]),
            Some(b'+') => (false, &mantissa[1..]),
            _ => (false, mantissa),
        };
        let (int_part, frac_part) = match digits.find('.') {
            Some(i) => (&digits[..i], &digits[i + 1..]),
            None => (digits, ""),
        };
        if (int_part.is_empty() && frac_part.is_empty())
            || !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        // All digits as one integer, with `scale` digits after the point.
        let all: String = format!("{int_part}{frac_part}");
        let all = all.trim_start_matches('0');
        let scale = frac_part.len() as i64 - exp as i64;
        // value = all * 10^(-scale); we want value * 10^18.
        let shift = 18 - scale;
        let out_of_range = || AmountError::OutOfRange(text.to_string());
        if all.is_empty() {
            return Ok(Wad::ZERO);
        }
        if all.len() > 60 {
            return Err(out_of_range());
        }
        let mut value: i128 = 0;
        let mut dropped_first: Option<u8> = None;
        let mut dropped_rest_nonzero = false;
        let keep = all.len() as i64 + shift.min(0);
        for (i, b) in all.bytes().enumerate() {
            let d = b - b'0';
            if (i as i64) < keep {
                value = value
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(d as i128))
                    .ok_or_else(out_of_range)?;
            } else if dropped_first.is_none() {
                dropped_first = Some(d);
            } else if d != 0 {
                dropped_rest_nonzero = true;
            }
        }
        if shift > 0 {
            for _ in 0..shift {
                value = value.checked_mul(10).ok_or_else(out_of_range)?;
            }
        }
        if let Some(first) = dropped_first {
            if first != 0 || dropped_rest_nonzero {
                if !round {
                    return Err(AmountError::TooPrecise(text.to_string(), 18));
                }
                if first >= 5 {
                    value = value.checked_add(1).ok_or_else(out_of_range)?;
                }
            }
        }
        Ok(Wad(if neg { -value } else { value }))
    }

    /// An integer in base units with `decimals` decimals (e.g. a Chainlink
    /// answer with 8 decimals, a token amount in wei).
    pub fn from_base_units(raw: i128, decimals: u32) -> Result<Self, AmountError> {
        if decimals <= 18 {
            let f = 10i128.pow(18 - decimals);
            raw.checked_mul(f).map(Wad).ok_or(AmountError::Overflow)
        } else if decimals <= 38 {
            let f = 10i128.pow(decimals - 18);
            if raw % f != 0 {
                return Err(AmountError::TooPrecise(raw.to_string(), decimals));
            }
            Ok(Wad(raw / f))
        } else {
            Err(AmountError::OutOfRange(raw.to_string()))
        }
    }

    /// Nearest f64, for charts and logs only; never for accounting.
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / WAD as f64
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn checked_add(self, o: Wad) -> Option<Wad> {
        self.0.checked_add(o.0).map(Wad)
    }

    pub fn checked_sub(self, o: Wad) -> Option<Wad> {
        self.0.checked_sub(o.0).map(Wad)
    }

    pub fn saturating_sub(self, o: Wad) -> Wad {
        Wad(self.0.saturating_sub(o.0))
    }

    /// `a * b / WAD`, rounded half up (Aave `WadRayMath.wadMul`).
    pub fn checked_mul(self, o: Wad) -> Option<Wad> {
        mul_div_half_up(self.0, o.0, WAD).map(Wad)
    }

    /// `a * WAD / b`, rounded half up (Aave `WadRayMath.wadDiv`).
    pub fn checked_div(self, o: Wad) -> Option<Wad> {
        if o.0 == 0 {
            return None;
        }
        mul_div_half_up(self.0, WAD, o.0).map(Wad)
    }

    /// `a * b / WAD`, truncated toward zero (Solidity `a * b / WAD`).
    pub fn checked_mul_down(self, o: Wad) -> Option<Wad> {
        mul_div_down(self.0, o.0, WAD).map(Wad)
    }

    /// `a * WAD / b`, truncated toward zero.
    pub fn checked_div_down(self, o: Wad) -> Option<Wad> {
        if o.0 == 0 {
            return None;
        }
        mul_div_down(self.0, WAD, o.0).map(Wad)
    }

    pub fn min(self, o: Wad) -> Wad {
        if self <= o {
            self
        } else {
            o
        }
    }

    pub fn max(self, o: Wad) -> Wad {
        if self >= o {
            self
        } else {
            o
        }
    }
}

/// `a * b / d` rounded half up (ties away from zero for negatives), with a
/// 256-bit intermediate so `a * b` never overflows.
#[inline]
pub fn mul_div_half_up(a: i128, b: i128, d: i128) -> Option<i128> {
    if d == 0 {
        return None;
    }
    let neg = (a < 0) ^ (b < 0) ^ (d < 0);
    let (q, r) = u256_mul_div(a.unsigned_abs(), b.unsigned_abs(), d.unsigned_abs())?;
    let ud = d.unsigned_abs();
    let q = if r >= ud - r { q.checked_add(1)? } else { q };
    let q: i128 = q.try_into().ok()?;
    Some(if neg { -q } else { q })
}

/// `a * b / d` truncated toward zero, with a 256-bit intermediate.
#[inline]
pub fn mul_div_down(a: i128, b: i128, d: i128) -> Option<i128> {
    if d == 0 {
        return None;
    }
    let neg = (a < 0) ^ (b < 0) ^ (d < 0);
    let (q, _) = u256_mul_div(a.unsigned_abs(), b.unsigned_abs(), d.unsigned_abs())?;
    let q: i128 = q.try_into().ok()?;
    Some(if neg { -q } else { q })
}

/// `x / d` truncated toward zero, exactly as Rust's `/` (panics on a zero
/// divisor as it does): one `div` instruction when `x >= 0`, `0 < d <
/// 2^64` and the quotient fits 64 bits (a token amount to its base units),
/// else the 128-bit library division.
#[inline]
pub fn div_trunc(x: i128, d: i128) -> i128 {
    if x >= 0 && d > 0 && d as u128 <= LO64 && (x as u128) >> 64 < d as u128 {
        div_2by1(x as u128, d as u64).0 as i128
    } else {
        x / d
    }
}

/// The 256-bit product `a * b` as (high, low) 128-bit halves.
#[inline]
fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    // 128x128 -> 256 multiply from 64-bit limbs.
    let (a_hi, a_lo) = (a >> 64, a & u64::MAX as u128);
    let (b_hi, b_lo) = (b >> 64, b & u64::MAX as u128);
    let ll = a_lo * b_lo;
    let lh = a_lo * b_hi;
    let hl = a_hi * b_lo;
    let hh = a_hi * b_hi;
    let mid = (ll >> 64) + (lh & u64::MAX as u128) + (hl & u64::MAX as u128);
    let lo = (ll & u64::MAX as u128) | (mid << 64);
    let hi = hh + (lh >> 64) + (hl >> 64) + (mid >> 64);
    (hi, lo)
}

/// `a * b * c / (d * e)` truncated, for operands >= 0, computed as
/// Solidity's `uint256` arithmetic would (Aave's
/// `debtPrice * debtToCover * collateralUnit / (collateralPrice *
/// debtUnit)`): exact while the numerator fits 256 bits; None when it does
/// not (the contract would revert), when `d * e` is 0 or the quotient does
/// not fit an i128.
pub fn mul3_div2(a: i128, b: i128, c: i128, d: i128, e: i128) -> Option<i128> {
    if a < 0 || b < 0 || c < 0 || d <= 0 || e <= 0 {
        return None;
    }
    // Fast path: both products fit 128 bits.
    if let (Some(ab), Some(de)) = (a.checked_mul(b), d.checked_mul(e)) {
        return mul_div_down(ab, c, de);
    }
    let (a, b, c, d, e) = (a as u128, b as u128, c as u128, d as u128, e as u128);
    // Numerator: (a * b) * c in 256 bits.
    let (h, l) = mul_wide(a, b);
    let (lh, ll) = mul_wide(l, c);
    let (hh, hl) = mul_wide(h, c);
    if hh != 0 {
        return None;
    }
    let n_hi = lh.checked_add(hl)?;
    let n = (n_hi, ll);
    let den = mul_wide(d, e);
    // Shift-subtract division of 256-bit values (a rare path).
    let shl = |x: (u128, u128)| ((x.0 << 1) | (x.1 >> 127), x.1 << 1);
    let ge = |x: (u128, u128), y: (u128, u128)| x >= y;
    let sub = |x: (u128, u128), y: (u128, u128)| {
        let (lo, borrow) = x.1.overflowing_sub(y.1);
        (x.0.wrapping_sub(y.0).wrapping_sub(borrow as u128), lo)
    };
    let (mut q, mut r) = ((0u128, 0u128), (0u128, 0u128));
    for i in (0..256).rev() {
        let bit = if i >= 128 {
            (n.0 >> (i - 128)) & 1
        } else {
            (n.1 >> i) & 1
        };
        // r < den <= 2^256 - 1: the shift cannot lose a bit that matters
        // unless r's top bit is set, in which case r*2+bit > den.
        let top = r.0 >> 127;
        r = shl(r);
        r.1 |= bit;
        q = shl(q);
        if top == 1 || ge(r, den) {
            r = sub(r, den);
            q.1 |= 1;
        }
    }
    if q.0 != 0 {
        return None;
    }
    i128::try_from(q.1).ok()
}

/// (a * b) / d and remainder, for unsigned 128-bit operands, via a 256-bit
/// product. Returns None if the quotient does not fit in 128 bits.
#[inline]
fn u256_mul_div(a: u128, b: u128, d: u128) -> Option<(u128, u128)> {
    let (hi, lo) = mul_wide(a, b);
    if hi == 0 && d > LO64 {
        let q = lo / d;
        return Some((q, lo - q * d));
    }
    if hi >= d {
        return None;
    }
    if hi == 0 && lo >> 64 < d {
        // The quotient fits 64 bits (the usual amount times a wad): one
        // division.
        let (q, r) = div_2by1(lo, d as u64);
        return Some((q as u128, r as u128));
    }
    Some(div_wide(hi, lo, d))
}

/// `n / d` and remainder for `n < d * 2^64` (the quotient fits 64 bits):
/// one `div` instruction on x86-64, which Rust's `u128 / u128` reaches only
/// through a library call per quotient and per remainder.
#[inline]
#[allow(unsafe_code)] // the one `div` instruction below
fn div_2by1(n: u128, d: u64) -> (u64, u64) {
    debug_assert!(n >> 64 < d as u128, "quotient over 64 bits");
    #[cfg(target_arch = "x86_64")]
    {
        let (q, r): (u64, u64);
        // SAFETY: `div` divides rdx:rax by the operand; it traps only on a
        // zero divisor or a quotient over 64 bits, and `n >> 64 < d`
        // (asserted above, guaranteed by every caller) rules out both.
        unsafe {
            core::arch::asm!(
                "div {d}",
                d = in(reg) d,
                inout("rax") n as u64 => q,
                inout("rdx") (n >> 64) as u64 => r,
                options(pure, nomem, nostack),
            );
        }
        (q, r)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let q = n / d as u128;
        (q as u64, (n - q * d as u128) as u64)
    }
}

const LO64: u128 = u64::MAX as u128;

/// `(hi * 2^128 + lo) / d` and remainder for `hi < d` (so the quotient fits
/// in 128 bits): schoolbook division in 64-bit digits (Knuth, TAOCP vol. 2,
/// 4.3.1, algorithm D).
#[inline]
fn div_wide(hi: u128, lo: u128, d: u128) -> (u128, u128) {
    if d <= LO64 {
        // One-digit divisor: each partial remainder is < d, so each
        // two-digit step has a one-digit quotient.
        let d = d as u64;
        let (q1, r1) = div_2by1((hi << 64) | (lo >> 64), d);
        let (q0, r0) = div_2by1(((r1 as u128) << 64) | (lo & LO64), d);
        return (((q1 as u128) << 64) | q0 as u128, r0 as u128);
    }
    // Normalise so the divisor's top bit is set (the quotient is unchanged,
    // the remainder comes out shifted).
    let s = d.leading_zeros();
    let d = d << s;
    let (u_hi, u_lo) = if s == 0 {
        (hi, lo)
    } else {
        ((hi << s) | (lo >> (128 - s)), lo << s)
    };
    // The high quotient digit is zero when the top 128 bits are below the
    // divisor's top digit (a quotient under 2^64, such as a health factor):
    // one step then.
    let (q1, r) = if u_hi < d >> 64 {
        (0, (u_hi << 64) | (u_lo >> 64))
    } else {
        div_3by2(u_hi, (u_lo >> 64) as u64, d)
    };
    let (q0, r) = div_3by2(r, u_lo as u64, d);
    (((q1 as u128) << 64) | q0 as u128, r >> s)
}

/// `(u * 2^64 + u0) / d` and remainder, for a normalised `d` (top bit set)
/// and `u < d`: the quotient is one 64-bit digit.
#[inline]
fn div_3by2(u: u128, u0: u64, d: u128) -> (u64, u128) {
    let (d1, d0) = (d >> 64, d & LO64);
    // Estimate from the top digits (never too small), with `u = q * d1 + r`.
    let (mut q, mut r) = if u >> 64 >= d1 {
        (LO64, (u & LO64) + d1)
    } else {
        let (q, r) = div_2by1(u, d1 as u64);
        (q as u128, r as u128)
    };
    // (u : u0) - q * d = (r : u0) - q * d0: while that is negative, q is
    // too large. With a two-digit divisor this makes q exact, so no add-back
    // step follows (r >= 2^64 means (r : u0) >= 2^128 > q * d0).
    while r <= LO64 && q * d0 > ((r << 64) | u0 as u128) {
        q -= 1;
        r += d1;
    }
    // The remainder is below d < 2^128: its low 128 bits are all of it.
    (q as u64, ((r << 64) | u0 as u128).wrapping_sub(q * d0))
}

impl Ray {
    pub const ONE: Ray = Ray(RAY);

    /// `a * b / RAY` half up (Aave `rayMul`).
    pub fn checked_mul(self, o: Ray) -> Option<Ray> {
        mul_div_half_up(self.0, o.0, RAY).map(Ray)
    }

    /// `a * RAY / b` half up (Aave `rayDiv`).
    pub fn checked_div(self, o: Ray) -> Option<Ray> {
        mul_div_half_up(self.0, RAY, o.0).map(Ray)
    }

    /// Wad amount times a ray index, half up (Aave `amount.rayMul(index)`
    /// with the amount taken as a ray-scaled wad).
    pub fn mul_wad(self, w: Wad) -> Option<Wad> {
        mul_div_half_up(w.0, self.0, RAY).map(Wad)
    }
}

impl fmt::Display for Wad {
    /// Exact decimal with trailing zeros trimmed (`1.5`, `-0.000000000000000001`, `3`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.0 < 0;
        let abs = self.0.unsigned_abs();
        let int = abs / WAD as u128;
        let frac = abs % WAD as u128;
        let mut s = if neg {
            String::from("-")
        } else {
            String::new()
        };
        s.push_str(&int.to_string());
        if frac != 0 {
            let fs = format!("{frac:018}");
            s.push('.');
            s.push_str(fs.trim_end_matches('0'));
        }
        f.pad(&s)
    }
}

impl fmt::Debug for Wad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Wad({self})")
    }
}

impl FromStr for Wad {
    type Err = AmountError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Wad::parse_decimal(s, false)
    }
}

impl Serialize for Wad {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Wad {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            S(String),
            I(i64),
            F(f64),
        }
        match Repr::deserialize(d)? {
            Repr::S(s) => Wad::parse_decimal(&s, false).map_err(serde::de::Error::custom),
            Repr::I(i) => Ok(Wad::from_int(i)),
            // A TOML/JSON float: go through its shortest decimal text, so 0.95 is 0.95.
            Repr::F(x) => {
                Wad::parse_decimal(&format!("{x}"), true).map_err(serde::de::Error::custom)
            }
        }
    }
}

impl std::ops::Add for Wad {
    type Output = Wad;
    fn add(self, o: Wad) -> Wad {
        Wad(self.0 + o.0)
    }
}

impl std::ops::Sub for Wad {
    type Output = Wad;
    fn sub(self, o: Wad) -> Wad {
        Wad(self.0 - o.0)
    }
}

impl std::ops::Neg for Wad {
    type Output = Wad;
    fn neg(self) -> Wad {
        Wad(-self.0)
    }
}

impl std::ops::AddAssign for Wad {
    fn add_assign(&mut self, o: Wad) {
        self.0 += o.0
    }
}

impl std::ops::SubAssign for Wad {
    fn sub_assign(&mut self, o: Wad) {
        self.0 -= o.0
    }
}

impl std::iter::Sum for Wad {
    fn sum<I: Iterator<Item = Wad>>(iter: I) -> Wad {
        iter.fold(Wad::ZERO, |a, b| a + b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul3_div2_is_exact_beyond_128_bits() {
        // Aave v2 with USD prices in 18 decimals: $1 debt, 1e5 tokens of
        // 18 decimals, collateral at $2000 of 18 decimals.
        let e18 = 1_000_000_000_000_000_000i128;
        assert_eq!(
            mul3_div2(e18, 100_000 * e18, e18, 2000 * e18, e18),
            Some(50 * e18)
        );
        // Checked against Python's integers.
        let cases: [(i128, i128, i128, i128, i128, i128); 5] = [
            (
                454911232961676339139289971782,
                706899414540038233555879984682,
                1000000,
                3033952616583911786447160,
                1000000,
                105992586202739043340677039700499621,
            ),
            (
                306489825276405378467933051264,
                721132706936471706757561407951,
                1000000,
                4192165206017876134572953,
                1000000000000000000,
                52722120071218870422205,
            ),
            (
                238105437868304555562576320698,
                330102909346672780063504961882,
                100000000,
                3808195480259957309150772,
                1000000000000000000,
                2063951238296868486434453,
            ),
            (
                503985389872235252068468485617,
                328456344560107412810542880897,
                1000000,
                65441413727300983171759,
                1000000000000000000,
                2529548025336680994501577,
            ),
            (
                451316874405319453637256821287,
                908948132810350078359111552135,
                1000000,
                7083040941569274024261542,
                1000000000000000000,
                57916314995298025777458,
            ),
        ];
        for (a, b, c, d, e, q) in cases {
            assert_eq!(mul3_div2(a, b, c, d, e), Some(q), "{a} {b} {c} {d} {e}");
        }
        // The small path agrees, and overflow or a zero divisor is None.
        assert_eq!(mul3_div2(7, 11, 13, 3, 5), Some(1001 / 15));
        assert_eq!(mul3_div2(i128::MAX, i128::MAX, i128::MAX, 1, 1), None);
        assert_eq!(mul3_div2(1, 1, 1, 0, 1), None);
    }

    fn w(s: &str) -> Wad {
        s.parse().unwrap()
    }

    #[test]
    fn parses_plain_and_scientific() {
        assert_eq!(w("1"), Wad(WAD));
        assert_eq!(w("-12.5"), Wad(-12 * WAD - WAD / 2));
        assert_eq!(w("0.000000000000000001"), Wad(1));
        assert_eq!(w("1e-3"), Wad(WAD / 1000));
        assert_eq!(w("2.5E2"), Wad(250 * WAD));
        assert_eq!(w("0004.10"), Wad(4 * WAD + WAD / 10));
        assert_eq!(w(".5"), Wad(WAD / 2));
        assert_eq!(w("0"), Wad::ZERO);
    }

    #[test]
    fn rejects_garbage_and_excess_precision() {
        for bad in ["", "abc", "1.2.3", "--1", "1e", "NULL", "nan", "inf", "1,5"] {
            assert!(Wad::parse_decimal(bad, false).is_err(), "{bad}");
        }
        assert!(matches!(
            Wad::parse_decimal("0.0000000000000000001", false),
            Err(AmountError::TooPrecise(..))
        ));
        assert_eq!(
            Wad::parse_decimal("0.0000000000000000005", true).unwrap(),
            Wad(1)
        );
        assert_eq!(
            Wad::parse_decimal("0.0000000000000000004", true).unwrap(),
            Wad(0)
        );
        assert!(matches!(
            Wad::parse_decimal("1e30", false),
            Err(AmountError::OutOfRange(..))
        ));
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "1",
            "-12.5",
            "0.000000000000000001",
            "170141183460.469231731687303715",
        ] {
            assert_eq!(w(s).to_string(), s);
        }
    }

    #[test]
    fn wad_mul_div_round_half_up_like_aave() {
        // wadMul(1.5 wei-scaled): (a*b + WAD/2)/WAD
        assert_eq!(Wad(3).checked_mul(Wad(WAD / 2)), Some(Wad(2))); // 1.5 -> 2
        assert_eq!(Wad(3).checked_mul_down(Wad(WAD / 2)), Some(Wad(1)));
        assert_eq!(
            w("2").checked_div(w("3")),
            Some(Wad(666_666_666_666_666_667))
        );
        assert_eq!(
            w("2").checked_div_down(w("3")),
            Some(Wad(666_666_666_666_666_666))
        );
        assert_eq!(w("1").checked_div(Wad::ZERO), None);
    }

    #[test]
    fn mul_div_uses_wide_intermediate() {
        // 1e20 * 1e20 overflows i128 (1.7e38) but the result fits.
        let a = w("100000000000000000000");
        assert_eq!(a.checked_mul(w("1")), Some(a));
        assert_eq!(mul_div_down(i128::MAX, 3, 3), Some(i128::MAX));
        assert_eq!(mul_div_down(i128::MAX, 4, 3), None);
    }

    /// The one-bit-at-a-time long division `div_wide` replaced.
    fn div_wide_bitwise(hi: u128, lo: u128, d: u128) -> (u128, u128) {
        let mut rem = hi;
        let mut q: u128 = 0;
        for i in (0..128).rev() {
            let carry = rem >> 127;
            rem = (rem << 1) | ((lo >> i) & 1);
            q <<= 1;
            if carry == 1 || rem >= d {
                rem = rem.wrapping_sub(d);
                q |= 1;
            }
        }
        (q, rem)
    }

    #[test]
    fn wide_division_matches_bitwise() {
        // xorshift: values with every bit length, and the edge digits
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut wide = |bits: u32| -> u128 {
            let v = ((next() as u128) << 64) | next() as u128;
            let v = if bits == 0 { 0 } else { v >> (128 - bits) };
            match next() % 8 {
                0 => v | (u64::MAX as u128),
                1 => v & !(u64::MAX as u128),
                2 => v | (u128::MAX >> (128 - bits.max(1))),
                _ => v,
            }
        };
        for round in 0..200_000u32 {
            let d = wide(1 + round % 128).max(1);
            let hi = wide(round / 128 % 129) % d;
            let lo = wide(128);
            assert_eq!(
                div_wide(hi, lo, d),
                div_wide_bitwise(hi, lo, d),
                "({hi} * 2^128 + {lo}) / {d}"
            );
        }
        for (hi, lo, d) in [
            (u128::MAX - 1, u128::MAX, u128::MAX),
            (0, u128::MAX, u128::MAX),
            ((1 << 64) - 1, u128::MAX, 1 << 64),
            ((1 << 127) - 1, 0, 1 << 127),
            (u64::MAX as u128 - 1, u128::MAX, u64::MAX as u128),
        ] {
            assert_eq!(div_wide(hi, lo, d), div_wide_bitwise(hi, lo, d));
        }
    }

    #[test]
    fn base_units() {
        assert_eq!(Wad::from_base_units(100_000_000, 8).unwrap(), Wad::ONE);
        assert_eq!(Wad::from_base_units(WAD, 18).unwrap(), Wad::ONE);
        assert!(Wad::from_base_units(1, 20).is_err());
        assert_eq!(Wad::from_base_units(100, 20).unwrap(), Wad(1));
    }

    #[test]
    fn serde_accepts_strings_ints_and_floats() {
        let v: Vec<Wad> = serde_json::from_str(r#"["0.95", 2, 0.95]"#).unwrap();
        assert_eq!(v, vec![w("0.95"), w("2"), w("0.95")]);
        assert_eq!(serde_json::to_string(&w("0.95")).unwrap(), r#""0.95""#);
    }
}
