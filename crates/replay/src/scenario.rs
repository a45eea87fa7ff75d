//! The scenario file: window, datasets, book, policy, oracle rules, frictions.
//!
//! Every struct denies unknown fields, so a misspelt key is an error that
//! names it. `--set a.b.c=value` overrides are applied to the TOML value tree
//! before typed deserialisation ([`Scenario::from_toml_with_sets`]), so every
//! setting can be overridden; [`Scenario::resolved_toml`] writes the resolved
//! config back (deterministic: struct order, maps sorted).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use shortfall_core::{Micros, Wad};

use crate::error::{cfg, time, ReplayError};

/// A crisis scenario: everything a run needs besides the input rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name, used as the report folder (`reports/<name>/<run_id>`).
    pub name: String,
    /// Title of reports (defaults to the name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the scenario is and where its data and book come from; shown at
    /// the top of reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Seed of every random draw (book generator).
    #[serde(default)]
    pub seed: u64,
    pub window: Window,
    #[serde(default)]
    pub datasets: Datasets,
    #[serde(default)]
    pub market: MarketConfig,
    #[serde(default)]
    pub book: BookConfig,
    /// Lending rules; absent in a derivatives-only scenario (then the
    /// lending book must be empty).
    #[serde(default = "Policy::none", skip_serializing_if = "Policy::is_none")]
    pub policy: Policy,
    /// Perpetual swaps replayed on the same prices and oracle rules, in
    /// the same event log ([`crate::perp`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub perp: Option<crate::perp::PerpConfig>,
    #[serde(default)]
    pub oracle: OracleConfig,
    #[serde(default)]
    pub frictions: Frictions,
    #[serde(default)]
    pub accounting: Accounting,
    #[serde(default)]
    pub output: OutputConfig,
    /// Where settings come from: `"policy.maker.ttl_secs" = "03/12/2020
    /// Maker executive spell"`. A key covers the settings under it; reports
    /// show the longest matching key next to each setting.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sources: BTreeMap<String, String>,
    /// Published figures of the crisis that reports set the run against.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<shortfall_core::run::Reference>,
    /// Stress transforms (`[[transforms]]`), applied in order to the inputs
    /// and frictions before the replay: a hypothetical scenario
    /// ([`crate::transforms`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transforms: Vec<crate::transforms::Transform>,
}

/// Time window `[start, end]` (RFC 3339 or `YYYY-MM-DD HH:MM`, UTC).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub start: String,
    pub end: String,
}

/// Dataset references (paths or names); the CLI loads them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Datasets {
    pub prices: Option<String>,
    pub oracle_rounds: Option<String>,
    pub lending_events: Option<String>,
    pub liquidity: Option<String>,
    pub positions: Option<String>,
    pub gas: Option<String>,
    /// Perpetual positions (`perp_positions` table; `[perp] book.source =
    /// "snapshot"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub perp_positions: Option<String>,
}

/// Which price bars make the market price.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketConfig {
    /// Venues to use (empty: all). With several venues at one time the market
    /// price is their median close (lower middle for an even count).
    #[serde(default)]
    pub venues: Vec<String>,
    /// Assets with no market data in the datasets, valued at a constant
    /// price (`USDT = 1`): an explicit assumption, listed in every report.
    /// Ignored for an asset that has bars. The engine adds the constant
    /// bars (`engine::peg_bars`), so library users get them too.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pegs: BTreeMap<String, Wad>,
}

/// Where the book comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookSource {
    /// `ReplayInput::book` (a `positions` snapshot).
    #[default]
    Snapshot,
    /// [`crate::generator::generate_book`] with `book.generator` and `seed`.
    Generated,
}

/// Book settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookConfig {
    #[serde(default)]
    pub source: BookSource,
    pub generator: Option<crate::generator::GeneratorSpec>,
}

/// Margin rule presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// Aave v2: HF < 1, close factor 50%, base currency 18 decimals.
    AaveV2,
    /// Aave v3.0-3.2: close factor 50%, 100% when HF <= 0.95.
    AaveV3,
    /// Aave v3.3: v3 plus dust thresholds, minimum leftover, deficit.
    AaveV33,
    /// Compound v2 Comptroller (close factor, incentive, seize formula).
    CompoundV2,
    /// Maker Cat + Flipper (English auction).
    MakerFlip,
    /// Maker Dog + Clipper (Dutch auction).
    MakerClip,
    /// No lending protocol: a derivatives-only scenario (`[perp]`).
    None,
}

impl Preset {
    /// True for the fixed-spread families.
    pub fn is_fixed_spread(self) -> bool {
        !matches!(self, Preset::MakerFlip | Preset::MakerClip)
    }
}

/// Per-asset risk parameters (fractions as decimals: 0.825, 1.05).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetParams {
    /// Token decimals (amounts are truncated to them in protocol math).
    #[serde(default = "d18")]
    pub decimals: u32,
    /// Aave liquidation threshold / Compound collateral factor / Maker 1/mat.
    #[serde(default = "d_lt")]
    pub liquidation_threshold: Wad,
    /// Aave liquidation bonus (1.05) / Compound incentive (1.08).
    #[serde(default = "d_bonus")]
    pub liquidation_bonus: Wad,
    /// Aave v3 liquidation protocol fee (share of the bonus) / Compound
    /// protocol seize share.
    #[serde(default)]
    pub protocol_fee: Wad,
    /// Compound cToken exchange rate (underlying per cToken unit).
    #[serde(default = "d_one")]
    pub exchange_rate: Wad,
}

fn d18() -> u32 {
    18
}
fn d_lt() -> Wad {
    Wad(800_000_000_000_000_000)
}
fn d_bonus() -> Wad {
    Wad(1_050_000_000_000_000_000)
}
fn d_one() -> Wad {
    Wad::ONE
}

impl Default for AssetParams {
    fn default() -> Self {
        AssetParams {
            decimals: 18,
            liquidation_threshold: d_lt(),
            liquidation_bonus: d_bonus(),
            protocol_fee: Wad::ZERO,
            exchange_rate: Wad::ONE,
        }
    }
}

/// Maker parameters (Cat/Flipper and Dog/Clipper), per ilk = collateral asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MakerParams {
    /// Liquidation ratio (`mat`, 1.5 for ETH-A in 2020).
    #[serde(default = "d_mat")]
    pub mat: Wad,
    /// Penalty (`chop`, 1.13).
    #[serde(default = "d_chop")]
    pub chop: Wad,
    /// Maximum collateral per auction (`lump`, Cat v1), token units.
    #[serde(default = "d_lump")]
    pub lump: Wad,
    /// Flip: bid duration (`ttl`, 600 s on Black Thursday).
    #[serde(default = "d_ttl")]
    pub ttl_secs: i64,
    /// Flip: auction length (`tau`, 6 h).
    #[serde(default = "d_tau")]
    pub tau_secs: i64,
    /// Flip: minimum bid increase (`beg`, 1.03).
    #[serde(default = "d_beg")]
    pub beg: Wad,
    /// Clip: starting price multiplier (`buf`).
    #[serde(default = "d_buf")]
    pub buf: Wad,
    /// Clip: price multiplier per step (`cut`, StairstepExponentialDecrease).
    #[serde(default = "d_cut")]
    pub cut: Wad,
    /// Clip: seconds per step (`step`).
    #[serde(default = "d_step")]
    pub step_secs: i64,
    /// Clip: seconds before a reset is needed (`tail`).
    #[serde(default = "d_tail")]
    pub tail_secs: i64,
    /// Clip: price drop ratio before a reset is needed (`cusp`).
    #[serde(default = "d_cusp")]
    pub cusp: Wad,
    /// Clip: keeper incentive as a share of tab (`chip`).
    #[serde(default)]
    pub chip: Wad,
    /// Clip: flat keeper incentive in DAI (`tip`).
    #[serde(default)]
    pub tip: Wad,
}

fn d_mat() -> Wad {
    Wad(1_500_000_000_000_000_000)
}
fn d_chop() -> Wad {
    Wad(1_130_000_000_000_000_000)
}
fn d_lump() -> Wad {
    Wad::from_int(50)
}
fn d_ttl() -> i64 {
    600
}
fn d_tau() -> i64 {
    21_600
}
fn d_beg() -> Wad {
    Wad(1_030_000_000_000_000_000)
}
fn d_buf() -> Wad {
    Wad(1_200_000_000_000_000_000)
}
fn d_cut() -> Wad {
    Wad(990_000_000_000_000_000)
}
fn d_step() -> i64 {
    90
}
fn d_tail() -> i64 {
    4_800
}
fn d_cusp() -> Wad {
    Wad(400_000_000_000_000_000)
}

impl Default for MakerParams {
    fn default() -> Self {
        toml::from_str("").expect("defaults")
    }
}

/// Dynamic margin: raise liquidation thresholds' conservativeness (lower LT)
/// when realised volatility is high.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DynamicMargin {
    /// Look-back window of the realised volatility (seconds).
    #[serde(default = "d_dm_window")]
    pub window_secs: i64,
    /// Threshold on the realised volatility over the window (square root of
    /// the sum of squared log returns of the market price; 0.1 = 10%).
    pub vol_threshold: f64,
    /// Liquidation threshold multiplier while above the threshold (0.95).
    pub lt_multiplier: Wad,
}

fn d_dm_window() -> i64 {
    3_600
}

/// The margin policy of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub preset: Preset,
    /// Health factor below which a position is "at risk" (reporting only).
    #[serde(default = "d_warn")]
    pub warn_health: Wad,
    /// Override of the preset's close factor (0.5).
    pub close_factor: Option<Wad>,
    /// Aave v3.3 `MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD` in USD (2000).
    #[serde(default = "d_min_base")]
    pub min_base_max_close_factor_usd: Wad,
    /// Aave v3.3 `MIN_LEFTOVER_BASE` in USD (1000).
    #[serde(default = "d_min_leftover")]
    pub min_leftover_usd: Wad,
    /// Per-asset parameters; assets not listed get [`AssetParams::default`].
    #[serde(default)]
    pub assets: BTreeMap<String, AssetParams>,
    #[serde(default)]
    pub maker: MakerParams,
    pub dynamic_margin: Option<DynamicMargin>,
}

impl Policy {
    /// No lending rules (a derivatives-only scenario).
    pub fn none() -> Policy {
        Policy {
            preset: Preset::None,
            warn_health: d_warn(),
            close_factor: None,
            min_base_max_close_factor_usd: d_min_base(),
            min_leftover_usd: d_min_leftover(),
            assets: BTreeMap::new(),
            maker: MakerParams::default(),
            dynamic_margin: None,
        }
    }

    /// True for [`Policy::none`] (left out of the resolved config).
    pub fn is_none(&self) -> bool {
        *self == Policy::none()
    }
}

fn d_warn() -> Wad {
    Wad(1_100_000_000_000_000_000)
}
fn d_min_base() -> Wad {
    Wad::from_int(2000)
}
fn d_min_leftover() -> Wad {
    Wad::from_int(1000)
}

/// Where an oracle's input comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OracleSource {
    /// The market price (median over `market.venues`).
    Market,
    /// Recorded oracle rounds (`oracle_rounds` with `base` = asset, or `feed`).
    Recorded,
    /// Median of the closes of `venues` (each venue a source).
    Median,
}

/// How the oracle turns its source into answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OracleMode {
    /// Every source value is an answer.
    Direct,
    /// Chainlink-style push: a new answer when the source deviates by
    /// `deviation_bps` from the last answer or `heartbeat_secs` passed.
    Push,
    /// Maker OSM: hourly hops, the answer is the value read one hop earlier.
    Delay,
    /// Time-weighted average over `twap_secs`.
    Twap,
    /// A constant `peg`.
    Fixed,
}

/// One oracle rule; every field optional so an asset rule can override the
/// default rule field by field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OracleRule {
    pub source: Option<OracleSource>,
    /// Feed name for `recorded` (default: rounds whose base is the asset).
    pub feed: Option<String>,
    /// Venues for `median`.
    pub venues: Option<Vec<String>>,
    pub mode: Option<OracleMode>,
    pub deviation_bps: Option<u32>,
    pub heartbeat_secs: Option<i64>,
    /// OSM hop (3600).
    pub delay_secs: Option<i64>,
    pub twap_secs: Option<i64>,
    /// Fixed price for `fixed`.
    pub peg: Option<Wad>,
    /// Chainlink `minAnswer`: answers are clamped to it.
    pub min_answer: Option<Wad>,
    /// Chainlink `maxAnswer`.
    pub max_answer: Option<Wad>,
    /// Compound UAV anchor: an answer further than this from the anchor TWAP
    /// is rejected (the last accepted answer stays).
    pub anchor_bps: Option<u32>,
    pub anchor_twap_secs: Option<i64>,
    /// CAPO-style cap: answers above `cap_ref_price * (1 + growth * t/yr)`
    /// (t from window start) are capped.
    pub cap_ref_price: Option<Wad>,
    pub cap_growth_bps_per_year: Option<u32>,
    /// Answers older than this are stale: liquidations that read them are
    /// blocked with reason `oracle_stale`.
    pub staleness_secs: Option<i64>,
}

impl OracleRule {
    /// Field-wise `self` or else `base`.
    pub fn or(&self, base: &OracleRule) -> OracleRule {
        macro_rules! pick {
            ($($f:ident),*) => { OracleRule { $($f: self.$f.clone().or_else(|| base.$f.clone()),)* } };
        }
        pick!(
            source,
            feed,
            venues,
            mode,
            deviation_bps,
            heartbeat_secs,
            delay_secs,
            twap_secs,
            peg,
            min_answer,
            max_answer,
            anchor_bps,
            anchor_twap_secs,
            cap_ref_price,
            cap_growth_bps_per_year,
            staleness_secs
        )
    }
}

/// Scenario overrides of an oracle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverrideKind {
    /// Answers stop changing (the feed keeps reporting the old value as fresh).
    Freeze,
    /// No answers at all: the feed is stale for the whole interval.
    Outage,
    /// A manipulated answer `price` at `from` (held until `to` or the next
    /// genuine answer if `to` is absent).
    Print,
}

/// One override.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OracleOverride {
    pub asset: String,
    pub kind: OverrideKind,
    pub from: String,
    pub to: Option<String>,
    pub price: Option<Wad>,
}

/// Oracle rules: a default and per-asset rules, plus overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OracleConfig {
    #[serde(default = "d_rule")]
    pub default: OracleRule,
    #[serde(default)]
    pub assets: BTreeMap<String, OracleRule>,
    #[serde(default)]
    pub overrides: Vec<OracleOverride>,
}

fn d_rule() -> OracleRule {
    OracleRule {
        source: Some(OracleSource::Market),
        mode: Some(OracleMode::Direct),
        ..Default::default()
    }
}

impl Default for OracleConfig {
    fn default() -> Self {
        OracleConfig {
            default: d_rule(),
            assets: BTreeMap::new(),
            overrides: Vec::new(),
        }
    }
}

/// A liquidator (fixed-spread) or keeper (auctions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Liquidator {
    pub name: String,
    /// Reaction time after an opportunity appears.
    #[serde(default)]
    pub latency_secs: i64,
    /// Capital in USD (DAI for Maker keepers) per transaction; recycled.
    pub capital_usd: Wad,
    /// Gas per transaction.
    #[serde(default = "d_gas_units")]
    pub gas_units: u64,
    /// Highest gas price (gwei) the liquidator's transactions get included at
    /// (congestion: above it they do not land). None: always included.
    pub max_gas_gwei: Option<Wad>,
    /// Minimum profit in USD after slippage and gas.
    #[serde(default)]
    pub min_profit_usd: Wad,
    /// Auctions: discount to market the keeper requires (0.05).
    #[serde(default)]
    pub margin: Wad,
    /// Auctions: the keeper's opening bid as a share of the lot's market value
    /// (0 = bid the minimum; a lone lowball keeper then wins for ~nothing).
    #[serde(default)]
    pub opening_bid_share: Wad,
}

fn d_gas_units() -> u64 {
    500_000
}

/// Liquidity model of seized-collateral sales.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LiquidityModel {
    /// No slippage.
    #[default]
    None,
    /// Average execution price falls linearly with depth used: a sale of `s`
    /// USD with `u` used gets `1 - (u + s/2)/depth` of the market price.
    Linear,
    /// A constant-product pool with `depth` USD on each side.
    ConstantProduct,
}

/// Liquidity settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiquidityConfig {
    #[serde(default)]
    pub model: LiquidityModel,
    /// Depth in USD for assets not in `depth_usd`.
    #[serde(default = "d_depth")]
    pub default_depth_usd: Wad,
    #[serde(default)]
    pub depth_usd: BTreeMap<String, Wad>,
    /// With `datasets.liquidity`: the venue whose depth to use when the
    /// table holds several for an asset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue: Option<String>,
    /// Seconds for used depth to recover fully (linear).
    #[serde(default = "d_recovery")]
    pub recovery_secs: i64,
    /// Endogenous price impact (0 = off): the market price becomes the
    /// recorded price times `1 - price_impact * used_depth / depth`, so
    /// liquidation sales push it down until the depth recovers (a
    /// deleveraging spiral when it triggers further liquidations).
    #[serde(default)]
    pub price_impact: Wad,
}

fn d_depth() -> Wad {
    Wad::from_int(50_000_000)
}
fn d_recovery() -> i64 {
    3_600
}

impl Default for LiquidityConfig {
    fn default() -> Self {
        toml::from_str("").expect("defaults")
    }
}

/// Gas price settings (a path from data replaces `gwei`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GasConfig {
    #[serde(default = "d_gwei")]
    pub gwei: Wad,
    /// Asset whose market price converts gas to USD.
    #[serde(default = "d_native")]
    pub native_asset: String,
}

fn d_gwei() -> Wad {
    Wad::from_int(30)
}
fn d_native() -> String {
    "ETH".into()
}

impl Default for GasConfig {
    fn default() -> Self {
        toml::from_str("").expect("defaults")
    }
}

/// What a circuit breaker pauses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerAction {
    Liquidations,
    Borrowing,
}

/// Pause `action` for `pause_secs` when the oracle price of `asset` ("*" any)
/// moved more than `move_bps` within `window_secs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CircuitBreaker {
    pub asset: String,
    pub move_bps: u32,
    pub window_secs: i64,
    pub pause_secs: i64,
    pub action: BreakerAction,
}

/// Frictions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Frictions {
    /// Liquidators / keepers. Empty: one ideal liquidator (no latency,
    /// unlimited capital, no gas, no minimum profit).
    #[serde(default)]
    pub liquidators: Vec<Liquidator>,
    #[serde(default)]
    pub liquidity: LiquidityConfig,
    #[serde(default)]
    pub gas: GasConfig,
    #[serde(default)]
    pub circuit_breakers: Vec<CircuitBreaker>,
}

/// Accounting settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accounting {
    /// Reserves / insurance fund / safety module, USD, absorbing bad debt
    /// before it is socialised.
    #[serde(default)]
    pub insurance_usd: Wad,
}

/// Output settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// Time bucket of the series.
    #[serde(default = "d_bucket")]
    pub series_bucket_secs: i64,
}

fn d_bucket() -> i64 {
    3_600
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            series_bucket_secs: d_bucket(),
        }
    }
}

impl Scenario {
    /// Parses scenario TOML text.
    pub fn from_toml(text: &str) -> Result<Scenario, ReplayError> {
        Self::from_toml_with_sets(text, &[])
    }

    /// Parses scenario TOML text, applying `key=value` overrides first.
    pub fn from_toml_with_sets(text: &str, sets: &[String]) -> Result<Scenario, ReplayError> {
        let mut value: toml::Value = toml::from_str(text)?;
        for s in sets {
            apply_set(&mut value, s)?;
        }
        // Round-trip through text so errors carry the key and its line.
        let text = toml::to_string(&value)?;
        let sc: Scenario = toml::from_str(&text)?;
        sc.validate()?;
        Ok(sc)
    }

    /// The resolved configuration as TOML (deterministic).
    pub fn resolved_toml(&self) -> String {
        toml::to_string(self).expect("scenario serialises")
    }

    /// Window start and end as microseconds.
    pub fn window_micros(&self) -> Result<(Micros, Micros), ReplayError> {
        let s = Micros::parse(&self.window.start).map_err(time("window.start"))?;
        let e = Micros::parse(&self.window.end).map_err(time("window.end"))?;
        if e < s {
            return Err(cfg("window.end", "before window.start"));
        }
        Ok((s, e))
    }

    /// Parameters of an asset (default when not listed).
    pub fn asset(&self, asset: &str) -> AssetParams {
        self.policy.assets.get(asset).cloned().unwrap_or_default()
    }

    /// Checks values the types cannot.
    pub fn validate(&self) -> Result<(), ReplayError> {
        self.window_micros()?;
        if self.policy.preset == Preset::None {
            if self.perp.is_none() {
                return Err(cfg(
                    "policy",
                    "missing: a scenario needs [policy] (lending), [perp] (perpetual swaps) or both",
                ));
            }
            if self.book.source == BookSource::Generated || self.datasets.positions.is_some() {
                return Err(cfg(
                    "policy.preset",
                    "the scenario has a lending book but no lending rules",
                ));
            }
        }
        for (a, p) in &self.policy.assets {
            let k = |f: &str| format!("policy.assets.{a}.{f}");
            if p.decimals > 18 {
                return Err(cfg(&k("decimals"), "must be <= 18"));
            }
            if p.liquidation_threshold.is_negative() || p.liquidation_threshold > Wad::ONE {
                return Err(cfg(&k("liquidation_threshold"), "must be in [0, 1]"));
            }
            if p.liquidation_bonus < Wad::ONE || p.liquidation_bonus > Wad::from_int(2) {
                return Err(cfg(&k("liquidation_bonus"), "must be in [1, 2]"));
            }
            if p.exchange_rate <= Wad::ZERO {
                return Err(cfg(&k("exchange_rate"), "must be > 0"));
            }
        }
        if let Some(cf) = self.policy.close_factor {
            if cf <= Wad::ZERO || cf > Wad::ONE {
                return Err(cfg("policy.close_factor", "must be in (0, 1]"));
            }
        }
        let m = &self.policy.maker;
        if m.mat <= Wad::ZERO {
            return Err(cfg("policy.maker.mat", "must be > 0"));
        }
        if m.beg < Wad::ONE {
            return Err(cfg("policy.maker.beg", "must be >= 1"));
        }
        if m.cut <= Wad::ZERO || m.cut >= Wad::ONE {
            return Err(cfg("policy.maker.cut", "must be in (0, 1)"));
        }
        if m.step_secs <= 0 || m.ttl_secs <= 0 || m.tau_secs <= 0 {
            return Err(cfg(
                "policy.maker",
                "step_secs, ttl_secs, tau_secs must be > 0",
            ));
        }
        if m.lump <= Wad::ZERO {
            return Err(cfg("policy.maker.lump", "must be > 0"));
        }
        if self.output.series_bucket_secs <= 0 {
            return Err(cfg("output.series_bucket_secs", "must be > 0"));
        }
        for (i, o) in self.oracle.overrides.iter().enumerate() {
            let k = format!("oracle.overrides.{i}");
            Micros::parse(&o.from).map_err(time(&format!("{k}.from")))?;
            if let Some(t) = &o.to {
                Micros::parse(t).map_err(time(&format!("{k}.to")))?;
            }
            if o.kind == OverrideKind::Print && o.price.is_none() {
                return Err(cfg(&format!("{k}.price"), "required for kind = \"print\""));
            }
        }
        for (i, l) in self.frictions.liquidators.iter().enumerate() {
            if l.latency_secs < 0 {
                return Err(cfg(
                    &format!("frictions.liquidators.{i}.latency_secs"),
                    "must be >= 0",
                ));
            }
        }
        if self.book.source == BookSource::Generated && self.book.generator.is_none() {
            return Err(cfg(
                "book.generator",
                "required when book.source = \"generated\"",
            ));
        }
        Ok(())
    }
}

/// Applies one `a.b.c=value` override to a TOML tree. The value is read as a
/// TOML value (`0.5`, `true`, `"x"`, `[1, 2]`), else as a bare string.
/// Missing tables are created; numeric segments index arrays.
pub fn apply_set(root: &mut toml::Value, assignment: &str) -> Result<(), ReplayError> {
    let (key, raw) = assignment.split_once('=').ok_or_else(|| ReplayError::Set {
        key: assignment.to_string(),
        detail: "expected key=value".into(),
    })?;
    let key = key.trim();
    let raw = raw.trim();
    if key.is_empty() || key.split('.').any(|s| s.is_empty()) {
        return Err(ReplayError::Set {
            key: key.into(),
            detail: "empty key segment".into(),
        });
    }
    let value = match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
        Ok(mut t) => t.remove("v").unwrap_or(toml::Value::String(raw.into())),
        Err(_) => toml::Value::String(raw.into()),
    };
    let segs: Vec<&str> = key.split('.').collect();
    let mut cur = root;
    for (i, seg) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        let err = |d: &str| ReplayError::Set {
            key: key.into(),
            detail: format!("at `{}`: {d}", segs[..=i].join(".")),
        };
        cur = match cur {
            toml::Value::Table(t) => {
                if last {
                    t.insert(seg.to_string(), value);
                    return Ok(());
                }
                t.entry(seg.to_string())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            }
            toml::Value::Array(a) => {
                let idx: usize = seg.parse().map_err(|_| err("expected an array index"))?;
                let len = a.len();
                let slot = a
                    .get_mut(idx)
                    .ok_or_else(|| err(&format!("index out of range (len {len})")))?;
                if last {
                    *slot = value;
                    return Ok(());
                }
                slot
            }
            _ => return Err(err("not a table")),
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = r#"
name = "t"
[window]
start = "2020-03-12"
end = "2020-03-13"
[policy]
preset = "aave_v3"
"#;

    #[test]
    fn parses_minimal_and_resolves() {
        let s = Scenario::from_toml(MIN).unwrap();
        assert_eq!(s.policy.preset, Preset::AaveV3);
        let r = s.resolved_toml();
        let s2 = Scenario::from_toml(&r).unwrap();
        assert_eq!(s, s2);
        assert_eq!(r, s2.resolved_toml());
    }

    #[test]
    fn unknown_key_is_error_naming_it() {
        let e = Scenario::from_toml(&format!("{MIN}\nclose_factr = 0.5\n")).unwrap_err();
        assert!(e.to_string().contains("close_factr"), "{e}");
        let e = Scenario::from_toml_with_sets(MIN, &["policy.bogus=1".into()]).unwrap_err();
        assert!(e.to_string().contains("bogus"), "{e}");
    }

    #[test]
    fn set_overrides() {
        let s = Scenario::from_toml_with_sets(
            MIN,
            &[
                "policy.close_factor=0.6".into(),
                "policy.assets.ETH.liquidation_threshold=0.8".into(),
                "seed=42".into(),
                "policy.preset=compound_v2".into(),
            ],
        )
        .unwrap();
        assert_eq!(s.seed, 42);
        assert_eq!(s.policy.preset, Preset::CompoundV2);
        assert_eq!(s.policy.close_factor, Some(Wad(600_000_000_000_000_000)));
        assert_eq!(
            s.policy.assets["ETH"].liquidation_threshold,
            Wad(800_000_000_000_000_000)
        );
        let e = Scenario::from_toml_with_sets(MIN, &["policy.close_factor=2".into()]).unwrap_err();
        assert!(e.to_string().contains("policy.close_factor"), "{e}");
        assert!(Scenario::from_toml_with_sets(MIN, &["nokey".into()]).is_err());
    }
}
