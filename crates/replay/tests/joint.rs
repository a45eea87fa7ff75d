//! Several protocols replayed together (contagion): liquidation sales in
//! one protocol move the shared market the others see.

mod common;

use common::*;
use shortfall_core::LegSide::{Collateral, Debt};
use shortfall_core::{PositionLeg, Wad};
use shortfall_replay::{replay_joint, run, JointRun, Member, ReplayInput, RunOutput, Scenario};

/// The common Aave scenario under `name`, with $10M of linear depth and
/// price impact 0.5.
fn scenario(name: &str) -> Scenario {
    let text = format!(
        "{}[frictions.liquidity]\nmodel = \"linear\"\ndefault_depth_usd = 10000000\nprice_impact = 0.5\n",
        AAVE.replace("name = \"eth-crash\"", &format!("name = \"{name}\""))
    );
    Scenario::from_toml(&text).unwrap()
}

/// A large lender: 200 positions of 100 ETH against 140,000 USDC
/// (liquidation price about $1,697).
fn big_book() -> Vec<PositionLeg> {
    (0..200)
        .flat_map(|i| {
            let a = format!("big-{i:03}");
            [
                leg(&a, "ETH", Collateral, 100.0),
                leg(&a, "USDC", Debt, 140_000.0),
            ]
        })
        .collect()
}

/// A small lender whose positions only fail below $1,500: never on the
/// recorded path (low $1,650).
fn small_book() -> Vec<PositionLeg> {
    (0..20)
        .flat_map(|i| {
            let a = format!("small-{i:02}");
            [
                leg(&a, "ETH", Collateral, 10.0),
                leg(&a, "USDC", Debt, 12_375.0),
            ]
        })
        .collect()
}

fn inputs() -> (ReplayInput, ReplayInput) {
    let prices = eth_crash_usdc_flat(1650.0, 120);
    (
        input(prices.clone(), big_book()),
        input(prices, small_book()),
    )
}

fn together(
    a: (&Scenario, &ReplayInput),
    b: (&Scenario, &ReplayInput),
    shared: &[&str],
    note: &str,
) -> Result<Vec<JointRun>, String> {
    let members = [
        Member {
            scenario: a.0,
            input: a.1,
            book: &a.1.book,
        },
        Member {
            scenario: b.0,
            input: b.1,
            book: &b.1.book,
        },
    ];
    let shared: Vec<String> = shared.iter().map(|s| s.to_string()).collect();
    replay_joint(&members, &shared, note, false).map_err(|e| e.to_string())
}

fn alone(sc: &Scenario, i: &ReplayInput) -> RunOutput {
    run(sc, i).unwrap()
}

#[test]
fn without_a_shared_market_the_members_replay_as_alone() {
    let (ia, ib) = inputs();
    let (a, b) = (scenario("big"), scenario("small"));
    let joint = together((&a, &ia), (&b, &ib), &[], "").unwrap();
    assert_eq!(joint[0].out, alone(&a, &ia));
    assert_eq!(joint[1].out, alone(&b, &ib));
    // One member with an empty note is the plain replay, even sharing.
    let one = replay_joint(
        &[Member {
            scenario: &a,
            input: &ia,
            book: &ia.book,
        }],
        &["ETH".to_string()],
        "",
        false,
    )
    .unwrap();
    assert_eq!(one[0].out, joint[0].out);
    // A note gives the joint runs their own run ids.
    let noted = together((&a, &ia), (&b, &ib), &[], "with small").unwrap();
    assert_ne!(noted[0].out.run_meta.run_id, joint[0].out.run_meta.run_id);
    assert!(noted[0]
        .out
        .run_meta
        .resolved_config
        .ends_with("# Replayed together: with small\n"));
    assert_eq!(noted[0].out.summary, joint[0].out.summary);
}

#[test]
fn sales_of_one_lender_reach_the_other_through_the_shared_market() {
    let (ia, ib) = inputs();
    let (a, b) = (scenario("big"), scenario("small"));
    let big = alone(&a, &ia);
    let small = alone(&b, &ib);
    assert!(big.summary.liquidation_count > 0);
    assert_eq!(small.summary.liquidation_count, 0, "safe on its own");
    let joint = together((&a, &ia), (&b, &ib), &["ETH"], "big and small").unwrap();
    let (jb, js) = (&joint[0], &joint[1]);
    // The small lender sees the big one's sales: its positions fail.
    assert!(js.out.summary.liquidation_count > 0);
    assert!(js.out.summary.bad_debt_usd >= small.summary.bad_debt_usd);
    // Both saw the same, lower, market.
    let low = |r: &JointRun| r.market_low["ETH"];
    let recorded = Wad::from_int(1650);
    assert!(low(js) < recorded, "{}", low(js));
    assert_eq!(low(js), low(jb));
    // The big lender alone already pushed its own price below the record.
    let big_alone = replay_joint(
        &[Member {
            scenario: &a,
            input: &ia,
            book: &ia.book,
        }],
        &[],
        "",
        false,
    )
    .unwrap();
    assert!(big_alone[0].market_low["ETH"] < recorded);
    // More sellers into one market never lowered the total bad debt here.
    let total = |x: &RunOutput, y: &RunOutput| x.summary.bad_debt_usd + y.summary.bad_debt_usd;
    assert!(total(&jb.out, &js.out) >= total(&big, &small));
    // Together is deterministic.
    let again = together((&a, &ia), (&b, &ib), &["ETH"], "big and small").unwrap();
    assert_eq!(again[1].out, js.out);
    assert_eq!(again[0].out, jb.out);
}

#[test]
fn a_shared_market_needs_one_price_path() {
    let (ia, _) = inputs();
    let b = scenario("small");
    let ib = input(eth_crash_usdc_flat(1600.0, 120), small_book());
    let err = together((&scenario("big"), &ia), (&b, &ib), &["ETH"], "x").unwrap_err();
    assert!(
        err.contains("`ETH` has different market prices in big"),
        "{err}"
    );
    assert!(err.contains("small"), "{err}");
    let err = together((&scenario("big"), &ia), (&b, &ib), &["BTC"], "x").unwrap_err();
    assert!(err.contains("no member has `BTC`"), "{err}");
}
