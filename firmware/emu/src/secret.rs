//! The MQTT password: held only at the edge, never printed.

use std::fmt;
use std::path::Path;

/// A password that never shows in `Debug` or log output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

/// A password file that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read password file {path}: {source}")]
pub struct SecretError {
    /// The file.
    pub path: String,
    /// Why.
    pub source: std::io::Error,
}

impl Secret {
    /// Wrap a password.
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// Read a password file: its first line, without the line ending (`\n` or `\r\n`).
    pub fn from_file(path: &Path) -> Result<Secret, SecretError> {
        let text = std::fs::read_to_string(path).map_err(|source| SecretError {
            path: path.display().to_string(),
            source,
        })?;
        let first = text.lines().next().unwrap_or("");
        Ok(Secret(first.to_string()))
    }

    /// The password itself, for the CONNECT packet only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password_and_file_reads_first_line() {
        let s = Secret::new("hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
        let dir = std::env::temp_dir().join(format!("ovms-emu-secret-{}", std::process::id()));
        std::fs::write(&dir, "pa ss\r\nignored\n").unwrap();
        assert_eq!(Secret::from_file(&dir).unwrap().expose(), "pa ss");
        std::fs::remove_file(&dir).unwrap();
        let e = Secret::from_file(Path::new("/nonexistent/pw")).unwrap_err();
        assert!(e
            .to_string()
            .starts_with("cannot read password file /nonexistent/pw"));
    }
}
