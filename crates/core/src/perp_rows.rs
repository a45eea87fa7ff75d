//! Rows of the perp dataset tables: `perp_positions` (snapshots of
//! derivatives positions, the input of a perp replay) and
//! `perp_liquidations` (liquidations a venue reported, for forensics).
//!
//! A [`PerpPosition`] has a map of collateral assets; amounts are
//! `DECIMAL(38,18)` like every amount of a canonical table, so the table
//! holds one row per (position, collateral asset), the way `positions` holds
//! one row per leg: the position's own columns repeat on each of its rows,
//! and a position without collateral of its own (a cross account whose
//! collateral sits on another row) has one row with no collateral asset.
//! [`PerpPositionRow::from_position`] and [`positions_from_rows`] convert.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{MarginMode, Micros, PerpPosition, PerpSide, Wad};

/// One row of the canonical `perp_positions` table: one collateral asset of
/// one perp position at a snapshot (or the position alone when it has no
/// collateral of its own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerpPositionRow {
    /// The time the positions hold at.
    pub snapshot_ts: Micros,
    /// The block the snapshot was taken at, when it was taken at a block
    /// (Hyperliquid L1, an on-chain perp venue).
    pub snapshot_block: Option<i64>,
    pub venue: String,
    pub account: String,
    pub instrument: String,
    pub side: PerpSide,
    pub margin_mode: MarginMode,
    /// Base units (> 0).
    pub size: Wad,
    /// Quote per base (> 0).
    pub entry_price: Wad,
    pub leverage: Wad,
    /// None: the position has no collateral of its own (then `collateral_amount` is None too).
    pub collateral_asset: Option<String>,
    /// Asset units.
    pub collateral_amount: Option<Wad>,
}

/// The key that identifies one position within a snapshot.
pub type PerpPositionKey = (Micros, String, String, String, PerpSide);

impl PerpPositionRow {
    /// The position this row belongs to (the table key without the asset).
    pub fn position_key(&self) -> PerpPositionKey {
        (
            self.snapshot_ts,
            self.venue.clone(),
            self.account.clone(),
            self.instrument.clone(),
            self.side,
        )
    }

    /// The rows of one position at a snapshot: one per collateral asset, in
    /// asset order, or one without an asset when the map is empty.
    pub fn from_position(
        snapshot_ts: Micros,
        snapshot_block: Option<i64>,
        p: &PerpPosition,
    ) -> Vec<PerpPositionRow> {
        let row = |asset: Option<&String>, amount: Option<Wad>| PerpPositionRow {
            snapshot_ts,
            snapshot_block,
            venue: p.venue.clone(),
            account: p.account.clone(),
            instrument: p.instrument.clone(),
            side: p.side,
            margin_mode: p.margin_mode,
            size: p.size,
            entry_price: p.entry_price,
            leverage: p.leverage,
            collateral_asset: asset.cloned(),
            collateral_amount: amount,
        };
        if p.collateral.is_empty() {
            return vec![row(None, None)];
        }
        p.collateral
            .iter()
            .map(|(a, v)| row(Some(a), Some(*v)))
            .collect()
    }

    /// The position without its collateral.
    fn bare_position(&self) -> PerpPosition {
        PerpPosition {
            account: self.account.clone(),
            venue: self.venue.clone(),
            instrument: self.instrument.clone(),
            side: self.side,
            size: self.size,
            entry_price: self.entry_price,
            margin_mode: self.margin_mode,
            collateral: BTreeMap::new(),
            leverage: self.leverage,
        }
    }
}

/// Rows of one position that do not fit together; names the row (0-based,
/// in the order given) and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("perp_positions row {row} (account `{account}`, {instrument}): {field}: {detail}")]
pub struct PerpRowsError {
    pub row: usize,
    pub account: String,
    pub instrument: String,
    pub field: &'static str,
    pub detail: String,
}

/// Groups rows (sorted by the table key) into positions, in key order:
/// the rows of one position must agree on everything but the collateral
/// asset and amount; a row without an asset only stands alone.
pub fn positions_from_rows(rows: &[PerpPositionRow]) -> Result<Vec<PerpPosition>, PerpRowsError> {
    let mut out: Vec<PerpPosition> = Vec::new();
    let mut last: Option<(PerpPositionKey, usize, bool)> = None;
    for (i, r) in rows.iter().enumerate() {
        let err = |field: &'static str, detail: String| PerpRowsError {
            row: i,
            account: r.account.clone(),
            instrument: r.instrument.clone(),
            field,
            detail,
        };
        let key = r.position_key();
        let has_asset = r.collateral_asset.is_some();
        if has_asset != r.collateral_amount.is_some() {
            return Err(err(
                "collateral_amount",
                "collateral asset and amount must both be given or both be empty".into(),
            ));
        }
        match &last {
            Some((k, first, had_asset)) if *k == key => {
                let f = &rows[*first];
                if !has_asset || !had_asset {
                    return Err(err(
                        "collateral_asset",
                        format!("a position with a row without collateral asset has other rows (first at row {first})"),
                    ));
                }
                let same = (
                    f.snapshot_block,
                    f.margin_mode,
                    f.size,
                    f.entry_price,
                    f.leverage,
                ) == (
                    r.snapshot_block,
                    r.margin_mode,
                    r.size,
                    r.entry_price,
                    r.leverage,
                );
                if !same {
                    return Err(err(
                        "size",
                        format!("rows of one position disagree on snapshot block, margin mode, size, entry price or leverage (first at row {first})"),
                    ));
                }
            }
            _ => {
                if let Some((k, _, _)) = &last {
                    if *k > key {
                        return Err(err(
                            "snapshot_ts",
                            "rows not sorted by the table key".into(),
                        ));
                    }
                }
                out.push(r.bare_position());
                last = Some((key, i, has_asset));
            }
        }
        if let (Some(a), Some(v), Some(p)) =
            (&r.collateral_asset, r.collateral_amount, out.last_mut())
        {
            if p.collateral.insert(a.clone(), v).is_some() {
                return Err(err("collateral_asset", format!("asset `{a}` repeated")));
            }
        }
    }
    Ok(out)
}

/// One row of the canonical `perp_liquidations` table: a liquidation a venue
/// reported (forensics input; the replay does not read it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerpLiquidationRow {
    pub ts: Micros,
    pub venue: String,
    pub account: String,
    /// Notional of the liquidated position(s), USD, as the venue reported it.
    pub notional_usd: Wad,
    /// The account's value at liquidation, USD, as the venue reported it.
    pub account_value_usd: Wad,
    pub margin_mode: MarginMode,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(account: &str, collateral: &[(&str, i64)]) -> PerpPosition {
        PerpPosition {
            account: account.into(),
            venue: "binance".into(),
            instrument: "BTCUSDT".into(),
            side: PerpSide::Long,
            size: Wad::from_int(2),
            entry_price: Wad::from_int(50_000),
            margin_mode: MarginMode::Cross,
            collateral: collateral
                .iter()
                .map(|(a, v)| (a.to_string(), Wad::from_int(*v)))
                .collect(),
            leverage: Wad::from_int(10),
        }
    }

    #[test]
    fn rows_round_trip_positions() {
        let ts = Micros::from_secs(1_618_000_000);
        let ps = vec![
            pos("a", &[("BTC", 1), ("USDT", 5_000)]),
            pos("b", &[]),
            pos("c", &[("USDT", 0)]),
        ];
        let rows: Vec<PerpPositionRow> = ps
            .iter()
            .flat_map(|p| PerpPositionRow::from_position(ts, None, p))
            .collect();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[2].collateral_asset, None);
        assert_eq!(positions_from_rows(&rows).unwrap(), ps);
    }

    #[test]
    fn disagreeing_rows_are_named() {
        let ts = Micros::from_secs(1_618_000_000);
        let mut rows =
            PerpPositionRow::from_position(ts, None, &pos("a", &[("BTC", 1), ("USDT", 5)]));
        rows[1].size = Wad::from_int(3);
        let e = positions_from_rows(&rows).unwrap_err();
        assert_eq!((e.row, e.field), (1, "size"));
        let mut rows = PerpPositionRow::from_position(ts, None, &pos("a", &[("BTC", 1)]));
        rows.extend(PerpPositionRow::from_position(ts, None, &pos("a", &[])));
        rows.swap(0, 1);
        assert_eq!(
            positions_from_rows(&rows).unwrap_err().field,
            "collateral_asset"
        );
    }
}
