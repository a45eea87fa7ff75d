//! Protocol liquidation rules, in the protocols' own integer math.

pub mod aave;
pub mod compound;
pub mod maker;

use shortfall_core::money::mul_div_half_up;

/// Why a liquidation call would revert / not happen under the protocol rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleBlock {
    /// Health factor not below the threshold (position healthy).
    Healthy,
    /// Aave v3.3 `MUST_NOT_LEAVE_DUST`.
    MustNotLeaveDust,
    /// Nothing to repay or seize.
    Nothing,
}

/// Aave `PercentageMath.percentMul`: `(v * p + 5000) / 10000`.
pub fn percent_mul(v: i128, p: i128) -> i128 {
    mul_div_half_up(v, p, 10_000).expect("percentMul overflow")
}

/// Aave `PercentageMath.percentDiv`: `(v * 10000 + p / 2) / p`.
pub fn percent_div(v: i128, p: i128) -> i128 {
    mul_div_half_up(v, 10_000, p).expect("percentDiv overflow")
}

/// Aave `WadRayMath.wadDiv`: `(a * WAD + b / 2) / b`.
pub fn wad_div(a: i128, b: i128) -> i128 {
    mul_div_half_up(a, shortfall_core::money::WAD, b).expect("wadDiv overflow")
}

/// A fraction as basis points, rounded half up (0.825 -> 8250).
pub fn to_bps(w: shortfall_core::Wad) -> i128 {
    mul_div_half_up(w.0, 10_000, shortfall_core::money::WAD).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentage_math_matches_solidity() {
        // (12345 * 8250 + 5000) / 10000 = 101851250 + 5000 -> 10185 (floor of 10185.625)
        assert_eq!(percent_mul(12345, 8250), (12345 * 8250 + 5000) / 10000);
        // odd divisor: (7 * 10000 + 10499/2) / 10499
        assert_eq!(percent_div(7, 10499), (7 * 10000 + 10499 / 2) / 10499);
        assert_eq!(percent_div(1_000_000_000, 10_500), 952_380_952);
        assert_eq!(wad_div(3, 2), (3 * 10i128.pow(18) + 1) / 2);
    }
}
