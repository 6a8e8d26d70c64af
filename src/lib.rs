//! historian: an embedded, columnar time-series storage engine for
//! smart-factory sensor data.
//!
//! Write path: [`Tenant::write`] → `wal/` (crc-framed record, group commit)
//! → `memtable/` → flush → `segment/` files named by the tenant's `manifest/`.
//! Read path: [`Tenant::scan`] takes a snapshot of memtables and segments and
//! merges them with last-write-wins (`query/`). See ARCHITECTURE.md.
//!
//! ```no_run
//! use historian::{Engine, Options, SeriesKey, Selector, Value, WriteBatch};
//! let engine = Engine::open("data", Options::default())?;
//! let plant = engine.tenant("acme")?;
//! let key = SeriesKey::new("temperature", [("machine", "press-07")])?;
//! let mut batch = WriteBatch::new();
//! batch.push_value(&key, 1_600_000_000_000_000_000, Value::F64(21.5))?;
//! plant.write(&batch)?;
//! for series in plant.scan(&Selector::parse("temperature")?, i64::MIN, i64::MAX) {
//!     let series = series?;
//!     println!("{} has {} points", series.key, series.cols.len());
//! }
//! # Ok::<(), historian::Error>(())
//! ```
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod bytes;
pub mod catalog;
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

pub use catalog::Selector;
pub use engine::{Engine, Options, RecoveryReport, Tenant, TenantStats, WriteReceipt};
pub use error::{CorruptionKind, Error, Result};
pub use model::{Columns, Limits, Point, SeriesKey, Value, ValueType, WriteBatch};
pub use query::SeriesData;
pub use wal::Durability;
