//! The analysis of a sweep's rows, pure: the Pareto frontier, the best
//! policies, and the variants summed across crises (the command line's
//! summary uses them too).

use std::collections::BTreeMap;

use serde::Serialize;
use shortfall_core::sweep::{SweepMeta, SweepParam, SweepRow};
use shortfall_core::Wad;

/// Saturating sum of two amounts.
pub fn add(a: Wad, b: Wad) -> Wad {
    Wad(a.0.saturating_add(b.0))
}

/// Indices (into `rows`) of the Pareto frontier minimising bad debt and
/// liquidated volume: a row is on it when no other row has both figures
/// lower or equal and one strictly lower. Of rows with identical figures
/// only the lowest variant is kept. In ascending liquidated volume.
pub fn pareto(rows: &[&SweepRow]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..rows.len()).collect();
    idx.sort_by(|&a, &b| {
        let (x, y) = (rows[a], rows[b]);
        x.liquidated_volume_usd
            .cmp(&y.liquidated_volume_usd)
            .then(x.bad_debt_usd.cmp(&y.bad_debt_usd))
            .then(x.variant.cmp(&y.variant))
            .then(a.cmp(&b))
    });
    // Walking up the liquidated volume, a row is on the frontier when its
    // bad debt is strictly below every row before it (those have less or
    // equal volume, so equal or more bad debt means dominated or a tie
    // with a lower variant).
    let mut out = Vec::new();
    let mut lowest: Option<Wad> = None;
    for i in idx {
        let b = rows[i].bad_debt_usd;
        if lowest.is_none_or(|l| b < l) {
            out.push(i);
            lowest = Some(b);
        }
    }
    out
}

/// The ranking rule: least bad debt, then least penalty, then least
/// liquidated volume, then lowest variant index.
pub fn rank_cmp(x: &SweepRow, y: &SweepRow) -> std::cmp::Ordering {
    x.bad_debt_usd
        .cmp(&y.bad_debt_usd)
        .then(x.penalty_usd.cmp(&y.penalty_usd))
        .then(x.liquidated_volume_usd.cmp(&y.liquidated_volume_usd))
        .then(x.variant.cmp(&y.variant))
}

/// Indices (into `rows`) of the `n` best rows: least bad debt, then least
/// penalty paid by borrowers, then least liquidated volume, then lowest
/// variant index.
pub fn best(rows: &[&SweepRow], n: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..rows.len()).collect();
    idx.sort_by(|&a, &b| rank_cmp(rows[a], rows[b]).then(a.cmp(&b)));
    idx.truncate(n);
    idx
}

/// One variant's outcome summed over the crises of a sweep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AcrossRow {
    pub variant: u32,
    pub variant_id: String,
    pub params: Vec<SweepParam>,
    /// Crises with a row of this variant (fewer than the sweep's crises
    /// only in a shard's part).
    pub crises: u32,
    /// Bad debt summed over the crises, USD.
    pub total_bad_debt_usd: Wad,
    /// Largest bad debt in a single crisis, USD.
    pub worst_bad_debt_usd: Wad,
    /// The crisis of the largest bad debt (first in the sweep's order on a
    /// tie).
    pub worst_scenario: String,
    pub total_penalty_usd: Wad,
    pub total_liquidated_volume_usd: Wad,
    /// Non-performing loans summed over the crises.
    pub npl_count: u64,
}

/// The variants summed over the sweep's crises (rows of other scenarios
/// are ignored), best first: least total bad debt, then least total
/// penalty, then lowest variant index. A variant missing a crisis (a
/// shard's part) ranks after every complete one, since its totals are
/// not comparable.
pub fn across(meta: &SweepMeta, rows: &[SweepRow]) -> Vec<AcrossRow> {
    let order: BTreeMap<&str, usize> = meta
        .scenarios
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let mut by_variant: BTreeMap<u32, Vec<(usize, &SweepRow)>> = BTreeMap::new();
    for r in rows {
        if let Some(&i) = order.get(r.scenario.as_str()) {
            by_variant.entry(r.variant).or_default().push((i, r));
        }
    }
    let mut out: Vec<AcrossRow> = by_variant
        .into_values()
        .map(|mut rs| {
            rs.sort_by_key(|(i, _)| *i);
            let first = rs[0].1;
            let mut a = AcrossRow {
                variant: first.variant,
                variant_id: first.variant_id.clone(),
                params: first.params.clone(),
                crises: rs.len() as u32,
                total_bad_debt_usd: Wad::ZERO,
                worst_bad_debt_usd: first.bad_debt_usd,
                worst_scenario: first.scenario.clone(),
                total_penalty_usd: Wad::ZERO,
                total_liquidated_volume_usd: Wad::ZERO,
                npl_count: 0,
            };
            for (_, r) in &rs {
                a.total_bad_debt_usd = add(a.total_bad_debt_usd, r.bad_debt_usd);
                a.total_penalty_usd = add(a.total_penalty_usd, r.penalty_usd);
                a.total_liquidated_volume_usd =
                    add(a.total_liquidated_volume_usd, r.liquidated_volume_usd);
                a.npl_count = a.npl_count.saturating_add(r.npl_count);
                if r.bad_debt_usd > a.worst_bad_debt_usd {
                    a.worst_bad_debt_usd = r.bad_debt_usd;
                    a.worst_scenario = r.scenario.clone();
                }
            }
            a
        })
        .collect();
    let n = meta.scenarios.len() as u32;
    out.sort_by(|x, y| {
        (n.saturating_sub(x.crises))
            .cmp(&n.saturating_sub(y.crises))
            .then(x.total_bad_debt_usd.cmp(&y.total_bad_debt_usd))
            .then(x.total_penalty_usd.cmp(&y.total_penalty_usd))
            .then(x.variant.cmp(&y.variant))
    });
    out
}
