//! Terraform (HCL): VM images in `source_image_reference { … }` and
//! `storage_image_reference { … }` blocks and `source_image_id = "…"` attributes.
//!
//! Not an HCL parser: a tokenizer for blocks, attributes, object literals, string literals
//! (escapes, `${…}` / `%{…}` templates), heredocs and comments (`#`, `//`, `/* */`), read
//! into the shared infra value tree. A block `type "label" { … }` becomes an entry `type` whose
//! value is the body; an attribute `name = value` an entry `name`. Values that are not plain
//! string literals (references such as `var.image_version`, calls, templates) are expressions,
//! so their position is `dynamic`.

use std::ops::Range;

use super::infra::scan::{Parser, Scanner, Tok};
use super::infra::{self, Val};
use crate::model::Reference;
use crate::yaml::Comment;

/// References and comments (for suppressions) of a Terraform file.
pub fn extract(src: &str) -> (Vec<Reference>, Vec<Comment<'_>>) {
    let (tokens, comments) = tokenize(src);
    let mut parser = Parser::new(src, &tokens, object);
    let body = body(&mut parser, None);
    let mut refs = Vec::new();
    infra::images(&body, &mut refs);
    (refs, comments)
}

fn tokenize(src: &str) -> (Vec<(Tok, Range<usize>)>, Vec<Comment<'_>>) {
    let b = src.as_bytes();
    let mut s = Scanner::new(src);
    while let Some(c) = s.byte(0) {
        if s.common() {
            continue;
        }
        let i = s.at;
        match c {
            b'#' => s.line_comment(1),
            b'<' if s.rest().starts_with("<<") && heredoc_tag(src, i).is_some() => {
                let (tag, body_start) = heredoc_tag(src, i).unwrap_or(("", i + 2));
                let end = heredoc_end(src, body_start, tag);
                s.token(Tok::Word, end - i);
            }
            b'"' => s.string(b"$%"),
            b'=' | b':'
                if !matches!(b.get(i + 1), Some(b'=' | b'>'))
                    && (i == 0 || !matches!(b[i - 1], b'=' | b'!' | b'<' | b'>')) =>
            {
                s.token(Tok::Assign, 1);
            }
            _ => s.word(b"\"#=:"),
        }
    }
    s.finish()
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

/// An object literal `{ … }` (the next token is its `{`): read as a body.
fn object(p: &mut Parser<'_>) -> Val {
    p.at += 1;
    body(p, Some(b'{'))
}

/// A body (file or block): attributes and blocks until `close` (or end of file).
fn body(p: &mut Parser<'_>, close: Option<u8>) -> Val {
    let mut entries = Vec::new();
    loop {
        match p.peek() {
            None => break,
            Some(Tok::Close(c)) => {
                p.at += 1;
                if Some(*c) == close.map(closing) {
                    break;
                }
            }
            Some(Tok::Newline | Tok::Comma) => p.at += 1,
            Some(Tok::Word | Tok::Str(..)) => {
                let key = p.text(p.at).trim_matches('"').to_string();
                p.at += 1;
                match p.peek() {
                    Some(Tok::Assign) => {
                        p.at += 1;
                        entries.push((key, p.value()));
                    }
                    _ => {
                        // A block: labels up to `{`.
                        while matches!(p.peek(), Some(Tok::Word | Tok::Str(..))) {
                            p.at += 1;
                        }
                        if p.peek() == Some(&Tok::Open(b'{')) {
                            entries.push((key, object(p)));
                        }
                    }
                }
            }
            Some(Tok::Open(_)) => {
                // Stray bracket: read it as a value so nesting stays balanced.
                let _ = p.value();
            }
            Some(Tok::Assign) => p.at += 1,
        }
    }
    Val::Object(entries)
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
