//! The heatmap of a sweep's crisis: bad debt over the first two
//! parameters, each cell the best variant with those two values.

use std::collections::{BTreeMap, BTreeSet};

use shortfall_core::sweep::SweepRow;
use shortfall_core::Wad;

use super::analysis::rank_cmp;
use super::model::{HeatCell, HeatRow, Heatmap};
use crate::format as f;

/// Distinct values of parameter `key` over `rows`: numerically when every
/// value is a number, else in the order the variants first use them.
fn axis_values(rows: &[&SweepRow], key: &str) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut vals: Vec<String> = Vec::new();
    for r in rows {
        if let Some(p) = r.params.iter().find(|p| p.key == key) {
            if seen.insert(p.value.clone()) {
                vals.push(p.value.clone());
            }
        }
    }
    let nums: Option<Vec<f64>> = vals
        .iter()
        .map(|v| v.trim().parse::<f64>().ok().filter(|x| x.is_finite()))
        .collect();
    if let Some(nums) = nums {
        let mut pairs: Vec<(f64, String)> = nums.into_iter().zip(vals).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        vals = pairs.into_iter().map(|p| p.1).collect();
    }
    vals
}

/// Light (least bad debt) to red (most), `t` in 0..=1000.
fn shade(t: i128) -> String {
    let t = t.clamp(0, 1000) as i32;
    let mix = |a: i32, b: i32| a + (b - a) * t / 1000;
    format!(
        "background-color:#{:02x}{:02x}{:02x}",
        mix(247, 222),
        mix(247, 102),
        mix(244, 84)
    )
}

/// The best variant of each (row value, column value) pair.
fn cells<'a>(
    rows: &[&'a SweepRow],
    rk: &str,
    ck: &str,
) -> BTreeMap<(&'a str, &'a str), &'a SweepRow> {
    let mut cells: BTreeMap<(&str, &str), &SweepRow> = BTreeMap::new();
    for r in rows {
        let v = |k: &str| {
            r.params
                .iter()
                .find(|p| p.key == k)
                .map(|p| p.value.as_str())
        };
        if let (Some(a), Some(b)) = (v(rk), v(ck)) {
            let e = cells.entry((a, b)).or_insert(r);
            if rank_cmp(r, e).is_lt() {
                *e = r;
            }
        }
    }
    cells
}

/// A cell shaded by its bad debt between the least `lo` and `lo + span`.
fn cell(r: Option<&&SweepRow>, lo: Wad, span: i128) -> HeatCell {
    let Some(r) = r else {
        return HeatCell {
            bad_debt_usd: "-".into(),
            display: "-".into(),
            variant_id: String::new(),
            style: String::new(),
            best: false,
        };
    };
    let t = if span > 0 {
        shortfall_core::money::mul_div_down(r.bad_debt_usd.0.saturating_sub(lo.0), 1000, span)
            .unwrap_or(0)
    } else {
        0
    };
    HeatCell {
        bad_debt_usd: f::usd(r.bad_debt_usd),
        display: f::usd_short(r.bad_debt_usd),
        variant_id: r.variant_id.clone(),
        style: shade(t),
        best: r.bad_debt_usd == lo,
    }
}

/// The heatmap of a crisis's rows over the first two of `keys`; none with
/// fewer than two parameters or no row.
pub fn heatmap(keys: &[String], rows: &[&SweepRow]) -> Option<Heatmap> {
    if keys.len() < 2 || rows.is_empty() {
        return None;
    }
    let (rk, ck) = (&keys[0], &keys[1]);
    let rvals = axis_values(rows, rk);
    let cvals = axis_values(rows, ck);
    if rvals.is_empty() || cvals.is_empty() {
        return None;
    }
    let cells = cells(rows, rk, ck);
    let lo = cells.values().map(|r| r.bad_debt_usd).min()?;
    let hi = cells.values().map(|r| r.bad_debt_usd).max()?;
    let span = hi.0.saturating_sub(lo.0);
    let rows_out = rvals
        .iter()
        .map(|a| HeatRow {
            value: a.clone(),
            cells: cvals
                .iter()
                .map(|b| cell(cells.get(&(a.as_str(), b.as_str())), lo, span))
                .collect(),
        })
        .collect();
    let mut caption = format!(
        "Bad debt (USD) by {rk} (rows) and {ck} (columns); darker is more bad debt, the least is in bold."
    );
    if keys.len() > 2 {
        caption.push_str(&format!(
            " Each cell is the minimum over the other parameters ({}): the best any of its variants did.",
            keys[2..].join(", ")
        ));
    }
    if cells.len() < rvals.len() * cvals.len() {
        caption.push_str(" Cells marked - have no variant in the grid.");
    }
    Some(Heatmap {
        row_key: rk.clone(),
        col_key: ck.clone(),
        cols: cvals,
        rows: rows_out,
        caption,
        scale: format!("from {} (lightest) to {} (darkest)", f::usd(lo), f::usd(hi)),
    })
}
