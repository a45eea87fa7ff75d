//! Block timestamps: from a cryo `blocks` table (parquet or CSV) or a CSV of
//! `number,timestamp`, and from logs that carry `blockTimestamp`. A log whose
//! block time is unknown is an error unless the user asks for estimates,
//! which interpolate between the nearest known blocks and are marked.

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, UInt64Type};

use crate::error::{IngestError, Location};

/// Known block times (seconds).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockTimes {
    times: BTreeMap<u64, i64>,
}

fn parse_int(s: &str) -> Option<u64> {
    let t = s.trim();
    match t.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => t.parse::<u64>().ok().or_else(|| {
            // `1584057600.0` as some exports write it.
            t.strip_suffix(".0").and_then(|v| v.parse().ok())
        }),
    }
}

impl BlockTimes {
    /// Records a block time; the same block with another time is an error.
    pub fn insert(
        &mut self,
        block: u64,
        ts: i64,
        file: &str,
        loc: Location,
    ) -> Result<(), IngestError> {
        match self.times.insert(block, ts) {
            Some(old) if old != ts => Err(IngestError::Conflict {
                file: file.to_string(),
                location: loc,
                message: format!("block {block} has time {ts} here and {old} elsewhere"),
            }),
            _ => Ok(()),
        }
    }

    pub fn len(&self) -> usize {
        self.times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// The time of a block, if known.
    pub fn get(&self, block: u64) -> Option<i64> {
        self.times.get(&block).copied()
    }

    /// Known (block, time) pairs in block order.
    pub fn points(&self) -> Vec<(u64, i64)> {
        self.times.iter().map(|(b, t)| (*b, *t)).collect()
    }

    /// Blocks between the known blocks around `block` (0 when it is known;
    /// `None` outside the known range).
    pub fn bracket(&self, block: u64) -> Option<u64> {
        if self.times.contains_key(&block) {
            return Some(0);
        }
        let (&b0, _) = self.times.range(..block).next_back()?;
        let (&b1, _) = self.times.range(block..).next()?;
        Some(b1 - b0)
    }

    /// An estimate by linear interpolation between the nearest known blocks
    /// before and after (none outside the known range).
    pub fn estimate(&self, block: u64) -> Option<i64> {
        if let Some(t) = self.get(block) {
            return Some(t);
        }
        let (&b0, &t0) = self.times.range(..block).next_back()?;
        let (&b1, &t1) = self.times.range(block..).next()?;
        let span = i128::from(b1 - b0);
        let dt = i128::from(t1) - i128::from(t0);
        Some(t0 + i64::try_from(dt * i128::from(block - b0) / span).ok()?)
    }

    /// Reads a blocks file: cryo `blocks` (parquet or CSV, `block_number` and
    /// `timestamp`) or a CSV with `number`/`block` and `timestamp` columns.
    pub fn read(&mut self, file: &str, bytes: &[u8]) -> Result<usize, IngestError> {
        let before = self.len();
        if bytes.starts_with(b"PAR1") {
            let (names, mut next) = crate::formats::mapped::open_parquet(file, bytes)?;
            let (bi, ti) = columns(file, &names)?;
            let mut row = 0u64;
            while let Some(batch) = next()? {
                let cast = |i: usize| {
                    arrow::compute::cast(batch.column(i), &DataType::UInt64).map_err(|e| {
                        IngestError::structure(file, format!("column `{}`: {e}", names[i]))
                    })
                };
                let (b, t) = (cast(bi)?, cast(ti)?);
                let (b, t) = (
                    b.as_primitive::<UInt64Type>(),
                    t.as_primitive::<UInt64Type>(),
                );
                for r in 0..batch.num_rows() {
                    row += 1;
                    let loc = Location::Row(row);
                    if b.is_null(r) || t.is_null(r) {
                        return Err(bad(
                            file,
                            loc,
                            &names[if b.is_null(r) { bi } else { ti }],
                            "",
                        ));
                    }
                    let ts = i64::try_from(t.value(r))
                        .map_err(|_| bad(file, loc, &names[ti], &t.value(r).to_string()))?;
                    self.insert(b.value(r), ts, file, loc)?;
                }
            }
        } else {
            let (mut rdr, names) = super::csv_with_header(file, bytes)?;
            if let Some(pairs) = maker_auction_pairs(&names) {
                return self.read_pairs(file, &mut rdr, &names, &pairs, before);
            }
            let (bi, ti) = columns(file, &names)?;
            for rec in rdr.records() {
                let rec =
                    rec.map_err(|e| IngestError::structure(file, format!("unreadable CSV: {e}")))?;
                let loc = Location::Line(rec.position().map_or(0, |p| p.line()));
                let field = |i: usize| rec.get(i).unwrap_or("");
                let b =
                    parse_int(field(bi)).ok_or_else(|| bad(file, loc, &names[bi], field(bi)))?;
                let t = parse_int(field(ti))
                    .and_then(|t| i64::try_from(t).ok())
                    .ok_or_else(|| bad(file, loc, &names[ti], field(ti)))?;
                self.insert(b, t, file, loc)?;
            }
        }
        if self.len() == before && before == 0 {
            return Err(IngestError::structure(file, "no blocks"));
        }
        Ok(self.len() - before)
    }
}

/// The Maker flip auctions export pairs blocks with times twice per row:
/// the last bid (`lastbid_blockNumber`, `lastbid_timestamp`) and the deal
/// (`blockNumber`, `timestamp`, empty when there was no deal).
fn maker_auction_pairs(names: &[String]) -> Option<Vec<(usize, usize)>> {
    let pos = |n: &str| names.iter().position(|x| x == n);
    let last = (pos("lastbid_blockNumber")?, pos("lastbid_timestamp")?);
    let deal = (pos("blockNumber")?, pos("timestamp")?);
    Some(vec![last, deal])
}

impl BlockTimes {
    fn read_pairs(
        &mut self,
        file: &str,
        rdr: &mut csv::Reader<&[u8]>,
        names: &[String],
        pairs: &[(usize, usize)],
        before: usize,
    ) -> Result<usize, IngestError> {
        for rec in rdr.records() {
            let rec =
                rec.map_err(|e| IngestError::structure(file, format!("unreadable CSV: {e}")))?;
            let loc = Location::Line(rec.position().map_or(0, |p| p.line()));
            let field = |i: usize| rec.get(i).unwrap_or("").trim();
            for &(bi, ti) in pairs {
                if field(bi).is_empty() && field(ti).is_empty() {
                    continue;
                }
                let b =
                    parse_int(field(bi)).ok_or_else(|| bad(file, loc, &names[bi], field(bi)))?;
                let t = parse_int(field(ti))
                    .and_then(|t| i64::try_from(t).ok())
                    .ok_or_else(|| bad(file, loc, &names[ti], field(ti)))?;
                self.insert(b, t, file, loc)?;
            }
        }
        if self.len() == before {
            return Err(IngestError::structure(file, "no blocks"));
        }
        Ok(self.len() - before)
    }
}

fn bad(file: &str, loc: Location, column: &str, found: &str) -> IngestError {
    IngestError::BadValue {
        file: file.to_string(),
        location: loc,
        column: column.to_string(),
        expected: "a non-negative integer".into(),
        found: crate::num::show(found.as_bytes()),
    }
}

fn columns(file: &str, names: &[String]) -> Result<(usize, usize), IngestError> {
    let pos = |cands: &[&str]| names.iter().position(|n| cands.contains(&n.as_str()));
    match (pos(&["block_number", "number", "block"]), pos(&["timestamp", "time"])) {
        (Some(b), Some(t)) => Ok((b, t)),
        _ => Err(IngestError::structure(
            file,
            format!(
                "not a blocks table: need `block_number` (or `number`) and `timestamp` columns, found {}",
                names.join(", ")
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_csv_and_interpolates_only_inside() {
        let mut b = BlockTimes::default();
        let n = b
            .read(
                "b.csv",
                b"number,timestamp\n100,1000\n110,1120\n0x78,1240\n",
            )
            .unwrap();
        assert_eq!(n, 3);
        assert_eq!(b.get(110), Some(1120));
        assert_eq!(b.estimate(105), Some(1060));
        assert_eq!(b.estimate(99), None);
        assert_eq!(b.estimate(121), None);
        let e = b
            .read("c.csv", b"block,time\n110,1121\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "c.csv: line 2: block 110 has time 1121 here and 1120 elsewhere"
        );
        let e = b
            .read("d.csv", b"number,timestamp\n7,x\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("d.csv: line 2, column \"timestamp\""), "{e}");
    }
}
