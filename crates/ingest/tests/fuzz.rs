//! No input makes an adapter panic: random bytes, and fixtures mutated by
//! truncation, byte flips and insertions, through every format.

mod common;

use common::*;
use proptest::prelude::*;
use shortfall_core::Wad;
use shortfall_ingest::{ColumnMapping, Format, IngestOptions, OnBadRow};

fn all_opts(skip: bool) -> IngestOptions {
    IngestOptions {
        venue: Some("v".into()),
        base: Some("B".into()),
        quote: Some("Q".into()),
        decimals: Some(8),
        mapping: Some(
            ColumnMapping::from_pairs([
                ("time", "open_time"),
                ("open", "open"),
                ("high", "high"),
                ("low", "low"),
                ("close", "close"),
            ])
            .unwrap(),
        ),
        on_bad_row: if skip { OnBadRow::Skip } else { OnBadRow::Fail },
        ..Default::default()
    }
}

fn fixtures() -> Vec<(Format, &'static str, Vec<u8>)> {
    vec![
        (
            Format::BinanceKlines,
            "LUNAUSDT-1m-2022-05.csv",
            fixture("LUNAUSDT-1m-2022-05.csv"),
        ),
        (
            Format::Cdd,
            "binance_spot_ethusdt_1h.cdd.csv",
            fixture("binance_spot_ethusdt_1h.cdd.csv"),
        ),
        (
            Format::Cdd,
            "gemini_btcusd_1h.cdd.csv",
            fixture("gemini_btcusd_1h.cdd.csv"),
        ),
        (
            Format::CoinapiJson,
            "eth.json",
            fixture("ethusd_10m_2020-03-12.coinapi.json"),
        ),
        (
            Format::ChainlinkRounds,
            "chainlink_usdc_usd.csv",
            fixture("chainlink_usdc_usd_2021-2022.csv"),
        ),
        (
            Format::ChainlinkRounds,
            "chainlink_usdc_usd_b.csv",
            fixture("chainlink_usdc_usd_2022-11-20.csv"),
        ),
        (
            Format::ChainlinkRounds,
            "chainlink_eth_usd.csv",
            fixture("chainlink_eth_usd_2023-2024.csv"),
        ),
        (Format::Csv, "LUNAUSDT.csv", {
            let mut v = b"open_time,open,high,low,close,volume,close_time,quote_volume,trades,tb,tq,ignore\n".to_vec();
            v.extend(fixture("LUNAUSDT-1m-2022-05.csv"));
            v
        }),
    ]
}

fn check_all(bytes: &[u8]) {
    for f in Format::ALL {
        for skip in [false, true] {
            // Only "does not panic" matters here; errors are fine.
            let _ = run(f, "fuzz.csv", bytes, &all_opts(skip));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        check_all(&bytes);
    }

    #[test]
    fn random_csv_like_text_never_panics(text in "[0-9a-zA-Z,.;:\\-+eE/ \n\r\"#]{0,400}") {
        check_all(text.as_bytes());
        let with_magic = [b"PK\x03\x04".as_slice(), text.as_bytes()].concat();
        check_all(&with_magic);
        let parquet = [b"PAR1".as_slice(), text.as_bytes(), b"PAR1"].concat();
        check_all(&parquet);
    }

    #[test]
    fn mutated_fixtures_never_panic(
        which in 0usize..8,
        cut in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        insert in proptest::collection::vec(any::<u8>(), 0..8),
        at in any::<prop::sample::Index>(),
    ) {
        let fx = fixtures();
        let (format, name, bytes) = &fx[which % fx.len()];
        let mut b = bytes.clone();
        for (i, v) in flips {
            let i = i.index(b.len());
            b[i] = v;
        }
        let pos = at.index(b.len() + 1);
        b.splice(pos..pos, insert);
        let n = cut.index(b.len() + 1);
        for skip in [false, true] {
            let _ = run(*format, name, &b[..n], &all_opts(skip));
            let _ = run(*format, name, &b, &all_opts(skip));
        }
    }

    #[test]
    fn fast_decimal_parser_agrees_with_core(
        neg in any::<bool>(),
        int in "[0-9]{0,22}",
        frac in proptest::option::of("[0-9]{0,24}"),
        exp in proptest::option::of(-30i32..30),
    ) {
        let mut s = String::new();
        if neg { s.push('-'); }
        s.push_str(&int);
        if let Some(f) = &frac { s.push('.'); s.push_str(f); }
        if let Some(e) = exp { s.push_str(&format!("e{e}")); }
        let fast = shortfall_ingest::num::parse_wad(s.as_bytes());
        let core = Wad::parse_decimal(&s, true).ok();
        prop_assert_eq!(fast, core, "{}", s);
    }
}

fn parquet_opts(skip: bool) -> IngestOptions {
    IngestOptions {
        decimals: None,
        ..all_opts(skip)
    }
}

fn small_parquet() -> Vec<u8> {
    use arrow::array::{Float64Array, Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::record_batch::RecordBatch;
    use std::sync::Arc;
    let schema = Arc::new(Schema::new(vec![
        Field::new("open_time", DataType::Int64, false),
        Field::new("open", DataType::Float64, true),
        Field::new("high", DataType::Float64, true),
        Field::new("low", DataType::Float64, true),
        Field::new("close", DataType::Utf8, true),
    ]));
    let t: Vec<i64> = (0..20).map(|i| 1_651_363_200_000 + i * 60_000).collect();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(t)),
            Arc::new(Float64Array::from(vec![1.0; 20])),
            Arc::new(Float64Array::from(vec![2.0; 20])),
            Arc::new(Float64Array::from(vec![0.5; 20])),
            Arc::new(StringArray::from(vec!["1.5"; 20])),
        ],
    )
    .unwrap();
    let mut buf = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut buf, schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    buf
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutated_parquet_never_panics(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut b = small_parquet();
        for (i, v) in flips {
            let i = i.index(b.len());
            b[i] = v;
        }
        let n = cut.index(b.len() + 1).max(b.len() / 2);
        for skip in [false, true] {
            let _ = run(Format::Parquet, "x.parquet", &b, &parquet_opts(skip));
            let _ = run(Format::Parquet, "x.parquet", &b[..n], &parquet_opts(skip));
        }
    }
}

#[test]
fn small_parquet_parses() {
    let out = run(
        Format::Parquet,
        "x.parquet",
        &small_parquet(),
        &parquet_opts(false),
    )
    .unwrap();
    assert_eq!(out.prices.len(), 20);
    assert_eq!(out.prices[0].close, w("1.5"));
    assert_eq!(out.prices[0].interval_secs, 60);
}

#[test]
fn every_prefix_of_every_fixture_is_handled() {
    for (format, name, bytes) in fixtures() {
        for n in (0..=bytes.len()).step_by(7) {
            for skip in [false, true] {
                let _ = run(format, name, &bytes[..n], &all_opts(skip));
            }
        }
    }
}
