//! Running the `ovms-hil` binary from integration tests (shared by the test files that include
//! it with `mod hil_cli;`).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("repository root")
}

/// `ovms-hil ARGS` in `cwd`, waited for.
pub fn hil(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ovms-hil"))
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("ovms-hil runs")
}

/// Exit code, stdout and stderr of `o`, for assertion messages.
pub fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A path as a command-line argument.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Runs `cmd`, sends it SIGINT as soon as a stderr line starts with `prefix`, and returns its
/// exit status and its whole stderr. `context` is added to the panic when it ends before such a
/// line.
pub fn interrupt_at_line(
    mut cmd: Command,
    prefix: &str,
    context: impl Fn() -> String,
) -> (ExitStatus, String) {
    let mut child = cmd.stderr(Stdio::piped()).spawn().unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        if err.read_line(&mut line).unwrap() == 0 {
            let _ = child.wait();
            panic!(
                "ended before a line starting with {prefix:?}: {seen}\n{}",
                context()
            );
        }
        seen.push_str(&line);
        if line.starts_with(prefix) {
            break;
        }
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    seen.push_str(&rest);
    (status, seen)
}
