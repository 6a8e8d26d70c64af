//! The SKAB recordings (`../shared/data/skab`, GPL-licensed, read in place and
//! never copied into the repository) for the tests that import them, and a
//! `report!` that prints past libtest's capture. Included with `#[macro_use]
//! #[path]` so those tests do not pull in the reliability helpers of
//! `common/mod.rs`.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

/// Prints past libtest's output capture, so the line shows in every CI log.
macro_rules! report {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Where the SKAB data lives (it may be absent: tests then skip, saying why).
pub fn skab_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/skab")
}

/// Every CSV file under the SKAB folder, sorted, with its `file` tag
/// (`<dir>_<stem>`, e.g. `valve1_0`).
pub fn skab_files(root: &Path) -> Vec<(PathBuf, String)> {
    let sorted = |dir: &Path, keep: &dyn Fn(&Path) -> bool| {
        let mut v: Vec<PathBuf> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| keep(p))
            .collect();
        v.sort();
        v
    };
    let mut out = Vec::new();
    for dir in sorted(root, &|p| p.is_dir()) {
        for f in sorted(&dir, &|p| p.extension().is_some_and(|e| e == "csv")) {
            let dir_name = dir.file_name().unwrap().to_str().unwrap();
            let stem = f.file_stem().unwrap().to_str().unwrap();
            let tag = format!("{dir_name}_{stem}");
            out.push((f, tag));
        }
    }
    out
}
