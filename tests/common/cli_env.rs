//! The `historian` binary in a temporary data directory, for the CLI tests
//! (`tests/cli.rs`, `tests/cli_downsample.rs`): run it, expect success or an
//! exit status, and the small steps those tests repeat. Included with
//! `#[path]` so it does not pull in the reliability helpers of `common/mod.rs`.
#![allow(dead_code)]

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

/// A temporary data directory and the files a test writes next to it.
pub struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Self {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes an input file and returns its path as a string.
    pub fn file(&self, name: &str, content: &str) -> String {
        let p = self.path(name);
        fs::write(&p, content).unwrap();
        p.to_str().unwrap().to_string()
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_historian"))
            .env_remove("HISTORIAN_DATA_DIR")
            .arg("--data-dir")
            .arg(self.data())
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed ({:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs and expects exit status `code`; returns stderr.
    pub fn fails(&self, code: i32, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        stderr
    }

    pub fn query(&self, tenant: &str, select: &str, extra: &[&str]) -> String {
        let mut args = vec!["query", "--tenant", tenant, "--select", select];
        args.extend_from_slice(extra);
        self.ok(&args)
    }
}

/// The lines of a command's output.
pub fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}
