//! Perpetual swaps: margin tiers, liquidation through the book, insurance
//! fund, auto-deleveraging, socialised loss and backstop vault, replayed on
//! the same price and oracle rules as lending and logged in the same event
//! log ([`shortfall_core::run::EventRecord`]).
//!
//! - [`config`]: `[perp]` settings and presets (Binance BTCUSDT 2021 tiers,
//!   Hyperliquid);
//! - [`margin`]: tier lookup, maintenance and initial margin, liquidation
//!   and bankruptcy prices, collateral haircuts (exact fixed point);
//! - [`engine`]: the event-driven replay ([`replay`]);
//! - [`generator`]: a seeded book calibrated to open interest;
//! - outcomes, insurance fund series, loss waterfall and ledger:
//!   [`shortfall_core::perp_run`].

pub mod config;
pub mod engine;
pub mod generator;
pub mod margin;
pub mod scenario;

pub use config::{
    binance_btcusdt_2021, resolve_tiers, CollateralPrice, CollateralRule, InstrumentConfig,
    LossAbsorber, PerpConfig, PerpLiquidity, PerpPreset, PerpRules, Tier, TierConfig,
};
pub use engine::{adl_score, default_base, replay};
pub use generator::{generate_perp_book, PerpBookSpec, PerpInstrumentSpec};
pub use shortfall_core::perp_run::*;
