mod common;

use common::*;
use shortfall_report::{build_report, render_run, ReportOptions, Templates};

fn render(run: &shortfall_store::RunData) -> (shortfall_report::Report, String, String) {
    let t = Templates::builtin().unwrap();
    let (r, html, json) = render_run(run, &t, &ReportOptions::default()).unwrap();
    (r, html, String::from_utf8(json).unwrap())
}

#[test]
fn the_report_has_every_section_and_the_key_numbers() {
    let run = make_run("ETH", None);
    assert!(
        run.summary.bad_debt_usd > shortfall_core::Wad::ZERO,
        "fixture must lose money"
    );
    assert!(run.summary.liquidation_count > 0);
    let (r, html, _) = render(&run);
    for id in [
        "summary",
        "timeline",
        "waterfall",
        "npl",
        "attribution",
        "liquidations",
        "settings",
        "provenance",
        "methodology",
    ] {
        assert!(
            html.contains(&format!("<section id=\"{id}\"")),
            "section {id}"
        );
    }
    let bad = r.headline.iter().find(|f| f.key == "bad_debt_usd").unwrap();
    assert_eq!(
        bad.display,
        shortfall_report::format::usd(run.summary.bad_debt_usd)
    );
    assert!(html.contains(&bad.display));
    assert_eq!(r.npl.total, run.summary.npl_count.to_string());
    assert_eq!(r.npl.rows.len() as u64, run.summary.npl_count.min(50));
    // Sorted by shortfall, largest first.
    let v: Vec<shortfall_core::Wad> = r
        .npl
        .rows
        .iter()
        .map(|n| n.shortfall_value.parse().unwrap())
        .collect();
    assert!(v.windows(2).all(|w| w[0] >= w[1]));
    // Two charts, drawn inline.
    assert_eq!(html.matches("<svg").count(), 2);
    // The reference row says where the replayed figure stands.
    assert_eq!(r.references.len(), 2);
    assert!(r.references[0].verdict.contains("range"));
    assert_eq!(r.references[1].replayed, "not measured");
    // A snapshot book says so; the command line is shell-quoted.
    assert!(!r.book.generated);
    assert_eq!(
        r.provenance.command,
        "shortfall replay --scenario 'it'\\''s here.toml'"
    );
}

#[test]
fn self_contained_and_printable() {
    let (_, html, _) = render(&make_run("ETH", None));
    let lower = html.to_lowercase();
    for banned in [
        "<script", "<link", "<img", "<iframe", "<object", "<embed", "@import", "url(",
    ] {
        assert!(!lower.contains(banned), "found {banned}");
    }
    // No tag loads anything or links out (text may mention URLs).
    // No tag loads anything or links out: attribute names outside quoted
    // values (escaped text inside a value is inert).
    for tag in lower
        .split('<')
        .skip(1)
        .map(|t| t.split('>').next().unwrap())
    {
        let names: String = tag.split('"').step_by(2).collect();
        assert!(
            !names.contains("src=") && !names.contains("href=http"),
            "tag <{tag}>"
        );
        if let Some(i) = tag.find("href=\"") {
            assert!(
                tag[i + 6..].starts_with('#'),
                "link out of the page: <{tag}>"
            );
        }
    }
    assert!(html.contains("Content-Security-Policy"));
    assert!(html.contains("default-src 'none'"));
    assert!(html.contains("@media print"));
    assert!(html.contains("size: A4"));
}

#[test]
fn text_from_data_is_escaped_everywhere() {
    let run = make_run(EVIL, None);
    let (_, html, json) = render(&run);
    // Neither the symbol, the account, the description nor the reference
    // source can open a tag or an attribute.
    assert!(!html.contains("<script>"), "raw script tag in the HTML");
    assert!(!html.contains("<img"), "raw img tag in the HTML");
    assert!(!html.contains("<b>bold</b>"));
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;")
            || html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );
    // In the SVG charts (plotters escapes text) too.
    let svg_start = html.find("<svg").unwrap();
    let svg = &html[svg_start..];
    assert!(
        svg.contains("&lt;script&gt;"),
        "symbol in the chart title, escaped"
    );
    // The JSON twin keeps the raw text (it is data, not markup).
    assert!(json.contains("<script>alert(1)</script>"));
}

#[test]
fn byte_stable_without_a_timestamp() {
    let run = make_run("ETH", None);
    let (_, a, ja) = render(&run);
    let (_, b, jb) = render(&make_run("ETH", None));
    assert_eq!(a, b);
    assert_eq!(ja, jb);
    assert!(!a.contains("generated 20"));
    let t = Templates::builtin().unwrap();
    let opts = ReportOptions {
        timestamp: Some("2026-11-24 20:00 UTC".into()),
        ..ReportOptions::default()
    };
    let (r, html, _) = render_run(&run, &t, &opts).unwrap();
    assert_eq!(r.generated_at.as_deref(), Some("2026-11-24 20:00 UTC"));
    assert!(html.contains("generated 2026-11-24 20:00 UTC"));
}

/// `s` without the spans from `open` to `close`.
fn strip(s: &str, open: &str, close: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(open) {
        out.push_str(&rest[..i]);
        let j = rest[i..].find(close).expect("closed") + i + close.len();
        rest = &rest[j..];
    }
    out.push_str(rest);
    out
}

/// Every number the HTML shows as text (outside the charts and the
/// stylesheet) is a string of the JSON twin.
#[test]
fn the_html_shows_no_number_the_json_lacks() {
    let (_, html, json) = render(&make_run("ETH", None));
    let text = strip(&strip(&html, "<style>", "</style>"), "<svg", "</svg>");
    let mut plain = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                plain.push(' ');
            }
            _ if !in_tag => plain.push(c),
            _ => {}
        }
    }
    let plain = plain
        .replace("&#x2F;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    let json_text = json.replace("\\\"", "\"");
    let mut checked = 0;
    for tok in plain.split(|c: char| c.is_whitespace() || "()[]{};".contains(c)) {
        let t = tok.trim_matches(|c: char| c == ',' || c == '.' || c == ':');
        if !t.chars().any(|c| c.is_ascii_digit()) {
            continue;
        }
        checked += 1;
        assert!(
            json_text.contains(t),
            "`{t}` is in the HTML but not in report.json"
        );
    }
    assert!(checked > 100, "only {checked} numbers checked");
}

#[test]
fn templates_can_be_overridden_by_name_and_typos_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("report.html"),
        "<p>{{ r.title }}: {{ r.headline.0.display }}</p>",
    )
    .unwrap();
    let t = Templates::load(Some(dir.path())).unwrap();
    let run = make_run(EVIL, None);
    let (r, html, _) = render_run(&run, &t, &ReportOptions::default()).unwrap();
    assert_eq!(
        html,
        format!(
            "<p>Gap crash &lt;script&gt;alert(1)&lt;&#x2F;script&gt;: {}</p>",
            r.headline[0].display
        )
    );
    std::fs::write(dir.path().join("reprot.html"), "x").unwrap();
    let e = Templates::load(Some(dir.path())).err().unwrap().to_string();
    assert!(
        e.contains("reprot.html") && e.contains("not a template name"),
        "{e}"
    );
    let bad = tempfile::tempdir().unwrap();
    std::fs::write(bad.path().join("report.html"), "{% if %}").unwrap();
    let e = Templates::load(Some(bad.path())).err().unwrap().to_string();
    assert!(e.contains("template"), "{e}");
}

#[test]
fn top_n_limits_the_npl_table_but_not_its_totals() {
    let run = make_run("ETH", None);
    let opts = ReportOptions {
        top_n: 3,
        ..ReportOptions::default()
    };
    let r = build_report(&run, &opts).unwrap();
    assert_eq!(r.npl.rows.len(), 3);
    assert_eq!(r.npl.total, run.summary.npl_count.to_string());
    assert_eq!(r.npl.rows[0].rank, "1");
}

/// A stressed run: the notice at the top lists every change, escaped; the
/// title says hypothetical; the published figures are not compared.
#[test]
fn a_hypothetical_run_says_so_first_and_escaped() {
    let coll = EVIL;
    let extra = format!(
        "[[transforms]]\nkind = \"vol_scale\"\nfactor = 1.5\nassets = [\"{coll}\"]\n\
[[oracle.overrides]]\nasset = \"{coll}\"\nkind = \"freeze\"\nfrom = \"2020-03-12 02:00\"\n"
    );
    let run = make_run_with(coll, None, &extra);
    assert_eq!(run.summary.hypothetical.len(), 2);
    let (r, html, json) = render(&run);
    assert!(r.title.ends_with("(hypothetical scenario)"), "{}", r.title);
    let notice = html
        .find("HYPOTHETICAL SCENARIO: not what happened")
        .unwrap();
    assert!(
        notice < html.find("id=\"summary\"").unwrap(),
        "the notice comes first"
    );
    assert!(html.contains("id=\"hypothetical-notice\""));
    assert!(html.contains(
        "every return of &lt;script&gt;alert(1)&lt;&#x2F;script&gt; x 1.5 (volatility scaling"
    ));
    assert!(html.contains("oracle of &lt;script&gt;alert(1)&lt;&#x2F;script&gt; frozen from"));
    assert!(!html.contains("<script>"), "raw script tag in the HTML");
    assert!(html.contains("The comparison does not apply to a hypothetical run"));
    for x in &r.references {
        if x.replayed != "not measured" {
            assert!(x.verdict.starts_with("does not apply"), "{}", x.verdict);
            assert_eq!(x.difference, "-");
        }
    }
    assert!(json.contains("\"hypothetical\": ["), "{json}");
    // A plain run shows none of it.
    let (r, html, json) = render(&make_run("ETH", None));
    assert!(r.hypothetical.is_empty() && !r.title.contains("hypothetical"));
    assert!(!html.contains("HYPOTHETICAL") && !html.contains("hypothetical run"));
    assert!(!json.contains("hypothetical"));
}
