//! `shortfall sweep`: a grid of settings through one or several crises, in
//! parallel or as one shard of a cluster array job; `sweep merge`;
//! `sweep --explain`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use shortfall_core::{SweepMeta, SweepRow};
use shortfall_replay::Scenario;
use shortfall_report::format::usd;
use shortfall_store::parquet_io::write_atomic;
use shortfall_sweep::{Crisis, Grid, Prepared, Shard};

use crate::cli::{Global, RenderArgs, SweepArgs, SweepCommand};

/// A `--scenario` value: an existing file, else a crisis pack's name.
pub(crate) fn scenario_path(g: &Global, name: &str) -> anyhow::Result<PathBuf> {
    let p = Path::new(name);
    if p.is_file() {
        return Ok(p.to_path_buf());
    }
    let dir = super::crisis::pack_dir(g, name)
        .with_context(|| format!("--scenario {name}: neither a file nor a crisis pack"))?;
    Ok(dir.join(super::crisis::CRISIS_FILE))
}

/// Loads every crisis's inputs once and prepares it for the variants.
fn prepare_all(g: &Global, names: &[String], grid: &Grid) -> anyhow::Result<Vec<Prepared>> {
    let spinner = crate::progress::spinner(!g.no_progress && !g.quiet, "sweep");
    let mut out = Vec::new();
    for name in names {
        let path = scenario_path(g, name)?;
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading scenario {}", path.display()))?;
        let sc =
            Scenario::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        spinner.set_message(format!("loading {}", sc.name));
        let input = super::replay::load_input(g, &path, &sc, &spinner)?;
        spinner.set_message(format!("preparing {}", sc.name));
        let crisis = Crisis {
            source: name.clone(),
            text,
            input,
        };
        out.push(shortfall_sweep::prepare(crisis, grid)?);
    }
    spinner.finish_and_clear();
    Ok(out)
}

/// Writes `<name>.parquet` and `<name>.json` into `dir`.
fn write_rows(dir: &Path, name: &str, meta: &SweepMeta, rows: &[SweepRow]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let pq = dir.join(format!("{name}.parquet"));
    let bytes = shortfall_store::encode_sweep(rows, &meta.params, &pq)?;
    let json = dir.join(format!("{name}.json"));
    write_atomic(
        &json,
        &shortfall_store::run_dir::to_json_bytes(meta, &json)?,
    )?;
    write_atomic(&pq, &bytes)?;
    Ok(())
}

/// The report's options. Its command is the sweep's canonical one (the
/// scenarios as named, the grid as `GRID.toml`, whose text the report
/// shows), not this process's: a merge of shards and the same sweep run
/// whole, on any number of threads, give the same report.
fn report_options(meta: &SweepMeta, r: &RenderArgs) -> shortfall_report::sweep::SweepOptions {
    let mut command = vec!["shortfall".to_string(), "sweep".to_string()];
    for s in &meta.scenarios {
        command.push("--scenario".into());
        command.push(s.source.clone());
    }
    command.push("--grid".into());
    command.push("GRID.toml".into());
    shortfall_report::sweep::SweepOptions {
        templates: r.templates.clone(),
        top: r.top.min(100),
        command,
        timestamp: r.timestamp.clone(),
    }
}

/// Writes the whole sweep's files and report, prints the best policies.
fn finish(dir: &Path, meta: &SweepMeta, rows: &[SweepRow], r: &RenderArgs) -> anyhow::Result<()> {
    write_rows(dir, "sweep", meta, rows)?;
    let (_, written) =
        shortfall_report::sweep::write_sweep(meta, rows, dir, &report_options(meta, r))
            .with_context(|| format!("sweep report in {}", dir.display()))?;
    let html = written.html;
    println!("{}", dir.display());
    println!(
        "sweep_id {}: {} variants x {} scenarios",
        meta.sweep_id,
        meta.variants,
        meta.scenarios.len()
    );
    for s in &meta.scenarios {
        let mine: Vec<&SweepRow> = rows.iter().filter(|x| x.scenario == s.name).collect();
        println!(
            "{}: baseline bad debt {}, liquidated {}",
            s.name,
            usd(s.baseline.bad_debt_usd),
            usd(s.baseline.liquidated_volume_usd)
        );
        for (rank, i) in shortfall_report::sweep::best(&mine, 3)
            .into_iter()
            .enumerate()
        {
            let x = mine[i];
            println!(
                "  #{} {}  bad debt {}, liquidated {}, penalty {}  [{}]",
                rank + 1,
                x.variant_id,
                usd(x.bad_debt_usd),
                usd(x.liquidated_volume_usd),
                usd(x.penalty_usd),
                x.sets().join(" ")
            );
        }
    }
    println!("report {}", html.display());
    Ok(())
}

pub fn run(g: &Global, args: SweepArgs) -> anyhow::Result<ExitCode> {
    if let Some(SweepCommand::Merge { parts, out, render }) = args.command {
        return merge(&parts, out, &render);
    }
    let grid_path = args.grid.clone().context("--grid is required")?;
    let text = std::fs::read_to_string(&grid_path)
        .with_context(|| format!("reading grid {}", grid_path.display()))?;
    let default_title = grid_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sweep".into());
    let grid = Grid::parse(&text, &default_title)
        .map_err(|e| anyhow::anyhow!("{}: {e}", grid_path.display()))?;
    let shard = Shard::resolve(args.shard.as_deref(), args.shards, |k| {
        std::env::var(k).ok()
    })?;
    if args.explain.is_some() && shard.is_some() {
        bail!("--explain runs one variant: it does not take a shard");
    }
    let variants = grid.variants();
    let crises = prepare_all(g, &args.scenario, &grid)?;
    if let Some(name) = &args.explain {
        let v = shortfall_sweep::find_variant(&variants, name)?;
        return explain(g, &crises, v, &args.render);
    }
    let meta = shortfall_sweep::meta(&grid, &crises, shard, &super::tool_version())?;
    let slice = match shard {
        Some(s) => s.slice(meta.variants),
        None => 0..meta.variants,
    };
    let mine = &variants[slice.start as usize..slice.end as usize];
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let tasks = (mine.len() * crises.len()) as u64;
    let bar = crate::progress::count_bar(tasks, !g.no_progress && !g.quiet, "sweep", "runs");
    let t0 = std::time::Instant::now();
    let rows =
        shortfall_sweep::run_variants(&crises, mine, jobs, &|done| bar.set_position(done as u64))?;
    bar.finish_and_clear();
    let secs = t0.elapsed().as_secs_f64();
    eprintln!(
        "{} runs ({} variants x {} scenarios) on {jobs} threads in {secs:.1} s ({:.1} runs/s)",
        rows.len(),
        mine.len(),
        crises.len(),
        rows.len() as f64 / secs.max(1e-9)
    );
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| g.reports_dir.join("sweeps").join(&meta.sweep_id));
    match shard {
        Some(s) => {
            write_rows(&dir, &s.part_name(), &meta, &rows)?;
            println!(
                "{}",
                dir.join(format!("{}.parquet", s.part_name())).display()
            );
            println!(
                "shard {} of {}: variants {}..{} of {}; merge with `shortfall sweep merge {}`",
                s.index,
                s.count,
                slice.start,
                slice.end,
                meta.variants,
                dir.display()
            );
        }
        None => finish(&dir, &meta, &rows, &args.render)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The part files named: folders give their `part-*.parquet`, sorted.
fn part_files(parts: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in parts {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("reading {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    let n = f.file_name().unwrap_or_default().to_string_lossy();
                    n.starts_with("part-") && n.ends_with(".parquet")
                })
                .collect();
            if found.is_empty() {
                bail!("{}: no part-*.parquet files", p.display());
            }
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn merge(parts: &[PathBuf], out: Option<PathBuf>, render: &RenderArgs) -> anyhow::Result<ExitCode> {
    let files = part_files(parts)?;
    let mut loaded = Vec::new();
    for f in &files {
        let json = f.with_extension("json");
        let bytes = std::fs::read(&json).with_context(|| format!("reading {}", json.display()))?;
        let meta: SweepMeta = serde_json::from_slice(&bytes)
            .with_context(|| format!("{}: not a sweep part's metadata", json.display()))?;
        let rows = shortfall_store::read_sweep(f)?;
        loaded.push((meta, rows));
    }
    let (meta, rows) = shortfall_sweep::merge(loaded)?;
    let dir = match out {
        Some(d) => d,
        None => files[0]
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".")),
    };
    eprintln!("merged {} parts: {} rows", files.len(), rows.len());
    finish(&dir, &meta, &rows, render)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes the full run and report of one variant per scenario.
fn explain(
    g: &Global,
    crises: &[Prepared],
    v: &shortfall_sweep::Variant,
    render: &RenderArgs,
) -> anyhow::Result<ExitCode> {
    let command_line: Vec<String> = std::env::args().skip(1).collect();
    println!("variant {}: {}", v.id, v.sets().join(" "));
    for c in crises {
        let sc = c.variant_scenario(v)?;
        let out = c.run(&sc, &v.id)?;
        let dir = g.reports_dir.join(&sc.name).join(&out.run_meta.run_id);
        shortfall_store::write_run(&dir, &out, &command_line)?;
        let run = shortfall_store::RunData::for_report(out, &command_line);
        let (_, html) = super::report::write_in_memory(&run, &dir, render)?;
        println!(
            "{}: bad debt {}, {} NPL; {}",
            sc.name,
            usd(run.summary.bad_debt_usd),
            run.summary.npl_count,
            html.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
