//! Benchmark: 1,000 variants of a 100,000-position book through one crisis
//! pack (default `compound-dai-2020-11-26`: real ETH prices, the DAI
//! oracle spike, Compound v2 rules), a 10 x 10 x 10 grid of liquidation
//! threshold (ten steps of 0.01 up to the pack's), bonus (ten steps of
//! 0.005 from the pack's) and liquidator capital; on all cores, then a subset on
//! 1 and on 2 threads for the scaling. Checks that the rows do not depend
//! on the thread count.
//!
//! `cargo bench -p shortfall-sweep --bench sweep`; env `SF_BENCH_CRISIS`,
//! `SF_BENCH_ACCOUNTS`, `SF_BENCH_VARIANTS` (first N of the grid),
//! `SF_BENCH_SUBSET` (variants of the scaling runs).

/// The binary's allocator (see the workspace's Cargo.toml).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::Path;
use std::time::Instant;

use shortfall_core::{OracleRound, PriceBar};
use shortfall_replay::{ReplayInput, Scenario};
use shortfall_store::Dataset;
use shortfall_sweep::{prepare, run_variants, Crisis, Grid};

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
    let subset: usize = env("SF_BENCH_SUBSET", 200);
    let pack = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../datasets/crises")
        .join(&crisis);
    let text = std::fs::read_to_string(pack.join("crisis.toml")).expect("crisis.toml");
    let sc = Scenario::from_toml_with_sets(&text, &[format!("book.generator.accounts={accounts}")])
        .expect("scenario");
    let text = toml::to_string(&sc).expect("serialises");
    let t = Instant::now();
    let d = Dataset::open(&pack).expect("pack");
    let prices: Vec<PriceBar> = d.read().expect("prices");
    let oracle_rounds: Vec<OracleRound> = if d.manifest().tables.contains_key("oracle_rounds") {
        d.read().expect("oracle rounds")
    } else {
        Vec::new()
    };
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
    let asset = sc
        .book
        .generator
        .as_ref()
        .expect("generated book")
        .collateral_assets[0]
        .clone();
    // Ten thresholds up to the pack's, ten bonuses from the pack's.
    let (lt, bonus) = (
        sc.asset(&asset).liquidation_threshold.to_f64(),
        sc.asset(&asset).liquidation_bonus.to_f64(),
    );
    let grid = Grid::parse(
        &format!(
            r#"
[[params]]
key = "policy.assets.{asset}.liquidation_threshold"
range = {{ from = {:.3}, to = {lt:.3}, step = 0.01 }}
[[params]]
key = "policy.assets.{asset}.liquidation_bonus"
range = {{ from = {bonus:.3}, to = {:.3}, step = 0.005 }}
[[params]]
key = "frictions.liquidators.0.capital_usd"
range = {{ from = 5000000, to = 50000000, step = 5000000 }}
"#,
            lt - 0.09,
            bonus + 0.045
        ),
        "bench",
    )
    .expect("grid");
    let mut variants = grid.variants();
    variants.truncate(env("SF_BENCH_VARIANTS", variants.len()));
    let t = Instant::now();
    let crises = vec![prepare(
        Crisis {
            source: crisis.clone(),
            text,
            input,
        },
        &grid,
    )
    .expect("prepare")];
    println!(
        "prepared (book of {accounts} positions generated once) in {:.2?}",
        t.elapsed()
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let t = Instant::now();
    let rows = run_variants(&crises, &variants, cores, &|_| {}).expect("sweep");
    let secs = t.elapsed().as_secs_f64();
    let bad: std::collections::BTreeSet<_> = rows.iter().map(|r| r.bad_debt_usd).collect();
    // A digest of every row: the same code and inputs give the same figure.
    let digest = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        format!("{rows:?}").hash(&mut h);
        h.finish()
    };
    println!("rows digest {digest:016x}");
    println!(
        "sweep: {} variants x {accounts} positions on {cores} threads in {secs:.2} s ({:.1} variants/s); {} distinct bad debt figures",
        rows.len(),
        rows.len() as f64 / secs,
        bad.len()
    );
    let sub = &variants[..subset.min(variants.len())];
    let mut per_jobs = Vec::new();
    for jobs in [1usize, 2] {
        let t = Instant::now();
        let r = run_variants(&crises, sub, jobs, &|_| {}).expect("sweep");
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(r[..], rows[..sub.len()], "rows depend on the thread count");
        println!(
            "scaling: {} variants on {jobs} thread(s) in {secs:.2} s ({:.1} variants/s)",
            sub.len(),
            sub.len() as f64 / secs
        );
        per_jobs.push(secs);
    }
    println!(
        "speed-up 1 -> 2 threads: {:.2}x (rows identical)",
        per_jobs[0] / per_jobs[1]
    );
}
