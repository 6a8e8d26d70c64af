//! The import report: files, rows, points, series, seconds and points per second, as
//! aligned text or one JSON object (`--json`).

use std::io::Write;

use serde_json::json;

use crate::error::{output_error, CliResult};

/// What an import did.
#[derive(Debug, Clone)]
pub struct ImportReport {
    pub files: usize,
    pub rows: u64,
    pub points: u64,
    pub series: usize,
    pub seconds: f64,
    /// Why the import stopped early, if it did.
    pub error: Option<String>,
}

impl ImportReport {
    /// Committed points per second of wall time.
    pub fn points_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.points as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// Prints the report on stdout.
    pub fn print(&self, json: bool) -> CliResult {
        let text = if json {
            let mut v = json!({
                "files": self.files,
                "rows": self.rows,
                "points": self.points,
                "series": self.series,
                "seconds": self.seconds,
                "points_per_second": self.points_per_second(),
            });
            if let (Some(e), Some(map)) = (&self.error, v.as_object_mut()) {
                map.insert("error".into(), json!(e));
            }
            format!("{v}\n")
        } else {
            self.text()
        };
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| output_error("stdout", e))
    }

    fn text(&self) -> String {
        let status = if self.error.is_some() {
            "import stopped early"
        } else {
            "import complete"
        };
        format!(
            "{status}\n  files              {}\n  rows               {}\n  \
             points             {}\n  series             {}\n  seconds            {:.3}\n  \
             points_per_second  {:.0}\n",
            self.files,
            self.rows,
            self.points,
            self.series,
            self.seconds,
            self.points_per_second()
        )
    }
}
