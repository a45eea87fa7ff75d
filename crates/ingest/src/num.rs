//! Fast parsing of numbers and epoch times straight from bytes.
//!
//! The hot path (plain decimals such as `78.10000000`) never allocates; rare
//! shapes (exponents, more than 18 decimal places, more than 38 digits) fall
//! back to [`Wad::parse_decimal`] with rounding.

use shortfall_core::Wad;

const POW10: [i128; 19] = {
    let mut t = [1i128; 19];
    let mut i = 1;
    while i < 19 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// Trims ASCII whitespace on both ends.
pub fn trim(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

/// Parses a decimal number (`-12.5`, `1e-3`, `.5`, `1584057600.0`) into a
/// [`Wad`], rounding half away from zero past 18 decimal places.
/// Returns `None` for anything that is not a finite decimal number.
///
/// Up to 19 integer digits and 18 decimals are accumulated in `u64`s (no
/// overflow possible at those lengths); anything longer or with an exponent
/// takes the exact slow path.
pub fn parse_wad(field: &[u8]) -> Option<Wad> {
    let b = trim(field);
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, b.get(1..)?),
        Some(b'+') => (false, b.get(1..)?),
        Some(_) => (false, b),
        None => return None,
    };
    let n = digits.len();
    let mut i = 0usize;
    let mut int: u64 = 0;
    let mut int_len = 0u32;
    while i < n {
        let d = digits[i].wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        if int_len == 19 {
            return slow(b);
        }
        int = int.wrapping_mul(10).wrapping_add(d as u64);
        int_len += 1;
        i += 1;
    }
    let mut frac: u64 = 0;
    let mut frac_len = 0usize;
    if i < n && digits[i] == b'.' {
        i += 1;
        while i < n {
            let d = digits[i].wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            if frac_len == 18 {
                return slow(b);
            }
            frac = frac.wrapping_mul(10).wrapping_add(d as u64);
            frac_len += 1;
            i += 1;
        }
    }
    if i < n {
        return match digits[i] {
            b'e' | b'E' => slow(b),
            _ => None,
        };
    }
    if int_len == 0 && frac_len == 0 {
        return None;
    }
    let v = (int as i128) * POW10[18] + (frac as i128) * *POW10.get(18 - frac_len)?;
    Some(Wad(if neg { -v } else { v }))
}

/// Parses a decimal number written scaled by 10^`decimals` (a price in wei
/// per token: `1.84e+17` with 18 decimals is 0.184) exactly, even when the
/// scaled number itself would not fit a [`Wad`].
pub fn parse_wad_scaled(field: &[u8], decimals: u32) -> Option<Wad> {
    if decimals == 0 {
        return parse_wad(field);
    }
    let s = std::str::from_utf8(trim(field)).ok()?;
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], s.get(i + 1..)?.parse::<i32>().ok()?),
        None => (s, 0),
    };
    if mantissa.is_empty() || mantissa.contains(['e', 'E']) {
        return None;
    }
    let exp = exp.checked_sub(i32::try_from(decimals).ok()?)?;
    slow(format!("{mantissa}e{exp}").as_bytes())
}

/// Parses an optionally signed integer that fits an `i64`.
pub fn parse_i64(field: &[u8]) -> Option<i64> {
    let b = trim(field);
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, b.get(1..)?),
        Some(b'+') => (false, b.get(1..)?),
        Some(_) => (false, b),
        None => return None,
    };
    if digits.is_empty() || digits.len() > 19 {
        return if digits.len() > 19 {
            parse_i128(b).and_then(|v| i64::try_from(v).ok())
        } else {
            None
        };
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.wrapping_mul(10).wrapping_add((c - b'0') as u64);
    }
    if neg {
        if v <= i64::MAX as u64 + 1 {
            Some((v as i64).wrapping_neg())
        } else {
            None
        }
    } else {
        i64::try_from(v).ok()
    }
}

fn slow(b: &[u8]) -> Option<Wad> {
    let s = std::str::from_utf8(b).ok()?;
    // `Wad::parse_decimal` accepts any exponent text it can parse as i32;
    // bound it so huge exponents cannot make it loop for long.
    if let Some(i) = s.find(['e', 'E']) {
        let e: i32 = s.get(i + 1..)?.parse().ok()?;
        if !(-80..=80).contains(&e) {
            return None;
        }
    }
    Wad::parse_decimal(s, true).ok()
}

/// Parses an optionally signed integer (no decimal point) into an `i128`.
pub fn parse_i128(field: &[u8]) -> Option<i128> {
    let b = trim(field);
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        Some(_) => (false, b),
        None => return None,
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: i128 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as i128)?;
    }
    Some(if neg { -v } else { v })
}

/// Parses an unsigned integer into a `u128` (Chainlink round ids).
pub fn parse_u128(field: &[u8]) -> Option<u128> {
    let b = trim(field);
    let digits = b.strip_prefix(b"+").unwrap_or(b);
    if digits.is_empty() {
        return None;
    }
    let mut v: u128 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u128)?;
    }
    Some(v)
}

/// Parses an integer into an `i64`; also accepts an integral decimal such as
/// `1584057600.0` (pandas writes epoch seconds that way).
pub fn parse_i64_lenient(field: &[u8]) -> Option<i64> {
    let b = trim(field);
    let int_part = match b.iter().position(|&c| c == b'.') {
        Some(i) => {
            let (ip, rest) = b.split_at(i);
            if !rest.get(1..)?.iter().all(|&c| c == b'0') {
                return None;
            }
            ip
        }
        None => b,
    };
    parse_i64(int_part)
}

/// Interprets an integer epoch time of unknown unit by its magnitude:
/// seconds below 1e11, milliseconds below 1e14, microseconds below 1e17,
/// nanoseconds above. Returns UTC microseconds, or `None` on overflow.
pub fn epoch_auto_to_micros(v: i64) -> Option<i64> {
    let a = v.unsigned_abs();
    if a < 100_000_000_000 {
        v.checked_mul(1_000_000)
    } else if a < 100_000_000_000_000 {
        v.checked_mul(1_000)
    } else if a < 100_000_000_000_000_000 {
        Some(v)
    } else {
        Some(v.div_euclid(1_000))
    }
}

/// Shortens a field for an error message.
pub fn show(field: &[u8]) -> String {
    let s = String::from_utf8_lossy(field);
    let mut out: String = s.chars().take(60).collect();
    if s.chars().count() > 60 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_decimals() {
        let w = |s: &str| Wad::parse_decimal(s, false).unwrap();
        assert_eq!(
            parse_wad_scaled(b"437325827098125.0", 18),
            Some(w("0.000437325827098125"))
        );
        assert_eq!(
            parse_wad_scaled(b"1.843455665219044e+17", 18),
            Some(w("0.1843455665219044"))
        );
        // 966,183 ETH per LP token: 9.66e41 as a wad-scaled integer, yet exact here.
        assert_eq!(
            parse_wad_scaled(b"9.661830428611216e+23", 18),
            Some(w("966183.0428611216"))
        );
        assert_eq!(parse_wad_scaled(b"12.5", 0), Some(w("12.5")));
        assert_eq!(parse_wad_scaled(b"", 18), None);
        assert_eq!(parse_wad_scaled(b"e5", 18), None);
        assert_eq!(parse_wad_scaled(b"1x", 18), None);
    }

    fn w(s: &str) -> Wad {
        Wad::parse_decimal(s, true).unwrap()
    }

    #[test]
    fn decimals_match_core_parser() {
        for s in [
            "78.10000000",
            "0.00004",
            "-12.5",
            ".5",
            "5.",
            "1584057600.0",
            "0",
            "1e-3",
            "2.5E2",
            "0.0000000000000000005",
            "123456789012345678901.5",
            " 7.25 ",
            "+3",
        ] {
            assert_eq!(parse_wad(s.as_bytes()), Some(w(s)), "{s}");
        }
        for bad in [
            "", "abc", "1.2.3", "-", ".", "NULL", "nan", "inf", "1,5", "1e99999", "1e",
        ] {
            assert_eq!(parse_wad(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn integers() {
        assert_eq!(
            parse_u128(b"36893488147419103971"),
            Some(36893488147419103971)
        );
        assert_eq!(parse_i128(b"-5"), Some(-5));
        assert_eq!(parse_i128(b"5.0"), None);
        assert_eq!(parse_i64_lenient(b"1584057600.0"), Some(1584057600));
        assert_eq!(parse_i64_lenient(b"1584057600.5"), None);
        assert_eq!(
            parse_u128(b"999999999999999999999999999999999999999999"),
            None
        );
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"00000000000000000000001"), Some(1));
        assert_eq!(parse_i64(b"-"), None);
        assert_eq!(parse_i64(b"1x"), None);
    }

    #[test]
    fn epoch_units() {
        assert_eq!(
            epoch_auto_to_micros(1_584_057_600),
            Some(1_584_057_600_000_000)
        );
        assert_eq!(
            epoch_auto_to_micros(1_651_363_200_000),
            Some(1_651_363_200_000_000)
        );
        assert_eq!(
            epoch_auto_to_micros(1_735_689_600_000_000),
            Some(1_735_689_600_000_000)
        );
        assert_eq!(
            epoch_auto_to_micros(1_735_689_600_000_000_000),
            Some(1_735_689_600_000_000)
        );
    }
}
