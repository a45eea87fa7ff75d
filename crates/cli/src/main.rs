//! `shortfall`: historical crisis backtesting and forensics of crypto credit.

mod cli;
mod cmd;
mod progress;

use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    restore_sigpipe();
    let cli = cli::Cli::parse();
    init_logging(cli.global.verbose, cli.global.quiet);
    match cmd::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SHORTFALL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .init();
}

/// Rust starts programs with SIGPIPE ignored, so `shortfall ... | head`
/// would panic on the first write after `head` has exited. A command-line
/// tool should end quietly instead, as the shell expects. Files are never
/// left half-written by this: every output file is written to a temp file
/// and renamed, and the printing comes after.
#[cfg(unix)]
#[allow(unsafe_code)] // one libc call, below
fn restore_sigpipe() {
    // SAFETY: called first thing in main, before any other thread exists;
    // SIG_DFL is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn restore_sigpipe() {}
