//! `shortfall positions` end to end: a small dataset of lending_events
//! written with the store API, the book rebuilt at a block, the
//! reconciliation printed and as JSON, the table queried, and a replay of
//! the rebuilt book on the Black Thursday prices.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use shortfall_core::{LendingEvent, LendingKind, Micros, Reserve, SourceRecord};
use shortfall_store::Dataset;

const RAY: u128 = 1_000_000_000_000_000_000_000_000_000;
const E18: u128 = 1_000_000_000_000_000_000;

/// An Aave v2 event on 2020-03-11, `secs` seconds after midnight.
fn ev(
    block: i64,
    log: i64,
    secs: i64,
    kind: LendingKind,
    account: &str,
    asset: &str,
) -> LendingEvent {
    let t = Micros(Micros::parse("2020-03-11").unwrap().0 + secs * Micros::PER_SEC);
    let mut e = LendingEvent::new(t, "aave_v2", "0xpool", kind, account, asset);
    e.block = Some(block);
    e.log_index = Some(log);
    e
}

fn index(block: i64, log: i64, secs: i64, asset: &str, li: u128, bi: u128) -> LendingEvent {
    let mut e = ev(block, log, secs, LendingKind::IndexUpdate, "", asset);
    e.liquidity_index_raw = Some(li);
    e.borrow_index_raw = Some(bi);
    e.liquidity_rate_raw = Some(0);
    e.borrow_rate_raw = Some(0);
    e
}

fn moved(
    block: i64,
    log: i64,
    secs: i64,
    kind: LendingKind,
    account: &str,
    asset: &str,
    raw: u128,
) -> LendingEvent {
    let mut e = ev(block, log, secs, kind, account, asset);
    e.amount_raw = Some(raw);
    e
}

fn source(table: &str) -> SourceRecord {
    SourceRecord {
        file: format!("{table}.test"),
        sha256: format!("{table}-sha"),
        bytes: 0,
        format: "test".into(),
        options: BTreeMap::new(),
        table: table.into(),
        rows_read: 0,
        rows_written: 0,
        rows_skipped: 0,
        rows_deduplicated: 0,
        rows_rejected: 0,
        notes: Vec::new(),
        tool_version: "test".into(),
    }
}

fn reserve(asset: &str) -> Reserve {
    Reserve {
        protocol: "aave_v2".into(),
        market: "0xpool".into(),
        asset: asset.into(),
        decimals: 18,
        liquidation_threshold: "0.8".parse().unwrap(),
        liquidation_bonus: "0.05".parse().unwrap(),
        usable_as_collateral: Some(true),
        borrowing_enabled: Some(true),
    }
}

/// alice: 10 ETH, 1000 DAI borrowed, liquidated for 500 DAI and 2.625 ETH
/// once the DAI borrow index is 1.1 and the ETH liquidity index 1.05
/// (book: 7.875 ETH, 600 DAI). bob: 2 ETH and 100 DAI, then withdraws 3 ETH
/// (1 more than the data shows: listed, clamped). A Maker bark (skipped).
/// Block 9 comes after the snapshot at block 8.
fn dataset(dir: &Path) -> PathBuf {
    use LendingKind::*;
    let ds = dir.join("ds");
    let mut liq = moved(5, 2, 500, Liquidation, "alice", "DAI", 500 * E18);
    liq.collateral_asset = Some("ETH".into());
    liq.collateral_amount_raw = Some(2_625 * E18 / 1000);
    liq.liquidator = Some("keeper".into());
    let mut bark = ev(6, 0, 600, AuctionStart, "urn", "ETH-A");
    bark.protocol = "maker".into();
    bark.market = "ETH-A".into();
    let mut events = vec![
        index(1, 0, 100, "ETH", RAY, RAY),
        moved(1, 1, 100, Supply, "alice", "ETH", 10 * E18),
        index(2, 0, 200, "DAI", RAY, RAY),
        moved(2, 1, 200, Borrow, "alice", "DAI", 1000 * E18),
        index(3, 0, 300, "ETH", RAY, RAY),
        moved(3, 1, 300, Supply, "bob", "ETH", 2 * E18),
        index(4, 0, 400, "DAI", RAY, RAY),
        moved(4, 1, 400, Borrow, "bob", "DAI", 100 * E18),
        index(5, 0, 500, "DAI", RAY, RAY * 11 / 10),
        index(5, 1, 500, "ETH", RAY * 105 / 100, RAY),
        liq,
        bark,
        index(7, 0, 700, "ETH", RAY * 105 / 100, RAY),
        moved(7, 1, 700, Withdraw, "bob", "ETH", 3 * E18 * 105 / 100),
        index(9, 0, 900, "DAI", RAY, RAY * 12 / 10),
        moved(9, 1, 900, Repay, "alice", "DAI", 600 * E18),
    ];
    events.sort_by(|a, b| a.cmp_order(b));
    let mut d = Dataset::open_or_new(&ds).unwrap();
    d.add(events, vec![source("lending_events")]).unwrap();
    d.add(
        vec![reserve("DAI"), reserve("ETH")],
        vec![source("reserves")],
    )
    .unwrap();
    d.commit().unwrap();
    ds
}

#[test]
fn positions_rebuilds_the_book_and_reconciles() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dataset(dir.path());
    let json = dir.path().join("recon.json");
    let out = ok(&shortfall(&[
        "positions",
        "--dataset",
        s(&ds),
        "--at",
        "8",
        "--json",
        s(&json),
    ]));
    assert!(
        out.contains("positions at 2020-03-11 00:11:40 (block 8): 3 legs of 2 accounts; 13 events used, 2 after the snapshot"),
        "{out}"
    );
    // ETH collateral (index 1.0, then 1.05), scaled: +10 (alice) +2 (bob)
    // -2.5 (2.625 seized / 1.05) -3 (bob withdraws 3.15 / 1.05 but holds 2:
    // clamped 1) = 6.5 from the events; the book holds alice's 7.5
    // (7.875 ETH); the difference is the clamp.
    let line = |needle: &str| {
        out.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle}:\n{out}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    let eth = line("ETH    collateral");
    assert_eq!(
        eth,
        [
            "aave_v2",
            "0xpool",
            "ETH",
            "collateral",
            "scaled",
            "1",
            "6500000000000000000",
            "7500000000000000000",
            "1000000000000000000",
            "1000000000000000000",
            "0",
            "0",
            "1",
            "7.875"
        ],
        "{out}"
    );
    let dai = line("DAI    debt");
    // DAI debt, scaled: 1000 + 100 - rayDiv(500, 1.1) = 645.45...; at the
    // borrow index 1.1: alice 600 + bob 110 = 710 DAI.
    assert_eq!(dai[6], "645454545454545454545");
    assert_eq!(dai[8], "0");
    assert_eq!(dai[13], "710");
    assert!(
        out.contains("check: difference = clamped + opening + interest in every row"),
        "{out}"
    );
    assert!(
        out.contains("events not applied as they stand: 1 (exceeds_balance 1)"),
        "{out}"
    );
    assert!(
        out.contains("block 7 log 1  aave_v2 0xpool bob ETH: exceeds_balance"),
        "{out}"
    );
    assert!(
        out.contains("skipped maker: 1 events: vault balances"),
        "{out}"
    );

    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(doc["snapshot"], "block 8");
    assert_eq!(
        doc["reconciliation"]["issues"][0]["clamped"],
        "1000000000000000000"
    );
    assert_eq!(doc["reconciliation"]["skipped"][0]["protocol"], "maker");

    let q = ok(&shortfall(&[
        "query", "--dataset", s(&ds), "--format", "csv",
        "SELECT snapshot_ts, snapshot_block, account, asset, side, amount, amount_raw, scaled_raw FROM positions ORDER BY account, asset, side",
    ]));
    let rows: Vec<&str> = q.lines().collect();
    assert_eq!(rows.len(), 4, "{q}");
    assert!(
        rows[1].contains(
            "alice,DAI,debt,600.000000000000000000,600000000000000000000,545454545454545454545"
        ),
        "{q}"
    );
    assert!(
        rows[2].contains(
            "alice,ETH,collateral,7.875000000000000000,7875000000000000000,7500000000000000000"
        ),
        "{q}"
    );
    assert!(
        rows[3].contains("bob,DAI,debt,110.000000000000000000,"),
        "{q}"
    );
    assert!(rows[1].starts_with("2020-03-11T00:11:40,8,"), "{q}");

    // A second snapshot by time keeps the first.
    ok(&shortfall(&[
        "positions",
        "--dataset",
        s(&ds),
        "--at",
        "2020-03-11 00:05",
    ]));
    let q = ok(&shortfall(&[
        "query",
        "--dataset",
        s(&ds),
        "--format",
        "csv",
        "SELECT snapshot_ts, count(*) AS legs FROM positions GROUP BY 1 ORDER BY 1",
    ]));
    assert_eq!(
        q.lines().skip(1).collect::<Vec<_>>(),
        ["2020-03-11T00:05:00,3", "2020-03-11T00:11:40,3"],
        "{q}"
    );
}

#[test]
fn bad_at_and_missing_events_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dataset(dir.path());
    let o = shortfall(&["positions", "--dataset", s(&ds), "--at", "soon"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--at `soon`"));
    let o = shortfall(&[
        "positions",
        "--dataset",
        s(&ds),
        "--at",
        "8",
        "--protocol",
        "compound_v2",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no lending_events of protocol `compound_v2` (present: aave_v2, maker)"),
        "{err}"
    );
}

#[test]
fn replay_runs_on_a_reconstructed_book() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dataset(dir.path());
    ok(&shortfall(&["positions", "--dataset", s(&ds), "--at", "8"]));
    let prices = repo().join("datasets/crises/black-thursday-2020");
    let scenario = |start: &str| {
        format!(
            r#"name = "reconstructed-book"
[window]
start = "{start}"
end = "2020-03-13 00:00"
[datasets]
prices = "{}"
positions = "{}"
[market]
venues = ["coinapi"]
[policy]
preset = "aave_v2"
[policy.assets.ETH]
liquidation_threshold = 0.825
liquidation_bonus = 1.05
[policy.assets.DAI]
liquidation_threshold = 0.77
liquidation_bonus = 1.05
[oracle.default]
source = "market"
mode = "direct"
"#,
            s(&prices).replace('\\', "/"),
            s(&ds).replace('\\', "/")
        )
    };
    let sc = dir.path().join("sc.toml");
    std::fs::write(&sc, scenario("2020-03-12 00:00")).unwrap();
    let reports = dir.path().join("reports");
    let out = ok(&shortfall(&[
        "--reports-dir",
        s(&reports),
        "replay",
        "--scenario",
        s(&sc),
        "--no-report",
    ]));
    assert!(
        out.contains("book              2 positions (positions of"),
        "{out}"
    );
    assert!(out.contains("at 2020-03-11 00:11:40 (block 8))"), "{out}");
    let run_dir = PathBuf::from(out.lines().next().unwrap());
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["book_origin"]["kind"], "reconstructed", "{run}");
    // The report says where the book came from, first thing.
    ok(&shortfall(&["report", s(&run_dir)]));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("report.json")).unwrap()).unwrap();
    let notice = report["book"]["notice"].as_str().unwrap();
    assert!(
        notice.starts_with(
            "The book of 2 positions is RECONSTRUCTED from on-chain events (positions of"
        ),
        "{notice}"
    );

    // A window before every snapshot names the snapshots.
    std::fs::write(&sc, scenario("2020-03-10 00:00")).unwrap();
    let o = shortfall(&[
        "--reports-dir",
        s(&reports),
        "replay",
        "--scenario",
        s(&sc),
        "--no-report",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no positions snapshot at or before the window start 2020-03-10 00:00:00 (snapshots: 2020-03-11 00:11:40)"), "{err}");
}

/// An event of the crisis day (2020-03-12), `secs` after midnight.
fn day_ev(block: i64, secs: i64, kind: LendingKind, account: &str, asset: &str) -> LendingEvent {
    let mut e = ev(block, 0, 86_400 + secs, kind, account, asset);
    e.amount = Some("1".parse().unwrap());
    e
}

#[test]
fn replay_applies_the_lending_events_of_the_window() {
    use LendingKind::*;
    let dir = tempfile::tempdir().unwrap();
    let ds = dataset(dir.path());
    ok(&shortfall(&["positions", "--dataset", s(&ds), "--at", "8"]));
    // The window's events, in a dataset of their own.
    let wds = dir.path().join("window");
    let mut supply = day_ev(100, 3600, Supply, "carl", "ETH");
    supply.amount = Some("5".parse().unwrap());
    let mut borrow = day_ev(101, 3700, Borrow, "carl", "DAI");
    borrow.amount = None;
    borrow.amount_raw = Some(400 * E18);
    let mut repay = day_ev(102, 3800, Repay, "alice", "DAI");
    repay.amount = Some("600".parse().unwrap());
    let unknown_asset = day_ev(103, 3900, Supply, "alice", "WBTC");
    let mut unknown_market = day_ev(104, 4000, Borrow, "bob", "DAI");
    unknown_market.market = "0xother".into();
    let mut observed = day_ev(105, 4100, Liquidation, "bob", "DAI");
    observed.collateral_asset = Some("ETH".into());
    let index_update = index(106, 0, 86_400 + 4200, "ETH", RAY, RAY);
    let before = day_ev(107, -3600, Supply, "alice", "ETH");
    let mut events = vec![
        supply,
        borrow,
        repay,
        unknown_asset,
        unknown_market,
        observed,
        index_update,
        before,
    ];
    events.sort_by(|a, b| a.cmp_order(b));
    let mut d = Dataset::open_or_new(&wds).unwrap();
    d.add(events, vec![source("lending_events")]).unwrap();
    d.commit().unwrap();

    let prices = repo().join("datasets/crises/black-thursday-2020");
    let sc = dir.path().join("sc.toml");
    std::fs::write(
        &sc,
        format!(
            r#"name = "book-changes"
[window]
start = "2020-03-12 00:00"
end = "2020-03-13 00:00"
[datasets]
prices = "{}"
positions = "{}"
lending_events = "{}"
[market]
venues = ["coinapi"]
[policy]
preset = "aave_v2"
[policy.assets.ETH]
liquidation_threshold = 0.825
liquidation_bonus = 1.05
[policy.assets.DAI]
liquidation_threshold = 0.77
liquidation_bonus = 1.05
[oracle.default]
source = "market"
mode = "direct"
"#,
            s(&prices).replace('\\', "/"),
            s(&ds).replace('\\', "/"),
            s(&wds).replace('\\', "/")
        ),
    )
    .unwrap();
    let reports = dir.path().join("reports");
    let out = ok(&shortfall(&[
        "--reports-dir",
        s(&reports),
        "replay",
        "--scenario",
        s(&sc),
        "--no-report",
    ]));
    assert!(
        out.contains("lending events    4 applied (1 between the snapshot and the window, at its start), 3 not applied (observed_only 1, unknown_asset 1, unknown_market 1)"),
        "{out}"
    );
    let run_dir = PathBuf::from(out.lines().next().unwrap());
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("summary.json")).unwrap()).unwrap();
    let c = &summary["lending_events"];
    // Alice's supply of 2020-03-11 23:00 is after the snapshot (block 8,
    // 2020-03-11 00:11:40) and before the window: applied at its start.
    assert_eq!(c["total"], 7, "{c}");
    assert_eq!(c["applied"], 4, "{c}");
    assert_eq!(c["before_window"], 1, "{c}");
    assert_eq!(c["new_positions"], 1, "{c}");
    assert_eq!(c["clamped"], 0, "{c}");
    assert_eq!(c["applied_by_kind"]["supply"], 2, "{c}");
    assert_eq!(summary["positions"], 3);
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("run.json")).unwrap()).unwrap();
    assert!(
        run["input_hashes"]["lending_events/manifest.json"].is_string(),
        "{run}"
    );
    // The log holds the four changes, in chain order (the catch-up first).
    let data = shortfall_store::read_run(&run_dir).unwrap();
    let changes: Vec<(String, String, String, String)> = data
        .events
        .iter()
        .filter(|e| e.kind == shortfall_core::run::EventKind::BookChange)
        .map(|e| {
            (
                e.account.clone().unwrap(),
                e.asset.clone().unwrap(),
                e.amount.unwrap().to_string(),
                e.reason.unwrap().as_str().to_string(),
            )
        })
        .collect();
    let row = |a: &str, b: &str, c: &str, d: &str| {
        (a.to_string(), b.to_string(), c.to_string(), d.to_string())
    };
    assert_eq!(
        changes,
        [
            row("alice", "ETH", "1", "supply"),
            row("carl", "ETH", "5", "supply"),
            row("carl", "DAI", "400", "borrow"),
            row("alice", "DAI", "-600", "repay"),
        ]
    );
    // The report says so.
    ok(&shortfall(&["report", s(&run_dir)]));
    let report = std::fs::read_to_string(run_dir.join("report.json")).unwrap();
    assert!(
        report.contains("3 lending events applied during the window")
            && report.contains("and 1 between the book's snapshot and the window"),
        "{report}"
    );
}
