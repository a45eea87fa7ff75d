//! Stress transforms (`[[transforms]]`): exact on small paths, identities
//! at factor 1 / shock 0, more stress never less bad debt, recorded in the
//! run and its summary.

mod common;

use std::borrow::Cow;

use common::*;
use proptest::prelude::*;
use shortfall_core::LegSide::{Collateral, Debt};
use shortfall_core::{LiquidityRow, Micros, OracleRound, PositionLeg, PriceBar, Wad};
use shortfall_replay::transforms::{apply, describe};
use shortfall_replay::{run, ReplayInput, Scenario};

fn scenario(extra: &str) -> Scenario {
    Scenario::from_toml(&format!("{AAVE}{extra}")).unwrap()
}

fn at(secs: i64) -> Micros {
    Micros::from_secs(T0 + secs)
}

/// One-minute bars of `asset` at the given closes (bar k opens at minute k).
fn path(asset: &str, closes: &[f64]) -> Vec<PriceBar> {
    let c = closes.to_vec();
    bars(asset, c.len() as i64, move |m| c[m as usize])
}

fn rows(prices: Vec<PriceBar>, rounds: Vec<OracleRound>) -> ReplayInput {
    let mut i = input(prices, vec![]);
    i.oracle_rounds = rounds;
    i
}

fn transformed(extra: &str, inp: &ReplayInput) -> ReplayInput {
    let sc = scenario(extra);
    apply(&sc, inp).unwrap().1.into_owned()
}

fn closes(i: &ReplayInput, asset: &str) -> Vec<Wad> {
    i.prices
        .iter()
        .filter(|b| b.base == asset)
        .map(|b| b.close)
        .collect()
}

/// `|a - b|` within `tol` wei.
fn near(a: Wad, b: Wad, tol: i128) -> bool {
    (a.0 - b.0).abs() <= tol
}

fn depth_rows() -> Vec<LiquidityRow> {
    (0..3)
        .map(|m| LiquidityRow {
            ts: at(m * 600),
            venue: "pool".into(),
            asset: "ETH".into(),
            quote: "USD".into(),
            depth_usd: w(1_000_000.0 * (m + 1) as f64),
        })
        .collect()
}

/// A bigger input: the crash, oracle rounds, depth rows and a gas path.
fn full_input() -> ReplayInput {
    let mut i = input(eth_crash_usdc_flat(1500.0, 60), book());
    i.oracle_rounds = (0..6)
        .map(|k| round("ETH", k * 3600, 2000.0 - 50.0 * k as f64, k as u128 + 1))
        .collect();
    i.liquidity = Some(depth_rows());
    i.gas = Some(vec![(at(0), w(30.0)), (at(3600), w(200.0))]);
    i
}

fn same_rows(a: &ReplayInput, b: &ReplayInput) {
    assert_eq!(a.prices, b.prices);
    assert_eq!(a.oracle_rounds, b.oracle_rounds);
    assert_eq!(a.liquidity, b.liquidity);
    assert_eq!(a.gas, b.gas);
    assert_eq!(a.book, b.book);
}

const IDENTITIES: &[&str] = &[
    "[[transforms]]\nkind = \"vol_scale\"\nfactor = 1\n",
    "[[transforms]]\nkind = \"vol_scale\"\nfactor = 1.0\nassets = [\"ETH\"]\n",
    "[[transforms]]\nkind = \"time_scale\"\nfactor = 1\n",
    "[[transforms]]\nkind = \"shift\"\nsecs = 0\n",
    "[[transforms]]\nkind = \"price_shock\"\nassets = [\"ETH\", \"USDC\"]\nat = \"2020-03-12 01:00\"\npct = 0\n",
    "[[transforms]]\nkind = \"depeg\"\nasset = \"USDC\"\nat = \"2020-03-12 01:00\"\ndepth = 0\nramp_secs = 600\n",
    "[[transforms]]\nkind = \"liquidity\"\ndivisor = 1\n",
    "[[transforms]]\nkind = \"liquidators\"\ncapital_factor = 1\nparticipation = 1\n",
];

#[test]
fn identities_change_nothing() {
    let inp = full_input();
    let base_sc = scenario(FRICTIONS);
    let base = run(&base_sc, &inp).unwrap();
    assert!(base.summary.hypothetical.is_empty());
    for t in IDENTITIES {
        let sc = scenario(&format!("{FRICTIONS}{t}"));
        let (s2, i2) = apply(&sc, &inp).unwrap();
        assert!(matches!(i2, Cow::Borrowed(_)), "{t}: input copied");
        assert!(matches!(s2, Cow::Borrowed(_)), "{t}: scenario copied");
        same_rows(&i2, &inp);
        let out = run(&sc, &inp).unwrap();
        assert_eq!(out.summary, base.summary, "{t}");
        assert_eq!(out.liquidations, base.liquidations, "{t}");
        assert!(out.run_meta.resolved_config.contains("[[transforms]]"));
        assert_ne!(out.run_meta.run_id, base.run_meta.run_id, "{t}");
    }
    // No transform: the run is what it was (same run id as without the key).
    assert!(!base.run_meta.resolved_config.contains("transforms"));
}

#[test]
fn vol_scale_is_exact_on_a_small_path() {
    let p = path("ETH", &[100.0, 110.0, 99.0]);
    // factor 2: every log return doubled: 100, 121, 98.01 (exact)
    let two = transformed(
        "[[transforms]]\nkind = \"vol_scale\"\nfactor = 2\n",
        &rows(p.clone(), vec![]),
    );
    assert_eq!(closes(&two, "ETH"), vec![w(100.0), w(121.0), w(98.01)]);
    // factor 1.5 (f64 arithmetic, rounded to the wei): 100 * (x/100)^1.5
    let f = transformed(
        "[[transforms]]\nkind = \"vol_scale\"\nfactor = 1.5\n",
        &rows(p, vec![]),
    );
    let got = closes(&f, "ETH");
    assert_eq!(got[0], w(100.0));
    for (k, x) in [(1usize, 110.0f64), (2, 99.0)] {
        let exp = 100.0 * (x / 100.0f64).powf(1.5);
        let exp = Wad((exp * 1e18).round() as i128);
        // f64 carries ~16 digits: within 1e-14 relative of the definition
        assert!(
            near(got[k], exp, exp.0 / 100_000_000_000_000),
            "{k}: {} vs {exp}",
            got[k]
        );
    }
    // returns in log space are 1.5 x the recorded ones
    let lr = |a: Wad, b: Wad| (b.to_f64() / a.to_f64()).ln();
    assert!((lr(got[0], got[1]) - 1.5 * (1.1f64).ln()).abs() < 1e-12);
    assert!((lr(got[1], got[2]) - 1.5 * (99.0f64 / 110.0).ln()).abs() < 1e-12);
}

#[test]
fn vol_scale_scales_bars_from_the_anchor_and_leaves_earlier_data() {
    let mut p = path("ETH", &[100.0, 100.0, 110.0]);
    // a bar before the window (closes 1 minute before the start)
    p.insert(
        0,
        PriceBar::flat(at(-120), "test", "ETH", "USD", 60, w(90.0)),
    );
    // the last bar has a range: open 100, high 120, low 95, close 110
    p[3].open = w(100.0);
    p[3].high = w(120.0);
    p[3].low = w(95.0);
    let rounds = vec![round("ETH", 0, 100.0, 1), round("ETH", 60, 80.0, 2)];
    let usdc = path("USDC", &[1.0, 2.0, 4.0]);
    let mut all = p;
    all.extend(usdc.clone());
    let t = transformed(
        "[[transforms]]\nkind = \"vol_scale\"\nfactor = 2\nassets = [\"ETH\"]\n",
        &rows(all, rounds),
    );
    let eth: Vec<&PriceBar> = t.prices.iter().filter(|b| b.base == "ETH").collect();
    assert_eq!(eth[0].close, w(90.0), "before the window: unchanged");
    assert_eq!(eth[1].close, w(100.0), "anchor");
    let b = eth[3];
    assert_eq!(
        (b.open, b.high, b.low, b.close),
        (w(100.0), w(144.0), w(90.25), w(121.0))
    );
    // oracle rounds: anchored at their own first answer in the window
    assert_eq!(t.oracle_rounds[0].answer, w(100.0));
    assert_eq!(t.oracle_rounds[1].answer, w(64.0));
    // USDC not listed: unchanged
    assert_eq!(closes(&t, "USDC"), vec![w(1.0), w(2.0), w(4.0)]);
}

#[test]
fn time_scale_maps_timestamps() {
    let p = path("ETH", &[100.0, 90.0, 80.0, 70.0]);
    let rounds = vec![round("ETH", 90, 95.0, 1)];
    let mut inp = rows(p, rounds);
    inp.liquidity = Some(depth_rows());
    let t = transformed(
        "[[transforms]]\nkind = \"time_scale\"\nfactor = 0.5\n",
        &inp,
    );
    // closes at 60, 120, 180, 240 s -> 30, 60, 90, 120 s; 30 s bars
    for (k, b) in t.prices.iter().enumerate() {
        assert_eq!(b.interval_secs, 30);
        assert_eq!(b.ts, at(30 * k as i64));
        assert_eq!(b.close, inp.prices[k].close);
    }
    assert_eq!(t.oracle_rounds[0].ts, at(45));
    let d: Vec<Micros> = t.liquidity.unwrap().iter().map(|r| r.ts).collect();
    assert_eq!(d, vec![at(0), at(300), at(600)]);
    // ten times faster: 6 s bars; far faster: at least 1 s, microseconds kept
    let t = transformed(
        "[[transforms]]\nkind = \"time_scale\"\nfactor = 0.1\n",
        &inp,
    );
    assert_eq!(t.prices[3].ts, at(18));
    assert_eq!(t.prices[3].interval_secs, 6);
    let t = transformed(
        "[[transforms]]\nkind = \"time_scale\"\nfactor = 0.001\n",
        &inp,
    );
    assert_eq!(t.prices[1].interval_secs, 1);
    assert_eq!(t.prices[1].ts.0 + 1_000_000, at(0).0 + 120_000);
    // an anchor: earlier data stays; slower time pushes data past the end
    let t = transformed(
        "[[transforms]]\nkind = \"time_scale\"\nfactor = 2\nanchor = \"2020-03-12 00:02\"\n",
        &inp,
    );
    let ends: Vec<Micros> = t
        .prices
        .iter()
        .map(|b| Micros(b.ts.0 + b.interval_secs * 1_000_000))
        .collect();
    assert_eq!(ends, vec![at(60), at(120), at(240), at(360)]);
    assert_eq!(t.oracle_rounds[0].ts, at(90));
}

#[test]
fn time_scale_drops_data_after_the_window() {
    // 6 h window: 8 h of bars; compressed x 0.5 only the first 6 h remain,
    // mapped into the first 3 h
    let inp = input(bars("ETH", 480, |m| 2000.0 - m as f64), vec![]);
    let t = transformed(
        "[[transforms]]\nkind = \"time_scale\"\nfactor = 0.5\n",
        &inp,
    );
    assert_eq!(t.prices.len(), 360);
    assert_eq!(t.prices.last().unwrap().ts.0 + 30_000_000, at(3 * 3600).0);
    assert_eq!(t.prices.last().unwrap().close, w(1641.0));
}

#[test]
fn shift_moves_every_timestamp() {
    let inp = full_input();
    let t = transformed("[[transforms]]\nkind = \"shift\"\nsecs = -600\n", &inp);
    for (a, b) in inp.prices.iter().zip(&t.prices) {
        assert_eq!(b.ts.0, a.ts.0 - 600_000_000);
        assert_eq!(b.close, a.close);
    }
    assert_eq!(t.oracle_rounds[1].ts, at(3000));
    assert_eq!(t.liquidity.as_ref().unwrap()[0].ts, at(-600));
    assert_eq!(t.gas.as_ref().unwrap()[1].0, at(3000));
}

#[test]
fn price_shock_is_exact_and_joint() {
    let p = path("ETH", &[100.0; 5]);
    let mut all = p;
    all.extend(path("BTC", &[10.0; 5]));
    let rounds = vec![round("ETH", 60, 100.0, 1), round("ETH", 150, 100.0, 2)];
    // -30% at 00:02, recovering over 120 s: closes at 60..300 s
    let t = transformed(
        "[[transforms]]\nkind = \"price_shock\"\nassets = [\"ETH\", \"BTC\"]\nat = \"2020-03-12 00:02\"\npct = -0.3\nrecover_secs = 120\n",
        &rows(all.clone(), rounds.clone()),
    );
    assert_eq!(
        closes(&t, "ETH"),
        vec![w(100.0), w(70.0), w(85.0), w(100.0), w(100.0)]
    );
    assert_eq!(
        closes(&t, "BTC"),
        vec![w(10.0), w(7.0), w(8.5), w(10.0), w(10.0)]
    );
    assert_eq!(t.oracle_rounds[0].answer, w(100.0));
    assert_eq!(t.oracle_rounds[1].answer, w(77.5));
    // without recovery: held to the end
    let t = transformed(
        "[[transforms]]\nkind = \"price_shock\"\nassets = [\"ETH\"]\nat = \"2020-03-12 00:02\"\npct = -0.3\n",
        &rows(all, rounds),
    );
    assert_eq!(
        closes(&t, "ETH"),
        vec![w(100.0), w(70.0), w(70.0), w(70.0), w(70.0)]
    );
    assert_eq!(closes(&t, "BTC"), vec![w(10.0); 5]);
}

#[test]
fn depeg_follows_its_ramp_hold_and_recovery() {
    let usdc = path("USDC", &[1.0; 7]);
    let mut all = path("ETH", &[100.0; 7]);
    all.extend(usdc);
    let t = transformed(
        "[[transforms]]\nkind = \"depeg\"\nasset = \"USDC\"\nat = \"2020-03-12 00:01\"\ndepth = 0.1\nramp_secs = 120\nhold_secs = 60\nrecover_secs = 120\n",
        &rows(all, vec![round("USDC", 180, 1.0, 1)]),
    );
    // closes at 60..420 s: start 60, ramp to 180, hold to 240, recover to 360
    assert_eq!(
        closes(&t, "USDC"),
        vec![w(1.0), w(0.95), w(0.9), w(0.9), w(0.95), w(1.0), w(1.0)]
    );
    assert_eq!(t.oracle_rounds[0].answer, w(0.9));
    assert_eq!(closes(&t, "ETH"), vec![w(100.0); 7]);
}

#[test]
fn a_pegged_asset_can_depeg() {
    // DAI has no bars: market.pegs values it at 1; the depeg materialises
    // its peg bars first
    let sc_text = "[market.pegs]\nDAI = 1\n[[transforms]]\nkind = \"depeg\"\nasset = \"DAI\"\nat = \"2020-03-12 00:02\"\ndepth = 0.2\n";
    let inp = rows(path("ETH", &[100.0; 4]), vec![]);
    let t = transformed(sc_text, &inp);
    assert_eq!(closes(&t, "DAI"), vec![w(1.0), w(0.8), w(0.8), w(0.8)]);
    assert_eq!(closes(&t, "ETH"), vec![w(100.0); 4]);
    // and the run prices DAI along the depegged path
    let i = input(
        path("ETH", &[2000.0; 4]),
        vec![
            leg("a", "ETH", Collateral, 1.0),
            leg("a", "DAI", Debt, 1000.0),
        ],
    );
    let sc = scenario(&format!("[policy.assets.DAI]\n{sc_text}"));
    let out = run(&sc, &i).unwrap();
    assert_eq!(
        out.summary.hypothetical,
        vec!["DAI depegs by 20% from 2020-03-12 00:02:00 UTC (ramp 0 s, held to the end, recovery 0 s)"]
    );
}

#[test]
fn liquidity_and_liquidators_change_the_frictions() {
    let sc = scenario(&format!(
        "{FRICTIONS}[[transforms]]\nkind = \"liquidity\"\ndivisor = 4\n[[transforms]]\nkind = \"liquidators\"\ncapital_factor = 0.5\nparticipation = 0.5\n"
    ));
    let inp = full_input();
    let (s2, i2) = apply(&sc, &inp).unwrap();
    assert_eq!(s2.frictions.liquidity.default_depth_usd, w(500_000.0));
    assert_eq!(s2.frictions.liquidators.len(), 1);
    assert_eq!(s2.frictions.liquidators[0].name, "fast");
    assert_eq!(s2.frictions.liquidators[0].capital_usd, w(100_000.0));
    let d: Vec<Wad> = i2
        .liquidity
        .as_ref()
        .unwrap()
        .iter()
        .map(|r| r.depth_usd)
        .collect();
    assert_eq!(d, vec![w(250_000.0), w(500_000.0), w(750_000.0)]);
    // only listed assets; one without its own depth gets the default divided
    let sc = scenario(&format!(
        "{FRICTIONS}[[transforms]]\nkind = \"liquidity\"\ndivisor = 10\nassets = [\"USDC\"]\n"
    ));
    let (s2, i2) = apply(&sc, &inp).unwrap();
    assert_eq!(s2.frictions.liquidity.default_depth_usd, w(2_000_000.0));
    assert_eq!(s2.frictions.liquidity.depth_usd["USDC"], w(200_000.0));
    assert_eq!(i2.liquidity, inp.liquidity);
    // the run records the scenario as written, not the divided depth
    let out = run(&sc, &inp).unwrap();
    assert_eq!(out.run_meta.resolved_config, sc.resolved_toml());
    assert_eq!(
        out.run_meta.run_id,
        shortfall_replay::run_id(&sc.resolved_toml(), &inp.input_hashes, &inp.tool_version)
    );
}

#[test]
fn bad_parameters_name_the_key() {
    let inp = full_input();
    let err = |t: &str| {
        let sc = Scenario::from_toml(&format!("{AAVE}{FRICTIONS}{t}"));
        match sc {
            Err(e) => e.to_string(),
            Ok(sc) => run(&sc, &inp).unwrap_err().to_string(),
        }
    };
    let e = err("[[transforms]]\nkind = \"vol_scale\"\nfactor = 1\n[[transforms]]\nkind = \"vol_scale\"\nfactor = 0\n");
    assert!(
        e.contains("transforms.1.factor") && e.contains("must be above 0"),
        "{e}"
    );
    let e = err("[[transforms]]\nkind = \"time_scale\"\nfactor = -1\n");
    assert!(e.contains("transforms.0.factor"), "{e}");
    let e = err("[[transforms]]\nkind = \"price_shock\"\nassets = [\"ETH\"]\nat = \"2020-03-12 01:00\"\npct = -1\n");
    assert!(e.contains("transforms.0.pct"), "{e}");
    let e = err("[[transforms]]\nkind = \"price_shock\"\nassets = [\"XYZ\"]\nat = \"2020-03-12 01:00\"\npct = -0.1\n");
    assert!(
        e.contains("transforms.0.assets") && e.contains("XYZ"),
        "{e}"
    );
    let e = err("[[transforms]]\nkind = \"depeg\"\nasset = \"USDC\"\nat = \"soon\"\ndepth = 0.1\n");
    assert!(e.contains("transforms.0.at"), "{e}");
    let e =
        err("[[transforms]]\nkind = \"depeg\"\nasset = \"USDC\"\nat = \"2020-03-12\"\ndepth = 1\n");
    assert!(e.contains("transforms.0.depth"), "{e}");
    let e = err("[[transforms]]\nkind = \"liquidity\"\ndivisor = 0\n");
    assert!(e.contains("transforms.0.divisor"), "{e}");
    let e = err("[[transforms]]\nkind = \"liquidators\"\nparticipation = 0\n");
    assert!(e.contains("transforms.0.participation"), "{e}");
    let e = err("[[transforms]]\nkind = \"vol_scale\"\nfactor = 2\nfactr = 3\n");
    assert!(e.contains("factr"), "{e}");
    let e = err("[[transforms]]\nkind = \"warp\"\n");
    assert!(e.contains("warp"), "{e}");
    // no listed liquidator: nothing to stress
    let sc = scenario("[[transforms]]\nkind = \"liquidators\"\ncapital_factor = 0.5\n");
    let e = run(&sc, &inp).unwrap_err().to_string();
    assert!(
        e.contains("transforms.0") && e.contains("frictions.liquidators"),
        "{e}"
    );
}

/// Liquidity model, one capital-constrained liquidator and a slow one.
const FRICTIONS: &str = r#"
[[frictions.liquidators]]
name = "fast"
latency_secs = 30
capital_usd = 200000
[[frictions.liquidators]]
name = "slow"
latency_secs = 300
capital_usd = 200000
[frictions.liquidity]
model = "linear"
default_depth_usd = 2000000
"#;

/// Twenty ETH/USDC loans, health factors from 1.03 to 1.65 at $2000.
fn book() -> Vec<PositionLeg> {
    let mut v = Vec::new();
    for k in 0..20 {
        let a = format!("acct{k:02}");
        v.push(leg(&a, "ETH", Collateral, 100.0));
        v.push(leg(&a, "USDC", Debt, 100_000.0 + 3_000.0 * k as f64));
    }
    v
}

fn bad_debt(extra: &str) -> Wad {
    let sc = scenario(&format!("{FRICTIONS}{extra}"));
    let inp = input(eth_crash_usdc_flat(1400.0, 30), book());
    run(&sc, &inp).unwrap().summary.bad_debt_usd
}

#[test]
fn more_stress_never_less_bad_debt() {
    let vol = |f: f64| {
        bad_debt(&format!(
            "[[transforms]]\nkind = \"vol_scale\"\nfactor = {f:?}\n"
        ))
    };
    let (v05, v10, v15) = (vol(0.5), vol(1.0), vol(1.5));
    eprintln!("vol_scale 0.5/1/1.5: {v05} {v10} {v15}");
    assert!(v15 >= v10 && v10 >= v05, "{v05} {v10} {v15}");
    assert!(v15 > v05, "the monotone case must move");
    let liq = |d: u32| {
        bad_debt(&format!(
            "[[transforms]]\nkind = \"liquidity\"\ndivisor = {d}\n"
        ))
    };
    let (l1, l10) = (liq(1), liq(10));
    eprintln!("liquidity /1 /10: {l1} {l10}");
    assert!(l10 >= l1 && l10 > Wad::ZERO, "{l1} {l10}");
    let shock = |p: &str| {
        bad_debt(&format!(
            "[[transforms]]\nkind = \"price_shock\"\nassets = [\"ETH\"]\nat = \"2020-03-12 01:00\"\npct = {p}\n"
        ))
    };
    let (s0, s3) = (shock("0"), shock("-0.3"));
    eprintln!("price_shock 0 / -0.3: {s0} {s3}");
    assert!(s3 >= s0 && s3 > s0, "{s0} {s3}");
    // (No such assertion for the liquidator stress: fewer liquidations of
    // positions already under water can leave less bad debt, since each
    // pays a bonus out of the collateral.)
}

#[test]
fn a_hypothetical_run_lists_what_makes_it_so() {
    let sc = scenario(&format!(
        "{FRICTIONS}[[oracle.overrides]]\nasset = \"ETH\"\nkind = \"freeze\"\nfrom = \"2020-03-12 01:00\"\nto = \"2020-03-12 02:00\"\n\
[[transforms]]\nkind = \"vol_scale\"\nfactor = 1.5\nassets = [\"ETH\"]\n\
[[transforms]]\nkind = \"time_scale\"\nfactor = 0.5\n\
[[transforms]]\nkind = \"shift\"\nsecs = 0\n\
[[transforms]]\nkind = \"price_shock\"\nassets = [\"ETH\", \"USDC\"]\nat = \"2020-03-12 01:00\"\npct = -0.3\nrecover_secs = 3600\n\
[[transforms]]\nkind = \"liquidity\"\ndivisor = 10\n\
[[transforms]]\nkind = \"liquidators\"\nparticipation = 0.5\n"
    ));
    let out = run(&sc, &input(eth_crash_usdc_flat(1400.0, 30), book())).unwrap();
    assert_eq!(
        out.summary.hypothetical,
        vec![
            "every return of ETH x 1.5 (volatility scaling, from the window start)",
            "time compressed x 0.5 after 2020-03-12 00:00:00 UTC: each hour of the recorded path replayed in 30 minutes (data after the window end dropped)",
            "joint price shock of -30% on ETH and USDC from 2020-03-12 01:00:00 UTC, recovering linearly over 3600 s",
            "market depth of every asset divided by 10 (liquidity stress)",
            "liquidator capital x 1, 1 of 2 liquidators kept (liquidator stress)",
            "oracle of ETH frozen from 2020-03-12 01:00:00 UTC to 2020-03-12 02:00:00 UTC",
        ]
    );
    let json = serde_json::to_string(&out.summary).unwrap();
    assert!(json.contains("\"hypothetical\":["), "{json}");
    // an override the sources cite reconstructs what happened: not hypothetical
    let cited = scenario(
        "[[oracle.overrides]]\nasset = \"ETH\"\nkind = \"print\"\nfrom = \"2020-03-12 01:00\"\nprice = 50\n[sources]\n\"oracle.overrides\" = \"the feed printed 50 [P]\"\n",
    );
    assert!(describe(&cited).is_empty());
    let uncited = scenario(
        "[[oracle.overrides]]\nasset = \"ETH\"\nkind = \"print\"\nfrom = \"2020-03-12 01:00\"\nprice = 50\n[sources]\n\"oracle.overridesX\" = \"no\"\n",
    );
    assert_eq!(
        describe(&uncited),
        vec!["oracle of ETH prints a manipulated 50 at 2020-03-12 01:00:00 UTC, held until the next genuine answer"]
    );
    // a plain run: nothing, and the key is absent from summary.json
    let plain = run(
        &scenario(""),
        &input(eth_crash_usdc_flat(1400.0, 30), book()),
    )
    .unwrap();
    assert!(!serde_json::to_string(&plain.summary)
        .unwrap()
        .contains("hypothetical"));
}

#[test]
fn transforms_compose_in_order() {
    // shock then time-scale: the shock time is in the recorded clock
    let p = path("ETH", &[100.0; 4]);
    let a = transformed(
        "[[transforms]]\nkind = \"price_shock\"\nassets = [\"ETH\"]\nat = \"2020-03-12 00:03\"\npct = -0.5\n[[transforms]]\nkind = \"time_scale\"\nfactor = 0.5\n",
        &rows(p.clone(), vec![]),
    );
    assert_eq!(
        closes(&a, "ETH"),
        vec![w(100.0), w(100.0), w(50.0), w(50.0)]
    );
    // time-scale then shock: the shock time is in the compressed clock
    let b = transformed(
        "[[transforms]]\nkind = \"time_scale\"\nfactor = 0.5\n[[transforms]]\nkind = \"price_shock\"\nassets = [\"ETH\"]\nat = \"2020-03-12 00:01\"\npct = -0.5\n",
        &rows(p, vec![]),
    );
    assert_eq!(closes(&b, "ETH"), vec![w(100.0), w(50.0), w(50.0), w(50.0)]);
}

fn random_path() -> impl Strategy<Value = Vec<(i64, f64, f64, f64)>> {
    prop::collection::vec((1i64..600, 1.0f64..5000.0, 0.0f64..0.2, 0.0f64..0.2), 1..40)
}

fn bars_of(steps: &[(i64, f64, f64, f64)]) -> Vec<PriceBar> {
    let mut t = -300;
    steps
        .iter()
        .enumerate()
        .map(|(k, (dt, c, up, down))| {
            t += dt;
            let mut b = PriceBar::flat(
                at(t),
                if k % 2 == 0 { "a" } else { "b" },
                "ETH",
                "USD",
                60,
                w(*c),
            );
            b.high = w(c * (1.0 + up));
            b.low = w(c * (1.0 - down));
            b
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn factor_one_is_the_identity(steps in random_path()) {
        let inp = rows(bars_of(&steps), vec![]);
        for t in ["vol_scale", "time_scale"] {
            let sc = scenario(&format!("[[transforms]]\nkind = \"{t}\"\nfactor = 1\n"));
            let (_, out) = apply(&sc, &inp).unwrap();
            prop_assert!(matches!(out, Cow::Borrowed(_)));
            prop_assert_eq!(&out.prices, &inp.prices);
        }
    }

    #[test]
    fn vol_scale_keeps_bars_ordered_and_inverts(steps in random_path(), f in 0.2f64..3.0) {
        let inp = rows(bars_of(&steps), vec![]);
        let there = transformed(&format!("[[transforms]]\nkind = \"vol_scale\"\nfactor = {f:?}\n"), &inp);
        for b in &there.prices {
            prop_assert!(b.low <= b.close && b.close <= b.high && b.low.0 > 0);
        }
        let back = transformed(&format!("[[transforms]]\nkind = \"vol_scale\"\nfactor = {:?}\n", 1.0 / f), &there);
        for (x, y) in inp.prices.iter().zip(&back.prices) {
            let rel = (x.close.to_f64() - y.close.to_f64()).abs() / x.close.to_f64();
            prop_assert!(rel < 1e-9, "{} vs {}", x.close, y.close);
        }
    }

    #[test]
    fn time_scale_halves_then_doubles(steps in random_path()) {
        let inp = rows(bars_of(&steps), vec![]);
        let half = transformed("[[transforms]]\nkind = \"time_scale\"\nfactor = 0.5\n", &inp);
        let back = transformed("[[transforms]]\nkind = \"time_scale\"\nfactor = 2\n", &half);
        // times in the window come back (whole seconds halve exactly to
        // microseconds); data past the end is gone
        let end = at(6 * 3600);
        let kept: Vec<&PriceBar> = inp.prices.iter().filter(|b| Micros(b.ts.0 + 60_000_000) <= end).collect();
        prop_assert_eq!(back.prices.len(), kept.len());
        for (x, y) in kept.iter().zip(&back.prices) {
            prop_assert_eq!(&x.close, &y.close);
            prop_assert_eq!(x.ts.0 + 60_000_000, y.ts.0 + y.interval_secs * 1_000_000);
        }
    }
}

const SIMULATED: &str = "[[transforms]]\nkind = \"simulated\"\nmodel = \"bootstrap\"\nseed = 3\npath = 0\nblock_secs = 600\nhorizon_secs = 3600\n";

#[test]
fn simulated_paths_start_from_the_real_prices_and_reuse_its_returns() {
    let inp = full_input();
    let a = transformed(SIMULATED, &inp);
    let again = transformed(SIMULATED, &inp);
    same_rows(&a, &again);
    let b = transformed(&SIMULATED.replace("path = 0", "path = 1"), &inp);
    let (orig, sim) = (closes(&inp, "ETH"), closes(&a, "ETH"));
    assert_eq!(orig.len(), sim.len());
    // The anchor (first bar in the window) is the real one; the rest moves.
    assert_eq!(orig[0], sim[0]);
    assert_ne!(orig, sim);
    assert_ne!(sim, closes(&b, "ETH"));
    // Every simulated one-minute return is one of the recorded ones.
    let ret = |v: &[Wad]| -> Vec<f64> {
        v.windows(2)
            .map(|x| (x[1].to_f64() / x[0].to_f64()).ln())
            .collect()
    };
    let recorded = ret(&orig);
    for r in ret(&sim) {
        assert!(
            recorded.iter().any(|x| (x - r).abs() < 1e-9),
            "return {r} is not a recorded one"
        );
    }
    // Bars stay ordered; oracle rounds follow the simulated market price.
    for bar in a.prices.iter() {
        assert!(bar.low <= bar.open.min(bar.close) && bar.high >= bar.open.max(bar.close));
    }
    for (r0, r) in inp.oracle_rounds.iter().zip(&a.oracle_rounds) {
        let last = a
            .prices
            .iter()
            .filter(|b| b.base == "ETH" && b.ts.0 + 60_000_000 <= r.ts.0)
            .map(|b| (b.ts, b.close))
            .max();
        match last {
            Some((_, close)) => assert_eq!(r.answer, close, "round at {}", r.ts.to_iso()),
            None => assert_eq!(r.answer, r0.answer, "a round before the first bar is kept"),
        }
    }
    // Recorded in the run as hypothetical.
    let sc = scenario(&format!("{FRICTIONS}{SIMULATED}"));
    let out = run(&sc, &inp).unwrap();
    assert!(out.summary.hypothetical[0].contains("simulated market path #0 (seed 3)"));
}

#[test]
fn simulated_parameters_are_checked() {
    let inp = full_input();
    for (bad, key) in [
        (
            SIMULATED.replace("3600", "999999"),
            "transforms.0.horizon_secs",
        ),
        (
            SIMULATED.replace("block_secs = 600", "block_secs = 0"),
            "transforms.0.block_secs",
        ),
        (
            SIMULATED.replace(
                "seed = 3",
                "seed = 3\nfit_start = \"2020-03-12 05:00\"\nfit_end = \"2020-03-12 04:00\"",
            ),
            "transforms.0.fit_end",
        ),
    ] {
        let sc = scenario(&bad);
        let Err(e) = apply(&sc, &inp) else {
            panic!("{key}: expected an error")
        };
        let e = e.to_string();
        assert!(e.contains(key), "{e}");
    }
}
