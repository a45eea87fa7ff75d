//! Forensics of observed auctions and liquidation calls
//! (`observed_auctions`): Maker flip auctions per hour (zero-bid share
//! against the gas price and the gap between the OSM and the market, ETH
//! sold below market, DAI raised against the collateral's value) and
//! Compound liquidations (liquidator concentration, timing, collateral).
//!
//! Every figure comes from the rows as the source recorded them: the OSM
//! price at the deal, Santiment's market prices, the deal's gas price. Money
//! stays in fixed point; medians and shares are exact ratios of wads.

use std::collections::BTreeMap;

use serde::Serialize;
use shortfall_core::{LendingEvent, LendingKind, Micros, ObservedAuction, Wad};

/// A winning price below this (DAI per ETH) is a zero bid: the keepers'
/// zero and 1-wei bids of Black Thursday.
pub const ZERO_BID_PRICE: Wad = Wad::ONE;

const HOUR: i64 = 3_600_000_000;

/// One hour of dealt Maker auctions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MakerHour {
    /// Start of the hour (UTC).
    pub hour: Micros,
    pub dealt: u64,
    pub zero_bids: u64,
    /// `zero_bids / dealt`.
    pub zero_bid_share: Wad,
    pub eth_sold: Wad,
    pub dai_raised: Wad,
    /// Median gas price of the deals, gwei.
    pub gas_gwei_median: Option<Wad>,
    /// Median OSM price at the deals, USD.
    pub osm_median: Option<Wad>,
    /// Median market price at the deals, USD.
    pub market_median: Option<Wad>,
    /// Median of `osm / market - 1` over the deals with both prices.
    pub osm_market_gap_median: Option<Wad>,
    /// ETH sold at market prices minus DAI raised at DAI's market price, USD.
    pub below_market_usd: Wad,
}

/// Maker flip auctions of a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MakerForensics {
    pub first_deal: Option<Micros>,
    pub last_deal: Option<Micros>,
    pub dealt: u64,
    /// Auctions with bids but no deal in the source.
    pub not_dealt: u64,
    pub zero_bids: u64,
    pub zero_bid_share: Wad,
    pub eth_sold: Wad,
    /// ETH sold for zero bids.
    pub eth_zero_bid: Wad,
    pub dai_raised: Wad,
    /// DAI raised valued at DAI's market price (deals with a price).
    pub dai_raised_usd: Wad,
    /// ETH sold at the market price recorded at each deal, USD.
    pub market_value_usd: Wad,
    /// ETH sold at the OSM price at each deal, USD.
    pub osm_value_usd: Wad,
    /// `market_value_usd - dai_raised_usd` over deals with both prices.
    pub below_market_usd: Wad,
    /// Deals without a market price (left out of the USD figures).
    pub unpriced: u64,
    /// Zero-bid share in hours whose median gas price was at or above the
    /// window's median hour, and below it.
    pub zero_bid_share_high_gas: Option<Wad>,
    pub zero_bid_share_low_gas: Option<Wad>,
    /// Zero-bid share in hours where the OSM sat above the market by more
    /// than the window's median gap, and at or below it.
    pub zero_bid_share_wide_gap: Option<Wad>,
    pub zero_bid_share_narrow_gap: Option<Wad>,
    pub hours: Vec<MakerHour>,
}

fn ratio(n: u64, d: u64) -> Wad {
    if d == 0 {
        return Wad::ZERO;
    }
    Wad((i128::from(n) * Wad::ONE.0) / i128::from(d))
}

/// Median of a list (the lower of the two middle values for an even count).
pub fn median(mut v: Vec<Wad>) -> Option<Wad> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    Some(v[(v.len() - 1) / 2])
}

fn hour_of(t: Micros) -> Micros {
    Micros(t.0.div_euclid(HOUR) * HOUR)
}

fn mul(a: Wad, b: Wad) -> Wad {
    a.checked_mul_down(b).unwrap_or(Wad::ZERO)
}

/// Forensics of the dealt Maker flip auctions with `window.0 <= ts < window.1`.
pub fn maker(rows: &[ObservedAuction], window: Option<(Micros, Micros)>) -> MakerForensics {
    let inside = |r: &&ObservedAuction| {
        r.protocol == "maker"
            && r.mechanism == "flip"
            && window.is_none_or(|(a, b)| r.ts >= a && r.ts < b)
    };
    let all: Vec<&ObservedAuction> = rows.iter().filter(inside).collect();
    let dealt: Vec<&ObservedAuction> = all.iter().copied().filter(|r| r.state == "dealt").collect();
    let mut hours: BTreeMap<Micros, Vec<&ObservedAuction>> = BTreeMap::new();
    for r in &dealt {
        hours.entry(hour_of(r.ts)).or_default().push(r);
    }
    let is_zero = |r: &ObservedAuction| r.price_paid.is_some_and(|p| p < ZERO_BID_PRICE);
    let usd = |r: &ObservedAuction| -> Option<(Wad, Wad)> {
        let m = r.market_price_usd?;
        let d = r.debt_price_usd.unwrap_or(Wad::ONE);
        Some((mul(r.collateral_amount, m), mul(r.debt_amount, d)))
    };
    let gap = |r: &ObservedAuction| -> Option<Wad> {
        let (o, m) = (r.oracle_price_usd?, r.market_price_usd?);
        o.checked_div_down(m).map(|q| Wad(q.0 - Wad::ONE.0))
    };
    let mut out_hours = Vec::with_capacity(hours.len());
    for (hour, rs) in &hours {
        let zero = rs.iter().filter(|r| is_zero(r)).count() as u64;
        let below = rs
            .iter()
            .filter_map(|r| usd(r))
            .fold(Wad::ZERO, |a, (m, d)| Wad(a.0 + m.0 - d.0));
        out_hours.push(MakerHour {
            hour: *hour,
            dealt: rs.len() as u64,
            zero_bids: zero,
            zero_bid_share: ratio(zero, rs.len() as u64),
            eth_sold: Wad(rs.iter().map(|r| r.collateral_amount.0).sum()),
            dai_raised: Wad(rs.iter().map(|r| r.debt_amount.0).sum()),
            gas_gwei_median: median(rs.iter().filter_map(|r| r.gas_price_gwei).collect()),
            osm_median: median(rs.iter().filter_map(|r| r.oracle_price_usd).collect()),
            market_median: median(rs.iter().filter_map(|r| r.market_price_usd).collect()),
            osm_market_gap_median: median(rs.iter().filter_map(|r| gap(r)).collect()),
            below_market_usd: below,
        });
    }
    // Zero-bid share split by the hour's gas and gap against their medians.
    let split = |key: &dyn Fn(&MakerHour) -> Option<Wad>| -> (Option<Wad>, Option<Wad>) {
        let m = median(out_hours.iter().filter_map(key).collect());
        let Some(m) = m else { return (None, None) };
        let (mut hi, mut lo) = ((0u64, 0u64), (0u64, 0u64));
        for h in &out_hours {
            match key(h) {
                Some(v) if v >= m => {
                    hi.0 += h.zero_bids;
                    hi.1 += h.dealt;
                }
                Some(_) => {
                    lo.0 += h.zero_bids;
                    lo.1 += h.dealt;
                }
                None => {}
            }
        }
        (
            (hi.1 > 0).then(|| ratio(hi.0, hi.1)),
            (lo.1 > 0).then(|| ratio(lo.0, lo.1)),
        )
    };
    let (gas_hi, gas_lo) = split(&|h: &MakerHour| h.gas_gwei_median);
    let (gap_hi, gap_lo) = split(&|h: &MakerHour| h.osm_market_gap_median);
    let zero = dealt.iter().filter(|r| is_zero(r)).count() as u64;
    let priced: Vec<(Wad, Wad)> = dealt.iter().filter_map(|r| usd(r)).collect();
    MakerForensics {
        first_deal: dealt.iter().map(|r| r.ts).min(),
        last_deal: dealt.iter().map(|r| r.ts).max(),
        dealt: dealt.len() as u64,
        not_dealt: (all.len() - dealt.len()) as u64,
        zero_bids: zero,
        zero_bid_share: ratio(zero, dealt.len() as u64),
        eth_sold: Wad(dealt.iter().map(|r| r.collateral_amount.0).sum()),
        eth_zero_bid: Wad(dealt
            .iter()
            .filter(|r| is_zero(r))
            .map(|r| r.collateral_amount.0)
            .sum()),
        dai_raised: Wad(dealt.iter().map(|r| r.debt_amount.0).sum()),
        dai_raised_usd: Wad(priced.iter().map(|p| p.1 .0).sum()),
        market_value_usd: Wad(priced.iter().map(|p| p.0 .0).sum()),
        osm_value_usd: Wad(dealt
            .iter()
            .filter_map(|r| Some(mul(r.collateral_amount, r.oracle_price_usd?).0))
            .sum()),
        below_market_usd: Wad(priced.iter().map(|p| p.0 .0 - p.1 .0).sum()),
        unpriced: (dealt.len() - priced.len()) as u64,
        zero_bid_share_high_gas: gas_hi,
        zero_bid_share_low_gas: gas_lo,
        zero_bid_share_wide_gap: gap_hi,
        zero_bid_share_narrow_gap: gap_lo,
        hours: out_hours,
    }
}

/// One liquidator's part of the repaid debt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiquidatorShare {
    pub liquidator: String,
    pub events: u64,
    pub repaid: Wad,
    /// `repaid / total repaid`.
    pub share: Wad,
}

/// One collateral asset seized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CollateralShare {
    pub asset: String,
    pub events: u64,
    pub repaid: Wad,
    /// Collateral seized in its own units (cTokens for Compound).
    pub seized: Wad,
}

/// One hour of liquidation calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallHour {
    pub hour: Micros,
    pub events: u64,
    pub repaid: Wad,
}

/// Fixed-spread liquidations (Compound `LiquidateBorrow`) of one protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallForensics {
    pub protocol: String,
    pub debt_asset: String,
    pub first: Option<Micros>,
    pub last: Option<Micros>,
    pub events: u64,
    pub accounts: u64,
    pub repaid: Wad,
    /// Events (and their repaid debt) whose amounts the source rounded.
    pub rounded_events: u64,
    pub rounded_repaid: Wad,
    /// Largest relative error bound of any amount.
    pub max_rel_error: Wad,
    /// Liquidators by repaid debt, largest first.
    pub liquidators: Vec<LiquidatorShare>,
    /// Herfindahl-Hirschman index of the liquidators' shares (1 = one liquidator).
    pub hhi: Wad,
    pub by_collateral: Vec<CollateralShare>,
    pub hours: Vec<CallHour>,
}

/// Forensics of the fixed-spread liquidations of `protocol`.
pub fn calls(rows: &[ObservedAuction], protocol: &str) -> CallForensics {
    let rs: Vec<&ObservedAuction> = rows
        .iter()
        .filter(|r| r.protocol == protocol && r.mechanism == "fixed_spread")
        .collect();
    let repaid = Wad(rs.iter().map(|r| r.debt_amount.0).sum());
    let mut by_liq: BTreeMap<String, (u64, Wad)> = BTreeMap::new();
    let mut by_coll: BTreeMap<String, (u64, Wad, Wad)> = BTreeMap::new();
    let mut hours: BTreeMap<Micros, (u64, Wad)> = BTreeMap::new();
    for r in &rs {
        let l = by_liq
            .entry(r.liquidator.clone().unwrap_or_else(|| "(unknown)".into()))
            .or_insert((0, Wad::ZERO));
        l.0 += 1;
        l.1 = Wad(l.1 .0 + r.debt_amount.0);
        let c = by_coll
            .entry(r.collateral_asset.clone())
            .or_insert((0, Wad::ZERO, Wad::ZERO));
        c.0 += 1;
        c.1 = Wad(c.1 .0 + r.debt_amount.0);
        c.2 = Wad(c.2 .0 + r.collateral_amount.0);
        let h = hours.entry(hour_of(r.ts)).or_insert((0, Wad::ZERO));
        h.0 += 1;
        h.1 = Wad(h.1 .0 + r.debt_amount.0);
    }
    let share = |x: Wad| {
        if repaid.is_positive() {
            x.checked_div_down(repaid).unwrap_or(Wad::ZERO)
        } else {
            Wad::ZERO
        }
    };
    let mut liquidators: Vec<LiquidatorShare> = by_liq
        .into_iter()
        .map(|(liquidator, (events, rep))| LiquidatorShare {
            liquidator,
            events,
            repaid: rep,
            share: share(rep),
        })
        .collect();
    liquidators.sort_by(|a, b| {
        b.repaid
            .cmp(&a.repaid)
            .then(a.liquidator.cmp(&b.liquidator))
    });
    let hhi = Wad(liquidators.iter().map(|l| mul(l.share, l.share).0).sum());
    let mut by_collateral: Vec<CollateralShare> = by_coll
        .into_iter()
        .map(|(asset, (events, rep, seized))| CollateralShare {
            asset,
            events,
            repaid: rep,
            seized,
        })
        .collect();
    by_collateral.sort_by(|a, b| b.repaid.cmp(&a.repaid).then(a.asset.cmp(&b.asset)));
    let accounts: std::collections::BTreeSet<&str> =
        rs.iter().filter_map(|r| r.account.as_deref()).collect();
    CallForensics {
        protocol: protocol.to_string(),
        debt_asset: {
            let assets: std::collections::BTreeSet<&str> =
                rs.iter().map(|r| r.debt_asset.as_str()).collect();
            assets.into_iter().collect::<Vec<_>>().join(", ")
        },
        first: rs.iter().map(|r| r.ts).min(),
        last: rs.iter().map(|r| r.ts).max(),
        events: rs.len() as u64,
        accounts: accounts.len() as u64,
        repaid,
        rounded_events: rs.iter().filter(|r| r.rounded).count() as u64,
        rounded_repaid: Wad(rs
            .iter()
            .filter(|r| r.rounded)
            .map(|r| r.debt_amount.0)
            .sum()),
        max_rel_error: rs
            .iter()
            .map(|r| r.amount_rel_error)
            .max()
            .unwrap_or(Wad::ZERO),
        liquidators,
        hhi,
        by_collateral,
        hours: hours
            .into_iter()
            .map(|(hour, (events, rep))| CallHour {
                hour,
                events,
                repaid: rep,
            })
            .collect(),
    }
}

/// The fixed-spread liquidations of `lending_events` (Aave `LiquidationCall`,
/// Compound `LiquidateBorrow` decoded from logs or exports) as
/// `observed_auctions` rows, so that every observed stream aggregates the
/// same way. Amounts with their raw base units are exact; token amounts an
/// export gave as decimals are taken as written (error bound 0, noted).
/// The prices recorded with an event are the protocol oracle's, so they go
/// to `oracle_price_usd`; the market price is not in `lending_events`.
///
/// Rows without a chain position that agree in time, account, assets and
/// amounts (an export that lists one event twice, as the Aave v2 subgraph
/// export does where its two subgraph versions overlap) become one row whose
/// note says how many source rows it stands for; the count of merged rows
/// is returned with the rows.
pub fn from_lending(events: &[LendingEvent]) -> (Vec<ObservedAuction>, u64) {
    let mut out: Vec<ObservedAuction> = events
        .iter()
        .filter(|e| e.kind == LendingKind::Liquidation)
        .filter_map(|e| {
            let debt = e.amount?;
            let coll = e.collateral_amount?;
            let exact = e.amount_raw.is_some() && e.collateral_amount_raw.is_some();
            Some(ObservedAuction {
                ts: e.ts,
                ts_precision_secs: 1,
                block: e.block,
                tx_hash: e.tx_hash.clone(),
                log_index: e.log_index,
                source_ref: e.source_ref.clone().unwrap_or_default(),
                protocol: e.protocol.clone(),
                market: e.market.clone(),
                mechanism: "fixed_spread".into(),
                state: "executed".into(),
                auction_id: None,
                account: Some(e.account.clone()),
                liquidator: e.liquidator.clone(),
                collateral_asset: e.collateral_asset.clone()?,
                collateral_amount: coll,
                debt_asset: e.asset.clone(),
                debt_amount: debt,
                price_paid: None,
                bid_count: None,
                last_bid_ts: None,
                last_bid_block: None,
                last_bid_tx: None,
                gas_price_gwei: None,
                gas_cost_usd: None,
                oracle_price_usd: e.collateral_price_usd,
                market_price_usd: None,
                debt_price_usd: None,
                rounded: false,
                amount_rel_error: Wad::ZERO,
                note: match (exact, e.ts_estimated) {
                    (true, false) => String::new(),
                    (false, false) => "amounts as the export wrote them (no base units)".into(),
                    (true, true) => "block time estimated".into(),
                    (false, true) => {
                        "amounts as the export wrote them (no base units); block time estimated"
                            .into()
                    }
                },
            })
        })
        .collect();
    out.sort_by_key(ObservedAuction::key);
    let mut kept: Vec<(ObservedAuction, u64)> = Vec::with_capacity(out.len());
    let mut merged = 0u64;
    for r in out {
        match kept.last_mut() {
            Some((last, n)) if last.key() == r.key() => {
                *n += 1;
                merged += 1;
            }
            _ => kept.push((r, 1)),
        }
    }
    let rows = kept
        .into_iter()
        .map(|(mut r, n)| {
            if n > 1 {
                let note = format!(
                    "{n} identical source rows merged (no chain position to tell them apart)"
                );
                r.note = if r.note.is_empty() {
                    note
                } else {
                    format!("{}; {note}", r.note)
                };
            }
            r
        })
        .collect();
    (rows, merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Wad {
        Wad::parse_decimal(s, false).unwrap()
    }

    #[allow(clippy::too_many_arguments)]
    fn flip(
        id: u128,
        ts: &str,
        price: &str,
        lot: &str,
        gas: &str,
        osm: &str,
        market: &str,
    ) -> ObservedAuction {
        let price = w(price);
        let lot = w(lot);
        ObservedAuction {
            ts: Micros::parse(ts).unwrap(),
            ts_precision_secs: 1,
            block: Some(1),
            tx_hash: None,
            log_index: None,
            source_ref: format!("a.csv:{id}"),
            protocol: "maker".into(),
            market: "ETH-A".into(),
            mechanism: "flip".into(),
            state: "dealt".into(),
            auction_id: Some(id),
            account: None,
            liquidator: None,
            collateral_asset: "ETH".into(),
            collateral_amount: lot,
            debt_asset: "DAI".into(),
            debt_amount: price.checked_mul_down(lot).unwrap(),
            price_paid: Some(price),
            bid_count: Some(1),
            last_bid_ts: None,
            last_bid_block: None,
            last_bid_tx: None,
            gas_price_gwei: Some(w(gas)),
            gas_cost_usd: None,
            oracle_price_usd: Some(w(osm)),
            market_price_usd: Some(w(market)),
            debt_price_usd: Some(w("1.05")),
            rounded: false,
            amount_rel_error: Wad::ZERO,
            note: String::new(),
        }
    }

    #[test]
    fn maker_hours_zero_bids_gas_and_gap() {
        let rows = vec![
            // 10:00 hour: cheap gas, OSM 10% above market, one zero bid of two.
            flip(1, "2020-03-12T10:05:00Z", "0", "50", "20", "110", "100"),
            flip(2, "2020-03-12T10:35:00Z", "95", "10", "20", "110", "100"),
            // 11:00 hour: dear gas, OSM 50% above market, both zero bids.
            flip(3, "2020-03-12T11:00:00Z", "0", "50", "200", "150", "100"),
            flip(
                4,
                "2020-03-12T11:59:59Z",
                "0.000000000000000001",
                "20",
                "200",
                "150",
                "100",
            ),
        ];
        let mut undealt = flip(5, "2020-03-12T12:00:00Z", "0", "1", "1", "1", "1");
        undealt.state = "not_dealt".into();
        let mut all = rows.clone();
        all.push(undealt);
        let m = maker(&all, None);
        assert_eq!((m.dealt, m.not_dealt, m.zero_bids), (4, 1, 3));
        assert_eq!(m.zero_bid_share, w("0.75"));
        assert_eq!(m.eth_sold, w("130"));
        assert_eq!(m.eth_zero_bid, w("120"));
        // The 1-wei-per-ETH bid raised 20 wei.
        assert_eq!(m.dai_raised, w("950.00000000000000002"));
        assert_eq!(m.market_value_usd, w("13000"));
        assert_eq!(m.dai_raised_usd, w("997.500000000000000021"));
        assert_eq!(m.below_market_usd, w("12002.499999999999999979"));
        assert_eq!(
            m.osm_value_usd,
            w("5500") + w("1100") + w("7500") + w("3000")
        );
        assert_eq!(m.hours.len(), 2);
        let h = &m.hours[0];
        assert_eq!(h.hour, Micros::parse("2020-03-12T10:00:00Z").unwrap());
        assert_eq!((h.dealt, h.zero_bids, h.zero_bid_share), (2, 1, w("0.5")));
        assert_eq!(h.osm_market_gap_median, Some(w("0.1")));
        assert_eq!(m.hours[1].osm_market_gap_median, Some(w("0.5")));
        // Median hour gas is 20 (the lower middle of two): the dear hour
        // and the cheap one both count as "at or above" it.
        assert_eq!(m.zero_bid_share_high_gas, Some(w("0.75")));
        assert_eq!(m.zero_bid_share_low_gas, None);
        // A window keeps only its deals.
        let one = maker(
            &rows,
            Some((
                Micros::parse("2020-03-12T11:00:00Z").unwrap(),
                Micros::parse("2020-03-12T12:00:00Z").unwrap(),
            )),
        );
        assert_eq!((one.dealt, one.zero_bids), (2, 2));
    }

    #[test]
    fn lending_liquidations_become_observed_rows() {
        let ev = |secs: i64, account: &str, amount: &str| LendingEvent {
            ts: Micros::from_secs(secs),
            protocol: "aave_v2".into(),
            market: "pool".into(),
            kind: LendingKind::Liquidation,
            account: account.into(),
            asset: "USDC".into(),
            amount: Some(w(amount)),
            collateral_asset: Some("WETH".into()),
            collateral_amount: Some(w("1.5")),
            collateral_price_usd: Some(w("2500")),
            ts_estimated: false,
            block: None,
            tx_index: None,
            log_index: None,
            tx_hash: None,
            source_ref: Some(format!("x.csv:{account}")),
            amount_raw: None,
            collateral_amount_raw: None,
            liquidator: None,
            asset_price: None,
            collateral_price: None,
            price_unit: None,
            asset_price_usd: None,
            liquidity_index_raw: None,
            borrow_index_raw: None,
            liquidity_rate_raw: None,
            borrow_rate_raw: None,
            shares_raw: None,
            auction_id: None,
            account_balance_raw: None,
        };
        let mut supply = ev(1, "c", "1");
        supply.kind = LendingKind::Supply;
        // Two liquidations in one second without chain positions stay two rows.
        let (rows, merged) = from_lending(&[
            ev(5, "b", "100"),
            ev(5, "a", "100"),
            supply,
            ev(5, "a", "100"),
        ]);
        assert_eq!((rows.len(), merged), (2, 1));
        assert!(rows[0]
            .note
            .ends_with("; 2 identical source rows merged (no chain position to tell them apart)"));
        assert_eq!(rows[0].account.as_deref(), Some("a"));
        assert_eq!(rows[0].mechanism, "fixed_spread");
        assert_eq!(rows[0].oracle_price_usd, Some(w("2500")));
        assert!(rows[0].note.starts_with("amounts as the export wrote them"));
        let c = calls(&rows, "aave_v2");
        assert_eq!((c.events, c.repaid), (2, w("200")));
    }

    #[test]
    fn call_concentration() {
        let mk = |liq: &str, coll: &str, repaid: &str, ts: &str| {
            let mut r = flip(0, ts, "1", "1", "1", "1", "1");
            r.protocol = "compound_v2".into();
            r.mechanism = "fixed_spread".into();
            r.auction_id = None;
            r.liquidator = Some(liq.into());
            r.account = Some(format!("b-{repaid}"));
            r.collateral_asset = coll.into();
            r.debt_amount = w(repaid);
            r
        };
        let rows = vec![
            mk("a", "cETH", "75", "2020-11-26T08:55:00Z"),
            mk("b", "cUSDC", "20", "2020-11-26T09:10:00Z"),
            mk("a", "cETH", "5", "2020-11-26T09:20:00Z"),
        ];
        let c = calls(&rows, "compound_v2");
        assert_eq!((c.events, c.accounts), (3, 3));
        assert_eq!(c.repaid, w("100"));
        assert_eq!(c.liquidators[0].liquidator, "a");
        assert_eq!(c.liquidators[0].share, w("0.8"));
        assert_eq!(c.hhi, w("0.68"));
        assert_eq!(c.by_collateral[0].asset, "cETH");
        assert_eq!(c.hours.len(), 2);
        assert_eq!(c.hours[1].events, 2);
    }
}
