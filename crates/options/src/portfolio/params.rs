//! Portfolio-margin parameters: one settlement currency's model values,
//! the shipped presets, and the scenarios they define.

use serde::{Deserialize, Serialize};
use shortfall_core::Wad;

use super::PmError;

/// How the volatility shock applies to an option's IV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VolShock {
    /// `IV × (1 ± range × f)` (current Deribit, per re-implementations).
    Relative,
    /// `IV ± range × f` (vol points; the old docs' reading).
    Absolute,
}

/// The extended-table dampener. Deribit names it (`extended_dampener`:
/// BTC 100,000, ETH 200,000, USD 25,000) and says it is applied, but
/// publishes no formula and no unit. The candidates the sources document:
///
/// - the **deductible** (a GitHub re-implementation \[S, unverified\]):
///   each extended entry shrinks toward zero by
///   `d = (|move| / price_range - 1) × extended_dampener`, to
///   `sign(p) × max(|p| - d, 0)`. It is the only
///   candidate that reproduces the aggregated extended vectors of both of
///   Deribit's examples: the ETH capture's short perpetual (pre-aggregated
///   0.2194 twice, -0.1525 six times) and the BTC docs example's perpetual
///   and future (-0.0597 twice, 0.0432 six times) all aggregate to 0. In
///   two unit readings:
///   - [`Dampener::DeductibleUsd`] (**default**): `extended_dampener` in
///     USD, converted to coin at the scenario's index (`index × (1 +
///     move)`, where the coin P&L is measured). At -66% on BTC at 64,000 it
///     deducts 3.125 × 100,000 USD = 14.4 BTC.
///   - [`Dampener::DeductibleCoin`]: in coin, as the parameter sits under
///     `currency.btc`. Then it deducts 312,500 BTC at -66%, more than all
///     of Deribit's BTC open interest: the extended table could never bind.
///
///   Both examples hold sub-coin positions, so neither tells the units
///   apart. The default reads USD because the three published values are
///   coherent only in one unit: 25,000 for USD-settled books is USD, and
///   100,000 (BTC) and 200,000 (ETH) are of the same order; read as coin
///   they would be 6.5 billion and 400 million USD next to 25,000. And in
///   USD the table binds for short out-of-the-money books, which the
///   support article says it is for, and lands close to the one formula a
///   venue publishes (Paradex's move weights): 10 short 27MAR26 70,000
///   puts and 90,000 calls on 2026-02-03 need 4.20 BTC (USD deductible),
///   3.93 (move-weighted), 1.20 (coin deductible, the outlier) against
///   2.53 under standard margin (`tests/crash.rs` prints the path). This is
///   a judgement, not a check.
/// - [`Dampener::MoveWeighted`]: each entry weighted by `price_range /
///   |move|` (Paradex, a Deribit-style clone \[S\]). It gives both
///   examples' margins but not their aggregated extended vectors (entries
///   stay non-zero, e.g. 0.6 × 0.18/0.66 × 0.2194 = 0.0359 on the ETH
///   capture's first).
/// - [`Dampener::Undampened`]: the entries as they are, a bound for
///   sensitivity runs. Also gives both examples' margins (their extended
///   entries are futures clamped to the edge buckets) but not their
///   extended vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dampener {
    #[default]
    DeductibleUsd,
    DeductibleCoin,
    MoveWeighted,
    Undampened,
}

/// The parameters of one settlement currency's portfolio margin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PmParams {
    pub name: String,
    pub as_of: String,
    pub source: String,
    /// Which values are primary, secondary, derived or assumed.
    pub basis: String,
    pub price_range: f64,
    pub buckets_count: u32,
    pub volatility_range_up: f64,
    pub volatility_range_down: f64,
    pub short_term_vega_power: f64,
    pub long_term_vega_power: f64,
    pub min_volatility_for_shock_up: f64,
    pub vol_shock: VolShock,
    /// Extended-table price moves (fractions: -0.66 is -66%).
    pub extended_moves: Vec<f64>,
    pub extended_table_factor: Wad,
    pub extended_dampener: Wad,
    pub annualised_move_risk: Wad,
    pub min_annualised_move: Wad,
    pub pnl_offset: Wad,
    pub max_offsetable_pnl: Wad,
    pub mm_factor: Wad,
    /// Decimals the worst case is rounded to before the roll shock is
    /// added (`None`: not rounded).
    pub worst_case_decimals: Option<u32>,
    /// Legacy contingency: coin per net short option contract per strike.
    #[serde(default)]
    pub net_short_option_per_strike: Wad,
    /// Legacy contingency: rate on the offsetting part of futures.
    #[serde(default)]
    pub offsetting_futures_rate: Wad,
    /// The dampener candidate (not a venue parameter; see [`Dampener`]).
    #[serde(default)]
    pub dampener: Dampener,
}

/// The presets shipped with the crate (`presets/deribit_portfolio_margin.json`).
const PRESETS: &str = include_str!("../../presets/deribit_portfolio_margin.json");

#[derive(Deserialize)]
struct PresetFile {
    presets: Vec<PmParams>,
}

impl PmParams {
    /// Every shipped preset.
    pub fn presets() -> Vec<PmParams> {
        let file: PresetFile = serde_json::from_str(PRESETS)
            .expect("presets/deribit_portfolio_margin.json is valid (tested)");
        file.presets
    }

    /// The preset named `name` (`deribit_btc_2024-06-17`,
    /// `deribit_eth_2026-02-15`, `deribit_btc_legacy_pre2019`).
    pub fn preset(name: &str) -> Result<PmParams, PmError> {
        let all = PmParams::presets();
        let names: Vec<String> = all.iter().map(|p| p.name.clone()).collect();
        all.into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| PmError::UnknownPreset(name.to_string(), names.join(", ")))
    }

    /// Checks the ranges of the parameters.
    pub fn validate(&self) -> Result<(), PmError> {
        let bad = |what: String| {
            Err(PmError::Params {
                name: self.name.clone(),
                what,
            })
        };
        let unit = |x: f64| x.is_finite() && (0.0..1.0).contains(&x);
        if !(unit(self.price_range) && self.price_range > 0.0) {
            return bad(format!("price_range {} not in (0, 1)", self.price_range));
        }
        if self.buckets_count == 0 || self.buckets_count > 1000 {
            return bad(format!(
                "buckets_count {} not in 1..=1000",
                self.buckets_count
            ));
        }
        for (n, v) in [
            ("volatility_range_up", self.volatility_range_up),
            ("volatility_range_down", self.volatility_range_down),
            ("short_term_vega_power", self.short_term_vega_power),
            ("long_term_vega_power", self.long_term_vega_power),
            (
                "min_volatility_for_shock_up",
                self.min_volatility_for_shock_up,
            ),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return bad(format!("{n} {v} is negative or not finite"));
            }
        }
        for m in &self.extended_moves {
            if !(m.is_finite() && *m > -1.0 && m.abs() > self.price_range) {
                return bad(format!(
                    "extended move {m} not in (-1, inf) beyond price_range"
                ));
            }
        }
        for (n, v) in [
            ("extended_table_factor", self.extended_table_factor),
            ("extended_dampener", self.extended_dampener),
            ("annualised_move_risk", self.annualised_move_risk),
            ("min_annualised_move", self.min_annualised_move),
            ("pnl_offset", self.pnl_offset),
            ("max_offsetable_pnl", self.max_offsetable_pnl),
            ("mm_factor", self.mm_factor),
            (
                "net_short_option_per_strike",
                self.net_short_option_per_strike,
            ),
            ("offsetting_futures_rate", self.offsetting_futures_rate),
        ] {
            if v.is_negative() {
                return bad(format!("{n} {v} is negative"));
            }
        }
        if matches!(self.worst_case_decimals, Some(d) if d > 18) {
            return bad("worst_case_decimals above 18".into());
        }
        Ok(())
    }

    /// The volatility-shock factor `(30 / DTE)^p` of an option `t` years
    /// from expiry.
    pub fn vega_factor(&self, t: f64) -> f64 {
        let dte = t * 365.0;
        let p = if dte < 30.0 {
            self.short_term_vega_power
        } else {
            self.long_term_vega_power
        };
        (30.0 / dte).powf(p)
    }

    /// The shocked IV of scenario `v`.
    /// At expiry (`t = 0`) the volatility is irrelevant and kept as is.
    pub fn shocked_vol(&self, vol: f64, t: f64, v: VolScenario) -> f64 {
        if t <= 0.0 {
            return vol;
        }
        let f = self.vega_factor(t);
        match (v, self.vol_shock) {
            (VolScenario::Same, _) => vol,
            (VolScenario::Up, VolShock::Relative) => {
                (vol * (1.0 + self.volatility_range_up * f)).max(self.min_volatility_for_shock_up)
            }
            (VolScenario::Up, VolShock::Absolute) => {
                (vol + self.volatility_range_up * f).max(self.min_volatility_for_shock_up)
            }
            (VolScenario::Down, VolShock::Relative) => {
                (vol * (1.0 - self.volatility_range_down * f)).max(0.0)
            }
            (VolScenario::Down, VolShock::Absolute) => {
                (vol - self.volatility_range_down * f).max(0.0)
            }
        }
    }

    /// The standard table's scenarios, bucket by bucket from the largest
    /// fall, each with the volatility up, same, down.
    pub fn standard_scenarios(&self) -> Vec<Scenario> {
        let n = self.buckets_count as i64;
        let mut out = Vec::with_capacity((2 * n as usize + 1) * 3);
        for k in -n..=n {
            let price_move = self.price_range * k as f64 / n as f64;
            for vol in [VolScenario::Up, VolScenario::Same, VolScenario::Down] {
                out.push(Scenario {
                    price_move,
                    vol,
                    extended: false,
                });
            }
        }
        out
    }

    /// The extended table's scenarios (volatility up only).
    pub fn extended_scenarios(&self) -> Vec<Scenario> {
        self.extended_moves
            .iter()
            .map(|&price_move| Scenario {
                price_move,
                vol: VolScenario::Up,
                extended: true,
            })
            .collect()
    }
}

/// Volatility up, unchanged or down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VolScenario {
    Up,
    Same,
    Down,
}

/// One stress scenario.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// Relative move of the underlying and every forward (-0.16 = -16%).
    pub price_move: f64,
    pub vol: VolScenario,
    /// Part of the extended table.
    pub extended: bool,
}
