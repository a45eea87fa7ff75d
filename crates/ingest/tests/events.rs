//! `events-csv`: the Aave v2 subgraph liquidation export and its reserves file.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use shortfall_core::{LendingKind, Micros};
use shortfall_ingest::events::{ingest_events, EventsMapping, EventsOutput};
use shortfall_ingest::{IngestError, IngestOptions, OnBadRow};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

fn mapping() -> EventsMapping {
    EventsMapping::from_file(&repo(
        "datasets/mappings/aave_v2_subgraph_liquidations.toml",
    ))
    .expect("shipped mapping")
}

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Writes `text` as a temp file named `name` and returns its path.
fn temp(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn run(events: &[PathBuf], o: &IngestOptions) -> Result<EventsOutput, IngestError> {
    ingest_events(
        events,
        Some(&fixture_path("aave_v2_reserves.subgraph.csv")),
        &mapping(),
        o,
        "shortfall test",
    )
}

const POOL: &str = "0xb53c1a33016b2dc2ff3653530bff1848a515c8c5";

#[test]
fn both_layouts_of_the_export_in_token_units() {
    let out = run(
        &[fixture_path("aave_v2_liquidations.subgraph.csv")],
        &opts(),
    )
    .unwrap();
    assert_eq!(out.events.len(), 10);
    assert_eq!(out.reserves.len(), 12);
    let rec = &out.event_sources[0];
    assert_eq!((rec.rows_read, rec.rows_written), (10, 10));
    assert!(out.events.windows(2).all(|p| p[0].cmp_order(&p[1]).is_lt()));

    // Layout 1 (line 2): base units with the reserves' decimals, prices in wei.
    let gusd = out
        .events
        .iter()
        .find(|e| e.account == "0x3424b949dbc5d2d2654cb6fc622c4d723b2e8fb4")
        .unwrap();
    assert_eq!(gusd.ts, Micros::from_secs(1_626_124_715));
    assert_eq!(gusd.kind, LendingKind::Liquidation);
    assert_eq!(gusd.market, POOL);
    assert_eq!(gusd.asset, "GUSD");
    assert_eq!(gusd.amount, Some(w("639.17")), "GUSD has 2 decimals");
    assert_eq!(gusd.amount_raw, Some(63917));
    assert_eq!(gusd.collateral_asset.as_deref(), Some("WETH"));
    assert_eq!(gusd.collateral_amount, Some(w("0.330855192754556269")));
    assert_eq!(gusd.asset_price, Some(w("0.000446377218623049")));
    assert_eq!(gusd.collateral_price, None, "empty in the export");
    assert_eq!(gusd.price_unit.as_deref(), Some("ETH"));
    assert_eq!(gusd.liquidator, None);

    // Layout 2 (line 6234): token units, prices in ETH, a liquidator.
    let uni = out
        .events
        .iter()
        .find(|e| e.account == "0x0cb961e87f6b7a7ce4e92d1ba653e2a2b5b1d9b9")
        .unwrap();
    assert_eq!(uni.amount, Some(w("47539.25434131102")));
    assert_eq!(uni.amount_raw, None, "token-unit floats are not base units");
    assert_eq!(uni.collateral_amount, Some(w("2275.437027225284")));
    assert_eq!(uni.collateral_price, Some(w("0.006649477271841131")));
    assert_eq!(uni.collateral_price_usd, Some(w("23.09282143802846")));
    assert_eq!(
        uni.liquidator.as_deref(),
        Some("0xcbd75d63f98c5ff5d7157edf06abef8a8325c24d")
    );

    // Reserves: Aave's bonus factor 10750 is a 7.5% bonus; 0 means none.
    let r = |a: &str| out.reserves.iter().find(|r| r.asset == a).unwrap();
    assert_eq!(r("UNI").liquidation_bonus, w("0.1"));
    assert_eq!(r("UNI").liquidation_threshold, w("0.7"));
    assert_eq!(r("WBTC").decimals, 8);
    assert_eq!(r("USDT").liquidation_bonus, w("0"));
    assert_eq!(r("USDT").usable_as_collateral, Some(false));
}

#[test]
fn identical_rows_without_chain_position_stay_separate_events() {
    let text = String::from_utf8(fixture("aave_v2_liquidations.subgraph.csv")).unwrap();
    let second = text.lines().nth(2).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = temp(&dir, "dup.csv", &format!("{text}{second}\n"));
    let out = run(&[p], &opts()).unwrap();
    assert_eq!(out.events.len(), 11);
    assert_eq!(out.event_sources[0].rows_deduplicated, 0);
    assert!(
        out.warnings[0].contains("1 rows equal to the row before"),
        "{:?}",
        out.warnings
    );
    let refs: Vec<&str> = out
        .events
        .iter()
        .filter(|e| e.account == "0x41a792401694fc00467207cfeb9b5f09aa2b834a")
        .map(|e| e.source_ref.as_deref().unwrap())
        .collect();
    assert_eq!(refs, ["dup.csv line 12", "dup.csv line 3"]);
}

#[test]
fn events_with_a_chain_position_dedupe_and_conflict() {
    let text = String::from_utf8(fixture("aave_v2_liquidations.subgraph.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[0] = lines[0].replacen("collateralAmount,", "collateralAmount,block,", 1);
    for (i, l) in lines.iter_mut().enumerate().skip(1) {
        *l = l.replacen(',', &format!(",{},", 100 + i), 1);
    }
    let m = std::fs::read_to_string(repo("datasets/mappings/aave_v2_subgraph_liquidations.toml"))
        .unwrap()
        .replace(
            "account = \"user\"",
            "account = \"user\"\nblock = \"block\"",
        );
    let m = EventsMapping::from_toml_str(&m).unwrap();
    let go = |extra: &str, o: &IngestOptions| {
        let dir = tempfile::tempdir().unwrap();
        let body = format!("{}\n{extra}\n", lines.join("\n"));
        let p = temp(&dir, "chain.csv", &body);
        ingest_events(
            &[p],
            Some(&fixture_path("aave_v2_reserves.subgraph.csv")),
            &m,
            o,
            "t",
        )
    };
    let out = go(&lines[2], &opts()).unwrap();
    assert_eq!(out.events.len(), 10);
    assert_eq!(out.event_sources[0].rows_deduplicated, 1);
    assert!(out
        .events
        .iter()
        .all(|e| e.source_ref.is_none() && e.block.is_some()));
    let other_price = lines[2].replace(",1.0,", ",1.5,");
    let e = go(&other_price, &opts()).unwrap_err().to_string();
    assert!(
        e.contains("chain.csv: line 12") && e.contains("line 3"),
        "{e}"
    );
    let out = go(&other_price, &skip()).unwrap();
    assert_eq!(out.event_sources[0].rows_skipped, 1);
}

#[test]
fn bad_values_name_file_line_and_column() {
    let text = String::from_utf8(fixture("aave_v2_liquidations.subgraph.csv")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bad = text.replacen("63917,GUSD", "63x17,GUSD", 1);
    let p = temp(&dir, "bad.csv", &bad);
    let e = run(std::slice::from_ref(&p), &opts())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "bad.csv: line 2, column \"principalAmount\": expected a non-negative integer in token base units, found \"63x17\""
    );
    let o = IngestOptions {
        on_bad_row: OnBadRow::Skip,
        ..opts()
    };
    let out = run(&[p], &o).unwrap();
    assert_eq!(
        (out.events.len(), out.event_sources[0].rows_skipped),
        (9, 1)
    );

    // An asset the reserves file does not list has no known decimals.
    let unknown = text.replacen("63917,GUSD", "63917,EVIL", 1);
    let p = temp(&dir, "unknown.csv", &unknown);
    let e = run(&[p], &opts()).unwrap_err().to_string();
    assert!(e.starts_with("unknown.csv: line 2, column \"principalAmount\": the asset of this amount is not in the reserves file"), "{e}");

    // A mapped column missing from the header is fatal and lists the header.
    let renamed = text.replacen("principalReserve", "debtReserve", 1);
    let p = temp(&dir, "renamed.csv", &renamed);
    let e = run(&[p], &skip()).unwrap_err().to_string();
    assert!(e.contains("mapped column `principalReserve` (asset) is not in the header: collateralAmount, collateralReserve"), "{e}");

    // A truncated row.
    let cut = format!("{}\n{}\n", text.lines().next().unwrap(), "1,WETH,0xb5");
    let p = temp(&dir, "cut.csv", &cut);
    let e = run(&[p], &opts()).unwrap_err().to_string();
    assert!(
        e.contains("cut.csv: line 2") && e.contains("truncated row"),
        "{e}"
    );
}

#[test]
fn base_units_without_a_reserves_file_are_refused() {
    let e = ingest_events(
        &[fixture_path("aave_v2_liquidations.subgraph.csv")],
        None,
        &mapping(),
        &opts(),
        "t",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("give --reserves FILE"), "{e}");
}

#[test]
fn mapping_mistakes_are_reported() {
    let base =
        std::fs::read_to_string(repo("datasets/mappings/aave_v2_subgraph_liquidations.toml"))
            .unwrap();
    let e = EventsMapping::from_toml_str(
        &base.replace("kind = \"liquidation\"", "kind = \"liquidate\""),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("liquidate"), "{e}");
    let e = EventsMapping::from_toml_str(&base.replace("account = \"user\"", "acount = \"user\""))
        .unwrap_err()
        .to_string();
    assert!(e.contains("acount"), "{e}");
    let e = EventsMapping::from_toml_str(&base.replace("price_unit = \"ETH\"\n", ""))
        .unwrap_err()
        .to_string();
    assert!(e.contains("need `price_unit`"), "{e}");
}

#[test]
fn kinds_from_a_column_leave_unknown_kinds_out_and_say_so() {
    let text = String::from_utf8(fixture("aave_v2_liquidations.subgraph.csv")).unwrap();
    let other = text
        .lines()
        .nth(3)
        .unwrap()
        .replace(",liquidation,", ",flashLoan,");
    let dir = tempfile::tempdir().unwrap();
    let p = temp(&dir, "kinds.csv", &format!("{text}{other}\n"));
    let m = std::fs::read_to_string(repo("datasets/mappings/aave_v2_subgraph_liquidations.toml"))
        .unwrap()
        .replace("kind = \"liquidation\"", "kind_column = \"type\"")
        + "\n[kinds]\nliquidation = \"liquidation\"\n";
    let m = EventsMapping::from_toml_str(&m).unwrap();
    let out = ingest_events(
        &[p],
        Some(&fixture_path("aave_v2_reserves.subgraph.csv")),
        &m,
        &opts(),
        "t",
    )
    .unwrap();
    assert_eq!(out.events.len(), 10);
    assert_eq!(out.event_sources[0].rows_rejected, 1);
    assert!(
        out.warnings[0].contains("1 rows of kind \"flashLoan\""),
        "{:?}",
        out.warnings
    );
}

/// The whole real export (11,497 events) ingests.
#[test]
fn real_aave_v2_export_ingests_completely() {
    let (Some(ev), Some(res)) = (
        dataset("events/aave_v2_liquidations_2021.subgraph.csv"),
        dataset("events/aave_v2_reserves_2021.subgraph.csv"),
    ) else {
        return;
    };
    let out = ingest_events(&[ev], Some(&res), &mapping(), &opts(), "t").unwrap();
    let rec = &out.event_sources[0];
    eprintln!(
        "read {} written {} dedup {} skipped {}",
        rec.rows_read, rec.rows_written, rec.rows_deduplicated, rec.rows_skipped
    );
    assert_eq!(rec.rows_read, 11_497);
    assert_eq!((rec.rows_skipped, rec.rows_deduplicated), (0, 0));
    assert_eq!(out.events.len(), 11_497);
    assert_eq!(out.reserves.len(), 52);
    assert_eq!(
        out.events.iter().filter(|e| e.liquidator.is_some()).count(),
        5_266
    );
    for w in &out.warnings {
        eprintln!("warning: {w}");
    }
    assert_eq!(
        out.events.first().unwrap().ts,
        Micros::from_secs(1_608_214_767)
    );
    assert_eq!(
        out.events.last().unwrap().ts,
        Micros::from_secs(1_649_023_453)
    );
}
