//! The scanning Bicep and Terraform share: a tokenizer for brackets, commas, line breaks,
//! string literals with template sequences, comments and plain words, and a reader of values
//! (object and array literals, plain strings, expressions) over its tokens.
//!
//! Each dialect drives [`Scanner`] with its own byte-level choices (which quote, which comment
//! openers, heredocs or `'''` strings) and hands [`Parser`] its own reading of `{ … }`.

use std::borrow::Cow;
use std::ops::Range;

use super::Val;
use crate::yaml::Comment;

/// A token of a Bicep or Terraform file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Open(u8),
    Close(u8),
    /// Between a key and its value: `:` in Bicep, `=` or `:` in Terraform.
    Assign,
    Comma,
    Newline,
    /// A string literal: content span, and whether it has a template sequence (`${…}`).
    Str(Range<usize>, bool),
    /// Any other run of text (identifier, number, operator, heredoc).
    Word,
}

/// Tokens with their spans, and the comments met on the way.
pub(crate) struct Scanner<'s> {
    src: &'s str,
    /// Offset of the next byte to read.
    pub(crate) at: usize,
    tokens: Vec<(Tok, Range<usize>)>,
    comments: Vec<Comment<'s>>,
}

impl<'s> Scanner<'s> {
    pub(crate) fn new(src: &'s str) -> Self {
        Self {
            src,
            at: 0,
            tokens: Vec::new(),
            comments: Vec::new(),
        }
    }

    /// The byte at `at + ahead`.
    pub(crate) fn byte(&self, ahead: usize) -> Option<u8> {
        self.src.as_bytes().get(self.at + ahead).copied()
    }

    /// The text from the current offset on.
    pub(crate) fn rest(&self) -> &'s str {
        &self.src[self.at..]
    }

    /// Reads what both languages read alike at the current byte (line breaks, blanks,
    /// brackets, commas, `//` and `/* */` comments); `false` when the byte is the dialect's.
    pub(crate) fn common(&mut self) -> bool {
        let Some(c) = self.byte(0) else {
            return false;
        };
        match c {
            b'\n' => self.token(Tok::Newline, 1),
            b' ' | b'\t' | b'\r' => self.at += 1,
            b'/' if self.byte(1) == Some(b'/') => self.line_comment(2),
            b'/' if self.byte(1) == Some(b'*') => self.block_comment(),
            b'{' | b'[' | b'(' => self.token(Tok::Open(c), 1),
            b'}' | b']' | b')' => self.token(Tok::Close(c), 1),
            b',' => self.token(Tok::Comma, 1),
            _ => return false,
        }
        true
    }

    /// Pushes `tok` over the next `len` bytes.
    pub(crate) fn token(&mut self, tok: Tok, len: usize) {
        let end = (self.at + len).min(self.src.len());
        self.tokens.push((tok, self.at..end));
        self.at = end;
    }

    /// A comment to the end of the line (a `\r` before the line break stays outside); its
    /// text starts `opener` bytes in.
    pub(crate) fn line_comment(&mut self, opener: usize) {
        let i = self.at;
        let end = self.src[i..].find('\n').map_or(self.src.len(), |n| i + n);
        let end = if end > i && self.src.as_bytes()[end - 1] == b'\r' {
            end - 1
        } else {
            end
        };
        self.comments.push(Comment {
            span: i..end,
            text: Cow::Borrowed(&self.src[(i + opener).min(end)..end]),
        });
        self.at = end;
    }

    /// A `/* … */` comment; an unclosed one runs to the end of the text (body included).
    fn block_comment(&mut self) {
        let i = self.at;
        let len = self.src.len();
        let (body_end, end) = self.src[i + 2..]
            .find("*/")
            .map_or((len, len), |n| (i + 2 + n, i + 2 + n + 2));
        self.comments.push(Comment {
            span: i..end,
            text: Cow::Borrowed(&self.src[i + 2..body_end]),
        });
        self.at = end;
    }

    /// A string literal opened by the quote at the current byte and closed by the same quote
    /// (or, unterminated, by the end of the line); `\` escapes the next byte, and any of
    /// `sigils` followed by `{` makes it a template.
    pub(crate) fn string(&mut self, sigils: &[u8]) {
        let b = self.src.as_bytes();
        let quote = b[self.at];
        let from = self.at + 1;
        let mut i = from;
        let mut template = false;
        while i < b.len() {
            match b[i] {
                b'\\' => i += 2,
                c if c == quote || c == b'\n' => break,
                c if sigils.contains(&c) && b.get(i + 1) == Some(&b'{') => {
                    template = true;
                    i += 2;
                }
                _ => i += 1,
            }
        }
        let end = i.min(b.len());
        self.token(Tok::Str(from..end, template), end + 1 - self.at);
    }

    /// A word: the current byte and every following one up to a blank, a line break, a
    /// bracket, a comma, a comment opener or one of `stops`.
    pub(crate) fn word(&mut self, stops: &[u8]) {
        let b = self.src.as_bytes();
        let start = self.at;
        let mut i = start + 1;
        while i < b.len() && !ends_word(b, i, stops) {
            i += 1;
        }
        self.token(Tok::Word, i - start);
    }

    /// The tokens and comments read.
    pub(crate) fn finish(self) -> (Vec<(Tok, Range<usize>)>, Vec<Comment<'s>>) {
        (self.tokens, self.comments)
    }
}

/// Whether byte `i` ends a word: a blank, a line break, a bracket, a comma, a comment opener
/// or one of `stops`.
fn ends_word(b: &[u8], i: usize, stops: &[u8]) -> bool {
    matches!(
        b[i],
        b'\n' | b' ' | b'\t' | b'\r' | b'{' | b'[' | b'(' | b'}' | b']' | b')' | b','
    ) || stops.contains(&b[i])
        || (b[i] == b'/' && matches!(b.get(i + 1), Some(b'/' | b'*')))
}

/// Reads values from tokens; the dialect says how a `{ … }` literal reads.
pub(crate) struct Parser<'t> {
    pub(crate) src: &'t str,
    pub(crate) tokens: &'t [(Tok, Range<usize>)],
    /// Index of the next token.
    pub(crate) at: usize,
    /// Reads the object literal whose `{` is the next token.
    object: fn(&mut Parser<'t>) -> Val,
}

impl<'t> Parser<'t> {
    pub(crate) fn new(
        src: &'t str,
        tokens: &'t [(Tok, Range<usize>)],
        object: fn(&mut Parser<'t>) -> Val,
    ) -> Self {
        Self {
            src,
            tokens,
            at: 0,
            object,
        }
    }

    pub(crate) fn peek(&self) -> Option<&'t Tok> {
        self.tokens.get(self.at).map(|(t, _)| t)
    }

    /// The source text of token `index` (empty past the end).
    pub(crate) fn text(&self, index: usize) -> &'t str {
        self.tokens
            .get(index)
            .map_or("", |(_, span)| &self.src[span.clone()])
    }

    /// One value: a literal object or array, a plain string, or an expression running to the
    /// end of the entry (line break, comma or closing bracket), brackets balanced.
    pub(crate) fn value(&mut self) -> Val {
        let start = self.at;
        let first = match self.peek() {
            Some(Tok::Open(b'{')) => Some((self.object)(self)),
            Some(Tok::Open(b'[')) => Some(self.array()),
            Some(Tok::Str(span, false)) => {
                self.at += 1;
                Some(Val::Str(self.src[span.clone()].to_string(), span.clone()))
            }
            _ => None,
        };
        if let Some(val) = first {
            if matches!(
                self.peek(),
                None | Some(Tok::Newline | Tok::Comma | Tok::Close(_))
            ) {
                return val;
            }
        }
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
            // A lone template string: positioned inside its quotes, like a YAML scalar.
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

    /// The array literal whose `[` is the next token, up to its closing bracket (or the end).
    pub(crate) fn array(&mut self) -> Val {
        self.at += 1; // `[`
        let mut items = Vec::new();
        loop {
            match self.peek() {
                None => break,
                Some(Tok::Close(_)) => {
                    self.at += 1;
                    break;
                }
                Some(Tok::Newline | Tok::Comma) => self.at += 1,
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
}
