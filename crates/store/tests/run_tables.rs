//! Round trips of the run tables and the run folder.

use std::collections::BTreeMap;

use shortfall_core::run::*;
use shortfall_core::{BookOrigin, Micros, Wad};
use shortfall_store::parquet_io;
use shortfall_store::run_dir::{self, read_run, write_run};
use shortfall_store::tables::CanonicalRow;

fn w(x: i128) -> Wad {
    Wad(x * 1_000_000_000_000_000 + 7)
}

fn events() -> Vec<EventRecord> {
    EventKind::ALL
        .iter()
        .enumerate()
        .map(|(i, k)| EventRecord {
            seq: i as u64,
            ts: Micros(1_583_971_200_000_000 + i as i64),
            kind: *k,
            account: (i % 2 == 0).then(|| format!("acct{i}")),
            asset: (i % 3 == 0).then(|| "ETH".to_string()),
            amount: (i % 2 == 1).then(|| w(i as i128)),
            value_usd: Some(w(-(i as i128))),
            price: None,
            health: (i % 4 == 0).then(|| w(950)),
            actor: (i == 4).then(|| "liq".to_string()),
            reason: Reason::ALL.get(i).copied(),
        })
        .collect()
}

fn liquidations() -> Vec<LiquidationRecord> {
    (0..3)
        .map(|i| LiquidationRecord {
            seq: 10 + i,
            ts: Micros(1_583_971_200_000_000 + i as i64 * 60_000_000),
            account: format!("a{i}"),
            market: "generated".into(),
            mechanism: "fixed_spread".into(),
            liquidator: "ideal".into(),
            collateral_asset: "ETH".into(),
            debt_asset: "DAI".into(),
            debt_repaid: w(100),
            collateral_seized: w(2),
            protocol_fee: w(0),
            repaid_usd: w(100),
            seized_usd: w(105),
            penalty_usd: w(5),
            sale_proceeds_usd: w(104),
            slippage_usd: w(1),
            gas_usd: Wad::ZERO,
            health_before: Some(w(990)),
            health_after: if i == 1 { None } else { Some(w(1010)) },
        })
        .collect()
}

fn loans() -> Vec<LoanOutcome> {
    LoanStatus::ALL
        .iter()
        .enumerate()
        .map(|(i, s)| LoanOutcome {
            account: format!("a{i}"),
            market: "m".into(),
            status: *s,
            initial_collateral_usd: w(2000),
            initial_debt_usd: w(1000),
            final_collateral_usd: w(10),
            final_debt_usd: w(20),
            repaid_usd: w(900),
            seized_usd: w(950),
            penalty_usd: w(50),
            written_off_usd: Wad::ZERO,
            shortfall_usd: w(10),
            liquidations: i as u32,
            min_health: Some(w(800)),
            final_health: None,
            first_liquidatable: (i % 2 == 0).then_some(Micros(1_583_990_000_000_000)),
            last_blocked: (i == 3).then_some(Reason::NoLiquidatorCapital),
            attribution: Attribution {
                price_gap_usd: w(1),
                oracle_usd: w(2),
                liquidator_capacity_usd: w(3),
                slippage_usd: w(4),
                parameters_usd: Wad::ZERO,
            },
        })
        .collect()
}

fn series() -> Vec<SeriesPoint> {
    (0..4)
        .map(|i| SeriesPoint {
            ts: Micros(1_583_971_200_000_000 + i * 3_600_000_000),
            asset: "ETH".into(),
            market_price: Some(w(194_000)),
            oracle_price: (i != 2).then(|| w(195_000)),
            liquidated_usd: w(i as i128),
            cum_bad_debt_usd: Wad::ZERO,
        })
        .collect()
}

fn round_trip<R: CanonicalRow + std::fmt::Debug>(rows: Vec<R>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(R::TABLE.file_name());
    let batch = R::encode(&rows).unwrap();
    assert_eq!(batch.schema(), R::TABLE.schema());
    let bytes = parquet_io::encode(&batch, R::TABLE, &path).unwrap();
    assert_eq!(
        bytes,
        parquet_io::encode(&R::encode(&rows).unwrap(), R::TABLE, &path).unwrap()
    );
    std::fs::write(&path, &bytes).unwrap();
    let back: Vec<R> = parquet_io::read_rows(&path).unwrap();
    assert_eq!(back, rows);
    // empty tables too
    let empty = parquet_io::encode(&R::encode(&[]).unwrap(), R::TABLE, &path).unwrap();
    std::fs::write(&path, &empty).unwrap();
    assert!(parquet_io::read_rows::<R>(&path).unwrap().is_empty());
}

#[test]
fn events_round_trip() {
    round_trip(events());
}

#[test]
fn liquidations_round_trip() {
    round_trip(liquidations());
}

#[test]
fn loans_round_trip() {
    round_trip(loans());
}

#[test]
fn series_round_trip() {
    round_trip(series());
}

#[test]
fn run_tables_are_registered() {
    for name in ["events", "liquidations", "loans", "series"] {
        let t = shortfall_store::tables::table(name).unwrap();
        assert!(t.markdown().contains(&format!("`{name}`")));
    }
}

#[test]
fn bad_enum_value_names_file_row_and_column() {
    use arrow::array::{ArrayRef, RecordBatch, StringArray};
    use std::sync::Arc;
    let rows = events();
    let batch = EventRecord::encode(&rows).unwrap();
    let idx = batch.schema().index_of("kind").unwrap();
    let mut cols: Vec<ArrayRef> = batch.columns().to_vec();
    let mut kinds: Vec<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
    kinds[3] = "explosion";
    cols[idx] = Arc::new(StringArray::from(kinds));
    let bad = RecordBatch::try_new(batch.schema(), cols).unwrap();
    let e = EventRecord::decode(&bad, std::path::Path::new("x/events.parquet"), 100)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("x/events.parquet")
            && e.contains("row 103")
            && e.contains("\"kind\"")
            && e.contains("explosion"),
        "{e}"
    );
}

fn output() -> RunOutput {
    let summary = Summary {
        scenario: "t".into(),
        preset: "aave_v3".into(),
        window_start: Micros(0),
        window_end: Micros(1),
        positions: 5,
        book_generated: true,
        book_origin: "generated seed=1".into(),
        initial_debt_usd: w(5000),
        bad_debt_usd: w(10),
        npl_count: 1,
        npl_ratio: w(200),
        liquidated_count: 1,
        at_risk_count: 1,
        performing_count: 1,
        unpriced_count: 1,
        liquidation_count: 3,
        liquidated_volume_usd: w(300),
        penalty_usd: w(15),
        protocol_fees_usd: Wad::ZERO,
        reserves_drawdown_usd: Wad::ZERO,
        auction_incentives_usd: Wad::ZERO,
        blocked_attempts: [("no_liquidity".to_string(), 2u64)].into_iter().collect(),
        waterfall: Waterfall::default(),
        attribution: Attribution::default(),
        events: 11,
        lending_events: None,
        hypothetical: Vec::new(),
        perp: None,
    };
    RunOutput {
        events: events(),
        liquidations: liquidations(),
        loans: loans(),
        series: series(),
        summary,
        run_meta: RunMeta {
            run_id: "0123456789abcdef".into(),
            version: "shortfall test".into(),
            seed: 1,
            resolved_config: "name = \"t\"\n".into(),
            input_hashes: BTreeMap::from([("prices".to_string(), "ab".repeat(32))]),
            event_log_sha256: "cd".repeat(32),
            book_origin: BookOrigin {
                kind: "generated".into(),
                detail: "seed=1".into(),
            },
        },
        perp: None,
    }
}

#[test]
fn run_folder_round_trip_and_replace() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("t").join("0123456789abcdef");
    let out = output();
    let cmd = vec!["replay".to_string(), "--scenario".into(), "s.toml".into()];
    write_run(&run, &out, &cmd).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&run)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "events.parquet",
            "liquidations.parquet",
            "loans.parquet",
            "run.json",
            "series.parquet",
            "summary.json"
        ]
    );
    let summary = std::fs::read_to_string(run.join(run_dir::SUMMARY_FILE)).unwrap();
    assert!(summary.ends_with("}\n"));
    let back = read_run(&run).unwrap();
    assert_eq!(back.run.command_line, cmd);
    assert_eq!(back.clone().into_output(), out);
    let before: Vec<Vec<u8>> = names
        .iter()
        .map(|n| std::fs::read(run.join(n)).unwrap())
        .collect();
    // same run again: replaced in place, same bytes, no temp folders left
    std::fs::write(run.join("stray.txt"), b"x").unwrap();
    write_run(&run, &out, &cmd).unwrap();
    assert!(!run.join("stray.txt").exists());
    let after: Vec<Vec<u8>> = names
        .iter()
        .map(|n| std::fs::read(run.join(n)).unwrap())
        .collect();
    assert_eq!(before, after);
    let siblings: Vec<_> = std::fs::read_dir(dir.path().join("t")).unwrap().collect();
    assert_eq!(siblings.len(), 1);
}
