//! Run tables of a perp replay: `perp_positions.parquet` (one row per input
//! position, [`PerpPositionOutcome`]), `perp_accounts.parquet` (one row per
//! margin account, [`PerpAccountOutcome`]) and `perp_insurance_fund.parquet`
//! (the fund's balance after each change). Their registry names are
//! `perp_position_outcomes`, `perp_accounts` and `perp_insurance_fund`
//! (`perp_positions` is the input table of snapshots).
//!
//! Rows keep the engine's order, which the tables' index columns make
//! explicit: `position_index` is the input row of the position (what
//! `perp_accounts.positions` lists), `account_index` the margin account's
//! number, `seq` the fund change's number. Decoding checks that each index
//! equals the row's place in the file.

use std::path::Path;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, TimestampMicrosecondArray};
use shortfall_core::perp_run::{PerpAccountOutcome, PerpPositionOutcome, PerpStatus};
use shortfall_core::{MarginMode, Micros, PerpSide, Wad};
use std::sync::Arc;

use super::cols::{self, Reader};
use super::{col, wad_col, CanonicalRow, ColType as T, TableDef};
use crate::StoreError;

fn parse_status(s: &str) -> Result<PerpStatus, String> {
    PerpStatus::parse(s).ok_or_else(|| {
        let names: Vec<&str> = PerpStatus::ALL.iter().map(|v| v.as_str()).collect();
        format!("expected one of {}", names.join(", "))
    })
}

fn parse_side(s: &str) -> Result<PerpSide, &'static str> {
    PerpSide::parse(s).ok_or("expected `long` or `short`")
}

fn parse_mode(s: &str) -> Result<MarginMode, &'static str> {
    MarginMode::parse(s).ok_or("expected `isolated` or `cross`")
}

/// `0..n` as an Int64 column.
fn index_col(n: usize) -> ArrayRef {
    Arc::new(Int64Array::from_iter_values(0..n as i64))
}

/// Checks an index column against the row's place in the file.
fn check_index(c: &Reader<'_>, column: &str, i: usize) -> Result<(), StoreError> {
    let v = c.count(column, i)?;
    if v != (c.first + i) as u64 {
        return Err(StoreError::BadValue {
            path: c.path.to_path_buf(),
            row: c.first + i,
            column: column.to_string(),
            message: format!("{v} out of order: rows must be numbered 0, 1, 2, ..."),
        });
    }
    Ok(())
}

/// `perp_accounts.positions` text: input rows joined by commas (`0,3,7`);
/// DuckDB reads it back with `string_split(positions, ',')::BIGINT[]`.
pub fn positions_text(p: &[usize]) -> String {
    let parts: Vec<String> = p.iter().map(usize::to_string).collect();
    parts.join(",")
}

/// Inverse of [`positions_text`].
pub fn parse_positions_text(s: &str) -> Result<Vec<usize>, String> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(|x| {
            x.parse::<usize>()
                .map_err(|_| format!("expected comma-separated row numbers, found `{x}`"))
        })
        .collect()
}

pub const POSITIONS: TableDef = TableDef {
    name: "perp_position_outcomes",
    version: 1,
    grain: "one input perp position's outcome in a replay run (`perp_positions.parquet` of a run folder), in input order",
    key: &["position_index"],
    columns: &[
        col("position_index", T::Int64, false, "input row of the position (0-based)"),
        col("account", T::Utf8, false, "account"),
        col("venue", T::Utf8, false, "venue"),
        col("instrument", T::Utf8, false, "instrument"),
        col("side", T::Utf8, false, "`long` or `short`"),
        col("margin_mode", T::Utf8, false, "`isolated` or `cross`"),
        col("status", T::Utf8, false, "`performing`, `deleveraged`, `partially_liquidated`, `liquidated`, `backstopped`, `bankrupt`"),
        col("size_start", T::Amount, false, "size at the start, base units"),
        col("size_end", T::Amount, false, "size at the end, base units"),
        col("liquidated_size", T::Amount, false, "size closed by liquidation (book, takeover, or the bankrupt side of ADL)"),
        col("deleveraged_size", T::Amount, false, "size closed as an auto-deleveraging counterparty"),
        col("adl_loss_usd", T::Amount, false, "profit given up against the mark as an ADL counterparty"),
        col("socialised_usd", T::Amount, false, "charged as a winner under socialised loss"),
        col("liquidations", T::Int64, false, "liquidation steps (full or partial)"),
    ],
};

impl CanonicalRow for PerpPositionOutcome {
    /// Rows are keyed by their place in the file; the row itself does not
    /// carry it, so the key here is what identifies a position.
    type Key = (String, String, String, PerpSide);
    const TABLE: &'static TableDef = &POSITIONS;

    fn key(&self) -> Self::Key {
        (
            self.account.clone(),
            self.venue.clone(),
            self.instrument.clone(),
            self.side,
        )
    }

    fn key_text(&self) -> String {
        format!(
            "({}, {}, {}, {})",
            self.account,
            self.venue,
            self.instrument,
            self.side.as_str()
        )
    }

    fn ts(&self) -> Micros {
        Micros(0)
    }

    fn series(&self) -> String {
        format!("{} {}", self.venue, self.instrument)
    }

    fn encode(rows: &[Self]) -> Result<RecordBatch, StoreError> {
        let r = rows.iter();
        let w = |f: fn(&PerpPositionOutcome) -> Wad| wad_col(rows.iter().map(|x| Some(f(x).0)));
        let cols = vec![
            index_col(rows.len()),
            cols::text(r.clone().map(|x| x.account.as_str())),
            cols::text(r.clone().map(|x| x.venue.as_str())),
            cols::text(r.clone().map(|x| x.instrument.as_str())),
            cols::text(r.clone().map(|x| x.side.as_str())),
            cols::text(r.clone().map(|x| x.margin_mode.as_str())),
            cols::text(r.clone().map(|x| x.status.as_str())),
            w(|x| x.size_start)?,
            w(|x| x.size_end)?,
            w(|x| x.liquidated_size)?,
            w(|x| x.deleveraged_size)?,
            w(|x| x.adl_loss_usd)?,
            w(|x| x.socialised_usd)?,
            cols::opt_i64(r.clone().map(|x| Some(i64::from(x.liquidations)))),
        ];
        Ok(RecordBatch::try_new(POSITIONS.schema(), cols)?)
    }

    fn decode(batch: &RecordBatch, path: &Path, first: usize) -> Result<Vec<Self>, StoreError> {
        let c = Reader { batch, path, first };
        (0..batch.num_rows())
            .map(|i| {
                check_index(&c, "position_index", i)?;
                Ok(PerpPositionOutcome {
                    account: c.text("account", i)?,
                    venue: c.text("venue", i)?,
                    instrument: c.text("instrument", i)?,
                    side: c.parse("side", i, parse_side)?,
                    margin_mode: c.parse("margin_mode", i, parse_mode)?,
                    status: c.parse("status", i, parse_status)?,
                    size_start: c.wad("size_start", i)?,
                    size_end: c.wad("size_end", i)?,
                    liquidated_size: c.wad("liquidated_size", i)?,
                    deleveraged_size: c.wad("deleveraged_size", i)?,
                    adl_loss_usd: c.wad("adl_loss_usd", i)?,
                    socialised_usd: c.wad("socialised_usd", i)?,
                    liquidations: c.count32("liquidations", i)?,
                })
            })
            .collect()
    }
}

pub const ACCOUNTS: TableDef = TableDef {
    name: "perp_accounts",
    version: 1,
    grain: "one margin account's outcome in a replay run (`perp_accounts.parquet` of a run folder): an isolated position, or a cross account of one account and venue; values at mark",
    key: &["account_index"],
    columns: &[
        col("account_index", T::Int64, false, "number of the margin account in the run (0-based)"),
        col("account", T::Utf8, false, "account"),
        col("venue", T::Utf8, false, "venue"),
        col("margin_mode", T::Utf8, false, "`isolated` or `cross`"),
        col("positions", T::Utf8, false, "input rows of its positions (`position_index` of `perp_positions.parquet`), comma-separated: `0,3,7`"),
        col("status", T::Utf8, false, "worst outcome of the account, as for positions"),
        col("equity_start_usd", T::Amount, false, "equity at the first mark of the window"),
        col("equity_end_usd", T::Amount, false, "equity at the last mark of the window"),
        col("liquidation_fees_usd", T::Amount, false, "liquidation fees paid"),
        col("shortfall_usd", T::Amount, false, "negative equity after its liquidation, before absorption"),
        col("insurance_fund_usd", T::Amount, false, "shortfall drawn from the insurance fund"),
        col("adl_usd", T::Amount, false, "shortfall covered by auto-deleveraging"),
        col("backstop_usd", T::Amount, false, "shortfall taken by the backstop vault"),
        col("socialised_usd", T::Amount, false, "shortfall charged to winners"),
        col("unabsorbed_usd", T::Amount, false, "shortfall left as negative equity"),
        col("first_liquidation", T::Ts, true, "first liquidation of the account, UTC"),
    ],
};

impl CanonicalRow for PerpAccountOutcome {
    type Key = (String, String, MarginMode, Vec<usize>);
    const TABLE: &'static TableDef = &ACCOUNTS;

    fn key(&self) -> Self::Key {
        (
            self.account.clone(),
            self.venue.clone(),
            self.margin_mode,
            self.positions.clone(),
        )
    }

    fn key_text(&self) -> String {
        format!(
            "({}, {}, {}, [{}])",
            self.account,
            self.venue,
            self.margin_mode.as_str(),
            positions_text(&self.positions)
        )
    }

    fn ts(&self) -> Micros {
        self.first_liquidation.unwrap_or(Micros(0))
    }

    fn series(&self) -> String {
        self.venue.clone()
    }

    fn encode(rows: &[Self]) -> Result<RecordBatch, StoreError> {
        let r = rows.iter();
        let w = |f: fn(&PerpAccountOutcome) -> Wad| wad_col(rows.iter().map(|x| Some(f(x).0)));
        let positions: Vec<String> = r.clone().map(|x| positions_text(&x.positions)).collect();
        let cols = vec![
            index_col(rows.len()),
            cols::text(r.clone().map(|x| x.account.as_str())),
            cols::text(r.clone().map(|x| x.venue.as_str())),
            cols::text(r.clone().map(|x| x.margin_mode.as_str())),
            cols::text(positions.iter().map(String::as_str)),
            cols::text(r.clone().map(|x| x.status.as_str())),
            w(|x| x.equity_start_usd)?,
            w(|x| x.equity_end_usd)?,
            w(|x| x.liquidation_fees_usd)?,
            w(|x| x.shortfall_usd)?,
            w(|x| x.insurance_fund_usd)?,
            w(|x| x.adl_usd)?,
            w(|x| x.backstop_usd)?,
            w(|x| x.socialised_usd)?,
            w(|x| x.unabsorbed_usd)?,
            Arc::new(
                r.clone()
                    .map(|x| x.first_liquidation.map(|t| t.0))
                    .collect::<TimestampMicrosecondArray>(),
            ) as ArrayRef,
        ];
        Ok(RecordBatch::try_new(ACCOUNTS.schema(), cols)?)
    }

    fn decode(batch: &RecordBatch, path: &Path, first: usize) -> Result<Vec<Self>, StoreError> {
        let c = Reader { batch, path, first };
        let first_liq = super::access::ts(batch, "first_liquidation", path)?;
        (0..batch.num_rows())
            .map(|i| {
                check_index(&c, "account_index", i)?;
                Ok(PerpAccountOutcome {
                    account: c.text("account", i)?,
                    venue: c.text("venue", i)?,
                    margin_mode: c.parse("margin_mode", i, parse_mode)?,
                    positions: c.parse("positions", i, parse_positions_text)?,
                    status: c.parse("status", i, parse_status)?,
                    equity_start_usd: c.wad("equity_start_usd", i)?,
                    equity_end_usd: c.wad("equity_end_usd", i)?,
                    liquidation_fees_usd: c.wad("liquidation_fees_usd", i)?,
                    shortfall_usd: c.wad("shortfall_usd", i)?,
                    insurance_fund_usd: c.wad("insurance_fund_usd", i)?,
                    adl_usd: c.wad("adl_usd", i)?,
                    backstop_usd: c.wad("backstop_usd", i)?,
                    socialised_usd: c.wad("socialised_usd", i)?,
                    unabsorbed_usd: c.wad("unabsorbed_usd", i)?,
                    first_liquidation: super::access::optional(
                        first_liq,
                        |i| Micros(first_liq.value(i)),
                        i,
                    ),
                })
            })
            .collect()
    }
}

pub const INSURANCE_FUND: TableDef = TableDef {
    name: "perp_insurance_fund",
    version: 1,
    grain: "the insurance fund's balance at the start and after each change in a replay run (`perp_insurance_fund.parquet` of a run folder)",
    key: &["seq"],
    columns: &[
        col("seq", T::Int64, false, "number of the change (0 = the start); `ts` does not decrease with it"),
        col("ts", T::Ts, false, "time of the change, UTC"),
        col("balance_usd", T::Amount, false, "balance after the change, USD"),
    ],
};

/// One point of the insurance fund series, as in [`shortfall_core::perp_run::PerpRun`].
impl CanonicalRow for (Micros, Wad) {
    type Key = Micros;
    const TABLE: &'static TableDef = &INSURANCE_FUND;

    fn key(&self) -> Self::Key {
        self.0
    }

    fn key_text(&self) -> String {
        self.0.to_string()
    }

    fn ts(&self) -> Micros {
        self.0
    }

    fn series(&self) -> String {
        "insurance_fund".into()
    }

    fn encode(rows: &[Self]) -> Result<RecordBatch, StoreError> {
        let cols = vec![
            index_col(rows.len()),
            cols::ts(rows.iter().map(|x| x.0)),
            wad_col(rows.iter().map(|x| Some(x.1 .0)))?,
        ];
        Ok(RecordBatch::try_new(INSURANCE_FUND.schema(), cols)?)
    }

    fn decode(batch: &RecordBatch, path: &Path, first: usize) -> Result<Vec<Self>, StoreError> {
        let c = Reader { batch, path, first };
        (0..batch.num_rows())
            .map(|i| {
                check_index(&c, "seq", i)?;
                Ok((c.ts("ts", i)?, c.wad("balance_usd", i)?))
            })
            .collect()
    }
}
