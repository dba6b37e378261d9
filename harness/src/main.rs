//! The `ovms-hil` command line: parses arguments and hands over to [`ovms_hil::cli::main`].
fn main() -> std::process::ExitCode {
    ovms_hil::cli::main()
}
