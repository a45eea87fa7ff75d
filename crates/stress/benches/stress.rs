//! Benchmark: 1,000 simulated paths (block bootstrap, 1 h blocks) of a
//! 100,000-position book over a 24-hour horizon through one crisis pack
//! (default `compound-dai-2020-11-26`: real ETH prices, the DAI oracle
//! spike, Compound v2 rules), on all cores, then a subset on 1 and on 2
//! threads for the scaling. Checks that the rows do not depend on the
//! thread count; prints paths per second and the VaR / ES of bad debt.
//!
//! `cargo bench -p shortfall-stress --bench stress`; env `SF_BENCH_CRISIS`,
//! `SF_BENCH_ACCOUNTS`, `SF_BENCH_PATHS`, `SF_BENCH_HORIZON_SECS`,
//! `SF_BENCH_MODEL` (`bootstrap` or `gaussian`), `SF_BENCH_SUBSET` (paths
//! of the scaling runs).

use std::path::Path;
use std::time::Instant;

use shortfall_core::{OracleRound, PriceBar};
use shortfall_replay::simulate::Model;
use shortfall_replay::{ReplayInput, Scenario};
use shortfall_store::Dataset;
use shortfall_stress::{distribution, run_paths, Params, Stress};
use shortfall_sweep::Crisis;

fn env<T: std::str::FromStr>(k: &str, d: T) -> T {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

fn main() {
    assert!(
        !shortfall_replay::verifies_estimates(),
        "built with the test-only feature verify-estimates: run the benchmark with -p"
    );
    let crisis: String = env("SF_BENCH_CRISIS", "compound-dai-2020-11-26".to_string());
    let accounts: u32 = env("SF_BENCH_ACCOUNTS", 100_000);
    let paths: u32 = env("SF_BENCH_PATHS", 1_000);
    let horizon_secs: i64 = env("SF_BENCH_HORIZON_SECS", 86_400);
    let subset: u32 = env("SF_BENCH_SUBSET", 100);
    let model = match env("SF_BENCH_MODEL", "bootstrap".to_string()).as_str() {
        "gaussian" => Model::Gaussian,
        _ => Model::Bootstrap,
    };
    let pack = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../datasets/crises")
        .join(&crisis);
    let text = std::fs::read_to_string(pack.join("crisis.toml")).expect("crisis.toml");
    let sc = Scenario::from_toml_with_sets(&text, &[format!("book.generator.accounts={accounts}")])
        .expect("scenario");
    let text = toml::to_string(&sc).expect("serialises");
    let (start, end) = sc.window_micros().expect("window");
    let t = Instant::now();
    let d = Dataset::open(&pack).expect("pack");
    let mut prices: Vec<PriceBar> = d.read().expect("prices");
    // As `shortfall` loads them: bars that end in the window.
    prices.retain(|b| {
        let t = b.ts.0 + b.interval_secs * 1_000_000;
        t >= start.0 && t <= end.0
    });
    let mut oracle_rounds: Vec<OracleRound> = if d.manifest().tables.contains_key("oracle_rounds") {
        d.read().expect("oracle rounds")
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
        tool_version: "bench".into(),
        lending_events: None,
        liquidity: None,
        perp_positions: Vec::new(),
    };
    println!("{crisis}: inputs loaded in {:.2?}", t.elapsed());
    let params = |paths| Params {
        model,
        seed: 1,
        paths,
        block_secs: None,
        horizon_secs,
        horizon: format!("{horizon_secs}s"),
        fit: Default::default(),
    };
    let t = Instant::now();
    let crisis_of = || Crisis {
        source: crisis.clone(),
        text: text.clone(),
        input: input.clone(),
    };
    let stress = Stress::new(crisis_of(), params(paths)).expect("prepare");
    println!(
        "prepared (book of {accounts} positions generated once, {} model fitted once on {} steps of {}) in {:.2?}",
        model.as_str(),
        stress.fit.fit_times.len(),
        stress.fit.assets.join(", "),
        t.elapsed()
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let t = Instant::now();
    let rows = run_paths(&stress, cores, &|_| {}).expect("stress");
    let secs = t.elapsed().as_secs_f64();
    let bad: Vec<_> = rows.iter().map(|r| r.bad_debt_usd).collect();
    let liq: Vec<_> = rows.iter().map(|r| r.liquidated_volume_usd).collect();
    println!(
        "stress: {} paths x {accounts} positions over {horizon_secs} s on {cores} threads in {secs:.2} s ({:.1} paths/s)",
        rows.len(),
        rows.len() as f64 / secs
    );
    for (name, v) in [("bad debt", &bad), ("liquidated volume", &liq)] {
        let d = distribution(name, v);
        println!(
            "{name}: mean {}, VaR95 {}, ES95 {}, VaR99 {}, ES99 {}, max {}",
            d.mean, d.var95, d.es95, d.var99, d.es99, d.max
        );
    }
    let sub = Stress::new(crisis_of(), params(subset.min(paths))).expect("prepare");
    let mut per_jobs = Vec::new();
    for jobs in [1usize, 2] {
        let t = Instant::now();
        let r = run_paths(&sub, jobs, &|_| {}).expect("stress");
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(r[..], rows[..r.len()], "rows depend on the thread count");
        println!(
            "scaling: {} paths on {jobs} thread(s) in {secs:.2} s ({:.1} paths/s)",
            r.len(),
            r.len() as f64 / secs
        );
        per_jobs.push(secs);
    }
    println!(
        "speed-up 1 -> 2 threads: {:.2}x (rows identical)",
        per_jobs[0] / per_jobs[1]
    );
}
