//! `shortfall stress`: the same files whatever `--jobs`, VaR and ES with
//! their horizon in stress.json, `--explain K` and `worst/path-K.toml`
//! reproducing row K, bad arguments named.

mod common;

use std::path::Path;

use common::{ok, repo, s, shortfall, text};

fn stress(reports: &Path, extra: &[&str]) -> std::process::Output {
    let data = repo().join("datasets");
    let mut args = vec![
        "--no-progress",
        "--data-dir",
        s(&data),
        "--reports-dir",
        s(reports),
        "stress",
        "--scenario",
        "usdc-depeg-2023-03",
        "--seed",
        "11",
    ];
    if !extra.contains(&"--horizon") {
        args.extend_from_slice(&["--horizon", "24h"]);
    }
    args.extend_from_slice(extra);
    shortfall(&args)
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&read(p)).unwrap()
}

#[test]
fn stress_is_deterministic_and_its_paths_replay() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    ok(&stress(
        tmp.path(),
        &["--paths", "24", "--jobs", "1", "--out", s(&a)],
    ));
    ok(&stress(
        tmp.path(),
        &["--paths", "24", "--jobs", "2", "--out", s(&b)],
    ));
    let mut files = vec![
        "stress.parquet".to_string(),
        "stress.json".to_string(),
        "stress.html".to_string(),
        "stress-report.json".to_string(),
    ];
    let meta = json(&a.join("stress.json"));
    for w in meta["worst"].as_array().unwrap() {
        files.push(w["scenario_file"].as_str().unwrap().to_string());
    }
    for f in &files {
        assert_eq!(
            read(&a.join(f)),
            read(&b.join(f)),
            "{f} differs with --jobs"
        );
    }
    // VaR and ES with the horizon.
    assert_eq!(meta["horizon"], "24h");
    assert_eq!(meta["horizon_secs"], 86400);
    assert_eq!(meta["paths"], 24);
    let stats = meta["statistics"].as_array().unwrap();
    assert_eq!(stats[0]["metric"], "bad_debt_usd");
    assert_eq!(stats[1]["metric"], "liquidated_volume_usd");
    let num = |v: &serde_json::Value| v.as_str().unwrap().parse::<f64>().unwrap();
    for d in stats {
        assert!(num(&d["var95"]) <= num(&d["es95"]));
        assert!(num(&d["var95"]) <= num(&d["var99"]));
        assert!(num(&d["es99"]) <= num(&d["max"]));
        assert!(num(&d["mean"]) <= num(&d["es95"]));
    }
    let worst = &meta["worst"][0];
    assert_eq!(num(&worst["bad_debt_usd"]), num(&stats[0]["max"]));
    let k = worst["path"].as_u64().unwrap().to_string();
    let bad = worst["bad_debt_usd"].as_str().unwrap();

    // --explain K: the full run has row K's run_id and bad debt.
    let out = ok(&stress(tmp.path(), &["--paths", "24", "--explain", &k]));
    let dir = Path::new(out.lines().next().unwrap());
    assert_eq!(
        dir.file_name().unwrap().to_str().unwrap(),
        worst["run_id"].as_str().unwrap()
    );
    let summary = json(&dir.join("summary.json"));
    assert_eq!(summary["bad_debt_usd"], bad);
    assert!(summary["hypothetical"][0]
        .as_str()
        .unwrap()
        .contains(&format!("simulated market path #{k} (seed 11)")));
    assert!(dir.join("report.html").is_file());

    // worst/path-K.toml replays on its own to the same bad debt.
    let toml = a.join(worst["scenario_file"].as_str().unwrap());
    let run = tmp.path().join("replayed");
    ok(&shortfall(&[
        "--no-progress",
        "replay",
        "--scenario",
        s(&toml),
        "--no-report",
        "--out",
        s(&run),
    ]));
    assert_eq!(json(&run.join("summary.json"))["bad_debt_usd"], bad);

    // The report says what it is.
    let html = String::from_utf8(read(&a.join("stress.html"))).unwrap();
    assert!(html.contains("HYPOTHETICAL"));
    assert!(html.contains(&format!("stress --scenario usdc-depeg-2023-03 --paths 24 --horizon 24h --seed 11 --model bootstrap --explain {k}")));
    assert!(!html.contains("<script"));
}

#[test]
fn gaussian_paths_run_too() {
    let tmp = tempfile::tempdir().unwrap();
    let out = ok(&stress(
        tmp.path(),
        &[
            "--paths",
            "6",
            "--model",
            "gaussian",
            "--out",
            s(&tmp.path().join("g")),
        ],
    ));
    assert!(out.contains("gaussian model"), "{out}");
    let meta = json(&tmp.path().join("g/stress.json"));
    assert_eq!(meta["model"], "gaussian");
    assert!(meta["block_secs"].is_null());
    // A chosen fit period and a given volatility.
    let g2 = tmp.path().join("g2");
    ok(&stress(
        tmp.path(),
        &[
            "--paths",
            "6",
            "--model",
            "gaussian",
            "--fit-start",
            "2023-03-10 00:00",
            "--fit-end",
            "2023-03-11 00:00",
            "--vol",
            "USDC=0.05",
            "--out",
            s(&g2),
        ],
    ));
    let m2 = json(&g2.join("stress.json"));
    assert_eq!(m2["fit_end"], "2023-03-11 00:00:00");
    assert_eq!(m2["given"][0], "USDC volatility 0.05 per hour");
    assert_ne!(m2["stress_id"], meta["stress_id"]);
    assert_ne!(m2["statistics"], meta["statistics"]);
    let html = String::from_utf8(read(&g2.join("stress.html"))).unwrap();
    assert!(html.contains("Given parameters"), "the report says so");
    let path0 = String::from_utf8(read(
        &g2.join(m2["worst"][0]["scenario_file"].as_str().unwrap()),
    ))
    .unwrap();
    assert!(path0.contains("fit_end = \"2023-03-11 00:00\""), "{path0}");
}

#[test]
fn bad_arguments_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 9] = [
        (&["--paths", "0"], "--paths"),
        (&["--paths", "4", "--vol", "USDC=x"], "--vol USDC=x"),
        (
            &["--paths", "4", "--vol", "USDC=0.1"],
            "parameters of the gaussian model",
        ),
        (
            &[
                "--paths",
                "4",
                "--model",
                "gaussian",
                "--corr",
                "USDC/NOPE=0.5",
            ],
            "`NOPE` is not a priced asset",
        ),
        (
            &[
                "--paths",
                "4",
                "--fit-start",
                "2023-03-11 00:00",
                "--fit-end",
                "2023-03-10 00:00",
            ],
            "fit_end",
        ),
        (&["--paths", "4", "--horizon", "5d"], "--horizon 5d"),
        (&["--paths", "4", "--horizon", "24x"], "--horizon 24x"),
        (&["--paths", "4", "--explain", "4"], "--explain 4"),
        (
            &["--paths", "4", "--model", "gaussian", "--block", "2h"],
            "--block",
        ),
    ];
    for (extra, want) in cases {
        let o = stress(tmp.path(), extra);
        let (_, err) = text(&o);
        assert!(!o.status.success(), "{extra:?} should fail");
        assert!(err.contains(want), "{extra:?}: {err}");
    }
}
