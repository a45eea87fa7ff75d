//! `rpc-logs` and `cryo-logs`: logs ABI-encoded with the same event
//! definitions (round trip), in every file layout, through decoding, block
//! times and the unknown-event accounting.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use alloy_primitives::{Address, Bytes, FixedBytes, B256, I256, U256};
use alloy_sol_types::{SolCall, SolEvent};
use arrow::array::{ArrayRef, BinaryArray, RecordBatch, StringArray, UInt32Array, UInt64Array};
use shortfall_core::{LendingKind, Micros, Wad};
use shortfall_ingest::chain::abi::{aave_v2, aave_v3, chainlink, compound_v2, maker};
use shortfall_ingest::chain::decode::encode_log;
use shortfall_ingest::chain::{
    ingest_logs, BlockTimes, ChainOptions, ChainOutput, LogFormat, Registry,
};

const POOL2: &str = "0x7d2768dE32b0b80b7a3454c06BdAc94A69DDc7A9";
const POOL3: &str = "0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2";
const CETH: &str = "0x4Ddc2D193948926D02f9B1fE9e1daa0718270ED5";
const CUSDC: &str = "0x39AA39c021dfbaE8faC545936693aC917d5E7563";
const CAT: &str = "0x78F2c2AF65126834c51822F56Be0d7469D7A523E";
const FLIP: &str = "0xd8a04F5412223F513DC55F839574430f5EC15531";
const CLIP: &str = "0xc67963a226eddd77b91ad8c421630a1b0adff270";
const FEED: &str = "0x00000000000000000000000000000000000000fe";
const WETH: &str = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2";
const USDC: &str = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48";

fn a(s: &str) -> Address {
    s.parse().unwrap()
}

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

fn registry() -> Registry {
    let mut r = Registry::default();
    r.add_contracts_file(&repo("datasets/chain/contracts.toml"))
        .unwrap();
    r.add_contracts_toml(
        &format!(
            "[[contracts]]\naddress = \"{FEED}\"\nrole = \"chainlink_aggregator\"\nfeed = \"chainlink:ETH/USD\"\nbase = \"ETH\"\nquote = \"USD\"\ndecimals = 8\nphase = 6\n"
        ),
        "test",
    )
    .unwrap();
    r.add_token_list_file(&repo("datasets/chain/tokens.json"))
        .unwrap();
    r
}

fn w(s: &str) -> Wad {
    Wad::parse_decimal(s, false).unwrap()
}

fn e18(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}

/// One log: (block, log index, address, topics, data).
type Log = (u64, u64, Address, Vec<B256>, Vec<u8>);

fn ev<E: SolEvent>(block: u64, idx: u64, addr: &str, e: E) -> Log {
    let (t, d) = encode_log(&e);
    (block, idx, a(addr), t, d)
}

fn ilk(s: &str) -> FixedBytes<32> {
    let mut b = [0u8; 32];
    b[..s.len()].copy_from_slice(s.as_bytes());
    FixedBytes(b)
}

/// A crisis day's worth of events, one of each kind we decode, plus noise.
fn logs() -> Vec<Log> {
    let user = a("0x00000000000000000000000000000000000000a1");
    let liq = a("0x00000000000000000000000000000000000000b2");
    let ray = U256::from(10u64).pow(U256::from(27));
    // flip tend(id 7, lot 50 ETH, bid 4,000 DAI) as a dss LogNote.
    let call = maker::tendCall {
        id: U256::from(7),
        lot: e18(50),
        bid: e18(4000) * ray,
    }
    .abi_encode();
    let mut sig = [0u8; 32];
    sig[..4].copy_from_slice(&maker::tendCall::SELECTOR);
    let note = maker::LogNote {
        sig: FixedBytes(maker::tendCall::SELECTOR),
        usr: liq,
        arg1: B256::from(U256::from(7)),
        arg2: B256::from(e18(50)),
        data: Bytes::from(call),
    };
    let (mut note_topics, note_data) = encode_log(&note);
    note_topics[0] = B256::from(sig);
    vec![
        ev(
            100,
            0,
            POOL2,
            aave_v2::ReserveDataUpdated {
                reserve: a(WETH),
                liquidityRate: ray / U256::from(50),
                stableBorrowRate: U256::ZERO,
                variableBorrowRate: ray / U256::from(20),
                liquidityIndex: ray + ray / U256::from(50),
                variableBorrowIndex: ray + ray / U256::from(10),
            },
        ),
        ev(
            100,
            1,
            POOL2,
            aave_v2::Deposit {
                reserve: a(WETH),
                user,
                onBehalfOf: user,
                amount: e18(10),
                referral: 0,
            },
        ),
        ev(
            101,
            0,
            POOL2,
            aave_v2::Borrow {
                reserve: a(USDC),
                user,
                onBehalfOf: user,
                amount: U256::from(15_000_000_000u64),
                borrowRateMode: U256::from(2),
                borrowRate: U256::ZERO,
                referral: 0,
            },
        ),
        ev(
            102,
            3,
            POOL2,
            aave_v2::LiquidationCall {
                collateralAsset: a(WETH),
                debtAsset: a(USDC),
                user,
                debtToCover: U256::from(7_500_000_000u64),
                liquidatedCollateralAmount: e18(6),
                liquidator: liq,
                receiveAToken: false,
            },
        ),
        ev(
            102,
            4,
            POOL3,
            aave_v3::DeficitCreated {
                user,
                debtAsset: a(USDC),
                amountCreated: U256::from(1_234_567u64),
            },
        ),
        ev(
            103,
            0,
            CETH,
            compound_v2::Mint {
                minter: user,
                mintAmount: e18(2),
                mintTokens: U256::from(10_000_000_000u64),
            },
        ),
        ev(
            103,
            1,
            CUSDC,
            compound_v2::Borrow {
                borrower: user,
                borrowAmount: U256::from(2_000_000_000u64),
                accountBorrows: U256::from(2_000_000_000u64),
                totalBorrows: U256::from(9u64),
            },
        ),
        ev(
            104,
            0,
            CUSDC,
            compound_v2::AccrueInterest {
                cashPrior: U256::ZERO,
                interestAccumulated: U256::ZERO,
                borrowIndex: U256::from(1_050_000_000_000_000_000u64),
                totalBorrows: U256::ZERO,
            },
        ),
        ev(
            104,
            1,
            CUSDC,
            compound_v2::LiquidateBorrow {
                liquidator: liq,
                borrower: user,
                repayAmount: U256::from(1_000_000_000u64),
                cTokenCollateral: a(CETH),
                seizeTokens: U256::from(5_400_000_000u64),
            },
        ),
        ev(
            105,
            0,
            CAT,
            maker::Bite {
                ilk: ilk("ETH-A"),
                urn: user,
                ink: e18(50),
                art: e18(5000),
                tab: e18(5650) * ray,
                flip: a(FLIP),
                id: U256::from(7),
            },
        ),
        ev(
            105,
            1,
            FLIP,
            maker::flip::Kick {
                id: U256::from(7),
                lot: e18(50),
                bid: U256::ZERO,
                tab: e18(5650) * ray,
                usr: user,
                gal: liq,
            },
        ),
        (106, 0, a(FLIP), note_topics, note_data),
        ev(
            107,
            0,
            CLIP,
            maker::clip::Take {
                id: U256::from(9),
                max: U256::ZERO,
                price: U256::from(120) * ray,
                owe: e18(1200) * ray,
                tab: U256::ZERO,
                lot: U256::ZERO,
                usr: user,
            },
        ),
        ev(
            107,
            1,
            FEED,
            chainlink::AnswerUpdated {
                current: I256::try_from(11_023_000_000i64).unwrap(),
                roundId: U256::from(42),
                updatedAt: U256::from(1_584_000_000u64),
            },
        ),
        // An event we do not decode, from a known contract, and one from an unknown contract.
        ev(
            107,
            2,
            POOL2,
            aave_v3::DeficitCreated {
                user,
                debtAsset: a(USDC),
                amountCreated: U256::from(1u64),
            },
        ),
        ev(
            107,
            3,
            "0x00000000000000000000000000000000000000cc",
            aave_v2::Withdraw {
                reserve: a(WETH),
                user,
                to: user,
                amount: U256::from(1u64),
            },
        ),
    ]
}

fn hx(b: &[u8]) -> String {
    format!("0x{}", alloy_primitives::hex::encode(b))
}

fn block_ts(b: u64) -> i64 {
    1_584_000_000 + (b as i64 - 100) * 600
}

/// The logs as `eth_getLogs` JSON; blocks 100-101 carry `blockTimestamp`.
fn rpc_json(logs: &[Log]) -> String {
    let mut v: Vec<serde_json::Value> = logs
        .iter()
        .map(|(b, i, addr, t, d)| {
            let mut o = serde_json::json!({
                "address": format!("{addr:#x}"),
                "topics": t.iter().map(|x| format!("{x:#x}")).collect::<Vec<_>>(),
                "data": hx(d),
                "blockNumber": format!("{b:#x}"),
                "transactionHash": format!("{:#x}", B256::from(U256::from(*b * 1000 + *i))),
                "transactionIndex": "0x0",
                "logIndex": format!("{i:#x}"),
                "removed": false,
            });
            if *b <= 101 {
                o["blockTimestamp"] = serde_json::json!(format!("{:#x}", block_ts(*b)));
            }
            o
        })
        .collect();
    // A reorged-out log is left out.
    let mut gone = v[1].clone();
    gone["removed"] = serde_json::json!(true);
    v.push(gone);
    serde_json::json!({"jsonrpc": "2.0", "id": 1, "result": v}).to_string()
}

fn blocks_csv() -> String {
    let mut s = String::from("number,timestamp\n");
    for b in [102u64, 103, 104, 105, 106, 107] {
        s.push_str(&format!("{b},{}\n", block_ts(b)));
    }
    s
}

fn run(
    format: LogFormat,
    file: &Path,
    blocks: &str,
    o: &ChainOptions,
) -> Result<ChainOutput, String> {
    let mut bt = BlockTimes::default();
    if !blocks.is_empty() {
        bt.read("blocks.csv", blocks.as_bytes()).unwrap();
    }
    ingest_logs(format, &[file.to_path_buf()], &bt, &registry(), o, "t").map_err(|e| e.to_string())
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn rpc_logs_decode_every_protocol() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "logs.json", rpc_json(&logs()).as_bytes());
    let out = run(LogFormat::Rpc, &p, &blocks_csv(), &ChainOptions::default()).unwrap();
    let rec = &out.event_sources[0];
    assert_eq!(rec.rows_read, 17, "16 logs and a removed one");
    assert_eq!(rec.rows_written, 13);
    assert!(
        rec.notes
            .iter()
            .any(|n| n == "1 logs marked removed (reorged out) left out"),
        "{:?}",
        rec.notes
    );
    assert_eq!(out.unknown.len(), 2, "{:?}", out.unknown);
    assert!(rec.notes.iter().any(|n| n.starts_with(
        "unknown: address 0x00000000000000000000000000000000000000cc topic0 0x3115d144"
    )));
    assert!(rec.notes.iter().any(|n| n.starts_with(&format!(
        "unknown: address {} topic0 0x2bccfb3f",
        POOL2.to_lowercase()
    ))));

    let by = |k: LendingKind, p: &str| {
        out.events
            .iter()
            .filter(|e| e.kind == k && e.protocol == p)
            .collect::<Vec<_>>()
    };
    let idx = by(LendingKind::IndexUpdate, "aave_v2")[0];
    assert_eq!(idx.asset, "WETH");
    assert_eq!(
        idx.liquidity_index_raw,
        Some(1_020_000_000_000_000_000_000_000_000)
    );
    assert_eq!(idx.ts, Micros::from_secs(block_ts(100)));
    let dep = by(LendingKind::Supply, "aave_v2")[0];
    assert_eq!((dep.asset.as_str(), dep.amount), ("WETH", Some(w("10"))));
    assert_eq!(dep.market, "aave-v2-ethereum");
    assert_eq!(dep.account, "0x00000000000000000000000000000000000000a1");
    let liq = by(LendingKind::Liquidation, "aave_v2")[0];
    assert_eq!(
        (liq.asset.as_str(), liq.amount, liq.amount_raw),
        ("USDC", Some(w("7500")), Some(7_500_000_000))
    );
    assert_eq!(
        (liq.collateral_asset.as_deref(), liq.collateral_amount),
        (Some("WETH"), Some(w("6")))
    );
    assert_eq!(
        liq.liquidator.as_deref(),
        Some("0x00000000000000000000000000000000000000b2")
    );
    assert_eq!((liq.block, liq.log_index), (Some(102), Some(3)));
    assert_eq!(
        liq.ts,
        Micros::from_secs(block_ts(102)),
        "from the blocks file"
    );
    assert!(!liq.ts_estimated);
    let def = by(LendingKind::Deficit, "aave_v3")[0];
    assert_eq!(def.amount, Some(w("1.234567")));

    let mint = by(LendingKind::Supply, "compound_v2")[0];
    assert_eq!(
        (mint.asset.as_str(), mint.amount, mint.shares_raw),
        ("ETH", Some(w("2")), Some(10_000_000_000))
    );
    assert_eq!(mint.market, "compound-v2");
    let borrow = by(LendingKind::Borrow, "compound_v2")[0];
    assert_eq!(borrow.account_balance_raw, Some(2_000_000_000));
    let cl = by(LendingKind::Liquidation, "compound_v2")[0];
    assert_eq!(
        (
            cl.asset.as_str(),
            cl.collateral_asset.as_deref(),
            cl.shares_raw
        ),
        ("USDC", Some("ETH"), Some(5_400_000_000))
    );
    assert_eq!(
        by(LendingKind::IndexUpdate, "compound_v2")[0].borrow_index_raw,
        Some(1_050_000_000_000_000_000)
    );

    let bite = by(LendingKind::Liquidation, "maker")[0];
    assert_eq!(
        (bite.market.as_str(), bite.asset.as_str(), bite.amount),
        ("ETH-A", "DAI", Some(w("5650")))
    );
    assert_eq!(
        (
            bite.collateral_asset.as_deref(),
            bite.collateral_amount,
            bite.auction_id
        ),
        (Some("ETH"), Some(w("50")), Some(7))
    );
    let kick = by(LendingKind::AuctionStart, "maker")[0];
    assert_eq!(
        (kick.amount, kick.collateral_amount),
        (Some(w("5650")), Some(w("50")))
    );
    let bids = by(LendingKind::AuctionBid, "maker");
    assert_eq!(bids.len(), 2, "flip tend and clip take");
    let tend = bids.iter().find(|e| e.auction_id == Some(7)).unwrap();
    assert_eq!(
        (tend.amount, tend.collateral_amount),
        (Some(w("4000")), Some(w("50")))
    );
    assert_eq!(
        tend.account, "0x00000000000000000000000000000000000000b2",
        "the bidder"
    );
    let take = bids.iter().find(|e| e.auction_id == Some(9)).unwrap();
    assert_eq!(
        (take.amount, take.collateral_amount),
        (Some(w("1200")), Some(w("10"))),
        "1,200 DAI at 120 buys 10 ETH"
    );

    assert_eq!(out.rounds.len(), 1);
    let r = &out.rounds[0];
    assert_eq!(
        (r.feed.as_str(), r.answer, r.round_id),
        ("chainlink:ETH/USD", w("110.23"), (6u128 << 64) | 42)
    );
    assert_eq!(r.ts, Micros::from_secs(1_584_000_000));
    assert_eq!(out.round_sources[0].rows_written, 1);
    assert!(out.events.windows(2).all(|p| p[0].cmp_order(&p[1]).is_lt()));
}

fn cryo_batch(logs: &[Log], hex_text: bool) -> RecordBatch {
    let bin = |f: &dyn Fn(&Log) -> Option<Vec<u8>>| -> ArrayRef {
        if hex_text {
            Arc::new(
                logs.iter()
                    .map(|l| f(l).map(|b| hx(&b)))
                    .collect::<StringArray>(),
            )
        } else {
            Arc::new(logs.iter().map(f).collect::<BinaryArray>())
        }
    };
    let topic = |k: usize| bin(&move |l: &Log| l.3.get(k).map(|t| t.to_vec()));
    let cols: Vec<(&str, ArrayRef)> = vec![
        (
            "block_number",
            Arc::new(logs.iter().map(|l| l.0 as u32).collect::<UInt32Array>()),
        ),
        (
            "transaction_index",
            Arc::new(logs.iter().map(|_| 0u64).collect::<UInt64Array>()),
        ),
        (
            "log_index",
            Arc::new(logs.iter().map(|l| l.1 as u32).collect::<UInt32Array>()),
        ),
        (
            "transaction_hash",
            bin(&|l: &Log| Some(B256::from(U256::from(l.0 * 1000 + l.1)).to_vec())),
        ),
        ("address", bin(&|l: &Log| Some(l.2.to_vec()))),
        ("topic0", topic(0)),
        ("topic1", topic(1)),
        ("topic2", topic(2)),
        ("topic3", topic(3)),
        ("data", bin(&|l: &Log| Some(l.4.clone()))),
    ];
    RecordBatch::try_from_iter(cols).unwrap()
}

fn parquet_bytes(batch: &RecordBatch) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut wr = parquet::arrow::ArrowWriter::try_new(&mut buf, batch.schema(), None).unwrap();
    wr.write(batch).unwrap();
    wr.close().unwrap();
    buf
}

fn all_blocks() -> String {
    let mut s = blocks_csv();
    s.push_str(&format!("100,{}\n101,{}\n", block_ts(100), block_ts(101)));
    s
}

#[test]
fn cryo_parquet_binary_hex_and_csv_give_the_same_rows_as_rpc() {
    let dir = tempfile::tempdir().unwrap();
    let logs = logs();
    let rpc = run(
        LogFormat::Rpc,
        &write(&dir, "l.json", rpc_json(&logs).as_bytes()),
        &blocks_csv(),
        &ChainOptions::default(),
    )
    .unwrap();
    for (name, bytes) in [
        ("bin.parquet", parquet_bytes(&cryo_batch(&logs, false))),
        ("hex.parquet", parquet_bytes(&cryo_batch(&logs, true))),
        ("logs.csv", {
            let b = cryo_batch(&logs, true);
            let mut out = Vec::new();
            arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut out)
                .write(&b)
                .unwrap();
            out
        }),
    ] {
        let out = run(
            LogFormat::Cryo,
            &write(&dir, name, &bytes),
            &all_blocks(),
            &ChainOptions::default(),
        )
        .unwrap();
        assert_eq!(out.events, rpc.events, "{name}");
        assert_eq!(out.rounds, rpc.rounds, "{name}");
        assert_eq!(out.event_sources[0].rows_read, 16, "{name}");
    }
}

#[test]
fn unknown_block_times_fail_unless_estimated() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "l.json", rpc_json(&logs()).as_bytes());
    // Without block 102..107 times.
    let e = run(LogFormat::Rpc, &p, "", &ChainOptions::default()).unwrap_err();
    assert!(
        e.starts_with("l.json: row 4, column \"block_number\": block 102: block time unknown"),
        "{e}"
    );
    // Known: 100, 101 (carried by the logs) and 104 from a file: 105..107
    // lie beyond the last known block and cannot be estimated.
    let o = ChainOptions {
        estimate_block_times: true,
        ..ChainOptions::default()
    };
    let e = run(
        LogFormat::Rpc,
        &p,
        &format!("number,timestamp\n104,{}\n", block_ts(104)),
        &o,
    )
    .unwrap_err();
    assert!(
        e.contains("block 105: no known block before and after it"),
        "{e}"
    );
    // With 107 known too (60 s late), everything in between is interpolated.
    let sparse = format!(
        "number,timestamp\n104,{}\n107,{}\n",
        block_ts(104),
        block_ts(107) + 60
    );
    let out = run(LogFormat::Rpc, &p, &sparse, &o).unwrap();
    let est: Vec<_> = out.events.iter().filter(|e| e.ts_estimated).collect();
    assert_eq!(est.len(), 7, "blocks 102 (x2), 103 (x2), 105 (x2), 106");
    let b105 = est.iter().find(|e| e.block == Some(105)).unwrap();
    // 104 -> 107 spans 1,860 s over 3 blocks: 105 is 620 s after 104.
    assert_eq!(b105.ts, Micros::from_secs(block_ts(104) + 620));
    let b102 = est.iter().find(|e| e.block == Some(102)).unwrap();
    assert_eq!(
        b102.ts,
        Micros::from_secs(block_ts(102)),
        "evenly spaced between 101 and 104"
    );
    assert!(
        out.event_sources[0]
            .notes
            .iter()
            .any(|n| n.starts_with("7 events with an estimated block time")),
        "{:?}",
        out.event_sources[0].notes
    );
}

#[test]
fn malformed_logs_name_file_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let text = rpc_json(&logs()).replacen("\"logIndex\":\"0x0\"", "\"logIndex\":\"0xzz\"", 1);
    let p = write(&dir, "bad.json", text.as_bytes());
    let e = run(LogFormat::Rpc, &p, &blocks_csv(), &ChainOptions::default()).unwrap_err();
    assert_eq!(
        e,
        "bad.json: row 1, column \"logIndex\": expected a hex quantity, found \"0xzz\""
    );
    let p = write(&dir, "nope.json", b"{\"errors\": 1}");
    let e = run(LogFormat::Rpc, &p, "", &ChainOptions::default()).unwrap_err();
    assert!(e.starts_with("nope.json: not an eth_getLogs result"), "{e}");
    // A JSON-RPC error envelope: the node's own error in the message.
    let p = write(
        &dir,
        "err.json",
        br#"{"jsonrpc":"2.0","id":1,"error":{"code":-32005,"message":"query returned more than 10000 results"}}"#,
    );
    let e = run(LogFormat::Rpc, &p, "", &ChainOptions::default()).unwrap_err();
    assert_eq!(
        e,
        r#"err.json: the node answered with an error, not logs: {"code":-32005,"message":"query returned more than 10000 results"}"#
    );
    // A known event whose data is cut short fails (or is skipped and counted).
    let mut l = logs();
    l[1].4.truncate(10);
    let p = write(&dir, "short.json", rpc_json(&l).as_bytes());
    let e = run(LogFormat::Rpc, &p, &blocks_csv(), &ChainOptions::default()).unwrap_err();
    assert!(
        e.starts_with("short.json: row 2, column \"data\": block 100 log 1: Deposit(")
            && e.contains("does not decode"),
        "{e}"
    );
    let o = ChainOptions {
        on_bad_row: shortfall_ingest::OnBadRow::Skip,
        ..ChainOptions::default()
    };
    let out = run(LogFormat::Rpc, &p, &blocks_csv(), &o).unwrap();
    assert_eq!(out.event_sources[0].rows_skipped, 1);
    // cryo parquet with a 19-byte address.
    let mut b = cryo_batch(&logs(), false);
    let mut cols: Vec<ArrayRef> = b.columns().to_vec();
    cols[4] = Arc::new(BinaryArray::from_iter_values(std::iter::repeat_n(
        vec![1u8; 19],
        b.num_rows(),
    )));
    b = RecordBatch::try_new(b.schema(), cols).unwrap();
    let p = write(&dir, "short.parquet", &parquet_bytes(&b));
    let e = run(LogFormat::Cryo, &p, &all_blocks(), &ChainOptions::default()).unwrap_err();
    assert!(
        e.starts_with("short.parquet: row 1, column \"address\": expected 20 bytes"),
        "{e}"
    );
}

#[test]
fn overlapping_files_do_not_double_events() {
    let dir = tempfile::tempdir().unwrap();
    let l = logs();
    let p1 = write(&dir, "a.json", rpc_json(&l[..8]).as_bytes());
    let p2 = write(&dir, "b.json", rpc_json(&l[4..]).as_bytes());
    let mut bt = BlockTimes::default();
    bt.read("b.csv", all_blocks().as_bytes()).unwrap();
    let out = ingest_logs(
        LogFormat::Rpc,
        &[p1, p2],
        &bt,
        &registry(),
        &ChainOptions::default(),
        "t",
    )
    .unwrap();
    assert_eq!(out.events.len(), 13);
    assert!(out.event_sources[1].rows_deduplicated >= 4);
}

/// The logs above as committed fixtures for the command-line tests
/// (`SHORTFALL_BLESS=1` rewrites them).
#[test]
fn committed_fixtures_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for (name, text) in [
        ("crisis_logs.rpc.json", rpc_json(&logs())),
        ("crisis_blocks.csv", blocks_csv()),
    ] {
        let p = dir.join(name);
        if std::env::var_os("SHORTFALL_BLESS").is_some() {
            std::fs::write(&p, &text).unwrap();
        }
        let have = std::fs::read_to_string(&p).unwrap_or_default();
        assert!(
            have == text,
            "{name} is out of date: run with SHORTFALL_BLESS=1"
        );
    }
}

/// Real logs of a Compound v2 fork's cToken (Tectonic tCRO on Cronos):
/// the decoder reads what a deployed contract emitted, not only what it
/// encoded itself.
#[test]
fn real_compound_fork_logs_decode() {
    let mut reg = Registry::default();
    reg.add_contracts_toml(
        "[[contracts]]\naddress = \"0x131b6f908395f4f43a5a9320b7f96e755df86f8c\"\nrole = \"compound_v2_ctoken\"\nmarket = \"tectonic\"\nunderlying = \"CRO\"\nunderlying_decimals = 18\n",
        "test",
    )
    .unwrap();
    let mut bt = BlockTimes::default();
    // The block's time is not in the sample: any time serves the decoding test.
    bt.read("b.csv", b"number,timestamp\n12675283,1700000000\n")
        .unwrap();
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tectonic_tcro_logs.rpc.json");
    let out = ingest_logs(
        LogFormat::Rpc,
        &[p],
        &bt,
        &reg,
        &ChainOptions::default(),
        "t",
    )
    .unwrap();
    assert_eq!(out.events.len(), 3, "AccrueInterest, Mint, Redeem");
    let rec = &out.event_sources[0];
    assert_eq!((rec.rows_read, rec.rows_written), (5, 3));
    assert!(
        rec.notes
            .iter()
            .any(|n| n.contains("topic0 0xddf252ad") && n.ends_with(": 2")),
        "{:?}",
        rec.notes
    );
    let acc = &out.events[0];
    assert_eq!(
        (acc.kind, acc.log_index),
        (LendingKind::IndexUpdate, Some(10))
    );
    assert_eq!(acc.borrow_index_raw, Some(1_000_006_386_986_590_841));
    let mint = &out.events[1];
    assert_eq!(mint.kind, LendingKind::Supply);
    assert_eq!(mint.account, "0x47ef752f08676a1c8a72959d73da5281b37661e4");
    assert_eq!(
        (mint.asset.as_str(), mint.amount, mint.shares_raw),
        ("CRO", Some(w("1")), Some(1_000_000_000))
    );
    let redeem = &out.events[2];
    assert_eq!(redeem.kind, LendingKind::Withdraw);
    assert_eq!(redeem.amount_raw, Some(999_999_998_000_000_000));
    assert_eq!(redeem.shares_raw, Some(999_999_998));
    assert_eq!(
        redeem.tx_hash.as_deref(),
        Some("0x4c4584a57e5487a06e61c815c7ee368656ad58bd38774184eadcd97072dc1e4b")
    );
}
