//! Facts about the real files in /work/shared/datasets (skipped when absent).

mod common;

use common::*;
use shortfall_core::{Micros, OracleRound, PriceBar};
use shortfall_ingest::{ingest_files, ColumnMapping, Format, IngestOptions, IngestOutput};

fn t(s: &str) -> Micros {
    Micros::parse(s).unwrap()
}

fn ingest(format: Format, rel: &str, o: &IngestOptions) -> Option<IngestOutput> {
    let p = dataset(rel)?;
    Some(ingest_files(format, &[p], o, "shortfall test").unwrap_or_else(|e| panic!("{rel}: {e}")))
}

fn min_close(p: &[PriceBar]) -> &PriceBar {
    p.iter().min_by_key(|b| b.close).unwrap()
}

fn min_answer(r: &[OracleRound]) -> &OracleRound {
    r.iter().min_by_key(|r| r.answer).unwrap()
}

fn print(out: &IngestOutput) {
    for s in &out.sources {
        eprintln!(
            "{}: read {} written {} skipped {} dedup {} rejected {}",
            s.file,
            s.rows_read,
            s.rows_written,
            s.rows_skipped,
            s.rows_deduplicated,
            s.rows_rejected
        );
    }
    for w in &out.warnings {
        eprintln!("  warning: {w}");
    }
}

#[test]
fn coinapi_eth_black_thursday() {
    let o = IngestOptions {
        venue: Some("coinapi".into()),
        base: Some("ETH".into()),
        quote: Some("USD".into()),
        ..opts()
    };
    let Some(out) = ingest(
        Format::CoinapiJson,
        "market/ethusd_10m_2020-03-12.coinapi.json",
        &o,
    ) else {
        return;
    };
    print(&out);
    assert_eq!(out.prices.len(), 144);
    assert_eq!(out.prices.iter().map(|b| b.low).min(), Some(w("101.01")));
    assert_eq!(out.prices.iter().map(|b| b.high).max(), Some(w("195.43")));
    assert_eq!(out.prices[0].ts, t("2020-03-12 00:00"));
    assert_eq!(out.prices[143].ts, t("2020-03-12 23:50"));
    assert!(out.prices.iter().all(|b| b.interval_secs == 600));
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    assert_eq!(
        out.sources[0].sha256,
        "cec12f1f57a06e5832d862199ca9b6a7106f5fd1a34c8d0962867a26aa3fbf2e"
    );
    assert_eq!(out.sources[0].bytes, 59264);
}

#[test]
fn coinapi_dai_premium() {
    let o = IngestOptions {
        venue: Some("coinapi".into()),
        base: Some("DAI".into()),
        quote: Some("USD".into()),
        ..opts()
    };
    let Some(out) = ingest(
        Format::CoinapiJson,
        "market/daiusd_10m_2020-03-12.coinapi.json",
        &o,
    ) else {
        return;
    };
    assert_eq!(out.prices.len(), 144);
    assert_eq!(out.prices.iter().map(|b| b.high).max(), Some(w("1.126447")));
    assert_eq!(out.prices.iter().map(|b| b.low).min(), Some(w("1.0081")));
}

#[test]
fn binance_luna_crash_and_relaunch() {
    let Some(out) = ingest(
        Format::BinanceKlines,
        "market/binance_spot_lunausdt_1m_2022-05.csv",
        &opts(),
    ) else {
        return;
    };
    print(&out);
    assert_eq!(out.prices.len(), 18400);
    let m = min_close(&out.prices);
    assert_eq!((m.close, m.ts), (w("0.00004"), t("2022-05-13 00:37")));
    assert!(out.prices.iter().all(|b| b.interval_secs == 60
        && b.base == "LUNA"
        && b.quote == "USDT"
        && b.venue == "binance"));
    assert!(out.warnings.iter().any(|w| w.contains("relisting")
        && w.contains("2022-05-13 00:39:00")
        && w.contains("2022-05-31 06:00:00")));
    // Cutting at the halt leaves 17,320 bars of the original asset and no relisting warning.
    let o = IngestOptions {
        window: Some((t("2022-05-01"), t("2022-05-14"))),
        ..opts()
    };
    let Some(cut) = ingest(
        Format::BinanceKlines,
        "market/binance_spot_lunausdt_1m_2022-05.csv",
        &o,
    ) else {
        return;
    };
    assert_eq!(cut.prices.len(), 17320);
    assert!(
        !cut.warnings
            .iter()
            .any(|w| w.contains("relisting") || w.contains("gap")),
        "{:?}",
        cut.warnings
    );
}

#[test]
fn cdd_binance_spot_files() {
    for (rel, base) in [
        ("market/binance_spot_ethusdt_1h_2017-2020.cdd.csv", "ETH"),
        ("market/binance_spot_btcusdt_1h_2017-2020.cdd.csv", "BTC"),
    ] {
        let Some(out) = ingest(Format::Cdd, rel, &opts()) else {
            return;
        };
        print(&out);
        let s = &out.sources[0];
        assert_eq!(s.rows_read, 32181);
        assert_eq!(s.rows_written, 29532);
        assert_eq!(s.rows_deduplicated + s.rows_rejected, 2649);
        assert_eq!(out.prices.first().unwrap().ts, t("2017-08-17 04:00"));
        assert_eq!(out.prices.last().unwrap().ts, t("2020-12-30 00:00"));
        assert!(out.prices.iter().all(|b| b.base == base
            && b.quote == "USDT"
            && b.venue == "binance"
            && b.interval_secs == 3600));
        assert!(out.warnings.iter().any(|w| w.contains("4 gap(s)")));
        assert!(out
            .warnings
            .iter()
            .any(|w| w.contains("suspicious") && w.contains("2017-08-17 04:00:00")));
        // Black Thursday is covered.
        assert!(out.prices.iter().any(|b| b.ts == t("2020-03-12 23:00")));
    }
}

#[test]
fn cdd_binance_perp_files() {
    for rel in [
        "market/binance_perp_ethusdt_1h_2020.cdd.csv",
        "market/binance_perp_btcusdt_1h_2020.cdd.csv",
    ] {
        let Some(out) = ingest(Format::Cdd, rel, &opts()) else {
            return;
        };
        print(&out);
        assert_eq!(out.prices.len(), 3599);
        assert!(out.prices.iter().all(|b| b.venue == "binance-perp"));
        assert_eq!(out.prices.first().unwrap().ts, t("2020-08-02 02:00"));
        assert!(!out.warnings.iter().any(|w| w.contains("gap")));
    }
}

#[test]
fn cdd_gemini_bad_print_is_skipped() {
    let Some(p) = dataset("market/gemini_btcusd_1h_2015-2020.cdd.csv") else {
        return;
    };
    let e = ingest_files(Format::Cdd, &[p], &opts(), "t")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(
            "gemini_btcusd_1h_2015-2020.cdd.csv: line 45827, column \"Open\": expected a price > 0"
        ),
        "{e}"
    );
    let Some(out) = ingest(
        Format::Cdd,
        "market/gemini_btcusd_1h_2015-2020.cdd.csv",
        &skip(),
    ) else {
        return;
    };
    print(&out);
    let s = &out.sources[0];
    assert_eq!(
        (s.rows_read, s.rows_written, s.rows_skipped),
        (45825, 45824, 1)
    );
    assert!(out
        .prices
        .iter()
        .all(|b| b.venue == "gemini" && b.base == "BTC" && b.quote == "USD"));
    assert_eq!(out.prices.first().unwrap().ts, t("2015-10-08 14:00"));
}

fn dec(d: u32) -> IngestOptions {
    IngestOptions {
        decimals: Some(d),
        ..opts()
    }
}

#[test]
fn chainlink_stablecoin_depegs() {
    let cases = [
        (
            "oracle/chainlink_usdt_usd_2021-2022.csv",
            1006,
            "0.95181623",
            "2022-05-12 07:22:33",
        ),
        (
            "oracle/chainlink_usdn_usd_2021-2022.csv",
            4662,
            "0.7250197",
            "2022-04-04 18:23:58",
        ),
        (
            "oracle/chainlink_usdc_usd_2022-11-20_2023-03-12.csv",
            400,
            "0.88",
            "2023-03-11 07:51:23",
        ),
        (
            "oracle/chainlink_usdc_usd_2021-2022.csv",
            1035,
            "0.99896042",
            "2021-04-22 19:37:10",
        ),
        (
            "oracle/chainlink_usdp_usd_2021-2022.csv",
            10087,
            "0.98887575",
            "2022-11-14 07:15:59",
        ),
        (
            "oracle/chainlink_tusd_usd_2022.csv",
            421,
            "0.992982",
            "2022-11-09 23:08:11",
        ),
    ];
    for (rel, n, min, at) in cases {
        let Some(out) = ingest(Format::ChainlinkRounds, rel, &dec(8)) else {
            return;
        };
        print(&out);
        assert_eq!(out.oracle_rounds.len(), n, "{rel}");
        let m = min_answer(&out.oracle_rounds);
        assert_eq!((m.answer, m.ts), (w(min), t(at)), "{rel}");
        assert_eq!(out.sources[0].rows_rejected, 0);
        assert_eq!(out.sources[0].rows_deduplicated, 0);
    }
}

#[test]
fn chainlink_usdc_phases_overlap_without_duplicate_rounds() {
    let Some(out) = ingest(
        Format::ChainlinkRounds,
        "oracle/chainlink_usdc_usd_2021-2022.csv",
        &dec(8),
    ) else {
        return;
    };
    let s = &out.sources[0];
    // The two phases overlap in time (2021-04-01..2021-12-08) but no round id repeats.
    assert_eq!(
        (s.rows_read, s.rows_written, s.rows_deduplicated),
        (1035, 1035, 0)
    );
    assert_eq!(
        out.oracle_rounds
            .iter()
            .filter(|r| r.phase_id == Some(1))
            .count(),
        295
    );
    assert_eq!(
        out.oracle_rounds
            .iter()
            .filter(|r| r.phase_id == Some(2))
            .count(),
        740
    );
    assert_eq!(out.oracle_rounds.iter().filter(|r| r.stale).count(), 3);
    assert!(out
        .warnings
        .iter()
        .any(|w| w.contains("phases 1 and 2 overlap") && w.contains("181 rounds")));
    let Some(out) = ingest(
        Format::ChainlinkRounds,
        "oracle/chainlink_usdt_usd_2021-2022.csv",
        &dec(8),
    ) else {
        return;
    };
    assert_eq!(out.oracle_rounds.iter().filter(|r| r.stale).count(), 4);
}

#[test]
fn chainlink_steth_18_decimals() {
    let Some(out) = ingest(
        Format::ChainlinkRounds,
        "oracle/chainlink_steth_eth_2022-2024.csv",
        &dec(18),
    ) else {
        return;
    };
    assert_eq!(out.oracle_rounds.len(), 745);
    let m = min_answer(&out.oracle_rounds);
    assert!(
        m.answer > w("0.935") && m.answer < w("0.9351"),
        "{}",
        m.answer
    );
    assert_eq!(m.ts.to_iso()[..10], *"2022-06-18");
    assert_eq!(out.oracle_rounds[0].feed, "chainlink:STETH/ETH");
}

#[test]
fn chainlink_eth_and_btc_reject_one_all_zero_round_each() {
    for (rel, n) in [
        ("oracle/chainlink_eth_usd_2023-2024.csv", 11106),
        ("oracle/chainlink_btc_usd_2023-2024.csv", 10691),
    ] {
        let Some(out) = ingest(Format::ChainlinkRounds, rel, &dec(8)) else {
            return;
        };
        print(&out);
        let s = &out.sources[0];
        assert_eq!((s.rows_written, s.rows_rejected), (n, 1), "{rel}");
        assert_eq!(out.oracle_rounds.len() as u64, n);
        assert!(out.oracle_rounds.iter().all(|r| r.phase_id == Some(6)));
    }
}

#[test]
fn parquet_usde_depeg() {
    let m = ColumnMapping::from_toml_str(
        r#"
        time = "__index_level_0__"
        open = "open"
        high = "high"
        low = "low"
        close = "close"
        volume_base = "volume"
        venue = "binance"
        "#,
    )
    .unwrap();
    let o = IngestOptions {
        mapping: Some(m),
        ..opts()
    };
    let Some(out) = ingest(
        Format::Parquet,
        "market/binance_usdeusdt_1m_2025-09-2026-01.parquet",
        &o,
    ) else {
        return;
    };
    print(&out);
    let s = &out.sources[0];
    eprintln!(
        "{:?} .. {:?}",
        out.prices.first().map(|b| b.ts),
        out.prices.last().map(|b| b.ts)
    );
    let low = out.prices.iter().min_by_key(|b| b.low).unwrap();
    eprintln!("min low {} at {}", low.low, low.ts);
    assert!(out
        .prices
        .iter()
        .all(|b| b.base == "USDE" && b.quote == "USDT" && b.interval_secs == 60));
    assert_eq!((s.rows_read, s.rows_written), (184_125, 184_125));
    assert_eq!((low.low, low.ts), (w("0.65"), t("2025-10-10 21:54")));
    assert_eq!(out.prices.first().unwrap().ts, t("2025-09-09 12:00"));
    assert_eq!(out.prices.last().unwrap().ts, t("2026-01-15 08:44"));
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
}
