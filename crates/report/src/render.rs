//! Renders report models to HTML with tera. The templates and the stylesheet
//! ship in `templates/` (compiled in); `--templates DIR` overrides any of
//! them by file name. Autoescaping is on for every `.html` template, so text
//! from data (token symbols, account names, descriptions) is always escaped;
//! only the CSS and the SVG charts, which this crate produces itself, are
//! inserted raw.

use std::path::Path;

use serde::Serialize;
use tera::{Context, Tera};

use crate::model::{Compare, Report};
use crate::observed::ObservedReport;
use crate::{charts, ReportError};

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

    fn render<T: Serialize>(
        &self,
        name: &str,
        key: &str,
        model: &T,
        charts: &[(&str, String)],
    ) -> Result<String, ReportError> {
        let mut ctx = Context::new();
        ctx.insert(key, model);
        ctx.insert("css", &self.css);
        for (k, v) in charts {
            ctx.insert(*k, v);
        }
        self.tera
            .render(name, &ctx)
            .map_err(|e| ReportError::Template {
                name: name.into(),
                message: tera_message(&e),
            })
    }

    /// The HTML of a run report.
    pub fn render_report(&self, r: &Report) -> Result<String, ReportError> {
        let fund = match &r.perp {
            Some(p) => charts::perp_fund_svg(&p.fund)?,
            None => String::new(),
        };
        let charts = [
            ("timeline_svg", charts::timeline_svg(&r.timeline)?),
            ("waterfall_svg", charts::waterfall_svg(&r.waterfall)?),
            ("perp_fund_svg", fund),
        ];
        self.render("report.html", "r", r, &charts)
    }

    /// The HTML of an observed-liquidations report.
    pub fn render_observed(&self, o: &ObservedReport) -> Result<String, ReportError> {
        let charts = [(
            "observed_svg",
            charts::observed_svg(&o.days, o.price_unit.as_deref())?,
        )];
        self.render("observed.html", "o", o, &charts)
    }

    /// The HTML of a sweep report; `frontier_svgs`: one chart per crisis.
    pub fn render_sweep(
        &self,
        s: &crate::sweep::SweepReport,
        frontier_svgs: &[String],
    ) -> Result<String, ReportError> {
        let mut ctx = Context::new();
        ctx.insert("s", s);
        ctx.insert("css", &self.css);
        ctx.insert("frontier_svgs", frontier_svgs);
        self.tera
            .render("sweep.html", &ctx)
            .map_err(|e| ReportError::Template {
                name: "sweep.html".into(),
                message: tera_message(&e),
            })
    }

    /// The HTML of a stress report; `histogram_svgs`: one per histogram.
    pub fn render_stress(
        &self,
        s: &crate::stress::StressReport,
        histogram_svgs: &[String],
    ) -> Result<String, ReportError> {
        let mut ctx = Context::new();
        ctx.insert("s", s);
        ctx.insert("css", &self.css);
        ctx.insert("histogram_svgs", histogram_svgs);
        self.tera
            .render("stress.html", &ctx)
            .map_err(|e| ReportError::Template {
                name: "stress.html".into(),
                message: tera_message(&e),
            })
    }

    /// The HTML of a contagion report with its two charts.
    pub fn render_contagion(
        &self,
        c: &crate::contagion::ContagionReport,
        exposure_svg: &str,
        bad_debt_svg: &str,
    ) -> Result<String, ReportError> {
        let mut ctx = Context::new();
        ctx.insert("c", c);
        ctx.insert("css", &self.css);
        ctx.insert("exposure_svg", exposure_svg);
        ctx.insert("bad_debt_svg", bad_debt_svg);
        self.tera
            .render("contagion.html", &ctx)
            .map_err(|e| ReportError::Template {
                name: "contagion.html".into(),
                message: tera_message(&e),
            })
    }

    /// The HTML of a comparison.
    pub fn render_compare(&self, c: &Compare) -> Result<String, ReportError> {
        self.render("compare.html", "c", c, &[])
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
