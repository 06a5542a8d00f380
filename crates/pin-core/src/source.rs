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
    pub fn new(text: impl Into<Arc<str>>) -> Self {
        let text: Arc<str> = text.into();
        let mut line_starts = vec![0];
        let mut non_ascii_lines = Vec::new();
        let mut end = 0;
        for (index, line) in text.split_inclusive('\n').enumerate() {
            end += line.len();
            if !line.is_ascii() {
                non_ascii_lines.push(index);
            }
            if line.ends_with('\n') {
                line_starts.push(end);
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

fn saturating_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

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
