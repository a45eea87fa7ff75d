//! Domain types of Shortfall: fixed-point money, canonical rows, time.
//!
//! No I/O and nothing heavy lives here, so the replay engine builds and tests
//! without DuckDB or Arrow.

pub mod book;
pub mod contagion;
pub mod hash;
pub mod lending;
pub mod money;
pub mod observed;
pub mod order;
pub mod perp;
pub mod perp_rows;
pub mod perp_run;
pub mod provenance;
pub mod rows;
pub mod run;
pub mod stress;
pub mod sweep;
pub mod time;

pub use book::{Book, BookOrigin, LegSide, Position, PositionLeg, PositionRow};
pub use contagion::{
    AccountOverlap, ContagionMember, ContagionMeta, Exposure, Outcome, SharedMarket,
};
pub use hash::sha256_hex;
pub use lending::{LendingEvent, LendingKind, ObservedLiquidation, Reserve};
pub use money::{Amount, AmountError, Ray, Wad};
pub use observed::ObservedAuction;
pub use order::{Phase, ReplayKey};
pub use perp::{MarginMode, PerpPosition, PerpPositionError, PerpSide};
pub use perp_rows::{positions_from_rows, PerpLiquidationRow, PerpPositionRow};
pub use provenance::SourceRecord;
pub use rows::{LiquidityRow, OracleRound, PriceBar};
pub use stress::{Distribution, StressMeta, StressRow, WorstPath};
pub use sweep::{SweepMeta, SweepParam, SweepRow, SweepScenario};
pub use time::{parse_iso, Micros, TimeError};
