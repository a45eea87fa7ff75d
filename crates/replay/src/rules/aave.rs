//! Aave v2 / v3 / v3.3 health factor and liquidation amounts.
//!
//! Follows `GenericLogic.calculateUserAccountData` and
//! `LiquidationLogic.executeLiquidationCall` /
//! `_calculateAvailableCollateralToLiquidate`: amounts in token base units,
//! prices in the base currency (v3: USD with 8 decimals; v2: ETH with 18),
//! `(amount * price) / unit` truncated, `percentMul`/`percentDiv`/`wadDiv`
//! rounded half up.

use super::{percent_div, percent_mul, wad_div, RuleBlock};

/// Aave version families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AaveVersion {
    /// `LIQUIDATION_CLOSE_FACTOR_PERCENT = 5000` always.
    V2,
    /// v3.0-3.2: 50%, 100% when HF <= `CLOSE_FACTOR_HF_THRESHOLD` (0.95).
    V3,
    /// v3.3: close factor by position size, dust rule, deficit.
    V33,
}

/// One reserve as the liquidation sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reserve {
    /// Oracle price in base-currency units.
    pub price: i128,
    /// `10 ** decimals`.
    pub unit: i128,
    /// Liquidation threshold, bps (8250).
    pub lt_bps: i128,
    /// Liquidation bonus, bps (10500).
    pub bonus_bps: i128,
    /// Liquidation protocol fee, bps of the bonus (v3).
    pub fee_bps: i128,
}

/// `calculateUserAccountData` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountData {
    pub total_collateral_base: i128,
    pub total_debt_base: i128,
    pub avg_lt_bps: i128,
    /// Wad; `i128::MAX` without debt (Solidity `type(uint256).max`).
    pub health_factor: i128,
}

/// `(amount * price) / unit`, truncated.
pub fn in_base(amount: i128, r: &Reserve) -> i128 {
    match amount.checked_mul(r.price) {
        Some(x) => x / r.unit,
        None => {
            shortfall_core::money::mul_div_down(amount, r.price, r.unit).expect("base overflow")
        }
    }
}

/// Health factor of a user: collateral legs (balance, reserve) and debt legs.
/// Collateral with LT 0 does not count (v3 `liquidationThreshold != 0`).
pub fn account_data(coll: &[(i128, Reserve)], debt: &[(i128, Reserve)]) -> AccountData {
    account_data_iter(coll.iter().copied(), debt.iter().copied())
}

/// [`account_data`] over iterators (no allocation).
pub fn account_data_iter(
    coll: impl IntoIterator<Item = (i128, Reserve)>,
    debt: impl IntoIterator<Item = (i128, Reserve)>,
) -> AccountData {
    let mut total_c = 0i128;
    let mut lt_acc = 0i128;
    for (amt, r) in coll {
        if r.lt_bps == 0 || amt == 0 {
            continue;
        }
        let b = in_base(amt, &r);
        total_c += b;
        lt_acc += b * r.lt_bps;
    }
    let total_d: i128 = debt.into_iter().map(|(a, r)| in_base(a, &r)).sum();
    let avg_lt = if total_c != 0 { lt_acc / total_c } else { 0 };
    let hf = if total_d == 0 {
        i128::MAX
    } else {
        wad_div(percent_mul(total_c, avg_lt), total_d)
    };
    AccountData {
        total_collateral_base: total_c,
        total_debt_base: total_d,
        avg_lt_bps: avg_lt,
        health_factor: hf,
    }
}

/// Constants of a liquidation call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiquidationConfig {
    pub version: AaveVersion,
    /// `DEFAULT_LIQUIDATION_CLOSE_FACTOR` (5000), or a policy override.
    pub close_factor_bps: i128,
    /// `CLOSE_FACTOR_HF_THRESHOLD` (0.95e18).
    pub close_factor_hf_threshold: i128,
    /// v3.3 `MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD` in base units (2000e8).
    pub min_base_max_close_factor: i128,
    /// v3.3 `MIN_LEFTOVER_BASE` (1000e8).
    pub min_leftover_base: i128,
}

/// Result of a liquidation call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Liquidation {
    /// Debt repaid by the liquidator (debt token base units).
    pub debt_repaid: i128,
    /// Collateral sent to the liquidator (collateral base units).
    pub collateral_to_liquidator: i128,
    /// Collateral sent to the treasury.
    pub protocol_fee: i128,
    /// `collateralToLiquidateInBaseCurrency`.
    pub collateral_in_base: i128,
    /// v3.3: all collateral gone; remaining debt of every reserve becomes
    /// deficit (`_burnBadDebt`).
    pub no_collateral_left: bool,
}

/// `executeLiquidationCall` amounts for one (collateral, debt) pair.
/// `account` is the user's account data at the call, `user_collateral` and
/// `user_debt` the balances in the two reserves, `debt_to_cover` what the
/// liquidator offers (`type(uint256).max` = all).
pub fn liquidate(
    c: &LiquidationConfig,
    account: &AccountData,
    coll: &Reserve,
    user_collateral: i128,
    debt: &Reserve,
    user_debt: i128,
    debt_to_cover: i128,
) -> Result<Liquidation, RuleBlock> {
    // ValidationLogic: HF < HEALTH_FACTOR_LIQUIDATION_THRESHOLD (1e18).
    if account.health_factor >= shortfall_core::money::WAD {
        return Err(RuleBlock::Healthy);
    }
    if user_debt == 0 || user_collateral == 0 {
        return Err(RuleBlock::Nothing);
    }
    let max_liquidatable = match c.version {
        AaveVersion::V2 => percent_mul(user_debt, c.close_factor_bps),
        AaveVersion::V3 => {
            let cf = if account.health_factor > c.close_factor_hf_threshold {
                c.close_factor_bps
            } else {
                10_000
            };
            percent_mul(user_debt, cf)
        }
        AaveVersion::V33 => {
            let debt_base = in_base(user_debt, debt);
            let coll_base = in_base(user_collateral, coll);
            let mut m = user_debt;
            if coll_base >= c.min_base_max_close_factor
                && debt_base >= c.min_base_max_close_factor
                && account.health_factor > c.close_factor_hf_threshold
            {
                let total_default = percent_mul(account.total_debt_base, c.close_factor_bps);
                if debt_base > total_default {
                    m = shortfall_core::money::mul_div_down(total_default, debt.unit, debt.price)
                        .expect("close factor amount overflow");
                }
            }
            m
        }
    };
    let to_cover = debt_to_cover.min(max_liquidatable);
    if to_cover <= 0 {
        return Err(RuleBlock::Nothing);
    }
    // _calculateAvailableCollateralToLiquidate
    let base_collateral = mul3_div(debt.price, to_cover, coll.unit, coll.price, debt.unit);
    let max_collateral = percent_mul(base_collateral, coll.bonus_bps);
    let (mut coll_amount, debt_needed) = if max_collateral > user_collateral {
        let d = mul3_div(
            coll.price,
            user_collateral,
            debt.unit,
            debt.price,
            coll.unit,
        );
        (user_collateral, percent_div(d, coll.bonus_bps))
    } else {
        (max_collateral, to_cover)
    };
    let coll_in_base =
        shortfall_core::money::mul_div_down(coll_amount, coll.price, coll.unit).expect("overflow");
    let fee_bps = if c.version == AaveVersion::V2 {
        0
    } else {
        coll.fee_bps
    };
    let mut fee = 0;
    if fee_bps != 0 {
        let bonus = coll_amount - percent_div(coll_amount, coll.bonus_bps);
        fee = percent_mul(bonus, fee_bps);
        coll_amount -= fee;
    }
    if c.version == AaveVersion::V33
        && debt_needed < user_debt
        && coll_amount + fee < user_collateral
    {
        let debt_left = in_base(user_debt - debt_needed, debt);
        let coll_left = in_base(user_collateral - coll_amount, coll);
        if debt_left < c.min_leftover_base || coll_left < c.min_leftover_base {
            return Err(RuleBlock::MustNotLeaveDust);
        }
    }
    Ok(Liquidation {
        debt_repaid: debt_needed,
        collateral_to_liquidator: coll_amount,
        protocol_fee: fee,
        collateral_in_base: coll_in_base,
        no_collateral_left: c.version == AaveVersion::V33
            && account.total_collateral_base == coll_in_base,
    })
}

/// `a * b * c / (d * e)` truncated, exact as Solidity's uint256 math.
fn mul3_div(a: i128, b: i128, c: i128, d: i128, e: i128) -> i128 {
    shortfall_core::money::mul3_div2(a, b, c, d, e).expect("liquidation amount overflow")
}

#[cfg(test)]
mod tests {
    use super::*;

    const E18: i128 = 1_000_000_000_000_000_000;
    const E8: i128 = 100_000_000;
    const E6: i128 = 1_000_000;

    fn eth(price_usd: i128) -> Reserve {
        Reserve {
            price: price_usd * E8,
            unit: E18,
            lt_bps: 8250,
            bonus_bps: 10500,
            fee_bps: 1000,
        }
    }
    fn usdc() -> Reserve {
        Reserve {
            price: E8,
            unit: E6,
            lt_bps: 8700,
            bonus_bps: 10450,
            fee_bps: 1000,
        }
    }
    fn cfg(v: AaveVersion) -> LiquidationConfig {
        LiquidationConfig {
            version: v,
            close_factor_bps: 5000,
            close_factor_hf_threshold: 95 * E18 / 100,
            min_base_max_close_factor: 2000 * E8,
            min_leftover_base: 1000 * E8,
        }
    }

    #[test]
    fn health_factor_worked_example() {
        // 10 ETH at $2000 (2000e8), LT 8250; 15,000 USDC debt at 1e8.
        // collateral base = 10e18 * 2000e8 / 1e18 = 2e12; avgLT = 2e12*8250/2e12 = 8250
        // debt base = 15000e6 * 1e8 / 1e6 = 1.5e12
        // HF = wadDiv(percentMul(2e12, 8250), 1.5e12) = (1.65e12 * 1e18 + 0.75e12) / 1.5e12 = 1.1e18
        let a = account_data(&[(10 * E18, eth(2000))], &[(15_000 * E6, usdc())]);
        assert_eq!(a.total_collateral_base, 2_000_000_000_000);
        assert_eq!(a.total_debt_base, 1_500_000_000_000);
        assert_eq!(a.avg_lt_bps, 8250);
        assert_eq!(a.health_factor, 1_100_000_000_000_000_000);
        // Two collaterals: 1 ETH @2000 (LT 8250) + 1000 USDC (LT 8700):
        // total = 2000e8 + 1000e8 = 3000e8; avgLT = (2000e8*8250 + 1000e8*8700) / 3000e8 = 8400
        let a = account_data(
            &[(E18, eth(2000)), (1000 * E6, usdc())],
            &[(2000 * E6, usdc())],
        );
        assert_eq!(a.avg_lt_bps, 8400);
        // HF = (3000e8 * 8400 + 5000) / 10000 = 2520e8; 2520e8 * 1e18 / 2000e8 = 1.26e18
        assert_eq!(a.health_factor, 1_260_000_000_000_000_000);
        assert_eq!(account_data(&[(E18, eth(1))], &[]).health_factor, i128::MAX);
    }

    #[test]
    fn v3_full_close_factor_below_095() {
        // ETH at $1700: collateral base 1.7e12, percentMul 8250 -> 1.4025e12,
        // HF = 1.4025e12 * 1e18 / 1.5e12 = 0.935e18 <= 0.95e18 -> close factor 100%.
        let a = account_data(&[(10 * E18, eth(1700))], &[(15_000 * E6, usdc())]);
        assert_eq!(a.health_factor, 935_000_000_000_000_000);
        let l = liquidate(
            &cfg(AaveVersion::V3),
            &a,
            &eth(1700),
            10 * E18,
            &usdc(),
            15_000 * E6,
            i128::MAX,
        )
        .unwrap();
        // baseCollateral = 1e8 * 15000e6 * 1e18 / (1700e8 * 1e6) = 1.5e36 / 1.7e17 = 8823529411764705882 (floor)
        // maxCollateral = (8823529411764705882 * 10500 + 5000) / 10000 = 9264705882352941176
        // bonus = 9264705882352941176 - percentDiv(.., 10500) = 9264705882352941176 - 8823529411764705882 = 441176470588235294
        // fee = (441176470588235294 * 1000 + 5000) / 10000 = 44117647058823529
        // to liquidator = 9264705882352941176 - 44117647058823529 = 9220588235294117647
        assert_eq!(l.debt_repaid, 15_000 * E6);
        assert_eq!(l.protocol_fee, 44_117_647_058_823_529);
        assert_eq!(l.collateral_to_liquidator, 9_220_588_235_294_117_647);
        assert!(!l.no_collateral_left);
    }

    #[test]
    fn v3_half_close_factor_above_095_and_v2() {
        // ETH at $1800: HF = 1.8e12 * 0.825 / 1.5e12 = 0.99e18 -> close factor 50%: 7500e6.
        let a = account_data(&[(10 * E18, eth(1800))], &[(15_000 * E6, usdc())]);
        assert_eq!(a.health_factor, 990_000_000_000_000_000);
        let l = liquidate(
            &cfg(AaveVersion::V3),
            &a,
            &eth(1800),
            10 * E18,
            &usdc(),
            15_000 * E6,
            i128::MAX,
        )
        .unwrap();
        // baseCollateral = 1e8 * 7500e6 * 1e18 / (1800e8 * 1e6) = 7.5e35 / 1.8e17 = 4166666666666666666
        // max = (4166666666666666666 * 10500 + 5000) / 10000 = 4374999999999999999
        // bonus = 4374999999999999999 - (4374999999999999999*10000 + 5250)/10500 = 4374999999999999999 - 4166666666666666666 = 208333333333333333
        // fee = (208333333333333333*1000 + 5000)/10000 = 20833333333333333
        assert_eq!(l.debt_repaid, 7_500 * E6);
        assert_eq!(l.protocol_fee, 20_833_333_333_333_333);
        assert_eq!(
            l.collateral_to_liquidator,
            4_374_999_999_999_999_999 - 20_833_333_333_333_333
        );
        // v2: same 50% but no protocol fee.
        let l2 = liquidate(
            &cfg(AaveVersion::V2),
            &a,
            &eth(1800),
            10 * E18,
            &usdc(),
            15_000 * E6,
            i128::MAX,
        )
        .unwrap();
        assert_eq!(l2.collateral_to_liquidator, 4_374_999_999_999_999_999);
        assert_eq!(l2.protocol_fee, 0);
        // v2 stays at 50% even at HF 0.935.
        let a = account_data(&[(10 * E18, eth(1700))], &[(15_000 * E6, usdc())]);
        let l2 = liquidate(
            &cfg(AaveVersion::V2),
            &a,
            &eth(1700),
            10 * E18,
            &usdc(),
            15_000 * E6,
            i128::MAX,
        )
        .unwrap();
        assert_eq!(l2.debt_repaid, 7_500 * E6);
        // healthy positions revert
        let a = account_data(&[(10 * E18, eth(2000))], &[(15_000 * E6, usdc())]);
        assert_eq!(
            liquidate(
                &cfg(AaveVersion::V3),
                &a,
                &eth(2000),
                10 * E18,
                &usdc(),
                15_000 * E6,
                1
            ),
            Err(RuleBlock::Healthy)
        );
    }

    #[test]
    fn v33_close_factor_by_size_dust_and_deficit() {
        let c = cfg(AaveVersion::V33);
        // Large position at HF 0.99: both sides >= $2000 -> 50% of total debt base:
        // percentMul(1.5e12, 5000) = 7.5e11 < 1.5e12 -> max = 7.5e11 * 1e6 / 1e8 = 7500e6.
        let a = account_data(&[(10 * E18, eth(1800))], &[(15_000 * E6, usdc())]);
        let l = liquidate(
            &c,
            &a,
            &eth(1800),
            10 * E18,
            &usdc(),
            15_000 * E6,
            i128::MAX,
        )
        .unwrap();
        assert_eq!(l.debt_repaid, 7_500 * E6);
        // Small position: 1 ETH at $1800 ($1800 < $2000), 1500 USDC, HF 0.99 -> 100%.
        let a = account_data(&[(E18, eth(1800))], &[(1_500 * E6, usdc())]);
        assert_eq!(a.health_factor, 990_000_000_000_000_000);
        let l = liquidate(&c, &a, &eth(1800), E18, &usdc(), 1_500 * E6, i128::MAX).unwrap();
        assert_eq!(l.debt_repaid, 1_500 * E6);
        // baseCollateral = 1e8*1500e6*1e18/(1800e8*1e6) = 833333333333333333; *1.05 -> 875000000000000000
        assert_eq!(
            l.collateral_to_liquidator + l.protocol_fee,
            875_000_000_000_000_000
        );
        // Covering only 1000 leaves $500 of debt < MIN_LEFTOVER_BASE -> MUST_NOT_LEAVE_DUST.
        assert_eq!(
            liquidate(&c, &a, &eth(1800), E18, &usdc(), 1_500 * E6, 1_000 * E6),
            Err(RuleBlock::MustNotLeaveDust)
        );
        // Underwater: 1 ETH at $1000, 1500 USDC. 1500 * 1.05 / 1000 = 1.575 ETH > 1 ->
        // collateral = 1e18; debtNeeded = percentDiv(1000e8*1e18*1e6/(1e8*1e18) = 1000e6, 10500)
        // = (1e9 * 10000 + 5250) / 10500 = 952380952; collateral base = 1000e8 = total -> deficit.
        let a = account_data(&[(E18, eth(1000))], &[(1_500 * E6, usdc())]);
        let l = liquidate(&c, &a, &eth(1000), E18, &usdc(), 1_500 * E6, i128::MAX).unwrap();
        assert_eq!(l.debt_repaid, 952_380_952);
        assert!(l.no_collateral_left);
        // fee: bonus = 1e18 - percentDiv(1e18, 10500) = 1e18 - 952380952380952381 = 47619047619047619
        // fee = (47619047619047619 * 1000 + 5000) / 10000 = 4761904761904762
        assert_eq!(l.protocol_fee, 4_761_904_761_904_762);
        // v3.0 on the same position books no deficit.
        let l = liquidate(
            &cfg(AaveVersion::V3),
            &a,
            &eth(1000),
            E18,
            &usdc(),
            1_500 * E6,
            i128::MAX,
        )
        .unwrap();
        assert!(!l.no_collateral_left);
    }
}
