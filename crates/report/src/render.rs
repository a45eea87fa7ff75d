//! Renders report models to HTML with tera. The templates and the stylesheet
//! ship in `templates/` (compiled in); `--templates DIR` overrides any of
//! them by file name. Autoescaping is on for every `.html` template, so text
//! from data (token symbols, account names, descriptions) is always escaped;
//! only the CSS and the SVG charts, which this crate produces itself, are
//! inserted raw.

use std::path::Path;

use serde::Serialize;
use tera::{Context, Tera};

use crate::error::ReportError;

/// A page: a view model (also its JSON twin) that one template renders,
/// with the SVG charts drawn from it.
pub trait Page: Serialize {
    /// The template's file name (`report.html`).
    const TEMPLATE: &'static str;
    /// The model's name in the template (`r`).
    const KEY: &'static str;

    /// The page's charts, by their name in the template.
    fn charts(&self) -> Result<Vec<(&'static str, Svg)>, ReportError> {
        Ok(Vec::new())
    }
}

/// The SVG of a chart, or of one chart per item of a list.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Svg {
    One(String),
    Many(Vec<String>),
}

/// Built-in templates, by name.
pub const BUILTIN: &[(&str, &str)] = &[
    ("base.html", include_str!("../../../templates/base.html")),
    (
        "report.html",
        include_str!("../../../templates/report.html"),
    ),
    (
        "compare.html",
        include_str!("../../../templates/compare.html"),
    ),
    (
        "observed.html",
        include_str!("../../../templates/observed.html"),
    ),
    (
        "auctions.html",
        include_str!("../../../templates/auctions.html"),
    ),
    ("sweep.html", include_str!("../../../templates/sweep.html")),
    (
        "stress.html",
        include_str!("../../../templates/stress.html"),
    ),
    (
        "contagion.html",
        include_str!("../../../templates/contagion.html"),
    ),
    ("report.css", include_str!("../../../templates/report.css")),
];

/// A set of templates: the built-ins, some maybe replaced from a folder.
pub struct Templates {
    tera: Tera,
    css: String,
}

impl Templates {
    /// The built-in templates.
    pub fn builtin() -> Result<Templates, ReportError> {
        Templates::load(None)
    }

    /// The built-ins, with any file of `dir` named like one replacing it.
    /// Other `.html` or `.css` files in `dir` are an error (a misspelt
    /// override would otherwise be ignored silently).
    pub fn load(dir: Option<&Path>) -> Result<Templates, ReportError> {
        let mut sources: Vec<(String, String)> = BUILTIN
            .iter()
            .map(|(n, s)| (n.to_string(), s.to_string()))
            .collect();
        if let Some(dir) = dir {
            let entries = std::fs::read_dir(dir).map_err(|e| ReportError::io(dir, e))?;
            let mut names: Vec<_> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect();
            names.sort();
            for p in names {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let known = sources.iter().position(|(n, _)| *n == name);
                match known {
                    Some(i) => {
                        sources[i].1 =
                            std::fs::read_to_string(&p).map_err(|e| ReportError::io(&p, e))?
                    }
                    None if name.ends_with(".html") || name.ends_with(".css") => {
                        return Err(ReportError::Template {
                            name: p.display().to_string(),
                            message: format!(
                                "not a template name of shortfall (known: {})",
                                BUILTIN.iter().map(|b| b.0).collect::<Vec<_>>().join(", ")
                            ),
                        })
                    }
                    None => {}
                }
            }
        }
        let mut tera = Tera::default();
        tera.autoescape_on(vec![".html"]);
        let mut css = String::new();
        let html: Vec<(String, String)> = sources
            .into_iter()
            .filter_map(|(n, s)| {
                if n.ends_with(".css") {
                    css = s;
                    None
                } else {
                    Some((n, s))
                }
            })
            .collect();
        tera.add_raw_templates(html)
            .map_err(|e| ReportError::Template {
                name: "templates".into(),
                message: tera_message(&e),
            })?;
        Ok(Templates { tera, css })
    }

    /// The HTML of a page: its template with the model under the page's
    /// key, the stylesheet and the page's charts.
    pub fn render<P: Page>(&self, page: &P) -> Result<String, ReportError> {
        let mut ctx = Context::new();
        ctx.insert(P::KEY, page);
        ctx.insert("css", &self.css);
        for (k, v) in page.charts()? {
            ctx.insert(k, &v);
        }
        self.tera
            .render(P::TEMPLATE, &ctx)
            .map_err(|e| ReportError::Template {
                name: P::TEMPLATE.into(),
                message: tera_message(&e),
            })
    }
}

/// A tera error with its causes (tera puts the useful part in the sources).
fn tera_message(e: &tera::Error) -> String {
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}
