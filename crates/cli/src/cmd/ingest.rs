//! `shortfall ingest`: raw files -> canonical tables of a dataset.

use std::process::ExitCode;

use anyhow::{bail, Context};
use shortfall_core::Micros;
use shortfall_ingest::{ColumnMapping, Format, IngestOptions, OnBadRow};
use shortfall_store::Dataset;

use crate::cli::{BadRow, Global, IngestArgs};
use crate::progress;

/// Parses `START..END` (each a date, a date and time, or epoch seconds).
pub fn parse_window(text: &str) -> anyhow::Result<(Micros, Micros)> {
    let Some((a, b)) = text.split_once("..") else {
        bail!("--window `{text}`: expected START..END, e.g. 2020-03-12..2020-03-14");
    };
    let start = Micros::parse(a).with_context(|| format!("--window start `{a}`"))?;
    let end = Micros::parse(b).with_context(|| format!("--window end `{b}`"))?;
    if end <= start {
        bail!("--window `{text}`: the end must be after the start");
    }
    Ok((start, end))
}

fn mapping(args: &IngestArgs) -> anyhow::Result<Option<ColumnMapping>> {
    let mut m = match &args.mapping {
        Some(path) => Some(ColumnMapping::from_file(path)?),
        None if args.map.is_empty() => None,
        None => Some(ColumnMapping::default()),
    };
    if let Some(m) = m.as_mut() {
        for pair in &args.map {
            let (k, v) = pair
                .split_once('=')
                .with_context(|| format!("--map `{pair}`: expected KEY=VALUE"))?;
            m.set(k, v)?;
        }
        m.check()?;
    }
    Ok(m)
}

/// Prints what each source gave and what the table now holds.
fn print_sources(
    g: &Global,
    dataset: &std::path::Path,
    sources: &[shortfall_core::SourceRecord],
    report: &shortfall_store::dataset::AddReport,
) {
    if g.quiet {
        return;
    }
    for s in sources {
        let already = report.already_ingested.contains(&s.file);
        println!(
            "{}: {} rows read, {} written, {} skipped, {} duplicates, {} rejected{}",
            s.file,
            s.rows_read,
            s.rows_written,
            s.rows_skipped,
            s.rows_deduplicated,
            s.rows_rejected,
            if already {
                " (already in the dataset: unchanged)"
            } else {
                ""
            }
        );
        for n in &s.notes {
            println!("  note: {n}");
        }
    }
    println!(
        "{}: table {}: {} rows added, {} overlapping duplicates not doubled, {} rows in total",
        dataset.display(),
        report.table,
        report.added,
        report.duplicates,
        report.total
    );
}

/// Warns, adds the rows of one table to the dataset, commits and prints
/// the sources: the tail of every single-table ingest.
fn add_one_table<R: shortfall_store::tables::CanonicalRow>(
    g: &Global,
    args: &IngestArgs,
    mut ds: Dataset,
    rows: Vec<R>,
    sources: &[shortfall_core::SourceRecord],
    warnings: &[String],
) -> anyhow::Result<ExitCode> {
    warn_all(g, warnings);
    let report = ds.add(rows, sources.to_vec())?;
    ds.commit()?;
    print_sources(g, &args.dataset, sources, &report);
    Ok(ExitCode::SUCCESS)
}

fn warn_all(g: &Global, warnings: &[String]) {
    for w in warnings {
        tracing::warn!("{w}");
        if !g.quiet {
            eprintln!("warning: {w}");
        }
    }
}

/// `--format events-csv`: lending events (and the reserves file) of an export.
fn run_events(g: &Global, args: &IngestArgs, opts: &IngestOptions) -> anyhow::Result<ExitCode> {
    use shortfall_ingest::events::{ingest_events, EventsMapping};
    let Some(mapping) = &args.mapping else {
        bail!("--format events-csv needs --mapping FILE (see datasets/mappings/)");
    };
    if !args.map.is_empty() {
        bail!("--map applies to the csv and parquet formats; edit the events mapping file instead");
    }
    let m = EventsMapping::from_file(mapping)?;
    let mut ds = Dataset::open_or_new(&args.dataset)?;
    let out = ingest_events(
        &args.files,
        args.reserves.as_deref(),
        &m,
        opts,
        &super::tool_version(),
    )?;
    warn_all(g, &out.warnings);
    let events = ds.add(out.events, out.event_sources.clone())?;
    let reserves = if out.reserve_sources.is_empty() {
        None
    } else {
        Some(ds.add(out.reserves, out.reserve_sources.clone())?)
    };
    ds.commit()?;
    print_sources(g, &args.dataset, &out.event_sources, &events);
    if let Some(r) = reserves {
        print_sources(g, &args.dataset, &out.reserve_sources, &r);
    }
    Ok(ExitCode::SUCCESS)
}

/// `--format rpc-logs|cryo-logs`: EVM logs decoded with the contracts file
/// and token list into lending_events and oracle_rounds.
fn run_logs(
    g: &Global,
    args: &IngestArgs,
    format: shortfall_ingest::chain::LogFormat,
    opts: &IngestOptions,
) -> anyhow::Result<ExitCode> {
    use shortfall_ingest::chain::{ingest_logs, BlockTimes, ChainOptions, Registry};
    if args.mapping.is_some() || !args.map.is_empty() || args.reserves.is_some() {
        bail!(
            "--mapping, --map and --reserves do not apply to {}",
            format.name()
        );
    }
    let mut record = std::collections::BTreeMap::new();
    let mut hash_of = |key: String, path: &std::path::Path| -> anyhow::Result<()> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        record.insert(
            key,
            format!(
                "{name} sha256 {}",
                shortfall_store::parquet_io::sha256_hex(&bytes)
            ),
        );
        Ok(())
    };
    let contracts = args
        .contracts
        .clone()
        .unwrap_or_else(|| g.data_dir.join("chain/contracts.toml"));
    let tokens = args
        .tokens
        .clone()
        .unwrap_or_else(|| g.data_dir.join("chain/tokens.json"));
    let mut reg = Registry::default();
    reg.add_contracts_file(&contracts)?;
    reg.add_token_list_file(&tokens)?;
    hash_of("contracts".into(), &contracts)?;
    hash_of("tokens".into(), &tokens)?;
    let mut blocks = BlockTimes::default();
    for (i, b) in args.blocks.iter().enumerate() {
        let bytes = std::fs::read(b).with_context(|| format!("reading {}", b.display()))?;
        let name = b.file_name().map_or_else(
            || b.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        blocks.read(&name, &bytes)?;
        hash_of(format!("blocks_{i}"), b)?;
    }
    let copts = ChainOptions {
        estimate_block_times: args.estimate_block_times,
        window: opts.window,
        on_bad_row: opts.on_bad_row,
        record,
    };
    let mut ds = Dataset::open_or_new(&args.dataset)?;
    let out = ingest_logs(
        format,
        &args.files,
        &blocks,
        &reg,
        &copts,
        &super::tool_version(),
    )?;
    warn_all(g, &out.warnings);
    let events = ds.add(out.events, out.event_sources.clone())?;
    let rounds = if out.round_sources.is_empty() {
        None
    } else {
        Some(ds.add(out.rounds, out.round_sources.clone())?)
    };
    ds.commit()?;
    print_sources(g, &args.dataset, &out.event_sources, &events);
    if let Some(r) = rounds {
        print_sources(g, &args.dataset, &out.round_sources, &r);
    }
    Ok(ExitCode::SUCCESS)
}

/// Options of the formats that take only a window and the bad-row policy.
fn basic_options(args: &IngestArgs) -> anyhow::Result<IngestOptions> {
    Ok(IngestOptions {
        window: args.window.as_deref().map(parse_window).transpose()?,
        on_bad_row: match args.on_bad_row {
            BadRow::Fail => OnBadRow::Fail,
            BadRow::Skip => OnBadRow::Skip,
        },
        ..IngestOptions::default()
    })
}

/// Refuses the flags of other formats.
fn only_mapping_flags(args: &IngestArgs, format: &str, mapping: bool) -> anyhow::Result<()> {
    if args.reserves.is_some()
        || !args.blocks.is_empty()
        || args.contracts.is_some()
        || args.tokens.is_some()
        || args.estimate_block_times
        || args.decimals.is_some()
        || args.base.is_some()
        || args.quote.is_some()
        || args.venue.is_some()
        || args.feed.is_some()
        || args.start.is_some()
    {
        bail!(
            "--format {format} takes only --dataset, --window, --on-bad-row{}",
            if mapping { ", --mapping and --map" } else { "" }
        );
    }
    if !mapping && (args.mapping.is_some() || !args.map.is_empty()) {
        bail!("--mapping and --map do not apply to --format {format} (its columns are fixed)");
    }
    Ok(())
}

/// `--format perp-positions-csv`: position exports with a mapping (file
/// and/or `--map KEY=VALUE`, e.g. `--map snapshot_at=2021-04-18T00:00:00Z`)
/// into `perp_positions`.
fn run_perp_positions(g: &Global, args: &IngestArgs) -> anyhow::Result<ExitCode> {
    use shortfall_ingest::perp::{ingest_perp_positions, PerpPositionsMapping, POSITIONS_FORMAT};
    only_mapping_flags(args, POSITIONS_FORMAT, true)?;
    let mut m = match &args.mapping {
        Some(path) => PerpPositionsMapping::from_file(path)?,
        None if args.map.is_empty() => bail!(
            "--format {POSITIONS_FORMAT} needs --mapping FILE or --map KEY=VALUE pairs (see README, Input formats)"
        ),
        None => PerpPositionsMapping::default(),
    };
    for pair in &args.map {
        let (k, v) = pair
            .split_once('=')
            .with_context(|| format!("--map `{pair}`: expected KEY=VALUE"))?;
        m.set(k, v)?;
    }
    m.check()?;
    let opts = basic_options(args)?;
    let ds = Dataset::open_or_new(&args.dataset)?;
    let out = ingest_perp_positions(&args.files, &m, &opts, &super::tool_version())?;
    add_one_table(g, args, ds, out.rows, &out.sources, &out.warnings)
}

/// `--format hyperliquid-liquidations`: Hyperliquid's liquidation export
/// into `perp_liquidations` (forensics).
fn run_hyperliquid(g: &Global, args: &IngestArgs) -> anyhow::Result<ExitCode> {
    use shortfall_ingest::perp::{ingest_hyperliquid_liquidations, HYPERLIQUID_FORMAT};
    only_mapping_flags(args, HYPERLIQUID_FORMAT, false)?;
    let opts = basic_options(args)?;
    let ds = Dataset::open_or_new(&args.dataset)?;
    let out = ingest_hyperliquid_liquidations(&args.files, &opts, &super::tool_version())?;
    add_one_table(g, args, ds, out.rows, &out.sources, &out.warnings)
}

/// `--format maker-flip-auctions|compound-liquidations-dune`: observed
/// auctions and liquidations into `observed_auctions`.
fn run_observed(g: &Global, args: &IngestArgs) -> anyhow::Result<ExitCode> {
    use shortfall_ingest::observed::ingest_observed;
    only_mapping_flags(args, args.format.trim(), false)?;
    let opts = basic_options(args)?;
    let ds = Dataset::open_or_new(&args.dataset)?;
    let out = ingest_observed(&args.format, &args.files, &opts, &super::tool_version())?;
    add_one_table(g, args, ds, out.rows, &out.sources, &out.warnings)
}

/// `--format maker-osm-web3`: Maker OSM `LogValue` events into
/// `oracle_rounds`, block times from `--blocks` files.
fn run_osm(g: &Global, args: &IngestArgs) -> anyhow::Result<ExitCode> {
    use shortfall_ingest::chain::osm::{ingest_osm, OsmOptions, FORMAT};
    use shortfall_ingest::chain::BlockTimes;
    if args.reserves.is_some()
        || args.contracts.is_some()
        || args.tokens.is_some()
        || args.decimals.is_some()
        || args.quote.is_some()
        || args.venue.is_some()
        || args.start.is_some()
        || args.mapping.is_some()
        || !args.map.is_empty()
    {
        bail!("--format {FORMAT} takes only --dataset, --blocks, --estimate-block-times, --feed, --base, --window, --on-bad-row");
    }
    if args.blocks.is_empty() {
        bail!("--format {FORMAT}: the events carry no time: give --blocks FILE (e.g. the Maker flip auctions export)");
    }
    let mut blocks = BlockTimes::default();
    let mut record = Vec::new();
    for (i, b) in args.blocks.iter().enumerate() {
        let bytes = std::fs::read(b).with_context(|| format!("reading {}", b.display()))?;
        let name = b.file_name().map_or_else(
            || b.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        blocks.read(&name, &bytes)?;
        record.push((
            format!("blocks_{i}"),
            format!(
                "{name} sha256 {}",
                shortfall_store::parquet_io::sha256_hex(&bytes)
            ),
        ));
    }
    let osm = OsmOptions {
        feed: args.feed.clone(),
        base: args.base.clone(),
        estimate_block_times: args.estimate_block_times,
        blocks_record: record,
    };
    let opts = basic_options(args)?;
    let ds = Dataset::open_or_new(&args.dataset)?;
    let out = ingest_osm(&args.files, &blocks, &osm, &opts, &super::tool_version())?;
    add_one_table(g, args, ds, out.rounds, &out.sources, &out.warnings)
}

pub fn run(g: &Global, args: IngestArgs) -> anyhow::Result<ExitCode> {
    if args.start.is_some() && args.format.trim() != Format::UniswapV2Reserves.name() {
        bail!(
            "--start applies to --format {} only",
            Format::UniswapV2Reserves.name()
        );
    }
    match args.format.trim() {
        shortfall_ingest::perp::POSITIONS_FORMAT => return run_perp_positions(g, &args),
        shortfall_ingest::perp::HYPERLIQUID_FORMAT => return run_hyperliquid(g, &args),
        shortfall_ingest::chain::osm::FORMAT => return run_osm(g, &args),
        f if shortfall_ingest::observed::is_format(f) => return run_observed(g, &args),
        _ => {}
    }
    let log_format = shortfall_ingest::chain::LogFormat::parse(&args.format);
    if args.format.trim() == shortfall_ingest::events::FORMAT || log_format.is_some() {
        let opts = IngestOptions {
            window: args.window.as_deref().map(parse_window).transpose()?,
            on_bad_row: match args.on_bad_row {
                BadRow::Fail => OnBadRow::Fail,
                BadRow::Skip => OnBadRow::Skip,
            },
            ..IngestOptions::default()
        };
        if let Some(f) = log_format {
            return run_logs(g, &args, f, &opts);
        }
        return run_events(g, &args, &opts);
    }
    if !args.blocks.is_empty()
        || args.contracts.is_some()
        || args.tokens.is_some()
        || args.estimate_block_times
    {
        bail!("--contracts, --tokens, --blocks and --estimate-block-times apply to rpc-logs and cryo-logs only");
    }
    if args.reserves.is_some() {
        bail!("--reserves applies to --format events-csv only");
    }
    let format: Format = args.format.parse()?;
    let opts = IngestOptions {
        base: args.base.clone(),
        quote: args.quote.clone(),
        venue: args.venue.clone(),
        feed: args.feed.clone(),
        window: args.window.as_deref().map(parse_window).transpose()?,
        on_bad_row: match args.on_bad_row {
            BadRow::Fail => OnBadRow::Fail,
            BadRow::Skip => OnBadRow::Skip,
        },
        decimals: args.decimals,
        mapping: mapping(&args)?,
        interval_secs: None,
        start: args
            .start
            .as_deref()
            .map(|t| Micros::parse(t).with_context(|| format!("--start `{t}`")))
            .transpose()?,
    };
    // Open the dataset first: a damaged manifest should stop us before any work.
    let mut ds = Dataset::open_or_new(&args.dataset)?;

    let total: u64 = args
        .files
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .sum();
    let bar = progress::bytes_bar(total, !g.no_progress && !g.quiet, "ingest");
    let out = shortfall_ingest::ingest_files_with_progress(
        format,
        &args.files,
        &opts,
        &super::tool_version(),
        &|done, _| bar.set_position(done),
    );
    bar.finish_and_clear();
    let out = out?;

    warn_all(g, &out.warnings);
    let report = if format.table() == "oracle_rounds" {
        ds.add(out.oracle_rounds, out.sources.clone())?
    } else {
        ds.add(out.prices, out.sources.clone())?
    };
    let depth = if out.liquidity.is_empty() {
        None
    } else {
        Some(ds.add(out.liquidity, out.liquidity_sources.clone())?)
    };
    ds.commit()?;

    print_sources(g, &args.dataset, &out.sources, &report);
    if let Some(d) = depth {
        print_sources(g, &args.dataset, &out.liquidity_sources, &d);
    }
    Ok(ExitCode::SUCCESS)
}
