//! Row checks (prices positive, OHLC consistent, sane times) and the checks
//! over a whole series (bar interval, gaps, relistings, suspicious prints).

use std::collections::BTreeMap;

use shortfall_core::{Micros, PriceBar, Wad};

use crate::ctx::FileCtx;
use crate::error::{IngestError, Location};
use crate::timefmt;

/// Checks one bar. `cols` names the source columns of
/// `[time, open, high, low, close, volume_base, volume_quote]` for messages.
pub(crate) fn check_bar(
    ctx: &FileCtx,
    b: &PriceBar,
    loc: Location,
    cols: &[&str; 7],
) -> Result<(), IngestError> {
    check_time(ctx, b.ts, loc, cols[0])?;
    for (v, c) in [
        (b.open, cols[1]),
        (b.high, cols[2]),
        (b.low, cols[3]),
        (b.close, cols[4]),
    ] {
        if !v.is_positive() {
            return Err(ctx.bad_value(loc, c, "a price > 0", v.to_string().as_bytes()));
        }
    }
    if b.low > b.high {
        return Err(ctx.bad_row(
            loc,
            cols[3],
            format!(
                "expected low <= high, found low {} > high {}",
                b.low, b.high
            ),
        ));
    }
    for (v, c) in [(b.open, cols[1]), (b.close, cols[4])] {
        if v < b.low || v > b.high {
            return Err(ctx.bad_row(
                loc,
                c,
                format!(
                    "expected low <= {c} <= high, found {v} outside [{}, {}]",
                    b.low, b.high
                ),
            ));
        }
    }
    for (v, c) in [(b.volume_base, cols[5]), (b.volume_quote, cols[6])] {
        if let Some(v) = v {
            if v.is_negative() {
                return Err(ctx.bad_value(loc, c, "a volume >= 0", v.to_string().as_bytes()));
            }
        }
    }
    Ok(())
}

/// Rejects times before 2009 or from 2100 on (wrong unit, garbage, future rows).
pub(crate) fn check_time(
    ctx: &FileCtx,
    t: Micros,
    loc: Location,
    col: &str,
) -> Result<(), IngestError> {
    if timefmt::in_bounds(t) {
        Ok(())
    } else {
        Err(ctx.bad_value(
            loc,
            col,
            "a time between 2009-01-01 and 2100-01-01",
            t.to_iso().as_bytes(),
        ))
    }
}

/// The most common positive step between consecutive distinct bar starts (per
/// venue/base), in seconds; the smallest such step on ties.
pub(crate) fn infer_interval(bars: &[PriceBar]) -> Option<i64> {
    let mut series: BTreeMap<(&str, &str), Vec<i64>> = BTreeMap::new();
    for b in bars {
        series.entry((&b.venue, &b.base)).or_default().push(b.ts.0);
    }
    let mut counts: BTreeMap<i64, u64> = BTreeMap::new();
    for ts in series.values_mut() {
        ts.sort_unstable();
        for w in ts.windows(2) {
            let d = w[1].saturating_sub(w[0]);
            if d > 0 {
                *counts.entry(d).or_default() += 1;
            }
        }
    }
    let (step, _) = counts.iter().fold(
        (0i64, 0u64),
        |best, (&d, &n)| if n > best.1 { (d, n) } else { best },
    );
    (step > 0).then_some(step / 1_000_000)
}

/// Human duration: `18 d 5 h 21 min`, `2 h`, `45 s`.
pub fn human_duration(secs: i64) -> String {
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    let mut parts = Vec::new();
    if d > 0 {
        parts.push(format!("{d} d"));
    }
    if h > 0 {
        parts.push(format!("{h} h"));
    }
    if m > 0 {
        parts.push(format!("{m} min"));
    }
    if s > 0 || parts.is_empty() {
        parts.push(format!("{s} s"));
    }
    parts.join(" ")
}

/// Findings over one sorted series of bars.
#[derive(Debug, Default)]
pub(crate) struct SeriesReport {
    pub warnings: Vec<String>,
}

/// A price jump at least this large (either way) right after a long gap
/// suggests a different asset under the same ticker (LUNA, May 2022).
const RELIST_RATIO: f64 = 5.0;
/// A gap at least this many intervals long counts as "long" for relistings.
const RELIST_GAP_INTERVALS: i64 = 10;

/// Gap, relisting and suspicious-print checks over bars of one venue/base,
/// sorted by time. Nothing here drops rows: it only warns.
pub(crate) fn check_series(bars: &[&PriceBar]) -> SeriesReport {
    let mut out = SeriesReport::default();
    let Some(first) = bars.first() else {
        return out;
    };
    let label = format!("{} {}/{}", first.venue, first.base, first.quote);
    // Gaps.
    let mut gaps = 0u64;
    let mut largest: Option<(i64, Micros, Micros)> = None;
    for w in bars.windows(2) {
        let (a, b) = (w[0], w[1]);
        let interval = a.interval_secs.max(0);
        if interval == 0 {
            continue;
        }
        let step = b.ts.0.saturating_sub(a.ts.0) / 1_000_000;
        if step > interval {
            gaps += 1;
            if largest.is_none_or(|l| step > l.0) {
                largest = Some((step, a.ts, b.ts));
            }
            let ratio = b.open.to_f64() / a.close.to_f64();
            if step >= interval.saturating_mul(RELIST_GAP_INTERVALS)
                && (ratio >= RELIST_RATIO || ratio <= 1.0 / RELIST_RATIO)
            {
                out.warnings.push(format!(
                    "{label}: after a gap of {} ({} to {}) the price jumped from {} to {} ({ratio:.3}x): \
                     possibly a relisting or a different asset under the same ticker; use --window to cut it",
                    human_duration(step),
                    a.ts.to_iso(),
                    b.ts.to_iso(),
                    a.close,
                    b.open
                ));
            }
        }
    }
    if let Some((step, from, to)) = largest {
        out.warnings.push(format!(
            "{label}: {gaps} gap(s) longer than the {} interval; largest {} from {} to {}",
            human_duration(first.interval_secs),
            human_duration(step),
            from.to_iso(),
            to.to_iso()
        ));
    }
    // Suspicious prints: high/low far beyond the neighbours' closes (kept).
    let mut flagged: Vec<Micros> = Vec::new();
    let mut n_flagged = 0u64;
    for (i, b) in bars.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(|j| bars.get(j)).map(|p| p.close);
        let next = bars.get(i + 1).map(|n| n.close);
        let (hi, lo): (Wad, Wad) = match (prev, next) {
            (Some(p), Some(n)) => (p.max(n), p.min(n)),
            (Some(x), None) | (None, Some(x)) => (x, x),
            (None, None) => continue,
        };
        // high > 1.5 x the higher close, or low < 0.5 x the lower close (integer math).
        if b.high.0 > hi.0.saturating_add(hi.0 / 2) || b.low.0 < lo.0 / 2 {
            n_flagged += 1;
            if flagged.len() < 5 {
                flagged.push(b.ts);
            }
        }
    }
    if n_flagged > 0 {
        let list: Vec<String> = flagged.iter().map(|t| t.to_iso()).collect();
        out.warnings.push(format!(
            "{label}: {n_flagged} suspicious bar(s) kept, high or low more than 50% beyond the neighbouring \
             closes (bad prints?), first at {}",
            list.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(human_duration(60), "1 min");
        assert_eq!(human_duration(3600), "1 h");
        assert_eq!(human_duration(1_574_460), "18 d 5 h 21 min");
        assert_eq!(human_duration(0), "0 s");
    }
}
