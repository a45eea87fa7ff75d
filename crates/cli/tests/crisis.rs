//! `shortfall crisis` on the built-in packs.

use std::path::PathBuf;
use std::process::{Command, Output};

const FILES: [&str; 6] = [
    "report.html",
    "report.json",
    "summary.json",
    "loans.parquet",
    "events.parquet",
    "run.json",
];

const BIN: &str = env!("CARGO_BIN_EXE_shortfall");

fn workspace() -> PathBuf {
    PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("../..")
}

fn shortfall(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--no-progress")
        .arg("--data-dir")
        .arg(workspace().join("datasets"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn list_and_show_name_the_rules_and_their_sources() {
    let out = stdout(&shortfall(&["crisis", "list"]));
    assert!(
        out.contains("black-thursday-2020") && out.contains("maker_flip"),
        "{out}"
    );
    for (name, rules) in [
        ("compound-dai-2020-11-26", "compound_v2"),
        ("luna-2022-05", "compound_v2"),
        ("usdc-depeg-2023-03", "aave_v3"),
        ("usde-2025-10-10", "aave_v3"),
    ] {
        assert!(
            out.lines()
                .any(|l| l.starts_with(name) && l.contains(rules)),
            "{name} {rules}: {out}"
        );
    }
    let out = stdout(&shortfall(&["crisis", "show", "black-thursday-2020"]));
    for needle in [
        "policy.maker.ttl_secs = 600  (10-minute bid duration before the crash",
        "Maker system deficit",
        "5670000",
        "ethusd_10m_2020-03-12.coinapi.json",
    ] {
        assert!(out.contains(needle), "missing `{needle}` in\n{out}");
    }
    let o = shortfall(&["crisis", "show", "no-such-crisis"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("crisis list"));
    let o = shortfall(&["crisis", "run", "../black-thursday-2020"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a crisis name"));
}

#[test]
fn run_writes_the_report_with_published_figures_and_is_reproducible() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |dir: &str| {
        let d = tmp.path().join(dir);
        let out = stdout(&shortfall(&[
            "crisis",
            "run",
            "black-thursday-2020",
            "--out",
            d.to_str().unwrap(),
        ]));
        (d, out)
    };
    let (a, out) = run("a");
    assert!(out.contains("replayed against published figures"), "{out}");
    assert!(out.contains("Maker system deficit"), "{out}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["references"].as_array().unwrap().len(), 3);
    assert_eq!(report["book"]["generated"], true);
    // Zero-bid auctions come from the keepers' gas and capital, not a flag.
    let share = &report["references"][1];
    assert_eq!(share["metric"], "zero_bid_auction_share");
    assert_ne!(share["replayed"], "0.00%");
    let html = std::fs::read_to_string(a.join("report.html")).unwrap();
    assert!(
        html.contains("10-minute bid duration before the crash"),
        "sources shown"
    );
    assert!(html.contains("GENERATED"));
    // The report written from the run in memory is the one `shortfall
    // report` renders from the folder.
    let html = std::fs::read(a.join("report.html")).unwrap();
    let json = std::fs::read(a.join("report.json")).unwrap();
    stdout(&shortfall(&["report", a.to_str().unwrap()]));
    assert!(
        html == std::fs::read(a.join("report.html")).unwrap(),
        "report.html differs"
    );
    assert!(
        json == std::fs::read(a.join("report.json")).unwrap(),
        "report.json differs"
    );
    // Same inputs and command, same bytes (the command line is part of the
    // report's provenance, so the second run writes to the same folder).
    let before: Vec<Vec<u8>> = FILES
        .iter()
        .map(|f| std::fs::read(a.join(f)).unwrap())
        .collect();
    let (a2, _) = run("a");
    for (f, old) in FILES.iter().zip(&before) {
        assert!(
            *old == std::fs::read(a2.join(f)).unwrap(),
            "{f} differs between two runs"
        );
    }
    // A policy change through --set reaches the run.
    let c = tmp.path().join("c");
    stdout(&shortfall(&[
        "crisis",
        "run",
        "black-thursday-2020",
        "--set",
        "policy.maker.ttl_secs=10800",
        "--out",
        c.to_str().unwrap(),
    ]));
    let sc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(c.join("run.json")).unwrap()).unwrap();
    assert!(sc["resolved_config"]
        .as_str()
        .unwrap()
        .contains("ttl_secs = 10800"));
    let out = stdout(
        &Command::new(BIN)
            .args(["compare"])
            .arg(&a)
            .arg(&c)
            .arg("--out")
            .arg(tmp.path().join("cmp.html"))
            .output()
            .unwrap(),
    );
    assert!(out.contains("Bad debt"), "{out}");
    let cmp = std::fs::read_to_string(tmp.path().join("cmp.json")).unwrap();
    assert!(cmp.contains("policy.maker.ttl_secs"));
}

/// Every built-in pack replays and sets its figures against the published
/// ones; the mechanisms the packs are about show up in the figures.
#[test]
fn every_pack_runs_with_its_published_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |name: &str, sets: &[&str]| -> serde_json::Value {
        let d = tmp.path().join(format!("{name}{}", sets.len()));
        let mut args = vec!["crisis", "run", name, "--out", d.to_str().unwrap()];
        for s in sets {
            args.push("--set");
            args.push(s);
        }
        stdout(&shortfall(&args));
        let r: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join("report.json")).unwrap()).unwrap();
        assert!(!r["references"].as_array().unwrap().is_empty(), "{name}");
        assert_eq!(r["book"]["generated"], true, "{name}");
        serde_json::from_slice(&std::fs::read(d.join("summary.json")).unwrap()).unwrap()
    };
    let usd = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap().parse::<f64>().unwrap();
    // Compound: the bad DAI print liquidates; without it far less.
    let with = run("compound-dai-2020-11-26", &[]);
    let without = run("compound-dai-2020-11-26", &["oracle.overrides=[]"]);
    assert!(usd(&with, "liquidated_volume_usd") > 2.0 * usd(&without, "liquidated_volume_usd"));
    // USDe: valued at the venue's own book, positions are liquidated that a
    // redemption-value index leaves alone.
    let book = run("usde-2025-10-10", &[]);
    let redeem = run(
        "usde-2025-10-10",
        &["oracle.assets.USDE.mode=fixed", "oracle.assets.USDE.peg=1"],
    );
    assert!(book["liquidation_count"].as_u64().unwrap() > 0);
    assert_eq!(redeem["liquidation_count"].as_u64().unwrap(), 0);
    // LUNA and USDC run under their own rules.
    let luna = run("luna-2022-05", &[]);
    assert_eq!(luna["preset"], "compound_v2");
    let usdc = run("usdc-depeg-2023-03", &[]);
    assert!(usd(&usdc, "liquidated_volume_usd") > 0.0);
}

/// `shortfall ... | head -1`: ends quietly when the reader goes away.
#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::process::Stdio;
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(workspace().join("datasets"))
        .args(["crisis", "show", "black-thursday-2020"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end before the program writes.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(out.status.code(), Some(101), "no panic exit");
}

/// The USDe pack's pool depth (`liquidity` table) drives the liquidity model
/// when the scenario points `datasets.liquidity` at it.
#[test]
fn the_usde_pool_depth_slows_liquidations_when_used() {
    let out = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "--reports-dir",
            out.path().to_str().unwrap(),
            "crisis",
            "run",
            "usde-2025-10-10",
        ];
        args.extend_from_slice(&["--set", "frictions.liquidity.model=constant_product"]);
        args.extend_from_slice(extra);
        let text = stdout(&shortfall(&args));
        let dir = PathBuf::from(
            text.lines()
                .find_map(|l| l.strip_prefix("report            "))
                .unwrap()
                .trim_end_matches("/report.html"),
        );
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
        let run: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("run.json")).unwrap()).unwrap();
        (summary, run)
    };
    let (constant, _) = run(&[]);
    let (pool, meta) = run(&["--set", "datasets.liquidity=."]);
    let liq = |s: &serde_json::Value| {
        s["liquidated_volume_usd"]
            .as_str()
            .unwrap()
            .parse::<f64>()
            .unwrap()
    };
    assert!(
        liq(&pool) < liq(&constant),
        "pool depth {} vs constant {}",
        liq(&pool),
        liq(&constant)
    );
    assert!(meta.to_string().contains("liquidity"), "{meta}");
}
