//! Outputs: the run's tables (liquidations, loans, series, summary, run
//! metadata) at the end of the replay.

use super::*;

/// The loans' totals, summed over the positions in order.
#[derive(Default)]
struct Tally {
    bad: Wad,
    npl: u64,
    liquidated: u64,
    at_risk: u64,
    performing: u64,
    unpriced: u64,
    init_debt: Wad,
    penalty: Wad,
    repaid: Wad,
    attribution: Attribution,
    waterfall: Waterfall,
}

impl Engine<'_> {
    pub(super) fn finish(mut self, book: &Book) -> Result<RunOutput, ReplayError> {
        self.flush_parked();
        // The log is complete: hash it on a second thread while the tables
        // are built (the hash does not depend on which thread computes it).
        let events = std::mem::take(&mut self.events);
        let n_events = self.n_events;
        let (tables, event_hash) = if self.lean {
            (self.tables(book, n_events), String::new())
        } else {
            std::thread::scope(|s| {
                let hash = s.spawn(|| eventjson::hash_events(&events));
                let tables = self.tables(book, n_events);
                (tables, hash.join().expect("event log hash"))
            })
        };
        let (loans, series, summary) = tables?;
        let resolved = self.sc.resolved_toml();
        let input_hashes = self.input_hashes.clone();
        let run_id = run_id(&resolved, &input_hashes, &self.version);
        Ok(RunOutput {
            events,
            liquidations: self.liquidations,
            loans,
            series,
            summary,
            run_meta: RunMeta {
                run_id,
                version: self.version.clone(),
                seed: self.sc.seed,
                resolved_config: resolved,
                input_hashes,
                event_log_sha256: event_hash,
                book_origin: book.origin.clone(),
            },
            perp: None,
        })
    }

    /// Loans, series and summary; `n_events`: length of the event log.
    pub(super) fn tables(
        &mut self,
        book: &Book,
        n_events: u64,
    ) -> Result<(Vec<LoanOutcome>, Vec<SeriesPoint>, Summary), ReplayError> {
        self.fill_ticks();
        self.check_conservation(n_events)?;
        let to_f = |v: &Vec<Vec<Option<Wad>>>| -> Vec<Vec<f64>> {
            v.iter()
                .map(|row| {
                    row.iter()
                        .map(|x| x.map_or(f64::NAN, |w| w.0 as f64 / WAD as f64))
                        .collect()
                })
                .collect()
        };
        let mkt_f = to_f(&self.mkt_ticks);
        let orc_f = to_f(&self.orc_ticks);
        let end_px: Vec<Option<Wad>> = (0..self.assets.len())
            .map(|a| self.market_px(a).or_else(|| self.assets[a].oracle.answer))
            .collect();
        let start_px: Vec<Option<Wad>> = (0..self.assets.len())
            .map(|a| {
                self.mkt_ticks[a]
                    .iter()
                    .flatten()
                    .next()
                    .copied()
                    .or(self.assets[a].oracle.answer)
            })
            .collect();
        let val = |legs: &[(u16, i128)], px: &[Option<Wad>]| -> Option<Wad> {
            let mut s = Wad::ZERO;
            for (a, x) in legs {
                s += Wad(wmul(*x, px[*a as usize]?.0));
            }
            Some(s)
        };
        // The initial legs at the start and end prices, shared by the
        // replays of a prepared book (while its positions are all there is).
        let valuation = match (self.shared, &self.init_legs) {
            (Some(p), Cow::Borrowed(init)) => Some(p.valuation(&start_px, &end_px, || {
                crate::prepared::Valuation::new(init, start_px.clone(), end_px.clone(), val)
            })),
            _ => None,
        };
        // The replay is over: free its indexes before the loan table grows.
        for a in &mut self.assets {
            a.triggers = Triggers::default();
        }
        self.heap = agenda::Agenda::default();
        self.gens = Vec::new();
        self.unarmed = Vec::new();
        let warn = self.sc.policy.warn_health.0;
        let mut loans = Vec::with_capacity(self.pos.len());
        let mut tally = Tally::default();
        for i in 0..self.pos.len() {
            let p = &self.pos[i];
            let (coll, debt) = self.init_legs.split(i as u32);
            let init = InitLegs { coll, debt };
            let known = valuation.as_ref().map(|v| v.of(i));
            let unchanged = p.auction_lot().is_empty()
                && p.auction_debt().is_empty()
                && self.legs.all(i as u32) == self.init_legs.all(i as u32);
            let (ic, id, fc, fd) = match known {
                Some([ic, id, fc, fd]) if unchanged => (ic, id, fc, fd),
                _ => {
                    let (ic, id) = match known {
                        Some([ic, id, _, _]) => (ic, id),
                        None => (val(init.coll, &start_px), val(init.debt, &start_px)),
                    };
                    // what is left, with what is still in auction
                    let (coll, debt) = self.legs.split(i as u32);
                    let fc = val(coll, &end_px)
                        .zip(val(p.auction_lot(), &end_px))
                        .map(|(x, y)| x + y);
                    let fd = val(debt, &end_px)
                        .zip(val(p.auction_debt(), &end_px))
                        .map(|(x, y)| x + y);
                    (ic, id, fc, fd)
                }
            };
            // Needed for the at-risk status and the loan row only; a
            // summary-only replay skips it where the health bounds prove
            // the position at or above the warning health.
            let need_h = !self.lean
                || (p.liqs == 0
                    && p.written_off_usd == Wad::ZERO
                    && !matches!(self.estimated_band(i as u32), Some((BAND_OK, _))));
            let h = if need_h { self.health(i as u32) } else { None };
            let (status, shortfall) = match (ic, id, fc, fd) {
                (Some(ic), Some(id), Some(fc), Some(fd)) => {
                    tally.init_debt += id;
                    let sf = p.written_off_usd + (fd - fc).max(Wad::ZERO);
                    let st = if sf > Wad::ZERO {
                        LoanStatus::NonPerforming
                    } else if p.liqs > 0 {
                        LoanStatus::Liquidated
                    } else if h.is_some_and(|h| h < warn) {
                        LoanStatus::AtRisk
                    } else {
                        LoanStatus::Performing
                    };
                    if p.liqs > 0 || sf > Wad::ZERO {
                        let e0 = (ic - id).max(Wad::ZERO);
                        let e1 = (fc - fd).max(Wad::ZERO);
                        tally.waterfall.borrower_equity_usd += (e0 - e1).max(Wad::ZERO);
                    }
                    (st, sf)
                }
                _ => (LoanStatus::Unpriced, Wad::ZERO),
            };
            let attribution = if shortfall > Wad::ZERO {
                self.attribute(i, &init, shortfall, &mkt_f, &orc_f)
            } else {
                Attribution::default()
            };
            tally.attribution.add(&attribution);
            tally.bad += shortfall;
            tally.penalty += p.penalty_usd;
            tally.repaid += p.repaid_usd;
            match status {
                LoanStatus::NonPerforming => tally.npl += 1,
                LoanStatus::Liquidated => tally.liquidated += 1,
                LoanStatus::AtRisk => tally.at_risk += 1,
                LoanStatus::Performing => tally.performing += 1,
                LoanStatus::Unpriced => tally.unpriced += 1,
            }
            if self.lean {
                continue;
            }
            loans.push(LoanOutcome {
                account: self.names.account(i as u32).to_string(),
                market: self.names.market(i as u32).to_string(),
                status,
                initial_collateral_usd: ic.unwrap_or_default(),
                initial_debt_usd: id.unwrap_or_default(),
                final_collateral_usd: fc.unwrap_or_default(),
                final_debt_usd: fd.unwrap_or_default(),
                repaid_usd: p.repaid_usd,
                seized_usd: p.seized_usd,
                penalty_usd: p.penalty_usd,
                written_off_usd: p.written_off_usd,
                shortfall_usd: shortfall,
                liquidations: p.liqs,
                min_health: (p.min_health != NO_HEALTH).then_some(Wad(p.min_health)),
                final_health: h.filter(|h| *h != i128::MAX).map(Wad),
                first_liquidatable: p.first_liq,
                last_blocked: p.last_reason,
                attribution,
            });
        }
        let series = if self.lean { Vec::new() } else { self.series() };
        let summary = self.summary(book, n_events, tally);
        Ok((loans, series, summary))
    }

    /// The summary of the run from the loans' tally.
    fn summary(&self, book: &Book, n_events: u64, t: Tally) -> Summary {
        let mut wf = t.waterfall;
        wf.liquidation_penalty_usd = t.penalty;
        wf.reserves_usd = t.bad.min(self.sc.accounting.insurance_usd.max(Wad::ZERO));
        wf.socialised_usd = t.bad - wf.reserves_usd;
        let n = self.pos.len() as u64;
        Summary {
            scenario: self.sc.name.clone(),
            preset: serde_json::to_value(self.preset)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            window_start: self.start,
            window_end: self.end,
            positions: n,
            book_generated: book.origin.kind == "generated",
            book_origin: book.origin.detail.clone(),
            initial_debt_usd: t.init_debt,
            bad_debt_usd: t.bad,
            npl_count: t.npl,
            npl_ratio: if n == 0 {
                Wad::ZERO
            } else {
                Wad(mul_div_down(t.npl as i128, WAD, n as i128).unwrap_or(0))
            },
            liquidated_count: t.liquidated,
            at_risk_count: t.at_risk,
            performing_count: t.performing,
            unpriced_count: t.unpriced,
            liquidation_count: self.n_liquidations as u64,
            liquidated_volume_usd: t.repaid,
            penalty_usd: t.penalty,
            protocol_fees_usd: self.protocol_fees_usd,
            reserves_drawdown_usd: self.reserves_drawdown(t.bad),
            auction_incentives_usd: self.auction_incentives,
            blocked_attempts: self
                .blocked_counts
                .iter()
                .map(|(r, n)| (r.as_str().to_string(), *n))
                .collect(),
            waterfall: wf,
            attribution: t.attribution,
            events: n_events,
            lending_events: self.lend_counts.clone(),
            // filled by `replay` from the scenario as written
            hypothetical: Vec::new(),
            perp: None,
        }
    }

    /// Forward-fills the aligned market and oracle series.
    fn fill_ticks(&mut self) {
        for a in 0..self.assets.len() {
            let (mut lm, mut lo) = (None, None);
            for ti in 0..self.ticks.len() {
                match self.mkt_ticks[a][ti] {
                    Some(v) => lm = Some(v),
                    None => self.mkt_ticks[a][ti] = lm,
                }
                match self.orc_ticks[a][ti] {
                    Some(v) => lo = Some(v),
                    None => self.orc_ticks[a][ti] = lo,
                }
            }
        }
    }

    pub(super) fn series(&self) -> Vec<SeriesPoint> {
        let bucket = self.sc.output.series_bucket_secs * Micros::PER_SEC;
        let mut out = Vec::new();
        let mut b_end = self.start.0 + bucket;
        let mut li = 0usize;
        let mut bi = 0usize;
        let mut cum_bad = Wad::ZERO;
        let mut liq = self.liq_by_asset.clone();
        liq.sort_by_key(|x| x.0);
        let mut bads = self.bad_debt_events.clone();
        bads.sort_by_key(|x| x.0);
        loop {
            let be = b_end.min(self.end.0);
            let ti = self.ticks.partition_point(|t| t.0 <= be);
            let mut per_asset = vec![Wad::ZERO; self.assets.len()];
            while li < liq.len() && liq[li].0 .0 <= be {
                per_asset[liq[li].1 as usize] += liq[li].2;
                li += 1;
            }
            while bi < bads.len() && bads[bi].0 .0 <= be {
                cum_bad += bads[bi].1;
                bi += 1;
            }
            for (a, st) in self.assets.iter().enumerate() {
                let (m, o) = if ti == 0 {
                    (None, None)
                } else {
                    (self.mkt_ticks[a][ti - 1], self.orc_ticks[a][ti - 1])
                };
                out.push(SeriesPoint {
                    ts: Micros(be),
                    asset: st.name.clone(),
                    market_price: m,
                    oracle_price: o,
                    liquidated_usd: per_asset[a],
                    cum_bad_debt_usd: cum_bad,
                });
            }
            if be >= self.end.0 {
                break;
            }
            b_end += bucket;
        }
        out
    }
}
