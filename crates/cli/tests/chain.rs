//! `shortfall ingest --format rpc-logs`, end to end: decoded events land in
//! the dataset with their provenance, unknown logs are listed in the
//! manifest, and missing block times stop the ingest without a trace.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn shortfall(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shortfall"))
        .args(args)
        .env_remove("SHORTFALL_DATA_DIR")
        .env_remove("SHORTFALL_REPORTS_DIR")
        .current_dir(repo())
        .output()
        .expect("run shortfall")
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(name: &str) -> String {
    repo()
        .join("crates/ingest/tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

fn out(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn rpc_logs_into_a_dataset_and_through_query() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("chain");
    let ds = ds.to_str().unwrap();
    let logs = fixture("crisis_logs.rpc.json");
    let blocks = fixture("crisis_blocks.csv");
    // The shipped contracts plus the fixture's Chainlink aggregator.
    let contracts = dir.path().join("contracts.toml");
    let shipped = std::fs::read_to_string(repo().join("datasets/chain/contracts.toml")).unwrap();
    std::fs::write(
        &contracts,
        format!(
            "{shipped}\n[[contracts]]\naddress = \"0x00000000000000000000000000000000000000fe\"\nrole = \"chainlink_aggregator\"\nfeed = \"chainlink:ETH/USD\"\nbase = \"ETH\"\nquote = \"USD\"\ndecimals = 8\nphase = 6\n"
        ),
    )
    .unwrap();
    let contracts = contracts.to_str().unwrap();
    let o = shortfall(&[
        "ingest",
        "--format",
        "rpc-logs",
        "--contracts",
        contracts,
        "--blocks",
        &blocks,
        "--dataset",
        ds,
        &logs,
    ]);
    let (so, se) = out(&o);
    assert!(o.status.success(), "{so}\n{se}");
    assert!(
        so.contains("crisis_logs.rpc.json: 17 rows read, 13 written"),
        "{so}"
    );
    assert!(so.contains("table oracle_rounds: 1 rows added"), "{so}");
    assert!(
        se.contains("2 logs not decoded (listed in the manifest)"),
        "{se}"
    );

    let manifest = std::fs::read_to_string(dir.path().join("chain/manifest.json")).unwrap();
    assert!(manifest
        .contains("unknown: address 0x00000000000000000000000000000000000000cc topic0 0x3115d144"));
    assert!(
        manifest.contains("contracts.toml sha256 "),
        "the registry is recorded"
    );

    let q = shortfall(&[
        "query", "--dataset", ds, "--format", "csv",
        "SELECT protocol, kind, asset, amount::VARCHAR AS amount, collateral_asset FROM lending_events \
         WHERE kind = 'liquidation' ORDER BY block, log_index",
    ]);
    let (qs, qe) = out(&q);
    assert!(q.status.success(), "{qe}");
    assert_eq!(
        qs,
        "protocol,kind,asset,amount,collateral_asset\n\
         aave_v2,liquidation,USDC,7500.000000000000000000,WETH\n\
         compound_v2,liquidation,USDC,1000.000000000000000000,ETH\n\
         maker,liquidation,DAI,5650.000000000000000000,ETH\n"
    );
    // Re-running changes nothing.
    let before = std::fs::read(dir.path().join("chain/lending_events.parquet")).unwrap();
    let o = shortfall(&[
        "ingest",
        "--format",
        "rpc-logs",
        "--contracts",
        contracts,
        "--blocks",
        &blocks,
        "--dataset",
        ds,
        &logs,
    ]);
    assert!(o.status.success());
    assert!(out(&o).0.contains("already in the dataset: unchanged"));
    assert_eq!(
        std::fs::read(dir.path().join("chain/lending_events.parquet")).unwrap(),
        before
    );
}

#[test]
fn unknown_block_times_stop_the_ingest_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("chain");
    let o = shortfall(&[
        "ingest",
        "--format",
        "rpc-logs",
        "--dataset",
        ds.to_str().unwrap(),
        &fixture("crisis_logs.rpc.json"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let (_, se) = out(&o);
    assert!(
        se.contains(
            "crisis_logs.rpc.json: row 4, column \"block_number\": block 102: block time unknown"
        ),
        "{se}"
    );
    assert!(!ds.exists(), "no partial dataset");
    // Options of other formats are refused, not ignored.
    let o = shortfall(&[
        "ingest",
        "--format",
        "cdd",
        "--blocks",
        "x.csv",
        "--dataset",
        ds.to_str().unwrap(),
        "f.csv",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).1.contains("apply to rpc-logs and cryo-logs only"));
}
