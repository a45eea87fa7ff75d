//! Errors of the replay engine.

/// Everything that can stop a run.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The scenario does not match the schema or its rules. The message
    /// names the key.
    #[error("scenario: {0}")]
    Scenario(String),
    /// The scenario text is not valid TOML or does not match the schema
    /// (the parser's error, naming the key and its line, kept as source).
    #[error("scenario: {0}")]
    Toml(#[source] Box<toml::de::Error>),
    /// The scenario could not be written back as TOML (overrides applied).
    #[error("scenario: {0}")]
    TomlWrite(#[source] Box<toml::ser::Error>),
    /// A `--set key=value` override could not be applied.
    #[error("--set `{key}`: {detail}")]
    Set { key: String, detail: String },
    /// A setting has a value the engine cannot use.
    #[error("config `{key}`: {detail}")]
    Config { key: String, detail: String },
    /// A time setting (`window.start`, an override's `from`, ...) is not a
    /// time.
    #[error("config `{key}`: {source}")]
    Time {
        key: String,
        #[source]
        source: shortfall_core::TimeError,
    },
    /// Input rows are unusable (e.g. no prices for an asset of the book).
    #[error("input: {0}")]
    Input(String),
    /// A perpetual position of the input is invalid (names its row and
    /// field).
    #[error("input: {0}")]
    PerpPosition(#[source] Box<shortfall_core::PerpPositionError>),
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

// Large sources are boxed: a run's `Result` stays small on the replay's
// hot path.
impl From<toml::de::Error> for ReplayError {
    fn from(e: toml::de::Error) -> Self {
        ReplayError::Toml(Box::new(e))
    }
}

impl From<toml::ser::Error> for ReplayError {
    fn from(e: toml::ser::Error) -> Self {
        ReplayError::TomlWrite(Box::new(e))
    }
}

impl From<shortfall_core::PerpPositionError> for ReplayError {
    fn from(e: shortfall_core::PerpPositionError) -> Self {
        ReplayError::PerpPosition(Box::new(e))
    }
}

/// A time setting's parse error, with its key.
pub(crate) fn time(key: &str) -> impl FnOnce(shortfall_core::TimeError) -> ReplayError + '_ {
    move |source| ReplayError::Time {
        key: key.to_string(),
        source,
    }
}

/// Shorthand for config errors.
pub(crate) fn cfg(key: &str, detail: impl Into<String>) -> ReplayError {
    ReplayError::Config {
        key: key.to_string(),
        detail: detail.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_stay_small_and_keep_their_source() {
        assert!(std::mem::size_of::<ReplayError>() <= 56);
        let e: ReplayError = toml::from_str::<toml::Value>("a = ").unwrap_err().into();
        assert!(std::error::Error::source(&e).is_some());
        assert!(e.to_string().starts_with("scenario: "), "{e}");
        let e = shortfall_core::Micros::parse("soon")
            .map_err(time("window.start"))
            .unwrap_err();
        assert!(std::error::Error::source(&e).is_some());
        assert!(e.to_string().starts_with("config `window.start`: "), "{e}");
    }
}
