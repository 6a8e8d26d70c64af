//! Command-line arguments (clap derive), as fixed by the CLI contract (CLI.md): global
//! flags and one struct per command. Only parsing lives here; the commands do the work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// historian: an embedded time-series storage engine for smart-factory sensor data.
#[derive(Debug, Parser)]
#[command(name = "historian", version, about, max_term_width = 100)]
pub struct Cli {
    /// Data directory [default: $HISTORIAN_DATA_DIR, else ./historian-data]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// When a write is acknowledged: after fdatasync (sync), after a background sync
    /// every 100 ms (periodic), or when the OS has the bytes (none)
    #[arg(long, global = true, value_enum, default_value_t = DurabilityArg::Sync)]
    pub durability: DurabilityArg,

    #[command(subcommand)]
    pub command: Command,
}

/// The `--durability` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DurabilityArg {
    Sync,
    Periodic,
    None,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import CSV or InfluxDB line-protocol files into a tenant
    Import(ImportArgs),
    /// Print raw points of the selected series, sorted by series then time
    Query(QueryArgs),
    /// Aggregate the selected series into fixed time windows
    #[command(long_about = DOWNSAMPLE_ABOUT)]
    Downsample(DownsampleArgs),
    /// Print the latest point of each selected series
    Last(LastArgs),
    /// Persist memtables to segments and trim the write-ahead log
    Flush(TenantReport),
    /// Sizes and counts per tenant
    Stats(StatsArgs),
    /// Show or set lossy compression (deadband, swinging door) per series
    Lossy(LossyArgs),
    /// Read every file and check every checksum (exit 3 on corruption)
    Verify(TenantReport),
    /// List tenants, one per line
    Tenants,
    /// Delete a tenant and all its data
    DropTenant(DropTenantArgs),
    /// Cut an AI training set (spec in TOML) or verify one against its manifest
    #[command(long_about = DATASET_ABOUT)]
    Dataset(DatasetArgs),
    /// Pin a tenant's current version under a name, list pins, or release one
    #[command(long_about = PIN_ABOUT)]
    Pin(PinArgs),
    /// Fixed, seeded workloads that report points/s and bytes/point
    #[command(subcommand)]
    Bench(BenchCommand),
    /// A self-contained tour on synthetic factory data
    Demo(DemoArgs),
}

/// Input formats of `import`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// Comma-, semicolon- or tab-separated values with a header row
    Csv,
    /// InfluxDB line protocol
    Lp,
}

/// `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Tenant to write to (created if missing)
    #[arg(long)]
    pub tenant: String,
    /// Input format [default: lp for *.lp files, else csv]
    #[arg(long, value_enum)]
    pub format: Option<InputFormat>,
    /// CSV delimiter (one character, or `tab`) [default: detected from the header]
    #[arg(long, value_name = "C")]
    pub delimiter: Option<String>,
    /// CSV time column [default: the first column]
    #[arg(long, value_name = "NAME")]
    pub time_column: Option<String>,
    /// auto, rfc3339, epoch_s, epoch_ms, epoch_us, epoch_ns or a strftime pattern
    #[arg(long, default_value = "auto", value_name = "FORMAT")]
    pub time_format: String,
    /// Fixed UTC offset of timestamps written without one (UTC, +02:00, -0530)
    #[arg(long, default_value = "UTC", value_name = "TZ")]
    pub timezone: String,
    /// Tag added to every imported series (repeatable)
    #[arg(long = "tag", value_name = "K=V")]
    pub tags: Vec<String>,
    /// CSV columns not to import, comma-separated
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    pub skip_columns: Vec<String>,
    /// Points per write batch (one atomic, durable write each)
    #[arg(long, default_value_t = 100_000, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_points: u64,
    /// Print `ack <cumulative_points>` on stdout after each batch is acknowledged
    #[arg(long)]
    pub ack_lines: bool,
    /// Print the report as one JSON object
    #[arg(long)]
    pub json: bool,
    /// Files to import
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// Output formats of `query` and `last`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Csv,
    Jsonl,
    Parquet,
    Arrow,
}

/// Output flags shared by `query` and `last`.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format (parquet and arrow need --out)
    #[arg(long, value_enum, default_value_t = OutputFormat::Csv)]
    pub format: OutputFormat,
    /// Write to this file instead of stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print timestamps as integer nanoseconds since the epoch
    #[arg(long)]
    pub epoch: bool,
}

/// `query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    #[arg(long)]
    pub tenant: String,
    /// Series selector: `temperature{machine="press-07"}`, `{__name__="x"}` or `*`
    #[arg(long, value_name = "SEL")]
    pub select: String,
    /// Start of the range, inclusive (RFC 3339, `YYYY-MM-DD HH:MM:SS` UTC, or ns)
    #[arg(long, value_name = "T0", allow_hyphen_values = true)]
    pub from: Option<String>,
    /// End of the range, exclusive
    #[arg(long, value_name = "T1", allow_hyphen_values = true)]
    pub to: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

const DOWNSAMPLE_ABOUT: &str = "\
Aggregate the selected series into windows [origin + k*every, origin + (k+1)*every) \
over [--from, --to). One row per series (or per --by group) and non-empty window, \
sorted by series key (or group) then window start; columns `series,window_start,` then \
the aggregates in the order given. Aggregates: count, sum, mean, min, max, first, last, \
stddev (sample, n-1; empty below two points) and twa (time-weighted mean, each value \
holding until the next point). With --by TAG,... the series column is replaced by \
`measurement` and one column per tag, and each group aggregates every point of its \
series in the window. --fill other than none emits every window between a series' first \
and last non-empty window, filling empty ones (count 0) unless the gap between the \
non-empty windows around them exceeds --max-gap.";

/// `downsample`.
#[derive(Debug, Args)]
pub struct DownsampleArgs {
    #[arg(long)]
    pub tenant: String,
    /// Series selector, as for `query`
    #[arg(long, value_name = "SEL")]
    pub select: String,
    /// Window length (`500ms`, `10s`, `1m`, `1h`, `1d` or integer ns)
    #[arg(long, value_name = "DUR")]
    pub every: String,
    /// Aggregates, comma-separated: count,sum,mean,min,max,first,last,stddev,twa
    #[arg(long, value_name = "LIST")]
    pub agg: String,
    /// Start of the range, inclusive
    #[arg(long, value_name = "T0", allow_hyphen_values = true)]
    pub from: Option<String>,
    /// End of the range, exclusive
    #[arg(long, value_name = "T1", allow_hyphen_values = true)]
    pub to: Option<String>,
    /// Window alignment [default: the epoch]
    #[arg(long, value_name = "T", allow_hyphen_values = true)]
    pub origin: Option<String>,
    /// Group series by these tags (and their measurement), comma-separated
    #[arg(long, value_delimiter = ',', value_name = "TAG,...")]
    pub by: Vec<String>,
    /// Empty windows: none (omitted), null, previous, linear or a number
    #[arg(
        long,
        default_value = "none",
        value_name = "FILL",
        allow_hyphen_values = true
    )]
    pub fill: String,
    /// Longest gap between non-empty windows that is filled [default: unlimited]
    #[arg(long, value_name = "DUR")]
    pub max_gap: Option<String>,
    /// Worker threads (0 = one per core)
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=1024))]
    pub threads: u64,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `last`.
#[derive(Debug, Args)]
pub struct LastArgs {
    #[arg(long)]
    pub tenant: String,
    /// Series selector, as for `query`
    #[arg(long, value_name = "SEL")]
    pub select: String,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `flush`, `stats` and `verify`: an optional tenant and `--json`.
#[derive(Debug, Args)]
pub struct TenantReport {
    /// Only this tenant [default: all]
    #[arg(long)]
    pub tenant: Option<String>,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

/// `stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Only this tenant [default: all]
    #[arg(long)]
    pub tenant: Option<String>,
    /// Also list every series with its bytes per point
    #[arg(long)]
    pub series: bool,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

/// `lossy`: without --set or --clear, lists the tenant's rules.
#[derive(Debug, Args)]
pub struct LossyArgs {
    /// The tenant
    #[arg(long)]
    pub tenant: String,
    /// The series a rule covers (selector syntax, as in query)
    #[arg(long, value_name = "SEL")]
    pub select: Option<String>,
    /// `deadband:BOUND` or `swinging-door:BOUND` (absolute error bound in the
    /// series' unit), applied to points flushed from now on
    #[arg(long, value_name = "SPEC", conflicts_with = "clear")]
    pub set: Option<String>,
    /// Remove the rule of --select (points already stored stay as they are)
    #[arg(long)]
    pub clear: bool,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

const DATASET_ABOUT: &str = "\
Cut an AI training set: the channels of a TOML spec resampled onto one time grid,
cut into windows, labelled, split by time with an embargo and normalised with
training statistics only, written as .npy tensors and/or Parquet / Arrow IPC with
a manifest.json that records the spec, the snapshot and a sha256 of every file.
The spec format is documented in docs/DATASETS.md.

  historian dataset --tenant acme --spec pump.toml --out sets/pump-2026-12
  historian dataset --tenant acme --spec pump.toml --out sets/again --pin cut-dec
  historian dataset --verify sets/pump-2026-12

With --pin the set is cut from that pinned snapshot (`historian pin`): rebuilt
later, after any new, late or overwriting writes, it is byte-identical.
The output directory must be absent or empty. Exit 2 for a bad spec or flag
(before any data is read), 3 when --verify finds a damaged or missing file.";

/// `dataset`.
#[derive(Debug, Args)]
pub struct DatasetArgs {
    /// Tenant to read
    #[arg(long, required_unless_present = "verify")]
    pub tenant: Option<String>,
    /// The dataset spec (TOML)
    #[arg(long, value_name = "FILE", required_unless_present = "verify")]
    pub spec: Option<PathBuf>,
    /// Output directory (absent or empty)
    #[arg(long, value_name = "DIR", required_unless_present = "verify")]
    pub out: Option<PathBuf>,
    /// Cut from this pinned snapshot instead of the current data
    #[arg(long, value_name = "NAME", conflicts_with = "verify")]
    pub pin: Option<String>,
    /// Do not sync the files: faster, but a crash may leave a set that
    /// --verify rejects (rebuild it; with --pin, byte-identically)
    #[arg(long, conflicts_with = "verify")]
    pub no_sync: bool,
    /// Re-check the files of the dataset in DIR against its manifest
    #[arg(long, value_name = "DIR", conflicts_with_all = ["tenant", "spec", "out"])]
    pub verify: Option<PathBuf>,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

const PIN_ABOUT: &str = "\
Pin a tenant's current version under a name, so that training sets cut from it
(`historian dataset --pin NAME`) can be rebuilt byte-identically later. Pinning
flushes the tenant's memtables; the pin is durable and lasts until released.

  historian pin --tenant acme cut-dec        # pin (prints its sequence number)
  historian pin --tenant acme                # list pins
  historian pin --tenant acme --release cut-dec";

/// `pin`.
#[derive(Debug, Args)]
pub struct PinArgs {
    /// The tenant
    #[arg(long)]
    pub tenant: String,
    /// Name of the pin to create (omit to list the pins)
    #[arg(value_name = "NAME", conflicts_with = "release")]
    pub name: Option<String>,
    /// Release this pin
    #[arg(long, value_name = "NAME")]
    pub release: Option<String>,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// `drop-tenant`.
#[derive(Debug, Args)]
pub struct DropTenantArgs {
    /// The tenant to delete
    pub tenant: String,
    /// Confirm the deletion (required)
    #[arg(long)]
    pub yes: bool,
}

/// `bench` workloads.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Write a seeded synthetic workload into a fresh temporary directory
    #[command(long_about = BENCH_INGEST_ABOUT)]
    Ingest(BenchIngestArgs),
    /// Decode every stored point of a tenant on one thread and report points/s
    #[command(long_about = BENCH_DECODE_ABOUT)]
    Decode(BenchDecodeArgs),
    /// Encode and decode a tenant's points with every codec: ratio and speed
    Codecs(BenchCodecsArgs),
    /// Time a downsample of a tenant (default: 1m mean,min,max,count, 1 thread)
    #[command(long_about = BENCH_DOWNSAMPLE_ABOUT)]
    Downsample(BenchDownsampleArgs),
    /// Time seeded range queries, each over a fraction of one series' span
    #[command(long_about = BENCH_RANGE_ABOUT)]
    Range(BenchRangeArgs),
    /// Time `last` (the latest point of every selected series)
    Last(BenchLastArgs),
}

const BENCH_DOWNSAMPLE_ABOUT: &str = "\
Open the data directory and run one downsample of a tenant --repeat times after one \
untimed warm-up, consuming every output row. Points are the source points in the \
windows (the sum of the count aggregate, computed in the warm-up). Reports best and \
median seconds and points/s, blocks decoded and answered from statistics, and sums \
of the count, mean, min and max cells (for cross-checks with other engines). \
Nothing is written.";

const BENCH_RANGE_ABOUT: &str = "\
Open the data directory and run --queries range queries, each returning every point \
of one series (picked at random, seeded) in a range of --fraction of that series' \
span starting at a random time; the points are read into one reused buffer. Reports \
best, median, p99 and mean microseconds per query (selector lookup included). The \
series' spans are found by one untimed scan first.";

/// `bench downsample`.
#[derive(Debug, Args)]
pub struct BenchDownsampleArgs {
    #[arg(long)]
    pub tenant: String,
    /// Series selector
    #[arg(long, default_value = "*", value_name = "SEL")]
    pub select: String,
    /// Window length
    #[arg(long, default_value = "1m", value_name = "DUR")]
    pub every: String,
    /// Aggregates, comma-separated
    #[arg(long, default_value = "mean,min,max,count", value_name = "LIST")]
    pub agg: String,
    /// Worker threads (0 = one per core)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=1024))]
    pub threads: u64,
    /// Timed runs (after one untimed warm-up)
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub repeat: u64,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

/// `bench range`.
#[derive(Debug, Args)]
pub struct BenchRangeArgs {
    #[arg(long)]
    pub tenant: String,
    /// Series selector (queries pick among these series)
    #[arg(long, default_value = "*", value_name = "SEL")]
    pub select: String,
    /// Share of a series' span each query covers
    #[arg(long, default_value_t = 0.01)]
    pub fraction: f64,
    /// Number of timed queries
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub queries: u64,
    /// Seed of the series and start choices
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

/// `bench last`.
#[derive(Debug, Args)]
pub struct BenchLastArgs {
    #[arg(long)]
    pub tenant: String,
    /// Series selector
    #[arg(long, default_value = "*", value_name = "SEL")]
    pub select: String,
    /// Timed runs
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub repeat: u64,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

const BENCH_DECODE_ABOUT: &str = "\
Open the data directory and decode every timestamp and every value of every segment \
block of a tenant (Tenant::decode_all), summing them so nothing is skipped, --repeat \
times on one thread. Reports the best and median points/s and the totals (points, \
blocks, wrapping sum of timestamps, sum of f64 values, wrapping sum of integer and \
bool values); the totals depend only on the stored points, so two builds can be \
checked against each other. Memtables are not decoded: run `historian flush` first. \
Nothing is written.";

const BENCH_INGEST_ABOUT: &str = "\
Write a fixed, seeded synthetic workload (random-walk sensor values with two decimals, \
1 Hz timestamps) into a fresh temporary directory, then flush, and report points/s \
and bytes/point. The batches are built before the clock starts, so only the engine is \
measured. Series are split evenly between the writer threads. The global --durability \
flag applies (default sync: every batch waits for fdatasync, shared by group commit).\n\n\
--batch defaults to 100,000 points with one thread; with several threads each thread \
sends batches of 10,000 points (so `--threads 8` models many concurrent writers).";

/// `bench ingest`.
#[derive(Debug, Args)]
pub struct BenchIngestArgs {
    /// Total points to write
    #[arg(long, default_value_t = 20_000_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub points: u64,
    /// Number of series
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub series: u64,
    /// Points per batch [default: 100000 with one thread, 10000 with several]
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch: Option<u64>,
    /// Concurrent writer threads
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub threads: u64,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

/// `bench decode`.
#[derive(Debug, Args)]
pub struct BenchDecodeArgs {
    /// Tenant whose segments are decoded
    #[arg(long)]
    pub tenant: String,
    /// Timed full decodes (one untimed warm-up decode runs first)
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub repeat: u64,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

/// `bench codecs`.
#[derive(Debug, Args)]
pub struct BenchCodecsArgs {
    /// Tenant whose points (segments and memtables) are the dataset
    #[arg(long)]
    pub tenant: String,
    /// Timed runs per codec (the best is reported)
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub repeat: u64,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

/// `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Machines (presses, ovens and pumps, four sensors each)
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub machines: u64,
    /// Hours of 1 Hz data per sensor
    #[arg(long, default_value_t = 2.0)]
    pub hours: f64,
}
