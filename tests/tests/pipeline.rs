//! Real raw files -> ingest -> dataset -> DuckDB, end to end.

use shortfall_core::{OracleRound, PriceBar, Wad};
use shortfall_ingest::{Format, IngestOptions};
use shortfall_store::catalog::{render, Catalog, OutputFormat};
use shortfall_store::Dataset;

fn opts(venue: &str, base: &str, quote: &str) -> IngestOptions {
    IngestOptions {
        venue: Some(venue.into()),
        base: Some(base.into()),
        quote: Some(quote.into()),
        ..Default::default()
    }
}

#[test]
fn black_thursday_eth_path_ingests_and_queries() {
    let Some(raw) = shortfall_e2e::shared_datasets() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = shortfall_ingest::ingest_files(
        Format::CoinapiJson,
        &[raw.join("market/ethusd_10m_2020-03-12.coinapi.json")],
        &opts("coinapi", "ETH", "USD"),
        "test",
    )
    .unwrap();
    let mut ds = Dataset::open_or_new(dir.path()).unwrap();
    ds.add(out.prices, out.sources).unwrap();
    ds.commit().unwrap();
    ds.verify().unwrap();

    let rows: Vec<PriceBar> = Dataset::open(dir.path()).unwrap().read().unwrap();
    assert_eq!(rows.len(), 144);
    let low = rows.iter().map(|r| r.low).min().unwrap();
    assert_eq!(low, "101.01".parse::<Wad>().unwrap());

    let mut cat = Catalog::in_memory().unwrap();
    cat.attach_dataset(&Dataset::open(dir.path()).unwrap(), None)
        .unwrap();
    let r = cat
        .query("SELECT count(*) AS n, min(low) AS low, max(high) AS high, min(ts) AS first FROM prices")
        .unwrap();
    let csv = render(&r, OutputFormat::Csv).unwrap();
    assert_eq!(
        csv.lines().nth(1).unwrap(),
        "144,101.010000000000000000,195.430000000000000000,2020-03-12T00:00:00"
    );
}

#[test]
fn chainlink_rounds_land_in_duckdb_with_exact_ids() {
    let Some(raw) = shortfall_e2e::shared_datasets() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = shortfall_ingest::ingest_files(
        Format::ChainlinkRounds,
        &[raw.join("oracle/chainlink_usdc_usd_2022-11-20_2023-03-12.csv")],
        &IngestOptions {
            decimals: Some(8),
            ..Default::default()
        },
        "test",
    )
    .unwrap();
    let n = out.oracle_rounds.len();
    let mut ds = Dataset::open_or_new(dir.path()).unwrap();
    ds.add(out.oracle_rounds, out.sources).unwrap();
    ds.commit().unwrap();
    let back: Vec<OracleRound> = Dataset::open(dir.path()).unwrap().read().unwrap();
    assert_eq!(back.len(), n);

    let mut cat = Catalog::in_memory().unwrap();
    cat.attach_dataset(&Dataset::open(dir.path()).unwrap(), None)
        .unwrap();
    let r = cat
        .query("SELECT round_id::VARCHAR AS id, answer, ts FROM oracle_rounds ORDER BY answer, ts LIMIT 1")
        .unwrap();
    let csv = render(&r, OutputFormat::Csv).unwrap();
    // The bottom of the SVB weekend: 0.88 on Saturday 2023-03-11; the round id
    // (phase 2 << 64 | 983) exceeds 64 bits and survives exactly.
    assert_eq!(
        csv.lines().nth(1).unwrap(),
        "36893488147419104215,0.880000000000000000,2023-03-11T07:51:23"
    );
}

#[test]
fn the_same_ingest_twice_is_byte_identical() {
    let Some(raw) = shortfall_e2e::shared_datasets() else {
        return;
    };
    let file = raw.join("market/binance_spot_lunausdt_1m_2022-05.csv");
    let mut digests = Vec::new();
    for _ in 0..2 {
        let dir = tempfile::tempdir().unwrap();
        let o = IngestOptions {
            window: Some((
                shortfall_core::Micros::parse("2022-05-07").unwrap(),
                shortfall_core::Micros::parse("2022-05-14").unwrap(),
            )),
            ..Default::default()
        };
        let out = shortfall_ingest::ingest_files(
            Format::BinanceKlines,
            std::slice::from_ref(&file),
            &o,
            "test",
        )
        .unwrap();
        let mut ds = Dataset::open_or_new(dir.path()).unwrap();
        ds.add(out.prices, out.sources).unwrap();
        ds.commit().unwrap();
        digests.push((
            std::fs::read(dir.path().join("prices.parquet")).unwrap(),
            std::fs::read(dir.path().join("manifest.json")).unwrap(),
        ));
    }
    assert_eq!(digests[0], digests[1]);
}
