//! Rendering at the edge: every output format is a view of the same findings and references.

pub mod azure;
pub mod github;
pub mod human;
pub mod json;
pub mod sarif;

use pin_core::{Analysis, Finding, LineCol};

/// One analyzed file with its findings, ready to render.
pub struct FileReport {
    /// Path as shown.
    pub path: String,
    /// The analysis.
    pub analysis: Analysis,
    /// Findings after settings and suppressions.
    pub findings: Vec<Finding>,
}

/// Start and end (exclusive) of a byte span as line/column.
pub fn span_positions(analysis: &Analysis, span: &std::ops::Range<usize>) -> (LineCol, LineCol) {
    (
        analysis.source.line_col(span.start),
        analysis.source.line_col(span.end),
    )
}
