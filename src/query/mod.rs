//! Reads: snapshots of a tenant, raw range scans merged with last-write-wins,
//! latest points, and Arrow output.

mod arrow;
mod decode_all;
mod scan;

pub use self::arrow::{series_to_record_batch, value_schema};
pub use decode_all::DecodeTotals;
pub use scan::{ScanIter, SeriesData};
