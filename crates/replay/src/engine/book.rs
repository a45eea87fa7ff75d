//! Book changes: the recorded lending events a run applies (supply, withdraw,
//! borrow, repay), checked and counted by what became of them.

use super::*;

/// Checks the recorded lending events against the scenario and puts the
/// book changes (supply, withdraw, borrow, repay in the window, known asset
/// and market, an amount) in the static stream; counts the rest by reason.
pub(super) fn book_events(
    sc: &Scenario,
    input: &ReplayInput,
    book: &Book,
    index: &BTreeMap<&str, u16>,
    start: Micros,
    end: Micros,
    stat: &mut Vec<(ReplayKey, StaticEv)>,
) -> (Vec<BookEv>, Option<LendingEventCounts>) {
    let Some(evs) = &input.lending_events else {
        return (Vec::new(), None);
    };
    let mut c = LendingEventCounts::default();
    let markets: BTreeSet<&str> = book.positions.iter().map(|p| p.market.as_str()).collect();
    let mut sorted: Vec<&LendingEvent> = evs.iter().collect();
    sorted.sort_by(|a, b| a.cmp_order(b));
    let mut out = Vec::new();
    for ev in sorted {
        c.total += 1;
        // Between the snapshot and the window: applied at the start.
        let catch_up = book.as_of.is_some_and(|a| a < start && ev.ts > a) && ev.ts < start;
        let checked = (|| {
            if book.as_of.is_some_and(|a| ev.ts <= a) {
                return Err("in_snapshot");
            }
            if (ev.ts < start && !catch_up) || ev.ts > end {
                return Err("outside_window");
            }
            match ev.kind {
                LendingKind::Supply
                | LendingKind::Withdraw
                | LendingKind::Borrow
                | LendingKind::Repay => {}
                LendingKind::Liquidation | LendingKind::Deficit => return Err("observed_only"),
                _ => return Err("kind_not_replayed"),
            }
            let params = sc.policy.assets.get(&ev.asset).ok_or("unknown_asset")?;
            let asset = *index.get(ev.asset.as_str()).ok_or("unknown_asset")?;
            if !markets.contains(ev.market.as_str()) {
                return Err("unknown_market");
            }
            let unit_div = 10i128.pow(18 - params.decimals.min(18));
            let amount = match (ev.amount, ev.amount_raw) {
                (Some(a), _) => a.0,
                (None, Some(raw)) => i128::try_from(raw)
                    .ok()
                    .and_then(|r| r.checked_mul(unit_div))
                    .ok_or("amount_too_large")?,
                (None, None) => return Err("no_amount"),
            };
            if amount < 0 {
                return Err("negative_amount");
            }
            // token decimals, as the book's legs
            let amount = to_base(amount, unit_div) * unit_div;
            if amount == 0 {
                return Err("zero_amount");
            }
            Ok(BookEv {
                kind: ev.kind,
                account: ev.account.clone(),
                market: ev.market.clone(),
                asset,
                amount,
            })
        })();
        match checked {
            Ok(b) => {
                if catch_up {
                    c.before_window += 1;
                }
                // Catch-up events keep their order (block, tx, log) at the
                // start, after its market prints, before its health checks.
                let key = ReplayKey {
                    ts: ev.ts.max(start),
                    block: ev.block.unwrap_or(0),
                    tx_index: ev.tx_index.unwrap_or(0),
                    log_index: ev.log_index.unwrap_or(0),
                    phase: Phase::BookChange,
                };
                stat.push((
                    key,
                    StaticEv::Book {
                        ev: out.len() as u32,
                    },
                ));
                out.push(b);
            }
            Err(why) => *c.ignored.entry(why.to_string()).or_insert(0) += 1,
        }
    }
    (out, Some(c))
}

impl Engine<'_> {
    /// The position of (account, market), if any.
    pub(super) fn find_pos(&mut self, account: &str, market: &str) -> Option<u32> {
        let names = &self.names;
        let n = self.legs.len() as u32;
        let map = self.pos_by_key.get_or_insert_with(|| {
            let mut m = HashMap::with_capacity(n as usize);
            for i in 0..n {
                m.entry((names.account(i).to_string(), names.market(i).to_string()))
                    .or_insert(i);
            }
            m
        });
        map.get(&(account.to_string(), market.to_string())).copied()
    }

    /// Opens an empty position (an account the book does not hold).
    pub(super) fn open_position(&mut self, account: &str, market: &str) -> u32 {
        let i = self.pos.len() as u32;
        self.legs.push(&[], &[]);
        self.init_legs.to_mut().push(&[], &[]);
        self.names.to_mut().push(account, market);
        self.band.push(BAND_NONE);
        self.pending.push(false);
        self.gens.push(0);
        self.pos.push(Pos::new());
        if let Some(m) = &mut self.pos_by_key {
            m.insert((account.to_string(), market.to_string()), i);
        }
        if let Some(c) = &mut self.lend_counts {
            c.new_positions += 1;
        }
        i
    }

    pub(super) fn count_ignored(&mut self, why: &str) {
        if let Some(c) = &mut self.lend_counts {
            *c.ignored.entry(why.to_string()).or_insert(0) += 1;
        }
    }

    /// Applies a recorded supply, withdraw, borrow or repay to its position
    /// (a new account or asset gets a position or leg; a withdraw or repay
    /// larger than the leg is clamped at zero), logs it, then re-evaluates
    /// the position's health and re-arms its triggers as after any change.
    pub(super) fn book_change(&mut self, k: usize, t: Micros) {
        let BookEv {
            kind,
            account,
            market,
            asset,
            amount,
        } = self.book_evs[k].clone();
        let adds = matches!(kind, LendingKind::Supply | LendingKind::Borrow);
        let is_coll = matches!(kind, LendingKind::Supply | LendingKind::Withdraw);
        let i = match self.find_pos(&account, &market) {
            Some(i) => i,
            None if adds => self.open_position(&account, &market),
            None => return self.count_ignored("unknown_account"),
        };
        // Its balances change: a parked retry is due from now on.
        self.unpark(i, t, true);
        self.pos[i as usize].last_block = None;
        let (coll, debt) = self.legs.split_mut(i);
        let side = if is_coll { coll } else { debt };
        let leg = side.iter_mut().find(|l| l.0 == asset);
        let mut clamped = false;
        let applied = if adds {
            match leg {
                Some(l) => match l.1.checked_add(amount) {
                    Some(x) => l.1 = x,
                    None => return self.count_ignored("amount_too_large"),
                },
                None if is_coll => self.legs.push_coll(i, (asset, amount)),
                None => self.legs.push_debt(i, (asset, amount)),
            }
            amount
        } else {
            let x = match leg {
                Some(l) => {
                    let x = amount.min(l.1);
                    l.1 -= x;
                    x
                }
                None => 0,
            };
            clamped = x < amount;
            self.legs.retain_nonzero(i);
            x
        };
        let st = &mut self.assets[asset as usize];
        match kind {
            LendingKind::Supply => st.coll_supplied += applied,
            LendingKind::Withdraw => st.coll_withdrawn += applied,
            LendingKind::Borrow => st.debt_borrowed += applied,
            _ => st.debt_repaid_owner += applied,
        }
        let (reason, signed) = match kind {
            LendingKind::Supply => (Reason::Supply, applied),
            LendingKind::Withdraw => (Reason::Withdraw, -applied),
            LendingKind::Borrow => (Reason::Borrow, applied),
            _ => (Reason::Repay, -applied),
        };
        if let Some(c) = &mut self.lend_counts {
            c.applied += 1;
            *c.applied_by_kind
                .entry(kind.as_str().to_string())
                .or_insert(0) += 1;
            c.clamped += clamped as u64;
        }
        let value = st.oracle.answer.map(|p| Wad(wmul(signed, p.0)));
        let name = st.name.clone();
        let h = self.health(i).filter(|h| *h != i128::MAX).map(Wad);
        self.log(t, EventKind::BookChange, |r| {
            r.account = Some(account);
            r.asset = Some(name);
            r.amount = Some(Wad(signed));
            r.value_usd = value;
            r.health = h;
            r.reason = Some(reason);
        });
        self.evaluate(i, t);
    }
}
