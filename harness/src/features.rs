//! Finding `.feature` files and pre-parsing them.
//!
//! cucumber's own parser reports a broken feature only as `Could not parse feature file: <path>`;
//! the position sits in a private error. [`parse_feature`] parses each file up front with the same
//! gherkin parser and turns its error into a [`FeatureError`] that prints `file:line:col: message`,
//! so `ovms-hil run` and `ovms-hil lint` can name the exact spot and stop before anything starts.

use std::fmt;
use std::path::{Path, PathBuf};

use cucumber::gherkin;

/// A feature file that could not be found, read or parsed, with its position (lines and columns from 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeatureError {
    /// The file (or the path that was given).
    pub path: PathBuf,
    /// Line, from 1; 0 when the error is not about a position in the file.
    pub line: usize,
    /// Column, from 1; 0 when unknown.
    pub col: usize,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for FeatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path.display(), self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                self.line,
                self.col,
                self.message
            )
        }
    }
}

impl std::error::Error for FeatureError {}

/// Every `.feature` file under `paths` (directories are walked recursively), sorted, without duplicates.
///
/// A path that does not exist, or a file that is not a `.feature` file, is an error.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, FeatureError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else if p.is_file() {
            if !is_feature(p) {
                return Err(FeatureError {
                    path: p.clone(),
                    line: 0,
                    col: 0,
                    message: "not a .feature file".into(),
                });
            }
            out.push(p.clone());
        } else {
            return Err(FeatureError {
                path: p.clone(),
                line: 0,
                col: 0,
                message: "no such file or directory".into(),
            });
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn is_feature(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "feature")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), FeatureError> {
    let entries = std::fs::read_dir(dir).map_err(|e| FeatureError {
        path: dir.to_path_buf(),
        line: 0,
        col: 0,
        message: format!("cannot read directory: {e}"),
    })?;
    for entry in entries.flatten() {
        let p = entry.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else if is_feature(&p) {
            out.push(p);
        }
    }
    Ok(())
}

/// Parse one feature file; a syntax error carries the line and column gherkin found it at.
pub fn parse_feature(path: &Path) -> Result<gherkin::Feature, FeatureError> {
    match gherkin::Feature::parse_path(path, gherkin::GherkinEnv::default()) {
        Ok(f) => Ok(f),
        Err(gherkin::ParseFileError::Reading { source, .. }) => Err(FeatureError {
            path: path.to_path_buf(),
            line: 0,
            col: 0,
            message: format!("cannot read: {source}"),
        }),
        Err(gherkin::ParseFileError::Parsing { source, error, .. }) => {
            let (line, col, rest) = split_position(&source.to_string());
            let mut message = format!("syntax error: {}", describe_expected(&rest));
            if let Some(env) = error {
                message.push_str(&format!(" ({env})"));
            }
            Err(FeatureError {
                path: path.to_path_buf(),
                line,
                col,
                message,
            })
        }
    }
}

/// Split gherkin's `Error at L:C: rest` into its parts (0, 0 when the text has another shape).
fn split_position(text: &str) -> (usize, usize, String) {
    let parse = || -> Option<(usize, usize, String)> {
        let rest = text.strip_prefix("Error at ")?;
        let (pos, msg) = rest.split_once(": ")?;
        let (l, c) = pos.split_once(':')?;
        Some((l.parse().ok()?, c.parse().ok()?, msg.to_string()))
    };
    parse().unwrap_or((0, 0, text.to_string()))
}

/// gherkin prints the expected token set as a Rust debug value; keep it readable.
fn describe_expected(rest: &str) -> String {
    let trimmed = rest.trim();
    if trimmed.is_empty() {
        "unexpected input".into()
    } else {
        format!("expected one of {trimmed}")
    }
}

/// Parse every file; the good ones and every error (one bad file does not hide the others).
pub fn parse_all(files: &[PathBuf]) -> (Vec<gherkin::Feature>, Vec<FeatureError>) {
    let mut ok = Vec::new();
    let mut errs = Vec::new();
    for f in files {
        match parse_feature(f) {
            Ok(feat) => ok.push(feat),
            Err(e) => errs.push(e),
        }
    }
    (ok, errs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_error_has_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.feature");
        std::fs::write(
            &p,
            "Feature: x\n\n  Scenario: y\n    Given a step\n    Frobnicate nothing\n",
        )
        .unwrap();
        let e = parse_feature(&p).unwrap_err();
        assert_eq!(e.line, 5, "{e}");
        assert!(e.col >= 1, "{e}");
        let shown = e.to_string();
        assert!(shown.starts_with(&format!("{}:5:", p.display())), "{shown}");
    }

    #[test]
    fn good_file_parses_and_discover_finds_it() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a");
        std::fs::create_dir(&sub).unwrap();
        let p = sub.join("ok.feature");
        std::fs::write(&p, "Feature: x\n  Scenario: y\n    Given a step\n").unwrap();
        std::fs::write(sub.join("notes.md"), "ignored").unwrap();
        let files = discover(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(files, vec![p.clone()]);
        let f = parse_feature(&p).unwrap();
        assert_eq!(f.scenarios.len(), 1);
    }

    #[test]
    fn missing_path_is_an_error() {
        let e = discover(&[PathBuf::from("/nonexistent/features")]).unwrap_err();
        assert!(e.to_string().contains("no such file"), "{e}");
    }
}
