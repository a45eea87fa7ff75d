//! End-to-end tests of `shortfall replay` on the Black Thursday example scenario.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_shortfall");

fn workspace() -> PathBuf {
    std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../..")
}

fn scenario() -> PathBuf {
    workspace().join("datasets/scenarios/black-thursday-aave-v3.toml")
}

/// `--set datasets.prices=...` when the committed pack is not built yet: a
/// dataset ingested from the raw coinapi files (../shared/datasets or
/// `SHORTFALL_RAW_DIR`). None when the committed pack is there.
fn prices_override() -> Option<Vec<String>> {
    static DS: OnceLock<Option<PathBuf>> = OnceLock::new();
    let ds = DS.get_or_init(|| {
        if workspace()
            .join("datasets/crises/black-thursday-2020/manifest.json")
            .exists()
        {
            return None;
        }
        let raw = std::env::var_os("SHORTFALL_RAW_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace().join("../shared/datasets"));
        let dir = std::env::temp_dir().join(format!("shortfall-bt-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (base, file) in [
            ("ETH", "ethusd_10m_2020-03-12.coinapi.json"),
            ("DAI", "daiusd_10m_2020-03-12.coinapi.json"),
        ] {
            let o = Command::new(BIN)
                .args([
                    "-q",
                    "ingest",
                    "--format",
                    "coinapi-json",
                    "--venue",
                    "coinapi",
                ])
                .args(["--base", base, "--quote", "USD", "--dataset"])
                .arg(&dir)
                .arg(raw.join("market").join(file))
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        Some(dir)
    });
    ds.as_ref().map(|d| {
        vec![
            "--set".to_string(),
            format!("datasets.prices={}", d.display()),
        ]
    })
}

fn replay(reports: &Path, extra: &[&str]) -> Output {
    replay_env(reports, extra, &[])
}

fn replay_env(reports: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(BIN);
    c.envs(env.iter().copied());
    c.arg("--reports-dir")
        .arg(reports)
        .arg("replay")
        .arg("--scenario")
        .arg(scenario());
    if let Some(s) = prices_override() {
        c.args(s);
    }
    c.args(extra).output().unwrap()
}

fn run_dir(o: &Output) -> PathBuf {
    let out = String::from_utf8_lossy(&o.stdout);
    PathBuf::from(out.lines().next().expect("run folder on stdout"))
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn replay_example_writes_run_folder_deterministically() {
    let tmp = tempfile::tempdir().unwrap();
    let o = replay(tmp.path(), &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("bad debt")
            && stdout.contains("NPL count")
            && stdout.contains("liquidated volume"),
        "{stdout}"
    );
    let dir = run_dir(&o);
    assert_eq!(
        dir.parent().unwrap().file_name().unwrap(),
        "black-thursday-aave-v3"
    );
    let first = files(&dir);
    let names: Vec<&str> = first.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "events.parquet",
            "liquidations.parquet",
            "loans.parquet",
            "report.html",
            "report.json",
            "run.json",
            "series.parquet",
            "summary.json"
        ]
    );
    // readable back, consistent with the summary
    let run = shortfall_store::read_run(&dir).unwrap();
    assert_eq!(
        run.run.meta.run_id,
        dir.file_name().unwrap().to_string_lossy()
    );
    assert_eq!(run.summary.events, run.events.len() as u64);
    assert_eq!(run.loans.len(), 400);
    assert!(run.summary.book_generated);
    assert!(run.run.meta.input_hashes.contains_key("prices"));
    // Provenance names the manifest and every raw file behind the prices.
    assert!(run
        .run
        .meta
        .input_hashes
        .contains_key("prices/manifest.json"));
    assert!(run
        .run
        .meta
        .input_hashes
        .keys()
        .any(|k| k.starts_with("prices/source/") && k.ends_with(".coinapi.json")));
    assert!(run.run.command_line.iter().any(|a| a == "replay"));
    assert!(
        run.summary.liquidation_count > 0,
        "the ETH crash liquidates part of the book"
    );
    // same run again: same folder, same bytes
    let o2 = replay(tmp.path(), &[]);
    assert!(
        o2.status.success(),
        "{}",
        String::from_utf8_lossy(&o2.stderr)
    );
    assert_eq!(run_dir(&o2), dir);
    assert_eq!(files(&dir), first);
    assert_eq!(std::fs::read_dir(dir.parent().unwrap()).unwrap().count(), 1);
}

#[test]
fn set_changes_run_id_and_out_is_honoured() {
    let tmp = tempfile::tempdir().unwrap();
    let a = replay(tmp.path(), &[]);
    let b = replay(
        tmp.path(),
        &["--set", "policy.assets.ETH.liquidation_threshold=0.8"],
    );
    assert!(
        a.status.success() && b.status.success(),
        "{}",
        String::from_utf8_lossy(&b.stderr)
    );
    assert_ne!(run_dir(&a), run_dir(&b));
    let out = tmp.path().join("custom");
    let c = replay(tmp.path(), &["--out", out.to_str().unwrap()]);
    assert!(c.status.success(), "{}", String::from_utf8_lossy(&c.stderr));
    assert_eq!(run_dir(&c), out);
    assert!(out.join("summary.json").exists());
}

#[test]
fn unknown_key_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let o = replay(tmp.path(), &["--set", "policy.bogus_key=1"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bogus_key"), "{err}");
}

#[test]
fn bad_set_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let o = replay(tmp.path(), &["--set", "no_equals_sign"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no_equals_sign") && err.contains("key=value"),
        "{err}"
    );
    let o = replay(tmp.path(), &["--set", "policy.close_factor=2"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("policy.close_factor"));
}

#[test]
fn missing_dataset_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new(BIN)
        .arg("--reports-dir")
        .arg(tmp.path())
        .args(["replay", "--scenario"])
        .arg(scenario())
        .args(["--set", "datasets.prices=does-not-exist"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("does-not-exist"));
}

#[test]
fn a_hypothetical_replay_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new(BIN)
        .arg("--reports-dir")
        .arg(tmp.path())
        .args(["replay", "--no-report", "--scenario"])
        .arg(workspace().join("datasets/scenarios/black-thursday-faster.toml"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let line = out
        .lines()
        .find(|l| l.starts_with("HYPOTHETICAL"))
        .unwrap_or_else(|| panic!("no HYPOTHETICAL line: {out}"));
    assert!(line.contains("volatility"), "{line}");
    // The historical example is not labelled.
    let o = replay(tmp.path(), &["--no-report"]);
    assert!(!String::from_utf8_lossy(&o.stdout).contains("HYPOTHETICAL"));
}

/// A broken invariant (a unit of collateral leaked after the first
/// liquidation by the test-only `fault-injection` feature, which the
/// engine's own conservation check catches): exit code 3, an error naming
/// the event, and no run folder, not even a partial one.
#[test]
fn broken_invariant_exits_3_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let reports = tmp.path().join("reports");
    let out = tmp.path().join("out");
    let o = replay_env(
        &reports,
        &["--out", common::s(&out)],
        &[("SHORTFALL_FAULT", "leak_collateral@1")],
    );
    let (stdout, stderr) = common::text(&o);
    assert_eq!(o.status.code(), Some(3), "{stdout}\n{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("error: run invalid: invariant violated at event #"))
        .unwrap_or_else(|| panic!("no invariant error on stderr: {stderr}"));
    // `... at event #<seq> (end of run, asset ETH): collateral (...): initial ... != accounted ...`
    let seq = line
        .split('#')
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse::<u64>().ok());
    assert!(seq.is_some_and(|n| n > 0), "{line}");
    assert!(
        line.contains("(end of run, asset ETH): collateral") && line.contains("!= accounted"),
        "{line}"
    );
    assert!(!stdout.contains("run_id"), "{stdout}");
    assert!(
        !out.exists(),
        "a run folder was written at {}",
        out.display()
    );
    assert!(
        !reports.exists() || std::fs::read_dir(&reports).unwrap().next().is_none(),
        "something was written under the reports dir"
    );
    // Control: the same command without the fault succeeds and writes there.
    let o = replay_env(&reports, &["--no-report", "--out", common::s(&out)], &[]);
    assert!(o.status.success(), "{}", common::text(&o).1);
    assert!(out.join("summary.json").exists());
}
