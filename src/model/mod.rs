//! The data model of DESIGN.md: tenants, series keys, values and points, and
//! the configured limits that bound them.

mod batch;
pub(crate) mod columns;
mod limits;
pub(crate) mod series_key;
mod tenant_name;
mod value;

pub use batch::{BatchSeries, WriteBatch};
pub use columns::Columns;
pub use limits::Limits;
pub use series_key::SeriesKey;
pub use tenant_name::validate_tenant_name;
pub use value::{Point, Value, ValueType};
