//! Running the rig's shell commands (relay power, the shell command channel) with a timeout.
//!
//! Commands run as `sh -c <command>` in their own process group; on timeout the whole group is
//! killed, so a pipeline or a forgotten `sleep` cannot outlive its budget. stdout and stderr are
//! captured; a non-zero exit or a timeout is an error that carries stderr.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A shell command that did not succeed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShellError {
    /// `sh` could not be started.
    #[error("{what}: cannot run `{command}`: {reason}")]
    Spawn {
        /// What the command is for (`power off`).
        what: String,
        /// The command.
        command: String,
        /// Why.
        reason: String,
    },
    /// Exit status other than 0.
    #[error("{what}: `{command}` exited with {status}{}", stderr_suffix(stderr))]
    Failed {
        /// What the command is for.
        what: String,
        /// The command.
        command: String,
        /// `exit code N` or `signal N`.
        status: String,
        /// Captured stderr (trimmed).
        stderr: String,
    },
    /// Still running after the timeout (killed).
    #[error(
        "{what}: `{command}` still running after {after:?}, killed{}",
        stderr_suffix(stderr)
    )]
    Timeout {
        /// What the command is for.
        what: String,
        /// The command.
        command: String,
        /// Timeout.
        after: Duration,
        /// Captured stderr so far.
        stderr: String,
    },
}

fn stderr_suffix(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("; stderr: {s}")
    }
}

/// What a successful command printed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShellOutput {
    /// stdout.
    pub stdout: String,
    /// stderr.
    pub stderr: String,
}

/// Run `command` with `sh -c`, killing it (and its process group) after `timeout`.
/// `what` names the purpose in errors (`power off`).
pub fn run_shell(what: &str, command: &str, timeout: Duration) -> Result<ShellOutput, ShellError> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| ShellError::Spawn {
            what: what.to_string(),
            command: command.to_string(),
            reason: e.to_string(),
        })?;
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(o) = out.as_mut() {
            let _ = o.read_to_end(&mut s);
        }
        String::from_utf8_lossy(&s).into_owned()
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(e) = err.as_mut() {
            let _ = e.read_to_end(&mut s);
        }
        String::from_utf8_lossy(&s).into_owned()
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if Instant::now() >= deadline => break None,
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => break None,
        }
    };
    let status = match status {
        Some(s) => s,
        None => {
            // Kill the process group we created (pgid = the child's pid), then reap the child.
            let pgid = child.id();
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg("--")
                .arg(format!("-{pgid}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let _ = child.kill();
            let _ = child.wait();
            let stderr = err_t.join().unwrap_or_default().trim().to_string();
            let _ = out_t.join();
            return Err(ShellError::Timeout {
                what: what.to_string(),
                command: command.to_string(),
                after: timeout,
                stderr,
            });
        }
    };
    let stdout = out_t.join().unwrap_or_default();
    let stderr = err_t.join().unwrap_or_default();
    if status.success() {
        return Ok(ShellOutput { stdout, stderr });
    }
    let status = match status.code() {
        Some(c) => format!("exit code {c}"),
        None => {
            use std::os::unix::process::ExitStatusExt;
            format!("signal {}", status.signal().unwrap_or(0))
        }
    };
    Err(ShellError::Failed {
        what: what.to_string(),
        command: command.to_string(),
        status,
        stderr: stderr.trim().to_string(),
    })
}

/// Quote `s` as one POSIX shell word.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A module command channel through a shell command template (`bench.commands.via: shell`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShellCommandChannel {
    /// Template containing `{command}`.
    pub template: String,
    /// Per-command timeout.
    pub timeout: Duration,
}

impl ShellCommandChannel {
    /// The shell line that runs `module_command` (quoted into the template).
    pub fn command_line(&self, module_command: &str) -> String {
        self.template
            .replace("{command}", &shell_quote(module_command))
    }

    /// Run `module_command` on the module; its output (the module's response) on success.
    pub fn run(&self, module_command: &str) -> Result<String, ShellError> {
        let line = self.command_line(module_command);
        run_shell(
            &format!("module command `{module_command}`"),
            &line,
            self.timeout,
        )
        .map(|o| o.stdout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_captures_output() {
        let o = run_shell("t", "echo hi; echo oops >&2", Duration::from_secs(5)).unwrap();
        assert_eq!(o.stdout, "hi\n");
        assert_eq!(o.stderr, "oops\n");
    }

    #[test]
    fn failure_carries_stderr_and_status() {
        let e = run_shell(
            "power off",
            "echo relay busy >&2; exit 3",
            Duration::from_secs(5),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "power off: `echo relay busy >&2; exit 3` exited with exit code 3; stderr: relay busy"
        );
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let t0 = Instant::now();
        let e = run_shell(
            "power on",
            "echo starting >&2; sleep 30 | cat",
            Duration::from_millis(300),
        )
        .unwrap_err();
        assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
        match e {
            ShellError::Timeout { stderr, .. } => assert_eq!(stderr, "starting"),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn quoting_survives_the_shell() {
        let ch = ShellCommandChannel {
            template: "printf '%s\\n' {command}".into(),
            timeout: Duration::from_secs(5),
        };
        let cmd = "config set server.v3 topic.prefix it's $HOME `x`";
        assert_eq!(ch.run(cmd).unwrap(), format!("{cmd}\n"));
    }
}
