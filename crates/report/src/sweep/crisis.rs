//! The sections of one crisis of a sweep: cards and summary, the
//! baseline, the best policies, the Pareto frontier, its chart and the
//! heatmap.

use std::collections::BTreeSet;

use shortfall_core::sweep::{SweepMeta, SweepParam, SweepRow, SweepScenario};
use shortfall_core::Wad;

use super::analysis::{best, pareto};
use super::heatmap::heatmap;
use super::model::{ChartPoint, CrisisReport, FrontierChart, PolicyRow, SweepOptions};
use crate::format as f;
use crate::widgets::Card;

/// The command that replays a variant in full: the sweep's command
/// (`opts.command`, shell-quoted; `shortfall sweep` when empty) with
/// `--explain`.
pub fn explain_command(opts: &SweepOptions, variant_id: &str) -> String {
    let base = if opts.command.is_empty() {
        "shortfall sweep".to_string()
    } else {
        f::shell_join(&opts.command)
    };
    format!("{base} --explain {}", f::shell_quote(variant_id))
}

/// The values of the sweep's parameters `keys` among `params` (`-` for
/// one not set).
pub fn param_values(keys: &[String], params: &[SweepParam]) -> Vec<String> {
    keys.iter()
        .map(|k| {
            params
                .iter()
                .find(|p| &p.key == k)
                .map_or_else(|| "-".to_string(), |p| p.value.clone())
        })
        .collect()
}

fn policy_row(
    opts: &SweepOptions,
    keys: &[String],
    r: &SweepRow,
    base: &SweepRow,
    rank: String,
) -> PolicyRow {
    let is_base = r.variant == u32::MAX;
    PolicyRow {
        rank,
        variant: if is_base {
            "base".into()
        } else {
            r.variant.to_string()
        },
        variant_id: r.variant_id.clone(),
        params: if is_base {
            vec!["as configured".to_string(); keys.len()]
        } else {
            param_values(keys, &r.params)
        },
        bad_debt_usd: f::usd(r.bad_debt_usd),
        bad_debt_vs_baseline: f::signed_usd(r.bad_debt_usd.saturating_sub(base.bad_debt_usd)),
        npl_count: f::count(r.npl_count),
        liquidated_volume_usd: f::usd(r.liquidated_volume_usd),
        liquidation_count: f::count(r.liquidation_count),
        penalty_usd: f::usd(r.penalty_usd),
        penalty_vs_baseline: f::signed_usd(r.penalty_usd.saturating_sub(base.penalty_usd)),
        reserves_drawdown_usd: f::usd(r.reserves_drawdown_usd),
        run_id: r.run_id.clone(),
        explain: if is_base {
            String::new()
        } else {
            explain_command(opts, &r.variant_id)
        },
    }
}

fn point(r: &SweepRow, frontier: bool) -> ChartPoint {
    ChartPoint {
        variant_id: r.variant_id.clone(),
        liquidated_volume_usd: r.liquidated_volume_usd.to_string(),
        bad_debt_usd: r.bad_debt_usd.to_string(),
        frontier,
    }
}

/// The cards and the summary of a crisis: its size and baseline, and the
/// best variant against the baseline.
fn cards_and_summary(
    sc: &SweepScenario,
    meta: &SweepMeta,
    rows: &[&SweepRow],
    best: Option<&SweepRow>,
) -> (Vec<Card>, String) {
    let keys = &meta.params;
    let base = &sc.baseline;
    let variants_text = if rows.len() as u64 == u64::from(meta.variants) {
        f::count(rows.len() as u64)
    } else {
        format!(
            "{} of {}",
            f::count(rows.len() as u64),
            f::count(u64::from(meta.variants))
        )
    };
    let mut cards = vec![
        Card::new("variants", "Variants run", variants_text),
        Card::new("crises", "Crises", f::count(meta.scenarios.len() as u64)),
        Card::new("params", "Parameters varied", f::count(keys.len() as u64)),
        Card::new(
            "baseline_bad_debt",
            "Baseline bad debt (scenario unchanged)",
            f::usd(base.bad_debt_usd),
        ),
    ];
    let mut summary = format!(
        "{} variants of {} replayed through {}. The baseline (the scenario as configured) leaves {} of bad debt in {} non-performing loans after {} of liquidations.",
        f::count(rows.len() as u64),
        if keys.is_empty() {
            "no parameter".to_string()
        } else {
            keys.join(", ")
        },
        sc.title,
        f::usd(base.bad_debt_usd),
        f::count(base.npl_count),
        f::usd(base.liquidated_volume_usd),
    );
    match best {
        Some(r) => summary.push_str(&best_vs_baseline(r, base, &mut cards)),
        None => summary.push_str(" This sweep has no rows for this crisis."),
    }
    (cards, summary)
}

/// The cards of the best variant `r` against the baseline, and the
/// sentence that says it.
fn best_vs_baseline(r: &SweepRow, base: &SweepRow, cards: &mut Vec<Card>) -> String {
    let diff = base.bad_debt_usd.saturating_sub(r.bad_debt_usd);
    cards.push(Card::new(
        "best_bad_debt",
        "Best variant's bad debt",
        f::usd(r.bad_debt_usd),
    ));
    let pct = f::share(Wad(diff.0.saturating_abs()), base.bad_debt_usd);
    let with_pct = |v: Wad| {
        if pct == "-" {
            f::usd(v)
        } else {
            format!("{} ({pct})", f::usd(v))
        }
    };
    let (label, value, words) = match diff.0.signum() {
        1 => (
            "Lower than baseline by",
            with_pct(diff),
            format!("{} lower", with_pct(diff)),
        ),
        -1 => (
            "Higher than baseline by",
            with_pct(Wad(-diff.0)),
            format!(
                "{} higher: no variant beats the baseline",
                with_pct(Wad(-diff.0))
            ),
        ),
        _ => (
            "Same as baseline",
            f::usd(Wad::ZERO),
            "the same".to_string(),
        ),
    };
    cards.push(Card::new("best_vs_baseline", label, value));
    let sets = r.sets().join(" ");
    format!(
        " The best variant, {} ({}), leaves {} of bad debt: {}.",
        r.variant_id,
        if sets.is_empty() {
            "no sets".into()
        } else {
            sets
        },
        f::usd(r.bad_debt_usd),
        words
    )
}

/// The data of the frontier chart: every row, the frontier `front`
/// (indices into `rows`) and the baseline.
fn chart(rows: &[&SweepRow], front: &[usize], base: &SweepRow) -> FrontierChart {
    let on_front: BTreeSet<usize> = front.iter().copied().collect();
    FrontierChart {
        points: rows
            .iter()
            .enumerate()
            .map(|(j, r)| point(r, on_front.contains(&j)))
            .collect(),
        frontier: front.iter().map(|&j| point(rows[j], true)).collect(),
        baseline: point(base, false),
    }
}

/// The sections of crisis `i` of the sweep from its rows (in variant
/// order).
pub fn crisis(
    i: usize,
    sc: &SweepScenario,
    meta: &SweepMeta,
    rows: &[&SweepRow],
    opts: &SweepOptions,
) -> CrisisReport {
    let keys = &meta.params;
    let base = &sc.baseline;
    let top = best(rows, opts.top);
    let front = pareto(rows);
    let (cards, summary) = cards_and_summary(sc, meta, rows, top.first().map(|&b| rows[b]));
    let ranked = |idx: &[usize]| -> Vec<PolicyRow> {
        idx.iter()
            .enumerate()
            .map(|(k, &j)| policy_row(opts, keys, rows[j], base, (k + 1).to_string()))
            .collect()
    };
    let best_rows = ranked(&top);
    let frontier = ranked(&front);
    let best_caption = format!(
        "The {} best of {} variants: least bad debt, then least penalty paid by borrowers, then least liquidated volume. \"vs baseline\" is the variant minus the baseline. Replay one in full (events, positions, its own report) with the command under it.",
        f::count(best_rows.len() as u64),
        f::count(rows.len() as u64)
    );
    let frontier_caption = format!(
        "The Pareto frontier, how much borrowers pay for safety: the {} variants that no other variant beats on both bad debt and liquidated volume, in ascending liquidated volume. Down the table, the protocol loses less and borrowers are liquidated more and pay more penalty.",
        f::count(frontier.len() as u64)
    );
    CrisisReport {
        anchor: format!("crisis-{}", i + 1),
        name: sc.name.clone(),
        title: sc.title.clone(),
        summary,
        cards,
        baseline: policy_row(opts, keys, base, base, String::new()),
        best_caption,
        best: best_rows,
        frontier_caption,
        frontier,
        chart: chart(rows, &front, base),
        heatmap: heatmap(keys, rows),
    }
}
