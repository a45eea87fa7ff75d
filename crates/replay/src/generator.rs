//! Book generator for crises without a real book.
//!
//! Distributions (all draws from one ChaCha8 stream seeded by the scenario
//! seed, in account order, so the book is a pure function of spec + seed +
//! start prices):
//! - debt size: lognormal, `exp(size_sigma * N(0,1))`, then scaled so the
//!   total equals `total_debt_usd`;
//! - debt asset: uniform over `debt_assets`;
//! - collateral mix: number of assets uniform in `1..=max_collateral_assets`,
//!   assets drawn without replacement (uniform), weights uniform(0.1, 1)
//!   normalised;
//! - start health factor (weighted collateral / debt, Aave-style):
//!   accounts are visited in a random order and put "near liquidation"
//!   (HF uniform in `[1, near_hf_max)`) until their debt reaches
//!   `near_liquidation_share` of the total; the others get HF uniform in
//!   `[near_hf_max, max_hf)`.

use std::collections::BTreeMap;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use shortfall_core::{Book, BookOrigin, Position, Wad};

use crate::error::{cfg, ReplayError};
use crate::stats::standard_normal as normal;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneratorSpec {
    pub accounts: u32,
    /// Total debt at start prices, USD.
    pub total_debt_usd: Wad,
    /// Share of the debt with start HF in `[1, near_hf_max)`.
    #[serde(default)]
    pub near_liquidation_share: Wad,
    #[serde(default = "d_near")]
    pub near_hf_max: f64,
    #[serde(default = "d_max_hf")]
    pub max_hf: f64,
    pub collateral_assets: Vec<String>,
    pub debt_assets: Vec<String>,
    #[serde(default = "d_max_coll")]
    pub max_collateral_assets: u32,
    #[serde(default = "d_sigma")]
    pub size_sigma: f64,
    #[serde(default = "d_market")]
    pub market: String,
    /// Liquidation thresholds the start health factors are placed against
    /// (`ETH = 0.825`); assets not listed use the policy's. A sweep pins them
    /// to its base scenario's, so every variant replays the same book.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub calibration_lt: BTreeMap<String, Wad>,
}

fn d_near() -> f64 {
    1.1
}
fn d_max_hf() -> f64 {
    3.0
}
fn d_max_coll() -> u32 {
    3
}
fn d_sigma() -> f64 {
    1.5
}
fn d_market() -> String {
    "generated".into()
}

fn to_wad(x: f64) -> Wad {
    // Rounded to 1e-9 first so the conversion is exact and portable.
    let nano = (x * 1e9).round();
    Wad((nano as i128) * 1_000_000_000)
}

/// Generates a book. `prices` are start prices (USD per token) and `lt` the
/// liquidation threshold of each collateral asset (fraction).
pub fn generate_book(
    spec: &GeneratorSpec,
    seed: u64,
    prices: &BTreeMap<String, Wad>,
    lt: &BTreeMap<String, Wad>,
) -> Result<Book, ReplayError> {
    let k = "book.generator";
    if spec.accounts == 0 {
        return Err(cfg(&format!("{k}.accounts"), "must be > 0"));
    }
    if spec.collateral_assets.is_empty() || spec.debt_assets.is_empty() {
        return Err(cfg(
            k,
            "collateral_assets and debt_assets must not be empty",
        ));
    }
    if !(spec.near_hf_max > 1.0 && spec.max_hf > spec.near_hf_max) {
        return Err(cfg(
            &format!("{k}.near_hf_max"),
            "need 1 < near_hf_max < max_hf",
        ));
    }
    let price = |a: &str| -> Result<f64, ReplayError> {
        prices
            .get(a)
            .map(|p| p.to_f64())
            .filter(|p| *p > 0.0)
            .ok_or_else(|| cfg(k, format!("no start price for `{a}`")))
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = spec.accounts as usize;
    let sizes: Vec<f64> = (0..n)
        .map(|_| (spec.size_sigma * normal(&mut rng)).exp())
        .collect();
    let total: f64 = sizes.iter().sum();
    let scale = spec.total_debt_usd.to_f64() / total;
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rng);
    let mut near = vec![false; n];
    let target = spec.near_liquidation_share.to_f64() * spec.total_debt_usd.to_f64();
    let mut acc = 0.0;
    for &i in &order {
        if acc >= target {
            break;
        }
        near[i] = true;
        acc += sizes[i] * scale;
    }
    let max_c = (spec.max_collateral_assets.max(1) as usize).min(spec.collateral_assets.len());
    let width = format!("{}", n).len();
    let mut positions = Vec::with_capacity(n);
    for i in 0..n {
        let debt_usd = sizes[i] * scale;
        let hf = if near[i] {
            rng.gen_range(1.0..spec.near_hf_max)
        } else {
            rng.gen_range(spec.near_hf_max..spec.max_hf)
        };
        let da = &spec.debt_assets[rng.gen_range(0..spec.debt_assets.len())];
        let kc = rng.gen_range(1..=max_c);
        let chosen: Vec<&String> = spec
            .collateral_assets
            .choose_multiple(&mut rng, kc)
            .collect();
        let weights: Vec<f64> = (0..kc).map(|_| rng.gen_range(0.1..1.0)).collect();
        let wsum: f64 = weights.iter().sum();
        let mut p = Position {
            account: format!("gen-{i:0width$}"),
            market: spec.market.clone(),
            ..Default::default()
        };
        p.debt.insert(da.clone(), to_wad(debt_usd / price(da)?));
        for (a, wgt) in chosen.iter().zip(&weights) {
            let l = lt.get(*a).map(|x| x.to_f64()).unwrap_or(0.8).max(0.01);
            let value = wgt / wsum * hf * debt_usd / l;
            *p.collateral.entry((*a).clone()).or_insert(Wad::ZERO) += to_wad(value / price(a)?);
        }
        positions.push(p);
    }
    Ok(Book {
        positions,
        as_of: None,
        origin: BookOrigin {
            kind: "generated".into(),
            detail: format!(
                "generate_book(seed={seed}, accounts={}, total_debt_usd={}, near_liquidation_share={}, near_hf_max={}, max_hf={}, size_sigma={}, max_collateral_assets={}, collateral={:?}, debt={:?}): lognormal sizes, uniform asset mix, uniform start HF per band",
                spec.accounts,
                spec.total_debt_usd,
                spec.near_liquidation_share,
                spec.near_hf_max,
                spec.max_hf,
                spec.size_sigma,
                spec.max_collateral_assets,
                spec.collateral_assets,
                spec.debt_assets
            ),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibrated_and_deterministic() {
        let spec = GeneratorSpec {
            accounts: 2000,
            total_debt_usd: Wad::from_int(10_000_000),
            near_liquidation_share: Wad(200_000_000_000_000_000),
            near_hf_max: 1.1,
            max_hf: 3.0,
            collateral_assets: vec!["ETH".into(), "BTC".into(), "LINK".into()],
            debt_assets: vec!["USDC".into()],
            max_collateral_assets: 3,
            size_sigma: 1.5,
            market: "m".into(),
            calibration_lt: BTreeMap::new(),
        };
        let prices: BTreeMap<String, Wad> =
            [("ETH", 2000), ("BTC", 30000), ("LINK", 10), ("USDC", 1)]
                .into_iter()
                .map(|(a, p)| (a.to_string(), Wad::from_int(p)))
                .collect();
        let lt = BTreeMap::new();
        let a = generate_book(&spec, 7, &prices, &lt).unwrap();
        let b = generate_book(&spec, 7, &prices, &lt).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, generate_book(&spec, 8, &prices, &lt).unwrap());
        let debt: f64 = a.positions.iter().map(|p| p.debt["USDC"].to_f64()).sum();
        assert!((debt - 1e7).abs() < 1.0, "{debt}");
        // share near liquidation: HF = sum(c * p * 0.8) / d
        let near: f64 = a
            .positions
            .iter()
            .filter(|p| {
                let c: f64 = p
                    .collateral
                    .iter()
                    .map(|(k, v)| v.to_f64() * prices[k].to_f64() * 0.8)
                    .sum();
                c / p.debt["USDC"].to_f64() < 1.1
            })
            .map(|p| p.debt["USDC"].to_f64())
            .sum();
        assert!((near / 1e7 - 0.2).abs() < 0.05, "{near}");
        assert_eq!(a.origin.kind, "generated");
    }
}
