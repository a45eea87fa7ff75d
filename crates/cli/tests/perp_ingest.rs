//! `shortfall ingest --format perp-positions-csv` and
//! `--format hyperliquid-liquidations`, end to end: tables written, queried
//! with DuckDB, described by `datasets schema`, bad rows named.

mod common;

use common::*;
use std::path::{Path, PathBuf};

fn shared() -> Option<PathBuf> {
    let p = repo().join("../shared/datasets");
    p.is_dir().then_some(p).or_else(|| {
        eprintln!("skipping: ../shared/datasets not found");
        None
    })
}

const MAPPING: &str = r#"
venue = "binance"
account = "account"
instrument = "symbol"
size = "position_amt"
entry_price = "entry_price"
margin_mode = "margin_type"
leverage = "leverage"
collateral_asset = "margin_asset"
collateral_amount = "margin"
"#;

const CSV: &str = "\
account,symbol,position_amt,entry_price,margin_type,leverage,margin_asset,margin
a1,BTCUSDT,0.5,58000.1,cross,20,USDT,1500
a1,BTCUSDT,0.5,58000.1,cross,20,BTC,0.01
a1,ETHUSDT,-10,2100,CROSS,10,,
a2,BTCUSDT,1.25,60000,isolated,25,USDT,3000.5
a2,BTCUSDT,1.25,60000,isolated,25,USDT,3000.5
";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn query(ds: &Path, sql: &str) -> String {
    ok(&shortfall(&[
        "query",
        "--dataset",
        s(ds),
        "--format",
        "csv",
        sql,
    ]))
}

#[test]
fn perp_positions_csv_ingests_with_a_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = write(dir.path(), "m.toml", MAPPING);
    let csv = write(dir.path(), "positions.csv", CSV);
    let ds = dir.path().join("ds");
    let out = ok(&shortfall(&[
        "ingest",
        "--format",
        "perp-positions-csv",
        "--dataset",
        s(&ds),
        "--mapping",
        s(&mapping),
        "--map",
        "snapshot_at=2021-04-18T00:00:00Z",
        s(&csv),
    ]));
    assert!(out.contains("5 rows read, 4 written"), "{out}");
    assert!(out.contains("1 duplicates"), "{out}");
    let got = query(
        &ds,
        "SELECT account, instrument, side, margin_mode, CAST(size AS VARCHAR) AS size, \
         collateral_asset, CAST(collateral_amount AS VARCHAR) AS amount FROM perp_positions",
    );
    assert_eq!(
        got,
        "account,instrument,side,margin_mode,size,collateral_asset,amount\n\
         a1,BTCUSDT,long,cross,0.500000000000000000,BTC,0.010000000000000000\n\
         a1,BTCUSDT,long,cross,0.500000000000000000,USDT,1500.000000000000000000\n\
         a1,ETHUSDT,short,cross,10.000000000000000000,,\n\
         a2,BTCUSDT,long,isolated,1.250000000000000000,USDT,3000.500000000000000000\n"
    );
    let got = query(
        &ds,
        "SELECT DISTINCT CAST(snapshot_ts AS VARCHAR) AS t FROM perp_positions",
    );
    assert_eq!(got, "t\n2021-04-18 00:00:00\n");
    // Re-running changes nothing.
    let before = std::fs::read(ds.join("perp_positions.parquet")).unwrap();
    ok(&shortfall(&[
        "ingest",
        "--format",
        "perp-positions-csv",
        "--dataset",
        s(&ds),
        "--mapping",
        s(&mapping),
        "--map",
        "snapshot_at=2021-04-18T00:00:00Z",
        s(&csv),
    ]));
    assert_eq!(
        std::fs::read(ds.join("perp_positions.parquet")).unwrap(),
        before
    );
    ok(&shortfall(&["datasets", "verify", "--dataset", s(&ds)]));
}

#[test]
fn perp_positions_csv_bad_rows_name_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = write(dir.path(), "m.toml", MAPPING);
    let ds = dir.path().join("ds");
    let run = |csv: &str, extra: &[&str]| {
        let f = write(dir.path(), "bad.csv", csv);
        let mut args = vec![
            "ingest",
            "--format",
            "perp-positions-csv",
            "--dataset",
            s(&ds),
            "--mapping",
            s(&mapping),
        ];
        args.extend_from_slice(extra);
        args.push(s(&f));
        let o = shortfall(&args);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o).0);
        text(&o).1
    };
    let header =
        "account,symbol,position_amt,entry_price,margin_type,leverage,margin_asset,margin\n";
    let at = ["--map", "snapshot_at=2021-04-18"];
    let cases = [
        (
            "a,BTCUSDT,x,1,cross,2,USDT,1\n",
            "line 2, column \"position_amt\"",
        ),
        (
            "a,BTCUSDT,1,0,cross,2,USDT,1\n",
            "line 2, column \"entry_price\"",
        ),
        (
            "a,BTCUSDT,1,1,hedge,2,USDT,1\n",
            "line 2, column \"margin_type\"",
        ),
        (
            "a,BTCUSDT,1,1,cross,-2,USDT,1\n",
            "line 2, column \"leverage\"",
        ),
        (
            "a,BTCUSDT,1,1,cross,2,USDT,-1\n",
            "line 2, column \"margin\"",
        ),
        (
            "a,BTCUSDT,1,1,cross,2,USDT,1\na,BTCUSDT,1\n",
            "line 3, column \"entry_price\"",
        ),
        (
            "a,BTCUSDT,1,1,cross,2,USDT,1\na,BTCUSDT,2,1,cross,2,BTC,1\n",
            "line 3",
        ),
        (
            "a,BTCUSDT,1,1,cross,2,USDT,1\na,BTCUSDT,1,1,cross,2,USDT,2\n",
            "line 3: column \"margin\"",
        ),
    ];
    for (rows, want) in cases {
        let e = run(&format!("{header}{rows}"), &at);
        assert!(e.contains("bad.csv") && e.contains(want), "{want}: {e}");
    }
    // No snapshot time: a usage error that says how to give one.
    let e = run(&format!("{header}a,BTCUSDT,1,1,cross,2,USDT,1\n"), &[]);
    assert!(e.contains("snapshot_at"), "{e}");
    // A mapped column that is not in the header.
    let e = run("account,symbol\n", &at);
    assert!(
        e.contains("position_amt") && e.contains("not in the header"),
        "{e}"
    );
    // --on-bad-row skip: counted, the rest written.
    let f = write(
        dir.path(),
        "mixed.csv",
        &format!("{header}a,BTCUSDT,x,1,cross,2,USDT,1\nb,BTCUSDT,1,1,cross,2,USDT,1\n"),
    );
    let out = ok(&shortfall(&[
        "ingest",
        "--format",
        "perp-positions-csv",
        "--dataset",
        s(&ds),
        "--mapping",
        s(&mapping),
        "--map",
        "snapshot_at=2021-04-18",
        "--on-bad-row",
        "skip",
        s(&f),
    ]));
    assert!(out.contains("2 rows read, 1 written, 1 skipped"), "{out}");
}

#[test]
fn perp_positions_snapshot_from_a_column() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = write(
        dir.path(),
        "m.toml",
        &format!("{MAPPING}snapshot_time = \"time\"\ntime_format = \"ms\"\n"),
    );
    let csv = write(
        dir.path(),
        "p.csv",
        "time,account,symbol,position_amt,entry_price,margin_type,leverage,margin_asset,margin\n\
         1618704000000,a,BTCUSDT,1,60000,cross,10,USDT,6000\n\
         1618790400000,a,BTCUSDT,1,60000,cross,10,USDT,5000\n",
    );
    let ds = dir.path().join("ds");
    ok(&shortfall(&[
        "ingest",
        "--format",
        "perp-positions-csv",
        "--dataset",
        s(&ds),
        "--mapping",
        s(&mapping),
        s(&csv),
    ]));
    let got = query(
        &ds,
        "SELECT CAST(snapshot_ts AS VARCHAR) AS t, CAST(collateral_amount AS INTEGER) AS c FROM perp_positions",
    );
    assert_eq!(
        got,
        "t,c\n2021-04-18 00:00:00,6000\n2021-04-19 00:00:00,5000\n"
    );
}

#[test]
fn hyperliquid_liquidations_real_file() {
    let Some(raw) = shared() else { return };
    let file = raw.join("events/hyperliquid_liquidations_2023.csv");
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("hl");
    let o = shortfall(&[
        "ingest",
        "--format",
        "hyperliquid-liquidations",
        "--dataset",
        s(&ds),
        s(&file),
    ]);
    let out = ok(&o);
    // 62 rows, sorted, no duplicate (time, user): all written.
    assert!(
        out.contains(
            "hyperliquid_liquidations_2023.csv: 62 rows read, 62 written, 0 skipped, 0 duplicates"
        ),
        "{out}"
    );
    // Isolated rows whose account value is far above an isolated margin are flagged.
    let err = text(&o).1;
    assert!(
        err.contains("isolated rows report an account value"),
        "{err}"
    );
    let got = query(
        &ds,
        "SELECT margin_mode, CAST(count(*) AS BIGINT) AS n, CAST(sum(notional_usd) AS VARCHAR) AS ntl, \
         CAST(min(ts) AS VARCHAR) AS first, CAST(max(ts) AS VARCHAR) AS last \
         FROM perp_liquidations GROUP BY ALL ORDER BY ALL",
    );
    let lines: Vec<&str> = got.lines().collect();
    assert_eq!(lines[0], "margin_mode,n,ntl,first,last");
    assert!(lines[1].starts_with("cross,54,"), "{got}");
    assert!(lines[2].starts_with("isolated,8,"), "{got}");
    let got = query(
        &ds,
        "SELECT DISTINCT venue, CAST(count(*) OVER () AS BIGINT) AS n, \
         CAST((SELECT min(ts) FROM perp_liquidations) AS VARCHAR) AS first, \
         CAST((SELECT max(ts) FROM perp_liquidations) AS VARCHAR) AS last FROM perp_liquidations",
    );
    assert_eq!(
        got,
        "venue,n,first,last\nhyperliquid,62,2023-02-28 21:10:23,2023-05-01 21:00:07\n"
    );
    // exact decimals: the first row's notional and account value
    let got = query(
        &ds,
        "SELECT CAST(notional_usd AS VARCHAR) AS n, CAST(account_value_usd AS VARCHAR) AS v \
         FROM perp_liquidations ORDER BY ts LIMIT 1",
    );
    assert_eq!(got, "n,v\n356.800150000000000000,2.956494000000000000\n");
    ok(&shortfall(&["datasets", "verify", "--dataset", s(&ds)]));
}

#[test]
fn hyperliquid_bad_rows_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    let header = "time,user,liquidated_ntl_pos,liquidated_account_value,leverage_type\n";
    let run = |rows: &str, extra: &[&str]| {
        let f = write(dir.path(), "hl.csv", &format!("{header}{rows}"));
        let mut args = vec![
            "ingest",
            "--format",
            "hyperliquid-liquidations",
            "--dataset",
            s(&ds),
        ];
        args.extend_from_slice(extra);
        args.push(s(&f));
        shortfall(&args)
    };
    for (rows, want) in [
        (
            "2023-13-01T00:00:00Z,0xa,1,1,Cross\n",
            "line 2, column \"time\"",
        ),
        (
            "2023-03-01T00:00:00Z,0xa,0,1,Cross\n",
            "line 2, column \"liquidated_ntl_pos\"",
        ),
        (
            "2023-03-01T00:00:00Z,0xa,1,abc,Cross\n",
            "line 2, column \"liquidated_account_value\"",
        ),
        (
            "2023-03-01T00:00:00Z,0xa,1,1,Portfolio\n",
            "line 2, column \"leverage_type\"",
        ),
        (
            "2023-03-01T00:00:00Z,0xa,1,1,Cross\n2023-03-01T00:00:00Z,0xa,2,1,Cross\n",
            "line 3: conflicting rows for the liquidation of 0xa",
        ),
    ] {
        let o = run(rows, &[]);
        assert_eq!(o.status.code(), Some(1));
        let e = text(&o).1;
        assert!(e.contains("hl.csv") && e.contains(want), "{want}: {e}");
    }
    let o = run("2023-03-01T00:00:00Z,0xa,1,1,Cross\n", &["--map", "a=b"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("do not apply"), "{}", text(&o).1);
    // exact duplicates are counted, not doubled
    let out = ok(&run(
        "2023-03-01T00:00:00Z,0xa,1,-1,Cross\n2023-03-01T00:00:00Z,0xa,1,-1,Cross\n",
        &[],
    ));
    assert!(
        out.contains("2 rows read, 1 written, 0 skipped, 1 duplicates"),
        "{out}"
    );
}

#[test]
fn datasets_schema_describes_the_perp_tables() {
    for t in [
        "perp_positions",
        "perp_liquidations",
        "perp_position_outcomes",
        "perp_accounts",
        "perp_insurance_fund",
    ] {
        let out = ok(&shortfall(&["datasets", "schema", t]));
        assert!(out.contains(&format!("### `{t}`")), "{out}");
    }
    let out = ok(&shortfall(&["datasets", "schema", "perp_positions"]));
    assert!(
        out.contains("| `collateral_amount` | DECIMAL(38,18) | yes |"),
        "{out}"
    );
}
