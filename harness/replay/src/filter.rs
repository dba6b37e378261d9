//! Bus mapping and identifier filters.
//!
//! Both have a small text form for command lines: bus maps as `0:1,1:2` (log bus → sink bus) and
//! id lists as `100-1FF,7E8` (hex, inclusive ranges).

use std::collections::BTreeMap;

/// A text filter or map that could not be parsed; `column` is 1-based within the given text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message} in {text:?}")]
pub struct FilterParseError {
    /// The whole text that was parsed.
    pub text: String,
    /// 1-based column where the bad item starts.
    pub column: usize,
    /// What was expected.
    pub message: String,
}

/// An inclusive range of CAN identifiers (`lo..=hi`), compared against the raw identifier
/// (11-bit and 29-bit identifiers share one number space here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRange {
    /// Lowest identifier in the range.
    pub lo: u32,
    /// Highest identifier in the range (inclusive).
    pub hi: u32,
}

impl IdRange {
    /// One identifier.
    pub fn single(id: u32) -> Self {
        IdRange { lo: id, hi: id }
    }

    /// `lo..=hi`; the bounds are swapped if given in the wrong order.
    pub fn new(lo: u32, hi: u32) -> Self {
        IdRange {
            lo: lo.min(hi),
            hi: lo.max(hi),
        }
    }

    /// Whether `id` is inside the range.
    pub fn contains(&self, id: u32) -> bool {
        (self.lo..=self.hi).contains(&id)
    }

    /// Parses a comma-separated list of hex ids and ranges, e.g. `100-1FF,7e8` (optional `0x`).
    pub fn parse_list(text: &str) -> Result<Vec<IdRange>, FilterParseError> {
        let mut out = Vec::new();
        for (column, item) in items(text) {
            let err = |message: String| FilterParseError {
                text: text.to_string(),
                column,
                message,
            };
            let range = match item.split_once('-') {
                Some((lo, hi)) => {
                    IdRange::new(parse_hex(lo).map_err(&err)?, parse_hex(hi).map_err(&err)?)
                }
                None => IdRange::single(parse_hex(item).map_err(&err)?),
            };
            out.push(range);
        }
        Ok(out)
    }
}

/// Splits `text` on commas, yielding (1-based column, trimmed item) for non-empty items.
fn items(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = 0usize;
    text.split(',').filter_map(move |raw| {
        let column = start + 1 + (raw.len() - raw.trim_start().len());
        start += raw.len() + 1;
        let item = raw.trim();
        (!item.is_empty()).then_some((column, item))
    })
}

fn parse_hex(s: &str) -> Result<u32, String> {
    let s = s.trim();
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    if digits.is_empty() {
        return Err("expected a hex CAN id".to_string());
    }
    let id = u32::from_str_radix(digits, 16).map_err(|_| format!("{s:?} is not a hex CAN id"))?;
    if id > 0x1FFF_FFFF {
        return Err(format!("{s:?} is larger than a 29-bit CAN id"));
    }
    Ok(id)
}

/// Which identifiers pass: those in `include` (all, when `include` is empty) and not in `exclude`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdFilter {
    /// Identifiers to keep; empty keeps everything.
    pub include: Vec<IdRange>,
    /// Identifiers to drop; wins over `include`.
    pub exclude: Vec<IdRange>,
}

impl IdFilter {
    /// A filter that passes every frame.
    pub fn all() -> Self {
        IdFilter::default()
    }

    /// Adds an included range (builder style).
    pub fn include(mut self, range: IdRange) -> Self {
        self.include.push(range);
        self
    }

    /// Adds an excluded range (builder style).
    pub fn exclude(mut self, range: IdRange) -> Self {
        self.exclude.push(range);
        self
    }

    /// Builds a filter from the text forms of the include and exclude lists (see [`IdRange::parse_list`]).
    pub fn parse(include: &str, exclude: &str) -> Result<Self, FilterParseError> {
        Ok(IdFilter {
            include: IdRange::parse_list(include)?,
            exclude: IdRange::parse_list(exclude)?,
        })
    }

    /// Whether a frame with this identifier passes.
    pub fn passes(&self, id: u32) -> bool {
        (self.include.is_empty() || self.include.iter().any(|r| r.contains(id)))
            && !self.exclude.iter().any(|r| r.contains(id))
    }
}

/// Maps log bus numbers to sink bus numbers. Empty = identity (every frame keeps its bus);
/// non-empty = frames on unmapped buses are dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BusMap {
    map: BTreeMap<u8, u8>,
}

impl BusMap {
    /// The identity map (no entries).
    pub fn identity() -> Self {
        BusMap::default()
    }

    /// Adds `log_bus → sink_bus` (builder style).
    pub fn map(mut self, log_bus: u8, sink_bus: u8) -> Self {
        self.map.insert(log_bus, sink_bus);
        self
    }

    /// Parses `0:1,1:2` (decimal, 0-based log bus `:` sink bus).
    pub fn parse(text: &str) -> Result<Self, FilterParseError> {
        let mut out = BusMap::default();
        for (column, item) in items(text) {
            let err = |message: &str| FilterParseError {
                text: text.to_string(),
                column,
                message: message.to_string(),
            };
            let (from, to) = item
                .split_once(':')
                .ok_or_else(|| err("expected <log bus>:<sink bus>"))?;
            let from = from
                .trim()
                .parse::<u8>()
                .map_err(|_| err("log bus is not a number 0-255"))?;
            let to = to
                .trim()
                .parse::<u8>()
                .map_err(|_| err("sink bus is not a number 0-255"))?;
            out.map.insert(from, to);
        }
        Ok(out)
    }

    /// Whether no mapping is set (identity).
    pub fn is_identity(&self) -> bool {
        self.map.is_empty()
    }

    /// The sink bus for a log bus, or `None` when the frame is to be dropped.
    pub fn apply(&self, log_bus: u8) -> Option<u8> {
        if self.map.is_empty() {
            Some(log_bus)
        } else {
            self.map.get(&log_bus).copied()
        }
    }
}
