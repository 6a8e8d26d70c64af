//! Text formats at the edges: timestamps and durations, InfluxDB line protocol.

pub mod lineproto;
pub mod time;
