//! Number and time formatting for reports. Every figure a report shows is
//! formatted here, in Rust, never in a template, so the HTML and its JSON
//! twin carry the same strings.
//!
//! Amounts are rounded half away from zero from the exact fixed-point value
//! (no float on the way), grouped in thousands with `,`.

use shortfall_core::{Micros, Wad};

const WAD: u128 = shortfall_core::money::WAD as u128;

/// Groups the digits of `n` in thousands: `1234567` -> `1,234,567`.
pub fn group(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `|w|` scaled to `places` decimals, rounded half away from zero.
fn scaled(w: Wad, places: u32) -> u128 {
    let unit = WAD / 10u128.pow(places);
    let abs = w.0.unsigned_abs();
    abs / unit + u128::from(abs % unit >= unit.div_ceil(2))
}

/// A decimal with `places` decimals and grouped integer part.
pub fn decimal(w: Wad, places: u32) -> String {
    let s = scaled(w, places);
    let p = 10u128.pow(places);
    let sign = if w.0 < 0 && s > 0 { "-" } else { "" };
    if places == 0 {
        format!("{sign}{}", group(s))
    } else {
        format!(
            "{sign}{}.{:0width$}",
            group(s / p),
            s % p,
            width = places as usize
        )
    }
}

/// US dollars, whole: `$16,104,332`; negative `-$5`.
pub fn usd(w: Wad) -> String {
    let s = scaled(w, 0);
    let sign = if w.0 < 0 && s > 0 { "-" } else { "" };
    format!("{sign}${}", group(s))
}

/// US dollars with cents: `$1,234.57`.
pub fn usd_cents(w: Wad) -> String {
    let s = scaled(w, 2);
    let sign = if w.0 < 0 && s > 0 { "-" } else { "" };
    format!("{sign}${}.{:02}", group(s / 100), s % 100)
}

/// Short dollars for headlines and chart axes: `$16.1M`, `$250k`, `$1.25B`, `$740`.
pub fn usd_short(w: Wad) -> String {
    let abs = w.0.unsigned_abs();
    let sign = if w.0 < 0 && abs > 0 { "-" } else { "" };
    let units: [(u128, &str); 3] = [
        (1_000_000_000 * WAD, "B"),
        (1_000_000 * WAD, "M"),
        (1_000 * WAD, "k"),
    ];
    for (unit, suffix) in units {
        // Tenths of the unit, rounded half up; a unit is used once the value
        // rounds to at least 1.0 of it (999,999 -> $1M).
        let tenths = (abs.saturating_mul(10) + unit / 2) / unit;
        if tenths >= 10 {
            return if tenths >= 1000 {
                format!("{sign}${}{suffix}", group((abs + unit / 2) / unit))
            } else if tenths.is_multiple_of(10) {
                format!("{sign}${}{suffix}", tenths / 10)
            } else {
                format!("{sign}${}.{}{suffix}", tenths / 10, tenths % 10)
            };
        }
    }
    format!("{sign}${}", scaled(w, 0))
}

/// A ratio as a percentage with two decimals: `0.0425` -> `4.25%`.
pub fn pct(ratio: Wad) -> String {
    format!("{}%", decimal(Wad(ratio.0.saturating_mul(100)), 2))
}

/// `part / whole` as an exact wad ratio, rounded down (None when the whole
/// is zero or the ratio does not fit).
pub fn fraction(part: Wad, whole: Wad) -> Option<Wad> {
    if whole.0 == 0 {
        return None;
    }
    shortfall_core::money::mul_div_down(part.0, WAD as i128, whole.0).map(Wad)
}

/// `part / whole` as a percentage (`-` when the whole is zero).
pub fn share(part: Wad, whole: Wad) -> String {
    fraction(part, whole).map_or_else(|| "-".into(), pct)
}

/// A count: `1,234`.
pub fn count(n: u64) -> String {
    group(u128::from(n))
}

/// A health factor or other wad ratio, four decimals.
pub fn ratio(w: Wad) -> String {
    decimal(w, 4)
}

/// A token amount: four decimals, grouped.
pub fn amount(w: Wad) -> String {
    decimal(w, 4)
}

/// A price: two decimals at or above 1, else up to six significant places.
pub fn price(w: Wad) -> String {
    if w.0.unsigned_abs() >= WAD {
        decimal(w, 2)
    } else {
        let s = decimal(w, 6);
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// `2020-03-12 10:00:00 UTC`.
pub fn time(t: Micros) -> String {
    let iso = t.to_iso();
    format!("{} UTC", &iso[..19.min(iso.len())])
}

/// `2020-03-12 10:00` (UTC), for tables.
pub fn minute(t: Micros) -> String {
    let iso = t.to_iso();
    iso[..16.min(iso.len())].to_string()
}

/// An identifier cut to `head…tail` when longer than 16 characters
/// (`0x00000000000000000000000000000000000000a1` -> `0x000000…0000a1`).
pub fn short_id(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 16 {
        return s.to_string();
    }
    let head: String = chars[..8].iter().collect();
    let tail: String = chars[chars.len() - 6..].iter().collect();
    format!("{head}\u{2026}{tail}")
}

/// Signed dollars: `+$1,234`, `-$5`, `$0` (no sign on an amount that
/// rounds to zero).
pub fn signed_usd(w: Wad) -> String {
    let s = usd(w);
    if w.0 > 0 && s != "$0" {
        format!("+{s}")
    } else {
        s
    }
}

/// A difference of two ratios in percentage points, signed:
/// `+1.25 pp`, `-0.50 pp`, `0.00 pp`.
pub fn signed_pp(w: Wad) -> String {
    let sign = if w.0 > 0 { "+" } else { "" };
    format!("{sign}{} pp", decimal(Wad(w.0.saturating_mul(100)), 2))
}

/// A value formatted with `fmt`, or `-` when there is none.
pub fn or_dash<T>(v: Option<T>, fmt: impl FnOnce(T) -> String) -> String {
    v.map_or_else(|| "-".to_string(), fmt)
}

/// Shell-quotes an argument when it needs it.
pub fn shell_quote(a: &str) -> String {
    let plain = !a.is_empty()
        && a.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c));
    if plain {
        a.to_string()
    } else {
        format!("'{}'", a.replace('\'', r"'\''"))
    }
}

/// A command line, each argument shell-quoted when it needs it.
pub fn shell_join(args: &[String]) -> String {
    args.iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A duration in seconds: `2 d 3 h`, `3 h 20 min`, `45 min`, `30 s`.
pub fn duration(secs: i64) -> String {
    let s = secs.max(0);
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    if d > 0 && h == 0 {
        format!("{d} d")
    } else if d > 0 {
        format!("{d} d {h} h")
    } else if h > 0 && m == 0 {
        format!("{h} h")
    } else if h > 0 {
        format!("{h} h {m} min")
    } else if m > 0 {
        format!("{m} min")
    } else {
        format!("{s} s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Wad {
        Wad::parse_decimal(s, false).unwrap()
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(1234567), "1,234,567");
    }

    #[test]
    fn dollars_round_half_away_from_zero() {
        assert_eq!(usd(w("16104332.5")), "$16,104,333");
        assert_eq!(usd(w("16104332.49")), "$16,104,332");
        assert_eq!(usd(w("-4.5")), "-$5");
        assert_eq!(usd(w("-0.4")), "$0");
        assert_eq!(usd_cents(w("1234.565")), "$1,234.57");
        assert_eq!(usd_cents(w("0.004")), "$0.00");
    }

    #[test]
    fn short_dollars() {
        assert_eq!(usd_short(w("16104332")), "$16.1M");
        assert_eq!(usd_short(w("5670000")), "$5.7M");
        assert_eq!(usd_short(w("250000")), "$250k");
        assert_eq!(usd_short(w("1250000000")), "$1.3B");
        assert_eq!(usd_short(w("740")), "$740");
        assert_eq!(usd_short(w("1000")), "$1k");
        assert_eq!(usd_short(w("999999")), "$1M");
        assert_eq!(usd_short(w("123456789")), "$123M");
        assert_eq!(usd_short(w("-2500000")), "-$2.5M");
    }

    #[test]
    fn percentages_and_ratios() {
        assert_eq!(pct(w("0.0425")), "4.25%");
        assert_eq!(pct(w("1")), "100.00%");
        assert_eq!(share(w("1"), w("3")), "33.33%");
        assert_eq!(share(w("1"), Wad::ZERO), "-");
        assert_eq!(ratio(w("0.95123")), "0.9512");
        assert_eq!(price(w("0.0001234")), "0.000123");
        assert_eq!(price(w("0.1")), "0.1");
        assert_eq!(price(w("1234.5")), "1,234.50");
    }

    #[test]
    fn signed_figures_and_commands() {
        assert_eq!(signed_usd(w("1234")), "+$1,234");
        assert_eq!(signed_usd(w("-5")), "-$5");
        assert_eq!(signed_usd(Wad::ZERO), "$0");
        assert_eq!(signed_usd(Wad(1)), "$0");
        assert_eq!(signed_usd(w("0.4")), "$0");
        assert_eq!(signed_pp(w("0.0125")), "+1.25 pp");
        assert_eq!(signed_pp(w("-0.005")), "-0.50 pp");
        assert_eq!(signed_pp(Wad::ZERO), "0.00 pp");
        assert_eq!(or_dash(None::<Wad>, usd), "-");
        assert_eq!(or_dash(Some(w("2")), usd), "$2");
        assert_eq!(shell_quote("a-b_c.toml"), "a-b_c.toml");
        assert_eq!(shell_quote("it's here"), r"'it'\''s here'");
        assert_eq!(shell_quote(""), "''");
        let args = ["shortfall".to_string(), "--grid".into(), "a b".into()];
        assert_eq!(shell_join(&args), "shortfall --grid 'a b'");
    }

    #[test]
    fn times_and_durations() {
        let t = Micros::parse("2020-03-12 10:05").unwrap();
        assert_eq!(time(t), "2020-03-12 10:05:00 UTC");
        assert_eq!(minute(t), "2020-03-12 10:05");
        assert_eq!(duration(30), "30 s");
        assert_eq!(duration(45 * 60), "45 min");
        assert_eq!(duration(3 * 3600 + 20 * 60), "3 h 20 min");
        assert_eq!(duration(2 * 86_400 + 3 * 3600), "2 d 3 h");
        assert_eq!(duration(3600), "1 h");
        assert_eq!(duration(86_400), "1 d");
        assert_eq!(count(1_000_000), "1,000,000");
        assert_eq!(short_id("alice"), "alice");
        assert_eq!(
            short_id("0x00000000000000000000000000000000000000a1"),
            "0x000000\u{2026}0000a1"
        );
    }
}
