//! The audit log: every event the replay records, and the merge of the
//! perpetuals' log into the run's one log.

use super::*;

/// Replays the scenario's `[perp]` and puts its events in the run's one
/// event log: both logs merged by time (lending first on a tie, each in
/// its own order), renumbered, liquidation records following their
/// events; the log's hash is recomputed. No-op without `[perp]`.
pub(crate) fn attach_perp(
    scenario: &Scenario,
    input: &ReplayInput,
    lean: bool,
    out: &mut RunOutput,
) -> Result<(), ReplayError> {
    let Some((perp, summary)) = crate::perp::scenario::replay_scenario(scenario, input, lean)?
    else {
        return Ok(());
    };
    let (perp_events, run) = crate::perp::scenario::run_tables(perp);
    out.summary.events += summary.totals.events;
    out.summary.perp = Some(summary);
    out.perp = Some(run);
    if lean {
        return Ok(());
    }
    let lending = std::mem::take(&mut out.events);
    let mut remap = vec![0u64; lending.len()];
    let mut merged = Vec::with_capacity(lending.len() + perp_events.len());
    let (mut a, mut b) = (
        lending.into_iter().peekable(),
        perp_events.into_iter().peekable(),
    );
    loop {
        let take_lending = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => x.ts <= y.ts,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let mut ev = if take_lending {
            let ev = a.next().expect("peeked");
            if let Some(slot) = remap.get_mut(ev.seq as usize) {
                *slot = merged.len() as u64;
            }
            ev
        } else {
            b.next().expect("peeked")
        };
        ev.seq = merged.len() as u64;
        merged.push(ev);
    }
    for l in &mut out.liquidations {
        if let Some(s) = remap.get(l.seq as usize) {
            l.seq = *s;
        }
    }
    out.run_meta.event_log_sha256 = eventjson::hash_events(&merged);
    out.events = merged;
    Ok(())
}

impl Engine<'_> {
    pub(super) fn log(
        &mut self,
        ts: Micros,
        kind: EventKind,
        f: impl FnOnce(&mut EventRecord),
    ) -> u64 {
        let seq = self.n_events;
        self.n_events += 1;
        if self.lean {
            return seq;
        }
        let mut r = EventRecord::new(seq, ts, kind);
        f(&mut r);
        self.events.push(r);
        seq
    }

    /// [`Engine::log`] of an event of position `i` (its account set).
    pub(super) fn log_pos(
        &mut self,
        ts: Micros,
        kind: EventKind,
        i: u32,
        f: impl FnOnce(&mut EventRecord),
    ) -> u64 {
        if self.lean {
            return self.log(ts, kind, |_| {});
        }
        let acct = self.names.account(i).to_string();
        self.log(ts, kind, |r| {
            r.account = Some(acct);
            f(r);
        })
    }
}
