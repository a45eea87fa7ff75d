//! Stress transforms: "what if it had been worse".
//!
//! A past crisis is one path. The `[[transforms]]` tables of a scenario turn
//! it into a hypothetical one; they are applied in the order given to the
//! replay inputs ([`ReplayInput`]: `prices`, `oracle_rounds`, `liquidity`,
//! `gas`) and, for the frictions stresses, to the scenario's own settings,
//! before anything else ([`apply`], called by [`crate::resolve_book`] and
//! every replay, so runs, sweeps and the book generator all see the same
//! transformed inputs). The book and its recorded lending events are never
//! transformed.
//!
//! ```toml
//! [[transforms]]
//! kind = "time_scale"   # the same path twice as fast
//! factor = 0.5
//! [[transforms]]
//! kind = "vol_scale"    # every return x 1.5
//! factor = 1.5
//! assets = ["ETH"]
//! ```
//!
//! Kinds (times are scenario times, `2020-03-12 02:00`; the observation
//! time of a price bar is its close, `ts + interval_secs`, when the engine
//! reads it; of an oracle round its `ts`):
//! - `vol_scale { factor, assets? }`: every log return between consecutive
//!   observations of a series (venue + asset for bars, feed + asset for
//!   oracle rounds) is multiplied by `factor` (> 0), anchored at the
//!   series' first observation at or after the window start: each price
//!   `x` observed from then on becomes `a * (x / a)^factor` (`a` the
//!   anchor's close or answer; open, high, low and close alike, so bars
//!   stay ordered); earlier observations are unchanged. Integer factors up
//!   to 16 are computed exactly in fixed point (`x^n / a^(n-1)`, rounded
//!   down at each step); other factors in f64, rounded to the nearest wei:
//!   `a + a * expm1(l)` when the result is within a factor 2 of `a`, else
//!   `a * exp(l)`, with `l = factor * ln(x / a)` (through `ln_1p` near
//!   `a`), so small and large moves both keep their digits. `assets`
//!   defaults to every priced asset.
//! - `time_scale { factor, anchor? }`: an observation at `t` after `anchor`
//!   (default: window start) moves to `anchor + (t - anchor) * factor`,
//!   rounded down to the microsecond (`0.1`: ten times as fast); bars keep
//!   their close at the mapped time and their `interval_secs` is scaled
//!   (rounded down, at least 1 s; 0 stays 0). Observations after the window
//!   end are dropped, so a compressed path holds its last value to the end
//!   of the window (no later history is pulled in).
//! - `shift { secs }`: every input timestamp moves by `secs` (the window
//!   stays): `secs = -86400` replays the day after the window in it.
//! - `price_shock { assets, at, pct, recover_secs? }`: from `at` on, the
//!   market bars and oracle rounds of every listed asset are multiplied by
//!   `1 + pct` (`pct = -0.3`: -30%, > -1), recovering linearly to 1 over
//!   `recover_secs` when given (else held to the end). A bar takes the
//!   multiplier of its close time. Several assets move together: the
//!   "correlations go to one" stress.
//! - `depeg { asset, at, depth, ramp_secs = 0, hold_secs?, recover_secs = 0 }`:
//!   a stablecoin depeg or liquid-staking discount: the asset's bars and
//!   oracle rounds are multiplied by a factor going linearly from 1 at `at`
//!   to `1 - depth` (`depth` in [0, 1)) over `ramp_secs`, held `hold_secs`
//!   (absent: to the end), then back to 1 over `recover_secs`. An asset
//!   priced by `market.pegs` gets its constant bars materialised first, so
//!   it can depeg. An oracle rule of mode `fixed` does not follow (as the
//!   protocol's would not): give the asset a market or recorded oracle to
//!   let its oracle move.
//! - `liquidity { divisor, assets? }`: depth rows (`datasets.liquidity`) of
//!   the listed assets (default all) divided by `divisor` (> 0), and so are
//!   `frictions.liquidity.depth_usd` of those assets and, without `assets`,
//!   `frictions.liquidity.default_depth_usd` (with `assets`, a listed asset
//!   without its own depth gets the default divided).
//! - `liquidators { capital_factor = 1, participation = 1 }`: every
//!   liquidator's `capital_usd` multiplied by `capital_factor` (> 0); of the
//!   `n` liquidators of `frictions.liquidators`, the first
//!   `ceil(n * participation)` in the scenario's order are kept
//!   (`participation` in (0, 1]). Needs listed liquidators (the implicit
//!   ideal one cannot be stressed).
//! - `simulated { model = "bootstrap" | "gaussian", seed, path, block_secs
//!   = 3600, fit_start?, fit_end?, horizon_secs? }`: the market path of
//!   every priced asset from the window start to `start + horizon_secs`
//!   (default: the window length) replaced by path number `path` of a
//!   model fitted to the per-step log returns of `[fit_start, fit_end]`
//!   (default: the window); later bars hold the last simulated price, and
//!   oracle rounds of those assets follow the simulated market price. The
//!   exact definitions are in [`crate::simulate`]. `shortfall stress` runs
//!   many paths; a (seed, path) pair is one path, replayable on its own.
//!
//! Oracle stresses are not transforms: the scenario's `[[oracle.overrides]]`
//! (`freeze`, `outage`, a manipulated `print`) and the oracle rules (a
//! `delay` mode, `heartbeat_secs`, `deviation_bps`, `staleness_secs`) are
//! the oracle stresses. An override counts as hypothetical unless the
//! scenario's `sources` cite it (a key `oracle`, `oracle.overrides` or
//! `oracle.overrides.N`): a cited override reconstructs what happened.
//!
//! A transform that changes nothing (a factor or divisor of 1, a shift,
//! shock or depth of 0, a liquidator stress of 1 and 1) is skipped: the
//! inputs are returned as they are. With no transform nothing is copied.
//! Every other transform and every uncited override is one plain-English
//! line of [`describe`], which runs record in `summary.hypothetical` and
//! reports show as "HYPOTHETICAL SCENARIO: not what happened". The
//! transforms are part of the scenario, so of the resolved configuration
//! and the run id.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use shortfall_core::money::{mul_div_down, WAD};
use shortfall_core::{Micros, PriceBar, Wad};

use crate::error::{self, cfg, ReplayError};
use crate::input::ReplayInput;
use crate::scenario::{OverrideKind, Scenario};

/// One stress transform (a `[[transforms]]` table; see the module doc).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Transform {
    /// Every log return x `factor`, anchored at the window start.
    VolScale {
        factor: Wad,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        assets: Option<Vec<String>>,
    },
    /// Time after `anchor` (default window start) x `factor`.
    TimeScale {
        factor: Wad,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        anchor: Option<String>,
    },
    /// Every input timestamp + `secs`.
    Shift { secs: i64 },
    /// Joint shock of `assets` by `pct` from `at`.
    PriceShock {
        assets: Vec<String>,
        at: String,
        pct: Wad,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recover_secs: Option<i64>,
    },
    /// Depeg of `asset` by `depth`.
    Depeg {
        asset: String,
        at: String,
        depth: Wad,
        #[serde(default)]
        ramp_secs: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hold_secs: Option<i64>,
        #[serde(default)]
        recover_secs: i64,
    },
    /// Depth / `divisor`.
    Liquidity {
        divisor: Wad,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        assets: Option<Vec<String>>,
    },
    /// Liquidator capital and participation cut.
    Liquidators {
        #[serde(default = "one")]
        capital_factor: Wad,
        #[serde(default = "one")]
        participation: Wad,
    },
    /// The market path replaced by a simulated one ([`crate::simulate`]).
    Simulated {
        model: crate::simulate::Model,
        seed: u64,
        path: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        block_secs: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fit_start: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fit_end: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        horizon_secs: Option<i64>,
        /// Gaussian: given volatilities (standard deviation of one-hour log
        /// returns, `ETH = 0.02`) in place of the fitted ones.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        volatility: BTreeMap<String, f64>,
        /// Gaussian: given correlations (`"BTC/ETH" = 0.9`) in place of
        /// the fitted ones.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        correlation: BTreeMap<String, f64>,
    },
}

fn one() -> Wad {
    Wad::ONE
}

impl Transform {
    /// True when the transform changes nothing.
    pub fn is_identity(&self) -> bool {
        match self {
            Transform::VolScale { factor, .. } | Transform::TimeScale { factor, .. } => {
                *factor == Wad::ONE
            }
            Transform::Shift { secs } => *secs == 0,
            Transform::PriceShock { pct, .. } => *pct == Wad::ZERO,
            Transform::Depeg { depth, .. } => *depth == Wad::ZERO,
            Transform::Liquidity { divisor, .. } => *divisor == Wad::ONE,
            Transform::Liquidators {
                capital_factor,
                participation,
            } => *capital_factor == Wad::ONE && *participation == Wad::ONE,
            Transform::Simulated { .. } => false,
        }
    }
}

/// The gaussian parameters a `simulated` transform gives instead of
/// fitting them, one line each (`ETH volatility 0.03 per hour`,
/// `BTC/ETH correlation 1`).
pub fn given_parameters(
    volatility: &BTreeMap<String, f64>,
    correlation: &BTreeMap<String, f64>,
) -> Vec<String> {
    volatility
        .iter()
        .map(|(a, v)| format!("{a} volatility {v} per hour"))
        .chain(
            correlation
                .iter()
                .map(|(k, r)| format!("{k} correlation {r}")),
        )
        .collect()
}

/// The resolved times of a `simulated` transform (`i`: its index, for
/// errors): checks the parameters against the scenario's window.
pub fn simulated_spec(sc: &Scenario, i: usize) -> Result<crate::simulate::Spec, ReplayError> {
    let Some(Transform::Simulated {
        model,
        seed,
        path,
        block_secs,
        fit_start,
        fit_end,
        horizon_secs,
        volatility,
        correlation,
    }) = sc.transforms.get(i)
    else {
        return Err(cfg(&key(i, "kind"), "not a simulated transform"));
    };
    let (start, end) = sc.window_micros()?;
    if i64::try_from(*seed).is_err() {
        return Err(cfg(&key(i, "seed"), "must be at most 2^63 - 1"));
    }
    if i64::try_from(*path).is_err() {
        return Err(cfg(&key(i, "path"), "must be at most 2^63 - 1"));
    }
    let block_secs = block_secs.unwrap_or(crate::simulate::DEFAULT_BLOCK_SECS);
    if block_secs <= 0 || block_secs > i64::MAX / Micros::PER_SEC {
        return Err(cfg(&key(i, "block_secs"), "must be above 0 (seconds)"));
    }
    let window = (end.0 - start.0) / Micros::PER_SEC;
    let horizon = horizon_secs.unwrap_or(window);
    if horizon <= 0 || horizon > window {
        return Err(cfg(
            &key(i, "horizon_secs"),
            format!("must be in (0, {window}] (the window length in seconds), got {horizon}"),
        ));
    }
    let fit_start = match fit_start {
        Some(t) => time(i, "fit_start", t)?,
        None => start,
    };
    let fit_end = match fit_end {
        Some(t) => time(i, "fit_end", t)?,
        None => end,
    };
    if fit_end <= fit_start {
        return Err(cfg(&key(i, "fit_end"), "must be after fit_start"));
    }
    let given = !volatility.is_empty() || !correlation.is_empty();
    if given && *model != crate::simulate::Model::Gaussian {
        return Err(cfg(
            &key(i, "model"),
            "volatility and correlation are parameters of the gaussian model",
        ));
    }
    for (a, v) in volatility {
        if !(v.is_finite() && *v >= 0.0) {
            return Err(cfg(
                &key(i, &format!("volatility.{a}")),
                "must be a number >= 0 (standard deviation of one-hour log returns)",
            ));
        }
    }
    let mut pairs = BTreeMap::new();
    for (k, rho) in correlation {
        let at = || key(i, &format!("correlation.\"{k}\""));
        let Some((a, b)) = k
            .split_once('/')
            .filter(|(a, b)| !a.is_empty() && !b.is_empty() && a != b)
        else {
            return Err(cfg(&at(), "expected two different assets, `A/B`"));
        };
        if !(rho.is_finite() && (-1.0..=1.0).contains(rho)) {
            return Err(cfg(&at(), "must be in [-1, 1]"));
        }
        let pair = if a < b { (a, b) } else { (b, a) };
        if pairs
            .insert((pair.0.to_string(), pair.1.to_string()), *rho)
            .is_some()
        {
            return Err(cfg(&at(), "pair given twice"));
        }
    }
    Ok(crate::simulate::Spec {
        model: *model,
        block_secs,
        fit_start,
        fit_end,
        start,
        horizon_end: Micros(start.0 + horizon * Micros::PER_SEC),
        volatility: volatility.clone(),
        correlation: pairs,
    })
}

fn key(i: usize, field: &str) -> String {
    format!("transforms.{i}.{field}")
}

fn time(i: usize, field: &str, text: &str) -> Result<Micros, ReplayError> {
    Micros::parse(text).map_err(error::time(&key(i, field)))
}

fn positive(i: usize, field: &str, w: Wad) -> Result<(), ReplayError> {
    if w <= Wad::ZERO {
        return Err(cfg(&key(i, field), "must be above 0"));
    }
    Ok(())
}

/// An optional asset list: absent means all, present must name some.
fn assets_ok(i: usize, assets: &Option<Vec<String>>) -> Result<(), ReplayError> {
    if assets.as_ref().is_some_and(|a| a.is_empty()) {
        return Err(cfg(
            &key(i, "assets"),
            "must not be empty (omit it for all)",
        ));
    }
    Ok(())
}

fn secs_ok(i: usize, field: &str, s: i64) -> Result<(), ReplayError> {
    if s < 0 {
        return Err(cfg(&key(i, field), "must be >= 0"));
    }
    Ok(())
}

/// Checks the parameters of every transform (errors name the key,
/// `transforms.2.factor`).
pub fn validate(sc: &Scenario) -> Result<(), ReplayError> {
    for (i, t) in sc.transforms.iter().enumerate() {
        match t {
            Transform::VolScale { factor, assets } => {
                positive(i, "factor", *factor)?;
                assets_ok(i, assets)?;
            }
            Transform::TimeScale { factor, anchor } => {
                positive(i, "factor", *factor)?;
                if let Some(a) = anchor {
                    time(i, "anchor", a)?;
                }
            }
            Transform::Shift { secs } => {
                if secs.checked_mul(Micros::PER_SEC).is_none() {
                    return Err(cfg(&key(i, "secs"), "out of range"));
                }
            }
            Transform::PriceShock {
                assets,
                at,
                pct,
                recover_secs,
            } => {
                if assets.is_empty() {
                    return Err(cfg(&key(i, "assets"), "must list at least one asset"));
                }
                time(i, "at", at)?;
                if *pct <= -Wad::ONE {
                    return Err(cfg(&key(i, "pct"), "must be above -1 (-100%)"));
                }
                if let Some(r) = recover_secs {
                    secs_ok(i, "recover_secs", *r)?;
                }
            }
            Transform::Depeg {
                at,
                depth,
                ramp_secs,
                hold_secs,
                recover_secs,
                ..
            } => {
                time(i, "at", at)?;
                if depth.is_negative() || *depth >= Wad::ONE {
                    return Err(cfg(&key(i, "depth"), "must be in [0, 1)"));
                }
                secs_ok(i, "ramp_secs", *ramp_secs)?;
                if let Some(h) = hold_secs {
                    secs_ok(i, "hold_secs", *h)?;
                }
                secs_ok(i, "recover_secs", *recover_secs)?;
            }
            Transform::Liquidity { divisor, assets } => {
                positive(i, "divisor", *divisor)?;
                assets_ok(i, assets)?;
            }
            Transform::Liquidators {
                capital_factor,
                participation,
            } => {
                positive(i, "capital_factor", *capital_factor)?;
                if *participation <= Wad::ZERO || *participation > Wad::ONE {
                    return Err(cfg(&key(i, "participation"), "must be in (0, 1]"));
                }
                if !t.is_identity() && sc.frictions.liquidators.is_empty() {
                    return Err(cfg(
                        &key(i, "kind"),
                        "liquidators: frictions.liquidators is empty (one ideal liquidator); list the liquidators to stress",
                    ));
                }
            }
            Transform::Simulated { .. } => {
                simulated_spec(sc, i)?;
            }
        }
    }
    Ok(())
}

/// The scenario and inputs a run replays: `scenario`'s transforms applied
/// in order (see the module doc). Without transforms, or with identity
/// transforms only, both are borrowed unchanged.
pub fn apply<'s, 'i>(
    scenario: &'s Scenario,
    input: &'i ReplayInput,
) -> Result<(Cow<'s, Scenario>, Cow<'i, ReplayInput>), ReplayError> {
    if scenario.transforms.is_empty() {
        return Ok((Cow::Borrowed(scenario), Cow::Borrowed(input)));
    }
    validate(scenario)?;
    let (start, end) = scenario.window_micros()?;
    let mut sc: Cow<'s, Scenario> = Cow::Borrowed(scenario);
    let mut inp: Cow<'i, ReplayInput> = Cow::Borrowed(input);
    for (i, t) in scenario.transforms.iter().enumerate() {
        if t.is_identity() {
            continue;
        }
        match t {
            Transform::VolScale { factor, assets } => {
                let set = asset_set(i, "assets", assets.as_deref(), &inp, scenario)?;
                vol_scale(inp.to_mut(), *factor, set.as_ref(), start, i)?;
            }
            Transform::TimeScale { factor, anchor } => {
                let anchor = match anchor {
                    Some(a) => time(i, "anchor", a)?,
                    None => start,
                };
                time_scale(inp.to_mut(), *factor, anchor, end)?;
            }
            Transform::Shift { secs } => shift(inp.to_mut(), *secs),
            Transform::PriceShock {
                assets,
                at,
                pct,
                recover_secs,
            } => {
                let set = asset_set(i, "assets", Some(assets), &inp, scenario)?.unwrap_or_default();
                let path = Path {
                    at: time(i, "at", at)?,
                    ramp: 0,
                    hold: recover_secs.map(|_| 0),
                    recover: recover_secs.unwrap_or(0),
                    k: *pct,
                };
                shock(inp.to_mut(), scenario, &set, &path)?;
            }
            Transform::Depeg {
                asset,
                at,
                depth,
                ramp_secs,
                hold_secs,
                recover_secs,
            } => {
                let set = asset_set(
                    i,
                    "asset",
                    Some(std::slice::from_ref(asset)),
                    &inp,
                    scenario,
                )?
                .unwrap_or_default();
                let path = Path {
                    at: time(i, "at", at)?,
                    ramp: *ramp_secs,
                    hold: *hold_secs,
                    recover: *recover_secs,
                    k: -*depth,
                };
                shock(inp.to_mut(), scenario, &set, &path)?;
            }
            Transform::Liquidity { divisor, assets } => {
                let div = |w: Wad| {
                    mul_div_down(w.0, WAD, divisor.0)
                        .map(Wad)
                        .ok_or(ReplayError::Overflow("liquidity transform"))
                };
                let only: Option<BTreeSet<&str>> = assets
                    .as_ref()
                    .map(|a| a.iter().map(String::as_str).collect());
                let keep = |a: &str| only.as_ref().is_none_or(|s| s.contains(a));
                if inp.liquidity.is_some() {
                    for r in inp.to_mut().liquidity.iter_mut().flatten() {
                        if keep(&r.asset) {
                            r.depth_usd = div(r.depth_usd)?;
                        }
                    }
                }
                let l = &mut sc.to_mut().frictions.liquidity;
                match assets {
                    None => {
                        l.default_depth_usd = div(l.default_depth_usd)?;
                        for d in l.depth_usd.values_mut() {
                            *d = div(*d)?;
                        }
                    }
                    Some(list) => {
                        for a in list {
                            let d = l.depth_usd.get(a).copied().unwrap_or(l.default_depth_usd);
                            l.depth_usd.insert(a.clone(), div(d)?);
                        }
                    }
                }
            }
            Transform::Liquidators {
                capital_factor,
                participation,
            } => {
                let l = &mut sc.to_mut().frictions.liquidators;
                let n = l.len() as i128;
                // ceil(n * participation), at least 1 (participation > 0)
                let keep = (n * participation.0 + WAD - 1) / WAD;
                l.truncate(keep.max(1) as usize);
                for x in l.iter_mut() {
                    x.capital_usd = mul_div_down(x.capital_usd.0, capital_factor.0, WAD)
                        .map(Wad)
                        .ok_or(ReplayError::Overflow("liquidators transform"))?;
                }
            }
            Transform::Simulated { seed, path, .. } => {
                let spec = simulated_spec(scenario, i)?;
                let fit = crate::simulate::Fit::new(&sc, &inp, &spec)?;
                let out = fit.apply(&inp, start, *seed, *path)?;
                inp = Cow::Owned(out);
            }
        }
    }
    Ok((sc, inp))
}

/// The listed assets (None: all), each checked to have prices, oracle
/// rounds or a `market.pegs` entry.
fn asset_set(
    i: usize,
    field: &str,
    assets: Option<&[String]>,
    input: &ReplayInput,
    sc: &Scenario,
) -> Result<Option<BTreeSet<String>>, ReplayError> {
    let Some(list) = assets else {
        return Ok(None);
    };
    let mut known: BTreeSet<&str> = input.prices.iter().map(|b| b.base.as_str()).collect();
    known.extend(input.oracle_rounds.iter().map(|r| r.base.as_str()));
    known.extend(sc.market.pegs.keys().map(String::as_str));
    for a in list {
        if !known.contains(a.as_str()) {
            return Err(cfg(
                &key(i, field),
                format!("no prices, oracle rounds or peg for `{a}`"),
            ));
        }
    }
    Ok(Some(list.iter().cloned().collect()))
}

/// Close time of a bar (when the engine reads it).
fn obs(b: &PriceBar) -> Micros {
    Micros(b.ts.0 + b.interval_secs * Micros::PER_SEC)
}

/// `a * (x / a)^f` (see the module doc).
fn scale_from(a: Wad, x: Wad, f: Wad) -> Option<Wad> {
    if a <= Wad::ZERO || x <= Wad::ZERO {
        return None;
    }
    if f.0 % WAD == 0 && (1..=16).contains(&(f.0 / WAD)) {
        let mut y = a.0;
        for _ in 0..f.0 / WAD {
            y = mul_div_down(y, x.0, a.0)?;
        }
        return Some(Wad(y));
    }
    // Near the anchor the change is computed (ln_1p / expm1 keep its
    // digits); far from it the price itself (a change of almost -100%
    // computed as a + delta would cancel all but a few digits).
    let d = (x.0 - a.0) as f64 / a.0 as f64;
    let ln_ratio = if d.abs() < 0.5 {
        d.ln_1p()
    } else {
        (x.0 as f64 / a.0 as f64).ln()
    };
    let l = f.to_f64() * ln_ratio;
    if l.abs() < std::f64::consts::LN_2 {
        let delta = (a.0 as f64 * l.exp_m1()).round();
        return a.0.checked_add(delta as i128).map(Wad);
    }
    let y = (a.0 as f64 * l.exp()).round();
    if !y.is_finite() || y >= 1e37 {
        return None;
    }
    Some(Wad(y as i128))
}

fn vol_scale(
    inp: &mut ReplayInput,
    f: Wad,
    assets: Option<&BTreeSet<String>>,
    start: Micros,
    i: usize,
) -> Result<(), ReplayError> {
    let pick = |a: &str| assets.is_none_or(|s| s.contains(a));
    let bad = |what: &str, asset: &str, t: Micros| {
        ReplayError::Input(format!(
            "transforms.{i} (vol_scale): {what} of {asset} at {} is not positive or overflows",
            t.to_iso()
        ))
    };
    // Anchor per (venue, base): the close of the first bar observed at or
    // after the window start.
    let mut order: Vec<usize> = (0..inp.prices.len()).collect();
    order.sort_by_key(|&k| obs(&inp.prices[k]));
    let mut anchors: BTreeMap<(String, String), Wad> = BTreeMap::new();
    for k in order {
        let b = &inp.prices[k];
        let t = obs(b);
        if t < start || !pick(&b.base) {
            continue;
        }
        let id = (b.venue.clone(), b.base.clone());
        let a = match anchors.get(&id) {
            Some(a) => *a,
            None => {
                anchors.insert(id, b.close);
                b.close
            }
        };
        let b = &mut inp.prices[k];
        let g = |x: Wad| scale_from(a, x, f);
        match (g(b.open), g(b.high), g(b.low), g(b.close)) {
            (Some(o), Some(h), Some(l), Some(c)) => {
                b.open = o;
                b.high = h;
                b.low = l;
                b.close = c;
            }
            _ => return Err(bad("a price", &b.base, t)),
        }
    }
    let mut order: Vec<usize> = (0..inp.oracle_rounds.len()).collect();
    order.sort_by_key(|&k| inp.oracle_rounds[k].key());
    let mut anchors: BTreeMap<(String, String), Wad> = BTreeMap::new();
    for k in order {
        let r = &inp.oracle_rounds[k];
        if r.ts < start || !pick(&r.base) {
            continue;
        }
        let id = (r.feed.clone(), r.base.clone());
        let a = *anchors.entry(id).or_insert(r.answer);
        let r = &mut inp.oracle_rounds[k];
        r.answer =
            scale_from(a, r.answer, f).ok_or_else(|| bad("an oracle answer", &r.base, r.ts))?;
    }
    Ok(())
}

fn time_scale(
    inp: &mut ReplayInput,
    f: Wad,
    anchor: Micros,
    end: Micros,
) -> Result<(), ReplayError> {
    let map = |t: Micros| -> Result<Micros, ReplayError> {
        if t <= anchor {
            return Ok(t);
        }
        let dt = mul_div_down((t.0 - anchor.0) as i128, f.0, WAD)
            .and_then(|d| i64::try_from(d).ok())
            .and_then(|d| anchor.0.checked_add(d))
            .ok_or(ReplayError::Overflow("time_scale transform"))?;
        Ok(Micros(dt))
    };
    let mut prices = Vec::with_capacity(inp.prices.len());
    for mut b in std::mem::take(&mut inp.prices) {
        let t = obs(&b);
        if t > end {
            continue;
        }
        if t > anchor {
            let close = map(t)?;
            if b.interval_secs > 0 {
                let iv = mul_div_down(b.interval_secs as i128, f.0, WAD).unwrap_or(0);
                b.interval_secs = (iv as i64).max(1);
            }
            b.ts = Micros(close.0 - b.interval_secs * Micros::PER_SEC);
        }
        prices.push(b);
    }
    inp.prices = prices;
    let mut rounds = Vec::with_capacity(inp.oracle_rounds.len());
    for mut r in std::mem::take(&mut inp.oracle_rounds) {
        if r.ts > end {
            continue;
        }
        r.ts = map(r.ts)?;
        if let Some(s) = r.started_at {
            r.started_at = Some(map(s)?);
        }
        rounds.push(r);
    }
    inp.oracle_rounds = rounds;
    if let Some(rows) = inp.liquidity.take() {
        let mut out = Vec::with_capacity(rows.len());
        for mut r in rows {
            if r.ts > end {
                continue;
            }
            r.ts = map(r.ts)?;
            out.push(r);
        }
        inp.liquidity = Some(out);
    }
    if let Some(gas) = inp.gas.take() {
        let mut out = Vec::with_capacity(gas.len());
        for (t, g) in gas {
            if t > end {
                continue;
            }
            out.push((map(t)?, g));
        }
        inp.gas = Some(out);
    }
    Ok(())
}

fn shift(inp: &mut ReplayInput, secs: i64) {
    let d = secs * Micros::PER_SEC;
    let mv = |t: &mut Micros| t.0 = t.0.saturating_add(d);
    for b in &mut inp.prices {
        mv(&mut b.ts);
    }
    for r in &mut inp.oracle_rounds {
        mv(&mut r.ts);
        if let Some(s) = r.started_at.as_mut() {
            mv(s);
        }
    }
    for r in inp.liquidity.iter_mut().flatten() {
        mv(&mut r.ts);
    }
    for g in inp.gas.iter_mut().flatten() {
        mv(&mut g.0);
    }
}

/// A multiplier path `1 + k * s(t)`: `s` 0 before `at`, rising linearly to
/// 1 over `ramp` seconds, 1 for `hold` seconds (None: for ever), falling
/// linearly to 0 over `recover` seconds.
struct Path {
    at: Micros,
    ramp: i64,
    hold: Option<i64>,
    recover: i64,
    k: Wad,
}

impl Path {
    fn multiplier(&self, t: Micros) -> Wad {
        let ps = Micros::PER_SEC as i128;
        let t = t.0 as i128;
        let at = self.at.0 as i128;
        let ramp_end = at + self.ramp as i128 * ps;
        let s: i128 = if t < at {
            0
        } else if t < ramp_end {
            // (t - at) / ramp
            (t - at) * WAD / (ramp_end - at)
        } else {
            match self.hold {
                None => WAD,
                Some(h) => {
                    let hold_end = ramp_end + h as i128 * ps;
                    let rec_end = hold_end + self.recover as i128 * ps;
                    if t < hold_end {
                        WAD
                    } else if t < rec_end {
                        (rec_end - t) * WAD / (rec_end - hold_end)
                    } else {
                        0
                    }
                }
            }
        };
        Wad(WAD + mul_div_down(self.k.0, s, WAD).unwrap_or(0))
    }
}

/// Multiplies the bars and oracle rounds of `assets` by `path`; an asset
/// priced by `market.pegs` without bars gets its peg bars first.
fn shock(
    inp: &mut ReplayInput,
    sc: &Scenario,
    assets: &BTreeSet<String>,
    path: &Path,
) -> Result<(), ReplayError> {
    let pegged: Vec<PriceBar> = crate::input::peg_bars(sc, &inp.prices)
        .into_iter()
        .filter(|b| assets.contains(&b.base))
        .collect();
    inp.prices.extend(pegged);
    let ovf = || ReplayError::Overflow("price shock transform");
    for b in inp.prices.iter_mut().filter(|b| assets.contains(&b.base)) {
        let m = path.multiplier(obs(b));
        if m == Wad::ONE {
            continue;
        }
        for x in [&mut b.open, &mut b.high, &mut b.low, &mut b.close] {
            *x = Wad(mul_div_down(x.0, m.0, WAD).ok_or_else(ovf)?);
        }
    }
    for r in inp
        .oracle_rounds
        .iter_mut()
        .filter(|r| assets.contains(&r.base))
    {
        let m = path.multiplier(r.ts);
        if m != Wad::ONE {
            r.answer = Wad(mul_div_down(r.answer.0, m.0, WAD).ok_or_else(ovf)?);
        }
    }
    Ok(())
}

fn list(assets: &[String]) -> String {
    match assets {
        [] => String::new(),
        [a] => a.clone(),
        _ => format!(
            "{} and {}",
            assets[..assets.len() - 1].join(", "),
            assets[assets.len() - 1]
        ),
    }
}

fn when(text: &str) -> String {
    Micros::parse(text).map_or_else(|_| text.to_string(), |t| format!("{} UTC", t.to_iso()))
}

/// `pct` as a signed percentage (`-30%`, `+10%`).
fn pct(w: Wad) -> String {
    let p = Wad(w.0 * 100);
    if w.is_negative() {
        format!("{p}%")
    } else {
        format!("+{p}%")
    }
}

/// True when a key of `sources` covers `key` (`a.b` covers `a.b.c`).
fn sourced(sc: &Scenario, key: &str) -> bool {
    sc.sources.keys().any(|k| {
        key == k
            || key
                .strip_prefix(k.as_str())
                .is_some_and(|r| r.starts_with('.'))
    })
}

/// One plain-English line per transform that changes something and per
/// oracle override the scenario's `sources` do not cite: what makes the
/// run hypothetical (empty: the run replays what happened).
pub fn describe(sc: &Scenario) -> Vec<String> {
    let mut out = Vec::new();
    for t in sc.transforms.iter().filter(|t| !t.is_identity()) {
        out.push(match t {
            Transform::VolScale { factor, assets } => format!(
                "every return of {} x {factor} (volatility scaling, from the window start)",
                assets
                    .as_deref()
                    .map_or_else(|| "every priced asset".to_string(), list)
            ),
            Transform::TimeScale { factor, anchor } => format!(
                "time {} x {factor} after {}: each hour of the recorded path replayed in {} minutes (data after the window end dropped)",
                if *factor < Wad::ONE { "compressed" } else { "stretched" },
                anchor.as_deref().map_or_else(|| when(&sc.window.start), when),
                Wad(factor.0 * 60)
            ),
            Transform::Shift { secs } => format!(
                "every input timestamp shifted by {secs} s: the window replays the history that began at {} UTC",
                Micros::parse(&sc.window.start)
                    .map(|s| Micros(s.0 - secs * Micros::PER_SEC).to_iso())
                    .unwrap_or_default()
            ),
            Transform::PriceShock {
                assets,
                at,
                pct: p,
                recover_secs,
            } => format!(
                "joint price shock of {} on {} from {}{}",
                pct(*p),
                list(assets),
                when(at),
                recover_secs.map_or_else(
                    || ", held to the end".to_string(),
                    |r| format!(", recovering linearly over {r} s")
                )
            ),
            Transform::Depeg {
                asset,
                at,
                depth,
                ramp_secs,
                hold_secs,
                recover_secs,
            } => format!(
                "{asset} depegs by {}% from {} (ramp {ramp_secs} s, {}, recovery {recover_secs} s)",
                Wad(depth.0 * 100),
                when(at),
                hold_secs.map_or_else(|| "held to the end".to_string(), |h| format!("held {h} s"))
            ),
            Transform::Liquidity { divisor, assets } => format!(
                "market depth of {} divided by {divisor} (liquidity stress)",
                assets
                    .as_deref()
                    .map_or_else(|| "every asset".to_string(), list)
            ),
            Transform::Liquidators {
                capital_factor,
                participation,
            } => {
                let n = sc.frictions.liquidators.len() as i128;
                let keep = ((n * participation.0 + WAD - 1) / WAD).max(1);
                format!(
                    "liquidator capital x {capital_factor}, {keep} of {n} liquidators kept (liquidator stress)"
                )
            }
            Transform::Simulated {
                model,
                seed,
                path,
                block_secs,
                fit_start,
                fit_end,
                horizon_secs,
                volatility,
                correlation,
            } => {
                let given = given_parameters(volatility, correlation);
                format!(
                    "simulated market path #{path} (seed {seed}) of every priced asset over {} from the window start: {} fitted to the returns of {} to {}{}",
                    horizon_secs.map_or_else(|| "the whole window".to_string(), |h| format!("{h} s")),
                    match model {
                        crate::simulate::Model::Bootstrap => format!(
                            "block bootstrap ({} s blocks)",
                            block_secs.unwrap_or(crate::simulate::DEFAULT_BLOCK_SECS)
                        ),
                        crate::simulate::Model::Gaussian => "multivariate normal".to_string(),
                    },
                    fit_start.as_deref().map_or_else(|| when(&sc.window.start), when),
                    fit_end.as_deref().map_or_else(|| when(&sc.window.end), when),
                    if given.is_empty() {
                        String::new()
                    } else {
                        format!(", with given {}", given.join(", "))
                    }
                )
            }
        });
    }
    for (i, o) in sc.oracle.overrides.iter().enumerate() {
        if sourced(sc, &format!("oracle.overrides.{i}")) {
            continue;
        }
        let from = when(&o.from);
        let until = o.to.as_deref().map(when);
        out.push(match o.kind {
            OverrideKind::Freeze => format!(
                "oracle of {} frozen from {from}{}",
                o.asset,
                until.map_or_else(|| " to the end".to_string(), |u| format!(" to {u}"))
            ),
            OverrideKind::Outage => format!(
                "oracle of {} out (no answers, stale) from {from}{}",
                o.asset,
                until.map_or_else(|| " to the end".to_string(), |u| format!(" to {u}"))
            ),
            OverrideKind::Print => format!(
                "oracle of {} prints a manipulated {} at {from}, held {}",
                o.asset,
                o.price.unwrap_or(Wad::ZERO),
                until.map_or_else(
                    || "until the next genuine answer".to_string(),
                    |u| format!("to {u}")
                )
            ),
        });
    }
    out
}
