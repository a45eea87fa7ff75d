//! `shortfall contagion` on the LUNA spec: every member alone and
//! together, the same bytes twice, errors naming the spec key.

mod common;

use std::path::Path;

use common::{ok, repo, s, shortfall, text};

fn contagion(reports: &Path, extra: &[&str]) -> std::process::Output {
    let data = repo().join("datasets");
    let mut args = vec![
        "--no-progress",
        "--data-dir",
        s(&data),
        "--reports-dir",
        s(reports),
        "contagion",
    ];
    args.extend_from_slice(extra);
    shortfall(&args)
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&read(p)).unwrap()
}

fn usd(v: &serde_json::Value) -> f64 {
    v.as_str().unwrap().parse().unwrap()
}

#[test]
fn luna_lenders_alone_and_together() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let out = ok(&contagion(
        tmp.path(),
        &["--spec", "luna-2022-05", "--out", s(&a)],
    ));
    assert!(out.contains("anchor-like: bad debt alone"), "{out}");
    assert!(out.contains("-- HYPOTHETICAL"), "generated books: {out}");
    ok(&contagion(
        tmp.path(),
        &["--spec", "luna-2022-05", "--out", s(&b)],
    ));
    for f in [
        "contagion.json",
        "contagion.html",
        "contagion-report.json",
        "together/venus-like/summary.json",
        "alone/venus-like/events.parquet",
        "together/blizz-like/report.html",
    ] {
        assert_eq!(read(&a.join(f)), read(&b.join(f)), "{f} differs");
    }
    let m = json(&a.join("contagion.json"));
    assert_eq!(m["shared_assets"], serde_json::json!(["LUNA"]));
    let members = m["members"].as_array().unwrap();
    let names: Vec<&str> = members
        .iter()
        .map(|x| x["protocol"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["anchor-like", "venus-like", "blizz-like"]);
    // Each member's runs are on disk under the ids contagion.json names.
    for x in members {
        for (dir, id) in [
            ("alone_run", "alone_run_id"),
            ("together_run", "together_run_id"),
        ] {
            let run = json(&a.join(x[dir].as_str().unwrap()).join("run.json"));
            assert_eq!(run["run_id"], x[id], "{}", x["protocol"]);
        }
        assert_ne!(x["alone_run_id"], x["together_run_id"]);
    }
    // Anchor's sales use up the LUNA market the floored lenders sell
    // into: their liquidations are blocked more and they lose more.
    let venus = &members[1];
    assert!(
        venus["together"]["blocked_no_liquidity"].as_u64()
            > venus["alone"]["blocked_no_liquidity"].as_u64(),
        "{venus}"
    );
    assert!(
        usd(&venus["together"]["bad_debt_usd"]) > usd(&venus["alone"]["bad_debt_usd"]),
        "{venus}"
    );
    let total = |k: &str| usd(&m[k]["bad_debt_usd"]);
    assert!(total("total_together") > 0.0);
    assert_ne!(
        m["total_together"], m["total_alone"],
        "the coupling changes the outcome"
    );
    // The exposure graph has every protocol's LUNA, marked shared.
    let luna: Vec<&serde_json::Value> = m["exposure"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["asset"] == "LUNA")
        .collect();
    assert_eq!(luna.len(), 3);
    assert!(luna.iter().all(|e| e["shared"] == true));
    let html = String::from_utf8(read(&a.join("contagion.html"))).unwrap();
    for p in names {
        assert!(html.contains(p), "{p} in the report");
    }
    assert!(!html.contains("<script"));
    assert!(html.contains("shortfall contagion --spec luna-2022-05"));
}

#[test]
fn bad_specs_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = tmp.path().join("spec.toml");
    let write = |text: &str| std::fs::write(&spec, text).unwrap();
    write(
        "name = \"x\"\n[[members]]\nprotocol = \"a\"\nscenario = \"luna-2022-05\"\n[[members]]\nprotocol = \"b\"\nscenario = \"no-such-pack\"\n",
    );
    let o = contagion(tmp.path(), &["--spec", s(&spec)]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("members.1.scenario"), "{err}");
    write(
        "name = \"x\"\n[[members]]\nprotocol = \"a\"\nscenario = \"luna-2022-05\"\nset = [\"policy.nope=1\"]\n[[members]]\nprotocol = \"b\"\nscenario = \"luna-2022-05\"\n",
    );
    let o = contagion(tmp.path(), &["--spec", s(&spec)]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("member `a`") && err.contains("nope"), "{err}");
    // Two lenders on different data cannot share a market.
    write(
        "name = \"x\"\nshared = [\"LUNA\"]\n[[members]]\nprotocol = \"a\"\nscenario = \"luna-2022-05\"\n[[members]]\nprotocol = \"b\"\nscenario = \"luna-2022-05\"\nset = [\"transforms=[{kind=\\\"vol_scale\\\", factor=2}]\"]\n",
    );
    let o = contagion(tmp.path(), &["--spec", s(&spec)]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("`LUNA` has different market prices"), "{err}");
    let o = contagion(tmp.path(), &["--spec", "nothing-here"]);
    assert!(text(&o).1.contains("--spec nothing-here"));
}
