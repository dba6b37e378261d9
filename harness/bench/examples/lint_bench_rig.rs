//! Lint bench rig files until `ovms-hil lint` calls the bench linter itself:
//! `cargo run -p ovms-hil-bench --example lint_bench_rig -- rigs/bench-*.yaml`.
//! Prints every finding as `file:line:col: message`; exit code 2 when there are errors.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut errors = 0;
    let mut warnings = 0;
    for path in std::env::args().skip(1) {
        for d in ovms_hil_bench::lint_bench_rig(&path) {
            println!("{d}");
            if d.is_error() {
                errors += 1;
            } else {
                warnings += 1;
            }
        }
        if let Ok(rig) = ovms_hil_bench::load_bench_rig(&path) {
            println!("{path}: module setup commands:");
            for c in rig.setup_commands() {
                println!("  {c}");
            }
            println!(
                "{path}: interval read commands: {:?}",
                rig.interval_read_commands()
            );
        }
    }
    println!("{errors} error(s), {warnings} warning(s)");
    if errors > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
