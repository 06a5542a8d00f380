//! Bicep: VM images in `imageReference: { … }` objects and Managed DevOps Pools
//! `fabricProfile: { images: [ … ] }`.
//!
//! Not a Bicep parser: a tokenizer good enough for object and array literals, string literals
//! (with `\'` escapes, `${…}` interpolation and `'''` multi-line strings) and comments. Every
//! `{ … }` and `[ … ]` in the file is read as a literal; whatever stands between entries that is
//! not a plain string literal (identifiers, calls, ternaries, interpolated strings) becomes an
//! expression, which makes its position `dynamic`. Unbalanced input ends the current literal at
//! end of file instead of failing.

use std::ops::Range;

use super::infra::scan::{Parser, Scanner, Tok};
use super::infra::{self, Val};
use crate::model::Reference;
use crate::yaml::Comment;

/// References and comments (`//` and `/* */`, for suppressions) of a Bicep file.
pub fn extract(src: &str) -> (Vec<Reference>, Vec<Comment<'_>>) {
    let (tokens, comments) = tokenize(src);
    let mut refs = Vec::new();
    let mut parser = Parser::new(src, &tokens, object);
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
    let mut s = Scanner::new(src);
    while let Some(c) = s.byte(0) {
        if s.common() {
            continue;
        }
        match c {
            b'\'' if s.rest().starts_with("'''") => {
                let start = s.at;
                let len = s.rest().len();
                let end = s.rest()[3..].find("'''").map_or(len, |n| 3 + n);
                s.token(Tok::Str(start + 3..start + end, false), (end + 3).min(len));
            }
            b'\'' => s.string(b"$"),
            b':' => s.token(Tok::Assign, 1),
            _ => s.word(b"':"),
        }
    }
    s.finish()
}

/// The object literal whose `{` is the next token: `key: value` entries, one a line or
/// separated by commas.
fn object(p: &mut Parser<'_>) -> Val {
    p.at += 1; // `{`
    let mut entries = Vec::new();
    loop {
        while matches!(p.peek(), Some(Tok::Newline | Tok::Comma)) {
            p.at += 1;
        }
        let key = match p.peek() {
            None => break,
            Some(Tok::Close(_)) => {
                p.at += 1;
                break;
            }
            Some(Tok::Word) => p.text(p.at).to_string(),
            Some(Tok::Str(span, false)) => p.src[span.clone()].to_string(),
            Some(_) => {
                skip_entry(p);
                continue;
            }
        };
        p.at += 1;
        if p.peek() != Some(&Tok::Assign) {
            skip_entry(p);
            continue;
        }
        p.at += 1;
        let val = p.value();
        entries.push((key, val));
    }
    Val::Object(entries)
}

/// Skip to the end of a malformed entry (never past the object's closing brace).
fn skip_entry(p: &mut Parser<'_>) {
    let before = p.at;
    let _ = p.value();
    if p.at == before && !matches!(p.peek(), Some(Tok::Close(_))) {
        p.at += 1;
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

    /// A line comment ends before a CRLF line break; only `${` makes a string a template
    /// (a `$` or a `{` alone is text).
    #[test]
    fn comments_end_before_crlf_and_templates_need_dollar_brace() {
        let src = "var v = {\r\n  imageReference: { // the image\r\n    publisher: 'p', offer: 'o', sku: 's'\r\n    version: '1{0}$'\r\n  }\r\n}\r\n";
        let (refs, comments) = extract(src);
        assert_eq!(comments.len(), 1);
        assert_eq!(comments[0].text, " the image");
        assert_eq!(&src[comments[0].span.clone()], "// the image");
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].kind, Kind::Vm);
        assert_eq!(refs[0].text, "p:o:s:1{0}$");
    }

    /// A `/* */` comment is one comment from its opener to its closer, over several lines
    /// too; an unclosed one runs to the end of the text. Reading goes on right after it.
    #[test]
    fn block_comments_are_comments() {
        let src = "var a = 1 /* one */\nvar v = {\n  imageReference: {/* two\n lines */publisher: 'p', offer: 'o', sku: 's', version: '1'}\n}\n/* open";
        let (refs, comments) = extract(src);
        let got: Vec<(&str, &str)> = comments
            .iter()
            .map(|c| (&src[c.span.clone()], c.text.as_ref()))
            .collect();
        assert_eq!(
            got,
            [
                ("/* one */", " one "),
                ("/* two\n lines */", " two\n lines "),
                ("/* open", " open"),
            ]
        );
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].text, "p:o:s:1");
    }

    /// A `/` is a comment opener only before another `/` or a `*`: a division is part of
    /// the value, and a comment written right after a value or a key ends it.
    #[test]
    fn slashes_divide_and_open_comments() {
        let src = "var v = {\n  imageReference: {\n    publisher: 'p', offer: 'o', sku: 's'\n    version: major / 2// halved\n  }\n}\n";
        let (refs, comments) = extract(src);
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].text, "major / 2");
        assert_eq!(comments.len(), 1);
        assert_eq!(&src[comments[0].span.clone()], "// halved");
        // A comment right after a key ends the key.
        let src = "var v = {\n  imageReference: { publisher/* who */: 'p', offer: 'o', sku: 's', version: '1' }\n}\n";
        let (refs, comments) = extract(src);
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].text, "p:o:s:1");
        assert_eq!(&src[comments[0].span.clone()], "/* who */");
    }

    /// `\` escapes the next character: `\${` is text, no interpolation, and `\'` does not
    /// end the string.
    #[test]
    fn escapes_are_text() {
        let src = "var v = {\n  imageReference: { publisher: 'p', offer: 'o', sku: 's', version: '\\${v}' }\n  other: { imageReference: { publisher: 'p\\'s', offer: 'o', sku: 's', version: '1' } }\n}\n";
        let (refs, _) = extract(src);
        let got: Vec<(&str, Kind)> = refs.iter().map(|r| (r.text.as_str(), r.kind)).collect();
        assert_eq!(got, [("p:o:s:\\${v}", Kind::Vm), ("p\\'s:o:s:1", Kind::Vm)]);
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
