//! Token decimals and the conversion between token units ([`Wad`]) and base
//! units (the integer a token contract holds).
//!
//! Decimals come from the `reserves` table, or else are inferred exactly
//! from the events of the asset that carry both `amount` and `amount_raw`
//! (`amount * 10^d == amount_raw * 10^18` holds for one `d` only when the
//! amount is not zero). No guess: an asset with neither is an error.

use std::collections::BTreeMap;

use shortfall_core::money::mul_div_half_up;
use shortfall_core::{LendingEvent, Reserve, Wad};

use crate::error::BooksError;
use crate::position::at;

type Key = (String, String, String);
/// Inferred decimals and the first event showing them, or two that disagree.
type Inferred = Result<(u32, String), (u32, u32, String)>;

/// Decimals per (protocol, market, asset).
#[derive(Debug, Default)]
pub(crate) struct Units {
    known: BTreeMap<Key, u32>,
    /// Inferred decimals, with the chain position of the first event, or the
    /// two values that disagree.
    inferred: BTreeMap<Key, Inferred>,
}

/// The `d` with `from_base_units(raw, d) == amount`, if any.
fn infer(amount: Wad, raw: u128) -> Option<u32> {
    if raw == 0 || amount.0 <= 0 {
        return None;
    }
    let raw = i128::try_from(raw).ok()?;
    (0..=38).find(|d| Wad::from_base_units(raw, *d).ok() == Some(amount))
}

impl Units {
    pub fn new<'e>(events: impl Iterator<Item = &'e LendingEvent>, reserves: &[Reserve]) -> Units {
        let mut u = Units::default();
        for r in reserves {
            u.known.insert(
                (r.protocol.clone(), r.market.clone(), r.asset.clone()),
                r.decimals,
            );
        }
        for e in events {
            let pairs = [
                (Some(&e.asset), e.amount, e.amount_raw),
                (
                    e.collateral_asset.as_ref(),
                    e.collateral_amount,
                    e.collateral_amount_raw,
                ),
            ];
            for (asset, amount, raw) in pairs {
                let (Some(asset), Some(amount), Some(raw)) = (asset, amount, raw) else {
                    continue;
                };
                let Some(d) = infer(amount, raw) else {
                    continue;
                };
                let key = (e.protocol.clone(), e.market.clone(), asset.clone());
                match u.inferred.get(&key) {
                    None => {
                        u.inferred.insert(key, Ok((d, at(e))));
                    }
                    Some(Ok((d0, first))) if *d0 != d => {
                        let v = Err((*d0, d, first.clone()));
                        u.inferred.insert(key, v);
                    }
                    Some(_) => {}
                }
            }
        }
        u
    }

    /// Decimals of an asset: the reserves row, else inferred from events.
    pub fn decimals(&self, protocol: &str, market: &str, asset: &str) -> Result<u32, BooksError> {
        let key = (protocol.to_string(), market.to_string(), asset.to_string());
        if let Some(d) = self.known.get(&key) {
            return Ok(*d);
        }
        match self.inferred.get(&key) {
            Some(Ok((d, _))) => Ok(*d),
            Some(Err((a, b, first))) => Err(BooksError::InconsistentDecimals {
                protocol: key.0,
                market: key.1,
                asset: key.2,
                a: *a,
                b: *b,
                at: first.clone(),
            }),
            None => Err(BooksError::UnknownDecimals {
                protocol: key.0,
                market: key.1,
                asset: key.2,
            }),
        }
    }

    /// An event amount in base units: `raw` when the event has it, else
    /// `amount * 10^decimals` (which must be a whole number of base units).
    pub fn raw_amount(
        &self,
        e: &LendingEvent,
        asset: &str,
        amount: Option<Wad>,
        raw: Option<u128>,
        field: &str,
    ) -> Result<u128, BooksError> {
        if let Some(r) = raw {
            return Ok(r);
        }
        let bad = |what: String| BooksError::BadEvent { at: at(e), what };
        let amount = amount.ok_or_else(|| bad(format!("{} has no {field}", e.kind)))?;
        if amount.is_negative() {
            return Err(bad(format!("negative {field} {amount}")));
        }
        let d = self.decimals(&e.protocol, &e.market, asset)?;
        let v = if d <= 18 {
            let f = 10i128.pow(18 - d);
            if amount.0 % f != 0 {
                return Err(bad(format!(
                    "{field} {amount} {asset} has more than {d} decimals"
                )));
            }
            amount.0 / f
        } else {
            amount
                .0
                .checked_mul(10i128.pow(d - 18))
                .ok_or_else(|| BooksError::Overflow {
                    what: format!("{field} of {}", at(e)),
                })?
        };
        Ok(v as u128)
    }
}

/// Base units to token units: exact up to 18 decimals, half up beyond.
pub(crate) fn to_wad(raw: u128, decimals: u32) -> Option<Wad> {
    let raw = i128::try_from(raw).ok()?;
    if decimals <= 18 {
        raw.checked_mul(10i128.pow(18 - decimals)).map(Wad)
    } else {
        let f = 10i128.checked_pow(decimals - 18)?;
        mul_div_half_up(raw, 1, f).map(Wad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shortfall_core::money::WAD;

    #[test]
    fn infers_exactly() {
        assert_eq!(infer(Wad::from_int(1000), 1_000_000_000), Some(6));
        assert_eq!(infer(Wad(WAD / 2), 5 * 10u128.pow(17)), Some(18));
        assert_eq!(infer(Wad::from_int(1), 3), None);
        assert_eq!(infer(Wad::ZERO, 0), None);
        assert_eq!(to_wad(1_500_000, 6), Some(Wad(WAD + WAD / 2)));
        assert_eq!(to_wad(15, 19), Some(Wad(2)));
    }
}
