//! DBC decoding: our own small parser (strict or lenient, errors with `FILE:LINE:COL`) and a
//! precompiled decoder.
//!
//! Why not `can-dbc`: its semantic errors carry no position, it has no lenient mode for the
//! defects real files have (missing `BS_`/`BU_`, overlapping signals, `VAL_` for a signal that does
//! not exist) and we would still need our own extraction layer for speed. The DBC subset needed
//! for decoding is small (see [`parser`]).
//!
//! ```
//! use ovms_vehicles::dbc::{Dbc, LoadOptions};
//! let text = "VERSION \"\"\nNS_ :\nBS_:\nBU_: A\nBO_ 291 M: 2 A\n SG_ S : 0|16@1+ (0.5,1) [0|0] \"\" A\n";
//! let dbc = Dbc::parse_str(text, "x.dbc", LoadOptions::default()).unwrap();
//! let mut out = Vec::new();
//! let m = dbc.decode(0x123, false, &[0x10, 0x00], &mut out).unwrap();
//! assert_eq!(dbc.messages()[m].name, "M");
//! assert_eq!(out, vec![(0, 9.0)]);
//! ```

pub mod decode;
pub mod error;
pub mod lexer;
pub mod model;
pub mod parser;

use std::path::{Path, PathBuf};

pub use decode::{id_key, CompiledMessage, IdMap};
pub use error::{DbcError, DbcWarning, Pos};
pub use model::{ByteOrder, Message, Mux, Signal, ValueType};
pub use parser::LoadOptions;

/// One or more DBC files loaded and compiled for decoding. When several files define the same
/// identifier, the first file loaded wins.
#[derive(Clone, Debug, Default)]
pub struct Dbc {
    messages: Vec<Message>,
    compiled: Vec<CompiledMessage>,
    index: IdMap<u32>,
    warnings: Vec<DbcWarning>,
    value_tables: Vec<(String, Vec<(i64, String)>)>,
}

impl Dbc {
    /// Loads one DBC file.
    pub fn load(path: &Path, opts: LoadOptions) -> Result<Self, DbcError> {
        let bytes = std::fs::read(path).map_err(|source| DbcError::Io {
            file: path.to_path_buf(),
            source,
        })?;
        // DBC files are often Latin-1/CP1252; decode bytes as Latin-1 where they are not UTF-8.
        let text = match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => e.into_bytes().iter().map(|&b| b as char).collect(),
        };
        Self::parse_str(&text, path, opts)
    }

    /// Loads several DBC files into one database (first definition of an id wins).
    pub fn load_all(paths: &[PathBuf], opts: LoadOptions) -> Result<Self, DbcError> {
        let mut db = Dbc::default();
        for p in paths {
            db.merge(Dbc::load(p, opts)?);
        }
        Ok(db)
    }

    /// Parses DBC text; `file` names it in errors and warnings.
    pub fn parse_str(
        text: &str,
        file: impl AsRef<Path>,
        opts: LoadOptions,
    ) -> Result<Self, DbcError> {
        let parsed = parser::parse(text, file.as_ref(), opts)?;
        let mut db = Dbc {
            warnings: parsed.warnings,
            value_tables: parsed.value_tables,
            ..Dbc::default()
        };
        for m in parsed.messages {
            db.push(m);
        }
        Ok(db)
    }

    fn push(&mut self, m: Message) {
        let key = id_key(m.id, m.extended);
        if self.index.contains_key(&key) {
            return;
        }
        self.index.insert(key, self.messages.len() as u32);
        self.compiled.push(CompiledMessage::new(&m));
        self.messages.push(m);
    }

    /// Adds the messages of `other` whose identifiers are not defined yet.
    pub fn merge(&mut self, other: Dbc) {
        self.warnings.extend(other.warnings);
        self.value_tables.extend(other.value_tables);
        for m in other.messages {
            self.push(m);
        }
    }

    /// All messages.
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// The compiled form of message `idx`.
    pub fn compiled(&self, idx: usize) -> &CompiledMessage {
        &self.compiled[idx]
    }

    /// Defects tolerated while loading in lenient mode.
    pub fn warnings(&self) -> &[DbcWarning] {
        &self.warnings
    }

    /// Named value tables (`VAL_TABLE_`).
    pub fn value_tables(&self) -> &[(String, Vec<(i64, String)>)] {
        &self.value_tables
    }

    /// Index of the message for a frame identifier.
    #[inline]
    pub fn find(&self, id: u32, extended: bool) -> Option<usize> {
        self.index.get(&id_key(id, extended)).map(|&i| i as usize)
    }

    /// Index of the message called `name`.
    pub fn find_by_name(&self, name: &str) -> Option<usize> {
        self.messages.iter().position(|m| m.name == name)
    }

    /// Decodes a frame: appends `(signal index, physical value)` to `out` and returns the message
    /// index, or `None` when no message has this identifier.
    #[inline]
    pub fn decode(
        &self,
        id: u32,
        extended: bool,
        data: &[u8],
        out: &mut Vec<(u16, f64)>,
    ) -> Option<usize> {
        let idx = self.find(id, extended)?;
        self.compiled[idx].decode_into(data, out);
        Some(idx)
    }
}

#[cfg(test)]
mod tests;
