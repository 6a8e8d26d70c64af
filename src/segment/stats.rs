//! Block statistics kept in the segment index: summaries of a block's values
//! (min and max as raw bits of the series' type, sum as f64) so queries can prune and aggregate without decoding.
//! `min`/`max` ignore NaN unless every value is NaN.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use super::format::BlockStats;
use crate::model::{Columns, ValueType};

/// Computes a block's statistics.
pub fn block_stats(value_type: ValueType, cols: &Columns) -> BlockStats {
    let (min, max, sum) = match value_type {
        ValueType::F64 => f64_min_max_sum(&cols.values),
        ValueType::I64 => {
            let it = cols.values.iter().map(|&b| b as i64);
            let min = it.clone().min().unwrap_or(0);
            let max = it.clone().max().unwrap_or(0);
            (min as u64, max as u64, it.map(|v| v as f64).sum())
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

fn f64_min_max_sum(bits: &[u64]) -> (u64, u64, f64) {
    let mut min = f64::NAN;
    let mut max = f64::NAN;
    let mut sum = 0.0;
    for &b in bits {
        let v = f64::from_bits(b);
        sum += v;
        if v.is_nan() {
            continue;
        }
        if min.is_nan() || v < min {
            min = v;
        }
        if max.is_nan() || v > max {
            max = v;
        }
    }
    (min.to_bits(), max.to_bits(), sum)
}
