//! Contagion across protocols: several lenders that hold the same
//! collateral, replayed alone and together.
//!
//! A contagion spec (TOML) names its members, each a crisis pack or
//! scenario file with `--set` style overrides and a protocol label, the
//! assets whose market they share (default: every asset in more than one
//! member's book) and the liquidity model every member runs with, alone
//! and together, so the comparison isolates the coupling. Together, the
//! members are one replay ([`shortfall_replay::replay_joint`]): a
//! liquidation sale in one protocol uses depth of the shared market and,
//! with `price_impact`, lowers the price the others' oracles read next.
//! No file I/O: the CLI loads the members' inputs and writes the runs,
//! `contagion.json` and the report.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use sha2::{Digest, Sha256};
use shortfall_core::{
    sha256_hex, AccountOverlap, Book, ContagionMember, ContagionMeta, Exposure, Micros, Outcome,
    SharedMarket, Wad,
};
use shortfall_replay::scenario::LiquidityConfig;
use shortfall_replay::{
    replay_joint, resolve_book, start_prices, JointRun, Member, ReplayError, ReplayInput,
    RunOutput, Scenario,
};

/// Errors of a contagion run.
#[derive(Debug, thiserror::Error)]
pub enum ContagionError {
    /// The spec is unusable (the message names the key).
    #[error("contagion spec: {0}")]
    Spec(String),
    /// A member's scenario or replay failed.
    #[error("member `{protocol}`: {source}")]
    Member {
        protocol: String,
        #[source]
        source: ReplayError,
    },
    /// The joint replay failed (the message names the member).
    #[error("joint replay: {0}")]
    Joint(#[source] ReplayError),
}

/// The spec file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// Assets with one market for all members; default: every asset in
    /// more than one member's book.
    pub shared: Option<Vec<String>>,
    /// Replaces every member's `frictions.liquidity` (alone and together).
    pub liquidity: Option<LiquidityConfig>,
    pub members: Vec<MemberSpec>,
    /// Where settings come from, shown in the report.
    #[serde(default)]
    pub sources: BTreeMap<String, String>,
}

/// One protocol of the spec.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberSpec {
    /// Label (`venus-like`): the member's scenario name in its runs.
    pub protocol: String,
    /// A crisis pack's name or a scenario file (relative to the spec).
    pub scenario: String,
    /// Overrides, as `--set` takes them (`policy.preset="aave_v2"`).
    #[serde(default)]
    pub set: Vec<String>,
}

fn label_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !s.starts_with('.')
}

impl Spec {
    /// Parses and checks a spec: a name, at least two members with
    /// distinct labels of letters, digits, `-`, `_` and `.`.
    pub fn from_toml(text: &str) -> Result<Spec, ContagionError> {
        let spec: Spec = toml::from_str(text).map_err(|e| ContagionError::Spec(e.to_string()))?;
        if !label_ok(&spec.name) {
            return Err(ContagionError::Spec(format!(
                "name `{}`: use letters, digits, `-`, `_` and `.`",
                spec.name
            )));
        }
        if spec.members.len() < 2 {
            return Err(ContagionError::Spec(
                "members: a contagion needs at least two protocols".into(),
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, m) in spec.members.iter().enumerate() {
            if !label_ok(&m.protocol) {
                return Err(ContagionError::Spec(format!(
                    "members.{i}.protocol `{}`: use letters, digits, `-`, `_` and `.`",
                    m.protocol
                )));
            }
            if !seen.insert(&m.protocol) {
                return Err(ContagionError::Spec(format!(
                    "members.{i}.protocol: `{}` is used twice",
                    m.protocol
                )));
            }
        }
        Ok(spec)
    }

    /// Member `k`'s scenario: its text with the member's sets, named after
    /// the protocol, with the spec's liquidity.
    pub fn member_scenario(&self, k: usize, text: &str) -> Result<Scenario, ContagionError> {
        let m = &self.members[k];
        let err = |source| ContagionError::Member {
            protocol: m.protocol.clone(),
            source,
        };
        let mut sc = Scenario::from_toml_with_sets(text, &m.set).map_err(err)?;
        let title = sc.title.take().unwrap_or_else(|| sc.name.clone());
        sc.title = Some(format!("{}: {title}", m.protocol));
        sc.name = m.protocol.clone();
        if let Some(l) = &self.liquidity {
            sc.frictions.liquidity = l.clone();
        }
        sc.validate().map_err(err)?;
        Ok(sc)
    }
}

/// A member ready to replay.
pub struct Prepared {
    pub spec: MemberSpec,
    pub scenario: Scenario,
    pub input: ReplayInput,
    pub book: Book,
}

impl Prepared {
    /// First market close of each asset in the window, the member's
    /// transforms applied: the prices its exposure is valued at.
    fn start_prices(&self) -> Result<BTreeMap<String, Wad>, ContagionError> {
        let err = |source| ContagionError::Member {
            protocol: self.spec.protocol.clone(),
            source,
        };
        let (sc, input) =
            shortfall_replay::transforms::apply(&self.scenario, &self.input).map_err(err)?;
        start_prices(&sc, &input).map_err(err)
    }
}

/// A contagion ready to run.
pub struct Contagion {
    pub spec: Spec,
    pub spec_text: String,
    pub members: Vec<Prepared>,
    pub shared: Vec<String>,
}

/// What [`Contagion::run`] produces: the metadata and, in member order,
/// the full runs alone and together.
pub struct ContagionRun {
    pub meta: ContagionMeta,
    pub alone: Vec<RunOutput>,
    pub together: Vec<RunOutput>,
}

fn outcome(out: &RunOutput) -> Outcome {
    let s = &out.summary;
    Outcome {
        bad_debt_usd: s.bad_debt_usd,
        npl_count: s.npl_count,
        liquidated_volume_usd: s.liquidated_volume_usd,
        liquidation_count: s.liquidation_count,
        penalty_usd: s.penalty_usd,
        blocked_no_liquidity: s.blocked_attempts.get("no_liquidity").copied().unwrap_or(0),
    }
}

fn add(a: Outcome, b: Outcome) -> Outcome {
    Outcome {
        bad_debt_usd: a.bad_debt_usd + b.bad_debt_usd,
        npl_count: a.npl_count + b.npl_count,
        liquidated_volume_usd: a.liquidated_volume_usd + b.liquidated_volume_usd,
        liquidation_count: a.liquidation_count + b.liquidation_count,
        penalty_usd: a.penalty_usd + b.penalty_usd,
        blocked_no_liquidity: a.blocked_no_liquidity + b.blocked_no_liquidity,
    }
}

fn usd(amount: Wad, price: Wad) -> Wad {
    Wad(
        shortfall_core::money::mul_div_down(amount.0, price.0, shortfall_core::money::WAD)
            .unwrap_or(0),
    )
}

/// Collateral of `asset` seized by liquidations, USD at oracle prices.
fn sold(out: &RunOutput, asset: &str) -> Wad {
    out.liquidations
        .iter()
        .filter(|l| l.collateral_asset == asset)
        .fold(Wad::ZERO, |a, l| a + l.seized_usd)
}

/// Lowest market price of `asset` in the window as recorded: per bar end
/// time the median close of the scenario's venues (lower middle), as the
/// engine takes it.
fn recorded_low(sc: &Scenario, input: &ReplayInput, asset: &str) -> Option<Wad> {
    let (start, end) = sc.window_micros().ok()?;
    let venues = &sc.market.venues;
    let mut by_t: BTreeMap<Micros, Vec<Wad>> = BTreeMap::new();
    for b in input.prices.iter().filter(|b| b.base == asset) {
        let t = Micros(b.ts.0 + b.interval_secs * Micros::PER_SEC);
        if t >= start && t <= end && (venues.is_empty() || venues.contains(&b.venue)) {
            by_t.entry(t).or_default().push(b.close);
        }
    }
    by_t.into_values()
        .filter_map(|mut v| {
            v.sort();
            v.get((v.len() - 1) / 2).copied()
        })
        .min()
}

/// `key = value` lines of a TOML tree, tables flattened into dotted keys
/// (an empty table is left out).
fn flatten(prefix: &str, v: &toml::Value, out: &mut Vec<String>) {
    match v {
        toml::Value::Table(t) => {
            for (k, x) in t {
                flatten(&format!("{prefix}.{k}"), x, out);
            }
        }
        other => out.push(format!("{prefix} = {other}")),
    }
}

impl Contagion {
    /// Checks the members (`loaded[k]`: member `k`'s scenario from
    /// [`Spec::member_scenario`] and its inputs): one window, books
    /// resolved (generated ones generated once), shared assets chosen.
    pub fn new(
        spec: Spec,
        spec_text: String,
        loaded: Vec<(Scenario, ReplayInput)>,
    ) -> Result<Contagion, ContagionError> {
        let mut members = Vec::with_capacity(loaded.len());
        for (m, (scenario, input)) in spec.members.iter().zip(loaded) {
            let book = resolve_book(&scenario, &input)
                .map_err(|source| ContagionError::Member {
                    protocol: m.protocol.clone(),
                    source,
                })?
                .into_owned();
            members.push(Prepared {
                spec: m.clone(),
                scenario,
                input,
                book,
            });
        }
        let w0 = &members[0].scenario.window;
        if let Some(m) = members.iter().find(|m| m.scenario.window != *w0) {
            return Err(ContagionError::Spec(format!(
                "members `{}` and `{}` have different windows ({} .. {} and {} .. {}): replayed together they need one",
                members[0].spec.protocol,
                m.spec.protocol,
                w0.start,
                w0.end,
                m.scenario.window.start,
                m.scenario.window.end
            )));
        }
        let shared = match &spec.shared {
            Some(s) => s.clone(),
            None => {
                let mut count: BTreeMap<&str, usize> = BTreeMap::new();
                for m in &members {
                    let assets: BTreeSet<&str> = m
                        .book
                        .positions
                        .iter()
                        .flat_map(|p| p.collateral.keys().chain(p.debt.keys()))
                        .map(String::as_str)
                        .collect();
                    for a in assets {
                        *count.entry(a).or_default() += 1;
                    }
                }
                count
                    .into_iter()
                    .filter(|(_, n)| *n > 1)
                    .map(|(a, _)| a.to_string())
                    .collect()
            }
        };
        if shared.is_empty() {
            return Err(ContagionError::Spec(
                "shared: the members' books have no asset in common (name the shared assets)"
                    .into(),
            ));
        }
        Ok(Contagion {
            spec,
            spec_text,
            members,
            shared,
        })
    }

    fn member_refs(&self) -> Vec<Member<'_>> {
        self.members
            .iter()
            .map(|m| Member {
                scenario: &m.scenario,
                input: &m.input,
                book: &m.book,
            })
            .collect()
    }

    /// The spec's content hash (first 16 hex digits of sha256).
    pub fn spec_sha256(&self) -> String {
        sha256_hex(self.spec_text.as_bytes())
    }

    /// Replays every member alone, then all together, and compares.
    pub fn run(&self, version: &str) -> Result<ContagionRun, ContagionError> {
        let refs = self.member_refs();
        let mut alone: Vec<JointRun> = Vec::with_capacity(refs.len());
        for (m, r) in self.members.iter().zip(&refs) {
            let mut one =
                replay_joint(std::slice::from_ref(r), &[], "", false).map_err(|source| {
                    ContagionError::Member {
                        protocol: m.spec.protocol.clone(),
                        source,
                    }
                })?;
            alone.push(one.remove(0));
        }
        let protocols: Vec<&str> = self
            .members
            .iter()
            .map(|m| m.spec.protocol.as_str())
            .collect();
        let spec_sha = self.spec_sha256();
        let note = format!(
            "contagion `{}` (spec sha256 {}): {} sharing the market of {}",
            self.spec.name,
            &spec_sha[..16],
            protocols.join(", "),
            self.shared.join(", ")
        );
        let together =
            replay_joint(&refs, &self.shared, &note, false).map_err(ContagionError::Joint)?;
        let meta = self.meta(&alone, &together, version)?;
        Ok(ContagionRun {
            meta,
            alone: alone.into_iter().map(|r| r.out).collect(),
            together: together.into_iter().map(|r| r.out).collect(),
        })
    }

    /// The exposure graph: per member and asset, collateral and debt at
    /// the window start (first market close).
    pub fn exposure(&self) -> Result<Vec<Exposure>, ContagionError> {
        let mut out = Vec::new();
        for m in &self.members {
            let px = m.start_prices()?;
            let mut by: BTreeMap<&str, (Wad, Wad, u64)> = BTreeMap::new();
            for p in &m.book.positions {
                let mut held: BTreeSet<&str> = BTreeSet::new();
                for (a, amt) in &p.collateral {
                    let e = by.entry(a).or_default();
                    e.0 += usd(*amt, px.get(a).copied().unwrap_or_default());
                    held.insert(a);
                }
                for (a, amt) in &p.debt {
                    let e = by.entry(a).or_default();
                    e.1 += usd(*amt, px.get(a).copied().unwrap_or_default());
                    held.insert(a);
                }
                for a in held {
                    by.entry(a).or_default().2 += 1;
                }
            }
            for (a, (c, d, n)) in by {
                out.push(Exposure {
                    protocol: m.spec.protocol.clone(),
                    asset: a.to_string(),
                    collateral_usd: c,
                    debt_usd: d,
                    positions: n,
                    shared: self.shared.iter().any(|s| s == a),
                });
            }
        }
        Ok(out)
    }

    /// Accounts in two members' books (snapshot books only).
    pub fn account_overlap(&self) -> Result<Vec<AccountOverlap>, ContagionError> {
        let mut debts = Vec::new();
        for m in &self.members {
            if m.book.origin.kind == "generated" {
                debts.push(None);
                continue;
            }
            let px = m.start_prices()?;
            let mut by: BTreeMap<&str, Wad> = BTreeMap::new();
            for p in &m.book.positions {
                let d = p.debt.iter().fold(Wad::ZERO, |s, (a, amt)| {
                    s + usd(*amt, px.get(a).copied().unwrap_or_default())
                });
                *by.entry(p.account.as_str()).or_default() += d;
            }
            debts.push(Some(by));
        }
        let mut out = Vec::new();
        for i in 0..debts.len() {
            for j in i + 1..debts.len() {
                let (Some(a), Some(b)) = (&debts[i], &debts[j]) else {
                    continue;
                };
                let both: Vec<&&str> = a.keys().filter(|k| b.contains_key(**k)).collect();
                if both.is_empty() {
                    continue;
                }
                out.push(AccountOverlap {
                    a: self.members[i].spec.protocol.clone(),
                    b: self.members[j].spec.protocol.clone(),
                    accounts: both.len() as u64,
                    debt_a_usd: both.iter().fold(Wad::ZERO, |s, k| s + a[**k]),
                    debt_b_usd: both.iter().fold(Wad::ZERO, |s, k| s + b[**k]),
                });
            }
        }
        Ok(out)
    }

    fn meta(
        &self,
        alone: &[JointRun],
        together: &[JointRun],
        version: &str,
    ) -> Result<ContagionMeta, ContagionError> {
        let mut h = Sha256::new();
        h.update(self.spec_text.as_bytes());
        let mut input_hashes = BTreeMap::new();
        for m in &self.members {
            h.update(b"\n");
            h.update(m.scenario.resolved_toml().as_bytes());
            for (k, v) in &m.input.input_hashes {
                h.update(format!("{k}={v}\n").as_bytes());
                input_hashes.insert(format!("{}/{k}", m.spec.protocol), v.clone());
            }
        }
        h.update(version.as_bytes());
        let members: Vec<ContagionMember> = self
            .members
            .iter()
            .zip(alone.iter().zip(together))
            .map(|(m, (a, t))| ContagionMember {
                protocol: m.spec.protocol.clone(),
                scenario: m.spec.scenario.clone(),
                sets: m.spec.set.clone(),
                preset: a.out.summary.preset.clone(),
                positions: a.out.summary.positions,
                book_generated: a.out.summary.book_generated,
                initial_debt_usd: a.out.summary.initial_debt_usd,
                alone: outcome(&a.out),
                together: outcome(&t.out),
                alone_run: format!("alone/{}", m.spec.protocol),
                together_run: format!("together/{}", m.spec.protocol),
                alone_run_id: a.out.run_meta.run_id.clone(),
                together_run_id: t.out.run_meta.run_id.clone(),
            })
            .collect();
        let markets = self
            .shared
            .iter()
            .map(|asset| {
                let mut low_alone = BTreeMap::new();
                let mut sold_alone_usd = BTreeMap::new();
                let mut sold_together_usd = BTreeMap::new();
                let mut low_together: Option<Wad> = None;
                let mut low_recorded: Option<Wad> = None;
                for (m, (a, t)) in self.members.iter().zip(alone.iter().zip(together)) {
                    let p = &m.spec.protocol;
                    if let Some(l) = a.market_low.get(asset) {
                        low_alone.insert(p.clone(), *l);
                        sold_alone_usd.insert(p.clone(), sold(&a.out, asset));
                        sold_together_usd.insert(p.clone(), sold(&t.out, asset));
                    }
                    if let Some(l) = t.market_low.get(asset) {
                        low_together = Some(low_together.map_or(*l, |x| x.min(*l)));
                    }
                    if let Some(l) = recorded_low(&m.scenario, &m.input, asset) {
                        low_recorded = Some(low_recorded.map_or(l, |x| x.min(l)));
                    }
                }
                SharedMarket {
                    asset: asset.clone(),
                    low_alone,
                    low_together,
                    low_recorded,
                    sold_alone_usd,
                    sold_together_usd,
                }
            })
            .collect();
        let mut hypothetical = Vec::new();
        for (m, a) in self.members.iter().zip(alone) {
            for line in &a.out.summary.hypothetical {
                hypothetical.push(format!("{}: {line}", m.spec.protocol));
            }
            if m.book.origin.kind == "generated" {
                hypothetical.push(format!(
                    "{}: generated book ({})",
                    m.spec.protocol, m.book.origin.detail
                ));
            }
        }
        let liquidity = match &self.spec.liquidity {
            Some(l) => {
                let mut lines = Vec::new();
                flatten(
                    "frictions.liquidity",
                    &toml::Value::try_from(l).expect("liquidity serialises"),
                    &mut lines,
                );
                lines
            }
            None => vec!["each member's own frictions.liquidity".to_string()],
        };
        let sc0 = &self.members[0].scenario;
        let (window_start, window_end) =
            sc0.window_micros()
                .map_err(|source| ContagionError::Member {
                    protocol: self.members[0].spec.protocol.clone(),
                    source,
                })?;
        let total = |f: fn(&ContagionMember) -> Outcome| {
            members.iter().map(f).fold(Outcome::default(), add)
        };
        Ok(ContagionMeta {
            contagion_id: hex::encode(h.finalize())[..16].to_string(),
            name: self.spec.name.clone(),
            title: self.spec.title.clone().unwrap_or(self.spec.name.clone()),
            description: self.spec.description.clone(),
            spec: String::new(),
            spec_text: self.spec_text.clone(),
            spec_sha256: self.spec_sha256(),
            window_start,
            window_end,
            shared_assets: self.shared.clone(),
            liquidity,
            total_alone: total(|m| m.alone),
            total_together: total(|m| m.together),
            members,
            exposure: self.exposure()?,
            account_overlap: self.account_overlap()?,
            markets,
            hypothetical,
            sources: self.spec.sources.clone(),
            input_hashes,
            version: version.to_string(),
        })
    }
}
