//! The total order of a replay: `(ts, block, tx_index, log_index, phase)`.

use serde::{Deserialize, Serialize};

use crate::Micros;

/// What happens inside one instant, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// A market price print or candle close.
    Market = 0,
    /// An oracle answer or scenario override.
    Oracle = 1,
    /// A recorded change of a position by its owner (supply, withdraw,
    /// borrow, repay), before the health checks of its block.
    BookChange = 2,
    /// Health re-evaluation of positions whose triggers were crossed.
    Health = 3,
    /// A liquidation attempt.
    Liquidation = 4,
    /// An auction action.
    Auction = 5,
}

/// Sort key of every replayed event. Data without a block number uses 0;
/// events the engine derives use `block = i64::MAX` so they come after all
/// data of their timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReplayKey {
    pub ts: Micros,
    pub block: i64,
    pub tx_index: i64,
    pub log_index: i64,
    pub phase: Phase,
}

impl ReplayKey {
    /// A data key.
    pub fn data(ts: Micros, block: i64, log_index: i64, phase: Phase) -> Self {
        ReplayKey {
            ts,
            block,
            tx_index: 0,
            log_index,
            phase,
        }
    }

    /// A derived key, after all data of `ts`.
    pub fn derived(ts: Micros, phase: Phase) -> Self {
        ReplayKey {
            ts,
            block: i64::MAX,
            tx_index: 0,
            log_index: 0,
            phase,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_time_then_block_then_phase() {
        let t = Micros(10);
        let a = ReplayKey::data(t, 0, 0, Phase::Oracle);
        let b = ReplayKey::derived(t, Phase::Health);
        let c = ReplayKey::derived(t, Phase::Liquidation);
        let d = ReplayKey::data(Micros(11), 0, 0, Phase::Market);
        let mut v = vec![d, c, b, a];
        v.sort();
        assert_eq!(v, vec![a, b, c, d]);
    }
}
