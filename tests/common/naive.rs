//! A naive downsample evaluator, written from the semantics in
//! `src/query/downsample.rs` and `fill.rs` without their code: straight-line
//! loops over a `BTreeMap` of points, sequential sums, two-pass variance.
//! Plus converters from the engine's outputs (pieces and Arrow batches) to
//! the same rows, and a comparison that is exact where the engine must be
//! exact (count, min, max, first, last, labels, window starts) and within a
//! relative 1e-9 where summation order may differ (sum, mean, stddev, twa).

use std::collections::BTreeMap;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampNanosecondType, UInt64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use historian::query::{Agg, AggColumn, Fill, GroupLabel, WindowRows};
use historian::{SeriesKey, ValueType};

/// One series: its key, type and points (ts → raw bits).
#[derive(Clone, Debug)]
pub struct Series {
    pub key: SeriesKey,
    pub vt: ValueType,
    pub points: BTreeMap<i64, u64>,
}

/// What to compute (mirrors `DownsampleRequest`).
#[derive(Clone, Debug)]
pub struct Query {
    pub every: i64,
    pub origin: i64,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub aggs: Vec<Agg>,
    pub by: Vec<String>,
    pub fill: Fill,
    pub max_gap: Option<i64>,
}

/// One output value. `F(v, None)` must match bit for bit (values passed
/// through: min, max, first, last); `F(v, Some(scale))` is computed and
/// matches within 1e-9·scale; a computed NaN must be the canonical NaN
/// (Rust leaves the payload of an arithmetic NaN unspecified, the engine
/// canonicalises it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell {
    Null,
    Count(u64),
    F(f64, Option<f64>),
    I(i64),
    B(bool),
}

/// One output row.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub label: String,
    pub start: i64,
    pub cells: Vec<Cell>,
}

fn as_f64(vt: ValueType, bits: u64) -> f64 {
    match vt {
        ValueType::F64 => f64::from_bits(bits),
        _ => bits as i64 as f64,
    }
}

fn group_label(key: &SeriesKey, by: &[String]) -> (String, Vec<Option<String>>) {
    if by.is_empty() {
        return (key.to_string(), Vec::new());
    }
    let values = by.iter().map(|t| key.tag(t).map(str::to_string)).collect();
    (key.measurement().to_string(), values)
}

fn label_text(m: &str, values: &[Option<String>]) -> String {
    let mut s = m.to_string();
    for v in values {
        s.push('|');
        s.push_str(v.as_deref().unwrap_or("∅"));
    }
    s
}

/// The rows the engine must return for `q` over `selected` series (any order).
/// Returns Err when the engine must refuse the query (a fill constant that
/// does not fit a column).
pub fn downsample(selected: &[Series], q: &Query) -> Result<Vec<Row>, String> {
    if let Some(to) = q.to {
        if q.from.unwrap_or(i64::MIN) >= to {
            return Err("empty range".into());
        }
    }
    let mut series: Vec<&Series> = selected.iter().collect();
    series.sort_by(|a, b| a.key.cmp(&b.key));
    let kind = match series.first() {
        Some(s) if series.iter().all(|x| x.vt == s.vt) => s.vt,
        _ => ValueType::F64,
    };
    if let Fill::Constant(c) = q.fill {
        let value_cols = q
            .aggs
            .iter()
            .any(|a| matches!(a, Agg::Min | Agg::Max | Agg::First | Agg::Last));
        let fits = match kind {
            ValueType::F64 => true,
            ValueType::I64 => c.fract() == 0.0,
            ValueType::Bool => c == 0.0 || c == 1.0,
        };
        if value_cols && !fits {
            return Err(format!("constant {c} does not fit {kind}"));
        }
    }
    let mut groups: BTreeMap<(String, Vec<Option<String>>), Vec<&Series>> = BTreeMap::new();
    for s in series {
        groups
            .entry(group_label(&s.key, &q.by))
            .or_default()
            .push(s);
    }
    let mut out = Vec::new();
    for ((m, values), members) in groups {
        let label = if q.by.is_empty() {
            m.clone()
        } else {
            label_text(&m, &values)
        };
        out.extend(group_rows(&label, &members, q, kind)?);
    }
    Ok(out)
}

fn in_range(q: &Query, ts: i64) -> bool {
    q.from.is_none_or(|f| ts >= f) && q.to.is_none_or(|t| ts < t)
}

fn window_of(q: &Query, ts: i64) -> i128 {
    (ts as i128 - q.origin as i128).div_euclid(q.every as i128)
}

fn window_start(q: &Query, k: i128) -> i64 {
    let s = q.origin as i128 + k * q.every as i128;
    s.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// (member index, ts, bits) of one window, members in key order.
type Window = Vec<(usize, i64, u64)>;

/// Windows per series or group the engine emits at most (its default).
pub const MAX_WINDOWS: i128 = 10_000_000;

fn group_rows(
    label: &str,
    members: &[&Series],
    q: &Query,
    kind: ValueType,
) -> Result<Vec<Row>, String> {
    let mut windows: BTreeMap<i128, Window> = BTreeMap::new();
    for (i, s) in members.iter().enumerate() {
        for (&ts, &bits) in &s.points {
            if in_range(q, ts) {
                windows
                    .entry(window_of(q, ts))
                    .or_default()
                    .push((i, ts, bits));
            }
        }
    }
    let mut rows: Vec<(i128, Vec<Cell>)> = Vec::new();
    for (&k, pts) in &windows {
        let cells = q
            .aggs
            .iter()
            .map(|&a| cell(a, k, pts, members, q, kind))
            .collect();
        rows.push((k, cells));
    }
    if let (Some(a), Some(b), false) = (rows.first(), rows.last(), q.fill == Fill::None) {
        if b.0 - a.0 + 1 > MAX_WINDOWS {
            return Err(format!("{label}: more than {MAX_WINDOWS} windows"));
        }
    }
    let rows = if q.fill == Fill::None {
        rows
    } else {
        fill(rows, q, kind)
    };
    Ok(rows
        .into_iter()
        .map(|(k, cells)| Row {
            label: label.to_string(),
            start: window_start(q, k),
            cells,
        })
        .collect())
}

fn typed(kind: ValueType, vt: ValueType, bits: u64) -> Cell {
    match kind {
        ValueType::F64 => Cell::F(as_f64(vt, bits), None),
        ValueType::I64 => Cell::I(bits as i64),
        ValueType::Bool => Cell::B(bits != 0),
    }
}

fn cell(a: Agg, k: i128, pts: &Window, members: &[&Series], q: &Query, kind: ValueType) -> Cell {
    let vt = |m: usize| members[m].vt;
    let vals: Vec<f64> = pts.iter().map(|&(m, _, b)| as_f64(vt(m), b)).collect();
    let n = vals.len() as f64;
    let max_abs = vals
        .iter()
        .filter(|v| v.is_finite())
        .fold(1.0f64, |s, v| s.max(v.abs()));
    let sum_abs: f64 = vals
        .iter()
        .filter(|v| v.is_finite())
        .map(|v| v.abs())
        .sum::<f64>()
        + 1.0;
    let mut sum = 0.0;
    for v in &vals {
        sum += v;
    }
    match a {
        Agg::Count => Cell::Count(pts.len() as u64),
        Agg::Sum => Cell::F(sum, Some(sum_abs)),
        Agg::Mean => Cell::F(sum / n, Some(max_abs)),
        Agg::Min | Agg::Max => min_max(a == Agg::Min, pts, members, kind),
        Agg::First => {
            let mut best = pts[0];
            for &p in pts {
                if p.1 < best.1 {
                    best = p;
                }
            }
            typed(kind, vt(best.0), best.2)
        }
        Agg::Last => {
            let mut best = pts[0];
            for &p in pts {
                if p.1 >= best.1 {
                    best = p;
                }
            }
            typed(kind, vt(best.0), best.2)
        }
        Agg::Stddev if pts.len() < 2 => Cell::Null,
        Agg::Stddev => {
            let mean = sum / n;
            let m2: f64 = vals.iter().map(|v| (v - mean) * (v - mean)).sum();
            Cell::F((m2 / (n - 1.0)).sqrt(), Some(max_abs))
        }
        Agg::Twa if pts.len() == 1 => Cell::F(vals[0], Some(0.0)),
        Agg::Twa => twa(k, pts, members, q, max_abs),
    }
}

fn min_max(min: bool, pts: &Window, members: &[&Series], kind: ValueType) -> Cell {
    if kind != ValueType::F64 {
        let ints = pts.iter().map(|&(_, _, b)| b as i64);
        let v = if min { ints.min() } else { ints.max() }.unwrap_or(0);
        return typed(kind, kind, v as u64);
    }
    let mut best: Option<f64> = None;
    for &(m, _, b) in pts {
        let v = as_f64(members[m].vt, b);
        if v.is_nan() {
            continue;
        }
        let better = match best {
            None => true,
            Some(x) if v == x => (v.is_sign_negative() == min) && v == 0.0,
            Some(x) => (v < x) == min,
        };
        if better {
            best = Some(v);
        }
    }
    Cell::F(best.unwrap_or(f64::NAN), None)
}

fn twa(k: i128, pts: &Window, members: &[&Series], q: &Query, max_abs: f64) -> Cell {
    let w_end = q.origin as i128 + (k + 1) * q.every as i128;
    let t_end = q.to.map_or(w_end, |t| w_end.min(t as i128));
    let (mut area, mut span) = (0.0, 0.0);
    for (m, s) in members.iter().enumerate() {
        let mine: Vec<(i64, f64)> = pts
            .iter()
            .filter(|p| p.0 == m)
            .map(|&(_, t, b)| (t, as_f64(s.vt, b)))
            .collect();
        let Some(&(t0, _)) = mine.first() else {
            continue;
        };
        for (i, &(t, v)) in mine.iter().enumerate() {
            let next = mine.get(i + 1).map_or(t_end, |&(u, _)| u as i128);
            area += v * (next - t as i128) as f64;
        }
        span += (t_end - t0 as i128) as f64;
    }
    Cell::F(area / span, Some(max_abs))
}

fn fill(rows: Vec<(i128, Vec<Cell>)>, q: &Query, kind: ValueType) -> Vec<(i128, Vec<Cell>)> {
    let mut out: Vec<(i128, Vec<Cell>)> = Vec::new();
    for (i, (k, cells)) in rows.iter().enumerate() {
        if i > 0 {
            let (ka, a) = &rows[i - 1];
            let too_long = q
                .max_gap
                .is_some_and(|g| (k - ka) * q.every as i128 > g as i128);
            for gk in ka + 1..*k {
                let frac = (gk - ka) as f64 / (k - ka) as f64;
                let filled = q.aggs.iter().enumerate().map(|(c, &agg)| {
                    if agg == Agg::Count {
                        return Cell::Count(0);
                    }
                    if too_long {
                        return Cell::Null;
                    }
                    filled_cell(q.fill, a[c], cells[c], frac, value_kind(agg, kind))
                });
                out.push((gk, filled.collect()));
            }
        }
        out.push((*k, cells.clone()));
    }
    out
}

fn value_kind(a: Agg, kind: ValueType) -> ValueType {
    match a {
        Agg::Min | Agg::Max | Agg::First | Agg::Last => kind,
        _ => ValueType::F64,
    }
}

fn filled_cell(fill: Fill, a: Cell, b: Cell, frac: f64, kind: ValueType) -> Cell {
    match (fill, a, b) {
        (Fill::Null | Fill::None, _, _) => Cell::Null,
        (Fill::Previous, a, _) => a,
        (Fill::Constant(c), _, _) => match kind {
            ValueType::F64 => Cell::F(c, None),
            ValueType::I64 => Cell::I(c as i64),
            ValueType::Bool => Cell::B(c != 0.0),
        },
        (Fill::Linear, Cell::F(x, sx), Cell::F(y, sy)) => {
            // Computed: equal values, but a NaN's payload is unspecified.
            let scale = sx.unwrap_or(0.0).max(sy.unwrap_or(0.0)) * 4.0;
            let scale = Some(scale);
            Cell::F(x + (y - x) * frac, scale)
        }
        (Fill::Linear, Cell::I(x), Cell::I(y)) => {
            let (x, y) = (x as f64, y as f64);
            Cell::I((x + (y - x) * frac).round() as i64)
        }
        (Fill::Linear, Cell::B(x), Cell::B(_)) => Cell::B(x),
        (Fill::Linear, _, _) => Cell::Null,
    }
}

fn label_of(g: &GroupLabel) -> String {
    match g {
        GroupLabel::Series { text, .. } => text.to_string(),
        GroupLabel::Tags {
            measurement,
            values,
        } => label_text(measurement, values),
    }
}

/// The engine's pieces as rows; checks every piece holds at most `max` rows.
pub fn rows_from_pieces(pieces: &[WindowRows], max: usize) -> Vec<Row> {
    let mut out = Vec::new();
    for p in pieces {
        assert!(
            !p.is_empty() && p.len() <= max,
            "piece of {} rows (max {max})",
            p.len()
        );
        for i in 0..p.len() {
            let cells = p.columns.iter().map(|c| match c {
                AggColumn::Count(v) => Cell::Count(v[i]),
                AggColumn::Float64(v) => v[i].map_or(Cell::Null, |x| Cell::F(x, None)),
                AggColumn::Int64(v) => v[i].map_or(Cell::Null, Cell::I),
                AggColumn::Bool(v) => v[i].map_or(Cell::Null, Cell::B),
            });
            out.push(Row {
                label: label_of(&p.group),
                start: p.window_start[i],
                cells: cells.collect(),
            });
        }
    }
    out
}

/// The engine's Arrow batches as rows; checks every batch holds at most `max` rows.
pub fn rows_from_batches(batches: &[RecordBatch], n_by: usize, max: usize) -> Vec<Row> {
    let mut out = Vec::new();
    for b in batches {
        assert!(
            b.num_rows() > 0 && b.num_rows() <= max,
            "batch of {} rows",
            b.num_rows()
        );
        let label_cols = if n_by == 0 { 1 } else { n_by + 1 };
        for i in 0..b.num_rows() {
            let mut parts = Vec::new();
            for c in 0..label_cols {
                let col = b.column(c).as_string::<i32>();
                parts.push(if col.is_null(i) {
                    "∅".to_string()
                } else {
                    col.value(i).to_string()
                });
            }
            let start = b
                .column(label_cols)
                .as_primitive::<TimestampNanosecondType>()
                .value(i);
            let cells =
                (label_cols + 1..b.num_columns()).map(|c| arrow_cell(b.column(c).as_ref(), i));
            out.push(Row {
                label: parts.join("|"),
                start,
                cells: cells.collect(),
            });
        }
    }
    out
}

fn arrow_cell(col: &dyn Array, i: usize) -> Cell {
    if col.is_null(i) {
        return Cell::Null;
    }
    match col.data_type() {
        DataType::UInt64 => Cell::Count(col.as_primitive::<UInt64Type>().value(i)),
        DataType::Float64 => Cell::F(col.as_primitive::<Float64Type>().value(i), None),
        DataType::Int64 => Cell::I(col.as_primitive::<Int64Type>().value(i)),
        DataType::Boolean => Cell::B(col.as_boolean().value(i)),
        t => panic!("unexpected column type {t}"),
    }
}

fn cell_matches(got: Cell, want: Cell) -> bool {
    match (got, want) {
        (Cell::F(g, _), Cell::F(w, None)) => g.to_bits() == w.to_bits(),
        (Cell::F(g, _), Cell::F(w, Some(scale))) => {
            if g.is_nan() || w.is_nan() {
                // Computed NaNs are canonical.
                g.to_bits() == f64::NAN.to_bits() && w.is_nan()
            } else if g.is_infinite() || w.is_infinite() {
                g == w
            } else {
                (g - w).abs() <= 1e-9 * scale
            }
        }
        (g, w) => g == w,
    }
}

/// Compares engine rows with the naive rows; Err names the first difference.
pub fn compare(got: &[Row], want: &[Row]) -> Result<(), String> {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let same = g.label == w.label
            && g.start == w.start
            && g.cells.len() == w.cells.len()
            && g.cells
                .iter()
                .zip(&w.cells)
                .all(|(&a, &b)| cell_matches(a, b));
        if !same {
            let bits = |r: &Row| -> Vec<String> {
                r.cells
                    .iter()
                    .map(|c| match c {
                        Cell::F(v, _) => format!("{:#x}", v.to_bits()),
                        c => format!("{c:?}"),
                    })
                    .collect()
            };
            return Err(format!(
                "row {i}: got {g:?}, want {w:?} (bits {:?} vs {:?})",
                bits(g),
                bits(w)
            ));
        }
    }
    if got.len() != want.len() {
        let extra = got.get(want.len()).or(want.get(got.len()));
        return Err(format!(
            "{} rows, want {}; first extra {extra:?}",
            got.len(),
            want.len()
        ));
    }
    Ok(())
}
