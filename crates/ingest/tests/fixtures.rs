//! Adapter tests on small committed excerpts of the real files (always run).

mod common;

use std::io::Write;

use common::*;
use shortfall_core::Micros;
use shortfall_ingest::{ColumnMapping, Format, IngestError, IngestOptions};

fn t(s: &str) -> Micros {
    Micros::parse(s).unwrap()
}

// ---------------------------------------------------------------- binance

#[test]
fn binance_fixture_infers_symbol_and_interval_and_warns_about_relisting() {
    let bytes = fixture("LUNAUSDT-1m-2022-05.csv");
    let out = run(
        Format::BinanceKlines,
        "LUNAUSDT-1m-2022-05.csv",
        &bytes,
        &opts(),
    )
    .unwrap();
    assert_eq!(out.prices.len(), 40);
    let first = &out.prices[0];
    assert_eq!(
        (
            first.venue.as_str(),
            first.base.as_str(),
            first.quote.as_str()
        ),
        ("binance", "LUNA", "USDT")
    );
    assert_eq!(first.ts, t("2022-05-01 00:00"));
    assert_eq!(first.interval_secs, 60);
    assert_eq!(
        (first.open, first.high, first.low, first.close),
        (w("78.1"), w("78.19"), w("78.02"), w("78.02"))
    );
    assert_eq!(first.volume_base, Some(w("4371.65")));
    assert_eq!(first.volume_quote, Some(w("341398.141")));
    assert_eq!(first.trades, Some(475));
    let src = &out.sources[0];
    assert_eq!(
        (src.rows_read, src.rows_written, src.rows_skipped),
        (40, 40, 0)
    );
    assert_eq!(src.format, "binance-klines");
    assert_eq!(src.table, "prices");
    assert_eq!(src.tool_version, "shortfall test");
    assert_eq!(
        src.sha256,
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes))
    );
    assert!(
        out.warnings
            .iter()
            .any(|w| w.contains("relisting") && w.contains("2022-05-31 06:00:00")),
        "{:?}",
        out.warnings
    );
    assert!(out.warnings.iter().any(|w| w.contains("gap")));
}

#[test]
fn binance_window_cuts_the_relaunched_asset() {
    let bytes = fixture("LUNAUSDT-1m-2022-05.csv");
    let o = IngestOptions {
        window: Some((t("2022-05-01"), t("2022-05-14"))),
        ..opts()
    };
    let out = run(Format::BinanceKlines, "LUNAUSDT-1m-2022-05.csv", &bytes, &o).unwrap();
    assert_eq!(out.prices.len(), 30);
    assert!(out.prices.iter().all(|b| b.ts < t("2022-05-14")));
    assert!(
        !out.warnings.iter().any(|w| w.contains("2022-05-31")),
        "{:?}",
        out.warnings
    );
    assert!(out.sources[0]
        .notes
        .iter()
        .any(|n| n.contains("10 valid rows outside the window")));
    assert_eq!(
        out.sources[0].options.get("window").map(String::as_str),
        Some("[2022-05-01 00:00:00, 2022-05-14 00:00:00)")
    );
}

/// The same rows with microsecond times and a header row (2025+ spot archives).
fn to_micros_with_header(bytes: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let mut out = String::from("open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\n");
    for line in text.lines() {
        let mut f: Vec<String> = line.split(',').map(String::from).collect();
        f[0] = format!("{}000", f[0]);
        f[6] = format!("{}999", f[6]);
        out.push_str(&f.join(","));
        out.push('\n');
    }
    out.into_bytes()
}

#[test]
fn binance_microsecond_times_and_header_give_the_same_bars() {
    let bytes = fixture("LUNAUSDT-1m-2022-05.csv");
    let a = run(
        Format::BinanceKlines,
        "LUNAUSDT-1m-2022-05.csv",
        &bytes,
        &opts(),
    )
    .unwrap();
    let b = run(
        Format::BinanceKlines,
        "LUNAUSDT-1m-2022-05.csv",
        &to_micros_with_header(&bytes),
        &opts(),
    )
    .unwrap();
    assert_eq!(a.prices, b.prices);
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let o = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            z.start_file(*name, o).unwrap();
            z.write_all(data).unwrap();
        }
        z.finish().unwrap();
    }
    buf.into_inner()
}

#[test]
fn binance_zip_archive_is_detected_by_magic_bytes() {
    let bytes = fixture("LUNAUSDT-1m-2022-05.csv");
    let z = zip_of(&[("LUNAUSDT-1m-2022-05.csv", &bytes)]);
    // Name without .zip: detection is by content.
    let out = run(Format::BinanceKlines, "archive.bin", &z, &opts()).unwrap();
    let plain = run(
        Format::BinanceKlines,
        "LUNAUSDT-1m-2022-05.csv",
        &bytes,
        &opts(),
    )
    .unwrap();
    assert_eq!(out.prices, plain.prices);
    assert_eq!(out.sources[0].file, "archive.bin");
    assert_eq!(out.sources[0].bytes, z.len() as u64);
}

#[test]
fn binance_flags_override_the_file_name() {
    let bytes = fixture("LUNAUSDT-1m-2022-05.csv");
    let o = IngestOptions {
        base: Some("luna".into()),
        quote: Some("usdt".into()),
        venue: Some("binance-spot".into()),
        ..opts()
    };
    let out = run(Format::BinanceKlines, "klines.csv", &bytes, &o).unwrap();
    assert!(out
        .prices
        .iter()
        .all(|b| b.base == "LUNA" && b.venue == "binance-spot"));
    assert_eq!(
        out.sources[0].options.get("base").map(String::as_str),
        Some("luna")
    );
    // Without flags and without a ticker in the name: a clear error.
    err_with(
        Format::BinanceKlines,
        "klines.csv",
        &bytes,
        &opts(),
        &["klines.csv", "--base"],
    );
}

#[test]
fn exact_duplicates_are_dropped_and_counted() {
    let bytes = fixture("LUNAUSDT-1m-2022-05.csv");
    let text = String::from_utf8(bytes).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let doubled = format!("{}\n{}\n{}\n", text.trim_end(), lines[3], lines[7]);
    let out = run(
        Format::BinanceKlines,
        "LUNAUSDT-1m.csv",
        doubled.as_bytes(),
        &opts(),
    )
    .unwrap();
    assert_eq!(out.prices.len(), 40);
    let s = &out.sources[0];
    assert_eq!(
        (s.rows_read, s.rows_written, s.rows_deduplicated),
        (42, 40, 2)
    );
}

#[test]
fn conflicting_duplicates_fail_or_are_skipped() {
    let text = String::from_utf8(fixture("LUNAUSDT-1m-2022-05.csv")).unwrap();
    let line4 = text
        .lines()
        .nth(3)
        .unwrap()
        .replacen(",78.43000000,", ",78.44000000,", 1);
    let bad = format!("{}\n{line4}\n", text.trim_end());
    let e = err_with(
        Format::BinanceKlines,
        "LUNAUSDT.csv",
        bad.as_bytes(),
        &opts(),
        &["LUNAUSDT.csv", "line 41", "conflicting", "line 4"],
    );
    assert!(matches!(e, IngestError::Conflict { .. }));
    let out = run(
        Format::BinanceKlines,
        "LUNAUSDT.csv",
        bad.as_bytes(),
        &skip(),
    )
    .unwrap();
    assert_eq!(out.prices.len(), 40);
    assert_eq!(out.sources[0].rows_skipped, 1);
    assert_eq!(out.prices[3].close, w("78.43"));
}

#[test]
fn output_is_sorted_and_deterministic_whatever_the_row_order() {
    let text = String::from_utf8(fixture("LUNAUSDT-1m-2022-05.csv")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.reverse();
    lines.swap(3, 17);
    let shuffled = lines.join("\n");
    let a = run(
        Format::BinanceKlines,
        "LUNAUSDT.csv",
        text.as_bytes(),
        &opts(),
    )
    .unwrap();
    let b = run(
        Format::BinanceKlines,
        "LUNAUSDT.csv",
        shuffled.as_bytes(),
        &opts(),
    )
    .unwrap();
    assert_eq!(a.prices, b.prices);
    assert_eq!(a.warnings, b.warnings);
    assert!(a.prices.windows(2).all(|p| p[0].ts < p[1].ts));
    let again = run(
        Format::BinanceKlines,
        "LUNAUSDT.csv",
        text.as_bytes(),
        &opts(),
    )
    .unwrap();
    assert_eq!(a, again);
}

#[test]
fn ingest_files_reads_from_disk_and_merges_files() {
    let dir = tempfile::tempdir().unwrap();
    let text = String::from_utf8(fixture("LUNAUSDT-1m-2022-05.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let a = dir.path().join("LUNAUSDT-1m-a.csv");
    let b = dir.path().join("LUNAUSDT-1m-b.csv");
    std::fs::write(&a, lines[..20].join("\n")).unwrap();
    std::fs::write(&b, lines[15..].join("\n")).unwrap(); // 5 rows overlap
    let calls = std::cell::RefCell::new(Vec::new());
    let out = shortfall_ingest::ingest_files_with_progress(
        Format::BinanceKlines,
        &[a, b],
        &opts(),
        "v",
        &|d, t| calls.borrow_mut().push((d, t)),
    )
    .unwrap();
    assert_eq!(out.prices.len(), 40);
    assert_eq!(out.sources.len(), 2);
    assert_eq!(out.sources[0].file, "LUNAUSDT-1m-a.csv");
    assert_eq!(out.sources[1].rows_deduplicated, 5);
    assert_eq!(
        out.sources[0].rows_written + out.sources[1].rows_written,
        40
    );
    let calls = calls.into_inner();
    assert_eq!(calls.last().map(|c| c.0), calls.last().map(|c| c.1));
    assert!(calls.len() >= 2);
}

// ---------------------------------------------------------------- cdd

#[test]
fn cdd_binance_fixture_resolves_the_two_exports_and_sorts_oldest_first() {
    let bytes = fixture("binance_spot_ethusdt_1h.cdd.csv");
    let out = run(
        Format::Cdd,
        "binance_spot_ethusdt_1h.cdd.csv",
        &bytes,
        &opts(),
    )
    .unwrap();
    let s = &out.sources[0];
    assert_eq!(s.rows_read, 31);
    assert_eq!(s.rows_deduplicated, 2);
    assert_eq!(s.rows_rejected, 3);
    assert_eq!(s.rows_written, 26);
    assert_eq!(out.prices.len(), 26);
    assert!(out.prices.windows(2).all(|p| p[0].ts < p[1].ts));
    let first = &out.prices[0];
    assert_eq!(
        (
            first.venue.as_str(),
            first.base.as_str(),
            first.quote.as_str()
        ),
        ("binance", "ETH", "USDT")
    );
    assert_eq!(first.ts, t("2017-08-17 04:00"));
    assert_eq!(first.interval_secs, 3600);
    assert_eq!(first.trades, None);
    assert_eq!(first.volume_base, Some(w("122.52")));
    assert_eq!(first.volume_quote, Some(w("36736.84")));
    // The ms row wins at 2020-11-20 07:00 (close 491.47, not the old export's 488.78).
    let bar = out
        .prices
        .iter()
        .find(|b| b.ts == t("2020-11-20 07:00"))
        .unwrap();
    assert_eq!(bar.close, w("491.47"));
    assert_eq!(bar.trades, Some(48459));
    let last = out.prices.last().unwrap();
    assert_eq!(last.ts, t("2020-12-30 00:00"));
    assert_eq!(last.close, w("732.87"));
    // The 652.74 bad print of the oldest row is kept but flagged.
    assert!(
        out.warnings
            .iter()
            .any(|w| w.contains("suspicious") && w.contains("2017-08-17 04:00:00")),
        "{:?}",
        out.warnings
    );
    assert!(out.warnings.iter().any(|w| w.contains("appear twice")));
}

#[test]
fn cdd_gemini_zero_price_is_a_bad_row() {
    let bytes = fixture("gemini_btcusd_1h.cdd.csv");
    let e = err_with(
        Format::Cdd,
        "gemini_btcusd_1h.cdd.csv",
        &bytes,
        &opts(),
        &["gemini_btcusd_1h.cdd.csv: line 10, column \"Open\": expected a price > 0"],
    );
    assert!(e.is_row_level());
    let out = run(Format::Cdd, "gemini_btcusd_1h.cdd.csv", &bytes, &skip()).unwrap();
    assert_eq!(out.prices.len(), 7);
    let s = &out.sources[0];
    assert_eq!((s.rows_read, s.rows_skipped), (8, 1));
    assert!(s
        .notes
        .iter()
        .any(|n| n.starts_with("skipped:") && n.contains("line 10")));
    let b = &out.prices[0];
    assert_eq!(
        (b.venue.as_str(), b.base.as_str(), b.quote.as_str()),
        ("gemini", "BTC", "USD")
    );
    assert_eq!(b.volume_quote, None);
    assert_eq!(out.prices.last().unwrap().close, w("27524.93"));
}

#[test]
fn cdd_venue_from_flag_or_error() {
    let bytes = fixture("gemini_btcusd_1h.cdd.csv");
    err_with(
        Format::Cdd,
        "btc.csv",
        &bytes,
        &skip(),
        &["btc.csv", "--venue"],
    );
    let o = IngestOptions {
        venue: Some("gemini".into()),
        ..skip()
    };
    assert_eq!(
        run(Format::Cdd, "btc.csv", &bytes, &o)
            .unwrap()
            .prices
            .len(),
        7
    );
}

#[test]
fn cdd_perp_file_names_a_perp_venue() {
    let text = String::from_utf8(fixture("binance_spot_ethusdt_1h.cdd.csv")).unwrap();
    let head: Vec<&str> = text.lines().take(12).collect();
    let out = run(
        Format::Cdd,
        "binance_perp_ethusdt_1h_2020.cdd.csv",
        head.join("\n").as_bytes(),
        &opts(),
    )
    .unwrap();
    assert!(out.prices.iter().all(|b| b.venue == "binance-perp"));
}

// ---------------------------------------------------------------- coinapi

fn coinapi_opts() -> IngestOptions {
    IngestOptions {
        venue: Some("coinapi".into()),
        base: Some("ETH".into()),
        quote: Some("USD".into()),
        ..opts()
    }
}

#[test]
fn coinapi_fixture_parses_exactly() {
    let bytes = fixture("ethusd_10m_2020-03-12.coinapi.json");
    let out = run(Format::CoinapiJson, "eth.json", &bytes, &coinapi_opts()).unwrap();
    assert_eq!(out.prices.len(), 12);
    let b = &out.prices[0];
    assert_eq!(b.ts, t("2020-03-12 00:00"));
    assert_eq!(b.interval_secs, 600);
    assert_eq!(
        (b.open, b.high, b.low, b.close),
        (w("195.21"), w("195.43"), w("194.38"), w("194.52"))
    );
    assert_eq!(b.volume_base, Some(w("69.6820754")));
    assert_eq!(b.trades, Some(27));
    assert_eq!(out.prices[11].ts, t("2020-03-12 01:50"));
}

#[test]
fn coinapi_needs_venue_and_symbol_flags() {
    let bytes = fixture("ethusd_10m_2020-03-12.coinapi.json");
    err_with(
        Format::CoinapiJson,
        "eth.json",
        &bytes,
        &opts(),
        &["eth.json", "--venue"],
    );
    let o = IngestOptions {
        base: None,
        ..coinapi_opts()
    };
    err_with(Format::CoinapiJson, "eth.json", &bytes, &o, &["--base"]);
}

#[test]
fn coinapi_numbers_as_strings_and_long_decimals() {
    let json = r#"[{"time_period_start":"2020-03-12T00:00:00.0000000Z","time_period_end":"2020-03-12T00:10:00Z",
        "price_open":"1.1","price_high":1.1234567890123456789012,"price_low":1.0,"price_close":1.12,
        "volume_traded":null,"trades_count":3}]"#;
    let out = run(
        Format::CoinapiJson,
        "x.json",
        json.as_bytes(),
        &coinapi_opts(),
    )
    .unwrap();
    let b = &out.prices[0];
    assert_eq!(b.open, w("1.1"));
    assert_eq!(b.high, w("1.123456789012345679"));
    assert_eq!(b.volume_base, None);
}

#[test]
fn coinapi_missing_field_names_row_and_column() {
    let json = r#"[{"time_period_start":"2020-03-12T00:00:00Z","price_open":1,"price_high":1,"price_low":1,"price_close":1},
                  {"time_period_start":"2020-03-12T00:10:00Z","price_open":1,"price_high":1,"price_low":1}]"#;
    err_with(
        Format::CoinapiJson,
        "x.json",
        json.as_bytes(),
        &coinapi_opts(),
        &["x.json: row 2, column \"price_close\": expected a decimal number"],
    );
    err_with(
        Format::CoinapiJson,
        "x.json",
        b"{\"a\":1}",
        &coinapi_opts(),
        &["x.json", "JSON array"],
    );
    err_with(
        Format::CoinapiJson,
        "x.json",
        b"[]",
        &coinapi_opts(),
        &["x.json", "no data rows"],
    );
}

// ---------------------------------------------------------------- chainlink

fn decimals(d: u32) -> IngestOptions {
    IngestOptions {
        decimals: Some(d),
        ..opts()
    }
}

#[test]
fn chainlink_layout_a_with_stale_rounds_and_phase_overlap() {
    let bytes = fixture("chainlink_usdc_usd_2021-2022.csv");
    let out = run(
        Format::ChainlinkRounds,
        "chainlink_usdc_usd_2021-2022.csv",
        &bytes,
        &decimals(8),
    )
    .unwrap();
    assert_eq!(out.oracle_rounds.len(), 23);
    let r = out
        .oracle_rounds
        .iter()
        .find(|r| r.aggregator_round_id == Some(292) && r.phase_id == Some(1))
        .unwrap();
    assert!(r.stale);
    assert_eq!(r.answered_in_round, Some(18446744073709551907));
    assert_eq!(r.round_id, 18446744073709551908);
    assert_eq!(r.answer, w("1.0001055"));
    assert_eq!(r.started_at, Some(Micros::from_secs(1636669339)));
    assert_eq!(r.ts, Micros::from_secs(1637274356));
    assert_eq!(r.feed, "chainlink:USDC/USD");
    assert_eq!((r.base.as_str(), r.quote.as_str()), ("USDC", "USD"));
    assert_eq!(out.oracle_rounds.iter().filter(|r| r.stale).count(), 3);
    assert!(out
        .oracle_rounds
        .windows(2)
        .all(|p| p[0].key() <= p[1].key()));
    assert!(out
        .warnings
        .iter()
        .any(|w| w.contains("phases 1 and 2 overlap")));
}

#[test]
fn chainlink_layout_b_with_comment_line() {
    let bytes = fixture("chainlink_usdc_usd_2022-11-20.csv");
    let out = run(
        Format::ChainlinkRounds,
        "chainlink_usdc_usd_2022-11-20.csv",
        &bytes,
        &decimals(8),
    )
    .unwrap();
    assert_eq!(out.oracle_rounds.len(), 10);
    let r = &out.oracle_rounds[0];
    assert_eq!((r.phase_id, r.aggregator_round_id), (Some(2), Some(746)));
    assert_eq!(r.answer, w("1.00018009"));
    assert_eq!(r.started_at, None);
    assert_eq!(r.answered_in_round, None);
    assert!(!r.stale);
}

#[test]
fn chainlink_layout_c_pandas_index_newest_first_rejects_all_zero_round() {
    let bytes = fixture("chainlink_eth_usd_2023-2024.csv");
    let out = run(
        Format::ChainlinkRounds,
        "chainlink_eth_usd_2023-2024.csv",
        &bytes,
        &decimals(8),
    )
    .unwrap();
    let s = &out.sources[0];
    assert_eq!((s.rows_read, s.rows_written, s.rows_rejected), (10, 9, 1));
    assert!(s
        .notes
        .iter()
        .any(|n| n.contains("rejected line 11") && n.contains("110680464442257309696")));
    let last = out.oracle_rounds.last().unwrap();
    assert_eq!(last.round_id, 110680464442257320802);
    assert_eq!(last.answer, w("2297.50276106"));
    assert_eq!(
        (last.phase_id, last.aggregator_round_id),
        (Some(6), Some(11106))
    );
    assert!(out.oracle_rounds.windows(2).all(|p| p[0].ts <= p[1].ts));
}

#[test]
fn chainlink_18_decimals() {
    let bytes = fixture("chainlink_steth_eth_2022-2024.csv");
    let out = run(
        Format::ChainlinkRounds,
        "chainlink_steth_eth_2022-2024.csv",
        &bytes,
        &decimals(18),
    )
    .unwrap();
    assert_eq!(out.oracle_rounds.len(), 5);
    assert_eq!(
        out.oracle_rounds.last().unwrap().answer,
        w("0.9996927340939876")
    );
    assert_eq!(out.oracle_rounds[0].feed, "chainlink:STETH/ETH");
    assert_eq!(out.oracle_rounds[0].phase_id, Some(1));
}

#[test]
fn chainlink_requires_decimals_and_a_pair() {
    let bytes = fixture("chainlink_eth_usd_2023-2024.csv");
    err_with(
        Format::ChainlinkRounds,
        "chainlink_eth_usd.csv",
        &bytes,
        &opts(),
        &["--decimals"],
    );
    err_with(
        Format::ChainlinkRounds,
        "rounds.csv",
        &bytes,
        &decimals(8),
        &["rounds.csv", "--base"],
    );
    let o = IngestOptions {
        base: Some("ETH".into()),
        quote: Some("USD".into()),
        feed: Some("my-feed".into()),
        ..decimals(8)
    };
    let out = run(Format::ChainlinkRounds, "rounds.csv", &bytes, &o).unwrap();
    assert!(out.oracle_rounds.iter().all(|r| r.feed == "my-feed"));
}

#[test]
fn chainlink_duplicate_rounds_dedupe_or_conflict() {
    let text = String::from_utf8(fixture("chainlink_usdc_usd_2021-2022.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let dup = format!("{}\n{}\n{}\n", text.trim_end(), lines[2], lines[20]);
    let out = run(
        Format::ChainlinkRounds,
        "chainlink_usdc_usd.csv",
        dup.as_bytes(),
        &decimals(8),
    )
    .unwrap();
    assert_eq!(out.oracle_rounds.len(), 23);
    assert_eq!(out.sources[0].rows_deduplicated, 2);
    let conflicting = format!(
        "{}\n{}\n",
        text.trim_end(),
        lines[2].replacen(",1000", ",1001", 1)
    );
    err_with(
        Format::ChainlinkRounds,
        "chainlink_usdc_usd.csv",
        conflicting.as_bytes(),
        &decimals(8),
        &["chainlink_usdc_usd.csv: line 25", "conflicting", "line 3"],
    );
    let o = IngestOptions {
        on_bad_row: shortfall_ingest::OnBadRow::Skip,
        ..decimals(8)
    };
    let out = run(
        Format::ChainlinkRounds,
        "chainlink_usdc_usd.csv",
        conflicting.as_bytes(),
        &o,
    )
    .unwrap();
    assert_eq!(
        (out.oracle_rounds.len(), out.sources[0].rows_skipped),
        (23, 1)
    );
}

#[test]
fn chainlink_phase_column_must_match_round_id() {
    let csv = "roundId,answer,startedAt,updatedAt,answeredInRound,phaseId,aggregatorRoundId\n\
               18446744073709551617,100000000,1613504612,1613585410,18446744073709551617,2,1\n";
    err_with(
        Format::ChainlinkRounds,
        "chainlink_usdc_usd.csv",
        csv.as_bytes(),
        &decimals(8),
        &["line 2, column \"phaseId\"", "roundId >> 64 = 1"],
    );
}

// ---------------------------------------------------------------- mapped csv / parquet

#[test]
fn mapped_csv_with_ohlc_and_iso_times() {
    let csv = "when;o;h;l;c;v;sym\n2020-03-12T00:00:00Z;10;11;9;10.5;3;ETH\n2020-03-12T01:00:00Z;10.5;12;10;11;4;ETH\n";
    let m = ColumnMapping::from_toml_str(
        r#"
        time = "when"
        time_format = "iso"
        base_column = "sym"
        quote = "usd"
        venue = "Kraken"
        open = "o"
        high = "h"
        low = "l"
        close = "c"
        volume_base = "v"
        delimiter = ";"
        "#,
    )
    .unwrap();
    let o = IngestOptions {
        mapping: Some(m),
        ..opts()
    };
    let out = run(Format::Csv, "x.csv", csv.as_bytes(), &o).unwrap();
    assert_eq!(out.prices.len(), 2);
    let b = &out.prices[1];
    assert_eq!(
        (b.venue.as_str(), b.base.as_str(), b.quote.as_str()),
        ("kraken", "ETH", "USD")
    );
    assert_eq!(
        (b.open, b.high, b.low, b.close, b.volume_base),
        (w("10.5"), w("12"), w("10"), w("11"), Some(w("4")))
    );
    assert_eq!(b.interval_secs, 3600);
    assert!(out.sources[0].options.contains_key("mapping"));
}

#[test]
fn mapped_csv_single_price_in_base_units_with_chrono_format() {
    let csv = "t,p\n12/03/2020 10:00,150000000\n12/03/2020 10:01,149000000\n";
    let m = ColumnMapping::from_pairs([
        ("time", "t"),
        ("time_format", "%d/%m/%Y %H:%M"),
        ("price", "p"),
        ("base", "ETH"),
        ("quote", "USD"),
        ("venue", "dex"),
        ("decimals", "8"),
    ])
    .unwrap();
    let o = IngestOptions {
        mapping: Some(m),
        ..opts()
    };
    let out = run(Format::Csv, "x.csv", csv.as_bytes(), &o).unwrap();
    let b = &out.prices[0];
    assert_eq!(b.ts, t("2020-03-12 10:00"));
    assert_eq!(
        (b.open, b.high, b.low, b.close),
        (w("1.5"), w("1.5"), w("1.5"), w("1.5"))
    );
    assert_eq!(b.interval_secs, 0);
}

#[test]
fn mapped_csv_missing_column_and_missing_mapping() {
    let csv = "t,p\n1584007200,1\n";
    let m = ColumnMapping::from_pairs([
        ("time", "t"),
        ("price", "price"),
        ("base", "A"),
        ("quote", "B"),
        ("venue", "v"),
    ])
    .unwrap();
    let o = IngestOptions {
        mapping: Some(m),
        ..opts()
    };
    err_with(
        Format::Csv,
        "x.csv",
        csv.as_bytes(),
        &o,
        &["x.csv", "column \"price\"", "t, p"],
    );
    err_with(
        Format::Csv,
        "x.csv",
        csv.as_bytes(),
        &opts(),
        &["column mapping"],
    );
}

fn parquet_bytes(ts_ns: &[i64], close: &[f64]) -> Vec<u8> {
    use arrow::array::{Float64Array, TimestampNanosecondArray};
    use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
    use arrow::record_batch::RecordBatch;
    use std::sync::Arc;
    let schema = Arc::new(Schema::new(vec![
        Field::new("close", DataType::Float64, true),
        Field::new("volume", DataType::Float64, true),
        Field::new(
            "__index_level_0__",
            DataType::Timestamp(TimeUnit::Nanosecond, None),
            true,
        ),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Float64Array::from(close.to_vec())),
            Arc::new(Float64Array::from(vec![1.5; close.len()])),
            Arc::new(TimestampNanosecondArray::from(ts_ns.to_vec())),
        ],
    )
    .unwrap();
    let mut buf = Vec::new();
    let mut wr = parquet::arrow::ArrowWriter::try_new(&mut buf, schema, None).unwrap();
    wr.write(&batch).unwrap();
    wr.close().unwrap();
    buf
}

fn parquet_mapping() -> ColumnMapping {
    ColumnMapping::from_pairs([
        ("time", "__index_level_0__"),
        ("price", "close"),
        ("volume_base", "volume"),
        ("venue", "binance"),
        ("interval_secs", "60"),
    ])
    .unwrap()
}

#[test]
fn parquet_with_pandas_timestamp_index() {
    let t0 = 1_760_054_400_000_000_000i64; // 2025-10-10 00:00 UTC
    let bytes = parquet_bytes(&[t0 + 60_000_000_000, t0], &[0.9995, 0.65]);
    let o = IngestOptions {
        mapping: Some(parquet_mapping()),
        ..opts()
    };
    let out = run(Format::Parquet, "binance_usdeusdt_1m.parquet", &bytes, &o).unwrap();
    assert_eq!(out.prices.len(), 2);
    let b = &out.prices[0];
    assert_eq!(b.ts, Micros(t0 / 1000));
    assert_eq!((b.base.as_str(), b.quote.as_str()), ("USDE", "USDT"));
    assert_eq!(b.close, w("0.65"));
    assert_eq!(b.volume_base, Some(w("1.5")));
    assert_eq!(b.interval_secs, 60);
    assert_eq!(out.prices[1].close, w("0.9995"));
}

#[test]
fn parquet_nan_is_a_bad_value_naming_row_and_column() {
    let t0 = 1_760_054_400_000_000_000i64;
    let bytes = parquet_bytes(&[t0, t0 + 60_000_000_000], &[1.0, f64::NAN]);
    let o = IngestOptions {
        mapping: Some(parquet_mapping()),
        ..opts()
    };
    err_with(
        Format::Parquet,
        "usdeusdt.parquet",
        &bytes,
        &o,
        &["usdeusdt.parquet: row 2, column \"close\": expected a finite number, found \"NaN\""],
    );
    err_with(
        Format::Parquet,
        "usdeusdt.parquet",
        b"not parquet",
        &o,
        &["usdeusdt.parquet", "not a parquet file"],
    );
}

#[test]
fn mapped_depth_column_gives_liquidity_rows() {
    // A pool state export: price and total value locked per block.
    let csv = "ts,px,tvl\n1760112011,1.0001,35083165.5\n1760112023,0.9990,35000000\n1760112035,0.9985,bad\n";
    let m = ColumnMapping::from_pairs([
        ("time", "ts"),
        ("time_format", "s"),
        ("price", "px"),
        ("base", "USDE"),
        ("quote", "USDT"),
        ("venue", "uniswap-v3"),
        ("depth_usd", "tvl"),
        ("depth_factor", "0.5"),
    ])
    .unwrap();
    let o = IngestOptions {
        mapping: Some(m.clone()),
        ..skip()
    };
    let out = run(Format::Csv, "pool.csv", csv.as_bytes(), &o).unwrap();
    assert_eq!(out.prices.len(), 2, "the bad depth row is skipped whole");
    assert_eq!(out.liquidity.len(), 2);
    let d = &out.liquidity[0];
    assert_eq!(
        (
            d.venue.as_str(),
            d.asset.as_str(),
            d.quote.as_str(),
            d.depth_usd
        ),
        ("uniswap-v3", "USDE", "USDT", w("17541582.75"))
    );
    assert_eq!(d.ts, out.prices[0].ts);
    assert_eq!(out.liquidity_sources.len(), 1);
    assert_eq!(out.liquidity_sources[0].table, "liquidity");
    assert_eq!(out.liquidity_sources[0].rows_written, 2);
    // Fail mode names the cell.
    let o = IngestOptions {
        mapping: Some(m),
        ..opts()
    };
    let e = run(Format::Csv, "pool.csv", csv.as_bytes(), &o)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("pool.csv: line 4, column \"tvl\""), "{e}");
    // A factor without a column, or not a positive number, is refused.
    assert!(
        ColumnMapping::from_pairs([("time", "t"), ("price", "p"), ("depth_factor", "0.5")])
            .is_err()
    );
    assert!(ColumnMapping::from_pairs([
        ("time", "t"),
        ("price", "p"),
        ("depth_usd", "d"),
        ("depth_factor", "-1")
    ])
    .is_err());
}
