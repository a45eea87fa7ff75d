//! `observed_auctions`: round trip through a dataset, and the README
//! documents the whole registry in order (as `shortfall datasets schema`
//! prints it; this check runs without DuckDB).

use std::collections::BTreeMap;

use shortfall_core::{Micros, ObservedAuction, Wad};
use shortfall_store::tables::{self, CanonicalRow};
use shortfall_store::Dataset;

fn row(id: u128, ts: &str) -> ObservedAuction {
    ObservedAuction {
        ts: Micros::parse(ts).unwrap(),
        ts_precision_secs: 1,
        block: Some(9_657_786),
        tx_hash: None,
        log_index: None,
        source_ref: format!("auctions.csv:{}", id + 1),
        protocol: "maker".into(),
        market: "ETH-A".into(),
        mechanism: "flip".into(),
        state: "dealt".into(),
        auction_id: Some(id),
        account: None,
        liquidator: None,
        collateral_asset: "ETH".into(),
        collateral_amount: Wad::from_int(50),
        debt_asset: "DAI".into(),
        debt_amount: Wad::ZERO,
        price_paid: Some(Wad::ZERO),
        bid_count: Some(2),
        last_bid_ts: Some(Micros::parse("2020-03-12T16:05:59Z").unwrap()),
        last_bid_block: Some(9_657_688),
        last_bid_tx: Some("0x19".into()),
        gas_price_gwei: Some(Wad::from_int(200)),
        gas_cost_usd: Some("1.41998535979".parse().unwrap()),
        oracle_price_usd: Some("138.440612244897".parse().unwrap()),
        market_price_usd: None,
        debt_price_usd: Some("1.0463977407539".parse().unwrap()),
        rounded: false,
        amount_rel_error: Wad(111),
        note: "<b>untrusted</b>".into(),
    }
}

#[test]
fn observed_auctions_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ds");
    let mut rows = vec![
        row(2000, "2020-03-12T16:31:39Z"),
        row(1999, "2020-03-12T16:31:39Z"),
    ];
    let src = shortfall_core::SourceRecord {
        file: "auctions.csv".into(),
        sha256: "00".repeat(32),
        bytes: 1,
        format: "maker-flip-auctions".into(),
        options: BTreeMap::new(),
        table: "observed_auctions".into(),
        rows_read: 2,
        rows_written: 2,
        rows_skipped: 0,
        rows_deduplicated: 0,
        rows_rejected: 0,
        notes: Vec::new(),
        tool_version: "t".into(),
    };
    rows.sort_by_key(CanonicalRow::key);
    let mut ds = Dataset::open_or_new(&path).unwrap();
    ds.add(rows.clone(), vec![src]).unwrap();
    ds.commit().unwrap();
    let ds = Dataset::open(&path).unwrap();
    ds.verify().unwrap();
    let back: Vec<ObservedAuction> = ds.read().unwrap();
    assert_eq!(back, rows);
    assert_eq!(back[0].auction_id, Some(1999));
}

#[test]
fn readme_documents_the_registry_in_order() {
    let schema = tables::TABLES
        .iter()
        .map(|t| t.markdown())
        .collect::<Vec<_>>()
        .join("\n");
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/README.md"),
    )
    .unwrap();
    if std::env::var_os("SHORTFALL_PRINT_SCHEMA").is_some() {
        print!("{schema}");
    }
    assert!(
        readme.contains(&schema),
        "datasets/README.md is out of date: paste the output of `shortfall datasets schema`"
    );
}
