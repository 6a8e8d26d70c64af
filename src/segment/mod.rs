//! Segment files: immutable, columnar, checksummed, memory-mapped.
//!
//! `format.rs` holds the byte layout, `block.rs` one block's encoding,
//! `writer.rs` builds a file from a frozen memtable, `reader.rs` opens and
//! reads one. docs/FORMAT.md is the specification of every byte.

mod block;
mod format;
mod reader;
mod writer;

pub use format::{
    parse_segment_file_name, segment_file_name, BlockMeta, BlockStats, MAX_BLOCK_POINTS,
};
pub use reader::{Segment, SegmentSeries};
pub use writer::{encode_segment, write_segment, SeriesToWrite, WrittenSegment};
