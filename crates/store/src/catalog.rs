//! The DuckDB catalog: SQL over the tables of datasets and runs.
//!
//! Every table file becomes a view (`CREATE VIEW prices AS SELECT * FROM
//! read_parquet(...)`); DuckDB's parquet reader is compiled in, so nothing is
//! installed or downloaded at run time.

use std::path::Path;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use duckdb::Connection;

use crate::{Dataset, StoreError};

/// An in-memory DuckDB database with views over parquet files.
pub struct Catalog {
    conn: Connection,
    views: Vec<String>,
}

/// How query results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Csv,
    Json,
}

/// A query result: schema (kept for empty results) and batches.
pub struct QueryResult {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

impl QueryResult {
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }
}

/// Quotes an SQL identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes an SQL string literal.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

impl Catalog {
    /// A fresh in-memory catalog.
    pub fn in_memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory()?;
        Ok(Catalog {
            conn,
            views: Vec::new(),
        })
    }

    /// Adds a view named `name` over a parquet file (or a glob of files).
    pub fn attach_parquet(&mut self, name: &str, path: &Path) -> Result<(), StoreError> {
        let sql = format!(
            "CREATE OR REPLACE VIEW {} AS SELECT * FROM read_parquet({})",
            quote_ident(name),
            quote_literal(&path.to_string_lossy())
        );
        self.conn.execute_batch(&sql)?;
        self.views.push(name.to_string());
        Ok(())
    }

    /// Adds one view per table of a dataset, named after the table, with
    /// `prefix_` before it when given.
    pub fn attach_dataset(&mut self, ds: &Dataset, prefix: Option<&str>) -> Result<(), StoreError> {
        for (name, entry) in &ds.manifest().tables {
            let view = match prefix {
                Some(p) => format!("{p}_{name}"),
                None => name.clone(),
            };
            self.attach_parquet(&view, &ds.dir().join(&entry.file))?;
        }
        Ok(())
    }

    /// Names of the views, in the order they were attached.
    pub fn views(&self) -> &[String] {
        &self.views
    }

    /// Runs SQL (one or more statements; the last one's result is returned).
    pub fn query(&self, sql: &str) -> Result<QueryResult, StoreError> {
        let mut stmt = self.conn.prepare(sql)?;
        let arrow = stmt.query_arrow([])?;
        let schema = arrow.get_schema();
        let batches: Vec<RecordBatch> = arrow.collect();
        Ok(QueryResult { schema, batches })
    }

    /// Runs statements without a result (e.g. `COPY ... TO ...`).
    pub fn execute(&self, sql: &str) -> Result<(), StoreError> {
        self.conn.execute_batch(sql)?;
        Ok(())
    }
}

/// Renders a result as an ASCII table, CSV (with header) or a JSON array of objects.
pub fn render(result: &QueryResult, format: OutputFormat) -> Result<String, StoreError> {
    match format {
        OutputFormat::Table => {
            if result.batches.is_empty() {
                let empty = RecordBatch::new_empty(result.schema.clone());
                return Ok(arrow::util::pretty::pretty_format_batches(&[empty])?.to_string());
            }
            Ok(arrow::util::pretty::pretty_format_batches(&result.batches)?.to_string())
        }
        OutputFormat::Csv => {
            let mut buf = Vec::new();
            {
                let mut w = arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(&mut buf);
                if result.batches.is_empty() {
                    w.write(&RecordBatch::new_empty(result.schema.clone()))?;
                }
                for b in &result.batches {
                    w.write(b)?;
                }
            }
            Ok(String::from_utf8_lossy(&buf).into_owned())
        }
        OutputFormat::Json => {
            let mut buf = Vec::new();
            {
                let mut w = arrow::json::ArrayWriter::new(&mut buf);
                let refs: Vec<&RecordBatch> = result.batches.iter().collect();
                w.write_batches(&refs)?;
                w.finish()?;
            }
            let mut s = String::from_utf8_lossy(&buf).into_owned();
            if s.is_empty() {
                s.push_str("[]");
            }
            s.push('\n');
            Ok(s)
        }
    }
}
