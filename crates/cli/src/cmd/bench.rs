//! `shortfall bench ingest`: our kline ingest against DuckDB's generic
//! CSV-to-parquet path on the same generated file.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use shortfall_ingest::{Format, IngestOptions};
use shortfall_store::catalog::{quote_literal, Catalog};
use shortfall_store::Dataset;

use crate::cli::{BenchCommand, Global};

pub fn run(_g: &Global, cmd: BenchCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCommand::Ingest { rows, repeat } => ingest(rows, repeat.max(1)),
    }
}

/// A Binance one-minute kline archive (no header, millisecond times) with a
/// deterministic random walk, `n` rows from 2022-05-01.
pub fn synthetic_klines(n: usize) -> String {
    let mut s = String::with_capacity(n * 120);
    let mut price: i64 = 78_000_000; // 78.000000, 6 decimals
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let t0: i64 = 1_651_363_200_000;
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let step = (x % 2001) as i64 - 1000; // +-0.1% in 1e-6 units of price/1000
        let open = price;
        let close = (price + price * step / 1_000_000).max(1_000);
        let high = open.max(close) + (x % 500) as i64;
        let low = (open.min(close) - (x % 300) as i64).max(1);
        price = close;
        let t = t0 + i as i64 * 60_000;
        let f = |v: i64| format!("{}.{:06}", v / 1_000_000, v % 1_000_000);
        let _ = writeln!(
            s,
            "{t},{},{},{},{},{}.{:02},{},{}.{:04},{},{}.{:02},{}.{:04},0",
            f(open),
            f(high),
            f(low),
            f(close),
            x % 10_000,
            x % 100,
            t + 59_999,
            x % 1_000_000,
            x % 10_000,
            x % 1_000,
            x % 997,
            x % 50,
            x % 500_000,
            x % 10_000
        );
    }
    s
}

fn best<F: FnMut() -> anyhow::Result<()>>(repeat: usize, mut f: F) -> anyhow::Result<Duration> {
    let mut best = Duration::MAX;
    for _ in 0..repeat {
        let t = Instant::now();
        f()?;
        best = best.min(t.elapsed());
    }
    Ok(best)
}

fn ingest(rows: usize, repeat: usize) -> anyhow::Result<ExitCode> {
    let tmp = tempfile::tempdir().context("temp dir")?;
    let csv = tmp.path().join("LUNAUSDT-1m-synthetic.csv");
    std::fs::write(&csv, synthetic_klines(rows)).context("writing the synthetic file")?;
    let mb = std::fs::metadata(&csv)?.len() as f64 / 1e6;
    println!("input: {rows} one-minute klines, {mb:.1} MB CSV");

    let ours = best(repeat, || {
        let out_dir = tmp.path().join("ours");
        let _ = std::fs::remove_dir_all(&out_dir);
        let out = shortfall_ingest::ingest_files(
            Format::BinanceKlines,
            std::slice::from_ref(&csv),
            &IngestOptions::default(),
            "bench",
        )?;
        anyhow::ensure!(
            out.prices.len() == rows,
            "ingested {} rows of {rows}",
            out.prices.len()
        );
        let mut ds = Dataset::open_or_new(&out_dir)?;
        ds.add(out.prices, out.sources)?;
        ds.commit()?;
        Ok(())
    })?;

    let cat = Catalog::in_memory()?;
    let duck = best(repeat, || {
        duckdb_copy(&cat, &csv, &tmp.path().join("duckdb.parquet"))
    })?;

    let rate = |d: Duration| rows as f64 / d.as_secs_f64();
    println!(
        "shortfall ingest (parse, validate, sort, dedupe, Decimal128 parquet + manifest): {:.3} s, {:.0} rows/s",
        ours.as_secs_f64(),
        rate(ours)
    );
    println!(
        "duckdb COPY (read_csv -> DECIMAL(38,18) -> parquet zstd):                       {:.3} s, {:.0} rows/s",
        duck.as_secs_f64(),
        rate(duck)
    );
    println!(
        "ratio shortfall/duckdb throughput: {:.2}",
        rate(ours) / rate(duck)
    );
    Ok(ExitCode::SUCCESS)
}

fn duckdb_copy(cat: &Catalog, csv: &Path, out: &Path) -> anyhow::Result<()> {
    let sql = format!(
        "COPY (SELECT make_timestamp(open_time * 1000) AS ts, 'binance' AS venue, 'LUNA' AS base, \
         'USDT' AS quote, 60::BIGINT AS interval_secs, \
         open::DECIMAL(38,18) AS open, high::DECIMAL(38,18) AS high, low::DECIMAL(38,18) AS low, \
         close::DECIMAL(38,18) AS close, volume::DECIMAL(38,18) AS volume_base, \
         quote_volume::DECIMAL(38,18) AS volume_quote, trades::BIGINT AS trades \
         FROM read_csv({}, header = false, columns = {{'open_time': 'BIGINT', 'open': 'VARCHAR', \
         'high': 'VARCHAR', 'low': 'VARCHAR', 'close': 'VARCHAR', 'volume': 'VARCHAR', \
         'close_time': 'BIGINT', 'quote_volume': 'VARCHAR', 'trades': 'BIGINT', \
         'taker_base': 'VARCHAR', 'taker_quote': 'VARCHAR', 'ignore': 'VARCHAR'}}) \
         ORDER BY ts) TO {} (FORMAT parquet, COMPRESSION zstd)",
        quote_literal(&csv.to_string_lossy()),
        quote_literal(&out.to_string_lossy())
    );
    cat.execute(&sql)?;
    Ok(())
}
