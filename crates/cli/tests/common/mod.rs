//! Helpers shared by the command-line tests: run the binary with no
//! environment overrides, read its output, find the repository.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `shortfall` with `args`, ignoring the user's data and reports dirs.
pub fn shortfall(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shortfall"))
        .args(args)
        .env_remove("SHORTFALL_DATA_DIR")
        .env_remove("SHORTFALL_REPORTS_DIR")
        .output()
        .expect("run shortfall")
}

/// (stdout, stderr) as text.
pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Stdout of a run that must have succeeded (both streams in the failure).
pub fn ok(o: &Output) -> String {
    let (out, err) = text(o);
    assert!(
        o.status.success(),
        "exit {:?}\n{out}\n{err}",
        o.status.code()
    );
    out
}

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A path as a command-line argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}
