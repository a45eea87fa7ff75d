//! Realised versus configured liquidation bonus.
//!
//! Aave v2 `LiquidationLogic`: the collateral seized for `debtToCover` is
//! `debtToCover * debtPrice / collateralPrice * liquidationBonus` (with the
//! bonus as a percentage factor, 10500 = 5%), at the oracle prices of the
//! block. So `seized * collateralPrice / (repaid * debtPrice) - 1` should
//! equal the configured bonus up to rounding, when the recorded prices are
//! the oracle's at the event; a gap means other prices, other parameters at
//! the time, or a protocol fee.

use std::collections::BTreeMap;

use shortfall_core::{LendingEvent, LendingKind, ObservedLiquidation, Reserve, Wad};

/// Realised bonuses within this of the configured one count as matching
/// (0.1 percentage point: rounding of amounts and prices in exports).
pub const BONUS_TOLERANCE: Wad = Wad(1_000_000_000_000_000);

/// One row per liquidation event, in the events' order.
pub fn observe(events: &[LendingEvent], reserves: &[Reserve]) -> Vec<ObservedLiquidation> {
    let by_key: BTreeMap<(&str, &str, &str), &Reserve> = reserves
        .iter()
        .map(|r| {
            (
                (r.protocol.as_str(), r.market.as_str(), r.asset.as_str()),
                r,
            )
        })
        .collect();
    events
        .iter()
        .filter(|e| e.kind == LendingKind::Liquidation)
        .map(|e| observe_one(e, &by_key))
        .collect()
}

fn value(amount: Option<Wad>, price: Option<Wad>) -> Option<Wad> {
    amount?.checked_mul_down(price?)
}

/// USD per unit of the event's price unit implied by one leg (USD value
/// over unit value), when both are known and the unit is not USD itself.
pub fn implied_rate(usd: Option<Wad>, in_unit: Option<Wad>) -> Option<Wad> {
    let (u, v) = (usd?, in_unit?);
    if !v.is_positive() {
        return None;
    }
    u.checked_div_down(v)
}

fn observe_one(
    e: &LendingEvent,
    reserves: &BTreeMap<(&str, &str, &str), &Reserve>,
) -> ObservedLiquidation {
    let (repaid, seized) = (e.amount, e.collateral_amount);
    let collateral_asset = e.collateral_asset.clone().unwrap_or_default();
    let mut notes: Vec<String> = Vec::new();
    if e.collateral_asset.is_none() {
        notes.push("no collateral asset recorded".into());
    }
    if repaid.is_none() {
        notes.push("debt repaid not recorded in token units".into());
    }
    if seized.is_none() {
        notes
            .push("collateral seized not recorded in token units (Compound seizes cTokens)".into());
    }
    let repaid_usd = value(repaid, e.asset_price_usd);
    let seized_usd = value(seized, e.collateral_price_usd);
    // Value in the event's own price unit (the oracle's), else in USD.
    let (unit, repaid_value, seized_value) = match (e.asset_price, e.collateral_price) {
        (Some(a), Some(c)) => (
            e.price_unit.clone(),
            value(repaid, Some(a)),
            value(seized, Some(c)),
        ),
        _ if repaid_usd.is_some() && seized_usd.is_some() => {
            notes.push("valued at the export's USD prices (no oracle prices at this event)".into());
            (Some("USD".to_string()), repaid_usd, seized_usd)
        }
        (a, c) => {
            let missing = match (a, c) {
                (None, None) => "no prices",
                (None, _) => "no debt asset price",
                _ => "no collateral price",
            };
            notes.push(format!("{missing} at this event"));
            (e.price_unit.clone(), value(repaid, a), value(seized, c))
        }
    };
    if let (Some(r), Some(s)) = (
        implied_rate(repaid_usd, repaid_value),
        implied_rate(seized_usd, seized_value),
    ) {
        // Both legs price the oracle's unit in USD; they should agree.
        let (lo, hi) = (r.min(s), r.max(s));
        if lo.is_positive() && hi.0 > lo.0.saturating_add(lo.0 / 20) {
            notes.push(
                "the source's USD and unit prices disagree by more than 5% between the two legs"
                    .into(),
            );
        }
    }
    let realised_bonus = match (repaid_value, seized_value) {
        (Some(r), Some(s)) if r.is_positive() => {
            s.checked_div_down(r).map(|q| Wad(q.0 - Wad::ONE.0))
        }
        (Some(_), Some(_)) => {
            notes.push("debt repaid is worth 0".into());
            None
        }
        _ => None,
    };
    let reserve = reserves
        .get(&(
            e.protocol.as_str(),
            e.market.as_str(),
            collateral_asset.as_str(),
        ))
        .copied();
    let configured_bonus = match reserve {
        Some(r) => {
            if r.liquidation_bonus.0 == 0 {
                notes.push(
                    "reserve file lists no bonus for this collateral (parameters as exported, maybe not those at the event)"
                        .into(),
                );
            }
            Some(r.liquidation_bonus)
        }
        None => {
            notes.push("collateral reserve not in the reserves file".into());
            None
        }
    };
    let bonus_gap = match (realised_bonus, configured_bonus) {
        (Some(r), Some(c)) => Some(Wad(r.0 - c.0)),
        _ => None,
    };
    ObservedLiquidation {
        ts: e.ts,
        block: e.block,
        log_index: e.log_index,
        tx_hash: e.tx_hash.clone(),
        source_ref: e.source_ref.clone(),
        protocol: e.protocol.clone(),
        market: e.market.clone(),
        account: e.account.clone(),
        liquidator: e.liquidator.clone(),
        debt_asset: e.asset.clone(),
        debt_repaid: repaid.unwrap_or(Wad(0)),
        collateral_asset,
        collateral_seized: seized.unwrap_or(Wad(0)),
        value_unit: unit,
        repaid_value,
        seized_value,
        repaid_usd,
        seized_usd,
        realised_bonus,
        configured_bonus,
        bonus_gap,
        note: notes.join("; "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shortfall_core::Micros;

    fn w(s: &str) -> Wad {
        Wad::parse_decimal(s, false).unwrap()
    }

    fn liq(
        repaid: &str,
        seized: &str,
        debt_px: Option<&str>,
        coll_px: Option<&str>,
    ) -> LendingEvent {
        let mut e = LendingEvent::new(
            Micros(0),
            "aave_v2",
            "pool",
            LendingKind::Liquidation,
            "a",
            "USDC",
        );
        e.amount = Some(w(repaid));
        e.collateral_asset = Some("AAVE".into());
        e.collateral_amount = Some(w(seized));
        e.asset_price = debt_px.map(w);
        e.collateral_price = coll_px.map(w);
        e.price_unit = Some("ETH".into());
        e
    }

    fn reserve(asset: &str, bonus: &str) -> Reserve {
        Reserve {
            protocol: "aave_v2".into(),
            market: "pool".into(),
            asset: asset.into(),
            decimals: 18,
            liquidation_threshold: w("0.7"),
            liquidation_bonus: w(bonus),
            usable_as_collateral: Some(true),
            borrowing_enabled: None,
        }
    }

    #[test]
    fn realised_bonus_of_a_real_event() {
        // Line 7 of the Aave v2 export (2021-05-19): 121,945.051112 USDC repaid
        // for 318.221335498816797778 AAVE at the recorded oracle prices in ETH.
        let e = liq(
            "121945.051112",
            "318.221335498816797778",
            Some("0.000437325827098125"),
            Some("0.1843455665219044"),
        );
        let o = observe(&[e], &[reserve("AAVE", "0.075")]);
        assert_eq!(o.len(), 1);
        let o = &o[0];
        assert_eq!(o.value_unit.as_deref(), Some("ETH"));
        // 53.33 ETH repaid, 58.66 ETH seized: 10.0%, against 7.5% configured.
        assert_eq!(o.repaid_value.unwrap().0 / 10i128.pow(14), 533_297);
        assert_eq!(o.seized_value.unwrap().0 / 10i128.pow(14), 586_626);
        let r = o.realised_bonus.unwrap();
        assert!((r.0 - w("0.1").0).abs() < w("0.0001").0, "{r}");
        assert!((o.bonus_gap.unwrap().0 - w("0.025").0).abs() < w("0.0001").0);
        assert_eq!(o.note, "");
    }

    #[test]
    fn legs_that_disagree_on_the_unit_price_are_flagged() {
        let mut e = liq("1000", "5.5", Some("0.0005"), Some("0.1"));
        e.asset_price_usd = Some(w("1")); // 2,000 USD per ETH
        e.collateral_price_usd = Some(w("200")); // 2,000 USD per ETH
        let o = &observe(&[e.clone()], &[reserve("AAVE", "0.1")])[0];
        assert_eq!(o.note, "");
        e.collateral_price_usd = Some(w("230")); // 2,300: 15% apart
        let o = &observe(&[e], &[reserve("AAVE", "0.1")])[0];
        assert!(o.note.contains("disagree by more than 5%"), "{}", o.note);
        assert_eq!(
            o.realised_bonus,
            Some(w("0.1")),
            "the bonus uses the unit prices"
        );
    }

    #[test]
    fn exact_bonus_gives_zero_gap() {
        // 1,000 USDC at 0.0005 ETH = 0.5 ETH; 0.55 ETH of collateral at 0.1 = 5.5.
        let e = liq("1000", "5.5", Some("0.0005"), Some("0.1"));
        let o = &observe(&[e], &[reserve("AAVE", "0.1")])[0];
        assert_eq!(o.realised_bonus, Some(w("0.1")));
        assert_eq!(o.bonus_gap, Some(Wad(0)));
    }

    #[test]
    fn missing_prices_and_reserves_are_noted_not_guessed() {
        let e = liq("1000", "5.5", Some("0.0005"), None);
        let o = &observe(&[e], &[])[0];
        assert_eq!(
            (o.realised_bonus, o.configured_bonus, o.bonus_gap),
            (None, None, None)
        );
        assert_eq!(o.repaid_value, Some(w("0.5")));
        assert_eq!(
            o.note,
            "no collateral price at this event; collateral reserve not in the reserves file"
        );

        // USD prices stand in when the oracle prices are missing.
        let mut e = liq("1000", "5.5", None, None);
        e.asset_price_usd = Some(w("1"));
        e.collateral_price_usd = Some(w("200"));
        let o = &observe(&[e], &[reserve("AAVE", "0.1")])[0];
        assert_eq!(o.value_unit.as_deref(), Some("USD"));
        assert_eq!(o.realised_bonus, Some(w("0.1")));
        assert!(o.note.starts_with("valued at the export's USD prices"));

        // A Compound liquidation seizes cTokens: no seized amount in token
        // units, so no realised bonus (not a bonus of -100%).
        let mut c = liq("1000", "5.5", Some("0.0005"), Some("0.1"));
        c.collateral_amount = None;
        let o = &observe(&[c], &[reserve("AAVE", "0.1")])[0];
        assert_eq!((o.seized_value, o.realised_bonus), (None, None));
        assert!(
            o.note
                .starts_with("collateral seized not recorded in token units"),
            "{}",
            o.note
        );

        // Non-liquidation events are not rows.
        let mut s = liq("1", "1", None, None);
        s.kind = LendingKind::Supply;
        assert!(observe(&[s], &[]).is_empty());
    }
}
