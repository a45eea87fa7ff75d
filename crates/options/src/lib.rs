//! Options for Shortfall: Black-76 pricing of inverse (coin-settled)
//! options, implied volatility, a volatility surface per snapshot, and the
//! margin rules of Deribit (standard and portfolio margin).
//!
//! See the crate README for what this crate must never depend on and for
//! the module map.

pub mod black;
pub mod iv;
pub mod money;

pub use black::{norm_cdf, norm_pdf, Black76, OptionKind, PricingError};
pub use iv::{implied_vol, implied_vol_coin, IvError};
pub use money::{coin_from_f64, round_to, MoneyError, COIN_DECIMALS};
pub mod surface;

pub use surface::{
    CalendarViolation, ExpiryInterpolation, Node, Point, Slice, Surface, SurfaceError,
    SurfaceOptions, SurfaceQuote,
};
pub mod standard;

pub use standard::{OptionMark, Requirement, StandardMarginError, StandardMarginParams};
pub mod portfolio;

pub use portfolio::{
    largest_margin_reduction, portfolio_margin, Dampener, PmError, PmInstrument, PmMargin,
    PmParams, PmPosition, Scenario, VolScenario, VolShock,
};
