//! historian: an embedded, columnar time-series storage engine for
//! smart-factory sensor data.
//!
//! Write path: [`Tenant::write`] → `wal/` (crc-framed record, group commit)
//! → `memtable/` → flush → `segment/` files named by the tenant's `manifest/`.
//! Read path: [`Tenant::scan`], [`Tenant::downsample`] and [`Tenant::latest`]
//! read a snapshot of memtables and segments merged with last-write-wins
//! (`query/`). See ARCHITECTURE.md.
//!
//! ```no_run
//! use historian::{Engine, Options, Selector, SeriesKey, Value, WriteBatch};
//!
//! let engine = Engine::open("plant-data", Options::default())?; // Sync durability
//! let acme = engine.tenant("acme")?; // one manufacturer
//! let key = SeriesKey::new("temperature", [("line", "L1"), ("machine", "press-07")])?;
//!
//! let mut batch = WriteBatch::new();
//! batch.push_value(&key, 1_583_748_873_000_000_000, Value::F64(71.25))?;
//! acme.write(&batch)?; // returns once the batch is fdatasync'ed
//!
//! let sel = Selector::parse(r#"temperature{machine=~"press-.*"}"#)?;
//! for series in acme.scan(&sel, i64::MIN, i64::MAX) {
//!     // [from, to) in ns
//!     let series = series?;
//!     for p in series.points() {
//!         println!("{} {} {}", series.key, p.ts, p.value);
//!     }
//! }
//! // One-minute means and maxima per machine, gaps up to 5 min filled linearly.
//! use historian::query::{Agg, DownsampleRequest, Fill};
//! let req = DownsampleRequest::new(sel.clone(), 60_000_000_000, &[Agg::Mean, Agg::Max])
//!     .with_by(["machine"])
//!     .with_fill(Fill::Linear)
//!     .with_max_gap(Some(300_000_000_000));
//! for batch in acme.downsample(&req)?.record_batches() {
//!     let batch = batch?; // arrow RecordBatch, at most 8,192 rows
//!     # let _ = batch;
//! }
//! let latest = acme.last(&sel)?; // latest point per series
//! engine.flush()?; // memtables → segment files, WAL trimmed
//! # let _ = latest;
//! # Ok::<(), historian::Error>(())
//! ```
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod bytes;
pub mod catalog;
pub mod codec;
pub mod dataset;
pub mod engine;
pub mod error;
pub mod manifest;
pub mod memtable;
pub mod model;
pub mod query;
pub mod segment;
pub mod text;
pub mod verify;
pub mod vfs;
pub mod wal;

#[cfg(test)]
mod test_rng;

pub use catalog::Selector;
pub use engine::{Engine, Options, RecoveryReport, Tenant, TenantStats, WriteReceipt};
pub use error::{CorruptionKind, Error, Result};
pub use model::{Columns, Limits, Point, SeriesKey, Value, ValueType, WriteBatch};
pub use query::SeriesData;
pub use wal::Durability;
