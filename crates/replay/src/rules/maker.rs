//! Maker liquidations: vault safety, Cat `bite`, Flipper (English auction,
//! `tend` then `dent`) and Clipper (Dutch auction, `take`, `redo`).
//!
//! Keepers act on their own clocks (latency, re-checks) with DAI capital and
//! a gas ceiling: when gas is above a keeper's ceiling its transactions do not
//! land. So with congested gas and few funded keepers a lone lowball bid wins
//! a flip auction after `ttl`, the Black Thursday pattern, from the mechanism.

use shortfall_core::money::{mul_div_down, mul_div_half_up, WAD};
use shortfall_core::{Micros, Wad};

use crate::scenario::{Liquidator, MakerParams};

/// Market and gas data an auction reads.
pub trait AuctionEnv {
    /// Market price of the collateral at `t`.
    fn market(&self, t: Micros) -> Option<Wad>;
    /// Oracle (OSM) price of the collateral at `t` (clip top).
    fn oracle(&self, t: Micros) -> Option<Wad>;
    /// Gas price in gwei at `t`.
    fn gas_gwei(&self, t: Micros) -> Wad;
    /// Gas cost in USD of `units` at `t`.
    fn gas_usd(&self, t: Micros, units: u64) -> Wad;
}

/// `ink * spot < art * rate` with `spot = price / mat` (rate = 1).
pub fn is_unsafe(ink: Wad, art: Wad, price: Wad, mat: Wad) -> bool {
    let spot = mul_div_down(price.0, WAD, mat.0).unwrap_or(0);
    mul_div_down(ink.0, spot, WAD).unwrap_or(0) < art.0
}

/// Cat v1 `bite`: (lot, debt taken, tab = debt * chop).
pub fn bite(ink: Wad, art: Wad, p: &MakerParams) -> (Wad, Wad, Wad) {
    let lot = ink.min(p.lump);
    let art_b = if lot == ink {
        art
    } else {
        Wad(mul_div_down(lot.0, art.0, ink.0).unwrap_or(0)).min(art)
    };
    let tab = Wad(mul_div_down(art_b.0, p.chop.0, WAD).unwrap_or(0));
    (lot, art_b, tab)
}

/// One auction action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuctionStep {
    pub ts: Micros,
    pub keeper: String,
    /// `tend`, `dent`, `take`, `redo`, `deal`, `blocked`.
    pub action: &'static str,
    /// DAI bid (tend/dent) or paid (take).
    pub bid: Wad,
    /// Lot at the step (collateral).
    pub lot: Wad,
    /// For `blocked`: why (gas, capital, unprofitable).
    pub reason: Option<&'static str>,
}

/// Result of an auction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuctionOutcome {
    pub steps: Vec<AuctionStep>,
    /// When the auction settled (or the horizon).
    pub end: Micros,
    pub settled: bool,
    /// DAI raised.
    pub raised: Wad,
    /// Collateral sold to keepers.
    pub lot_sold: Wad,
    /// Collateral returned to the vault owner (dent, or clip leftover).
    pub lot_returned: Wad,
    /// Clip incentives paid (`tip + chip * tab` per kick/redo).
    pub incentives: Wad,
    pub winner: Option<String>,
}

fn wmul_up(a: Wad, b: Wad) -> Wad {
    let x = mul_div_down(a.0, b.0, WAD).unwrap_or(i128::MAX);
    if mul_div_down(x, WAD, b.0.max(1)).unwrap_or(0) < a.0 && b.0 != 0 {
        Wad(x + 1)
    } else {
        Wad(x)
    }
}

fn lot_value(lot: Wad, price: Wad, margin: Wad) -> Wad {
    let v = mul_div_down(lot.0, price.0, WAD).unwrap_or(0);
    Wad(mul_div_down(v, WAD - margin.0, WAD).unwrap_or(0))
}

const RECHECK: i64 = 60 * Micros::PER_SEC;
const MAX_STEPS: usize = 20_000;

fn blocked(k: &Liquidator, t: Micros, lot: Wad, reason: &'static str) -> AuctionStep {
    AuctionStep {
        ts: t,
        keeper: k.name.clone(),
        action: "blocked",
        bid: Wad::ZERO,
        lot,
        reason: Some(reason),
    }
}

fn gas_ok(k: &Liquidator, env: &dyn AuctionEnv, t: Micros) -> bool {
    k.max_gas_gwei.is_none_or(|m| env.gas_gwei(t) <= m)
}

/// Flipper auction from `kick` until settled or `horizon`.
/// `tend`: `bid <= tab`, `bid > last`, `bid >= beg * last` or `bid == tab`;
/// `dent` (bid == tab): `beg * lot' <= lot`. Each bid sets `tic = now + ttl`;
/// the auction ends at `min(tic, end)` with `end = kick + tau`; without bids
/// it is restarted (`tick`).
pub fn run_flip(
    kick: Micros,
    tab: Wad,
    lot0: Wad,
    p: &MakerParams,
    keepers: &[Liquidator],
    env: &dyn AuctionEnv,
    horizon: Micros,
) -> AuctionOutcome {
    let mut out = AuctionOutcome::default();
    let ttl = p.ttl_secs * Micros::PER_SEC;
    let tau = p.tau_secs * Micros::PER_SEC;
    let mut end = Micros(kick.0 + tau);
    let mut tic: Option<Micros> = None;
    let (mut bid, mut lot) = (Wad::ZERO, lot0);
    let mut guy: Option<usize> = None;
    let mut next: Vec<i64> = keepers
        .iter()
        .map(|k| kick.0 + k.latency_secs * Micros::PER_SEC)
        .collect();
    let mut last_blocked: Vec<Option<&'static str>> = vec![None; keepers.len()];
    loop {
        if out.steps.len() > MAX_STEPS {
            break;
        }
        let (ki, t) = match next
            .iter()
            .enumerate()
            .filter(|(_, t)| **t < i64::MAX)
            .min_by_key(|(i, t)| (**t, *i))
        {
            Some((i, t)) => (Some(i), *t),
            None => (None, i64::MAX),
        };
        // Settlement before the next action?
        let close = match tic {
            Some(tc) => tc.0.min(end.0),
            None => end.0,
        };
        if t > close {
            if guy.is_some() {
                out.end = Micros(close);
                out.settled = true;
                break;
            }
            // tick: restart with no bids.
            if close >= horizon.0 {
                out.end = horizon;
                break;
            }
            end = Micros(close + tau);
            continue;
        }
        if t >= horizon.0 {
            out.end = horizon;
            break;
        }
        let Some(ki) = ki else { break };
        let k = &keepers[ki];
        let now = Micros(t);
        next[ki] = t + RECHECK;
        if guy == Some(ki) {
            next[ki] = i64::MAX;
            continue;
        }
        let mut note = |out: &mut AuctionOutcome, r: &'static str| {
            if last_blocked[ki] != Some(r) {
                out.steps.push(blocked(k, now, lot, r));
                last_blocked[ki] = Some(r);
            }
        };
        if !gas_ok(k, env, now) {
            note(&mut out, "gas");
            continue;
        }
        let Some(px) = env.market(now) else { continue };
        let gas = env.gas_usd(now, k.gas_units);
        let value = lot_value(lot, px, k.margin) - gas - k.min_profit_usd;
        let budget = value.min(k.capital_usd);
        if bid < tab {
            let min_next = if bid == Wad::ZERO {
                Wad(1)
            } else {
                wmul_up(bid, p.beg).max(Wad(bid.0 + 1))
            };
            let own = Wad(mul_div_down(value.0.max(0), k.opening_bid_share.0, WAD).unwrap_or(0));
            let target = min_next.max(own).min(tab);
            if target > budget {
                note(
                    &mut out,
                    if k.capital_usd < target {
                        "capital"
                    } else {
                        "unprofitable"
                    },
                );
                continue;
            }
            bid = target;
            out.steps.push(AuctionStep {
                ts: now,
                keeper: k.name.clone(),
                action: "tend",
                bid,
                lot,
                reason: None,
            });
        } else {
            // dent: the largest allowed lot is lot / beg.
            let max_lot = Wad(mul_div_down(lot.0, WAD, p.beg.0).unwrap_or(0));
            let denom = mul_div_down(px.0, WAD - k.margin.0, WAD).unwrap_or(0);
            let need = if denom > 0 {
                Wad(mul_div_down((tab + gas + k.min_profit_usd).0, WAD, denom).unwrap_or(i128::MAX))
            } else {
                Wad(i128::MAX)
            };
            let new_lot = if k.opening_bid_share == Wad::ZERO {
                max_lot
            } else {
                max_lot.min(need.max(Wad(1)))
            };
            if need > max_lot || new_lot <= Wad::ZERO {
                note(&mut out, "unprofitable");
                continue;
            }
            if k.capital_usd < tab {
                note(&mut out, "capital");
                continue;
            }
            lot = new_lot;
            out.steps.push(AuctionStep {
                ts: now,
                keeper: k.name.clone(),
                action: "dent",
                bid,
                lot,
                reason: None,
            });
        }
        last_blocked[ki] = None;
        guy = Some(ki);
        tic = Some(Micros(t + ttl));
        next[ki] = i64::MAX;
        for (j, kj) in keepers.iter().enumerate() {
            if j != ki {
                next[j] = next[j].min(t + kj.latency_secs * Micros::PER_SEC);
            }
        }
    }
    if out.settled {
        let g = guy.expect("settled with a bidder");
        out.winner = Some(keepers[g].name.clone());
        out.raised = bid;
        out.lot_sold = lot;
        out.lot_returned = lot0 - lot;
        out.steps.push(AuctionStep {
            ts: out.end,
            keeper: keepers[g].name.clone(),
            action: "deal",
            bid,
            lot,
            reason: None,
        });
    }
    out
}

/// `top * cut ^ floor(dt / step)` (StairstepExponentialDecrease, rpow half up).
pub fn clip_price(top: Wad, cut: Wad, step_secs: i64, dt_secs: i64) -> Wad {
    let mut n = (dt_secs.max(0) / step_secs) as u32;
    let mut base = cut.0;
    let mut acc = WAD;
    while n > 0 {
        if n & 1 == 1 {
            acc = mul_div_half_up(acc, base, WAD).unwrap_or(0);
        }
        base = mul_div_half_up(base, base, WAD).unwrap_or(0);
        n >>= 1;
    }
    Wad(mul_div_half_up(top.0, acc, WAD).unwrap_or(0))
}

/// Clipper auction: `top = oracle * buf`, price decays by `cut` each `step`;
/// keepers `take` when the price is below their market valuation; `redo`
/// when `tail` passed or `price / top < cusp` (paying `tip + chip * tab`).
pub fn run_clip(
    kick: Micros,
    tab0: Wad,
    lot0: Wad,
    p: &MakerParams,
    keepers: &[Liquidator],
    env: &dyn AuctionEnv,
    horizon: Micros,
) -> AuctionOutcome {
    let mut out = AuctionOutcome::default();
    let incentive = |tab: Wad| p.tip + Wad(mul_div_down(tab.0, p.chip.0, WAD).unwrap_or(0));
    let Some(o) = env.oracle(kick) else {
        out.end = horizon;
        return out;
    };
    let mut top = Wad(mul_div_down(o.0, p.buf.0, WAD).unwrap_or(0));
    let mut tic = kick;
    let (mut tab, mut lot) = (tab0, lot0);
    out.incentives = incentive(tab);
    let step = p.step_secs.max(1) * Micros::PER_SEC;
    let mut next: Vec<i64> = keepers
        .iter()
        .map(|k| kick.0 + k.latency_secs * Micros::PER_SEC)
        .collect();
    let mut last_blocked: Vec<Option<&'static str>> = vec![None; keepers.len()];
    while out.steps.len() < MAX_STEPS {
        let Some((ki, t)) = next
            .iter()
            .copied()
            .enumerate()
            .min_by_key(|(i, t)| (*t, *i))
        else {
            break;
        };
        if t >= horizon.0 {
            out.end = horizon;
            break;
        }
        next[ki] = t + step.clamp(Micros::PER_SEC, RECHECK);
        let k = &keepers[ki];
        let now = Micros(t);
        let dt = (t - tic.0) / Micros::PER_SEC;
        let price = clip_price(top, p.cut, p.step_secs, dt);
        let mut note = |out: &mut AuctionOutcome, r: &'static str| {
            if last_blocked[ki] != Some(r) {
                out.steps.push(blocked(k, now, lot, r));
                last_blocked[ki] = Some(r);
            }
        };
        if !gas_ok(k, env, now) {
            note(&mut out, "gas");
            continue;
        }
        let needs_redo =
            dt > p.tail_secs || mul_div_down(price.0, WAD, top.0.max(1)).unwrap_or(0) < p.cusp.0;
        if needs_redo {
            if let Some(o) = env.oracle(now) {
                top = Wad(mul_div_down(o.0, p.buf.0, WAD).unwrap_or(0));
                tic = now;
                out.incentives += incentive(tab);
                out.steps.push(AuctionStep {
                    ts: now,
                    keeper: k.name.clone(),
                    action: "redo",
                    bid: Wad::ZERO,
                    lot,
                    reason: None,
                });
            }
            continue;
        }
        let Some(px) = env.market(now) else { continue };
        let worth = mul_div_down(px.0, WAD - k.margin.0, WAD).unwrap_or(0);
        if price.0 > worth {
            note(&mut out, "unprofitable");
            continue;
        }
        // slice the keeper can pay for
        let afford = Wad(mul_div_down(k.capital_usd.0, WAD, price.0.max(1)).unwrap_or(0));
        let mut slice = lot.min(afford);
        let mut owe = Wad(mul_div_down(slice.0, price.0, WAD).unwrap_or(0));
        if owe > tab {
            owe = tab;
            slice = Wad(mul_div_down(owe.0, WAD, price.0.max(1)).unwrap_or(0)).min(lot);
        }
        let gas = env.gas_usd(now, k.gas_units);
        let profit = lot_value(slice, px, Wad::ZERO) - owe - gas;
        if slice <= Wad::ZERO || owe <= Wad::ZERO {
            note(&mut out, "capital");
            continue;
        }
        if profit < k.min_profit_usd {
            note(&mut out, "unprofitable");
            continue;
        }
        last_blocked[ki] = None;
        tab -= owe;
        lot -= slice;
        out.raised += owe;
        out.lot_sold += slice;
        out.steps.push(AuctionStep {
            ts: now,
            keeper: k.name.clone(),
            action: "take",
            bid: owe,
            lot: slice,
            reason: None,
        });
        if tab == Wad::ZERO || lot == Wad::ZERO {
            out.settled = true;
            out.end = now;
            out.lot_returned = lot;
            out.winner = Some(k.name.clone());
            break;
        }
    }
    if !out.settled && out.end == Micros::default() {
        out.end = horizon;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Flat {
        px: Wad,
        gas: Wad,
    }
    impl AuctionEnv for Flat {
        fn market(&self, _: Micros) -> Option<Wad> {
            Some(self.px)
        }
        fn oracle(&self, _: Micros) -> Option<Wad> {
            Some(self.px)
        }
        fn gas_gwei(&self, _: Micros) -> Wad {
            self.gas
        }
        fn gas_usd(&self, _: Micros, _: u64) -> Wad {
            Wad::from_int(10)
        }
    }

    fn keeper(
        name: &str,
        capital: i64,
        max_gas: Option<i64>,
        share: Wad,
        latency: i64,
    ) -> Liquidator {
        Liquidator {
            name: name.into(),
            latency_secs: latency,
            capital_usd: Wad::from_int(capital),
            gas_units: 300_000,
            max_gas_gwei: max_gas.map(Wad::from_int),
            min_profit_usd: Wad::ZERO,
            margin: Wad(50_000_000_000_000_000),
            opening_bid_share: share,
        }
    }

    #[test]
    fn vault_safety_and_bite() {
        // 10 ETH, 1000 DAI, mat 1.5: unsafe below 150 $/ETH.
        let p = MakerParams::default();
        assert!(!is_unsafe(
            Wad::from_int(10),
            Wad::from_int(1000),
            Wad::from_int(150),
            p.mat
        ));
        assert!(is_unsafe(
            Wad::from_int(10),
            Wad::from_int(1000),
            Wad::from_int(149),
            p.mat
        ));
        // lump 50 > ink: whole vault; tab = 1000 * 1.13 = 1130
        let (lot, art, tab) = bite(Wad::from_int(10), Wad::from_int(1000), &p);
        assert_eq!(
            (lot, art, tab),
            (Wad::from_int(10), Wad::from_int(1000), Wad::from_int(1130))
        );
        // lump 5: half the vault, half the debt
        let p5 = MakerParams {
            lump: Wad::from_int(5),
            ..p
        };
        assert_eq!(
            bite(Wad::from_int(10), Wad::from_int(1000), &p5).2,
            Wad::from_int(565)
        );
    }

    #[test]
    fn zero_bid_wins_when_gas_is_congested() {
        let p = MakerParams::default();
        let env = Flat {
            px: Wad::from_int(100),
            gas: Wad::from_int(200),
        };
        // Competitive keeper capped at 100 gwei (its txs do not land); lowball keeper pays any gas.
        let ks = vec![
            keeper("competitive", 1_000_000, Some(100), Wad::ONE, 5),
            keeper("lowball", 1_000_000, None, Wad::ZERO, 30),
        ];
        let o = run_flip(
            Micros(0),
            Wad::from_int(1130),
            Wad::from_int(10),
            &p,
            &ks,
            &env,
            Micros::from_secs(86_400),
        );
        assert!(o.settled);
        assert_eq!(o.winner.as_deref(), Some("lowball"));
        assert_eq!(o.raised, Wad(1)); // one wei of DAI
        assert_eq!(o.end, Micros::from_secs(30 + 600)); // tic = bid + ttl
                                                        // Same auction, normal gas: the competitive keeper bids its valuation
                                                        // 10 * 100 * 0.95 - 10 gas = 940, then the lowball cannot beat it profitably... it raises 940+.
        let env = Flat {
            px: Wad::from_int(100),
            gas: Wad::from_int(20),
        };
        let o = run_flip(
            Micros(0),
            Wad::from_int(1130),
            Wad::from_int(10),
            &p,
            &ks,
            &env,
            Micros::from_secs(86_400),
        );
        assert!(o.raised >= Wad::from_int(940), "{o:?}");
    }

    #[test]
    fn flip_dent_phase_returns_collateral() {
        let p = MakerParams::default();
        // Price 200: lot worth 2000*0.95 = 1900 > tab 1130 -> tend to tab, then dent.
        let env = Flat {
            px: Wad::from_int(200),
            gas: Wad::from_int(20),
        };
        let ks = vec![
            keeper("a", 1_000_000, None, Wad::ONE, 1),
            keeper("b", 1_000_000, None, Wad::ONE, 2),
        ];
        let o = run_flip(
            Micros(0),
            Wad::from_int(1130),
            Wad::from_int(10),
            &p,
            &ks,
            &env,
            Micros::from_secs(86_400),
        );
        assert!(o.settled);
        assert_eq!(o.raised, Wad::from_int(1130));
        assert!(o.lot_returned > Wad::ZERO);
        assert_eq!(o.lot_sold + o.lot_returned, Wad::from_int(10));
        // every dent respects beg: lot' * 1.03 <= lot
        let dents: Vec<_> = o.steps.iter().filter(|s| s.action == "dent").collect();
        for w in dents.windows(2) {
            assert!(mul_div_down(w[1].lot.0, p.beg.0, WAD).unwrap() <= w[0].lot.0);
        }
    }

    #[test]
    fn clip_price_curve() {
        // top 120, cut 0.99, step 90 s: after 180 s -> 120 * 0.99^2 = 117.612
        assert_eq!(
            clip_price(Wad::from_int(120), Wad(990_000_000_000_000_000), 90, 180),
            Wad(117_612_000_000_000_000_000)
        );
        assert_eq!(
            clip_price(Wad::from_int(120), Wad(990_000_000_000_000_000), 90, 89),
            Wad::from_int(120)
        );
    }

    #[test]
    fn clip_takes_when_price_below_valuation() {
        let p = MakerParams {
            chip: Wad(1_000_000_000_000_000),
            tip: Wad::from_int(300),
            ..MakerParams::default()
        };
        let env = Flat {
            px: Wad::from_int(100),
            gas: Wad::from_int(20),
        };
        let ks = vec![keeper("a", 1_000_000, None, Wad::ONE, 0)];
        let o = run_clip(
            Micros(0),
            Wad::from_int(1130),
            Wad::from_int(20),
            &p,
            &ks,
            &env,
            Micros::from_secs(86_400),
        );
        assert!(o.settled);
        assert_eq!(o.raised, Wad::from_int(1130));
        assert_eq!(o.lot_sold + o.lot_returned, Wad::from_int(20));
        // incentives at kick: 300 + 1130 * 0.001 = 301.13
        assert_eq!(o.incentives, Wad(301_130_000_000_000_000_000));
        // every take at a price <= 95 (market 100 less 5% margin)
        for s in o.steps.iter().filter(|s| s.action == "take") {
            assert!(mul_div_down(s.bid.0, WAD, s.lot.0).unwrap() <= 95 * WAD);
        }
    }
}
