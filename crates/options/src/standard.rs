//! Deribit standard margin for inverse (coin-settled) options, per contract
//! of one coin, in coin, in fixed point.
//!
//! The formula (OPTIONS_MARGIN.md §2, \[S\]: the same in TSLab's Deribit
//! connector docs, bit.com's coin-margined options page, OKEx's 2020
//! options page and Aevo's clone; Deribit's own current article was not
//! found):
//!
//! - short call: IM = max(0.15 - OTM/S, 0.10) + mark; MM = 0.075 + mark
//! - short put: IM = max(max(0.15 - OTM/S, 0.10) + mark, MM);
//!   MM = max(0.075, 0.075 × mark) + mark
//! - long options: IM = MM = 0 beyond the premium already paid
//!
//! with `OTM` the out-of-the-money amount in USD (`max(K - S, 0)` for a
//! call, `max(S - K, 0)` for a put), `S` the underlying mark price in USD
//! and `mark` the option's mark price in coin. For `S` the chain files'
//! `underlying` column (Deribit's `underlying_price`, the forward the option
//! is marked on) is what an ingest passes; the sources say "underlying mark
//! price" without saying whether that is the index or the forward.
//!
//! All arithmetic is `Wad` (18 decimals): `OTM/S` is the only division,
//! rounded half up like every `Wad` product and quotient. Deribit does not
//! publish its rounding; at 18 decimals it is far below any displayed digit.

use serde::{Deserialize, Serialize};
use shortfall_core::Wad;

use crate::black::OptionKind;
use crate::money::MoneyError;

/// The standard-margin rates, fractions of one coin per contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandardMarginParams {
    /// 0.15: the initial margin before the out-of-the-money reduction.
    pub im_base: Wad,
    /// 0.10: the floor of the initial margin (before the mark).
    pub im_floor: Wad,
    /// 0.075: the maintenance margin (before the mark).
    pub mm_base: Wad,
}

impl StandardMarginParams {
    /// Deribit's BTC and ETH inverse options (0.15 / 0.10 / 0.075).
    pub fn deribit_inverse() -> Self {
        StandardMarginParams {
            im_base: Wad(150_000_000_000_000_000),
            im_floor: Wad(100_000_000_000_000_000),
            mm_base: Wad(75_000_000_000_000_000),
        }
    }
}

/// One option position's market inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionMark {
    pub kind: OptionKind,
    /// Strike, USD.
    pub strike: Wad,
    /// Underlying mark price `S`, USD.
    pub underlying: Wad,
    /// Option mark price, coin per contract.
    pub mark: Wad,
}

/// Initial and maintenance margin, coin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Requirement {
    pub initial: Wad,
    pub maintenance: Wad,
}

fn ovf(what: &'static str) -> MoneyError {
    MoneyError::Overflow(what)
}

/// Bad standard-margin input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StandardMarginError {
    #[error("underlying price {0:?} is not positive")]
    Underlying(Wad),
    #[error("strike {0:?} is not positive")]
    Strike(Wad),
    #[error("option mark {0:?} is negative")]
    Mark(Wad),
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// The requirement of one short contract.
pub fn short_per_contract(
    p: &StandardMarginParams,
    o: &OptionMark,
) -> Result<Requirement, StandardMarginError> {
    if !o.underlying.is_positive() {
        return Err(StandardMarginError::Underlying(o.underlying));
    }
    if !o.strike.is_positive() {
        return Err(StandardMarginError::Strike(o.strike));
    }
    if o.mark.is_negative() {
        return Err(StandardMarginError::Mark(o.mark));
    }
    let otm = match o.kind {
        OptionKind::Call => o.strike.checked_sub(o.underlying),
        OptionKind::Put => o.underlying.checked_sub(o.strike),
    }
    .ok_or_else(|| ovf("out-of-the-money amount"))?
    .max(Wad::ZERO);
    let otm_frac = otm
        .checked_div(o.underlying)
        .ok_or_else(|| ovf("OTM / underlying"))?;
    let base = p
        .im_base
        .checked_sub(otm_frac)
        .ok_or_else(|| ovf("0.15 - OTM/S"))?
        .max(p.im_floor);
    let im_raw = base
        .checked_add(o.mark)
        .ok_or_else(|| ovf("initial margin"))?;
    Ok(match o.kind {
        OptionKind::Call => Requirement {
            initial: im_raw,
            maintenance: p
                .mm_base
                .checked_add(o.mark)
                .ok_or_else(|| ovf("maintenance margin"))?,
        },
        OptionKind::Put => {
            let scaled = p
                .mm_base
                .checked_mul(o.mark)
                .ok_or_else(|| ovf("0.075 × mark"))?;
            let mm = p
                .mm_base
                .max(scaled)
                .checked_add(o.mark)
                .ok_or_else(|| ovf("maintenance margin"))?;
            Requirement {
                initial: im_raw.max(mm),
                maintenance: mm,
            }
        }
    })
}

/// The requirement of a position of `size` contracts (negative = short):
/// `|size|` times the per-contract requirement for a short, zero for a long.
pub fn position(
    p: &StandardMarginParams,
    o: &OptionMark,
    size: Wad,
) -> Result<Requirement, StandardMarginError> {
    if !size.is_negative() {
        return Ok(Requirement::default());
    }
    let per = short_per_contract(p, o)?;
    let n = Wad(size.0.checked_neg().ok_or_else(|| ovf("size"))?);
    Ok(Requirement {
        initial: per
            .initial
            .checked_mul(n)
            .ok_or_else(|| ovf("initial × size"))?,
        maintenance: per
            .maintenance
            .checked_mul(n)
            .ok_or_else(|| ovf("maintenance × size"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Wad {
        Wad::parse_decimal(s, false).unwrap()
    }

    fn mark(kind: OptionKind, underlying: &str, strike: &str, m: &str) -> OptionMark {
        OptionMark {
            kind,
            strike: w(strike),
            underlying: w(underlying),
            mark: w(m),
        }
    }

    /// Worked examples on rows of the real chain of 2026-02-05 21:29 UTC
    /// (instrument, `underlying`, `strike`, `mark_price` as printed in the
    /// file); expected values computed independently with Python's
    /// `decimal` (60 digits, OTM/S rounded half up at 18 decimals), and by
    /// hand in the comments.
    #[test]
    fn worked_examples_on_real_rows() {
        let p = StandardMarginParams::deribit_inverse();
        let cases = [
            // BTC-24APR26-88000-C, far OTM call: 0.15 - 23,804/64,196 < 0.10, so
            // IM = 0.10 + 0.020192, MM = 0.075 + 0.020192.
            (
                mark(OptionKind::Call, "64195.92923076923", "88000", "0.020192"),
                "0.120192",
                "0.095192",
            ),
            // BTC-20FEB26-66000-C, near the money: OTM/S = 2,211.845/63,788.155 =
            // 0.034675..., IM = 0.15 - 0.034675 + 0.05404705.
            (
                mark(OptionKind::Call, "63788.155", "66000", "0.05404705"),
                "0.169372195397292021",
                "0.12904705",
            ),
            // BTC-7FEB26-61000-P, OTM put: OTM/S = 2,762.5/63,762.5.
            (
                mark(OptionKind::Put, "63762.5", "61000", "0.02127351"),
                "0.127948671732993531",
                "0.09627351",
            ),
            // BTC-7FEB26-69000-P, ITM put: OTM = 0, IM = 0.15 + mark, MM = 0.075 + mark.
            (
                mark(OptionKind::Put, "63726.13857142857", "69000", "0.08970832"),
                "0.23970832",
                "0.16470832",
            ),
            // ETH-27MAR26-10000-P, deep ITM put worth 4.29 ETH: 0.075 × mark beats
            // 0.075, and the MM (1.075 × 4.293604 = 4.6156243) beats the IM
            // formula (0.15 + 4.293604), so IM = MM.
            (
                mark(OptionKind::Put, "1889.71", "10000", "4.293604"),
                "4.6156243",
                "4.6156243",
            ),
        ];
        for (o, im, mm) in cases {
            let r = short_per_contract(&p, &o).unwrap();
            assert_eq!(r.initial, w(im), "{o:?}");
            assert_eq!(r.maintenance, w(mm), "{o:?}");
        }
    }

    #[test]
    fn positions_scale_shorts_and_ignore_longs() {
        let p = StandardMarginParams::deribit_inverse();
        let o = mark(OptionKind::Call, "64195.92923076923", "88000", "0.020192");
        let r = position(&p, &o, w("-25")).unwrap();
        assert_eq!(r.initial, w("3.0048"));
        assert_eq!(r.maintenance, w("2.3798"));
        assert_eq!(position(&p, &o, w("25")).unwrap(), Requirement::default());
        assert_eq!(position(&p, &o, Wad::ZERO).unwrap(), Requirement::default());
    }

    #[test]
    fn bad_inputs_are_errors() {
        let p = StandardMarginParams::deribit_inverse();
        let o = mark(OptionKind::Call, "0", "88000", "0.02");
        assert!(matches!(
            short_per_contract(&p, &o),
            Err(StandardMarginError::Underlying(_))
        ));
        let o = mark(OptionKind::Call, "1", "88000", "-0.02");
        assert!(matches!(
            short_per_contract(&p, &o),
            Err(StandardMarginError::Mark(_))
        ));
    }
}
