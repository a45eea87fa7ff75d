//! Formats, options and the column mapping of the generic CSV/parquet adapter.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use shortfall_core::Micros;

use crate::timefmt::TimeFormat;
use crate::IngestError;

/// A raw input format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// Binance public kline archives (CSV or zipped CSV).
    BinanceKlines,
    /// CryptoDataDownload CSV exports.
    Cdd,
    /// CoinAPI-style OHLCV JSON arrays.
    CoinapiJson,
    /// Chainlink round exports (several CSV layouts).
    ChainlinkRounds,
    /// Any CSV, described by a [`ColumnMapping`].
    Csv,
    /// Any parquet file, described by a [`ColumnMapping`].
    Parquet,
    /// Santiment `getMetric` time series JSON.
    SantimentJson,
    /// Uniswap v2 pair reserves at a fixed step, without times.
    UniswapV2Reserves,
}

impl Format {
    /// All formats, in `--help` order.
    pub const ALL: [Format; 8] = [
        Format::BinanceKlines,
        Format::Cdd,
        Format::CoinapiJson,
        Format::ChainlinkRounds,
        Format::Csv,
        Format::Parquet,
        Format::SantimentJson,
        Format::UniswapV2Reserves,
    ];

    /// The command-line name (`binance-klines`, `cdd`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Format::BinanceKlines => "binance-klines",
            Format::Cdd => "cdd",
            Format::CoinapiJson => "coinapi-json",
            Format::ChainlinkRounds => "chainlink-rounds",
            Format::Csv => "csv",
            Format::Parquet => "parquet",
            Format::SantimentJson => "santiment-json",
            Format::UniswapV2Reserves => "uniswap-v2-reserves-json",
        }
    }

    /// One-line description for `--help`.
    pub fn description(self) -> &'static str {
        match self {
            Format::BinanceKlines => {
                "Binance kline archive (CSV or .zip, with or without header, ms or µs times)"
            }
            Format::Cdd => "CryptoDataDownload CSV (banner line, newest first)",
            Format::CoinapiJson => "CoinAPI OHLCV JSON array (needs --venue, --base, --quote)",
            Format::ChainlinkRounds => "Chainlink round export CSV (needs --decimals)",
            Format::Csv => "any CSV with a column mapping",
            Format::Parquet => "any parquet file with a column mapping",
            Format::SantimentJson => {
                "Santiment getMetric time series JSON (needs --base; quote USD)"
            }
            Format::UniswapV2Reserves => {
                "Uniswap v2 reserves list without times (needs --start; also fills liquidity)"
            }
        }
    }

    /// The canonical table this format fills.
    pub fn table(self) -> &'static str {
        match self {
            Format::ChainlinkRounds => "oracle_rounds",
            _ => "prices",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = IngestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
                IngestError::Options(format!(
                    "unknown format `{s}`: expected one of {}",
                    names.join(", ")
                ))
            })
    }
}

/// What to do with a row that fails validation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnBadRow {
    /// Stop at the first bad row (default).
    #[default]
    Fail,
    /// Skip it, count it in `rows_skipped` and note the first few reasons.
    /// Structural problems (empty file, wrong delimiter, ...) stay fatal.
    Skip,
}

impl FromStr for OnBadRow {
    type Err = IngestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fail" => Ok(OnBadRow::Fail),
            "skip" => Ok(OnBadRow::Skip),
            o => Err(IngestError::Options(format!(
                "unknown --on-bad-row `{o}`: expected fail or skip"
            ))),
        }
    }
}

impl fmt::Display for OnBadRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OnBadRow::Fail => "fail",
            OnBadRow::Skip => "skip",
        })
    }
}

/// Options of one ingest call. `Default` is "infer what can be inferred, fail on bad rows".
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Base asset (`ETH`); else from the symbol column or the file name.
    pub base: Option<String>,
    /// Quote asset (`USDT`); else from the symbol column or the file name.
    pub quote: Option<String>,
    /// Venue (`binance`); else a format default or the file name.
    pub venue: Option<String>,
    /// Oracle feed name; default `chainlink:{BASE}/{QUOTE}`.
    pub feed: Option<String>,
    /// Keep only rows with `start <= ts < end`.
    pub window: Option<(Micros, Micros)>,
    /// Fail or skip on bad rows.
    pub on_bad_row: OnBadRow,
    /// Decimals of integer answers/prices (Chainlink: 8 or 18; required there).
    pub decimals: Option<u32>,
    /// Column mapping (formats `csv` and `parquet`).
    pub mapping: Option<ColumnMapping>,
    /// Bar length in seconds, overriding what the adapter infers.
    pub interval_secs: Option<i64>,
    /// Time of the first row of a file without times (`uniswap-v2-reserves-json`).
    pub start: Option<Micros>,
}

impl IngestOptions {
    /// The options that shape the result, for [`shortfall_core::SourceRecord::options`].
    pub fn record(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                m.insert(k.to_string(), v);
            }
        };
        put("base", self.base.clone());
        put("quote", self.quote.clone());
        put("venue", self.venue.clone());
        put("feed", self.feed.clone());
        put(
            "window",
            self.window
                .map(|(a, b)| format!("[{}, {})", a.to_iso(), b.to_iso())),
        );
        put("decimals", self.decimals.map(|d| d.to_string()));
        put("interval_secs", self.interval_secs.map(|d| d.to_string()));
        put("start", self.start.map(|t| t.to_iso()));
        put(
            "mapping",
            self.mapping
                .as_ref()
                .and_then(|m| serde_json::to_string(m).ok()),
        );
        m.insert("on_bad_row".into(), self.on_bad_row.to_string());
        m
    }
}

/// Reads a mapping file with `parse`; errors name the file.
pub(crate) fn read_mapping<T>(
    path: &Path,
    parse: impl Fn(&str) -> Result<T, IngestError>,
) -> Result<T, IngestError> {
    let text = std::fs::read_to_string(path).map_err(|source| IngestError::Io {
        file: path.display().to_string(),
        source,
    })?;
    parse(&text).map_err(|e| IngestError::Options(format!("{}: {e}", path.display())))
}

/// How the generic `csv`/`parquet` adapters find their columns.
///
/// ```toml
/// time = "open_time"        # column holding the bar start
/// time_format = "ms"        # auto | s | ms | us | ns | iso | a chrono format like "%Y-%m-%d %H:%M"
/// base = "USDE"             # constant ...
/// quote_column = "quote"    # ... or a column (one of the two)
/// venue = "binance"
/// open = "open"             # open/high/low/close, or a single `price`
/// high = "high"
/// low = "low"
/// close = "close"
/// volume_base = "volume"
/// decimals = 8              # prices are integers in base units with 8 decimals
/// interval_secs = 60
/// ```
///
/// A parquet `Timestamp` column carries its own unit, so `time_format` only
/// matters for integer and text time columns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnMapping {
    /// Time column (bar start). Required.
    pub time: String,
    /// Unit or layout of `time` (see [`TimeFormat::parse`]); default `auto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_format: Option<String>,
    /// Constant base asset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// Column holding the base asset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_column: Option<String>,
    /// Constant quote asset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    /// Column holding the quote asset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_column: Option<String>,
    /// Constant venue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue: Option<String>,
    /// Column holding the venue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue_column: Option<String>,
    /// Open price column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<String>,
    /// High price column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<String>,
    /// Low price column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<String>,
    /// Close price column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close: Option<String>,
    /// A single price column instead of OHLC (then open = high = low = close).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
    /// A column of Uniswap v3 pool ticks instead of prices: price =
    /// 1.0001^tick (token0 in token1 units, for tokens of equal decimals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_tick: Option<String>,
    /// Volume in base units (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_base: Option<String>,
    /// Volume in quote units (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_quote: Option<String>,
    /// Trade count (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trades: Option<String>,
    /// Price columns hold integers in base units with this many decimals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u32>,
    /// A column of market depth in USD: each row then also gives a
    /// `liquidity` row (venue, base, quote, `depth_usd` times `depth_factor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth_usd: Option<String>,
    /// Multiplier of `depth_usd` (decimal text; `0.5`: half a pool's total
    /// value locked is on each side). Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth_factor: Option<String>,
    /// Bar length; default: inferred from the most common step between bars
    /// (0 with a single `price` column, i.e. prints).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_secs: Option<i64>,
    /// CSV delimiter, default `,`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<char>,
}

impl ColumnMapping {
    /// Parses a TOML mapping.
    pub fn from_toml_str(text: &str) -> Result<Self, IngestError> {
        let m: ColumnMapping = toml::from_str(text)
            .map_err(|e| IngestError::Options(format!("column mapping: {e}")))?;
        m.check()?;
        Ok(m)
    }

    /// Reads a TOML mapping file.
    pub fn from_file(path: &Path) -> Result<Self, IngestError> {
        read_mapping(path, Self::from_toml_str)
    }

    /// Builds a mapping from `key=value` pairs (CLI flags such as `--map time=ts`),
    /// with the same keys as the TOML file.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, IngestError> {
        let mut m = ColumnMapping::default();
        for (k, v) in pairs {
            m.set(k, v)?;
        }
        m.check()?;
        Ok(m)
    }

    /// Sets one key (same names as the TOML file).
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), IngestError> {
        let v = Some(value.to_string());
        let bad = |what: &str| {
            IngestError::Options(format!(
                "column mapping: `{key}` expects {what}, found `{value}`"
            ))
        };
        match key.trim() {
            "time" => self.time = value.to_string(),
            "time_format" => self.time_format = v,
            "base" => self.base = v,
            "base_column" => self.base_column = v,
            "quote" => self.quote = v,
            "quote_column" => self.quote_column = v,
            "venue" => self.venue = v,
            "venue_column" => self.venue_column = v,
            "open" => self.open = v,
            "high" => self.high = v,
            "low" => self.low = v,
            "close" => self.close = v,
            "price" => self.price = v,
            "price_tick" => self.price_tick = v,
            "volume_base" => self.volume_base = v,
            "volume_quote" => self.volume_quote = v,
            "trades" => self.trades = v,
            "depth_usd" => self.depth_usd = v,
            "depth_factor" => self.depth_factor = v,
            "decimals" => self.decimals = Some(value.trim().parse().map_err(|_| bad("an integer 0..=38"))?),
            "interval_secs" => self.interval_secs = Some(value.trim().parse().map_err(|_| bad("an integer"))?),
            "delimiter" => {
                let mut c = value.chars();
                let d = match (c.next(), c.next()) {
                    (Some(d), None) => d,
                    _ if value == "\\t" || value == "tab" => '\t',
                    _ => return Err(bad("one character")),
                };
                self.delimiter = Some(d)
            }
            other => {
                return Err(IngestError::Options(format!(
                    "column mapping: unknown key `{other}` (expected time, time_format, base, base_column, quote, \
                     quote_column, venue, venue_column, open, high, low, close, price, volume_base, volume_quote, \
                     trades, decimals, depth_usd, depth_factor, interval_secs, delimiter)"
                )))
            }
        }
        Ok(())
    }

    /// The depth multiplier (1 when not given); `None` when it is not a
    /// positive decimal.
    pub fn depth_factor(&self) -> Option<shortfall_core::Wad> {
        match &self.depth_factor {
            None => Some(shortfall_core::Wad::ONE),
            Some(t) => shortfall_core::Wad::parse_decimal(t.trim(), false)
                .ok()
                .filter(|w| w.0 > 0),
        }
    }

    /// Checks that the mapping is complete and unambiguous.
    pub fn check(&self) -> Result<(), IngestError> {
        let err = |m: &str| Err(IngestError::Options(format!("column mapping: {m}")));
        if self.time.trim().is_empty() {
            return err("`time` (the time column) is required");
        }
        if let Some(f) = &self.time_format {
            if TimeFormat::parse(f).is_none() {
                return err("`time_format` must be auto, s, ms, us, ns, iso or a chrono format containing `%`");
            }
        }
        if self.depth_factor.is_some() && self.depth_usd.is_none() {
            return err("`depth_factor` needs a `depth_usd` column");
        }
        if self.depth_factor().is_none() {
            return err("`depth_factor` must be a positive decimal number");
        }
        let ohlc = [&self.open, &self.high, &self.low, &self.close];
        let n = ohlc.iter().filter(|c| c.is_some()).count();
        if self.price.is_some() && self.price_tick.is_some() {
            return err("give either `price` or `price_tick`, not both");
        }
        match (self.price.is_some() || self.price_tick.is_some(), n) {
            (true, 0) | (false, 4) => {}
            (true, _) => return err(
                "give either `price` (or `price_tick`) or `open`/`high`/`low`/`close`, not both",
            ),
            (false, _) => {
                return err(
                    "give `open`, `high`, `low` and `close` columns, or a single `price` column",
                )
            }
        }
        for (what, c, col) in [
            ("base", &self.base, &self.base_column),
            ("quote", &self.quote, &self.quote_column),
            ("venue", &self.venue, &self.venue_column),
        ] {
            if c.is_some() && col.is_some() {
                return err(&format!("give `{what}` or `{what}_column`, not both"));
            }
        }
        if self.decimals.is_some_and(|d| d > 38) {
            return err("`decimals` must be at most 38");
        }
        Ok(())
    }

    pub(crate) fn time_format(&self) -> TimeFormat {
        self.time_format
            .as_deref()
            .and_then(TimeFormat::parse)
            .unwrap_or(TimeFormat::Auto)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>().unwrap(), f);
            assert_eq!(f.to_string(), f.name());
        }
        assert!("nope".parse::<Format>().is_err());
    }

    #[test]
    fn mapping_from_toml_and_pairs() {
        let m = ColumnMapping::from_toml_str(
            "time = \"t\"\ntime_format = \"ms\"\nbase = \"ETH\"\nquote = \"USD\"\nvenue = \"x\"\nprice = \"p\"\n",
        )
        .unwrap();
        let p = ColumnMapping::from_pairs([
            ("time", "t"),
            ("time_format", "ms"),
            ("base", "ETH"),
            ("quote", "USD"),
            ("venue", "x"),
            ("price", "p"),
        ])
        .unwrap();
        assert_eq!(m, p);
        assert!(
            ColumnMapping::from_toml_str("time = \"t\"\nprice = \"p\"\nopen = \"o\"\n").is_err()
        );
        assert!(ColumnMapping::from_toml_str("time = \"t\"\nbogus = 1\n").is_err());
        assert!(ColumnMapping::from_pairs([("time", "t")]).is_err());
    }
}
