//! `shortfall bench ingest`: our kline ingest against DuckDB's generic
//! CSV-to-parquet path on the same generated file. `shortfall bench report`:
//! the report of a synthetic run of a million positions.

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
        BenchCommand::Report { positions, repeat } => report(positions, repeat.max(1)),
        BenchCommand::Logs { logs, repeat } => logs_bench(_g, logs, repeat.max(1)),
    }
}

/// `bench logs`: N synthetic logs through `ingest --format cryo-logs`.
fn logs_bench(g: &Global, n: u64, repeat: usize) -> anyhow::Result<ExitCode> {
    use shortfall_ingest::chain::{
        ingest_logs, synth, BlockTimes, ChainOptions, LogFormat, Registry,
    };
    let pool = "0x7d2768dE32b0b80b7a3454c06BdAc94A69DDc7A9";
    let ctoken = "0x4Ddc2D193948926D02f9B1fE9e1daa0718270ED5";
    let feed = "0x00000000000000000000000000000000000000fe";
    let mut reg = Registry::default();
    reg.add_contracts_file(&g.data_dir.join("chain/contracts.toml"))?;
    reg.add_token_list_file(&g.data_dir.join("chain/tokens.json"))?;
    reg.add_contracts_toml(
        &format!("[[contracts]]\naddress = \"{feed}\"\nrole = \"chainlink_aggregator\"\nfeed = \"chainlink:ETH/USD\"\nbase = \"ETH\"\nquote = \"USD\"\ndecimals = 8\n"),
        "bench",
    )?;
    let assets: Vec<_> = ["WETH", "USDC", "DAI", "WBTC", "LINK", "AAVE"]
        .iter()
        .filter_map(|s| {
            reg.tokens
                .iter()
                .find(|(_, t)| t.symbol == *s)
                .map(|(a, _)| *a)
        })
        .collect();
    anyhow::ensure!(
        !assets.is_empty(),
        "the token list has none of the bench assets"
    );
    let t = Instant::now();
    let bytes = synth::cryo_parquet(n, pool.parse()?, ctoken.parse()?, feed.parse()?, &assets)?;
    let gen = t.elapsed();
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("logs.parquet");
    std::fs::write(&file, &bytes)?;
    let mut blocks = BlockTimes::default();
    blocks.read("blocks.csv", synth::blocks_csv(n).as_bytes())?;
    println!(
        "{n} synthetic logs: cryo parquet of {:.1} MB generated in {gen:.2?}",
        bytes.len() as f64 / 1e6
    );
    let (mut best_decode, mut best_write) = (Duration::MAX, Duration::MAX);
    let mut rows = (0, 0);
    for r in 0..repeat {
        let t = Instant::now();
        let out = ingest_logs(
            LogFormat::Cryo,
            std::slice::from_ref(&file),
            &blocks,
            &reg,
            &ChainOptions::default(),
            "bench",
        )?;
        let decode = t.elapsed();
        rows = (out.events.len(), out.rounds.len());
        let t = Instant::now();
        let mut ds = Dataset::open_or_new(&dir.path().join(format!("ds{r}")))?;
        ds.add(out.events, out.event_sources)?;
        ds.add(out.rounds, out.round_sources)?;
        ds.commit()?;
        let write = t.elapsed();
        best_decode = best_decode.min(decode);
        best_write = best_write.min(write);
    }
    let per_s = |d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "read + decode + order: {best_decode:.2?} ({:.0} logs/s) -> {} lending_events, {} oracle_rounds",
        per_s(best_decode),
        rows.0,
        rows.1
    );
    println!("dataset write (parquet, manifest): {best_write:.2?}");
    println!(
        "total: {:.2?} ({:.0} logs/s), best of {repeat}",
        best_decode + best_write,
        per_s(best_decode + best_write)
    );
    Ok(ExitCode::SUCCESS)
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

/// xorshift64: deterministic draws for synthetic data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A synthetic run of `n` positions: 2% non-performing, 10% liquidated
/// (1 to 3 liquidations each by 500 liquidators), 7 days of hourly series
/// for 20 assets. Only for timing the report; the figures mean nothing.
pub fn synthetic_run(n: usize) -> shortfall_core::run::RunOutput {
    use shortfall_core::run::*;
    use shortfall_core::{BookOrigin, Micros, Wad};
    let usd = |dollars: u64| Wad::from_int(dollars as i64);
    let t0 = Micros::parse("2022-05-07").unwrap();
    let hour = 3600 * Micros::PER_SEC;
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let assets: Vec<String> = (0..20).map(|i| format!("ASSET{i:02}")).collect();
    let mut loans = Vec::with_capacity(n);
    let mut liqs = Vec::new();
    let (mut bad, mut debt_total, mut repaid_total) = (Wad::ZERO, Wad::ZERO, Wad::ZERO);
    let mut npl = 0u64;
    let mut liquidated = 0u64;
    for i in 0..n {
        let debt = usd(1_000 + rng.below(200_000));
        debt_total += debt;
        let roll = rng.below(100);
        let (status, shortfall, nliq) = match roll {
            0..=1 => (
                LoanStatus::NonPerforming,
                usd(1 + rng.below(50_000)),
                1 + rng.below(3),
            ),
            2..=11 => (LoanStatus::Liquidated, Wad::ZERO, 1 + rng.below(3)),
            _ => (LoanStatus::Performing, Wad::ZERO, 0),
        };
        let account = format!("0x{:040x}", i as u128 * 0x9E37_79B9_7F4A_7C15);
        for k in 0..nliq {
            let ts = Micros(t0.0 + (rng.below(7 * 24 * 60) as i64) * 60 * Micros::PER_SEC);
            let repaid = usd(100 + rng.below(20_000));
            repaid_total += repaid;
            liqs.push(LiquidationRecord {
                seq: (i as u64) * 4 + k,
                ts,
                account: account.clone(),
                market: "synthetic".into(),
                mechanism: "fixed_spread".into(),
                liquidator: format!("liquidator-{}", rng.below(500)),
                collateral_asset: assets[rng.below(20) as usize].clone(),
                debt_asset: "USDC".into(),
                debt_repaid: repaid,
                collateral_seized: repaid,
                protocol_fee: Wad::ZERO,
                repaid_usd: repaid,
                seized_usd: repaid + usd(5),
                penalty_usd: usd(5),
                sale_proceeds_usd: repaid,
                slippage_usd: Wad::ZERO,
                gas_usd: usd(3),
                health_before: Some(Wad::parse_decimal("0.97", false).unwrap()),
                health_after: Some(Wad::parse_decimal("1.02", false).unwrap()),
            });
        }
        if status == LoanStatus::NonPerforming {
            npl += 1;
            bad += shortfall;
        }
        if status == LoanStatus::Liquidated {
            liquidated += 1;
        }
        loans.push(LoanOutcome {
            account,
            market: "synthetic".into(),
            status,
            initial_collateral_usd: debt + debt,
            initial_debt_usd: debt,
            final_collateral_usd: debt,
            final_debt_usd: debt,
            repaid_usd: Wad::ZERO,
            seized_usd: Wad::ZERO,
            penalty_usd: Wad::ZERO,
            written_off_usd: Wad::ZERO,
            shortfall_usd: shortfall,
            liquidations: nliq as u32,
            min_health: Some(Wad::ONE),
            final_health: Some(Wad::ONE),
            first_liquidatable: (nliq > 0).then_some(Micros(t0.0 + hour)),
            last_blocked: None,
            attribution: Attribution {
                price_gap_usd: shortfall,
                ..Attribution::default()
            },
        });
    }
    liqs.sort_by_key(|l| (l.ts, l.seq));
    let mut series = Vec::new();
    let mut cum = Wad::ZERO;
    for h in 1..=168i64 {
        cum += Wad(bad.0 / 168);
        for a in &assets {
            series.push(SeriesPoint {
                ts: Micros(t0.0 + h * hour),
                asset: a.clone(),
                market_price: Some(usd(100 + rng.below(10))),
                oracle_price: Some(usd(100 + rng.below(10))),
                liquidated_usd: usd(rng.below(1_000_000)),
                cum_bad_debt_usd: cum,
            });
        }
    }
    let summary = Summary {
        scenario: "bench-synthetic".into(),
        preset: "aave_v3".into(),
        window_start: t0,
        window_end: Micros(t0.0 + 168 * hour),
        positions: n as u64,
        book_generated: true,
        book_origin: "generated".into(),
        initial_debt_usd: debt_total,
        bad_debt_usd: bad,
        npl_count: npl,
        npl_ratio: Wad(npl as i128 * 1_000_000_000_000_000_000 / (n.max(1) as i128)),
        liquidated_count: liquidated,
        at_risk_count: 0,
        performing_count: n as u64 - npl - liquidated,
        unpriced_count: 0,
        liquidation_count: liqs.len() as u64,
        liquidated_volume_usd: repaid_total,
        penalty_usd: usd(5 * liqs.len() as u64),
        protocol_fees_usd: Wad::ZERO,
        reserves_drawdown_usd: Wad::ZERO,
        auction_incentives_usd: Wad::ZERO,
        blocked_attempts: [("below_dust".to_string(), 12_345u64)]
            .into_iter()
            .collect(),
        waterfall: Waterfall {
            borrower_equity_usd: bad,
            liquidation_penalty_usd: usd(5 * liqs.len() as u64),
            reserves_usd: Wad::ZERO,
            socialised_usd: bad,
        },
        attribution: Attribution {
            price_gap_usd: bad,
            ..Attribution::default()
        },
        events: 0,
        lending_events: None,
        hypothetical: Vec::new(),
        perp: None,
    };
    RunOutput {
        events: Vec::new(),
        liquidations: liqs,
        loans,
        series,
        summary,
        run_meta: RunMeta {
            run_id: "bench".into(),
            version: super::tool_version(),
            seed: 1,
            resolved_config: "name = \"bench-synthetic\"\n[window]\nstart = \"2022-05-07\"\nend = \"2022-05-14\"\n[policy]\npreset = \"aave_v3\"\n[output]\nseries_bucket_secs = 3600\n".into(),
            input_hashes: Default::default(),
            event_log_sha256: String::new(),
            book_origin: BookOrigin {
                kind: "generated".into(),
                detail: "synthetic benchmark book".into(),
            },
        },
        perp: None,
    }
}

fn report(positions: usize, repeat: usize) -> anyhow::Result<ExitCode> {
    let tmp = tempfile::tempdir().context("temp dir")?;
    let dir = tmp.path().join("run");
    let t = Instant::now();
    let out = synthetic_run(positions);
    shortfall_store::write_run(&dir, &out, &["bench".to_string()])?;
    println!(
        "run: {positions} positions, {} liquidations, {} series points; written in {:.2} s",
        out.liquidations.len(),
        out.series.len(),
        t.elapsed().as_secs_f64()
    );
    drop(out);
    let templates = shortfall_report::Templates::builtin()?;
    let opts = shortfall_report::ReportOptions::default();
    let (mut read, mut build, mut render, mut total) =
        (Duration::MAX, Duration::MAX, Duration::MAX, Duration::MAX);
    let mut html_len = 0;
    let mut json_len = 0;
    for _ in 0..repeat {
        let t0 = Instant::now();
        let run = shortfall_store::read_run_without_events(&dir)?;
        let t1 = Instant::now();
        let r = shortfall_report::build_report(&run, &opts)?;
        let t2 = Instant::now();
        let html = templates.render_report(&r)?;
        let t3 = Instant::now();
        drop(run);
        let (_, w) = shortfall_report::write_report(&dir, None, &templates, &opts)?;
        let t4 = Instant::now();
        read = read.min(t1 - t0);
        build = build.min(t2 - t1);
        render = render.min(t3 - t2);
        total = total.min(t4 - t3);
        html_len = html.len();
        json_len = std::fs::metadata(&w.json)?.len() as usize;
    }
    println!(
        "read run folder (no event log): {:.3} s",
        read.as_secs_f64()
    );
    println!(
        "build report model:             {:.3} s",
        build.as_secs_f64()
    );
    println!(
        "render HTML + SVG:              {:.3} s",
        render.as_secs_f64()
    );
    println!(
        "shortfall report end to end:    {:.3} s (read, build, render, write)",
        total.as_secs_f64()
    );
    println!(
        "report.html {:.2} MB, report.json {:.2} MB",
        html_len as f64 / 1e6,
        json_len as f64 / 1e6
    );
    Ok(ExitCode::SUCCESS)
}
