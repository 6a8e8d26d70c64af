//! The series catalog of a tenant and the selectors that query it.

mod index;
pub(crate) mod selector;

pub use index::{Catalog, SeriesEntry};
pub use selector::{MatchOp, Matcher, Selector};
