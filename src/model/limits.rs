//! Configured limits. Every limit is checked at the engine's edge with an
//! [`Error::LimitExceeded`](crate::Error::LimitExceeded) at limit + 1, so no
//! input can grow memory without bound.

/// Limits on what one write or one tenant may hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Series per tenant (InfluxDB's default cap is 1,000,000 per database).
    pub max_series_per_tenant: usize,
    /// Tags per series.
    pub max_tags_per_series: usize,
    /// Bytes of a measurement name or a tag key.
    pub max_name_len: usize,
    /// Bytes of a tag value.
    pub max_tag_value_len: usize,
    /// Points in one write batch.
    pub max_batch_points: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_series_per_tenant: 1_000_000,
            max_tags_per_series: 32,
            max_name_len: 256,
            max_tag_value_len: 1024,
            max_batch_points: 10_000_000,
        }
    }
}
