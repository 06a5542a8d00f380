//! A finding is data: rule, severity, span, message and an optional fix. Rendering happens at
//! the edges (CLI formats, LSP diagnostics).

use std::ops::Range;

use crate::fix::Fix;
use crate::rules::Rule;

/// How serious a finding is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational only.
    Info,
    /// Worth fixing; does not fail the gate.
    Warning,
    /// Fails the gate (exit code 1).
    Error,
}

impl Severity {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One problem found in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule that fired.
    pub rule: Rule,
    /// Effective severity (after configuration).
    pub severity: Severity,
    /// Byte span in the file.
    pub span: Range<usize>,
    /// One-line message.
    pub message: String,
    /// The reference text concerned, if any.
    pub reference: Option<String>,
    /// The fix, if one is known.
    pub fix: Option<Fix>,
}
