//! `shortfall sweep`: a grid through a crisis pack, the same rows whatever
//! `--jobs`, shards (flag, Kubernetes and Slurm indexes) merged byte for
//! byte equal to the unsharded sweep, `--explain` reproducing a row's run.

mod common;

use std::path::Path;

use common::{ok, repo, s, shortfall, text};

const GRID: &str = r#"
title = "USDC eMode threshold against liquidator capital"
[[params]]
key = "policy.assets.USDC.liquidation_threshold"
values = [0.95, 0.975]
[[params]]
key = "frictions.liquidators.0.capital_usd"
values = [1000000, 50000000, 200000000]
"#;

fn sweep(reports: &Path, extra: &[&str]) -> String {
    let data = repo().join("datasets");
    let mut args = vec![
        "--no-progress",
        "--data-dir",
        s(&data),
        "--reports-dir",
        s(reports),
        "sweep",
        "--scenario",
        "usdc-depeg-2023-03",
    ];
    args.extend_from_slice(extra);
    ok(&shortfall(&args))
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn jobs_shards_merge_and_explain_agree() {
    let tmp = tempfile::tempdir().unwrap();
    let grid = tmp.path().join("grid.toml");
    std::fs::write(&grid, GRID).unwrap();
    let g = s(&grid);
    let reports = tmp.path().join("reports");

    // Whole sweep on 1 and on 2 threads.
    let one = tmp.path().join("one");
    let out = sweep(&reports, &["--grid", g, "--jobs", "1", "--out", s(&one)]);
    assert!(out.contains("6 variants x 1 scenarios"), "{out}");
    assert!(out.contains("baseline bad debt"), "{out}");
    let two = tmp.path().join("two");
    sweep(&reports, &["--grid", g, "--jobs", "2", "--out", s(&two)]);
    for f in ["sweep.parquet", "sweep.json", "sweep.html"] {
        assert!(
            read(&one.join(f)) == read(&two.join(f)),
            "{f} differs with --jobs"
        );
    }
    let rows = shortfall_store::read_sweep(&one.join("sweep.parquet")).unwrap();
    assert_eq!(rows.len(), 6);
    assert_eq!(
        rows.iter().map(|r| r.variant).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4, 5]
    );
    // The parameters reach the runs: thresholds and capital change outcomes.
    let distinct: std::collections::BTreeSet<_> = rows
        .iter()
        .map(|r| (r.bad_debt_usd, r.liquidated_volume_usd))
        .collect();
    assert!(
        distinct.len() > 1,
        "every variant gave the same result: {rows:?}"
    );
    assert!(rows.iter().all(|r| r.positions == 2000));

    // Three shards: a flag, a Kubernetes index, a Slurm index (1-based
    // array), into one folder; merged they equal the whole sweep.
    let parts = tmp.path().join("parts");
    sweep(
        &reports,
        &["--grid", g, "--out", s(&parts), "--shard", "0/3"],
    );
    let part = |extra: &[&str], env: &[(&str, &str)]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_shortfall"));
        c.args(["--no-progress", "--data-dir", s(&repo().join("datasets"))])
            .args(["sweep", "--scenario", "usdc-depeg-2023-03", "--grid", g])
            .args(["--out", s(&parts)])
            .args(extra)
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("SLURM_ARRAY_TASK_ID");
        for (k, v) in env {
            c.env(k, v);
        }
        ok(&c.output().unwrap());
    };
    part(&["--shards", "3"], &[("JOB_COMPLETION_INDEX", "1")]);
    part(
        &[],
        &[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ],
    );
    for i in 0..3 {
        assert!(parts.join(format!("part-{i:04}-of-0003.parquet")).is_file());
    }
    let merged = tmp.path().join("merged");
    ok(&shortfall(&[
        "sweep",
        "merge",
        s(&parts),
        "--out",
        s(&merged),
    ]));
    for f in ["sweep.parquet", "sweep.json", "sweep.html"] {
        assert!(
            read(&one.join(f)) == read(&merged.join(f)),
            "{f}: merged shards differ from the whole sweep"
        );
    }
    // A missing shard is an error naming it.
    std::fs::remove_file(parts.join("part-0001-of-0003.parquet")).unwrap();
    let o = shortfall(&["sweep", "merge", s(&parts), "--out", s(&merged)]);
    let (_, err) = text(&o);
    assert!(
        !o.status.success() && err.contains("missing shards 1 of 3"),
        "{err}"
    );

    // --explain writes the full run of a variant where its row says.
    let row = &rows[5];
    let out = sweep(&reports, &["--grid", g, "--explain", &row.variant_id]);
    let run_dir = reports.join("usdc-depeg-2023-03").join(&row.run_id);
    assert!(run_dir.join("report.html").is_file(), "{out}");
    let summary: serde_json::Value =
        serde_json::from_slice(&read(&run_dir.join("summary.json"))).unwrap();
    let bad: shortfall_core::Wad = serde_json::from_value(summary["bad_debt_usd"].clone()).unwrap();
    assert_eq!(bad, row.bad_debt_usd);
    let run: serde_json::Value = serde_json::from_slice(&read(&run_dir.join("run.json"))).unwrap();
    let cfg = run.to_string();
    assert!(
        cfg.contains(r#"capital_usd = \"200000000\""#),
        "the variant's capital is not in its config: {cfg}"
    );

    // `compare` works on any two runs of the sweep.
    let other = &rows[0];
    sweep(&reports, &["--grid", g, "--explain", &other.variant_id]);
    let other_dir = reports.join("usdc-depeg-2023-03").join(&other.run_id);
    let html = tmp.path().join("compare.html");
    ok(&shortfall(&[
        "compare",
        s(&other_dir),
        s(&run_dir),
        "--out",
        s(&html),
    ]));
    let page = String::from_utf8(read(&html)).unwrap();
    assert!(
        page.contains("capital_usd"),
        "the compare page names the setting that differs"
    );
}

#[test]
fn bad_grids_and_settings_are_errors_naming_them() {
    let tmp = tempfile::tempdir().unwrap();
    let grid = tmp.path().join("grid.toml");
    let data = repo().join("datasets");
    let run = |g: &str| {
        std::fs::write(&grid, g).unwrap();
        let o = shortfall(&[
            "--no-progress",
            "--data-dir",
            s(&data),
            "--reports-dir",
            s(tmp.path()),
            "sweep",
            "--scenario",
            "usdc-depeg-2023-03",
            "--grid",
            s(&grid),
        ]);
        assert!(!o.status.success());
        text(&o).1
    };
    let e = run("[[params]]\nkey = \"window.start\"\nvalues = [\"2023-03-11 00:00\"]\n");
    assert!(e.contains("params[0]") && e.contains("window"), "{e}");
    let e = run("[[params]]\nkey = \"policy.close_factr\"\nvalues = [0.5]\n");
    assert!(e.contains("close_factr"), "{e}");
    let e = run("[[params]]\nkey = \"policy.assets.USDC.liquidation_threshold\"\nvalues = [1.5]\n");
    assert!(
        e.contains("v0-") && e.contains("liquidation_threshold"),
        "{e}"
    );
}

/// The arguments of the `shortfall` command of a documented job file.
fn job_args(text: &str, yaml: bool) -> Vec<String> {
    if yaml {
        let mut out = Vec::new();
        let mut on = false;
        for l in text.lines() {
            let t = l.trim();
            if t == "command:" {
                on = true;
                continue;
            }
            if on {
                match t.strip_prefix("- ") {
                    Some(a) => out.push(a.trim_matches('"').to_string()),
                    None => break,
                }
            }
        }
        out.remove(0); // the binary
        out
    } else {
        let cmd: String = text
            .lines()
            .skip_while(|l| !l.starts_with("shortfall "))
            .map(|l| l.trim().trim_end_matches('\\').to_string())
            .collect::<Vec<_>>()
            .join(" ");
        cmd.split_whitespace()
            .skip(1)
            .map(|a| {
                a.replace("\"${SLURM_CPUS_PER_TASK:-2}\"", "2")
                    .trim_matches('"')
                    .to_string()
            })
            .collect()
    }
}

#[test]
fn the_documented_job_files_run_their_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = repo().join("docs/jobs");
    let out = tmp.path().join("parts");
    let run = |file: &str, env: &[(&str, &str)]| {
        let text = std::fs::read_to_string(docs.join(file)).unwrap();
        let mut args = job_args(&text, file.ends_with(".yaml"));
        let o = args.iter().position(|a| a == "--out").unwrap();
        args[o + 1] = s(&out).to_string();
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_shortfall"));
        c.current_dir(repo())
            .args(["--data-dir", "datasets", "--reports-dir", s(tmp.path())])
            .args(&args)
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("SLURM_ARRAY_TASK_ID");
        for (k, v) in env {
            c.env(k, v);
        }
        ok(&c.output().unwrap())
    };
    // Kubernetes pod 15 of 16 and Slurm task 1 of an array 1-16.
    run("sweep-k8s.yaml", &[("JOB_COMPLETION_INDEX", "15")]);
    run(
        "sweep-slurm.sh",
        &[
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_COUNT", "16"),
        ],
    );
    let rows = |i: u32| {
        shortfall_store::read_sweep(&out.join(format!("part-{i:04}-of-0016.parquet"))).unwrap()
    };
    // 12 variants over 16 shards: shard 1 holds the first, 15 the last.
    assert_eq!(rows(1).iter().map(|r| r.variant).collect::<Vec<_>>(), [0]);
    assert_eq!(rows(15).iter().map(|r| r.variant).collect::<Vec<_>>(), [11]);
}
