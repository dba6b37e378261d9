//! Runs the library side of `ovms-hil anonymise` from the command line (for trying it out before
//! the `ovms-hil` binary wires it in):
//! `cargo run -p ovms-hil-fieldbug --example anonymise_cli -- ARGS`

use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: ovms_hil_fieldbug::cli::AnonymiseArgs,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match ovms_hil_fieldbug::cli::run_anonymise(&cli.args, &mut std::io::stdout()) {
        Ok(_) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("anonymise: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
