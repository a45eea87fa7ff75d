//! The surface: no calendar or butterfly arbitrage introduced by the
//! interpolation (property tests on arbitrage-free generated chains and on
//! arbitrary noisy ones), and a real snapshot.

mod common;

use proptest::prelude::*;
use shortfall_options::{
    implied_vol, Black76, ExpiryInterpolation, OptionKind, Surface, SurfaceOptions, SurfaceQuote,
};

/// A two-lognormal mixture with mean 1: arbitrage-free in strike (a
/// positive density) and in expiry (each component's price grows with T).
#[derive(Debug, Clone, Copy)]
struct Mixture {
    lambda: f64,
    f1: f64,
    f2: f64,
    s1: f64,
    s2: f64,
}

impl Mixture {
    fn call(&self, x: f64, t: f64) -> f64 {
        let b = |f: f64, s: f64| {
            Black76::new(f, x, t)
                .unwrap()
                .price(OptionKind::Call, s)
                .unwrap()
        };
        self.lambda * b(self.f1, self.s1) + (1.0 - self.lambda) * b(self.f2, self.s2)
    }
}

fn mixture() -> impl Strategy<Value = Mixture> {
    (0.1f64..0.9, -0.4f64..0.4, 0.2f64..1.5, 0.2f64..1.5).prop_map(|(lambda, a, s1, s2)| Mixture {
        lambda,
        f1: 1.0 + a * (1.0 - lambda),
        f2: 1.0 - a * lambda,
        s1,
        s2,
    })
}

/// Expiries (increasing) and strikes (increasing, as K/F).
fn grid() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    (
        prop::collection::btree_set(1u32..400, 2..5),
        prop::collection::btree_set(60u32..170, 4..16),
    )
        .prop_map(|(ts, xs)| {
            (
                ts.into_iter().map(|d| d as f64 / 365.0).collect(),
                xs.into_iter().map(|x| x as f64 / 100.0).collect(),
            )
        })
}

/// Quotes of the mixture at the grid, forward 64,000; strikes whose time
/// value is too small to carry an IV are left out.
fn quotes(m: &Mixture, ts: &[f64], xs: &[f64]) -> Vec<SurfaceQuote> {
    let f = 64_000.0;
    let mut out = Vec::new();
    for &t in ts {
        for &x in xs {
            let c = m.call(x, t);
            let model = Black76::new(1.0, x, t).unwrap();
            if c - (1.0 - x).max(0.0) < 1e-9 {
                continue;
            }
            if let Ok(vol) = implied_vol(&model, OptionKind::Call, c) {
                let kind = if x >= 1.0 {
                    OptionKind::Call
                } else {
                    OptionKind::Put
                };
                out.push(SurfaceQuote {
                    t,
                    forward: f,
                    strike: x * f,
                    kind,
                    vol,
                });
            }
        }
    }
    out
}

/// Largest convexity breach of `c` over an even grid in `x` (second
/// differences, normalised by the step squared).
fn worst_convexity(c: impl Fn(f64) -> f64, x0: f64, x1: f64, n: usize) -> f64 {
    let h = (x1 - x0) / n as f64;
    let v: Vec<f64> = (0..=n).map(|i| c(x0 + h * i as f64)).collect();
    v.windows(3)
        .map(|w| -(w[0] - 2.0 * w[1] + w[2]))
        .fold(0.0, f64::max)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// On an arbitrage-free chain, in both expiry interpolations: every
    /// quoted slice is convex in strike between its quotes, and total
    /// variance is non-decreasing in expiry at every moneyness inside the
    /// quoted strikes; with the default (call price linear in expiry) the
    /// strike convexity holds between expiries too.
    #[test]
    fn arbitrage_free_chain_stays_arbitrage_free(m in mixture(), (ts, xs) in grid(), probe in 0.0f64..1.0, tu in 0.0f64..1.0) {
        let q = quotes(&m, &ts, &xs);
        prop_assume!(q.len() >= 4);
        for expiry in [ExpiryInterpolation::ArbitrageFree, ExpiryInterpolation::TotalVariance] {
            let s = Surface::build(&q, SurfaceOptions { expiry, ..Default::default() }).unwrap();
            for sl in s.slices() {
                let (k0, k1) = (sl.nodes[0].k, sl.nodes[sl.nodes.len() - 1].k);
                let worst = worst_convexity(|x| sl.call_price(x.ln()).0, k0.exp(), k1.exp(), 400);
                prop_assert!(worst <= 1e-13, "slice t={} convexity breach {worst}", sl.t);
                prop_assert!(sl.butterfly_violations().is_empty());
            }
            prop_assert!(s.calendar_violations().unwrap().is_empty());
            let lo = s.slices().iter().map(|sl| sl.nodes[0].k).fold(f64::MIN, f64::max);
            let hi = s.slices().iter().map(|sl| sl.nodes[sl.nodes.len() - 1].k).fold(f64::MAX, f64::min);
            prop_assume!(lo < hi);
            // Calendar: w(k, t) non-decreasing in t at a moneyness inside every slice.
            let k = lo + probe * (hi - lo);
            let (t0, t1) = (ts[0] * 0.5, ts[ts.len() - 1] * 1.5);
            let mut prev = 0.0;
            for i in 0..=200 {
                let t = t0 + (t1 - t0) * i as f64 / 200.0;
                let w = s.point(k, t).unwrap().w;
                prop_assert!(w >= prev - 1e-12, "{expiry:?}: w falls at k={k} t={t}: {prev} -> {w}");
                prev = w;
            }
            if expiry == ExpiryInterpolation::ArbitrageFree {
                // Butterfly between expiries, and before the first one.
                for t in [ts[0] * tu, ts[0] + (ts[1] - ts[0]) * tu] {
                    prop_assume!(t > 0.0);
                    let worst = worst_convexity(|x| s.call_price(x.ln(), t).unwrap(), lo.exp(), hi.exp(), 400);
                    prop_assert!(worst <= 1e-13, "t={t} convexity breach {worst}");
                }
            }
        }
    }

    /// At the money the default is linear in total variance, like the
    /// convention, at any time up to the last expiry.
    #[test]
    fn at_the_money_total_variance_is_linear_in_expiry(m in mixture(), (ts, xs) in grid(), tu in 0.0f64..1.0) {
        let q = quotes(&m, &ts, &xs);
        let af = Surface::build(&q, SurfaceOptions::default()).unwrap();
        let tv = Surface::build(&q, SurfaceOptions { expiry: ExpiryInterpolation::TotalVariance, ..Default::default() }).unwrap();
        prop_assume!(af.slices().len() >= 2 && af.slices().iter().all(|sl| sl.covers(0.0)));
        let last = af.slices()[af.slices().len() - 1].t;
        let t = (last * tu).max(1e-4);
        let (a, b) = (af.point(0.0, t).unwrap().w, tv.point(0.0, t).unwrap().w);
        prop_assert!((a - b).abs() <= 1e-10 * b.max(1e-6), "t={t}: {a} vs {b}");
    }

    /// On arbitrary noisy vols: the repaired slices are convex in strike
    /// everywhere between their quotes; unrepaired, a slice reports a
    /// violation exactly when its own quotes are not convex.
    #[test]
    fn noisy_quotes_are_repaired_or_reported(vols in prop::collection::vec(0.2f64..2.0, 4..20), t in 0.003f64..1.0) {
        let f = 1_900.0;
        let q: Vec<SurfaceQuote> = vols
            .iter()
            .enumerate()
            .map(|(i, &vol)| {
                let strike = f * (0.6 + 0.05 * i as f64);
                let kind = if strike >= f { OptionKind::Call } else { OptionKind::Put };
                SurfaceQuote { t, forward: f, strike, kind, vol }
            })
            .collect();
        let repaired = Surface::build(&q, SurfaceOptions::default()).unwrap();
        let sl = &repaired.slices()[0];
        let (x0, x1) = (sl.nodes[0].k.exp(), sl.nodes[sl.nodes.len() - 1].k.exp());
        let worst = worst_convexity(|x| sl.call_price(x.ln()).0, x0, x1, 500);
        prop_assert!(worst <= 1e-13, "repaired slice breach {worst}");
        prop_assert_eq!(sl.nodes.len() + sl.dropped.len(), q.len());
        let raw = Surface::build(&q, SurfaceOptions { repair_butterfly: false, ..Default::default() }).unwrap();
        let rs = &raw.slices()[0];
        let (x0, x1) = (rs.nodes[0].k.exp(), rs.nodes[rs.nodes.len() - 1].k.exp());
        let breach = worst_convexity(|x| rs.call_price(x.ln()).0, x0, x1, 2000);
        if rs.butterfly_violations().is_empty() {
            prop_assert!(breach <= 1e-13, "no violation reported but breach {breach}");
        }
        if !sl.dropped.is_empty() {
            prop_assert!(!rs.butterfly_violations().is_empty());
        }
    }

    /// Interpolated points reprice: on a quoted strike the surface returns
    /// the quote's volatility.
    #[test]
    fn quoted_points_come_back(m in mixture(), (ts, xs) in grid()) {
        let q = quotes(&m, &ts, &xs);
        prop_assume!(!q.is_empty());
        let s = Surface::build(&q, SurfaceOptions::default()).unwrap();
        for sl in s.slices() {
            for n in &sl.nodes {
                let p = s.point(n.k, sl.t).unwrap();
                prop_assert!((p.w - n.w).abs() <= 1e-15 * n.w.max(1.0));
                prop_assert!(!p.extrapolated);
            }
        }
    }
}

#[test]
fn bad_quotes_are_named_errors() {
    let q = SurfaceQuote {
        t: 0.1,
        forward: 100.0,
        strike: 100.0,
        kind: OptionKind::Call,
        vol: 0.5,
    };
    let e = Surface::build(
        &[q, SurfaceQuote { vol: f64::NAN, ..q }],
        SurfaceOptions::default(),
    );
    assert_eq!(
        e.unwrap_err().to_string(),
        "quote 1: vol = NaN is not a positive finite number"
    );
    let e = Surface::build(&[q, q], SurfaceOptions::default()).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("quote 1: a second call at strike 100"),
        "{e}"
    );
    assert!(Surface::build(&[], SurfaceOptions::default()).is_err());
}

/// The real chain of 2026-02-05 21:29 (inside the crash), BTC and ETH:
/// every slice convex in strike between its quotes, calendar monotone where
/// the quotes are, and convex at times between the quoted expiries too.
#[test]
fn real_snapshot_surface() {
    let Some(rows) = common::snapshot("20260205T212937Z") else {
        return;
    };
    for cur in ["BTC", "ETH"] {
        let q: Vec<SurfaceQuote> = rows
            .iter()
            .filter(|r| r.currency == cur && r.t > 0.0 && r.iv > 0.0)
            .map(|r| SurfaceQuote {
                t: r.t,
                forward: r.forward,
                strike: r.strike,
                kind: r.kind,
                vol: r.iv,
            })
            .collect();
        let s = Surface::build(&q, SurfaceOptions::default()).unwrap();
        let tv = Surface::build(
            &q,
            SurfaceOptions {
                expiry: ExpiryInterpolation::TotalVariance,
                ..Default::default()
            },
        )
        .unwrap();
        let raw = Surface::build(
            &q,
            SurfaceOptions {
                repair_butterfly: false,
                ..Default::default()
            },
        )
        .unwrap();
        let nodes: usize = s.slices().iter().map(|sl| sl.nodes.len()).sum();
        let dropped: usize = s.slices().iter().map(|sl| sl.dropped.len()).sum();
        let raw_viol: usize = raw
            .slices()
            .iter()
            .map(|sl| sl.butterfly_violations().len())
            .sum();
        let cal = s.calendar_violations().unwrap();
        let mut worst_slice = 0.0_f64;
        let mut worst_between = 0.0_f64;
        let mut worst_between_tv = 0.0_f64;
        for (i, sl) in s.slices().iter().enumerate() {
            let (x0, x1) = (sl.nodes[0].k.exp(), sl.nodes[sl.nodes.len() - 1].k.exp());
            worst_slice =
                worst_slice.max(worst_convexity(|x| sl.call_price(x.ln()).0, x0, x1, 1000));
            if let Some(next) = s.slices().get(i + 1) {
                let tm = 0.5 * (sl.t + next.t);
                let lo = x0.max(next.nodes[0].k.exp());
                let hi = x1.min(next.nodes[next.nodes.len() - 1].k.exp());
                if lo < hi {
                    let b = worst_convexity(|x| s.call_price(x.ln(), tm).unwrap(), lo, hi, 1000);
                    worst_between = worst_between.max(b);
                    let b = worst_convexity(|x| tv.call_price(x.ln(), tm).unwrap(), lo, hi, 1000);
                    worst_between_tv = worst_between_tv.max(b);
                }
            }
        }
        println!(
            "{cur}: {} expiries, {nodes} strikes kept, {dropped} dropped by the butterfly repair ({raw_viol} violations in the raw quotes), {} calendar violations in the quotes, worst convexity breach on slices {worst_slice:.1e}, between expiries {worst_between:.1e} (linear in total variance: {worst_between_tv:.1e})",
            s.slices().len(),
            cal.len()
        );
        for v in cal.iter().take(5) {
            println!(
                "  calendar: k={:.3} t {:.4} -> {:.4}: w {:.5} -> {:.5}",
                v.k, v.t_near, v.t_far, v.w_near, v.w_far
            );
        }
        assert!(worst_slice <= 1e-12, "{cur}: slice convexity {worst_slice}");
        assert!(
            worst_between <= 1e-13,
            "{cur}: convexity between expiries {worst_between}"
        );
        // The finding ExpiryInterpolation's doc states: linear total variance
        // breaks convexity between the real expiries.
        assert!(worst_between_tv > 1e-9, "{cur}: {worst_between_tv}");
        // The front ATM IV the data README quotes for the crash (~1.02).
        let front = &s.slices()[0];
        let atm = s.point(0.0, front.t).unwrap();
        println!(
            "{cur}: front expiry t={:.4} ATM vol {:.3}",
            front.t, atm.vol
        );
    }
}

/// Far outside the strikes, between and beyond expiries, the surface answers
/// with the flat total variance, marked extrapolated.
#[test]
fn far_extrapolation_answers_flat_total_variance() {
    let q = |t: f64, strike: f64, vol: f64| SurfaceQuote {
        t,
        forward: 100.0,
        strike,
        kind: if strike >= 100.0 {
            OptionKind::Call
        } else {
            OptionKind::Put
        },
        vol,
    };
    let quotes = [
        q(0.1, 80.0, 0.9),
        q(0.1, 100.0, 0.7),
        q(0.1, 120.0, 0.8),
        q(0.5, 80.0, 0.8),
        q(0.5, 100.0, 0.65),
        q(0.5, 120.0, 0.7),
    ];
    for expiry in [
        ExpiryInterpolation::ArbitrageFree,
        ExpiryInterpolation::TotalVariance,
    ] {
        let s = Surface::build(
            &quotes,
            SurfaceOptions {
                expiry,
                ..Default::default()
            },
        )
        .unwrap();
        for (k, t) in [
            (-6.0, 0.3),
            (6.0, 0.3),
            (6.0, 0.05),
            (-6.0, 2.0),
            (3.0, 0.1),
        ] {
            let p = s.point(k, t).unwrap();
            assert!(p.extrapolated, "{expiry:?} {k} {t}");
            assert!(p.vol > 0.6 && p.vol < 1.0, "{expiry:?} {k} {t}: {}", p.vol);
        }
        // At the money both are linear in total variance: (0.049 + 0.21125)/2
        // over 0.3 years.
        let inside = s.point(0.0, 0.3).unwrap();
        assert!(!inside.extrapolated);
        assert!(
            (inside.w - 0.130125).abs() < 1e-12,
            "{expiry:?}: {}",
            inside.w
        );
        // And at the money before the first expiry: the first expiry's vol.
        let early = s.point(0.0, 0.05).unwrap();
        assert!((early.vol - 0.7).abs() < 1e-9, "{expiry:?}: {}", early.vol);
    }
}
