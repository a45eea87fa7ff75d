//! Frictions: the gas price path and its cost, token amounts in USD at oracle
//! and market prices, and the environment a Maker auction reads.

use super::*;

pub(super) struct Env<'a> {
    pub(super) assets: &'a [AssetState],
    pub(super) gas: &'a [(Micros, Wad)],
    pub(super) default_gwei: Wad,
    pub(super) native: Option<u16>,
    pub(super) coll: u16,
}

pub(super) fn series_at(s: &[(Micros, Wad)], t: Micros) -> Option<Wad> {
    let i = s.partition_point(|(ts, _)| *ts <= t);
    if i == 0 {
        None
    } else {
        Some(s[i - 1].1)
    }
}

impl Env<'_> {
    fn gwei(&self, t: Micros) -> Wad {
        series_at(self.gas, t).unwrap_or(self.default_gwei)
    }
    fn gas_cost(&self, t: Micros, units: u64, native_px: Option<Wad>) -> Wad {
        gas_cost(self.gwei(t), units, native_px)
    }
}

/// USD cost of `units` of gas at `gwei` and a native token price
/// (`units * gwei * 1e-9` native tokens); zero without a price.
pub(super) fn gas_cost(gwei: Wad, units: u64, native_px: Option<Wad>) -> Wad {
    let Some(px) = native_px else {
        return Wad::ZERO;
    };
    let native_amt = mul_div_down(gwei.0, units as i128, 1_000_000_000).unwrap_or(0);
    Wad(mul_div_down(native_amt, px.0, WAD).unwrap_or(0))
}

impl maker::AuctionEnv for Env<'_> {
    fn market(&self, t: Micros) -> Option<Wad> {
        series_at(&self.assets[self.coll as usize].raw_series, t)
    }
    fn oracle(&self, t: Micros) -> Option<Wad> {
        self.market(t)
    }
    fn gas_gwei(&self, t: Micros) -> Wad {
        self.gwei(t)
    }
    fn gas_usd(&self, t: Micros, units: u64) -> Wad {
        let px = self
            .native
            .and_then(|n| series_at(&self.assets[n as usize].raw_series, t));
        self.gas_cost(t, units, px)
    }
}

impl Engine<'_> {
    /// [`gas_cost`] at `t`, remembered: it changes only with the gas price
    /// or the native token's price, and every attempt asks for it.
    pub(super) fn gas_usd(&self, t: Micros, units: u64) -> Wad {
        let px = self.native.and_then(|n| self.market_px(n as usize));
        let gwei = self.gwei(t);
        memo(&self.gas_memo, (gwei, units, px), || {
            gas_cost(gwei, units, px)
        })
    }

    pub(super) fn gwei(&self, t: Micros) -> Wad {
        series_at(&self.gas, t).unwrap_or(self.sc.frictions.gas.gwei)
    }

    pub(super) fn usd(&self, a: u16, amount: i128) -> Wad {
        Wad(wmul(
            amount,
            self.assets[a as usize].oracle.answer.unwrap_or_default().0,
        ))
    }

    pub(super) fn mkt_usd(&self, a: u16, amount: i128) -> Wad {
        Wad(wmul(
            amount,
            self.market_px(a as usize).unwrap_or_default().0,
        ))
    }
}
