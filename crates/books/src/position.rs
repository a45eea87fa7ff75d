//! Where an event sits in the chain, as text for messages and the
//! reconciliation's list of events that could not be applied.

use shortfall_core::LendingEvent;

/// `block 9000001 tx 3 log 12`, else the event's `source_ref`, else its time.
pub(crate) fn at(e: &LendingEvent) -> String {
    match (e.block, e.log_index) {
        (Some(b), Some(l)) => match e.tx_index {
            Some(t) => format!("block {b} tx {t} log {l}"),
            None => format!("block {b} log {l}"),
        },
        _ => match (&e.source_ref, e.block) {
            (Some(s), _) => s.clone(),
            (None, Some(b)) => format!("block {b} ({} at {})", e.kind, e.ts),
            (None, None) => format!("{} at {} (no chain position)", e.kind, e.ts),
        },
    }
}
