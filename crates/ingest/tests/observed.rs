//! The observed-outcome formats on the real files (skipped when
//! ../shared/datasets is absent) and on bad input: `maker-flip-auctions`,
//! `compound-liquidations-dune`, `maker-osm-web3`, `santiment-json`,
//! `uniswap-v2-reserves-json`, and the 2021-05-19 files of existing formats.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use shortfall_core::{Micros, ObservedAuction, Wad};
use shortfall_ingest::chain::osm::{ingest_osm, OsmOptions};
use shortfall_ingest::chain::BlockTimes;
use shortfall_ingest::observed::{ingest_observed, COMPOUND_FORMAT, MAKER_FORMAT};
use shortfall_ingest::{ingest_files, Format, IngestOptions, OnBadRow};

const MAKER: &str = "events/maker_eth_a_flip_auctions_2019-11_2020-04.csv";
const COMPOUND: &str = "events/compound_cdai_liquidations_2020-11-26.dune.csv";
const OSM: &str = "oracle/maker_osm_eth_logvalue_2019-11_2020-04.web3.json";

fn t(s: &str) -> Micros {
    Micros::parse(s).unwrap()
}

fn sum(rows: &[&ObservedAuction], f: impl Fn(&ObservedAuction) -> Wad) -> Wad {
    Wad(rows.iter().map(|r| f(r).0).sum())
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn maker_flip_auctions_real_file() {
    let Some(p) = dataset(MAKER) else { return };
    let out = ingest_observed(MAKER_FORMAT, &[p], &opts(), "t").unwrap();
    let s = &out.sources[0];
    assert_eq!(
        (
            s.rows_read,
            s.rows_written,
            s.rows_rejected,
            s.rows_skipped,
            s.rows_deduplicated
        ),
        (4865, 4865, 0, 0, 0)
    );
    assert_eq!(s.table, "observed_auctions");
    assert!(
        s.notes
            .iter()
            .any(|n| n.starts_with("1246 winning prices below 5e-19")),
        "{:?}",
        s.notes
    );
    let rows = &out.rows;
    assert!(rows.windows(2).all(|w| w[0].key() < w[1].key()));
    let not_dealt: Vec<_> = rows.iter().filter(|r| r.state == "not_dealt").collect();
    assert_eq!(not_dealt.len(), 17);
    assert!(not_dealt
        .iter()
        .all(|r| r.block.is_none() && r.gas_price_gwei.is_none()));
    // Black Thursday: auctions dealt on 2020-03-12 and 13.
    let bt: Vec<&ObservedAuction> = rows
        .iter()
        .filter(|r| r.state == "dealt" && r.ts >= t("2020-03-12") && r.ts < t("2020-03-14"))
        .collect();
    assert_eq!(bt.len(), 4076);
    let below: Vec<&ObservedAuction> = bt
        .iter()
        .copied()
        .filter(|r| r.price_paid.unwrap() < Wad::ONE)
        .collect();
    assert_eq!(below.len(), 1454);
    let eth = sum(&below, |r| r.collateral_amount);
    assert_eq!(eth.to_string(), "62640.8375497233992498");
    let dai = sum(&bt, |r| r.debt_amount);
    assert!(dai > w("8670429") && dai < w("8670430"), "{dai}");
    // Amounts are JavaScript doubles: never exact, never `rounded` below that.
    assert!(rows
        .iter()
        .all(|r| !r.rounded && r.amount_rel_error == Wad(224)));
    let first = &rows[0];
    assert_eq!(first.auction_id, Some(1));
    assert_eq!(
        first.source_ref,
        "maker_eth_a_flip_auctions_2019-11_2020-04.csv:2"
    );
    assert_eq!(first.ts, t("2019-11-18T17:27:24Z"));
    assert_eq!(first.block, Some(8_957_712));
    assert_eq!(first.price_paid, Some(w("152.41985885")));
    assert_eq!(first.gas_price_gwei, Some(w("10")));
    assert_eq!(first.oracle_price_usd, Some(w("182.095")));
}

#[test]
fn compound_liquidations_real_file() {
    let Some(p) = dataset(COMPOUND) else { return };
    let out = ingest_observed(COMPOUND_FORMAT, &[p], &opts(), "t").unwrap();
    let s = &out.sources[0];
    assert_eq!(
        (s.rows_read, s.rows_written, s.rows_rejected, s.rows_skipped),
        (141, 141, 0, 0)
    );
    let rows: Vec<&ObservedAuction> = out.rows.iter().collect();
    // 85,220,406 DAI repaid over 141 events, as the sheet states.
    let repaid = sum(&rows, |r| r.debt_amount);
    assert_eq!(repaid.to_string(), "85220406.430207581566");
    let borrowers: std::collections::BTreeSet<_> = rows.iter().map(|r| r.account.clone()).collect();
    assert_eq!(borrowers.len(), 124);
    assert_eq!(rows.iter().filter(|r| r.rounded).count(), 130);
    assert!(rows
        .iter()
        .all(|r| r.market == "cDAI" && r.debt_asset == "DAI" && r.ts_precision_secs == 60));
    let big = rows.iter().max_by_key(|r| r.debt_amount).unwrap();
    assert_eq!(big.debt_amount, w("46140000"));
    assert!(big.rounded);
    assert_eq!(big.amount_rel_error, w("0.0005"));
    assert_eq!(big.collateral_asset, "cDAI");
    assert_eq!(big.collateral_amount, w("2396825127.93648"));
    assert_eq!(
        big.tx_hash.as_deref(),
        Some("0x53e09adb77d1e3ea593c933a85bd4472371e03da12e3fec853b5bc7fac50f3e4")
    );
    assert_eq!((big.block, big.log_index), (Some(11_333_037), Some(59)));
    assert_eq!(big.ts, t("2020-11-26T08:55:00Z"));
    // Exact integer seize amounts keep no error; the row's bound is the repay's.
    let exact = rows
        .iter()
        .find(|r| r.collateral_amount == w("578476.72224224"))
        .unwrap();
    assert_eq!(exact.amount_rel_error, w("0.0005"));
    // Blocks and minutes agree in order.
    let mut by_block = rows.clone();
    by_block.sort_by_key(|r| (r.block, r.log_index));
    assert!(by_block.windows(2).all(|w| w[0].ts <= w[1].ts));
}

#[test]
fn osm_log_values_with_block_times_from_the_auctions() {
    let (Some(osm), Some(auctions)) = (dataset(OSM), dataset(MAKER)) else {
        return;
    };
    let mut blocks = BlockTimes::default();
    let n = blocks
        .read("auctions.csv", &std::fs::read(&auctions).unwrap())
        .unwrap();
    eprintln!("{n} known blocks");
    let o = OsmOptions {
        estimate_block_times: true,
        ..OsmOptions::default()
    };
    // Without skip, the first round before the first known block fails.
    let e = ingest_osm(std::slice::from_ref(&osm), &blocks, &o, &opts(), "t")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("maker_osm_eth_logvalue_2019-11_2020-04.web3.json: line 24, column \"blockNumber\": block 8936795: no known block before and after it"),
        "{e}"
    );
    let out = ingest_osm(&[osm], &blocks, &o, &skip(), "t").unwrap();
    let s = &out.sources[0];
    eprintln!("{:?}", s.notes);
    eprintln!("{:?}", out.warnings);
    assert_eq!(s.rows_read, 3606);
    assert_eq!(s.rows_rejected, 1);
    assert!(
        s.notes
            .iter()
            .any(|n| n == "rejected line 2: zero price (the OSM's value before its first poke)"),
        "{:?}",
        s.notes
    );
    // 80 rounds before the first known block (the auctions start on
    // 2019-11-18) have no time; 90 sit on known blocks, 3435 are estimated.
    assert_eq!((s.rows_skipped, s.rows_written), (80, 3525));
    assert!(out.warnings[0].ends_with(
        "3435 block times estimated by linear interpolation between 2332 known blocks (leave-one-out error over 2330 known blocks: \
         median 9 s, 95th percentile 118 s, max 859 s); widest bracket used: 18448 blocks"
    ), "{:?}", out.warnings);
    let r = &out.rounds;
    assert_eq!(r.len() as u64, s.rows_written);
    assert!(r
        .iter()
        .all(|x| x.feed == "maker-osm:ETH/USD" && x.answer.is_positive()));
    // Black Thursday's lowest OSM price.
    let low = r
        .iter()
        .filter(|x| x.ts >= t("2020-03-12") && x.ts < t("2020-03-14"))
        .min_by_key(|x| x.answer)
        .unwrap();
    assert_eq!(low.answer, w("100.36"));
    assert_eq!(low.block, Some(9_660_703));
}

#[test]
fn santiment_prices_real_files() {
    for (rel, base, first) in [
        (
            "market/santiment_ethusd_5m_2020-03.json",
            "ETH",
            "220.6863220855",
        ),
        (
            "market/santiment_daiusd_5m_2020-03.json",
            "DAI",
            "1.00284165378",
        ),
    ] {
        let Some(p) = dataset(rel) else { return };
        let o = IngestOptions {
            base: Some(base.into()),
            ..opts()
        };
        let out = ingest_files(Format::SantimentJson, &[p], &o, "t").unwrap();
        let s = &out.sources[0];
        assert_eq!(
            (s.rows_read, s.rows_written, s.rows_rejected),
            (8928, 8928, 0),
            "{rel}"
        );
        assert_eq!(out.prices[0].ts, t("2020-03-01T07:00:00Z"));
        assert_eq!(out.prices[0].close, w(first));
        assert!(out
            .prices
            .iter()
            .all(|b| b.interval_secs == 300 && b.venue == "santiment" && b.quote == "USD"));
    }
}

#[test]
fn may_2021_crash_files() {
    let Some(p) = dataset("chain/uniswap_v2_eth_dai_reserves_10m_2021-05-19.json") else {
        return;
    };
    let o = IngestOptions {
        start: Some(t("2021-05-19T00:00:00Z")),
        ..opts()
    };
    let out = ingest_files(Format::UniswapV2Reserves, &[p], &o, "t").unwrap();
    assert_eq!(out.liquidity.len(), 144);
    assert_eq!(out.prices.len(), 144);
    assert_eq!(out.liquidity[0].depth_usd, w("67923883.66277882"));
    assert_eq!(out.liquidity[0].asset, "ETH");
    assert_eq!(out.liquidity[143].ts, t("2021-05-19T23:50:00Z"));
    assert_eq!(out.liquidity_sources[0].table, "liquidity");
    let Some(p) = dataset("market/ethusd_10m_2021-05-19.coinapi.json") else {
        return;
    };
    let o = IngestOptions {
        venue: Some("coinapi".into()),
        base: Some("ETH".into()),
        quote: Some("USD".into()),
        ..opts()
    };
    let out = ingest_files(Format::CoinapiJson, &[p], &o, "t").unwrap();
    assert_eq!(out.prices.len(), 144);
    assert_eq!(out.prices.iter().map(|b| b.low).min(), Some(w("1862.04")));
}

// ------------------------------------------------------------- bad input

const MAKER_HEADER: &str = "\"id\",\"best_price_ethdai\",\"lastbid_osm_price_ethusd\",\"osm_price_ethusd\",\"lot\",\"lastbid_timestamp\",\"lastbid_datetime\",\"lastbid_blockNumber\",\"bidCount\",\"lastbid_txHash\",\"lastbid_txCost_USD\",\"gasPrice_GWei\",\"timestamp\",\"datetime\",\"blockNumber\",\"lastbid_blocks_before\",\"txCost\",\"state\",\"san_price_ethusd\",\"san_price_daiusd\",\"osm_profit\",\"osm_profit_ratio\",\"san_profit\",\"san_profit_ratio\",\"sanosm_price_diff\"\n";

fn maker_row(id: u32, lot: &str, deal_block: &str) -> String {
    format!(
        "{id},152.41985885,182.095,182.095,{lot},1574097431,\"2019-11-18T17:17:11.000Z\",8957671,2,\"0xe2bce6bce32df9c89aa9f11821982d9d7c8bcffde45044f3c5e4ec34ac5c9c0c\",0.27,10,1574098044,\"2019-11-18T17:27:24.000Z\",{deal_block},-41,0.09,\"CLOSED\",181.6,1.01,29.6,0.16,29.1,0.16,0.47\n"
    )
}

#[test]
fn maker_bad_input_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(
        dir.path(),
        "a.csv",
        &format!("{MAKER_HEADER}{}", maker_row(1, "0.18", "8957712")),
    );
    let cases = [
        (maker_row(2, "abc", "8957712"), "b.csv: line 3, column \"lot\": expected a positive lot in ETH, found \"abc\""),
        (maker_row(2, "0.5", "8957000"), "b.csv: line 3, column \"blockNumber\": deal block 8957000 before the last bid's block 8957671"),
    ];
    for (bad, msg) in cases {
        let p = write(
            dir.path(),
            "b.csv",
            &format!("{MAKER_HEADER}{}{bad}", maker_row(1, "0.18", "8957712")),
        );
        let e =
            ingest_observed(MAKER_FORMAT, &[good.clone(), p.clone()], &opts(), "t").unwrap_err();
        assert_eq!(e.to_string(), msg);
        // With skip: counted, the rest kept.
        let out = ingest_observed(MAKER_FORMAT, &[p], &skip(), "t").unwrap();
        assert_eq!((out.sources[0].rows_skipped, out.rows.len()), (1, 1));
    }
    // The same auction twice with another lot is a conflict.
    let p = write(
        dir.path(),
        "c.csv",
        &format!("{MAKER_HEADER}{}", maker_row(1, "0.2", "8957712")),
    );
    let e = ingest_observed(MAKER_FORMAT, &[good.clone(), p], &opts(), "t")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(
            "c.csv: line 2: conflicting rows for 2019-11-18 17:27:24 maker ETH-A auction 1"
        ),
        "{e}"
    );
    // Exact duplicates are counted, not doubled.
    let out = ingest_observed(MAKER_FORMAT, &[good.clone(), good], &opts(), "t").unwrap();
    assert_eq!((out.rows.len(), out.sources[1].rows_deduplicated), (1, 1));
}

const COMPOUND_HEADER: &str = "Liquidator,Borrower,Repay Amount,Collateral cToken,cTokens Seized,Repay cToken,Transaction,evt_index,evt_block_time,evt_block,DAI Repaid\n";

fn compound_row(repay: &str, ctoken: &str, dai: &str) -> String {
    format!("0xe8468f05550563aa5bfc5fbcb344bf87aa2f6b84,0x909b443761bbd7fbb876ecde71a37e1433f6af6f,{repay},{ctoken},2.39682512793648E+17,5d3a536e4d6dbd6114cc1ead35777bab948e3643,53e09adb77d1e3ea593c933a85bd4472371e03da12e3fec853b5bc7fac50f3e4,59,26/11/20 08:55,11333037,{dai}\n")
}

#[test]
fn compound_bad_input_and_dataset_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (compound_row("4.614E+25", "00aa", "46140000"), "d.csv: line 2, column \"Collateral cToken\": expected a known Compound v2 cToken address, found \"00aa\""),
        (compound_row("4.614E+25", "4ddc2d193948926d02f9b1fe9e1daa0718270ed5", "46150000"), "d.csv: line 2, column \"DAI Repaid\": 46150000 DAI does not match Repay Amount 46140000 DAI"),
        (compound_row("-1", "4ddc2d193948926d02f9b1fe9e1daa0718270ed5", "0"), "d.csv: line 2, column \"Repay Amount\": expected a non-negative amount in base units, found \"-1\""),
    ];
    // A dataset with one good row: a failed ingest must leave it byte for byte.
    let ds_dir = dir.path().join("ds");
    let good = write(
        dir.path(),
        "g.csv",
        &format!(
            "{COMPOUND_HEADER}{}",
            compound_row(
                "4.614E+25",
                "4ddc2d193948926d02f9b1fe9e1daa0718270ed5",
                "46140000"
            )
        ),
    );
    let out = ingest_observed(COMPOUND_FORMAT, &[good], &opts(), "t").unwrap();
    let mut ds = shortfall_store::Dataset::open_or_new(&ds_dir).unwrap();
    ds.add(out.rows, out.sources).unwrap();
    ds.commit().unwrap();
    let snapshot = |d: &Path| {
        let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let before = snapshot(&ds_dir);
    for (bad, msg) in cases {
        let p = write(dir.path(), "d.csv", &format!("{COMPOUND_HEADER}{bad}"));
        let e = ingest_observed(COMPOUND_FORMAT, &[p], &opts(), "t").map(|out| {
            let mut ds = shortfall_store::Dataset::open(&ds_dir).unwrap();
            ds.add(out.rows, out.sources).unwrap();
            ds.commit().unwrap();
        });
        assert_eq!(e.unwrap_err().to_string(), msg);
        assert_eq!(snapshot(&ds_dir), before);
    }
    let rows: Vec<ObservedAuction> = shortfall_store::Dataset::open(&ds_dir)
        .unwrap()
        .read()
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].rounded);
}

#[test]
fn osm_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let ev = |block: u64, data: &str| {
        format!(
            "{{\"address\":\"0x81FE72B5A8d1A857d176C3E7d5Bd2679A9B85763\",\"blockNumber\":{block},\"logIndex\":1,\"transactionHash\":\"0x00\",\"removed\":false,\"raw\":{{\"data\":\"{data}\",\"topics\":[\"0x296ba4ca62c6c21c95e828080cb8aec7481b71390585605300a8a76f9e95b527\"]}}}}"
        )
    };
    let price = "0x000000000000000000000000000000000000000000000009d5fb4733b3891800";
    let mut blocks = BlockTimes::default();
    blocks
        .read(
            "b.csv",
            b"number,timestamp\n100,1584000000\n200,1584001300\n",
        )
        .unwrap();
    let text = format!(
        "[\n{},\n{},\n{}\n]\n",
        ev(150, price),
        ev(150, "0xzz"),
        ev(300, price)
    );
    let p = write(dir.path(), "osm.json", &text);
    let o = OsmOptions {
        estimate_block_times: true,
        ..OsmOptions::default()
    };
    let e = ingest_osm(std::slice::from_ref(&p), &blocks, &o, &opts(), "t")
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "osm.json: line 3, column \"raw.data\": expected a 32-byte hex word"
    );
    let out = ingest_osm(std::slice::from_ref(&p), &blocks, &o, &skip(), "t").unwrap();
    assert_eq!((out.rounds.len(), out.sources[0].rows_skipped), (1, 2));
    assert_eq!(out.rounds[0].ts, Micros::from_secs(1_584_000_650));
    assert_eq!(out.rounds[0].answer, w("181.4396927"));
    // Without estimates an unknown block is an error.
    let e = ingest_osm(&[p], &blocks, &OsmOptions::default(), &skip(), "t").unwrap();
    assert_eq!(e.rounds.len(), 0);
    let _ = OnBadRow::Skip;
}

// ------------------------------------------------------------- forensics

#[test]
fn black_thursday_auction_forensics() {
    use shortfall_forensics::auctions::{calls, maker};
    let Some(p) = dataset(MAKER) else { return };
    let out = ingest_observed(MAKER_FORMAT, &[p], &opts(), "t").unwrap();
    let m = maker(&out.rows, Some((t("2020-03-12"), t("2020-03-14"))));
    // 36% of the auctions dealt on 2020-03-12/13 went for zero bids.
    assert_eq!(
        (m.dealt, m.zero_bids, m.unpriced, m.hours.len()),
        (4076, 1454, 0, 25)
    );
    assert_eq!(m.zero_bid_share, w("0.356722276741903827"));
    assert_eq!(m.eth_sold, w("154439.82969180090371117"));
    assert_eq!(m.dai_raised, w("8670429.650385834305893243"));
    assert_eq!(m.market_value_usd, w("19945843.252868868117000336"));
    assert_eq!(m.below_market_usd, w("11075685.175895009054585627"));
    // Zero bids cluster in the hours of dear gas and of a wide OSM/market gap.
    assert_eq!(m.zero_bid_share_high_gas, Some(w("0.481739130434782608")));
    assert_eq!(m.zero_bid_share_low_gas, Some(w("0.057452123230641132")));
    assert_eq!(m.zero_bid_share_wide_gap, Some(w("0.438520130576713819")));
    assert_eq!(m.zero_bid_share_narrow_gap, Some(w("0.289544235924932975")));

    let Some(p) = dataset(COMPOUND) else { return };
    let out = ingest_observed(COMPOUND_FORMAT, &[p], &opts(), "t").unwrap();
    let c = calls(&out.rows, "compound_v2");
    assert_eq!((c.events, c.accounts, c.liquidators.len()), (141, 124, 10));
    assert_eq!(
        c.liquidators[0].liquidator,
        "0xe8468f05550563aa5bfc5fbcb344bf87aa2f6b84"
    );
    assert_eq!(c.liquidators[0].share, w("0.646931049843688348"));
    assert_eq!(c.hhi, w("0.505174318549786499"));
    assert_eq!((c.rounded_events, c.rounded_repaid), (130, w("85211981")));
}

#[test]
fn aave_v2_may_2021_liquidations_as_observed_rows() {
    use shortfall_ingest::events::{ingest_events, EventsMapping};
    use shortfall_store::tables::CanonicalRow;
    let (Some(ev), Some(res)) = (
        dataset("events/aave_v2_liquidations_2021.subgraph.csv"),
        dataset("events/aave_v2_reserves_2021.subgraph.csv"),
    ) else {
        return;
    };
    let m = EventsMapping::from_file(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../datasets/mappings/aave_v2_subgraph_liquidations.toml"),
    )
    .unwrap();
    let o = IngestOptions {
        window: Some((t("2021-05-19"), t("2021-05-25"))),
        ..opts()
    };
    let out = ingest_events(&[ev], Some(&res), &m, &o, "t").unwrap();
    let (rows, merged) = shortfall_forensics::auctions::from_lending(&out.events);
    // Without block or log index, events of one second stay apart by
    // account and amounts: every key is unique, so the table takes them all.
    for w in rows.windows(2) {
        assert!(w[0].cmp_key(&w[1]).is_lt(), "{:?}\n{:?}", w[0], w[1]);
    }
    eprintln!(
        "aave v2 2021-05-19..24: {} liquidations, {merged} merged",
        rows.len()
    );
    assert_eq!(rows.len() as u64 + merged, out.events.len() as u64);
    let dir = tempfile::tempdir().unwrap();
    let mut ds = shortfall_store::Dataset::open_or_new(&dir.path().join("ds")).unwrap();
    let n = rows.len();
    ds.add(rows, out.event_sources).unwrap();
    ds.commit().unwrap();
    let back: Vec<ObservedAuction> = ds.read().unwrap();
    assert_eq!(back.len(), n);
}
