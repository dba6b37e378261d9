//! DBC tokenizer: identifiers, numbers, strings and punctuation, each with its 1-based line and column.

use super::error::Pos;

/// What a token is.
#[derive(Clone, Debug, PartialEq)]
pub enum TokKind {
    /// `[A-Za-z_][A-Za-z0-9_]*`
    Ident(String),
    /// A number as written (`-40`, `0.25`, `1e-05`, `3221225472`).
    Number(String),
    /// A double-quoted string, quotes removed (may span lines).
    Str(String),
    /// One punctuation character: `: | @ + - ( ) [ ] , ;` (and anything else unexpected).
    Punct(char),
}

/// One token and where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// The token.
    pub kind: TokKind,
    /// Where it starts.
    pub pos: Pos,
}

impl Token {
    /// The token rendered for error messages.
    pub fn describe(&self) -> String {
        match &self.kind {
            TokKind::Ident(s) => format!("`{s}`"),
            TokKind::Number(s) => format!("number `{s}`"),
            TokKind::Str(s) => format!("string \"{s}\""),
            TokKind::Punct(c) => format!("`{c}`"),
        }
    }
}

/// A lexing failure (unterminated string) at a position.
#[derive(Debug)]
pub struct LexError {
    /// Where.
    pub pos: Pos,
    /// What.
    pub message: String,
}

/// Splits DBC text into tokens. Comments (`//` to end of line) are skipped.
pub fn tokenize(text: &str) -> Result<Vec<Token>, LexError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::with_capacity(chars.len() / 4);
    let (mut i, mut line, mut col) = (0usize, 1u32, 1u32);
    let n = chars.len();
    while i < n {
        let c = chars[i];
        let pos = Pos { line, col };
        if c == '\n' {
            i += 1;
            line += 1;
            col = 1;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            col += 1;
            continue;
        }
        if c == '/' && i + 1 < n && chars[i + 1] == '/' {
            while i < n && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '"' {
            let mut s = String::new();
            i += 1;
            col += 1;
            loop {
                if i >= n {
                    return Err(LexError {
                        pos,
                        message: "unterminated string".into(),
                    });
                }
                let d = chars[i];
                i += 1;
                if d == '"' {
                    col += 1;
                    break;
                }
                if d == '\\' && i < n && (chars[i] == '"' || chars[i] == '\\') {
                    s.push(chars[i]);
                    i += 1;
                    col += 2;
                    continue;
                }
                if d == '\n' {
                    line += 1;
                    col = 1;
                } else {
                    col += 1;
                }
                s.push(d);
            }
            out.push(Token {
                kind: TokKind::Str(s),
                pos,
            });
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < n && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            col += (i - start) as u32;
            out.push(Token {
                kind: TokKind::Ident(chars[start..i].iter().collect()),
                pos,
            });
            continue;
        }
        let signed_number = (c == '-' || c == '+')
            && i + 1 < n
            && (chars[i + 1].is_ascii_digit() || chars[i + 1] == '.');
        if c.is_ascii_digit()
            || signed_number
            || (c == '.' && i + 1 < n && chars[i + 1].is_ascii_digit())
        {
            let start = i;
            if signed_number {
                i += 1;
            }
            while i < n && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            if i < n && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < n && (chars[j] == '-' || chars[j] == '+') {
                    j += 1;
                }
                if j < n && chars[j].is_ascii_digit() {
                    i = j;
                    while i < n && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            col += (i - start) as u32;
            out.push(Token {
                kind: TokKind::Number(chars[start..i].iter().collect()),
                pos,
            });
            continue;
        }
        out.push(Token {
            kind: TokKind::Punct(c),
            pos,
        });
        i += 1;
        col += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_line_tokens() {
        let toks = tokenize(" SG_ A m3 : 9|7@1+ (1,-40) [-40|86] \"degC\" X").unwrap();
        let kinds: Vec<_> = toks.iter().map(|t| t.kind.clone()).collect();
        use TokKind::*;
        assert_eq!(
            kinds,
            vec![
                Ident("SG_".into()),
                Ident("A".into()),
                Ident("m3".into()),
                Punct(':'),
                Number("9".into()),
                Punct('|'),
                Number("7".into()),
                Punct('@'),
                Number("1".into()),
                Punct('+'),
                Punct('('),
                Number("1".into()),
                Punct(','),
                Number("-40".into()),
                Punct(')'),
                Punct('['),
                Number("-40".into()),
                Punct('|'),
                Number("86".into()),
                Punct(']'),
                Str("degC".into()),
                Ident("X".into()),
            ]
        );
        assert_eq!(toks[0].pos, Pos { line: 1, col: 2 });
    }

    #[test]
    fn multiline_string_tracks_lines_and_unterminated_is_an_error() {
        let toks = tokenize("CM_ \"a\nb\";\nBO_").unwrap();
        assert_eq!(toks[1].kind, TokKind::Str("a\nb".into()));
        assert_eq!(toks[3].pos, Pos { line: 3, col: 1 });
        let err = tokenize("\n  CM_ \"abc").unwrap_err();
        assert_eq!(err.pos, Pos { line: 2, col: 7 });
    }

    #[test]
    fn exponent_numbers() {
        let toks = tokenize("1e-05 0.25 3221225472").unwrap();
        assert_eq!(toks[0].kind, TokKind::Number("1e-05".into()));
        assert_eq!(toks[1].kind, TokKind::Number("0.25".into()));
        assert_eq!(toks[2].kind, TokKind::Number("3221225472".into()));
    }
}
