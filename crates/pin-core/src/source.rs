//! Source text with a line index: the one place where byte offsets become line/column.
//!
//! Everything inside the analyzer speaks byte offsets. Line and column (1-based, columns in
//! Unicode scalar values, as the CLI contract says) are computed here and nowhere else; the
//! language server converts to UTF-16 in its own single place.

use std::ops::Range;
use std::sync::Arc;

/// A 1-based line and column; the column counts Unicode scalar values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct LineCol {
    /// 1-based line number (lines are separated by LF).
    pub line: u32,
    /// 1-based column in Unicode scalar values.
    pub column: u32,
}

/// File text and the byte offset at which each line starts.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Shared, so that a caller that keeps the text for something else (the CLI's YAML trees
    /// borrow it) holds it once.
    text: Arc<str>,
    line_starts: Vec<usize>,
    /// 0-based indexes of the lines holding a non-ASCII character, ascending. On any other
    /// line a column is a byte distance, so positions on a very long line (a minified flow
    /// collection) cost nothing to compute.
    non_ascii_lines: Vec<usize>,
}

impl SourceFile {
    /// Index `text`; the text is kept exactly as given (BOM, CRLF and all).
    ///
    /// One pass over the bytes, eight at a time when the text is ASCII (a search per line cost
    /// more than the bytes of a short line).
    pub fn new(text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        let bytes = text.as_bytes();
        let mut line_starts;
        let mut non_ascii_lines = Vec::new();
        if bytes.is_ascii() {
            line_starts = self::line_starts(&text);
        } else {
            line_starts = vec![0];
            let mut non_ascii = false;
            for (i, &b) in bytes.iter().enumerate() {
                if b == b'\n' {
                    if non_ascii {
                        non_ascii_lines.push(line_starts.len() - 1);
                        non_ascii = false;
                    }
                    line_starts.push(i + 1);
                } else if !b.is_ascii() {
                    non_ascii = true;
                }
            }
            if non_ascii {
                non_ascii_lines.push(line_starts.len() - 1);
            }
        }
        SourceFile {
            text,
            line_starts,
            non_ascii_lines,
        }
    }

    /// The full text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Number of lines (a final newline does not start a new counted line of content, but
    /// the empty line after it is addressable).
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The 0-based line index containing byte `offset`.
    pub fn line_index(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    /// Byte range of 0-based line `index`, without its line break (`\n` or `\r\n`).
    pub fn line_range(&self, index: usize) -> Range<usize> {
        let start = self.line_starts[index];
        let mut end = self
            .line_starts
            .get(index + 1)
            .map_or(self.text.len(), |next| next - 1);
        if end > start && self.text.as_bytes()[end - 1] == b'\r' {
            end -= 1;
        }
        start..end
    }

    /// Text of 0-based line `index`, without its line break.
    pub fn line_text(&self, index: usize) -> &str {
        &self.text[self.line_range(index)]
    }

    /// Line and column of byte `offset` (clamped to the text and to a char boundary).
    pub fn line_col(&self, offset: usize) -> LineCol {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_index(offset);
        let start = self.line_starts[line];
        let column = if self.non_ascii_lines.binary_search(&line).is_ok() {
            self.text[start..offset].chars().count() + 1
        } else {
            offset - start + 1
        };
        LineCol {
            line: saturating_u32(line + 1),
            column: saturating_u32(column),
        }
    }

    /// Byte offset of a 1-based line and column; `None` when outside the text.
    pub fn offset(&self, at: LineCol) -> Option<usize> {
        let index = (at.line as usize).checked_sub(1)?;
        let range = self.line_range(index);
        let line = &self.text[range.clone()];
        let col = (at.column as usize).checked_sub(1)?;
        if col == line.chars().count() {
            return Some(range.end);
        }
        line.char_indices().nth(col).map(|(i, _)| range.start + i)
    }
}

/// Byte offset where each line of `text` starts (`0`, then the offset after each `\n`).
pub(crate) fn line_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    push_line_starts(text.as_bytes(), &mut starts);
    starts
}

/// Push the start of every line after the first: the offset after each `\n` of `bytes` (a
/// `\n` byte is never part of another UTF-8 character). Eight bytes are tested at once; only a
/// word holding a line break is looked into.
fn push_line_starts(bytes: &[u8], out: &mut Vec<usize>) {
    const SEVENS: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const BREAKS: u64 = 0x0a0a_0a0a_0a0a_0a0a;
    let mut words = bytes.chunks_exact(8);
    let mut base = 0;
    for word in &mut words {
        let mut bytes8 = [0; 8];
        bytes8.copy_from_slice(word);
        let x = u64::from_le_bytes(bytes8) ^ BREAKS;
        // The high bit of each byte that is zero in `x` (a line break in the word), exactly.
        let mut zeros = !(((x & SEVENS) + SEVENS) | x | SEVENS);
        while zeros != 0 {
            out.push(base + (zeros.trailing_zeros() / 8) as usize + 1);
            zeros &= zeros - 1;
        }
        base += 8;
    }
    for (i, &b) in words.remainder().iter().enumerate() {
        if b == b'\n' {
            out.push(base + i + 1);
        }
    }
}

fn saturating_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The index is what splitting the text into lines gives.
        #[test]
        fn the_index_is_that_of_the_lines(text in "(a|é|\\n|\\r\\n| |\\u{7f}|\\u{b}|x\\u{1F600})*") {
            let src = SourceFile::new(text.clone());
            let mut starts = vec![0];
            let mut non_ascii = Vec::new();
            let mut end = 0;
            for (index, line) in text.split_inclusive('\n').enumerate() {
                end += line.len();
                if !line.is_ascii() {
                    non_ascii.push(index);
                }
                if line.ends_with('\n') {
                    starts.push(end);
                }
            }
            prop_assert_eq!(&src.line_starts, &starts);
            prop_assert_eq!(&src.non_ascii_lines, &non_ascii);
        }

        /// The same for ASCII texts, which are read eight bytes at a time: every byte value
        /// next to a line break, at every alignment.
        #[test]
        fn ascii_line_starts_at_every_alignment(text in "(\\n|[\\x00-\\x7f]){0,80}") {
            let src = SourceFile::new(text.clone());
            let mut starts = vec![0];
            starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
            prop_assert_eq!(&src.line_starts, &starts);
            prop_assert!(src.non_ascii_lines.is_empty());
        }
    }

    #[test]
    fn columns_count_characters_and_ignore_crlf() {
        let src = SourceFile::new("a: é\r\nb: x\n".to_string());
        assert_eq!(src.line_col(3), LineCol { line: 1, column: 4 });
        assert_eq!(src.line_col(7), LineCol { line: 2, column: 1 });
        assert_eq!(src.line_text(0), "a: é");
        assert_eq!(src.offset(LineCol { line: 2, column: 4 }), Some(10));
    }

    #[test]
    fn ascii_and_non_ascii_lines_give_the_same_columns_as_counting() {
        let text = "ab\né: x é y\n\nlast é\nplain line";
        let src = SourceFile::new(text.to_string());
        for offset in (0..=text.len()).filter(|&o| text.is_char_boundary(o)) {
            let before = &text[..offset];
            let line = before.matches('\n').count() + 1;
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            let column = text[line_start..offset].chars().count() + 1;
            assert_eq!(
                src.line_col(offset),
                LineCol {
                    line: u32::try_from(line).expect("small"),
                    column: u32::try_from(column).expect("small"),
                },
                "offset {offset}"
            );
        }
        assert_eq!(src.line_count(), 5);
    }
}
