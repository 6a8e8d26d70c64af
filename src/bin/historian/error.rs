//! The CLI's error: a one-line message and the exit status it maps to.
//!
//! Exit statuses (CLI.md): 2 bad usage or bad argument, 3 corruption, 1 anything else.
//! Library errors convert with [`From`] (corruption → 3, everything else → 1); errors
//! caused by a flag the user gave go through [`CliError::flag`], which maps
//! `InvalidArgument`, `Parse` and `BadQuery` to 2.

use std::fmt;
use std::io;

/// Exit status for bad usage or a bad argument.
pub const EXIT_USAGE: u8 = 2;
/// Exit status when stored data is corrupt.
pub const EXIT_CORRUPTION: u8 = 3;
/// Exit status for every other failure.
pub const EXIT_FAILURE: u8 = 1;

/// An error to print as `historian: <message>` and exit with `code`.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
}

/// Result alias of the binary.
pub type CliResult<T = ()> = Result<T, CliError>;

impl CliError {
    /// A failure (exit 1).
    pub fn failure(message: impl Into<String>) -> Self {
        CliError {
            code: EXIT_FAILURE,
            message: message.into(),
        }
    }

    /// Bad usage or a bad argument (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            code: EXIT_USAGE,
            message: message.into(),
        }
    }

    /// A library error caused by the value of flag `flag`: argument, parse and
    /// query-request errors exit 2, others keep their usual status.
    pub fn flag(flag: &str, err: historian::Error) -> Self {
        let bad_arg = err.is_bad_argument();
        let mut e = CliError::from(err);
        if bad_arg {
            e.code = EXIT_USAGE;
            e.message = format!("{flag}: {}", e.message);
        }
        e
    }

    /// An I/O error on `path`.
    pub fn io(path: impl fmt::Display, err: io::Error) -> Self {
        CliError::failure(format!("{path}: {err}"))
    }

    /// The same error with `context: ` in front of its message.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl From<historian::Error> for CliError {
    fn from(err: historian::Error) -> Self {
        let code = if err.is_corruption() {
            EXIT_CORRUPTION
        } else {
            EXIT_FAILURE
        };
        CliError {
            code,
            message: err.to_string(),
        }
    }
}

impl fmt::Display for CliError {
    /// The message on one line (newlines become spaces).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let one_line: String = self
            .message
            .chars()
            .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
            .collect();
        f.write_str(one_line.trim_end())
    }
}

/// Maps an output error; a closed pipe (`historian query | head`) is not an error.
pub fn output_error(what: impl fmt::Display, err: io::Error) -> CliError {
    if err.kind() == io::ErrorKind::BrokenPipe {
        CliError {
            code: 0,
            message: String::new(),
        }
    } else {
        CliError::failure(format!("writing {what}: {err}"))
    }
}
