//! The write-ahead log: one per engine, shared by every tenant.
//!
//! Files `wal/<index:020>.wal` hold a header and crc-framed records, one per
//! write batch, each naming its tenant inside its checksum. See `writer.rs` for
//! group commit and rotation, `replay.rs` for recovery, and docs/FORMAT.md for
//! the bytes.

mod file_header;
mod record;
mod replay;
mod writer;

pub use file_header::{
    decode_header as decode_header_for_verify, parse_wal_file_name, wal_file_name, WAL_HEADER_LEN,
};
pub use record::{
    decode_frame, decode_frame_view, EncodedRecord, RecordView, SeriesView, WalRecord,
    MAX_PAYLOAD_LEN,
};
pub use replay::{replay, ReplayOutcome, TornTail};
pub use writer::{WalFileInfo, WalWriter};

use std::time::Duration;

/// When a write is acknowledged (RELIABILITY.md §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Durability {
    /// After the WAL bytes are `fdatasync`ed; concurrent writers share one sync.
    #[default]
    Sync,
    /// After the WAL bytes are handed to the OS; a background thread syncs every
    /// interval. A process crash loses nothing; power loss loses at most the
    /// last interval, always as a suffix.
    Periodic(Duration),
    /// After the WAL bytes are handed to the OS; never synced except on flush,
    /// rotation and close.
    None,
}
