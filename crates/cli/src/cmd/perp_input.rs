//! Loads a scenario's `datasets.perp_positions`: the perp book of a replay.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{bail, Context};
use shortfall_core::{positions_from_rows, Micros, PerpPosition, PerpPositionRow};
use shortfall_store::parquet_io::sha256_hex;
use shortfall_store::Dataset;

use super::replay::resolve;
use crate::cli::Global;

/// The table a perp book is read from.
const TABLE: &str = "perp_positions";

/// Loads the perp positions `reference` names (relative to the scenario
/// file, else to `--data-dir`):
/// - a dataset folder with a `perp_positions` table (`shortfall ingest
///   --format perp-positions-csv`): the latest snapshot at or before the
///   window `start` (a book taken later would already hold the crisis),
///   rows grouped into positions in table-key order (venue, account,
///   instrument, side);
/// - or a JSON file: an array of positions as [`PerpPosition`] serialises
///   (`{"account", "venue", "instrument", "side", "size", "entry_price",
///   "margin_mode", "collateral": {"USDT": "1000"}, "leverage"}`), in its order.
///
/// Every position is validated. What was read is recorded in `hashes` for
/// the run's provenance: for a dataset the table's sha256
/// (`perp_positions`), its manifest's (`perp_positions/manifest.json`) and
/// each raw source's (`perp_positions/source/FILE`), as for the other
/// tables, plus the snapshot used (`perp_positions/snapshot`); for a JSON
/// file its sha256 (`perp_positions`).
pub fn load_perp_positions(
    g: &Global,
    scenario_path: &Path,
    reference: &str,
    start: Micros,
    hashes: &mut BTreeMap<String, String>,
) -> anyhow::Result<Vec<PerpPosition>> {
    let scenario_dir = scenario_path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let path = resolve(reference, &scenario_dir, &g.data_dir).context("datasets.perp_positions")?;
    let positions = if path.is_dir() {
        let d = Dataset::open(&path).context("datasets.perp_positions")?;
        if !d.manifest().tables.contains_key(TABLE) {
            bail!(
                "datasets.perp_positions: {}: no perp_positions table (ingest one with --format perp-positions-csv)",
                path.display()
            );
        }
        record_inputs(&d, hashes)?;
        let rows: Vec<PerpPositionRow> = d
            .read()
            .with_context(|| format!("{}: perp_positions", path.display()))?;
        let (at, text) = snapshot_at(&rows, start, &path)?;
        hashes.insert(format!("{TABLE}/snapshot"), text);
        let rows: Vec<PerpPositionRow> = rows.into_iter().filter(|r| r.snapshot_ts == at).collect();
        positions_from_rows(&rows).with_context(|| format!("{}", path.display()))?
    } else {
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let positions: Vec<PerpPosition> = serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "{}: expected a JSON array of perp positions",
                path.display()
            )
        })?;
        hashes.insert(TABLE.to_string(), sha256_hex(&bytes));
        positions
    };
    for (i, p) in positions.iter().enumerate() {
        p.validate(i)
            .with_context(|| format!("datasets.perp_positions: {}", path.display()))?;
    }
    if positions.is_empty() {
        bail!("datasets.perp_positions: {}: no positions", path.display());
    }
    Ok(positions)
}

/// The latest snapshot at or before `start`, and its text (time, and block
/// when known).
fn snapshot_at(
    rows: &[PerpPositionRow],
    start: Micros,
    path: &Path,
) -> anyhow::Result<(Micros, String)> {
    let snapshots: BTreeSet<Micros> = rows.iter().map(|r| r.snapshot_ts).collect();
    let Some(&at) = snapshots.range(..=start).next_back() else {
        if snapshots.is_empty() {
            bail!("{}: the perp_positions table is empty", path.display());
        }
        let list: Vec<String> = snapshots.iter().map(|t| t.to_string()).collect();
        bail!(
            "{}: no perp_positions snapshot at or before the window start {start} (snapshots: {})",
            path.display(),
            list.join(", ")
        );
    };
    let block = rows
        .iter()
        .filter(|r| r.snapshot_ts == at)
        .find_map(|r| r.snapshot_block);
    Ok((
        at,
        match block {
            Some(b) => format!("{at} (block {b})"),
            None => at.to_string(),
        },
    ))
}

/// As `replay::record_inputs` for the `perp_positions` table.
fn record_inputs(d: &Dataset, hashes: &mut BTreeMap<String, String>) -> anyhow::Result<()> {
    if let Some(t) = d.manifest().tables.get(TABLE) {
        hashes.insert(TABLE.to_string(), t.sha256.clone());
    }
    let m = d.dir().join("manifest.json");
    let bytes = std::fs::read(&m).with_context(|| format!("reading {}", m.display()))?;
    hashes.insert(format!("{TABLE}/manifest.json"), sha256_hex(&bytes));
    for s in d.manifest().sources.iter().filter(|s| s.table == TABLE) {
        hashes.insert(format!("{TABLE}/source/{}", s.file), s.sha256.clone());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use shortfall_core::{MarginMode, PerpSide, SourceRecord, Wad};

    fn global(data_dir: &Path) -> Global {
        Global {
            verbose: 0,
            quiet: true,
            no_progress: true,
            data_dir: data_dir.to_path_buf(),
            reports_dir: data_dir.to_path_buf(),
        }
    }

    fn pos(account: &str, usdt: i64) -> PerpPosition {
        PerpPosition {
            account: account.into(),
            venue: "binance".into(),
            instrument: "BTCUSDT".into(),
            side: PerpSide::Long,
            size: Wad::from_int(1),
            entry_price: Wad::from_int(60_000),
            margin_mode: MarginMode::Cross,
            collateral: [("USDT".to_string(), Wad::from_int(usdt))].into(),
            leverage: Wad::from_int(10),
        }
    }

    #[test]
    fn latest_snapshot_at_or_before_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let t1 = Micros::parse("2021-04-17").unwrap();
        let t2 = Micros::parse("2021-04-18").unwrap();
        let t3 = Micros::parse("2021-04-19").unwrap();
        let mut rows = Vec::new();
        for (t, p) in [
            (t1, pos("a", 1)),
            (t2, pos("a", 2)),
            (t2, pos("b", 3)),
            (t3, pos("a", 4)),
        ] {
            rows.extend(PerpPositionRow::from_position(t, Some(7), &p));
        }
        rows.sort_by(shortfall_store::tables::CanonicalRow::cmp_key);
        let ds = dir.path().join("ds");
        let mut d = Dataset::open_or_new(&ds).unwrap();
        let src = SourceRecord {
            file: "p.csv".into(),
            sha256: "11".repeat(32),
            bytes: 1,
            format: "perp-positions-csv".into(),
            options: BTreeMap::new(),
            table: TABLE.into(),
            rows_read: 4,
            rows_written: 4,
            rows_skipped: 0,
            rows_deduplicated: 0,
            rows_rejected: 0,
            notes: Vec::new(),
            tool_version: "t".into(),
        };
        d.add(rows, vec![src]).unwrap();
        d.commit().unwrap();
        let g = global(dir.path());
        let scenario = dir.path().join("s.toml");
        let mut hashes = BTreeMap::new();
        let start = Micros::parse("2021-04-18T12:00:00Z").unwrap();
        let got = load_perp_positions(&g, &scenario, "ds", start, &mut hashes).unwrap();
        assert_eq!(got, vec![pos("a", 2), pos("b", 3)]);
        assert!(hashes.contains_key("perp_positions"));
        assert!(hashes.contains_key("perp_positions/manifest.json"));
        assert_eq!(hashes["perp_positions/source/p.csv"], "11".repeat(32));
        assert_eq!(hashes["perp_positions/snapshot"], format!("{t2} (block 7)"));
        // Before the first snapshot: an error listing the snapshots.
        let e = load_perp_positions(
            &g,
            &scenario,
            "ds",
            Micros::parse("2021-04-01").unwrap(),
            &mut hashes,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("no perp_positions snapshot at or before"), "{e}");
        // A JSON file of positions.
        let json = dir.path().join("book.json");
        std::fs::write(&json, serde_json::to_vec(&vec![pos("z", 5)]).unwrap()).unwrap();
        let mut hashes = BTreeMap::new();
        let got = load_perp_positions(&g, &scenario, "book.json", start, &mut hashes).unwrap();
        assert_eq!(got, vec![pos("z", 5)]);
        assert_eq!(hashes.len(), 1);
        // A bad position names its row and field.
        let mut bad = pos("y", 1);
        bad.size = Wad::ZERO;
        std::fs::write(&json, serde_json::to_vec(&vec![pos("z", 5), bad]).unwrap()).unwrap();
        let e = format!(
            "{:#}",
            load_perp_positions(&g, &scenario, "book.json", start, &mut hashes).unwrap_err()
        );
        assert!(e.contains("perp position 1") && e.contains("size"), "{e}");
    }
}
