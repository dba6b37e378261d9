//! The conformance slice (`features/`) for every shipped profile against the emulated module and
//! the auto broker (a local mosquitto when installed). Runs with `cargo test -p ovms-hil --test bdd`
//! (not under nextest: cucumber's harness-less binary does not speak its protocol) and ends with a
//! plain `N passed, N failed` line, the coverage table and the wall/protocol time ratio.
//!
//! Environment: `OVMS_HIL_BROKER` (auto, mosquitto, ...), `OVMS_HIL_TAGS` (a tag expression),
//! `OVMS_HIL_PROFILES` (comma-separated), `OVMS_HIL_FEATURES` (comma-separated files or
//! directories, relative to the repository root).

use std::process::ExitCode;

use ovms_hil::config::RunConfig;
use ovms_hil::report::summary;

#[tokio::main]
async fn main() -> ExitCode {
    let root = RunConfig::repo_root();
    let mut cfg = RunConfig::new(&root);
    cfg.broker = std::env::var("OVMS_HIL_BROKER").ok();
    cfg.tags = std::env::var("OVMS_HIL_TAGS").ok();
    if let Ok(f) = std::env::var("OVMS_HIL_FEATURES") {
        cfg.paths = f.split(',').map(|s| root.join(s.trim())).collect();
    }
    if let Ok(p) = std::env::var("OVMS_HIL_PROFILES") {
        cfg.profiles = p.split(',').map(|s| s.trim().to_string()).collect();
    }
    match ovms_hil::runner::run(&cfg).await {
        Ok(results) => {
            print!("{}", summary::render(&results));
            if results.all_passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("bdd: {e}");
            println!("0 passed, 1 failed");
            ExitCode::FAILURE
        }
    }
}
