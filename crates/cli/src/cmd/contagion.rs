//! `shortfall contagion`: protocols that share collateral, replayed alone
//! and together.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use shortfall_report::format::usd;
use shortfall_store::parquet_io::write_atomic;
use shortfall_stress::contagion::{Contagion, ContagionRun, Spec};

use crate::cli::{ContagionArgs, Global};

/// The spec file: a path, else `<data-dir>/contagion/<NAME>.toml`.
fn spec_path(g: &Global, name: &str) -> anyhow::Result<PathBuf> {
    let p = Path::new(name);
    if p.is_file() {
        return Ok(p.to_path_buf());
    }
    let q = g.data_dir.join("contagion").join(format!("{name}.toml"));
    if q.is_file() {
        return Ok(q);
    }
    anyhow::bail!(
        "--spec {name}: neither a file nor a contagion spec in {}",
        g.data_dir.join("contagion").display()
    )
}

/// A member's scenario: a file relative to the spec, else a file or a
/// crisis pack as `--scenario` takes it.
fn member_path(g: &Global, spec: &Path, name: &str) -> anyhow::Result<PathBuf> {
    if let Some(p) = spec.parent().map(|d| d.join(name)).filter(|p| p.is_file()) {
        return Ok(p);
    }
    super::sweep::scenario_path(g, name)
}

pub fn run(g: &Global, args: ContagionArgs) -> anyhow::Result<ExitCode> {
    let path = spec_path(g, &args.spec)?;
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading contagion spec {}", path.display()))?;
    let spec = Spec::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let spinner = crate::progress::spinner(!g.no_progress && !g.quiet, "contagion");
    let mut loaded = Vec::with_capacity(spec.members.len());
    for (k, m) in spec.members.iter().enumerate() {
        let mpath = member_path(g, &path, &m.scenario)
            .with_context(|| format!("{}: members.{k}.scenario", path.display()))?;
        let mtext = std::fs::read_to_string(&mpath)
            .with_context(|| format!("reading scenario {}", mpath.display()))?;
        let sc = spec
            .member_scenario(k, &mtext)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        spinner.set_message(format!("loading {}", m.protocol));
        let input = super::replay::load_input(g, &mpath, &sc, &spinner)?;
        loaded.push((sc, input));
    }
    spinner.set_message("replaying alone and together");
    let contagion = Contagion::new(spec, text, loaded)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let result = match contagion.run(&super::tool_version()) {
        Ok(r) => r,
        Err(e) => {
            spinner.finish_and_clear();
            let source = match &e {
                shortfall_stress::contagion::ContagionError::Member { source, .. }
                | shortfall_stress::contagion::ContagionError::Joint(source) => Some(source),
                _ => None,
            };
            if let Some(s @ shortfall_replay::ReplayError::Invariant { .. }) = source {
                let (code, _) = super::replay::error_exit(s);
                eprintln!("error: run invalid: {e}");
                return Ok(ExitCode::from(code));
            }
            return Err(e.into());
        }
    };
    spinner.finish_and_clear();
    let mut result = result;
    result.meta.spec = args.spec.clone();
    let dir = args.out.clone().unwrap_or_else(|| {
        g.reports_dir
            .join("contagion")
            .join(&result.meta.contagion_id)
    });
    write_all(&dir, result, &args)?;
    Ok(ExitCode::SUCCESS)
}

fn write_all(dir: &Path, result: ContagionRun, args: &ContagionArgs) -> anyhow::Result<()> {
    let command_line = vec![
        "contagion".to_string(),
        "--spec".to_string(),
        result.meta.spec.clone(),
    ];
    let ContagionRun {
        meta,
        alone,
        together,
    } = result;
    for (m, (a, t)) in meta.members.iter().zip(alone.into_iter().zip(together)) {
        for (sub, out) in [(&m.alone_run, a), (&m.together_run, t)] {
            let run_dir = dir.join(sub);
            shortfall_store::write_run(&run_dir, &out, &command_line)?;
            let run = shortfall_store::RunData::for_report(out, &command_line);
            super::report::write_in_memory(&run, &run_dir, &args.render)?;
        }
    }
    let json = dir.join("contagion.json");
    write_atomic(
        &json,
        &shortfall_store::run_dir::to_json_bytes(&meta, &json)?,
    )?;
    let opts = shortfall_report::contagion::ContagionOptions {
        templates: args.render.templates.clone(),
        timestamp: args.render.timestamp.clone(),
    };
    let (_, written) = shortfall_report::contagion::write_contagion(&meta, dir, &opts)
        .with_context(|| format!("contagion report in {}", dir.display()))?;
    println!("{}", dir.display());
    println!(
        "contagion_id {}: {} sharing {}{}",
        meta.contagion_id,
        meta.members
            .iter()
            .map(|m| m.protocol.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        meta.shared_assets.join(", "),
        if meta.hypothetical.is_empty() {
            ""
        } else {
            " -- HYPOTHETICAL"
        }
    );
    for m in &meta.members {
        println!(
            "{}: bad debt alone {}, together {}; liquidated alone {}, together {}",
            m.protocol,
            usd(m.alone.bad_debt_usd),
            usd(m.together.bad_debt_usd),
            usd(m.alone.liquidated_volume_usd),
            usd(m.together.liquidated_volume_usd)
        );
    }
    println!(
        "total: bad debt alone {}, together {}",
        usd(meta.total_alone.bad_debt_usd),
        usd(meta.total_together.bad_debt_usd)
    );
    println!("report {}", written.html.display());
    Ok(())
}
