//! The adapters, one module per raw format, and what they share: zip
//! unpacking, CSV reader setup, delimiter checks, names inferred from file names.

pub mod binance;
pub mod cdd;
pub mod chainlink;
pub mod coinapi;
pub mod mapped;
pub mod santiment;
pub mod uniswap;

use std::borrow::Cow;
use std::io::Read;

use csv::ByteRecord;

use crate::ctx::FileCtx;
use crate::error::{IngestError, Location};
use crate::num;
use crate::options::Format;

/// Largest decompressed CSV accepted from a zip entry (guards against zip bombs).
const MAX_UNZIPPED: u64 = 8 << 30;

/// Runs the adapter of `format` over the raw bytes of one file.
pub(crate) fn parse(format: Format, ctx: &mut FileCtx, bytes: &[u8]) -> Result<(), IngestError> {
    match format {
        Format::CoinapiJson => coinapi::parse(ctx, bytes),
        Format::Parquet => mapped::parse_parquet(ctx, bytes),
        Format::SantimentJson => santiment::parse(ctx, bytes),
        Format::UniswapV2Reserves => uniswap::parse(ctx, bytes),
        Format::BinanceKlines | Format::Cdd | Format::ChainlinkRounds | Format::Csv => {
            let outer = ctx.name.clone();
            for (inner, data) in unpack(&outer, bytes)? {
                if let Some(inner) = &inner {
                    ctx.name = format!("{outer}:{inner}");
                }
                let r = match format {
                    Format::BinanceKlines => binance::parse(ctx, &data, inner.as_deref()),
                    Format::Cdd => cdd::parse(ctx, &data),
                    Format::ChainlinkRounds => chainlink::parse(ctx, &data),
                    _ => mapped::parse_csv(ctx, &data),
                };
                ctx.name = outer.clone();
                r?;
            }
            Ok(())
        }
    }
}

/// 1-based line of `part` inside `whole`, where `part` is a sub-slice of
/// `whole` (a borrowed JSON value): JSON rows are reported by line.
pub(crate) fn line_of(whole: &str, part: &str) -> u64 {
    let off = (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize);
    let off = off.min(whole.len());
    whole.as_bytes()[..off]
        .iter()
        .filter(|&&c| c == b'\n')
        .count() as u64
        + 1
}

/// Whether the bytes start like a zip archive.
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// A CSV to parse: its name inside a zip (if any) and its bytes.
type Member<'b> = (Option<String>, Cow<'b, [u8]>);

/// A plain file as itself, or every `.csv` entry of a zip archive (in name order).
fn unpack<'b>(file: &str, bytes: &'b [u8]) -> Result<Vec<Member<'b>>, IngestError> {
    if !is_zip(bytes) {
        return Ok(vec![(None, Cow::Borrowed(bytes))]);
    }
    let zerr = |e: zip::result::ZipError| {
        IngestError::structure(file, format!("not a readable zip archive: {e}"))
    };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(zerr)?;
    let mut names: Vec<(String, usize)> = Vec::new();
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(zerr)?;
        let name = entry.name().to_string();
        if entry.is_file() && name.to_ascii_lowercase().ends_with(".csv") {
            names.push((name, i));
        }
    }
    if names.is_empty() {
        return Err(IngestError::structure(
            file,
            "zip archive contains no .csv file",
        ));
    }
    names.sort();
    let mut out = Vec::with_capacity(names.len());
    for (name, i) in names {
        let entry = archive.by_index(i).map_err(zerr)?;
        let mut data = Vec::new();
        entry
            .take(MAX_UNZIPPED)
            .read_to_end(&mut data)
            .map_err(|e| IngestError::structure(file, format!("cannot decompress {name}: {e}")))?;
        let short = name.rsplit('/').next().unwrap_or(&name).to_string();
        out.push((Some(short), Cow::Owned(data)));
    }
    Ok(out)
}

/// A CSV reader over bytes that yields raw records of any length.
pub(crate) fn csv_reader(bytes: &[u8], delimiter: u8, comments: bool) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .comment(if comments { Some(b'#') } else { None })
        .from_reader(bytes)
}

/// Reads the next record; CSV syntax errors become structural errors.
pub(crate) fn next_record(
    ctx: &FileCtx,
    rdr: &mut csv::Reader<&[u8]>,
    rec: &mut ByteRecord,
) -> Result<bool, IngestError> {
    rdr.read_byte_record(rec)
        .map_err(|e| ctx.structure(format!("unreadable CSV: {e}")))
}

/// A record as text (fields joined by commas), shortened for messages.
pub(crate) fn show_record(rec: &ByteRecord) -> String {
    let fields: Vec<&[u8]> = rec.iter().collect();
    num::show(&fields.join(&b","[..]))
}

/// Physical line numbers of records.
///
/// The `csv` crate's own line count is one short after a CRLF line ending:
/// the record's start is reported at the previous line's `\n`, before that
/// line break was counted. So the line breaks found at the reported offset
/// are added to the reported line.
pub(crate) struct Lines<'b> {
    bytes: &'b [u8],
}

impl<'b> Lines<'b> {
    pub fn new(bytes: &'b [u8]) -> Self {
        Lines { bytes }
    }

    /// 1-based line where `rec` starts.
    pub fn of(&mut self, rec: &ByteRecord) -> Location {
        let Some(p) = rec.position() else {
            return Location::Line(0);
        };
        let mut at = usize::try_from(p.byte()).unwrap_or(usize::MAX);
        let mut line = p.line();
        while let Some(&c) = self.bytes.get(at) {
            match c {
                b'\n' => line += 1,
                b'\r' => {}
                _ => break,
            }
            at += 1;
        }
        Location::Line(line)
    }
}

/// Errors out on an empty (or whitespace-only) input.
pub(crate) fn check_not_empty(ctx: &FileCtx, bytes: &[u8]) -> Result<(), IngestError> {
    if bytes.trim_ascii().is_empty() {
        Err(ctx.structure("empty file"))
    } else {
        Ok(())
    }
}

/// A record with a single field holding another usual delimiter means the
/// file is not delimited the way we expect.
pub(crate) fn check_delimiter(
    ctx: &FileCtx,
    rec: &ByteRecord,
    loc: Location,
    expected: u8,
) -> Result<(), IngestError> {
    if rec.len() != 1 {
        return Ok(());
    }
    let field = rec.get(0).unwrap_or_default();
    for d in [b';', b'\t', b'|', b','] {
        if d != expected && field.contains(&d) {
            return Err(ctx.structure(format!(
                "{loc}: wrong delimiter: expected '{}' between columns, found '{}'",
                (expected as char).escape_default(),
                (d as char).escape_default()
            )));
        }
    }
    Ok(())
}

/// Quote assets recognised at the end of a ticker, longest first.
pub const QUOTE_SUFFIXES: [&str; 15] = [
    "FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USDP", "DAI", "USD", "EUR", "GBP", "TRY", "BTC",
    "ETH", "BNB", "JPY",
];

/// Splits a ticker like `BTC/USDT`, `BTC-USD`, `ETHUSDT` into (base, quote).
pub fn split_symbol(symbol: &str) -> Option<(String, String)> {
    let s = symbol.trim().to_ascii_uppercase();
    for sep in ['/', '-', '_', ':'] {
        if let Some((b, q)) = s.split_once(sep) {
            if is_ticker(b) && is_ticker(q) {
                return Some((b.to_string(), q.to_string()));
            }
            return None;
        }
    }
    if !is_ticker(&s) {
        return None;
    }
    QUOTE_SUFFIXES.iter().find_map(|q| {
        let b = s.strip_suffix(q)?;
        (b.len() >= 2).then(|| (b.to_string(), q.to_string()))
    })
}

fn is_ticker(s: &str) -> bool {
    !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Words of a file name: `binance_spot_lunausdt_1m_2022-05.csv` ->
/// `binance`, `spot`, `lunausdt`, `1m`, `2022`, `05`, `csv`.
pub fn name_tokens(file: &str) -> Vec<String> {
    file.split(['_', '-', '.', ' '])
        .filter(|t| !t.is_empty())
        .map(|t| t.to_ascii_lowercase())
        .collect()
}

/// (base, quote) from a file name holding a ticker token (`LUNAUSDT-1m-2022-05.csv`).
pub fn symbol_from_name(file: &str) -> Option<(String, String)> {
    name_tokens(file)
        .iter()
        .filter(|t| {
            t.bytes().all(|b| b.is_ascii_alphabetic()) && !KNOWN_VENUES.contains(&t.as_str())
        })
        .find_map(|t| split_symbol(t))
}

/// Venues recognised in file names.
pub const KNOWN_VENUES: [&str; 16] = [
    "binance", "gemini", "coinbase", "kraken", "bitstamp", "bitfinex", "okx", "okex", "bybit",
    "huobi", "kucoin", "ftx", "bittrex", "poloniex", "deribit", "bitmex",
];

/// Venue from a file name: `binance_spot_...` -> `binance`,
/// `binance_perp_...` / `..._futures_...` -> `binance-perp`.
pub fn venue_from_name(file: &str) -> Option<String> {
    let tokens = name_tokens(file);
    let venue = tokens.iter().find(|t| KNOWN_VENUES.contains(&t.as_str()))?;
    let perp = tokens
        .iter()
        .any(|t| matches!(t.as_str(), "perp" | "perps" | "futures" | "swap" | "um"));
    Some(if perp {
        format!("{venue}-perp")
    } else {
        venue.clone()
    })
}

/// Parses a required decimal price/amount field.
pub(crate) fn wad_field(
    ctx: &FileCtx,
    rec: &ByteRecord,
    i: usize,
    col: &str,
    loc: Location,
) -> Result<shortfall_core::Wad, IngestError> {
    let f = rec.get(i).unwrap_or_default();
    num::parse_wad(f).ok_or_else(|| ctx.bad_value(loc, col, "a decimal number", f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_and_venues_from_names() {
        assert_eq!(
            symbol_from_name("LUNAUSDT-1m-2022-05.csv"),
            Some(("LUNA".into(), "USDT".into()))
        );
        assert_eq!(
            symbol_from_name("binance_spot_lunausdt_1m_2022-05.csv"),
            Some(("LUNA".into(), "USDT".into()))
        );
        assert_eq!(
            symbol_from_name("binance_usdeusdt_1m.parquet"),
            Some(("USDE".into(), "USDT".into()))
        );
        assert_eq!(symbol_from_name("data.csv"), None);
        assert_eq!(
            split_symbol("BTC/USDT"),
            Some(("BTC".into(), "USDT".into()))
        );
        assert_eq!(split_symbol("BTCUSD"), Some(("BTC".into(), "USD".into())));
        assert_eq!(split_symbol("USDT"), None);
        assert_eq!(
            venue_from_name("gemini_btcusd_1h.cdd.csv").as_deref(),
            Some("gemini")
        );
        assert_eq!(
            venue_from_name("binance_perp_btcusdt_1h_2020.cdd.csv").as_deref(),
            Some("binance-perp")
        );
        assert_eq!(venue_from_name("x.csv"), None);
    }
}
