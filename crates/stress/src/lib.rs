//! Bad debt at risk: a crisis book replayed through many simulated market
//! paths (the `simulated` transform of [`shortfall_replay::simulate`]), in
//! parallel, and the distribution of the outcomes: mean, VaR and expected
//! shortfall at 95% and 99% of bad debt and liquidated volume over the
//! horizon, and the worst paths. No file I/O: the CLI loads the inputs and
//! writes `stress.parquet`, `stress.json`, the worst paths' scenarios and
//! the report.
//!
//! The crisis is prepared once ([`shortfall_sweep::prepare_keys`]: inputs
//! loaded once, a generated book generated once with its calibration
//! pinned), the model is fitted once ([`Fit`]) and each path only draws
//! its returns and replays (summary only). Threads take path indices from
//! a shared counter; rows are put back in path order, so they do not
//! depend on the number of threads. Path `k` is the base scenario with one
//! more `[[transforms]]` table, `kind = "simulated"` with `path = k`
//! ([`Stress::path_toml`]): replayed on its own it gives the same row.
//!
//! Definitions (N paths, outcomes sorted ascending `x_1 <= ... <= x_N`):
//! `VaR_q = x_ceil(qN)` (the loss not exceeded in a share `q` of the
//! paths), `ES_q` = the mean of `x_ceil(qN) .. x_N` (the outcomes at or
//! beyond the VaR); means are rounded down to the wei.

pub mod contagion;

use sha2::{Digest, Sha256};
use shortfall_core::{
    sha256_hex, Book, Distribution, Micros, StressMeta, StressRow, Wad, WorstPath,
};
use shortfall_replay::simulate::{Fit, Model};
use shortfall_replay::{
    resolve_book, Mode, Replay, ReplayError, ReplayInput, RunOutput, Scenario, Transform,
};
use shortfall_sweep::{prepare_keys, Crisis, Prepared, SweepError};

/// Errors of a stress run.
#[derive(Debug, thiserror::Error)]
pub enum StressError {
    /// A bad argument (named in the message).
    #[error("{0}")]
    Params(String),
    #[error(transparent)]
    Prepare(#[from] SweepError),
    #[error("{scenario}: {source}")]
    Scenario {
        scenario: String,
        #[source]
        source: ReplayError,
    },
    #[error("path {path}: {source}")]
    Path {
        path: u32,
        #[source]
        source: ReplayError,
    },
}

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub model: Model,
    pub seed: u64,
    pub paths: u32,
    /// Bootstrap block, seconds (None: the default, 3600; gaussian: unused).
    pub block_secs: Option<i64>,
    pub horizon_secs: i64,
    /// The horizon as the user gave it (`24h`), for the report.
    pub horizon: String,
    /// The fit period and given model parameters.
    pub fit: FitOptions,
}

/// The fit period (default: the scenario window) and, for the gaussian
/// model, given volatilities and correlations in place of fitted ones
/// (the `simulated` transform's fields of the same names).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FitOptions {
    pub fit_start: Option<String>,
    pub fit_end: Option<String>,
    /// Standard deviation of one-hour log returns by asset.
    pub volatility: std::collections::BTreeMap<String, f64>,
    /// Correlation by asset pair (`BTC/ETH`).
    pub correlation: std::collections::BTreeMap<String, f64>,
}

/// A crisis prepared for its paths.
pub struct Stress {
    pub prepared: Prepared,
    pub params: Params,
    /// Index of the simulated transform in a path's scenario.
    index: usize,
    /// The base scenario and inputs with the base's own transforms applied.
    applied: Scenario,
    applied_input: ReplayInput,
    pub fit: Fit,
    start: Micros,
}

fn seconds_text(s: i64) -> String {
    if s % 3600 == 0 {
        format!("{} h", s / 3600)
    } else {
        format!("{s} s")
    }
}

impl Stress {
    /// Prepares `crisis` (book generated once) and fits the model.
    pub fn new(crisis: Crisis, params: Params) -> Result<Stress, StressError> {
        if params.paths == 0 {
            return Err(StressError::Params("--paths must be at least 1".into()));
        }
        if i64::try_from(params.seed).is_err() {
            return Err(StressError::Params(
                "--seed must be at most 2^63 - 1".into(),
            ));
        }
        if params.model == Model::Gaussian && params.block_secs.is_some() {
            return Err(StressError::Params(
                "--block is the bootstrap's block length: the gaussian model takes none".into(),
            ));
        }
        let prepared = prepare_keys(crisis, &[])?;
        let (start, end) =
            prepared
                .scenario
                .window_micros()
                .map_err(|e| StressError::Scenario {
                    scenario: prepared.source.clone(),
                    source: e,
                })?;
        let window = (end.0 - start.0) / Micros::PER_SEC;
        if params.horizon_secs <= 0 || params.horizon_secs > window {
            return Err(StressError::Params(format!(
                "--horizon {}: must be above 0 and at most the scenario window ({} to {}, {})",
                params.horizon,
                prepared.scenario.window.start,
                prepared.scenario.window.end,
                seconds_text(window)
            )));
        }
        let index = prepared.scenario.transforms.len();
        let wrap = |e| StressError::Scenario {
            scenario: prepared.source.clone(),
            source: e,
        };
        let (sc, inp) = shortfall_replay::transforms::apply(&prepared.scenario, &prepared.input)
            .map_err(wrap)?;
        let (applied, applied_input) = (sc.into_owned(), inp.into_owned());
        let text = toml::to_string(&with_transform(prepared.base_toml(), transform(&params, 0)))
            .expect("a TOML tree serialises");
        let path0 = Scenario::from_toml(&text).map_err(wrap)?;
        let spec = shortfall_replay::transforms::simulated_spec(&path0, index).map_err(wrap)?;
        let fit = Fit::new(&applied, &applied_input, &spec).map_err(wrap)?;
        Ok(Stress {
            prepared,
            params,
            index,
            applied,
            applied_input,
            fit,
            start,
        })
    }

    /// The `simulated` transform of path `path`.
    pub fn transform(&self, path: u32) -> Transform {
        transform(&self.params, path)
    }

    /// The TOML tree of path `path`'s scenario: the base (calibration
    /// pinned) with the simulated transform appended.
    pub fn path_value(&self, path: u32) -> toml::Value {
        with_transform(self.prepared.base_toml(), self.transform(path))
    }

    /// Path `path`'s scenario as TOML text (replayable on its own).
    pub fn path_toml(&self, path: u32) -> String {
        toml::to_string(&self.path_value(path)).expect("a TOML tree serialises")
    }

    /// Path `path`'s scenario.
    pub fn path_scenario(&self, path: u32) -> Result<Scenario, StressError> {
        Scenario::from_toml(&self.path_toml(path))
            .map_err(|e| StressError::Path { path, source: e })
    }

    fn book(&self) -> &Book {
        self.prepared
            .shared_book()
            .expect("no key varies: the book is shared")
    }

    /// The row of path `path` (summary-only replay; the model fitted once).
    pub fn row(&self, path: u32) -> Result<StressRow, StressError> {
        let wrap = |e| StressError::Path { path, source: e };
        let sc = self.path_scenario(path)?;
        let input = self
            .fit
            .apply(
                &self.applied_input,
                self.start,
                self.params.seed,
                path as u64,
            )
            .map_err(wrap)?;
        let out = Replay::new(&sc, &self.prepared.input)
            .applied(&self.applied, &input, self.book())
            .mode(Mode::Summary)
            .run()
            .map_err(wrap)?;
        Ok(row_of(path, &out))
    }

    /// The full run of path `path` (`stress --explain`): the engine applies
    /// the transform itself.
    pub fn run(&self, path: u32) -> Result<RunOutput, StressError> {
        let sc = self.path_scenario(path)?;
        Replay::new(&sc, &self.prepared.input)
            .book(self.book())
            .run()
            .map_err(|e| StressError::Path { path, source: e })
    }

    /// The historical path (the base scenario unchanged), path `u32::MAX`.
    pub fn baseline(&self) -> Result<StressRow, StressError> {
        let r = self.prepared.row(None)?;
        Ok(StressRow {
            path: u32::MAX,
            bad_debt_usd: r.bad_debt_usd,
            npl_count: r.npl_count,
            liquidated_volume_usd: r.liquidated_volume_usd,
            liquidation_count: r.liquidation_count,
            penalty_usd: r.penalty_usd,
            reserves_drawdown_usd: r.reserves_drawdown_usd,
            run_id: r.run_id,
        })
    }
}

fn transform(p: &Params, path: u32) -> Transform {
    Transform::Simulated {
        model: p.model,
        seed: p.seed,
        path: path as u64,
        // The default block is left out, so `--block 1h` and no `--block`
        // give the same scenarios (and run ids).
        block_secs: match p.model {
            Model::Bootstrap => p
                .block_secs
                .filter(|b| *b != shortfall_replay::simulate::DEFAULT_BLOCK_SECS),
            Model::Gaussian => None,
        },
        fit_start: p.fit.fit_start.clone(),
        fit_end: p.fit.fit_end.clone(),
        horizon_secs: Some(p.horizon_secs),
        volatility: p.fit.volatility.clone(),
        correlation: p.fit.correlation.clone(),
    }
}

/// `base` with `t` appended to its `[[transforms]]`.
fn with_transform(base: &toml::Value, t: Transform) -> toml::Value {
    let mut v = base.clone();
    let t = toml::Value::try_from(t).expect("a transform serialises");
    let table = v.as_table_mut().expect("a scenario is a table");
    let list = table
        .entry("transforms")
        .or_insert_with(|| toml::Value::Array(Vec::new()));
    if let Some(a) = list.as_array_mut() {
        a.push(t);
    }
    v
}

fn row_of(path: u32, out: &RunOutput) -> StressRow {
    let s = &out.summary;
    StressRow {
        path,
        bad_debt_usd: s.bad_debt_usd,
        npl_count: s.npl_count,
        liquidated_volume_usd: s.liquidated_volume_usd,
        liquidation_count: s.liquidation_count,
        penalty_usd: s.penalty_usd,
        reserves_drawdown_usd: s.reserves_drawdown_usd,
        run_id: out.run_meta.run_id.clone(),
    }
}

/// Runs paths `0..paths` on `jobs` threads; rows in path order.
/// `progress` is told each finished path's count. The first failing path
/// is the error.
pub fn run_paths(
    stress: &Stress,
    jobs: usize,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Vec<StressRow>, StressError> {
    let n = stress.params.paths as usize;
    shortfall_sweep::parallel::run_ordered(n, jobs, &|t| stress.row(t as u32), progress)
}

/// Mean of `xs` rounded down (0 for none).
fn mean(xs: &[Wad]) -> Wad {
    if xs.is_empty() {
        return Wad::ZERO;
    }
    let sum: i128 = xs.iter().map(|x| x.0).sum();
    Wad(sum.div_euclid(xs.len() as i128))
}

/// The 1-based rank of `VaR_q` among `n` outcomes: `ceil(pct n / 100)`.
pub fn var_rank(n: usize, pct: usize) -> usize {
    (n * pct).div_ceil(100).max(1)
}

/// The distribution of `values` (see the crate doc for VaR and ES).
pub fn distribution(metric: &str, values: &[Wad]) -> Distribution {
    let mut xs = values.to_vec();
    xs.sort();
    let n = xs.len();
    let tail = |pct: usize| -> (Wad, Wad) {
        if n == 0 {
            return (Wad::ZERO, Wad::ZERO);
        }
        let k = var_rank(n, pct);
        (xs[k - 1], mean(&xs[k - 1..]))
    };
    let (var95, es95) = tail(95);
    let (var99, es99) = tail(99);
    Distribution {
        metric: metric.to_string(),
        mean: mean(&xs),
        min: xs.first().copied().unwrap_or(Wad::ZERO),
        max: xs.last().copied().unwrap_or(Wad::ZERO),
        var95,
        es95,
        var99,
        es99,
    }
}

/// The `k` worst paths: most bad debt first, ties by path index.
pub fn worst(rows: &[StressRow], k: usize) -> Vec<&StressRow> {
    let mut v: Vec<&StressRow> = rows.iter().collect();
    v.sort_by(|a, b| {
        b.bad_debt_usd
            .cmp(&a.bad_debt_usd)
            .then(a.path.cmp(&b.path))
    });
    v.truncate(k);
    v
}

/// The file name of a worst path's scenario, relative to the stress folder.
pub fn worst_file(path: u32) -> String {
    format!("worst/path-{path}.toml")
}

/// The stress run's metadata (`stress.json`): statistics, worst `k`
/// paths, baseline, provenance.
pub fn meta(
    stress: &Stress,
    rows: &[StressRow],
    k: usize,
    version: &str,
) -> Result<StressMeta, StressError> {
    let sc = &stress.prepared.scenario;
    let p = &stress.params;
    let base_config_sha256 = sha256_hex(sc.resolved_toml().as_bytes());
    let spec_of = stress.path_scenario(0)?;
    let spec =
        shortfall_replay::transforms::simulated_spec(&spec_of, stress.index).map_err(|e| {
            StressError::Scenario {
                scenario: stress.prepared.source.clone(),
                source: e,
            }
        })?;
    let book_origin = resolve_book(sc, &stress.prepared.input)
        .map_err(|e| StressError::Scenario {
            scenario: stress.prepared.source.clone(),
            source: e,
        })?
        .origin
        .clone();
    let block_secs = match p.model {
        Model::Bootstrap => Some(
            p.block_secs
                .unwrap_or(shortfall_replay::simulate::DEFAULT_BLOCK_SECS),
        ),
        Model::Gaussian => None,
    };
    let mut h = Sha256::new();
    h.update(base_config_sha256.as_bytes());
    h.update(
        format!(
            "\nmodel={} seed={} paths={} block={block_secs:?} horizon={}\n",
            p.model.as_str(),
            p.seed,
            p.paths,
            p.horizon_secs
        )
        .as_bytes(),
    );
    for (k, v) in &stress.prepared.input.input_hashes {
        h.update(format!("{k}={v}\n").as_bytes());
    }
    if p.fit != FitOptions::default() {
        h.update(format!("{:?}\n", p.fit).as_bytes());
    }
    h.update(version.as_bytes());
    let given =
        shortfall_replay::transforms::given_parameters(&p.fit.volatility, &p.fit.correlation);
    let bad: Vec<Wad> = rows.iter().map(|r| r.bad_debt_usd).collect();
    let liq: Vec<Wad> = rows.iter().map(|r| r.liquidated_volume_usd).collect();
    Ok(StressMeta {
        stress_id: hex::encode(h.finalize())[..16].to_string(),
        scenario: sc.name.clone(),
        title: sc.title.clone().unwrap_or(sc.name.clone()),
        source: stress.prepared.source.clone(),
        model: p.model.as_str().to_string(),
        block_secs,
        horizon_secs: p.horizon_secs,
        horizon: p.horizon.clone(),
        seed: p.seed,
        paths: p.paths,
        window_start: sc.window.start.clone(),
        window_end: sc.window.end.clone(),
        fit_start: spec.fit_start.to_iso(),
        fit_end: spec.fit_end.to_iso(),
        given,
        assets: stress.fit.assets.clone(),
        statistics: vec![
            distribution("bad_debt_usd", &bad),
            distribution("liquidated_volume_usd", &liq),
        ],
        baseline: stress.baseline()?,
        worst: worst(rows, k)
            .into_iter()
            .map(|r| WorstPath {
                path: r.path,
                bad_debt_usd: r.bad_debt_usd,
                liquidated_volume_usd: r.liquidated_volume_usd,
                run_id: r.run_id.clone(),
                scenario_file: worst_file(r.path),
            })
            .collect(),
        base_config_sha256,
        input_hashes: stress.prepared.input.input_hashes.clone(),
        book_origin: book_origin.detail,
        book_generated: book_origin.kind == "generated",
        version: version.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn var_and_es_of_twenty_outcomes() {
        // Outcomes 1..=20 (USD) in scrambled order.
        let v: Vec<Wad> = [
            7, 3, 20, 1, 15, 9, 12, 2, 19, 4, 5, 6, 8, 10, 11, 13, 14, 16, 17, 18,
        ]
        .iter()
        .map(|&x| Wad::from_int(x))
        .collect();
        let d = distribution("bad_debt_usd", &v);
        // mean = 210 / 20
        assert_eq!(d.mean, Wad(10_500_000_000_000_000_000));
        // ceil(0.95 * 20) = 19th smallest; ES95 = mean(19, 20)
        assert_eq!(d.var95, Wad::from_int(19));
        assert_eq!(d.es95, Wad(19_500_000_000_000_000_000));
        // ceil(0.99 * 20) = 20th
        assert_eq!(d.var99, Wad::from_int(20));
        assert_eq!(d.es99, Wad::from_int(20));
        assert_eq!((d.min, d.max), (Wad::from_int(1), Wad::from_int(20)));
        // 101 outcomes: VaR95 = 96th smallest, VaR99 = 100th.
        assert_eq!((var_rank(101, 95), var_rank(101, 99)), (96, 100));
        assert_eq!(var_rank(1, 95), 1);
        let one = distribution("x", &[Wad(5)]);
        assert_eq!((one.var99, one.es99, one.mean), (Wad(5), Wad(5), Wad(5)));
    }

    #[test]
    fn worst_paths_by_bad_debt_ties_by_index() {
        let row = |path, b| StressRow {
            path,
            bad_debt_usd: Wad(b),
            npl_count: 0,
            liquidated_volume_usd: Wad::ZERO,
            liquidation_count: 0,
            penalty_usd: Wad::ZERO,
            reserves_drawdown_usd: Wad::ZERO,
            run_id: String::new(),
        };
        let rows = vec![row(0, 5), row(1, 9), row(2, 9), row(3, 1)];
        let w: Vec<u32> = worst(&rows, 3).iter().map(|r| r.path).collect();
        assert_eq!(w, vec![1, 2, 0]);
    }
}
