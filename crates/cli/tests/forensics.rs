//! `ingest --format events-csv` and `shortfall forensics`, end to end, on
//! excerpts of the real Aave v2 subgraph export (and the whole export when
//! the shared datasets are present).

mod common;

use common::*;
use std::path::{Path, PathBuf};

const MAPPING: &str = "datasets/mappings/aave_v2_subgraph_liquidations.toml";

/// Ingests an events file and its reserves into `dir/ds`.
fn ingest(dir: &Path, events: &Path, reserves: &Path) -> PathBuf {
    let ds = dir.join("ds");
    ok(&shortfall(&[
        "ingest",
        "--format",
        "events-csv",
        "--mapping",
        s(&repo().join(MAPPING)),
        "--reserves",
        s(reserves),
        "--dataset",
        s(&ds),
        s(events),
    ]));
    ds
}

fn fixture(name: &str) -> PathBuf {
    repo().join("crates/ingest/tests/fixtures").join(name)
}

#[test]
fn forensics_of_an_export_excerpt_with_hostile_symbols() {
    let dir = tempfile::tempdir().unwrap();
    // A hostile collateral symbol in place of ENJ (events and reserves file)
    // and a hostile liquidator.
    let evil = "<script>alert(1)</script>";
    let img = "\"><img src=x onerror=alert(2)>";
    let ev = std::fs::read_to_string(fixture("aave_v2_liquidations.subgraph.csv"))
        .unwrap()
        .replace(",ENJ,", &format!(",\"{evil}\","))
        .replace(
            "0xcbd75d63f98c5ff5d7157edf06abef8a8325c24d",
            &format!("\"{}\"", img.replace('"', "\"\"")),
        );
    let rs = std::fs::read_to_string(fixture("aave_v2_reserves.subgraph.csv"))
        .unwrap()
        .replace(",ENJ,", &format!(",\"{evil}\","));
    std::fs::write(dir.path().join("ev.csv"), ev).unwrap();
    std::fs::write(dir.path().join("rs.csv"), rs).unwrap();
    let ds = ingest(
        dir.path(),
        &dir.path().join("ev.csv"),
        &dir.path().join("rs.csv"),
    );

    let html = dir.path().join("obs.html");
    let out = ok(&shortfall(&["forensics", s(&ds), "--out", s(&html)]));
    assert!(out.contains("observed_liquidations: 10 rows"), "{out}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(!page.contains(evil), "symbol not escaped");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;"));
    assert!(!page.contains("<script"));
    assert!(!page.contains("<img"), "liquidator not escaped");
    assert!(page.contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"));
    for id in [
        "bonus-by-collateral",
        "busiest-hours",
        "liquidator-table",
        "gap-quantiles",
    ] {
        assert!(page.contains(&format!("id=\"{id}\"")), "{id} missing");
    }
    assert!(page.contains("Not determinable from this dataset"));
    // The JSON twin holds the figures; rerunning gives the same bytes.
    let json = std::fs::read(dir.path().join("obs.json")).unwrap();
    ok(&shortfall(&["forensics", s(&ds), "--out", s(&html)]));
    assert_eq!(std::fs::read(dir.path().join("obs.json")).unwrap(), json);
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["headline"][0]["value"], "10");

    // The table is queryable: the USDC-debt events realised the bonuses their
    // collateral reserves are configured with (LINK 10%, WETH 5%).
    let q = ok(&shortfall(&[
        "query",
        "--dataset",
        s(&ds),
        "--format",
        "csv",
        "SELECT collateral_asset, round(realised_bonus, 4) AS b, configured_bonus IS NULL AS no_reserve \
         FROM observed_liquidations WHERE debt_asset = 'USDC' ORDER BY ts",
    ]));
    assert_eq!(
        q,
        "collateral_asset,b,no_reserve\nLINK,0.1000,false\nWETH,0.0500,false\n"
    );
    let o = shortfall(&["datasets", "verify", "--dataset", s(&ds)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn forensics_needs_lending_events_and_events_csv_needs_a_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let ds = repo().join("datasets/crises/black-thursday-2020");
    let o = shortfall(&["forensics", s(&ds), "--out", s(&dir.path().join("x.html"))]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no lending_events table"));
    let o = shortfall(&[
        "ingest",
        "--format",
        "events-csv",
        "--dataset",
        s(&dir.path().join("d")),
        s(&fixture("aave_v2_liquidations.subgraph.csv")),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("needs --mapping"));
    assert!(!dir.path().join("d").exists(), "no partial dataset");
}

/// The whole real export: 11,497 events in, realised bonuses checked
/// against the reserves file.
#[test]
fn forensics_of_the_real_aave_v2_export() {
    let root = repo().join("../shared/datasets/events");
    let (ev, rs) = (
        root.join("aave_v2_liquidations_2021.subgraph.csv"),
        root.join("aave_v2_reserves_2021.subgraph.csv"),
    );
    if !ev.exists() {
        eprintln!("skipping: {} not found", ev.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ds = ingest(dir.path(), &ev, &rs);
    let html = dir.path().join("obs.html");
    let out = ok(&shortfall(&["forensics", s(&ds), "--out", s(&html)]));
    eprintln!("{out}");
    assert!(out.contains("observed_liquidations: 11497 rows"));
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("obs.json")).unwrap()).unwrap();
    assert_eq!(v["headline"][0]["value"], "11,497");
    // WETH collateral: 5% configured, and the median realised bonus is 5%.
    let weth = v["bonus_by_collateral"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["collateral"] == "WETH")
        .unwrap();
    assert_eq!(weth["configured"], "5.00%");
    assert_eq!(weth["realised_median"], "5.00%");
    assert_eq!(v["gap_quantiles"][3]["gap"], "0.00 pp", "median gap");
}

/// Black Thursday through the binary: the real flip auctions and the OSM's
/// `LogValue` events (times from the auctions' blocks) in, the auction
/// forensics out; a malformed export afterwards leaves the dataset as it was.
#[test]
fn black_thursday_auctions_ingest_and_forensics_through_the_binary() {
    let root = repo().join("../shared/datasets");
    let flips = root.join("events/maker_eth_a_flip_auctions_2019-11_2020-04.csv");
    let osm = root.join("oracle/maker_osm_eth_logvalue_2019-11_2020-04.web3.json");
    if !flips.exists() || !osm.exists() {
        eprintln!("skipping: {} not found", flips.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("bt");
    let out = ok(&shortfall(&[
        "ingest",
        "--format",
        "maker-flip-auctions",
        "--dataset",
        s(&ds),
        s(&flips),
    ]));
    assert!(
        out.contains("4865 rows read, 4865 written, 0 skipped, 0 duplicates, 0 rejected"),
        "{out}"
    );
    let out = ok(&shortfall(&[
        "ingest",
        "--format",
        "maker-osm-web3",
        "--blocks",
        s(&flips),
        "--estimate-block-times",
        "--on-bad-row",
        "skip",
        "--dataset",
        s(&ds),
        s(&osm),
    ]));
    assert!(out.contains("oracle_rounds: 3525 rows added"), "{out}");

    let html = dir.path().join("bt.html");
    let out = ok(&shortfall(&[
        "forensics",
        "--window",
        "2020-03-12..2020-03-14",
        "--out",
        s(&html),
        s(&ds),
    ]));
    assert!(out.contains("1,454 (35.67%)"), "{out}");
    assert!(html.exists() && dir.path().join("bt.json").exists());

    // A row with a malformed bid count: a located error, the dataset unchanged.
    let manifest = std::fs::read(ds.join("manifest.json")).unwrap();
    let export = std::fs::read_to_string(&flips).unwrap();
    let mut lines: Vec<&str> = export.lines().collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let col = header
        .iter()
        .position(|h| h.trim_matches('"') == "bidCount")
        .unwrap();
    let mut cells: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    cells[col] = "many".into();
    let bad_row = cells.join(",");
    lines[1] = &bad_row;
    let bad = dir.path().join("bad_flips.csv");
    std::fs::write(&bad, lines[..3].join("\n")).unwrap();
    let o = shortfall(&[
        "ingest",
        "--format",
        "maker-flip-auctions",
        "--dataset",
        s(&ds),
        s(&bad),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let (_, err) = text(&o);
    assert!(
        err.contains("bad_flips.csv") && err.contains("line 2") && err.contains("bidCount"),
        "{err}"
    );
    assert_eq!(std::fs::read(ds.join("manifest.json")).unwrap(), manifest);
}
