//! Runs the library side of `ovms-hil report` from the command line (for trying it out before
//! the `ovms-hil` binary wires it in):
//! `cargo run -p ovms-hil-fieldbug --example report_cli -- ARGS`

use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: ovms_hil_fieldbug::cli::ReportArgs,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match ovms_hil_fieldbug::cli::run_report(&cli.args, &mut std::io::stdout()) {
        Ok(_) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("report: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
