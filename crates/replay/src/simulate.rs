//! Simulated market paths: the `simulated` stress transform.
//!
//! The market path of every priced asset (an asset with price bars) inside
//! the window is replaced by a simulated one that starts from the real
//! price at the window start. Two models learn from the per-step log
//! returns of a fit period (default: the window; the inputs a replay loads
//! hold the window only):
//! - `bootstrap` (moving-block bootstrap): the simulated horizon is cut
//!   into blocks of `block_secs` from its first observation; each block
//!   copies the joint log returns of every asset over `block_secs` from a
//!   source start drawn uniformly among the fit grid times `s` with
//!   `s + block_secs` at or before the fit period's last observation. All
//!   assets take the same source block, which keeps their correlation.
//! - `gaussian`: per-step log returns drawn from a multivariate normal
//!   with the mean and covariance of the fit period's per-step log returns
//!   (population moments; Cholesky factor, a pivot at or below 1e-15 x the
//!   largest variance set to 0: that asset is then a fixed combination of
//!   the earlier ones). A step of `dt` seconds takes mean x `dt/dt0` and
//!   standard deviation x `sqrt(dt/dt0)`, `dt0` the fit period's mean step.
//!   Normals by Box-Muller.
//!
//! Steps: the grid is the union of the close times of the bars of the
//! priced assets (every venue) in `[window start, start + horizon]`; an
//! asset's fit series is its reference venue's bars (the first of
//! `market.venues` that has it, else the first venue by name), forward
//! filled on the grid (back filled before its first bar). The random
//! numbers come from `ChaCha8Rng::seed_from_u64(seed ^ (path + 1) *
//! 0x9E37_79B9_7F4A_7C15)` (wrapping), one draw per block (bootstrap) or
//! one normal per asset and step (gaussian), so a (seed, path) pair is one
//! path, the same on every run.
//!
//! Applying a path: each series (venue, asset) keeps its first bar
//! observed at or after the window start (the anchor `a`, observed at
//! `ta`; a generated book is placed against it, so every path replays the
//! same book); a later bar observed at `t` gets close `a * exp(D(t) -
//! D(ta))`, `D` the asset's simulated log displacement, open the series'
//! previous simulated close, high and low the larger and smaller of the
//! two. Bars observed after the horizon hold the last simulated value to
//! the window end. An oracle round of a priced asset at or after the
//! reference series' anchor is replaced by the simulated market price of
//! the reference series at the last grid time at or before it (so a
//! `recorded` oracle follows the simulated path; its recorded lag and
//! deviation from the market are not kept); earlier rounds are unchanged.
//! Liquidity rows, gas and pegged (`market.pegs`) assets are unchanged.

use std::collections::{BTreeMap, BTreeSet};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use shortfall_core::{Micros, PriceBar, Wad};

use crate::error::ReplayError;
use crate::input::ReplayInput;
use crate::scenario::Scenario;

/// The model of a simulated path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// Moving blocks of joint historical returns.
    Bootstrap,
    /// Multivariate normal returns with the fitted mean and covariance.
    Gaussian,
}

impl Model {
    pub fn as_str(self) -> &'static str {
        match self {
            Model::Bootstrap => "bootstrap",
            Model::Gaussian => "gaussian",
        }
    }
}

/// Default bootstrap block, seconds.
pub const DEFAULT_BLOCK_SECS: i64 = 3600;

/// The RNG of path `path` of seed `seed`.
pub fn rng(seed: u64, path: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ path.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Close time of a bar.
fn obs(b: &PriceBar) -> Micros {
    Micros(b.ts.0 + b.interval_secs * Micros::PER_SEC)
}

/// A model fitted to a fit period, with the simulation grid: everything a
/// path needs except its random draws (computed once per stress).
#[derive(Debug, Clone)]
pub struct Fit {
    pub model: Model,
    /// Simulated assets, by name.
    pub assets: Vec<String>,
    /// Reference venue per asset.
    pub reference: Vec<String>,
    /// Fit grid times and log prices (`[step][asset]`).
    pub fit_times: Vec<Micros>,
    fit_logp: Vec<Vec<f64>>,
    /// Bootstrap block length, microseconds.
    block: i64,
    /// Indices of the fit grid where a block may start.
    block_starts: Vec<usize>,
    /// Gaussian: mean and Cholesky factor of per-step returns, mean step (s).
    pub mean: Vec<f64>,
    pub chol: Vec<Vec<f64>>,
    pub cov: Vec<Vec<f64>>,
    dt0: f64,
    /// Simulation grid (first: the window's first observation).
    pub sim_times: Vec<Micros>,
}

/// The parameters of the `simulated` transform, resolved to times.
#[derive(Debug, Clone)]
pub struct Spec {
    pub model: Model,
    pub block_secs: i64,
    pub fit_start: Micros,
    pub fit_end: Micros,
    pub start: Micros,
    pub horizon_end: Micros,
    /// Gaussian: given one-hour volatilities by asset.
    pub volatility: BTreeMap<String, f64>,
    /// Gaussian: given correlations by asset pair (names in order).
    pub correlation: BTreeMap<(String, String), f64>,
}

fn err(m: String) -> ReplayError {
    ReplayError::Input(format!("simulated transform: {m}"))
}

/// The priced assets and each one's reference venue.
fn references(sc: &Scenario, input: &ReplayInput) -> BTreeMap<String, String> {
    let mut venues: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for b in &input.prices {
        venues.entry(&b.base).or_default().insert(&b.venue);
    }
    venues
        .into_iter()
        .map(|(a, vs)| {
            let v = sc
                .market
                .venues
                .iter()
                .find(|v| vs.contains(v.as_str()))
                .map(String::as_str)
                .unwrap_or_else(|| vs.iter().next().expect("a venue"));
            (a.to_string(), v.to_string())
        })
        .collect()
}

/// Log prices of `assets` (reference series) on the union grid of their
/// close times in `[from, to]`, forward filled, back filled at the start.
fn log_grid(
    input: &ReplayInput,
    refs: &BTreeMap<String, String>,
    from: Micros,
    to: Micros,
) -> (Vec<Micros>, Vec<Vec<f64>>) {
    let assets: Vec<&String> = refs.keys().collect();
    let mut series: Vec<BTreeMap<Micros, f64>> = vec![BTreeMap::new(); assets.len()];
    for b in &input.prices {
        let t = obs(b);
        if t < from || t > to || b.close <= Wad::ZERO {
            continue;
        }
        if let Some(k) = assets.iter().position(|a| **a == b.base) {
            if refs[&b.base] == b.venue {
                series[k].insert(t, b.close.to_f64().ln());
            }
        }
    }
    let times: Vec<Micros> = series
        .iter()
        .flat_map(|s| s.keys().copied())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut out = vec![vec![0.0; assets.len()]; times.len()];
    for (k, s) in series.iter().enumerate() {
        let Some(first) = s.values().next().copied() else {
            continue;
        };
        let mut last = first;
        for (i, t) in times.iter().enumerate() {
            if let Some(v) = s.get(t) {
                last = *v;
            }
            out[i][k] = last;
        }
    }
    (times, out)
}

impl Fit {
    /// Fits `spec.model` to the inputs' bars of the fit period and lays
    /// out the simulation grid.
    pub fn new(sc: &Scenario, input: &ReplayInput, spec: &Spec) -> Result<Fit, ReplayError> {
        let refs = references(sc, input);
        if refs.is_empty() {
            return Err(err("no priced asset (no price bars)".into()));
        }
        let (fit_times, fit_logp) = log_grid(input, &refs, spec.fit_start, spec.fit_end);
        let sim_times: Vec<Micros> = input
            .prices
            .iter()
            .map(obs)
            .filter(|t| *t >= spec.start && *t <= spec.horizon_end)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if sim_times.is_empty() {
            return Err(err(format!(
                "no price bar between {} and {} UTC",
                spec.start.to_iso(),
                spec.horizon_end.to_iso()
            )));
        }
        let mut fit = Fit::from_log_prices(
            spec.model,
            refs.keys().cloned().collect(),
            fit_times,
            fit_logp,
            spec.block_secs,
        )?;
        fit.reference = refs.values().cloned().collect();
        fit.sim_times = sim_times;
        fit.set_given(&spec.volatility, &spec.correlation)?;
        Ok(fit)
    }

    /// Replaces fitted volatilities (`vol`: standard deviation of one-hour
    /// log returns, scaled to the fit's mean step by the square root of
    /// time) and correlations (by asset pair) with given ones; the fitted
    /// means stay. The covariance must stay positive semi-definite.
    pub fn set_given(
        &mut self,
        vol: &BTreeMap<String, f64>,
        corr: &BTreeMap<(String, String), f64>,
    ) -> Result<(), ReplayError> {
        if vol.is_empty() && corr.is_empty() {
            return Ok(());
        }
        let idx = |a: &str| {
            self.assets.iter().position(|x| x == a).ok_or_else(|| {
                err(format!(
                    "`{a}` is not a priced asset (priced: {})",
                    self.assets.join(", ")
                ))
            })
        };
        let d = self.assets.len();
        let mut sd: Vec<f64> = (0..d).map(|k| self.cov[k][k].max(0.0).sqrt()).collect();
        let mut rho = vec![vec![0.0; d]; d];
        for a in 0..d {
            for b in 0..d {
                rho[a][b] = if a == b {
                    1.0
                } else if sd[a] > 0.0 && sd[b] > 0.0 {
                    (self.cov[a][b] / (sd[a] * sd[b])).clamp(-1.0, 1.0)
                } else {
                    0.0
                };
            }
        }
        let per_step = (self.dt0 / 3600.0).max(0.0).sqrt();
        for (a, v) in vol {
            sd[idx(a)?] = v * per_step;
        }
        for ((a, b), r) in corr {
            let (i, j) = (idx(a)?, idx(b)?);
            rho[i][j] = *r;
            rho[j][i] = *r;
        }
        let cov: Vec<Vec<f64>> = (0..d)
            .map(|a| (0..d).map(|b| rho[a][b] * sd[a] * sd[b]).collect())
            .collect();
        let chol = cholesky(&cov);
        // A matrix that is not positive semi-definite has no factor: the
        // skipped pivots show as a product that differs from it.
        let scale = (0..d).map(|k| cov[k][k]).fold(0.0, f64::max).max(1e-300);
        for a in 0..d {
            for b in 0..=a {
                let p: f64 = (0..=b).map(|k| chol[a][k] * chol[b][k]).sum();
                if (p - cov[a][b]).abs() > 1e-9 * scale {
                    return Err(err(format!(
                        "the given correlations are not a valid correlation matrix (not positive semi-definite; check {} / {})",
                        self.assets[a], self.assets[b]
                    )));
                }
            }
        }
        self.cov = cov;
        self.chol = chol;
        Ok(())
    }

    /// A fit from log prices on a grid (`logp[step][asset]`).
    pub fn from_log_prices(
        model: Model,
        assets: Vec<String>,
        fit_times: Vec<Micros>,
        fit_logp: Vec<Vec<f64>>,
        block_secs: i64,
    ) -> Result<Fit, ReplayError> {
        let n = fit_times.len();
        if n < 2 {
            return Err(err(format!(
                "the fit period holds {n} observation(s): at least 2 are needed"
            )));
        }
        let d = assets.len();
        let block = block_secs * Micros::PER_SEC;
        let last = fit_times[n - 1];
        let block_starts: Vec<usize> = (0..n)
            .filter(|&i| fit_times[i].0 + block <= last.0)
            .collect();
        if model == Model::Bootstrap && block_starts.is_empty() {
            return Err(err(format!(
                "block_secs = {block_secs} is longer than the fit period ({} s)",
                (last.0 - fit_times[0].0) / Micros::PER_SEC
            )));
        }
        // Per-step returns: mean and covariance.
        let steps = (n - 1) as f64;
        let mut mean = vec![0.0; d];
        for i in 1..n {
            for k in 0..d {
                mean[k] += fit_logp[i][k] - fit_logp[i - 1][k];
            }
        }
        for m in &mut mean {
            *m /= steps;
        }
        let mut cov = vec![vec![0.0; d]; d];
        for i in 1..n {
            let r: Vec<f64> = (0..d)
                .map(|k| fit_logp[i][k] - fit_logp[i - 1][k] - mean[k])
                .collect();
            for a in 0..d {
                for b in 0..d {
                    cov[a][b] += r[a] * r[b];
                }
            }
        }
        for row in &mut cov {
            for c in row.iter_mut() {
                *c /= steps;
            }
        }
        let chol = cholesky(&cov);
        let dt0 = (last.0 - fit_times[0].0) as f64 / Micros::PER_SEC as f64 / steps;
        Ok(Fit {
            model,
            reference: vec![String::new(); d],
            assets,
            fit_times,
            fit_logp,
            block,
            block_starts,
            mean,
            chol,
            cov,
            dt0,
            sim_times: Vec::new(),
        })
    }

    /// Log price of asset `k` at fit time `t` (last grid time at or before).
    fn f(&self, t: i64, k: usize) -> f64 {
        let i = self.fit_times.partition_point(|x| x.0 <= t);
        self.fit_logp[i.saturating_sub(1)][k]
    }

    /// The simulated log displacement `D[step][asset]` on `sim_times` of
    /// path `path` (0 at the first time).
    pub fn displacements(&self, times: &[Micros], seed: u64, path: u64) -> Vec<Vec<f64>> {
        let d = self.assets.len();
        let mut rng = rng(seed, path);
        let mut out = vec![vec![0.0; d]; times.len()];
        let Some(t0) = times.first().map(|t| t.0) else {
            return out;
        };
        match self.model {
            Model::Bootstrap => {
                // Block j covers (t0 + j B, t0 + (j+1) B].
                let mut block = usize::MAX;
                let mut src = 0i64;
                let mut base = vec![0.0; d];
                for (i, t) in times.iter().enumerate().skip(1) {
                    let j = ((t.0 - t0 - 1) / self.block) as usize;
                    while block == usize::MAX || block < j {
                        if block != usize::MAX {
                            for (k, b) in base.iter_mut().enumerate() {
                                *b += self.f(src + self.block, k) - self.f(src, k);
                            }
                        }
                        block = if block == usize::MAX { 0 } else { block + 1 };
                        let u = rng.gen_range(0..self.block_starts.len());
                        src = self.fit_times[self.block_starts[u]].0;
                    }
                    let off = t.0 - t0 - j as i64 * self.block;
                    for k in 0..d {
                        out[i][k] = base[k] + self.f(src + off, k) - self.f(src, k);
                    }
                }
            }
            Model::Gaussian => {
                let mut normal = crate::stats::NormalPairs::default();
                for i in 1..times.len() {
                    let dt = (times[i].0 - times[i - 1].0) as f64 / Micros::PER_SEC as f64;
                    let k = if self.dt0 > 0.0 { dt / self.dt0 } else { 1.0 };
                    let z: Vec<f64> = (0..d).map(|_| normal.sample(&mut rng)).collect();
                    let (done, rest) = out.split_at_mut(i);
                    for (a, o) in rest[0].iter_mut().enumerate() {
                        let mut x = self.mean[a] * k;
                        for (l, zb) in self.chol[a].iter().zip(&z).take(a + 1) {
                            x += l * zb * k.sqrt();
                        }
                        *o = done[i - 1][a] + x;
                    }
                }
            }
        }
        out
    }

    /// The inputs with path `path` of `seed` in place of the market path
    /// (see the module doc).
    pub fn apply(
        &self,
        input: &ReplayInput,
        start: Micros,
        seed: u64,
        path: u64,
    ) -> Result<ReplayInput, ReplayError> {
        let disp = self.displacements(&self.sim_times, seed, path);
        let idx: BTreeMap<&str, usize> = self
            .assets
            .iter()
            .enumerate()
            .map(|(k, a)| (a.as_str(), k))
            .collect();
        let last = self.sim_times.len() - 1;
        // Grid index of a time: last grid time at or before (clamped).
        let at = |t: Micros| -> usize {
            self.sim_times
                .partition_point(|x| *x <= t)
                .saturating_sub(1)
                .min(last)
        };
        let mut out = input.clone();
        let mut order: Vec<usize> = (0..out.prices.len()).collect();
        order.sort_by_key(|&i| (obs(&out.prices[i]), i));
        // (venue, asset) -> (anchor close, anchor grid index, last close)
        let mut anchors: BTreeMap<(String, String), (Wad, usize, Wad)> = BTreeMap::new();
        let ovf = |b: &PriceBar| {
            err(format!(
                "the simulated price of {} at {} overflows",
                b.base,
                obs(b).to_iso()
            ))
        };
        for i in order {
            let b = &out.prices[i];
            let t = obs(b);
            let Some(&k) = idx.get(b.base.as_str()) else {
                continue;
            };
            if t < start {
                continue;
            }
            let id = (b.venue.clone(), b.base.clone());
            let Some(&(a, ta, prev)) = anchors.get(&id) else {
                anchors.insert(id, (b.close, at(t), b.close));
                continue;
            };
            let close = scaled(a, disp[at(t)][k] - disp[ta][k]).ok_or_else(|| ovf(b))?;
            let b = &mut out.prices[i];
            b.open = prev;
            b.close = close;
            b.high = prev.max(close);
            b.low = prev.min(close);
            anchors.insert(id, (a, ta, close));
        }
        for r in &mut out.oracle_rounds {
            let Some(&k) = idx.get(r.base.as_str()) else {
                continue;
            };
            let id = (self.reference[k].clone(), r.base.clone());
            let Some(&(a, ta, _)) = anchors.get(&id) else {
                continue;
            };
            if r.ts < self.sim_times[ta] {
                continue;
            }
            r.answer = scaled(a, disp[at(r.ts)][k] - disp[ta][k]).ok_or_else(|| {
                err(format!(
                    "the simulated oracle answer of {} at {} overflows",
                    r.base,
                    r.ts.to_iso()
                ))
            })?;
        }
        Ok(out)
    }
}

/// `a * exp(x)` rounded to the nearest wei.
fn scaled(a: Wad, x: f64) -> Option<Wad> {
    let v = (a.0 as f64 * x.exp()).round();
    if !v.is_finite() || v.abs() >= 1e37 {
        return None;
    }
    Some(Wad(v as i128))
}

/// Lower Cholesky factor of a covariance matrix; a pivot at or below
/// 1e-15 x the largest variance is set to 0 with its column.
fn cholesky(c: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let d = c.len();
    let tol = 1e-15 * c.iter().enumerate().map(|(i, r)| r[i]).fold(0.0, f64::max);
    let mut l = vec![vec![0.0; d]; d];
    for j in 0..d {
        let s: f64 = c[j][j] - (0..j).map(|k| l[j][k] * l[j][k]).sum::<f64>();
        if s <= tol {
            continue;
        }
        l[j][j] = s.sqrt();
        for i in j + 1..d {
            let s: f64 = c[i][j] - (0..j).map(|k| l[i][k] * l[j][k]).sum::<f64>();
            l[i][j] = s / l[j][j];
        }
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(n: usize, rho: f64, seed: u64) -> (Vec<Micros>, Vec<Vec<f64>>) {
        let mut r = rng(seed, 0);
        let mut lp = vec![vec![0.0, 0.0]];
        let mut times = vec![Micros(0)];
        let mut z = || {
            let u1: f64 = 1.0 - r.gen::<f64>();
            let u2: f64 = r.gen::<f64>();
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        };
        for i in 1..n {
            let (a, b) = (z(), z());
            let x = 0.01 * a;
            let y = 0.02 * (rho * a + (1.0 - rho * rho).sqrt() * b);
            let p = &lp[i - 1];
            lp.push(vec![p[0] + x, p[1] + y]);
            times.push(Micros::from_secs(60 * i as i64));
        }
        (times, lp)
    }

    fn corr(d: &[Vec<f64>]) -> f64 {
        let r: Vec<(f64, f64)> = d
            .windows(2)
            .map(|w| (w[1][0] - w[0][0], w[1][1] - w[0][1]))
            .collect();
        let n = r.len() as f64;
        let (mx, my) = (
            r.iter().map(|x| x.0).sum::<f64>() / n,
            r.iter().map(|x| x.1).sum::<f64>() / n,
        );
        let cxy: f64 = r.iter().map(|x| (x.0 - mx) * (x.1 - my)).sum();
        let cxx: f64 = r.iter().map(|x| (x.0 - mx).powi(2)).sum();
        let cyy: f64 = r.iter().map(|x| (x.1 - my).powi(2)).sum();
        cxy / (cxx * cyy).sqrt()
    }

    fn assets() -> Vec<String> {
        vec!["A".into(), "B".into()]
    }

    #[test]
    fn gaussian_paths_have_the_fitted_correlation() {
        let (times, lp) = pair(5_000, 0.7, 1);
        let fit = Fit::from_log_prices(Model::Gaussian, assets(), times, lp.clone(), 3600).unwrap();
        let target = fit.cov[0][1] / (fit.cov[0][0] * fit.cov[1][1]).sqrt();
        assert!((target - corr(&lp)).abs() < 1e-9);
        assert!((target - 0.7).abs() < 0.05, "fitted {target}");
        let sim: Vec<Micros> = (0..20_001).map(|i| Micros::from_secs(60 * i)).collect();
        for path in 0..3 {
            let d = fit.displacements(&sim, 42, path);
            let rho = corr(&d);
            assert!(
                (rho - target).abs() < 0.05,
                "path {path}: {rho} vs {target}"
            );
        }
        // Same (seed, path): same path; other paths or seeds differ.
        assert_eq!(
            fit.displacements(&sim, 42, 1),
            fit.displacements(&sim, 42, 1)
        );
        assert_ne!(
            fit.displacements(&sim, 42, 1),
            fit.displacements(&sim, 42, 2)
        );
        assert_ne!(
            fit.displacements(&sim, 42, 1),
            fit.displacements(&sim, 43, 1)
        );
    }

    #[test]
    fn given_volatility_and_correlation_replace_the_fitted_ones() {
        // Fitted: correlation 0.7, one-minute sd 0.01 and 0.02.
        let (times, lp) = pair(5_000, 0.7, 1);
        let mut fit = Fit::from_log_prices(Model::Gaussian, assets(), times, lp, 3600).unwrap();
        let fitted_b = fit.cov[1][1];
        // A: 6% per hour = 0.06 / sqrt(60) per minute; A/B correlation -0.5.
        let vol = [("A".to_string(), 0.06)].into_iter().collect();
        let corr_given = [(("A".to_string(), "B".to_string()), -0.5)]
            .into_iter()
            .collect();
        fit.set_given(&vol, &corr_given).unwrap();
        let sd_a = 0.06 / 60f64.sqrt();
        assert!((fit.cov[0][0] - sd_a * sd_a).abs() < 1e-15);
        assert!((fit.cov[1][1] - fitted_b).abs() < 1e-15, "B keeps its fit");
        let sim: Vec<Micros> = (0..20_001).map(|i| Micros::from_secs(60 * i)).collect();
        let d = fit.displacements(&sim, 7, 0);
        let rho = corr(&d);
        assert!((rho + 0.5).abs() < 0.05, "sampled {rho}");
        let ra: Vec<f64> = d.windows(2).map(|w| w[1][0] - w[0][0]).collect();
        let m = ra.iter().sum::<f64>() / ra.len() as f64;
        let sd = (ra.iter().map(|x| (x - m).powi(2)).sum::<f64>() / ra.len() as f64).sqrt();
        assert!((sd / sd_a - 1.0).abs() < 0.05, "sampled sd {sd} vs {sd_a}");
        // "Correlations go to one": perfectly correlated paths.
        let one = [(("A".to_string(), "B".to_string()), 1.0)]
            .into_iter()
            .collect();
        fit.set_given(&BTreeMap::new(), &one).unwrap();
        assert!((corr(&fit.displacements(&sim, 7, 0)) - 1.0).abs() < 1e-9);
        // Unknown assets and impossible matrices are errors.
        let e = fit
            .set_given(
                &[("C".to_string(), 0.1)].into_iter().collect(),
                &BTreeMap::new(),
            )
            .unwrap_err();
        assert!(e.to_string().contains("`C` is not a priced asset"), "{e}");
        let three = vec!["A".to_string(), "B".to_string(), "C".to_string()];
        let (t3, lp3): (Vec<Micros>, Vec<Vec<f64>>) = {
            let (t, lp) = pair(500, 0.0, 4);
            let lp3 = lp
                .iter()
                .enumerate()
                .map(|(i, r)| vec![r[0], r[1], (i as f64 * 0.37).sin() * 0.01])
                .collect();
            (t, lp3)
        };
        let mut f3 = Fit::from_log_prices(Model::Gaussian, three, t3, lp3, 60).unwrap();
        // A~B 0.9, A~C 0.9, B~C -0.9 cannot all hold.
        let bad = [
            (("A".to_string(), "B".to_string()), 0.9),
            (("A".to_string(), "C".to_string()), 0.9),
            (("B".to_string(), "C".to_string()), -0.9),
        ]
        .into_iter()
        .collect();
        let e = f3.set_given(&BTreeMap::new(), &bad).unwrap_err();
        assert!(e.to_string().contains("not positive semi-definite"), "{e}");
    }

    #[test]
    fn a_degenerate_covariance_still_factors() {
        // B = 2 A: rank one.
        let (times, mut lp) = pair(500, 0.0, 3);
        for r in &mut lp {
            r[1] = 2.0 * r[0];
        }
        let fit = Fit::from_log_prices(Model::Gaussian, assets(), times.clone(), lp, 60).unwrap();
        let d = fit.displacements(&times, 1, 0);
        assert!(d.iter().all(|r| r.iter().all(|x| x.is_finite())));
        assert!((corr(&d) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn bootstrap_blocks_copy_joint_returns_of_one_source_block() {
        let (times, lp) = pair(600, 0.5, 2); // 600 one-minute steps
        let fit = Fit::from_log_prices(Model::Bootstrap, assets(), times, lp.clone(), 600).unwrap();
        let fit_ret: Vec<[f64; 2]> = lp
            .windows(2)
            .map(|w| [w[1][0] - w[0][0], w[1][1] - w[0][1]])
            .collect();
        let sim: Vec<Micros> = (0..=240).map(|i| Micros::from_secs(60 * i)).collect();
        for path in 0..5 {
            let d = fit.displacements(&sim, 9, path);
            let ret: Vec<[f64; 2]> = d
                .windows(2)
                .map(|w| [w[1][0] - w[0][0], w[1][1] - w[0][1]])
                .collect();
            let mut sources = BTreeSet::new();
            // 24 blocks of 10 one-minute steps.
            for blk in ret.chunks(10) {
                let src = (0..fit_ret.len() - 9)
                    .find(|&s| {
                        (0..10)
                            .all(|j| (0..2).all(|k| (fit_ret[s + j][k] - blk[j][k]).abs() < 1e-12))
                    })
                    .expect("every block is a block of the fit period, both assets");
                sources.insert(src);
            }
            assert!(sources.len() > 5, "blocks drawn, not repeated: {sources:?}");
        }
        assert_eq!(fit.displacements(&sim, 9, 0), fit.displacements(&sim, 9, 0));
        assert_ne!(fit.displacements(&sim, 9, 0), fit.displacements(&sim, 9, 1));
    }

    #[test]
    fn a_block_longer_than_the_fit_period_is_an_error() {
        let (times, lp) = pair(10, 0.5, 2);
        let e = Fit::from_log_prices(Model::Bootstrap, assets(), times, lp, 3600).unwrap_err();
        assert!(e.to_string().contains("block_secs = 3600"), "{e}");
    }
}
