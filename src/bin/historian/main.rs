//! `historian`: the command-line tool of the historian storage engine (CLI.md).
//!
//! One module per command or concern: [`args`] (clap definitions), [`context`] (data
//! directory, engine, shared flag parsing), [`error`] (exit statuses), and the
//! commands: [`import`], [`query`] (`query`, `last`), [`downsample`], [`admin`] (`flush`, `stats`,
//! `tenants`, `drop-tenant`), [`dataset`] (`dataset`, `pin`), [`verify`], [`bench`] and [`demo`].
//!
//! Exit statuses: 0 success, 2 bad usage or argument, 3 corruption, 1 anything else;
//! errors print one line, `historian: <cause>`, on stderr.
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod args;
mod bench;
mod bench_codecs;
mod bench_query;
mod context;
mod dataset;
mod demo;
mod downsample;
mod error;
mod import;
mod output;
mod query;
mod rng;
mod verify;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{BenchCommand, Cli, Command};
use crate::context::Context;
use crate::error::CliResult;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(
        cli.command,
        Command::Import(_) | Command::Bench(BenchCommand::Ingest(_)) | Command::Demo(_)
    ) {
        return_freed_memory_to_the_os();
    }
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed stdout pipe (`historian query | head`) ends the command quietly.
        Err(e) if e.code == 0 => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("historian: {e}");
            ExitCode::from(e.code)
        }
    }
}

/// glibc keeps freed memtable columns in its heap (its mmap threshold grows
/// with every large free), so a long import's resident memory drifted ~60%
/// above the memtable budget. A fixed threshold returns large blocks to the OS
/// when a flushed memtable is dropped (measured: 345 MB -> 185 MB peak RSS for
/// the 50M-point SKAB import with the 256 MiB budget). Only the commands that
/// fill memtables set it: for queries it made every buffer over 128 KiB an
/// mmap, faulted in and unmapped each time (page faults were ~5% of a
/// downsample).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_freed_memory_to_the_os() {
    // SAFETY: mallopt only changes allocator tuning; it is called before any
    // other thread exists, and M_MMAP_THRESHOLD with 128 KiB is a valid pair.
    #[allow(unsafe_code)]
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 << 10);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_freed_memory_to_the_os() {}

fn run(cli: &Cli) -> CliResult {
    let ctx = Context::new(cli);
    match &cli.command {
        Command::Import(a) => import::run(&ctx, a),
        Command::Query(a) => query::run_query(&ctx, a),
        Command::Downsample(a) => downsample::run_downsample(&ctx, a),
        Command::Last(a) => query::run_last(&ctx, a),
        Command::Flush(a) => admin::run_flush(&ctx, a),
        Command::Stats(a) => admin::run_stats(&ctx, a),
        Command::Lossy(a) => admin::run_lossy(&ctx, a),
        Command::Verify(a) => verify::run_verify(&ctx, a),
        Command::Tenants => admin::run_tenants(&ctx),
        Command::DropTenant(a) => admin::run_drop(&ctx, a),
        Command::Bench(BenchCommand::Ingest(a)) => bench::run_ingest(&ctx, a),
        Command::Bench(BenchCommand::Decode(a)) => bench::run_decode(&ctx, a),
        Command::Bench(BenchCommand::Codecs(a)) => bench_codecs::run(&ctx, a),
        Command::Bench(BenchCommand::Downsample(a)) => bench_query::run_downsample(&ctx, a),
        Command::Bench(BenchCommand::Range(a)) => bench_query::run_range(&ctx, a),
        Command::Bench(BenchCommand::Last(a)) => bench_query::run_last(&ctx, a),
        Command::Dataset(a) => dataset::run_dataset(&ctx, a),
        Command::Pin(a) => dataset::run_pin(&ctx, a),
        Command::Demo(a) => demo::run(&ctx, a),
    }
}
