//! The sweep report: analysis (Pareto frontier, best policies, across
//! crises) on worked examples, the HTML's sections and figures, escaping of
//! hostile text, determinism, and small grids.

use std::collections::BTreeMap;

use shortfall_core::sweep::{SweepMeta, SweepParam, SweepRow, SweepScenario};
use shortfall_core::Wad;
use shortfall_report::format as f;
use shortfall_report::sweep::{
    across, best, build_sweep, pareto, render_sweep, write_sweep, SweepOptions, SWEEP_HTML,
    SWEEP_REPORT_JSON,
};

const EVIL: &str = "<script>alert(1)</script>";
const EVIL_ATTR: &str = "\"><img src=x onerror=alert(1)>";
const LT: &str = "policy.assets.ETH.liquidation_threshold";
const CF: &str = "policy.close_factor";

fn usd(n: i64) -> Wad {
    Wad::from_int(n)
}

fn row(
    variant: u32,
    scenario: &str,
    params: &[(&str, &str)],
    bad: i64,
    liq: i64,
    pen: i64,
) -> SweepRow {
    SweepRow {
        variant,
        variant_id: if variant == u32::MAX {
            "base".into()
        } else {
            format!("v{variant}-{:08x}", variant.wrapping_mul(2_654_435_761))
        },
        scenario: scenario.into(),
        params: params
            .iter()
            .map(|(k, v)| SweepParam {
                key: k.to_string(),
                value: v.to_string(),
            })
            .collect(),
        run_id: format!("run-{scenario}-{variant}"),
        positions: 100,
        initial_debt_usd: usd(10_000_000),
        bad_debt_usd: usd(bad),
        npl_count: (bad / 50_000) as u64,
        liquidated_volume_usd: usd(liq),
        liquidation_count: (liq / 10_000) as u64,
        penalty_usd: usd(pen),
        protocol_fees_usd: usd(pen / 10),
        reserves_drawdown_usd: usd(bad / 2),
    }
}

/// Bare rows for the analysis: (variant, bad debt, liquidated, penalty).
fn bare(v: u32, bad: i64, liq: i64, pen: i64) -> SweepRow {
    row(v, "s", &[], bad, liq, pen)
}

fn scenario(name: &str, title: &str, base: SweepRow, generated: bool) -> SweepScenario {
    SweepScenario {
        name: name.into(),
        title: title.into(),
        source: format!("crisis pack {name}"),
        base_config_sha256: format!("{:0>64}", name.len()),
        input_hashes: BTreeMap::from([
            ("prices".to_string(), "ab".repeat(32)),
            ("book".to_string(), "cd".repeat(32)),
        ]),
        book_origin: if generated {
            "generated: 400 vaults, seed 7".into()
        } else {
            "snapshot book.parquet".into()
        },
        book_generated: generated,
        baseline: base,
    }
}

const LTS: [&str; 3] = ["0.8", "0.825", "0.85"];
const CFS: [&str; 3] = ["0.5", "0.75", "1.0"];

/// Bad debt of variant (i, j) (threshold i, close factor j) in crisis 0
/// and 1; liquidated volume and penalty.
fn figures(s: usize, i: usize, j: usize) -> (i64, i64, i64) {
    let (i, j) = (i as i64, j as i64);
    let bad = if s == 0 {
        100_000 * (1 + i + 2 * (2 - j))
    } else {
        50_000 * (1 + (2 - i) + j)
    };
    let liq = 1_000_000 * (1 + i + j) + 250_000 * s as i64;
    (bad, liq, liq / 20)
}

/// 2 parameters x 3 values (9 variants), 2 crises; rows sorted by
/// (variant, scenario).
fn grid() -> (SweepMeta, Vec<SweepRow>) {
    let names = ["black-thursday-2020", "luna-2022"];
    let mut rows = Vec::new();
    for (i, lt) in LTS.iter().enumerate() {
        for (j, cf) in CFS.iter().enumerate() {
            let v = (i * 3 + j) as u32;
            for (s, name) in names.iter().enumerate() {
                let (bad, liq, pen) = figures(s, i, j);
                rows.push(row(v, name, &[(LT, lt), (CF, cf)], bad, liq, pen));
            }
        }
    }
    let meta = SweepMeta {
        sweep_id: "0123456789abcdef".into(),
        title: "thresholds.toml".into(),
        grid: format!("[grid]\n\"{LT}\" = [0.8, 0.825, 0.85]\n\"{CF}\" = [0.5, 0.75, 1.0]\n"),
        grid_sha256: "ee".repeat(32),
        params: vec![LT.into(), CF.into()],
        mode: "product".into(),
        variants: 9,
        scenarios: vec![
            scenario(
                names[0],
                "Black Thursday 2020",
                row(u32::MAX, names[0], &[], 900_000, 2_000_000, 130_000),
                true,
            ),
            scenario(
                names[1],
                "LUNA 2022",
                row(u32::MAX, names[1], &[], 300_000, 4_000_000, 200_000),
                false,
            ),
        ],
        shard: None,
        version: "0.1.0-test".into(),
    };
    (meta, rows)
}

fn render(meta: &SweepMeta, rows: &[SweepRow]) -> (String, String) {
    let opts = SweepOptions {
        command: vec![
            "shortfall".into(),
            "sweep".into(),
            "--grid".into(),
            "it's.toml".into(),
        ],
        ..SweepOptions::default()
    };
    let (_, html, json) = render_sweep(meta, rows, &opts).unwrap();
    (html, String::from_utf8(json).unwrap())
}

// ---------------------------------------------------------------------------
// Analysis
// ---------------------------------------------------------------------------

#[test]
fn pareto_frontier_worked_example() {
    // (variant, bad debt, liquidated volume), in shuffled order.
    let rows = [
        bare(3, 60, 30, 0), // 0: dominated by v1 (50, 20)
        bare(2, 50, 20, 0), // 1: same figures as v1: the lower variant stays
        bare(0, 80, 10, 0), // 2: frontier
        bare(1, 50, 20, 0), // 3: frontier
        bare(5, 0, 60, 0),  // 4: dominated by v4 (same bad debt, less volume)
        bare(4, 0, 50, 0),  // 5: frontier
        bare(7, 120, 5, 0), // 6: dominated by v6 (same volume, less bad debt)
        bare(6, 100, 5, 0), // 7: frontier, least volume
    ];
    let refs: Vec<&SweepRow> = rows.iter().collect();
    // Ascending liquidated volume: v6 (5), v0 (10), v1 (20), v4 (50).
    // (v0 with 100 of bad debt would be dominated by v6.)
    assert_eq!(pareto(&refs), vec![7, 2, 3, 5]);
    assert_eq!(pareto(&[]), Vec::<usize>::new());
    assert_eq!(pareto(&refs[..1]), vec![0]);
    // Identical rows only: one point, the lowest variant.
    let same = [bare(9, 1, 1, 0), bare(8, 1, 1, 0), bare(9, 1, 1, 0)];
    let refs: Vec<&SweepRow> = same.iter().collect();
    assert_eq!(pareto(&refs), vec![1]);
}

#[test]
fn best_ranks_by_bad_debt_then_penalty_then_volume_then_variant() {
    let rows = [
        bare(0, 10, 100, 5), // 0
        bare(1, 10, 200, 3), // 1
        bare(2, 10, 150, 3), // 2
        bare(3, 5, 999, 9),  // 3: least bad debt
        bare(4, 10, 150, 3), // 4: same figures as v2: after it
        bare(5, 20, 0, 0),   // 5: most bad debt
    ];
    let refs: Vec<&SweepRow> = rows.iter().collect();
    assert_eq!(best(&refs, 10), vec![3, 2, 4, 1, 0, 5]);
    assert_eq!(best(&refs, 3), vec![3, 2, 4]);
    assert_eq!(best(&refs, 0), Vec::<usize>::new());
}

#[test]
fn across_crises_worked_example() {
    let (mut meta, _) = grid();
    meta.scenarios[0].name = "s1".into();
    meta.scenarios[1].name = "s2".into();
    meta.variants = 4;
    let r = |v, s: &str, bad, liq, pen| row(v, s, &[], bad, liq, pen);
    let rows = vec![
        r(0, "s1", 10, 100, 1),
        r(0, "s2", 20, 100, 2),
        r(1, "s1", 0, 200, 5),
        r(1, "s2", 30, 300, 5),
        r(2, "s1", 30, 50, 0),
        r(2, "s2", 0, 0, 0),
        // Only in one crisis (a shard's part): least bad debt, ranked last.
        r(3, "s1", 0, 0, 0),
        // Not a crisis of the sweep: ignored.
        r(0, "other", 1_000, 0, 0),
    ];
    let a = across(&meta, &rows);
    // All complete variants total 30 of bad debt: ranked by total penalty.
    let order: Vec<u32> = a.iter().map(|x| x.variant).collect();
    assert_eq!(order, vec![2, 0, 1, 3]);
    let v2 = &a[0];
    assert_eq!(v2.total_bad_debt_usd, usd(30));
    assert_eq!(v2.worst_bad_debt_usd, usd(30));
    assert_eq!(v2.worst_scenario, "s1");
    assert_eq!(v2.total_penalty_usd, usd(0));
    assert_eq!(v2.total_liquidated_volume_usd, usd(50));
    assert_eq!(v2.crises, 2);
    let v0 = &a[1];
    assert_eq!(v0.total_bad_debt_usd, usd(30));
    assert_eq!(v0.worst_bad_debt_usd, usd(20));
    assert_eq!(v0.worst_scenario, "s2");
    assert_eq!(v0.total_penalty_usd, usd(3));
    assert_eq!(v0.total_liquidated_volume_usd, usd(200));
    let v1 = &a[2];
    assert_eq!(v1.total_penalty_usd, usd(10));
    assert_eq!(v1.worst_scenario, "s2");
    assert_eq!(a[3].crises, 1);

    // npl_count sums (row() sets bad / 50,000 NPLs).
    let (meta, rows) = grid();
    let a = across(&meta, &rows);
    assert_eq!(a.len(), 9);
    for x in &a {
        let mine: Vec<&SweepRow> = rows.iter().filter(|r| r.variant == x.variant).collect();
        assert_eq!(x.npl_count, mine.iter().map(|r| r.npl_count).sum::<u64>());
    }
    // The ranking against a brute force over figures().
    let mut brute: Vec<(i64, i64, u32)> = (0..3)
        .flat_map(|i| (0..3).map(move |j| (i, j)))
        .map(|(i, j)| {
            let (b0, _, p0) = figures(0, i, j);
            let (b1, _, p1) = figures(1, i, j);
            (b0 + b1, p0 + p1, (i * 3 + j) as u32)
        })
        .collect();
    brute.sort();
    let order: Vec<u32> = a.iter().map(|x| x.variant).collect();
    assert_eq!(order, brute.iter().map(|b| b.2).collect::<Vec<_>>());
}

// ---------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------

#[test]
fn report_shows_best_table_frontier_heatmap_and_across() {
    let (meta, rows) = grid();
    let report = build_sweep(&meta, &rows, &SweepOptions::default()).unwrap();
    let (html, json) = render(&meta, &rows);

    for id in [
        "summary",
        "crisis-1",
        "crisis-2",
        "across",
        "provenance",
        "method",
    ] {
        assert!(
            html.contains(&format!("<section id=\"{id}\"")),
            "section {id}"
        );
    }

    // Crisis 0: bad debt 100k * (1 + i + 2 (2 - j)): least at (0, 2) =
    // variant 2 ($100,000), then (1, 2) = variant 5 ($200,000), then (0, 1)
    // = variant 1 and (2, 2) = variant 8 ($300,000 both; variant 1 has less
    // volume, so less penalty).
    let c = &report.crises[0];
    let ids: Vec<&str> = c.best.iter().map(|r| r.variant_id.as_str()).collect();
    let v = |n: u32| {
        rows.iter()
            .find(|r| r.variant == n)
            .unwrap()
            .variant_id
            .clone()
    };
    assert_eq!(ids[..4], [v(2), v(5), v(1), v(8)]);
    assert_eq!(c.best.len(), 9);
    let top = &c.best[0];
    assert_eq!(top.bad_debt_usd, "$100,000");
    assert_eq!(top.params, vec!["0.8".to_string(), "1.0".to_string()]);
    assert_eq!(top.bad_debt_vs_baseline, "-$800,000");
    assert_eq!(top.liquidated_volume_usd, "$3,000,000");
    assert_eq!(top.penalty_usd, "$150,000");
    assert_eq!(top.penalty_vs_baseline, "+$20,000");
    assert_eq!(top.npl_count, "2");
    assert_eq!(top.liquidation_count, "300");
    assert_eq!(top.reserves_drawdown_usd, "$50,000");
    // Default options: no command given.
    assert_eq!(top.explain, format!("shortfall sweep --explain {}", v(2)));
    for s in [
        "$100,000",
        "-$800,000",
        "$3,000,000",
        "$150,000",
        "+$20,000",
        "run-black-thursday-2020-2",
    ] {
        assert!(html.contains(s), "{s} in the HTML");
    }
    assert!(html.contains(&format!(" --explain {}</code>", v(2))));

    // Summary cards.
    let card = |k: &str| c.cards.iter().find(|x| x.key == k).unwrap().value.clone();
    assert_eq!(card("variants"), "9");
    assert_eq!(card("crises"), "2");
    assert_eq!(card("params"), "2");
    assert_eq!(card("baseline_bad_debt"), "$900,000");
    assert_eq!(card("best_bad_debt"), "$100,000");
    assert_eq!(card("best_vs_baseline"), "$800,000 (88.89%)");
    assert!(html.contains("$800,000 (88.89%)"));

    // Frontier of crisis 0: volume 1M (1 + i + j); for each volume level the
    // least bad debt: (0,0) 500k at 1M; (0,1) 300k at 2M; (0,2) 100k at 3M;
    // higher volumes have no less than 100k.
    let fr: Vec<&str> = c.frontier.iter().map(|r| r.variant_id.as_str()).collect();
    assert_eq!(fr, [v(0), v(1), v(2)]);
    assert_eq!(c.chart.frontier.len(), 3);
    assert_eq!(c.chart.points.len(), 9);
    assert_eq!(c.chart.points.iter().filter(|p| p.frontier).count(), 3);
    assert_eq!(c.chart.baseline.bad_debt_usd, "900000");
    assert!(html.contains("how much borrowers pay for safety"));
    assert!(html.contains("class=\"frontier-table\""));
    // One chart per crisis, inline.
    assert_eq!(html.matches("<svg").count(), 2);

    // Heatmap: rows the thresholds, columns the close factors; the cell
    // (0.8, 1.0) holds the least, in bold.
    let h = c.heatmap.as_ref().unwrap();
    assert_eq!(h.row_key, LT);
    assert_eq!(h.col_key, CF);
    assert_eq!(h.cols, CFS.map(String::from).to_vec());
    assert_eq!(
        h.rows.iter().map(|r| r.value.as_str()).collect::<Vec<_>>(),
        LTS.to_vec()
    );
    assert_eq!(h.rows[0].cells[2].bad_debt_usd, "$100,000");
    assert!(h.rows[0].cells[2].best);
    assert_eq!(h.rows[2].cells[0].display, "$700k");
    assert_eq!(h.rows[0].cells[2].style, "background-color:#f7f7f4");
    assert_eq!(h.rows[2].cells[0].style, "background-color:#de6654");
    assert!(!h.caption.contains("minimum"), "two parameters: no minimum");
    assert!(html.contains("class=\"heatmap\""));
    assert!(html.contains("<strong>$100k</strong>"));
    assert!(html.contains("style=\"background-color:#de6654\""));

    // Across crises: (i, j) = (0, 2): 100k + 250k, the least.
    let a = report.across.as_ref().unwrap();
    assert_eq!(a.rows[0].variant_id, v(2));
    assert_eq!(a.rows[0].total_bad_debt_usd, "$350,000");
    assert_eq!(a.baseline_total_bad_debt_usd, "$1,200,000");
    assert!(html.contains("$350,000"));

    // Provenance: grid text, hashes, the book notice, the command.
    assert!(html.contains(&"ee".repeat(32)));
    assert!(html.contains(&"ab".repeat(32)));
    assert!(html.contains("0123456789abcdef"));
    assert!(html.contains("generated: 400 vaults, seed 7"));
    assert!(html.contains("data-kind=\"book-generated\""));
    assert!(
        html.contains("shortfall sweep --grid &#x27;it&#x27;\\&#x27;&#x27;s.toml&#x27;"),
        "command line, shell-quoted"
    );
    assert!(html.contains("policy.close_factor&quot; = [0.5, 0.75, 1.0]"));

    // Every figure of the page is in the JSON.
    for s in [
        "$100,000",
        "-$800,000",
        "$800,000 (88.89%)",
        "$700k",
        "$350,000",
    ] {
        assert!(json.contains(s), "{s} in the JSON");
    }
    assert!(json.contains(&f::usd(usd(1_200_000))));
}

#[test]
fn more_than_two_parameters_take_the_minimum_over_the_others() {
    let (mut meta, mut rows) = grid();
    meta.params.push("oracle.delay_secs".into());
    meta.variants = 18;
    let extra: Vec<SweepRow> = rows
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.variant += 9;
            r.variant_id = format!("w{}", r.variant);
            r.bad_debt_usd = Wad(r.bad_debt_usd.0 / 2);
            r.params.push(SweepParam {
                key: "oracle.delay_secs".into(),
                value: "600".into(),
            });
            r
        })
        .collect();
    for r in &mut rows {
        r.params.push(SweepParam {
            key: "oracle.delay_secs".into(),
            value: "0".into(),
        });
    }
    rows.extend(extra);
    let report = build_sweep(&meta, &rows, &SweepOptions::default()).unwrap();
    let h = report.crises[0].heatmap.as_ref().unwrap();
    assert!(h
        .caption
        .contains("minimum over the other parameters (oracle.delay_secs)"));
    // Halved bad debt wins every cell.
    assert_eq!(h.rows[0].cells[2].bad_debt_usd, "$50,000");
    assert_eq!(h.rows[0].cells[2].variant_id, "w11");
    assert_eq!(report.crises[0].best.len(), 10, "top 10 by default");
}

#[test]
fn text_from_data_is_escaped_everywhere() {
    let (mut meta, mut rows) = grid();
    meta.title = EVIL_ATTR.into();
    meta.grid = format!("# {EVIL}\n{EVIL_ATTR}\n");
    meta.params[1] = EVIL.into();
    meta.scenarios[0].title = EVIL.into();
    meta.scenarios[0].book_origin = EVIL_ATTR.into();
    meta.scenarios[1].name = EVIL_ATTR.into();
    meta.scenarios[1].baseline.scenario = EVIL_ATTR.into();
    meta.scenarios[1]
        .input_hashes
        .insert(EVIL.into(), EVIL_ATTR.into());
    for r in &mut rows {
        r.params[1].key = EVIL.into();
        if r.params[1].value == "0.75" {
            r.params[1].value = EVIL_ATTR.into();
        }
        if r.scenario == "luna-2022" {
            r.scenario = EVIL_ATTR.into();
        }
        if r.variant == 2 {
            r.variant_id = EVIL_ATTR.into();
            r.run_id = EVIL.into();
        }
    }
    let (html, json) = render(&meta, &rows);
    for raw in [EVIL, EVIL_ATTR, "<script", "<img", "onerror=alert(1)>"] {
        assert!(!html.contains(raw), "raw {raw} in the HTML");
    }
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;")
            || html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    // The JSON keeps the text as it is.
    assert!(json.contains("<script>alert(1)</script>"));
    // No tag from data: every tag of the page is one the template writes.
    let lower = html.to_lowercase();
    for banned in [
        "<script", "<link", "<img", "<iframe", "<object", "<embed", "@import", "url(",
    ] {
        assert!(!lower.contains(banned), "found {banned}");
    }
}

#[test]
fn same_inputs_give_the_same_bytes() {
    let (meta, rows) = grid();
    let (a, ja) = render(&meta, &rows);
    let (b, jb) = render(&meta, &rows);
    assert_eq!(a, b);
    assert_eq!(ja, jb);
    // Row order does not matter.
    let mut shuffled = rows.clone();
    shuffled.reverse();
    shuffled.swap(0, 7);
    let (c, jc) = render(&meta, &shuffled);
    assert_eq!(a, c);
    assert_eq!(ja, jc);
    assert!(!a.contains("generated 20"), "no timestamp unless asked");
}

#[test]
fn one_parameter_grid_has_no_heatmap() {
    let name = "black-thursday-2020";
    let rows: Vec<SweepRow> = LTS
        .iter()
        .enumerate()
        .map(|(i, lt)| {
            row(
                i as u32,
                name,
                &[(LT, lt)],
                300_000 - 100_000 * i as i64,
                1_000_000 * (i as i64 + 1),
                10_000,
            )
        })
        .collect();
    let (mut meta, _) = grid();
    meta.params = vec![LT.into()];
    meta.variants = 3;
    meta.scenarios.truncate(1);
    let report = build_sweep(&meta, &rows, &SweepOptions::default()).unwrap();
    assert!(report.crises[0].heatmap.is_none());
    assert!(report.across.is_none());
    let (html, _) = render(&meta, &rows);
    assert!(!html.contains("class=\"heatmap\""));
    assert!(!html.contains("id=\"across\""));
    assert!(html.contains("<section id=\"crisis-1\""));
    // Every variant on the frontier (more volume, less bad debt).
    assert_eq!(report.crises[0].frontier.len(), 3);
    assert_eq!(report.crises[0].best[0].bad_debt_usd, "$100,000");
}

#[test]
fn single_variant_sweep() {
    let name = "black-thursday-2020";
    let rows = vec![row(0, name, &[(LT, "0.8"), (CF, "0.5")], 950_000, 0, 0)];
    let (mut meta, _) = grid();
    meta.variants = 1;
    meta.scenarios.truncate(1);
    let report = build_sweep(&meta, &rows, &SweepOptions::default()).unwrap();
    let c = &report.crises[0];
    assert_eq!(c.best.len(), 1);
    assert_eq!(c.frontier.len(), 1);
    let card = |k: &str| c.cards.iter().find(|x| x.key == k).unwrap();
    assert_eq!(card("best_vs_baseline").label, "Higher than baseline by");
    assert_eq!(card("best_vs_baseline").value, "$50,000 (5.56%)");
    let h = c.heatmap.as_ref().unwrap();
    assert_eq!(h.rows.len(), 1);
    assert_eq!(h.rows[0].cells.len(), 1);
    let (html, _) = render(&meta, &rows);
    assert_eq!(html.matches("<svg").count(), 1);

    // No variant at all for a crisis (an empty shard): no crash, says so.
    let report = build_sweep(&meta, &[], &SweepOptions::default()).unwrap();
    assert!(report.crises[0].best.is_empty());
    assert!(report.crises[0].heatmap.is_none());
    let (html, _) = render(&meta, &[]);
    assert!(html.contains("No variant of this sweep ran through this crisis."));
}

#[test]
fn shard_and_inconsistent_rows() {
    let (mut meta, rows) = grid();
    meta.shard = Some([1, 4]);
    let part: Vec<SweepRow> = rows.iter().filter(|r| r.variant < 4).cloned().collect();
    let report = build_sweep(&meta, &part, &SweepOptions::default()).unwrap();
    assert_eq!(
        report.provenance.shard.as_deref(),
        Some("index 1 of 4 parts")
    );
    assert!(report.notices.iter().any(|n| n.kind == "partial"));
    let card = report.crises[0]
        .cards
        .iter()
        .find(|c| c.key == "variants")
        .unwrap();
    assert_eq!(card.value, "4 of 9");
    // Variants 0 to 3: thresholds 0.8 (all close factors) and 0.825 (0.5
    // only); the other cells are empty and say so.
    let h = report.crises[0].heatmap.as_ref().unwrap();
    assert_eq!(h.rows.len(), 2);
    assert_eq!(h.rows[1].cells[1].display, "-");
    assert_eq!(h.rows[1].cells[1].style, "");
    assert!(h.caption.contains("Cells marked - have no variant"));

    let mut bad = rows.clone();
    bad[0].scenario = "nowhere".into();
    let e = build_sweep(&meta, &bad, &SweepOptions::default()).unwrap_err();
    assert!(e.to_string().contains("nowhere"), "{e}");
    let mut dup = rows.clone();
    dup.push(rows[0].clone());
    assert!(build_sweep(&meta, &dup, &SweepOptions::default()).is_err());
}

#[test]
fn writes_html_and_json_twin_beside_the_meta() {
    let (meta, rows) = grid();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sweep.json"), "{\"meta\": true}").unwrap();
    let (report, w) = write_sweep(&meta, &rows, dir.path(), &SweepOptions::default()).unwrap();
    assert_eq!(w.html, dir.path().join(SWEEP_HTML));
    assert_eq!(w.json, dir.path().join(SWEEP_REPORT_JSON));
    let html = std::fs::read_to_string(&w.html).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&w.json).unwrap()).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(json["sweep_id"], report.sweep_id);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("sweep.json")).unwrap(),
        "{\"meta\": true}",
        "the meta is left alone"
    );
    // No temporary file left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
}

#[test]
fn templates_folder_overrides_the_sweep_template() {
    let (meta, rows) = grid();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sweep.html"),
        "{% extends \"base.html\" %}{% block body %}<p>custom {{ s.sweep_id }} {{ s.title }}</p>{% endblock body %}",
    )
    .unwrap();
    let opts = SweepOptions {
        templates: Some(dir.path().to_path_buf()),
        ..SweepOptions::default()
    };
    let (_, html, _) = render_sweep(&meta, &rows, &opts).unwrap();
    assert!(html.contains("<p>custom 0123456789abcdef Policy sweep: thresholds.toml</p>"));
    // A misspelt template name is an error, not ignored.
    std::fs::write(dir.path().join("swep.html"), "x").unwrap();
    assert!(render_sweep(&meta, &rows, &opts).is_err());
}

/// Byte-level guard (see `pinned.rs`): the sha256 of the HTML and of the
/// JSON twin of fixed sweeps, pinned.
#[test]
fn pinned_bytes() {
    use sha2::Digest;
    let sha = |b: &[u8]| hex::encode(sha2::Sha256::digest(b));
    let (meta, rows) = grid();
    let (html, json) = render(&meta, &rows);
    assert_eq!(
        (sha(html.as_bytes()), sha(json.as_bytes())),
        (
            "d4c5aa7fc7f5fa145b5e2171d1544346ca29966deed20cbc5f93d7cb09b808c7".to_string(),
            "d376f51fa23e4a5503a759bbdf509325194427a7fa95cea08768505e6ff5170e".to_string()
        ),
        "sweep: pinned bytes moved (html, json)"
    );
    // One crisis, a shard's part, hostile names.
    let (mut meta, mut rows) = grid();
    meta.scenarios.truncate(1);
    meta.shard = Some([1, 3]);
    meta.title = EVIL_ATTR.into();
    meta.scenarios[0].title = EVIL.into();
    rows.retain(|r| r.scenario == meta.scenarios[0].name && r.variant % 3 != 1);
    rows[0].variant_id = EVIL.into();
    let (html, json) = render(&meta, &rows);
    assert_eq!(
        (sha(html.as_bytes()), sha(json.as_bytes())),
        (
            "50d1cbba677625800b44762d3a4af0cee497293a2d8304780d9d9fecaaefb608".to_string(),
            "0ef937758bfdd90b9f1368a35e28cac945ef56708a1ac692c49d20f039c2a650".to_string()
        ),
        "sweep shard: pinned bytes moved (html, json)"
    );
}
