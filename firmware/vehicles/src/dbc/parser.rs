//! DBC statement parser (strict or lenient) producing [`Dbc`].
//!
//! Supported: `VERSION`, `NS_`, `BS_`, `BU_`, `BO_`/`SG_` (both byte orders, signed/unsigned,
//! `M`/`mN` multiplexing), `VAL_`, `VAL_TABLE_`, `SIG_VALTYPE_`, `CM_`. Attribute and other
//! `;`-terminated statements (`BA_DEF_`, `BA_`, `BO_TX_BU_`, `EV_`, ...) are skipped.
//!
//! Strict mode rejects, with `FILE:LINE:COL`, what cantools' strict loader rejects: a missing
//! `BS_`/`BU_` section, overlapping signals, signals that do not fit in their message, `VAL_` or
//! `SIG_VALTYPE_` for a message or signal that does not exist, duplicate message ids, and
//! statements it does not know. Lenient mode accepts those defects with a [`DbcWarning`] each.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::error::{DbcError, DbcWarning, Pos};
use super::lexer::{tokenize, TokKind, Token};
use super::model::{occupied_bits, ByteOrder, Message, Mux, Signal, ValueType};

/// How defects are handled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Tolerate the real-world defects listed in the module docs (with warnings) instead of failing.
    pub lenient: bool,
}

/// A parsed DBC file.
#[derive(Clone, Debug, Default)]
pub struct ParsedDbc {
    /// Messages in file order.
    pub messages: Vec<Message>,
    /// Named value tables (`VAL_TABLE_`).
    pub value_tables: Vec<(String, Vec<(i64, String)>)>,
    /// Defects tolerated in lenient mode.
    pub warnings: Vec<DbcWarning>,
}

/// Messages the Vector tools use as a parking place for unused signals; ignored like cantools does.
const INDEPENDENT_SIG_MSG: &str = "VECTOR__INDEPENDENT_SIG_MSG";

/// Statements skipped up to their terminating `;`.
const SKIPPED: &[&str] = &[
    "CM_",
    "BA_DEF_",
    "BA_DEF_DEF_",
    "BA_",
    "BA_DEF_REL_",
    "BA_DEF_DEF_REL_",
    "BA_REL_",
    "BA_DEF_SGTYPE_",
    "BA_SGTYPE_",
    "BO_TX_BU_",
    "BU_SG_REL_",
    "BU_EV_REL_",
    "BU_BO_REL_",
    "EV_",
    "ENVVAR_DATA_",
    "SGTYPE_",
    "SGTYPE_VAL_",
    "SIG_GROUP_",
    "SIG_TYPE_REF_",
    "SIG_VALTYPE_",
    "CAT_DEF_",
    "CAT_",
    "FILTER",
    "VAL_TABLE_",
];

struct Parser<'a> {
    toks: &'a [Token],
    i: usize,
    file: PathBuf,
    lenient: bool,
    warnings: Vec<DbcWarning>,
    end: Pos,
}

type PResult<T> = Result<T, DbcError>;

impl<'a> Parser<'a> {
    fn err<T>(&self, pos: Pos, message: impl Into<String>) -> PResult<T> {
        Err(DbcError::At {
            file: self.file.clone(),
            pos,
            message: message.into(),
        })
    }

    /// A defect: an error in strict mode, a warning in lenient mode.
    fn defect(&mut self, pos: Pos, message: String) -> PResult<()> {
        if self.lenient {
            self.warnings.push(DbcWarning {
                file: self.file.clone(),
                line: pos.line,
                message,
            });
            Ok(())
        } else {
            self.err(pos, message)
        }
    }

    fn peek(&self) -> Option<&'a Token> {
        self.toks.get(self.i)
    }

    fn pos(&self) -> Pos {
        self.peek().map(|t| t.pos).unwrap_or(self.end)
    }

    fn next(&mut self, what: &str) -> PResult<&'a Token> {
        match self.toks.get(self.i) {
            Some(t) => {
                self.i += 1;
                Ok(t)
            }
            None => self.err(self.end, format!("unexpected end of file, expected {what}")),
        }
    }

    fn expect_punct(&mut self, c: char) -> PResult<()> {
        let t = self.next(&format!("`{c}`"))?;
        if t.kind == TokKind::Punct(c) {
            Ok(())
        } else {
            self.err(t.pos, format!("expected `{c}`, found {}", t.describe()))
        }
    }

    fn is_punct(&self, c: char) -> bool {
        matches!(self.peek(), Some(Token { kind: TokKind::Punct(p), .. }) if *p == c)
    }

    fn ident(&mut self, what: &str) -> PResult<(&'a str, Pos)> {
        let t = self.next(what)?;
        match &t.kind {
            TokKind::Ident(s) => Ok((s.as_str(), t.pos)),
            _ => self.err(t.pos, format!("expected {what}, found {}", t.describe())),
        }
    }

    fn string(&mut self, what: &str) -> PResult<&'a str> {
        let t = self.next(what)?;
        match &t.kind {
            TokKind::Str(s) => Ok(s.as_str()),
            _ => self.err(t.pos, format!("expected {what}, found {}", t.describe())),
        }
    }

    fn number_text(&mut self, what: &str) -> PResult<(&'a str, Pos)> {
        let t = self.next(what)?;
        match &t.kind {
            TokKind::Number(s) => Ok((s.as_str(), t.pos)),
            _ => self.err(t.pos, format!("expected {what}, found {}", t.describe())),
        }
    }

    fn uint(&mut self, what: &str) -> PResult<(u64, Pos)> {
        let (s, pos) = self.number_text(what)?;
        match s.parse::<u64>() {
            Ok(v) => Ok((v, pos)),
            Err(_) => self.err(
                pos,
                format!("expected {what} (an unsigned integer), found `{s}`"),
            ),
        }
    }

    fn int(&mut self, what: &str) -> PResult<(i64, Pos)> {
        let (s, pos) = self.number_text(what)?;
        if let Ok(v) = s.parse::<i64>() {
            return Ok((v, pos));
        }
        // Some tools write value-table keys as floats (`1.0`) or above i64::MAX.
        match s.parse::<f64>() {
            Ok(f) if f.fract() == 0.0 => Ok((f as i64, pos)),
            _ => self.err(pos, format!("expected {what} (an integer), found `{s}`")),
        }
    }

    fn float(&mut self, what: &str) -> PResult<f64> {
        let (s, pos) = self.number_text(what)?;
        match s.parse::<f64>() {
            Ok(v) => Ok(v),
            Err(_) => self.err(pos, format!("expected {what} (a number), found `{s}`")),
        }
    }

    /// Skips to and over the next `;`.
    fn skip_statement(&mut self, start: Pos) -> PResult<()> {
        while let Some(t) = self.peek() {
            self.i += 1;
            if t.kind == TokKind::Punct(';') {
                return Ok(());
            }
        }
        self.err(start, "statement is not terminated by `;`")
    }

    /// Skips every token on `line`.
    fn skip_line(&mut self, line: u32) {
        while self.peek().is_some_and(|t| t.pos.line == line) {
            self.i += 1;
        }
    }

    fn parse_message(&mut self, kw_pos: Pos) -> PResult<Message> {
        let (raw_id, id_pos) = self.uint("message id")?;
        if raw_id > u32::MAX as u64 {
            return self.err(
                id_pos,
                format!("message id {raw_id} does not fit in 32 bits"),
            );
        }
        let extended = raw_id & 0x8000_0000 != 0;
        let id = (raw_id as u32) & 0x1FFF_FFFF;
        let (name, _) = self.ident("message name")?;
        self.expect_punct(':')?;
        let (len, len_pos) = self.uint("message length")?;
        if len > 64 {
            return self.err(len_pos, format!("message length {len} is above 64 bytes"));
        }
        let transmitter = match self.peek() {
            Some(Token {
                kind: TokKind::Ident(s),
                pos,
            }) if pos.line == id_pos.line && s != "SG_" => {
                self.i += 1;
                s.clone()
            }
            _ => String::new(),
        };
        let mut msg = Message {
            id,
            extended,
            name: name.to_string(),
            len: len as u32,
            transmitter,
            signals: Vec::new(),
            pos: kw_pos,
        };
        while matches!(self.peek(), Some(Token { kind: TokKind::Ident(s), .. }) if s == "SG_") {
            self.i += 1;
            let sig = self.parse_signal()?;
            if msg.signal(&sig.name).is_some() {
                let m = format!(
                    "signal `{}` is defined twice in message `{}`",
                    sig.name, msg.name
                );
                self.defect(sig.pos, m)?;
                continue;
            }
            msg.signals.push(sig);
        }
        Ok(msg)
    }

    fn parse_signal(&mut self) -> PResult<Signal> {
        let (name, pos) = self.ident("signal name")?;
        let mut mux = Mux::Plain;
        if let Some(Token {
            kind: TokKind::Ident(ind),
            pos: ipos,
        }) = self.peek()
        {
            self.i += 1;
            mux = if ind == "M" {
                Mux::Switch
            } else if let Some(v) = ind.strip_prefix('m').and_then(|d| d.parse::<u64>().ok()) {
                Mux::Value(v)
            } else if ind.starts_with('m') && ind.ends_with('M') {
                return self.err(
                    *ipos,
                    format!("extended multiplexing (`{ind}`) is not supported"),
                );
            } else {
                return self.err(
                    *ipos,
                    format!("expected a multiplexer indicator (`M` or `mN`), found `{ind}`"),
                );
            };
        }
        self.expect_punct(':')?;
        let (start, start_pos) = self.uint("start bit")?;
        if start >= 512 {
            return self.err(start_pos, format!("start bit {start} is beyond 64 bytes"));
        }
        self.expect_punct('|')?;
        let (len, len_pos) = self.uint("signal length")?;
        if len == 0 || len > 64 {
            return self.err(len_pos, format!("signal length {len} is not in 1..=64"));
        }
        self.expect_punct('@')?;
        let (order, order_pos) = self.uint("byte order (0 or 1)")?;
        let order = match order {
            0 => ByteOrder::BigEndian,
            1 => ByteOrder::LittleEndian,
            _ => return self.err(order_pos, "byte order must be 0 (Motorola) or 1 (Intel)"),
        };
        let t = self.next("`+` or `-`")?;
        let value_type = match t.kind {
            TokKind::Punct('+') => ValueType::Unsigned,
            TokKind::Punct('-') => ValueType::Signed,
            _ => {
                return self.err(
                    t.pos,
                    format!("expected `+` or `-`, found {}", t.describe()),
                )
            }
        };
        self.expect_punct('(')?;
        let scale = self.float("factor")?;
        self.expect_punct(',')?;
        let offset = self.float("offset")?;
        self.expect_punct(')')?;
        self.expect_punct('[')?;
        let min = self.float("minimum")?;
        self.expect_punct('|')?;
        let max = self.float("maximum")?;
        self.expect_punct(']')?;
        let unit_line = self.pos().line;
        let unit = self.string("unit string")?.to_string();
        let mut receivers = Vec::new();
        while let Some(t) = self.peek() {
            if t.pos.line != unit_line {
                break;
            }
            match &t.kind {
                TokKind::Ident(s) => receivers.push(s.clone()),
                TokKind::Punct(',') => {}
                _ => {
                    return self.err(
                        t.pos,
                        format!("expected a receiver node, found {}", t.describe()),
                    )
                }
            }
            self.i += 1;
        }
        Ok(Signal {
            name: name.to_string(),
            start: start as u32,
            len: len as u32,
            order,
            value_type,
            mux,
            scale,
            offset,
            min,
            max,
            unit,
            receivers,
            choices: Vec::new(),
            pos,
        })
    }

    fn parse_pairs(&mut self) -> PResult<Vec<(i64, String)>> {
        let mut out = Vec::new();
        while !self.is_punct(';') {
            let (v, _) = self.int("value")?;
            let s = self.string("value description")?;
            out.push((v, s.to_string()));
        }
        self.expect_punct(';')?;
        Ok(out)
    }
}

/// Checks signal placement: fits in the message, no overlaps between signals that can be present
/// together (plain/switch signals with everything; `mN` signals with those of the same N).
fn check_layout(p: &mut Parser<'_>, msg: &Message) -> PResult<()> {
    let total = msg.len * 8;
    let bits: Vec<Vec<u32>> = msg
        .signals
        .iter()
        .map(|s| occupied_bits(s.start, s.len, s.order))
        .collect();
    for (k, s) in msg.signals.iter().enumerate() {
        if bits[k].iter().any(|&b| b >= total) {
            let m = format!(
                "signal `{}` does not fit in message `{}` ({} bytes)",
                s.name, msg.name, msg.len
            );
            p.defect(s.pos, m)?;
        }
        if s.value_type == ValueType::Float32 && s.len != 32
            || s.value_type == ValueType::Float64 && s.len != 64
        {
            let m = format!("float signal `{}` has length {}", s.name, s.len);
            p.defect(s.pos, m)?;
        }
    }
    let has_switch = msg.signals.iter().any(|s| s.mux == Mux::Switch);
    for s in &msg.signals {
        if matches!(s.mux, Mux::Value(_)) && !has_switch {
            return p.err(
                s.pos,
                format!(
                    "signal `{}` is multiplexed but message `{}` has no `M` signal",
                    s.name, msg.name
                ),
            );
        }
    }
    if msg.signals.iter().filter(|s| s.mux == Mux::Switch).count() > 1 {
        return p.err(
            msg.pos,
            format!(
                "message `{}` has more than one multiplexer switch",
                msg.name
            ),
        );
    }
    for a in 0..msg.signals.len() {
        for b in 0..a {
            let (sa, sb) = (&msg.signals[a], &msg.signals[b]);
            let exclusive = matches!((sa.mux, sb.mux), (Mux::Value(x), Mux::Value(y)) if x != y);
            if exclusive {
                continue;
            }
            let set: HashSet<u32> = bits[b].iter().copied().collect();
            if bits[a].iter().any(|x| set.contains(x)) {
                let m = format!(
                    "signals `{}` and `{}` overlap in message `{}`",
                    sa.name, sb.name, msg.name
                );
                p.defect(sa.pos, m)?;
            }
        }
    }
    Ok(())
}

/// A `SIG_VALTYPE_` applied after all messages are read: (id, extended, signal, type, position).
type PendingValType = (u32, bool, String, u64, Pos);
/// A `VAL_` applied after all messages are read: (id, extended, signal, pairs, position).
type PendingVal = (u32, bool, String, Vec<(i64, String)>, Pos);

/// Parses DBC `text`; `file` names the source in errors and warnings.
pub fn parse(text: &str, file: &Path, opts: LoadOptions) -> Result<ParsedDbc, DbcError> {
    let toks = tokenize(text).map_err(|e| DbcError::At {
        file: file.to_path_buf(),
        pos: e.pos,
        message: e.message,
    })?;
    let end = {
        let lines = text.lines().count() as u32;
        Pos {
            line: lines.max(1),
            col: text
                .lines()
                .last()
                .map(|l| l.chars().count() as u32 + 1)
                .unwrap_or(1),
        }
    };
    let mut p = Parser {
        toks: &toks,
        i: 0,
        file: file.to_path_buf(),
        lenient: opts.lenient,
        warnings: Vec::new(),
        end,
    };
    let mut out = ParsedDbc::default();
    let mut seen_ns = false;
    let mut seen_bs = false;
    let mut seen_bu = false;
    let mut ignored_ids: HashSet<(u32, bool)> = HashSet::new();
    let mut valtypes: Vec<PendingValType> = Vec::new();
    let mut vals: Vec<PendingVal> = Vec::new();

    while let Some(t) = p.peek() {
        let kw = match &t.kind {
            TokKind::Ident(s) => s.as_str(),
            _ => {
                return p.err(
                    t.pos,
                    format!("expected a DBC keyword, found {}", t.describe()),
                )
            }
        };
        let kw_pos = t.pos;
        p.i += 1;
        match kw {
            "VERSION" => {
                p.string("version string")?;
            }
            "NS_" => {
                seen_ns = true;
                p.expect_punct(':')?;
                // Indented names on the following lines (and any on the same line).
                while p.peek().is_some_and(|t| {
                    matches!(t.kind, TokKind::Ident(_))
                        && (t.pos.line == kw_pos.line || t.pos.col > 1)
                }) {
                    p.i += 1;
                }
            }
            "BS_" => {
                seen_bs = true;
                p.expect_punct(':')?;
                p.skip_line(kw_pos.line);
            }
            "BU_" => {
                seen_bu = true;
                p.expect_punct(':')?;
                // Node names, possibly continued on indented lines.
                while p.peek().is_some_and(|t| {
                    matches!(t.kind, TokKind::Ident(_))
                        && (t.pos.line == kw_pos.line || t.pos.col > 1)
                }) {
                    p.i += 1;
                }
            }
            "BO_" => {
                // cantools' grammar (and the DBC spec) needs `BS_:`/`BU_:` to close an `NS_`
                // block; without them strict loaders read the first `BO_` as a symbol name.
                if seen_ns
                    && !seen_bs
                    && !seen_bu
                    && out.messages.is_empty()
                    && ignored_ids.is_empty()
                {
                    let m =
                        "`BS_:` and `BU_:` sections are missing between `NS_` and the first `BO_`";
                    p.defect(kw_pos, m.to_string())?;
                }
                let msg = p.parse_message(kw_pos)?;
                if msg.name == INDEPENDENT_SIG_MSG {
                    ignored_ids.insert((msg.id, msg.extended));
                    continue;
                }
                check_layout(&mut p, &msg)?;
                if out
                    .messages
                    .iter()
                    .any(|m| m.id == msg.id && m.extended == msg.extended)
                {
                    let m = format!(
                        "message id {:#x} is defined twice; the second (`{}`) is ignored",
                        msg.id, msg.name
                    );
                    p.defect(kw_pos, m)?;
                    continue;
                }
                out.messages.push(msg);
            }
            "VAL_" => {
                let (raw_id, _) = p.uint("message id")?;
                let (sig, _) = p.ident("signal name")?;
                let pairs = p.parse_pairs()?;
                let ext = raw_id & 0x8000_0000 != 0;
                vals.push((
                    (raw_id as u32) & 0x1FFF_FFFF,
                    ext,
                    sig.to_string(),
                    pairs,
                    kw_pos,
                ));
            }
            "VAL_TABLE_" => {
                let (name, _) = p.ident("value table name")?;
                let pairs = p.parse_pairs()?;
                out.value_tables.push((name.to_string(), pairs));
            }
            "SIG_VALTYPE_" => {
                let (raw_id, _) = p.uint("message id")?;
                let (sig, _) = p.ident("signal name")?;
                if p.is_punct(':') {
                    p.i += 1;
                }
                let (vt, vt_pos) = p.uint("value type (0, 1 or 2)")?;
                if vt > 2 {
                    return p.err(
                        vt_pos,
                        format!("SIG_VALTYPE_ must be 0, 1 or 2, found {vt}"),
                    );
                }
                p.expect_punct(';')?;
                let ext = raw_id & 0x8000_0000 != 0;
                valtypes.push((
                    (raw_id as u32) & 0x1FFF_FFFF,
                    ext,
                    sig.to_string(),
                    vt,
                    kw_pos,
                ));
            }
            k if SKIPPED.contains(&k) => p.skip_statement(kw_pos)?,
            other => {
                let m = format!("unknown statement `{other}`");
                p.defect(kw_pos, format!("{m}; line skipped"))?;
                p.skip_line(kw_pos.line);
            }
        }
    }

    for (id, ext, sig, vt, pos) in valtypes {
        if ignored_ids.contains(&(id, ext)) {
            continue;
        }
        let target = out
            .messages
            .iter_mut()
            .find(|m| m.id == id && m.extended == ext);
        match target.and_then(|m| m.signals.iter_mut().find(|s| s.name == sig)) {
            Some(s) => {
                s.value_type = match vt {
                    1 => ValueType::Float32,
                    2 => ValueType::Float64,
                    _ => s.value_type,
                };
                let bad = (vt == 1 && s.len != 32) || (vt == 2 && s.len != 64);
                if bad {
                    let m = format!("SIG_VALTYPE_ {vt} on signal `{sig}` of length {}", s.len);
                    p.defect(pos, m)?;
                }
            }
            None => p.defect(
                pos,
                format!("SIG_VALTYPE_ for unknown signal `{sig}` of message {id:#x}; ignored"),
            )?,
        }
    }
    for (id, ext, sig, pairs, pos) in vals {
        if ignored_ids.contains(&(id, ext)) {
            continue;
        }
        let target = out
            .messages
            .iter_mut()
            .find(|m| m.id == id && m.extended == ext);
        match target {
            None => p.defect(pos, format!("VAL_ for unknown message {id:#x}; ignored"))?,
            Some(m) => {
                let name = m.name.clone();
                match m.signals.iter_mut().find(|s| s.name == sig) {
                    Some(s) => s.choices = pairs,
                    None => p.defect(pos, format!("VAL_ for signal `{sig}` which message `{name}` ({id:#x}) does not have; ignored"))?,
                }
            }
        }
    }
    out.warnings = p.warnings;
    Ok(out)
}
