//! Synthetic logs for benchmarks: a deterministic mix of the events this
//! crate decodes, ABI-encoded with the same definitions, written as a cryo
//! `logs` parquet file with binary columns (the common layout of big log
//! extracts). Not real data: used by `shortfall bench logs`.

use std::sync::Arc;

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::SolEvent;
use arrow::array::{ArrayRef, BinaryArray, RecordBatch, UInt32Array, UInt64Array};

use super::abi::{aave_v2, chainlink, compound_v2};
use super::decode::encode_log;
use crate::IngestError;

/// First block of the synthetic range; 200 logs per block, 12 s per block.
pub const FIRST_BLOCK: u64 = 12_000_000;
/// Time of [`FIRST_BLOCK`] (2021-03-08).
pub const FIRST_TS: i64 = 1_615_161_600;
const LOGS_PER_BLOCK: u64 = 200;

fn word(i: u64, salt: u64) -> Address {
    let mut b = [0u8; 20];
    b[4..12].copy_from_slice(&(i % 50_000).to_be_bytes());
    b[12..20].copy_from_slice(&salt.to_be_bytes());
    Address::from(b)
}

/// The `i`th log: (address, topics, data).
fn log(
    i: u64,
    pool: Address,
    ctoken: Address,
    feed: Address,
    assets: &[Address],
) -> (Address, Vec<B256>, Vec<u8>) {
    let user = word(i.wrapping_mul(2_654_435_761), 1);
    let asset = assets[(i % assets.len() as u64) as usize];
    let amount = U256::from(1_000_000u64 + (i * 7919) % 1_000_000_000);
    let (addr, (t, d)) = match i % 8 {
        0 | 1 => (
            pool,
            encode_log(&aave_v2::Deposit {
                reserve: asset,
                user,
                onBehalfOf: user,
                amount,
                referral: 0,
            }),
        ),
        2 => (
            pool,
            encode_log(&aave_v2::Borrow {
                reserve: asset,
                user,
                onBehalfOf: user,
                amount,
                borrowRateMode: U256::from(2),
                borrowRate: U256::from(1u64) << 80,
                referral: 0,
            }),
        ),
        3 => (
            pool,
            encode_log(&aave_v2::Repay {
                reserve: asset,
                user,
                repayer: user,
                amount,
            }),
        ),
        4 => (
            pool,
            encode_log(&aave_v2::ReserveDataUpdated {
                reserve: asset,
                liquidityRate: U256::from(1u64) << 85,
                stableBorrowRate: U256::ZERO,
                variableBorrowRate: U256::from(1u64) << 86,
                liquidityIndex: U256::from(10u64).pow(U256::from(27)) + U256::from(i),
                variableBorrowIndex: U256::from(10u64).pow(U256::from(27)) + U256::from(2 * i),
            }),
        ),
        5 => (
            pool,
            encode_log(&aave_v2::LiquidationCall {
                collateralAsset: assets[0],
                debtAsset: asset,
                user,
                debtToCover: amount,
                liquidatedCollateralAmount: amount * U256::from(3),
                liquidator: word(i, 9),
                receiveAToken: false,
            }),
        ),
        6 => (
            ctoken,
            encode_log(&compound_v2::Mint {
                minter: user,
                mintAmount: amount,
                mintTokens: amount * U256::from(50),
            }),
        ),
        _ => (
            feed,
            encode_log(&chainlink::AnswerUpdated {
                current: alloy_primitives::I256::try_from(180_000_000_000i64 + (i % 1000) as i64)
                    .unwrap_or_default(),
                roundId: U256::from(i),
                updatedAt: U256::from((FIRST_TS as u64) + (i / LOGS_PER_BLOCK) * 12),
            }),
        ),
    };
    (addr, t, d)
}

/// A cryo `logs` parquet file of `n` logs among the given contracts.
pub fn cryo_parquet(
    n: u64,
    pool: Address,
    ctoken: Address,
    feed: Address,
    assets: &[Address],
) -> Result<Vec<u8>, IngestError> {
    let err = |e: String| IngestError::Options(format!("synthetic logs: {e}"));
    let mut buf = Vec::new();
    let schema_batch = |from: u64, to: u64| -> Result<RecordBatch, IngestError> {
        let logs: Vec<(Address, Vec<B256>, Vec<u8>)> = (from..to)
            .map(|i| log(i, pool, ctoken, feed, assets))
            .collect();
        let topic = |k: usize| -> ArrayRef {
            Arc::new(
                logs.iter()
                    .map(|l| l.1.get(k).map(|t| t.to_vec()))
                    .collect::<BinaryArray>(),
            )
        };
        let cols: Vec<(&str, ArrayRef)> = vec![
            (
                "block_number",
                Arc::new(
                    (from..to)
                        .map(|i| (FIRST_BLOCK + i / LOGS_PER_BLOCK) as u32)
                        .collect::<UInt32Array>(),
                ),
            ),
            (
                "transaction_index",
                Arc::new(
                    (from..to)
                        .map(|i| (i % LOGS_PER_BLOCK) / 2)
                        .collect::<UInt64Array>(),
                ),
            ),
            (
                "log_index",
                Arc::new(
                    (from..to)
                        .map(|i| (i % LOGS_PER_BLOCK) as u32)
                        .collect::<UInt32Array>(),
                ),
            ),
            (
                "transaction_hash",
                Arc::new(
                    (from..to)
                        .map(|i| Some(B256::from(U256::from(i / 2)).to_vec()))
                        .collect::<BinaryArray>(),
                ),
            ),
            (
                "address",
                Arc::new(
                    logs.iter()
                        .map(|l| Some(l.0.to_vec()))
                        .collect::<BinaryArray>(),
                ),
            ),
            ("topic0", topic(0)),
            ("topic1", topic(1)),
            ("topic2", topic(2)),
            ("topic3", topic(3)),
            (
                "data",
                Arc::new(
                    logs.iter()
                        .map(|l| Some(l.2.clone()))
                        .collect::<BinaryArray>(),
                ),
            ),
        ];
        RecordBatch::try_from_iter(cols).map_err(|e| err(e.to_string()))
    };
    let first = schema_batch(0, n.min(65_536))?;
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut buf, first.schema(), None)
        .map_err(|e| err(e.to_string()))?;
    w.write(&first).map_err(|e| err(e.to_string()))?;
    let mut from = n.min(65_536);
    while from < n {
        let to = (from + 65_536).min(n);
        w.write(&schema_batch(from, to)?)
            .map_err(|e| err(e.to_string()))?;
        from = to;
    }
    w.close().map_err(|e| err(e.to_string()))?;
    Ok(buf)
}

/// The blocks file (CSV `number,timestamp`) covering `n` synthetic logs.
pub fn blocks_csv(n: u64) -> String {
    let mut s = String::from("number,timestamp\n");
    for b in 0..=n / LOGS_PER_BLOCK {
        s.push_str(&format!(
            "{},{}\n",
            FIRST_BLOCK + b,
            FIRST_TS + b as i64 * 12
        ));
    }
    s
}

/// The event topics the generator uses (for tests).
pub fn topics() -> [B256; 7] {
    [
        aave_v2::Deposit::SIGNATURE_HASH,
        aave_v2::Borrow::SIGNATURE_HASH,
        aave_v2::Repay::SIGNATURE_HASH,
        aave_v2::ReserveDataUpdated::SIGNATURE_HASH,
        aave_v2::LiquidationCall::SIGNATURE_HASH,
        compound_v2::Mint::SIGNATURE_HASH,
        chainlink::AnswerUpdated::SIGNATURE_HASH,
    ]
}
