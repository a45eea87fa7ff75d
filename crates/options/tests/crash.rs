//! A short-volatility book through the crash of 2026-02-05, margined on
//! every snapshot's marks under standard and portfolio margin (skipped
//! without ../shared/datasets). Prints the path; `--nocapture` to see it.
//!
//! The book and its collateral are assumptions for illustration, not
//! observed accounts: short 10 BTC-27MAR26-70000-P and short 10
//! BTC-27MAR26-90000-C (a strangle about 9% and 17% out of the money when
//! sold on 2026-02-03 21:35 at the file's marks), with 3 BTC of collateral.

mod common;

use shortfall_core::Wad;
use shortfall_options::standard;
use shortfall_options::{
    coin_from_f64, portfolio_margin, OptionMark, PmInstrument, PmParams, PmPosition,
    StandardMarginParams,
};

fn w(s: &str) -> Wad {
    Wad::parse_decimal(s, true).unwrap()
}

#[test]
fn short_strangle_through_the_crash() {
    let Some(stamps) = common::all_stamps() else {
        return;
    };
    let legs = ["BTC-27MAR26-70000-P", "BTC-27MAR26-90000-C"];
    let size = w("-10");
    let collateral = w("3");
    let sm = StandardMarginParams::deribit_inverse();
    let pm = PmParams::preset("deribit_btc_2024-06-17").unwrap();
    let start = "20260203T213503Z";
    let mut premium = Wad::ZERO;
    let mut path = Vec::new();
    for stamp in stamps.iter().filter(|s| s.as_str() >= start) {
        let rows = common::snapshot(stamp).unwrap();
        let mut value = Wad::ZERO;
        let (mut sm_im, mut sm_mm) = (Wad::ZERO, Wad::ZERO);
        let mut positions = Vec::new();
        let mut fwd = 0.0;
        for name in legs {
            let r = rows.iter().find(|r| r.instrument == name).expect(name);
            fwd = r.forward;
            let mark = w(&r.mark_text);
            value = value.checked_add(mark.checked_mul(size).unwrap()).unwrap();
            let o = OptionMark {
                kind: r.kind,
                strike: w(&format!("{}", r.strike)),
                underlying: w(&format!("{}", r.forward)),
                mark,
            };
            let req = standard::position(&sm, &o, size).unwrap();
            sm_im = sm_im.checked_add(req.initial).unwrap();
            sm_mm = sm_mm.checked_add(req.maintenance).unwrap();
            positions.push(PmPosition {
                name: name.into(),
                instrument: PmInstrument::Option {
                    kind: r.kind,
                    strike: r.strike,
                    t: r.t,
                    forward: r.forward,
                    vol: r.iv,
                },
                size,
            });
        }
        if stamp == start {
            premium = Wad(-value.0);
        }
        // Equity: collateral + premium received + the short legs' value (negative).
        let equity = collateral
            .checked_add(premium)
            .unwrap()
            .checked_add(value)
            .unwrap();
        let m = portfolio_margin(&pm, &positions).unwrap();
        println!(
            "{stamp}: F {fwd:>9.2}  equity {:>8.4}  SM IM {:>8.4} MM {:>8.4}  PM IM {:>8.4} MM {:>8.4}  worst {:?}",
            equity.to_f64(),
            sm_im.to_f64(),
            sm_mm.to_f64(),
            m.initial.to_f64(),
            m.maintenance.to_f64(),
            m.worst_scenario.map(|s| (s.price_move, s.vol))
        );
        path.push((stamp.clone(), equity, sm_mm, m.maintenance, m.initial));
    }
    let first = &path[0];
    let crash = path.iter().find(|p| p.0 == "20260205T212937Z").unwrap();
    // The crash raises the portfolio margin and eats the equity.
    assert!(crash.4 > first.4 && crash.1 < first.1);
    // Portfolio margin asks less than standard margin before the crash.
    assert!(first.3 < first.2);
    // At the low of 02-05 21:29 the book is under standard maintenance
    // margin (equity 1.86 < 3.17 BTC) but not under portfolio margin (1.65).
    assert!(crash.1 < crash.2 && crash.1 > crash.3);
    // The f64 boundary is exercised on the way: a mark round-trips.
    assert_eq!(coin_from_f64(0.15733763).unwrap(), w("0.15733763"));
}
