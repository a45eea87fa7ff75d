//! The crate's module graph: edges from the `crate::`, `super::` and
//! `self::` paths and the `use` of a child module in every file of `src/`;
//! no circle of imports, and the charts import nothing but each other, the
//! number formatting and the error type (a chart knows only its own input
//! type; pages depend on charts, never the reverse).
//!
//! `cargo test -p shortfall-report --test module_graph -- --nocapture`
//! prints the graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module path of a source file: `lib.rs` -> `crate`, `charts/mod.rs` ->
/// `charts`, `charts/timeline.rs` -> `charts::timeline`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    if parts.is_empty() {
        "crate".into()
    } else {
        parts.join("::")
    }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file without comments, string and char literals (doc
/// links such as ``[`crate::format`]`` are not imports).
fn code(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < c.len() {
        let next = c.get(i + 1).copied();
        if c[i] == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && next == Some('*') {
            i += 2;
            while i + 1 < c.len() && !(c[i] == '*' && c[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c[i] == 'r'
            && (next == Some('"') || next == Some('#'))
            && !(i > 0 && is_ident(c[i - 1]))
        {
            // Raw string: r"...", r#"..."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while c.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if c.get(j) != Some(&'"') {
                out.push(c[i]);
                i += 1;
                continue;
            }
            j += 1;
            while j < c.len() {
                if c[j] == '"' && (0..hashes).all(|k| c.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            i = j;
        } else if c[i] == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c[i] == '\'' && c.get(i + 2) == Some(&'\'') {
            i += 3; // 'x'
        } else if c[i] == '\'' && next == Some('\\') {
            // '\n', '\'', '\u{..}'
            i += 3;
            while i < c.len() && c[i] != '\'' {
                i += 1;
            }
            i += 1;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// `super::` inside an inline `mod name { .. }` (a file's test module)
/// means the file's module: written as `self::` there.
fn inline_modules_as_self(code: &str) -> String {
    let mut out = code.to_string();
    let mut from = 0;
    while let Some(i) = out[from..].find("mod ") {
        let at = from + i;
        from = at + 4;
        if out[..at].chars().next_back().is_some_and(is_ident) {
            continue;
        }
        let rest = &out[from..];
        let name_len = rest.chars().take_while(|c| is_ident(*c)).count();
        let after = rest[name_len..].trim_start();
        if name_len == 0 || !after.starts_with('{') {
            continue;
        }
        let open = from + name_len + (rest[name_len..].len() - after.len());
        let mut depth = 0;
        let mut close = out.len();
        for (k, c) in out[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        close = open + k;
                        break;
                    }
                }
                _ => {}
            }
        }
        let block = out[open..close].replace("super::", "self::");
        out.replace_range(open..close, &block);
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The paths of a `use` tree starting at `s` (after `prefix::`):
/// `a::b`, `{a, b::{c, d}}`; returns the paths and the rest of `s`.
fn tree(s: &str) -> Vec<Vec<String>> {
    let s = s.trim_start();
    if let Some(inner) = s.strip_prefix('{') {
        let mut depth = 0;
        let mut end = inner.len();
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    end = i;
                    break;
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
        let inner = &inner[..end];
        let mut parts = Vec::new();
        let (mut depth, mut start) = (0, 0);
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    parts.push(&inner[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        parts.push(&inner[start..]);
        return parts
            .into_iter()
            .filter(|p| !p.trim().is_empty())
            .flat_map(tree)
            .collect();
    }
    let ident: String = s.chars().take_while(|c| is_ident(*c)).collect();
    if ident.is_empty() {
        return vec![Vec::new()];
    }
    let rest = &s[ident.len()..];
    match rest.strip_prefix("::") {
        Some(r) => tree(r)
            .into_iter()
            .map(|mut p| {
                p.insert(0, ident.clone());
                p
            })
            .collect(),
        None => vec![vec![ident]],
    }
}

/// Paths after every `anchor` (`crate::`, `super::`, `self::`) in `code`.
fn paths_after(code: &str, anchor: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = code[from..].find(anchor) {
        let at = from + i;
        let before = code[..at].chars().next_back();
        from = at + anchor.len();
        if before.is_some_and(|c| is_ident(c) || c == ':') {
            continue; // `super::super::` is handled by its first `super::`
        }
        let mut rest = &code[from..];
        let mut ups = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            ups += 1;
            rest = r;
        }
        for mut p in tree(rest) {
            for _ in 0..ups {
                p.insert(0, "super".into());
            }
            out.push(p);
        }
    }
    out
}

fn parent(m: &str) -> String {
    match m.rfind("::") {
        Some(i) => m[..i].to_string(),
        None => "crate".into(),
    }
}

/// The module an item path refers to: the longest prefix that is a module;
/// a name of the crate root is looked up in its re-exports.
fn resolve(
    base: &str,
    path: &[String],
    modules: &BTreeSet<String>,
    root_exports: &BTreeMap<String, String>,
) -> String {
    let mut full: Vec<String> = if base == "crate" {
        Vec::new()
    } else {
        base.split("::").map(String::from).collect()
    };
    full.extend(path.iter().cloned());
    let mut best = base.to_string();
    for n in 1..=full.len() {
        let m = full[..n].join("::");
        if modules.contains(&m) {
            best = m;
        } else {
            break;
        }
    }
    if best == "crate" {
        if let Some(m) = full.first().and_then(|f| root_exports.get(f)) {
            return m.clone();
        }
    }
    best
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut list = Vec::new();
    files(&src, &mut list);
    let texts: Vec<(String, String)> = list
        .iter()
        .map(|f| {
            (
                module_of(&src, f),
                inline_modules_as_self(&code(&std::fs::read_to_string(f).unwrap())),
            )
        })
        .collect();
    let modules: BTreeSet<String> = texts.iter().map(|(m, _)| m.clone()).collect();
    // Names the crate root re-exports from its modules (`pub use m::{A, B}`).
    let mut root_exports = BTreeMap::new();
    let root = &texts.iter().find(|(m, _)| m == "crate").unwrap().1;
    for stmt in root.split(';') {
        let stmt = stmt.trim();
        let Some(rest) = stmt.strip_prefix("pub use ") else {
            continue;
        };
        for p in tree(rest) {
            if p.len() >= 2 && modules.contains(&p[..p.len() - 1].join("::")) {
                root_exports.insert(p[p.len() - 1].clone(), p[..p.len() - 1].join("::"));
            }
        }
    }
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (m, code) in &texts {
        let e = edges.entry(m.clone()).or_default();
        let mut targets = Vec::new();
        for p in paths_after(code, "crate::") {
            targets.push(resolve("crate", &p, &modules, &root_exports));
        }
        for p in paths_after(code, "super::") {
            let mut base = parent(m);
            let mut rest = &p[..];
            while rest.first().is_some_and(|s| s == "super") {
                base = parent(&base);
                rest = &rest[1..];
            }
            targets.push(resolve(&base, rest, &modules, &root_exports));
        }
        for p in paths_after(code, "self::") {
            targets.push(resolve(m, &p, &modules, &root_exports));
        }
        // `use child::...` of a child module (2018 relative paths).
        for stmt in code.split(';') {
            let stmt = stmt.trim();
            let rest = stmt
                .strip_prefix("pub use ")
                .or_else(|| stmt.strip_prefix("use "))
                .or_else(|| stmt.strip_prefix("pub(crate) use "));
            if let Some(rest) = rest {
                for p in tree(rest) {
                    let r = resolve(m, &p, &modules, &root_exports);
                    if r != *m {
                        targets.push(r);
                    }
                }
            }
        }
        for t in targets {
            if t != *m {
                e.insert(t);
            }
        }
    }
    edges
}

/// Strongly connected components with more than one module (Tarjan).
fn circles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct S<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut S<'a>, v: &'a str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on.insert(v);
        let g = s.g;
        for w in g.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.out.push(comp);
            }
        }
    }
    let mut s = S {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

#[test]
fn no_import_circle_and_charts_know_only_their_inputs() {
    let g = graph();
    for (m, to) in &g {
        let to: Vec<&str> = to.iter().map(String::as_str).collect();
        println!("{m} -> {}", to.join(", "));
    }
    let c = circles(&g);
    println!("circles: {c:?}");
    assert!(c.is_empty(), "import circles: {c:?}");
    for (m, to) in &g {
        if m == "charts" || m.starts_with("charts::") {
            for t in to {
                let ok =
                    t == "charts" || t.starts_with("charts::") || t == "format" || t == "error";
                assert!(ok, "chart module {m} imports {t}");
            }
        }
    }
}

#[test]
fn the_parser_finds_nested_groups_and_supers() {
    let p = paths_after(
        "use crate::{a::{b, c}, d};\nlet x = super::super::e::f(1);",
        "crate::",
    );
    assert_eq!(p, vec![vec!["a", "b"], vec!["a", "c"], vec!["d"]]);
    let p = paths_after("let x = super::super::e::f(1);", "super::");
    assert_eq!(p, vec![vec!["super", "e", "f"]]);
    assert_eq!(code("let s = \"crate::x\"; // crate::y\n"), "let s = ; \n");
    assert_eq!(
        inline_modules_as_self("use super::a;\nmod tests { use super::*; }"),
        "use super::a;\nmod tests { use self::*; }"
    );
    assert_eq!(
        code("let q = r#\"a \"crate::x\"\"#; let c = '\"';"),
        "let q = ; let c = ;"
    );
}
