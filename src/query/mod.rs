//! Reads: snapshots of a tenant, raw range scans merged with last-write-wins,
//! latest points, downsampling with fill and grouping, and Arrow output.
//! See the module docs of `downsample.rs` for the query semantics.

mod arrow;
mod decode_all;
mod downsample;
mod fill;
mod group;
pub mod kernels;
mod last;
mod parallel;
mod partial;
mod plan;
mod range;
mod request;
mod scan;
mod snapshot;
mod source;
mod window;

pub use self::arrow::{
    downsample_schema, series_to_record_batch, value_schema, window_rows_to_record_batch,
    DownsampleBatches,
};
pub use decode_all::DecodeTotals;
pub use downsample::{AggColumn, Downsample, WindowRows};
pub use group::GroupLabel;
pub use last::LastPoint;
pub(crate) use last::LatestCache;
pub use range::TimeRange;
pub use request::{Agg, DownsampleRequest, Fill, QueryError};
pub use scan::{ScanIter, ScannedSeries, SeriesData, SeriesReader};
pub use snapshot::Snapshot;
pub use source::ReadStats;
