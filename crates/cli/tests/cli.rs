//! The `shortfall` binary, end to end.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn shared() -> Option<PathBuf> {
    let p = repo().join("../shared/datasets");
    p.is_dir().then_some(p).or_else(|| {
        eprintln!("skipping: ../shared/datasets not found");
        None
    })
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap_or_default(),
                )
            })
            .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn ingest_show_verify_query_on_real_files() {
    let Some(raw) = shared() else { return };
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("bt");
    let eth = raw.join("market/ethusd_10m_2020-03-12.coinapi.json");
    let o = shortfall(&[
        "ingest",
        "--format",
        "coinapi-json",
        "--venue",
        "coinapi",
        "--base",
        "ETH",
        "--quote",
        "USD",
        "--dataset",
        s(&ds),
        s(&eth),
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains("144 rows added"), "{out}");

    let hourly = raw.join("market/binance_spot_ethusdt_1h_2017-2020.cdd.csv");
    let o = shortfall(&[
        "ingest",
        "--format",
        "cdd",
        "--window",
        "2020-03-10..2020-03-17",
        "--dataset",
        s(&ds),
        s(&hourly),
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains("168 rows added"), "{out}");

    // Same file again: nothing changes, byte for byte.
    let before = snapshot(&ds);
    let o = shortfall(&[
        "ingest",
        "--format",
        "cdd",
        "--window",
        "2020-03-10..2020-03-17",
        "--dataset",
        s(&ds),
        s(&hourly),
    ]);
    assert!(o.status.success());
    assert!(
        text(&o).0.contains("already in the dataset"),
        "{}",
        text(&o).0
    );
    assert_eq!(snapshot(&ds), before);

    let o = shortfall(&["datasets", "show", "--dataset", s(&ds)]);
    let (out, _) = text(&o);
    assert!(out.contains("coinapi ETH/USD: 144 rows"), "{out}");
    assert!(out.contains("binance ETH/USDT: 168 rows"), "{out}");
    assert!(
        out.contains("ethusd_10m_2020-03-12.coinapi.json (coinapi-json"),
        "{out}"
    );

    let o = shortfall(&["datasets", "verify", "--dataset", s(&ds)]);
    assert!(o.status.success(), "{:?}", text(&o));

    let o = shortfall(&[
        "query",
        "--dataset",
        s(&ds),
        "--format",
        "json",
        "SELECT venue, min(low)::VARCHAR AS low FROM prices GROUP BY venue ORDER BY venue",
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(
        out.trim(),
        r#"[{"venue":"binance","low":"86.000000000000000000"},{"venue":"coinapi","low":"101.010000000000000000"}]"#
    );

    // Tamper with a table: verify fails with exit code 1 and names the file.
    let p = ds.join("prices.parquet");
    let mut b = std::fs::read(&p).unwrap();
    let n = b.len() / 2;
    b[n] ^= 1;
    std::fs::write(&p, b).unwrap();
    let o = shortfall(&["datasets", "verify", "--dataset", s(&ds)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).1.contains("prices.parquet: sha256"),
        "{}",
        text(&o).1
    );
}

#[test]
fn bad_input_fails_with_location_and_leaves_the_dataset_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    let good = dir.path().join("ETHUSDT-1m-2022-05.csv");
    std::fs::write(
        &good,
        "1651363200000,78.1,78.19,78.02,78.02,4371.65,1651363259999,341398.141,475,2199.54,171804.1319,0\n\
         1651363260000,78.02,78.04,77.88,77.91,3467.23,1651363319999,270289.1198,426,617.26,48119.201,0\n",
    )
    .unwrap();
    let o = shortfall(&[
        "ingest",
        "--format",
        "binance-klines",
        "--dataset",
        s(&ds),
        s(&good),
    ]);
    assert!(o.status.success(), "{:?}", text(&o));
    let before = snapshot(&ds);

    let bad = dir.path().join("ETHUSDT-1m-2022-06.csv");
    std::fs::write(
        &bad,
        "1654041600000,78.1,78.19,78.02,78.02,4371.65,1654041659999,341398.141,475,2199.54,171804.1319,0\n\
         1654041660000,78.02,abc,77.88,77.91,3467.23,1654041719999,270289.1198,426,617.26,48119.201,0\n",
    )
    .unwrap();
    let o = shortfall(&[
        "ingest",
        "--format",
        "binance-klines",
        "--dataset",
        s(&ds),
        s(&bad),
    ]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("ETHUSDT-1m-2022-06.csv") && err.contains("line 2") && err.contains("high"),
        "{err}"
    );
    assert_eq!(snapshot(&ds), before, "dataset changed by a failed ingest");

    // With --on-bad-row skip the good row lands and the skip is counted.
    let o = shortfall(&[
        "ingest",
        "--format",
        "binance-klines",
        "--on-bad-row",
        "skip",
        "--dataset",
        s(&ds),
        s(&bad),
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("1 skipped"), "{out}");
    let m = std::fs::read_to_string(ds.join("manifest.json")).unwrap();
    assert!(m.contains("\"rows_skipped\": 1"), "{m}");
}

#[test]
fn usage_errors_exit_2_and_runtime_errors_exit_1() {
    let o = shortfall(&["ingest", "--format", "cdd"]);
    assert_eq!(o.status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    let o = shortfall(&[
        "ingest",
        "--format",
        "nope",
        "--dataset",
        s(dir.path()),
        "x.csv",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).1.contains("unknown format `nope`"),
        "{}",
        text(&o).1
    );
    let o = shortfall(&["datasets", "show", "--dataset", s(dir.path())]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("manifest.json"), "{}", text(&o).1);
}

#[test]
fn query_prints_time_zone_aware_timestamps() {
    // Files written by pandas or DuckDB often hold TIMESTAMPTZ columns.
    let ds = repo().join("datasets/crises/black-thursday-2020");
    let o = shortfall(&[
        "query",
        "--dataset",
        s(&ds),
        "--format",
        "csv",
        "SELECT TIMESTAMPTZ '2023-03-11 08:00:00+00' AS t",
    ]);
    assert!(o.status.success(), "{}", text(&o).1);
    assert_eq!(text(&o).0, "t\n2023-03-11T08:00:00Z\n");
}

#[test]
fn sql_errors_are_reported_not_panicked() {
    let ds = repo().join("datasets/crises/black-thursday-2020");
    let o = shortfall(&["query", "--dataset", s(&ds), "SELECT nope FROM prices"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("nope"), "{}", text(&o).1);
}

#[test]
fn datasets_readme_documents_the_registry() {
    let o = shortfall(&["datasets", "schema"]);
    assert!(o.status.success());
    let schema = text(&o).0;
    let readme = std::fs::read_to_string(repo().join("datasets/README.md")).unwrap();
    assert!(
        readme.contains(&schema),
        "datasets/README.md is out of date: paste the output of `shortfall datasets schema`"
    );
    let o = shortfall(&["datasets", "schema", "prices"]);
    assert!(text(&o).0.contains("| `close` | DECIMAL(38,18) | no |"));
}

#[test]
fn built_in_datasets_verify() {
    let o = shortfall(&[
        "--data-dir",
        s(&repo().join("datasets")),
        "datasets",
        "list",
    ]);
    let (out, _) = text(&o);
    assert!(o.status.success());
    let dirs: Vec<&str> = out.lines().filter_map(|l| l.split('\t').next()).collect();
    assert!(!dirs.is_empty() && !out.starts_with("no datasets"), "{out}");
    for d in dirs {
        let o = shortfall(&["datasets", "verify", "--dataset", d]);
        assert!(o.status.success(), "{d}: {:?}", text(&o));
    }
}

#[test]
fn built_in_packs_rebuild_byte_for_byte_from_the_raw_files() {
    let Some(raw) = shared() else { return };
    let out = tempfile::tempdir().unwrap();
    let packs = repo().join("datasets/crises");
    let names: Vec<String> = std::fs::read_dir(&packs)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("pack.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.len() >= 5, "{names:?}");
    let o = Command::new(env!("CARGO_BIN_EXE_shortfall"))
        .arg("--data-dir")
        .arg(repo().join("datasets"))
        .args(["crisis", "build", "--raw", s(&raw), "--out", s(out.path())])
        .output()
        .unwrap();
    assert!(o.status.success(), "{:?}", text(&o));
    for n in &names {
        let committed: Vec<_> = snapshot(&packs.join(n))
            .into_iter()
            .filter(|(f, _)| f.ends_with(".parquet") || f == "manifest.json" || f == "gas.json")
            .collect();
        assert!(committed.iter().any(|(f, _)| f == "manifest.json"), "{n}");
        let rebuilt = snapshot(&out.path().join(n));
        assert_eq!(committed, rebuilt, "pack {n} differs from its rebuild");
    }
}
