//! The one place where byte offsets meet LSP positions.
//!
//! Inside the server everything is a byte offset into the document text (as in pin-core).
//! LSP positions count code units of the negotiated encoding: UTF-16 unless the client offered
//! UTF-8 in `general.positionEncodings`. Line breaks are `\n` (a `\r` before it belongs to the
//! line break, so a position never lands between the two).

use std::ops::Range;

use pin_core::SourceFile;
use tower_lsp_server::ls_types::{Position, PositionEncodingKind, TextDocumentContentChangeEvent};

/// The position encoding agreed with the client at `initialize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// Columns count UTF-16 code units (the LSP default).
    #[default]
    Utf16,
    /// Columns count bytes.
    Utf8,
}

impl Encoding {
    /// Pick UTF-8 when the client offers it (it costs no conversion), else UTF-16, which every
    /// client must support.
    pub fn negotiate(offered: Option<&[PositionEncodingKind]>) -> Encoding {
        match offered {
            Some(kinds) if kinds.contains(&PositionEncodingKind::UTF8) => Encoding::Utf8,
            _ => Encoding::Utf16,
        }
    }

    /// The LSP name of this encoding, for `ServerCapabilities.positionEncoding`.
    pub fn kind(self) -> PositionEncodingKind {
        match self {
            Encoding::Utf16 => PositionEncodingKind::UTF16,
            Encoding::Utf8 => PositionEncodingKind::UTF8,
        }
    }

    fn units(self, c: char) -> usize {
        match self {
            Encoding::Utf16 => c.len_utf16(),
            Encoding::Utf8 => c.len_utf8(),
        }
    }
}

/// The LSP position of byte `offset` (clamped to the text and to a char boundary).
pub fn position(source: &SourceFile, offset: usize, enc: Encoding) -> Position {
    let text = source.text();
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let line = source.line_index(offset);
    let start = source.line_range(line).start;
    let character: usize = text[start..offset].chars().map(|c| enc.units(c)).sum();
    Position::new(saturating_u32(line), saturating_u32(character))
}

/// The LSP range of a byte range.
pub fn range(
    source: &SourceFile,
    bytes: Range<usize>,
    enc: Encoding,
) -> tower_lsp_server::ls_types::Range {
    tower_lsp_server::ls_types::Range::new(
        position(source, bytes.start, enc),
        position(source, bytes.end, enc),
    )
}

/// The byte offset of an LSP position. As the protocol asks, a column past the end of its line
/// means the end of the line, and a line past the end of the text means the end of the text;
/// a column inside a character (half of a surrogate pair) rounds down to its start.
pub fn offset(source: &SourceFile, pos: Position, enc: Encoding) -> usize {
    let line = pos.line as usize;
    if line >= source.line_count() {
        return source.text().len();
    }
    let bytes = source.line_range(line);
    let mut units = 0;
    for (i, c) in source.text()[bytes.clone()].char_indices() {
        let next = units + enc.units(c);
        if next > pos.character as usize {
            return bytes.start + i;
        }
        units = next;
    }
    bytes.end
}

/// The byte range of an LSP range (start and end ordered).
pub fn byte_range(
    source: &SourceFile,
    r: tower_lsp_server::ls_types::Range,
    enc: Encoding,
) -> Range<usize> {
    let (a, b) = (offset(source, r.start, enc), offset(source, r.end, enc));
    a.min(b)..a.max(b)
}

/// Apply `textDocument/didChange` content changes to `source` in order; a change without a
/// range replaces the whole text.
pub fn apply_changes(
    source: &SourceFile,
    changes: Vec<TextDocumentContentChangeEvent>,
    enc: Encoding,
) -> SourceFile {
    let mut current: Option<SourceFile> = None;
    for change in changes {
        let old = current.as_ref().unwrap_or(source);
        let next = match change.range {
            None => change.text,
            Some(r) => {
                let bytes = byte_range(old, r, enc);
                let old = old.text();
                let mut s = String::with_capacity(old.len() + change.text.len());
                s.push_str(&old[..bytes.start]);
                s.push_str(&change.text);
                s.push_str(&old[bytes.end..]);
                s
            }
        };
        current = Some(SourceFile::new(next));
    }
    current.unwrap_or_else(|| source.clone())
}

fn saturating_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_lsp_server::ls_types::Range as LspRange;

    fn src(text: &str) -> SourceFile {
        SourceFile::new(text.to_string())
    }

    #[test]
    fn utf16_counts_surrogate_pairs_and_utf8_counts_bytes() {
        // "é" is 2 bytes / 1 UTF-16 unit, "𝄞" is 4 bytes / 2 UTF-16 units.
        let s = src("a: é𝄞x\r\nb: y");
        let x = "a: é𝄞".len();
        assert_eq!(position(&s, x, Encoding::Utf16), Position::new(0, 6));
        assert_eq!(position(&s, x, Encoding::Utf8), Position::new(0, 9));
        assert_eq!(offset(&s, Position::new(0, 6), Encoding::Utf16), x);
        assert_eq!(offset(&s, Position::new(0, 9), Encoding::Utf8), x);
        // Inside the surrogate pair: rounds down to the character's start.
        assert_eq!(
            offset(&s, Position::new(0, 5), Encoding::Utf16),
            "a: é".len()
        );
        // Past the end of the line: the end of the line, before the CRLF.
        assert_eq!(offset(&s, Position::new(0, 99), Encoding::Utf16), x + 1);
        // Second line, and past the last line.
        assert_eq!(
            offset(&s, Position::new(1, 3), Encoding::Utf16),
            s.text().len() - 1
        );
        assert_eq!(
            offset(&s, Position::new(7, 0), Encoding::Utf16),
            s.text().len()
        );
        assert_eq!(
            position(&s, s.text().len(), Encoding::Utf16),
            Position::new(1, 4)
        );
    }

    #[test]
    fn incremental_changes_apply_in_order() {
        let changes = vec![
            TextDocumentContentChangeEvent {
                range: Some(LspRange::new(Position::new(0, 3), Position::new(0, 4))),
                range_length: None,
                text: "𝄞".to_string(),
            },
            TextDocumentContentChangeEvent {
                range: Some(LspRange::new(Position::new(0, 5), Position::new(0, 5))),
                range_length: None,
                text: "!".to_string(),
            },
        ];
        let out = apply_changes(&src("a: é\nb"), changes, Encoding::Utf16);
        assert_eq!(out.text(), "a: 𝄞!\nb");
    }

    #[test]
    fn negotiation_prefers_utf8_only_when_offered() {
        assert_eq!(Encoding::negotiate(None), Encoding::Utf16);
        let both = [PositionEncodingKind::UTF16, PositionEncodingKind::UTF8];
        assert_eq!(Encoding::negotiate(Some(&both)), Encoding::Utf8);
        assert_eq!(
            Encoding::negotiate(Some(&[PositionEncodingKind::UTF32])),
            Encoding::Utf16
        );
    }
}
