//! Command-line interface definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "shortfall",
    version,
    about = "Historical crisis backtesting and forensics of crypto credit",
    long_about = "Shortfall converts historical market, oracle and chain data into canonical parquet \
datasets, replays lending positions through past crises under configurable margin and oracle \
rules, and renders forensic reports of the non-performing loans.\n\n\
Exit codes: 0 ok, 1 error, 2 usage, 3 run finished but an invariant failed."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// More logging (-v info, -vv debug, -vvv trace). `SHORTFALL_LOG` overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Errors only.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Never draw progress bars (they are hidden anyway when stderr is not a terminal).
    #[arg(long, global = true)]
    pub no_progress: bool,
    /// Folder of built-in and user datasets.
    #[arg(
        long,
        global = true,
        default_value = "datasets",
        env = "SHORTFALL_DATA_DIR"
    )]
    pub data_dir: PathBuf,
    /// Folder where runs and reports are written.
    #[arg(
        long,
        global = true,
        default_value = "reports",
        env = "SHORTFALL_REPORTS_DIR"
    )]
    pub reports_dir: PathBuf,
}

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Convert raw market or oracle files into a canonical parquet dataset.
    Ingest(IngestArgs),
    /// List, describe and verify datasets.
    #[command(subcommand)]
    Datasets(DatasetsCommand),
    /// Run DuckDB SQL over the tables of a dataset (each table is a view).
    Query(QueryArgs),
    /// Replay a crisis scenario and write its run folder
    /// (`<reports-dir>/<scenario>/<run_id>/`: events, liquidations, loans and
    /// series as parquet, run.json, summary.json). Exit code 3 when the run
    /// finished but an accounting invariant failed.
    Replay(ReplayArgs),
    /// The built-in crisis packs: list, show, replay with its report, or
    /// rebuild a pack's data from the raw files.
    #[command(subcommand)]
    Crisis(CrisisCommand),
    /// Render the forensic report of a run folder: report.html (self-contained,
    /// prints on A4) and report.json (every figure of the HTML).
    Report(ReportArgs),
    /// Compare two runs of one crisis (e.g. two policies): headline deltas,
    /// settings that differ, positions non-performing under one run only,
    /// per-position shortfall changes. Writes compare.html and compare.json.
    Compare(CompareArgs),
    /// Forensics of the observed liquidations of a dataset (lending_events and
    /// reserves, e.g. from `ingest --format events-csv`): writes the
    /// observed_liquidations table into the dataset (queryable with `shortfall
    /// query`) and an HTML report with its JSON twin: realised versus
    /// configured bonus, liquidators, timeline, accounts left with debt.
    Forensics(ForensicsArgs),
    /// Measure throughput (ingest against DuckDB's own CSV-to-parquet path).
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Rebuild the position book of a dataset's lending_events at a time or
    /// block with the protocols' own accounting (Aave scaled balances and
    /// indexes, Compound cTokens and borrow index; Maker is skipped): writes
    /// the positions table into the dataset and prints the reconciliation of
    /// the event totals against the book.
    Positions(PositionsArgs),
    /// Sweep a grid of margin and oracle settings through one or several
    /// crises: sweep.parquet (one row per variant and crisis), sweep.json
    /// and the sweep report (best policies, Pareto frontier, heatmaps);
    /// `--shard I/N` for cluster array jobs, `sweep merge` for their parts.
    Sweep(SweepArgs),
    /// Bad debt at risk: replay a crisis book through N simulated market
    /// paths (block bootstrap of the crisis's joint returns, or a fitted
    /// multivariate normal) and report the distribution of bad debt and
    /// liquidated volume (mean, VaR and ES at 95% and 99% over the
    /// horizon) and the worst paths: stress.parquet, stress.json,
    /// worst/path-K.toml and the stress report.
    Stress(StressArgs),
    /// Contagion: protocols that hold the same collateral replayed alone
    /// and together, sharing one market per shared asset (liquidation
    /// sales of one use its depth and move the price the others read):
    /// the exposure graph, bad debt of each alone versus together, the
    /// full runs of both and the contagion report.
    Contagion(ContagionArgs),
}

#[derive(Debug, Args)]
pub struct ContagionArgs {
    /// Contagion spec (TOML: members, shared assets, liquidity): a file or
    /// the name of one in `<data-dir>/contagion/`.
    #[arg(long, value_name = "FILE|NAME")]
    pub spec: String,
    /// Output folder (default `<reports-dir>/contagion/<contagion_id>`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub render: RenderArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StressModel {
    /// Blocks of joint historical returns (same block for every asset).
    Bootstrap,
    /// Multivariate normal returns with the fitted mean and covariance.
    Gaussian,
}

#[derive(Debug, Args)]
pub struct StressArgs {
    /// Crisis pack name or scenario file.
    #[arg(long, value_name = "NAME|FILE")]
    pub scenario: String,
    /// Number of simulated paths (at least 1).
    #[arg(long, value_name = "N")]
    pub paths: u32,
    /// Simulated stretch from the window start (`24h`, `90m`, `2d`,
    /// `3600s`); at most the window's length. Later prices hold.
    #[arg(long, value_name = "DURATION")]
    pub horizon: String,
    /// Seed of the paths: the same seed gives the same paths.
    #[arg(long, value_name = "S")]
    pub seed: u64,
    /// Return model.
    #[arg(long, value_enum, default_value_t = StressModel::Bootstrap)]
    pub model: StressModel,
    /// Bootstrap block length (default 1h).
    #[arg(long, value_name = "DURATION")]
    pub block: Option<String>,
    /// Start of the period the model is fitted to (default: the window
    /// start); `YYYY-MM-DD HH:MM` or RFC 3339, UTC. Any period of the
    /// scenario's price data, before or inside the window.
    #[arg(long, value_name = "TIME")]
    pub fit_start: Option<String>,
    /// End of the fit period (default: the window end).
    #[arg(long, value_name = "TIME")]
    pub fit_end: Option<String>,
    /// Gaussian model: a given volatility in place of the fitted one,
    /// `ASSET=X` with X the standard deviation of one-hour log returns
    /// (`ETH=0.03`); repeatable.
    #[arg(long = "vol", value_name = "ASSET=X")]
    pub vol: Vec<String>,
    /// Gaussian model: a given correlation in place of the fitted one,
    /// `A/B=RHO` (`BTC/ETH=0.95`; `1` for "correlations go to one");
    /// repeatable.
    #[arg(long = "corr", value_name = "A/B=RHO")]
    pub corr: Vec<String>,
    /// Threads (default: all cores); the rows do not depend on it.
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Stress folder (default `<reports-dir>/stress/<stress_id>`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replay path K in full: run folder and report at
    /// `<reports-dir>/<scenario>/<run_id>/`, as `shortfall replay` writes.
    #[arg(long, value_name = "K")]
    pub explain: Option<u32>,
    /// Worst paths listed and written as replayable scenarios.
    #[arg(long, value_name = "K", default_value_t = 10)]
    pub worst: usize,
    #[command(flatten)]
    pub render: RenderArgs,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Input format: binance-klines, cdd, coinapi-json, chainlink-rounds,
    /// csv, parquet (prices and oracle rounds); events-csv (lending events
    /// from exports); rpc-logs, cryo-logs (EVM logs decoded into
    /// lending_events and oracle_rounds); perp-positions-csv (perp position
    /// exports with a mapping, into perp_positions); hyperliquid-liquidations
    /// (Hyperliquid's liquidation export, into perp_liquidations);
    /// maker-flip-auctions, compound-liquidations-dune (observed auctions and
    /// liquidations, into observed_auctions); maker-osm-web3 (Maker OSM
    /// LogValue events, into oracle_rounds, with --blocks); santiment-json,
    /// uniswap-v2-reserves-json (prices; the latter also liquidity).
    #[arg(long, value_name = "FORMAT")]
    pub format: String,
    /// Dataset folder to create or add to.
    #[arg(long, value_name = "DIR")]
    pub dataset: PathBuf,
    /// Base asset symbol (e.g. ETH), when the file does not say.
    #[arg(long)]
    pub base: Option<String>,
    /// Quote asset symbol (e.g. USD, USDT).
    #[arg(long)]
    pub quote: Option<String>,
    /// Venue name (e.g. binance, coinbase).
    #[arg(long)]
    pub venue: Option<String>,
    /// Oracle feed name (default `chainlink:BASE/QUOTE`).
    #[arg(long)]
    pub feed: Option<String>,
    /// Keep rows with START <= ts < END, e.g. `2020-03-12..2020-03-14` or RFC 3339 times.
    #[arg(long, value_name = "START..END")]
    pub window: Option<String>,
    /// What to do with a bad row: stop with an error, or skip and count it.
    #[arg(long, value_enum, default_value_t = BadRow::Fail)]
    pub on_bad_row: BadRow,
    /// Decimals of integer answers or prices (Chainlink: 8 for USD feeds, 18 for ETH feeds).
    #[arg(long)]
    pub decimals: Option<u32>,
    /// Column mapping for `csv`, `parquet`, `events-csv` and
    /// `perp-positions-csv` (TOML file; for events see datasets/mappings/).
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// `events-csv`: the export's reserves file (decimals, liquidation
    /// thresholds and bonuses), laid out as the mapping's [reserves] says.
    #[arg(long, value_name = "FILE")]
    pub reserves: Option<PathBuf>,
    /// `rpc-logs`/`cryo-logs`: which address is which contract (TOML;
    /// default `<data-dir>/chain/contracts.toml`).
    #[arg(long, value_name = "FILE")]
    pub contracts: Option<PathBuf>,
    /// `rpc-logs`/`cryo-logs`: token list JSON with symbols and decimals
    /// (default `<data-dir>/chain/tokens.json`).
    #[arg(long, value_name = "FILE")]
    pub tokens: Option<PathBuf>,
    /// `rpc-logs`/`cryo-logs`/`maker-osm-web3`: block timestamps (cryo
    /// `blocks` parquet/CSV, CSV `number,timestamp`, or the Maker flip
    /// auctions export, whose last-bid and deal columns pair blocks with
    /// times); repeatable.
    #[arg(long, value_name = "FILE")]
    pub blocks: Vec<PathBuf>,
    /// `rpc-logs`/`cryo-logs`/`maker-osm-web3`: interpolate unknown block
    /// times between known blocks (logs: rows marked ts_estimated; OSM: the
    /// estimate's error stated in the source record) instead of failing.
    #[arg(long)]
    pub estimate_block_times: bool,
    /// `uniswap-v2-reserves-json`: time of the file's first row (its rows
    /// carry no time; row k is START + k x 10 minutes).
    #[arg(long, value_name = "TIME")]
    pub start: Option<String>,
    /// Column mapping entries as KEY=VALUE (same keys as the mapping file; override it).
    #[arg(long = "map", value_name = "KEY=VALUE")]
    pub map: Vec<String>,
    /// Raw input files.
    #[arg(required = true, value_name = "FILES")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Scenario file (TOML); its dataset paths are relative to it (else to --data-dir).
    #[arg(long, value_name = "FILE")]
    pub scenario: PathBuf,
    /// Override a scenario setting, e.g. `--set policy.close_factor=0.6` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Run folder to write instead of `<reports-dir>/<scenario name>/<run_id>`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Do not write report.html / report.json into the run folder.
    #[arg(long)]
    pub no_report: bool,
    #[command(flatten)]
    pub render: RenderArgs,
}

/// Options shared by the commands that render HTML.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Folder of templates overriding the built-in ones by file name
    /// (base.html, report.html, compare.html, observed.html, report.css).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Text shown as the generation time (none by default, so the same run
    /// gives byte-identical files).
    #[arg(long, value_name = "TEXT")]
    pub timestamp: Option<String>,
    /// Rows of the position tables.
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub top: usize,
}

#[derive(Debug, Args)]
pub struct ForensicsArgs {
    /// Dataset folder holding lending_events (and reserves) and/or
    /// observed_auctions.
    #[arg(value_name = "DATASET")]
    pub dataset: PathBuf,
    /// observed_auctions: only auctions and liquidations with START <= ts < END
    /// (e.g. `2020-03-12..2020-03-14`).
    #[arg(long, value_name = "START..END")]
    pub window: Option<String>,
    /// HTML file to write (default `<reports-dir>/observed/<dataset name>.html`);
    /// the JSON twin goes next to it. The observed-auctions report goes to
    /// the same name with `-auctions` before the extension.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub render: RenderArgs,
}

#[derive(Debug, Args)]
pub struct PositionsArgs {
    /// Dataset folder holding lending_events (and reserves); the positions
    /// table is written into it (other snapshots in it are kept).
    #[arg(long, value_name = "DIR")]
    pub dataset: PathBuf,
    /// Snapshot: a block number (a plain integer) or a time
    /// (`2020-03-12`, `2020-03-12 10:00`, RFC 3339, UTC).
    #[arg(long, value_name = "TIME|BLOCK")]
    pub at: String,
    /// Only the events of this protocol (aave_v2, aave_v3, compound_v2).
    #[arg(long, value_name = "P")]
    pub protocol: Option<String>,
    /// Also write the reconciliation (rows, events not applied, skipped
    /// protocols) as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Run folder (written by `shortfall replay`).
    #[arg(value_name = "RUN_DIR")]
    pub run: PathBuf,
    /// HTML file to write (default RUN_DIR/report.html); the JSON twin goes
    /// next to it with the extension .json.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub render: RenderArgs,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Baseline run folder (A).
    #[arg(value_name = "RUN_A")]
    pub a: PathBuf,
    /// Run folder to compare with it (B).
    #[arg(value_name = "RUN_B")]
    pub b: PathBuf,
    /// HTML file to write; the JSON twin goes next to it.
    #[arg(long, value_name = "FILE", default_value = "compare.html")]
    pub out: PathBuf,
    #[command(flatten)]
    pub render: RenderArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BadRow {
    Fail,
    Skip,
}

#[derive(Debug, Subcommand)]
pub enum DatasetsCommand {
    /// List the datasets under --data-dir (folders with a manifest.json).
    List,
    /// Show a dataset's tables, series, time ranges and sources.
    Show {
        #[arg(long, value_name = "DIR")]
        dataset: PathBuf,
    },
    /// Describe the canonical tables (all, or one).
    Schema {
        /// Table name (prices, oracle_rounds, events, liquidations, loans, series).
        table: Option<String>,
    },
    /// Recompute the sha256 of every file against the manifest.
    Verify {
        #[arg(long, value_name = "DIR")]
        dataset: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Dataset folder whose tables become views.
    #[arg(long, value_name = "DIR")]
    pub dataset: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = QueryFormat::Table)]
    pub format: QueryFormat,
    /// SQL to run.
    pub sql: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum QueryFormat {
    Table,
    Csv,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Ingest N one-minute kline rows to parquet, then the same file with
    /// DuckDB's `COPY (SELECT ... FROM read_csv(...)) TO ... (FORMAT parquet)`.
    Ingest {
        /// Number of rows to generate.
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        /// Repetitions (the best time is reported).
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
    /// Decode and write N synthetic EVM logs (Aave v2 pool, a cToken and a
    /// Chainlink aggregator; a cryo logs parquet file with a blocks file):
    /// read + decode + order, then the dataset write; logs per second.
    Logs {
        /// Number of logs.
        #[arg(long, default_value_t = 1_000_000)]
        logs: u64,
        /// Repetitions (the best time is reported).
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
    /// Write a synthetic run folder of N positions (2% non-performing, 10%
    /// liquidated, 7 days of hourly series for 20 assets), then time
    /// `shortfall report` on it: read, build, render, write; and the sizes.
    Report {
        /// Number of positions.
        #[arg(long, default_value_t = 1_000_000)]
        positions: usize,
        /// Repetitions (the best time is reported).
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum CrisisCommand {
    /// List the packs under <data-dir>/crises.
    List,
    /// Window, rules in force and their sources, published figures, data and raw files.
    Show {
        #[arg(value_name = "NAME")]
        name: String,
    },
    /// Replay a crisis with its rules and write the run folder and report
    /// (`<reports-dir>/<name>/<run_id>/report.html`); prints the headline
    /// figures next to the published ones.
    Run {
        #[arg(value_name = "NAME")]
        name: String,
        /// Override a setting of the crisis, e.g. `--set policy.maker.ttl_secs=10800`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Run folder to write instead of `<reports-dir>/<name>/<run_id>`.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        #[command(flatten)]
        render: RenderArgs,
    },
    /// Derive a pack's data again from the raw files with Shortfall's own
    /// ingest, following its pack.toml (all packs without NAME).
    Build {
        #[arg(value_name = "NAME")]
        name: Option<String>,
        /// Folder of the raw files (e.g. ../shared/datasets).
        #[arg(long, value_name = "DIR")]
        raw: PathBuf,
        /// Write the packs under this folder instead of in place.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SweepArgs {
    #[command(subcommand)]
    pub command: Option<SweepCommand>,
    /// Crisis pack name or scenario file (repeatable: the grid runs
    /// through each).
    #[arg(long, value_name = "NAME|FILE", required = true)]
    pub scenario: Vec<String>,
    /// Grid file (TOML): the settings to vary as lists, ranges or random
    /// draws (see README).
    #[arg(long, value_name = "FILE", required = true)]
    pub grid: Option<PathBuf>,
    /// Threads (default: all cores); the rows do not depend on it.
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Sweep folder (default `<reports-dir>/sweeps/<sweep_id>`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Run shard I of N (0-based) and write its part file; without it,
    /// JOB_COMPLETION_INDEX (Kubernetes) or SLURM_ARRAY_TASK_ID (Slurm)
    /// gives the index.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Shard count, with an index from JOB_COMPLETION_INDEX or
    /// SLURM_ARRAY_TASK_ID (Slurm's SLURM_ARRAY_TASK_COUNT is read when
    /// absent).
    #[arg(long, value_name = "N")]
    pub shards: Option<u32>,
    /// Replay one variant (`v12-1a2b3c4d`, `v12` or `12`) in full through
    /// each scenario: run folder and report, as `shortfall replay` writes.
    #[arg(long, value_name = "VARIANT")]
    pub explain: Option<String>,
    #[command(flatten)]
    pub render: RenderArgs,
}

#[derive(Debug, Subcommand)]
pub enum SweepCommand {
    /// Merge the part files of a sharded sweep (folders holding
    /// part-*.parquet, or the part files) into sweep.parquet, sweep.json
    /// and the report; byte-identical to the same sweep run unsharded.
    Merge {
        #[arg(required = true, value_name = "PARTS")]
        parts: Vec<PathBuf>,
        /// Folder to write (default: the folder of the first part).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        #[command(flatten)]
        render: RenderArgs,
    },
}
