//! Aave's ray arithmetic and interest accrual, in integers as the contracts
//! compute them.
//!
//! - `WadRayMath.rayMul(a, b) = (a * b + RAY / 2) / RAY` and
//!   `rayDiv(a, b) = (a * RAY + b / 2) / b`: half up (Aave v2 and v3.0-3.3;
//!   [`shortfall_core::money::mul_div_half_up`] rounds the same way).
//! - `MathUtils.calculateLinearInterest(rate, t0) = RAY + rate * (t - t0) / SECONDS_PER_YEAR`
//!   (truncating division): the liquidity index grows linearly between updates.
//! - `MathUtils.calculateCompoundedInterest(rate, t0, t)`: the 3-term binomial
//!   approximation `1 + n*x + n(n-1)/2*x^2 + n(n-1)(n-2)/6*x^3` of
//!   `(1 + rate/SECONDS_PER_YEAR)^n`, for the variable borrow index. Aave v2
//!   divides the rate per second first; v3 divides the powers of the yearly
//!   rate (`basePowerTwo = rate.rayMul(rate) / SECONDS_PER_YEAR^2`), so the
//!   two versions round differently and both are implemented.
//!
//! `SECONDS_PER_YEAR = 365 days` in both (leap years ignored).

use shortfall_core::money::{mul_div_down, mul_div_half_up, RAY};

/// `MathUtils.SECONDS_PER_YEAR`.
pub const SECONDS_PER_YEAR: u128 = 365 * 24 * 3600;

const RAY_U: u128 = RAY as u128;

/// Which `calculateCompoundedInterest` to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AaveVersion {
    V2,
    V3,
}

fn signed(a: u128) -> Option<i128> {
    i128::try_from(a).ok()
}

fn unsigned(a: i128) -> Option<u128> {
    u128::try_from(a).ok()
}

/// `WadRayMath.rayMul`: `(a * b + RAY / 2) / RAY`.
pub fn ray_mul(a: u128, b: u128) -> Option<u128> {
    unsigned(mul_div_half_up(signed(a)?, signed(b)?, RAY)?)
}

/// `WadRayMath.rayDiv`: `(a * RAY + b / 2) / b`; None for `b = 0`.
pub fn ray_div(a: u128, b: u128) -> Option<u128> {
    unsigned(mul_div_half_up(signed(a)?, RAY, signed(b)?)?)
}

/// `MathUtils.calculateLinearInterest` over `secs` seconds.
pub fn linear_interest(rate: u128, secs: u64) -> Option<u128> {
    let grown = unsigned(mul_div_down(
        signed(rate)?,
        i128::from(secs),
        SECONDS_PER_YEAR as i128,
    )?)?;
    RAY_U.checked_add(grown)
}

/// `MathUtils.calculateCompoundedInterest` over `secs` seconds.
pub fn compounded_interest(version: AaveVersion, rate: u128, secs: u64) -> Option<u128> {
    if secs == 0 {
        return Some(RAY_U);
    }
    let exp = u128::from(secs);
    let exp_minus_one = exp - 1;
    let exp_minus_two = exp.saturating_sub(2);
    match version {
        AaveVersion::V2 => {
            // ratePerSecond = rate / SECONDS_PER_YEAR;
            // basePowerTwo = ratePerSecond.rayMul(ratePerSecond);
            // basePowerThree = basePowerTwo.rayMul(ratePerSecond);
            // secondTerm = exp * expMinusOne * basePowerTwo / 2;
            // thirdTerm = exp * expMinusOne * expMinusTwo * basePowerThree / 6;
            // return RAY + ratePerSecond * exp + secondTerm + thirdTerm;
            let per_sec = rate / SECONDS_PER_YEAR;
            let p2 = ray_mul(per_sec, per_sec)?;
            let p3 = ray_mul(p2, per_sec)?;
            let second = exp.checked_mul(exp_minus_one)?.checked_mul(p2)? / 2;
            let third = exp
                .checked_mul(exp_minus_one)?
                .checked_mul(exp_minus_two)?
                .checked_mul(p3)?
                / 6;
            RAY_U
                .checked_add(per_sec.checked_mul(exp)?)?
                .checked_add(second)?
                .checked_add(third)
        }
        AaveVersion::V3 => {
            // basePowerTwo = rate.rayMul(rate) / (SECONDS_PER_YEAR * SECONDS_PER_YEAR);
            // basePowerThree = basePowerTwo.rayMul(rate) / SECONDS_PER_YEAR;
            // secondTerm = exp * expMinusOne * basePowerTwo / 2;
            // thirdTerm = exp * expMinusOne * expMinusTwo * basePowerThree / 6;
            // return RAY + (rate * exp) / SECONDS_PER_YEAR + secondTerm + thirdTerm;
            let p2 = ray_mul(rate, rate)? / (SECONDS_PER_YEAR * SECONDS_PER_YEAR);
            let p3 = ray_mul(p2, rate)? / SECONDS_PER_YEAR;
            let second = exp.checked_mul(exp_minus_one)?.checked_mul(p2)? / 2;
            let third = exp
                .checked_mul(exp_minus_one)?
                .checked_mul(exp_minus_two)?
                .checked_mul(p3)?
                / 6;
            let first = unsigned(mul_div_down(
                signed(rate)?,
                signed(exp)?,
                SECONDS_PER_YEAR as i128,
            )?)?;
            RAY_U
                .checked_add(first)?
                .checked_add(second)?
                .checked_add(third)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: u128 = RAY_U;

    #[test]
    fn ray_mul_and_div_round_half_up() {
        // 1000 USDC (1e9 base units) at a liquidity index of 1.02:
        // 1e9 / 1.02 = 980392156.862... -> 980392157 (half up).
        assert_eq!(ray_div(1_000_000_000, R * 102 / 100), Some(980_392_157));
        // 980392157 * 1.05 = 1029411764.85 -> 1029411765.
        assert_eq!(ray_mul(980_392_157, R * 105 / 100), Some(1_029_411_765));
        // Exactly half rounds up: 1 * 0.5 = 0.5 -> 1.
        assert_eq!(ray_mul(1, R / 2), Some(1));
        assert_eq!(ray_div(1, 0), None);
    }

    #[test]
    fn linear_interest_is_simple_interest() {
        // 10% a year over half a year: 1 + 0.1 * 15768000 / 31536000 = 1.05.
        assert_eq!(linear_interest(R / 10, 15_768_000), Some(R * 105 / 100));
        assert_eq!(linear_interest(R / 10, 0), Some(R));
    }

    #[test]
    fn compounded_interest_three_terms() {
        // One second: only the first term, 1 + rate / SECONDS_PER_YEAR.
        let one = compounded_interest(AaveVersion::V3, R / 10, 1).unwrap();
        assert_eq!(one, R + (R / 10) / SECONDS_PER_YEAR);
        // A year at 10% (n = 31536000 s, x = 0.1 / n): the terms
        // 1 + n*x + n(n-1)/2*x^2 + n(n-1)(n-2)/6*x^3 = 1.10516666... before
        // rounding (e^0.1 = 1.10517091...). The versions round the powers
        // differently: v2's basePowerThree = rayMul(basePowerTwo,
        // ratePerSecond) is 31.88 rounded to 32 (third term +0.4%), v3's
        // rayMul(basePowerTwo, rate) / SECONDS_PER_YEAR truncates it to 31.
        assert_eq!(
            compounded_interest(AaveVersion::V2, R / 10, SECONDS_PER_YEAR as u64),
            Some(1_105_167_270_015_202_188_556_648_000)
        );
        assert_eq!(
            compounded_interest(AaveVersion::V3, R / 10, SECONDS_PER_YEAR as u64),
            Some(1_105_162_042_821_782_412_575_504_000)
        );
        assert_eq!(compounded_interest(AaveVersion::V2, R / 10, 0), Some(R));
    }
}
