//! Terraform (HCL): VM images in `source_image_reference { … }` and
//! `storage_image_reference { … }` blocks and `source_image_id = "…"` attributes.
//!
//! Not an HCL parser: a tokenizer for blocks, attributes, object literals, string literals
//! (escapes, `${…}` / `%{…}` templates), heredocs and comments (`#`, `//`, `/* */`), read
//! into the shared infra value tree. A block `type "label" { … }` becomes an entry `type` whose
//! value is the body; an attribute `name = value` an entry `name`. Values that are not plain
//! string literals (references such as `var.image_version`, calls, templates) are expressions,
//! so their position is `dynamic`.

use std::borrow::Cow;
use std::ops::Range;

use super::infra::{self, Val};
use crate::model::Reference;
use crate::yaml::Comment;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open(u8),
    Close(u8),
    /// `=` or `:` between a key and its value.
    Assign,
    Comma,
    Newline,
    /// A string literal: content span, and whether it has a template sequence.
    Str(Range<usize>, bool),
    /// Anything else (identifier, number, operator, heredoc).
    Word,
}

/// References and comments (for suppressions) of a Terraform file.
pub fn extract(src: &str) -> (Vec<Reference>, Vec<Comment<'_>>) {
    let (tokens, comments) = tokenize(src);
    let mut parser = Parser {
        src,
        tokens: &tokens,
        at: 0,
    };
    let body = parser.body(None);
    let mut refs = Vec::new();
    infra::images(&body, &mut refs);
    (refs, comments)
}

fn tokenize(src: &str) -> (Vec<(Tok, Range<usize>)>, Vec<Comment<'_>>) {
    let b = src.as_bytes();
    let mut tokens = Vec::new();
    let mut comments = Vec::new();
    let mut i = 0;
    let line_end = |from: usize| {
        let end = src[from..].find('\n').map_or(b.len(), |n| from + n);
        if end > from && b[end - 1] == b'\r' {
            end - 1
        } else {
            end
        }
    };
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                tokens.push((Tok::Newline, i..i + 1));
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'#' | b'/' if c == b'#' || b.get(i + 1) == Some(&b'/') => {
                let body = if c == b'#' { i + 1 } else { i + 2 };
                let end = line_end(i);
                comments.push(Comment {
                    span: i..end,
                    text: Cow::Borrowed(&src[body.min(end)..end]),
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
            b'<' if src[i..].starts_with("<<") && heredoc_tag(src, i).is_some() => {
                let (tag, body_start) = heredoc_tag(src, i).unwrap_or(("", i + 2));
                let end = heredoc_end(src, body_start, tag);
                tokens.push((Tok::Word, i..end));
                i = end;
            }
            b'"' => {
                let (end, template) = string_end(b, i + 1);
                tokens.push((Tok::Str(i + 1..end, template), i..(end + 1).min(b.len())));
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
            b'=' | b':'
                if !matches!(b.get(i + 1), Some(b'=' | b'>'))
                    && (i == 0 || !matches!(b[i - 1], b'=' | b'!' | b'<' | b'>')) =>
            {
                tokens.push((Tok::Assign, i..i + 1));
                i += 1;
            }
            b',' => {
                tokens.push((Tok::Comma, i..i + 1));
                i += 1;
            }
            _ => {
                let start = i;
                i += 1;
                while i < b.len()
                    && !matches!(
                        b[i],
                        b'\n'
                            | b' '
                            | b'\t'
                            | b'\r'
                            | b'"'
                            | b'{'
                            | b'['
                            | b'('
                            | b'}'
                            | b']'
                            | b')'
                            | b','
                            | b'#'
                            | b'='
                            | b':'
                    )
                    && !(b[i] == b'/' && matches!(b.get(i + 1), Some(b'/' | b'*')))
                {
                    i += 1;
                }
                tokens.push((Tok::Word, start..i));
            }
        }
    }
    (tokens, comments)
}

/// `<<TAG` or `<<-TAG` at `at`: the tag and where the heredoc body starts (after the line).
fn heredoc_tag(src: &str, at: usize) -> Option<(&str, usize)> {
    let rest = src[at + 2..].strip_prefix('-').unwrap_or(&src[at + 2..]);
    let tag_start = src.len() - rest.len();
    let len = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    if len == 0 {
        return None;
    }
    let body = src[tag_start..]
        .find('\n')
        .map_or(src.len(), |n| tag_start + n + 1);
    Some((&src[tag_start..tag_start + len], body))
}

/// The end of the line holding the closing tag (or end of file).
fn heredoc_end(src: &str, body: usize, tag: &str) -> usize {
    let mut at = body;
    while at < src.len() {
        let end = src[at..].find('\n').map_or(src.len(), |n| at + n);
        if src[at..end].trim() == tag {
            return end;
        }
        at = end + 1;
    }
    src.len()
}

/// End of a `"…"` string starting at `from`, and whether it holds `${` or `%{`.
fn string_end(b: &[u8], from: usize) -> (usize, bool) {
    let mut i = from;
    let mut template = false;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' | b'\n' => return (i, template),
            b'$' | b'%' if b.get(i + 1) == Some(&b'{') => {
                template = true;
                i += 2;
            }
            _ => i += 1,
        }
    }
    (b.len(), template)
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

    fn text(&self, index: usize) -> &str {
        self.tokens
            .get(index)
            .map_or("", |(_, span)| &self.src[span.clone()])
    }

    /// A body (file or block): attributes and blocks until `close` (or end of file).
    fn body(&mut self, close: Option<u8>) -> Val {
        let mut entries = Vec::new();
        loop {
            match self.peek() {
                None => break,
                Some(Tok::Close(c)) => {
                    let c = *c;
                    self.at += 1;
                    if Some(c) == close.map(closing) {
                        break;
                    }
                }
                Some(Tok::Newline | Tok::Comma) => self.at += 1,
                Some(Tok::Word | Tok::Str(..)) => {
                    let key = self.text(self.at).trim_matches('"').to_string();
                    self.at += 1;
                    match self.peek() {
                        Some(Tok::Assign) => {
                            self.at += 1;
                            entries.push((key, self.value()));
                        }
                        _ => {
                            // A block: labels up to `{`.
                            while matches!(self.peek(), Some(Tok::Word | Tok::Str(..))) {
                                self.at += 1;
                            }
                            if self.peek() == Some(&Tok::Open(b'{')) {
                                self.at += 1;
                                entries.push((key, self.body(Some(b'{'))));
                            }
                        }
                    }
                }
                Some(Tok::Open(c)) => {
                    // Stray bracket: read it as a value so nesting stays balanced.
                    let _ = *c;
                    let _ = self.value();
                }
                Some(Tok::Assign) => self.at += 1,
            }
        }
        Val::Object(entries)
    }

    /// A value: object or tuple literal, plain string, or an expression to the end of the
    /// line (brackets balanced).
    fn value(&mut self) -> Val {
        let start = self.at;
        let first = match self.peek() {
            Some(Tok::Open(b'{')) => {
                self.at += 1;
                Some(self.body(Some(b'{')))
            }
            Some(Tok::Open(b'[')) => Some(self.tuple()),
            Some(Tok::Str(span, false)) => {
                let span = span.clone();
                self.at += 1;
                Some(Val::Str(self.src[span.clone()].to_string(), span))
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

    fn tuple(&mut self) -> Val {
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

fn closing(open: u8) -> u8 {
    match open {
        b'{' => b'}',
        b'[' => b']',
        _ => b')',
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    #[test]
    fn blocks_attributes_and_comments() {
        let src = "resource \"azurerm_linux_virtual_machine\" \"vm\" {\n  # pin-lint: ignore[stale-vm-image]\n  source_image_reference {\n    publisher = \"Canonical\"\n    offer     = \"ubuntu-24_04-lts\"\n    sku       = \"server\"\n    version   = \"latest\"\n  }\n  custom_data = <<-EOT\n    source_image_id = \"/x/galleries/g/images/i\"\n  EOT\n}\nresource \"azurerm_linux_virtual_machine_scale_set\" \"s\" {\n  source_image_id = \"/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images/i/versions/latest\"\n  admin_password = var.x == \"a\" ? \"b\" : \"c\"\n}\n";
        let (refs, comments) = extract(src);
        assert_eq!(refs.len(), 2, "{refs:#?}");
        assert_eq!(&src[refs[0].span.clone()], "latest");
        assert_eq!(refs[0].text, "Canonical:ubuntu-24_04-lts:server:latest");
        assert!(refs[1].text.ends_with("/versions/latest"));
        assert_eq!(comments.len(), 1);
    }

    #[test]
    fn references_are_dynamic_and_garbage_does_not_panic() {
        let src = "source_image_reference {\n  publisher = \"p\"\n  offer = \"o\"\n  sku = \"s\"\n  version = var.image_version\n}\n";
        let (refs, _) = extract(src);
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].kind, Kind::Dynamic);
        assert_eq!(refs[0].text, "var.image_version");
        for garbage in [
            "{", "}", "a = [", "b {", "\"", "<<EOF", "<<-", "x = \"${", "/*",
        ] {
            let _ = extract(garbage);
        }
    }
}
