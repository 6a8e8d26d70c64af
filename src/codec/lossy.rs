//! STUB: filled in by the codec work (see mod.rs).
