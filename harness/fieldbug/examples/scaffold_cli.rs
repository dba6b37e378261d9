//! Runs the library side of `ovms-hil scaffold` from the command line (for trying it out before
//! the `ovms-hil` binary wires it in):
//! `cargo run -p ovms-hil-fieldbug --example scaffold_cli -- DIR --name NAME [--root R] ...`

use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: ovms_hil_fieldbug::cli::ScaffoldArgs,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match ovms_hil_fieldbug::cli::run_scaffold(&cli.args, &mut std::io::stdout()) {
        Ok(_) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scaffold: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
