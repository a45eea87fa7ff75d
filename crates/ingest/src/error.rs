//! Errors that name the file, the line (or row) and the column.

use std::fmt;

/// Where in a file a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// 1-based physical line of a text file.
    Line(u64),
    /// 1-based row (JSON array element, parquet row).
    Row(u64),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(n) => write!(f, "line {n}"),
            Location::Row(n) => write!(f, "row {n}"),
        }
    }
}

/// Everything that can go wrong while ingesting.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The path as given.
        file: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A bad value in one row (skippable with [`crate::OnBadRow::Skip`]).
    #[error("{file}: {location}, column \"{column}\": expected {expected}, found \"{found}\"")]
    BadValue {
        /// File name (or `archive.zip:inner.csv`).
        file: String,
        /// Line or row.
        location: Location,
        /// Column name as in the source.
        column: String,
        /// What a valid value looks like.
        expected: String,
        /// The offending text (shortened).
        found: String,
    },
    /// A row that breaks a rule across columns or rows (OHLC order, conflicting
    /// duplicate); skippable.
    #[error("{file}: {location}, column \"{column}\": {message}")]
    BadRow {
        /// File name (or `archive.zip:inner.csv`).
        file: String,
        /// Line or row.
        location: Location,
        /// Column name as in the source.
        column: String,
        /// What is wrong.
        message: String,
    },
    /// The file as a whole is unusable (empty, wrong delimiter, no matching
    /// header, zip without CSV, mixed symbols, invalid JSON); always fatal.
    #[error("{file}: {message}")]
    Structure {
        /// File name.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// Two inputs disagree about the same key; always fatal in `Fail` mode.
    #[error("{file}: {location}: {message}")]
    Conflict {
        /// File of the later row.
        file: String,
        /// Line or row of the later row.
        location: Location,
        /// Both rows' key and where the earlier one is.
        message: String,
    },
    /// Missing or invalid options (e.g. `--venue` needed).
    #[error("{0}")]
    Options(String),
}

impl IngestError {
    /// Whether `OnBadRow::Skip` may skip the row this error is about.
    pub fn is_row_level(&self) -> bool {
        matches!(
            self,
            IngestError::BadValue { .. }
                | IngestError::BadRow { .. }
                | IngestError::Conflict { .. }
        )
    }

    pub(crate) fn structure(file: &str, message: impl Into<String>) -> Self {
        IngestError::Structure {
            file: file.to_string(),
            message: message.into(),
        }
    }
}
