//! Fixed-spread liquidations (Aave, Compound): the close, the seizure and
//! the deficit a position leaves.

use super::*;

impl Engine<'_> {
    /// One fixed-spread liquidation by liquidator `k` of position `i` at
    /// health `h_before` (None: proven below one but not computed, in a
    /// summary-only replay); Err = blocked reason.
    pub(super) fn try_fixed(
        &mut self,
        i: u32,
        k: usize,
        t: Micros,
        h_before: Option<i128>,
    ) -> Result<Result<(), Reason>, ReplayError> {
        let l = &self.liqs[k];
        let (capital, gas_units, min_profit) = (l.capital_usd, l.gas_units, l.min_profit_usd);
        if l.max_gas_gwei.is_some_and(|m| self.gwei(t) > m) {
            return Ok(Err(Reason::GasTooHigh));
        }
        if capital <= Wad::ZERO {
            return Ok(Err(Reason::NoLiquidatorCapital));
        }
        let (coll, debt) = self.legs.split(i);
        let pick = |legs: &[Leg]| -> Leg {
            *legs
                .iter()
                .max_by(|x, y| {
                    self.usd(x.0, x.1)
                        .cmp(&self.usd(y.0, y.1))
                        .then(y.0.cmp(&x.0))
                })
                .expect("non-empty")
        };
        let (ca, camt) = pick(coll);
        let (da, damt) = pick(debt);
        let dst = &self.assets[da as usize];
        let cst = &self.assets[ca as usize];
        let d_px = dst.oracle.answer.unwrap_or_default();
        // capital -> debt tokens -> base units
        let cover_tokens = mul_div_down(capital.0, WAD, d_px.0.max(1)).unwrap_or(i128::MAX);
        let cover_base = to_base(cover_tokens, dst.unit_div).max(0);
        let (repaid_base, coll_liq_base, fee_base, no_coll_left) = match self.preset {
            Preset::AaveV2 | Preset::AaveV3 | Preset::AaveV33 => {
                // each leg in base units with its reserve
                let reserves = |legs: &[Leg]| -> Vec<(i128, aave::Reserve)> {
                    legs.iter()
                        .map(|(a, x)| {
                            let ud = self.assets[*a as usize].unit_div;
                            (to_base(*x, ud), self.reserve(*a))
                        })
                        .collect()
                };
                let (c, d) = (reserves(coll), reserves(debt));
                let acct = aave::account_data(&c, &d);
                let version = match self.preset {
                    Preset::AaveV2 => aave::AaveVersion::V2,
                    Preset::AaveV3 => aave::AaveVersion::V3,
                    _ => aave::AaveVersion::V33,
                };
                let b = 10i128.pow(if self.preset == Preset::AaveV2 { 18 } else { 8 });
                let lc = aave::LiquidationConfig {
                    version,
                    close_factor_bps: self.sc.policy.close_factor.map(to_bps).unwrap_or(5000),
                    close_factor_hf_threshold: 950_000_000_000_000_000,
                    min_base_max_close_factor: wmul(
                        self.sc.policy.min_base_max_close_factor_usd.0,
                        b,
                    ),
                    min_leftover_base: wmul(self.sc.policy.min_leftover_usd.0, b),
                };
                match aave::liquidate(
                    &lc,
                    &acct,
                    &self.reserve(ca),
                    to_base(camt, cst.unit_div),
                    &self.reserve(da),
                    to_base(damt, dst.unit_div),
                    cover_base,
                ) {
                    Ok(x) => (
                        x.debt_repaid,
                        x.collateral_to_liquidator,
                        x.protocol_fee,
                        x.no_collateral_left,
                    ),
                    Err(RuleBlock::MustNotLeaveDust) => {
                        return Ok(Err(if cover_base < to_base(damt, dst.unit_div) {
                            Reason::NoLiquidatorCapital
                        } else {
                            Reason::MustNotLeaveDust
                        }))
                    }
                    Err(_) => return Ok(Err(Reason::BelowDust)),
                }
            }
            Preset::CompoundV2 => {
                let borrow = to_base(damt, dst.unit_div);
                let cf = self.sc.policy.close_factor.map(|w| w.0).unwrap_or(WAD / 2);
                let cap = compound::max_close(cf, borrow).min(cover_base);
                let leg = self.ctoken_leg(ca, camt);
                let inc = cst.params.liquidation_bonus.0;
                let pb = self.comp_price(da);
                let ratio = compound::seize_ratio(inc, pb, leg.price, leg.exchange_rate);
                let repay = compound::max_repay_with(ratio, leg.ctokens, cap);
                if repay <= 0 {
                    return Ok(Err(Reason::BelowDust));
                }
                let seize = compound::seize_with(ratio, repay);
                let fee_ct = wmul(seize, cst.params.protocol_fee.0);
                let to_under = |ct: i128| mul_div_down(ct, leg.exchange_rate, WAD).unwrap_or(0);
                let total_under = to_under(seize).min(to_base(camt, cst.unit_div));
                let fee_under = to_under(fee_ct).min(total_under);
                (repay, total_under - fee_under, fee_under, false)
            }
            _ => unreachable!("auction presets do not use fixed spread"),
        };
        if repaid_base <= 0 || coll_liq_base + fee_base <= 0 {
            return Ok(Err(Reason::BelowDust));
        }
        let repaid = repaid_base * dst.unit_div;
        let coll_liq = coll_liq_base * cst.unit_div;
        let fee = fee_base * cst.unit_div;
        // Economics at market prices.
        let value = self.mkt_usd(ca, coll_liq);
        let cost = self.mkt_usd(da, repaid);
        let gas = self.gas_usd(t, gas_units);
        let Some(proceeds) = self.quote_sale(ca as usize, value) else {
            return Ok(Err(Reason::NoLiquidity));
        };
        let profit = proceeds - cost - gas;
        if profit < min_profit {
            let why = if value - cost - gas >= min_profit {
                Reason::NoLiquidity
            } else if value - cost >= min_profit && gas > Wad::ZERO {
                Reason::BelowDust
            } else {
                Reason::Unprofitable
            };
            return Ok(Err(why));
        }
        // Execute.
        self.pos[i as usize].last_block = None;
        self.commit_sale(ca as usize, value);
        let seized = coll_liq + fee;
        let repaid_usd = self.usd(da, repaid);
        let seized_usd = self.usd(ca, seized);
        let fee_usd = self.usd(ca, fee);
        {
            let debt_before: i128 = self.legs.debt(i).iter().map(|d| d.1).sum();
            let (coll, debt) = self.legs.split_mut(i);
            for leg in coll.iter_mut().filter(|x| x.0 == ca) {
                leg.1 -= seized;
            }
            for leg in debt.iter_mut().filter(|x| x.0 == da) {
                leg.1 -= repaid;
            }
            let neg = self.legs.all(i).iter().any(|l| l.1 < 0);
            let debt_after: i128 = self.legs.debt(i).iter().map(|d| d.1).sum();
            if neg || debt_after > debt_before {
                return Err(ReplayError::Invariant {
                    seq: self.n_events,
                    event: format!("liquidation of {}", self.names.account(i)),
                    detail: if neg {
                        "negative balance".into()
                    } else {
                        "liquidation raised debt".into()
                    },
                });
            }
            self.legs.retain_nonzero(i);
            self.pending[i as usize] = false;
            let p = &mut self.pos[i as usize];
            p.liqs += 1;
            p.repaid_usd += repaid_usd;
            p.seized_usd += seized_usd;
            p.penalty_usd += (seized_usd - repaid_usd).max(Wad::ZERO);
            p.backoff = RETRY_MIN;
            p.last_reason = None;
        }
        self.assets[ca as usize].coll_seized += coll_liq;
        self.assets[ca as usize].coll_fee += fee;
        self.assets[da as usize].debt_repaid += repaid;
        #[cfg(feature = "fault-injection")]
        crate::fault::after_liquidation(self.n_liquidations + 1, self.legs.split_mut(i));
        self.protocol_fees_usd += fee_usd;
        if fee_usd.is_positive() {
            self.fee_events.push((t, fee_usd));
        }
        let cap = self.liqs[k].capital_usd;
        self.liqs[k].capital_usd = Wad(cap
            .0
            .saturating_add(profit.max(Wad::ZERO).0)
            .min(i128::MAX / 4));
        self.liq_by_asset.push((t, ca, seized_usd));
        self.n_liquidations += 1;
        if self.lean {
            // Counted only, as the log ([`Engine::log`]).
            self.log(t, EventKind::Liquidation, |_| {});
            if no_coll_left {
                self.book_deficit(i, t);
            }
            match self.estimated_band(i) {
                Some((band, th)) => self.reeval_band(i, t, band, th),
                None => {
                    let h_after = self.health(i);
                    self.reeval_later(i, t, h_after);
                }
            }
            return Ok(Ok(()));
        }
        let acct = self.names.account(i).to_string();
        let market = self.names.market(i).to_string();
        let (cn, dn) = (
            self.assets[ca as usize].name.clone(),
            self.assets[da as usize].name.clone(),
        );
        let liquidator = self.liqs[k].name.clone();
        let seq = self.log(t, EventKind::Liquidation, |r| {
            r.account = Some(acct.clone());
            r.asset = Some(cn.clone());
            r.amount = Some(Wad(seized));
            r.value_usd = Some(repaid_usd);
            r.health = h_before.map(Wad);
            r.actor = Some(liquidator.clone());
        });
        if no_coll_left {
            self.book_deficit(i, t);
        }
        let h_after = self.health(i);
        self.liquidations.push(LiquidationRecord {
            seq,
            ts: t,
            account: acct,
            market,
            mechanism: "fixed_spread".into(),
            liquidator,
            collateral_asset: cn,
            debt_asset: dn,
            debt_repaid: Wad(repaid),
            collateral_seized: Wad(seized),
            protocol_fee: Wad(fee),
            repaid_usd,
            seized_usd,
            penalty_usd: (seized_usd - repaid_usd).max(Wad::ZERO),
            sale_proceeds_usd: proceeds,
            slippage_usd: value - proceeds,
            gas_usd: gas,
            health_before: h_before.map(Wad),
            health_after: h_after.filter(|h| *h != i128::MAX).map(Wad),
        });
        self.reeval_later(i, t, h_after);
        Ok(Ok(()))
    }

    pub(super) fn book_deficit(&mut self, i: u32, t: Micros) {
        let debts = self.legs.take_debt(i);
        for (a, x) in debts {
            if x == 0 {
                continue;
            }
            let usd = self.usd(a, x);
            self.assets[a as usize].debt_written_off += x;
            self.pos[i as usize].written_off_usd += usd;
            self.bad_debt_events.push((t, usd));
            let name = self.assets[a as usize].name.clone();
            self.log_pos(t, EventKind::BadDebt, i, |r| {
                r.asset = Some(name);
                r.amount = Some(Wad(x));
                r.value_usd = Some(usd);
                r.reason = Some(Reason::Deficit);
            });
        }
    }
}
