//! Typed, in-memory output tables of a run (the CLI writes them to parquet
//! and JSON; this crate does no file I/O). The data types live in
//! [`shortfall_core::run`] so readers of runs need not depend on the engine.

pub use shortfall_core::run::*;
