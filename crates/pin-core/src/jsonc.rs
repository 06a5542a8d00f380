//! JSON with comments (JSONC, as VS Code and dev containers read it), with exact byte spans.
//!
//! `//` and `/* */` comments and trailing commas in objects and arrays are allowed. Nothing
//! is decoded or re-serialised: strings keep the span of their content as written (inside the
//! quotes), so a fix is a byte edit like everywhere else. Nesting is bounded ([`MAX_DEPTH`]),
//! so deep input is an error, not a stack overflow; every other malformation (an unterminated
//! comment or string, a missing `,` or `:`, text after the value) is a [`SyntaxError`] at the
//! byte where it is found.

use std::borrow::Cow;
use std::ops::Range;

use crate::yaml::{Comment, SyntaxError};

/// Deepest nesting of objects and arrays accepted.
pub const MAX_DEPTH: usize = 256;

/// One JSON value with its byte span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Json {
    /// Byte span of the whole value (quotes included for a string).
    pub span: Range<usize>,
    /// What the value is.
    pub value: JsonValue,
}

/// The content of a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonValue {
    /// Members in source order (duplicates kept); each key is the byte span of its content.
    Object(Vec<(Range<usize>, Json)>),
    /// Items.
    Array(Vec<Json>),
    /// A string: the byte span of its content as written (escapes not decoded).
    String(Range<usize>),
    /// A number, `true`, `false` or `null`.
    Scalar,
}

impl Json {
    /// The members of an object.
    pub fn members(&self) -> &[(Range<usize>, Json)] {
        match &self.value {
            JsonValue::Object(members) => members,
            _ => &[],
        }
    }

    /// The value of the first member named `key` (compared as written) of an object.
    pub fn get<'j>(&'j self, src: &str, key: &str) -> Option<&'j Json> {
        self.members()
            .iter()
            .find(|(k, _)| src.get(k.clone()) == Some(key))
            .map(|(_, v)| v)
    }

    /// The content span of a string value.
    pub fn string_span(&self) -> Option<Range<usize>> {
        match &self.value {
            JsonValue::String(span) => Some(span.clone()),
            _ => None,
        }
    }
}

/// A parsed JSONC text: the value and every comment (text after `//`, or between `/*` and
/// `*/`).
#[derive(Debug, Clone)]
pub struct Document<'s> {
    /// The top-level value.
    pub root: Json,
    /// Comments in source order.
    pub comments: Vec<Comment<'s>>,
}

/// Parse `src`. On error, the comments read before it are returned with it (for
/// suppressions).
pub fn parse(src: &str) -> Result<Document<'_>, (SyntaxError, Vec<Comment<'_>>)> {
    let mut p = Parser {
        src,
        b: src.as_bytes(),
        at: 0,
        comments: Vec::new(),
    };
    let result = p.skip().and_then(|()| {
        let root = p.value(0)?;
        p.skip()?;
        if p.at < p.b.len() {
            return Err(p.error("unexpected text after the JSON value"));
        }
        Ok(root)
    });
    match result {
        Ok(root) => Ok(Document {
            root,
            comments: p.comments,
        }),
        Err(err) => Err((err, p.comments)),
    }
}

struct Parser<'s> {
    src: &'s str,
    b: &'s [u8],
    at: usize,
    comments: Vec<Comment<'s>>,
}

impl<'s> Parser<'s> {
    fn error(&self, message: &str) -> SyntaxError {
        SyntaxError {
            offset: self.at.min(self.b.len()),
            message: message.to_string(),
        }
    }

    /// Skip whitespace and comments (a BOM at the start too).
    fn skip(&mut self) -> Result<(), SyntaxError> {
        if self.at == 0 && self.src.starts_with('\u{feff}') {
            self.at = 3;
        }
        loop {
            match self.b.get(self.at) {
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.at += 1,
                Some(b'/') if self.b.get(self.at + 1) == Some(&b'/') => {
                    let end = self.src[self.at..]
                        .find('\n')
                        .map_or(self.b.len(), |i| self.at + i);
                    let end = if self.b[..end].ends_with(b"\r") {
                        end - 1
                    } else {
                        end
                    };
                    self.comment(self.at, self.at + 2, end, end);
                    self.at = end;
                }
                Some(b'/') if self.b.get(self.at + 1) == Some(&b'*') => {
                    let Some(close) = self.src[self.at + 2..].find("*/") else {
                        return Err(self.error("unterminated `/*` comment: `*/` is missing"));
                    };
                    let close = self.at + 2 + close;
                    self.comment(self.at, self.at + 2, close, close + 2);
                    self.at = close + 2;
                }
                _ => return Ok(()),
            }
        }
    }

    fn comment(&mut self, start: usize, text_start: usize, text_end: usize, end: usize) {
        self.comments.push(Comment {
            span: start..end,
            text: Cow::Borrowed(&self.src[text_start..text_end]),
        });
    }

    fn value(&mut self, depth: usize) -> Result<Json, SyntaxError> {
        let start = self.at;
        match self.b.get(self.at) {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => {
                let content = self.string()?;
                Ok(Json {
                    span: start..self.at,
                    value: JsonValue::String(content),
                })
            }
            Some(c) if c.is_ascii_alphanumeric() || *c == b'-' => {
                while self
                    .b
                    .get(self.at)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.'))
                {
                    self.at += 1;
                }
                let word = &self.src[start..self.at];
                let number = word.starts_with(|c: char| c == '-' || c.is_ascii_digit());
                if !number && !matches!(word, "true" | "false" | "null") {
                    self.at = start;
                    return Err(self.error(&format!("unexpected `{word}`: expected a value")));
                }
                Ok(Json {
                    span: start..self.at,
                    value: JsonValue::Scalar,
                })
            }
            Some(_) => Err(self.error("expected a value")),
            None => Err(self.error("unexpected end of file: expected a value")),
        }
    }

    /// A string starting at `"`; returns the content span and moves past the closing quote.
    fn string(&mut self) -> Result<Range<usize>, SyntaxError> {
        let open = self.at;
        self.at += 1;
        loop {
            match self.b.get(self.at) {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(open + 1..self.at - 1);
                }
                Some(b'\\') => self.at += 2,
                Some(b'\n') | None => {
                    self.at = open;
                    return Err(self.error("unterminated string: the closing `\"` is missing"));
                }
                Some(_) => self.at += 1,
            }
        }
    }

    fn enter(&self, depth: usize) -> Result<usize, SyntaxError> {
        if depth >= MAX_DEPTH {
            return Err(self.error(&format!("nested deeper than {MAX_DEPTH} levels")));
        }
        Ok(depth + 1)
    }

    /// After an item: `,` (then maybe the closing bracket: a trailing comma) or the closing
    /// bracket. Returns whether the container is closed.
    fn after_item(&mut self, close: u8) -> Result<bool, SyntaxError> {
        self.skip()?;
        match self.b.get(self.at) {
            Some(b',') => {
                self.at += 1;
                self.skip()?;
                if self.b.get(self.at) == Some(&close) {
                    self.at += 1;
                    return Ok(true);
                }
                Ok(false)
            }
            Some(&c) if c == close => {
                self.at += 1;
                Ok(true)
            }
            _ => Err(self.error(&format!("expected `,` or `{}`", close as char))),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, SyntaxError> {
        let depth = self.enter(depth)?;
        let start = self.at;
        self.at += 1;
        let mut members = Vec::new();
        self.skip()?;
        if self.b.get(self.at) == Some(&b'}') {
            self.at += 1;
        } else {
            loop {
                if self.b.get(self.at) != Some(&b'"') {
                    return Err(self.error("expected a member name in `\"`"));
                }
                let key = self.string()?;
                self.skip()?;
                if self.b.get(self.at) != Some(&b':') {
                    return Err(self.error("expected `:` after the member name"));
                }
                self.at += 1;
                self.skip()?;
                let value = self.value(depth)?;
                members.push((key, value));
                if self.after_item(b'}')? {
                    break;
                }
            }
        }
        Ok(Json {
            span: start..self.at,
            value: JsonValue::Object(members),
        })
    }

    fn array(&mut self, depth: usize) -> Result<Json, SyntaxError> {
        let depth = self.enter(depth)?;
        let start = self.at;
        self.at += 1;
        let mut items = Vec::new();
        self.skip()?;
        if self.b.get(self.at) == Some(&b']') {
            self.at += 1;
        } else {
            loop {
                items.push(self.value(depth)?);
                if self.after_item(b']')? {
                    break;
                }
            }
        }
        Ok(Json {
            span: start..self.at,
            value: JsonValue::Array(items),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_trailing_commas_and_spans() {
        let src = "// top\r\n{\n  \"image\": \"a:1\", /* c */\n  \"features\": {\"x/y:1\": {},},\n  \"n\": [1, true, null,],\n}\n";
        let doc = parse(src).map_err(|e| e.0).expect("parses");
        let image = doc.root.get(src, "image").expect("image");
        assert_eq!(&src[image.string_span().expect("string")], "a:1");
        let features = doc.root.get(src, "features").expect("features");
        assert_eq!(&src[features.members()[0].0.clone()], "x/y:1");
        let texts: Vec<_> = doc.comments.iter().map(|c| c.text.as_ref()).collect();
        assert_eq!(texts, [" top", " c "]);
        assert_eq!(&src[doc.comments[0].span.clone()], "// top");
    }

    #[test]
    fn errors_have_positions() {
        let cases = [
            ("{\"a\": 1 /* open", 8, "unterminated `/*`"),
            ("{\"a: 1}", 1, "unterminated string"),
            ("{\"a\" 1}", 5, "expected `:`"),
            ("{\"a\": 1 \"b\": 2}", 8, "expected `,`"),
            ("{} x", 3, "after the JSON value"),
            ("", 0, "end of file"),
            ("{\"a\": nope}", 6, "unexpected `nope`"),
        ];
        for (src, offset, message) in cases {
            let (err, _) = parse(src).expect_err(src);
            assert_eq!(err.offset, offset, "{src}: {err}");
            assert!(err.message.contains(message), "{src}: {err}");
        }
        let deep = "[".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep).is_err());
    }
}
