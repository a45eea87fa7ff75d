//! Generic CSV and parquet adapters driven by a [`ColumnMapping`].
//!
//! Both turn each row into [`Cell`]s and share one row builder, so the rules
//! (time units, decimals, constants vs columns, checks) are the same.
//! Parquet columns may be `Timestamp` (any unit, with or without a time zone:
//! Arrow stores UTC), integers, floats (converted through their shortest
//! decimal text, NaN/inf rejected), `Decimal128`, dates, or strings; other
//! types are cast to strings.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{
    DataType, Date32Type, Date64Type, Decimal128Type, Float32Type, Float64Type, Int64Type,
    TimeUnit, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use csv::ByteRecord;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::ChunkReader;
use shortfall_core::{LiquidityRow, Micros, PriceBar, Wad};

use super::{check_delimiter, check_not_empty, csv_reader, next_record, Lines};
use crate::ctx::FileCtx;
use crate::error::{IngestError, Location};
use crate::options::ColumnMapping;
use crate::timefmt::TimeFormat;
use crate::{num, validate};

/// One value of a row, whatever the source.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cell<'a> {
    Null,
    Text(&'a [u8]),
    Int(i64),
    Float(f64),
    Float32(f32),
    /// Unscaled value and scale.
    Decimal(i128, i8),
    /// Already UTC microseconds.
    Time(i64),
}

impl Cell<'_> {
    fn show(&self) -> String {
        match self {
            Cell::Null => "<null>".into(),
            Cell::Text(t) => num::show(t),
            Cell::Int(v) => v.to_string(),
            Cell::Float(v) => v.to_string(),
            Cell::Float32(v) => v.to_string(),
            Cell::Decimal(v, s) => format!("{v}e-{s}"),
            Cell::Time(t) => Micros(*t).to_iso(),
        }
    }

    fn is_null(&self) -> bool {
        match self {
            Cell::Null => true,
            Cell::Text(t) => {
                let t = t.trim_ascii();
                t.is_empty() || t.eq_ignore_ascii_case(b"null") || t.eq_ignore_ascii_case(b"nan")
            }
            _ => false,
        }
    }
}

/// A value that is either constant or read from a column.
#[derive(Debug, Clone)]
enum Src {
    Const(String),
    Col(usize, String),
}

/// Column indices resolved against a header.
struct Plan {
    time: (usize, String),
    format: TimeFormat,
    base: Src,
    quote: Src,
    venue: Src,
    ohlc: [(usize, String); 4],
    single_price: bool,
    /// The single price column holds Uniswap v3 ticks.
    tick: bool,
    volume_base: Option<(usize, String)>,
    volume_quote: Option<(usize, String)>,
    trades: Option<(usize, String)>,
    decimals: Option<u32>,
    /// Depth column and multiplier (rows then also give `liquidity` rows).
    depth: Option<((usize, String), Wad)>,
    width: usize,
}

fn find(
    ctx: &FileCtx,
    names: &[String],
    wanted: &str,
    key: &str,
) -> Result<(usize, String), IngestError> {
    names
        .iter()
        .position(|n| n == wanted)
        .or_else(|| names.iter().position(|n| n.eq_ignore_ascii_case(wanted)))
        .map(|i| (i, names.get(i).cloned().unwrap_or_default()))
        .ok_or_else(|| {
            ctx.structure(format!(
                "column \"{wanted}\" (mapping key `{key}`) not found; the file has columns: {}",
                names.join(", ")
            ))
        })
}

fn plan(ctx: &mut FileCtx, m: &ColumnMapping, names: &[String]) -> Result<Plan, IngestError> {
    let opt = |ctx: &FileCtx,
               c: &Option<String>,
               key: &str|
     -> Result<Option<(usize, String)>, IngestError> {
        c.as_ref().map(|c| find(ctx, names, c, key)).transpose()
    };
    let from_name = super::symbol_from_name(&ctx.name);
    let src = |ctx: &mut FileCtx,
               flag: &Option<String>,
               konst: &Option<String>,
               col: &Option<String>,
               key: &str,
               guess: Option<String>|
     -> Result<Src, IngestError> {
        if let Some(f) = flag {
            return Ok(Src::Const(f.clone()));
        }
        if let Some(k) = konst {
            return Ok(Src::Const(k.clone()));
        }
        if let Some(c) = col {
            let (i, n) = find(ctx, names, c, &format!("{key}_column"))?;
            return Ok(Src::Col(i, n));
        }
        if let Some(g) = guess {
            ctx.notes
                .push(format!("{key} {g} taken from the file name"));
            return Ok(Src::Const(g));
        }
        Err(IngestError::Options(format!(
            "{}: no {key}: pass --{key}, or set `{key}` or `{key}_column` in the column mapping",
            ctx.name
        )))
    };
    let o = ctx.opts;
    let base = src(
        ctx,
        &o.base,
        &m.base,
        &m.base_column,
        "base",
        from_name.clone().map(|p| p.0),
    )?;
    let quote = src(
        ctx,
        &o.quote,
        &m.quote,
        &m.quote_column,
        "quote",
        from_name.map(|p| p.1),
    )?;
    let venue = src(
        ctx,
        &o.venue,
        &m.venue,
        &m.venue_column,
        "venue",
        super::venue_from_name(&ctx.name),
    )?;
    let time = find(ctx, names, &m.time, "time")?;
    let tick = m.price_tick.is_some();
    let (ohlc, single_price) = match m.price.as_ref().or(m.price_tick.as_ref()) {
        Some(p) => {
            let c = find(ctx, names, p, if tick { "price_tick" } else { "price" })?;
            ([c.clone(), c.clone(), c.clone(), c], true)
        }
        None => {
            let get =
                |c: &Option<String>, k: &str| find(ctx, names, c.as_deref().unwrap_or_default(), k);
            (
                [
                    get(&m.open, "open")?,
                    get(&m.high, "high")?,
                    get(&m.low, "low")?,
                    get(&m.close, "close")?,
                ],
                false,
            )
        }
    };
    Ok(Plan {
        time,
        format: m.time_format(),
        base,
        quote,
        venue,
        ohlc,
        single_price,
        tick,
        volume_base: opt(ctx, &m.volume_base, "volume_base")?,
        volume_quote: opt(ctx, &m.volume_quote, "volume_quote")?,
        trades: opt(ctx, &m.trades, "trades")?,
        decimals: m.decimals.or(ctx.opts.decimals),
        depth: opt(ctx, &m.depth_usd, "depth_usd")?
            .map(|c| (c, m.depth_factor().unwrap_or(Wad::ONE))),
        width: names.len(),
    })
}

fn mapping<'m>(ctx: &FileCtx<'m>) -> Result<&'m ColumnMapping, IngestError> {
    let m = ctx.opts.mapping.as_ref().ok_or_else(|| {
        IngestError::Options(format!(
            "{}: formats csv and parquet need a column mapping (--mapping FILE or --map key=value)",
            ctx.name
        ))
    })?;
    m.check()?;
    Ok(m)
}

fn to_wad(
    ctx: &FileCtx,
    loc: Location,
    col: &str,
    cell: Cell,
    decimals: Option<u32>,
) -> Result<Wad, IngestError> {
    let bad = |expected: &str| ctx.bad_value(loc, col, expected, cell.show().as_bytes());
    match cell {
        Cell::Null => Err(bad("a number")),
        Cell::Text(t) => match decimals {
            Some(d) => num::parse_i128(t)
                .and_then(|v| Wad::from_base_units(v, d).ok())
                .ok_or_else(|| bad(&format!("an integer in base units ({d} decimals)"))),
            None => num::parse_wad(t).ok_or_else(|| bad("a decimal number")),
        },
        Cell::Int(v) => match decimals {
            Some(d) => Wad::from_base_units(v as i128, d).map_err(|_| bad("a number in range")),
            None => Wad::from_base_units(v as i128, 0).map_err(|_| bad("a number in range")),
        },
        Cell::Float(x) => {
            if !x.is_finite() {
                return Err(bad("a finite number"));
            }
            let w = num::parse_wad(format!("{x}").as_bytes())
                .ok_or_else(|| bad("a number in range"))?;
            scale_down(w, decimals).ok_or_else(|| bad("a number in range"))
        }
        Cell::Float32(x) => {
            if !x.is_finite() {
                return Err(bad("a finite number"));
            }
            let w = num::parse_wad(format!("{x}").as_bytes())
                .ok_or_else(|| bad("a number in range"))?;
            scale_down(w, decimals).ok_or_else(|| bad("a number in range"))
        }
        Cell::Decimal(v, s) => {
            let s = u32::try_from(s).map_err(|_| bad("a decimal with a scale >= 0"))?;
            let w = Wad::from_base_units(v, s).map_err(|_| bad("a number in range"))?;
            scale_down(w, decimals).ok_or_else(|| bad("a number in range"))
        }
        Cell::Time(_) => Err(bad("a number")),
    }
}

/// Uniswap v3 `1.0001^tick` as a wad: exponentiation by squaring in 18-decimal
/// fixed point, each product rounded half up, and the reciprocal for a
/// negative tick (deterministic, no float; relative error well under 1e-12
/// for the ticks of real pools).
pub(crate) fn tick_price(tick: i64) -> Option<Wad> {
    const MAX_TICK: i64 = 887_272;
    const WAD: i128 = 1_000_000_000_000_000_000;
    if tick.abs() > MAX_TICK {
        return None;
    }
    let mul = |a: i128, b: i128| shortfall_core::money::mul_div_half_up(a, b, WAD);
    let mut base: i128 = WAD + WAD / 10_000; // 1.0001
    let mut acc: i128 = WAD;
    let mut e = tick.unsigned_abs();
    while e > 0 {
        if e & 1 == 1 {
            acc = mul(acc, base)?;
        }
        e >>= 1;
        if e > 0 {
            base = mul(base, base)?;
        }
    }
    if tick < 0 {
        acc = shortfall_core::money::mul_div_half_up(WAD, WAD, acc)?;
    }
    (acc > 0).then_some(Wad(acc))
}

/// Applies `decimals` to a non-integer source value (a float of base units).
fn scale_down(w: Wad, decimals: Option<u32>) -> Option<Wad> {
    match decimals {
        None | Some(0) => Some(w),
        Some(d) => {
            let f = 10i128.checked_pow(d)?;
            Some(Wad(shortfall_core::money::mul_div_half_up(w.0, 1, f)?))
        }
    }
}

fn to_time(
    ctx: &FileCtx,
    loc: Location,
    col: &str,
    cell: Cell,
    format: &TimeFormat,
) -> Result<Micros, IngestError> {
    let bad = || {
        ctx.bad_value(
            loc,
            col,
            &format!("a time ({format})"),
            cell.show().as_bytes(),
        )
    };
    let t = match cell {
        Cell::Time(t) => Some(t),
        Cell::Int(v) => format.int_to_micros(v),
        Cell::Float(x) if x.is_finite() && x.fract() == 0.0 && x.abs() < 9e18 => {
            format.int_to_micros(x as i64)
        }
        Cell::Text(t) => format.parse_field(t).map(|m| m.0),
        _ => None,
    };
    t.map(Micros).ok_or_else(bad)
}

fn to_text(ctx: &FileCtx, loc: Location, col: &str, cell: Cell) -> Result<String, IngestError> {
    match cell {
        Cell::Text(t) if !cell.is_null() => {
            Ok(String::from_utf8_lossy(t.trim_ascii()).into_owned())
        }
        _ => Err(ctx.bad_value(loc, col, "a name", cell.show().as_bytes())),
    }
}

fn build<'c>(
    ctx: &FileCtx,
    loc: Location,
    p: &Plan,
    get: impl Fn(usize) -> Cell<'c>,
) -> Result<PriceBar, IngestError> {
    let text_of = |s: &Src| match s {
        Src::Const(c) => Ok(c.clone()),
        Src::Col(i, n) => to_text(ctx, loc, n, get(*i)),
    };
    let wad = |(i, n): &(usize, String)| to_wad(ctx, loc, n, get(*i), p.decimals);
    let opt_wad = |c: &Option<(usize, String)>| -> Result<Option<Wad>, IngestError> {
        match c {
            Some((i, n)) if !get(*i).is_null() => to_wad(ctx, loc, n, get(*i), None).map(Some),
            _ => Ok(None),
        }
    };
    let trades = match &p.trades {
        Some((i, n)) if !get(*i).is_null() => Some(match get(*i) {
            Cell::Int(v) => v,
            Cell::Text(t) => {
                num::parse_i64_lenient(t).ok_or_else(|| ctx.bad_value(loc, n, "an integer", t))?
            }
            Cell::Float(x) if x.fract() == 0.0 && x.abs() < 9e18 => x as i64,
            c => return Err(ctx.bad_value(loc, n, "an integer", c.show().as_bytes())),
        }),
        _ => None,
    };
    let open = if p.tick {
        let (i, n) = &p.ohlc[0];
        let cell = get(*i);
        let t = match cell {
            Cell::Int(v) => Some(v),
            Cell::Text(t) => num::parse_i64_lenient(t),
            _ => None,
        };
        t.and_then(tick_price).ok_or_else(|| {
            ctx.bad_value(
                loc,
                n,
                "a Uniswap v3 tick (an integer within +-887272)",
                cell.show().as_bytes(),
            )
        })?
    } else {
        wad(&p.ohlc[0])?
    };
    let (high, low, close) = if p.single_price {
        (open, open, open)
    } else {
        (wad(&p.ohlc[1])?, wad(&p.ohlc[2])?, wad(&p.ohlc[3])?)
    };
    let bar = PriceBar {
        ts: to_time(ctx, loc, &p.time.1, get(p.time.0), &p.format)?,
        venue: text_of(&p.venue)?.to_ascii_lowercase(),
        base: text_of(&p.base)?.to_ascii_uppercase(),
        quote: text_of(&p.quote)?.to_ascii_uppercase(),
        interval_secs: 0,
        open,
        high,
        low,
        close,
        volume_base: opt_wad(&p.volume_base)?,
        volume_quote: opt_wad(&p.volume_quote)?,
        trades,
    };
    fn n(c: &Option<(usize, String)>) -> &str {
        c.as_ref().map_or("-", |c| c.1.as_str())
    }
    validate::check_bar(
        ctx,
        &bar,
        loc,
        &[
            &p.time.1,
            &p.ohlc[0].1,
            &p.ohlc[1].1,
            &p.ohlc[2].1,
            &p.ohlc[3].1,
            n(&p.volume_base),
            n(&p.volume_quote),
        ],
    )?;
    Ok(bar)
}

/// The `liquidity` row of a bar, when the mapping has a depth column.
fn depth_row<'c>(
    ctx: &FileCtx,
    loc: Location,
    p: &Plan,
    bar: &PriceBar,
    get: impl Fn(usize) -> Cell<'c>,
) -> Result<Option<LiquidityRow>, IngestError> {
    let Some(((i, n), factor)) = &p.depth else {
        return Ok(None);
    };
    let d = to_wad(ctx, loc, n, get(*i), None)?;
    if d.0 < 0 {
        return Err(ctx.bad_value(loc, n, "a depth >= 0", get(*i).show().as_bytes()));
    }
    let depth = d.checked_mul_down(*factor).ok_or_else(|| {
        ctx.bad_value(loc, n, "a depth below 10^20 USD", get(*i).show().as_bytes())
    })?;
    Ok(Some(LiquidityRow {
        ts: bar.ts,
        venue: bar.venue.clone(),
        asset: bar.base.clone(),
        quote: bar.quote.clone(),
        depth_usd: depth,
    }))
}

fn push_bar(ctx: &mut FileCtx, bar: PriceBar, depth: Option<LiquidityRow>, loc: Location) {
    if let Some(d) = depth {
        ctx.liquidity.push((d, loc));
    }
    ctx.push_price(bar, loc);
}

fn set_interval(ctx: &mut FileCtx, m: &ColumnMapping, single_price: bool) {
    let interval = match (m.interval_secs.or(ctx.opts.interval_secs), single_price) {
        (Some(i), _) => i,
        (None, true) => 0,
        (None, false) => validate::infer_interval(&ctx.prices).unwrap_or(0),
    };
    for b in ctx.prices.iter_mut() {
        b.interval_secs = interval;
    }
}

/// Parses a CSV with a header row.
pub(crate) fn parse_csv(ctx: &mut FileCtx, bytes: &[u8]) -> Result<(), IngestError> {
    let m = mapping(ctx)?;
    check_not_empty(ctx, bytes)?;
    let delim = m.delimiter.unwrap_or(',');
    let delim = u8::try_from(delim)
        .ok()
        .filter(u8::is_ascii)
        .ok_or_else(|| {
            IngestError::Options(format!(
                "column mapping: delimiter `{delim}` must be one ASCII character"
            ))
        })?;
    let mut rdr = csv_reader(bytes, delim, false);
    let mut rec = ByteRecord::new();
    let mut lines = Lines::new(bytes);
    if !next_record(ctx, &mut rdr, &mut rec)? {
        return Err(ctx.structure("empty file"));
    }
    let header_loc = lines.of(&rec);
    check_delimiter(ctx, &rec, header_loc, delim)?;
    let names: Vec<String> = rec
        .iter()
        .map(|f| String::from_utf8_lossy(f).trim().to_string())
        .collect();
    let p = plan(ctx, m, &names)?;
    let before = ctx.rows_read;
    while next_record(ctx, &mut rdr, &mut rec)? {
        let loc = lines.of(&rec);
        ctx.rows_read += 1;
        if rec.len() < p.width {
            let col = names.get(rec.len()).cloned().unwrap_or_default();
            let e = ctx.bad_row(
                loc,
                &col,
                format!(
                    "expected {} columns, found {} (truncated row?)",
                    p.width,
                    rec.len()
                ),
            );
            ctx.bad(e)?;
            continue;
        }
        let r = &rec;
        let get = |i: usize| r.get(i).map_or(Cell::Null, Cell::Text);
        match build(ctx, loc, &p, get)
            .and_then(|bar| depth_row(ctx, loc, &p, &bar, get).map(|d| (bar, d)))
        {
            Ok((bar, d)) => push_bar(ctx, bar, d, loc),
            Err(e) => ctx.bad(e)?,
        }
    }
    if ctx.rows_read == before {
        return Err(ctx.structure("no data rows"));
    }
    set_interval(ctx, m, p.single_price);
    Ok(())
}

/// `parquet` implements [`ChunkReader`] for `bytes::Bytes`, which this crate
/// does not depend on by name: this takes `Bytes`' own `get_bytes` as a type
/// witness so the compiler infers it.
fn bytes_via<B: From<Vec<u8>>>(
    _witness: fn(&std::fs::File, u64, usize) -> parquet::errors::Result<B>,
    v: Vec<u8>,
) -> B {
    B::from(v)
}

/// A batch source over parquet bytes (see [`open_parquet`]).
pub(crate) type NextBatch =
    Box<dyn FnMut() -> Result<Option<arrow::array::RecordBatch>, IngestError>>;

/// Opens parquet bytes: the column names and a function giving the next
/// batch. The parquet reader is not hardened against every malformed file:
/// a panic inside it becomes a structural error naming `file`, not a crash.
pub(crate) fn open_parquet(
    file: &str,
    bytes: &[u8],
) -> Result<(Vec<String>, NextBatch), IngestError> {
    if !bytes.starts_with(b"PAR1") {
        return Err(IngestError::structure(
            file,
            "not a parquet file (no PAR1 magic)",
        ));
    }
    let data = bytes_via(<std::fs::File as ChunkReader>::get_bytes, bytes.to_vec());
    let file = file.to_string();
    let guarded = move |f: &mut dyn FnMut() -> Result<(), String>| -> Result<(), IngestError> {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(IngestError::structure(
                &file,
                format!("unreadable parquet: {e}"),
            )),
            Err(_) => Err(IngestError::structure(
                &file,
                "unreadable parquet: the reader failed on malformed data",
            )),
        }
    };
    let mut opened = None;
    guarded(&mut || {
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(data.clone()).map_err(|e| e.to_string())?;
        let names: Vec<String> = builder
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let reader = builder
            .with_batch_size(8192)
            .build()
            .map_err(|e| e.to_string())?;
        opened = Some((names, reader));
        Ok(())
    })?;
    let Some((names, mut reader)) = opened else {
        return Err(guarded(&mut || Err("no reader".into())).unwrap_err());
    };
    let next = move || {
        let mut next = None;
        guarded(&mut || {
            next = reader.next().transpose().map_err(|e| e.to_string())?;
            Ok(())
        })?;
        Ok(next)
    };
    Ok((names, Box::new(next)))
}

/// Parses a parquet file (row numbers in messages are 1-based over the file).
pub(crate) fn parse_parquet(ctx: &mut FileCtx, bytes: &[u8]) -> Result<(), IngestError> {
    let m = mapping(ctx)?;
    check_not_empty(ctx, bytes)?;
    let (names, mut next_batch) = open_parquet(&ctx.name, bytes)?;
    let p = plan(ctx, m, &names)?;
    let mut row_no = 0u64;
    while let Some(batch) = next_batch()? {
        let cols: Vec<ArrayRef> = batch.columns().iter().map(normalise).collect();
        for r in 0..batch.num_rows() {
            row_no += 1;
            ctx.rows_read += 1;
            let loc = Location::Row(row_no);
            let get = |i: usize| cols.get(i).map_or(Cell::Null, |a| cell(a, r));
            match build(ctx, loc, &p, get)
                .and_then(|bar| depth_row(ctx, loc, &p, &bar, get).map(|d| (bar, d)))
            {
                Ok((bar, d)) => push_bar(ctx, bar, d, loc),
                Err(e) => ctx.bad(e)?,
            }
        }
    }
    if row_no == 0 {
        return Err(ctx.structure("no data rows"));
    }
    set_interval(ctx, m, p.single_price);
    Ok(())
}

/// Casts column types that [`cell`] does not read directly to Int64 or Utf8.
fn normalise(a: &ArrayRef) -> ArrayRef {
    let target = match a.data_type() {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => Some(DataType::Int64),
        DataType::Int64
        | DataType::Float32
        | DataType::Float64
        | DataType::Utf8
        | DataType::Decimal128(..)
        | DataType::Date32
        | DataType::Date64
        | DataType::Timestamp(..) => None,
        _ => Some(DataType::Utf8),
    };
    match target {
        Some(t) => arrow::compute::cast(a, &t).unwrap_or_else(|_| Arc::clone(a)),
        None => Arc::clone(a),
    }
}

fn cell(a: &ArrayRef, i: usize) -> Cell<'_> {
    if i >= a.len() || a.is_null(i) {
        return Cell::Null;
    }
    match a.data_type() {
        DataType::Int64 => Cell::Int(a.as_primitive::<Int64Type>().value(i)),
        DataType::Float64 => Cell::Float(a.as_primitive::<Float64Type>().value(i)),
        DataType::Float32 => Cell::Float32(a.as_primitive::<Float32Type>().value(i)),
        DataType::Utf8 => Cell::Text(a.as_string::<i32>().value(i).as_bytes()),
        DataType::Decimal128(_, s) => {
            Cell::Decimal(a.as_primitive::<Decimal128Type>().value(i), *s)
        }
        DataType::Date32 => Cell::Time(
            i64::from(a.as_primitive::<Date32Type>().value(i)).saturating_mul(86_400_000_000),
        ),
        DataType::Date64 => Cell::Time(
            a.as_primitive::<Date64Type>()
                .value(i)
                .saturating_mul(1_000),
        ),
        DataType::Timestamp(unit, _) => Cell::Time(match unit {
            TimeUnit::Second => a
                .as_primitive::<TimestampSecondType>()
                .value(i)
                .saturating_mul(1_000_000),
            TimeUnit::Millisecond => a
                .as_primitive::<TimestampMillisecondType>()
                .value(i)
                .saturating_mul(1_000),
            TimeUnit::Microsecond => a.as_primitive::<TimestampMicrosecondType>().value(i),
            TimeUnit::Nanosecond => a
                .as_primitive::<TimestampNanosecondType>()
                .value(i)
                .div_euclid(1_000),
        }),
        _ => Cell::Null,
    }
}

#[cfg(test)]
mod tick_tests {
    use super::tick_price;
    use shortfall_core::Wad;

    #[test]
    fn ticks_price_as_uniswap_defines_them() {
        assert_eq!(tick_price(0), Some(Wad::ONE));
        assert_eq!(tick_price(1).unwrap().to_string(), "1.0001");
        assert_eq!(tick_price(2).unwrap().to_string(), "1.00020001");
        // The USDC/USDT pool's low of March 2023: tick -1363, USDC ~0.8726 USDT.
        let p = tick_price(-1363).unwrap().to_f64();
        assert!((p - 1.0001f64.powi(-1363)).abs() < 1e-12, "{p}");
        assert!((p - 0.8726).abs() < 1e-4, "{p}");
        assert!(tick_price(887_273).is_none());
        assert!(
            tick_price(887_272).is_none(),
            "out of wad range, an error not a wrap"
        );
    }
}
