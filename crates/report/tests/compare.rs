mod common;

use common::*;
use shortfall_report::{build_compare, CompareOptions, Templates};

#[test]
fn compare_shows_deltas_settings_and_position_differences() {
    let a = make_run("ETH", None);
    let b = make_run("ETH", Some(0.2));
    let c = build_compare(&a, &b, &CompareOptions::default()).unwrap();
    let keys: Vec<&str> = c.settings.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(
        keys,
        ["policy.close_factor"],
        "only the close factor differs"
    );
    assert_eq!(c.settings[0].a, "-");
    assert_eq!(c.settings[0].b, "0.2");
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let bad = c.headline.iter().find(|f| f.key == "bad_debt_usd").unwrap();
    assert_eq!(bad.a, shortfall_report::format::usd(a.summary.bad_debt_usd));
    assert_eq!(bad.b, shortfall_report::format::usd(b.summary.bad_debt_usd));
    // Per-position changes are exactly the positions whose shortfall differs.
    let changed = a
        .loans
        .iter()
        .zip(&b.loans)
        .filter(|(x, y)| x.shortfall_usd != y.shortfall_usd)
        .count();
    assert_eq!(c.shortfall_changes.total, changed.to_string());
    assert_eq!(c.positions_compared, "40");
    let html = Templates::builtin().unwrap().render_compare(&c).unwrap();
    assert!(html.contains("policy.close_factor"));
    assert!(!html.contains("<script>"));
    // A run against itself: no differences at all.
    let same = build_compare(&a, &a, &CompareOptions::default()).unwrap();
    assert!(same.settings.is_empty());
    assert_eq!(same.title, "Gap crash ETH: two runs compared");
    assert_eq!(same.shortfall_changes.total, "0");
    assert_eq!(same.npl_only_a.total, "0");
    assert!(same
        .headline
        .iter()
        .all(|f| f.delta == "$0" || f.delta == "0" || f.delta == "0.00 pp"));
}

#[test]
fn compare_warns_when_the_runs_are_not_the_same_crisis() {
    let a = make_run("ETH", None);
    let mut b = make_run("ETH", None);
    b.run
        .meta
        .input_hashes
        .insert("prices".into(), "cd".repeat(32));
    b.loans.pop();
    let c = build_compare(&a, &b, &CompareOptions::default()).unwrap();
    assert!(
        c.warnings.iter().any(|w| w.contains("different prices")),
        "{:?}",
        c.warnings
    );
    assert!(
        c.warnings.iter().any(|w| w.contains("one run only")),
        "{:?}",
        c.warnings
    );
    assert_eq!(c.positions_unmatched, "1");
}
