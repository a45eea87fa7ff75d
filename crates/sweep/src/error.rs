//! Errors of sweeps.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum SweepError {
    /// The grid file is invalid.
    #[error("grid: {0}")]
    Grid(String),
    /// `--shard` or the scheduler's index variables are invalid.
    #[error("shard: {0}")]
    Shard(String),
    /// A variant's settings do not make a valid scenario.
    #[error("variant {variant} of {scenario}: {source}")]
    Variant {
        variant: String,
        scenario: String,
        #[source]
        source: shortfall_replay::ReplayError,
    },
    /// The base scenario could not be prepared.
    #[error("scenario {scenario}: {source}")]
    Scenario {
        scenario: String,
        #[source]
        source: shortfall_replay::ReplayError,
    },
    /// Parts of a sweep that do not fit together.
    #[error("merge: {0}")]
    Merge(String),
}
