//! `ovms-emu`: one emulated OVMS v3 module on a real MQTT broker.
//!
//! The binary only parses arguments, sets up logging and runs the library's edge runtime
//! (`ovms_emu::spawn`), plus the optional control channel and CAN simulate server.
//! Exit codes: 0 clean stop (SIGTERM/SIGINT), 1 fatal error, 2 usage error.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
