//! Forensics of what really happened on chain, from `lending_events` and
//! `observed_auctions`.
//!
//! - [`observe`]: every observed liquidation valued at the prices recorded at
//!   the event, with the bonus the liquidator realised against the bonus the
//!   collateral reserve was configured with (`observed_liquidations`).
//! - [`left_with_debt`]: accounts whose liquidations left debt behind with
//!   no collateral, when the dataset has the balance events to tell.
//! - [`auctions`]: Maker flip auctions per hour (zero bids against gas and
//!   the OSM/market gap, ETH sold below market) and fixed-spread liquidation
//!   calls (liquidator concentration, timing, collateral), from
//!   `observed_auctions`.
//!
//! No I/O: the CLI reads the dataset and writes the table; the report crate
//! renders it.

pub mod auctions;
mod balances;
mod bonus;

pub use balances::{left_with_debt, Balances, LeftWithDebt};
pub use bonus::{implied_rate, observe, BONUS_TOLERANCE};
