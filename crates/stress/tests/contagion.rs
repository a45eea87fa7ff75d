//! Contagion specs: parsing, members, exposure, alone versus together.

use shortfall_core::{Book, LegSide, Micros, PositionLeg, PriceBar, Wad};
use shortfall_replay::ReplayInput;
use shortfall_stress::contagion::{Contagion, ContagionError, Spec};

const T0: i64 = 1_583_971_200; // 2020-03-12 00:00 UTC

fn w(x: f64) -> Wad {
    Wad::parse_decimal(&format!("{x}"), true).unwrap()
}

/// Aave v3, ETH at the market, USDC pegged; no liquidity model of its own.
const SCENARIO: &str = r#"
name = "eth-crash"
seed = 1
[window]
start = "2020-03-12 00:00"
end = "2020-03-12 06:00"
[policy]
preset = "aave_v3"
[policy.assets.ETH]
liquidation_threshold = 0.825
liquidation_bonus = 1.05
[policy.assets.USDC]
decimals = 6
liquidation_threshold = 0.87
liquidation_bonus = 1.045
[oracle.default]
source = "market"
mode = "direct"
[oracle.assets.USDC]
mode = "fixed"
peg = 1
"#;

fn spec(shared: &str) -> String {
    format!(
        r#"
name = "eth-two-lenders"
{shared}
[liquidity]
model = "linear"
default_depth_usd = 10000000
price_impact = 0.5

[[members]]
protocol = "big"
scenario = "eth-crash.toml"

[[members]]
protocol = "small"
scenario = "eth-crash.toml"
set = ["policy.assets.ETH.liquidation_bonus=1.1"]
"#
    )
}

/// ETH from 2000 to 1650 over two hours, then flat; USDC at 1.
fn prices() -> Vec<PriceBar> {
    (0..360)
        .flat_map(|m| {
            let eth = if m >= 120 {
                1650.0
            } else {
                2000.0 - 350.0 * m as f64 / 120.0
            };
            let t = Micros::from_secs(T0 + m * 60);
            [
                PriceBar::flat(t, "test", "ETH", "USD", 60, w(eth)),
                PriceBar::flat(t, "test", "USDC", "USD", 60, w(1.0)),
            ]
        })
        .collect()
}

fn book(prefix: &str, n: usize, eth: f64, usdc: f64) -> Book {
    let legs: Vec<PositionLeg> = (0..n)
        .flat_map(|i| {
            let a = format!("{prefix}-{i:03}");
            let l = |asset: &str, side, x| PositionLeg {
                account: a.clone(),
                market: "test".into(),
                asset: asset.into(),
                side,
                amount: w(x),
            };
            [
                l("ETH", LegSide::Collateral, eth),
                l("USDC", LegSide::Debt, usdc),
            ]
        })
        .collect();
    Book::from_legs(&legs)
}

fn input(book: Book) -> ReplayInput {
    ReplayInput {
        prices: prices(),
        book,
        input_hashes: [("prices".to_string(), "abc".to_string())]
            .into_iter()
            .collect(),
        tool_version: "test".into(),
        ..Default::default()
    }
}

fn contagion(spec_text: &str, shared_account: bool) -> Result<Contagion, ContagionError> {
    let spec = Spec::from_toml(spec_text)?;
    let mut small = book("small", 20, 10.0, 12_375.0);
    if shared_account {
        // One account borrows in both protocols.
        let both = book("big", 1, 10.0, 1_000.0);
        small.positions.extend(both.positions);
    }
    let loaded = vec![
        (
            spec.member_scenario(0, SCENARIO)?,
            input(book("big", 200, 100.0, 140_000.0)),
        ),
        (spec.member_scenario(1, SCENARIO)?, input(small)),
    ];
    Contagion::new(spec, spec_text.to_string(), loaded)
}

#[test]
fn specs_are_checked() {
    let bad = |text: &str, needle: &str| {
        let e = Spec::from_toml(text).unwrap_err().to_string();
        assert!(e.contains(needle), "{e}");
    };
    bad(
        &spec("").replace("protocol = \"small\"", "protocol = \"big\""),
        "`big` is used twice",
    );
    bad(
        &spec("").replace("protocol = \"small\"", "protocol = \"<b>\""),
        "members.1.protocol",
    );
    bad(&spec("unknown = 1"), "unknown field `unknown`");
    let one = spec("");
    let one = &one[..one.rfind("[[members]]").unwrap()];
    bad(one, "at least two protocols");
    // Members take the protocol as name, the spec's liquidity and their sets.
    let s = Spec::from_toml(&spec("")).unwrap();
    let sc = s.member_scenario(1, SCENARIO).unwrap();
    assert_eq!(sc.name, "small");
    assert_eq!(sc.frictions.liquidity.price_impact, w(0.5));
    assert_eq!(sc.asset("ETH").liquidation_bonus, w(1.1));
    let e = s
        .member_scenario(1, &SCENARIO.replace("seed = 1", "seed = 1\nbogus = 2"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("member `small`") && e.contains("bogus"), "{e}");
}

#[test]
fn alone_and_together_with_the_exposure_graph() {
    let c = contagion(&spec(""), true).unwrap();
    // The shared assets default to those in both books.
    assert_eq!(c.shared, vec!["ETH".to_string(), "USDC".to_string()]);
    let c = contagion(&spec("shared = [\"ETH\"]"), true).unwrap();
    let r = c.run("test").unwrap();
    let m = &r.meta;
    let (big, small) = (&m.members[0], &m.members[1]);
    assert_eq!(small.alone.liquidation_count, 0, "safe alone");
    assert!(
        small.together.liquidation_count > 0,
        "reached by big's sales"
    );
    assert!(big.alone.liquidation_count > 0);
    assert_eq!(
        m.total_together.bad_debt_usd,
        big.together.bad_debt_usd + small.together.bad_debt_usd
    );
    assert!(m.total_together.bad_debt_usd >= m.total_alone.bad_debt_usd);
    // The runs: alone equals a plain replay; together has its own run id.
    assert_eq!(r.alone[1].summary.liquidation_count, 0);
    assert_ne!(small.alone_run_id, small.together_run_id);
    assert_eq!(small.together_run, "together/small");
    // The shared market: the small lender now sees the big one's impact.
    let mk = &m.markets[0];
    assert_eq!(mk.asset, "ETH");
    let rec = mk.low_recorded.unwrap();
    assert_eq!(rec, Wad::from_int(1650));
    assert_eq!(mk.low_alone["small"], rec, "no sales, no impact");
    assert!(mk.low_alone["big"] < rec);
    // (Not necessarily below big's own low: the depth is capped, so the
    // two share the same most the market can take.)
    assert!(mk.low_together.unwrap() < rec);
    assert_eq!(mk.sold_alone_usd["small"], Wad::ZERO);
    assert!(mk.sold_together_usd["small"] > Wad::ZERO);
    // Exposure at the first close (the bar ending at 00:01: $2000).
    let e = m
        .exposure
        .iter()
        .find(|e| e.protocol == "small" && e.asset == "ETH")
        .unwrap();
    assert_eq!(e.positions, 21);
    assert!(e.shared);
    assert_eq!(e.collateral_usd, Wad::from_int(210 * 2000));
    let usdc = m
        .exposure
        .iter()
        .find(|e| e.protocol == "big" && e.asset == "USDC")
        .unwrap();
    assert!(!usdc.shared);
    assert_eq!(usdc.debt_usd, Wad::from_int(28_000_000));
    assert_eq!(
        m.liquidity,
        [
            "frictions.liquidity.default_depth_usd = \"10000000\"",
            "frictions.liquidity.model = \"linear\"",
            "frictions.liquidity.price_impact = \"0.5\"",
            "frictions.liquidity.recovery_secs = 3600",
        ]
    );
    // One account in both books.
    assert_eq!(m.account_overlap.len(), 1);
    let o = &m.account_overlap[0];
    assert_eq!(
        (o.a.as_str(), o.b.as_str(), o.accounts),
        ("big", "small", 1)
    );
    assert_eq!(o.debt_a_usd, Wad::from_int(140_000));
    assert_eq!(o.debt_b_usd, Wad::from_int(1_000));
    // Same inputs, same result.
    let again = c.run("test").unwrap();
    assert_eq!(again.meta, r.meta);
    assert_eq!(again.together, r.together);
}

#[test]
fn members_need_one_window() {
    let spec_text = spec("");
    let spec = Spec::from_toml(&spec_text).unwrap();
    let later = SCENARIO.replace("06:00", "07:00");
    let loaded = vec![
        (
            spec.member_scenario(0, SCENARIO).unwrap(),
            input(book("big", 2, 100.0, 140_000.0)),
        ),
        (
            spec.member_scenario(1, &later).unwrap(),
            input(book("small", 2, 10.0, 12_375.0)),
        ),
    ];
    let e = Contagion::new(spec, spec_text.clone(), loaded)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("different windows"), "{e}");
}
