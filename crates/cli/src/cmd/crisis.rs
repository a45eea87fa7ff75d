//! `shortfall crisis list|show|run|build`: the built-in crisis packs under
//! `<data-dir>/crises/<name>/`.
//!
//! A pack holds `crisis.toml` (a scenario: window, rules in force with their
//! sources, the book, published figures with their sources), the tables
//! derived from raw files by Shortfall's own ingest (only the crisis window),
//! their manifest (each raw file with its sha256), and `pack.toml`, the
//! recipe `crisis build` follows to derive them again from the raw files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use serde::Deserialize;
use shortfall_core::Wad;
use shortfall_ingest::{ColumnMapping, Format, IngestOptions};
use shortfall_replay::Scenario;
use shortfall_store::Dataset;

use super::replay::GasPoint;
use crate::cli::{CrisisCommand, Global, RenderArgs, ReplayArgs};

pub const CRISIS_FILE: &str = "crisis.toml";
pub const PACK_FILE: &str = "pack.toml";

/// `pack.toml`: how a pack's data is derived from the raw files.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackSpec {
    /// Ingest runs, in order, into the pack's dataset.
    #[serde(default)]
    pub ingest: Vec<IngestStep>,
    /// Gas price path converted to `gas.json`.
    #[serde(default)]
    pub gas: Option<GasStep>,
}

/// One `shortfall ingest` run of a pack recipe.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestStep {
    pub format: String,
    /// Raw files, relative to `--raw`.
    pub files: Vec<String>,
    pub base: Option<String>,
    pub quote: Option<String>,
    pub venue: Option<String>,
    pub feed: Option<String>,
    /// `START..END`.
    pub window: Option<String>,
    pub decimals: Option<u32>,
    /// Column mapping file, relative to the pack.
    pub mapping: Option<String>,
}

/// A raw gas file: a JSON array of `{"price_close": wei, "time_period_start": time}`
/// (coinapi-style, as in BerkeleyBlockchain/stablesims' gas feeds).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GasStep {
    pub file: String,
}

/// Folder of the packs.
fn crises_dir(g: &Global) -> PathBuf {
    g.data_dir.join("crises")
}

pub(crate) fn pack_dir(g: &Global, name: &str) -> anyhow::Result<PathBuf> {
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        bail!("`{name}` is not a crisis name");
    }
    let d = crises_dir(g).join(name);
    if !d.is_dir() {
        bail!(
            "no crisis pack `{name}` in {} (see `shortfall crisis list`)",
            crises_dir(g).display()
        );
    }
    Ok(d)
}

fn load_scenario(dir: &Path) -> anyhow::Result<Scenario> {
    let path = dir.join(CRISIS_FILE);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Scenario::from_toml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn preset_name(sc: &Scenario) -> String {
    serde_json::to_value(sc.policy.preset)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn load_pack(dir: &Path) -> anyhow::Result<PackSpec> {
    let path = dir.join(PACK_FILE);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{}", path.display()))
}

/// Names of the packs (folders with a crisis.toml or a pack.toml), sorted.
pub fn pack_names(g: &Global) -> anyhow::Result<Vec<String>> {
    let dir = crises_dir(g);
    let mut names = Vec::new();
    for e in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let p = e?.path();
        if p.join(CRISIS_FILE).is_file() || p.join(PACK_FILE).is_file() {
            names.push(
                p.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    names.sort();
    Ok(names)
}

pub fn run(g: &Global, cmd: CrisisCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        CrisisCommand::List => list(g),
        CrisisCommand::Show { name } => show(g, &name),
        CrisisCommand::Run {
            name,
            set,
            out,
            render,
        } => run_pack(g, &name, set, out, render),
        CrisisCommand::Build { name, raw, out } => {
            let names = match name {
                Some(n) => vec![n],
                None => pack_names(g)?,
            };
            for n in names {
                let dir = pack_dir(g, &n)?;
                let target = match &out {
                    Some(o) => o.join(&n),
                    None => dir.clone(),
                };
                build(&dir, &raw, &target)?;
                if !g.quiet {
                    println!("{n}: rebuilt in {}", target.display());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn list(g: &Global) -> anyhow::Result<ExitCode> {
    println!(
        "{:<26} {:<12} {:<34} title",
        "name", "rules", "window (UTC)"
    );
    for n in pack_names(g)? {
        let dir = crises_dir(g).join(&n);
        if !dir.join(CRISIS_FILE).is_file() {
            println!(
                "{n:<26} {:<12} {:<34} (data only: no crisis.toml yet)",
                "-", "-"
            );
            continue;
        }
        let sc = load_scenario(&dir)?;
        println!(
            "{n:<26} {:<12} {:<34} {}",
            preset_name(&sc),
            format!("{} .. {}", sc.window.start, sc.window.end),
            sc.title.as_deref().unwrap_or("")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn show(g: &Global, name: &str) -> anyhow::Result<ExitCode> {
    let dir = pack_dir(g, name)?;
    println!("crisis      {name}");
    if dir.join(CRISIS_FILE).is_file() {
        let sc = load_scenario(&dir)?;
        if let Some(t) = &sc.title {
            println!("title       {t}");
        }
        println!("window      {} .. {} (UTC)", sc.window.start, sc.window.end);
        println!("rules       {}", preset_name(&sc));
        if let Some(d) = &sc.description {
            println!("\n{d}\n");
        }
        // The same settings and sources a report lists.
        let cfg = shortfall_report::settings::parse(&sc.resolved_toml())?;
        for g in cfg.groups() {
            println!("{}:", g.title);
            for r in &g.rows {
                let src = r
                    .source
                    .as_deref()
                    .map(|v| format!("  ({v})"))
                    .unwrap_or_default();
                println!("  {} = {}{src}", r.key, r.value);
            }
        }
        if !sc.references.is_empty() {
            println!("published figures:");
            for r in &sc.references {
                let range = match (r.low, r.high) {
                    (Some(l), Some(h)) => format!(" (range {l} to {h})"),
                    _ => String::new(),
                };
                println!(
                    "  {}: {} = {}{range}; source: {}",
                    r.label,
                    r.metric.as_str(),
                    r.value,
                    r.source
                );
            }
        }
    } else {
        println!("(data only: no crisis.toml yet)");
    }
    let m = dir.join("manifest.json");
    if m.is_file() {
        let d = Dataset::open(&dir)?;
        println!("data:");
        for (t, e) in &d.manifest().tables {
            println!("  {t}: {} rows, {} .. {}", e.rows, e.key_min, e.key_max);
        }
        println!("raw files (sha256):");
        for s in &d.manifest().sources {
            println!("  {} {}", s.sha256, s.file);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_pack(
    g: &Global,
    name: &str,
    set: Vec<String>,
    out: Option<PathBuf>,
    render: RenderArgs,
) -> anyhow::Result<ExitCode> {
    let dir = pack_dir(g, name)?;
    if !dir.join(CRISIS_FILE).is_file() {
        bail!("crisis `{name}` has data but no {CRISIS_FILE} yet: it cannot be replayed");
    }
    let args = ReplayArgs {
        scenario: dir.join(CRISIS_FILE),
        set,
        out,
        no_report: false,
        render,
    };
    let (code, report) = super::replay::execute(g, args)?;
    let Some(report) = report else {
        return Ok(code);
    };
    if !report.references.is_empty() {
        println!();
        println!("replayed against published figures:");
        for r in &report.references {
            println!(
                "  {:<44} published {:>14}{}  replayed {:>14}  {}",
                r.label,
                r.published,
                r.published_range
                    .as_deref()
                    .map(|x| format!(" ({x})"))
                    .unwrap_or_default(),
                r.replayed,
                r.verdict
            );
            println!("  {:<44} source: {}", "", r.source);
        }
    }
    Ok(code)
}

/// Converts a raw gas file to the pack's `gas.json` (gwei, exact decimals).
pub fn convert_gas(path: &Path) -> anyhow::Result<Vec<u8>> {
    #[derive(Deserialize)]
    struct Raw {
        price_close: u64,
        time_period_start: String,
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let rows: Vec<Raw> = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{}: expected a JSON array of {{\"price_close\", \"time_period_start\"}}",
            path.display()
        )
    })?;
    let mut out = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let ts = shortfall_core::Micros::parse(&r.time_period_start).with_context(|| {
            format!("{}: item {i}, field \"time_period_start\"", path.display())
        })?;
        // wei -> gwei exactly: 1 gwei = 1e9 wei, so gwei (wad) = wei * 1e9.
        let gwei = Wad(i128::from(r.price_close) * 1_000_000_000);
        out.push(GasPoint {
            ts: ts.to_iso(),
            gwei,
        });
    }
    out.sort_by(|a, b| a.ts.cmp(&b.ts));
    out.dedup_by(|a, b| a.ts == b.ts);
    let mut b = serde_json::to_vec_pretty(&out)?;
    b.push(b'\n');
    Ok(b)
}

/// Derives a pack's data from the raw files into `target` (the pack itself
/// by default). Everything is built in a temp folder first; the old files
/// are replaced only when the whole build succeeded, the manifest last.
pub fn build(pack: &Path, raw: &Path, target: &Path) -> anyhow::Result<()> {
    let spec = load_pack(pack)?;
    std::fs::create_dir_all(target).with_context(|| format!("creating {}", target.display()))?;
    let tmp = target.join(format!(".build-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let result = (|| -> anyhow::Result<Vec<String>> {
        std::fs::create_dir_all(&tmp)?;
        let mut files = Vec::new();
        if !spec.ingest.is_empty() {
            let mut ds = Dataset::open_or_new(&tmp)?;
            for step in &spec.ingest {
                let format: Format = step.format.parse()?;
                let mapping = match &step.mapping {
                    Some(m) => Some(ColumnMapping::from_file(&pack.join(m))?),
                    None => None,
                };
                let opts = IngestOptions {
                    base: step.base.clone(),
                    quote: step.quote.clone(),
                    venue: step.venue.clone(),
                    feed: step.feed.clone(),
                    window: step
                        .window
                        .as_deref()
                        .map(super::ingest::parse_window)
                        .transpose()?,
                    decimals: step.decimals,
                    mapping,
                    ..IngestOptions::default()
                };
                let paths: Vec<PathBuf> = step.files.iter().map(|f| raw.join(f)).collect();
                let out =
                    shortfall_ingest::ingest_files(format, &paths, &opts, &super::tool_version())?;
                if format.table() == "oracle_rounds" {
                    ds.add(out.oracle_rounds, out.sources)?;
                } else {
                    ds.add(out.prices, out.sources)?;
                }
                if !out.liquidity.is_empty() {
                    ds.add(out.liquidity, out.liquidity_sources)?;
                }
                ds.commit()?;
            }
            for e in ds.manifest().tables.values() {
                files.push(e.file.clone());
            }
            files.push("manifest.json".into());
        }
        if let Some(gas) = &spec.gas {
            let b = convert_gas(&raw.join(&gas.file))?;
            std::fs::write(tmp.join("gas.json"), b)?;
            files.insert(0, "gas.json".into());
        }
        Ok(files)
    })();
    let files = match result {
        Ok(f) => f,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e.context(format!("building {}", pack.display())));
        }
    };
    // Drop derived files of an older build that this one does not make.
    for old in [
        "prices.parquet",
        "oracle_rounds.parquet",
        "liquidity.parquet",
        "gas.json",
    ] {
        if !files.iter().any(|f| f == old) {
            let _ = std::fs::remove_file(target.join(old));
        }
    }
    for f in &files {
        std::fs::rename(tmp.join(f), target.join(f))
            .with_context(|| format!("moving {f} into {}", target.display()))?;
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}
