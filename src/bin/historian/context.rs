//! What every command shares: the data directory, opening the engine with the
//! global durability, looking up tenants, and parsing time and selector flags.

use std::path::{Path, PathBuf};
use std::time::Duration;

use historian::model::validate_tenant_name;
use historian::text::time::{parse_timestamp, Timezone};
use historian::{Durability, Engine, Options, Selector, Tenant};

use crate::args::{Cli, DurabilityArg};
use crate::error::{CliError, CliResult};

/// Environment variable naming the default data directory.
const DATA_DIR_ENV: &str = "HISTORIAN_DATA_DIR";
/// Data directory when neither the flag nor the environment names one.
const DEFAULT_DATA_DIR: &str = "historian-data";

/// The global flags, resolved.
#[derive(Debug, Clone)]
pub struct Context {
    pub data_dir: PathBuf,
    /// True when `--data-dir` was given on the command line.
    pub data_dir_explicit: bool,
    pub durability: Durability,
}

impl Context {
    /// Resolves `--data-dir` (flag, then `$HISTORIAN_DATA_DIR`, then the default).
    pub fn new(cli: &Cli) -> Self {
        let env_dir = std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty());
        let data_dir = match (&cli.data_dir, env_dir) {
            (Some(d), _) => d.clone(),
            (None, Some(d)) => PathBuf::from(d),
            (None, None) => PathBuf::from(DEFAULT_DATA_DIR),
        };
        Context {
            data_dir,
            data_dir_explicit: cli.data_dir.is_some(),
            durability: durability(cli.durability),
        }
    }

    /// Opens (creating if needed) the engine in the data directory.
    pub fn open(&self) -> CliResult<Engine> {
        open_engine(&self.data_dir, self.durability)
    }

    /// Opens the engine of an existing data directory (read-only commands must not
    /// create one by accident).
    pub fn open_existing(&self) -> CliResult<Engine> {
        self.require_data_dir()?;
        self.open()
    }

    /// Fails unless the data directory exists.
    pub fn require_data_dir(&self) -> CliResult {
        if self.data_dir.is_dir() {
            Ok(())
        } else {
            Err(CliError::failure(format!(
                "data directory {} does not exist (set --data-dir or ${DATA_DIR_ENV})",
                self.data_dir.display()
            )))
        }
    }
}

/// The engine's durability for a `--durability` value.
pub fn durability(arg: DurabilityArg) -> Durability {
    match arg {
        DurabilityArg::Sync => Durability::Sync,
        DurabilityArg::Periodic => Durability::Periodic(Duration::from_millis(100)),
        DurabilityArg::None => Durability::None,
    }
}

/// The name printed for a durability mode.
pub fn durability_name(d: Durability) -> &'static str {
    match d {
        Durability::Sync => "sync",
        Durability::Periodic(_) => "periodic",
        Durability::None => "none",
    }
}

/// Opens the engine at `dir`.
pub fn open_engine(dir: &Path, durability: Durability) -> CliResult<Engine> {
    let opts = Options::default().with_durability(durability);
    Engine::open(dir, opts).map_err(|e| CliError::from(e).context(dir.display()))
}

/// Checks a `--tenant` value (exit 2 when malformed).
pub fn check_tenant_name(name: &str) -> CliResult {
    validate_tenant_name(name).map_err(|e| CliError::flag("--tenant", e))
}

/// The handle of an existing tenant (a malformed name exits 2, a missing one 1).
pub fn existing_tenant(engine: &Engine, name: &str) -> CliResult<Tenant> {
    check_tenant_name(name)?;
    Ok(engine.existing_tenant(name)?)
}

/// The tenants a command reports on: `only`, or all of them.
pub fn tenants_of(engine: &Engine, only: Option<&str>) -> CliResult<Vec<Tenant>> {
    match only {
        Some(name) => Ok(vec![existing_tenant(engine, name)?]),
        None => Ok(engine
            .tenants()
            .iter()
            .map(|n| engine.existing_tenant(n))
            .collect::<Result<_, _>>()?),
    }
}

/// Parses a `--select` value.
pub fn selector(text: &str) -> CliResult<Selector> {
    Selector::parse(text).map_err(|e| CliError::flag("--select", e))
}

/// Parses an optional `--from`/`--to` value (UTC unless it carries an offset).
pub fn time_flag(flag: &str, value: Option<&str>, unbounded: i64) -> CliResult<i64> {
    match value {
        None => Ok(unbounded),
        Some(v) => parse_timestamp(v, Timezone::UTC).map_err(|e| CliError::flag(flag, e)),
    }
}
