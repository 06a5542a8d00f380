//! Bicep: VM images in `imageReference: { … }` objects and Managed DevOps Pools
//! `fabricProfile: { images: [ … ] }`.
//!
//! Not a Bicep parser: a tokenizer good enough for object and array literals, string literals
//! (with `\'` escapes, `${…}` interpolation and `'''` multi-line strings) and comments. Every
//! `{ … }` and `[ … ]` in the file is read as a literal; whatever stands between entries that is
//! not a plain string literal (identifiers, calls, ternaries, interpolated strings) becomes an
//! expression, which makes its position `dynamic`. Unbalanced input ends the current literal at
//! end of file instead of failing.

use std::borrow::Cow;
use std::ops::Range;

use super::infra::{self, Val};
use crate::model::Reference;
use crate::yaml::Comment;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open(u8),
    Close(u8),
    Colon,
    Comma,
    Newline,
    /// A string literal: content span, and whether it interpolates.
    Str(Range<usize>, bool),
    /// Any other run of text (identifier, number, operator).
    Word(Range<usize>),
}

/// References and comments (`//` and `/* */`, for suppressions) of a Bicep file.
pub fn extract(src: &str) -> (Vec<Reference>, Vec<Comment<'_>>) {
    let (tokens, comments) = tokenize(src);
    let mut refs = Vec::new();
    let mut parser = Parser {
        src,
        tokens: &tokens,
        at: 0,
    };
    while parser.at < tokens.len() {
        match tokens[parser.at].0 {
            Tok::Open(b'{') | Tok::Open(b'[') => {
                let val = parser.value();
                infra::images(&Val::Object(vec![(String::new(), val)]), &mut refs);
            }
            _ => parser.at += 1,
        }
    }
    (refs, comments)
}

fn tokenize(src: &str) -> (Vec<(Tok, Range<usize>)>, Vec<Comment<'_>>) {
    let b = src.as_bytes();
    let mut tokens = Vec::new();
    let mut comments = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                tokens.push((Tok::Newline, i..i + 1));
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = src[i..].find('\n').map_or(b.len(), |n| i + n);
                let end = if end > i && b[end - 1] == b'\r' {
                    end - 1
                } else {
                    end
                };
                comments.push(Comment {
                    span: i..end,
                    text: Cow::Borrowed(&src[i + 2..end]),
                });
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                // An unclosed comment runs to the end of the text (body included).
                let (body_end, end) = src[i + 2..]
                    .find("*/")
                    .map_or((b.len(), b.len()), |n| (i + 2 + n, i + 2 + n + 2));
                comments.push(Comment {
                    span: i..end,
                    text: Cow::Borrowed(&src[i + 2..body_end]),
                });
                i = end;
            }
            b'\'' if src[i..].starts_with("'''") => {
                let end = src[i + 3..].find("'''").map_or(b.len(), |n| i + 3 + n);
                tokens.push((Tok::Str(i + 3..end, false), i..(end + 3).min(b.len())));
                i = (end + 3).min(b.len());
            }
            b'\'' => {
                let (end, interpolated) = string_end(b, i + 1);
                tokens.push((
                    Tok::Str(i + 1..end, interpolated),
                    i..(end + 1).min(b.len()),
                ));
                i = (end + 1).min(b.len());
            }
            b'{' | b'[' | b'(' => {
                tokens.push((Tok::Open(c), i..i + 1));
                i += 1;
            }
            b'}' | b']' | b')' => {
                tokens.push((Tok::Close(c), i..i + 1));
                i += 1;
            }
            b':' => {
                tokens.push((Tok::Colon, i..i + 1));
                i += 1;
            }
            b',' => {
                tokens.push((Tok::Comma, i..i + 1));
                i += 1;
            }
            _ => {
                let start = i;
                while i < b.len()
                    && !matches!(
                        b[i],
                        b'\n'
                            | b' '
                            | b'\t'
                            | b'\r'
                            | b'\''
                            | b'{'
                            | b'['
                            | b'('
                            | b'}'
                            | b']'
                            | b')'
                            | b':'
                            | b','
                    )
                    && !(b[i] == b'/' && matches!(b.get(i + 1), Some(b'/' | b'*')))
                {
                    i += 1;
                }
                // Always advance, also on a lone byte that starts no token.
                let end = i.max(start + 1);
                i = end;
                tokens.push((Tok::Word(start..end), start..end));
            }
        }
    }
    (tokens, comments)
}

/// End of a `'…'` string starting at `from` (the closing quote's offset, or the end of the
/// line when unterminated), and whether it contains `${`.
fn string_end(b: &[u8], from: usize) -> (usize, bool) {
    let mut i = from;
    let mut interpolated = false;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'\'' | b'\n' => return (i, interpolated),
            b'$' if b.get(i + 1) == Some(&b'{') => {
                interpolated = true;
                i += 2;
            }
            _ => i += 1,
        }
    }
    (b.len(), interpolated)
}

struct Parser<'t> {
    src: &'t str,
    tokens: &'t [(Tok, Range<usize>)],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.at).map(|(t, _)| t)
    }

    fn skip_newlines(&mut self) {
        while matches!(self.peek(), Some(Tok::Newline | Tok::Comma)) {
            self.at += 1;
        }
    }

    /// One value: a literal object or array, a plain string, or an expression running to the
    /// end of the entry.
    fn value(&mut self) -> Val {
        let start = self.at;
        let first = match self.peek() {
            Some(Tok::Open(b'{')) => Some(self.object()),
            Some(Tok::Open(b'[')) => Some(self.array()),
            Some(Tok::Str(span, false)) => {
                let span = span.clone();
                self.at += 1;
                Some(Val::Str(self.src[span.clone()].to_string(), span))
            }
            _ => None,
        };
        if let Some(val) = first {
            if self.at_entry_end() {
                return val;
            }
        }
        // An expression: everything up to the end of the entry, brackets balanced.
        self.at = start;
        let mut depth = 0usize;
        while let Some(tok) = self.peek() {
            match tok {
                Tok::Open(_) => depth += 1,
                Tok::Close(_) if depth == 0 => break,
                Tok::Close(_) => depth -= 1,
                Tok::Newline | Tok::Comma if depth == 0 => break,
                _ => {}
            }
            self.at += 1;
        }
        if self.at == start + 1 {
            // A lone interpolated string: positioned inside its quotes, like a YAML scalar.
            if let Some((Tok::Str(content, true), _)) = self.tokens.get(start) {
                return Val::Expr(self.src[content.clone()].to_string(), content.clone());
            }
        }
        let from = self
            .tokens
            .get(start)
            .map_or(self.src.len(), |(_, s)| s.start);
        let to = self.tokens[..self.at]
            .last()
            .map_or(from, |(_, s)| s.end)
            .max(from);
        Val::Expr(self.src[from..to].to_string(), from..to)
    }

    fn at_entry_end(&self) -> bool {
        matches!(
            self.peek(),
            None | Some(Tok::Newline | Tok::Comma | Tok::Close(_))
        )
    }

    fn object(&mut self) -> Val {
        self.at += 1; // `{`
        let mut entries = Vec::new();
        loop {
            self.skip_newlines();
            let key = match self.peek() {
                None => break,
                Some(Tok::Close(_)) => {
                    self.at += 1;
                    break;
                }
                Some(Tok::Word(span)) | Some(Tok::Str(span, false)) => {
                    self.src[span.clone()].to_string()
                }
                Some(_) => {
                    self.skip_entry();
                    continue;
                }
            };
            self.at += 1;
            if self.peek() != Some(&Tok::Colon) {
                self.skip_entry();
                continue;
            }
            self.at += 1;
            let val = self.value();
            entries.push((key, val));
        }
        Val::Object(entries)
    }

    fn array(&mut self) -> Val {
        self.at += 1; // `[`
        let mut items = Vec::new();
        loop {
            self.skip_newlines();
            match self.peek() {
                None => break,
                Some(Tok::Close(_)) => {
                    self.at += 1;
                    break;
                }
                Some(_) => {
                    let before = self.at;
                    items.push(self.value());
                    if self.at == before {
                        self.at += 1;
                    }
                }
            }
        }
        Val::Array(items)
    }

    /// Skip to the end of a malformed entry.
    fn skip_entry(&mut self) {
        let before = self.at;
        let _ = self.value();
        if self.at == before {
            self.at += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    #[test]
    fn image_reference_objects_and_comments() {
        let src = "resource vm 'Microsoft.Compute/virtualMachines@2024-07-01' = {\n  properties: {\n    storageProfile: {\n      imageReference: {\n        publisher: 'Canonical' // the publisher\n        offer: 'ubuntu-24_04-lts'\n        sku: 'server'\n        version: 'latest'\n      }\n    }\n  }\n}\n";
        let (refs, comments) = extract(src);
        assert_eq!(refs.len(), 1);
        assert_eq!(&src[refs[0].span.clone()], "latest");
        assert_eq!(refs[0].text, "Canonical:ubuntu-24_04-lts:server:latest");
        assert_eq!(comments.len(), 1);
        assert_eq!(comments[0].text, " the publisher");
    }

    #[test]
    fn expressions_are_dynamic_and_garbage_does_not_panic() {
        let src = "var v = {\n  imageReference: {\n    publisher: 'p', offer: 'o', sku: 's'\n    version: useLatest ? 'latest' : imageVersion\n  }\n}\nvar w = { imageReference: { id: '${galleryId}/versions/1.0.0' } }";
        let (refs, _) = extract(src);
        assert_eq!(refs.len(), 2);
        assert!(refs.iter().all(|r| r.kind == Kind::Dynamic));
        assert_eq!(refs[0].text, "useLatest ? 'latest' : imageVersion");
        assert_eq!(refs[1].text, "${galleryId}/versions/1.0.0");
        for garbage in [
            "{",
            "}",
            "[{'",
            "{ a: '",
            "{ imageReference: { publisher: 'x' offer",
            "/*",
            "'''",
        ] {
            let _ = extract(garbage);
        }
    }
}
