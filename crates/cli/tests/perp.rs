//! Perpetual swaps end to end: the LUNA perpetuals scenario on real prices,
//! its run folder, summary and report (ADL section), byte-stable.

mod common;

use std::path::Path;

use common::{ok, repo, s, shortfall};

fn replay(reports: &Path, out: &Path, extra: &[&str]) -> String {
    let data = repo().join("datasets");
    let scenario = data.join("scenarios/luna-perps-2022-05.toml");
    let mut args = vec![
        "--no-progress",
        "--data-dir",
        s(&data),
        "--reports-dir",
        s(reports),
        "replay",
        "--scenario",
        s(&scenario),
        "--out",
        s(out),
    ];
    args.extend_from_slice(extra);
    ok(&shortfall(&args))
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn luna_perpetuals_insurance_fund_and_adl() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let out = replay(tmp.path(), &a, &[]);
    assert!(out.contains("perp outcomes"), "{out}");
    assert!(out.contains("ADL fills"), "{out}");
    assert!(!out.contains("NPL count"), "no lending book: {out}");
    replay(tmp.path(), &b, &[]);
    for f in [
        "events.parquet",
        "summary.json",
        "perp_positions.parquet",
        "perp_accounts.parquet",
        "perp_insurance_fund.parquet",
    ] {
        // (report.html names the --out folder in its command line.)
        assert!(read(&a.join(f)) == read(&b.join(f)), "{f} differs");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&read(&a.join("summary.json"))).unwrap();
    let p = &summary["perp"];
    assert_eq!(p["preset"], "binance_2021");
    assert_eq!(p["totals"]["positions"], 5000);
    let w = &p["waterfall"];
    let num = |v: &serde_json::Value| v.as_str().unwrap().parse::<f64>().unwrap();
    assert!(num(&w["insurance_fund_usd"]) > 0.0);
    assert!(num(&w["adl_usd"]) > 0.0, "the fund runs out: ADL");
    assert_eq!(p["ledger"]["residual_usd"], "0");
    let html = String::from_utf8(read(&a.join("report.html"))).unwrap();
    for id in [
        "id=\"perp\"",
        "id=\"adl-table\"",
        "id=\"perp-waterfall\"",
        "id=\"no-lending\"",
    ] {
        assert!(html.contains(id), "{id} in the report");
    }
    assert!(!html.contains("id=\"npl\""), "no lending sections");
    // A bigger insurance fund takes more of the shortfall and leaves less
    // to ADL (which still closes what the exhausted book cannot).
    let c = tmp.path().join("c");
    replay(
        tmp.path(),
        &c,
        &["--set", "perp.insurance_fund_usd=1000000000"],
    );
    let big: serde_json::Value = serde_json::from_slice(&read(&c.join("summary.json"))).unwrap();
    let wb = &big["perp"]["waterfall"];
    assert!(num(&wb["adl_usd"]) < num(&w["adl_usd"]), "{wb} vs {w}");
    assert!(num(&wb["insurance_fund_usd"]) > num(&w["insurance_fund_usd"]));
}

/// A venue export of positions, ingested with a mapping, replayed as the
/// snapshot book through the real LUNA prices.
#[test]
fn an_ingested_book_replays_as_a_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let mapping = tmp.path().join("m.toml");
    std::fs::write(
        &mapping,
        "venue = \"binance\"\naccount = \"account\"\ninstrument = \"symbol\"\nsize = \"qty\"\n\
         entry_price = \"entry\"\nmargin_mode = \"mode\"\nleverage = \"lev\"\n\
         collateral_asset = \"asset\"\ncollateral_amount = \"margin\"\n",
    )
    .unwrap();
    // Two 10x longs and a 2x long against two shorts; LUNA starts near $77.
    let csv = tmp.path().join("book.csv");
    std::fs::write(
        &csv,
        "account,symbol,qty,entry,mode,lev,asset,margin\n\
         long-a,LUNAUSDT,1000,77,isolated,10,USDT,7700\n\
         long-b,LUNAUSDT,2000,77,isolated,10,USDT,15400\n\
         long-c,LUNAUSDT,500,77,isolated,2,USDT,19250\n\
         short-a,LUNAUSDT,-2500,77,isolated,5,USDT,38500\n\
         short-b,LUNAUSDT,-1000,77,isolated,3,USDT,25667\n",
    )
    .unwrap();
    let ds = tmp.path().join("book");
    ok(&shortfall(&[
        "ingest",
        "--format",
        "perp-positions-csv",
        "--dataset",
        s(&ds),
        "--mapping",
        s(&mapping),
        "--map",
        "snapshot_at=2022-05-06T00:00:00Z",
        s(&csv),
    ]));
    let out = tmp.path().join("run");
    replay(
        tmp.path(),
        &out,
        &[
            "--set",
            "perp.book.source=\"snapshot\"",
            "--set",
            &format!("datasets.perp_positions=\"{}\"", ds.display()),
            "--set",
            "perp.insurance_fund_usd=1000",
        ],
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&read(&out.join("summary.json"))).unwrap();
    let p = &summary["perp"];
    assert_eq!(p["book_generated"], false);
    assert_eq!(p["totals"]["positions"], 5);
    // As LUNA falls to cents every long is closed (liquidated, or bankrupt
    // when its fill passes the bankruptcy price); the shorts profit.
    let c = &p["status_counts"];
    let n = |k: &str| c[k].as_u64().unwrap_or(0);
    assert_eq!(
        (n("bankrupt") + n("liquidated"), n("performing")),
        (3, 2),
        "{p}"
    );
    let rows: serde_json::Value = serde_json::from_str(&ok(&shortfall(&[
        "query",
        "--dataset",
        s(&ds),
        "--format",
        "json",
        &format!(
            "SELECT account, status FROM read_parquet('{}') ORDER BY account",
            out.join("perp_positions.parquet").display()
        ),
    ])))
    .unwrap();
    let performing: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "performing")
        .map(|r| r["account"].as_str().unwrap())
        .collect();
    assert_eq!(performing, ["short-a", "short-b"]);
    let run: serde_json::Value = serde_json::from_slice(&read(&out.join("run.json"))).unwrap();
    let inputs = run["input_hashes"].as_object().unwrap();
    assert!(inputs.contains_key("perp_positions"), "{inputs:?}");
    assert!(inputs.contains_key("perp_positions/snapshot"), "{inputs:?}");
}
