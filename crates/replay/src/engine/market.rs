//! The market: depth and its recovery, price impact, the market price an
//! asset trades at, and the sale of seized collateral into it.

use super::*;

impl Engine<'_> {
    pub(super) fn recover(&mut self, a: usize, t: Micros) {
        let lc = &self.sc.frictions.liquidity;
        let st = &mut self.assets[a];
        // Observed depth: the latest row at or before t (the scenario's
        // constant until the first one).
        let path = &self.depth_paths[a];
        let k = path.partition_point(|(ts, _)| *ts <= t);
        if k > 0 {
            st.depth = path[k - 1].1;
        }
        let dt = (t.0 - st.last_recover.0).max(0) / Micros::PER_SEC;
        st.last_recover = t;
        if dt == 0 {
            return;
        }
        let rec = lc.recovery_secs.max(1) as i128;
        let dec = mul_div_down(st.depth.0, dt as i128, rec).unwrap_or(i128::MAX);
        st.used_depth = Wad((st.used_depth.0 - dec).max(0));
        self.update_impact(a);
    }

    /// Endogenous price impact: the market price is the recorded price times
    /// `1 - price_impact * used_depth / depth` (the marginal price of the
    /// linear book after the depth used by liquidation sales), so it falls
    /// with sales and recovers with the depth.
    pub(super) fn update_impact(&mut self, a: usize) {
        let pi = self.sc.frictions.liquidity.price_impact.0;
        let st = &mut self.assets[a];
        if pi <= 0 || st.depth.0 <= 0 {
            st.impact = Wad::ONE;
            return;
        }
        let used = mul_div_down(st.used_depth.0, WAD, st.depth.0)
            .unwrap_or(WAD)
            .min(WAD);
        st.impact = Wad((WAD - wmul(pi, used)).max(0));
    }

    pub(super) fn market_px(&self, a: usize) -> Option<Wad> {
        let st = &self.assets[a];
        // No impact (the common case): the recorded price, without the
        // multiplication by one.
        st.raw_market.map(|p| {
            if st.impact == Wad::ONE {
                p
            } else {
                Wad(wmul(p.0, st.impact.0))
            }
        })
    }

    pub(super) fn quote_sale(&self, a: usize, value: Wad) -> Option<Wad> {
        let lc = &self.sc.frictions.liquidity;
        let st = &self.assets[a];
        match lc.model {
            LiquidityModel::None => Some(value),
            LiquidityModel::Linear => {
                if st.used_depth + value > st.depth {
                    return None;
                }
                let frac_num = st.used_depth.0 + value.0 / 2;
                let keep = WAD - mul_div_down(frac_num, WAD, st.depth.0.max(1)).unwrap_or(WAD);
                Some(Wad(wmul(value.0, keep.max(0))))
            }
            LiquidityModel::ConstantProduct => {
                let y = st.depth.0 - st.used_depth.0;
                if y <= 0 {
                    return None;
                }
                Some(Wad(mul_div_down(value.0, y, y + value.0).unwrap_or(0)))
            }
        }
    }

    pub(super) fn commit_sale(&mut self, a: usize, value: Wad) {
        if self.sc.frictions.liquidity.model != LiquidityModel::None {
            self.touch(a);
            self.assets[a].used_depth += value;
            self.update_impact(a);
        }
    }
}
