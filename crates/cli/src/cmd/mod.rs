//! One module per command; each returns the process exit code.

mod bench;
mod contagion;
mod crisis;
mod datasets;
mod forensics;
mod ingest;
pub mod perp_input;
mod positions;
mod query;
pub mod replay;
mod report;
mod stress;
mod sweep;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

/// `shortfall <version>`, recorded in manifests and runs.
pub fn tool_version() -> String {
    format!("shortfall {}", env!("CARGO_PKG_VERSION"))
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let g = &cli.global;
    match cli.command {
        Command::Ingest(args) => ingest::run(g, args),
        Command::Datasets(c) => datasets::run(g, c),
        Command::Query(args) => query::run(g, args),
        Command::Replay(args) => replay::run(g, args),
        Command::Crisis(c) => crisis::run(g, c),
        Command::Report(args) => report::run(g, args),
        Command::Compare(args) => report::compare(g, args),
        Command::Forensics(args) => forensics::run(g, args),
        Command::Bench(c) => bench::run(g, c),
        Command::Positions(args) => positions::run(g, args),
        Command::Sweep(args) => sweep::run(g, args),
        Command::Stress(args) => stress::run(g, args),
        Command::Contagion(args) => contagion::run(g, args),
    }
}
