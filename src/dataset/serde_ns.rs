//! Serde forms of times and durations in a spec: text where people write
//! specs (TOML), integer nanoseconds where programs read them back
//! (`manifest.json`).
//!
//! Invariants:
//! 1. A timestamp deserializes from an integer (ns since the epoch, UTC),
//!    from text in any form `text::time::parse_timestamp` accepts (naive
//!    forms are UTC), or from a TOML datetime (written without quotes).
//! 2. A duration deserializes from an integer (ns) or from text such as
//!    `"5s"` or `"1h30m"` (`text::time::parse_duration`).
//! 3. Both serialize as integer nanoseconds, so a manifest's spec reads back
//!    as the same spec.
#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserializer, Serializer};

use crate::text::time::{parse_duration, parse_timestamp, Timezone};

#[derive(Clone, Copy)]
enum Kind {
    Timestamp,
    Duration,
}

struct NsVisitor(Kind);

impl NsVisitor {
    fn parse<E: de::Error>(&self, s: &str) -> Result<i64, E> {
        let r = match self.0 {
            Kind::Timestamp => parse_timestamp(s, Timezone::UTC),
            Kind::Duration => parse_duration(s),
        };
        r.map_err(E::custom)
    }
}

impl<'de> Visitor<'de> for NsVisitor {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Kind::Timestamp => f.write_str("a timestamp (RFC 3339 text or integer nanoseconds)"),
            Kind::Duration => f.write_str("a duration (\"5s\", \"1h30m\" or integer nanoseconds)"),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::custom(format!("{v} is beyond the i64 nanosecond range")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        self.parse(v)
    }

    /// A TOML datetime arrives as a one-entry map holding its text.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<i64, A::Error> {
        let mut text: Option<String> = None;
        while let Some(_key) = map.next_key::<String>()? {
            text = Some(map.next_value::<String>()?);
        }
        match text {
            Some(t) => self.parse(&t),
            None => Err(de::Error::custom("expected a timestamp")),
        }
    }
}

struct OptVisitor(Kind);

impl<'de> Visitor<'de> for OptVisitor {
    type Value = Option<i64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        NsVisitor(self.0).expecting(f)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(NsVisitor(self.0)).map(Some)
    }
}

/// A required timestamp.
pub(crate) mod timestamp {
    use super::*;

    pub fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(*v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        d.deserialize_any(NsVisitor(Kind::Timestamp))
    }
}

/// A required duration.
pub(crate) mod duration {
    use super::*;

    pub fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(*v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        d.deserialize_any(NsVisitor(Kind::Duration))
    }
}

/// An optional timestamp (absent or null is None).
pub(crate) mod opt_timestamp {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_some(v),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        d.deserialize_option(OptVisitor(Kind::Timestamp))
    }
}

/// An optional duration (absent or null is None).
pub(crate) mod opt_duration {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_some(v),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        d.deserialize_option(OptVisitor(Kind::Duration))
    }
}
