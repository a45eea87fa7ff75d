//! A page's files: the HTML and its JSON twin, each written atomically
//! (temporary file, then rename), the folder created.

use std::path::{Path, PathBuf};

use crate::error::ReportError;
use crate::render::{Page, Templates};

/// Default file names in a run folder.
pub const REPORT_HTML: &str = "report.html";
pub const REPORT_JSON: &str = "report.json";

/// Paths of a written report.
#[derive(Debug, Clone)]
pub struct Written {
    pub html: PathBuf,
    pub json: PathBuf,
}

/// The JSON twin's path of an HTML path: same name, `.json`.
pub fn json_twin(html: &Path) -> PathBuf {
    html.with_extension("json")
}

/// The JSON twin's bytes: pretty JSON and a final newline.
pub fn json_bytes<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, ReportError> {
    let mut b = serde_json::to_vec_pretty(v)?;
    b.push(b'\n');
    Ok(b)
}

/// A page's HTML and its JSON twin.
pub fn html_and_json<P: Page>(
    templates: &Templates,
    page: &P,
) -> Result<(String, Vec<u8>), ReportError> {
    Ok((templates.render(page)?, json_bytes(page)?))
}

/// Writes a report's HTML and its JSON twin, each atomically, creating the
/// folder.
pub fn write_files(
    html_path: &Path,
    html: &str,
    json_path: &Path,
    json: &[u8],
) -> Result<Written, ReportError> {
    if let Some(p) = html_path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(p).map_err(|e| ReportError::io(p, e))?;
    }
    shortfall_store::parquet_io::write_atomic(json_path, json)?;
    shortfall_store::parquet_io::write_atomic(html_path, html.as_bytes())?;
    Ok(Written {
        html: html_path.to_path_buf(),
        json: json_path.to_path_buf(),
    })
}

/// [`write_files`] with the JSON twin beside the HTML ([`json_twin`]).
pub fn write_pair(html_path: &Path, html: &str, json: &[u8]) -> Result<Written, ReportError> {
    write_files(html_path, html, &json_twin(html_path), json)
}
