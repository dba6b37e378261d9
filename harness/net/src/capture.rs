//! The capture file: one JSON object per line from the tap and the observer, written and flushed
//! line by line so that whatever was seen before a crash (even SIGKILL) is on disk; and its reader.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Who produced a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The wire tap (what the module sent / the broker sent back).
    Tap,
    /// An observer client (what subscribers see).
    Observer,
}

/// One line of the capture file.
///
/// `src`, `t` and `wall` are always present; `topic`, `payload`, `qos` and `retain` are present
/// for publishes (and wills); other fields depend on `kind`. Unknown fields are kept in `extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptureRecord {
    /// Producer.
    pub src: Source,
    /// Virtual time in seconds, when the harness runs a virtual clock.
    pub t: Option<f64>,
    /// Wall-clock Unix seconds.
    pub wall: f64,
    /// Record kind: `"connect"`, `"publish"`, `"subscribe"`, `"error"`, `"closed"`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Tap direction: `"to_broker"` (module sent) or `"to_client"` (broker sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    /// Tap connection number or observer name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conn: Option<String>,
    /// Topic name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Payload: UTF-8 text, or base64 when `payload_encoding` is `"base64"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// `"base64"` for non-UTF-8 payloads; absent for text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_encoding: Option<String>,
    /// QoS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qos: Option<u8>,
    /// Retain flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retain: Option<bool>,
    /// DUP flag (tap publishes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dup: Option<bool>,
    /// Any further fields.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl CaptureRecord {
    /// A record with only the mandatory fields set.
    pub fn new(src: Source, t: Option<f64>, wall: f64) -> Self {
        CaptureRecord {
            src,
            t,
            wall,
            kind: None,
            dir: None,
            conn: None,
            topic: None,
            payload: None,
            payload_encoding: None,
            qos: None,
            retain: None,
            dup: None,
            extra: serde_json::Map::new(),
        }
    }

    /// Sets `payload` (and `payload_encoding` for binary data).
    pub fn with_payload(mut self, bytes: &[u8]) -> Self {
        let (text, enc) = encode_payload(bytes);
        self.payload = Some(text);
        self.payload_encoding = enc.map(str::to_owned);
        self
    }

    /// The payload bytes (decoding base64 when flagged).
    pub fn payload_bytes(&self) -> Option<Vec<u8>> {
        let p = self.payload.as_ref()?;
        match self.payload_encoding.as_deref() {
            Some("base64") => base64::engine::general_purpose::STANDARD.decode(p).ok(),
            _ => Some(p.as_bytes().to_vec()),
        }
    }
}

/// Text for a payload: itself when UTF-8, else base64 with encoding `"base64"`.
pub fn encode_payload(bytes: &[u8]) -> (String, Option<&'static str>) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_owned(), None),
        Err(_) => (
            base64::engine::general_purpose::STANDARD.encode(bytes),
            Some("base64"),
        ),
    }
}

/// Errors writing or reading a capture file.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The file could not be created, written or read.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A line is not a capture record.
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        /// File.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column within the line.
        column: usize,
        /// What was wrong.
        message: String,
    },
}

/// A shared, cloneable capture writer; every record is one `write` of one line, unbuffered.
#[derive(Debug, Clone)]
pub struct CaptureWriter {
    inner: Arc<Mutex<File>>,
    path: PathBuf,
}

impl CaptureWriter {
    /// Creates (truncates) the capture file.
    pub fn create(path: impl AsRef<Path>) -> Result<Self, CaptureError> {
        let path = path.as_ref().to_path_buf();
        let file = File::create(&path).map_err(|source| CaptureError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(CaptureWriter {
            inner: Arc::new(Mutex::new(file)),
            path,
        })
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record as one line.
    pub fn write(&self, rec: &CaptureRecord) -> Result<(), CaptureError> {
        let mut line = serde_json::to_vec(rec).map_err(|e| CaptureError::Io {
            path: self.path.clone(),
            source: std::io::Error::other(e),
        })?;
        line.push(b'\n');
        let mut f = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f.write_all(&line).map_err(|source| CaptureError::Io {
            path: self.path.clone(),
            source,
        })
    }
}

/// Reads a capture file; a bad line gives its file, line and column.
pub fn read_capture(path: impl AsRef<Path>) -> Result<Vec<CaptureRecord>, CaptureError> {
    let path = path.as_ref();
    let io = |source| CaptureError::Io {
        path: path.to_path_buf(),
        source,
    };
    let reader = BufReader::new(File::open(path).map_err(io)?);
    let mut out = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(io)?;
        if line.trim().is_empty() {
            continue;
        }
        let rec = serde_json::from_str(&line).map_err(|e| CaptureError::Parse {
            path: path.to_path_buf(),
            line: i + 1,
            column: e.column(),
            message: e.to_string(),
        })?;
        out.push(rec);
    }
    Ok(out)
}
