//! Portfolio margin against the worked numbers of OPTIONS_MARGIN.md: the
//! ETH mainnet capture of 2026-02-15 (to the printed digits), the legacy
//! docs' contingency examples, and books on the real chain of 2026-02-05.

mod common;

use shortfall_core::Wad;
use shortfall_options::portfolio::inverse_future_pnl;
use shortfall_options::standard;
use shortfall_options::{
    largest_margin_reduction, portfolio_margin, Dampener, OptionKind, OptionMark, PmInstrument,
    PmParams, PmPosition, StandardMarginParams, VolScenario,
};

fn w(s: &str) -> Wad {
    Wad::parse_decimal(s, false).unwrap()
}

fn perp(size: &str) -> PmPosition {
    PmPosition {
        name: "ETH-PERPETUAL".into(),
        instrument: PmInstrument::Future { t: 0.0 },
        size: w(size),
    }
}

/// The capture's figures: Deribit's own `private/pme/simulate` output for a
/// short ETH-PERPETUAL of 0.999487053 ETH on mainnet, 2026-02-15 23:20:09
/// UTC (the datasets' deribit_portfolio_margin_params_observed.json, set
/// live_capture_ETH_2026-02-15, quotes them at 9 decimals; the full-precision
/// f64 values here are from the same response, text-index file id
/// 53105521535). One value per price bucket, -18% to +18%.
const PRE_AGGREGATED: [f64; 9] = [
    0.21939959699999997,
    0.155989308849711,
    0.09885036787912087,
    0.04709624857068063,
    0.0,
    -0.04304011233014354,
    -0.08252645391743119,
    -0.11888171996035243,
    -0.15246412672881357,
];
/// The same after aggregation: gains count 0.6 (`pnl_offset`).
const AGGREGATED: [f64; 9] = [
    0.13163975819999998,
    0.09359358530982659,
    0.05931022072747252,
    0.028257749142408375,
    0.0,
    -0.04304011233014354,
    -0.08252645391743119,
    -0.11888171996035243,
    -0.15246412672881357,
];

/// Our money keeps 12 decimals of each position's f64 P&L: equal to half a
/// unit there per position.
fn close(ours: Wad, theirs: f64) -> bool {
    close_n(ours, theirs, 1)
}

fn close_n(ours: Wad, theirs: f64, positions: u32) -> bool {
    (ours.to_f64() - theirs).abs() <= 5e-13 * positions as f64 + 1e-16 * theirs.abs()
}

#[test]
fn eth_capture_reproduces_to_the_printed_digits() {
    for dampener in [
        Dampener::DeductibleUsd,
        Dampener::DeductibleCoin,
        Dampener::MoveWeighted,
        Dampener::Undampened,
    ] {
        let p = PmParams {
            dampener,
            ..PmParams::preset("deribit_eth_2026-02-15").unwrap()
        };
        let m = portfolio_margin(&p, 1949.34, &[perp("-0.999487053")]).unwrap();
        // Standard vector: nine buckets, each three times (vol up/same/down).
        assert_eq!(m.pre_aggregated_standard.len(), 27);
        for i in 0..27 {
            let (pre, agg) = (m.pre_aggregated_standard[i], m.aggregated_standard[i]);
            assert!(
                close(pre, PRE_AGGREGATED[i / 3]),
                "pre-aggregated {i}: {pre}"
            );
            assert!(close(agg, AGGREGATED[i / 3]), "aggregated {i}: {agg}");
        }
        // Extended, before aggregation: the edge buckets.
        let pre = [0, 0, 8, 8, 8, 8, 8, 8].map(|b| PRE_AGGREGATED[b]);
        for (ours, theirs) in m.pre_aggregated_extended.iter().zip(pre) {
            assert!(close(*ours, theirs), "extended {ours} vs {theirs}");
        }
        // worst_case 0.15246412672881357; roll_shock 0.004997435265;
        // risk_matrix_margin 0.157461562265 (initial_margin printed 0.157461562);
        // maintenance_margin 0.125969249812.
        assert!(close(m.worst_case, 0.15246412672881357), "{}", m.worst_case);
        assert_eq!(m.worst_scenario.unwrap().price_move, 0.18);
        // worst_case_bucket: index 25, source standard.
        assert_eq!(m.worst_index, Some(25));
        assert!(!m.worst_scenario.unwrap().extended);
        assert_eq!(m.roll_shock, w("0.004997435265"));
        assert_eq!(m.contingency, Wad::ZERO);
        assert_eq!(m.initial, w("0.157461562265"));
        assert_eq!(shortfall_options::round_to(m.initial, 9), w("0.157461562"));
        assert_eq!(m.maintenance, w("0.125969249812"));
        // Only the deductible reproduces the aggregated extended vector (all 0).
        let zeros = m.aggregated_extended.iter().all(|v| *v == Wad::ZERO);
        assert_eq!(
            zeros,
            matches!(dampener, Dampener::DeductibleUsd | Dampener::DeductibleCoin),
            "{dampener:?}: {:?}",
            m.aggregated_extended
        );
    }
    // The f64 P&L itself, to the last printed digit.
    let f = -0.999487053 * inverse_future_pnl(0.18);
    assert!((f + 0.15246412672881357).abs() <= 1e-16, "{f}");
    // Move-weighted: 0.6 × 0.18/0.66 × 0.219399597 on the first entry.
    let p = PmParams {
        dampener: Dampener::MoveWeighted,
        ..PmParams::preset("deribit_eth_2026-02-15").unwrap()
    };
    let m = portfolio_margin(&p, 1949.34, &[perp("-0.999487053")]).unwrap();
    assert!(close(
        m.aggregated_extended[0],
        0.6 * 0.18 / 0.66 * 0.219399597
    ));
}

/// Deribit's own API documentation example of `private/pme/simulate` (BTC,
/// 2024-06-17 10:22:20.501 UTC; docs.deribit.com, private-simulate, the
/// response example; text-index file id 67250820058): long 0.314538364 BTC
/// of BTC-PERPETUAL and short 0.001187534 BTC of BTC-28JUN24. Its IM of
/// 0.122861343 adds an MMP margin (0.06) and open orders (0.000018212) to
/// the risk-matrix margin, which this crate does not model; the
/// risk-matrix margin and the maintenance margin are compared.
#[test]
fn btc_docs_example_reproduces() {
    // 2024-06-17T10:22:20.501Z to the future's expiry 2024-06-28T08:00:00Z.
    let t = (10.0 * 86_400.0 + 21.0 * 3_600.0 + 37.0 * 60.0 + 39.499) / (365.0 * 86_400.0);
    let book = [
        PmPosition {
            name: "BTC-PERPETUAL".into(),
            instrument: PmInstrument::Future { t: 0.0 },
            size: w("0.314538364"),
        },
        PmPosition {
            name: "BTC-28JUN24".into(),
            instrument: PmInstrument::Future { t },
            size: w("-0.001187534"),
        },
    ];
    // aggregated_risk_vectors.btc_btc.standard, one value per bucket.
    let aggregated = [
        -0.05968587238095239,
        -0.04272965863636364,
        -0.02724789826086957,
        -0.013056284583333334,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
    ];
    // initial_risk_vectors at -16% and +16%: the perpetual's, the future's.
    let perp = [-0.05991206933333334, 0.043384601931034494];
    let fut = [0.0002261969523809524, -0.00016379779310344832];
    for dampener in [
        Dampener::DeductibleUsd,
        Dampener::DeductibleCoin,
        Dampener::MoveWeighted,
        Dampener::Undampened,
    ] {
        let p = PmParams {
            dampener,
            ..PmParams::preset("deribit_btc_2024-06-17").unwrap()
        };
        let m = portfolio_margin(&p, 65666.19, &book).unwrap();
        for i in 0..27 {
            assert!(
                close_n(m.aggregated_standard[i], aggregated[i / 3], 2),
                "aggregated {i}: {}",
                m.aggregated_standard[i]
            );
        }
        assert!(close_n(m.pre_aggregated_standard[0], perp[0] + fut[0], 2));
        assert!(close_n(m.pre_aggregated_standard[26], perp[1] + fut[1], 2));
        // worst_case 0.05968587238095239 at index 1 (bucket 1, left, standard).
        assert!(
            close_n(m.worst_case, 0.05968587238095239, 2),
            "{}",
            m.worst_case
        );
        assert_eq!(m.worst_index, Some(1));
        assert_eq!(m.worst_scenario.unwrap().price_move, -0.16);
        // roll_shock 0.00315725898 = 0.314538364 × 0.01 + 0.001187534 × 0.01:
        // each position's own size (the net would give 0.0031335083), both at
        // the floor (the future's 0.075 × T is 0.0022).
        assert_eq!(m.roll_shock, w("0.00315725898"));
        // risk_matrix_margin 0.06284313098 = 0.059685872 + 0.00315725898 (the
        // worst case at 9 decimals, half up: rounding up would give
        // ...873); maintenance_margin 0.050274504784 = 0.8 × that.
        assert_eq!(m.initial, w("0.06284313098"));
        assert_eq!(m.maintenance, w("0.050274504784"));
        // Extended: all zero after aggregation; only the deductible gives it.
        let zeros = m.aggregated_extended.iter().all(|v| *v == Wad::ZERO);
        assert_eq!(
            zeros,
            matches!(dampener, Dampener::DeductibleUsd | Dampener::DeductibleCoin),
            "{dampener:?}: {:?}",
            m.aggregated_extended
        );
        // Each position's worst-scenario P&L is its own vector's entry.
        assert!(close(m.worst_contributions[0], perp[0]));
        assert!(close(m.worst_contributions[1], fut[0]));
    }
}

/// The old docs' own examples of the legacy contingencies: call +10 and put
/// -20 at one strike is net short 10, so 10 × 0.01 BTC; long 100 BTC of
/// future A and short 100 of future B, so 1% × 100 BTC.
#[test]
fn legacy_contingency_examples() {
    let p = PmParams::preset("deribit_btc_legacy_pre2019").unwrap();
    let opt = |kind, size: &str| PmPosition {
        name: "BTC-29MAR19-4000".into(),
        instrument: PmInstrument::Option {
            kind,
            strike: 4_000.0,
            t: 0.2,
            forward: 4_000.0,
            vol: 0.8,
        },
        size: w(size),
    };
    let m = portfolio_margin(
        &p,
        4_000.0,
        &[opt(OptionKind::Call, "10"), opt(OptionKind::Put, "-20")],
    )
    .unwrap();
    assert_eq!(m.contingency, w("0.1"));
    assert_eq!(m.roll_shock, Wad::ZERO);
    assert_eq!(m.initial, m.maintenance);
    let fut = |t: f64, size: &str| PmPosition {
        name: "future".into(),
        instrument: PmInstrument::Future { t },
        size: w(size),
    };
    let m = portfolio_margin(&p, 4_000.0, &[fut(0.1, "100"), fut(0.3, "-100")]).unwrap();
    assert_eq!(m.contingency, w("1"));
    // The two legs' price P&L cancels in every bucket.
    assert_eq!(m.worst_case, Wad::ZERO);
}

#[test]
fn presets_load_and_validate() {
    let all = PmParams::presets();
    assert_eq!(all.len(), 3);
    for p in &all {
        p.validate().unwrap();
        assert_eq!(p.standard_scenarios().len(), 27, "{}", p.name);
    }
    let e = PmParams::preset("nope").unwrap_err().to_string();
    assert!(e.contains("deribit_eth_2026-02-15"), "{e}");
}

#[test]
fn vol_shock_follows_the_vega_power_term_structure() {
    let p = PmParams::preset("deribit_btc_2024-06-17").unwrap();
    let t30 = 30.0 / 365.0;
    assert!((p.shocked_vol(0.6, t30, VolScenario::Up) - 0.9).abs() < 1e-15);
    assert!((p.shocked_vol(0.6, t30, VolScenario::Down) - 0.45).abs() < 1e-15);
    // The floor on the shocked-up IV.
    assert_eq!(p.shocked_vol(0.2, t30, VolScenario::Up), 0.5);
    // 15 days: short-term power 0.30; 120 days: long-term power 0.13.
    let f15 = 2f64.powf(0.3);
    assert!(
        (p.shocked_vol(0.6, 15.0 / 365.0, VolScenario::Up) - 0.6 * (1.0 + 0.5 * f15)).abs() < 1e-15
    );
    let f120 = 0.25f64.powf(0.13);
    assert!(
        (p.shocked_vol(0.6, 120.0 / 365.0, VolScenario::Down) - 0.6 * (1.0 - 0.25 * f120)).abs()
            < 1e-15
    );
    // Days before expiry the down shock is floored at zero vol.
    assert_eq!(p.shocked_vol(0.6, 0.1 / 365.0, VolScenario::Down), 0.0);
    // Legacy: absolute vol points, (30/DTE)^0.30 × 38%.
    let l = PmParams::preset("deribit_btc_legacy_pre2019").unwrap();
    assert!((l.shocked_vol(0.6, t30, VolScenario::Up) - 0.98).abs() < 1e-15);
}

fn option_position(r: &common::Row, size: &str) -> PmPosition {
    PmPosition {
        name: r.instrument.clone(),
        instrument: PmInstrument::Option {
            kind: r.kind,
            strike: r.strike,
            t: r.t,
            forward: r.forward,
            vol: r.iv,
        },
        size: w(size),
    }
}

/// Books on the real BTC chain of 2026-02-05 21:29: a delta hedge lowers a
/// short call's PM below both its naked PM and its standard margin, a long
/// option's worst loss stays within its premium, and the extended table
/// binds for a large far-out-of-the-money short put only when undampened.
#[test]
fn books_on_the_real_chain() {
    let Some(rows) = common::snapshot("20260205T212937Z") else {
        return;
    };
    let find = |name: &str| {
        rows.iter()
            .find(|r| r.instrument == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    let p = PmParams::preset("deribit_btc_2024-06-17").unwrap();
    let sm = StandardMarginParams::deribit_inverse();

    // Short 10 ATM calls of 27MAR26, naked and delta-hedged with the future.
    let c = find("BTC-27MAR26-64000-C");
    let index = c.index;
    let naked = portfolio_margin(&p, index, &[option_position(c, "-10")]).unwrap();
    let hedge = format!("{:.4}", 10.0 * c.delta);
    let hedged_book = [
        option_position(c, "-10"),
        PmPosition {
            name: "BTC-27MAR26".into(),
            instrument: PmInstrument::Future { t: c.t },
            size: w(&hedge),
        },
    ];
    let hedged = portfolio_margin(&p, index, &hedged_book).unwrap();
    let o = OptionMark {
        kind: c.kind,
        strike: w(&format!("{}", c.strike)),
        underlying: w(&format!("{}", c.forward)),
        mark: w(&c.mark_text),
    };
    let std_im = standard::position(&sm, &o, w("-10")).unwrap().initial;
    println!(
        "short 10 {}: PM IM naked {} (worst {:?}), hedged with {hedge} BTC of future {} (roll {}); standard IM {}",
        c.instrument, naked.initial, naked.worst_scenario, hedged.initial, hedged.roll_shock, std_im
    );
    assert!(hedged.initial < naked.initial);
    // In the worst scenario (-16%) the hedge is what loses most.
    let worst_loser = (0..2)
        .min_by_key(|i| hedged.worst_contributions[*i])
        .unwrap();
    assert_eq!(worst_loser, 1);
    // Closing either leg raises the margin: no candidate (Deribit falls
    // back to a delta hedge).
    assert_eq!(
        largest_margin_reduction(&p, index, &hedged_book).unwrap(),
        None
    );
    // Add 10 short puts of 27FEB26 68,000: closing them lowers it most.
    let mut book = hedged_book.to_vec();
    book.push(option_position(find("BTC-27FEB26-68000-P"), "-10"));
    // Order-independent to the last digit: positions' P&L are summed as
    // fixed-point money.
    let mut reversed = book.clone();
    reversed.reverse();
    let (a, b) = (
        portfolio_margin(&p, index, &book).unwrap(),
        portfolio_margin(&p, index, &reversed).unwrap(),
    );
    assert_eq!(a.aggregated_standard, b.aggregated_standard);
    assert_eq!(a.aggregated_extended, b.aggregated_extended);
    assert_eq!((a.initial, a.maintenance), (b.initial, b.maintenance));
    let (first, cut) = largest_margin_reduction(&p, index, &book).unwrap().unwrap();
    let full = portfolio_margin(&p, index, &book).unwrap().initial;
    println!(
        "hedged book + 10 short 27FEB26 68k puts: IM {full}; close {} first (IM falls by {cut})",
        book[first].name
    );
    assert_eq!(first, 2);
    assert_eq!(cut, full.checked_sub(hedged.initial).unwrap());
    let total: i128 = hedged.worst_contributions.iter().map(|c| c.0).sum();
    let i = hedged
        .standard_scenarios
        .iter()
        .chain(&hedged.extended_scenarios)
        .position(|s| Some(*s) == hedged.worst_scenario)
        .unwrap();
    let pre = hedged
        .pre_aggregated_standard
        .iter()
        .chain(&hedged.pre_aggregated_extended)
        .nth(i)
        .unwrap();
    assert_eq!(Wad(total), *pre);
    assert!(hedged.initial < std_im);
    assert!(naked.maintenance < naked.initial);

    // A long option's worst loss is at most its premium (vol down, price away).
    let put = find("BTC-27FEB26-68000-P");
    let long = portfolio_margin(&p, index, &[option_position(put, "5")]).unwrap();
    let premium = 5.0 * put.mark;
    println!(
        "long 5 {}: PM IM {} vs premium {premium:.6}",
        put.instrument, long.initial
    );
    assert!(long.worst_case.to_f64() <= premium * 1.01);
    assert!(long.worst_case.is_positive());

    // Far-OTM short puts, 1,000 contracts (a 20,000 put at 63,719): the
    // -66% move, under each dampener candidate.
    let far = find("BTC-27MAR26-20000-P");
    let book = [option_position(far, "-1000")];
    let m = |dampener| {
        let q = PmParams {
            dampener,
            ..p.clone()
        };
        portfolio_margin(&q, index, &book).unwrap()
    };
    let (usd, coin, weighted, raw) = (
        m(Dampener::DeductibleUsd),
        m(Dampener::DeductibleCoin),
        m(Dampener::MoveWeighted),
        m(Dampener::Undampened),
    );
    println!(
        "short 1000 {}: PM IM deductible USD {} at {:?}, deductible coin {} at {:?}, move-weighted {} at {:?}, undampened {} at {:?}; extended pre-aggregated {:?}",
        far.instrument,
        usd.initial,
        usd.worst_scenario.map(|s| s.price_move),
        coin.initial,
        coin.worst_scenario.map(|s| s.price_move),
        weighted.initial,
        weighted.worst_scenario.map(|s| s.price_move),
        raw.initial,
        raw.worst_scenario.map(|s| s.price_move),
        raw.pre_aggregated_extended.iter().map(|v| v.to_string()).collect::<Vec<_>>()
    );
    // In coin the deductible never binds: the standard table decides.
    assert!(!coin.worst_scenario.unwrap().extended);
    // In USD it takes (0.66/0.16 - 1) × 100,000 USD at the -66% index off
    // the undampened loss.
    assert!(usd.worst_scenario.unwrap().extended);
    let deductible = 3.125 * 100_000.0 / (index * 0.34);
    let expected = raw.worst_case.to_f64() - deductible;
    assert!(
        (usd.worst_case.to_f64() - expected).abs() < 1e-9,
        "{} vs {expected}",
        usd.worst_case
    );
    assert!(
        raw.initial > usd.initial
            && usd.initial > weighted.initial
            && weighted.initial > coin.initial
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn one_option(kind: OptionKind, x: f64, t: f64, vol: f64, size: &str) -> PmPosition {
        PmPosition {
            name: "opt".into(),
            instrument: PmInstrument::Option {
                kind,
                strike: 64_000.0 * x,
                t,
                forward: 64_000.0,
                vol,
            },
            size: w(size),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// For one option under every preset and dampener: a long never
        /// loses more than its premium; a short loses at least what the
        /// zero-move, vol-up scenario takes; MM = mm_factor × IM; doubling
        /// the size doubles the worst case (to the money boundary) when it
        /// lies in the standard table (the deductible dampener is not
        /// homogeneous).
        #[test]
        fn single_option_invariants(
            call in any::<bool>(),
            x in 0.3f64..3.0,
            days in 0.1f64..400.0,
            vol in 0.1f64..3.0,
            lots in 1u32..500,
            preset in 0usize..3,
            dampener in 0usize..4,
        ) {
            let kind = if call { OptionKind::Call } else { OptionKind::Put };
            let t = days / 365.0;
            let mut p = PmParams::presets().swap_remove(preset);
            p.dampener = [Dampener::DeductibleUsd, Dampener::DeductibleCoin, Dampener::MoveWeighted, Dampener::Undampened][dampener];
            let size = format!("{}", lots as f64 / 10.0);
            let long = portfolio_margin(&p, 64_000.0, &[one_option(kind, x, t, vol, &size)]).unwrap();
            let premium = shortfall_options::Black76::new(64_000.0, 64_000.0 * x, t)
                .unwrap()
                .price_coin(kind, vol)
                .unwrap()
                * lots as f64
                / 10.0;
            prop_assert!(long.worst_case.to_f64() <= premium + 1e-9, "{} > {premium}", long.worst_case);
            prop_assert_eq!(long.maintenance, long.initial.checked_mul(p.mm_factor).unwrap());

            let short = portfolio_margin(&p, 64_000.0, &[one_option(kind, x, t, vol, &format!("-{size}"))]).unwrap();
            let zero_up = short.standard_scenarios.iter().position(|s| s.price_move == 0.0 && s.vol == VolScenario::Up).unwrap();
            prop_assert!(short.worst_case >= Wad(-short.aggregated_standard[zero_up].0));
            prop_assert!(short.initial >= short.worst_case.checked_sub(w("0.000000001")).unwrap());

            let double = portfolio_margin(&p, 64_000.0, &[one_option(kind, x, t, vol, &format!("-{}", lots as f64 / 5.0))]).unwrap();
            let standard = |m: &shortfall_options::PmMargin| m.worst_scenario.is_none_or(|s| !s.extended);
            prop_assume!(standard(&short) && standard(&double));
            let diff = (double.worst_case.to_f64() - 2.0 * short.worst_case.to_f64()).abs();
            prop_assert!(diff <= 1e-11, "worst case not homogeneous: {} vs 2 × {}", double.worst_case, short.worst_case);
        }
    }
}
