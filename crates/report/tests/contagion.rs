//! The contagion report: figures (alone, together, the difference and the
//! totals), the exposure graph, the overlap and shared markets, the model
//! and HYPOTHETICAL labels, escaping of hostile text, determinism, and
//! writing both files.

use std::collections::BTreeMap;

use shortfall_core::{
    AccountOverlap, ContagionMember, ContagionMeta, Exposure, Micros, Outcome, SharedMarket, Wad,
};
use shortfall_report::charts;
use shortfall_report::contagion::{
    build_contagion, render_contagion, write_contagion, ContagionOptions, CONTAGION_HTML,
    CONTAGION_REPORT_JSON,
};
use shortfall_report::format as f;

const EVIL: &str = "<script>alert(1)</script>";
const EVIL_ATTR: &str = "\"><img src=x onerror=alert(1)>";

fn usd(n: i64) -> Wad {
    Wad::from_int(n)
}

fn outcome(bad: i64, npl: u64, liq: i64, count: u64, blocked: u64) -> Outcome {
    Outcome {
        bad_debt_usd: usd(bad),
        npl_count: npl,
        liquidated_volume_usd: usd(liq),
        liquidation_count: count,
        penalty_usd: usd(liq / 20),
        blocked_no_liquidity: blocked,
    }
}

fn member(p: &str, generated: bool, alone: Outcome, together: Outcome) -> ContagionMember {
    ContagionMember {
        protocol: p.into(),
        scenario: format!("crises/{p}.toml"),
        sets: vec!["policy.close_factor=0.5".into()],
        preset: "aave_v2".into(),
        positions: 1_000,
        book_generated: generated,
        initial_debt_usd: usd(100_000_000),
        alone,
        together,
        alone_run: format!("alone/{p}"),
        together_run: format!("together/{p}"),
        alone_run_id: format!("{p}-alone-0123456789"),
        together_run_id: format!("{p}-together-0123456789"),
    }
}

fn exposure(p: &str, a: &str, col: i64, debt: i64, shared: bool) -> Exposure {
    Exposure {
        protocol: p.into(),
        asset: a.into(),
        collateral_usd: usd(col),
        debt_usd: usd(debt),
        positions: 10,
        shared,
    }
}

fn sum(v: &[&Outcome]) -> Outcome {
    let mut t = Outcome::default();
    for o in v {
        t.bad_debt_usd += o.bad_debt_usd;
        t.npl_count += o.npl_count;
        t.liquidated_volume_usd += o.liquidated_volume_usd;
        t.liquidation_count += o.liquidation_count;
        t.penalty_usd += o.penalty_usd;
        t.blocked_no_liquidity += o.blocked_no_liquidity;
    }
    t
}

/// Three protocols sharing ETH: aave-like and compound-like lose more
/// together, venus-like (generated book, also holding BNB) does not.
fn meta() -> ContagionMeta {
    let members = vec![
        member(
            "aave-like",
            false,
            outcome(1_000_000, 10, 20_000_000, 200, 0),
            outcome(2_500_000, 25, 24_000_000, 240, 3),
        ),
        member(
            "compound-like",
            false,
            outcome(500_000, 5, 8_000_000, 80, 1),
            outcome(1_250_000, 12, 9_000_000, 90, 4),
        ),
        member(
            "venus-like",
            true,
            outcome(300_000, 3, 2_000_000, 20, 0),
            outcome(300_000, 3, 2_000_000, 20, 0),
        ),
    ];
    let total_alone = sum(&members.iter().map(|m| &m.alone).collect::<Vec<_>>());
    let total_together = sum(&members.iter().map(|m| &m.together).collect::<Vec<_>>());
    let price = |s: &str| Wad::parse_decimal(s, false).unwrap();
    ContagionMeta {
        contagion_id: "c0ffee0123456789".into(),
        name: "eth-lenders".into(),
        title: "ETH lenders, Black Thursday".into(),
        description: Some("Three lenders holding ETH.".into()),
        spec: String::new(),
        spec_text: "name = \"eth-lenders\"\nshared = [\"ETH\"]\n".into(),
        spec_sha256: "ab".repeat(32),
        window_start: Micros::parse("2020-03-12 00:00").unwrap(),
        window_end: Micros::parse("2020-03-13 12:00").unwrap(),
        shared_assets: vec!["ETH".into()],
        liquidity: vec![
            "frictions.liquidity.depth_usd = 5000000".into(),
            "frictions.liquidity.price_impact = 0.5".into(),
        ],
        members,
        exposure: vec![
            exposure("aave-like", "ETH", 60_000_000, 0, true),
            exposure("aave-like", "USDC", 5_000_000, 40_000_000, false),
            exposure("compound-like", "ETH", 30_000_000, 1_000_000, true),
            exposure("compound-like", "DAI", 0, 20_000_000, false),
            exposure("venus-like", "ETH", 10_000_000, 0, true),
            exposure("venus-like", "BNB", 15_000_000, 0, false),
        ],
        account_overlap: vec![AccountOverlap {
            a: "aave-like".into(),
            b: "compound-like".into(),
            accounts: 42,
            debt_a_usd: usd(3_000_000),
            debt_b_usd: usd(1_500_000),
        }],
        markets: vec![SharedMarket {
            asset: "ETH".into(),
            low_alone: BTreeMap::from([
                ("aave-like".to_string(), price("95.5")),
                ("compound-like".to_string(), price("101.25")),
                ("venus-like".to_string(), price("104")),
            ]),
            low_together: Some(price("88.75")),
            low_recorded: Some(price("106.1")),
            sold_alone_usd: BTreeMap::from([
                ("aave-like".to_string(), usd(18_000_000)),
                ("compound-like".to_string(), usd(7_000_000)),
                ("venus-like".to_string(), usd(1_000_000)),
            ]),
            sold_together_usd: BTreeMap::from([
                ("aave-like".to_string(), usd(21_000_000)),
                ("compound-like".to_string(), usd(8_000_000)),
                ("venus-like".to_string(), usd(1_000_000)),
            ]),
        }],
        total_alone,
        total_together,
        hypothetical: Vec::new(),
        sources: BTreeMap::from([(
            "frictions.liquidity.depth_usd".to_string(),
            "Kaiko order books, 2% depth, March 2020".to_string(),
        )]),
        input_hashes: BTreeMap::from([
            ("aave-like/prices".to_string(), "cd".repeat(32)),
            ("compound-like/book".to_string(), "ef".repeat(32)),
        ]),
        version: "0.1.0-test".into(),
    }
}

fn render(meta: &ContagionMeta) -> (String, String) {
    let (_, html, json) = render_contagion(meta, &ContagionOptions::default()).unwrap();
    (html, String::from_utf8(json).unwrap())
}

#[test]
fn figures_alone_together_and_the_difference() {
    let m = meta();
    let r = build_contagion(&m, &ContagionOptions::default()).unwrap();
    let card = |k: &str| r.cards.iter().find(|c| c.key == k).unwrap().value.clone();
    // Alone: 1.0M + 0.5M + 0.3M; together: 2.5M + 1.25M + 0.3M.
    assert_eq!(card("bad_debt_alone"), "$1,800,000");
    assert_eq!(card("bad_debt_alone"), f::usd(m.total_alone.bad_debt_usd));
    assert_eq!(card("bad_debt_together"), "$4,050,000");
    assert_eq!(card("contagion_addon"), "+$2,250,000");
    assert_eq!(card("liquidated_alone"), "$30,000,000");
    assert_eq!(card("liquidated_together"), "$35,000,000");

    assert_eq!(r.members.len(), 3);
    for (row, mm) in r.members.iter().zip(&m.members) {
        assert_eq!(
            row.bad_debt_difference_usd,
            mm.together.bad_debt_usd - mm.alone.bad_debt_usd
        );
        assert_eq!(row.bad_debt_alone_usd, mm.alone.bad_debt_usd);
        assert_eq!(row.bad_debt_together_usd, mm.together.bad_debt_usd);
    }
    let a = &r.members[0];
    assert_eq!(a.protocol, "aave-like");
    assert_eq!(a.preset, "aave_v2");
    assert_eq!(a.positions, "1,000");
    assert_eq!(a.initial_debt_usd, "$100,000,000");
    assert_eq!(
        (a.bad_debt_alone.as_str(), a.bad_debt_together.as_str()),
        ("$1,000,000", "$2,500,000")
    );
    assert_eq!(a.bad_debt_difference, "+$1,500,000");
    assert_eq!(
        (a.npl_alone.as_str(), a.npl_together.as_str()),
        ("10", "25")
    );
    assert_eq!(
        (
            a.liquidations_alone.as_str(),
            a.liquidations_together.as_str()
        ),
        ("200", "240")
    );
    assert_eq!(
        (a.liquidated_alone.as_str(), a.liquidated_together.as_str()),
        ("$20,000,000", "$24,000,000")
    );
    assert_eq!(
        (a.blocked_alone.as_str(), a.blocked_together.as_str()),
        ("0", "3")
    );
    assert_eq!(
        a.alone_report.as_deref(),
        Some("alone/aave-like/report.html")
    );
    assert_eq!(
        a.together_report.as_deref(),
        Some("together/aave-like/report.html")
    );
    assert_eq!(r.members[1].bad_debt_difference, "+$750,000");
    assert_eq!(r.members[2].bad_debt_difference, "$0");

    // The total row: the meta's sums, which are the members' sums.
    let t = &r.total;
    let alone: Wad = m.members.iter().map(|x| x.alone.bad_debt_usd).sum();
    let together: Wad = m.members.iter().map(|x| x.together.bad_debt_usd).sum();
    assert_eq!(t.bad_debt_alone_usd, alone);
    assert_eq!(t.bad_debt_together_usd, together);
    assert_eq!(t.bad_debt_difference_usd, together - alone);
    assert_eq!(t.bad_debt_difference, "+$2,250,000");
    assert_eq!(t.positions, "3,000");
    assert_eq!(t.initial_debt_usd, "$300,000,000");
    assert_eq!(
        (t.npl_alone.as_str(), t.npl_together.as_str()),
        ("18", "40")
    );
    assert_eq!(
        (t.blocked_alone.as_str(), t.blocked_together.as_str()),
        ("1", "7")
    );
    assert!(t.alone_report.is_none() && t.together_report.is_none());

    // Less bad debt together reads as a negative difference.
    let mut less = meta();
    less.total_together.bad_debt_usd = usd(1_000_000);
    let r2 = build_contagion(&less, &ContagionOptions::default()).unwrap();
    let addon = r2
        .cards
        .iter()
        .find(|c| c.key == "contagion_addon")
        .unwrap();
    assert_eq!(addon.value, "-$800,000");
    assert!(r2.summary.contains("$800,000 less"), "{}", r2.summary);

    // The bars are the members' figures.
    assert_eq!(r.bars.len(), 3);
    assert_eq!(r.bars[1].protocol, "compound-like");
    assert_eq!(
        (r.bars[1].alone.as_str(), r.bars[1].together.as_str()),
        ("$500,000", "$1,250,000")
    );
}

#[test]
fn exposure_graph_overlap_and_markets() {
    let m = meta();
    let r = build_contagion(&m, &ContagionOptions::default()).unwrap();
    let g = &r.graph;
    let names = |v: &[shortfall_report::contagion::GraphNode]| {
        v.iter().map(|n| n.name.clone()).collect::<Vec<_>>()
    };
    assert_eq!(
        names(&g.protocols),
        ["aave-like", "compound-like", "venus-like"]
    );
    // Shared assets first, then the others as they come.
    assert_eq!(names(&g.assets), ["ETH", "USDC", "DAI", "BNB"]);
    assert!(g.assets[0].shared && !g.assets[1].shared);
    assert_eq!(g.assets[0].collateral_usd, usd(100_000_000));
    assert_eq!(g.protocols[0].collateral_usd, usd(65_000_000));
    assert_eq!(g.edges.len(), 6);
    assert_eq!(g.max_collateral, "$60,000,000");

    let svg = charts::contagion_exposure_svg(g).unwrap();
    assert!(svg.starts_with("<svg"));
    for n in [
        "aave-like",
        "compound-like",
        "venus-like",
        "ETH",
        "USDC",
        "DAI",
        "BNB",
    ] {
        assert!(svg.contains(&format!(">\n{n}\n</text>")), "{n}");
    }
    // The widest edge (aave-like to ETH) is 24 px.
    assert!(svg.contains("stroke-width=\"24\""));
    assert!(svg.contains("$100M · shared market"));
    assert!(svg.contains("debt only ($20M) · market per protocol"));
    assert_eq!(g.assets[2].debt_usd, usd(20_000_000));
    assert_eq!(svg, charts::contagion_exposure_svg(g).unwrap());

    assert_eq!(r.exposure.len(), 6);
    let e = &r.exposure[1];
    assert_eq!(
        (
            e.protocol.as_str(),
            e.asset.as_str(),
            e.collateral_usd.as_str(),
            e.debt_usd.as_str(),
            e.positions.as_str(),
            e.shared.as_str()
        ),
        ("aave-like", "USDC", "$5,000,000", "$40,000,000", "10", "no")
    );
    assert_eq!(r.exposure[0].shared, "yes");

    assert_eq!(r.overlap.len(), 1);
    assert_eq!(r.overlap[0].accounts, "42");
    assert_eq!(r.overlap[0].debt_a_usd, "$3,000,000");
    assert!(r
        .overlap_note
        .as_deref()
        .unwrap()
        .contains("venus-like are generated"));

    let mk = &r.markets[0];
    assert_eq!(mk.asset, "ETH");
    assert_eq!(mk.low_recorded, "106.10");
    assert_eq!(mk.low_together, "88.75");
    assert_eq!(mk.sold_alone_total_usd, "$26,000,000");
    assert_eq!(mk.sold_together_total_usd, "$30,000,000");
    let p: Vec<(&str, &str, &str, &str)> = mk
        .protocols
        .iter()
        .map(|p| {
            (
                p.protocol.as_str(),
                p.low_alone.as_str(),
                p.sold_alone_usd.as_str(),
                p.sold_together_usd.as_str(),
            )
        })
        .collect();
    assert_eq!(
        p,
        [
            ("aave-like", "95.50", "$18,000,000", "$21,000,000"),
            ("compound-like", "101.25", "$7,000,000", "$8,000,000"),
            ("venus-like", "104.00", "$1,000,000", "$1,000,000"),
        ]
    );

    // Generated books and no overlap: says none is measured.
    let mut gen = meta();
    gen.account_overlap.clear();
    for x in &mut gen.members {
        x.book_generated = true;
    }
    let r = build_contagion(&gen, &ContagionOptions::default()).unwrap();
    assert!(r
        .overlap_note
        .as_deref()
        .unwrap()
        .starts_with("No account overlap is measured: the books of aave-like, compound-like, venus-like are generated"));
    let (html, _) = render(&gen);
    assert!(html.contains("No account overlap is measured"));
    assert!(!html.contains("class=\"overlap-table\""));
}

#[test]
fn html_has_every_section_the_model_label_and_links() {
    let m = meta();
    let (html, json) = render(&m);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<title>Contagion: ETH lenders, Black Thursday (MODEL)</title>"));
    assert!(html.contains("id=\"model-notice\""));
    assert!(html.contains("MODEL: the joint replay is a model, not what happened."));
    assert!(!html.contains("id=\"hypothetical-notice\""));
    assert!(!html.contains("HYPOTHETICAL"));
    for id in [
        "summary",
        "protocols",
        "exposure",
        "overlap",
        "markets",
        "method",
        "provenance",
    ] {
        assert!(html.contains(&format!("<section id=\"{id}\"")), "{id}");
    }
    assert_eq!(html.matches("<svg").count(), 2);
    assert!(html.contains("href=\"alone&#x2F;aave-like&#x2F;report.html\""));
    assert!(html.contains("href=\"together&#x2F;venus-like&#x2F;report.html\""));
    assert!(html.contains("2020-03-12 00:00:00 UTC to 2020-03-13 12:00:00 UTC"));
    assert!(html.contains("+$2,250,000"));
    assert!(html.contains("frictions.liquidity.price_impact = 0.5"));
    assert!(html.contains("Kaiko order books, 2% depth, March 2020"));
    assert!(html.contains(&"ab".repeat(32)));
    assert!(html.contains("shortfall contagion --spec &lt;file&gt;"));
    assert!(html.contains("c0ffee0123456789"));
    assert!(html.contains("next market print"));
    assert!(html.contains("Only the market of the shared assets."));
    assert!(html.contains("name = &quot;eth-lenders&quot;"));
    assert!(html.contains(&"cd".repeat(32)));
    let lower = html.to_lowercase();
    for banned in ["<script", "<link", "<img", "<iframe", "@import", "url("] {
        assert!(!lower.contains(banned), "found {banned}");
    }
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["contagion_id"], "c0ffee0123456789");
    assert_eq!(v["total"]["bad_debt_difference"], "+$2,250,000");
    assert_eq!(v["members"][0]["bad_debt_together_usd"], "2500000");

    // Hypothetical members: labelled, with every line.
    let mut h = meta();
    h.hypothetical = vec![
        "aave-like: shock ETH -20%".into(),
        "venus-like: generated book (400 vaults, seed 7)".into(),
    ];
    let (html, _) = render(&h);
    assert!(html.contains("(MODEL, HYPOTHETICAL)</title>"));
    assert!(html.contains("id=\"hypothetical-notice\""));
    assert!(html.contains("<li>aave-like: shock ETH -20%</li>"));
    assert!(html.contains("<li>venus-like: generated book (400 vaults, seed 7)</li>"));
}

#[test]
fn text_from_data_is_escaped_everywhere() {
    let mut m = meta();
    m.title = EVIL_ATTR.into();
    m.description = Some(EVIL.into());
    m.spec_text = format!("# {EVIL}\nname = \"{EVIL_ATTR}\"\n");
    m.members[0].protocol = EVIL.into();
    m.members[0].alone_run = format!("alone/{EVIL_ATTR}");
    m.members[0].together_run = format!("together/{EVIL}");
    m.members[1].protocol = EVIL_ATTR.into();
    m.members[1].sets = vec![EVIL.into()];
    m.members[1].preset = EVIL_ATTR.into();
    m.exposure[0].protocol = EVIL.into();
    m.exposure[1].asset = EVIL_ATTR.into();
    m.exposure[2].protocol = EVIL_ATTR.into();
    m.exposure[5].asset = EVIL.into();
    m.shared_assets = vec![EVIL.into()];
    m.markets[0].asset = EVIL_ATTR.into();
    m.markets[0].low_alone.insert(EVIL.into(), Wad::from_int(1));
    m.account_overlap[0].a = EVIL.into();
    m.hypothetical = vec![EVIL_ATTR.into()];
    m.liquidity = vec![EVIL.into()];
    m.sources.insert(EVIL.into(), EVIL_ATTR.into());
    m.input_hashes.insert(EVIL_ATTR.into(), EVIL.into());
    let (html, json) = render(&m);
    for raw in [EVIL, EVIL_ATTR, "<script", "<img", "onerror=alert(1)>"] {
        assert!(!html.contains(raw), "raw {raw} in the HTML");
    }
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;")
            || html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    // The spec text in its <pre>, escaped.
    assert!(html.contains("# &lt;script&gt;alert(1)&lt;&#x2F;script&gt;"));
    // Both charts draw the hostile names, escaped by the SVG backend.
    let r = build_contagion(&m, &ContagionOptions::default()).unwrap();
    let svg = charts::contagion_exposure_svg(&r.graph).unwrap();
    assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(svg.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    assert!(!svg.contains(EVIL) && !svg.contains(EVIL_ATTR));
    let bars = charts::contagion_bad_debt_svg(&r.bars).unwrap();
    assert!(bars.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!bars.contains(EVIL) && !bars.contains(EVIL_ATTR));
    // Links from data are percent-encoded relative paths.
    assert!(html.contains(
        "href=\"alone&#x2F;%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E&#x2F;report.html\""
    ));
    // The JSON keeps the text as it is.
    assert!(json.contains("<script>alert(1)</script>"));
    let lower = html.to_lowercase();
    for banned in [
        "<script", "<link", "<img", "<iframe", "<object", "<embed", "@import", "url(",
    ] {
        assert!(!lower.contains(banned), "found {banned}");
    }
}

#[test]
fn same_inputs_give_the_same_bytes() {
    let m = meta();
    let (a, ja) = render(&m);
    let (b, jb) = render(&m);
    assert_eq!(a, b);
    assert_eq!(ja, jb);
    assert!(!a.contains("generated 20"), "no timestamp unless asked");
    let opts = ContagionOptions {
        timestamp: Some("2024-01-02 03:04 UTC".into()),
        ..ContagionOptions::default()
    };
    let (_, c, _) = render_contagion(&m, &opts).unwrap();
    assert!(c.contains("generated 2024-01-02 03:04 UTC"));
}

#[test]
fn no_shared_market_and_no_exposure_still_render() {
    let mut m = meta();
    m.shared_assets.clear();
    m.markets.clear();
    m.exposure.clear();
    m.account_overlap.clear();
    m.liquidity.clear();
    m.sources.clear();
    let r = build_contagion(&m, &ContagionOptions::default()).unwrap();
    assert!(r.graph.edges.is_empty());
    assert_eq!(charts::contagion_exposure_svg(&r.graph).unwrap(), "");
    let (html, _) = render(&m);
    assert!(html.contains("No exposure recorded."));
    assert!(html.contains("No shared market"));
    assert!(html.contains("The spec sets no liquidity"));
    assert_eq!(html.matches("<svg").count(), 1);
    // Zero bad debt everywhere: the chart still draws.
    for x in &mut m.members {
        x.alone = Outcome::default();
        x.together = Outcome::default();
    }
    let r = build_contagion(&m, &ContagionOptions::default()).unwrap();
    assert!(charts::contagion_bad_debt_svg(&r.bars)
        .unwrap()
        .starts_with("<svg"));
}

#[test]
fn writes_both_files_atomically() {
    let m = meta();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("contagion.json"), "{\"meta\": true}").unwrap();
    let out = dir.path().join("eth-lenders");
    let (report, w) = write_contagion(&m, &out, &ContagionOptions::default()).unwrap();
    assert_eq!(w.html, out.join(CONTAGION_HTML));
    assert_eq!(w.json, out.join(CONTAGION_REPORT_JSON));
    let html = std::fs::read_to_string(&w.html).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&w.json).unwrap()).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(json["contagion_id"], report.contagion_id);
    let (_, html2, json2) = render_contagion(&m, &ContagionOptions::default()).unwrap();
    assert_eq!(html, html2);
    assert_eq!(std::fs::read(&w.json).unwrap(), json2);
    // Written again over the old files: replaced, nothing left behind.
    write_contagion(&m, &out, &ContagionOptions::default()).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [CONTAGION_REPORT_JSON, CONTAGION_HTML]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("contagion.json")).unwrap(),
        "{\"meta\": true}",
        "the meta is left alone"
    );
}

#[test]
fn templates_folder_overrides_the_contagion_template() {
    let m = meta();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("contagion.html"),
        "{% extends \"base.html\" %}{% block body %}<p>custom {{ c.contagion_id }} {{ c.total.bad_debt_difference }}</p>{% endblock body %}",
    )
    .unwrap();
    let opts = ContagionOptions {
        templates: Some(dir.path().to_path_buf()),
        ..ContagionOptions::default()
    };
    let (_, html, _) = render_contagion(&m, &opts).unwrap();
    assert!(html.contains("<p>custom c0ffee0123456789 +$2,250,000</p>"));
}

/// Byte-level guard (see `pinned.rs`): the sha256 of the HTML and of the
/// JSON twin of fixed contagions, pinned.
#[test]
fn pinned_bytes() {
    use sha2::Digest;
    let sha = |b: &[u8]| hex::encode(sha2::Sha256::digest(b));
    let (html, json) = render(&meta());
    assert_eq!(
        (sha(html.as_bytes()), sha(json.as_bytes())),
        (
            "23f0ef1b838d60d8c9451565e6b9272308cda389c5b2fec5bbbecb78458a83d9".to_string(),
            "99d2b3a32a0a87de07fc49362328d94a2e95a4facc363736712ae9800711b398".to_string()
        ),
        "contagion: pinned bytes moved (html, json)"
    );
    // Hypothetical, no overlap, a generated book, hostile names.
    let mut m = meta();
    m.hypothetical = vec![format!("aave-like: vol_scale 1.5 {EVIL}")];
    m.account_overlap.clear();
    m.members[0].protocol = EVIL_ATTR.into();
    m.exposure[0].protocol = EVIL_ATTR.into();
    m.members[1].sets = vec!["policy.close_factor=1".into()];
    m.total_together.bad_debt_usd = m.total_alone.bad_debt_usd;
    let (html, json) = render(&m);
    assert_eq!(
        (sha(html.as_bytes()), sha(json.as_bytes())),
        (
            "dfcc8d5b4122b5d293971ada9894464e56195ad6441d166e14621098fc7fced2".to_string(),
            "b044a6663a51ca2357fe6f9b990c8ed2b850844b0ee3b6959d938135cf91ebb8".to_string()
        ),
        "contagion hypothetical: pinned bytes moved (html, json)"
    );
}
