//! [`WriteBatch`]: the unit of atomic writes.
//!
//! Invariants:
//! 1. A batch is written all or nothing: one WAL record, one sequence number.
//! 2. Within a batch a series appears once, with one value type; its points
//!    keep their insertion order, so a later duplicate timestamp wins.

use std::collections::HashMap;

use super::{Columns, Point, SeriesKey, Value, ValueType};
use crate::error::{Error, Result};

/// Points of one series inside a batch.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchSeries {
    pub key: SeriesKey,
    pub value_type: ValueType,
    pub cols: Columns,
}

/// Points of many series written atomically.
#[derive(Clone, Debug, Default)]
pub struct WriteBatch {
    series: Vec<BatchSeries>,
    index: HashMap<SeriesKey, usize>,
    points: usize,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one point.
    pub fn push(&mut self, key: &SeriesKey, point: Point) -> Result<()> {
        let cols = self.columns_mut(key, point.value.value_type())?;
        cols.push(point.ts, point.value.to_bits(), point.quality);
        self.points += 1;
        Ok(())
    }

    /// Adds one value without quality.
    pub fn push_value(&mut self, key: &SeriesKey, ts: i64, value: Value) -> Result<()> {
        self.push(key, Point::new(ts, value))
    }

    /// Adds many `f64` points of one series.
    pub fn extend_f64(&mut self, key: &SeriesKey, ts: &[i64], values: &[f64]) -> Result<()> {
        if ts.len() != values.len() {
            return Err(Error::invalid(
                "batch",
                format!("{} timestamps but {} values", ts.len(), values.len()),
            ));
        }
        let cols = self.columns_mut(key, ValueType::F64)?;
        cols.ts.extend_from_slice(ts);
        cols.values.extend(values.iter().map(|v| v.to_bits()));
        if let Some(q) = &mut cols.quality {
            q.resize(cols.ts.len(), None);
        }
        self.points += ts.len();
        Ok(())
    }

    /// The slot of `key` in this batch, created with `value_type` if absent.
    /// Pushing through a slot skips hashing the key for every point.
    pub fn slot(&mut self, key: &SeriesKey, value_type: ValueType) -> Result<usize> {
        let idx = match self.index.get(key) {
            Some(&i) => i,
            None => {
                self.series.push(BatchSeries {
                    key: key.clone(),
                    value_type,
                    cols: Columns::default(),
                });
                self.index.insert(key.clone(), self.series.len() - 1);
                self.series.len() - 1
            }
        };
        match self.series.get(idx) {
            Some(s) if s.value_type != value_type => Err(Error::TypeMismatch {
                series: s.key.to_string(),
                existing: s.value_type.name(),
                attempted: value_type.name(),
            }),
            Some(_) => Ok(idx),
            None => Err(Error::invalid("batch", "slot index out of step")),
        }
    }

    /// Adds a point to a slot from [`WriteBatch::slot`]; the value must have the
    /// slot's type.
    pub fn push_to_slot(&mut self, slot: usize, point: Point) -> Result<()> {
        let s = self
            .series
            .get_mut(slot)
            .ok_or_else(|| Error::invalid("batch slot", format!("{slot} does not exist")))?;
        if s.value_type != point.value.value_type() {
            return Err(Error::TypeMismatch {
                series: s.key.to_string(),
                existing: s.value_type.name(),
                attempted: point.value.value_type().name(),
            });
        }
        s.cols.push(point.ts, point.value.to_bits(), point.quality);
        self.points += 1;
        Ok(())
    }

    /// The columns of `key`, created empty with `value_type` if absent.
    fn columns_mut(&mut self, key: &SeriesKey, value_type: ValueType) -> Result<&mut Columns> {
        let idx = self.slot(key, value_type)?;
        self.series
            .get_mut(idx)
            .map(|s| &mut s.cols)
            .ok_or_else(|| Error::invalid("batch", "index out of step"))
    }

    /// Adds a whole series' columns (used by WAL replay).
    pub(crate) fn push_series(&mut self, series: BatchSeries) -> Result<()> {
        let n = series.cols.len();
        if !self.index.contains_key(&series.key) {
            // The common case in replay: move the decoded columns, no copy.
            self.index.insert(series.key.clone(), self.series.len());
            self.series.push(series);
            self.points += n;
            return Ok(());
        }
        let cols = self.columns_mut(&series.key, series.value_type)?;
        cols.extend_from(&series.cols);
        self.points += n;
        Ok(())
    }

    /// Total number of points.
    pub fn len(&self) -> usize {
        self.points
    }

    /// True when the batch holds no point.
    pub fn is_empty(&self) -> bool {
        self.points == 0
    }

    /// The series of the batch, in first-insertion order.
    pub fn series(&self) -> &[BatchSeries] {
        &self.series
    }

    /// Removes every point, keeping allocations for reuse.
    pub fn clear(&mut self) {
        self.series.clear();
        self.index.clear();
        self.points = 0;
    }
}
