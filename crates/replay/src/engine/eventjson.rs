//! The event log's JSON lines, byte for byte what `serde_json::to_writer`
//! writes for an [`EventRecord`], without its per-field overhead (the
//! `Wad` `Display` impl allocates three strings per number). Used only to
//! hash the log; [`hash_events`] checks a sample of records against
//! `serde_json` and falls back to it on any difference, so the hash is the
//! `serde_json` one whatever happens to the record type.

use sha2::{Digest, Sha256};
use shortfall_core::money::WAD;
use shortfall_core::Wad;

use crate::output::EventRecord;

fn push_u128(buf: &mut Vec<u8>, mut x: u128) {
    let mut tmp = [0u8; 40];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (x % 10) as u8;
        x /= 10;
        if x == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// The u64 twin of [`push_u128`]: sequence numbers and times are written
/// for every event of the log, and 64-bit division avoids the 128-bit
/// division routine on that path.
fn push_u64(buf: &mut Vec<u8>, mut x: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (x % 10) as u8;
        x /= 10;
        if x == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

fn push_i64(buf: &mut Vec<u8>, x: i64) {
    if x < 0 {
        buf.push(b'-');
    }
    push_u64(buf, x.unsigned_abs());
}

/// `Wad` as serde writes it: a JSON string of its `Display`.
fn push_wad(buf: &mut Vec<u8>, w: Wad) {
    buf.push(b'"');
    if w.0 < 0 {
        buf.push(b'-');
    }
    let abs = w.0.unsigned_abs();
    let (int, frac) = (abs / WAD as u128, (abs % WAD as u128) as u64);
    push_u128(buf, int);
    if frac != 0 {
        buf.push(b'.');
        let mut digits = [0u8; 18];
        let mut f = frac;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (f % 10) as u8;
            f /= 10;
        }
        let end = 18 - digits.iter().rev().take_while(|d| **d == b'0').count();
        buf.extend_from_slice(&digits[..end]);
    }
    buf.push(b'"');
}

fn push_opt_wad(buf: &mut Vec<u8>, w: Option<Wad>) {
    match w {
        Some(w) => push_wad(buf, w),
        None => buf.extend_from_slice(b"null"),
    }
}

fn push_str(buf: &mut Vec<u8>, s: &str) {
    if s.bytes()
        .all(|b| b >= 0x20 && b != b'"' && b != b'\\' && b < 0x7f)
    {
        buf.push(b'"');
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'"');
    } else {
        serde_json::to_writer(&mut *buf, s).expect("string serialises");
    }
}

fn push_opt_str(buf: &mut Vec<u8>, s: &Option<String>) {
    match s {
        Some(s) => push_str(buf, s),
        None => buf.extend_from_slice(b"null"),
    }
}

/// Appends the JSON of one record (no newline).
pub(crate) fn write_event(buf: &mut Vec<u8>, e: &EventRecord) {
    buf.extend_from_slice(b"{\"seq\":");
    push_u64(buf, e.seq);
    buf.extend_from_slice(b",\"ts\":");
    push_i64(buf, e.ts.0);
    buf.extend_from_slice(b",\"kind\":\"");
    buf.extend_from_slice(e.kind.as_str().as_bytes());
    buf.extend_from_slice(b"\",\"account\":");
    push_opt_str(buf, &e.account);
    buf.extend_from_slice(b",\"asset\":");
    push_opt_str(buf, &e.asset);
    buf.extend_from_slice(b",\"amount\":");
    push_opt_wad(buf, e.amount);
    buf.extend_from_slice(b",\"value_usd\":");
    push_opt_wad(buf, e.value_usd);
    buf.extend_from_slice(b",\"price\":");
    push_opt_wad(buf, e.price);
    buf.extend_from_slice(b",\"health\":");
    push_opt_wad(buf, e.health);
    buf.extend_from_slice(b",\"actor\":");
    push_opt_str(buf, &e.actor);
    buf.extend_from_slice(b",\"reason\":");
    match e.reason {
        Some(r) => {
            buf.push(b'"');
            buf.extend_from_slice(r.as_str().as_bytes());
            buf.push(b'"');
        }
        None => buf.extend_from_slice(b"null"),
    }
    buf.push(b'}');
}

fn hash_serde(events: &[EventRecord]) -> String {
    let mut h = Sha256::new();
    let mut buf = Vec::with_capacity(512);
    for e in events {
        buf.clear();
        serde_json::to_writer(&mut buf, e).expect("event serialises");
        buf.push(b'\n');
        h.update(&buf);
    }
    hex::encode(h.finalize())
}

/// sha256 of the log as JSON lines (`serde_json` bytes, one per line).
pub(crate) fn hash_events(events: &[EventRecord]) -> String {
    let mut h = Sha256::new();
    let mut buf = Vec::with_capacity(1 << 16);
    let mut check = Vec::with_capacity(512);
    let mut one = Vec::with_capacity(512);
    for (i, e) in events.iter().enumerate() {
        if i < 256 || i % 256 == 0 {
            one.clear();
            write_event(&mut one, e);
            check.clear();
            serde_json::to_writer(&mut check, e).expect("event serialises");
            if one != check {
                return hash_serde(events);
            }
        }
        write_event(&mut buf, e);
        buf.push(b'\n');
        if buf.len() >= 1 << 15 {
            h.update(&buf);
            buf.clear();
        }
    }
    h.update(&buf);
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{EventKind, Reason};
    use shortfall_core::Micros;

    #[test]
    fn same_bytes_as_serde_json() {
        let wads = [
            None,
            Some(Wad(0)),
            Some(Wad(1)),
            Some(Wad(-1)),
            Some(Wad::ONE),
            Some(Wad(1_500_000_000_000_000_000)),
            Some(Wad(-123_456_789_000_000_000_000_001)),
            Some(Wad(i128::MAX)),
            Some(Wad(i128::MIN)),
            Some(Wad(100_000_000_000_000_000)),
        ];
        let strs = [
            None,
            Some(String::new()),
            Some("acct-0001".to_string()),
            Some("quo\"te\\back\nnl\u{1}\u{7f}é/ü".to_string()),
        ];
        let kinds = EventKind::ALL;
        let reasons: Vec<Option<Reason>> = std::iter::once(None)
            .chain(Reason::ALL.iter().copied().map(Some))
            .collect();
        let mut events = Vec::new();
        let mut n = 0usize;
        for (i, w) in wads.iter().enumerate() {
            for (j, s) in strs.iter().enumerate() {
                for (k, kind) in kinds.iter().enumerate() {
                    n += 1;
                    events.push(EventRecord {
                        seq: if n.checked_rem(7) == Some(0) {
                            u64::MAX
                        } else {
                            n as u64
                        },
                        ts: Micros(if n.checked_rem(5) == Some(0) {
                            i64::MIN
                        } else {
                            n as i64 * 7919 - 99_999
                        }),
                        kind: *kind,
                        account: s.clone(),
                        asset: strs[(j + 1) % strs.len()].clone(),
                        amount: *w,
                        value_usd: wads[(i + 3) % wads.len()],
                        price: wads[(i + k) % wads.len()],
                        health: wads[(i + 2 * k + j) % wads.len()],
                        actor: strs[(j + k) % strs.len()].clone(),
                        reason: reasons[(i + j + k) % reasons.len()],
                    });
                }
            }
        }
        for e in &events {
            let mut a = Vec::new();
            write_event(&mut a, e);
            assert_eq!(
                String::from_utf8(a).unwrap(),
                serde_json::to_string(e).unwrap()
            );
        }
        assert_eq!(hash_events(&events), hash_serde(&events));
    }
}
