//! A Python virtual environment holding `tests/py/requirements.txt`, for the
//! tests that check historian against Python tools (`downsample_duckdb.rs`,
//! `dataset_python.rs`). It is created once from PyPI under
//! `<target dir>/py-venv-<hash of the requirements and the Python version>`
//! (`PYTHON` names the base interpreter, default `python3`) and reused while
//! both are unchanged. Without python3, its `venv` module or PyPI,
//! [`venv_python`] says why, so the caller can print it and pass; a pinned
//! version that does not exist fails the test.
//!
//! Included with `#[path]` after `#[macro_use] #[path = "common/skab.rs"] mod
//! skab;`, whose `report!` it uses.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The first line of pip's output that says the index could not be reached (as
/// opposed to, say, a pinned version that does not exist, which fails the test).
fn network_error(pip_stderr: &str) -> Option<&str> {
    const MARKERS: [&str; 11] = [
        "NewConnectionError",
        "Failed to establish a new connection",
        "Temporary failure in name resolution",
        "Name or service not known",
        "Network is unreachable",
        "No route to host",
        "Connection refused",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ProxyError",
        "Max retries exceeded",
    ];
    pip_stderr
        .lines()
        .find(|l| MARKERS.iter().any(|m| l.contains(m)))
        .map(str::trim)
}

/// The interpreter of a venv holding `tests/py/requirements.txt`, created on first
/// use; or why the test cannot run here.
pub fn venv_python() -> Result<PathBuf, String> {
    let base = std::env::var_os("PYTHON").unwrap_or_else(|| OsString::from("python3"));
    let version = match Command::new(&base).arg("--version").output() {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        Ok(o) => return Err(format!("{base:?} --version failed: {}", o.status)),
        Err(e) => return Err(format!("{base:?} not found ({e})")),
    };
    let req_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/requirements.txt");
    let requirements = fs::read_to_string(&req_path).unwrap();
    let target = Path::new(env!("CARGO_BIN_EXE_historian"))
        .parent()
        .and_then(Path::parent)
        .unwrap();
    let hash = fnv1a(format!("{version}\n{requirements}").as_bytes());
    let venv = target.join(format!("py-venv-{hash:016x}"));
    let python = venv.join(if cfg!(windows) {
        "Scripts/python.exe"
    } else {
        "bin/python"
    });
    // Written last: a venv without it is an interrupted install, made anew.
    let stamp = venv.join("historian-installed.txt");
    if python.is_file() && fs::read_to_string(&stamp).is_ok_and(|s| s == requirements) {
        return Ok(python);
    }
    if venv.exists() {
        fs::remove_dir_all(&venv).unwrap();
    }
    report!("creating {} ({version})", venv.display());
    let o = Command::new(&base)
        .args(["-m", "venv"])
        .arg(&venv)
        .output()
        .unwrap();
    if !o.status.success() {
        let _ = fs::remove_dir_all(&venv);
        return Err(format!(
            "`{base:?} -m venv` failed (Debian/Ubuntu: apt-get install python3-venv): {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ));
    }
    let o = Command::new(&python)
        .args(["-m", "pip", "install", "--disable-pip-version-check"])
        .args(["--no-input", "--quiet", "--timeout", "20", "--retries", "2"])
        .arg("-r")
        .arg(&req_path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    if !o.status.success() {
        if let Some(line) = network_error(&err) {
            return Err(format!("pip cannot reach PyPI: {line}"));
        }
        panic!("pip install -r {} failed:\n{err}", req_path.display());
    }
    fs::write(&stamp, &requirements).unwrap();
    Ok(python)
}
