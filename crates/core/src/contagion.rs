//! Contagion across protocols (`contagion.json`): several protocols that
//! share collateral replayed alone and together, and what they share.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Micros, Wad};

/// Outcome of one protocol in one replay (alone or together).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub bad_debt_usd: Wad,
    pub npl_count: u64,
    /// Debt repaid by liquidations, USD.
    pub liquidated_volume_usd: Wad,
    pub liquidation_count: u64,
    /// Liquidation penalties paid by borrowers, USD.
    pub penalty_usd: Wad,
    /// Attempts blocked because the market had no depth left.
    pub blocked_no_liquidity: u64,
}

/// One protocol of a contagion replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContagionMember {
    /// Label of the protocol (the member's scenario name in its runs).
    pub protocol: String,
    /// The crisis pack or scenario file it comes from, as written.
    pub scenario: String,
    /// `--set` overrides applied to it, as written (`key=value`).
    pub sets: Vec<String>,
    pub preset: String,
    pub positions: u64,
    pub book_generated: bool,
    pub initial_debt_usd: Wad,
    pub alone: Outcome,
    pub together: Outcome,
    /// Folders (relative to the contagion folder) of the full runs.
    pub alone_run: String,
    pub together_run: String,
    pub alone_run_id: String,
    pub together_run_id: String,
}

/// An edge of the exposure graph: what a protocol holds of an asset at
/// the window start (market prices).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exposure {
    pub protocol: String,
    pub asset: String,
    pub collateral_usd: Wad,
    pub debt_usd: Wad,
    /// Positions holding the asset (collateral or debt).
    pub positions: u64,
    /// The asset's market is shared in the joint replay.
    pub shared: bool,
}

/// Accounts present in two protocols' books (snapshot books only: the
/// accounts of generated books are synthetic).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountOverlap {
    pub a: String,
    pub b: String,
    pub accounts: u64,
    /// Debt of those accounts in `a` and in `b` at the window start.
    pub debt_a_usd: Wad,
    pub debt_b_usd: Wad,
}

/// A shared market in the joint replay against the protocols alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedMarket {
    pub asset: String,
    /// Lowest market price (after the impact of liquidation sales) each
    /// protocol saw alone, by protocol.
    pub low_alone: BTreeMap<String, Wad>,
    /// Lowest market price in the joint replay.
    pub low_together: Option<Wad>,
    /// Lowest recorded market price (no impact).
    pub low_recorded: Option<Wad>,
    /// Collateral of the asset sold by liquidations, USD at oracle prices,
    /// by protocol: alone and together.
    pub sold_alone_usd: BTreeMap<String, Wad>,
    pub sold_together_usd: BTreeMap<String, Wad>,
}

/// Everything `shortfall contagion` ran and found (`contagion.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContagionMeta {
    /// Content hash over the spec, the members' resolved configs and
    /// inputs, and the version.
    pub contagion_id: String,
    pub name: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// How the spec was named on the command line (`luna-2022-05` or a
    /// path); empty when unknown.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub spec: String,
    /// The spec file as written and its sha256.
    pub spec_text: String,
    pub spec_sha256: String,
    pub window_start: Micros,
    pub window_end: Micros,
    /// Assets with one market for every protocol in the joint replay.
    pub shared_assets: Vec<String>,
    /// The liquidity settings every member ran with (alone and together),
    /// one line each (`frictions.liquidity.price_impact = 0.5`).
    pub liquidity: Vec<String>,
    pub members: Vec<ContagionMember>,
    pub exposure: Vec<Exposure>,
    pub account_overlap: Vec<AccountOverlap>,
    pub markets: Vec<SharedMarket>,
    /// Sums over the members.
    pub total_alone: Outcome,
    pub total_together: Outcome,
    /// What makes the runs hypothetical (stress transforms of members,
    /// generated books), one line each.
    pub hypothetical: Vec<String>,
    /// Where settings come from (the spec's `[sources]`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sources: BTreeMap<String, String>,
    pub input_hashes: BTreeMap<String, String>,
    pub version: String,
}
