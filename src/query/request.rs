//! What a downsample asks for: [`DownsampleRequest`], its aggregates
//! ([`Agg`]) and fill ([`Fill`]), and the typed errors of bad requests
//! ([`QueryError`]).
//!
//! Invariants:
//! 1. A request that [`DownsampleRequest::validate`] accepts has `every > 0`,
//!    a non-empty range, at least one aggregate and none twice, grouping tags
//!    that are distinct tag names not colliding with an output column, a
//!    positive `max_gap` if any, and positive batch and window limits.
//! 2. Parsing (`"mean"`, `"linear"`, `"2.5"`) and validation fail with
//!    [`QueryError`] (inside [`Error::BadQuery`]): bad arguments, never
//!    corruption.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;

use super::TimeRange;
use crate::catalog::Selector;
use crate::error::{Error, Result};
use crate::model::series_key::NAME_LABEL;

/// An aggregate over the points of a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Agg {
    /// Number of points (UInt64; 0 for a filled window).
    Count,
    /// Sum of the values as f64 (NaN and infinities propagate).
    Sum,
    /// `sum / count`.
    Mean,
    /// Smallest value, NaN ignored unless all are NaN; the series' type.
    Min,
    /// Largest value, like `Min`.
    Max,
    /// Value at the earliest timestamp; the series' type.
    First,
    /// Value at the latest timestamp; the series' type.
    Last,
    /// Sample standard deviation (n − 1); null below two points.
    Stddev,
    /// Time-weighted mean, step interpolation (see `downsample.rs`).
    Twa,
}

impl Agg {
    /// Every aggregate, in the order the CLI documents them.
    pub const ALL: [Agg; 9] = [
        Agg::Count,
        Agg::Sum,
        Agg::Mean,
        Agg::Min,
        Agg::Max,
        Agg::First,
        Agg::Last,
        Agg::Stddev,
        Agg::Twa,
    ];

    /// The name used on the command line and as the output column name.
    pub fn name(self) -> &'static str {
        match self {
            Agg::Count => "count",
            Agg::Sum => "sum",
            Agg::Mean => "mean",
            Agg::Min => "min",
            Agg::Max => "max",
            Agg::First => "first",
            Agg::Last => "last",
            Agg::Stddev => "stddev",
            Agg::Twa => "twa",
        }
    }

    /// Parses a comma-separated list (`"mean,min,max,count"`).
    pub fn parse_list(text: &str) -> Result<Vec<Agg>> {
        text.split(',').map(|s| s.trim().parse()).collect()
    }
}

impl FromStr for Agg {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Agg::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| QueryError::UnknownAgg(s.to_string()).into())
    }
}

/// How windows without points between a series' (or group's) first and last
/// non-empty window are emitted (see `fill.rs`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Fill {
    /// Empty windows are omitted.
    #[default]
    None,
    /// Emitted with null values (count 0).
    Null,
    /// The previous non-empty window's values.
    Previous,
    /// Interpolated by window start between the neighbouring non-empty windows.
    Linear,
    /// This number.
    Constant(f64),
}

impl FromStr for Fill {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "none" => Fill::None,
            "null" => Fill::Null,
            "previous" => Fill::Previous,
            "linear" => Fill::Linear,
            _ => Fill::Constant(
                s.parse()
                    .map_err(|_| QueryError::UnknownFill(s.to_string()))?,
            ),
        })
    }
}

/// Why a query request is refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    #[error("the window length must be > 0 ns, got {0}")]
    EveryNotPositive(i64),
    #[error("empty time range: from {from} is not before to {to}")]
    EmptyRange { from: i64, to: i64 },
    #[error(
        "unknown aggregate {0:?} (expected count, sum, mean, min, max, first, last, stddev or twa)"
    )]
    UnknownAgg(String),
    #[error("no aggregate requested")]
    NoAggregates,
    #[error("aggregate {0} requested twice")]
    DuplicateAgg(&'static str),
    #[error("unknown fill {0:?} (expected none, null, previous, linear or a number)")]
    UnknownFill(String),
    #[error("the maximum gap must be > 0 ns, got {0}")]
    MaxGapNotPositive(i64),
    #[error("cannot group by {0:?}: not a tag name, or it collides with an output column")]
    BadGroupTag(String),
    #[error("grouping tag {0:?} given twice")]
    DuplicateGroupTag(String),
    #[error("{what} must be > 0")]
    ZeroLimit { what: &'static str },
    #[error("fill value {value} does not fit the {column} column ({kind} values)")]
    FillDoesNotFit {
        value: f64,
        column: &'static str,
        kind: &'static str,
    },
    #[error("more than {limit} windows for {group} (raise the limit or the window length)")]
    TooManyWindows { group: String, limit: u64 },
}

/// A downsample: fixed windows `[origin + k·every, origin + (k+1)·every)`
/// over a time range, aggregates per window, per series or per group.
#[derive(Clone, Debug)]
pub struct DownsampleRequest {
    pub(crate) selector: Selector,
    pub(crate) every: i64,
    pub(crate) origin: i64,
    pub(crate) bounds: (Option<i64>, Option<i64>),
    pub(crate) aggs: Vec<Agg>,
    pub(crate) by: Vec<String>,
    pub(crate) fill: Fill,
    pub(crate) max_gap: Option<i64>,
    pub(crate) threads: usize,
    pub(crate) batch_rows: usize,
    pub(crate) max_windows: u64,
    pub(crate) push_down: bool,
}

impl DownsampleRequest {
    /// Windows of `every_ns` over every point of the series `selector`
    /// matches, aligned to the epoch, no grouping, no fill, every core.
    pub fn new(selector: Selector, every_ns: i64, aggs: &[Agg]) -> Self {
        DownsampleRequest {
            selector,
            every: every_ns,
            origin: 0,
            bounds: (None, None),
            aggs: aggs.to_vec(),
            by: Vec::new(),
            fill: Fill::None,
            max_gap: None,
            threads: 0,
            batch_rows: 8192,
            max_windows: 10_000_000,
            push_down: true,
        }
    }

    /// The half-open range `[from, to)`; `None` is unbounded (a missing `to`
    /// includes `i64::MAX`).
    pub fn with_range(mut self, from: Option<i64>, to: Option<i64>) -> Self {
        self.bounds = (from, to);
        self
    }

    /// Window alignment (default 0, the epoch).
    pub fn with_origin(mut self, origin_ns: i64) -> Self {
        self.origin = origin_ns;
        self
    }

    /// Groups series by these tags (and their measurement), like PromQL's
    /// `avg by (machine)`.
    pub fn with_by<S: Into<String>>(mut self, tags: impl IntoIterator<Item = S>) -> Self {
        self.by = tags.into_iter().map(Into::into).collect();
        self
    }

    /// How empty windows are emitted (default [`Fill::None`]).
    pub fn with_fill(mut self, fill: Fill) -> Self {
        self.fill = fill;
        self
    }

    /// Gaps longer than this (between the starts of the non-empty windows
    /// around them) are emitted with nulls whatever the fill.
    pub fn with_max_gap(mut self, ns: Option<i64>) -> Self {
        self.max_gap = ns;
        self
    }

    /// Worker threads: 0 = one per core (default), 1 = on the caller's thread.
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Rows per output item and per Arrow batch at most (default 8,192).
    pub fn with_batch_rows(mut self, rows: usize) -> Self {
        self.batch_rows = rows;
        self
    }

    /// Windows per series or group at most, fill included (default 10 M):
    /// beyond it the query fails with [`QueryError::TooManyWindows`].
    pub fn with_max_windows(mut self, windows: u64) -> Self {
        self.max_windows = windows;
        self
    }

    /// Answers whole blocks from their statistics (default on). Turning it
    /// off changes no answer, only speed (tests compare both).
    #[doc(hidden)]
    pub fn with_push_down(mut self, on: bool) -> Self {
        self.push_down = on;
        self
    }

    /// The aggregates, in output order.
    pub fn aggs(&self) -> &[Agg] {
        &self.aggs
    }

    /// The grouping tags.
    pub fn by(&self) -> &[String] {
        &self.by
    }

    /// Checks the request (module invariant 1) and returns its time range.
    pub fn validate(&self) -> Result<TimeRange> {
        if self.every <= 0 {
            return Err(QueryError::EveryNotPositive(self.every).into());
        }
        let (from, to) = self.bounds;
        let range = TimeRange::from_bounds(from, to).ok_or(QueryError::EmptyRange {
            from: from.unwrap_or(i64::MIN),
            to: to.unwrap_or(i64::MAX),
        })?;
        if self.aggs.is_empty() {
            return Err(QueryError::NoAggregates.into());
        }
        for (i, a) in self.aggs.iter().enumerate() {
            if self.aggs.get(..i).is_some_and(|seen| seen.contains(a)) {
                return Err(QueryError::DuplicateAgg(a.name()).into());
            }
        }
        self.validate_by()?;
        if let Some(g) = self.max_gap.filter(|&g| g <= 0) {
            return Err(QueryError::MaxGapNotPositive(g).into());
        }
        for (what, n) in [
            ("batch rows", self.batch_rows as u64),
            ("max windows", self.max_windows),
        ] {
            if n == 0 {
                return Err(QueryError::ZeroLimit { what }.into());
            }
        }
        Ok(range)
    }

    fn validate_by(&self) -> Result<()> {
        let reserved = ["series", "measurement", "window_start", NAME_LABEL];
        for (i, t) in self.by.iter().enumerate() {
            let is_agg = Agg::ALL.iter().any(|a| a.name() == t);
            let name_ok = t.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
            if !name_ok || is_agg || reserved.contains(&t.as_str()) {
                return Err(QueryError::BadGroupTag(t.clone()).into());
            }
            if self.by.get(..i).is_some_and(|seen| seen.contains(t)) {
                return Err(QueryError::DuplicateGroupTag(t.clone()).into());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    fn req() -> DownsampleRequest {
        DownsampleRequest::new(Selector::all(), 60, &[Agg::Mean])
    }

    fn err(r: DownsampleRequest) -> QueryError {
        match r.validate() {
            Err(Error::BadQuery(e)) => e,
            other => panic!("expected a bad query, got {other:?}"),
        }
    }

    #[test]
    fn parsing() {
        let aggs = Agg::parse_list("mean, min,max,count").unwrap();
        assert_eq!(aggs, [Agg::Mean, Agg::Min, Agg::Max, Agg::Count]);
        assert!(matches!(
            "avg".parse::<Agg>(),
            Err(Error::BadQuery(QueryError::UnknownAgg(_)))
        ));
        assert_eq!("linear".parse::<Fill>().unwrap(), Fill::Linear);
        assert_eq!("-2.5".parse::<Fill>().unwrap(), Fill::Constant(-2.5));
        assert!(matches!(
            "lin".parse::<Fill>(),
            Err(Error::BadQuery(QueryError::UnknownFill(_)))
        ));
    }

    #[test]
    fn validation_names_the_problem() {
        assert_eq!(
            err(req()
                .with_range(None, None)
                .with_origin(5)
                .with_by(["m", "m"])),
            QueryError::DuplicateGroupTag("m".into())
        );
        let mut r = req();
        r.every = 0;
        assert_eq!(err(r), QueryError::EveryNotPositive(0));
        assert_eq!(
            err(req().with_range(Some(5), Some(5))),
            QueryError::EmptyRange { from: 5, to: 5 }
        );
        assert_eq!(
            err(req().with_range(Some(i64::MIN), Some(i64::MIN))),
            QueryError::EmptyRange {
                from: i64::MIN,
                to: i64::MIN
            }
        );
        assert_eq!(
            err(DownsampleRequest::new(Selector::all(), 1, &[])),
            QueryError::NoAggregates
        );
        let twice = DownsampleRequest::new(Selector::all(), 1, &[Agg::Min, Agg::Min]);
        assert_eq!(err(twice), QueryError::DuplicateAgg("min"));
        for bad in ["count", "window_start", "9x", "", "__name__"] {
            assert_eq!(
                err(req().with_by([bad])),
                QueryError::BadGroupTag(bad.into())
            );
        }
        assert_eq!(
            err(req().with_max_gap(Some(0))),
            QueryError::MaxGapNotPositive(0)
        );
        assert_eq!(
            err(req().with_batch_rows(0)),
            QueryError::ZeroLimit { what: "batch rows" }
        );
        let r = req().with_range(Some(1), None).validate().unwrap();
        assert_eq!((r.first(), r.last()), (1, i64::MAX));
    }
}
