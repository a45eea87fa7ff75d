//! The published figures of a crisis set against the replayed ones: each
//! metric measured in a run, with the verdict (within, below or above the
//! published range; not comparable; does not apply to a hypothetical run).

use shortfall_core::run::{LiquidationRecord, Metric, Reference};
use shortfall_core::Wad;
use shortfall_store::RunData;

use crate::format as f;
use crate::model::ReferenceRow;

/// `count / total` as an exact wad ratio (0 without a total).
fn ratio_of(count: u64, total: u64) -> Wad {
    f::fraction(Wad::from_int(count as i64), Wad::from_int(total as i64)).unwrap_or(Wad::ZERO)
}

fn is_auction(l: &LiquidationRecord) -> bool {
    l.mechanism != "fixed_spread"
}

/// The value of a metric in a run (`None` when the run has nothing to
/// measure, e.g. auction metrics of a fixed-spread run).
pub fn metric_value(m: Metric, run: &RunData) -> Option<Wad> {
    let s = &run.summary;
    let auctions = || run.liquidations.iter().filter(|l| is_auction(l));
    // A "zero bid" is a winning bid under one dollar (keepers bid 1 wei or
    // 0 DAI on Black Thursday; both count).
    let zero_bid = |l: &&LiquidationRecord| l.repaid_usd < Wad::ONE;
    Some(match m {
        Metric::BadDebtUsd => s.bad_debt_usd,
        Metric::LiquidatedVolumeUsd => s.liquidated_volume_usd,
        Metric::LiquidatedCollateralUsd => run.liquidations.iter().map(|l| l.seized_usd).sum(),
        Metric::NplCount => Wad::from_int(s.npl_count as i64),
        Metric::LiquidationCount => Wad::from_int(s.liquidation_count as i64),
        Metric::PenaltyUsd => s.penalty_usd,
        Metric::ZeroBidAuctionShare => {
            let n = auctions().count() as u64;
            if n == 0 {
                return None;
            }
            ratio_of(auctions().filter(zero_bid).count() as u64, n)
        }
        Metric::ZeroBidCollateralUsd => {
            auctions().next()?;
            auctions().filter(zero_bid).map(|l| l.seized_usd).sum()
        }
    })
}

/// A metric value for display.
pub fn metric_display(m: Metric, w: Wad) -> String {
    match m.unit() {
        "count" => f::decimal(w, 0),
        "ratio" => f::pct(w),
        _ => f::usd(w),
    }
}

fn metric_short(m: Metric, w: Wad) -> String {
    match m.unit() {
        "count" => f::decimal(w, 0),
        "ratio" => f::pct(w),
        _ => f::usd_short(w),
    }
}

/// A published figure against the replayed one; a hypothetical run is not
/// compared (`hypothetical`: the verdict says so, no difference is shown).
pub fn reference_row(r: &Reference, run: &RunData, hypothetical: bool) -> ReferenceRow {
    let m = r.metric;
    let range = match (r.low, r.high) {
        (Some(lo), Some(hi)) => Some(format!(
            "{} to {}",
            metric_short(m, lo),
            metric_short(m, hi)
        )),
        (Some(lo), None) => Some(format!("at least {}", metric_short(m, lo))),
        (None, Some(hi)) => Some(format!("at most {}", metric_short(m, hi))),
        (None, None) => None,
    };
    let (replayed, difference, ratio, verdict) = match metric_value(m, run) {
        Some(v) if hypothetical => (
            metric_display(m, v),
            "-".to_string(),
            "-".to_string(),
            "does not apply: the run is hypothetical, the published figure is what happened"
                .to_string(),
        ),
        None => (
            "not measured".to_string(),
            "-".to_string(),
            "-".to_string(),
            "not comparable: the run has no such events".to_string(),
        ),
        Some(v) => {
            let d = v - r.value;
            let sign = if d.0 > 0 { "+" } else { "" };
            let lo = r.low.unwrap_or(r.value);
            let hi = r.high.unwrap_or(r.value);
            let verdict = if v < lo {
                "below the published range"
            } else if v > hi {
                "above the published range"
            } else if r.low.is_some() || r.high.is_some() {
                "within the published range"
            } else {
                "equal to the published figure"
            };
            (
                metric_display(m, v),
                format!("{sign}{}", metric_short(m, d)),
                format!("{} of published", f::share(v, r.value)),
                verdict.to_string(),
            )
        }
    };
    ReferenceRow {
        metric: m.as_str().into(),
        label: r.label.clone(),
        published: metric_display(m, r.value),
        published_range: range,
        replayed,
        difference,
        ratio,
        verdict,
        source: r.source.clone(),
        note: r.note.clone(),
    }
}
