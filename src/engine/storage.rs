//! Where a tenant's segment bytes go: per series bytes per point, and the
//! codec mix (which codec encoded how many blocks and bytes, per column role).
//! Read from block headers only; values are not decoded.
//!
//! Invariant: `ts_bytes + value_bytes + quality_bytes + block_overhead_bytes`
//! is the sum of every block's length, and adding `file_overhead_bytes`
//! (file header, index, footer) gives the segments' total size.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::engine::Tenant;
use crate::error::Result;
use crate::model::ValueType;

/// Stored size of one series, over every live segment.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesStorage {
    pub key: String,
    pub value_type: ValueType,
    /// The lossy setting of its newest segment entry, as `kind:bound`.
    pub lossy: Option<String>,
    pub points: u64,
    pub blocks: u64,
    /// Bytes of its blocks (shared timestamps count for the block that holds them).
    pub bytes: u64,
}

impl SeriesStorage {
    /// `bytes / points`.
    pub fn bytes_per_point(&self) -> f64 {
        if self.points == 0 {
            0.0
        } else {
            self.bytes as f64 / self.points as f64
        }
    }
}

/// Use of one codec in one role.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CodecUse {
    /// `timestamps`, `values` or `qualities`.
    pub role: &'static str,
    pub codec: &'static str,
    pub blocks: u64,
    pub points: u64,
    pub bytes: u64,
}

/// The storage breakdown of a tenant's segments.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StorageReport {
    pub series: Vec<SeriesStorage>,
    pub codecs: Vec<CodecUse>,
    pub ts_bytes: u64,
    /// Blocks whose timestamps are another block's section.
    pub shared_ts_blocks: u64,
    pub value_bytes: u64,
    pub quality_bytes: u64,
    pub block_overhead_bytes: u64,
    pub file_overhead_bytes: u64,
    /// Blocks of format v1 files (no codec breakdown).
    pub v1_blocks: u64,
}

impl Tenant {
    /// Reads every block header of every live segment.
    pub fn storage_report(&self) -> Result<StorageReport> {
        let segments = Arc::clone(&self.inner.read().segments);
        let mut r = StorageReport::default();
        let mut series: BTreeMap<String, SeriesStorage> = BTreeMap::new();
        let mut codecs: BTreeMap<(&'static str, &'static str), CodecUse> = BTreeMap::new();
        let mut add = |role: &'static str, codec: &'static str, points: u64, bytes: u64| {
            let u = codecs.entry((role, codec)).or_default();
            u.role = role;
            u.codec = codec;
            u.blocks += 1;
            u.points += points;
            u.bytes += bytes;
        };
        for seg in segments.iter() {
            let mut block_bytes = 0;
            for ss in seg.series() {
                let key = ss.key.to_string();
                let e = series.entry(key.clone()).or_insert_with(|| SeriesStorage {
                    key,
                    value_type: ss.value_type,
                    lossy: None,
                    points: 0,
                    blocks: 0,
                    bytes: 0,
                });
                e.lossy = ss.lossy.map(|l| l.to_string());
                for b in &ss.blocks {
                    let points = u64::from(b.count);
                    e.points += points;
                    e.blocks += 1;
                    e.bytes += u64::from(b.len);
                    block_bytes += u64::from(b.len);
                    let Some(bd) = seg.block_breakdown(ss, b)? else {
                        r.v1_blocks += 1;
                        continue;
                    };
                    let ts_name = if bd.ts_shared {
                        "shared"
                    } else {
                        bd.ts_codec.name()
                    };
                    add("timestamps", ts_name, points, bd.ts_bytes);
                    add("values", bd.value_codec.name(), points, bd.value_bytes);
                    if let Some(q) = bd.quality_codec {
                        add("qualities", q.name(), points, bd.quality_bytes);
                    }
                    r.ts_bytes += bd.ts_bytes;
                    r.shared_ts_blocks += u64::from(bd.ts_shared);
                    r.value_bytes += bd.value_bytes;
                    r.quality_bytes += bd.quality_bytes;
                    r.block_overhead_bytes += bd.overhead_bytes;
                }
            }
            r.file_overhead_bytes += seg.file_len().saturating_sub(block_bytes);
        }
        r.series = series.into_values().collect();
        r.codecs = codecs.into_values().collect();
        Ok(r)
    }
}
