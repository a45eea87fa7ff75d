//! `shortfall query`: DuckDB SQL over a dataset.

use std::process::ExitCode;

use shortfall_store::catalog::{self, Catalog, OutputFormat};
use shortfall_store::Dataset;

use crate::cli::{Global, QueryArgs, QueryFormat};

pub fn run(_g: &Global, args: QueryArgs) -> anyhow::Result<ExitCode> {
    let ds = Dataset::open(&args.dataset)?;
    let mut cat = Catalog::in_memory()?;
    cat.attach_dataset(&ds, None)?;
    let result = cat.query(&args.sql)?;
    let format = match args.format {
        QueryFormat::Table => OutputFormat::Table,
        QueryFormat::Csv => OutputFormat::Csv,
        QueryFormat::Json => OutputFormat::Json,
    };
    let text = catalog::render(&result, format)?;
    print!("{text}");
    if format == OutputFormat::Table {
        println!("\n{} rows", result.num_rows());
    }
    Ok(ExitCode::SUCCESS)
}
