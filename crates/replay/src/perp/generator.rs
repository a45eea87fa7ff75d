//! Seeded perp book generator, calibrated to totals the user gives.
//!
//! Distributions (one ChaCha8 stream seeded by `seed`, drawn in account
//! order, so the book is a pure function of spec + seed):
//! - accounts per instrument: proportional to its open interest (at least
//!   one long and one short);
//! - side: `round(long_share * n)` accounts long, chosen by a shuffle, the
//!   rest short (`long_share` is a share of accounts, not of size);
//! - size: lognormal weights `exp(size_sigma * N(0,1))`, scaled so each
//!   side's notional at the start price equals the instrument's open
//!   interest; the last short absorbs rounding, so long and short sizes
//!   are equal to the last 1e-18 (a venue's open interest is balanced);
//! - entry price: `start_price * (1 + U(-entry_spread, entry_spread))`;
//! - leverage: a bucket drawn by weight, times `U(1 - leverage_jitter, 1]`,
//!   capped at the tier's maximum leverage for the position's notional when
//!   tiers are given; it is the leverage at the start price: collateral =
//!   notional / leverage - unrealised PnL at the start price (at least 0.1%
//!   of notional), so no position starts liquidatable;
//! - margin mode: cross with probability `cross_share` (one position per
//!   account either way); collateral in `collateral_asset`.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use shortfall_core::{MarginMode, PerpPosition, PerpSide, Wad};

use super::config::Tier;
use super::margin::{notional, tier_for};
use crate::error::{cfg, ReplayError};
use crate::stats::standard_normal as normal;

/// One instrument of a generated book.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerpInstrumentSpec {
    pub instrument: String,
    /// Price the book is placed at; absent (0) in a scenario: the first
    /// market close of the instrument's base in the window.
    #[serde(default)]
    pub start_price: Wad,
    /// Open interest (one side's notional) at the start price, USD.
    pub open_interest_usd: Wad,
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerpBookSpec {
    pub accounts: u32,
    #[serde(default = "d_venue")]
    pub venue: String,
    pub instruments: Vec<PerpInstrumentSpec>,
    /// Share of accounts that are long.
    #[serde(default = "d_half")]
    pub long_share: f64,
    /// Leverage buckets `(leverage, weight)`.
    #[serde(default = "d_leverage")]
    pub leverage: Vec<(f64, f64)>,
    #[serde(default = "d_jitter")]
    pub leverage_jitter: f64,
    #[serde(default = "d_sigma")]
    pub size_sigma: f64,
    #[serde(default = "d_spread")]
    pub entry_spread: f64,
    #[serde(default)]
    pub cross_share: f64,
    #[serde(default = "d_coll")]
    pub collateral_asset: String,
}

fn d_venue() -> String {
    "venue".into()
}
fn d_half() -> f64 {
    0.5
}
/// An assumption, not a venue figure: most open interest at 2-20x, a tail
/// at 50x.
fn d_leverage() -> Vec<(f64, f64)> {
    vec![
        (2.0, 0.2),
        (5.0, 0.3),
        (10.0, 0.3),
        (20.0, 0.15),
        (50.0, 0.05),
    ]
}
fn d_jitter() -> f64 {
    0.25
}
fn d_sigma() -> f64 {
    1.5
}
fn d_spread() -> f64 {
    0.02
}
fn d_coll() -> String {
    "USDT".into()
}

impl PerpBookSpec {
    /// A spec with the default distributions.
    pub fn new(accounts: u32, instruments: Vec<PerpInstrumentSpec>) -> PerpBookSpec {
        PerpBookSpec {
            accounts,
            venue: d_venue(),
            instruments,
            long_share: d_half(),
            leverage: d_leverage(),
            leverage_jitter: d_jitter(),
            size_sigma: d_sigma(),
            entry_spread: d_spread(),
            cross_share: 0.0,
            collateral_asset: d_coll(),
        }
    }
}

fn to_wad(x: f64) -> Wad {
    // Rounded to 1e-9 first so the conversion is exact and portable.
    Wad(((x * 1e9).round() as i128) * 1_000_000_000)
}

/// Generates a perp book. `tiers`: the margin table that caps leverage
/// (None: no cap).
pub fn generate_perp_book(
    spec: &PerpBookSpec,
    seed: u64,
    tiers: Option<&[Tier]>,
) -> Result<Vec<PerpPosition>, ReplayError> {
    let k = "perp.generator";
    if spec.instruments.is_empty() {
        return Err(cfg(&format!("{k}.instruments"), "must not be empty"));
    }
    if (spec.accounts as usize) < 2 * spec.instruments.len() {
        return Err(cfg(
            &format!("{k}.accounts"),
            "need at least two accounts per instrument",
        ));
    }
    if !(0.0..=1.0).contains(&spec.long_share) || !(0.0..=1.0).contains(&spec.cross_share) {
        return Err(cfg(k, "long_share and cross_share must be in [0, 1]"));
    }
    if spec.leverage.is_empty()
        || spec
            .leverage
            .iter()
            .any(|(l, w)| l.is_nan() || *l < 1.0 || w.is_nan() || *w < 0.0)
        || spec.leverage.iter().map(|x| x.1).sum::<f64>() <= 0.0
    {
        return Err(cfg(
            &format!("{k}.leverage"),
            "buckets need leverage >= 1 and weights >= 0 summing > 0",
        ));
    }
    if !(0.0..1.0).contains(&spec.leverage_jitter) || !(0.0..0.5).contains(&spec.entry_spread) {
        return Err(cfg(
            k,
            "need 0 <= leverage_jitter < 1 and 0 <= entry_spread < 0.5",
        ));
    }
    let total_oi: f64 = spec
        .instruments
        .iter()
        .map(|i| i.open_interest_usd.to_f64())
        .sum();
    for i in &spec.instruments {
        if !i.start_price.is_positive() || !i.open_interest_usd.is_positive() {
            return Err(cfg(
                &format!("{k}.instruments.{}", i.instrument),
                "start_price and open_interest_usd must be > 0",
            ));
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = spec.accounts as usize;
    let width = format!("{n}").len();
    let wsum: f64 = spec.leverage.iter().map(|x| x.1).sum();
    let mut out = Vec::with_capacity(n);
    let mut next_id = 0usize;
    let n_inst = spec.instruments.len();
    let mut left = n;
    for (ii, ins) in spec.instruments.iter().enumerate() {
        let ni = if ii + 1 == n_inst {
            left
        } else {
            ((n as f64 * ins.open_interest_usd.to_f64() / total_oi).round() as usize)
                .clamp(2, left - 2 * (n_inst - ii - 1))
        };
        left -= ni;
        let n_long = ((spec.long_share * ni as f64).round() as usize).clamp(1, ni - 1);
        let mut sides: Vec<bool> = (0..ni).map(|j| j < n_long).collect();
        sides.shuffle(&mut rng);
        let weights: Vec<f64> = (0..ni)
            .map(|_| (spec.size_sigma * normal(&mut rng)).exp())
            .collect();
        let (wl, ws): (f64, f64) = sides.iter().zip(&weights).fold((0.0, 0.0), |acc, (l, w)| {
            if *l {
                (acc.0 + w, acc.1)
            } else {
                (acc.0, acc.1 + w)
            }
        });
        let px = ins.start_price.to_f64();
        let oi_base = ins.open_interest_usd.to_f64() / px;
        let mut sizes: Vec<Wad> = sides
            .iter()
            .zip(&weights)
            .map(|(l, w)| to_wad(oi_base * w / if *l { wl } else { ws }).max(Wad(1_000_000_000)))
            .collect();
        // Balance: the last short takes the difference.
        let long_total: i128 = sizes
            .iter()
            .zip(&sides)
            .filter(|x| *x.1)
            .map(|x| x.0 .0)
            .sum();
        let last_short = sides.iter().rposition(|l| !*l).expect("one short");
        let others: i128 = sizes
            .iter()
            .zip(&sides)
            .enumerate()
            .filter(|(j, x)| !*x.1 && *j != last_short)
            .map(|(_, x)| x.0 .0)
            .sum();
        if long_total - others <= 0 {
            return Err(cfg(
                k,
                "size rounding left the last short empty: use more open interest or fewer accounts",
            ));
        }
        sizes[last_short] = Wad(long_total - others);
        for j in 0..ni {
            let long = sides[j];
            let size = sizes[j];
            let entry = px * (1.0 + rng.gen_range(-spec.entry_spread..=spec.entry_spread));
            let entry = to_wad(entry).max(Wad(1_000_000_000));
            let mut r: f64 = rng.gen_range(0.0..wsum);
            let mut lev = spec.leverage[spec.leverage.len() - 1].0;
            for (l, w) in &spec.leverage {
                if r < *w {
                    lev = *l;
                    break;
                }
                r -= w;
            }
            lev *= 1.0 - rng.gen_range(0.0..spec.leverage_jitter.max(f64::MIN_POSITIVE));
            let n_start = notional(size, ins.start_price);
            if let Some(t) = tiers {
                lev = lev.min(tier_for(t, n_start).max_leverage.to_f64());
            }
            let lev = lev.max(1.0);
            let nf = n_start.to_f64();
            let upnl = if long {
                size.to_f64() * (px - entry.to_f64())
            } else {
                size.to_f64() * (entry.to_f64() - px)
            };
            let coll = (nf / lev - upnl).max(nf * 0.001);
            let cross = rng.gen_bool(spec.cross_share);
            out.push(PerpPosition {
                account: format!("perp-{next_id:0width$}"),
                venue: spec.venue.clone(),
                instrument: ins.instrument.clone(),
                side: if long {
                    PerpSide::Long
                } else {
                    PerpSide::Short
                },
                size,
                entry_price: entry,
                margin_mode: if cross {
                    MarginMode::Cross
                } else {
                    MarginMode::Isolated
                },
                collateral: [(spec.collateral_asset.clone(), to_wad(coll))].into(),
                leverage: to_wad((lev * 1e6).round() / 1e6),
            });
            next_id += 1;
        }
    }
    Ok(out)
}
