//! What the addresses in a log file are: the contracts file (TOML: address,
//! role, market, feed details) and a token list (the Uniswap token-list
//! JSON layout: address, symbol, decimals). Symbols are untrusted text.

use std::collections::BTreeMap;
use std::path::Path;

use alloy_primitives::Address;
use serde::{Deserialize, Serialize};

use crate::IngestError;

/// The role of a contract, deciding which events are decoded from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Aave v2 `LendingPool`.
    AaveV2Pool,
    /// Aave v3 `Pool`.
    AaveV3Pool,
    /// A Compound v2 cToken (`underlying` and `underlying_decimals` required).
    CompoundV2Ctoken,
    /// Maker `Cat` (Bite).
    MakerCat,
    /// Maker `Dog` (Bark).
    MakerDog,
    /// A Maker flip auction (`ilk` required).
    MakerFlip,
    /// A Maker clip auction (`ilk` required).
    MakerClip,
    /// A Chainlink aggregator (`feed`, `base`, `quote`, `decimals` required).
    ChainlinkAggregator,
}

impl Role {
    /// The `protocol` value of events from this role.
    pub fn protocol(self) -> &'static str {
        match self {
            Role::AaveV2Pool => "aave_v2",
            Role::AaveV3Pool => "aave_v3",
            Role::CompoundV2Ctoken => "compound_v2",
            Role::MakerCat | Role::MakerDog | Role::MakerFlip | Role::MakerClip => "maker",
            Role::ChainlinkAggregator => "chainlink",
        }
    }
}

/// One contract of the contracts file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    /// 0x-prefixed hex address.
    pub address: String,
    pub role: Role,
    /// The `market` of its events (default: the address; Compound cTokens of
    /// one comptroller share one market, e.g. `compound-v2`).
    #[serde(default)]
    pub market: Option<String>,
    /// cTokens: the underlying's symbol and decimals.
    #[serde(default)]
    pub underlying: Option<String>,
    #[serde(default)]
    pub underlying_decimals: Option<u32>,
    /// Maker flip/clip: the collateral type (`ETH-A`).
    #[serde(default)]
    pub ilk: Option<String>,
    /// Chainlink: feed name (`chainlink:ETH/USD`), base, quote, answer decimals,
    /// and the proxy phase (round ids become `phase << 64 | round`).
    #[serde(default)]
    pub feed: Option<String>,
    #[serde(default)]
    pub base: Option<String>,
    #[serde(default)]
    pub quote: Option<String>,
    #[serde(default)]
    pub decimals: Option<u32>,
    #[serde(default)]
    pub phase: Option<u16>,
    /// Where the address comes from (documentation).
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContractsFile {
    #[serde(default)]
    contracts: Vec<Contract>,
}

/// A token of the token list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub symbol: String,
    pub decimals: u32,
}

#[derive(Debug, Deserialize)]
struct TokenListFile {
    tokens: Vec<TokenEntry>,
}

#[derive(Debug, Deserialize)]
struct TokenEntry {
    #[serde(rename = "chainId", default)]
    chain_id: Option<u64>,
    address: String,
    symbol: String,
    decimals: u32,
}

/// Contracts and tokens by address.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    pub contracts: BTreeMap<Address, Contract>,
    pub tokens: BTreeMap<Address, Token>,
}

fn parse_address(text: &str, what: &str) -> Result<Address, IngestError> {
    text.trim()
        .parse::<Address>()
        .map_err(|e| IngestError::Options(format!("{what}: address `{text}`: {e}")))
}

fn read(path: &Path) -> Result<String, IngestError> {
    std::fs::read_to_string(path).map_err(|source| IngestError::Io {
        file: path.display().to_string(),
        source,
    })
}

impl Registry {
    /// Parses a contracts file (TOML) and adds its contracts.
    pub fn add_contracts_toml(&mut self, text: &str, name: &str) -> Result<(), IngestError> {
        let f: ContractsFile =
            toml::from_str(text).map_err(|e| IngestError::Options(format!("{name}: {e}")))?;
        for c in f.contracts {
            let what = format!("{name}: contract {}", c.address);
            let need = |ok: bool, field: &str| {
                if ok {
                    Ok(())
                } else {
                    Err(IngestError::Options(format!(
                        "{what}: role {:?} needs `{field}`",
                        c.role
                    )))
                }
            };
            match c.role {
                Role::CompoundV2Ctoken => {
                    need(c.underlying.is_some(), "underlying")?;
                    need(c.underlying_decimals.is_some(), "underlying_decimals")?;
                }
                Role::MakerFlip | Role::MakerClip => need(c.ilk.is_some(), "ilk")?,
                Role::ChainlinkAggregator => {
                    need(c.feed.is_some(), "feed")?;
                    need(c.base.is_some(), "base")?;
                    need(c.quote.is_some(), "quote")?;
                    need(c.decimals.is_some(), "decimals")?;
                }
                _ => {}
            }
            let a = parse_address(&c.address, &what)?;
            if self.contracts.insert(a, c).is_some() {
                return Err(IngestError::Options(format!("{what}: listed twice")));
            }
        }
        Ok(())
    }

    /// Reads a contracts file.
    pub fn add_contracts_file(&mut self, path: &Path) -> Result<(), IngestError> {
        self.add_contracts_toml(&read(path)?, &path.display().to_string())
    }

    /// Parses a token list (JSON); only entries of chain 1 (or without a chain) are kept.
    pub fn add_token_list_json(&mut self, text: &str, name: &str) -> Result<(), IngestError> {
        let f: TokenListFile = serde_json::from_str(text)
            .map_err(|e| IngestError::Options(format!("{name}: not a token list: {e}")))?;
        for t in f.tokens {
            if t.chain_id.is_some_and(|c| c != 1) {
                continue;
            }
            if t.decimals > 38 {
                return Err(IngestError::Options(format!(
                    "{name}: token {}: decimals {} above 38",
                    t.address, t.decimals
                )));
            }
            let a = parse_address(&t.address, name)?;
            self.tokens.insert(
                a,
                Token {
                    symbol: t.symbol,
                    decimals: t.decimals,
                },
            );
        }
        Ok(())
    }

    /// Reads a token list file.
    pub fn add_token_list_file(&mut self, path: &Path) -> Result<(), IngestError> {
        self.add_token_list_json(&read(path)?, &path.display().to_string())
    }

    /// Symbol and decimals of a token; an unknown token is named by its address.
    pub fn token(&self, a: &Address) -> (String, Option<u32>) {
        match self.tokens.get(a) {
            Some(t) => (t.symbol.clone(), Some(t.decimals)),
            None => (format!("{a:#x}"), None),
        }
    }
}
