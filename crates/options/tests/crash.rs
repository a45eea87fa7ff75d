//! A short-volatility book through the crash of 2026-02-05, margined on
//! every snapshot's marks under standard and portfolio margin (skipped
//! without ../shared/datasets). Prints the path; `--nocapture` to see it.
//!
//! The book and its collateral are assumptions for illustration, not
//! observed accounts: short 10 BTC-27MAR26-70000-P and short 10
//! BTC-27MAR26-90000-C (a strangle about 9% and 17% out of the money when
//! sold on 2026-02-03 21:35 at the file's marks), with 3 BTC of collateral.
//! Portfolio margin under each extended-table dampener candidate.

mod common;

use shortfall_core::Wad;
use shortfall_options::standard;
use shortfall_options::{
    coin_from_f64, portfolio_margin, Dampener, OptionMark, PmInstrument, PmParams, PmPosition,
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
    let candidates = [
        Dampener::DeductibleUsd,
        Dampener::DeductibleCoin,
        Dampener::MoveWeighted,
        Dampener::Undampened,
    ];
    let pms: Vec<PmParams> = candidates
        .iter()
        .map(|&dampener| PmParams {
            dampener,
            ..PmParams::preset("deribit_btc_2024-06-17").unwrap()
        })
        .collect();
    let start = "20260203T213503Z";
    let mut premium = Wad::ZERO;
    let mut path = Vec::new();
    for stamp in stamps.iter().filter(|s| s.as_str() >= start) {
        let rows = common::snapshot(stamp).unwrap();
        let mut value = Wad::ZERO;
        let (mut sm_im, mut sm_mm) = (Wad::ZERO, Wad::ZERO);
        let mut positions = Vec::new();
        let mut fwd = 0.0;
        let mut index = 0.0;
        for name in legs {
            let r = rows.iter().find(|r| r.instrument == name).expect(name);
            fwd = r.forward;
            index = r.index;
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
        let ms: Vec<_> = pms
            .iter()
            .map(|pm| portfolio_margin(pm, index, &positions).unwrap())
            .collect();
        let pm_text: Vec<String> = ms
            .iter()
            .zip(candidates)
            .map(|(m, c)| {
                format!(
                    "{c:?} {:.4}/{:.4} at {:?}",
                    m.initial.to_f64(),
                    m.maintenance.to_f64(),
                    m.worst_scenario.map(|s| s.price_move)
                )
            })
            .collect();
        println!(
            "{stamp}: F {fwd:>9.2}  equity {:>7.4}  SM IM/MM {:.4}/{:.4}  PM IM/MM {}",
            equity.to_f64(),
            sm_im.to_f64(),
            sm_mm.to_f64(),
            pm_text.join(", ")
        );
        path.push((stamp.clone(), equity, sm_mm, ms));
    }
    let first = &path[0];
    let crash = path.iter().find(|p| p.0 == "20260205T212937Z").unwrap();
    for (i, c) in candidates.iter().enumerate() {
        // The crash raises the portfolio margin and eats the equity.
        assert!(crash.3[i].initial > first.3[i].initial, "{c:?}");
    }
    assert!(crash.1 < first.1);
    // Standard table only (the coin deductible never binds here): portfolio
    // margin asks less than standard margin before the crash, and at the
    // low of 02-05 21:29 the book is under standard maintenance margin
    // (equity 1.86 < 3.17 BTC) but not under portfolio margin (1.65).
    let coin = &crash.3[1];
    assert!(first.3[1].maintenance < first.2);
    assert!(!coin.worst_scenario.unwrap().extended);
    assert!(crash.1 < crash.2 && crash.1 > coin.maintenance);
    // With the dampener in USD the -66% scenario binds: the book's margin
    // is set by the extended table.
    assert!(crash.3[0].worst_scenario.unwrap().extended);
    // The f64 boundary is exercised on the way: a mark round-trips.
    assert_eq!(coin_from_f64(0.15733763).unwrap(), w("0.15733763"));
}
