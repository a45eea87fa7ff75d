//! Compound v2 Comptroller: account liquidity, close factor, seize tokens.
//!
//! `Exponential`/`ExponentialNoError` math with 1e18 mantissas, truncating:
//! `mul_(Exp a, Exp b) = a * b / 1e18`, `div_(Exp a, Exp b) = a * 1e18 / b`,
//! `mul_ScalarTruncate(Exp a, s) = a * s / 1e18`. Prices are
//! `getUnderlyingPrice` mantissas (USD * 1e36 / 10^decimals).

use shortfall_core::money::{mul_div_down, WAD};

/// `mul_(Exp, Exp)`.
#[inline]
pub fn mul_exp(a: i128, b: i128) -> i128 {
    mul_div_down(a, b, WAD).expect("mul_ overflow")
}

/// `div_(Exp, Exp)`.
#[inline]
pub fn div_exp(a: i128, b: i128) -> i128 {
    mul_div_down(a, WAD, b).expect("div_ overflow")
}

/// A collateral market of the account: cToken balance, collateral factor,
/// exchange rate and price mantissas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollateralLeg {
    pub ctokens: i128,
    pub collateral_factor: i128,
    pub exchange_rate: i128,
    pub price: i128,
}

/// `getHypotheticalAccountLiquidityInternal`: (sumCollateral, sumBorrowPlusEffects).
/// Shortfall when the second exceeds the first.
/// Takes the legs as iterators (the engine builds them per call without
/// allocating); `borrows`: (borrow balance, price).
pub fn account_liquidity(
    coll: impl IntoIterator<Item = CollateralLeg>,
    borrows: impl IntoIterator<Item = (i128, i128)>,
) -> (i128, i128) {
    let mut sum_c = 0i128;
    let mut sum_b = 0i128;
    for c in coll {
        let ttd = tokens_to_denom(c.collateral_factor, c.exchange_rate, c.price);
        sum_c += mul_exp(ttd, c.ctokens);
    }
    for (borrow, price) in borrows {
        sum_b += mul_exp(price, borrow);
    }
    (sum_c, sum_b)
}

/// `vars.tokensToDenom = collateralFactor * exchangeRate * oraclePrice`
/// (`getHypotheticalAccountLiquidityInternal`): a market's value of one
/// cToken unit as collateral; a cToken balance is worth
/// `mul_ScalarTruncate(tokensToDenom, balance)`. The same for every account
/// of the market, so the engine caches it per market and price.
pub fn tokens_to_denom(collateral_factor: i128, exchange_rate: i128, price: i128) -> i128 {
    mul_exp(mul_exp(collateral_factor, exchange_rate), price)
}

/// `liquidateBorrowAllowed`: `maxClose = mul_ScalarTruncate(closeFactor, borrowBalance)`.
pub fn max_close(close_factor: i128, borrow_balance: i128) -> i128 {
    mul_exp(close_factor, borrow_balance)
}

/// `liquidateCalculateSeizeTokens`.
pub fn seize_tokens(
    incentive: i128,
    price_borrowed: i128,
    price_collateral: i128,
    exchange_rate: i128,
    repay: i128,
) -> i128 {
    seize_with(
        seize_ratio(incentive, price_borrowed, price_collateral, exchange_rate),
        repay,
    )
}

/// The `ratio` of `liquidateCalculateSeizeTokens`: `div_(mul_(incentive,
/// priceBorrowed), mul_(priceCollateral, exchangeRate))`, the same for
/// every repay at these prices; None when the denominator is zero.
pub fn seize_ratio(
    incentive: i128,
    price_borrowed: i128,
    price_collateral: i128,
    exchange_rate: i128,
) -> Option<i128> {
    let numerator = mul_exp(incentive, price_borrowed);
    let denominator = mul_exp(price_collateral, exchange_rate);
    if denominator == 0 {
        return None;
    }
    Some(div_exp(numerator, denominator))
}

/// `seizeTokens = mul_ScalarTruncate(ratio, repay)` (no ratio: a zero
/// denominator, more than any balance).
pub fn seize_with(ratio: Option<i128>, repay: i128) -> i128 {
    match ratio {
        Some(r) => mul_exp(r, repay),
        None => i128::MAX,
    }
}

/// The largest repay (<= `cap`) whose seize fits in `ctokens`
/// (`LIQUIDATE_SEIZE_TOO_MUCH` otherwise): inverse, then stepped down.
pub fn max_repay_for_balance(
    incentive: i128,
    price_borrowed: i128,
    price_collateral: i128,
    exchange_rate: i128,
    ctokens: i128,
    cap: i128,
) -> i128 {
    max_repay_with(
        seize_ratio(incentive, price_borrowed, price_collateral, exchange_rate),
        ctokens,
        cap,
    )
}

/// [`max_repay_for_balance`] at a [`seize_ratio`].
pub fn max_repay_with(ratio: Option<i128>, ctokens: i128, cap: i128) -> i128 {
    if seize_with(ratio, cap) <= ctokens {
        return cap;
    }
    let ratio = match ratio {
        Some(r) if r != 0 => r,
        // Zero denominator: the original recomputes the same zero and
        // returns the cap; a zero ratio seizes nothing.
        _ => return cap,
    };
    let mut r = mul_div_down(ctokens, WAD, ratio).unwrap_or(0).min(cap);
    while r > 0 && seize_with(Some(ratio), r) > ctokens {
        r -= 1;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    const E18: i128 = 1_000_000_000_000_000_000;
    const E6: i128 = 1_000_000;

    #[test]
    fn liquidity_and_seize_worked_example() {
        // 500e18 cETH-like tokens, exchange rate 0.02e18 (10 ETH), CF 0.75, ETH $1700
        // (mantissa 1700e18 for 18 decimals); 15000 USDC borrowed (price mantissa 1e30 for 6 decimals).
        // tokensToDenom = ((0.75e18 * 0.02e18 / 1e18) * 1700e18) / 1e18 = 25.5e18
        // sumCollateral = 25.5e18 * 500e18 / 1e18 = 12750e18; sumBorrow = 1e30 * 15000e6 / 1e18 = 15000e18
        let coll = CollateralLeg {
            ctokens: 500 * E18,
            collateral_factor: 75 * E18 / 100,
            exchange_rate: 2 * E18 / 100,
            price: 1700 * E18,
        };
        let (c, b) = account_liquidity([coll], [(15_000 * E6, E18 * 1_000_000_000_000)]);
        assert_eq!(c, 12_750 * E18);
        assert_eq!(b, 15_000 * E18);
        // maxClose = 0.5e18 * 15000e6 / 1e18 = 7500e6
        assert_eq!(max_close(E18 / 2, 15_000 * E6), 7_500 * E6);
        // numerator = 1.08e18 * 1e30 / 1e18 = 1.08e30; denominator = 1700e18 * 0.02e18 / 1e18 = 34e18
        // ratio = 1.08e30 * 1e18 / 34e18 = 31764705882352941176470588235 (floor)
        // seize = ratio * 7500e6 / 1e18 = 238235294117647058823 (floor)
        let s = seize_tokens(
            108 * E18 / 100,
            E18 * 1_000_000_000_000,
            1700 * E18,
            2 * E18 / 100,
            7_500 * E6,
        );
        assert_eq!(s, 238_235_294_117_647_058_823);
        // Seize capped by balance: 100e18 cTokens -> largest repay whose seize fits.
        let r = max_repay_for_balance(
            108 * E18 / 100,
            E18 * 1_000_000_000_000,
            1700 * E18,
            2 * E18 / 100,
            100 * E18,
            7_500 * E6,
        );
        assert!(
            seize_tokens(
                108 * E18 / 100,
                E18 * 1_000_000_000_000,
                1700 * E18,
                2 * E18 / 100,
                r
            ) <= 100 * E18
        );
        assert!(
            seize_tokens(
                108 * E18 / 100,
                E18 * 1_000_000_000_000,
                1700 * E18,
                2 * E18 / 100,
                r + 1
            ) > 100 * E18
        );
    }
}
