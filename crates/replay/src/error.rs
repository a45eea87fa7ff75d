//! Errors of the replay engine.

/// Everything that can stop a run.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The scenario text is not valid TOML or does not match the schema
    /// (unknown keys included). The message names the key.
    #[error("scenario: {0}")]
    Scenario(String),
    /// A `--set key=value` override could not be applied.
    #[error("--set `{key}`: {detail}")]
    Set { key: String, detail: String },
    /// A setting has a value the engine cannot use.
    #[error("config `{key}`: {detail}")]
    Config { key: String, detail: String },
    /// Input rows are unusable (e.g. no prices for an asset of the book).
    #[error("input: {0}")]
    Input(String),
    /// An accounting invariant failed; the run is invalid (CLI exit code 3).
    #[error("invariant violated at event #{seq} ({event}): {detail}")]
    Invariant {
        seq: u64,
        event: String,
        detail: String,
    },
    /// Fixed-point overflow in a computation.
    #[error("arithmetic overflow in {0}")]
    Overflow(&'static str),
}

/// Shorthand for config errors.
pub(crate) fn cfg(key: &str, detail: impl Into<String>) -> ReplayError {
    ReplayError::Config {
        key: key.to_string(),
        detail: detail.into(),
    }
}
