//! A book converted to the engine's balances ([`Legs`], in each asset's
//! token units) once, for many replays of it: the variants of a sweep
//! share their book, and converting 100,000 positions (maps of asset names
//! to amounts) cost as much as a seventh of each variant's replay.
//!
//! The conversion depends only on the asset universe and the token
//! decimals of the scenario; a replay whose scenario gives other ones
//! converts the book itself, so the result never depends on whether it
//! was prepared.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use shortfall_core::{Book, Wad};

use crate::error::ReplayError;
use crate::input::{self, ReplayInput};
use crate::legs::{Leg, Legs};
use crate::names::Names;
use crate::scenario::Scenario;

/// A position's legs as the engine holds them, for the assets and units
/// it was made with.
#[derive(Debug, Clone)]
pub(crate) struct Conversion {
    /// (asset, 10^(18 - decimals)) in the engine's asset order.
    pub(crate) units: Vec<(String, i128)>,
    pub(crate) legs: Legs,
    pub(crate) names: Names,
    /// Per asset (in `units` order): collateral and debt of the book.
    pub(crate) coll_initial: Vec<i128>,
    pub(crate) debt_initial: Vec<i128>,
}

/// Every asset the book's positions hold or owe.
pub(crate) fn book_assets(book: &Book) -> BTreeSet<String> {
    let mut s = BTreeSet::new();
    for p in &book.positions {
        for a in p.collateral.keys().chain(p.debt.keys()) {
            if !s.contains(a) {
                s.insert(a.clone());
            }
        }
    }
    s
}

/// The book's positions as legs for assets and units `units`: amounts
/// truncated to the token's decimals, zero legs dropped. A negative amount
/// is an error naming the account and asset.
pub(crate) fn convert(book: &Book, units: &[(String, i128)]) -> Result<Conversion, ReplayError> {
    let index: BTreeMap<&str, u16> = units
        .iter()
        .enumerate()
        .map(|(i, (n, _))| (n.as_str(), i as u16))
        .collect();
    let n_legs = book
        .positions
        .iter()
        .map(|p| p.collateral.len() + p.debt.len())
        .sum();
    let mut legs = Legs::with_capacity(book.positions.len(), n_legs);
    let mut coll_initial = vec![0i128; units.len()];
    let mut debt_initial = vec![0i128; units.len()];
    let (mut coll, mut debt) = (Vec::new(), Vec::new());
    for p in &book.positions {
        for (m, v, totals) in [
            (&p.collateral, &mut coll, &mut coll_initial),
            (&p.debt, &mut debt, &mut debt_initial),
        ] {
            v.clear();
            for (a, amt) in m {
                if amt.is_negative() {
                    return Err(ReplayError::Input(format!(
                        "negative amount for {} {a}",
                        p.account
                    )));
                }
                let i = index[a.as_str()];
                let unit_div = units[i as usize].1;
                let x = input::to_base(amt.0, unit_div) * unit_div; // token decimals
                if x == 0 {
                    continue;
                }
                totals[i as usize] += x;
                v.push((i, x) as Leg);
            }
        }
        legs.push(&coll, &debt);
    }
    Ok(Conversion {
        units: units.to_vec(),
        legs,
        names: Names::new(book),
        coll_initial,
        debt_initial,
    })
}

/// The book's initial legs valued at a replay's first and last prices,
/// as the loan table values them: per position, collateral and debt at
/// the start, then at the end (None: an asset unpriced). Every variant of
/// a sweep needs them, and most positions end with their initial legs.
#[derive(Debug)]
pub(crate) struct Valuation {
    pub(crate) start_px: Vec<Option<Wad>>,
    pub(crate) end_px: Vec<Option<Wad>>,
    values: Vec<[i128; 4]>,
}

/// [`Valuation::values`]' mark of an unpriced value.
const UNPRICED: i128 = i128::MIN;

impl Valuation {
    /// Values each position's legs with `value` (None: unpriced).
    pub(crate) fn new(
        legs: &Legs,
        start_px: Vec<Option<Wad>>,
        end_px: Vec<Option<Wad>>,
        value: impl Fn(&[Leg], &[Option<Wad>]) -> Option<Wad>,
    ) -> Self {
        let v = |x: Option<Wad>| x.map_or(UNPRICED, |w| w.0);
        let values = (0..legs.len() as u32)
            .map(|i| {
                let (c, d) = legs.split(i);
                [
                    v(value(c, &start_px)),
                    v(value(d, &start_px)),
                    v(value(c, &end_px)),
                    v(value(d, &end_px)),
                ]
            })
            .collect();
        Valuation {
            start_px,
            end_px,
            values,
        }
    }

    /// Position `i`'s initial (collateral, debt) at the start and at the
    /// end.
    pub(crate) fn of(&self, i: usize) -> [Option<Wad>; 4] {
        self.values[i].map(|x| (x != UNPRICED).then_some(Wad(x)))
    }
}

/// A book with its conversion for the assets and decimals of a scenario:
/// replays of that scenario's variants ([`crate::Replay::prepared`]) skip
/// converting it, and share the valuation of its initial legs.
#[derive(Debug)]
pub struct PreparedBook {
    book: Book,
    assets: BTreeSet<String>,
    conversion: Conversion,
    /// The last replay's [`Valuation`] (a pure function of the prices:
    /// whichever replay makes it, it is the same).
    valuation: Mutex<Option<Arc<Valuation>>>,
}

impl PreparedBook {
    /// Converts `book` for `scenario` (its stress transforms applied, as a
    /// replay applies them) on `input`.
    pub fn new(scenario: &Scenario, input: &ReplayInput, book: Book) -> Result<Self, ReplayError> {
        let (sc, inp) = crate::transforms::apply(scenario, input)?;
        let assets = book_assets(&book);
        let pegged = input::peg_bars(&sc, &inp.prices);
        let units = input::asset_units(&sc, inp.prices.iter().chain(&pegged), &assets);
        let conversion = convert(&book, &units)?;
        Ok(PreparedBook {
            book,
            assets,
            conversion,
            valuation: Mutex::new(None),
        })
    }

    pub fn book(&self) -> &Book {
        &self.book
    }

    /// Whether replays of `scenario` on `input` use the conversion (the
    /// same assets and decimals); others convert the book themselves.
    pub fn fits(&self, scenario: &Scenario, input: &ReplayInput) -> Result<bool, ReplayError> {
        let (sc, inp) = crate::transforms::apply(scenario, input)?;
        let pegged = input::peg_bars(&sc, &inp.prices);
        let units = input::asset_units(&sc, inp.prices.iter().chain(&pegged), &self.assets);
        Ok(self.conversion_for(&units).is_some())
    }

    pub(crate) fn assets(&self) -> &BTreeSet<String> {
        &self.assets
    }

    /// The conversion, when it was made for `units`.
    pub(crate) fn conversion_for(&self, units: &[(String, i128)]) -> Option<&Conversion> {
        (self.conversion.units == units).then_some(&self.conversion)
    }

    /// The valuation of the initial legs at these prices: the last one
    /// made, when it was made at them, else made by `make` and kept.
    pub(crate) fn valuation(
        &self,
        start_px: &[Option<Wad>],
        end_px: &[Option<Wad>],
        make: impl FnOnce() -> Valuation,
    ) -> Arc<Valuation> {
        let kept = self
            .valuation
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(v) = kept.filter(|v| v.start_px == start_px && v.end_px == end_px) {
            return v;
        }
        let v = Arc::new(make());
        *self.valuation.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(&v));
        v
    }
}
