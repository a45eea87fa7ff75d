//! Standard margin over every row of the real chains: the formula's
//! bounds hold for every short contract (skipped without ../shared/datasets).

mod common;

use shortfall_core::Wad;
use shortfall_options::standard::short_per_contract;
use shortfall_options::{OptionKind, OptionMark, StandardMarginParams};

fn w(s: &str) -> Wad {
    Wad::parse_decimal(s, true).unwrap()
}

#[test]
fn bounds_hold_on_every_real_row() {
    let p = StandardMarginParams::deribit_inverse();
    for stamp in common::STAMPS {
        let Some(rows) = common::snapshot(stamp) else {
            return;
        };
        let (mut n, mut floor_binds, mut mm_binds) = (0, 0, 0);
        for r in &rows {
            let o = OptionMark {
                kind: r.kind,
                strike: w(&format!("{}", r.strike)),
                underlying: w(&format!("{}", r.forward)),
                mark: w(&r.mark_text),
            };
            let req = short_per_contract(&p, &o).unwrap();
            // 0.10 + mark <= IM <= 0.15 + mark (or = MM for a put), MM < IM or equal.
            let lo = o.mark.checked_add(p.im_floor).unwrap();
            let hi = o.mark.checked_add(p.im_base).unwrap();
            assert!(req.initial >= lo, "{stamp} {}", r.instrument);
            assert!(req.maintenance <= req.initial, "{stamp} {}", r.instrument);
            if r.kind == OptionKind::Put && req.initial == req.maintenance && req.initial > hi {
                mm_binds += 1;
            } else {
                assert!(req.initial <= hi, "{stamp} {}", r.instrument);
            }
            if req.initial == lo {
                floor_binds += 1;
            }
            n += 1;
        }
        println!("{stamp}: {n} contracts; IM floor (0.10 + mark) binds on {floor_binds}, put MM above the IM formula on {mm_binds}");
        assert!(floor_binds > 0 && floor_binds < n);
    }
}
