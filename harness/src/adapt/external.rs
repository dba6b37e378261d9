//! The subcommands other crates own: `ovms-hil canlog ...` (ovms-canlog) and `ovms-hil dbc decode`
//! (ovms-vehicles). Only this file changes when their CLI modules change.

use std::process::ExitCode;

/// `ovms-hil canlog` subcommands (owned by ovms-canlog).
pub type CanlogCommand = ovms_canlog::cli::CanlogCommand;

/// `ovms-hil dbc decode` arguments (owned by ovms-vehicles).
pub type DbcDecodeArgs = ovms_vehicles::cli::DbcDecodeArgs;

/// Run a canlog subcommand.
pub fn run_canlog(cmd: CanlogCommand) -> Result<ExitCode, String> {
    ovms_canlog::cli::run(cmd).map_err(|e| e.to_string())
}

/// Run `dbc decode`.
pub fn run_dbc_decode(args: DbcDecodeArgs) -> Result<ExitCode, String> {
    ovms_vehicles::cli::run_decode(args).map_err(|e| e.to_string())
}
