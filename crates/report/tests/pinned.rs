//! Byte-level guard of every page kind: the sha256 of the HTML and of the
//! JSON twin of fixed inputs, pinned. A refactoring of the report crate
//! must leave every page byte-identical; a deliberate change of a page
//! updates the pins here in the same commit, with the reason.
//!
//! The run-report pages (report, compare, perp section) are rendered from
//! runs of the real engine (`common::make_run`), so a change of the
//! engine's results moves them too; the observed, stress, sweep and
//! contagion pages are rendered from hand-made inputs only.

mod common;

use std::collections::BTreeMap;

use common::*;
use shortfall_core::{
    Distribution, Micros, ObservedLiquidation, SourceRecord, StressMeta, StressRow, Wad, WorstPath,
};
use shortfall_forensics::{Balances, LeftWithDebt};
use shortfall_report::stress::{render_stress, StressOptions};
use shortfall_report::{
    build_compare, build_observed, render_run, CompareOptions, ObservedOptions, ReportOptions,
    Templates,
};
use shortfall_store::manifest::Manifest;

fn sha(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Checks the pins of one page, naming every mismatch (all at once, so a
/// deliberate change can update them in one go).
fn check(page: &str, html: &str, json: &[u8], want: (&str, &str)) {
    let got = (sha(html.as_bytes()), sha(json));
    assert_eq!(
        (got.0.as_str(), got.1.as_str()),
        want,
        "{page}: pinned bytes moved (html, json)"
    );
}

fn usd(n: i64) -> Wad {
    Wad::from_int(n)
}

fn dec(s: &str) -> Wad {
    Wad::parse_decimal(s, false).unwrap()
}

#[test]
fn run_report_page() {
    let t = Templates::builtin().unwrap();
    let run = make_run("ETH", None);
    let (_, html, json) = render_run(&run, &t, &ReportOptions::default()).unwrap();
    check(
        "report",
        &html,
        &json,
        (
            "e13181d5a4ecc4e4c4c1bedf6afb78e1b632c9853d1c4f3a6281b40956c5702b",
            "161a5f048b933a948de62b64de115e0768c233cc6b4421db7724388b3c83695e",
        ),
    );
}

#[test]
fn hypothetical_run_report_page_with_hostile_names() {
    let t = Templates::builtin().unwrap();
    let coll = EVIL;
    let extra = format!(
        "[[transforms]]\nkind = \"vol_scale\"\nfactor = 1.5\nassets = [\"{coll}\"]\n\
[[oracle.overrides]]\nasset = \"{coll}\"\nkind = \"freeze\"\nfrom = \"2020-03-12 02:00\"\n"
    );
    let run = make_run_with(coll, None, &extra);
    let opts = ReportOptions {
        top_n: 5,
        top_liquidators: 1,
        max_timeline_points: 7,
        timestamp: Some("2026-01-01 00:00 UTC".into()),
    };
    let (_, html, json) = render_run(&run, &t, &opts).unwrap();
    check(
        "hypothetical report",
        &html,
        &json,
        (
            "355b95a93abc860200d1484e36899ddb677185fabdb9750db5edd452e2db8cbd",
            "c148a79a56e3d560a33832da80d17662ea1e30ee9d7b0f2c4af09db1d06fc49e",
        ),
    );
}

/// Generated ETH perpetuals beside the lending book: the report's perp
/// section (outcomes, waterfall, insurance fund chart, ADL, bankrupt).
#[test]
fn run_report_page_with_perp_section() {
    let perp = r#"
[market]
pegs = { USDT = 1 }
[perp]
preset = "binance_2021"
insurance_fund_usd = 10000
liquidation_fee_rate = 0.005
[perp.liquidity]
depth_usd = 2000000
[perp.book]
source = "generated"
[perp.book.generator]
accounts = 60
venue = "binance"
[[perp.book.generator.instruments]]
instrument = "ETHUSDT"
open_interest_usd = 5000000
"#;
    let run = make_run_with("ETH", None, perp);
    let p = run.summary.perp.as_ref().expect("a perp summary");
    assert!(
        p.totals.liquidations > 0 && p.totals.adl_events > 0,
        "{p:?}"
    );
    let t = Templates::builtin().unwrap();
    let (r, html, json) = render_run(&run, &t, &ReportOptions::default()).unwrap();
    assert!(r.perp.is_some());
    check(
        "perp section",
        &html,
        &json,
        (
            "c660e921ee1a4c0d2d667405d8447b56b2b8f69b9421eec0e506f9de9c9555a2",
            "cc27dc61b7a1ae2e0371a8fc2fe1b812148066364fbcf347cfd49f1f57d1827b",
        ),
    );
}

#[test]
fn compare_page() {
    let a = make_run("ETH", None);
    let b = make_run("ETH", Some(1.0));
    let c = build_compare(&a, &b, &CompareOptions::default()).unwrap();
    let html = Templates::builtin().unwrap().render_compare(&c).unwrap();
    let mut json = serde_json::to_vec_pretty(&c).unwrap();
    json.push(b'\n');
    check(
        "compare",
        &html,
        &json,
        (
            "279750becfe555ed2784853ebad2b2db2719f43d627059bab0c8a9236257052e",
            "3b9befd99efe1024c9819a1137bc66780dcf0e5d6f3fc8484bf145a8718a335c",
        ),
    );
}

#[allow(clippy::too_many_arguments)]
fn liquidation(
    minute: i64,
    account: &str,
    liquidator: Option<&str>,
    coll: &str,
    repaid_usd: Option<i64>,
    seized_usd: Option<i64>,
    eth_usd: i64,
    bonus: Option<(&str, &str)>,
    note: &str,
) -> ObservedLiquidation {
    let repaid_value = repaid_usd.map(|u| dec(&format!("{}", u as f64 / eth_usd as f64)));
    let seized_value = seized_usd.map(|u| dec(&format!("{}", u as f64 / eth_usd as f64)));
    let (realised_bonus, configured_bonus, bonus_gap) = match bonus {
        Some((r, c)) => (Some(dec(r)), Some(dec(c)), Some(dec(r) - dec(c))),
        None => (None, None, None),
    };
    ObservedLiquidation {
        ts: Micros::from_secs(T0 + minute * 60),
        block: Some(9_000_000 + minute),
        log_index: Some(3),
        tx_hash: Some(format!("0x{minute:064x}")),
        source_ref: None,
        protocol: "aave_v2".into(),
        market: "main".into(),
        account: account.into(),
        liquidator: liquidator.map(Into::into),
        debt_asset: "USDC".into(),
        debt_repaid: usd(repaid_usd.unwrap_or(1)),
        collateral_asset: coll.into(),
        collateral_seized: usd(1),
        value_unit: Some("ETH".into()),
        repaid_value,
        seized_value,
        repaid_usd: repaid_usd.map(usd),
        seized_usd: seized_usd.map(usd),
        realised_bonus,
        configured_bonus,
        bonus_gap,
        note: note.into(),
    }
}

#[test]
fn observed_page() {
    let rows = vec![
        liquidation(
            0,
            "0xa1",
            Some("0xl1"),
            "WETH",
            Some(10_000),
            Some(10_500),
            200,
            Some(("0.05", "0.05")),
            "",
        ),
        liquidation(
            30,
            EVIL,
            Some(EVIL_ATTR),
            "WETH",
            Some(20_000),
            Some(21_600),
            180,
            Some(("0.08", "0.05")),
            "",
        ),
        liquidation(
            90,
            "0xa3",
            None,
            "WBTC",
            Some(5_000),
            None,
            150,
            None,
            "no price of WBTC",
        ),
        liquidation(
            1500,
            "0xa1",
            Some("0xl1"),
            "WETH",
            Some(7_000),
            Some(7_280),
            120,
            Some(("0.04", "0.05")),
            "reserve unknown; no price of WBTC",
        ),
        liquidation(
            1560,
            "0xa4",
            Some("0xl2"),
            "LINK",
            Some(3_000),
            Some(3_300),
            125,
            Some(("0.1", "0.1")),
            "",
        ),
        liquidation(
            2900,
            "0xa5",
            Some("0xl3"),
            "WETH",
            None,
            None,
            110,
            None,
            "no price of USDC",
        ),
    ];
    let balances = Balances {
        has_balance_events: true,
        accounts_liquidated: 5,
        accounts_without_history: 2,
        left: vec![
            LeftWithDebt {
                protocol: "aave_v2".into(),
                market: "main".into(),
                account: "0xa3".into(),
                last_liquidation: Micros::from_secs(T0 + 90 * 60),
                debt: vec![("USDC".into(), dec("1234.5678"))],
                debt_usd: Some(dec("1234.5678")),
            },
            LeftWithDebt {
                protocol: "aave_v2".into(),
                market: "main".into(),
                account: EVIL.into(),
                last_liquidation: Micros::from_secs(T0 + 30 * 60),
                debt: vec![("DAI".into(), dec("10")), ("USDC".into(), dec("2"))],
                debt_usd: None,
            },
        ],
    };
    let manifest = Manifest {
        sources: vec![SourceRecord {
            file: "liquidations.jsonl".into(),
            sha256: "ab".repeat(32),
            bytes: 1234,
            format: "aave-events".into(),
            options: BTreeMap::new(),
            table: "observed_liquidations".into(),
            rows_read: 7,
            rows_written: 6,
            rows_skipped: 1,
            rows_deduplicated: 0,
            rows_rejected: 0,
            notes: vec![format!("a note {EVIL}")],
            tool_version: "shortfall test".into(),
        }],
        ..Manifest::default()
    };
    let opts = ObservedOptions {
        dataset: "aave-v2-2020".into(),
        timestamp: None,
        top_n: 3,
        command: "shortfall forensics liquidations --dataset 'it''s'".into(),
    };
    let report = build_observed(&rows, &balances, &manifest, &opts);
    let html = Templates::builtin()
        .unwrap()
        .render_observed(&report)
        .unwrap();
    let mut json = serde_json::to_vec_pretty(&report).unwrap();
    json.push(b'\n');
    check(
        "observed",
        &html,
        &json,
        (
            "7bf0f0bd13297a440ed40b7d58d078223458158b733618e053fb1b32e67984f2",
            "66f4d23b9b6c642a281aa2033a95dc256f60dbfb34dd2383daec7d6a2474e04d",
        ),
    );
}

fn stress_row(path: u32, bad: i64, liq: i64) -> StressRow {
    StressRow {
        path,
        bad_debt_usd: usd(bad),
        npl_count: (bad / 10_000) as u64,
        liquidated_volume_usd: usd(liq),
        liquidation_count: (liq / 50_000) as u64,
        penalty_usd: usd(liq / 20),
        reserves_drawdown_usd: usd(bad / 2),
        run_id: format!("{path:016x}"),
    }
}

fn distribution(metric: &str, v: &[Wad]) -> Distribution {
    let mut s = v.to_vec();
    s.sort();
    let at = |q: usize| s[(q * s.len()).div_ceil(100).max(1) - 1];
    let mean = |from: usize| {
        let tail = &s[from..];
        Wad(tail.iter().map(|w| w.0).sum::<i128>() / tail.len() as i128)
    };
    let k95 = (95 * s.len()).div_ceil(100).max(1) - 1;
    let k99 = (99 * s.len()).div_ceil(100).max(1) - 1;
    Distribution {
        metric: metric.into(),
        mean: mean(0),
        min: s[0],
        max: s[s.len() - 1],
        var95: at(95),
        es95: mean(k95),
        var99: at(99),
        es99: mean(k99),
    }
}

fn stress_meta(model: &str, rows: &[StressRow]) -> StressMeta {
    let bad: Vec<Wad> = rows.iter().map(|r| r.bad_debt_usd).collect();
    let liq: Vec<Wad> = rows.iter().map(|r| r.liquidated_volume_usd).collect();
    let mut worst: Vec<&StressRow> = rows.iter().collect();
    worst.sort_by(|a, b| {
        b.bad_debt_usd
            .cmp(&a.bad_debt_usd)
            .then(a.path.cmp(&b.path))
    });
    StressMeta {
        stress_id: "5eed0123456789ab".into(),
        scenario: "black-thursday-2020".into(),
        title: format!("Black Thursday {EVIL}"),
        source: "crises/black-thursday-2020/crisis.toml".into(),
        model: model.into(),
        block_secs: (model == "bootstrap").then_some(7200),
        horizon_secs: 86_400,
        horizon: "24h".into(),
        seed: 7,
        paths: rows.len() as u32,
        window_start: "2020-03-12 00:00".into(),
        window_end: "2020-03-13 12:00".into(),
        fit_start: "2020-02-01 00:00".into(),
        fit_end: "2020-03-12 00:00".into(),
        given: if model == "gaussian" {
            vec!["ETH volatility 0.03 per hour".into()]
        } else {
            Vec::new()
        },
        assets: vec!["ETH".into(), "BTC".into()],
        statistics: vec![
            distribution("bad_debt_usd", &bad),
            distribution("liquidated_volume_usd", &liq),
        ],
        baseline: stress_row(u32::MAX, 450_000, 3_000_000),
        worst: worst
            .iter()
            .take(3)
            .map(|r| WorstPath {
                path: r.path,
                bad_debt_usd: r.bad_debt_usd,
                liquidated_volume_usd: r.liquidated_volume_usd,
                run_id: r.run_id.clone(),
                scenario_file: format!("worst/path-{}.toml", r.path),
            })
            .collect(),
        base_config_sha256: "cd".repeat(32),
        input_hashes: BTreeMap::from([("prices".to_string(), "ef".repeat(32))]),
        book_origin: "generated: 400 vaults, seed 7".into(),
        book_generated: true,
        version: "0.1.0-test".into(),
    }
}

#[test]
fn stress_pages() {
    let rows: Vec<StressRow> = (0..40u32)
        .map(|p| {
            let x = i64::from((p * 37) % 41);
            stress_row(p, 20_000 * x * x, 1_000_000 + 90_000 * x)
        })
        .collect();
    for (model, want) in [
        (
            "bootstrap",
            (
                "f5ad759182012768b4b623304803f6c593210548dc5ec2d98263c2ab4c5454fe",
                "fbf182e48357aa8c24e477c96a7f0c850114f8d96f3278859a596726d30ffc43",
            ),
        ),
        (
            "gaussian",
            (
                "eb1e5b39f5e83f3d2d3776c302df68da63d3f906a77f7d40c507260642ffd584",
                "4644996acde9bb68fc44d71284aa301790514cc21fd6d1be8a3737048ffb0d59",
            ),
        ),
    ] {
        let meta = stress_meta(model, &rows);
        let (_, html, json) = render_stress(&meta, &rows, &StressOptions::default()).unwrap();
        check(&format!("stress {model}"), &html, &json, want);
    }
    // All paths equal: one bin.
    let flat: Vec<StressRow> = (0..5).map(|p| stress_row(p, 0, 0)).collect();
    let meta = stress_meta("bootstrap", &flat);
    let (_, html, json) = render_stress(&meta, &flat, &StressOptions::default()).unwrap();
    check(
        "stress flat",
        &html,
        &json,
        (
            "b55c9f78c197b6a9ae508ac4f5ef3561dabf43ee80d830282d42cb85f601bdc7",
            "de4a86843bb9a96ee2a266aa7833ebd3f639a349f4e06776c2b8fd061cddb87d",
        ),
    );
}
