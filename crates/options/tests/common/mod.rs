//! Reads rows of the real Deribit chain files (../shared/datasets) for the
//! tests; each test skips with a message when the folder is absent.
#![allow(dead_code)]

use std::path::PathBuf;

use shortfall_options::OptionKind;

/// One row of a `deribit_options_snapshot_*.csv` file, the columns the
/// tests use.
#[derive(Debug, Clone)]
pub struct Row {
    pub instrument: String,
    pub currency: String,
    pub kind: OptionKind,
    pub strike: f64,
    pub expiry: String,
    pub t: f64,
    pub forward: f64,
    pub index: f64,
    pub mark: f64,
    pub mark_text: String,
    pub iv: f64,
    pub delta: f64,
    pub vega: f64,
}

pub fn chain_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/datasets/options/deribit_chain_2026-01-29_2026-02-10");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: {} not found", dir.display());
        None
    }
}

/// The rows of one snapshot file, e.g. `20260205T212937Z`.
pub fn snapshot(stamp: &str) -> Option<Vec<Row>> {
    let path = chain_dir()?.join(format!("deribit_options_snapshot_{stamp}.csv"));
    let mut rdr = csv::Reader::from_path(&path).expect("open chain file");
    let headers = rdr.headers().expect("header").clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{}: no column {name}", path.display()))
    };
    let (c_inst, c_kind, c_strike, c_exp, c_t, c_fwd, c_iv, c_mark, c_delta, c_vega, c_cur, c_idx) = (
        col("instrument_name"),
        col("option_type"),
        col("strike"),
        col("expiry_datetime"),
        col("time_to_maturity"),
        col("underlying"),
        col("implied_volatility"),
        col("mark_price"),
        col("delta"),
        col("vega"),
        col("currency"),
        col("index_price"),
    );
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.expect("csv record");
        let num = |c: usize| -> f64 {
            rec[c].parse().unwrap_or_else(|_| {
                panic!(
                    "{} row {}: column {} = {:?}",
                    path.display(),
                    i + 2,
                    &headers[c],
                    &rec[c]
                )
            })
        };
        out.push(Row {
            instrument: rec[c_inst].to_string(),
            currency: rec[c_cur].to_string(),
            kind: OptionKind::parse(&rec[c_kind]).expect("option_type"),
            strike: num(c_strike),
            expiry: rec[c_exp].to_string(),
            t: num(c_t),
            forward: num(c_fwd),
            index: num(c_idx),
            mark: num(c_mark),
            mark_text: rec[c_mark].to_string(),
            iv: num(c_iv),
            delta: num(c_delta),
            vega: num(c_vega),
        });
    }
    Some(out)
}

/// Three snapshots: before, inside and after the crash of 2026-02-05.
pub const STAMPS: [&str; 3] = ["20260203T213503Z", "20260205T212937Z", "20260209T213830Z"];

/// Every snapshot stamp in the folder, in time order.
pub fn all_stamps() -> Option<Vec<String>> {
    let dir = chain_dir()?;
    let mut out: Vec<String> = std::fs::read_dir(&dir)
        .expect("read chain folder")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            let stamp = name
                .strip_prefix("deribit_options_snapshot_")?
                .strip_suffix(".csv")?;
            Some(stamp.to_string())
        })
        .collect();
    out.sort();
    Some(out)
}
