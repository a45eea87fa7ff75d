use std::collections::BTreeMap;

use shortfall_core::{Micros, OracleRound, PriceBar, SourceRecord, Wad};
use shortfall_store::tables::CanonicalRow;
use shortfall_store::{Dataset, StoreError};

fn bar(min: i64, close: &str) -> PriceBar {
    let c: Wad = close.parse().unwrap();
    PriceBar {
        ts: Micros::from_secs(1_584_000_000 + min * 60),
        venue: "binance".into(),
        base: "ETH".into(),
        quote: "USDT".into(),
        interval_secs: 60,
        open: c,
        high: c,
        low: c,
        close: c,
        volume_base: Some("1.5".parse().unwrap()),
        volume_quote: None,
        trades: Some(3),
    }
}

fn source(file: &str, sha: &str, rows: u64) -> SourceRecord {
    SourceRecord {
        file: file.into(),
        sha256: sha.into(),
        bytes: 10,
        format: "test".into(),
        options: BTreeMap::new(),
        table: "prices".into(),
        rows_read: rows,
        rows_written: rows,
        rows_skipped: 0,
        rows_deduplicated: 0,
        rows_rejected: 0,
        notes: vec![],
        tool_version: "test".into(),
    }
}

fn round(i: u128, answer: &str) -> OracleRound {
    OracleRound {
        ts: Micros::from_secs(1_600_000_000 + i as i64),
        feed: "chainlink:USDC/USD".into(),
        base: "USDC".into(),
        quote: "USD".into(),
        round_id: (2u128 << 64) | i,
        phase_id: Some(2),
        aggregator_round_id: Some(i as i64),
        answer: answer.parse().unwrap(),
        started_at: None,
        answered_in_round: Some((2u128 << 64) | i),
        stale: false,
        block: None,
    }
}

#[test]
fn prices_and_rounds_round_trip_through_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let mut ds = Dataset::open_or_new(dir.path()).unwrap();
    let bars = vec![
        bar(0, "195.21"),
        bar(1, "0.000000000000000001"),
        bar(2, "123456789.123456789123456789"),
    ];
    let rounds = vec![round(1, "0.99997500"), round(2, "1")];
    ds.add(bars.clone(), vec![source("a.csv", "aa", 3)])
        .unwrap();
    let mut s = source("r.csv", "rr", 2);
    s.table = "oracle_rounds".into();
    ds.add(rounds.clone(), vec![s]).unwrap();
    ds.commit().unwrap();

    let ds = Dataset::open(dir.path()).unwrap();
    assert_eq!(ds.read::<PriceBar>().unwrap(), bars);
    assert_eq!(ds.read::<OracleRound>().unwrap(), rounds);
    assert_eq!(ds.manifest().tables["prices"].rows, 3);
    assert_eq!(
        ds.manifest().tables["oracle_rounds"].series["chainlink:USDC/USD"].rows,
        2
    );
    ds.verify().unwrap();
}

#[test]
fn overlapping_sources_are_not_doubled_and_reingest_is_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    let mut ds = Dataset::open_or_new(dir.path()).unwrap();
    ds.add(
        vec![bar(0, "1"), bar(1, "2")],
        vec![source("a.csv", "aa", 2)],
    )
    .unwrap();
    ds.commit().unwrap();
    let first = std::fs::read(dir.path().join("prices.parquet")).unwrap();
    let first_manifest = std::fs::read(dir.path().join("manifest.json")).unwrap();

    // Same bytes again: skipped entirely, files unchanged.
    let mut ds = Dataset::open(dir.path()).unwrap();
    let rep = ds
        .add(
            vec![bar(0, "1"), bar(1, "2")],
            vec![source("a.csv", "aa", 2)],
        )
        .unwrap();
    assert_eq!(rep.already_ingested, vec!["a.csv".to_string()]);
    ds.commit().unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("prices.parquet")).unwrap(),
        first
    );
    assert_eq!(
        std::fs::read(dir.path().join("manifest.json")).unwrap(),
        first_manifest
    );

    // An overlapping file: one shared bar reported as duplicate, one new.
    let rep = ds
        .add(
            vec![bar(1, "2"), bar(2, "3")],
            vec![source("b.csv", "bb", 2)],
        )
        .unwrap();
    assert_eq!((rep.added, rep.duplicates, rep.total), (1, 1, 3));
    ds.commit().unwrap();
    assert_eq!(
        Dataset::open(dir.path())
            .unwrap()
            .read::<PriceBar>()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn conflicting_values_for_one_key_fail_and_leave_the_dataset_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let mut ds = Dataset::open_or_new(dir.path()).unwrap();
    ds.add(vec![bar(0, "1")], vec![source("a.csv", "aa", 1)])
        .unwrap();
    ds.commit().unwrap();
    let before = std::fs::read(dir.path().join("manifest.json")).unwrap();
    let mut ds = Dataset::open(dir.path()).unwrap();
    let err = ds
        .add(vec![bar(0, "9")], vec![source("b.csv", "bb", 1)])
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("a.csv") && msg.contains("b.csv") && msg.contains("2020-03-12"),
        "{msg}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("manifest.json")).unwrap(),
        before
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "no temp files left: {names:?}");
}

#[test]
fn same_rows_give_byte_identical_files_in_two_folders() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for d in [a.path(), b.path()] {
        let mut ds = Dataset::open_or_new(d).unwrap();
        ds.add(
            (0..1000)
                .map(|i| bar(i, &format!("{}.5", 100 + i)))
                .collect(),
            vec![source("a.csv", "aa", 1000)],
        )
        .unwrap();
        ds.commit().unwrap();
    }
    for f in ["prices.parquet", "manifest.json"] {
        assert_eq!(
            std::fs::read(a.path().join(f)).unwrap(),
            std::fs::read(b.path().join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn verify_detects_a_changed_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut ds = Dataset::open_or_new(dir.path()).unwrap();
    ds.add(vec![bar(0, "1")], vec![source("a.csv", "aa", 1)])
        .unwrap();
    ds.commit().unwrap();
    let p = dir.path().join("prices.parquet");
    let mut bytes = std::fs::read(&p).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0xff;
    std::fs::write(&p, bytes).unwrap();
    let err = Dataset::open(dir.path()).unwrap().verify().unwrap_err();
    assert!(err.to_string().contains("prices.parquet: sha256"), "{err}");
}

#[test]
fn decoding_a_foreign_parquet_names_the_column() {
    // A prices file whose `close` column is missing.
    use arrow::array::{ArrayRef, RecordBatch, StringArray};
    use std::sync::Arc;
    let batch = RecordBatch::try_from_iter(vec![(
        "venue",
        Arc::new(StringArray::from(vec!["x"])) as ArrayRef,
    )])
    .unwrap();
    let err = PriceBar::decode(&batch, std::path::Path::new("x.parquet"), 0).unwrap_err();
    assert!(
        err.to_string().contains("x.parquet: missing column \"ts\""),
        "{err}"
    );
}

#[test]
fn a_garbage_manifest_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("manifest.json"),
        "{\"manifest_version\": 1, ",
    )
    .unwrap();
    let err = Dataset::open(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("manifest.json") && err.contains("line 1"),
        "{err}"
    );
}
