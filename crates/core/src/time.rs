//! Time as UTC microseconds since the Unix epoch (Arrow `Timestamp(Microsecond, None)`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// UTC microseconds since 1970-01-01.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Micros(pub i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("`{0}` is not a time (expected RFC 3339, `YYYY-MM-DD[ HH:MM[:SS]]` or epoch seconds)")]
    Unparsable(String),
}

impl Micros {
    pub const PER_SEC: i64 = 1_000_000;

    /// Epoch seconds; saturates far outside any real data (years beyond ±292,000).
    pub fn from_secs(s: i64) -> Self {
        Micros(s.saturating_mul(Self::PER_SEC))
    }

    pub fn secs(self) -> i64 {
        self.0.div_euclid(Self::PER_SEC)
    }

    /// Civil date and time `YYYY-MM-DD HH:MM:SS[.ffffff]` (UTC), computed
    /// without a time library so core stays dependency-free.
    pub fn to_iso(self) -> String {
        let secs = self.0.div_euclid(Self::PER_SEC);
        let micros = self.0.rem_euclid(Self::PER_SEC);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let base = format!(
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
            sod / 3600,
            (sod % 3600) / 60,
            sod % 60
        );
        if micros == 0 {
            base
        } else {
            format!("{base}.{micros:06}")
        }
    }

    /// Parses integer epoch seconds or ISO-8601 text ([`parse_iso`]):
    /// `2020-03-12`, `2020-03-12 10:00`, `2020-03-12T10:00:00Z`,
    /// `2020-03-12T12:00:00.5+02:00` (an offset is converted to UTC).
    pub fn parse(text: &str) -> Result<Self, TimeError> {
        let err = || TimeError::Unparsable(text.to_string());
        let s = text.trim();
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            return s
                .parse::<i64>()
                .ok()
                .and_then(|v| v.checked_mul(Self::PER_SEC))
                .map(Micros)
                .ok_or_else(err);
        }
        parse_iso(s.as_bytes()).ok_or_else(err)
    }
}

/// Up to nine ASCII digits as a number.
fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 9 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    b.iter()
        .try_fold(0i64, |a, &c| Some(a * 10 + (c - b'0') as i64))
}

/// A `Z` or `±HH:MM` suffix of the time part: the rest and the offset in
/// seconds (0 without a suffix).
fn offset(rest: &[u8]) -> Option<(&[u8], i64)> {
    if let Some(r) = rest.strip_suffix(b"Z").or_else(|| rest.strip_suffix(b"z")) {
        return Some((r, 0));
    }
    if rest.len() > 6 {
        let tail = rest.get(rest.len() - 6..)?;
        if (tail[0] == b'+' || tail[0] == b'-') && tail[3] == b':' {
            let h = digits(&tail[1..3])?;
            let mi = digits(&tail[4..6])?;
            let sign = if tail[0] == b'-' { -1 } else { 1 };
            return Some((rest.get(..rest.len() - 6)?, (h * 3600 + mi * 60) * sign));
        }
    }
    Some((rest, 0))
}

/// Microseconds of `HH:MM[:SS][.f]` (fractions finer than a microsecond
/// are truncated: CoinAPI prints 100 ns).
fn time_of_day(rest: &[u8]) -> Option<i64> {
    let (hms, frac) = match rest.iter().position(|&c| c == b'.') {
        Some(i) => (rest.get(..i)?, rest.get(i + 1..)?),
        None => (rest, &b""[..]),
    };
    let mut parts = hms.split(|&c| c == b':');
    let h = digits(parts.next()?)?;
    let mi = digits(parts.next()?)?;
    let s = match parts.next() {
        Some(p) => digits(p)?,
        None => 0,
    };
    if parts.next().is_some() || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    if !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let f = (0..6).fold(0i64, |f, i| {
        f * 10 + frac.get(i).map_or(0, |&c| (c - b'0') as i64)
    });
    Some((h * 3600 + mi * 60 + s) * Micros::PER_SEC + f)
}

/// The one ISO-8601 parser of the workspace, straight from bytes (the
/// ingest adapters call it per field): `YYYY-MM-DD`, `YYYY-MM-DD HH:MM`,
/// `YYYY-MM-DDTHH:MM:SS.fffffffZ`, with an optional `Z` or `±HH:MM` offset
/// (converted to UTC); surrounding ASCII whitespace is ignored. `None` for
/// anything else, never a panic.
pub fn parse_iso(field: &[u8]) -> Option<Micros> {
    let b = field.trim_ascii();
    if b.len() < 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let y = digits(b.get(0..4)?)?;
    let m = digits(b.get(5..7)?)?;
    let d = digits(b.get(8..10)?)?;
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m as u32) as i64 {
        return None;
    }
    let day = days_from_civil(y, m as u32, d as u32) * 86_400 * Micros::PER_SEC;
    let rest = b.get(10..)?;
    if rest.is_empty() {
        return Some(Micros(day));
    }
    if !matches!(rest.first(), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let (rest, offset_secs) = offset(rest.get(1..)?)?;
    Some(Micros(
        day + time_of_day(rest)? - offset_secs * Micros::PER_SEC,
    ))
}

impl fmt::Display for Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.to_iso())
    }
}

impl fmt::Debug for Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Micros({})", self.to_iso())
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a civil date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date of days since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_format() {
        let t = Micros::parse("2020-03-12T10:00:00.0000000Z").unwrap();
        assert_eq!(t.secs(), 1_584_007_200);
        assert_eq!(t.to_iso(), "2020-03-12 10:00:00");
        assert_eq!(Micros::parse("2020-03-12").unwrap().secs(), 1_583_971_200);
        assert_eq!(Micros::parse("1584007200").unwrap(), t);
        assert_eq!(Micros::parse("2020-03-12 10:00").unwrap(), t);
        assert_eq!(Micros(1).to_iso(), "1970-01-01 00:00:00.000001");
        assert_eq!(Micros::parse("1969-12-31 23:59:59").unwrap().0, -1_000_000);
        // One parser with the ingest adapters: offsets are converted to UTC.
        assert_eq!(Micros::parse("2020-03-12T12:00:00+02:00").unwrap(), t);
        assert_eq!(Micros::parse(" 2020-03-12t10:00:00z ").unwrap(), t);
        assert_eq!(parse_iso(b"2020-03-12 10:00"), Some(t));
    }

    #[test]
    fn rejects_bad_dates() {
        for bad in [
            "2021-02-29",
            "2020-13-01",
            "12-03-2020",
            "2020-03-12 25:00",
            "x",
            "",
            "99999999999999999",
            "99999-01-01",
            "2020-3-12",
            "2020-03-12T10:00+2:00",
        ] {
            assert!(Micros::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000i64, -1, 0, 59, 60, 18_333, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
