//! View types shared by the pages: a summary card, a key-value row, a term
//! and its definition. Each page's JSON twin carries them as they are.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A summary card: one figure with its label; `key` names it in the JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    pub key: String,
    pub label: String,
    pub value: String,
}

impl Card {
    pub fn new(key: &str, label: impl Into<String>, value: String) -> Card {
        Card {
            key: key.into(),
            label: label.into(),
            value,
        }
    }
}

/// A key and its value: settings, provenance and input hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
    /// Where the value comes from (a scenario's `[sources]`), if said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl KeyValue {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: value.into(),
            source: None,
        }
    }

    /// One row per entry of `map`, in key order.
    pub fn list(map: &BTreeMap<String, String>) -> Vec<KeyValue> {
        map.iter().map(|(k, v)| KeyValue::new(k, v)).collect()
    }
}

/// A term and its definition (the method sections).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Term {
    pub term: String,
    pub text: String,
}

impl Term {
    pub fn new(term: &str, text: impl Into<String>) -> Term {
        Term {
            term: term.into(),
            text: text.into(),
        }
    }
}
