//! Finding the `ovms-emu` binary for end-to-end runs where `ovms-emu` stands in for a bench module
//! (the CI proof of the bench path, and tests of other packages, which cannot use Cargo's
//! `CARGO_BIN_EXE_*` for another package's binary).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The `ovms-emu` binary:
/// 1. `$OVMS_EMU` when set;
/// 2. else `cargo build -p ovms-emu` into the calling test's own target directory, and that binary;
/// 3. when the outer `cargo test` still holds that directory's lock and has already built
///    `ovms-emu` there (as `cargo test --workspace` does, since ovms-emu has integration tests),
///    that binary as it is;
/// 4. else a build into a nested target directory.
///
/// `workspace_root` is the directory holding the root `Cargo.toml`.
pub fn ovms_emu_binary(workspace_root: &Path) -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("OVMS_EMU") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    // <target>/<profile>/deps/<test binary> → <target>/<profile>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("the test binary does not live in <target>/<profile>/deps")?
        .to_path_buf();
    let target = profile_dir
        .parent()
        .ok_or("the test binary does not live in <target>/<profile>/deps")?
        .to_path_buf();
    let existing = profile_dir.join("ovms-emu");
    match cargo_build(workspace_root, &target)? {
        Built::Done => Ok(existing),
        Built::Locked if existing.is_file() => Ok(existing),
        Built::Locked => {
            let nested = target.join("ovms-emu-nested");
            match cargo_build(workspace_root, &nested)? {
                Built::Done => Ok(nested.join("debug/ovms-emu")),
                Built::Locked => Err(format!("{} is locked by another build", nested.display())),
            }
        }
    }
}

enum Built {
    Done,
    Locked,
}

fn cargo_build(root: &Path, target: &Path) -> Result<Built, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut child = Command::new(&cargo)
        .args(["build", "-p", "ovms-emu", "--bin", "ovms-emu"])
        .current_dir(root)
        .env("CARGO_TARGET_DIR", target)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{cargo}: {e}"))?;
    let mut log = String::new();
    let stderr = child.stderr.take().ok_or("no stderr pipe")?;
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        if line.contains("Blocking waiting for file lock") {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(Built::Locked);
        }
        log.push_str(&line);
        log.push('\n');
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(Built::Done)
    } else {
        Err(format!("cargo build -p ovms-emu failed:\n{log}"))
    }
}
