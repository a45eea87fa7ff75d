//! Maker auctions: a vault bitten, its auction's bids, and its end.

use super::*;

impl Engine<'_> {
    /// Maker: bite the vault's largest collateral and start an auction.
    pub(super) fn bite(&mut self, i: u32, t: Micros) {
        self.touch_all();
        let (coll, debt) = self.legs.split(i);
        let (ca, ink) = *coll
            .iter()
            .max_by(|x, y| {
                self.usd(x.0, x.1)
                    .cmp(&self.usd(y.0, y.1))
                    .then(y.0.cmp(&x.0))
            })
            .expect("coll");
        let (da, art) = *debt
            .iter()
            .max_by(|x, y| {
                self.usd(x.0, x.1)
                    .cmp(&self.usd(y.0, y.1))
                    .then(y.0.cmp(&x.0))
            })
            .expect("debt");
        let mp = self.sc.policy.maker.clone();
        let (lot, art_b, tab) = maker::bite(Wad(ink), Wad(art), &mp);
        let env = Env {
            assets: &self.assets,
            gas: &self.gas,
            default_gwei: self.sc.frictions.gas.gwei,
            native: self.native,
            coll: ca,
        };
        let keepers = &self.liqs;
        let (out, mech) = if self.preset == Preset::MakerFlip {
            (
                maker::run_flip(t, tab, lot, &mp, keepers, &env, self.end),
                "flip",
            )
        } else {
            (
                maker::run_clip(t, tab, lot, &mp, keepers, &env, self.end),
                "clip",
            )
        };
        {
            let (coll, debt) = self.legs.split_mut(i);
            for l in coll.iter_mut().filter(|x| x.0 == ca) {
                l.1 -= lot.0;
            }
            for l in debt.iter_mut().filter(|x| x.0 == da) {
                l.1 -= art_b.0;
            }
            self.legs.retain_nonzero(i);
            self.pending[i as usize] = true;
            let a = self.pos[i as usize]
                .auction
                .get_or_insert_with(Default::default);
            a.lot.push((ca, lot.0));
            a.debt.push((da, art_b.0));
        }
        self.assets[ca as usize].coll_in_auction += lot.0;
        self.assets[da as usize].debt_in_auction += art_b.0;
        self.auction_incentives += out.incentives;
        let id = self.auctions.len() as u32;
        let acct = self.names.account(i).to_string();
        let cname = self.assets[ca as usize].name.clone();
        let mut steps = Vec::new();
        for (s, st) in out.steps.iter().enumerate() {
            steps.push((st.ts, s as u32));
        }
        let settled = out.settled;
        let end = out.end;
        self.auctions.push(Auction {
            pos: i,
            coll: ca,
            debt: da,
            lot: lot.0,
            art: art_b.0,
            mech,
            out,
        });
        self.log(t, EventKind::AuctionKick, |r| {
            r.account = Some(acct);
            r.asset = Some(cname);
            r.amount = Some(lot);
            r.value_usd = Some(tab);
            r.actor = Some(mech.into());
        });
        for (ts, s) in steps {
            self.push(
                ReplayKey::derived(ts, Phase::Auction),
                DynEv::AuctionStep {
                    auction: id,
                    step: s,
                },
            );
        }
        if settled {
            self.push(
                ReplayKey::derived(end, Phase::Auction),
                DynEv::AuctionEnd { auction: id },
            );
        }
    }

    pub(super) fn auction_step(&mut self, id: u32, s: u32, t: Micros) {
        let a = &self.auctions[id as usize];
        let st = a.out.steps[s as usize].clone();
        let acct = self.names.account(a.pos).to_string();
        let cname = self.assets[a.coll as usize].name.clone();
        if st.action == "deal" {
            return;
        }
        if st.action == "blocked" {
            let reason = match st.reason {
                Some("gas") => Reason::GasTooHigh,
                Some("capital") => Reason::NoLiquidatorCapital,
                _ => Reason::Unprofitable,
            };
            let p = a.pos;
            self.pos[p as usize].blocks[block_class(reason)] += 1;
            *self.blocked_counts.entry(reason).or_insert(0) += 1;
            self.log(t, EventKind::LiquidationBlocked, |r| {
                r.account = Some(acct);
                r.asset = Some(cname);
                r.reason = Some(reason);
                r.actor = Some(st.keeper.clone());
            });
            return;
        }
        self.log(t, EventKind::AuctionBid, |r| {
            r.account = Some(acct);
            r.asset = Some(cname);
            r.amount = Some(st.lot);
            r.value_usd = Some(st.bid);
            r.actor = Some(format!("{}:{}", st.keeper, st.action));
        });
    }

    pub(super) fn auction_end(&mut self, id: u32, t: Micros) -> Result<(), ReplayError> {
        let (i, ca, da, lot, art, mech, out) = {
            let a = &self.auctions[id as usize];
            (a.pos, a.coll, a.debt, a.lot, a.art, a.mech, a.out.clone())
        };
        let raised = out.raised.0;
        let repaid = raised.min(art);
        let bad = art - repaid;
        let sold = out.lot_sold.0;
        let returned = out.lot_returned.0;
        if sold + returned != lot {
            return Err(ReplayError::Invariant {
                seq: self.n_events,
                event: format!("auction {id}"),
                detail: "lot sold + returned != lot".into(),
            });
        }
        let repaid_usd = Wad(repaid);
        let seized_usd = self.usd(ca, sold);
        let penalty = Wad(raised - repaid).max(Wad::ZERO);
        {
            let st = &mut self.assets[ca as usize];
            st.coll_in_auction -= lot;
            st.coll_seized += sold;
        }
        {
            let st = &mut self.assets[da as usize];
            st.debt_in_auction -= art;
            st.debt_repaid += repaid;
            st.debt_written_off += bad;
        }
        {
            let p = &mut self.pos[i as usize];
            if let Some(a) = p.auction.as_mut() {
                if let Some(ix) = a.lot.iter().position(|x| *x == (ca, lot)) {
                    a.lot.remove(ix);
                }
                if let Some(ix) = a.debt.iter().position(|x| *x == (da, art)) {
                    a.debt.remove(ix);
                }
            }
            p.liqs += 1;
            p.repaid_usd += repaid_usd;
            p.seized_usd += seized_usd;
            p.penalty_usd += penalty;
            p.written_off_usd += Wad(bad);
            self.pending[i as usize] = false;
            if returned > 0 {
                match self.legs.split_mut(i).0.iter_mut().find(|x| x.0 == ca) {
                    Some(l) => l.1 += returned,
                    None => self.legs.push_coll(i, (ca, returned)),
                }
            }
        }
        self.liq_by_asset.push((t, ca, seized_usd));
        let acct = self.names.account(i).to_string();
        let market = self.names.market(i).to_string();
        let cname = self.assets[ca as usize].name.clone();
        let dname = self.assets[da as usize].name.clone();
        let winner = out.winner.clone().unwrap_or_default();
        let seq = self.log(t, EventKind::AuctionDeal, |r| {
            r.account = Some(acct.clone());
            r.asset = Some(cname.clone());
            r.amount = Some(Wad(sold));
            r.value_usd = Some(Wad(raised));
            r.actor = Some(winner.clone());
        });
        if bad > 0 {
            self.bad_debt_events.push((t, Wad(bad)));
            self.log(t, EventKind::BadDebt, |r| {
                r.account = Some(acct.clone());
                r.asset = Some(dname.clone());
                r.amount = Some(Wad(bad));
                r.value_usd = Some(Wad(bad));
                r.reason = Some(Reason::AuctionShortfall);
            });
        }
        let sale = self.mkt_usd(ca, sold);
        let h_after = self.health(i);
        self.n_liquidations += 1;
        if !self.lean {
            self.liquidations.push(LiquidationRecord {
                seq,
                ts: t,
                account: acct,
                market,
                mechanism: mech.into(),
                liquidator: winner,
                collateral_asset: cname,
                debt_asset: dname,
                debt_repaid: Wad(repaid),
                collateral_seized: Wad(sold),
                protocol_fee: Wad::ZERO,
                repaid_usd,
                seized_usd,
                penalty_usd: penalty,
                sale_proceeds_usd: sale,
                slippage_usd: Wad::ZERO,
                gas_usd: Wad::ZERO,
                health_before: None,
                health_after: h_after.filter(|h| *h != i128::MAX).map(Wad),
            });
        }
        self.reeval_later(i, t, h_after);
        Ok(())
    }
}
