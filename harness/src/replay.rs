//! `ovms-hil replay`: a CAN log into the emulated module through a real broker.
//!
//! TODO(harness): waiting for `ovms_vehicles::load_vehicle` and the final ovms-canlog reader API.

use crate::cli::ReplayArgs;

/// Entry point; returns the exit code.
pub async fn main(_args: ReplayArgs) -> u8 {
    eprintln!("ovms-hil replay: not available in this build yet");
    2
}
