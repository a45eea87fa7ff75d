//! Pinned outputs: every crisis pack and shipped scenario replayed as
//! `shortfall crisis run` / `shortfall replay` load them (window filtering,
//! gas path, input hashes, tool version), with the run_id, the event log's
//! sha256 and a sha256 of every output table pinned. A refactoring of the
//! engine must leave all of them identical; a change of behaviour shows
//! here first and must be explained, never re-pinned to make the test pass.
//!
//! Reads parquet without DuckDB (`shortfall-store` without `catalog`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};
use shortfall_core::{Micros, OracleRound, PriceBar, Wad};
use shortfall_replay::{ReplayInput, RunOutput, Scenario};
use shortfall_store::Dataset;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets")
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// What the CLI records of a table read (`record_inputs` of `shortfall replay`).
fn record_inputs(d: &Dataset, table: &str, hashes: &mut BTreeMap<String, String>) {
    if let Some(t) = d.manifest().tables.get(table) {
        hashes.insert(table.to_string(), t.sha256.clone());
    }
    let bytes = std::fs::read(d.dir().join("manifest.json")).unwrap();
    hashes.insert(format!("{table}/manifest.json"), sha256_hex(&bytes));
    for s in d.manifest().sources.iter().filter(|s| s.table == table) {
        hashes.insert(format!("{table}/source/{}", s.file), s.sha256.clone());
    }
}

/// One point of a pack's `gas.json`.
#[derive(serde::Deserialize)]
struct GasPoint {
    ts: String,
    gwei: Wad,
}

/// Loads a scenario's inputs the way `shortfall replay` does (the shipped
/// scenarios use prices, oracle rounds and gas only).
fn load(scenario: &Path) -> (Scenario, ReplayInput) {
    let text = std::fs::read_to_string(scenario).unwrap();
    let sc = Scenario::from_toml(&text).unwrap();
    let dir = scenario.parent().unwrap();
    let (start, end) = sc.window_micros().unwrap();
    let ds = &sc.datasets;
    assert!(
        ds.positions.is_none()
            && ds.lending_events.is_none()
            && ds.liquidity.is_none()
            && ds.perp_positions.is_none(),
        "{}: a dataset this test does not load",
        scenario.display()
    );
    let mut input_hashes = BTreeMap::new();
    let d = Dataset::open(&dir.join(ds.prices.as_ref().unwrap())).unwrap();
    record_inputs(&d, "prices", &mut input_hashes);
    let mut prices: Vec<PriceBar> = d.read().unwrap();
    prices.retain(|b| {
        let t = b.ts.0 + b.interval_secs * Micros::PER_SEC;
        t >= start.0 && t <= end.0
    });
    let mut oracle_rounds: Vec<OracleRound> = Vec::new();
    if let Some(r) = &ds.oracle_rounds {
        let d = Dataset::open(&dir.join(r)).unwrap();
        record_inputs(&d, "oracle_rounds", &mut input_hashes);
        oracle_rounds = d.read().unwrap();
        oracle_rounds.retain(|o| o.ts <= end);
    }
    let gas = ds.gas.as_ref().map(|g| {
        let bytes = std::fs::read(dir.join(g)).unwrap();
        input_hashes.insert("gas".to_string(), sha256_hex(&bytes));
        let points: Vec<GasPoint> = serde_json::from_slice(&bytes).unwrap();
        let mut path: Vec<(Micros, Wad)> = points
            .iter()
            .map(|p| (Micros::parse(&p.ts).unwrap(), p.gwei))
            .collect();
        path.sort_by_key(|x| x.0);
        path
    });
    let input = ReplayInput {
        prices,
        oracle_rounds,
        book: Default::default(),
        gas,
        input_hashes,
        tool_version: format!("shortfall {}", env!("CARGO_PKG_VERSION")),
        lending_events: None,
        liquidity: None,
        perp_positions: Vec::new(),
    };
    (sc, input)
}

/// sha256 of a table: one JSON line per row.
fn table<T: Serialize>(rows: &[T]) -> String {
    let mut h = Sha256::new();
    for r in rows {
        h.update(serde_json::to_vec(r).unwrap());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// The pinned figures of a run, one `name value` line each.
fn digest(out: &RunOutput) -> String {
    let mut lines = vec![
        format!("run_id {}", out.run_meta.run_id),
        format!("event_log_sha256 {}", out.run_meta.event_log_sha256),
        format!("events {}", table(&out.events)),
        format!("liquidations {}", table(&out.liquidations)),
        format!("loans {}", table(&out.loans)),
        format!("series {}", table(&out.series)),
        format!("summary {}", table(std::slice::from_ref(&out.summary))),
        format!("run_meta {}", table(std::slice::from_ref(&out.run_meta))),
    ];
    if let Some(p) = &out.perp {
        lines.push(format!("perp {}", table(std::slice::from_ref(p))));
    }
    lines.join("\n")
}

/// The pinned digests, by scenario file (relative to `datasets/`).
const PINNED: &[(&str, &str)] = &[
    ("crises/black-thursday-2020/crisis.toml", "run_id bf4b8bd5cb7599be\nevent_log_sha256 d528150079a43b611fda028a50b41f9445c896ba7dbc48ced7637ff269cf48b1\nevents d528150079a43b611fda028a50b41f9445c896ba7dbc48ced7637ff269cf48b1\nliquidations 2e7d7e7b6f41e94ef74478820d55df600ed3fd83adea30c4aad3a59722bec4d1\nloans 0f7d3d310ee96c6554b3afa97693b03df63e5859abe481a23e2e28ea6ba47643\nseries e94030804ce64178980f11c6c2a706573f78d4e50d903b075f6b8ae0baf463cd\nsummary 0249122f8e6a35c8a6557d501e9ad12caca484cab9cd4afd80876201a49f7b1f\nrun_meta 42bc10b96c53b5dfe348d7eb3f6716ee4c14b12bdaccb3f785f8463dbee65191"),
    ("crises/compound-dai-2020-11-26/crisis.toml", "run_id 5cf057bba5b0e1ec\nevent_log_sha256 22ca95a08514e0081132a3ccf1330f5dcdbbb26147c320dd2844d9a6388267bd\nevents 22ca95a08514e0081132a3ccf1330f5dcdbbb26147c320dd2844d9a6388267bd\nliquidations 08147736b54e012309200b6416adf9d1aa628a2993a85dfa57c8156e3c822004\nloans 6bf55ec7be7321257698a43e0678c63232ad140d64b3a2dfa9386e2215932caa\nseries cea9e2f41f47b65e64441d04a2f78fe96a099261f217a7af46dba43a8b83a817\nsummary 8671cb5902ef381b65fc242095b5c05cea448e892d47b3a7c337da34cdad3910\nrun_meta 4d1463cd871ed8e69a112ce094a945086f371aec62ebf4cd90b8495467fea0f1"),
    ("crises/luna-2022-05/crisis.toml", "run_id b975907a71acc791\nevent_log_sha256 6d6a569cd926f59dff84144400352c933ba37e58ebe69e7625aa26e43e8f301d\nevents 6d6a569cd926f59dff84144400352c933ba37e58ebe69e7625aa26e43e8f301d\nliquidations 30ee0392df006fc07b8efefeb07c3598944a0dbbb42b4760641b43edaca8a2b5\nloans 5d10a1d47c3a642e2b1ae8da37c05e1f06ba691b05277ed624d7ca54d0d703f7\nseries 97d9cc3c9200630080d6c62984c6183c141fb887d2763e7a9a13ed34eb4c9169\nsummary b0b956dc87ed5207eeab6a27b164c11198b91b939cb5a2bae5d76a44e2fe9754\nrun_meta ccf532ce2f24a82d8cd2d72c82321ee6ea873428be1bb19b8ff4d3d4cb9385d7"),
    ("crises/usdc-depeg-2023-03/crisis.toml", "run_id ef615cf7a5ec1ec2\nevent_log_sha256 2f20da799fa085be94102494554103c720b35ff667ec6d9ded0d96d20622a6f0\nevents 2f20da799fa085be94102494554103c720b35ff667ec6d9ded0d96d20622a6f0\nliquidations 9b834c7a24f2499cc384a195ccfcec6ae880a812737704375de4cf15f8296fd8\nloans 4898c9c7fe3562dbc1099f56b6dbc63b59e16bdc8706894e0caa73f63e28e364\nseries 4be5312fdfb003dc74660ef19badd61585f39f702b927f16dab7ae61ea0744d9\nsummary c8a9e6728b3b26e835b3c80daf3a3d24ca10ae4743af254401e2626d3796548c\nrun_meta 46514c93e2fe01e01237f964057fba3fae42f3dbf7d9ed52e258ef33df4cf6cd"),
    ("crises/usde-2025-10-10/crisis.toml", "run_id 4d3d06a40c056da6\nevent_log_sha256 9a90693d6619b8f611a68a1532b4b95359b84293ef546949f249214e1583278c\nevents 9a90693d6619b8f611a68a1532b4b95359b84293ef546949f249214e1583278c\nliquidations a399ba3dedc93903c9ed22312b6a8f3737b7c58b5edd87eac8e5503251dd3af5\nloans ff1cd9988c62f059cee04a8b0352a51a454b48853d36baead5ef8de79bbb7c43\nseries 1e61cd53f82a9aba80b0df67c274c7e98679c12561bbe6b6cf9443c5de4c9ef8\nsummary 105130c3684c0dd6b21c3ddc8db633a09e62ee1280e9eb07bb0a847e7f7521ec\nrun_meta b8cfb9275bdafba2202c6bc592c24297c9b2c8fa574242de1d733106443b857a"),
    ("scenarios/black-thursday-aave-v3.toml", "run_id 750562ccb473d56e\nevent_log_sha256 e16b920e57e926e624f8bda28d46627dd6c44872eecfaa3689269e30d04134a9\nevents e16b920e57e926e624f8bda28d46627dd6c44872eecfaa3689269e30d04134a9\nliquidations 62f317b10ce6d5d995790350c799b91488ccccd7989f57a946753eba86237412\nloans 6a092e824736a364175f353c94f51d43cc67b458fa3012ebfa68c082859a2ac2\nseries 760d2ec491cdf6a59bf5af758252fc3cd087b8650935f340685c4d1265235a34\nsummary 2eba7fdfbe8884c2f2d7a2ee869b32d70dba8ec1048cbf07af0bb57e522a1771\nrun_meta b3ec12daf76f24709343cdcfdcc2707fdd8b84dc13c916fd60194e2a0d475feb"),
    ("scenarios/black-thursday-faster.toml", "run_id 2f3456de524ca901\nevent_log_sha256 d9b3c4f5db7cbf6062a2aab8488bd30b838cd5ec1c5becf0719c5ab8d81b6823\nevents d9b3c4f5db7cbf6062a2aab8488bd30b838cd5ec1c5becf0719c5ab8d81b6823\nliquidations 1bd2b7f4751e2a36064f5d026eae85b022550f0246d8d3f929e238d691256229\nloans 58126bf888e5576df544c7f9dcc6e64328743fc106b0092b4343f50a0a8a3b1a\nseries 167adcce673fb98c5d323628e12b9001f59f184069a49ddfdea9076e27d4d28a\nsummary 6226afddf0760037eabbd546822ebb01a102f29839e921e75cf51fad2a0ef9fa\nrun_meta 48ee726abc44959829f94c4c455374a827eb0fd72408f99a74f465643378fcf5"),
    ("scenarios/luna-perps-2022-05.toml", "run_id 8cf9307dc7ef87f5\nevent_log_sha256 c992c54443c83dd73a290f1b78e0809458f1798398279d7fb8d467a8d5aadc7b\nevents c992c54443c83dd73a290f1b78e0809458f1798398279d7fb8d467a8d5aadc7b\nliquidations e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nloans e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nseries 1503272c806e07ce5e5b29391764269e6bf5ee5052002858d185b37de03249e9\nsummary c3f19a78d470ee593c6095b6b235f2fc62184fb1b7a963d9defd5e89bf60bfb4\nrun_meta 4e9438a2898782b5fba4beac153fb3f0827fd54989304d2232db8472374ef132\nperp ee11f6318d48a34f1d48e5a284b50946510996725042df96d46d0021707c0dd6"),
];

#[test]
fn every_pack_and_shipped_scenario_replays_to_its_pinned_outputs() {
    let mut files: Vec<String> = Vec::new();
    for e in std::fs::read_dir(root().join("crises")).unwrap() {
        let p = e.unwrap().path();
        if p.join("crisis.toml").is_file() {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            files.push(format!("crises/{name}/crisis.toml"));
        }
    }
    for e in std::fs::read_dir(root().join("scenarios")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        if name.ends_with(".toml") {
            files.push(format!("scenarios/{name}"));
        }
    }
    files.sort();
    assert!(files.len() >= 8, "{files:?}");
    assert!(files.iter().any(|f| f.contains("perp")), "no perp replay");
    let pinned: BTreeMap<&str, &str> = PINNED.iter().copied().collect();
    let mut moved = Vec::new();
    for f in &files {
        let (sc, input) = load(&root().join(f));
        let out = shortfall_replay::run(&sc, &input).unwrap();
        if f.contains("perp") {
            assert!(out.perp.is_some(), "{f}: no perp outputs");
        }
        let got = digest(&out);
        // The line to pin, printed with `--nocapture`.
        println!("(\"{f}\", \"{}\"),", got.replace('\n', "\\n"));
        if pinned.get(f.as_str()) != Some(&got.as_str()) {
            moved.push(f.clone());
        }
    }
    assert_eq!(
        pinned.len(),
        files.len(),
        "a scenario without pinned figures"
    );
    assert!(moved.is_empty(), "outputs moved: {moved:?}");
}
