//! Canonical tables, parquet I/O, dataset manifests and the DuckDB catalog.
//!
//! Every canonical table is one module under [`tables`] with its Arrow schema,
//! encoder and decoder, registered in [`tables::TABLES`]; `shortfall datasets
//! schema` and `datasets/README.md` are both generated from that registry.

pub mod dataset;
pub mod error;
pub mod manifest;
pub mod parquet_io;
pub mod run_dir;
pub mod stress_io;
pub mod sweep_io;
pub mod tables;

#[cfg(feature = "catalog")]
pub mod catalog;

pub use dataset::{AddReport, Dataset};
pub use error::StoreError;
pub use manifest::{Manifest, TableEntry};
pub use run_dir::{read_run, read_run_without_events, write_run, RunData, RunJson};
pub use stress_io::{encode_stress, read_stress};
pub use sweep_io::{encode_sweep, read_sweep};
pub use tables::{TableDef, TABLES};
