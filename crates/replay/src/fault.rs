//! Fault injection for tests: cargo feature `fault-injection`, off by
//! default, so real builds do not contain this module (the CLI enables it
//! for its tests only, through a dev-dependency).
//!
//! `SHORTFALL_FAULT=leak_collateral@N`: right after the N-th liquidation of
//! a run (1-based, replay order, fixed-spread liquidations), one token unit
//! (1e-18) of the liquidated position's first collateral leg (or, with no
//! collateral left above one unit, of its first debt leg) disappears without
//! being booked anywhere. Nothing is reported here: the engine's own
//! end-of-run conservation check has to catch it
//! ([`crate::ReplayError::Invariant`], CLI exit code 3).

use crate::legs::Leg;

/// The environment variable naming the fault.
pub const VAR: &str = "SHORTFALL_FAULT";

/// `leak_collateral@N` -> N (N >= 1).
fn parse(spec: &str) -> Option<usize> {
    let n: usize = spec.trim().strip_prefix("leak_collateral@")?.parse().ok()?;
    (n >= 1).then_some(n)
}

/// Called once a liquidation is booked, with its 1-based number and the
/// position's (collateral, debt) legs.
pub(crate) fn after_liquidation(nth: usize, legs: (&mut [Leg], &mut [Leg])) {
    #[cfg(test)]
    if let Some(spec) = tests::SPEC.with(|s| s.borrow().clone()) {
        return apply(&spec, nth, legs);
    }
    if let Some(spec) = std::env::var_os(VAR) {
        apply(&spec.to_string_lossy(), nth, legs);
    }
}

fn apply(spec: &str, nth: usize, (coll, debt): (&mut [Leg], &mut [Leg])) {
    let n = parse(spec)
        .unwrap_or_else(|| panic!("{VAR}=`{spec}`: expected `leak_collateral@N`, N >= 1"));
    if n != nth {
        return;
    }
    // A leg of more than one unit, so no balance turns zero or negative
    // (the legs stay well formed; only the totals no longer add up).
    let leg = coll
        .iter_mut()
        .chain(debt.iter_mut())
        .find(|l| l.1 > 1)
        .unwrap_or_else(|| panic!("{VAR}: liquidation {nth} left no balance to leak from"));
    leg.1 -= 1;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{run, ReplayError, ReplayInput, Scenario};
    use shortfall_core::{Book, LegSide, Micros, PositionLeg, PriceBar, Wad};
    use std::cell::RefCell;

    thread_local! {
        /// This test thread's fault, instead of the process-wide variable
        /// (unit tests share one process; a run stays on its thread).
        pub(super) static SPEC: RefCell<Option<String>> = const { RefCell::new(None) };
    }

    #[test]
    fn parses_the_spec() {
        assert_eq!(parse("leak_collateral@1"), Some(1));
        assert_eq!(parse(" leak_collateral@12\n"), Some(12));
        assert_eq!(parse("leak_collateral@0"), None);
        assert_eq!(parse("leak_collateral@"), None);
        assert_eq!(parse("leak_debt@1"), None);
    }

    #[test]
    fn leaks_one_unit_at_the_nth_liquidation_only() {
        let (mut c, mut d) = ([(0u16, 1i128), (1, 5)], [(2u16, 7i128)]);
        apply("leak_collateral@2", 1, (&mut c, &mut d));
        assert_eq!((c, d), ([(0, 1), (1, 5)], [(2, 7)]));
        apply("leak_collateral@2", 2, (&mut c, &mut d));
        assert_eq!((c, d), ([(0, 1), (1, 4)], [(2, 7)]));
        let (mut c, mut d) = ([(0u16, 1i128)], [(2u16, 7i128)]);
        apply("leak_collateral@1", 1, (&mut c, &mut d));
        assert_eq!((c, d), ([(0, 1)], [(2, 6)]));
    }

    /// ETH falls from 2000 to 1700 over two hours; the position (10 ETH
    /// against 15000 USDC, health 1.1 at 2000) is liquidated on the way.
    fn crash() -> (Scenario, ReplayInput) {
        let sc = Scenario::from_toml(
            r#"
name = "fault"
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
"#,
        )
        .unwrap();
        let w = |x: f64| Wad::parse_decimal(&format!("{x}"), true).unwrap();
        let t0 = 1_583_971_200; // 2020-03-12 00:00 UTC
        let mut prices = Vec::new();
        for m in 0..360i64 {
            let eth = 2000.0 - 300.0 * (m.min(120) as f64) / 120.0;
            for (asset, p) in [("ETH", eth), ("USDC", 1.0)] {
                let ts = Micros::from_secs(t0 + m * 60);
                prices.push(PriceBar::flat(ts, "test", asset, "USD", 60, w(p)));
            }
        }
        prices.sort_by(|a, b| (a.ts, &a.base).cmp(&(b.ts, &b.base)));
        let leg = |asset: &str, side, amount| PositionLeg {
            account: "alice".into(),
            market: "test".into(),
            asset: asset.into(),
            side,
            amount: w(amount),
        };
        let legs = [
            leg("ETH", LegSide::Collateral, 10.0),
            leg("USDC", LegSide::Debt, 15000.0),
        ];
        let input = ReplayInput {
            prices,
            oracle_rounds: vec![],
            book: Book::from_legs(&legs),
            gas: None,
            input_hashes: Default::default(),
            tool_version: "test".into(),
            lending_events: None,
            liquidity: None,
            perp_positions: Vec::new(),
        };
        (sc, input)
    }

    #[test]
    fn a_leak_fails_the_conservation_check() {
        let (sc, input) = crash();
        // without a fault: liquidated, and the books balance
        let out = run(&sc, &input).unwrap();
        assert!(!out.liquidations.is_empty());
        SPEC.with(|s| *s.borrow_mut() = Some("leak_collateral@1".into()));
        let r = run(&sc, &input);
        SPEC.with(|s| *s.borrow_mut() = None);
        match r {
            Err(ReplayError::Invariant { seq, event, detail }) => {
                assert_eq!(event, "end of run, asset ETH");
                assert!(detail.starts_with("collateral"), "{detail}");
                assert!(seq > 0);
            }
            Err(e) => panic!("expected an invariant error, got {e}"),
            Ok(_) => panic!("the leak went unnoticed"),
        }
    }
}
