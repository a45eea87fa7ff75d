//! Benchmark: 1,000,000 generated perpetual positions (one instrument,
//! $5B open interest, 55% of accounts long, the generator's default
//! leverage mix capped by the Binance 2021 tiers, 10% cross) through a
//! 24-hour one-minute path: noise, a -20% crash over 30 minutes at 10:00,
//! then a partial recovery (+10% over two hours).
//!
//! `cargo bench -p shortfall-replay --bench perp` (env `SF_BENCH_POSITIONS`
//! for the book size, `SF_BENCH_PRESET=hyperliquid` for the other preset).
//! Settings marked "assumption" are not venue figures.

/// The binary's allocator (see the workspace's Cargo.toml).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use shortfall_core::{Micros, PriceBar, Wad};
use shortfall_replay::perp::{
    generate_perp_book, replay, PerpBookSpec, PerpConfig, PerpInstrumentSpec, PerpPreset,
};

const T0: i64 = 1_700_000_000 - 1_700_000_000 % 86_400;
const MINUTES: i64 = 24 * 60;

fn path() -> Vec<PriceBar> {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut p = 50_000.0f64;
    let mut out = Vec::with_capacity(MINUTES as usize);
    for m in 0..MINUTES {
        let shock: f64 = rng.gen_range(-1.0..1.0) * 0.001;
        let drift = if (600..630).contains(&m) {
            // -20% over 30 minutes: 0.8^(1/30) - 1 per minute
            -0.007_411
        } else if (630..750).contains(&m) {
            0.000_795
        } else {
            0.0
        };
        p *= 1.0 + shock + drift;
        for (venue, k) in [("binance", 1.0), ("okx", 1.0002), ("bybit", 0.9998)] {
            let wv = Wad(((p * k * 1e6).round() as i128) * 1_000_000_000_000);
            out.push(PriceBar::flat(
                Micros::from_secs(T0 + m * 60),
                venue,
                "BTC",
                "USDT",
                60,
                wv,
            ));
        }
    }
    out
}

fn main() {
    let n: u32 = std::env::var("SF_BENCH_POSITIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let hl = std::env::var("SF_BENCH_PRESET").as_deref() == Ok("hyperliquid");
    let mut cfg = PerpConfig::preset(if hl {
        PerpPreset::Hyperliquid
    } else {
        PerpPreset::Binance2021
    });
    cfg.collateral.insert(
        "USDT".into(),
        toml::from_str("price = \"fixed\"\nvalue = 1\n").expect("rule"),
    );
    // Assumptions: fee 0.5%, fund $20M, book depth $150M per side
    // recovering in 30 minutes.
    cfg.liquidation_fee_rate = Some(Wad(5_000_000_000_000_000));
    cfg.insurance_fund_usd = Wad::from_int(20_000_000);
    cfg.liquidity.depth_usd = Wad::from_int(150_000_000);
    cfg.liquidity.recovery_secs = 1_800;
    let tiers = cfg.tiers_for("BTCUSDT").expect("tiers");

    let t = Instant::now();
    let prices = path();
    println!(
        "prices: {} bars (3 venues, 1440 minutes) in {:.2?}",
        prices.len(),
        t.elapsed()
    );
    let mut spec = PerpBookSpec::new(
        n,
        vec![PerpInstrumentSpec {
            instrument: "BTCUSDT".into(),
            start_price: Wad::from_int(50_000),
            open_interest_usd: Wad::from_int(5_000_000_000),
        }],
    );
    spec.long_share = 0.55;
    spec.cross_share = 0.1;
    let t = Instant::now();
    let book = generate_perp_book(&spec, 42, Some(&tiers)).expect("book");
    println!(
        "book: {} positions generated in {:.2?}",
        book.len(),
        t.elapsed()
    );

    let start = Micros::from_secs(T0 + 60);
    let end = Micros::from_secs(T0 + MINUTES * 60);
    let t = Instant::now();
    let out = replay(&cfg, start, end, &prices, &[], &book, false).expect("replay");
    let secs = t.elapsed().as_secs_f64();
    let tt = &out.totals;
    println!(
        "engine ({}): {} positions x {} minutes in {:.2} s; {} events, {} evaluations, {} liquidations, {} partial, {} bankruptcies, {} ADL fills ({} accounts deleveraged), {} backstop takeovers",
        if hl { "hyperliquid" } else { "binance_2021" },
        n,
        MINUTES,
        secs,
        tt.events,
        tt.evaluations,
        tt.liquidations,
        tt.partial_liquidations,
        tt.bankruptcies,
        tt.adl_events,
        tt.deleveraged_accounts,
        tt.backstop_takeovers
    );
    let wf = &out.waterfall;
    println!(
        "liquidated notional {} USD; insurance fund {} -> {} (min {}); waterfall: trader equity {}, fees {}, shortfall {} = fund {} + backstop {} + ADL {} + socialised {} + unabsorbed {}; ledger residual {}",
        tt.liquidated_notional_usd,
        tt.insurance_fund_start_usd,
        tt.insurance_fund_end_usd,
        tt.insurance_fund_min_usd,
        wf.trader_equity_usd,
        wf.liquidation_fees_usd,
        wf.shortfall_usd,
        wf.insurance_fund_usd,
        wf.backstop_usd,
        wf.adl_usd,
        wf.socialised_usd,
        wf.unabsorbed_usd,
        out.ledger.residual_usd
    );
}
