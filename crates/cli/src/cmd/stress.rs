//! `shortfall stress`: bad debt at risk over simulated market paths;
//! `stress --explain K`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context};
use shortfall_core::{StressMeta, StressRow};
use shortfall_replay::simulate::Model;
use shortfall_replay::Scenario;
use shortfall_report::format::usd;
use shortfall_store::parquet_io::write_atomic;
use shortfall_stress::{Params, Stress};
use shortfall_sweep::Crisis;

use crate::cli::{Global, StressArgs, StressModel};

/// `24h`, `90m`, `2d`, `3600s` or plain seconds -> seconds.
pub fn parse_duration(flag: &str, text: &str) -> anyhow::Result<i64> {
    let t = text.trim();
    let (num, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, "s"),
    };
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => bail!("{flag} {text}: expected a duration such as 24h, 90m, 2d or 3600s"),
    };
    let n: i64 = num.parse().ok().filter(|n| *n > 0).with_context(|| {
        format!("{flag} {text}: expected a positive whole number of s, m, h or d")
    })?;
    n.checked_mul(mult)
        .with_context(|| format!("{flag} {text}: too long"))
}

/// `KEY=X` arguments -> map (a key given twice is an error).
fn pairs(flag: &str, args: &[String]) -> anyhow::Result<std::collections::BTreeMap<String, f64>> {
    let mut out = std::collections::BTreeMap::new();
    for a in args {
        let (k, v) = a
            .split_once('=')
            .with_context(|| format!("{flag} {a}: expected KEY=NUMBER"))?;
        let x: f64 = v
            .trim()
            .parse()
            .ok()
            .filter(|x: &f64| x.is_finite())
            .with_context(|| format!("{flag} {a}: `{v}` is not a number"))?;
        if out.insert(k.trim().to_string(), x).is_some() {
            bail!("{flag}: `{k}` given twice");
        }
    }
    Ok(out)
}

pub fn run(g: &Global, args: StressArgs) -> anyhow::Result<ExitCode> {
    if args.paths == 0 {
        bail!("--paths must be at least 1");
    }
    let horizon_secs = parse_duration("--horizon", &args.horizon)?;
    let block_secs = match &args.block {
        Some(b) => Some(parse_duration("--block", b)?),
        None => None,
    };
    let model = match args.model {
        StressModel::Bootstrap => Model::Bootstrap,
        StressModel::Gaussian => Model::Gaussian,
    };
    let path = super::sweep::scenario_path(g, &args.scenario)?;
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading scenario {}", path.display()))?;
    let sc = Scenario::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let spinner = crate::progress::spinner(!g.no_progress && !g.quiet, "stress");
    spinner.set_message(format!("loading {}", sc.name));
    let input = super::replay::load_input(g, &path, &sc, &spinner)?;
    spinner.set_message(format!("preparing {}", sc.name));
    let crisis = Crisis {
        source: args.scenario.clone(),
        text,
        input,
    };
    let params = Params {
        model,
        seed: args.seed,
        paths: args.paths,
        block_secs,
        horizon_secs,
        horizon: args.horizon.clone(),
        fit: shortfall_stress::FitOptions {
            fit_start: args.fit_start.clone(),
            fit_end: args.fit_end.clone(),
            volatility: pairs("--vol", &args.vol)?,
            correlation: pairs("--corr", &args.corr)?,
        },
    };
    let stress = Stress::new(crisis, params)?;
    spinner.finish_and_clear();
    if let Some(k) = args.explain {
        if k >= args.paths {
            bail!("--explain {k}: paths are numbered 0 to {}", args.paths - 1);
        }
        return explain(g, &stress, k, &args);
    }
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let bar = crate::progress::count_bar(
        args.paths as u64,
        !g.no_progress && !g.quiet,
        "stress",
        "paths",
    );
    let t0 = std::time::Instant::now();
    let rows = shortfall_stress::run_paths(&stress, jobs, &|done| bar.set_position(done as u64))?;
    bar.finish_and_clear();
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "{} paths on {jobs} threads in {secs:.1} s ({:.1} paths/s)",
        rows.len(),
        rows.len() as f64 / secs.max(1e-9)
    );
    let meta = shortfall_stress::meta(&stress, &rows, args.worst, &super::tool_version())?;
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| g.reports_dir.join("stress").join(&meta.stress_id));
    write_all(g, &path, &dir, &stress, &meta, &rows, &args)?;
    Ok(ExitCode::SUCCESS)
}

/// The path's scenario with its dataset references made absolute, so it
/// replays from the stress folder.
fn worst_toml(g: &Global, scenario_path: &Path, stress: &Stress, k: u32) -> anyhow::Result<String> {
    let mut v = stress.path_value(k);
    let dir = scenario_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    if let Some(ds) = v.get_mut("datasets").and_then(|d| d.as_table_mut()) {
        for (key, r) in ds.iter_mut() {
            if let Some(text) = r.as_str() {
                let p = super::replay::resolve(text, &dir, &g.data_dir)
                    .with_context(|| format!("datasets.{key}"))?;
                let p = std::fs::canonicalize(&p).unwrap_or(p);
                *r = toml::Value::String(p.to_string_lossy().into_owned());
            }
        }
    }
    let mut text = format!(
        "# Path {k} of `shortfall stress --scenario {} --paths {} --horizon {} --seed {} --model {}`:\n\
         # the scenario with its simulated market path (HYPOTHETICAL). Replay it with\n\
         # `shortfall replay --scenario path-{k}.toml`; dataset paths are absolute, so its\n\
         # run_id differs from the stress row's (the figures are the same).\n",
        stress.prepared.source,
        stress.params.paths,
        stress.params.horizon,
        stress.params.seed,
        stress.params.model.as_str()
    );
    text.push_str(&toml::to_string(&v).expect("a TOML tree serialises"));
    Ok(text)
}

fn write_all(
    g: &Global,
    scenario_path: &Path,
    dir: &Path,
    stress: &Stress,
    meta: &StressMeta,
    rows: &[StressRow],
    args: &StressArgs,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir.join("worst"))
        .with_context(|| format!("creating {}", dir.display()))?;
    let pq = dir.join("stress.parquet");
    let bytes = shortfall_store::encode_stress(rows, &pq)?;
    write_atomic(&pq, &bytes)?;
    let json = dir.join("stress.json");
    write_atomic(
        &json,
        &shortfall_store::run_dir::to_json_bytes(meta, &json)?,
    )?;
    for w in &meta.worst {
        write_atomic(
            &dir.join(&w.scenario_file),
            worst_toml(g, scenario_path, stress, w.path)?.as_bytes(),
        )?;
    }
    println!("{}", dir.display());
    println!(
        "stress_id {}: {} paths of {} over {} ({} model, seed {}) -- HYPOTHETICAL",
        meta.stress_id, meta.paths, meta.scenario, meta.horizon, meta.model, meta.seed
    );
    for d in &meta.statistics {
        println!(
            "{}: mean {}, VaR95 {}, ES95 {}, VaR99 {}, ES99 {} (horizon {})",
            d.metric,
            usd(d.mean),
            usd(d.var95),
            usd(d.es95),
            usd(d.var99),
            usd(d.es99),
            meta.horizon
        );
    }
    println!(
        "historical path: bad debt {}, liquidated {}",
        usd(meta.baseline.bad_debt_usd),
        usd(meta.baseline.liquidated_volume_usd)
    );
    for w in meta.worst.iter().take(3) {
        println!(
            "worst path {}: bad debt {}, liquidated {} ({})",
            w.path,
            usd(w.bad_debt_usd),
            usd(w.liquidated_volume_usd),
            w.scenario_file
        );
    }
    let opts = shortfall_report::stress::StressOptions {
        templates: args.render.templates.clone(),
        timestamp: args.render.timestamp.clone(),
    };
    let (_, written) = shortfall_report::stress::write_stress(meta, rows, dir, &opts)
        .with_context(|| format!("stress report in {}", dir.display()))?;
    println!("report {}", written.html.display());
    Ok(())
}

/// Writes the full run and report of path `k`.
fn explain(g: &Global, stress: &Stress, k: u32, args: &StressArgs) -> anyhow::Result<ExitCode> {
    let command_line: Vec<String> = std::env::args().skip(1).collect();
    let out = stress.run(k)?;
    let name = &stress.prepared.scenario.name;
    let dir = g.reports_dir.join(name).join(&out.run_meta.run_id);
    shortfall_store::write_run(&dir, &out, &command_line)?;
    let run = shortfall_store::RunData::for_report(out, &command_line);
    let (_, html) = super::report::write_in_memory(&run, &dir, &args.render)?;
    println!("{}", dir.display());
    println!(
        "path {k}: bad debt {}, {} NPL, liquidated {}; {}",
        usd(run.summary.bad_debt_usd),
        run.summary.npl_count,
        usd(run.summary.liquidated_volume_usd),
        html.display()
    );
    Ok(ExitCode::SUCCESS)
}
