//! `shortfall compare`: one crisis under two policies, side by side:
//! headline deltas, the settings that differ, positions non-performing under
//! one run and not the other, and the largest per-position shortfall changes.
//! Positions are matched by (account, market).

use std::collections::{BTreeMap, BTreeSet};

use shortfall_core::run::{LoanOutcome, LoanStatus};
use shortfall_core::Wad;
use shortfall_store::RunData;

use crate::error::ReportError;
use crate::format as f;
use crate::model::*;
use crate::settings::{self, Config};

fn side(label: &str, r: &RunData) -> CompareSide {
    let s = &r.summary;
    CompareSide {
        label: label.into(),
        scenario: s.scenario.clone(),
        run_id: r.run.meta.run_id.clone(),
        preset: s.preset.clone(),
        window: format!("{} to {}", f::time(s.window_start), f::time(s.window_end)),
        book: format!(
            "{} positions, {} ({})",
            f::count(s.positions),
            if s.book_generated {
                "generated"
            } else {
                "snapshot"
            },
            r.run.meta.book_origin.detail
        ),
    }
}

fn signed_count(a: u64, b: u64) -> String {
    let d = b as i128 - a as i128;
    if d > 0 {
        format!("+{}", f::group(d as u128))
    } else if d < 0 {
        format!("-{}", f::group(d.unsigned_abs()))
    } else {
        "0".into()
    }
}

fn headline(a: &RunData, b: &RunData) -> Vec<CompareFigure> {
    let (sa, sb) = (&a.summary, &b.summary);
    let usd = |key: &str, label: &str, x: Wad, y: Wad| CompareFigure {
        key: key.into(),
        label: label.into(),
        a: f::usd(x),
        b: f::usd(y),
        delta: f::signed_usd(y - x),
    };
    let cnt = |key: &str, label: &str, x: u64, y: u64| CompareFigure {
        key: key.into(),
        label: label.into(),
        a: f::count(x),
        b: f::count(y),
        delta: signed_count(x, y),
    };
    let blocked = |s: &shortfall_core::run::Summary| s.blocked_attempts.values().sum::<u64>();
    let pp = Wad(sb.npl_ratio.0 - sa.npl_ratio.0);
    vec![
        usd("bad_debt_usd", "Bad debt", sa.bad_debt_usd, sb.bad_debt_usd),
        cnt(
            "npl_count",
            "Non-performing loans",
            sa.npl_count,
            sb.npl_count,
        ),
        CompareFigure {
            key: "npl_ratio".into(),
            label: "NPL ratio".into(),
            a: f::pct(sa.npl_ratio),
            b: f::pct(sb.npl_ratio),
            delta: f::signed_pp(pp),
        },
        usd(
            "liquidated_volume_usd",
            "Debt repaid by liquidations",
            sa.liquidated_volume_usd,
            sb.liquidated_volume_usd,
        ),
        cnt(
            "liquidation_count",
            "Liquidations",
            sa.liquidation_count,
            sb.liquidation_count,
        ),
        usd(
            "penalty_usd",
            "Liquidation penalties",
            sa.penalty_usd,
            sb.penalty_usd,
        ),
        usd(
            "socialised_usd",
            "Bad debt left to lenders",
            sa.waterfall.socialised_usd,
            sb.waterfall.socialised_usd,
        ),
        cnt(
            "blocked_attempts",
            "Blocked liquidation attempts",
            blocked(sa),
            blocked(sb),
        ),
        cnt("positions", "Positions", sa.positions, sb.positions),
    ]
}

fn is_npl(l: &LoanOutcome) -> bool {
    l.status == LoanStatus::NonPerforming || l.shortfall_usd > Wad::ZERO
}

fn row(a: &LoanOutcome, b: &LoanOutcome) -> CompareRow {
    let (sa, sb) = (a.shortfall_usd, b.shortfall_usd);
    let status = |l: &LoanOutcome| l.status.as_str().replace('_', " ");
    CompareRow {
        account: a.account.clone(),
        market: a.market.clone(),
        status_a: status(a),
        status_b: status(b),
        shortfall_a: f::usd(sa),
        shortfall_b: f::usd(sb),
        delta: f::signed_usd(sb - sa),
        delta_value: (sb - sa).to_string(),
    }
}

fn list(mut rows: Vec<(Wad, CompareRow)>, top: usize) -> CompareList {
    let total = rows.len();
    rows.sort_by(|x, y| {
        y.0.cmp(&x.0)
            .then_with(|| x.1.account.cmp(&y.1.account))
            .then_with(|| x.1.market.cmp(&y.1.market))
    });
    rows.truncate(top);
    CompareList {
        total: f::count(total as u64),
        shown: f::count(rows.len() as u64),
        rows: rows.into_iter().map(|r| r.1).collect(),
    }
}

/// Options of a comparison.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    pub top_n: usize,
    pub timestamp: Option<String>,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            top_n: 50,
            timestamp: None,
        }
    }
}

/// The settings whose values differ, in key order (`-` where a run has
/// none).
fn settings_diff(ca: &Config, cb: &Config) -> Vec<SettingDiff> {
    let fa: BTreeMap<String, String> = ca.flatten().into_iter().map(|s| (s.key, s.value)).collect();
    let fb: BTreeMap<String, String> = cb.flatten().into_iter().map(|s| (s.key, s.value)).collect();
    let keys: BTreeSet<&String> = fa.keys().chain(fb.keys()).collect();
    let dash = "-".to_string();
    keys.into_iter()
        .filter(|k| fa.get(*k) != fb.get(*k))
        .map(|k| SettingDiff {
            key: k.clone(),
            a: fa.get(k).unwrap_or(&dash).clone(),
            b: fb.get(k).unwrap_or(&dash).clone(),
        })
        .collect()
}

/// What makes the runs not the same crisis.
fn warnings(a: &RunData, b: &RunData) -> Vec<String> {
    let mut warnings = Vec::new();
    let (sa, sb) = (&a.summary, &b.summary);
    if (sa.window_start, sa.window_end) != (sb.window_start, sb.window_end) {
        warnings.push("The runs cover different windows.".to_string());
    }
    for k in ["prices", "oracle_rounds", "positions"] {
        let (x, y) = (
            a.run.meta.input_hashes.get(k),
            b.run.meta.input_hashes.get(k),
        );
        if x != y {
            warnings.push(format!(
                "The runs read different {k} inputs (sha256 differs)."
            ));
        }
    }
    if a.run.meta.book_origin != b.run.meta.book_origin {
        warnings.push("The runs replay different books; per-position differences mix book and policy effects.".to_string());
    }
    warnings
}

/// Positions matched by (account, market): non-performing in one run
/// only, and every shortfall change (by size).
struct Positions {
    only_a: Vec<(Wad, CompareRow)>,
    only_b: Vec<(Wad, CompareRow)>,
    changes: Vec<(Wad, CompareRow)>,
    matched: u64,
    unmatched: u64,
}

fn positions(a: &RunData, b: &RunData) -> Positions {
    let key = |l: &LoanOutcome| (l.account.clone(), l.market.clone());
    let ma: BTreeMap<(String, String), &LoanOutcome> =
        a.loans.iter().map(|l| (key(l), l)).collect();
    let mb: BTreeMap<(String, String), &LoanOutcome> =
        b.loans.iter().map(|l| (key(l), l)).collect();
    let mut p = Positions {
        only_a: Vec::new(),
        only_b: Vec::new(),
        changes: Vec::new(),
        matched: 0,
        unmatched: 0,
    };
    for (k, la) in &ma {
        let Some(lb) = mb.get(k).copied() else {
            p.unmatched += 1;
            continue;
        };
        p.matched += 1;
        if is_npl(la) && !is_npl(lb) {
            p.only_a.push((la.shortfall_usd, row(la, lb)));
        }
        if is_npl(lb) && !is_npl(la) {
            p.only_b.push((lb.shortfall_usd, row(la, lb)));
        }
        let d = lb.shortfall_usd - la.shortfall_usd;
        if d != Wad::ZERO {
            p.changes.push((Wad(d.0.abs()), row(la, lb)));
        }
    }
    p.unmatched += mb.keys().filter(|k| !ma.contains_key(*k)).count() as u64;
    p
}

/// Builds the comparison of run `a` (baseline) and run `b`.
pub fn build_compare(
    a: &RunData,
    b: &RunData,
    opts: &CompareOptions,
) -> Result<Compare, ReportError> {
    let ca = settings::parse(&a.run.meta.resolved_config)?;
    let cb = settings::parse(&b.run.meta.resolved_config)?;
    let mut warnings = warnings(a, b);
    let p = positions(a, b);
    if p.unmatched > 0 {
        warnings.push(format!(
            "{} positions appear in one run only and are not compared.",
            f::count(p.unmatched)
        ));
    }
    let ta = ca.title().unwrap_or_else(|| a.summary.scenario.clone());
    let tb = cb.title().unwrap_or_else(|| b.summary.scenario.clone());
    Ok(Compare {
        format: COMPARE_FORMAT.into(),
        title: if ta == tb {
            format!("{ta}: two runs compared")
        } else {
            format!("{ta} vs {tb}")
        },
        generated_at: opts.timestamp.clone(),
        a: side("A", a),
        b: side("B", b),
        warnings,
        headline: headline(a, b),
        settings: settings_diff(&ca, &cb),
        npl_only_a: list(p.only_a, opts.top_n),
        npl_only_b: list(p.only_b, opts.top_n),
        shortfall_changes: list(p.changes, opts.top_n),
        positions_compared: f::count(p.matched),
        positions_unmatched: f::count(p.unmatched),
    })
}
