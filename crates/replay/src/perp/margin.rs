//! Margin arithmetic of perpetual positions, exact fixed point.
//!
//! Notation: a position of `q` base units with quote cost basis `C`
//! (`q * entry`, the quote paid at entry), a margin balance `M` (collateral
//! at its haircut value plus realised cash), mark price `p`.
//! - notional `N(p) = q * p`;
//! - unrealised PnL: long `q * p - C`, short `C - q * p`;
//! - equity `E(p) = M + uPnL(p)`;
//! - maintenance margin `MM(p) = N(p) * mmr - ma` of the tier holding
//!   `N(p)` (Binance: "MM = notional x MMR - maintenance amount"; the same
//!   form is Hyperliquid's `notional x mmr - deduction`), CRISES.md §4;
//! - initial margin `IM = N * imr`, `imr = 1 / max_leverage`;
//! - liquidatable when `E < MM`.
//!
//! Isolated, one position:
//! - bankruptcy price (`E = 0`): long `(C - M) / q`, short `(C + M) / q`;
//! - liquidation price (`E = MM`) in the tier `(mmr, ma)` that holds it:
//!   long `(C - M - ma) / (q * (1 - mmr))`, short
//!   `(C + M + ma) / (q * (1 + mmr))` (Binance's isolated formula
//!   `LP = (WB + cum - side*q*EP) / (q*MMR - side*q)` with `WB = M`,
//!   `cum = ma`, `q*EP = C`).
//!
//! Rounding is against the trader: PnL and collateral values round down
//! (a long's notional down, a short's buy-back notional up), margins up,
//! a long's liquidation and bankruptcy prices up and a short's down (the
//! trader is liquidated at, or marginally before, the exact level).

use shortfall_core::money::{mul_div_down, WAD};
use shortfall_core::{PerpSide, Wad};

use super::config::Tier;

/// `a * b / WAD` rounded down (`up = false`) or up, for `a, b >= 0`; None on
/// overflow. Splits at 10^18 so the common case needs no 256-bit division.
pub fn wmul_dir(a: i128, b: i128, up: bool) -> Option<i128> {
    debug_assert!(a >= 0 && b >= 0);
    let w = WAD as u128;
    let (ua, ub) = (a as u128, b as u128);
    let (ah, al, bh, bl) = (ua / w, ua % w, ub / w, ub % w);
    let low = al * bl;
    let r = ah
        .checked_mul(bh)
        .and_then(|x| x.checked_mul(w))
        .and_then(|x| x.checked_add(ah.checked_mul(bl)?))
        .and_then(|x| x.checked_add(al.checked_mul(bh)?))
        .and_then(|x| x.checked_add(low / w))
        .and_then(|x| x.checked_add((up && low % w != 0) as u128))
        .and_then(|x| i128::try_from(x).ok());
    match r {
        Some(r) => Some(r),
        None => mul_div_dir(a, b, WAD, up),
    }
}

/// `a * b / d` rounded down or up, for `a, b >= 0`, `d > 0`.
pub fn mul_div_dir(a: i128, b: i128, d: i128, up: bool) -> Option<i128> {
    debug_assert!(a >= 0 && b >= 0 && d > 0);
    let q = mul_div_down(a, b, d)?;
    if !up || b == 0 {
        return Some(q);
    }
    // Exact iff floor(q * d / b) == a (q*d = a*b - r, r < d; r > 0 makes
    // q*d/b < a).
    let exact = mul_div_down(q, d, b)? == a;
    q.checked_add((!exact) as i128)
}

/// Notional `q * p`, rounded down.
pub fn notional(size: Wad, price: Wad) -> Wad {
    Wad(wmul_dir(size.0, price.0, false).unwrap_or(i128::MAX / 4))
}

/// Quote value of `q` base at `p` as the trader sees it: a long's sale
/// proceeds (rounded down), a short's buy-back cost (rounded up).
pub fn close_value(side: PerpSide, size: Wad, price: Wad) -> Wad {
    let up = side == PerpSide::Short;
    Wad(wmul_dir(size.0, price.0, up).unwrap_or(i128::MAX / 4))
}

/// Unrealised PnL of `q` with cost basis `cost` at `price`.
pub fn upnl(side: PerpSide, size: Wad, cost: Wad, price: Wad) -> Wad {
    let v = close_value(side, size, price);
    match side {
        PerpSide::Long => v - cost,
        PerpSide::Short => cost - v,
    }
}

/// The tier holding `notional` (bounds inclusive; above the last bound, the
/// last tier).
pub fn tier_for(tiers: &[Tier], notional: Wad) -> &Tier {
    tiers
        .iter()
        .find(|t| t.max_notional.is_none_or(|b| notional <= b))
        .unwrap_or_else(|| tiers.last().expect("tiers are never empty"))
}

/// Maintenance margin `notional * mmr - ma` (rounded up, not below 0).
pub fn maintenance_margin(tiers: &[Tier], notional: Wad) -> Wad {
    let t = tier_for(tiers, notional);
    let mm = wmul_dir(notional.0.max(0), t.mmr.0, true).unwrap_or(i128::MAX / 4);
    Wad((mm - t.maintenance_amount.0).max(0))
}

/// Initial margin `notional / max_leverage` (rounded up).
pub fn initial_margin(tiers: &[Tier], notional: Wad) -> Wad {
    let t = tier_for(tiers, notional);
    Wad(wmul_dir(notional.0.max(0), t.imr.0, true).unwrap_or(i128::MAX / 4))
}

/// Haircut value of `amount` of a collateral at `price`:
/// `amount * price * (1 - haircut)`, rounded down.
pub fn collateral_value(amount: Wad, price: Wad, haircut: Wad) -> Wad {
    let v = wmul_dir(amount.0.max(0), price.0.max(0), false).unwrap_or(i128::MAX / 4);
    Wad(wmul_dir(v, WAD - haircut.0, false).unwrap_or(i128::MAX / 4))
}

/// Signed `num * WAD / den` (den > 0), rounded toward +inf (`up`) or -inf.
fn div_wad_dir(num: i128, den: i128, up: bool) -> Option<i128> {
    if num >= 0 {
        mul_div_dir(num, WAD, den, up)
    } else {
        mul_div_dir(-num, WAD, den, !up).map(|x| -x)
    }
}

/// Bankruptcy price of an isolated position: the mark at which its equity
/// is zero. Long `(C - M) / q` rounded up, short `(C + M) / q` rounded
/// down. None when the position cannot go bankrupt (a long with `M >= C`)
/// or on overflow.
pub fn bankruptcy_price(side: PerpSide, size: Wad, cost: Wad, margin: Wad) -> Option<Wad> {
    if !size.is_positive() {
        return None;
    }
    match side {
        PerpSide::Long => {
            let num = cost.0.checked_sub(margin.0)?;
            (num > 0).then(|| div_wad_dir(num, size.0, true).map(Wad))?
        }
        PerpSide::Short => div_wad_dir(cost.0.checked_add(margin.0)?, size.0, false).map(Wad),
    }
}

/// Liquidation price of an isolated position: the mark at which equity
/// equals the maintenance margin, in the tier that holds the notional
/// there (unique: `E - MM` is monotonic in the price). Long rounded up,
/// short rounded down (two directed roundings, so within 2e-18 of exact).
/// None when a long can never be liquidated.
pub fn liquidation_price(
    tiers: &[Tier],
    side: PerpSide,
    size: Wad,
    cost: Wad,
    margin: Wad,
) -> Option<Wad> {
    if !size.is_positive() {
        return None;
    }
    let mut fallback = None;
    for (k, t) in tiers.iter().enumerate() {
        let p = match side {
            PerpSide::Long => {
                let num = cost.0 - margin.0 - t.maintenance_amount.0;
                if num <= 0 {
                    continue;
                }
                let per_unit = div_wad_dir(num, size.0, true)?;
                div_wad_dir(per_unit, WAD - t.mmr.0, true)?
            }
            PerpSide::Short => {
                let num = cost.0 + margin.0 + t.maintenance_amount.0;
                let per_unit = div_wad_dir(num, size.0, false)?;
                div_wad_dir(per_unit, WAD + t.mmr.0, false)?
            }
        };
        let held = tier_for(tiers, notional(size, Wad(p)));
        if std::ptr::eq(held, &tiers[k]) {
            return Some(Wad(p));
        }
        fallback.get_or_insert(Wad(p));
    }
    fallback
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directed_rounding() {
        assert_eq!(wmul_dir(3, WAD / 2, false), Some(1));
        assert_eq!(wmul_dir(3, WAD / 2, true), Some(2));
        assert_eq!(wmul_dir(4, WAD / 2, true), Some(2));
        assert_eq!(mul_div_dir(2, 1, 3, true), Some(1));
        assert_eq!(mul_div_dir(3, 1, 3, true), Some(1));
        assert_eq!(mul_div_dir(0, 1, 3, true), Some(0));
        let big = 10i128.pow(25);
        assert_eq!(
            wmul_dir(big, big + 1, true),
            Some(10i128.pow(32) + 10i128.pow(7))
        );
        assert_eq!(div_wad_dir(-1, 3 * WAD, false), Some(-1));
        assert_eq!(div_wad_dir(-1, 3 * WAD, true), Some(0));
    }
}
