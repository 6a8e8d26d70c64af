//! Values, value types and points.
//!
//! Invariants:
//! 1. Every value is stored as 64 raw bits ([`Value::to_bits`]): `f64` bit
//!    patterns (NaN payloads, -0.0, ±inf), `i64` two's complement, `bool` 0 or 1.
//!    Storage layers never look inside the bits; only the type says what they mean.
//! 2. A series' [`ValueType`] is fixed by its first write.

use std::fmt;

/// The type of a series' values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueType {
    F64,
    I64,
    Bool,
}

impl ValueType {
    /// The on-disk tag of the type (WAL records and segment indexes).
    pub fn tag(self) -> u8 {
        match self {
            ValueType::F64 => 1,
            ValueType::I64 => 2,
            ValueType::Bool => 3,
        }
    }

    /// Inverse of [`ValueType::tag`].
    pub fn from_tag(tag: u8) -> Option<Self> {
        match tag {
            1 => Some(ValueType::F64),
            2 => Some(ValueType::I64),
            3 => Some(ValueType::Bool),
            _ => None,
        }
    }

    /// The name used in messages and schemas.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::F64 => "f64",
            ValueType::I64 => "i64",
            ValueType::Bool => "bool",
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One value of a point.
#[derive(Clone, Copy, Debug)]
pub enum Value {
    F64(f64),
    I64(i64),
    Bool(bool),
}

impl Value {
    /// The value's type.
    pub fn value_type(self) -> ValueType {
        match self {
            Value::F64(_) => ValueType::F64,
            Value::I64(_) => ValueType::I64,
            Value::Bool(_) => ValueType::Bool,
        }
    }

    /// The raw 64 bits stored for this value.
    pub fn to_bits(self) -> u64 {
        match self {
            Value::F64(v) => v.to_bits(),
            Value::I64(v) => v as u64,
            Value::Bool(v) => u64::from(v),
        }
    }

    /// Rebuilds a value from its raw bits and type.
    pub fn from_bits(value_type: ValueType, bits: u64) -> Self {
        match value_type {
            ValueType::F64 => Value::F64(f64::from_bits(bits)),
            ValueType::I64 => Value::I64(bits as i64),
            ValueType::Bool => Value::Bool(bits != 0),
        }
    }

    /// The value as f64 (for statistics): i64 converted, bool as 0 or 1.
    pub fn as_f64(self) -> f64 {
        match self {
            Value::F64(v) => v,
            Value::I64(v) => v as f64,
            Value::Bool(v) => f64::from(u8::from(v)),
        }
    }
}

/// Bit-exact equality: NaN equals the same NaN, -0.0 differs from 0.0.
impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        self.value_type() == other.value_type() && self.to_bits() == other.to_bits()
    }
}

impl Eq for Value {}

impl fmt::Display for Value {
    /// Floats in the shortest form that round-trips; `NaN`, `inf`, `-inf`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::F64(v) => write!(f, "{v}"),
            Value::I64(v) => write!(f, "{v}"),
            Value::Bool(v) => write!(f, "{v}"),
        }
    }
}

/// One point of a series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Point {
    /// Nanoseconds since the Unix epoch, UTC.
    pub ts: i64,
    pub value: Value,
    /// Optional status (OPC UA style: good / uncertain / bad).
    pub quality: Option<u8>,
}

impl Point {
    /// A point without quality.
    pub fn new(ts: i64, value: Value) -> Self {
        Point {
            ts,
            value,
            quality: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip_keeps_nan_payload_and_negative_zero() {
        let nan = f64::from_bits(0x7ff8_0000_dead_beef);
        for v in [
            Value::F64(nan),
            Value::F64(-0.0),
            Value::I64(i64::MIN),
            Value::Bool(true),
        ] {
            assert_eq!(Value::from_bits(v.value_type(), v.to_bits()), v);
        }
        assert_ne!(Value::F64(0.0), Value::F64(-0.0));
    }

    #[test]
    fn type_tags_round_trip() {
        for t in [ValueType::F64, ValueType::I64, ValueType::Bool] {
            assert_eq!(ValueType::from_tag(t.tag()), Some(t));
        }
        assert_eq!(ValueType::from_tag(0), None);
    }
}
