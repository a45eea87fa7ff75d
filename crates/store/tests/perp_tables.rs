//! Perp tables: the run folder's `perp_*.parquet` files (written only for
//! runs with `[perp]`) and the `perp_positions` / `perp_liquidations`
//! dataset tables; round trips, DuckDB reads them.

use std::collections::BTreeMap;

use shortfall_core::perp_run::{PerpAccountOutcome, PerpPositionOutcome, PerpRun, PerpStatus};
use shortfall_core::run::*;
use shortfall_core::{
    positions_from_rows, BookOrigin, MarginMode, Micros, PerpLiquidationRow, PerpPosition,
    PerpPositionRow, PerpSide, Wad,
};
use shortfall_store::catalog::Catalog;
use shortfall_store::parquet_io;
use shortfall_store::run_dir::{self, read_run, read_run_without_events, write_run, RunData};
use shortfall_store::tables::CanonicalRow;
use shortfall_store::Dataset;

fn w(x: i128) -> Wad {
    Wad(x * 1_000_000_000_000_000 + 7)
}

const T0: i64 = 1_618_000_000_000_000;

fn perp_run() -> PerpRun {
    let statuses = PerpStatus::ALL;
    let positions = statuses
        .iter()
        .enumerate()
        .map(|(i, s)| PerpPositionOutcome {
            account: format!("acct{}", i / 2),
            venue: if i < 4 { "binance" } else { "hyperliquid" }.into(),
            instrument: "BTCUSDT".into(),
            side: if i % 2 == 0 {
                PerpSide::Long
            } else {
                PerpSide::Short
            },
            margin_mode: if i < 2 {
                MarginMode::Cross
            } else {
                MarginMode::Isolated
            },
            status: *s,
            size_start: w(2000),
            size_end: w(1000 - i as i128 * 100),
            liquidated_size: w(i as i128),
            deleveraged_size: Wad::ZERO,
            adl_loss_usd: w(-(i as i128)),
            socialised_usd: Wad::ZERO,
            liquidations: i as u32,
        })
        .collect();
    let accounts = vec![
        PerpAccountOutcome {
            account: "acct0".into(),
            venue: "binance".into(),
            margin_mode: MarginMode::Cross,
            positions: vec![0, 1],
            status: PerpStatus::Deleveraged,
            equity_start_usd: w(10_000),
            equity_end_usd: w(-5),
            liquidation_fees_usd: w(3),
            shortfall_usd: w(5),
            insurance_fund_usd: w(2),
            adl_usd: w(1),
            backstop_usd: Wad::ZERO,
            socialised_usd: w(1),
            unabsorbed_usd: w(1),
            first_liquidation: Some(Micros(T0 + 60_000_000)),
        },
        PerpAccountOutcome {
            account: "acct1".into(),
            venue: "binance".into(),
            margin_mode: MarginMode::Isolated,
            positions: vec![2],
            status: PerpStatus::PartiallyLiquidated,
            equity_start_usd: w(1),
            equity_end_usd: w(1),
            liquidation_fees_usd: Wad::ZERO,
            shortfall_usd: Wad::ZERO,
            insurance_fund_usd: Wad::ZERO,
            adl_usd: Wad::ZERO,
            backstop_usd: Wad::ZERO,
            socialised_usd: Wad::ZERO,
            unabsorbed_usd: Wad::ZERO,
            first_liquidation: None,
        },
        PerpAccountOutcome {
            account: "acct1".into(),
            venue: "binance".into(),
            margin_mode: MarginMode::Isolated,
            positions: vec![3],
            status: PerpStatus::Liquidated,
            equity_start_usd: w(1),
            equity_end_usd: Wad::ZERO,
            liquidation_fees_usd: Wad::ZERO,
            shortfall_usd: Wad::ZERO,
            insurance_fund_usd: Wad::ZERO,
            adl_usd: Wad::ZERO,
            backstop_usd: Wad::ZERO,
            socialised_usd: Wad::ZERO,
            unabsorbed_usd: Wad::ZERO,
            first_liquidation: Some(Micros(T0)),
        },
        PerpAccountOutcome {
            account: "acct2".into(),
            venue: "hyperliquid".into(),
            margin_mode: MarginMode::Isolated,
            positions: vec![4, 5],
            status: PerpStatus::Bankrupt,
            equity_start_usd: w(7),
            equity_end_usd: w(-70),
            liquidation_fees_usd: Wad::ZERO,
            shortfall_usd: w(70),
            insurance_fund_usd: Wad::ZERO,
            adl_usd: Wad::ZERO,
            backstop_usd: w(70),
            socialised_usd: Wad::ZERO,
            unabsorbed_usd: Wad::ZERO,
            first_liquidation: Some(Micros(T0 + 1)),
        },
    ];
    PerpRun {
        positions,
        accounts,
        // two changes at one time
        insurance_fund: vec![
            (Micros(T0), w(1_000_000)),
            (Micros(T0 + 60_000_000), w(999_998)),
            (Micros(T0 + 60_000_000), w(999_990)),
        ],
    }
}

fn output(perp: Option<PerpRun>) -> RunOutput {
    let summary = Summary {
        scenario: "t".into(),
        preset: "aave_v3".into(),
        window_start: Micros(0),
        window_end: Micros(1),
        positions: 0,
        book_generated: true,
        book_origin: "generated seed=1".into(),
        initial_debt_usd: Wad::ZERO,
        bad_debt_usd: Wad::ZERO,
        npl_count: 0,
        npl_ratio: Wad::ZERO,
        liquidated_count: 0,
        at_risk_count: 0,
        performing_count: 0,
        unpriced_count: 0,
        liquidation_count: 0,
        liquidated_volume_usd: Wad::ZERO,
        penalty_usd: Wad::ZERO,
        protocol_fees_usd: Wad::ZERO,
        reserves_drawdown_usd: Wad::ZERO,
        auction_incentives_usd: Wad::ZERO,
        blocked_attempts: BTreeMap::new(),
        waterfall: Waterfall::default(),
        attribution: Attribution::default(),
        events: 0,
        lending_events: None,
        hypothetical: Vec::new(),
        perp: None,
    };
    RunOutput {
        events: Vec::new(),
        liquidations: Vec::new(),
        loans: Vec::new(),
        series: Vec::new(),
        summary,
        run_meta: RunMeta {
            run_id: "0123456789abcdef".into(),
            version: "shortfall test".into(),
            seed: 1,
            resolved_config: "name = \"t\"\n".into(),
            input_hashes: BTreeMap::new(),
            event_log_sha256: "cd".repeat(32),
            book_origin: BookOrigin {
                kind: "generated".into(),
                detail: "seed=1".into(),
            },
        },
        perp,
    }
}

fn names(dir: &std::path::Path) -> Vec<String> {
    let mut n: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    n.sort();
    n
}

fn round_trip<R: CanonicalRow + std::fmt::Debug>(rows: Vec<R>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(R::TABLE.file_name());
    let batch = R::encode(&rows).unwrap();
    assert_eq!(batch.schema(), R::TABLE.schema());
    let bytes = parquet_io::encode(&batch, R::TABLE, &path).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    let back: Vec<R> = parquet_io::read_rows(&path).unwrap();
    assert_eq!(back, rows);
    let empty = parquet_io::encode(&R::encode(&[]).unwrap(), R::TABLE, &path).unwrap();
    std::fs::write(&path, &empty).unwrap();
    assert!(parquet_io::read_rows::<R>(&path).unwrap().is_empty());
}

#[test]
fn perp_run_tables_round_trip() {
    let p = perp_run();
    round_trip(p.positions);
    round_trip(p.accounts);
    round_trip(p.insurance_fund);
}

#[test]
fn perp_tables_are_registered() {
    for name in [
        "perp_positions",
        "perp_liquidations",
        "perp_position_outcomes",
        "perp_accounts",
        "perp_insurance_fund",
    ] {
        let t = shortfall_store::tables::table(name).unwrap();
        assert!(t.markdown().contains(&format!("`{name}`")));
        for c in t.columns {
            assert!(
                !matches!(c.ty.arrow(), arrow::datatypes::DataType::Float64),
                "{name}.{}",
                c.name
            );
        }
    }
}

#[test]
fn perp_run_folder_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("t").join("0123456789abcdef");
    let out = output(Some(perp_run()));
    let cmd = vec!["replay".to_string()];
    write_run(&run, &out, &cmd).unwrap();
    assert_eq!(
        names(&run),
        [
            "events.parquet",
            "liquidations.parquet",
            "loans.parquet",
            "perp_accounts.parquet",
            "perp_insurance_fund.parquet",
            "perp_positions.parquet",
            "run.json",
            "series.parquet",
            "summary.json"
        ]
    );
    let back = read_run(&run).unwrap();
    assert_eq!(back.clone().into_output(), out);
    assert_eq!(read_run_without_events(&run).unwrap().perp, out.perp);
    // for_report carries it too
    let rd = RunData::for_report(out.clone(), &cmd);
    assert_eq!(rd.perp, out.perp);

    // DuckDB reads the three files: positions of an account through the list column
    let mut cat = Catalog::in_memory().unwrap();
    for (view, file) in [
        ("pp", run_dir::PERP_POSITIONS_FILE),
        ("pa", run_dir::PERP_ACCOUNTS_FILE),
        ("pf", run_dir::PERP_INSURANCE_FUND_FILE),
    ] {
        cat.attach_parquet(view, &run.join(file)).unwrap();
    }
    let r = cat
        .query(
            "SELECT CAST(count(*) AS BIGINT) AS n FROM pa, pp \
             WHERE list_contains(CAST(string_split(pa.positions, ',') AS BIGINT[]), pp.position_index) \
             AND pa.account_index = 3",
        )
        .unwrap();
    let text =
        shortfall_store::catalog::render(&r, shortfall_store::catalog::OutputFormat::Csv).unwrap();
    assert_eq!(text, "n\n2\n");
    let r = cat
        .query(
            "SELECT CAST(max(balance_usd) AS VARCHAR) AS b, CAST(count(*) AS BIGINT) AS n FROM pf",
        )
        .unwrap();
    let text =
        shortfall_store::catalog::render(&r, shortfall_store::catalog::OutputFormat::Csv).unwrap();
    assert_eq!(text, "b,n\n1000.000000000000000007,3\n");

    // one perp file missing: an error naming it
    std::fs::remove_file(run.join(run_dir::PERP_ACCOUNTS_FILE)).unwrap();
    let e = read_run(&run).unwrap_err().to_string();
    assert!(e.contains("perp_accounts.parquet"), "{e}");
}

#[test]
fn lending_only_runs_have_no_perp_files() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("r");
    let out = output(None);
    write_run(&run, &out, &[]).unwrap();
    assert!(!names(&run).iter().any(|n| n.starts_with("perp")));
    let back = read_run(&run).unwrap();
    assert_eq!(back.perp, None);
    assert_eq!(back.into_output(), out);
    // same bytes as without the perp feature: run_files lists the same six files
    let files = run_dir::run_files(&out, &[]).unwrap();
    assert_eq!(files.len(), 6);
}

#[test]
fn perp_index_out_of_order_is_named() {
    use arrow::array::{ArrayRef, Int64Array, RecordBatch};
    use std::sync::Arc;
    let rows = perp_run().accounts;
    let batch = PerpAccountOutcome::encode(&rows).unwrap();
    let mut cols: Vec<ArrayRef> = batch.columns().to_vec();
    cols[0] = Arc::new(Int64Array::from(vec![0, 2, 1, 3]));
    let bad = RecordBatch::try_new(batch.schema(), cols).unwrap();
    let e = PerpAccountOutcome::decode(&bad, std::path::Path::new("x/perp_accounts.parquet"), 0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("row 1") && e.contains("account_index"), "{e}");
}

fn snapshot() -> Vec<PerpPosition> {
    let p = |account: &str, side, mode, coll: &[(&str, &str)]| PerpPosition {
        account: account.into(),
        venue: "binance".into(),
        instrument: "BTCUSDT".into(),
        side,
        size: "0.5".parse().unwrap(),
        entry_price: "58000.1".parse().unwrap(),
        margin_mode: mode,
        collateral: coll
            .iter()
            .map(|(a, v)| (a.to_string(), v.parse().unwrap()))
            .collect(),
        leverage: Wad::from_int(20),
    };
    vec![
        p(
            "a",
            PerpSide::Long,
            MarginMode::Cross,
            &[("BTC", "0.1"), ("USDT", "1500")],
        ),
        p("a", PerpSide::Short, MarginMode::Cross, &[]),
        p(
            "b",
            PerpSide::Long,
            MarginMode::Isolated,
            &[("USDT", "1450.0025")],
        ),
    ]
}

#[test]
fn perp_positions_dataset_round_trip_and_duckdb() {
    let dir = tempfile::tempdir().unwrap();
    let ts = Micros::parse("2021-04-18T00:00:00Z").unwrap();
    let rows: Vec<PerpPositionRow> = snapshot()
        .iter()
        .flat_map(|p| PerpPositionRow::from_position(ts, None, p))
        .collect();
    let liqs = vec![PerpLiquidationRow {
        ts,
        venue: "hyperliquid".into(),
        account: "0xabc".into(),
        notional_usd: "356.80015".parse().unwrap(),
        account_value_usd: "2.956494".parse().unwrap(),
        margin_mode: MarginMode::Cross,
    }];
    let src = |table: &str| shortfall_core::SourceRecord {
        file: "x.csv".into(),
        sha256: "00".repeat(32),
        bytes: 1,
        format: "test".into(),
        options: BTreeMap::new(),
        table: table.into(),
        rows_read: 1,
        rows_written: 1,
        rows_skipped: 0,
        rows_deduplicated: 0,
        rows_rejected: 0,
        notes: Vec::new(),
        tool_version: "t".into(),
    };
    let path = dir.path().join("ds");
    let mut ds = Dataset::open_or_new(&path).unwrap();
    ds.add(rows.clone(), vec![src("perp_positions")]).unwrap();
    ds.add(liqs.clone(), vec![src("perp_liquidations")])
        .unwrap();
    ds.commit().unwrap();
    let ds = Dataset::open(&path).unwrap();
    ds.verify().unwrap();
    let back: Vec<PerpPositionRow> = ds.read().unwrap();
    assert_eq!(back, rows);
    assert_eq!(positions_from_rows(&back).unwrap(), snapshot());
    let back: Vec<PerpLiquidationRow> = ds.read().unwrap();
    assert_eq!(back, liqs);

    let mut cat = Catalog::in_memory().unwrap();
    cat.attach_dataset(&ds, None).unwrap();
    let r = cat
        .query(
            "SELECT collateral_asset, CAST(sum(collateral_amount) AS VARCHAR) AS s \
             FROM perp_positions GROUP BY ALL ORDER BY ALL",
        )
        .unwrap();
    let text =
        shortfall_store::catalog::render(&r, shortfall_store::catalog::OutputFormat::Csv).unwrap();
    assert_eq!(
        text,
        "collateral_asset,s\nBTC,0.100000000000000000\nUSDT,2950.002500000000000000\n,\n"
    );
}
