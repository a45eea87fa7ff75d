//! The contagion report (`contagion.html` + `contagion-report.json`):
//! several lending protocols that hold the same collateral, each replayed
//! alone and then all together in one replay where the shared assets have
//! one market. Labelled a MODEL throughout (and HYPOTHETICAL when a member
//! is: stress transforms, generated books); summary cards (bad debt alone
//! and together, the contagion add-on, liquidated volume), the table per
//! protocol with links to the full runs, the exposure graph and its table,
//! the account overlap, the shared markets, a bar chart of bad debt alone
//! against together, the method, the liquidity settings, the sources and
//! the provenance with the spec as written. Same inputs, same bytes (no
//! timestamp unless given).

mod model;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use shortfall_core::{ContagionMember, ContagionMeta, Outcome, Wad};

use crate::error::ReportError;
use crate::format as f;
use crate::output::{html_and_json, write_files, Written, REPORT_HTML};
use crate::render::Templates;
use crate::widgets::{Card, KeyValue, Term};
pub use model::*;

pub const CONTAGION_HTML: &str = "contagion.html";
pub const CONTAGION_REPORT_JSON: &str = "contagion-report.json";

/// Options of a contagion report.
#[derive(Debug, Clone, Default)]
pub struct ContagionOptions {
    /// A folder of templates replacing the built-ins by file name.
    pub templates: Option<PathBuf>,
    /// Shown only when given (byte-stable output otherwise).
    pub timestamp: Option<String>,
}

/// A relative link to the report of the run folder `run` (relative to
/// the contagion folder): every byte but letters, digits, `-._~/`
/// percent-encoded, so no scheme, query or quote can come from data;
/// leading and trailing `/` dropped (kept relative). None for an empty
/// folder.
pub fn run_link(run: &str) -> Option<String> {
    let run = run.trim_matches('/');
    if run.trim().is_empty() {
        return None;
    }
    let mut out = String::new();
    for b in run.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.push('/');
    out.push_str(REPORT_HTML);
    Some(out)
}

/// Who a row of the protocol table is: a member, or the total.
struct Identity<'a> {
    protocol: String,
    scenario: String,
    sets: Vec<String>,
    preset: String,
    book: String,
    positions: u64,
    initial_debt: Wad,
    /// Folders and ids of the runs alone and together (none for the total).
    runs: Option<(&'a str, &'a str, &'a str, &'a str)>,
}

fn row(id: Identity<'_>, a: &Outcome, t: &Outcome) -> MemberRow {
    let diff = t.bad_debt_usd - a.bad_debt_usd;
    let (alone_report, together_report, alone_run_id, together_run_id) = match id.runs {
        Some((ar, tr, aid, tid)) => (run_link(ar), run_link(tr), aid.into(), tid.into()),
        None => (None, None, String::new(), String::new()),
    };
    MemberRow {
        protocol: id.protocol,
        scenario: id.scenario,
        sets: id.sets,
        preset: id.preset,
        book: id.book,
        positions: f::count(id.positions),
        initial_debt_usd: f::usd(id.initial_debt),
        bad_debt_alone: f::usd(a.bad_debt_usd),
        bad_debt_together: f::usd(t.bad_debt_usd),
        bad_debt_difference: f::signed_usd(diff),
        bad_debt_alone_usd: a.bad_debt_usd,
        bad_debt_together_usd: t.bad_debt_usd,
        bad_debt_difference_usd: diff,
        npl_alone: f::count(a.npl_count),
        npl_together: f::count(t.npl_count),
        liquidations_alone: f::count(a.liquidation_count),
        liquidations_together: f::count(t.liquidation_count),
        liquidated_alone: f::usd(a.liquidated_volume_usd),
        liquidated_together: f::usd(t.liquidated_volume_usd),
        liquidated_alone_usd: a.liquidated_volume_usd,
        liquidated_together_usd: t.liquidated_volume_usd,
        penalty_alone: f::usd(a.penalty_usd),
        penalty_together: f::usd(t.penalty_usd),
        blocked_alone: f::count(a.blocked_no_liquidity),
        blocked_together: f::count(t.blocked_no_liquidity),
        alone_report,
        together_report,
        alone_run_id,
        together_run_id,
    }
}

fn member_row(m: &ContagionMember) -> MemberRow {
    let id = Identity {
        protocol: m.protocol.clone(),
        scenario: m.scenario.clone(),
        sets: m.sets.clone(),
        preset: m.preset.clone(),
        book: if m.book_generated {
            "generated".into()
        } else {
            "snapshot".into()
        },
        positions: m.positions,
        initial_debt: m.initial_debt_usd,
        runs: Some((
            &m.alone_run,
            &m.together_run,
            &m.alone_run_id,
            &m.together_run_id,
        )),
    };
    row(id, &m.alone, &m.together)
}

fn total_row(meta: &ContagionMeta) -> MemberRow {
    let id = Identity {
        protocol: "All protocols".into(),
        scenario: String::new(),
        sets: Vec::new(),
        preset: String::new(),
        book: String::new(),
        positions: meta.members.iter().map(|m| m.positions).sum(),
        initial_debt: meta.members.iter().map(|m| m.initial_debt_usd).sum(),
        runs: None,
    };
    row(id, &meta.total_alone, &meta.total_together)
}

/// Names in member order first, then any other in the order given.
fn ordered<'a>(members: &[&'a str], others: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let others: Vec<&str> = others.into_iter().collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for n in members.iter().copied().filter(|m| others.contains(m)) {
        if seen.insert(n) {
            out.push(n.to_string());
        }
    }
    for n in others {
        if seen.insert(n) {
            out.push(n.to_string());
        }
    }
    out
}

fn graph(meta: &ContagionMeta) -> ExposureGraph {
    let names: Vec<&str> = meta.members.iter().map(|m| m.protocol.as_str()).collect();
    let protocols = ordered(&names, meta.exposure.iter().map(|e| e.protocol.as_str()));
    // Shared assets first (in the spec's order), then the others as they
    // come.
    let shared: Vec<&str> = meta.shared_assets.iter().map(String::as_str).collect();
    let assets = ordered(&shared, meta.exposure.iter().map(|e| e.asset.as_str()));
    let pos = |v: &[String], n: &str| v.iter().position(|x| x == n).unwrap_or(0);
    let edges: Vec<GraphEdge> = meta
        .exposure
        .iter()
        .map(|e| GraphEdge {
            protocol: pos(&protocols, &e.protocol),
            asset: pos(&assets, &e.asset),
            collateral_usd: e.collateral_usd,
            debt_usd: e.debt_usd,
            shared: e.shared,
        })
        .collect();
    let node = |name: &String, shared: bool, on: &dyn Fn(&GraphEdge) -> bool| {
        let collateral: Wad = edges
            .iter()
            .filter(|e| on(e))
            .map(|e| e.collateral_usd)
            .sum();
        let debt: Wad = edges.iter().filter(|e| on(e)).map(|e| e.debt_usd).sum();
        GraphNode {
            name: name.clone(),
            collateral_usd: collateral,
            collateral: f::usd_short(collateral),
            debt_usd: debt,
            debt: f::usd_short(debt),
            shared,
        }
    };
    let max = edges
        .iter()
        .map(|e| e.collateral_usd)
        .max()
        .unwrap_or(Wad::ZERO);
    ExposureGraph {
        protocols: protocols
            .iter()
            .enumerate()
            .map(|(i, p)| node(p, false, &|e| e.protocol == i))
            .collect(),
        assets: assets
            .iter()
            .enumerate()
            .map(|(j, a)| {
                let shared = meta.shared_assets.contains(a)
                    || edges.iter().any(|e| e.asset == j && e.shared);
                node(a, shared, &|e| e.asset == j)
            })
            .collect(),
        edges,
        max_collateral: f::usd(max),
    }
}

fn markets(meta: &ContagionMeta) -> Vec<MarketRow> {
    let names: Vec<&str> = meta.members.iter().map(|m| m.protocol.as_str()).collect();
    meta.markets
        .iter()
        .map(|m| {
            let protocols = ordered(
                &names,
                m.low_alone
                    .keys()
                    .chain(m.sold_alone_usd.keys())
                    .chain(m.sold_together_usd.keys())
                    .map(String::as_str),
            );
            MarketRow {
                asset: m.asset.clone(),
                low_recorded: f::or_dash(m.low_recorded, f::price),
                low_together: f::or_dash(m.low_together, f::price),
                sold_alone_total_usd: f::usd(m.sold_alone_usd.values().copied().sum()),
                sold_together_total_usd: f::usd(m.sold_together_usd.values().copied().sum()),
                protocols: protocols
                    .into_iter()
                    .map(|p| MarketProtocol {
                        low_alone: f::or_dash(m.low_alone.get(&p).copied(), f::price),
                        sold_alone_usd: f::or_dash(m.sold_alone_usd.get(&p).copied(), f::usd),
                        sold_together_usd: f::or_dash(m.sold_together_usd.get(&p).copied(), f::usd),
                        protocol: p,
                    })
                    .collect(),
            }
        })
        .collect()
}

fn list(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

/// The command that wrote the contagion, with the spec as it was named
/// (`<file>`, the spec shown in the provenance, when not recorded).
pub fn command(meta: &ContagionMeta) -> String {
    let spec = if meta.spec.is_empty() {
        "<file>".to_string()
    } else {
        f::shell_quote(&meta.spec)
    };
    format!("shortfall contagion --spec {spec}")
}

fn cards(meta: &ContagionMeta) -> Vec<Card> {
    let (ta, tt) = (&meta.total_alone, &meta.total_together);
    vec![
        Card::new(
            "bad_debt_alone",
            "Bad debt, each protocol alone (sum)",
            f::usd(ta.bad_debt_usd),
        ),
        Card::new(
            "bad_debt_together",
            "Bad debt, all protocols together",
            f::usd(tt.bad_debt_usd),
        ),
        Card::new(
            "contagion_addon",
            "Contagion add-on (together - alone)",
            f::signed_usd(tt.bad_debt_usd - ta.bad_debt_usd),
        ),
        Card::new(
            "liquidated_alone",
            "Liquidated volume alone (sum)",
            f::usd(ta.liquidated_volume_usd),
        ),
        Card::new(
            "liquidated_together",
            "Liquidated volume together",
            f::usd(tt.liquidated_volume_usd),
        ),
    ]
}

/// The first sentence: bad debt together against alone.
fn summary(meta: &ContagionMeta, shared: &str) -> String {
    let (ta, tt) = (&meta.total_alone, &meta.total_together);
    let addon = tt.bad_debt_usd - ta.bad_debt_usd;
    let n = meta.members.len();
    if addon.is_positive() {
        format!(
            "Replayed together, sharing the market of {shared}, the {n} protocols end with {} of bad debt, {} more than the {} they end with replayed each alone.",
            f::usd(tt.bad_debt_usd),
            f::usd(addon),
            f::usd(ta.bad_debt_usd)
        )
    } else if addon.is_negative() {
        format!(
            "Replayed together, sharing the market of {shared}, the {n} protocols end with {} of bad debt, {} less than the {} they end with replayed each alone.",
            f::usd(tt.bad_debt_usd),
            f::usd(-addon),
            f::usd(ta.bad_debt_usd)
        )
    } else {
        format!(
            "Replayed together, sharing the market of {shared}, the {n} protocols end with the same bad debt as replayed each alone: {}.",
            f::usd(tt.bad_debt_usd)
        )
    }
}

fn exposure(meta: &ContagionMeta) -> Vec<ExposureRow> {
    meta.exposure
        .iter()
        .map(|e| ExposureRow {
            protocol: e.protocol.clone(),
            asset: e.asset.clone(),
            collateral_usd: f::usd(e.collateral_usd),
            debt_usd: f::usd(e.debt_usd),
            positions: f::count(e.positions),
            shared: if e.shared { "yes" } else { "no" }.into(),
        })
        .collect()
}

/// The account overlap of the books and what to say about it (no overlap,
/// or generated books left out).
fn overlap(meta: &ContagionMeta) -> (Vec<OverlapRow>, Option<String>) {
    let overlap: Vec<OverlapRow> = meta
        .account_overlap
        .iter()
        .map(|o| OverlapRow {
            a: o.a.clone(),
            b: o.b.clone(),
            accounts: f::count(o.accounts),
            debt_a_usd: f::usd(o.debt_a_usd),
            debt_b_usd: f::usd(o.debt_b_usd),
        })
        .collect();
    let generated: Vec<String> = meta
        .members
        .iter()
        .filter(|m| m.book_generated)
        .map(|m| m.protocol.clone())
        .collect();
    let note = match (overlap.is_empty(), generated.is_empty()) {
        (true, false) if generated.len() + 1 >= meta.members.len() => Some(format!(
            "No account overlap is measured: the books of {} are generated (synthetic accounts), so there are not two snapshot books to compare.",
            generated.join(", ")
        )),
        (true, false) => Some(format!(
            "No account holds positions in two of the snapshot books. The books of {} are generated (synthetic accounts) and not compared.",
            generated.join(", ")
        )),
        (true, true) => Some("No account holds positions in two of the protocols' books.".into()),
        (false, false) => Some(format!(
            "The books of {} are generated (synthetic accounts) and not compared.",
            generated.join(", ")
        )),
        (false, true) => None,
    };
    (overlap, note)
}

fn bars(meta: &ContagionMeta) -> Vec<BarRow> {
    meta.members
        .iter()
        .map(|m| BarRow {
            protocol: m.protocol.clone(),
            alone_usd: m.alone.bad_debt_usd,
            together_usd: m.together.bad_debt_usd,
            alone: f::usd(m.alone.bad_debt_usd),
            together: f::usd(m.together.bad_debt_usd),
        })
        .collect()
}

fn method(shared: &str) -> Vec<Term> {
    vec![
        Term::new(
            "A model",
            "The joint replay is a model, not what happened: the protocols' books, prices and rules are historical (or as the members' scenarios say), but how their liquidations would have met in one market depends on the liquidity settings below (market depth, price impact), which are assumptions.",
        ),
        Term::new(
            "Alone",
            "Each protocol is replayed on its own, with its own scenario and the liquidity settings below: its liquidation sales use the depth of its own copy of every market and, with price impact, lower only the price its own oracle reads. The bad debt alone of the protocols is the sum of these separate replays.",
        ),
        Term::new(
            "Together",
            format!(
                "All protocols in one replay on one clock, with the same liquidity settings. For the shared assets ({shared}) there is one market: a liquidation sale in any protocol uses its depth, so less is left for the others, and with price impact it lowers the market price every protocol's oracle reads."
            ),
        ),
        Term::new(
            "What is shared",
            "Only the market of the shared assets. Liquidators, oracles (their sources, heartbeats and deviation rules), reserves, policies and books stay per protocol; an asset that is not shared keeps one market per protocol, as alone.",
        ),
        Term::new(
            "When impact arrives",
            "The impact of a sale lowers the shared market at once, but it reaches a protocol's oracle only at that oracle's next market print (its next update from the market), not between prints; a protocol whose oracle has not updated still sees the older price.",
        ),
        Term::new(
            "Contagion add-on",
            "Bad debt together minus bad debt alone, per protocol and in total; positive when sharing the market made the losses worse.",
        ),
        Term::new(
            "Exposure",
            "What each protocol holds of each asset at the window start, as collateral and as debt, in USD at market prices; positions: those holding the asset as collateral or debt.",
        ),
        Term::new(
            "Shared markets",
            "Recorded low: the lowest recorded market price in the window (no impact). Low alone: the lowest market price, after the impact of its own liquidation sales, each protocol saw replayed alone. Low together: the lowest market price in the joint replay. Collateral sold: collateral of the asset sold by liquidations, USD at oracle prices.",
        ),
        Term::new(
            "Blocked",
            "Liquidation attempts blocked because the market had no depth left.",
        ),
    ]
}

fn provenance(meta: &ContagionMeta, window: &str, shared: &str) -> Vec<KeyValue> {
    let mut provenance = vec![
        KeyValue::new("Contagion id", &meta.contagion_id),
        KeyValue::new("Name", &meta.name),
        KeyValue::new("Tool version", &meta.version),
        KeyValue::new("Window", window),
        KeyValue::new("Shared assets", shared),
        KeyValue::new("Spec sha256", &meta.spec_sha256),
    ];
    for m in &meta.members {
        let sets = if m.sets.is_empty() {
            String::new()
        } else {
            format!(" --set {}", m.sets.join(" --set "))
        };
        provenance.push(KeyValue::new(
            format!("Member {}", m.protocol),
            format!(
                "{}{sets}; alone: {} (run {}); together: {} (run {})",
                m.scenario, m.alone_run, m.alone_run_id, m.together_run, m.together_run_id
            ),
        ));
    }
    provenance
}

/// Builds the report model.
pub fn build_contagion(
    meta: &ContagionMeta,
    opts: &ContagionOptions,
) -> Result<ContagionReport, ReportError> {
    let window = format!(
        "{} to {}",
        f::time(meta.window_start),
        f::time(meta.window_end)
    );
    let shared = list(&meta.shared_assets);
    let (ta, tt) = (&meta.total_alone, &meta.total_together);
    let n = meta.members.len();
    let graph = graph(meta);
    let graph_caption = format!(
        "Collateral each protocol holds of each asset at the window start (USD at market prices). Line width is proportional to collateral (widest: {}); red lines and nodes: assets whose market is shared in the joint replay ({shared}); grey: a market per protocol; dashed: debt only, no collateral.",
        graph.max_collateral
    );
    let (overlap, overlap_note) = overlap(meta);
    let bars_caption = format!(
        "Bad debt of each protocol at the window end: grey, replayed alone; red, replayed together with the others (one market for {shared}). Totals: {} alone, {} together ({}).",
        f::usd(ta.bad_debt_usd),
        f::usd(tt.bad_debt_usd),
        f::signed_usd(tt.bad_debt_usd - ta.bad_debt_usd)
    );
    let hypothetical_notice = (!meta.hypothetical.is_empty()).then(|| {
        "HYPOTHETICAL: some members do not replay what happened; every figure below, alone and together, includes these changes:".to_string()
    });
    Ok(ContagionReport {
        title: format!("Contagion: {}", meta.title),
        subtitle: format!(
            "{n} protocols alone and together, shared markets: {shared}, {window}"
        ),
        name: meta.name.clone(),
        contagion_id: meta.contagion_id.clone(),
        generated_at: opts.timestamp.clone(),
        description: meta.description.clone(),
        model_notice: format!(
            "MODEL: the joint replay is a model, not what happened. The protocols are replayed alone and then together, in one replay where the market of {shared} is one market for all of them; the figures together depend on the liquidity settings below."
        ),
        hypothetical: meta.hypothetical.clone(),
        hypothetical_notice,
        shared_assets: meta.shared_assets.clone(),
        cards: cards(meta),
        summary: summary(meta, &shared),
        members: meta.members.iter().map(member_row).collect(),
        total: total_row(meta),
        graph,
        graph_caption,
        exposure: exposure(meta),
        overlap,
        overlap_note,
        markets: markets(meta),
        bars: bars(meta),
        bars_caption,
        method: method(&shared),
        liquidity: meta.liquidity.clone(),
        sources: KeyValue::list(&meta.sources),
        provenance: provenance(meta, &window, &shared),
        window,
        spec_sha256: meta.spec_sha256.clone(),
        spec_text: meta.spec_text.clone(),
        inputs: KeyValue::list(&meta.input_hashes),
        command: command(meta),
        version: meta.version.clone(),
    })
}

/// Builds and renders: the model, the HTML and the JSON.
pub fn render_contagion(
    meta: &ContagionMeta,
    opts: &ContagionOptions,
) -> Result<(ContagionReport, String, Vec<u8>), ReportError> {
    let report = build_contagion(meta, opts)?;
    let templates = Templates::load(opts.templates.as_deref())?;
    let (html, json) = html_and_json(&templates, &report)?;
    Ok((report, html, json))
}

/// Writes `contagion.html` and `contagion-report.json` into `dir`.
pub fn write_contagion(
    meta: &ContagionMeta,
    dir: &Path,
    opts: &ContagionOptions,
) -> Result<(ContagionReport, Written), ReportError> {
    let (report, html, json) = render_contagion(meta, opts)?;
    let written = write_files(
        &dir.join(CONTAGION_HTML),
        &html,
        &dir.join(CONTAGION_REPORT_JSON),
        &json,
    )?;
    Ok((report, written))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_links_stay_relative_and_quoted() {
        assert_eq!(
            run_link("alone/aave-like").as_deref(),
            Some("alone/aave-like/report.html")
        );
        assert_eq!(
            run_link("javascript:alert(1)\"><img").as_deref(),
            Some("javascript%3Aalert%281%29%22%3E%3Cimg/report.html")
        );
        assert_eq!(
            run_link("//evil.example/x").as_deref(),
            Some("evil.example/x/report.html")
        );
        assert_eq!(
            run_link("together/b/").as_deref(),
            Some("together/b/report.html")
        );
        assert_eq!(run_link(""), None);
        assert_eq!(run_link("/"), None);
    }
}
