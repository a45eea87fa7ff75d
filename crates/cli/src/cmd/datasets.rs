//! `shortfall datasets list|show|schema|verify`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use shortfall_store::manifest::MANIFEST_FILE;
use shortfall_store::{tables, Dataset};

use crate::cli::{DatasetsCommand, Global};

pub fn run(g: &Global, cmd: DatasetsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        DatasetsCommand::List => list(&g.data_dir),
        DatasetsCommand::Show { dataset } => show(&dataset),
        DatasetsCommand::Schema { table } => {
            match table {
                Some(t) => print!("{}", tables::table(&t)?.markdown()),
                None => print!("{}", schema_markdown()),
            }
            Ok(ExitCode::SUCCESS)
        }
        DatasetsCommand::Verify { dataset } => {
            let ds = Dataset::open(&dataset)?;
            let r = ds.verify()?;
            println!(
                "{}: ok ({} files, {} rows match the manifest)",
                dataset.display(),
                r.files_checked,
                r.rows
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Every table's description, as in `datasets/README.md`.
pub fn schema_markdown() -> String {
    tables::TABLES
        .iter()
        .map(|t| t.markdown())
        .collect::<Vec<_>>()
        .join("\n")
}

fn find_datasets(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if dir.join(MANIFEST_FILE).is_file() {
        out.push(dir.to_path_buf());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    entries.sort();
    for e in entries {
        find_datasets(&e, out)?;
    }
    Ok(())
}

fn list(data_dir: &Path) -> anyhow::Result<ExitCode> {
    let mut found = Vec::new();
    find_datasets(data_dir, &mut found)
        .map_err(|e| anyhow::anyhow!("{}: {e}", data_dir.display()))?;
    if found.is_empty() {
        println!("no datasets under {}", data_dir.display());
    }
    for dir in found {
        let ds = Dataset::open(&dir)?;
        let tables: Vec<String> = ds
            .manifest()
            .tables
            .iter()
            .map(|(n, t)| format!("{n} ({} rows)", t.rows))
            .collect();
        println!("{}\t{}", dir.display(), tables.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}

fn show(dir: &Path) -> anyhow::Result<ExitCode> {
    let ds = Dataset::open(dir)?;
    let m = ds.manifest();
    println!("dataset {}", dir.display());
    for (name, t) in &m.tables {
        println!(
            "\ntable {name}: {} rows, {} bytes, sha256 {}\n  keys {} .. {}",
            t.rows, t.bytes, t.sha256, t.key_min, t.key_max
        );
        for (series, s) in &t.series {
            println!("  {series}: {} rows, {} .. {}", s.rows, s.ts_min, s.ts_max);
        }
    }
    println!("\nsources:");
    for s in &m.sources {
        println!(
            "  {} ({}, {} bytes, sha256 {}) -> {}: {} read, {} written, {} skipped, {} deduplicated, {} rejected; {}",
            s.file,
            s.format,
            s.bytes,
            s.sha256,
            s.table,
            s.rows_read,
            s.rows_written,
            s.rows_skipped,
            s.rows_deduplicated,
            s.rows_rejected,
            s.tool_version
        );
        let opts: Vec<String> = s.options.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if !opts.is_empty() {
            println!("    options: {}", opts.join(" "));
        }
        for n in &s.notes {
            println!("    note: {n}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
