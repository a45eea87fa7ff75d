//! Chainlink round exports. Accepted layouts (columns found by name):
//! - `roundId,answer,startedAt,updatedAt,answeredInRound,phaseId,aggregatorRoundId`
//! - `# comment` lines, then `roundId,answer,updatedAt,phaseId,aggregatorRoundId,dateTimeAt`
//! - a pandas index column first: `,round,answer,start,update,answeredInRound` (newest first)
//!
//! Answers are integers with `--decimals` decimals (required). The round id
//! is `phaseId << 64 | aggregatorRoundId`; phase and aggregator round are
//! derived from it when their columns are absent (and cross-checked when
//! present). Rounds with an answer <= 0 or a zero `updatedAt` are rejected
//! (counted, not fatal). `answeredInRound < roundId` marks a stale round.

use csv::ByteRecord;
use shortfall_core::{Micros, OracleRound, Wad};

use super::{check_delimiter, check_not_empty, csv_reader, next_record, Lines};
use crate::ctx::FileCtx;
use crate::error::{IngestError, Location};
use crate::{num, validate};

#[derive(Default)]
struct Cols {
    round: Option<usize>,
    answer: Option<usize>,
    started: Option<usize>,
    updated: Option<usize>,
    answered_in: Option<usize>,
    phase: Option<usize>,
    agg_round: Option<usize>,
    names: Vec<String>,
}

fn header(rec: &ByteRecord) -> Cols {
    let mut c = Cols::default();
    for (i, f) in rec.iter().enumerate() {
        let name = String::from_utf8_lossy(f).trim().to_string();
        let key: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let slot = match key.as_str() {
            "roundid" | "round" => &mut c.round,
            "answer" => &mut c.answer,
            "startedat" | "start" => &mut c.started,
            "updatedat" | "update" | "updated" => &mut c.updated,
            "answeredinround" => &mut c.answered_in,
            "phaseid" | "phase" => &mut c.phase,
            "aggregatorroundid" => &mut c.agg_round,
            _ => {
                c.names.push(name);
                continue;
            }
        };
        slot.get_or_insert(i);
        c.names.push(name);
    }
    c
}

/// (base, quote) from `chainlink_usdc_usd_...` style names.
pub fn pair_from_name(file: &str) -> Option<(String, String)> {
    let tokens = super::name_tokens(file);
    let i = tokens.iter().position(|t| t == "chainlink")?;
    let a = tokens.get(i + 1)?;
    let b = tokens.get(i + 2)?;
    let alpha =
        |t: &String| !t.is_empty() && t.len() <= 12 && t.bytes().all(|c| c.is_ascii_alphabetic());
    (alpha(a) && alpha(b)).then(|| (a.to_ascii_uppercase(), b.to_ascii_uppercase()))
}

pub(crate) fn parse(ctx: &mut FileCtx, bytes: &[u8]) -> Result<(), IngestError> {
    check_not_empty(ctx, bytes)?;
    let decimals = ctx.opts.decimals.ok_or_else(|| {
        IngestError::Options(format!(
            "{}: Chainlink answers are integers: pass --decimals (8 for USD feeds, 18 for ETH feeds)",
            ctx.name
        ))
    })?;
    if decimals > 38 {
        return Err(IngestError::Options(format!(
            "--decimals {decimals}: expected at most 38"
        )));
    }
    let (base, quote) = match (&ctx.opts.base, &ctx.opts.quote) {
        (Some(b), Some(q)) => (b.to_ascii_uppercase(), q.to_ascii_uppercase()),
        (b, q) => {
            let (fb, fq) = pair_from_name(&ctx.name).ok_or_else(|| {
                IngestError::Options(format!(
                    "{}: cannot tell the pair from the file name (expected chainlink_<base>_<quote>...): pass --base and --quote",
                    ctx.name
                ))
            })?;
            let base = b.as_ref().map_or(fb, |s| s.to_ascii_uppercase());
            let quote = q.as_ref().map_or(fq, |s| s.to_ascii_uppercase());
            ctx.notes
                .push(format!("pair {base}/{quote} taken from the file name"));
            (base, quote)
        }
    };
    let feed = ctx
        .opts
        .feed
        .clone()
        .unwrap_or_else(|| format!("chainlink:{base}/{quote}"));
    let mut rdr = csv_reader(bytes, b',', true);
    let mut rec = ByteRecord::new();
    let mut lines = Lines::new(bytes);
    if !next_record(ctx, &mut rdr, &mut rec)? {
        return Err(ctx.structure("empty file (only comments)"));
    }
    let header_loc = lines.of(&rec);
    check_delimiter(ctx, &rec, header_loc, b',')?;
    let cols = header(&rec);
    if cols.round.is_none() || cols.answer.is_none() || cols.updated.is_none() {
        return Err(ctx.structure(format!(
            "{header_loc}: expected a Chainlink rounds header with roundId/round, answer and updatedAt/update columns, found \"{}\"",
            super::show_record(&rec)
        )));
    }
    let width = cols.names.len();
    let before = ctx.rows_read;
    while next_record(ctx, &mut rdr, &mut rec)? {
        let loc = lines.of(&rec);
        ctx.rows_read += 1;
        if rec.len() < width {
            let col = cols.names.get(rec.len()).cloned().unwrap_or_default();
            let e = ctx.bad_row(
                loc,
                &col,
                format!(
                    "expected {width} columns, found {} (truncated row?)",
                    rec.len()
                ),
            );
            ctx.bad(e)?;
            continue;
        }
        match row(ctx, &rec, loc, &cols, decimals, &feed, &base, &quote) {
            Ok(Some(r)) => ctx.rounds.push((r, loc)),
            Ok(None) => {}
            Err(e) => ctx.bad(e)?,
        }
    }
    if ctx.rows_read == before {
        return Err(ctx.structure("no data rows"));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn row(
    ctx: &mut FileCtx,
    rec: &ByteRecord,
    loc: Location,
    cols: &Cols,
    decimals: u32,
    feed: &str,
    base: &str,
    quote: &str,
) -> Result<Option<OracleRound>, IngestError> {
    let name = |i: Option<usize>| {
        i.and_then(|i| cols.names.get(i))
            .map_or("?".to_string(), |s| s.clone())
    };
    let field = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or_default();
    let u128_of = |i: Option<usize>, what: &str| -> Result<u128, IngestError> {
        num::parse_u128(field(i)).ok_or_else(|| ctx.bad_value(loc, &name(i), what, field(i)))
    };
    let i64_of = |i: Option<usize>, what: &str| -> Result<i64, IngestError> {
        num::parse_i64_lenient(field(i)).ok_or_else(|| ctx.bad_value(loc, &name(i), what, field(i)))
    };
    let opt =
        |i: Option<usize>| i.filter(|&i| !rec.get(i).unwrap_or_default().trim_ascii().is_empty());

    let round_id = u128_of(cols.round, "a round id (unsigned integer)")?;
    let raw_answer = num::parse_i128(field(cols.answer)).ok_or_else(|| {
        ctx.bad_value(
            loc,
            &name(cols.answer),
            "an integer answer in base units",
            field(cols.answer),
        )
    })?;
    let updated = i64_of(cols.updated, "a unix time in seconds")?;
    let started = match opt(cols.started) {
        Some(i) => Some(i64_of(Some(i), "a unix time in seconds")?),
        None => None,
    };
    let answered_in = match opt(cols.answered_in) {
        Some(i) => Some(u128_of(Some(i), "a round id (unsigned integer)")?),
        None => None,
    };
    let derived_phase = i64::try_from(round_id >> 64).ok();
    let derived_agg = i64::try_from(round_id & u64::MAX as u128).ok();
    let phase_id = match opt(cols.phase) {
        Some(i) => {
            let p = i64_of(Some(i), "a phase id")?;
            if Some(p) != derived_phase {
                return Err(ctx.bad_row(
                    loc,
                    &name(Some(i)),
                    format!(
                        "expected phaseId = roundId >> 64 = {}, found {p}",
                        round_id >> 64
                    ),
                ));
            }
            Some(p)
        }
        None => derived_phase,
    };
    let aggregator_round_id = match opt(cols.agg_round) {
        Some(i) => {
            let a = i64_of(Some(i), "an aggregator round id")?;
            if Some(a) != derived_agg {
                return Err(ctx.bad_row(
                    loc,
                    &name(Some(i)),
                    format!(
                        "expected aggregatorRoundId = roundId & (2^64-1) = {}, found {a}",
                        round_id & u64::MAX as u128
                    ),
                ));
            }
            Some(a)
        }
        None => derived_agg,
    };
    // Invalid rounds: rejected by rule, not errors.
    if updated == 0 || raw_answer <= 0 {
        ctx.reject(
            loc,
            &format!("round {round_id} is invalid (answer {raw_answer}, updatedAt {updated}): answer <= 0 or zero timestamp"),
        );
        return Ok(None);
    }
    let ts = Micros(updated.checked_mul(1_000_000).ok_or_else(|| {
        ctx.bad_value(
            loc,
            &name(cols.updated),
            "a unix time in seconds",
            field(cols.updated),
        )
    })?);
    validate::check_time(ctx, ts, loc, &name(cols.updated))?;
    let started_at = match started {
        Some(s) if s > 0 => {
            let t = Micros(s.checked_mul(1_000_000).unwrap_or(i64::MAX));
            validate::check_time(ctx, t, loc, &name(cols.started))?;
            Some(t)
        }
        _ => None,
    };
    let answer = Wad::from_base_units(raw_answer, decimals).map_err(|_| {
        ctx.bad_value(
            loc,
            &name(cols.answer),
            &format!("an integer answer with {decimals} decimals that fits 18-decimal fixed point"),
            field(cols.answer),
        )
    })?;
    Ok(Some(OracleRound {
        ts,
        feed: feed.to_string(),
        base: base.to_string(),
        quote: quote.to_string(),
        round_id,
        phase_id,
        aggregator_round_id,
        answer,
        started_at,
        answered_in_round: answered_in,
        stale: answered_in.is_some_and(|a| a < round_id),
        block: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_from_file_names() {
        assert_eq!(
            pair_from_name("chainlink_usdc_usd_2021-2022.csv"),
            Some(("USDC".into(), "USD".into()))
        );
        assert_eq!(
            pair_from_name("chainlink_steth_eth_2022-2024.csv"),
            Some(("STETH".into(), "ETH".into()))
        );
        assert_eq!(pair_from_name("rounds.csv"), None);
    }
}
