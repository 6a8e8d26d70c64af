//! The import pipeline: a parser thread fills [`WriteBatch`]es through a [`BatchOut`]
//! while the calling thread writes full batches to the tenant, so parsing and the
//! engine's write (WAL append, fdatasync, memtable insert) overlap on two cores.
//!
//! Invariants:
//! 1. Rows never straddle batches: a batch is sent only after a complete row, so the
//!    points committed are always those of a prefix of the input rows.
//! 2. Batches are written in the order they were filled, each with one `Tenant::write`;
//!    `ack <points>` is printed only after that write returned (durable in sync mode).
//! 3. Batches are recycled (`clear()` keeps their allocations); at most two batches are
//!    in flight, so memory stays bounded by about three batches.
//! 4. When the writer fails it drops its receiver; the parser's next send fails and the
//!    parser stops, so neither thread waits forever.

use std::io::Write;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};

use historian::{Tenant, WriteBatch};
use indicatif::ProgressBar;

use crate::error::{output_error, CliError, CliResult};

/// A batch on its way to the writer.
pub struct Full {
    batch: WriteBatch,
    rows: u64,
    /// Input bytes consumed so far, over all files (for the progress bar).
    bytes: u64,
}

/// The parser's end: where rows go.
pub struct BatchOut {
    tx: SyncSender<Full>,
    recycle: Receiver<WriteBatch>,
    batch: WriteBatch,
    limit: usize,
    rows: u64,
}

/// The writer's end.
pub struct BatchIn {
    rx: Receiver<Full>,
    recycle: Sender<WriteBatch>,
}

/// What the writer committed.
#[derive(Debug, Default, Clone, Copy)]
pub struct Committed {
    pub rows: u64,
    pub points: u64,
}

/// A connected pair; `limit` is the points per batch.
pub fn pipeline(limit: usize) -> (BatchOut, BatchIn) {
    let (tx, rx) = sync_channel(1);
    let (recycle_tx, recycle_rx) = channel();
    let out = BatchOut {
        tx,
        recycle: recycle_rx,
        batch: WriteBatch::new(),
        limit,
        rows: 0,
    };
    let input = BatchIn {
        rx,
        recycle: recycle_tx,
    };
    (out, input)
}

impl BatchOut {
    /// The batch being filled.
    pub fn batch(&mut self) -> &mut WriteBatch {
        &mut self.batch
    }

    /// Ends a row; sends the batch when it holds `limit` points or more. Returns
    /// true when a new, empty batch begins (slots of the old one are invalid).
    pub fn end_row(&mut self, bytes: u64) -> CliResult<bool> {
        self.rows += 1;
        if self.batch.len() < self.limit {
            return Ok(false);
        }
        self.send(bytes)?;
        Ok(true)
    }

    /// Sends the batch (if it holds any row) and starts a new one.
    pub fn send(&mut self, bytes: u64) -> CliResult {
        if self.rows == 0 {
            return Ok(());
        }
        let next = self.recycle.try_recv().unwrap_or_default();
        let batch = std::mem::replace(&mut self.batch, next);
        let rows = std::mem::take(&mut self.rows);
        self.tx
            .send(Full { batch, rows, bytes })
            .map_err(|_| CliError::failure("the writer stopped"))
    }
}

impl BatchIn {
    /// Writes every batch until the parser hangs up; prints `ack <points>` after each
    /// one when `ack` is set.
    pub fn write_all(
        self,
        tenant: &Tenant,
        ack: bool,
        progress: &ProgressBar,
        committed: &mut Committed,
    ) -> CliResult {
        let stdout = std::io::stdout();
        for mut full in self.rx {
            tenant.write(&full.batch)?;
            committed.points += full.batch.len() as u64;
            committed.rows += full.rows;
            if ack {
                progress
                    .suspend(|| {
                        let mut out = stdout.lock();
                        writeln!(out, "ack {}", committed.points).and_then(|()| out.flush())
                    })
                    .map_err(|e| output_error("stdout", e))?;
            }
            progress.set_position(full.bytes);
            full.batch.clear();
            // The parser may be gone already; the batch is then simply dropped.
            let _ = self.recycle.send(full.batch);
        }
        Ok(())
    }
}
