//! Error messages name the file, the line (or row) and the column.

mod common;

use std::io::Write;

use common::*;
use shortfall_ingest::{Format, IngestError, IngestOptions};

fn luna() -> String {
    String::from_utf8(fixture("LUNAUSDT-1m-2022-05.csv")).unwrap()
}

#[test]
fn truncated_last_row_names_line_and_missing_column() {
    let text = luna();
    let cut = &text[..text.trim_end().len() - 60]; // last row cut mid-line
    let e = err_with(
        Format::BinanceKlines,
        "LUNAUSDT-1m-2022-05.csv",
        cut.as_bytes(),
        &opts(),
        &[
            "LUNAUSDT-1m-2022-05.csv: line 40, column \"",
            "expected 12 columns, found",
        ],
    );
    assert!(e.is_row_level());
    // Skipping it keeps the rest.
    let out = run(
        Format::BinanceKlines,
        "LUNAUSDT-1m-2022-05.csv",
        cut.as_bytes(),
        &skip(),
    )
    .unwrap();
    assert_eq!((out.prices.len(), out.sources[0].rows_skipped), (39, 1));
    assert!(out.sources[0].notes.iter().any(|n| n.contains("line 40")));
}

#[test]
fn truncated_cdd_and_chainlink_rows() {
    let cdd = String::from_utf8(fixture("binance_spot_ethusdt_1h.cdd.csv")).unwrap();
    let cut = &cdd[..cdd.trim_end().len() - 30];
    err_with(
        Format::Cdd,
        "binance_eth.cdd.csv",
        cut.as_bytes(),
        &opts(),
        &["binance_eth.cdd.csv: line 33, column \"", "truncated"],
    );
    let cl = String::from_utf8(fixture("chainlink_usdc_usd_2021-2022.csv")).unwrap();
    let cut = &cl[..cl.trim_end().len() - 25];
    let o = IngestOptions {
        decimals: Some(8),
        ..opts()
    };
    err_with(
        Format::ChainlinkRounds,
        "chainlink_usdc_usd.csv",
        cut.as_bytes(),
        &o,
        &["chainlink_usdc_usd.csv: line 24, column \""],
    );
}

#[test]
fn wrong_delimiter_is_a_structural_error() {
    let semi = luna().replace(',', ";");
    let e = err_with(
        Format::BinanceKlines,
        "LUNAUSDT-1m.csv",
        semi.as_bytes(),
        &skip(),
        &["LUNAUSDT-1m.csv: line 1: wrong delimiter: expected ',' between columns, found ';'"],
    );
    assert!(matches!(e, IngestError::Structure { .. }));
    let cdd = String::from_utf8(fixture("gemini_btcusd_1h.cdd.csv"))
        .unwrap()
        .replace(',', ";");
    err_with(
        Format::Cdd,
        "gemini_btc.csv",
        cdd.as_bytes(),
        &skip(),
        &["gemini_btc.csv: line 1: wrong delimiter", "';'"],
    );
    let cl = String::from_utf8(fixture("chainlink_eth_usd_2023-2024.csv"))
        .unwrap()
        .replace(',', "\t");
    let o = IngestOptions {
        decimals: Some(8),
        ..skip()
    };
    err_with(
        Format::ChainlinkRounds,
        "chainlink_eth_usd.csv",
        cl.as_bytes(),
        &o,
        &["line 1: wrong delimiter", "'\\t'"],
    );
}

#[test]
fn text_in_a_number_column() {
    let text = luna();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut f: Vec<&str> = lines[16].split(',').collect();
    f[4] = "abc";
    lines[16] = f.join(",");
    let bad = lines.join("\n");
    let e = err_with(
        Format::BinanceKlines,
        "btc.csv",
        bad.as_bytes(),
        &IngestOptions {
            base: Some("LUNA".into()),
            quote: Some("USDT".into()),
            ..opts()
        },
        &["btc.csv: line 17, column \"close\": expected a decimal number, found \"abc\""],
    );
    assert!(e.is_row_level());
    let cdd = String::from_utf8(fixture("binance_spot_ethusdt_1h.cdd.csv"))
        .unwrap()
        .replacen("732.87000000,513", "7x2.87,513", 1);
    err_with(Format::Cdd, "binance_eth.csv", cdd.as_bytes(), &opts(), &["binance_eth.csv: line 3, column \"close\": expected a decimal number, found \"7x2.87\""]);
    let cl = String::from_utf8(fixture("chainlink_eth_usd_2023-2024.csv"))
        .unwrap()
        .replacen(",229750276106,", ",2297.5,", 1);
    let o = IngestOptions {
        decimals: Some(8),
        ..opts()
    };
    err_with(
        Format::ChainlinkRounds,
        "chainlink_eth_usd.csv",
        cl.as_bytes(),
        &o,
        &[
            "chainlink_eth_usd.csv: line 2, column \"answer\": expected an integer answer",
            "\"2297.5\"",
        ],
    );
}

#[test]
fn rows_from_the_future_or_before_2009_are_rejected() {
    let text = luna();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    // 2101-01-01 in ms.
    let mut f: Vec<String> = lines[4].split(',').map(String::from).collect();
    f[0] = "4133980800000".into();
    f[6] = "4133980859999".into();
    lines[4] = f.join(",");
    let bad = lines.join("\n");
    err_with(
        Format::BinanceKlines,
        "LUNAUSDT.csv",
        bad.as_bytes(),
        &opts(),
        &["LUNAUSDT.csv: line 5, column \"open_time\": expected a time between 2009-01-01 and 2100-01-01, found \"2101-01-01 00:00:00\""],
    );
    let cl = "roundId,answer,startedAt,updatedAt\n18446744073709551617,100000000,1,1000\n";
    let o = IngestOptions {
        decimals: Some(8),
        ..opts()
    };
    err_with(
        Format::ChainlinkRounds,
        "chainlink_usdc_usd.csv",
        cl.as_bytes(),
        &o,
        &["line 2, column \"updatedAt\": expected a time between 2009"],
    );
}

#[test]
fn mixed_symbols_are_fatal_even_when_skipping() {
    let text = String::from_utf8(fixture("binance_spot_ethusdt_1h.cdd.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[6] = lines[6].replace("ETH/USDT", "BTC/USDT");
    let bad = lines.join("\n");
    let e = err_with(
        Format::Cdd,
        "binance_ethusdt.cdd.csv",
        bad.as_bytes(),
        &skip(),
        &["binance_ethusdt.cdd.csv: mixed symbols: line 3 has \"ETH/USDT\" but line 7, column \"symbol\" has \"BTC/USDT\""],
    );
    assert!(!e.is_row_level());
}

#[test]
fn empty_files_are_errors_in_every_format() {
    let o = IngestOptions {
        venue: Some("v".into()),
        base: Some("B".into()),
        quote: Some("Q".into()),
        decimals: Some(8),
        mapping: Some(
            shortfall_ingest::ColumnMapping::from_pairs([("time", "t"), ("price", "p")]).unwrap(),
        ),
        ..skip()
    };
    for f in shortfall_ingest::Format::ALL {
        for bytes in [&b""[..], b"\n\n  \n"] {
            let e = err_with(f, "empty.csv", bytes, &o, &["empty.csv", "empty"]);
            assert!(matches!(e, IngestError::Structure { .. }), "{f}: {e}");
        }
    }
    // Banner and header only: no data rows.
    let head: Vec<String> = String::from_utf8(fixture("gemini_btcusd_1h.cdd.csv"))
        .unwrap()
        .lines()
        .take(2)
        .map(String::from)
        .collect();
    err_with(
        Format::Cdd,
        "gemini.csv",
        head.join("\n").as_bytes(),
        &skip(),
        &["gemini.csv", "no data rows"],
    );
    err_with(
        Format::BinanceKlines,
        "LUNAUSDT.csv",
        b"open_time,open,high\n",
        &skip(),
        &["LUNAUSDT.csv", "no data rows"],
    );
}

#[test]
fn unknown_header_is_structural() {
    err_with(
        Format::Cdd,
        "binance_x.csv",
        b"a,b,c\n1,2,3\n",
        &skip(),
        &["binance_x.csv: line 1: expected a CryptoDataDownload header"],
    );
    let o = IngestOptions {
        decimals: Some(8),
        ..skip()
    };
    err_with(
        Format::ChainlinkRounds,
        "chainlink_a_b.csv",
        b"x,y\n1,2\n",
        &o,
        &["chainlink_a_b.csv: line 1: expected a Chainlink rounds header"],
    );
    err_with(
        Format::BinanceKlines,
        "LUNAUSDT.csv",
        b"time,price,x\n1,2,3\n",
        &skip(),
        &["LUNAUSDT.csv: line 1: expected a Binance kline header"],
    );
}

#[test]
fn zip_without_csv_is_an_error() {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let o = zip::write::SimpleFileOptions::default();
        z.start_file("README.txt", o).unwrap();
        z.write_all(b"nothing here").unwrap();
        z.finish().unwrap();
    }
    let bytes = buf.into_inner();
    let e = err_with(
        Format::BinanceKlines,
        "LUNAUSDT-1m-2022-05.zip",
        &bytes,
        &skip(),
        &["LUNAUSDT-1m-2022-05.zip: zip archive contains no .csv file"],
    );
    assert!(matches!(e, IngestError::Structure { .. }));
    // A broken zip is a clear error too.
    let broken = &bytes[..bytes.len() / 2];
    err_with(
        Format::BinanceKlines,
        "x.zip",
        broken,
        &skip(),
        &["x.zip", "zip"],
    );
}

#[test]
fn bad_rows_inside_a_zip_name_the_inner_file() {
    let text = luna().replacen("78.10000000", "x", 1);
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        z.start_file(
            "LUNAUSDT-1m-2022-05.csv",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        z.write_all(text.as_bytes()).unwrap();
        z.finish().unwrap();
    }
    err_with(
        Format::BinanceKlines,
        "LUNAUSDT-1m-2022-05.zip",
        &buf.into_inner(),
        &opts(),
        &["LUNAUSDT-1m-2022-05.zip:LUNAUSDT-1m-2022-05.csv: line 1, column \"open\": expected a decimal number, found \"x\""],
    );
}

#[test]
fn ohlc_inconsistency_and_non_positive_prices() {
    let text = luna();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut f: Vec<String> = lines[1].split(',').map(String::from).collect();
    f[3] = "79".into(); // low above high
    lines[1] = f.join(",");
    err_with(
        Format::BinanceKlines,
        "LUNAUSDT.csv",
        lines.join("\n").as_bytes(),
        &opts(),
        &["LUNAUSDT.csv: line 2, column \"low\": expected low <= high"],
    );
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut f: Vec<String> = lines[2].split(',').map(String::from).collect();
    f[1] = "-1".into();
    lines[2] = f.join(",");
    err_with(
        Format::BinanceKlines,
        "LUNAUSDT.csv",
        lines.join("\n").as_bytes(),
        &opts(),
        &["LUNAUSDT.csv: line 3, column \"open\": expected a price > 0, found \"-1\""],
    );
}

#[test]
fn crlf_line_numbers_are_physical_lines() {
    let crlf =
        luna()
            .replace('\n', "\r\n")
            .replacen("78.02000000,78.02000000", "78.02000000,nope", 1);
    err_with(
        Format::BinanceKlines,
        "LUNAUSDT.csv",
        crlf.as_bytes(),
        &opts(),
        &["LUNAUSDT.csv: line 1, column \"close\""],
    );
    let mut lines: Vec<String> = luna().lines().map(String::from).collect();
    lines[9] = lines[9].replacen(',', ",zz", 1);
    err_with(
        Format::BinanceKlines,
        "LUNAUSDT.csv",
        lines.join("\r\n").as_bytes(),
        &opts(),
        &["LUNAUSDT.csv: line 10, column \"open\""],
    );
    // Blank lines still count as physical lines, with either line ending.
    let mut with_blanks: Vec<String> = lines.clone();
    with_blanks.insert(2, String::new());
    with_blanks.insert(2, String::new());
    for sep in ["\n", "\r\n"] {
        err_with(
            Format::BinanceKlines,
            "LUNAUSDT.csv",
            with_blanks.join(sep).as_bytes(),
            &opts(),
            &["LUNAUSDT.csv: line 12, column \"open\""],
        );
    }
}
