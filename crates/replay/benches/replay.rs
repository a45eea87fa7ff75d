//! Benchmark: 1,000,000 accounts (1 to 5 collateral assets among 20), 7 days
//! of one-minute prices for the 20 assets, Aave v3 rules, frictions on; and
//! a naive evaluate-every-account-every-tick loop on a subset, extrapolated.
//!
//! `cargo bench -p shortfall-replay --bench replay` (env `SF_BENCH_ACCOUNTS`
//! to change the book size). Peak memory: `/usr/bin/time -v` on the binary.

/// The binary's allocator (see the workspace's Cargo.toml).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::BTreeMap;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use shortfall_core::{Micros, PriceBar, Wad};
use shortfall_replay::rules::aave;
use shortfall_replay::{generate_book, run, GeneratorSpec, ReplayInput, Scenario};

const T0: i64 = 1_700_000_000 - 1_700_000_000 % 86_400;
const MINUTES: i64 = 7 * 24 * 60;

fn scenario(n_assets: usize) -> String {
    let mut s = String::from(
        r#"
name = "bench"
seed = 42
[window]
start = "2023-11-14 00:00"
end = "2023-11-21 00:00"
[policy]
preset = "aave_v3"
[oracle.default]
source = "market"
mode = "push"
deviation_bps = 50
heartbeat_secs = 3600
[oracle.assets.USDC]
mode = "fixed"
peg = 1
[policy.assets.USDC]
decimals = 6
liquidation_threshold = 0.87
liquidation_bonus = 1.045
[frictions.liquidity]
model = "linear"
default_depth_usd = 5000000000
recovery_secs = 3600
price_impact = 0.2
[frictions.gas]
gwei = 40
native_asset = "A00"
[[frictions.liquidators]]
name = "fast"
latency_secs = 12
capital_usd = 2000000
gas_units = 600000
min_profit_usd = 5
[[frictions.liquidators]]
name = "medium"
latency_secs = 60
capital_usd = 10000000
gas_units = 600000
min_profit_usd = 20
[[frictions.liquidators]]
name = "whale"
latency_secs = 300
capital_usd = 50000000
gas_units = 600000
min_profit_usd = 100
"#,
    );
    for a in 0..n_assets {
        let lt = 0.70 + 0.01 * (a % 10) as f64;
        s.push_str(&format!(
            "[policy.assets.A{a:02}]\nliquidation_threshold = {lt:.2}\nliquidation_bonus = 1.06\nprotocol_fee = 0.1\n"
        ));
    }
    s
}

fn prices(n_assets: usize) -> Vec<PriceBar> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut out = Vec::with_capacity(n_assets * MINUTES as usize + MINUTES as usize);
    let mut px: Vec<f64> = (0..n_assets).map(|a| 10.0 * (1.0 + a as f64)).collect();
    for m in 0..MINUTES {
        for (a, p) in px.iter_mut().enumerate() {
            let shock: f64 = rng.gen_range(-1.0..1.0) * 0.0015;
            // crash on day 3: -35% over two hours, partial rebound on day 4
            let drift = if (3 * 1440..3 * 1440 + 120).contains(&m) {
                -0.0036
            } else if (4 * 1440..4 * 1440 + 240).contains(&m) {
                0.0008
            } else {
                0.0
            };
            *p *= 1.0 + shock + drift;
            let w = Wad(((*p * 1e9).round() as i128) * 1_000_000_000);
            out.push(bar(m, &format!("A{a:02}"), w));
        }
        out.push(bar(m, "USDC", Wad::ONE));
    }
    out
}

fn bar(m: i64, base: &str, p: Wad) -> PriceBar {
    PriceBar::flat(Micros::from_secs(T0 + m * 60), "bench", base, "USD", 60, p)
}

fn main() {
    assert!(
        !shortfall_replay::verifies_estimates(),
        "built with the test-only feature verify-estimates: run the benchmark with -p"
    );
    let n_accounts: u32 = std::env::var("SF_BENCH_ACCOUNTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let n_assets = 20;
    let sc = Scenario::from_toml(&scenario(n_assets)).expect("scenario");
    let t = Instant::now();
    let prices = prices(n_assets);
    println!("prices: {} bars in {:.2?}", prices.len(), t.elapsed());
    let names: Vec<String> = (0..n_assets).map(|a| format!("A{a:02}")).collect();
    let start: BTreeMap<String, Wad> = prices
        .iter()
        .take(n_assets + 1)
        .map(|b| (b.base.clone(), b.close))
        .collect();
    let lt: BTreeMap<String, Wad> = names
        .iter()
        .map(|a| (a.clone(), sc.asset(a).liquidation_threshold))
        .collect();
    let spec = GeneratorSpec {
        accounts: n_accounts,
        total_debt_usd: Wad::from_int(20_000_000_000),
        near_liquidation_share: Wad(100_000_000_000_000_000),
        near_hf_max: 1.15,
        max_hf: 3.0,
        collateral_assets: names.clone(),
        debt_assets: vec!["USDC".into()],
        max_collateral_assets: 5,
        size_sigma: 1.2,
        market: "bench".into(),
        calibration_lt: BTreeMap::new(),
    };
    let t = Instant::now();
    let book = generate_book(&spec, 42, &start, &lt).expect("book");
    println!(
        "book: {} accounts generated in {:.2?}",
        book.positions.len(),
        t.elapsed()
    );
    let input = ReplayInput {
        prices,
        oracle_rounds: vec![],
        book,
        gas: None,
        input_hashes: BTreeMap::new(),
        tool_version: "bench".into(),
        lending_events: None,
        liquidity: None,
        perp_positions: Vec::new(),
    };
    let t = Instant::now();
    let out = run(&sc, &input).expect("run");
    let engine_secs = t.elapsed().as_secs_f64();
    println!(
        "engine: {} accounts x {} ticks x {} assets in {:.2} s; {} events, {} liquidations, {} NPL, bad debt {} USD",
        n_accounts,
        MINUTES,
        n_assets,
        engine_secs,
        out.events.len(),
        out.liquidations.len(),
        out.summary.npl_count,
        out.summary.bad_debt_usd
    );

    println!("event_log_sha256: {}", out.run_meta.event_log_sha256);
    if std::env::var("SF_BENCH_DIGEST").as_deref() != Ok("0") {
        // Digest of every output table, to check optimisations change nothing.
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        let mut buf = Vec::with_capacity(1024);
        let mut put = |h: &mut Sha256, v: &dyn erased::Ser| {
            buf.clear();
            v.write(&mut buf);
            buf.push(b'\n');
            h.update(&buf);
        };
        for x in &out.liquidations {
            put(&mut h, x);
        }
        for x in &out.loans {
            put(&mut h, x);
        }
        for x in &out.series {
            put(&mut h, x);
        }
        put(&mut h, &out.summary);
        println!("outputs_sha256: {}", hex::encode(h.finalize()));
    }
    drop(out);

    // Naive loop: every account of a subset at every tick, exact Aave v3 HF.
    if std::env::var("SF_BENCH_NAIVE").as_deref() == Ok("0") {
        return;
    }
    let subset = 2_000usize.min(input.book.positions.len());
    let mut px_by_tick: Vec<Vec<i128>> = vec![vec![0; n_assets + 1]; MINUTES as usize];
    for (i, b) in input.prices.iter().enumerate() {
        let m = i / (n_assets + 1);
        let a = if b.base == "USDC" {
            n_assets
        } else {
            b.base[1..].parse::<usize>().unwrap()
        };
        px_by_tick[m][a] = b.close.0 / 10_000_000_000;
    }
    let legs: Vec<(Vec<(usize, i128)>, i128)> = input.book.positions[..subset]
        .iter()
        .map(|p| {
            let c = p
                .collateral
                .iter()
                .map(|(k, v)| (k[1..].parse::<usize>().unwrap(), v.0))
                .collect();
            (c, p.debt["USDC"].0 / 1_000_000_000_000)
        })
        .collect();
    let t = Instant::now();
    let mut below = 0u64;
    for prices in &px_by_tick {
        for (c, d) in &legs {
            let cl: Vec<(i128, aave::Reserve)> = c
                .iter()
                .map(|(a, x)| {
                    (
                        *x,
                        aave::Reserve {
                            price: prices[*a],
                            unit: 1_000_000_000_000_000_000,
                            lt_bps: 7000 + 100 * (*a as i128 % 10),
                            bonus_bps: 10600,
                            fee_bps: 1000,
                        },
                    )
                })
                .collect();
            let dl = [(
                *d,
                aave::Reserve {
                    price: 100_000_000,
                    unit: 1_000_000,
                    lt_bps: 8700,
                    bonus_bps: 10450,
                    fee_bps: 0,
                },
            )];
            if aave::account_data(&cl, &dl).health_factor < 1_000_000_000_000_000_000 {
                below += 1;
            }
        }
    }
    let naive_secs = t.elapsed().as_secs_f64();
    let per = naive_secs / (subset as f64 * MINUTES as f64);
    let extrapolated = per * n_accounts as f64 * MINUTES as f64;
    println!(
        "naive: {subset} accounts x {MINUTES} ticks in {naive_secs:.2} s ({:.1} ns per account-tick, {below} below-one hits); extrapolated to {n_accounts} accounts: {extrapolated:.0} s; ratio naive/engine = {:.0}x",
        per * 1e9,
        extrapolated / engine_secs
    );
}

mod erased {
    /// Object-safe JSON serialisation for the output digest.
    pub trait Ser {
        fn write(&self, out: &mut Vec<u8>);
    }
    impl<T: serde::Serialize> Ser for T {
        fn write(&self, out: &mut Vec<u8>) {
            serde_json::to_writer(out, self).expect("serialises");
        }
    }
}
