//! Building an engine: the run's assets, positions, oracles and static
//! event stream at the start of the window.

use super::*;

/// A static event stream in replay order.
pub(super) type Stream = Vec<(ReplayKey, StaticEv)>;

/// The engine of one replay, ready to run, and its static stream.
/// The engine at the start of the window, and its stream of recorded
/// events. `prepared`, when given, is `book` converted ([`PreparedBook`]).
pub(super) fn build<'a>(
    scenario: &'a Scenario,
    input: &ReplayInput,
    book: &Book,
    prepared: Option<&'a PreparedBook>,
    mode: Flags,
) -> Result<(Engine<'a>, Stream), ReplayError> {
    scenario.validate()?;
    if scenario.policy.preset == Preset::None && !book.positions.is_empty() {
        return Err(cfg(
            "policy",
            format!(
                "missing: the lending book has {} positions but the scenario has no lending rules",
                book.positions.len()
            ),
        ));
    }
    let (start, end) = scenario.window_micros()?;
    // Market bars: the input's, plus constant ones for `market.pegs`.
    let pegged = peg_bars(scenario, &input.prices);
    let bars = || input.prices.iter().chain(pegged.iter());
    // Asset universe.
    let own_held;
    let held = match prepared {
        Some(p) => p.assets(),
        None => {
            own_held = book_assets(book);
            &own_held
        }
    };
    let units = asset_units(scenario, bars(), held);
    let names: Vec<String> = units.iter().map(|(n, _)| n.clone()).collect();
    if names.len() > u16::MAX as usize {
        return Err(ReplayError::Input("too many assets".into()));
    }
    let index: BTreeMap<&str, u16> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i as u16))
        .collect();
    let overrides = oracle_overrides(scenario, &index)?;
    let liq_cfg = &scenario.frictions.liquidity;
    let mut depth_paths = depth_paths(input.liquidity.as_deref(), liq_cfg)?;
    let mut assets: Vec<AssetState> = names
        .iter()
        .enumerate()
        .map(|(i, n)| asset_state(scenario, i, n, &overrides, start))
        .collect();
    for (i, a) in assets.iter().enumerate() {
        if a.oracle.source == OracleSource::Recorded
            && held.contains(&a.name)
            && !input.oracle_rounds.iter().any(|r| r.base == a.name)
        {
            return Err(cfg(
                &format!("oracle.assets.{}.source", names[i]),
                "recorded, but no oracle rounds for this asset",
            ));
        }
    }

    // Static stream.
    let mut stat = static_stream(scenario, input, bars(), &index, &mut assets, (start, end));
    let (book_evs, lend_counts) = book_events(scenario, input, book, &index, start, end, &mut stat);
    stat.sort_by_key(|x| x.0);
    let mut ticks: Vec<Micros> = stat
        .iter()
        .filter(|(_, e)| matches!(e, StaticEv::Market { .. }))
        .map(|(k, _)| k.ts)
        .collect();
    ticks.dedup();

    // Positions.
    let shared = prepared.and_then(|p| Some((p, p.conversion_for(&units)?)));
    let conversion = match shared {
        Some((_, c)) => Cow::Borrowed(c),
        None => Cow::Owned(convert(book, &units)?),
    };
    let shared = shared.map(|(p, _)| p);
    for (a, st) in assets.iter_mut().enumerate() {
        st.coll_initial = conversion.coll_initial[a];
        st.debt_initial = conversion.debt_initial[a];
    }
    let legs = conversion.legs.clone();
    let (init_legs, position_names) = match conversion {
        Cow::Borrowed(c) => (Cow::Borrowed(&c.legs), Cow::Borrowed(&c.names)),
        Cow::Owned(c) => (Cow::Owned(c.legs), Cow::Owned(c.names)),
    };
    let pos: Vec<Pos> = (0..legs.len()).map(|_| Pos::new()).collect();
    let native = index
        .get(scenario.frictions.gas.native_asset.as_str())
        .copied();
    let liqs = liquidators(scenario);
    let n_assets = assets.len();
    let n_ticks = ticks.len();
    let unarmed: Vec<u32> = (0..pos.len() as u32).collect();
    let depth_paths: Vec<Vec<(Micros, Wad)>> = names
        .iter()
        .map(|n| depth_paths.remove(n.as_str()).unwrap_or_default())
        .collect();
    let mut e = Engine {
        sc: scenario,
        preset: scenario.policy.preset,
        start,
        end,
        assets,
        depth_paths,
        gens: vec![0; pos.len()],
        band: vec![BAND_NONE; pos.len()],
        pending: vec![false; pos.len()],
        pos,
        init_legs,
        shared,
        legs,
        names: position_names,
        liqs,
        gas: input.gas.clone().unwrap_or_default(),
        native,
        heap: agenda::Agenda::default(),
        dyn_seq: 0,
        events: Vec::new(),
        liquidations: Vec::new(),
        dirty: vec![false; n_assets],
        any_dirty: false,
        newly_priced: false,
        health_scheduled_at: None,
        unarmed,
        scratch_hit: Vec::new(),
        scratch_bits: Vec::new(),
        scratch_fired: Vec::new(),
        ticks,
        cur_tick: 0,
        mkt_ticks: vec![vec![None; n_ticks]; n_assets],
        orc_ticks: vec![vec![None; n_ticks]; n_assets],
        auctions: Vec::new(),
        bad_debt_events: Vec::new(),
        liq_by_asset: Vec::new(),
        last_key: None,
        protocol_fees_usd: Wad::ZERO,
        fee_events: Vec::new(),
        lean: mode.lean,
        n_events: 0,
        n_liquidations: 0,
        stamp: 0,
        all_touched: 0,
        park: false,
        ln_margin: (MARGIN.ln_1p(), (-MARGIN).ln_1p()),
        ln_warn: scenario.policy.warn_health.to_f64().ln(),
        parked_on: vec![Vec::new(); n_assets],
        last_breaker: None,
        auction_incentives: Wad::ZERO,
        blocked_counts: BTreeMap::new(),
        price_div: match scenario.policy.preset {
            Preset::AaveV2 => 1,
            _ => 10_000_000_000,
        },
        input_hashes: input.input_hashes.clone(),
        version: input.tool_version.clone(),
        book_evs,
        lend_counts,
        pos_by_key: None,
        gas_memo: Cell::new(None),
    };
    e.gas.sort_by_key(|g| g.0);
    e.park = mode.park && e.parking_allowed();
    for a in 0..e.assets.len() {
        let o = &e.assets[a].oracle;
        e.assets[a].variable = !(o.mode == OracleMode::Fixed && o.override_times().is_empty());
        e.refresh_reserve(a);
    }
    Ok((e, stat))
}

/// The scenario's oracle overrides by asset index; every asset it names
/// (overrides and `oracle.assets`) must be one of the run's.
fn oracle_overrides(
    scenario: &Scenario,
    index: &BTreeMap<&str, u16>,
) -> Result<Vec<(u16, Override)>, ReplayError> {
    let overrides: Vec<(u16, Override)> = scenario
        .oracle
        .overrides
        .iter()
        .enumerate()
        .map(|(i, o)| {
            index
                .get(o.asset.as_str())
                .map(|a| (*a, Override::from_config(o)))
                .ok_or_else(|| {
                    cfg(
                        &format!("oracle.overrides.{i}.asset"),
                        format!("unknown asset `{}`", o.asset),
                    )
                })
        })
        .collect::<Result<_, _>>()?;
    for k in scenario.oracle.assets.keys() {
        if !index.contains_key(k.as_str()) {
            return Err(cfg(
                &format!("oracle.assets.{k}"),
                "asset not in prices or book",
            ));
        }
    }
    Ok(overrides)
}

/// Asset `i` (`n`) at the start of the window: its parameters, oracle
/// (with its overrides), depth, and empty accounts.
fn asset_state(
    scenario: &Scenario,
    i: usize,
    n: &String,
    overrides: &[(u16, Override)],
    start: Micros,
) -> AssetState {
    let liq_cfg = &scenario.frictions.liquidity;
    let params = scenario.asset(n);
    let rule = scenario
        .oracle
        .assets
        .get(n)
        .cloned()
        .unwrap_or_default()
        .or(&scenario.oracle.default);
    let ovs = overrides
        .iter()
        .filter(|(a, _)| *a as usize == i)
        .map(|(_, o)| o.clone())
        .collect();
    AssetState {
        name: n.clone(),
        unit_div: 10i128.pow(18 - params.decimals),
        params,
        lt_mult: Wad::ONE,
        dm_active: false,
        raw_market: None,
        low_market: None,
        impact: Wad::ONE,
        used_depth: Wad::ZERO,
        depth: liq_cfg
            .depth_usd
            .get(n)
            .copied()
            .unwrap_or(liq_cfg.default_depth_usd),
        last_recover: start,
        oracle: Oracle::new(rule, start, ovs),
        prev_answer: None,
        ever_priced: false,
        breaker_hist: VecDeque::new(),
        vol: VecDeque::new(),
        vol_sum: 0.0,
        last_log_px: None,
        res: aave::Reserve {
            price: 0,
            unit: 1,
            lt_bps: 0,
            bonus_bps: 0,
            fee_bps: 0,
        },
        comp_ttd: 0,
        variable: true,
        touched: 0,
        ln_answer: (0, f64::NEG_INFINITY),
        memo: AssetMemo::default(),
        est: Default::default(),
        triggers: Triggers::default(),
        paused_until: Micros(i64::MIN),
        raw_series: Vec::new(),
        coll_initial: 0,
        debt_initial: 0,
        coll_seized: 0,
        coll_fee: 0,
        coll_in_auction: 0,
        debt_repaid: 0,
        debt_written_off: 0,
        debt_in_auction: 0,
        coll_supplied: 0,
        coll_withdrawn: 0,
        debt_borrowed: 0,
        debt_repaid_owner: 0,
    }
}

/// The scenario's liquidators by latency (then name); one ideal
/// liquidator (no latency, capital, gas or profit limit) without any.
fn liquidators(scenario: &Scenario) -> Vec<Liquidator> {
    if scenario.frictions.liquidators.is_empty() {
        vec![Liquidator {
            name: "ideal".into(),
            latency_secs: 0,
            capital_usd: Wad(i128::MAX / 4),
            gas_units: 0,
            max_gas_gwei: None,
            min_profit_usd: Wad(i128::MIN / 4),
            margin: Wad::ZERO,
            opening_bid_share: Wad::ONE,
        }]
    } else {
        let mut l = scenario.frictions.liquidators.clone();
        l.sort_by(|a, b| (a.latency_secs, &a.name).cmp(&(b.latency_secs, &b.name)));
        l
    }
}

/// The recorded events of the window in input order (sorted later):
/// market closes (the median of the venues' bars ending at a time, and of
/// the oracle's venues for a median oracle), recorded oracle rounds and
/// override boundaries; each asset's raw market series on the way.
fn static_stream<'b>(
    scenario: &Scenario,
    input: &ReplayInput,
    bars: impl Iterator<Item = &'b shortfall_core::PriceBar>,
    index: &BTreeMap<&str, u16>,
    assets: &mut [AssetState],
    (start, end): (Micros, Micros),
) -> Stream {
    let mut by_ts: BTreeMap<(Micros, u16), Vec<(String, Wad)>> = BTreeMap::new();
    for b in bars {
        let t = Micros(b.ts.0 + b.interval_secs * Micros::PER_SEC);
        if t < start || t > end {
            continue;
        }
        let a = index[b.base.as_str()];
        by_ts
            .entry((t, a))
            .or_default()
            .push((b.venue.clone(), b.close));
    }
    let mut stat: Vec<(ReplayKey, StaticEv)> = Vec::with_capacity(by_ts.len());
    for ((t, a), v) in by_ts {
        let mv = &scenario.market.venues;
        let m = median(
            v.iter()
                .filter(|(ven, _)| mv.is_empty() || mv.contains(ven))
                .map(|x| x.1)
                .collect(),
        );
        let Some(m) = m else { continue };
        let st = &mut assets[a as usize];
        st.raw_series.push((t, m));
        let med = if st.oracle.source == OracleSource::Median {
            let vs = st.oracle.rule.venues.clone().unwrap_or_default();
            median(
                v.iter()
                    .filter(|(ven, _)| vs.is_empty() || vs.contains(ven))
                    .map(|x| x.1)
                    .collect(),
            )
        } else {
            None
        };
        stat.push((
            ReplayKey::data(t, 0, a as i64, Phase::Market),
            StaticEv::Market {
                asset: a,
                price: m,
                median: med,
            },
        ));
    }
    for r in &input.oracle_rounds {
        if r.ts < start || r.ts > end {
            continue;
        }
        let Some(&a) = index.get(r.base.as_str()) else {
            continue;
        };
        let o = &assets[a as usize].oracle;
        if o.source != OracleSource::Recorded || o.rule.feed.as_ref().is_some_and(|f| *f != r.feed)
        {
            continue;
        }
        stat.push((
            ReplayKey::data(r.ts, r.block.unwrap_or(0), a as i64, Phase::Oracle),
            StaticEv::Round {
                asset: a,
                answer: r.answer,
            },
        ));
    }
    for (i, a) in assets.iter().enumerate() {
        for t in a.oracle.override_times() {
            if t >= start && t <= end {
                stat.push((
                    ReplayKey::data(t, 0, i as i64, Phase::Oracle),
                    StaticEv::Override { asset: i as u16 },
                ));
            }
        }
    }
    stat
}
