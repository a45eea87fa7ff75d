//! A stress run on a crisis pack: rows independent of the thread count,
//! each row equal to the full replay of its path's scenario (the engine
//! applying the `simulated` transform itself, book resolved again), paths
//! that differ, and VaR / ES from the rows.

use std::path::Path;

use shortfall_core::{OracleRound, PriceBar};
use shortfall_replay::simulate::Model;
use shortfall_replay::{run, ReplayInput, Scenario};
use shortfall_store::Dataset;
use shortfall_stress::{distribution, run_paths, Params, Stress};
use shortfall_sweep::Crisis;

fn crisis(name: &str) -> (Crisis, ReplayInput) {
    let pack = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../datasets/crises")
        .join(name);
    let text = std::fs::read_to_string(pack.join("crisis.toml")).unwrap();
    let sc = Scenario::from_toml(&text).unwrap();
    let (start, end) = sc.window_micros().unwrap();
    let d = Dataset::open(&pack).unwrap();
    let mut prices: Vec<PriceBar> = d.read().unwrap();
    prices.retain(|b| {
        let t = b.ts.0 + b.interval_secs * 1_000_000;
        t >= start.0 && t <= end.0
    });
    let mut oracle_rounds: Vec<OracleRound> = if d.manifest().tables.contains_key("oracle_rounds") {
        d.read().unwrap()
    } else {
        Vec::new()
    };
    oracle_rounds.retain(|o| o.ts <= end);
    let input = ReplayInput {
        prices,
        oracle_rounds,
        book: Default::default(),
        gas: None,
        input_hashes: Default::default(),
        tool_version: "test".into(),
        lending_events: None,
        liquidity: None,
        perp_positions: Vec::new(),
    };
    (
        Crisis {
            source: name.into(),
            text,
            input: input.clone(),
        },
        input,
    )
}

fn params(model: Model, paths: u32) -> Params {
    Params {
        model,
        seed: 5,
        paths,
        block_secs: None,
        horizon_secs: 86_400,
        horizon: "24h".into(),
        fit: Default::default(),
    }
}

#[test]
fn rows_equal_full_replays_of_their_scenarios_whatever_the_threads() {
    for model in [Model::Bootstrap, Model::Gaussian] {
        let (c, input) = crisis("usdc-depeg-2023-03");
        let stress = Stress::new(c, params(model, 8)).unwrap();
        let one = run_paths(&stress, 1, &|_| {}).unwrap();
        let three = run_paths(&stress, 3, &|_| {}).unwrap();
        assert_eq!(one, three);
        assert_eq!(
            one.iter().map(|r| r.path).collect::<Vec<_>>(),
            (0..8).collect::<Vec<_>>()
        );
        let distinct: std::collections::BTreeSet<_> = one.iter().map(|r| r.bad_debt_usd).collect();
        assert!(distinct.len() > 2, "{model:?}: paths differ");
        for k in [0u32, 5] {
            // The path's scenario replayed from its TOML text alone.
            let sc = Scenario::from_toml(&stress.path_toml(k)).unwrap();
            let full = run(&sc, &input).unwrap();
            let r = &one[k as usize];
            assert_eq!(full.summary.bad_debt_usd, r.bad_debt_usd);
            assert_eq!(full.summary.npl_count, r.npl_count);
            assert_eq!(full.summary.liquidated_volume_usd, r.liquidated_volume_usd);
            assert_eq!(full.summary.liquidation_count, r.liquidation_count);
            assert_eq!(full.summary.penalty_usd, r.penalty_usd);
            assert_eq!(full.run_meta.run_id, r.run_id);
            assert_eq!(stress.run(k).unwrap().run_meta.run_id, r.run_id);
        }
        let d = distribution(
            "bad_debt_usd",
            &one.iter().map(|r| r.bad_debt_usd).collect::<Vec<_>>(),
        );
        let mut sorted: Vec<_> = one.iter().map(|r| r.bad_debt_usd).collect();
        sorted.sort();
        // 8 paths: VaR95 = ceil(7.6) = 8th = VaR99 = the largest.
        assert_eq!(d.var95, sorted[7]);
        assert_eq!(d.es99, sorted[7]);
    }
}

#[test]
fn a_horizon_beyond_the_window_and_no_paths_are_errors() {
    let (c, _) = crisis("usdc-depeg-2023-03");
    let mut p = params(Model::Bootstrap, 4);
    p.horizon_secs = 5 * 86_400;
    p.horizon = "5d".into();
    let e = Stress::new(c, p).err().unwrap().to_string();
    assert!(e.contains("--horizon 5d"), "{e}");
    let (c, _) = crisis("usdc-depeg-2023-03");
    let e = Stress::new(c, params(Model::Bootstrap, 0))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("--paths"), "{e}");
}
