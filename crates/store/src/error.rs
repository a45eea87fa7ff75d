use std::path::PathBuf;

/// Errors of the store. Each names the file and, where it applies, the row and column.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: parquet: {source}")]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("{path}: row {row}, column \"{column}\": {message}")]
    BadValue {
        path: PathBuf,
        row: usize,
        column: String,
        message: String,
    },
    #[error("{path}: {message}")]
    BadFile { path: PathBuf, message: String },
    #[error("{path}: manifest: {message}")]
    Manifest { path: PathBuf, message: String },
    #[error(
        "unknown table `{0}` (known: prices, oracle_rounds, events, liquidations, loans, series)"
    )]
    UnknownTable(String),
    #[error("{table}: key {key} has different values in {existing} and {incoming}; remove one source or narrow --window")]
    Conflict {
        table: String,
        key: String,
        existing: String,
        incoming: String,
    },
    #[error("verification failed:\n{0}")]
    Verify(String),
    #[cfg(feature = "catalog")]
    #[error("duckdb: {0}")]
    DuckDb(#[from] duckdb::Error),
}

impl StoreError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io {
            path: path.into(),
            source,
        }
    }
}
