//! Perpetual swap inputs: `perp-positions-csv` (position exports with a
//! column mapping -> `perp_positions`) and `hyperliquid-liquidations`
//! (Hyperliquid's liquidation export -> `perp_liquidations`, for forensics).
//!
//! Same rules as the other adapters: a bad value fails with file, line and
//! column (or is skipped and counted with `--on-bad-row skip`); exact
//! duplicate rows are dropped and counted; two rows of the same key that
//! disagree are a conflict; output is sorted by the table key.

pub mod mapping;

use std::collections::BTreeMap;
use std::path::PathBuf;

use shortfall_core::perp_rows::PerpPositionKey;
use shortfall_core::{
    MarginMode, Micros, PerpLiquidationRow, PerpPosition, PerpPositionRow, PerpSide, SourceRecord,
    Wad,
};

use crate::ctx::FileCtx;
use crate::error::{IngestError, Location};
use crate::events::{each_row, Row};
use crate::num;
use crate::options::{IngestOptions, OnBadRow};
use crate::timefmt::{in_bounds, TimeFormat};
pub use mapping::PerpPositionsMapping;

/// `--format` name of position exports.
pub const POSITIONS_FORMAT: &str = "perp-positions-csv";
/// `--format` name of Hyperliquid's liquidation export.
pub const HYPERLIQUID_FORMAT: &str = "hyperliquid-liquidations";

/// Rows and provenance of one perp ingest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerpOutput<R> {
    /// Sorted by the table key, deduplicated.
    pub rows: Vec<R>,
    /// One record per input file, in input order.
    pub sources: Vec<SourceRecord>,
    /// Warnings, each prefixed with the file name.
    pub warnings: Vec<String>,
}

impl<R> Default for PerpOutput<R> {
    fn default() -> Self {
        PerpOutput {
            rows: Vec::new(),
            sources: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn read(path: &std::path::Path) -> Result<Vec<u8>, IngestError> {
    std::fs::read(path).map_err(|source| IngestError::Io {
        file: path.display().to_string(),
        source,
    })
}

/// A decimal cell (`what` says what a valid value looks like).
fn wad(
    ctx: &FileCtx,
    row: &Row,
    i: usize,
    what: &str,
    ok: impl Fn(Wad) -> bool,
) -> Result<Wad, IngestError> {
    num::parse_wad(row.raw(i))
        .filter(|w| ok(*w))
        .ok_or_else(|| row.bad(ctx, i, what))
}

fn time(ctx: &FileCtx, row: &Row, i: usize, tf: &TimeFormat) -> Result<Micros, IngestError> {
    tf.parse_field(row.raw(i))
        .filter(|t| in_bounds(*t))
        .ok_or_else(|| row.bad(ctx, i, "a time between 2009 and 2100"))
}

fn parse_mode(s: &str) -> Option<MarginMode> {
    MarginMode::parse(&s.trim().to_ascii_lowercase())
}

fn conflict(
    opts: &IngestOptions,
    rec: &mut SourceRecord,
    file: &str,
    loc: Location,
    message: String,
) -> Result<(), IngestError> {
    let e = IngestError::Conflict {
        file: file.to_string(),
        location: loc,
        message,
    };
    if opts.on_bad_row == OnBadRow::Skip {
        rec.rows_skipped += 1;
        rec.notes.push(format!("skipped: {e}"));
        Ok(())
    } else {
        Err(e)
    }
}

// ---------------------------------------------------------------- positions

/// Column indices of a positions file.
struct PosCols {
    venue: Option<usize>,
    account: usize,
    instrument: usize,
    side: Option<usize>,
    size: usize,
    entry_price: usize,
    margin_mode: Option<usize>,
    leverage: usize,
    collateral_asset: Option<usize>,
    collateral_amount: Option<usize>,
    snapshot_time: Option<usize>,
    snapshot_block: Option<usize>,
}

/// One parsed row of a positions file.
struct PosRow {
    snapshot_ts: Micros,
    snapshot_block: Option<i64>,
    position: PerpPosition,
    /// (asset, amount) when the row has collateral.
    collateral: Option<(String, Wad)>,
    /// Column name of the amount, for conflict messages.
    asset_col: String,
}

fn parse_position_row(
    ctx: &FileCtx,
    row: &Row,
    m: &PerpPositionsMapping,
    c: &PosCols,
    tf: &TimeFormat,
    fixed_ts: Option<Micros>,
) -> Result<PosRow, IngestError> {
    let text = |i: usize| row.text(ctx, i);
    let venue = match (c.venue, &m.venue) {
        (Some(i), _) => text(i)?,
        (None, Some(v)) => v.clone(),
        (None, None) => unreachable!("checked by PerpPositionsMapping::check"),
    };
    let signed = wad(
        ctx,
        row,
        c.size,
        "a non-zero decimal number of base units",
        |w| w != Wad::ZERO,
    )?;
    let side = match c.side {
        Some(i) => {
            let s = text(i)?.to_ascii_lowercase();
            let side = match s.as_str() {
                "long" | "buy" => PerpSide::Long,
                "short" | "sell" => PerpSide::Short,
                _ => return Err(row.bad(ctx, i, "long, short, buy or sell")),
            };
            if signed.is_negative() {
                return Err(row.bad(
                    ctx,
                    c.size,
                    "a positive size (the side is in its own column)",
                ));
            }
            side
        }
        None if signed.is_negative() => PerpSide::Short,
        None => PerpSide::Long,
    };
    let size = Wad(signed
        .0
        .checked_abs()
        .ok_or_else(|| row.bad(ctx, c.size, "a size in range"))?);
    let entry_price = wad(ctx, row, c.entry_price, "a positive decimal price", |w| {
        w.is_positive()
    })?;
    let margin_mode = match (c.margin_mode, m.margin_mode_value) {
        (Some(i), _) => {
            parse_mode(&text(i)?).ok_or_else(|| row.bad(ctx, i, "isolated or cross"))?
        }
        (None, Some(v)) => v,
        (None, None) => unreachable!("checked by PerpPositionsMapping::check"),
    };
    let leverage = wad(ctx, row, c.leverage, "a positive decimal leverage", |w| {
        w.is_positive()
    })?;
    let snapshot_ts = match (c.snapshot_time, fixed_ts) {
        (Some(i), _) => time(ctx, row, i, tf)?,
        (None, Some(t)) => t,
        (None, None) => unreachable!("checked by PerpPositionsMapping::check"),
    };
    let snapshot_block = row.opt_i64(ctx, c.snapshot_block)?;
    // An empty amount cell: the row carries no collateral of its own.
    let collateral = match c.collateral_amount {
        Some(ai) if !row.raw(ai).is_empty() => {
            let amount = wad(ctx, row, ai, "a non-negative decimal amount", |w| {
                !w.is_negative()
            })?;
            let asset = match (c.collateral_asset, &m.collateral_asset_value) {
                (Some(i), _) => text(i)?,
                (None, Some(v)) => v.clone(),
                (None, None) => unreachable!("checked by PerpPositionsMapping::check"),
            };
            Some((asset, amount))
        }
        _ => None,
    };
    let position = PerpPosition {
        account: text(c.account)?,
        venue,
        instrument: text(c.instrument)?,
        side,
        size,
        entry_price,
        margin_mode,
        collateral: collateral.iter().cloned().collect(),
        leverage,
    };
    if let Err(e) = position.validate(0) {
        return Err(ctx.bad_row(
            row.loc,
            &row.names[c.size],
            format!("{}: {}", e.field, e.detail),
        ));
    }
    Ok(PosRow {
        snapshot_ts,
        snapshot_block,
        position,
        collateral,
        asset_col: c
            .collateral_amount
            .map(|i| row.names[i].clone())
            .unwrap_or_default(),
    })
}

/// Ingests perp position exports described by `mapping` into
/// `perp_positions` rows: one per (position, collateral asset). Rows of one
/// position (same snapshot, venue, account, instrument and side) may come
/// on several lines, one per collateral asset; they must agree on size,
/// entry price, margin mode, leverage and block.
pub fn ingest_perp_positions(
    files: &[PathBuf],
    mapping: &PerpPositionsMapping,
    opts: &IngestOptions,
    tool_version: &str,
) -> Result<PerpOutput<PerpPositionRow>, IngestError> {
    mapping.check()?;
    let fixed_ts = mapping.fixed_snapshot()?;
    let tf = TimeFormat::parse(mapping.time_format.as_deref().unwrap_or("auto"))
        .unwrap_or(TimeFormat::Auto);
    let mut out = PerpOutput::default();
    let mut all: Vec<(PosRow, usize, Location)> = Vec::new();
    for (src, path) in files.iter().enumerate() {
        let bytes = read(path)?;
        let name = file_name(path);
        let mut ctx = FileCtx::new(&name, opts);
        let mut rows: Vec<(PosRow, Location)> = Vec::new();
        each_row(
            &mut ctx,
            &bytes,
            |ctx, t| {
                let m = mapping;
                Ok(PosCols {
                    venue: t.opt_index(ctx, "venue", &m.venue_column)?,
                    account: t.index(ctx, "account", &m.account)?,
                    instrument: t.index(ctx, "instrument", &m.instrument)?,
                    side: t.opt_index(ctx, "side", &m.side)?,
                    size: t.index(ctx, "size", &m.size)?,
                    entry_price: t.index(ctx, "entry price", &m.entry_price)?,
                    margin_mode: t.opt_index(ctx, "margin mode", &m.margin_mode)?,
                    leverage: t.index(ctx, "leverage", &m.leverage)?,
                    collateral_asset: t.opt_index(ctx, "collateral asset", &m.collateral_asset)?,
                    collateral_amount: t.opt_index(
                        ctx,
                        "collateral amount",
                        &m.collateral_amount,
                    )?,
                    snapshot_time: t.opt_index(ctx, "snapshot time", &m.snapshot_time)?,
                    snapshot_block: t.opt_index(ctx, "snapshot block", &m.snapshot_block)?,
                })
            },
            |ctx, row, c| {
                let r = parse_position_row(ctx, row, mapping, c, &tf, fixed_ts)?;
                rows.push((r, row.loc));
                Ok(())
            },
        )?;
        let before = rows.len();
        if let Some((a, b)) = opts.window {
            rows.retain(|(r, _)| r.snapshot_ts >= a && r.snapshot_ts < b);
        }
        if before > rows.len() {
            ctx.notes.push(format!(
                "{} valid rows with a snapshot outside the window left out",
                before - rows.len()
            ));
        }
        all.extend(rows.into_iter().map(|(r, l)| (r, src, l)));
        out.warnings.extend(ctx.warnings.iter().cloned());
        let mut options = opts.record();
        if let Ok(m) = serde_json::to_string(mapping) {
            options.insert("mapping".into(), m);
        }
        out.sources.push(ctx.source_record(
            &bytes,
            POSITIONS_FORMAT,
            "perp_positions",
            options,
            tool_version,
        ));
    }
    let names: Vec<String> = out.sources.iter().map(|s| s.file.clone()).collect();
    // Group by position: the first row of a position sets its fields.
    struct Group {
        first: (usize, Location),
        row_src: usize,
        snapshot_block: Option<i64>,
        position: PerpPosition,
        /// asset -> (amount, file, line)
        assets: BTreeMap<String, (Wad, usize, Location)>,
        rows: u64,
    }
    let mut groups: BTreeMap<PerpPositionKey, Group> = BTreeMap::new();
    for (r, src, loc) in all {
        let key: PerpPositionKey = (
            r.snapshot_ts,
            r.position.venue.clone(),
            r.position.account.clone(),
            r.position.instrument.clone(),
            r.position.side,
        );
        let g = groups.entry(key).or_insert_with(|| Group {
            first: (src, loc),
            row_src: src,
            snapshot_block: r.snapshot_block,
            position: PerpPosition {
                collateral: BTreeMap::new(),
                ..r.position.clone()
            },
            assets: BTreeMap::new(),
            rows: 0,
        });
        let p = &g.position;
        let differ: Vec<&str> = [
            ("size", p.size != r.position.size),
            ("entry price", p.entry_price != r.position.entry_price),
            ("margin mode", p.margin_mode != r.position.margin_mode),
            ("leverage", p.leverage != r.position.leverage),
            ("snapshot block", g.snapshot_block != r.snapshot_block),
        ]
        .into_iter()
        .filter_map(|(n, d)| d.then_some(n))
        .collect();
        if !differ.is_empty() {
            let msg = format!(
                "conflicting rows for the position of {} {} {} {} at {}: {} differ from {}, {}",
                r.position.venue,
                r.position.account,
                r.position.instrument,
                r.position.side.as_str(),
                r.snapshot_ts.to_iso(),
                differ.join(", "),
                names[g.first.0],
                g.first.1,
            );
            conflict(opts, &mut out.sources[src], &names[src], loc, msg)?;
            continue;
        }
        g.rows += 1;
        match r.collateral {
            None => {
                if g.rows > 1 {
                    out.sources[src].rows_deduplicated += 1;
                    g.rows -= 1;
                }
            }
            Some((asset, amount)) => match g.assets.get(&asset) {
                Some((a, _, _)) if *a == amount => {
                    out.sources[src].rows_deduplicated += 1;
                    g.rows -= 1;
                }
                Some((a, s, l)) => {
                    let msg = format!(
                        "column \"{}\": conflicting {asset} collateral for the position of {} {} {} {}: {amount} here, {a} in {}, {}",
                        r.asset_col,
                        r.position.venue,
                        r.position.account,
                        r.position.instrument,
                        r.position.side.as_str(),
                        names[*s],
                        l
                    );
                    conflict(opts, &mut out.sources[src], &names[src], loc, msg)?;
                }
                None => {
                    g.assets.insert(asset, (amount, src, loc));
                }
            },
        }
    }
    let mut rows = Vec::new();
    for ((ts, ..), g) in groups {
        let mut p = g.position;
        p.collateral = g
            .assets
            .iter()
            .map(|(a, (v, _, _))| (a.clone(), *v))
            .collect();
        let produced = PerpPositionRow::from_position(ts, g.snapshot_block, &p);
        out.sources[g.row_src].rows_written += produced.len() as u64;
        rows.extend(produced);
    }
    out.rows = rows;
    Ok(out)
}

// ------------------------------------------------------- hyperliquid liquidations

/// Header of Hyperliquid's liquidation export.
const HL_COLUMNS: [&str; 5] = [
    "time",
    "user",
    "liquidated_ntl_pos",
    "liquidated_account_value",
    "leverage_type",
];

/// Reported account value above this share of the notional on an isolated
/// row: more than an isolated position's margin at liquidation could be.
const ISOLATED_VALUE_SHARE_BPS: i128 = 500;

/// Ingests Hyperliquid liquidation exports (`time,user,liquidated_ntl_pos,
/// liquidated_account_value,leverage_type`) into `perp_liquidations` rows,
/// venue `hyperliquid`. Times are ISO-8601 UTC; `leverage_type` is `Cross`
/// or `Isolated` (any case); the notional must be positive; the account
/// value is kept as reported (it may be negative for a bankrupt account).
pub fn ingest_hyperliquid_liquidations(
    files: &[PathBuf],
    opts: &IngestOptions,
    tool_version: &str,
) -> Result<PerpOutput<PerpLiquidationRow>, IngestError> {
    let mut out = PerpOutput::default();
    let mut all: Vec<(PerpLiquidationRow, usize, Location)> = Vec::new();
    for (src, path) in files.iter().enumerate() {
        let bytes = read(path)?;
        let name = file_name(path);
        let mut ctx = FileCtx::new(&name, opts);
        let mut rows: Vec<(PerpLiquidationRow, Location)> = Vec::new();
        let mut negative = 0u64;
        let mut isolated_high = 0u64;
        each_row(
            &mut ctx,
            &bytes,
            |ctx, t| {
                let mut idx = [0usize; 5];
                for (k, c) in HL_COLUMNS.iter().enumerate() {
                    idx[k] = t.index(ctx, c, c)?;
                }
                Ok(idx)
            },
            |ctx, row, idx| {
                let [ti, ui, ni, vi, li] = *idx;
                let ts = time(ctx, row, ti, &TimeFormat::Iso)?;
                let account = row.text(ctx, ui)?;
                let notional_usd = wad(ctx, row, ni, "a positive decimal notional in USD", |w| {
                    w.is_positive()
                })?;
                let account_value_usd =
                    wad(ctx, row, vi, "a decimal account value in USD", |_| true)?;
                let margin_mode = parse_mode(&row.text(ctx, li)?)
                    .ok_or_else(|| row.bad(ctx, li, "Cross or Isolated"))?;
                if account_value_usd.is_negative() {
                    negative += 1;
                }
                if margin_mode == MarginMode::Isolated
                    && account_value_usd.0 > notional_usd.0 / 10_000 * ISOLATED_VALUE_SHARE_BPS
                {
                    isolated_high += 1;
                }
                rows.push((
                    PerpLiquidationRow {
                        ts,
                        venue: "hyperliquid".into(),
                        account,
                        notional_usd,
                        account_value_usd,
                        margin_mode,
                    },
                    row.loc,
                ));
                Ok(())
            },
        )?;
        if negative > 0 {
            ctx.warn(format!(
                "{negative} rows with a negative account value (bankrupt at liquidation): kept as reported"
            ));
        }
        if isolated_high > 0 {
            ctx.warn(format!(
                "{isolated_high} isolated rows report an account value above {}% of the liquidated notional, \
                 more than an isolated margin at liquidation: the figure is likely the whole account's; kept as reported",
                ISOLATED_VALUE_SHARE_BPS / 100
            ));
        }
        ctx.keep_in_window(&mut rows, |(r, _)| r.ts);
        all.extend(rows.into_iter().map(|(r, l)| (r, src, l)));
        out.warnings.extend(ctx.warnings.iter().cloned());
        out.sources.push(ctx.source_record(
            &bytes,
            HYPERLIQUID_FORMAT,
            "perp_liquidations",
            opts.record(),
            tool_version,
        ));
    }
    let names: Vec<String> = out.sources.iter().map(|s| s.file.clone()).collect();
    // Stable: among equal keys, file and line order.
    all.sort_by(|a, b| (a.0.ts, &a.0.account).cmp(&(b.0.ts, &b.0.account)));
    let mut kept: Vec<(PerpLiquidationRow, usize, Location)> = Vec::with_capacity(all.len());
    for item in all {
        if let Some(last) = kept.last() {
            if (last.0.ts, &last.0.account) == (item.0.ts, &item.0.account) {
                if last.0 == item.0 {
                    out.sources[item.1].rows_deduplicated += 1;
                } else {
                    let msg = format!(
                        "conflicting rows for the liquidation of {} at {}: this row differs from {}, {}",
                        item.0.account,
                        item.0.ts.to_iso(),
                        names[last.1],
                        last.2
                    );
                    conflict(opts, &mut out.sources[item.1], &names[item.1], item.2, msg)?;
                }
                continue;
            }
        }
        kept.push(item);
    }
    for (_, src, _) in &kept {
        out.sources[*src].rows_written += 1;
    }
    out.rows = kept.into_iter().map(|(r, _, _)| r).collect();
    Ok(out)
}
