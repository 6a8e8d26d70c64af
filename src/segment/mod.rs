//! Segment files: immutable, columnar, checksummed, memory-mapped.
//!
//! `format.rs` holds the file layout (header, footer), `block.rs` one v2
//! block, `index.rs` the v2 index, `stats.rs` block statistics, `v1.rs` the
//! read-only v1 format, `writer.rs` builds a file from a frozen memtable,
//! `reader.rs` opens and reads one. docs/FORMAT.md is the specification of
//! every byte.

mod block;
mod block_buf;
mod format;
mod index;
mod reader;
mod stats;
mod v1;
mod writer;

#[cfg(test)]
mod tests;

pub use block::BlockBreakdown;
pub use block_buf::BlockBuf;
pub use format::{
    parse_segment_file_name, segment_file_name, BlockMeta, BlockStats, LANE_STATS_VERSION,
    MAX_BLOCK_POINTS, SEGMENT_VERSION,
};
pub use reader::{Segment, SegmentSeries};
pub use writer::{encode_segment, write_segment, SeriesToWrite, WrittenSegment};
