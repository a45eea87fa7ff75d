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

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;
use shortfall_core::{ContagionMeta, Outcome, Wad};

use crate::format as f;
use crate::stress::{Card, KeyValue, Term};
use crate::{charts, ReportError, Written};

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

/// One protocol (or the total over them) alone and together.
#[derive(Debug, Clone, Serialize)]
pub struct MemberRow {
    pub protocol: String,
    pub scenario: String,
    pub sets: Vec<String>,
    pub preset: String,
    pub book: String,
    pub positions: String,
    pub initial_debt_usd: String,
    pub bad_debt_alone: String,
    pub bad_debt_together: String,
    /// Together minus alone, signed (`+$1,234`).
    pub bad_debt_difference: String,
    pub bad_debt_alone_usd: Wad,
    pub bad_debt_together_usd: Wad,
    pub bad_debt_difference_usd: Wad,
    pub npl_alone: String,
    pub npl_together: String,
    pub liquidations_alone: String,
    pub liquidations_together: String,
    pub liquidated_alone: String,
    pub liquidated_together: String,
    pub liquidated_alone_usd: Wad,
    pub liquidated_together_usd: Wad,
    pub penalty_alone: String,
    pub penalty_together: String,
    pub blocked_alone: String,
    pub blocked_together: String,
    /// Relative links to the full runs' reports (none for the total).
    pub alone_report: Option<String>,
    pub together_report: Option<String>,
    pub alone_run_id: String,
    pub together_run_id: String,
}

/// A node of the exposure graph: a protocol or an asset, with the
/// collateral on its edges.
#[derive(Debug, Clone, Serialize)]
pub struct GraphNode {
    pub name: String,
    pub collateral_usd: Wad,
    pub collateral: String,
    pub debt_usd: Wad,
    pub debt: String,
    /// An asset whose market is shared (always false for a protocol).
    pub shared: bool,
}

/// An edge of the exposure graph: indexes into the protocols and assets.
#[derive(Debug, Clone, Serialize)]
pub struct GraphEdge {
    pub protocol: usize,
    pub asset: usize,
    pub collateral_usd: Wad,
    pub debt_usd: Wad,
    pub shared: bool,
}

/// The exposure graph: protocols on the left, assets on the right.
#[derive(Debug, Clone, Serialize)]
pub struct ExposureGraph {
    pub protocols: Vec<GraphNode>,
    pub assets: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
    /// Collateral of the widest edge (the chart's width scale).
    pub max_collateral: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExposureRow {
    pub protocol: String,
    pub asset: String,
    pub collateral_usd: String,
    pub debt_usd: String,
    pub positions: String,
    pub shared: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OverlapRow {
    pub a: String,
    pub b: String,
    pub accounts: String,
    pub debt_a_usd: String,
    pub debt_b_usd: String,
}

/// One protocol's side of a shared market.
#[derive(Debug, Clone, Serialize)]
pub struct MarketProtocol {
    pub protocol: String,
    pub low_alone: String,
    pub sold_alone_usd: String,
    pub sold_together_usd: String,
}

/// A shared market: lows and collateral sold, alone and together.
#[derive(Debug, Clone, Serialize)]
pub struct MarketRow {
    pub asset: String,
    pub low_recorded: String,
    pub low_together: String,
    pub sold_alone_total_usd: String,
    pub sold_together_total_usd: String,
    pub protocols: Vec<MarketProtocol>,
}

/// A group of the bad debt chart.
#[derive(Debug, Clone, Serialize)]
pub struct BarRow {
    pub protocol: String,
    pub alone_usd: Wad,
    pub together_usd: Wad,
    pub alone: String,
    pub together: String,
}

/// The report model (also its JSON twin).
#[derive(Debug, Clone, Serialize)]
pub struct ContagionReport {
    pub title: String,
    pub subtitle: String,
    pub name: String,
    pub contagion_id: String,
    pub generated_at: Option<String>,
    pub description: Option<String>,
    pub window: String,
    /// The joint replay is a model: always shown.
    pub model_notice: String,
    /// Non-empty: the runs are HYPOTHETICAL, one line per reason.
    pub hypothetical: Vec<String>,
    pub hypothetical_notice: Option<String>,
    pub shared_assets: Vec<String>,
    pub cards: Vec<Card>,
    pub summary: String,
    pub members: Vec<MemberRow>,
    pub total: MemberRow,
    pub graph: ExposureGraph,
    pub graph_caption: String,
    pub exposure: Vec<ExposureRow>,
    pub overlap: Vec<OverlapRow>,
    /// Said when no overlap is listed, or when some books are left out.
    pub overlap_note: Option<String>,
    pub markets: Vec<MarketRow>,
    pub bars: Vec<BarRow>,
    pub bars_caption: String,
    pub method: Vec<Term>,
    pub liquidity: Vec<String>,
    pub sources: Vec<KeyValue>,
    pub provenance: Vec<KeyValue>,
    pub spec_sha256: String,
    pub spec_text: String,
    pub inputs: Vec<KeyValue>,
    pub command: String,
    pub version: String,
}

/// Signed dollars: `+$1,234`, `-$5`, `$0`.
pub fn signed_usd(w: Wad) -> String {
    let s = f::usd(w);
    if w.is_positive() && s != "$0" {
        format!("+{s}")
    } else {
        s
    }
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
    out.push_str(crate::REPORT_HTML);
    Some(out)
}

fn or_dash(w: Option<&Wad>, fmt: fn(Wad) -> String) -> String {
    w.copied().map_or_else(|| "-".to_string(), fmt)
}

#[allow(clippy::too_many_arguments)]
fn member_row(
    protocol: String,
    scenario: String,
    sets: Vec<String>,
    preset: String,
    book: String,
    positions: u64,
    initial_debt: Wad,
    a: &Outcome,
    t: &Outcome,
    runs: Option<(&str, &str, &str, &str)>,
) -> MemberRow {
    let diff = t.bad_debt_usd - a.bad_debt_usd;
    let (alone_report, together_report, alone_run_id, together_run_id) = match runs {
        Some((ar, tr, aid, tid)) => (run_link(ar), run_link(tr), aid.into(), tid.into()),
        None => (None, None, String::new(), String::new()),
    };
    MemberRow {
        protocol,
        scenario,
        sets,
        preset,
        book,
        positions: f::count(positions),
        initial_debt_usd: f::usd(initial_debt),
        bad_debt_alone: f::usd(a.bad_debt_usd),
        bad_debt_together: f::usd(t.bad_debt_usd),
        bad_debt_difference: signed_usd(diff),
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
                low_recorded: or_dash(m.low_recorded.as_ref(), f::price),
                low_together: or_dash(m.low_together.as_ref(), f::price),
                sold_alone_total_usd: f::usd(m.sold_alone_usd.values().copied().sum()),
                sold_together_total_usd: f::usd(m.sold_together_usd.values().copied().sum()),
                protocols: protocols
                    .into_iter()
                    .map(|p| MarketProtocol {
                        low_alone: or_dash(m.low_alone.get(&p), f::price),
                        sold_alone_usd: or_dash(m.sold_alone_usd.get(&p), f::usd),
                        sold_together_usd: or_dash(m.sold_together_usd.get(&p), f::usd),
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
        crate::build::shell_quote(&meta.spec)
    };
    format!("shortfall contagion --spec {spec}")
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
    let addon = tt.bad_debt_usd - ta.bad_debt_usd;
    let n = meta.members.len();
    let cards = vec![
        Card {
            key: "bad_debt_alone".into(),
            label: "Bad debt, each protocol alone (sum)".into(),
            value: f::usd(ta.bad_debt_usd),
        },
        Card {
            key: "bad_debt_together".into(),
            label: "Bad debt, all protocols together".into(),
            value: f::usd(tt.bad_debt_usd),
        },
        Card {
            key: "contagion_addon".into(),
            label: "Contagion add-on (together - alone)".into(),
            value: signed_usd(addon),
        },
        Card {
            key: "liquidated_alone".into(),
            label: "Liquidated volume alone (sum)".into(),
            value: f::usd(ta.liquidated_volume_usd),
        },
        Card {
            key: "liquidated_together".into(),
            label: "Liquidated volume together".into(),
            value: f::usd(tt.liquidated_volume_usd),
        },
    ];
    let summary = if addon.is_positive() {
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
    };
    let members: Vec<MemberRow> = meta
        .members
        .iter()
        .map(|m| {
            member_row(
                m.protocol.clone(),
                m.scenario.clone(),
                m.sets.clone(),
                m.preset.clone(),
                if m.book_generated {
                    "generated".into()
                } else {
                    "snapshot".into()
                },
                m.positions,
                m.initial_debt_usd,
                &m.alone,
                &m.together,
                Some((
                    &m.alone_run,
                    &m.together_run,
                    &m.alone_run_id,
                    &m.together_run_id,
                )),
            )
        })
        .collect();
    let total = member_row(
        "All protocols".into(),
        String::new(),
        Vec::new(),
        String::new(),
        String::new(),
        meta.members.iter().map(|m| m.positions).sum(),
        meta.members.iter().map(|m| m.initial_debt_usd).sum(),
        ta,
        tt,
        None,
    );
    let graph = graph(meta);
    let graph_caption = format!(
        "Collateral each protocol holds of each asset at the window start (USD at market prices). Line width is proportional to collateral (widest: {}); red lines and nodes: assets whose market is shared in the joint replay ({shared}); grey: a market per protocol; dashed: debt only, no collateral.",
        graph.max_collateral
    );
    let exposure = meta
        .exposure
        .iter()
        .map(|e| ExposureRow {
            protocol: e.protocol.clone(),
            asset: e.asset.clone(),
            collateral_usd: f::usd(e.collateral_usd),
            debt_usd: f::usd(e.debt_usd),
            positions: f::count(e.positions),
            shared: if e.shared { "yes" } else { "no" }.into(),
        })
        .collect();
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
    let overlap_note = match (overlap.is_empty(), generated.is_empty()) {
        (true, false) if generated.len() + 1 >= n => Some(format!(
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
    let bars: Vec<BarRow> = meta
        .members
        .iter()
        .map(|m| BarRow {
            protocol: m.protocol.clone(),
            alone_usd: m.alone.bad_debt_usd,
            together_usd: m.together.bad_debt_usd,
            alone: f::usd(m.alone.bad_debt_usd),
            together: f::usd(m.together.bad_debt_usd),
        })
        .collect();
    let bars_caption = format!(
        "Bad debt of each protocol at the window end: grey, replayed alone; red, replayed together with the others (one market for {shared}). Totals: {} alone, {} together ({}).",
        f::usd(ta.bad_debt_usd),
        f::usd(tt.bad_debt_usd),
        signed_usd(addon)
    );
    let method = vec![
        Term {
            term: "A model".into(),
            text: "The joint replay is a model, not what happened: the protocols' books, prices and rules are historical (or as the members' scenarios say), but how their liquidations would have met in one market depends on the liquidity settings below (market depth, price impact), which are assumptions.".into(),
        },
        Term {
            term: "Alone".into(),
            text: "Each protocol is replayed on its own, with its own scenario and the liquidity settings below: its liquidation sales use the depth of its own copy of every market and, with price impact, lower only the price its own oracle reads. The bad debt alone of the protocols is the sum of these separate replays.".into(),
        },
        Term {
            term: "Together".into(),
            text: format!(
                "All protocols in one replay on one clock, with the same liquidity settings. For the shared assets ({shared}) there is one market: a liquidation sale in any protocol uses its depth, so less is left for the others, and with price impact it lowers the market price every protocol's oracle reads."
            ),
        },
        Term {
            term: "What is shared".into(),
            text: "Only the market of the shared assets. Liquidators, oracles (their sources, heartbeats and deviation rules), reserves, policies and books stay per protocol; an asset that is not shared keeps one market per protocol, as alone.".into(),
        },
        Term {
            term: "When impact arrives".into(),
            text: "The impact of a sale lowers the shared market at once, but it reaches a protocol's oracle only at that oracle's next market print (its next update from the market), not between prints; a protocol whose oracle has not updated still sees the older price.".into(),
        },
        Term {
            term: "Contagion add-on".into(),
            text: "Bad debt together minus bad debt alone, per protocol and in total; positive when sharing the market made the losses worse.".into(),
        },
        Term {
            term: "Exposure".into(),
            text: "What each protocol holds of each asset at the window start, as collateral and as debt, in USD at market prices; positions: those holding the asset as collateral or debt.".into(),
        },
        Term {
            term: "Shared markets".into(),
            text: "Recorded low: the lowest recorded market price in the window (no impact). Low alone: the lowest market price, after the impact of its own liquidation sales, each protocol saw replayed alone. Low together: the lowest market price in the joint replay. Collateral sold: collateral of the asset sold by liquidations, USD at oracle prices.".into(),
        },
        Term {
            term: "Blocked".into(),
            text: "Liquidation attempts blocked because the market had no depth left.".into(),
        },
    ];
    let hypothetical_notice = (!meta.hypothetical.is_empty()).then(|| {
        "HYPOTHETICAL: some members do not replay what happened; every figure below, alone and together, includes these changes:".to_string()
    });
    let mut provenance = vec![
        KeyValue {
            key: "Contagion id".into(),
            value: meta.contagion_id.clone(),
        },
        KeyValue {
            key: "Name".into(),
            value: meta.name.clone(),
        },
        KeyValue {
            key: "Tool version".into(),
            value: meta.version.clone(),
        },
        KeyValue {
            key: "Window".into(),
            value: window.clone(),
        },
        KeyValue {
            key: "Shared assets".into(),
            value: shared.clone(),
        },
        KeyValue {
            key: "Spec sha256".into(),
            value: meta.spec_sha256.clone(),
        },
    ];
    for m in &meta.members {
        let sets = if m.sets.is_empty() {
            String::new()
        } else {
            format!(" --set {}", m.sets.join(" --set "))
        };
        provenance.push(KeyValue {
            key: format!("Member {}", m.protocol),
            value: format!(
                "{}{sets}; alone: {} (run {}); together: {} (run {})",
                m.scenario, m.alone_run, m.alone_run_id, m.together_run, m.together_run_id
            ),
        });
    }
    let kv = |m: &std::collections::BTreeMap<String, String>| -> Vec<KeyValue> {
        m.iter()
            .map(|(k, v)| KeyValue {
                key: k.clone(),
                value: v.clone(),
            })
            .collect()
    };
    Ok(ContagionReport {
        title: format!("Contagion: {}", meta.title),
        subtitle: format!(
            "{n} protocols alone and together, shared markets: {shared}, {window}"
        ),
        name: meta.name.clone(),
        contagion_id: meta.contagion_id.clone(),
        generated_at: opts.timestamp.clone(),
        description: meta.description.clone(),
        window,
        model_notice: format!(
            "MODEL: the joint replay is a model, not what happened. The protocols are replayed alone and then together, in one replay where the market of {shared} is one market for all of them; the figures together depend on the liquidity settings below."
        ),
        hypothetical: meta.hypothetical.clone(),
        hypothetical_notice,
        shared_assets: meta.shared_assets.clone(),
        cards,
        summary,
        members,
        total,
        graph,
        graph_caption,
        exposure,
        overlap,
        overlap_note,
        markets: markets(meta),
        bars,
        bars_caption,
        method,
        liquidity: meta.liquidity.clone(),
        sources: kv(&meta.sources),
        provenance,
        spec_sha256: meta.spec_sha256.clone(),
        spec_text: meta.spec_text.clone(),
        inputs: kv(&meta.input_hashes),
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
    let templates = crate::render::Templates::load(opts.templates.as_deref())?;
    let exposure_svg = charts::contagion_exposure_svg(&report.graph)?;
    let bars_svg = charts::contagion_bad_debt_svg(&report.bars)?;
    let html = templates.render_contagion(&report, &exposure_svg, &bars_svg)?;
    let json = crate::json_bytes(&report)?;
    Ok((report, html, json))
}

/// Writes `contagion.html` and `contagion-report.json` into `dir`.
pub fn write_contagion(
    meta: &ContagionMeta,
    dir: &Path,
    opts: &ContagionOptions,
) -> Result<(ContagionReport, Written), ReportError> {
    let (report, html, json) = render_contagion(meta, opts)?;
    let written = crate::write_files(
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

    #[test]
    fn signed_dollars() {
        assert_eq!(signed_usd(Wad::from_int(1234)), "+$1,234");
        assert_eq!(signed_usd(Wad::from_int(-5)), "-$5");
        assert_eq!(signed_usd(Wad::ZERO), "$0");
        assert_eq!(signed_usd(Wad(1)), "$0");
    }
}
