//! The run's resolved scenario (TOML, from `run.json`) read as a value tree:
//! reports list every setting in force without depending on the engine's
//! types, and comparisons diff two runs' settings key by key.

use shortfall_core::run::Reference;
use toml::Value;

use crate::error::ReportError;
use crate::model::SettingGroup;
use crate::widgets::KeyValue;

/// A resolved scenario.
#[derive(Debug, Clone)]
pub struct Config {
    root: toml::Table,
}

/// Parses the resolved config text of a run.
pub fn parse(text: &str) -> Result<Config, ReportError> {
    let root: toml::Table = text
        .parse()
        .map_err(|e| ReportError::Config(format!("resolved config of the run: {e}")))?;
    Ok(Config { root })
}

/// Setting groups of a report, in order: (title, top-level keys).
const GROUPS: &[(&str, &[&str])] = &[
    (
        "Policy (liquidation rules and per-asset parameters)",
        &["policy"],
    ),
    ("Oracle rules", &["oracle"]),
    ("Frictions (liquidators, gas, liquidity)", &["frictions"]),
    ("Accounting", &["accounting"]),
    ("Book", &["book"]),
    (
        "Window, data and output",
        &["window", "seed", "datasets", "market", "output"],
    ),
];

/// Keys not listed as settings (shown elsewhere in the report).
const NOT_SETTINGS: &[&str] = &["name", "title", "description", "references", "sources"];

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Integer(i) => i.to_string(),
        Value::Float(x) => x.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::Datetime(d) => d.to_string(),
        Value::Array(a) => {
            let parts: Vec<String> = a.iter().map(scalar).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Table(t) => {
            let parts: Vec<String> = t
                .iter()
                .map(|(k, v)| format!("{k} = {}", scalar(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

fn flatten_into(prefix: &str, v: &Value, out: &mut Vec<KeyValue>) {
    match v {
        Value::Table(t) => {
            for (k, v) in t {
                flatten_into(&format!("{prefix}.{k}"), v, out);
            }
        }
        Value::Array(a) if !a.is_empty() && a.iter().all(Value::is_table) => {
            for (i, v) in a.iter().enumerate() {
                flatten_into(&format!("{prefix}[{i}]"), v, out);
            }
        }
        _ => out.push(KeyValue {
            key: prefix.to_string(),
            value: scalar(v),
            source: None,
        }),
    }
}

impl Config {
    fn str_at(&self, key: &str) -> Option<String> {
        self.root
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    pub fn title(&self) -> Option<String> {
        self.str_at("title")
    }

    pub fn description(&self) -> Option<String> {
        self.str_at("description")
    }

    /// `output.series_bucket_secs`.
    pub fn output_bucket_secs(&self) -> Option<i64> {
        self.root
            .get("output")?
            .get("series_bucket_secs")?
            .as_integer()
    }

    /// `market.pegs`: assets valued at a constant price for lack of data.
    pub fn pegs(&self) -> Vec<(String, String)> {
        self.root
            .get("market")
            .and_then(|m| m.get("pegs"))
            .and_then(Value::as_table)
            .map(|t| t.iter().map(|(k, v)| (k.clone(), scalar(v))).collect())
            .unwrap_or_default()
    }

    /// The published figures (`[[references]]`).
    pub fn references(&self) -> Result<Vec<Reference>, ReportError> {
        match self.root.get("references") {
            None => Ok(Vec::new()),
            Some(v) => v
                .clone()
                .try_into()
                .map_err(|e| ReportError::Config(format!("references: {e}"))),
        }
    }

    /// Every setting as `dotted.key = value`, in key order.
    pub fn flatten(&self) -> Vec<KeyValue> {
        let mut out = Vec::new();
        for (k, v) in &self.root {
            if !NOT_SETTINGS.contains(&k.as_str()) {
                flatten_into(k, v, &mut out);
            }
        }
        out
    }

    /// The source of a setting: the `[sources]` entry with the longest key
    /// that is the setting's key or a dotted prefix of it.
    pub fn source_of(&self, key: &str) -> Option<String> {
        let sources = self.root.get("sources")?.as_table()?;
        sources
            .iter()
            .filter(|(k, _)| {
                key == k.as_str()
                    || (key.starts_with(k.as_str())
                        && matches!(key.as_bytes().get(k.len()), Some(b'.') | Some(b'[')))
            })
            .max_by_key(|(k, _)| k.len())
            .and_then(|(_, v)| v.as_str().map(str::to_string))
    }

    /// Settings grouped for the report; keys outside the known groups go to
    /// a last `Other` group so nothing in force is hidden.
    pub fn groups(&self) -> Vec<SettingGroup> {
        let mut groups = self.groups_plain();
        for g in &mut groups {
            for r in &mut g.rows {
                r.source = self.source_of(&r.key);
            }
        }
        groups
    }

    fn groups_plain(&self) -> Vec<SettingGroup> {
        let mut groups = Vec::new();
        let mut seen: Vec<&str> = NOT_SETTINGS.to_vec();
        for (title, keys) in GROUPS {
            let mut rows = Vec::new();
            for k in *keys {
                if let Some(v) = self.root.get(*k) {
                    flatten_into(k, v, &mut rows);
                }
                seen.push(k);
            }
            if !rows.is_empty() {
                groups.push(SettingGroup {
                    title: title.to_string(),
                    rows,
                });
            }
        }
        let mut rows = Vec::new();
        for (k, v) in &self.root {
            if !seen.contains(&k.as_str()) {
                flatten_into(k, v, &mut rows);
            }
        }
        if !rows.is_empty() {
            groups.push(SettingGroup {
                title: "Other".into(),
                rows,
            });
        }
        groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_tables_and_arrays_of_tables() {
        let c = parse(
            r#"
name = "x"
seed = 7
[policy]
preset = "aave_v3"
[policy.assets.ETH]
liquidation_threshold = "0.825"
[[frictions.liquidators]]
name = "bot"
capital_usd = "2000000"
[[references]]
metric = "bad_debt_usd"
label = "deficit"
value = "5670000"
source = "CRISES.md"
"#,
        )
        .unwrap();
        let keys: Vec<String> = c
            .flatten()
            .into_iter()
            .map(|s| format!("{}={}", s.key, s.value))
            .collect();
        assert_eq!(
            keys,
            [
                "frictions.liquidators[0].capital_usd=2000000",
                "frictions.liquidators[0].name=bot",
                "policy.assets.ETH.liquidation_threshold=0.825",
                "policy.preset=aave_v3",
                "seed=7"
            ]
        );
        let g = c.groups();
        assert_eq!(g[0].title.split(' ').next(), Some("Policy"));
        assert_eq!(g[0].rows[0].source, None);
        assert_eq!(c.references().unwrap().len(), 1);
        let c = parse(
            r#"
[policy]
preset = "maker_flip"
[policy.maker]
ttl_secs = 600
tau_secs = 259200
[sources]
policy = "CRISES.md"
"policy.maker.ttl" = "not a prefix of ttl_secs"
"policy.maker.ttl_secs" = "03/12/2020 spell"
"#,
        )
        .unwrap();
        let src: Vec<(String, Option<String>)> = c.groups()[0]
            .rows
            .iter()
            .map(|r| (r.key.clone(), r.source.clone()))
            .collect();
        let want = |k: &str, v: &str| (k.to_string(), Some(v.to_string()));
        assert_eq!(
            src,
            [
                want("policy.maker.tau_secs", "CRISES.md"),
                want("policy.maker.ttl_secs", "03/12/2020 spell"),
                want("policy.preset", "CRISES.md"),
            ]
        );
        assert!(c.references().unwrap().is_empty());
        assert!(parse("not toml = = ").is_err());
    }
}
