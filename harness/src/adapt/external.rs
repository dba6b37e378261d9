//! The subcommands other crates own: `ovms-hil canlog ...` (ovms-canlog) and `ovms-hil dbc decode`
//! (ovms-vehicles). Only this file changes when their CLI modules change.
//!
//! TODO(harness): `ovms_canlog::cli::{CanlogCommand, run}` and
//! `ovms_vehicles::cli::{DbcDecodeArgs, run_decode}` are not published yet; until they are, these
//! subcommands accept their arguments and exit 2 with a message saying so.

use clap::{Args, Subcommand};

/// Placeholder for `ovms_canlog::cli::CanlogCommand` (TODO: replace when it lands).
#[derive(Debug, Subcommand)]
pub enum CanlogCommand {
    /// Convert a log between formats.
    Convert(Passthrough),
    /// Describe a log (format, frames, buses, time span).
    Info(Passthrough),
    /// Print a log's frames.
    Cat(Passthrough),
}

/// Placeholder for `ovms_vehicles::cli::DbcDecodeArgs` (TODO: replace when it lands).
#[derive(Debug, Args)]
pub struct DbcDecodeArgs {
    /// Arguments of the real command.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// Arguments handed through unchanged.
#[derive(Debug, Args)]
pub struct Passthrough {
    /// Arguments of the real command.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// Run a canlog subcommand.
pub fn run_canlog(_cmd: CanlogCommand) -> Result<(), String> {
    Err("not available in this build yet (ovms_canlog::cli has not landed)".into())
}

/// Run `dbc decode`.
pub fn run_dbc_decode(_args: DbcDecodeArgs) -> Result<(), String> {
    Err("not available in this build yet (ovms_vehicles::cli has not landed)".into())
}
