//! A sweep row comes from the summary-only replay of a prepared book: its
//! summary and run_id must equal the full run's, on every crisis pack and
//! with circuit breakers (whose log the summary-only replay does not keep),
//! and a prepared book must not change a run, used or not.

use std::path::Path;

use shortfall_core::{OracleRound, PriceBar};
use shortfall_replay::{resolve_book, Mode, PreparedBook, Replay, ReplayInput, Scenario};
use shortfall_store::Dataset;

fn input(pack: &Path) -> ReplayInput {
    let d = Dataset::open(pack).unwrap();
    let prices: Vec<PriceBar> = d.read().unwrap();
    let oracle_rounds: Vec<OracleRound> = if d.manifest().tables.contains_key("oracle_rounds") {
        d.read().unwrap()
    } else {
        Vec::new()
    };
    ReplayInput {
        prices,
        oracle_rounds,
        book: Default::default(),
        gas: None,
        input_hashes: Default::default(),
        tool_version: "test".into(),
        lending_events: None,
        liquidity: None,
        perp_positions: Vec::new(),
    }
}

/// Returns the circuit breaker events of the full run.
fn check(sc: &Scenario, input: &ReplayInput) -> usize {
    let book = resolve_book(sc, input).unwrap();
    let full = Replay::new(sc, input).book(&book).run().unwrap();
    let lean = Replay::new(sc, input)
        .book(&book)
        .mode(Mode::Summary)
        .run()
        .unwrap();
    assert_eq!(lean.summary, full.summary, "{}", sc.name);
    assert_eq!(lean.run_meta.run_id, full.run_meta.run_id);
    assert_eq!(
        lean.summary.liquidation_count,
        full.liquidations.len() as u64
    );
    assert_eq!(lean.summary.events, full.events.len() as u64);
    assert!(lean.events.is_empty() && lean.loans.is_empty() && lean.series.is_empty());
    assert!(lean.liquidations.is_empty());
    // The same with the book prepared for the scenario: it fits, and
    // neither replay changes.
    let prepared = PreparedBook::new(sc, input, book.clone().into_owned()).unwrap();
    assert!(prepared.fits(sc, input).unwrap(), "{}", sc.name);
    let p = Replay::new(sc, input)
        .prepared(&prepared)
        .mode(Mode::Summary)
        .run()
        .unwrap();
    assert_eq!(p.summary, lean.summary);
    assert_eq!(p.run_meta, lean.run_meta);
    let pf = Replay::new(sc, input).prepared(&prepared).run().unwrap();
    assert_eq!(pf.events, full.events);
    assert_eq!(pf.loans, full.loans);
    assert_eq!(pf.liquidations, full.liquidations);
    assert!(!full.events.is_empty());
    full.events
        .iter()
        .filter(|e| e.kind == shortfall_core::run::EventKind::CircuitBreaker)
        .count()
}

/// The built-in crisis packs, in name order.
fn packs() -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/crises");
    let mut packs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("crisis.toml").is_file())
        .collect();
    packs.sort();
    assert!(packs.len() >= 5);
    packs
}

#[test]
fn summary_only_equals_the_full_run_on_every_pack() {
    let packs = packs();
    let mut breakers = 0;
    for pack in packs {
        let text = std::fs::read_to_string(pack.join("crisis.toml")).unwrap();
        let sc = Scenario::from_toml(&text).unwrap();
        let mut inp = input(&pack);
        if let Some(g) = &sc.datasets.gas {
            // Gas paths are JSON files the CLI reads; the engine's default
            // gas price stands in here (both runs see the same).
            assert!(pack.join(g).is_file());
        }
        inp.gas = None;
        check(&sc, &inp);
        // Circuit breakers on every asset: logged once per asset and time.
        let with_breakers = format!(
            "{text}\n[[frictions.circuit_breakers]]\nasset = \"*\"\nmove_bps = 300\nwindow_secs = 3600\npause_secs = 1800\naction = \"liquidations\"\n\n[[frictions.circuit_breakers]]\nasset = \"*\"\nmove_bps = 200\nwindow_secs = 3600\npause_secs = 1800\naction = \"borrowing\"\n"
        );
        let sc = Scenario::from_toml(&with_breakers).unwrap();
        breakers += check(&sc, &inp);
    }
    assert!(
        breakers > 0,
        "no circuit breaker fired: the test tests nothing"
    );
}

#[test]
fn a_book_prepared_for_other_decimals_is_converted_again() {
    let pack =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/crises/compound-dai-2020-11-26");
    let text = std::fs::read_to_string(pack.join("crisis.toml")).unwrap();
    let sc = Scenario::from_toml(&text).unwrap();
    let inp = input(&pack);
    let book = resolve_book(&sc, &inp).unwrap().into_owned();
    // USDC with 8 decimals instead of 6: other token units.
    let other =
        Scenario::from_toml_with_sets(&text, &["policy.assets.USDC.decimals=8".into()]).unwrap();
    let prepared = PreparedBook::new(&other, &inp, book.clone()).unwrap();
    assert!(prepared.fits(&other, &inp).unwrap());
    assert!(!prepared.fits(&sc, &inp).unwrap());
    let own = Replay::new(&sc, &inp)
        .book(&book)
        .mode(Mode::Summary)
        .run()
        .unwrap();
    let via = Replay::new(&sc, &inp)
        .prepared(&prepared)
        .mode(Mode::Summary)
        .run()
        .unwrap();
    assert_eq!(via.summary, own.summary);
    assert!(own.summary.liquidation_count > 0);
    // And the other way round: the other scenario's own replay.
    let other_own = Replay::new(&other, &inp)
        .book(&book)
        .mode(Mode::Summary)
        .run()
        .unwrap();
    let other_via = Replay::new(&other, &inp)
        .prepared(&prepared)
        .mode(Mode::Summary)
        .run()
        .unwrap();
    assert_eq!(other_via.summary, other_own.summary);
}

/// Parked retries ([`Replay::unparked`] schedules every one
/// instead) change nothing: every event, liquidation and loan of every
/// pack is the same. The DAI pack repeats thousands of blocked attempts,
/// most of them parked.
#[test]
fn parking_changes_no_output_on_any_pack() {
    let mut repeats = 0;
    for pack in packs() {
        let text = std::fs::read_to_string(pack.join("crisis.toml")).unwrap();
        let sc = Scenario::from_toml(&text).unwrap();
        let mut inp = input(&pack);
        inp.gas = None;
        let parked = shortfall_replay::run(&sc, &inp).unwrap();
        let unparked = Replay::new(&sc, &inp).unparked().run().unwrap();
        assert_eq!(parked.events, unparked.events, "{}", sc.name);
        assert_eq!(parked.liquidations, unparked.liquidations, "{}", sc.name);
        assert_eq!(parked.loans, unparked.loans, "{}", sc.name);
        assert_eq!(parked.summary, unparked.summary, "{}", sc.name);
        assert_eq!(parked.run_meta, unparked.run_meta, "{}", sc.name);
        repeats += parked.summary.blocked_attempts.values().sum::<u64>();
    }
    assert!(
        repeats > 10_000,
        "{repeats} blocked attempts: little to park"
    );
}

/// One prepared book replayed at other prices in between (a price shock
/// changes the last prices the loan table values it at): every replay
/// equals its own unprepared replay, so the valuation the prepared book
/// keeps from one replay is used only at the prices it was made at.
#[test]
fn a_prepared_book_valued_at_other_prices_in_between() {
    let pack =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/crises/compound-dai-2020-11-26");
    let text = std::fs::read_to_string(pack.join("crisis.toml")).unwrap();
    let sc = Scenario::from_toml(&text).unwrap();
    let shock = format!(
        "{text}\n[[transforms]]\nkind = \"price_shock\"\nassets = [\"ETH\"]\nat = \"2020-11-26 12:00\"\npct = -0.4\n"
    );
    let shocked = Scenario::from_toml(&shock).unwrap();
    let inp = input(&pack);
    let book = resolve_book(&sc, &inp).unwrap().into_owned();
    let prepared = PreparedBook::new(&sc, &inp, book.clone()).unwrap();
    assert!(prepared.fits(&shocked, &inp).unwrap());
    let mut bad = Vec::new();
    for s in [&sc, &shocked, &sc, &shocked] {
        let via = Replay::new(s, &inp).prepared(&prepared).run().unwrap();
        let own = Replay::new(s, &inp).book(&book).run().unwrap();
        assert_eq!(via.loans, own.loans);
        assert_eq!(via.summary, own.summary);
        let lean = Replay::new(s, &inp)
            .prepared(&prepared)
            .mode(Mode::Summary)
            .run()
            .unwrap();
        assert_eq!(lean.summary, own.summary);
        bad.push(own.summary.bad_debt_usd);
    }
    assert_ne!(
        bad[0], bad[1],
        "the shock changes nothing: the test tests little"
    );
}
