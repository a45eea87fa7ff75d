//! Perp margin settings: presets plus parameters (`[perp]`).
//!
//! Every field but `preset` is optional; [`PerpConfig::resolve`] fills the
//! preset's values and checks the result ([`PerpRules`]). A field set in
//! the file always wins over the preset.
//!
//! Presets (sources: CRISES.md §4 "Perpetual venues"):
//! - `binance_2021`: the Binance BTCUSDT tier table of 2021-03-18 [P Binance
//!   announcement]; full liquidation through the book; insurance fund, then
//!   auto-deleveraging ("ADL is the final step taken only when the Insurance
//!   Fund cannot accept the bankrupt client's positions", Binance FAQ "What
//!   Is Auto-Deleveraging (ADL)").
//! - `hyperliquid`: maintenance margin half the initial margin at maximum
//!   leverage (default 50x, so 1%); positions above $100k liquidated 20% at a
//!   time with a 30 s cooldown; backstop (liquidator vault, HLP) when equity
//!   falls below 2/3 of the maintenance margin, the maintenance margin not
//!   returned [P Hyperliquid docs]; losses beyond it to the vault.
//! - `custom`: `tiers` required.
//!
//! The liquidation fee is not in CRISES.md for either venue: it defaults to
//! 0 and should be set (`liquidation_fee_rate`) with its source.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use shortfall_core::money::WAD;
use shortfall_core::Wad;

use crate::error::{cfg, ReplayError};
use crate::scenario::{OracleMode, OracleRule, OracleSource};

/// Margin rule preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PerpPreset {
    #[serde(rename = "binance_2021")]
    Binance2021,
    #[serde(rename = "hyperliquid")]
    Hyperliquid,
    #[serde(rename = "custom")]
    Custom,
}

/// Who takes a bankrupt position's loss once the insurance fund cannot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossAbsorber {
    /// Auto-deleveraging: profitable opposite positions, ranked by profit and
    /// leverage, are closed at the bankruptcy price.
    Adl,
    /// The shortfall is charged to profitable opposite positions pro rata to
    /// their unrealised profit.
    Socialised,
    /// The backstop vault takes the positions over at the mark with the
    /// deficit.
    Backstop,
}

/// One tier of a margin table (by position notional).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierConfig {
    /// Inclusive upper bound of the tier's notional (USD); absent on the
    /// last tier (unbounded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_notional_usd: Option<Wad>,
    pub max_leverage: Wad,
    /// Maintenance margin rate. Absent: half the initial margin rate at
    /// `max_leverage` (Hyperliquid's rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mmr: Option<Wad>,
    /// Maintenance amount (Binance "cum", Hyperliquid "deduction"). Absent:
    /// from continuity of the maintenance margin across tiers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_amount: Option<Wad>,
}

/// How a collateral asset is priced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CollateralPrice {
    /// Median close of the asset's bars (of `venues` if given): a venue
    /// index, which can depeg (USDe on Binance, 2025-10-10).
    #[default]
    Market,
    /// A constant: a peg or a redemption value (`value`).
    Fixed,
}

/// Collateral valuation of one asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollateralRule {
    /// Share of the value not counted as margin (0.05 = 5%).
    #[serde(default)]
    pub haircut: Wad,
    #[serde(default)]
    pub price: CollateralPrice,
    /// The constant price for `fixed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Wad>,
    /// Venues of the `market` price (empty: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub venues: Vec<String>,
}

/// Per-instrument settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentConfig {
    /// Base asset of the price bars (default: the instrument name without a
    /// `USDT`/`USDC`/`USD`/`-PERP` suffix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// Venue whose bars are the perp's own price: mark = index + basis, the
    /// basis clamped to `basis_cap_bps` of the index. Absent: mark = index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark_venue: Option<String>,
    /// Index rule for this instrument (field-wise over `perp.index`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<OracleRule>,
    /// Tier table for this instrument (default: the preset's / `perp.tiers`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiers: Option<Vec<TierConfig>>,
    /// Book depth for this instrument (default `liquidity.depth_usd`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth_usd: Option<Wad>,
}

/// Linear order-book model of liquidation fills, per instrument and side:
/// a close of notional `v` with `u` already used fills at the mark times
/// `1 -/+ (u + v/2) / depth` (the average price of a book that would take
/// the price to zero at `depth`, like the lending engine's `linear` model);
/// used depth recovers linearly over `recovery_secs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerpLiquidity {
    #[serde(default = "d_depth")]
    pub depth_usd: Wad,
    #[serde(default = "d_recovery")]
    pub recovery_secs: i64,
}

fn d_depth() -> Wad {
    Wad::from_int(50_000_000)
}
fn d_recovery() -> i64 {
    3_600
}

impl Default for PerpLiquidity {
    fn default() -> Self {
        PerpLiquidity {
            depth_usd: d_depth(),
            recovery_secs: d_recovery(),
        }
    }
}

/// `[perp]` of a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerpConfig {
    pub preset: PerpPreset,
    /// Tier table (required for `custom`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiers: Option<Vec<TierConfig>>,
    /// `hyperliquid` without `tiers`: one tier at this leverage (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_leverage: Option<Wad>,
    /// Liquidation fee on the closed notional at mark, into the insurance
    /// fund (capped at the equity left).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liquidation_fee_rate: Option<Wad>,
    /// Positions above this notional are liquidated in steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial_threshold_usd: Option<Wad>,
    /// Share of such a position closed per step (0: no partial liquidation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial_step_share: Option<Wad>,
    /// Wait between steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial_cooldown_secs: Option<i64>,
    /// Backstop takeover when equity < this share of the maintenance margin
    /// (0: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backstop_share: Option<Wad>,
    /// Who takes losses the insurance fund cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absorber: Option<LossAbsorber>,
    /// Insurance fund balance at the start, USD.
    #[serde(default)]
    pub insurance_fund_usd: Wad,
    /// Backstop vault cash at the start, USD.
    #[serde(default)]
    pub backstop_vault_usd: Wad,
    /// Index rule (the crate's oracle rules; default: market median, direct).
    #[serde(default = "d_index")]
    pub index: OracleRule,
    /// Largest basis of mark over index, bps of the index.
    #[serde(default)]
    pub basis_cap_bps: u32,
    #[serde(default)]
    pub liquidity: PerpLiquidity,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub instruments: BTreeMap<String, InstrumentConfig>,
    /// Collateral assets (each must be listed or have bars).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub collateral: BTreeMap<String, CollateralRule>,
    /// Where the positions come from (in a scenario).
    #[serde(default)]
    pub book: PerpBookConfig,
}

/// `[perp.book]`: the `datasets.perp_positions` snapshot, or a book
/// generated from `generator` and the scenario's seed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerpBookConfig {
    #[serde(default)]
    pub source: crate::scenario::BookSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator: Option<super::generator::PerpBookSpec>,
}

fn d_index() -> OracleRule {
    OracleRule {
        source: Some(OracleSource::Market),
        mode: Some(OracleMode::Direct),
        ..Default::default()
    }
}

impl PerpConfig {
    /// A config of `preset` with every other field at its default.
    pub fn preset(preset: PerpPreset) -> PerpConfig {
        PerpConfig {
            preset,
            tiers: None,
            max_leverage: None,
            liquidation_fee_rate: None,
            partial_threshold_usd: None,
            partial_step_share: None,
            partial_cooldown_secs: None,
            backstop_share: None,
            absorber: None,
            insurance_fund_usd: Wad::ZERO,
            backstop_vault_usd: Wad::ZERO,
            index: d_index(),
            basis_cap_bps: 0,
            liquidity: PerpLiquidity::default(),
            instruments: BTreeMap::new(),
            collateral: BTreeMap::new(),
            book: PerpBookConfig::default(),
        }
    }

    /// Parses `[perp]` TOML (the table's body).
    pub fn from_toml(text: &str) -> Result<PerpConfig, ReplayError> {
        toml::from_str(text).map_err(|e| ReplayError::Scenario(format!("perp: {e}")))
    }

    /// The tier table of an instrument (its own, `tiers`, or the preset's).
    pub fn tiers_for(&self, instrument: &str) -> Result<Vec<Tier>, ReplayError> {
        if let Some(t) = self
            .instruments
            .get(instrument)
            .and_then(|i| i.tiers.as_ref())
        {
            return resolve_tiers(t, &format!("perp.instruments.{instrument}.tiers"));
        }
        if let Some(t) = &self.tiers {
            return resolve_tiers(t, "perp.tiers");
        }
        match self.preset {
            PerpPreset::Binance2021 => resolve_tiers(&binance_btcusdt_2021(), "perp.tiers"),
            PerpPreset::Hyperliquid => {
                let lev = self.max_leverage.unwrap_or(Wad::from_int(50));
                resolve_tiers(
                    &[TierConfig {
                        max_notional_usd: None,
                        max_leverage: lev,
                        mmr: None,
                        maintenance_amount: None,
                    }],
                    "perp.max_leverage",
                )
            }
            PerpPreset::Custom => Err(cfg("perp.tiers", "required for preset `custom`")),
        }
    }

    /// Preset values with the file's overrides, checked.
    pub fn resolve(&self) -> Result<PerpRules, ReplayError> {
        let hl = self.preset == PerpPreset::Hyperliquid;
        let fee = self.liquidation_fee_rate.unwrap_or(Wad::ZERO);
        unit_interval(fee, "perp.liquidation_fee_rate")?;
        let step = self
            .partial_step_share
            .unwrap_or(if hl { Wad(WAD / 5) } else { Wad::ZERO });
        unit_interval(step, "perp.partial_step_share")?;
        let threshold = self.partial_threshold_usd.unwrap_or(Wad::from_int(100_000));
        if threshold.is_negative() {
            return Err(cfg("perp.partial_threshold_usd", "must be >= 0"));
        }
        let cooldown = self.partial_cooldown_secs.unwrap_or(30);
        if cooldown < 0 {
            return Err(cfg("perp.partial_cooldown_secs", "must be >= 0"));
        }
        // 2/3 rounded up: the trader reaches the backstop no later than the
        // exact rule (1e-18 relative).
        let backstop = self.backstop_share.unwrap_or(if hl {
            Wad(666_666_666_666_666_667)
        } else {
            Wad::ZERO
        });
        unit_interval(backstop, "perp.backstop_share")?;
        let absorber = self.absorber.unwrap_or(if hl {
            LossAbsorber::Backstop
        } else {
            LossAbsorber::Adl
        });
        if self.insurance_fund_usd.is_negative() {
            return Err(cfg("perp.insurance_fund_usd", "must be >= 0"));
        }
        if !self.liquidity.depth_usd.is_positive() {
            return Err(cfg("perp.liquidity.depth_usd", "must be > 0"));
        }
        if self.liquidity.recovery_secs <= 0 {
            return Err(cfg("perp.liquidity.recovery_secs", "must be > 0"));
        }
        if self.basis_cap_bps > 10_000 {
            return Err(cfg("perp.basis_cap_bps", "must be <= 10000"));
        }
        for (a, r) in &self.collateral {
            unit_interval(r.haircut, &format!("perp.collateral.{a}.haircut"))?;
            if r.haircut == Wad::ONE {
                return Err(cfg(&format!("perp.collateral.{a}.haircut"), "must be < 1"));
            }
            if r.price == CollateralPrice::Fixed && !r.value.is_some_and(|v| v.is_positive()) {
                return Err(cfg(
                    &format!("perp.collateral.{a}.value"),
                    "a positive value is required for price = \"fixed\"",
                ));
            }
        }
        Ok(PerpRules {
            liquidation_fee_rate: fee,
            partial: (step.is_positive() && step < Wad::ONE).then_some(Partial {
                threshold_usd: threshold,
                step_share: step,
                cooldown_secs: cooldown,
            }),
            backstop_share: backstop.is_positive().then_some(backstop),
            absorber,
        })
    }
}

fn unit_interval(v: Wad, key: &str) -> Result<(), ReplayError> {
    if v.is_negative() || v > Wad::ONE {
        return Err(cfg(key, format!("must be in [0, 1], got {v}")));
    }
    Ok(())
}

/// Partial liquidation of large positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partial {
    pub threshold_usd: Wad,
    pub step_share: Wad,
    pub cooldown_secs: i64,
}

/// Resolved liquidation rules (tiers are per instrument, [`Tier`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerpRules {
    pub liquidation_fee_rate: Wad,
    pub partial: Option<Partial>,
    pub backstop_share: Option<Wad>,
    pub absorber: LossAbsorber,
}

/// One resolved tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    /// Inclusive upper bound (None: unbounded).
    pub max_notional: Option<Wad>,
    pub max_leverage: Wad,
    /// Initial margin rate `1 / max_leverage` (rounded up).
    pub imr: Wad,
    pub mmr: Wad,
    pub maintenance_amount: Wad,
}

/// The Binance BTCUSDT tier table of 2021-03-18 (CRISES.md §4, [P Binance
/// announcement]): notional bound, max leverage, maintenance margin rate.
/// Maintenance amounts follow from continuity.
pub fn binance_btcusdt_2021() -> Vec<TierConfig> {
    // (bound USDT, leverage, MMR in units of 0.0001)
    const T: [(i64, i64, i128); 10] = [
        (50_000, 125, 40),
        (250_000, 100, 50),
        (1_000_000, 50, 100),
        (10_000_000, 20, 250),
        (20_000_000, 10, 500),
        (50_000_000, 5, 1000),
        (100_000_000, 4, 1250),
        (200_000_000, 3, 1500),
        (300_000_000, 2, 2500),
        (500_000_000, 1, 5000),
    ];
    T.iter()
        .map(|&(b, l, m)| TierConfig {
            max_notional_usd: Some(Wad::from_int(b)),
            max_leverage: Wad::from_int(l),
            mmr: Some(Wad(m * WAD / 10_000)),
            maintenance_amount: None,
        })
        .collect()
}

/// Checks a tier table and fills rates and maintenance amounts.
///
/// Maintenance amount by continuity (Binance's "maintenance amount",
/// Hyperliquid's "deduction"): `ma_1 = 0`,
/// `ma_k = ma_{k-1} + bound_{k-1} * (mmr_k - mmr_{k-1})`, so
/// `notional * mmr - ma` is continuous at each bound. Missing `mmr`:
/// `1 / (2 * max_leverage)`, half the initial margin rate at maximum
/// leverage (Hyperliquid).
pub fn resolve_tiers(tiers: &[TierConfig], key: &str) -> Result<Vec<Tier>, ReplayError> {
    if tiers.is_empty() {
        return Err(cfg(key, "no tiers"));
    }
    let mut out: Vec<Tier> = Vec::with_capacity(tiers.len());
    for (i, t) in tiers.iter().enumerate() {
        let k = format!("{key}[{i}]");
        if t.max_leverage < Wad::ONE {
            return Err(cfg(
                &format!("{k}.max_leverage"),
                format!("must be >= 1, got {}", t.max_leverage),
            ));
        }
        // imr = 1 / lev, rounded up (against the trader).
        let imr = Wad(div_ceil(WAD * WAD, t.max_leverage.0));
        let mmr = match t.mmr {
            Some(m) => m,
            None => Wad(div_ceil(WAD * WAD, 2 * t.max_leverage.0)),
        };
        if !mmr.is_positive() || mmr >= Wad::ONE {
            return Err(cfg(
                &format!("{k}.mmr"),
                format!("must be in (0, 1), got {mmr}"),
            ));
        }
        if mmr > imr {
            return Err(cfg(
                &format!("{k}.mmr"),
                format!("maintenance rate {mmr} above the initial rate {imr} (1 / max_leverage)"),
            ));
        }
        match (t.max_notional_usd, tiers.len() - 1 == i) {
            (None, false) => {
                return Err(cfg(
                    &format!("{k}.max_notional_usd"),
                    "required on every tier but the last",
                ))
            }
            (Some(b), _) if !b.is_positive() => {
                return Err(cfg(&format!("{k}.max_notional_usd"), "must be > 0"))
            }
            _ => {}
        }
        let ma = match (t.maintenance_amount, out.last()) {
            (Some(a), _) => a,
            (None, None) => Wad::ZERO,
            (None, Some(prev)) => {
                let bound = prev.max_notional.expect("checked");
                Wad(prev.maintenance_amount.0
                    + shortfall_core::money::mul_div_down(bound.0, mmr.0 - prev.mmr.0, WAD)
                        .ok_or(ReplayError::Overflow("maintenance amount"))?)
            }
        };
        if let Some(prev) = out.last() {
            if t.max_notional_usd
                .zip(prev.max_notional)
                .is_some_and(|(b, pb)| b <= pb)
            {
                return Err(cfg(
                    &format!("{k}.max_notional_usd"),
                    "tiers must have increasing bounds",
                ));
            }
            if mmr < prev.mmr {
                return Err(cfg(&format!("{k}.mmr"), "must not decrease across tiers"));
            }
        }
        out.push(Tier {
            max_notional: t.max_notional_usd,
            max_leverage: t.max_leverage,
            imr,
            mmr,
            maintenance_amount: ma,
        });
    }
    Ok(out)
}

/// `ceil(a / b)` for `a >= 0`, `b > 0`.
pub(crate) fn div_ceil(a: i128, b: i128) -> i128 {
    (a + b - 1) / b
}
