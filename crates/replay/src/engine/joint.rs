//! Several protocols replayed together (contagion).
//!
//! Each member is a full replay (its own scenario, book, policy and oracle
//! rules); the members run as one merged stream, ordered by [`ReplayKey`]
//! and, on equal keys, by member order. A shared asset has one market: the
//! depth used by any member's liquidation sales, its recovery and the price
//! impact (`frictions.liquidity.price_impact`) are one state, so a sale in
//! one protocol lowers the market price every member sees and leaves less
//! depth for the others' liquidators. The impact reaches a member's oracle
//! at its next market print, as it would on chain.
//!
//! Everything else stays per member (liquidators and their capital,
//! oracles, reserves), so with no shared asset the members' outputs equal
//! their separate replays (tested).

use super::*;

/// One protocol of a joint replay: what [`run`] takes.
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    pub scenario: &'a Scenario,
    pub input: &'a ReplayInput,
    /// [`resolve_book`]`(scenario, input)`.
    pub book: &'a Book,
}

/// The liquidity state of a shared asset's market.
#[derive(Debug, Clone, Copy)]
struct Pool {
    used_depth: Wad,
    depth: Wad,
    last_recover: Micros,
}

impl Engine<'_> {
    fn pool(&self, a: usize) -> Pool {
        let st = &self.assets[a];
        Pool {
            used_depth: st.used_depth,
            depth: st.depth,
            last_recover: st.last_recover,
        }
    }

    fn set_pool(&mut self, a: usize, p: Pool) {
        // Another member may have sold into the market since.
        self.touch(a);
        let st = &mut self.assets[a];
        st.used_depth = p.used_depth;
        st.depth = p.depth;
        st.last_recover = p.last_recover;
        self.update_impact(a);
    }

    fn asset_index(&self, name: &str) -> Option<usize> {
        self.assets.iter().position(|a| a.name == name)
    }
}

/// One member's replay.
#[derive(Debug, Clone)]
pub struct JointRun {
    pub out: RunOutput,
    /// Lowest market price of each asset at a market print (the impact of
    /// liquidation sales included).
    pub market_low: BTreeMap<String, Wad>,
}

/// Replays `members` together, `shared` assets on one market each (whose
/// market prices must be the same in every member that trades them).
/// A non-empty `note` (one line: what the members are, the spec's hash) is
/// appended as a comment to each member's resolved config, so a joint run
/// never shares a `run_id` with the member replayed alone; one member with
/// an empty note is exactly [`Replay::book`]. Outputs are in member order;
/// errors name the member.
pub fn replay_joint(
    members: &[Member<'_>],
    shared: &[String],
    note: &str,
    lean: bool,
) -> Result<Vec<JointRun>, ReplayError> {
    let named = |k: usize, e: ReplayError| -> ReplayError {
        let who = &members[k].scenario.name;
        match e {
            ReplayError::Invariant { seq, event, detail } => ReplayError::Invariant {
                seq,
                event: format!("{who}: {event}"),
                detail,
            },
            ReplayError::Scenario(m) => ReplayError::Scenario(format!("{who}: {m}")),
            ReplayError::Input(m) => ReplayError::Input(format!("{who}: {m}")),
            ReplayError::Config { key, detail } => ReplayError::Config {
                key: format!("{who}: {key}"),
                detail,
            },
            other => other,
        }
    };
    let applied = members
        .iter()
        .enumerate()
        .map(|(k, m)| crate::transforms::apply(m.scenario, m.input).map_err(|e| named(k, e)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut runs = Vec::with_capacity(members.len());
    for (k, (sc, inp)) in applied.iter().enumerate() {
        // No parking: the others' sales move shared markets between
        // recorded events.
        let mode = Flags { lean, park: false };
        let (e, stat) = build(sc, inp, members[k].book, None, mode).map_err(|e| named(k, e))?;
        runs.push((e, stat, 0usize));
    }
    // Per shared asset: its index in each member (None: not traded there).
    let slots: Vec<Vec<Option<usize>>> = shared
        .iter()
        .map(|name| runs.iter().map(|(e, ..)| e.asset_index(name)).collect())
        .collect();
    for (name, s) in shared.iter().zip(&slots) {
        let mut traded = s
            .iter()
            .enumerate()
            .filter_map(|(k, a)| a.map(|a| (k, &runs[k].0.assets[a].raw_series)));
        let Some((first, path)) = traded.next() else {
            return Err(cfg("shared", format!("no member has `{name}`")));
        };
        if let Some((k, p)) = traded.find(|(_, p)| p != &path) {
            return Err(cfg(
                "shared",
                format!(
                    "`{name}` has different market prices in {} ({} prints) and {} ({} prints): a shared market needs one price path (same data, venues and transforms)",
                    members[first].scenario.name,
                    path.len(),
                    members[k].scenario.name,
                    p.len()
                ),
            ));
        }
    }
    // Per shared asset: the member whose copy of its market is current.
    let mut owner: Vec<Option<usize>> = vec![None; shared.len()];
    loop {
        let mut next: Option<(ReplayKey, bool, usize)> = None;
        for (k, (e, stat, si)) in runs.iter().enumerate() {
            if let Some((key, st)) = e.next_key(stat, *si) {
                if next.is_none_or(|(best, ..)| key < best) {
                    next = Some((key, st, k));
                }
            }
        }
        let Some((key, take_static, k)) = next else {
            break;
        };
        for (s, o) in slots.iter().zip(owner.iter_mut()) {
            let Some(to) = s[k] else { continue };
            if let Some(from_member) = o.filter(|m| *m != k) {
                let from = s[from_member].expect("owner trades the asset");
                let p = runs[from_member].0.pool(from);
                runs[k].0.set_pool(to, p);
            }
            *o = Some(k);
        }
        let (e, stat, si) = &mut runs[k];
        e.step(stat, si, key, take_static)
            .map_err(|e| named(k, e))?;
    }
    let mut outs = Vec::with_capacity(runs.len());
    for (k, (e, ..)) in runs.into_iter().enumerate() {
        let market_low = e
            .assets
            .iter()
            .filter_map(|a| a.low_market.map(|l| (a.name.clone(), l)))
            .collect();
        let mut out = e.finish(members[k].book).map_err(|e| named(k, e))?;
        // A member's perpetual swaps replay on their own (not coupled).
        attach_perp(&applied[k].0, &applied[k].1, lean, &mut out).map_err(|e| named(k, e))?;
        let m = &mut out.run_meta;
        out.summary.hypothetical = crate::transforms::describe(members[k].scenario);
        m.resolved_config = members[k].scenario.resolved_toml();
        if !note.is_empty() {
            m.resolved_config.push_str(&format!(
                "\n# Replayed together: {}\n",
                note.replace('\n', " ")
            ));
        }
        m.run_id = run_id(&m.resolved_config, &m.input_hashes, &m.version);
        outs.push(JointRun { out, market_low });
    }
    Ok(outs)
}
