//! `loans`: one position's outcome in a replay run.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use shortfall_core::run::{Attribution, LoanOutcome, LoanStatus, Reason};
use shortfall_core::{Micros, Wad};

use super::access::{self, optional, parse_enum, required, unsigned};
use super::{wad_col, CanonicalRow, ColType, Column, TableDef};
use crate::StoreError;

pub const TABLE: TableDef = TableDef {
    name: "loans",
    version: 1,
    grain: "one position's outcome in a replay run (`loans.parquet` of a run folder); values at market prices at the end of the window unless said otherwise",
    key: &["account", "market"],
    columns: &[
        Column { name: "account", ty: ColType::Utf8, nullable: false, doc: "account" },
        Column { name: "market", ty: ColType::Utf8, nullable: false, doc: "protocol market" },
        Column { name: "status", ty: ColType::Utf8, nullable: false, doc: "`performing`, `at_risk`, `liquidated`, `non_performing`, `unpriced`" },
        Column { name: "initial_collateral_usd", ty: ColType::Amount, nullable: false, doc: "collateral at the start, market prices" },
        Column { name: "initial_debt_usd", ty: ColType::Amount, nullable: false, doc: "debt at the start, market prices" },
        Column { name: "final_collateral_usd", ty: ColType::Amount, nullable: false, doc: "collateral at the end" },
        Column { name: "final_debt_usd", ty: ColType::Amount, nullable: false, doc: "debt at the end" },
        Column { name: "repaid_usd", ty: ColType::Amount, nullable: false, doc: "debt repaid by liquidations" },
        Column { name: "seized_usd", ty: ColType::Amount, nullable: false, doc: "collateral seized by liquidations" },
        Column { name: "penalty_usd", ty: ColType::Amount, nullable: false, doc: "liquidation penalties paid" },
        Column { name: "written_off_usd", ty: ColType::Amount, nullable: false, doc: "debt written off by the protocol (v3.3 deficit, auction shortfall)" },
        Column { name: "shortfall_usd", ty: ColType::Amount, nullable: false, doc: "bad debt: written off + (debt - collateral)+" },
        Column { name: "liquidations", ty: ColType::Int64, nullable: false, doc: "number of liquidations" },
        Column { name: "min_health_wad", ty: ColType::Amount, nullable: true, doc: "lowest health factor seen" },
        Column { name: "final_health_wad", ty: ColType::Amount, nullable: true, doc: "health factor at the end" },
        Column { name: "first_liquidatable", ty: ColType::Ts, nullable: true, doc: "first time the oracle health fell below 1, UTC" },
        Column { name: "last_blocked", ty: ColType::Utf8, nullable: true, doc: "last reason a liquidation was blocked" },
        Column { name: "attr_price_gap_usd", ty: ColType::Amount, nullable: false, doc: "shortfall attributed to the market gapping through the threshold" },
        Column { name: "attr_oracle_usd", ty: ColType::Amount, nullable: false, doc: "shortfall attributed to oracle lag or deviation" },
        Column { name: "attr_liquidator_capacity_usd", ty: ColType::Amount, nullable: false, doc: "shortfall attributed to liquidator capital or gas" },
        Column { name: "attr_slippage_usd", ty: ColType::Amount, nullable: false, doc: "shortfall attributed to missing liquidity" },
        Column { name: "attr_parameters_usd", ty: ColType::Amount, nullable: false, doc: "shortfall attributed to policy parameters; the five parts add up to `shortfall_usd`" },
    ],
};

impl CanonicalRow for LoanOutcome {
    type Key = (String, String);
    const TABLE: &'static TableDef = &TABLE;

    fn key(&self) -> Self::Key {
        (self.account.clone(), self.market.clone())
    }

    fn key_text(&self) -> String {
        format!("({}, {})", self.account, self.market)
    }

    /// Loans are not time-keyed: the first time the position was
    /// liquidatable, else the epoch.
    fn ts(&self) -> Micros {
        self.first_liquidatable.unwrap_or(Micros(0))
    }

    fn series(&self) -> String {
        self.status.as_str().to_string()
    }

    fn encode(rows: &[Self]) -> Result<RecordBatch, StoreError> {
        let w = |f: fn(&LoanOutcome) -> Wad| wad_col(rows.iter().map(|r| Some(f(r).0)));
        let cols: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| &r.account),
            )),
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| &r.market),
            )),
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.status.as_str()),
            )),
            w(|r| r.initial_collateral_usd)?,
            w(|r| r.initial_debt_usd)?,
            w(|r| r.final_collateral_usd)?,
            w(|r| r.final_debt_usd)?,
            w(|r| r.repaid_usd)?,
            w(|r| r.seized_usd)?,
            w(|r| r.penalty_usd)?,
            w(|r| r.written_off_usd)?,
            w(|r| r.shortfall_usd)?,
            Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| i64::from(r.liquidations)),
            )),
            wad_col(rows.iter().map(|r| r.min_health.map(|v| v.0)))?,
            wad_col(rows.iter().map(|r| r.final_health.map(|v| v.0)))?,
            Arc::new(
                rows.iter()
                    .map(|r| r.first_liquidatable.map(|t| t.0))
                    .collect::<TimestampMicrosecondArray>(),
            ),
            Arc::new(
                rows.iter()
                    .map(|r| r.last_blocked.map(|x| x.as_str()))
                    .collect::<StringArray>(),
            ),
            w(|r| r.attribution.price_gap_usd)?,
            w(|r| r.attribution.oracle_usd)?,
            w(|r| r.attribution.liquidator_capacity_usd)?,
            w(|r| r.attribution.slippage_usd)?,
            w(|r| r.attribution.parameters_usd)?,
        ];
        Ok(RecordBatch::try_new(TABLE.schema(), cols)?)
    }

    fn decode(b: &RecordBatch, p: &Path, first: usize) -> Result<Vec<Self>, StoreError> {
        let account = access::utf8(b, "account", p)?;
        let market = access::utf8(b, "market", p)?;
        let status = access::utf8(b, "status", p)?;
        let liqs = access::int64(b, "liquidations", p)?;
        let minh = access::decimal(b, "min_health_wad", p, 18)?;
        let finh = access::decimal(b, "final_health_wad", p, 18)?;
        let firstl = access::ts(b, "first_liquidatable", p)?;
        let blocked = access::utf8(b, "last_blocked", p)?;
        let wad = |n: &str, i: usize| -> Result<Wad, StoreError> {
            let a = access::decimal(b, n, p, 18)?;
            Ok(Wad(required(a, |i| a.value(i), i, first, n, p)?))
        };
        (0..b.num_rows())
            .map(|i| {
                let n = unsigned(
                    required(liqs, |i| liqs.value(i), i, first, "liquidations", p)?,
                    i,
                    first,
                    "liquidations",
                    p,
                )?;
                Ok(LoanOutcome {
                    account: required(
                        account,
                        |i| account.value(i).to_string(),
                        i,
                        first,
                        "account",
                        p,
                    )?,
                    market: required(
                        market,
                        |i| market.value(i).to_string(),
                        i,
                        first,
                        "market",
                        p,
                    )?,
                    status: parse_enum(
                        required(status, |i| status.value(i), i, first, "status", p)?,
                        LoanStatus::parse,
                        i,
                        first,
                        "status",
                        p,
                    )?,
                    initial_collateral_usd: wad("initial_collateral_usd", i)?,
                    initial_debt_usd: wad("initial_debt_usd", i)?,
                    final_collateral_usd: wad("final_collateral_usd", i)?,
                    final_debt_usd: wad("final_debt_usd", i)?,
                    repaid_usd: wad("repaid_usd", i)?,
                    seized_usd: wad("seized_usd", i)?,
                    penalty_usd: wad("penalty_usd", i)?,
                    written_off_usd: wad("written_off_usd", i)?,
                    shortfall_usd: wad("shortfall_usd", i)?,
                    liquidations: u32::try_from(n).map_err(|_| StoreError::BadValue {
                        path: p.to_path_buf(),
                        row: first + i,
                        column: "liquidations".into(),
                        message: format!("{n} does not fit u32"),
                    })?,
                    min_health: optional(minh, |i| Wad(minh.value(i)), i),
                    final_health: optional(finh, |i| Wad(finh.value(i)), i),
                    first_liquidatable: optional(firstl, |i| Micros(firstl.value(i)), i),
                    last_blocked: match optional(blocked, |i| blocked.value(i), i) {
                        Some(s) => Some(parse_enum(s, Reason::parse, i, first, "last_blocked", p)?),
                        None => None,
                    },
                    attribution: Attribution {
                        price_gap_usd: wad("attr_price_gap_usd", i)?,
                        oracle_usd: wad("attr_oracle_usd", i)?,
                        liquidator_capacity_usd: wad("attr_liquidator_capacity_usd", i)?,
                        slippage_usd: wad("attr_slippage_usd", i)?,
                        parameters_usd: wad("attr_parameters_usd", i)?,
                    },
                })
            })
            .collect()
    }
}
