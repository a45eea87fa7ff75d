#![allow(dead_code)]

use std::path::PathBuf;

use shortfall_core::Wad;
use shortfall_ingest::{ingest_bytes, Format, IngestError, IngestOptions, IngestOutput, OnBadRow};

pub fn fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("tests/fixtures")
    .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A real dataset file, or None (with a message) when the shared datasets are absent.
pub fn dataset(rel: &str) -> Option<PathBuf> {
    let p = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../../../shared/datasets")
    .join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipping: {} not found", p.display());
        None
    }
}

pub fn w(s: &str) -> Wad {
    Wad::parse_decimal(s, false).unwrap()
}

pub fn opts() -> IngestOptions {
    IngestOptions::default()
}

pub fn skip() -> IngestOptions {
    IngestOptions {
        on_bad_row: OnBadRow::Skip,
        ..Default::default()
    }
}

pub fn run(
    format: Format,
    name: &str,
    bytes: &[u8],
    o: &IngestOptions,
) -> Result<IngestOutput, IngestError> {
    ingest_bytes(format, name, bytes, o, "shortfall test")
}

/// Runs and expects an error whose message contains every needle.
pub fn err_with(
    format: Format,
    name: &str,
    bytes: &[u8],
    o: &IngestOptions,
    needles: &[&str],
) -> IngestError {
    let e = match run(format, name, bytes, o) {
        Ok(out) => panic!(
            "expected an error, got {} prices / {} rounds",
            out.prices.len(),
            out.oracle_rounds.len()
        ),
        Err(e) => e,
    };
    let msg = e.to_string();
    for n in needles {
        assert!(msg.contains(n), "message {msg:?} lacks {n:?}");
    }
    e
}
