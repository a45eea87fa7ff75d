//! Raw EVM logs from files: the JSON of `eth_getLogs` (`rpc-logs`) and the
//! `logs` dataset of cryo, as parquet (binary or hex columns) or CSV
//! (`cryo-logs`).

use std::sync::Arc;

use alloy_primitives::{hex, Address, B256};
use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::DataType;
use serde::Deserialize;

use crate::error::{IngestError, Location};

/// One log as the chain gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawLog {
    pub block: u64,
    pub tx_index: Option<u64>,
    pub log_index: u64,
    pub tx_hash: Option<B256>,
    pub address: Address,
    pub topics: Vec<B256>,
    pub data: Vec<u8>,
    /// Block time in seconds, when the file carries it (`blockTimestamp`).
    pub block_ts: Option<i64>,
    /// Where in its file the log is.
    pub loc: Location,
}

fn bad(file: &str, loc: Location, column: &str, expected: &str, found: &str) -> IngestError {
    IngestError::BadValue {
        file: file.to_string(),
        location: loc,
        column: column.to_string(),
        expected: expected.to_string(),
        found: crate::num::show(found.as_bytes()),
    }
}

fn quantity(s: &str) -> Option<u64> {
    let t = s.trim();
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) if !h.is_empty() && h.len() <= 16 => u64::from_str_radix(h, 16).ok(),
        Some(_) => None,
        None => t.parse().ok(),
    }
}

fn bytes32(s: &str) -> Option<B256> {
    s.trim().parse::<B256>().ok()
}

fn address(s: &str) -> Option<Address> {
    s.trim().parse::<Address>().ok()
}

fn data_hex(s: &str) -> Option<Vec<u8>> {
    let t = s.trim();
    if t.is_empty() || t == "0x" {
        return Some(Vec::new());
    }
    hex::decode(t).ok()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RpcLog {
    address: String,
    topics: Vec<String>,
    #[serde(default)]
    data: String,
    block_number: Option<String>,
    #[serde(default)]
    transaction_hash: Option<String>,
    #[serde(default)]
    transaction_index: Option<String>,
    log_index: Option<String>,
    #[serde(default)]
    removed: bool,
    #[serde(default)]
    block_timestamp: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RpcFile {
    Logs(Vec<RpcLog>),
    Response { result: Vec<RpcLog> },
}

/// Reads the result of `eth_getLogs`: an array of log objects, or the JSON-RPC
/// response holding one. Logs marked `removed` (reorged out) are dropped and
/// counted in the second value.
pub fn read_rpc(file: &str, bytes: &[u8]) -> Result<(Vec<RawLog>, u64), IngestError> {
    let parsed: RpcFile = serde_json::from_slice(bytes).map_err(|e| {
        // A JSON-RPC error envelope: say what the node said.
        if let Ok(serde_json::Value::Object(o)) = serde_json::from_slice(bytes) {
            if let (Some(err), None) = (o.get("error"), o.get("result")) {
                return IngestError::structure(
                    file,
                    format!("the node answered with an error, not logs: {err}"),
                );
            }
        }
        IngestError::structure(
            file,
            format!("not an eth_getLogs result (array of logs or {{\"result\": [...]}}): {e}"),
        )
    })?;
    let logs = match parsed {
        RpcFile::Logs(l) | RpcFile::Response { result: l } => l,
    };
    let mut out = Vec::with_capacity(logs.len());
    let mut removed = 0;
    for (i, l) in logs.into_iter().enumerate() {
        let loc = Location::Row(i as u64 + 1);
        if l.removed {
            removed += 1;
            continue;
        }
        let need = |v: &Option<String>, col: &str| -> Result<u64, IngestError> {
            let s = v.as_deref().unwrap_or("");
            quantity(s).ok_or_else(|| bad(file, loc, col, "a hex quantity", s))
        };
        let topics = l
            .topics
            .iter()
            .map(|t| bytes32(t).ok_or_else(|| bad(file, loc, "topics", "32-byte hex topics", t)))
            .collect::<Result<Vec<_>, _>>()?;
        out.push(RawLog {
            block: need(&l.block_number, "blockNumber")?,
            tx_index: l
                .transaction_index
                .as_deref()
                .map(|s| {
                    quantity(s)
                        .ok_or_else(|| bad(file, loc, "transactionIndex", "a hex quantity", s))
                })
                .transpose()?,
            log_index: need(&l.log_index, "logIndex")?,
            tx_hash: l
                .transaction_hash
                .as_deref()
                .map(|s| {
                    bytes32(s)
                        .ok_or_else(|| bad(file, loc, "transactionHash", "a 32-byte hex hash", s))
                })
                .transpose()?,
            address: address(&l.address)
                .ok_or_else(|| bad(file, loc, "address", "a 20-byte hex address", &l.address))?,
            topics,
            data: data_hex(&l.data).ok_or_else(|| bad(file, loc, "data", "hex bytes", &l.data))?,
            block_ts: l
                .block_timestamp
                .as_deref()
                .map(|s| {
                    quantity(s)
                        .and_then(|v| i64::try_from(v).ok())
                        .ok_or_else(|| bad(file, loc, "blockTimestamp", "a hex quantity", s))
                })
                .transpose()?,
            loc,
        });
    }
    Ok((out, removed))
}

/// Column positions of a cryo `logs` table.
struct CryoCols {
    block: usize,
    tx_index: Option<usize>,
    log_index: usize,
    tx_hash: Option<usize>,
    address: usize,
    topics: [Option<usize>; 4],
    data: usize,
}

impl CryoCols {
    fn find(file: &str, names: &[String]) -> Result<CryoCols, IngestError> {
        let pos = |n: &str| names.iter().position(|c| c == n);
        let need = |n: &str| {
            pos(n).ok_or_else(|| {
                IngestError::structure(
                    file,
                    format!(
                        "not a cryo logs table: no column `{n}` (columns: {})",
                        names.join(", ")
                    ),
                )
            })
        };
        Ok(CryoCols {
            block: need("block_number")?,
            tx_index: pos("transaction_index"),
            log_index: need("log_index")?,
            tx_hash: pos("transaction_hash"),
            address: need("address")?,
            topics: [pos("topic0"), pos("topic1"), pos("topic2"), pos("topic3")],
            data: need("data")?,
        })
    }
}

/// A cell of a cryo column: raw bytes (binary columns) or hex text.
enum Cell<'a> {
    Null,
    Bytes(&'a [u8]),
    Text(&'a str),
    Int(u64),
}

fn cell(a: &ArrayRef, i: usize) -> Cell<'_> {
    if a.is_null(i) {
        return Cell::Null;
    }
    match a.data_type() {
        DataType::Binary => Cell::Bytes(a.as_binary::<i32>().value(i)),
        DataType::LargeBinary => Cell::Bytes(a.as_binary::<i64>().value(i)),
        DataType::FixedSizeBinary(_) => Cell::Bytes(a.as_fixed_size_binary().value(i)),
        DataType::BinaryView => Cell::Bytes(a.as_binary_view().value(i)),
        DataType::Utf8 => Cell::Text(a.as_string::<i32>().value(i)),
        DataType::LargeUtf8 => Cell::Text(a.as_string::<i64>().value(i)),
        DataType::Utf8View => Cell::Text(a.as_string_view().value(i)),
        DataType::UInt64 => Cell::Int(a.as_primitive::<arrow::datatypes::UInt64Type>().value(i)),
        _ => Cell::Null,
    }
}

/// Integer columns of any width as UInt64 (cryo writes u32 and u64).
fn widen(a: &ArrayRef) -> ArrayRef {
    match a.data_type() {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => {
            arrow::compute::cast(a, &DataType::UInt64).unwrap_or_else(|_| Arc::clone(a))
        }
        _ => Arc::clone(a),
    }
}

/// One row of a cryo table read through [`CryoCols`].
struct CryoRow<'r> {
    file: &'r str,
    loc: Location,
    names: &'r [String],
    get: &'r dyn Fn(usize) -> Cell<'r>,
}

impl CryoRow<'_> {
    fn int(&self, i: usize) -> Result<u64, IngestError> {
        match (self.get)(i) {
            Cell::Int(v) => Ok(v),
            Cell::Text(t) => {
                quantity(t).ok_or_else(|| bad(self.file, self.loc, &self.names[i], "an integer", t))
            }
            Cell::Null => Err(bad(self.file, self.loc, &self.names[i], "an integer", "")),
            Cell::Bytes(b) => Err(bad(
                self.file,
                self.loc,
                &self.names[i],
                "an integer",
                &format!("0x{} (bytes)", hex::encode(b)),
            )),
        }
    }

    fn bytes(&self, i: usize, len: Option<usize>) -> Result<Option<Vec<u8>>, IngestError> {
        let v = match (self.get)(i) {
            Cell::Null => return Ok(None),
            Cell::Bytes(b) => b.to_vec(),
            Cell::Text(t) if t.trim().is_empty() => return Ok(None),
            Cell::Text(t) => data_hex(t)
                .ok_or_else(|| bad(self.file, self.loc, &self.names[i], "hex bytes", t))?,
            Cell::Int(v) => {
                return Err(bad(
                    self.file,
                    self.loc,
                    &self.names[i],
                    "bytes",
                    &v.to_string(),
                ))
            }
        };
        match len {
            Some(n) if v.len() != n => Err(bad(
                self.file,
                self.loc,
                &self.names[i],
                &format!("{n} bytes"),
                &format!("0x{}", hex::encode(&v)),
            )),
            _ => Ok(Some(v)),
        }
    }

    fn log(&self, c: &CryoCols) -> Result<RawLog, IngestError> {
        let address = self
            .bytes(c.address, Some(20))?
            .ok_or_else(|| bad(self.file, self.loc, "address", "an address", ""))?;
        let mut topics = Vec::with_capacity(4);
        for t in c.topics.iter().flatten() {
            match self.bytes(*t, Some(32))? {
                Some(b) => topics.push(B256::from_slice(&b)),
                None => break,
            }
        }
        Ok(RawLog {
            block: self.int(c.block)?,
            tx_index: c.tx_index.map(|i| self.int(i)).transpose()?,
            log_index: self.int(c.log_index)?,
            tx_hash: match c.tx_hash {
                Some(i) => self.bytes(i, Some(32))?.map(|b| B256::from_slice(&b)),
                None => None,
            },
            address: Address::from_slice(&address),
            topics,
            data: self.bytes(c.data, None)?.unwrap_or_default(),
            block_ts: None,
            loc: self.loc,
        })
    }
}

/// Reads a cryo `logs` table: parquet (binary or `--hex` columns) or CSV.
pub fn read_cryo(file: &str, bytes: &[u8]) -> Result<Vec<RawLog>, IngestError> {
    if bytes.starts_with(b"PAR1") {
        return read_cryo_parquet(file, bytes);
    }
    let (mut rdr, names) = super::csv_with_header(file, bytes)?;
    let c = CryoCols::find(file, &names)?;
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| IngestError::structure(file, format!("unreadable CSV: {e}")))?;
        let line = rec.position().map_or(0, |p| p.line());
        let get = |i: usize| match rec.get(i) {
            Some("") | None => Cell::Null,
            Some(t) => Cell::Text(t),
        };
        let row = CryoRow {
            file,
            loc: Location::Line(line),
            names: &names,
            get: &get,
        };
        out.push(row.log(&c)?);
    }
    Ok(out)
}

fn read_cryo_parquet(file: &str, bytes: &[u8]) -> Result<Vec<RawLog>, IngestError> {
    let (names, mut next) = crate::formats::mapped::open_parquet(file, bytes)?;
    let c = CryoCols::find(file, &names)?;
    let mut out = Vec::new();
    let mut row_no = 0u64;
    while let Some(batch) = next()? {
        let cols: Vec<ArrayRef> = batch.columns().iter().map(widen).collect();
        for r in 0..batch.num_rows() {
            row_no += 1;
            let get = |i: usize| cols.get(i).map_or(Cell::Null, |a| cell(a, r));
            let row = CryoRow {
                file,
                loc: Location::Row(row_no),
                names: &names,
                get: &get,
            };
            out.push(row.log(&c)?);
        }
    }
    Ok(out)
}
