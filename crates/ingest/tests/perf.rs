//! Throughput check (ignored by default; run with an optimised build):
//! `CARGO_PROFILE_DEV_OPT_LEVEL=3 cargo test -p shortfall-ingest --test perf -- --ignored --nocapture`

use std::fmt::Write;
use std::time::Instant;

use shortfall_ingest::{ingest_bytes, Format, IngestOptions};

/// `n` one-minute klines in the Binance archive layout, starting 2024-01-01.
pub fn synthetic_klines(n: usize) -> Vec<u8> {
    let mut s = String::with_capacity(n * 130);
    let t0: i64 = 1_704_067_200_000;
    let mut price: i64 = 4_200_000; // 42000.00 in cents
    for i in 0..n as i64 {
        let t = t0 + i * 60_000;
        let step = ((i * 7919) % 201) - 100;
        let open = price;
        let close = (price + step).max(100);
        let high = open.max(close) + 37;
        let low = open.min(close) - 41;
        price = close;
        let _ = writeln!(
            s,
            "{t},{}.{:02}000000,{}.{:02}000000,{}.{:02}000000,{}.{:02}000000,12.34567000,{},518345.12345678,{},6.10000000,256012.00000000,0",
            open / 100, open % 100, high / 100, high % 100, low / 100, low % 100, close / 100, close % 100,
            t + 59_999, 100 + i % 50
        );
    }
    s.into_bytes()
}

#[test]
#[ignore]
fn one_million_klines() {
    let bytes = synthetic_klines(1_000_000);
    let o = IngestOptions::default();
    for _ in 0..3 {
        let t = Instant::now();
        let out = ingest_bytes(
            Format::BinanceKlines,
            "BTCUSDT-1m-2024.csv",
            &bytes,
            &o,
            "perf",
        )
        .unwrap();
        let dt = t.elapsed();
        assert_eq!(out.prices.len(), 1_000_000);
        eprintln!(
            "{} rows, {} MB in {:?}: {:.2} M rows/s",
            out.prices.len(),
            bytes.len() / 1_000_000,
            dt,
            1.0 / dt.as_secs_f64()
        );
    }
}
