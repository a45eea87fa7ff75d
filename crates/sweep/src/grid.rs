//! The grid file: which scenario settings a sweep varies and how.
//!
//! ```toml
//! title = "ETH threshold against close factor"
//! mode = "product"          # every combination (default), or "random"
//! # samples = 500           # random: number of variants
//! # seed = 7                # random: seed of the draws
//!
//! [[params]]
//! key = "policy.assets.ETH.liquidation_threshold"
//! values = [0.75, 0.8, 0.825]
//!
//! [[params]]
//! key = "policy.close_factor"
//! range = { from = 0.3, to = 1.0, step = 0.1 }
//!
//! [[params]]                # random mode only
//! key = "frictions.liquidators.0.capital_usd"
//! uniform = { min = 100000, max = 10000000, decimals = 0 }
//! ```
//!
//! Keys are the keys `--set` takes. Decimal ranges are stepped in exact
//! 18-decimal fixed point (0.3, 0.4, ... never 0.30000000000000004);
//! integer ranges stay integers. Product variants are numbered with the
//! last parameter changing fastest; random variants are drawn from one
//! ChaCha8 stream seeded by `seed`, parameter by parameter, in order.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use shortfall_core::{SweepParam, Wad};

use crate::error::SweepError;

/// Most variants a grid may expand to.
pub const MAX_VARIANTS: u64 = 10_000_000;

/// Keys a sweep may not vary: they decide which inputs are loaded, which
/// all variants share.
const FIXED_PREFIXES: &[&str] = &["window", "datasets", "name", "title", "description"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Every combination of the parameters' values.
    #[default]
    Product,
    /// `samples` draws, each parameter drawn independently.
    Random,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Product => "product",
            Mode::Random => "random",
        }
    }
}

/// An inclusive range `from, from + step, ...` up to `to`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    pub from: toml::Value,
    pub to: toml::Value,
    pub step: toml::Value,
}

/// A uniform draw in `[min, max]`, rounded to `decimals` places (random
/// mode only).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Uniform {
    pub min: toml::Value,
    pub max: toml::Value,
    /// Decimal places of the draws (default 4; 0 draws integers).
    #[serde(default = "d_decimals")]
    pub decimals: u32,
}

fn d_decimals() -> u32 {
    4
}

/// One parameter: a key and exactly one of `values`, `range`, `uniform`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    pub key: String,
    pub values: Option<Vec<toml::Value>>,
    pub range: Option<Range>,
    pub uniform: Option<Uniform>,
}

/// A grid file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridFile {
    pub title: Option<String>,
    #[serde(default)]
    pub mode: Mode,
    pub samples: Option<u32>,
    pub seed: Option<u64>,
    pub params: Vec<ParamSpec>,
}

/// One variant: its index and its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub index: u32,
    pub id: String,
    pub params: Vec<SweepParam>,
}

impl Variant {
    /// The settings as `--set` arguments.
    pub fn sets(&self) -> Vec<String> {
        self.params
            .iter()
            .map(|p| format!("{}={}", p.key, p.value))
            .collect()
    }
}

/// A parsed grid: the file and its values per parameter.
#[derive(Debug, Clone)]
pub struct Grid {
    pub file: GridFile,
    /// The grid file's text (recorded in `sweep.json`).
    pub text: String,
    /// Title: the file's, else `default_title`.
    pub title: String,
    /// Candidate values per parameter, as TOML text (product: all of them;
    /// random: what `values`/`range` choose from; empty for `uniform`).
    choices: Vec<Vec<String>>,
}

fn err(m: impl Into<String>) -> SweepError {
    SweepError::Grid(m.into())
}

/// A TOML scalar as the text `--set` takes.
fn value_text(v: &toml::Value, at: &str) -> Result<String, SweepError> {
    match v {
        toml::Value::Integer(_) | toml::Value::Boolean(_) | toml::Value::String(_) => {
            Ok(v.to_string())
        }
        toml::Value::Float(x) if x.is_finite() => Ok(float_text(&format!("{x}"))),
        _ => Err(err(format!("{at}: expected a number, string or boolean"))),
    }
}

/// Decimal text that TOML reads as a float (`1` -> `1.0`).
fn float_text(s: &str) -> String {
    if s.contains(['.', 'e', 'E']) {
        s.to_string()
    } else {
        format!("{s}.0")
    }
}

fn as_wad(v: &toml::Value, at: &str) -> Result<(Wad, bool), SweepError> {
    match v {
        toml::Value::Integer(i) => Ok((Wad::from_int(*i), true)),
        toml::Value::Float(x) if x.is_finite() => Wad::parse_decimal(&format!("{x}"), true)
            .map(|w| (w, false))
            .map_err(|e| err(format!("{at}: {e}"))),
        _ => Err(err(format!("{at}: expected a number"))),
    }
}

fn range_values(r: &Range, at: &str) -> Result<Vec<String>, SweepError> {
    let (from, fi) = as_wad(&r.from, &format!("{at}.from"))?;
    let (to, ti) = as_wad(&r.to, &format!("{at}.to"))?;
    let (step, si) = as_wad(&r.step, &format!("{at}.step"))?;
    if !step.is_positive() {
        return Err(err(format!("{at}.step: must be above zero")));
    }
    if to < from {
        return Err(err(format!("{at}: `to` is below `from`")));
    }
    let n = (to.0 - from.0) / step.0 + 1;
    if n as u64 > MAX_VARIANTS {
        return Err(err(format!("{at}: {n} values, more than {MAX_VARIANTS}")));
    }
    let ints = fi && ti && si;
    Ok((0..n)
        .map(|k| {
            let w = Wad(from.0 + k * step.0);
            if ints {
                (w.0 / Wad::ONE.0).to_string()
            } else {
                float_text(&w.to_string())
            }
        })
        .collect())
}

impl Grid {
    /// Parses a grid file's text. `default_title`: used when it has none.
    pub fn parse(text: &str, default_title: &str) -> Result<Grid, SweepError> {
        let file: GridFile = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        if file.params.is_empty() {
            return Err(err("no [[params]]"));
        }
        let mut choices = Vec::new();
        for (i, p) in file.params.iter().enumerate() {
            let at = format!("params[{i}] (`{}`)", p.key);
            let key = p.key.trim();
            if key.is_empty() || key != p.key || key.split('.').any(str::is_empty) {
                return Err(err(format!("{at}: key must be a dotted scenario key")));
            }
            let head = key.split('.').next().unwrap_or_default();
            if FIXED_PREFIXES.contains(&head) {
                return Err(err(format!(
                    "{at}: `{head}` decides which inputs are loaded, and every variant shares them; sweep it with one scenario per value instead"
                )));
            }
            if file.params[..i].iter().any(|q| q.key == p.key) {
                return Err(err(format!("{at}: key repeated")));
            }
            let given = [p.values.is_some(), p.range.is_some(), p.uniform.is_some()];
            if given.iter().filter(|g| **g).count() != 1 {
                return Err(err(format!(
                    "{at}: give exactly one of `values`, `range`, `uniform`"
                )));
            }
            let c = if let Some(vs) = &p.values {
                if vs.is_empty() {
                    return Err(err(format!("{at}.values: empty")));
                }
                vs.iter()
                    .enumerate()
                    .map(|(k, v)| value_text(v, &format!("{at}.values[{k}]")))
                    .collect::<Result<Vec<_>, _>>()?
            } else if let Some(r) = &p.range {
                range_values(r, &format!("{at}.range"))?
            } else {
                if file.mode != Mode::Random {
                    return Err(err(format!("{at}: `uniform` needs mode = \"random\"")));
                }
                let u = p.uniform.as_ref().expect("checked");
                let (min, _) = as_wad(&u.min, &format!("{at}.uniform.min"))?;
                let (max, _) = as_wad(&u.max, &format!("{at}.uniform.max"))?;
                if max < min {
                    return Err(err(format!("{at}.uniform: `max` is below `min`")));
                }
                if u.decimals > 18 {
                    return Err(err(format!("{at}.uniform.decimals: at most 18")));
                }
                Vec::new()
            };
            choices.push(c);
        }
        match file.mode {
            Mode::Product => {
                if file.samples.is_some() || file.seed.is_some() {
                    return Err(err("`samples` and `seed` need mode = \"random\""));
                }
            }
            Mode::Random => {
                if file.samples.unwrap_or(0) == 0 {
                    return Err(err("mode = \"random\" needs `samples` (at least 1)"));
                }
                if file.seed.is_none() {
                    return Err(err("mode = \"random\" needs `seed`"));
                }
            }
        }
        let g = Grid {
            title: file.title.clone().unwrap_or_else(|| default_title.into()),
            file,
            text: text.to_string(),
            choices,
        };
        if g.len() > MAX_VARIANTS {
            return Err(err(format!(
                "{} variants, more than {MAX_VARIANTS}",
                g.len()
            )));
        }
        Ok(g)
    }

    /// The parameter keys, in order.
    pub fn keys(&self) -> Vec<String> {
        self.file.params.iter().map(|p| p.key.clone()).collect()
    }

    /// Number of variants.
    pub fn len(&self) -> u64 {
        match self.file.mode {
            Mode::Product => self
                .choices
                .iter()
                .map(|c| c.len() as u64)
                .try_fold(1u64, |a, n| a.checked_mul(n))
                .unwrap_or(u64::MAX),
            Mode::Random => self.file.samples.unwrap_or(0) as u64,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every variant, in order.
    pub fn variants(&self) -> Vec<Variant> {
        let keys = self.keys();
        let n = self.len() as u32;
        let values: Vec<Vec<String>> = match self.file.mode {
            Mode::Product => (0..n)
                .map(|i| {
                    let mut rest = i as usize;
                    let mut v = vec![String::new(); self.choices.len()];
                    for (k, c) in self.choices.iter().enumerate().rev() {
                        v[k] = c[rest % c.len()].clone();
                        rest /= c.len();
                    }
                    v
                })
                .collect(),
            Mode::Random => {
                let mut rng = ChaCha8Rng::seed_from_u64(self.file.seed.unwrap_or(0));
                (0..n)
                    .map(|_| {
                        self.file
                            .params
                            .iter()
                            .zip(&self.choices)
                            .map(|(p, c)| match &p.uniform {
                                Some(u) => draw(&mut rng, u),
                                None => c[rng.gen_range(0..c.len())].clone(),
                            })
                            .collect()
                    })
                    .collect()
            }
        };
        values
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                let params: Vec<SweepParam> = keys
                    .iter()
                    .zip(v)
                    .map(|(k, value)| SweepParam {
                        key: k.clone(),
                        value,
                    })
                    .collect();
                Variant {
                    index: i as u32,
                    id: variant_id(i as u32, &params),
                    params,
                }
            })
            .collect()
    }
}

/// A uniform draw of `u`: an integer count of `10^-decimals` steps in
/// `[ceil(min), floor(max)]`, drawn exactly.
fn draw(rng: &mut ChaCha8Rng, u: &Uniform) -> String {
    let unit = 10i128.pow(18 - u.decimals);
    let (min, _) = as_wad(&u.min, "").expect("checked");
    let (max, _) = as_wad(&u.max, "").expect("checked");
    let lo = min.0.div_euclid(unit) + i128::from(min.0.rem_euclid(unit) != 0);
    let hi = max.0.div_euclid(unit);
    let k = if hi <= lo { lo } else { rng.gen_range(lo..=hi) };
    let w = Wad(k * unit);
    if u.decimals == 0 {
        (w.0 / Wad::ONE.0).to_string()
    } else {
        float_text(&w.to_string())
    }
}

/// `v<index>-<first 8 hex of sha256 over key=value lines>`.
pub fn variant_id(index: u32, params: &[SweepParam]) -> String {
    let mut h = Sha256::new();
    for p in params {
        h.update(p.key.as_bytes());
        h.update(b"=");
        h.update(p.value.as_bytes());
        h.update(b"\n");
    }
    format!("v{index}-{}", &hex::encode(h.finalize())[..8])
}

/// Finds a variant by id (`v12-1a2b3c4d`), short id (`v12`) or index (`12`).
pub fn find_variant<'a>(variants: &'a [Variant], name: &str) -> Result<&'a Variant, SweepError> {
    let index = name
        .strip_prefix('v')
        .unwrap_or(name)
        .split('-')
        .next()
        .and_then(|s| s.parse::<u32>().ok());
    let found = index.and_then(|i| variants.get(i as usize));
    match found {
        Some(v) if !name.contains('-') || v.id == name => Ok(v),
        Some(v) => Err(err(format!(
            "variant `{name}`: the grid's variant {} is `{}` (has the grid changed?)",
            v.index, v.id
        ))),
        None => Err(err(format!(
            "no variant `{name}` (the grid has {}: v0 to v{})",
            variants.len(),
            variants.len().saturating_sub(1)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(g: &Grid) -> Vec<Vec<String>> {
        g.variants()
            .iter()
            .map(|v| v.params.iter().map(|p| p.value.clone()).collect())
            .collect()
    }

    #[test]
    fn product_steps_exact_decimals_last_parameter_fastest() {
        let g = Grid::parse(
            r#"
[[params]]
key = "policy.close_factor"
range = { from = 0.3, to = 0.5, step = 0.1 }
[[params]]
key = "policy.maker.ttl_secs"
values = [600, 10800]
"#,
            "t",
        )
        .unwrap();
        assert_eq!(g.len(), 6);
        assert_eq!(
            values(&g),
            [
                ["0.3", "600"],
                ["0.3", "10800"],
                ["0.4", "600"],
                ["0.4", "10800"],
                ["0.5", "600"],
                ["0.5", "10800"]
            ]
        );
        let v = g.variants();
        assert_eq!(v[3].index, 3);
        assert!(v[3].id.starts_with("v3-"), "{}", v[3].id);
        assert_eq!(
            v[3].sets(),
            ["policy.close_factor=0.4", "policy.maker.ttl_secs=10800"]
        );
    }

    #[test]
    fn ranges_keep_integers_and_make_floats_toml_floats() {
        let r = |f: &str| {
            let g = Grid::parse(&format!("[[params]]\nkey = \"a.b\"\nrange = {f}\n"), "t").unwrap();
            values(&g)
                .into_iter()
                .map(|v| v[0].clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            r("{ from = 600, to = 1800, step = 600 }"),
            ["600", "1200", "1800"]
        );
        assert_eq!(r("{ from = 1, to = 2, step = 0.5 }"), ["1.0", "1.5", "2.0"]);
        // `to` off the grid is not reached.
        assert_eq!(
            r("{ from = 0.1, to = 0.35, step = 0.1 }"),
            ["0.1", "0.2", "0.3"]
        );
    }

    #[test]
    fn random_mode_is_seeded_and_stays_in_bounds() {
        let text = r#"
mode = "random"
samples = 200
seed = 7
[[params]]
key = "frictions.liquidators.0.capital_usd"
uniform = { min = 1000, max = 2000, decimals = 0 }
[[params]]
key = "policy.assets.ETH.liquidation_threshold"
uniform = { min = 0.7, max = 0.85, decimals = 3 }
[[params]]
key = "oracle.default.mode"
values = ["push", "twap"]
"#;
        let a = Grid::parse(text, "t").unwrap();
        assert_eq!(values(&a), values(&Grid::parse(text, "t").unwrap()));
        let other = Grid::parse(&text.replace("seed = 7", "seed = 8"), "t").unwrap();
        assert_ne!(values(&a), values(&other));
        let mut modes = std::collections::BTreeSet::new();
        for v in values(&a) {
            let cap: i64 = v[0].parse().unwrap();
            assert!((1000..=2000).contains(&cap), "{cap}");
            let lt: f64 = v[1].parse().unwrap();
            assert!((0.7..=0.85).contains(&lt), "{lt}");
            assert!(v[1].split('.').nth(1).unwrap().len() <= 3, "{}", v[1]);
            modes.insert(v[2].clone());
        }
        assert_eq!(modes.len(), 2, "{modes:?}");
    }

    #[test]
    fn bad_grids_name_the_parameter() {
        let e = |t: &str| Grid::parse(t, "t").unwrap_err().to_string();
        assert!(e("[[params]]\nkey = \"window.start\"\nvalues = [1]").contains("params[0]"));
        assert!(
            e("[[params]]\nkey = \"a\"\nvalues = [1]\nrange = { from = 1, to = 2, step = 1 }")
                .contains("exactly one")
        );
        assert!(e("[[params]]\nkey = \"a\"\nuniform = { min = 1, max = 2 }").contains("random"));
        assert!(
            e("[[params]]\nkey = \"a\"\nrange = { from = 1, to = 2, step = 0 }")
                .contains("above zero")
        );
        assert!(
            e("mode = \"random\"\nseed = 1\n[[params]]\nkey = \"a\"\nvalues = [1]")
                .contains("samples")
        );
        assert!(e("[[params]]\nkey = \"a\"\nvalues = [1]\nvlaues = [2]").contains("vlaues"));
        assert!(e("[[params]]\nkey = \"a\"\nvalues = [[1]]").contains("params[0]"));
        assert!(e("params = []").contains("no [[params]]"));
    }

    #[test]
    fn variants_are_found_by_id_short_id_or_index() {
        let g = Grid::parse("[[params]]\nkey = \"a\"\nvalues = [1, 2, 3]", "t").unwrap();
        let v = g.variants();
        assert_eq!(find_variant(&v, &v[2].id).unwrap().index, 2);
        assert_eq!(find_variant(&v, "v1").unwrap().index, 1);
        assert_eq!(find_variant(&v, "0").unwrap().index, 0);
        assert!(find_variant(&v, "v2-00000000").is_err());
        assert!(find_variant(&v, "v9").is_err());
    }
}
