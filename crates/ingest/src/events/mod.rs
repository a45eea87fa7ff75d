//! `events-csv`: subgraph or Dune exports of lending protocol events ->
//! `lending_events` rows, with the export's reserves file -> `reserves` rows.
//!
//! Same rules as the market adapters: a bad value fails with file, line and
//! column (or is skipped and counted with `--on-bad-row skip`); exact duplicate
//! rows are dropped and counted; two rows of the same event that disagree are
//! a conflict. Amounts in base units are converted to token units with the
//! decimals of the reserves file and kept as the raw integer too.

pub mod mapping;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use csv::ByteRecord;
use shortfall_core::{LendingEvent, LendingKind, Reserve, SourceRecord, Wad};

use crate::ctx::FileCtx;
use crate::error::{IngestError, Location};
use crate::formats::{check_delimiter, check_not_empty, csv_reader, next_record, Lines};
use crate::num;
use crate::options::{IngestOptions, OnBadRow};
use crate::timefmt::TimeFormat;
pub use mapping::{AmountUnits, EventsMapping, Layout, ReservesMapping, Units};

/// The format name on the command line and in source records.
pub const FORMAT: &str = "events-csv";

/// Rows and provenance of one `events-csv` ingest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventsOutput {
    /// Sorted by the table order ([`LendingEvent::cmp_order`]), deduplicated.
    pub events: Vec<LendingEvent>,
    /// Sorted by (protocol, market, asset).
    pub reserves: Vec<Reserve>,
    /// Source records of the event files (table `lending_events`).
    pub event_sources: Vec<SourceRecord>,
    /// Source record of the reserves file (table `reserves`), if one was given.
    pub reserve_sources: Vec<SourceRecord>,
    /// Warnings (unknown event kinds), each prefixed with the file name.
    pub warnings: Vec<String>,
}

/// Ingests event exports described by `mapping`, with an optional reserves file.
pub fn ingest_events(
    files: &[PathBuf],
    reserves_file: Option<&Path>,
    mapping: &EventsMapping,
    opts: &IngestOptions,
    tool_version: &str,
) -> Result<EventsOutput, IngestError> {
    mapping.check()?;
    let read = |p: &Path| {
        std::fs::read(p).map_err(|source| IngestError::Io {
            file: p.display().to_string(),
            source,
        })
    };
    let mut out = EventsOutput::default();
    let mut decimals: BTreeMap<(String, String), u32> = BTreeMap::new();
    match (reserves_file, &mapping.reserves) {
        (Some(path), Some(rm)) => {
            let bytes = read(path)?;
            let (reserves, record) =
                parse_reserves(&file_name(path), &bytes, rm, mapping, opts, tool_version)?;
            for r in &reserves {
                decimals.insert((r.market.clone(), r.asset.clone()), r.decimals);
            }
            out.reserves = reserves;
            out.reserve_sources.push(record);
        }
        (Some(path), None) => {
            return Err(IngestError::Options(format!(
                "--reserves {}: the mapping has no [reserves] table describing its columns",
                path.display()
            )))
        }
        (None, _) => {
            let needs = mapping
                .all_units()
                .any(|u| u.amount_units == AmountUnits::Base);
            if needs {
                return Err(IngestError::Options(
                    "amounts are in base units: give --reserves FILE for token decimals".into(),
                ));
            }
        }
    }
    // (event, file index, location) for dedupe messages.
    let mut rows: Vec<(LendingEvent, usize, Location)> = Vec::new();
    for (src, path) in files.iter().enumerate() {
        let bytes = read(path)?;
        let name = file_name(path);
        let mut ctx = FileCtx::new(&name, opts);
        let mut events = Vec::new();
        parse_events(&mut ctx, &bytes, mapping, &decimals, &mut events)?;
        ctx.keep_in_window(&mut events, |(e, _)| e.ts);
        rows.extend(events.into_iter().map(|(e, l)| (e, src, l)));
        out.warnings.extend(ctx.warnings.iter().cloned());
        out.event_sources.push(ctx.source_record(
            &bytes,
            FORMAT,
            "lending_events",
            record_options(mapping, opts),
            tool_version,
        ));
    }
    rows.sort_by(|a, b| a.0.cmp_order(&b.0).then(a.1.cmp(&b.1)));
    let names: Vec<String> = out.event_sources.iter().map(|s| s.file.clone()).collect();
    let mut kept: Vec<(LendingEvent, usize, Location)> = Vec::with_capacity(rows.len());
    let mut look_alikes = vec![0u64; names.len()];
    for item in rows {
        if let Some(last) = kept.last() {
            if item.0.source_ref.is_some() && same_but_source(&last.0, &item.0) {
                look_alikes[item.1] += 1;
            }
            if last.0.cmp_order(&item.0).is_eq() {
                let rec = &mut out.event_sources[item.1];
                if last.0 == item.0 {
                    rec.rows_deduplicated += 1;
                    continue;
                }
                let e = IngestError::Conflict {
                    file: names[item.1].clone(),
                    location: item.2,
                    message: format!(
                        "conflicting rows for the same event {} {} of {} at {}: this row differs from {}, {}",
                        item.0.protocol,
                        item.0.kind,
                        item.0.account,
                        item.0.ts.to_iso(),
                        names[last.1],
                        last.2
                    ),
                };
                if opts.on_bad_row == OnBadRow::Skip {
                    rec.rows_skipped += 1;
                    rec.notes.push(format!("skipped: {e}"));
                    continue;
                }
                return Err(e);
            }
        }
        kept.push(item);
    }
    for (_, src, _) in &kept {
        out.event_sources[*src].rows_written += 1;
    }
    for (src, n) in look_alikes.into_iter().enumerate() {
        if n > 0 {
            let msg = format!(
                "{n} rows equal to the row before them in time, account, assets and amounts, \
                 without a block or log index: kept as separate events (two identical \
                 liquidations in one block cannot be told apart from a repeated row)"
            );
            out.warnings.push(format!("{}: {msg}", names[src]));
            out.event_sources[src].notes.push(msg);
        }
    }
    out.events = kept.into_iter().map(|(e, _, _)| e).collect();
    Ok(out)
}

/// Equal in everything the table orders by except where the row came from.
fn same_but_source(a: &LendingEvent, b: &LendingEvent) -> bool {
    let mut b = b.clone();
    b.source_ref.clone_from(&a.source_ref);
    a.cmp_order(&b).is_eq()
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn record_options(mapping: &EventsMapping, opts: &IngestOptions) -> BTreeMap<String, String> {
    let mut options = opts.record();
    if let Ok(m) = serde_json::to_string(mapping) {
        options.insert("mapping".into(), m);
    }
    options
}

/// A CSV file's header and records, with column lookup by name.
pub(crate) struct Table<'b> {
    pub(crate) names: Vec<String>,
    pub(crate) rdr: csv::Reader<&'b [u8]>,
    pub(crate) lines: Lines<'b>,
}

impl<'b> Table<'b> {
    pub(crate) fn open(ctx: &FileCtx, bytes: &'b [u8]) -> Result<Self, IngestError> {
        check_not_empty(ctx, bytes)?;
        let mut rdr = csv_reader(bytes, b',', false);
        let mut lines = Lines::new(bytes);
        let mut rec = ByteRecord::new();
        if !next_record(ctx, &mut rdr, &mut rec)? {
            return Err(ctx.structure("empty file"));
        }
        check_delimiter(ctx, &rec, lines.of(&rec), b',')?;
        let names = rec
            .iter()
            .map(|f| String::from_utf8_lossy(f).trim().to_string())
            .collect();
        Ok(Table { names, rdr, lines })
    }

    /// Index of a mapped column, or a structural error listing the header.
    pub(crate) fn index(
        &self,
        ctx: &FileCtx,
        what: &str,
        column: &str,
    ) -> Result<usize, IngestError> {
        self.names.iter().position(|n| n == column).ok_or_else(|| {
            ctx.structure(format!(
                "mapped column `{column}` ({what}) is not in the header: {}",
                self.names.join(", ")
            ))
        })
    }

    /// Indexes of fixed columns, in order, or a structural error naming the
    /// first one missing.
    pub(crate) fn indices<const N: usize>(
        &self,
        ctx: &FileCtx,
        what: &str,
        columns: &[&str; N],
    ) -> Result<[usize; N], IngestError> {
        let mut idx = [0usize; N];
        for (i, c) in idx.iter_mut().zip(columns) {
            *i = self.index(ctx, what, c)?;
        }
        Ok(idx)
    }

    pub(crate) fn opt_index(
        &self,
        ctx: &FileCtx,
        what: &str,
        column: &Option<String>,
    ) -> Result<Option<usize>, IngestError> {
        column
            .as_deref()
            .map(|c| self.index(ctx, what, c))
            .transpose()
    }
}

/// One row being read: the record, its line and the header, for messages.
pub(crate) struct Row<'r> {
    pub(crate) rec: &'r ByteRecord,
    pub(crate) loc: Location,
    pub(crate) names: &'r [String],
}

impl Row<'_> {
    pub(crate) fn raw(&self, i: usize) -> &[u8] {
        num::trim(self.rec.get(i).unwrap_or_default())
    }

    fn present(&self, i: Option<usize>) -> bool {
        i.is_some_and(|i| !self.raw(i).is_empty())
    }

    pub(crate) fn bad(&self, ctx: &FileCtx, i: usize, expected: &str) -> IngestError {
        ctx.bad_value(self.loc, &self.names[i], expected, self.raw(i))
    }

    /// Non-empty UTF-8 text.
    pub(crate) fn text(&self, ctx: &FileCtx, i: usize) -> Result<String, IngestError> {
        match self.opt_text(ctx, Some(i))? {
            Some(t) => Ok(t),
            None => Err(self.bad(ctx, i, "a value")),
        }
    }

    pub(crate) fn opt_text(
        &self,
        ctx: &FileCtx,
        i: Option<usize>,
    ) -> Result<Option<String>, IngestError> {
        let Some(i) = i else { return Ok(None) };
        let raw = self.raw(i);
        if raw.is_empty() {
            return Ok(None);
        }
        std::str::from_utf8(raw)
            .map(|s| Some(s.to_string()))
            .map_err(|_| self.bad(ctx, i, "UTF-8 text"))
    }

    pub(crate) fn opt_i64(
        &self,
        ctx: &FileCtx,
        i: Option<usize>,
    ) -> Result<Option<i64>, IngestError> {
        let Some(i) = i else { return Ok(None) };
        if self.raw(i).is_empty() {
            return Ok(None);
        }
        num::parse_i64_lenient(self.raw(i))
            .filter(|v| *v >= 0)
            .map(Some)
            .ok_or_else(|| self.bad(ctx, i, "a non-negative integer"))
    }

    /// A non-negative decimal divided by 10^`decimals`.
    fn opt_scaled(
        &self,
        ctx: &FileCtx,
        i: Option<usize>,
        decimals: u32,
    ) -> Result<Option<Wad>, IngestError> {
        let Some(i) = i else { return Ok(None) };
        if self.raw(i).is_empty() {
            return Ok(None);
        }
        num::parse_wad_scaled(self.raw(i), decimals)
            .filter(|w| w.0 >= 0)
            .map(Some)
            .ok_or_else(|| self.bad(ctx, i, "a non-negative decimal number"))
    }
}

/// An amount in the row's units: (token units, raw base units if given).
fn parse_amount(
    ctx: &FileCtx,
    row: &Row,
    i: usize,
    units: AmountUnits,
    decimals: Option<u32>,
) -> Result<(Wad, Option<u128>), IngestError> {
    let raw = row.raw(i);
    match units {
        AmountUnits::Token => {
            let w = num::parse_wad(raw)
                .filter(|w| w.0 >= 0)
                .ok_or_else(|| row.bad(ctx, i, "a non-negative decimal number of tokens"))?;
            Ok((w, None))
        }
        AmountUnits::Base => {
            let v = num::parse_u128(raw)
                .ok_or_else(|| row.bad(ctx, i, "a non-negative integer in token base units"))?;
            let d = decimals.ok_or_else(|| {
                ctx.bad_row(
                    row.loc,
                    &row.names[i],
                    "the asset of this amount is not in the reserves file, so its decimals are unknown".into(),
                )
            })?;
            // Decimal(38, 18) holds up to 10^20 tokens; more precision than 18
            // decimals (tokens with more decimals) is not representable.
            let w = i128::try_from(v)
                .ok()
                .and_then(|v| Wad::from_base_units(v, d).ok())
                .filter(|w| w.0 < 10i128.pow(38))
                .ok_or_else(|| row.bad(ctx, i, "an amount below 10^20 tokens"))?;
            Ok((w, Some(v)))
        }
    }
}

/// Runs `row` over every data row of a CSV file (a header first), with the
/// truncated-row check and the bad-row policy.
pub(crate) fn each_row<T>(
    ctx: &mut FileCtx,
    bytes: &[u8],
    setup: impl FnOnce(&FileCtx, &Table) -> Result<T, IngestError>,
    mut row: impl FnMut(&mut FileCtx, &Row, &T) -> Result<(), IngestError>,
) -> Result<(), IngestError> {
    let mut t = Table::open(ctx, bytes)?;
    let cols = setup(ctx, &t)?;
    let width = t.names.len();
    let mut rec = ByteRecord::new();
    let before = ctx.rows_read;
    while next_record(ctx, &mut t.rdr, &mut rec)? {
        let loc = t.lines.of(&rec);
        ctx.rows_read += 1;
        if rec.len() < width {
            let col = t.names.get(rec.len()).cloned().unwrap_or_default();
            let e = ctx.bad_row(
                loc,
                &col,
                format!(
                    "expected {width} columns, found {} (truncated row?)",
                    rec.len()
                ),
            );
            ctx.bad(e)?;
            continue;
        }
        let r = Row {
            rec: &rec,
            loc,
            names: &t.names,
        };
        if let Err(e) = row(ctx, &r, &cols) {
            ctx.bad(e)?;
        }
    }
    if ctx.rows_read == before {
        return Err(ctx.structure("no data rows"));
    }
    Ok(())
}

fn parse_events(
    ctx: &mut FileCtx,
    bytes: &[u8],
    m: &EventsMapping,
    decimals: &BTreeMap<(String, String), u32>,
    out: &mut Vec<(LendingEvent, Location)>,
) -> Result<(), IngestError> {
    let tf =
        TimeFormat::parse(m.time_format.as_deref().unwrap_or("auto")).unwrap_or(TimeFormat::Auto);
    let mut unknown_kinds: BTreeMap<String, u64> = BTreeMap::new();
    each_row(
        ctx,
        bytes,
        |ctx, t| cols(ctx, t, m),
        |ctx, row, c| {
            let kind = match (m.kind, c.kind) {
                (Some(k), _) => k,
                (None, Some(i)) => {
                    let v = String::from_utf8_lossy(row.raw(i)).into_owned();
                    match m.kinds.get(&v) {
                        Some(k) => *k,
                        None => {
                            *unknown_kinds.entry(v).or_default() += 1;
                            ctx.rejected += 1;
                            return Ok(());
                        }
                    }
                }
                (None, None) => unreachable!("checked by EventsMapping::check"),
            };
            out.push((build(ctx, row, m, c, &tf, kind, decimals)?, row.loc));
            Ok(())
        },
    )?;
    for (v, n) in unknown_kinds {
        ctx.warn(format!(
            "{n} rows of kind {v:?} not in the mapping's [kinds]: counted as rejected, not ingested"
        ));
    }
    Ok(())
}

/// The mapped fields' column indexes in `t`.
fn cols(ctx: &FileCtx, t: &Table, m: &EventsMapping) -> Result<Cols, IngestError> {
    Ok(Cols {
        time: t.index(ctx, "time", &m.time)?,
        kind: t.opt_index(ctx, "kind", &m.kind_column)?,
        market: t.opt_index(ctx, "market", &m.market_column)?,
        account: t.index(ctx, "account", &m.account)?,
        asset: t.index(ctx, "asset", &m.asset)?,
        amount: t.index(ctx, "amount", &m.amount)?,
        collateral_asset: t.opt_index(ctx, "collateral asset", &m.collateral_asset)?,
        collateral_amount: t.opt_index(ctx, "collateral amount", &m.collateral_amount)?,
        liquidator: t.opt_index(ctx, "liquidator", &m.liquidator)?,
        block: t.opt_index(ctx, "block", &m.block)?,
        tx_index: t.opt_index(ctx, "tx index", &m.tx_index)?,
        log_index: t.opt_index(ctx, "log index", &m.log_index)?,
        tx_hash: t.opt_index(ctx, "tx hash", &m.tx_hash)?,
        asset_price: t.opt_index(ctx, "asset price", &m.asset_price)?,
        collateral_price: t.opt_index(ctx, "collateral price", &m.collateral_price)?,
        asset_price_usd: t.opt_index(ctx, "asset USD price", &m.asset_price_usd)?,
        collateral_price_usd: t.opt_index(ctx, "collateral USD price", &m.collateral_price_usd)?,
        layouts: m
            .layouts
            .iter()
            .map(|l| t.index(ctx, "layout switch", &l.when_present))
            .collect::<Result<_, _>>()?,
    })
}

/// Column indexes of the mapped fields.
struct Cols {
    time: usize,
    kind: Option<usize>,
    market: Option<usize>,
    account: usize,
    asset: usize,
    amount: usize,
    collateral_asset: Option<usize>,
    collateral_amount: Option<usize>,
    liquidator: Option<usize>,
    block: Option<usize>,
    tx_index: Option<usize>,
    log_index: Option<usize>,
    tx_hash: Option<usize>,
    asset_price: Option<usize>,
    collateral_price: Option<usize>,
    asset_price_usd: Option<usize>,
    collateral_price_usd: Option<usize>,
    layouts: Vec<usize>,
}

fn build(
    ctx: &FileCtx,
    row: &Row,
    m: &EventsMapping,
    c: &Cols,
    tf: &TimeFormat,
    kind: LendingKind,
    decimals: &BTreeMap<(String, String), u32>,
) -> Result<LendingEvent, IngestError> {
    let ts = tf
        .parse_field(row.raw(c.time))
        .filter(|t| crate::timefmt::in_bounds(*t))
        .ok_or_else(|| row.bad(ctx, c.time, "a time between 2009 and 2100"))?;
    let units = match m
        .layouts
        .iter()
        .zip(&c.layouts)
        .find(|(_, i)| row.present(Some(**i)))
    {
        Some((l, _)) => l.units(),
        None => m.default_units(),
    };
    let market = match (&m.market, c.market) {
        (Some(v), _) => v.clone(),
        (None, Some(i)) => row.text(ctx, i)?,
        (None, None) => unreachable!("checked by EventsMapping::check"),
    };
    let asset = row.text(ctx, c.asset)?;
    let dec = |a: &str| decimals.get(&(market.clone(), a.to_string())).copied();
    let (amount, amount_raw) = parse_amount(ctx, row, c.amount, units.amount_units, dec(&asset))?;
    let mut e = LendingEvent::new(
        ts,
        &m.protocol,
        &market,
        kind,
        &row.text(ctx, c.account)?,
        &asset,
    );
    e.amount = Some(amount);
    e.amount_raw = amount_raw;
    if let (Some(ai), Some(mi)) = (c.collateral_asset, c.collateral_amount) {
        if row.present(Some(ai)) || row.present(Some(mi)) {
            let ca = row.text(ctx, ai)?;
            let (w, raw) = parse_amount(ctx, row, mi, units.amount_units, dec(&ca))?;
            e.collateral_asset = Some(ca);
            e.collateral_amount = Some(w);
            e.collateral_amount_raw = raw;
        }
    }
    if kind == LendingKind::Liquidation
        && e.collateral_asset.is_none()
        && c.collateral_asset.is_some()
    {
        return Err(row.bad(
            ctx,
            c.collateral_asset.unwrap_or(c.asset),
            "the collateral seized",
        ));
    }
    e.liquidator = row.opt_text(ctx, c.liquidator)?;
    e.block = row.opt_i64(ctx, c.block)?;
    e.tx_index = row.opt_i64(ctx, c.tx_index)?;
    e.log_index = row.opt_i64(ctx, c.log_index)?;
    e.tx_hash = row.opt_text(ctx, c.tx_hash)?;
    if e.block.is_none() && e.log_index.is_none() {
        e.source_ref = Some(format!("{} {}", ctx.name, row.loc));
    }
    e.asset_price = row.opt_scaled(ctx, c.asset_price, units.price_decimals)?;
    e.collateral_price = row.opt_scaled(ctx, c.collateral_price, units.price_decimals)?;
    if e.asset_price.is_some() || e.collateral_price.is_some() {
        e.price_unit = m.price_unit.clone();
    }
    e.asset_price_usd = row.opt_scaled(ctx, c.asset_price_usd, 0)?;
    e.collateral_price_usd = row.opt_scaled(ctx, c.collateral_price_usd, 0)?;
    Ok(e)
}

fn parse_reserves(
    name: &str,
    bytes: &[u8],
    rm: &ReservesMapping,
    m: &EventsMapping,
    opts: &IngestOptions,
    tool_version: &str,
) -> Result<(Vec<Reserve>, SourceRecord), IngestError> {
    // Reserve parameters are few and all needed: no skipping here.
    let strict = IngestOptions {
        on_bad_row: OnBadRow::Fail,
        ..opts.clone()
    };
    let mut ctx = FileCtx::new(name, &strict);
    let mut t = Table::open(&ctx, bytes)?;
    let market = t.index(&ctx, "market", &rm.market)?;
    let asset = t.index(&ctx, "asset", &rm.asset)?;
    let dec = t.index(&ctx, "decimals", &rm.decimals)?;
    let lt = t.index(&ctx, "liquidation threshold", &rm.liquidation_threshold_bps)?;
    let lb = t.index(&ctx, "liquidation bonus", &rm.liquidation_bonus_factor_bps)?;
    let coll = t.opt_index(&ctx, "usable as collateral", &rm.usable_as_collateral)?;
    let borrow = t.opt_index(&ctx, "borrowing enabled", &rm.borrowing_enabled)?;
    let mut out: BTreeMap<(String, String), (Reserve, Location)> = BTreeMap::new();
    let mut rec = ByteRecord::new();
    while next_record(&ctx, &mut t.rdr, &mut rec)? {
        let loc = t.lines.of(&rec);
        ctx.rows_read += 1;
        let row = Row {
            rec: &rec,
            loc,
            names: &t.names,
        };
        let bps = |i: usize| -> Result<Wad, IngestError> {
            num::parse_wad(row.raw(i))
                .filter(|w| w.0 >= 0)
                .map(|w| Wad(w.0 / 10_000))
                .ok_or_else(|| row.bad(&ctx, i, "basis points (8250 = 82.5%)"))
        };
        let flag = |i: Option<usize>| -> Result<Option<bool>, IngestError> {
            let Some(i) = i else { return Ok(None) };
            match row.raw(i).to_ascii_lowercase().as_slice() {
                b"true" | b"1" => Ok(Some(true)),
                b"false" | b"0" => Ok(Some(false)),
                b"" => Ok(None),
                _ => Err(row.bad(&ctx, i, "true or false")),
            }
        };
        let d = num::parse_i64_lenient(row.raw(dec))
            .and_then(|d| u32::try_from(d).ok())
            .filter(|d| *d <= 38)
            .ok_or_else(|| row.bad(&ctx, dec, "decimals 0 to 38"))?;
        let factor = bps(lb)?;
        // Aave's bonus is a factor: 10500 = repay 1, seize 1.05 (a 5% bonus);
        // 0 marks an asset that cannot be collateral.
        let bonus = Wad((factor.0 - Wad::ONE.0).max(0));
        let r = Reserve {
            protocol: m.protocol.clone(),
            market: row.text(&ctx, market)?,
            asset: row.text(&ctx, asset)?,
            decimals: d,
            liquidation_threshold: bps(lt)?,
            liquidation_bonus: bonus,
            usable_as_collateral: flag(coll)?,
            borrowing_enabled: flag(borrow)?,
        };
        let key = (r.market.clone(), r.asset.clone());
        match out.get(&key) {
            Some((old, _)) if *old == r => ctx.deduplicated += 1,
            Some((_, at)) => {
                return Err(IngestError::Conflict {
                    file: name.to_string(),
                    location: loc,
                    message: format!(
                        "reserve {:?} of market {:?} listed twice with different parameters (first at {at})",
                        r.asset, r.market
                    ),
                })
            }
            None => {
                out.insert(key, (r, loc));
            }
        }
    }
    if out.is_empty() {
        return Err(ctx.structure("no data rows"));
    }
    let mut rec = ctx.source_record(
        bytes,
        FORMAT,
        "reserves",
        record_options(m, opts),
        tool_version,
    );
    rec.rows_written = out.len() as u64;
    let reserves = out.into_values().map(|(r, _)| r).collect();
    Ok((reserves, rec))
}
