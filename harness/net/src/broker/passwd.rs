//! Mosquitto password and ACL files.
//!
//! The password file is written by `mosquitto_passwd -b` when that tool is installed, else by
//! [`hash_password`], which produces the same `$7$` line format (PBKDF2-HMAC-SHA512, 101
//! iterations, 12-byte salt, standard base64) that mosquitto 2.x verifies.

use super::BrokerError;
use base64::Engine as _;
use ring::rand::SecureRandom;
use std::num::NonZeroU32;
use std::path::Path;
use std::process::Command;

/// PBKDF2 iteration count mosquitto 2.x uses by default.
pub const PBKDF2_ITERATIONS: u32 = 101;

/// How to produce the password file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PasswdMethod {
    /// `mosquitto_passwd` when found on PATH (or next to the broker), else [`PasswdMethod::Builtin`].
    #[default]
    Auto,
    /// Always run `mosquitto_passwd -b`.
    Tool,
    /// Always hash in-process.
    Builtin,
}

/// The `$7$` hash field for `password` with the given salt.
pub fn hash_password(password: &str, salt: &[u8]) -> String {
    let mut out = [0u8; 64];
    let iterations = NonZeroU32::new(PBKDF2_ITERATIONS).unwrap_or(NonZeroU32::MIN);
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA512,
        iterations,
        salt,
        password.as_bytes(),
        &mut out,
    );
    let b64 = base64::engine::general_purpose::STANDARD;
    format!(
        "$7${}${}${}",
        PBKDF2_ITERATIONS,
        b64.encode(salt),
        b64.encode(out)
    )
}

/// Finds `mosquitto_passwd` on PATH.
pub fn find_passwd_tool() -> Option<std::path::PathBuf> {
    super::find_in_path("mosquitto_passwd")
}

/// Writes a password file for `users` (name, password) using `method`.
pub fn write_password_file(
    path: &Path,
    users: &[(String, String)],
    method: PasswdMethod,
) -> Result<(), BrokerError> {
    let tool = match method {
        PasswdMethod::Builtin => None,
        PasswdMethod::Auto => find_passwd_tool(),
        PasswdMethod::Tool => Some(find_passwd_tool().ok_or_else(|| BrokerError::NotFound {
            what: "mosquitto_passwd (install the mosquitto package)".into(),
        })?),
    };
    match tool {
        Some(tool) => {
            std::fs::write(path, b"").map_err(|source| io(path, source))?;
            for (user, pass) in users {
                let out = Command::new(&tool)
                    .arg("-b")
                    .arg(path)
                    .arg(user)
                    .arg(pass)
                    .output()
                    .map_err(|source| io(&tool, source))?;
                if !out.status.success() {
                    return Err(BrokerError::Config(format!(
                        "mosquitto_passwd failed for user {user:?}: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    )));
                }
            }
            Ok(())
        }
        None => {
            let rng = ring::rand::SystemRandom::new();
            let mut text = String::new();
            for (user, pass) in users {
                if user.contains(':') || user.contains('\n') {
                    return Err(BrokerError::Config(format!(
                        "user name {user:?} may not contain ':' or a newline"
                    )));
                }
                let mut salt = [0u8; 12];
                rng.fill(&mut salt)
                    .map_err(|_| BrokerError::Config("no system randomness for the salt".into()))?;
                text.push_str(&format!("{user}:{}\n", hash_password(pass, &salt)));
            }
            std::fs::write(path, text).map_err(|source| io(path, source))
        }
    }
}

/// Writes an ACL file granting each user read/write below `pattern` (e.g. `ovms/%u/#`).
pub fn write_acl_file(path: &Path, pattern: &str) -> Result<(), BrokerError> {
    std::fs::write(path, format!("pattern readwrite {pattern}\n"))
        .map_err(|source| io(path, source))
}

fn io(path: &Path, source: std::io::Error) -> BrokerError {
    BrokerError::Io {
        context: path.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_line_written_by_mosquitto_passwd() {
        // `mosquitto_passwd -b pw alice secret` (mosquitto 2.0.11) wrote this hash:
        let line = "$7$101$wab1kWAwKfIiFA32$TLd5ITyI2R3zbNX6KO0dbBijrEkwxHltX8SnfzaPaw5WSiHQ+HFebtumKVwcikRQzREPaZROcgfqnI4EAK8bZQ==";
        let salt = base64::engine::general_purpose::STANDARD
            .decode("wab1kWAwKfIiFA32")
            .unwrap();
        assert_eq!(hash_password("secret", &salt), line);
        assert_ne!(hash_password("Secret", &salt), line);
    }

    #[test]
    fn builtin_file_has_one_line_per_user_and_rejects_colons() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pw");
        let users = vec![
            ("a".to_string(), "x".to_string()),
            ("b".to_string(), "y".to_string()),
        ];
        write_password_file(&p, &users, PasswdMethod::Builtin).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("a:$7$101$") && lines[1].starts_with("b:$7$101$"));
        let bad = vec![("a:b".to_string(), "x".to_string())];
        assert!(write_password_file(&p, &bad, PasswdMethod::Builtin).is_err());
    }
}
