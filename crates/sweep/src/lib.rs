//! Policy sweeps: a grid of margin and oracle settings ([`Grid`]) replayed
//! through one or several crises ([`run_variants`]), in parallel, with the
//! same rows whatever the number of threads; shards for cluster schedulers
//! ([`Shard`]) and their [`merge`]. No file I/O: the CLI loads the inputs
//! and writes `sweep.parquet`, `sweep.json` and the report.

pub mod error;
pub mod grid;
pub mod parallel;
pub mod runner;
pub mod shard;

pub use error::SweepError;
pub use grid::{find_variant, Grid, Variant};
pub use runner::{merge, meta, prepare, prepare_keys, run_variants, Crisis, Prepared};
pub use shard::Shard;
