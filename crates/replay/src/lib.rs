//! The deterministic replay engine of Shortfall.
//!
//! [`Scenario`] (TOML, `--set` overrides, unknown keys rejected) +
//! [`ReplayInput`] (rows loaded by the CLI) -> [`run`] -> [`RunOutput`]
//! (typed event log, liquidations, loan outcomes, series, summary, run
//! metadata). No file I/O; integer fixed point for money; ordered
//! containers wherever order reaches output; seeded ChaCha RNG; no clock.
//!
//! # Shortfall attribution
//! For a position with shortfall `S` (written-off debt plus debt in excess of
//! collateral at the end, market prices), with its initial legs and the
//! per-tick market and oracle price paths:
//! - `t_m`: first tick where its health at market prices is below 1;
//!   `t_o`: the same at oracle prices; `L(t) = max(0, D(t) - C(t)/bonus)`,
//!   the loss of an instant full liquidation at market prices at `t`;
//! - price gap = `min(S, L(t_m))` (the market gapped through the threshold);
//! - oracle = `L(t_o) - L(t_m)` (or all the rest if the oracle never
//!   flagged it), capped by what is left;
//! - the rest is split over the blocked liquidation attempts of the position
//!   by class (liquidator capacity: no capital / gas too high; slippage: no
//!   liquidity; parameters: dust, unprofitable, pause, v3.3 dust rule;
//!   oracle: stale), pro rata by count with the integer remainder to the
//!   largest class; with no blocked attempt it is "parameters" (close
//!   factor, bonus, auction rules).
//!
//! The parts add up to `S` exactly.
pub mod engine;
pub mod error;
#[cfg(feature = "fault-injection")]
pub mod fault;
pub mod generator;
pub mod input;
mod legs;
mod names;
pub mod oracle;
pub mod output;
pub mod perp;
mod prepared;
mod resolve;
pub mod rules;
pub mod scenario;
pub mod simulate;
mod stats;
pub mod transforms;
mod triggers;

pub use engine::joint::{replay_joint, JointRun, Member};

/// Whether this build checks every health band proven by the summary-only
/// replay's floating-point bounds against the exact health (the test-only
/// feature `verify-estimates`); benchmarks refuse to run with it.
pub fn verifies_estimates() -> bool {
    cfg!(feature = "verify-estimates")
}
pub use engine::{run, run_id, Mode, Replay};
pub use error::ReplayError;
pub use generator::{generate_book, GeneratorSpec};
pub use input::{start_prices, ReplayInput};
pub use output::*;
pub use prepared::PreparedBook;
pub use resolve::resolve_book;
pub use scenario::{apply_set, Scenario};
pub use transforms::Transform;
