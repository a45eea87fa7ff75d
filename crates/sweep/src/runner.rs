//! Running the variants of a grid through one or several crises.
//!
//! Work every variant shares is done once per crisis in [`prepare`]: the
//! inputs are loaded by the caller, the base scenario is parsed once and a
//! generated book is generated once (its health factors pinned to the base
//! policy's liquidation thresholds, `book.generator.calibration_lt`, so
//! every variant replays the same positions). Variants run on `jobs`
//! threads taking (variant, crisis) tasks from a shared counter; rows are
//! put back in task order, so the output does not depend on `jobs`.

use sha2::{Digest, Sha256};
use shortfall_core::{sha256_hex, Book, SweepMeta, SweepRow, SweepScenario};
use shortfall_replay::{
    apply_set, resolve_book, Mode, PreparedBook, Replay, ReplayInput, RunOutput, Scenario,
};

use crate::error::SweepError;
use crate::grid::{Grid, Variant};
use crate::shard::Shard;

/// One crisis of a sweep, as loaded by the caller.
pub struct Crisis {
    /// How it was named (a crisis pack's name or a scenario file).
    pub source: String,
    /// The scenario file's text.
    pub text: String,
    /// The inputs the scenario names (loaded once).
    pub input: ReplayInput,
}

/// A crisis ready for variants: base scenario, pinned, and a shared book.
pub struct Prepared {
    pub source: String,
    /// The base scenario's TOML tree with the calibration pinned.
    base: toml::Value,
    /// The base scenario (pinned).
    pub scenario: Scenario,
    pub input: ReplayInput,
    /// The book every variant replays, when no variant changes it
    /// (converted once for the base scenario's assets).
    book: Option<PreparedBook>,
}

fn scenario_of(
    value: &toml::Value,
    sets: &[String],
    source: &str,
    variant: &str,
) -> Result<Scenario, SweepError> {
    let mut v = value.clone();
    let wrap = |e| SweepError::Variant {
        variant: variant.to_string(),
        scenario: source.to_string(),
        source: e,
    };
    for s in sets {
        apply_set(&mut v, s).map_err(wrap)?;
    }
    let text = toml::to_string(&v).expect("a TOML tree serialises");
    Scenario::from_toml(&text).map_err(wrap)
}

/// Parses the base scenario, pins a generated book's calibration and
/// generates the book once when no parameter of `grid` changes it.
pub fn prepare(crisis: Crisis, grid: &Grid) -> Result<Prepared, SweepError> {
    prepare_keys(crisis, &grid.keys())
}

/// [`prepare`] for runs that vary the scenario keys `keys` (a stress run:
/// none): the book is shared unless a key changes it.
pub fn prepare_keys(crisis: Crisis, keys: &[String]) -> Result<Prepared, SweepError> {
    let wrap = |e| SweepError::Scenario {
        scenario: crisis.source.clone(),
        source: e,
    };
    let mut base: toml::Value = toml::from_str(&crisis.text)
        .map_err(|e| wrap(shortfall_replay::ReplayError::Scenario(e.to_string())))?;
    let sc = Scenario::from_toml(&crisis.text).map_err(wrap)?;
    if let Some(spec) = sc.book.generator.as_ref() {
        let varied = keys
            .iter()
            .any(|k| k.starts_with("book.generator.calibration_lt"));
        if sc.book.source == shortfall_replay::scenario::BookSource::Generated && !varied {
            // Pin what the policy would otherwise calibrate the book to.
            let gen = base
                .get_mut("book")
                .and_then(|b| b.get_mut("generator"))
                .and_then(|g| g.as_table_mut())
                .expect("a generated book has [book.generator]");
            let cal = gen
                .entry("calibration_lt")
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let Some(t) = cal.as_table_mut() {
                for a in &spec.collateral_assets {
                    if !t.contains_key(a) {
                        let lt = sc.asset(a).liquidation_threshold;
                        t.insert(a.clone(), toml::Value::String(lt.to_string()));
                    }
                }
            }
        }
    }
    let scenario = scenario_of(&base, &[], &crisis.source, "base")?;
    let shares_book = !keys.iter().any(|k| k == "seed" || k.starts_with("book."));
    let book = if shares_book {
        let book = resolve_book(&scenario, &crisis.input)
            .map_err(wrap)?
            .into_owned();
        Some(PreparedBook::new(&scenario, &crisis.input, book).map_err(wrap)?)
    } else {
        None
    };
    Ok(Prepared {
        source: crisis.source,
        base,
        scenario,
        input: crisis.input,
        book,
    })
}

impl Prepared {
    /// The base scenario's TOML tree (calibration pinned).
    pub fn base_toml(&self) -> &toml::Value {
        &self.base
    }

    /// The book shared by every variant (None: each generates its own).
    pub fn shared_book(&self) -> Option<&Book> {
        self.book.as_ref().map(PreparedBook::book)
    }

    /// The scenario of a variant (the base with its sets applied).
    pub fn variant_scenario(&self, v: &Variant) -> Result<Scenario, SweepError> {
        scenario_of(&self.base, &v.sets(), &self.source, &v.id)
    }

    /// The replay (full or summary only) of a scenario of this crisis on
    /// its book: the shared one, else the scenario's own.
    fn replay_with(
        &self,
        sc: &Scenario,
        variant: &str,
        lean: bool,
    ) -> Result<RunOutput, SweepError> {
        let wrap = |e| SweepError::Variant {
            variant: variant.to_string(),
            scenario: self.source.clone(),
            source: e,
        };
        let mode = if lean { Mode::Summary } else { Mode::Full };
        let replay = Replay::new(sc, &self.input).mode(mode);
        match &self.book {
            Some(b) => replay.prepared(b).run(),
            None => {
                let b = resolve_book(sc, &self.input).map_err(wrap)?;
                replay.book(&b).run()
            }
        }
        .map_err(wrap)
    }

    /// The full run of a scenario of this crisis (its book shared when
    /// the variants share it).
    pub fn run(&self, sc: &Scenario, variant: &str) -> Result<RunOutput, SweepError> {
        self.replay_with(sc, variant, false)
    }

    /// The row of a variant (`None`: the base scenario unchanged): the
    /// replay's summary only (the event log counted, not kept), which
    /// equals the full run's.
    pub fn row(&self, v: Option<&Variant>) -> Result<SweepRow, SweepError> {
        let (sc, id) = match v {
            Some(v) => (self.variant_scenario(v)?, v.id.as_str()),
            None => (self.scenario.clone(), "base"),
        };
        let out = self.replay_with(&sc, id, true)?;
        let s = &out.summary;
        Ok(SweepRow {
            variant: v.map_or(u32::MAX, |v| v.index),
            variant_id: id.to_string(),
            scenario: self.scenario.name.clone(),
            params: v.map(|v| v.params.clone()).unwrap_or_default(),
            run_id: out.run_meta.run_id.clone(),
            positions: s.positions,
            initial_debt_usd: s.initial_debt_usd,
            bad_debt_usd: s.bad_debt_usd,
            npl_count: s.npl_count,
            liquidated_volume_usd: s.liquidated_volume_usd,
            liquidation_count: s.liquidation_count,
            penalty_usd: s.penalty_usd,
            protocol_fees_usd: s.protocol_fees_usd,
            reserves_drawdown_usd: s.reserves_drawdown_usd,
        })
    }
}

/// Runs `variants` through every crisis on `jobs` threads; rows in
/// (variant, crisis) order. `progress` is told each finished task's count.
/// The first failing task in that order is the error.
pub fn run_variants(
    crises: &[Prepared],
    variants: &[Variant],
    jobs: usize,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Vec<SweepRow>, SweepError> {
    let n = variants.len() * crises.len();
    crate::parallel::run_ordered(
        n,
        jobs,
        &|t| crises[t % crises.len()].row(Some(&variants[t / crises.len()])),
        progress,
    )
}

/// The sweep's metadata (`sweep.json`), baselines included.
pub fn meta(
    grid: &Grid,
    crises: &[Prepared],
    shard: Option<Shard>,
    version: &str,
) -> Result<SweepMeta, SweepError> {
    let mut names = std::collections::BTreeSet::new();
    let mut scenarios = Vec::new();
    for c in crises {
        if !names.insert(c.scenario.name.clone()) {
            return Err(SweepError::Grid(format!(
                "two scenarios are named `{}`: rows would mix",
                c.scenario.name
            )));
        }
        let baseline = c.row(None)?;
        let book_origin = match c.shared_book() {
            Some(b) => b.origin.clone(),
            None => resolve_book(&c.scenario, &c.input)
                .map_err(|e| SweepError::Scenario {
                    scenario: c.source.clone(),
                    source: e,
                })?
                .origin
                .clone(),
        };
        scenarios.push(SweepScenario {
            name: c.scenario.name.clone(),
            title: c.scenario.title.clone().unwrap_or(c.scenario.name.clone()),
            source: c.source.clone(),
            base_config_sha256: sha256_hex(c.scenario.resolved_toml().as_bytes()),
            input_hashes: c.input.input_hashes.clone(),
            book_origin: book_origin.detail,
            book_generated: book_origin.kind == "generated",
            baseline,
        });
    }
    let mut h = Sha256::new();
    h.update(grid.text.as_bytes());
    for s in &scenarios {
        h.update(format!("\n--scenario {} {}\n", s.name, s.base_config_sha256).as_bytes());
        for (k, v) in &s.input_hashes {
            h.update(format!("{k}={v}\n").as_bytes());
        }
    }
    h.update(version.as_bytes());
    Ok(SweepMeta {
        sweep_id: hex::encode(h.finalize())[..16].to_string(),
        title: grid.title.clone(),
        grid: grid.text.clone(),
        grid_sha256: sha256_hex(grid.text.as_bytes()),
        params: grid.keys(),
        mode: grid.file.mode.as_str().to_string(),
        variants: grid.len() as u32,
        scenarios,
        shard: shard.map(|s| [s.index, s.count]),
        version: version.to_string(),
    })
}

/// Merges the parts of a sharded sweep: every shard of one sweep exactly
/// once. Returns the whole sweep's metadata and rows, equal to an
/// unsharded run's.
pub fn merge(
    parts: Vec<(SweepMeta, Vec<SweepRow>)>,
) -> Result<(SweepMeta, Vec<SweepRow>), SweepError> {
    let err = |m: String| SweepError::Merge(m);
    let Some(first) = parts.first().map(|p| p.0.clone()) else {
        return Err(err("no parts".into()));
    };
    let count = match first.shard {
        Some([_, n]) => n,
        None => 1,
    };
    let mut seen = vec![false; count as usize];
    let mut rows = Vec::new();
    for (m, r) in parts {
        let mut a = m.clone();
        a.shard = None;
        let mut b = first.clone();
        b.shard = None;
        if a != b {
            return Err(err(format!(
                "sweep {} and sweep {} differ (grid, scenarios, inputs or version)",
                first.sweep_id, m.sweep_id
            )));
        }
        let [i, n] = m.shard.unwrap_or([0, 1]);
        if n != count {
            return Err(err(format!("parts of {count} and of {n} shards")));
        }
        if std::mem::replace(&mut seen[i as usize], true) {
            return Err(err(format!("shard {i} of {n} given twice")));
        }
        let slice = Shard::new(i, n)
            .map_err(|e| err(e.to_string()))?
            .slice(m.variants);
        if r.iter().any(|x| !slice.contains(&x.variant)) {
            return Err(err(format!(
                "shard {i} of {n} holds variants outside its slice"
            )));
        }
        rows.extend(r);
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| !**s)
        .map(|(i, _)| i.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(err(format!(
            "missing shards {} of {count}",
            missing.join(", ")
        )));
    }
    let order: std::collections::BTreeMap<&str, usize> = first
        .scenarios
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let key = |r: &SweepRow| (r.variant, order.get(r.scenario.as_str()).copied());
    rows.sort_by_key(key);
    let expected = first.variants as usize * first.scenarios.len();
    if rows.len() != expected {
        return Err(err(format!(
            "{} rows, expected {expected} ({} variants x {} scenarios)",
            rows.len(),
            first.variants,
            first.scenarios.len()
        )));
    }
    let mut meta = first;
    meta.shard = None;
    Ok((meta, rows))
}
