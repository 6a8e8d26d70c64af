//! Block statistics kept in the segment index: summaries of a block's values
//! (min and max as raw bits of the series' type, sum as f64) so queries can
//! prune and aggregate without decoding.
//!
//! Invariants:
//! 1. `min`/`max` ignore NaN unless every value is NaN; among equal zeros
//!    `min` is -0.0 and `max` +0.0 (format v3; v1/v2 files kept the first
//!    zero seen).
//! 2. Every statistic is computed by the query kernels (`query/kernels.rs`),
//!    so a query answered from statistics equals the one computed on the
//!    decoded block bit for bit (format v3; v1/v2 files summed in order,
//!    see [`super::format::LANE_STATS_VERSION`]).
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::format::BlockStats;
use crate::model::{Columns, ValueType};
use crate::query::kernels;

/// Computes a block's statistics.
pub fn block_stats(value_type: ValueType, cols: &Columns) -> BlockStats {
    let (min, max, sum) = match value_type {
        ValueType::F64 => {
            let (min, max) = kernels::min_max_f64(&cols.values);
            (min, max, kernels::sum_f64(&cols.values))
        }
        ValueType::I64 => {
            let (min, max) = match cols.values.is_empty() {
                true => (0, 0),
                false => kernels::min_max_int(&cols.values),
            };
            (min as u64, max as u64, kernels::sum_int(&cols.values))
        }
        ValueType::Bool => {
            let ones = cols.values.iter().filter(|&&b| b != 0).count();
            let min = u64::from(ones == cols.len());
            let max = u64::from(ones > 0);
            (min, max, ones as f64)
        }
    };
    BlockStats { min, max, sum }
}
