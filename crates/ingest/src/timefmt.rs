//! Time parsing for the adapters: epoch integers in a given or guessed unit,
//! ISO-8601 text, and chrono-style format strings. Never panics.

pub use shortfall_core::time::parse_iso;
use shortfall_core::Micros;

use crate::num;

/// Earliest accepted time: 2009-01-01 00:00 UTC (nothing crypto traded before).
pub const MIN_TS: Micros = Micros(1_230_768_000_000_000);
/// Latest accepted time (exclusive): 2100-01-01 00:00 UTC.
pub const MAX_TS: Micros = Micros(4_102_444_800_000_000);

/// Whether a time lies in the sane range [2009-01-01, 2100-01-01).
pub fn in_bounds(t: Micros) -> bool {
    t >= MIN_TS && t < MAX_TS
}

/// The unit or layout of a time column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeFormat {
    /// Integer (or integral decimal) epoch, unit guessed per value by magnitude.
    Auto,
    /// Epoch seconds.
    Secs,
    /// Epoch milliseconds.
    Millis,
    /// Epoch microseconds.
    Micros,
    /// Epoch nanoseconds (truncated to microseconds).
    Nanos,
    /// ISO-8601 / RFC 3339 text, `YYYY-MM-DD[ T]HH:MM[:SS[.f]][Z|±HH:MM]`.
    Iso,
    /// A chrono `strftime`-style format, read as UTC.
    Chrono(String),
}

impl TimeFormat {
    /// `auto`, `s`, `ms`, `us`, `ns`, `iso`, or anything containing `%` (a chrono format).
    pub fn parse(text: &str) -> Option<TimeFormat> {
        Some(match text.trim() {
            "" | "auto" => TimeFormat::Auto,
            "s" | "secs" | "seconds" => TimeFormat::Secs,
            "ms" | "millis" | "milliseconds" => TimeFormat::Millis,
            "us" | "µs" | "micros" | "microseconds" => TimeFormat::Micros,
            "ns" | "nanos" | "nanoseconds" => TimeFormat::Nanos,
            "iso" | "rfc3339" => TimeFormat::Iso,
            f if f.contains('%') => TimeFormat::Chrono(f.to_string()),
            _ => return None,
        })
    }

    /// Converts an integer in this unit to microseconds.
    pub fn int_to_micros(&self, v: i64) -> Option<i64> {
        match self {
            TimeFormat::Secs => v.checked_mul(1_000_000),
            TimeFormat::Millis => v.checked_mul(1_000),
            TimeFormat::Micros => Some(v),
            TimeFormat::Nanos => Some(v.div_euclid(1_000)),
            _ => num::epoch_auto_to_micros(v),
        }
    }

    /// Parses one field.
    pub fn parse_field(&self, field: &[u8]) -> Option<Micros> {
        match self {
            TimeFormat::Iso => parse_iso(field),
            TimeFormat::Chrono(f) => parse_chrono(field, f),
            TimeFormat::Auto => match num::parse_i64_lenient(field) {
                Some(v) => self.int_to_micros(v).map(Micros),
                None => parse_iso(field),
            },
            _ => num::parse_i64_lenient(field)
                .and_then(|v| self.int_to_micros(v))
                .map(Micros),
        }
    }
}

impl std::fmt::Display for TimeFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TimeFormat::Auto => "auto",
            TimeFormat::Secs => "s",
            TimeFormat::Millis => "ms",
            TimeFormat::Micros => "us",
            TimeFormat::Nanos => "ns",
            TimeFormat::Iso => "iso",
            TimeFormat::Chrono(s) => s,
        })
    }
}

/// Parses with a chrono format string (date-time, or date only), as UTC.
pub fn parse_chrono(field: &[u8], format: &str) -> Option<Micros> {
    let s = std::str::from_utf8(num::trim(field)).ok()?;
    if let Ok(dt) = chrono::DateTime::parse_from_str(s, format) {
        return Some(Micros(dt.timestamp_micros()));
    }
    if let Ok(dt) = chrono::NaiveDateTime::parse_from_str(s, format) {
        return Some(Micros(dt.and_utc().timestamp_micros()));
    }
    let d = chrono::NaiveDate::parse_from_str(s, format).ok()?;
    Some(Micros(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_micros()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_shapes() {
        let t = parse_iso(b"2020-03-12T10:00:00.0000000Z").unwrap();
        assert_eq!(t.secs(), 1_584_007_200);
        assert_eq!(parse_iso(b"2020-03-12 10:00").unwrap(), t);
        assert_eq!(parse_iso(b"2020-03-12T12:00:00+02:00").unwrap(), t);
        assert_eq!(
            parse_iso(b"2020-03-12T10:00:00.5Z").unwrap().0,
            t.0 + 500_000
        );
        assert_eq!(parse_iso(b"2020-03-12").unwrap().secs(), 1_583_971_200);
        for bad in [
            "2021-02-29",
            "2020-13-01",
            "2020-03-12 25:00",
            "x",
            "",
            "2020-03-12 11-PM",
        ] {
            assert!(parse_iso(bad.as_bytes()).is_none(), "{bad}");
        }
    }

    #[test]
    fn formats() {
        let f = TimeFormat::parse("%d/%m/%Y %H:%M").unwrap();
        assert_eq!(
            f.parse_field(b"12/03/2020 10:00").unwrap().secs(),
            1_584_007_200
        );
        let f = TimeFormat::parse("%Y%m%d").unwrap();
        assert_eq!(f.parse_field(b"20200312").unwrap().secs(), 1_583_971_200);
        assert_eq!(
            TimeFormat::Millis
                .parse_field(b"1584007200000")
                .unwrap()
                .secs(),
            1_584_007_200
        );
        assert_eq!(
            TimeFormat::Auto
                .parse_field(b"1584007200.0")
                .unwrap()
                .secs(),
            1_584_007_200
        );
        assert_eq!(
            TimeFormat::Auto
                .parse_field(b"2020-03-12 10:00")
                .unwrap()
                .secs(),
            1_584_007_200
        );
        assert!(TimeFormat::parse("weird").is_none());
    }
}
