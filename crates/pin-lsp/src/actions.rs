//! Code actions and command edits: the core's byte-exact fixes, converted to LSP edits.
//!
//! Every edit here is a pin-core `Edit` (or, for the suppression comment, an insertion built
//! the same way); nothing re-serialises YAML.

use std::collections::HashMap;
use std::ops::Range;

use pin_core::engine::fix::applies;
use pin_core::{Analysis, Edit, Finding, Settings, SourceFile};
use tower_lsp_server::ls_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, DocumentChanges, OneOf,
    OptionalVersionedTextDocumentIdentifier, TextDocumentEdit, TextEdit, Uri, WorkspaceEdit,
};

use crate::diagnostics::to_diagnostic;
use crate::positions::{self, Encoding};

/// Title of the file-wide action.
pub const PIN_ALL_TITLE: &str = "Pin all images in this file";

/// Kind of the file-wide action: a `source.fixAll` action, so "fix all on save" can use it.
pub const FIX_ALL_KIND: CodeActionKind = CodeActionKind::new("source.fixAll.pin-lint");

/// The edits of one document, and how to address it in a workspace edit.
#[derive(Debug, Clone)]
pub struct FileEdits {
    /// The document.
    pub uri: Uri,
    /// Its version when the edits were computed (`None` for a file that is not open).
    pub version: Option<i32>,
    /// The edits, already in the negotiated encoding.
    pub edits: Vec<TextEdit>,
}

/// Build a workspace edit; versioned `documentChanges` when the client supports them, so a
/// client refuses edits computed for an older text.
pub fn workspace_edit(files: Vec<FileEdits>, document_changes: bool) -> WorkspaceEdit {
    if document_changes {
        let edits = files
            .into_iter()
            .map(|f| TextDocumentEdit {
                text_document: OptionalVersionedTextDocumentIdentifier {
                    uri: f.uri,
                    version: f.version,
                },
                edits: f.edits.into_iter().map(OneOf::Left).collect(),
            })
            .collect();
        WorkspaceEdit {
            document_changes: Some(DocumentChanges::Edits(edits)),
            ..WorkspaceEdit::default()
        }
    } else {
        let changes: HashMap<Uri, Vec<TextEdit>> =
            files.into_iter().map(|f| (f.uri, f.edits)).collect();
        WorkspaceEdit {
            changes: Some(changes),
            ..WorkspaceEdit::default()
        }
    }
}

/// Core edits as LSP text edits.
pub fn text_edits(source: &SourceFile, edits: &[Edit], enc: Encoding) -> Vec<TextEdit> {
    edits
        .iter()
        .map(|e| TextEdit {
            range: positions::range(source, e.range.clone(), enc),
            new_text: e.new_text.clone(),
        })
        .collect()
}

/// The edit that silences `rule` on the finding's line: extends an own-line
/// `# pin-lint: ignore[…]` comment right above, or inserts one with the line's indentation
/// (and the file's line break) above it, in the file's comment syntax (`//` in JSONC).
pub fn suppress_edit(analysis: &Analysis, finding: &Finding) -> Edit {
    let source = &analysis.source;
    let rule = finding.rule.id();
    let line = source.line_index(finding.span.start);
    if let Some(above) = line.checked_sub(1) {
        let existing = analysis
            .suppressions
            .entries
            .iter()
            .find(|s| s.line == above && s.own_line && !s.rules.is_empty());
        if let Some(close) = existing.and_then(|s| {
            let text = &source.text()[s.span.clone()];
            text.find(']').map(|i| s.span.start + i)
        }) {
            return Edit::insert(close, format!(", {rule}"));
        }
    }
    let line_range = source.line_range(line);
    let line_text = &source.text()[line_range.clone()];
    let indent_len = line_text.len() - line_text.trim_start_matches([' ', '\t']).len();
    let indent = &line_text[..indent_len];
    let eol = if source.text()[line_range.end..].starts_with("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let comment = analysis
        .dialect
        .map_or("#", pin_core::dialect::Dialect::line_comment);
    Edit::insert(
        line_range.start,
        format!("{indent}{comment} pin-lint: ignore[{rule}]{eol}"),
    )
}

/// Everything needed to answer `textDocument/codeAction` for one document version.
pub struct ActionInput<'a> {
    /// The document.
    pub uri: &'a Uri,
    /// Its version.
    pub version: i32,
    /// Its analysis.
    pub analysis: &'a Analysis,
    /// Its findings with the facts known now.
    pub findings: &'a [Finding],
    /// Its settings (whether a fix applies is the engine's decision under them).
    pub settings: &'a Settings,
    /// The edits of every fix the engine applies to the file, checked to converge
    /// (`Session::fix_edits`), when there are any and they were asked for.
    pub fix_all: Option<&'a [Edit]>,
    /// Requested byte range.
    pub range: Range<usize>,
    /// Negotiated encoding.
    pub encoding: Encoding,
    /// Whether to use versioned `documentChanges`.
    pub document_changes: bool,
    /// The client's `context.only` filter, if any.
    pub only: Option<&'a [CodeActionKind]>,
}

/// Whether the client's `context.only` filter (`None`: no filter) lets actions of `kind`
/// through.
pub fn wanted(only: Option<&[CodeActionKind]>, kind: &CodeActionKind) -> bool {
    match only {
        None => true,
        Some(only) => only.iter().any(|o| {
            kind.as_str() == o.as_str() || kind.as_str().starts_with(&format!("{}.", o.as_str()))
        }),
    }
}

/// Quick fixes for the findings touching the range ("Pin to …", "Bump to …", suppress), and
/// "Pin all images in this file" when the file has any safe fix.
pub fn code_actions(input: &ActionInput<'_>) -> Vec<CodeActionOrCommand> {
    let source = &input.analysis.source;
    let edit_for = |edits: &[Edit]| {
        workspace_edit(
            vec![FileEdits {
                uri: input.uri.clone(),
                version: Some(input.version),
                edits: text_edits(source, edits, input.encoding),
            }],
            input.document_changes,
        )
    };
    let wanted = |kind: &CodeActionKind| wanted(input.only, kind);
    let mut out = Vec::new();
    let touching = input
        .findings
        .iter()
        .filter(|f| f.span.start <= input.range.end && input.range.start <= f.span.end);
    if wanted(&CodeActionKind::QUICKFIX) {
        let mut suppressions = Vec::new();
        for finding in touching {
            let diagnostic = to_diagnostic(finding, source, input.encoding);
            if let Some(fix) = &finding.fix {
                out.push(CodeActionOrCommand::CodeAction(CodeAction {
                    title: fix.title.clone(),
                    kind: Some(CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![diagnostic.clone()]),
                    edit: Some(edit_for(&fix.edits)),
                    is_preferred: Some(applies(finding, input.settings)),
                    ..CodeAction::default()
                }));
            }
            suppressions.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("Add `# pin-lint: ignore[{}]`", finding.rule.id()),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diagnostic]),
                edit: Some(edit_for(&[suppress_edit(input.analysis, finding)])),
                is_preferred: Some(false),
                ..CodeAction::default()
            }));
        }
        out.extend(suppressions);
    }
    if wanted(&FIX_ALL_KIND) {
        if let Some(edits) = input.fix_all {
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: PIN_ALL_TITLE.to_string(),
                kind: Some(FIX_ALL_KIND),
                edit: Some(edit_for(edits)),
                ..CodeAction::default()
            }));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pin_core::{Facts, Settings};

    fn apply(analysis: &Analysis, edit: &Edit) -> String {
        pin_core::fix::apply(analysis.source.text(), std::slice::from_ref(edit)).expect("applies")
    }

    #[test]
    fn suppression_comment_keeps_indentation_and_line_breaks() {
        let text = "resources:\r\n  containers:\r\n  - container: a\r\n    image: alpine:3.20\r\n";
        let analysis = Analysis::new("azure-pipelines.yml", text.to_string());
        let findings = analysis.findings(&Settings::default(), &Facts::none());
        let edit = suppress_edit(&analysis, &findings[0]);
        let fixed = apply(&analysis, &edit);
        assert_eq!(
            fixed,
            "resources:\r\n  containers:\r\n  - container: a\r\n    # pin-lint: ignore[unpinned-image]\r\n    image: alpine:3.20\r\n"
        );
        let again = Analysis::new("azure-pipelines.yml", fixed);
        assert!(again
            .findings(&Settings::default(), &Facts::none())
            .is_empty());
    }

    #[test]
    fn suppression_extends_an_existing_comment_above() {
        let text = "resources:\n  containers:\n  - container: a\n    # pin-lint: ignore[stale-digest]\n    image: alpine:3.20\n";
        let analysis = Analysis::new("azure-pipelines.yml", text.to_string());
        let findings = analysis.findings(&Settings::default(), &Facts::none());
        assert_eq!(findings.len(), 1);
        let fixed = apply(&analysis, &suppress_edit(&analysis, &findings[0]));
        assert!(
            fixed.contains("    # pin-lint: ignore[stale-digest, unpinned-image]\n    image"),
            "{fixed}"
        );
    }

    #[test]
    fn suppression_in_a_devcontainer_is_a_jsonc_comment() {
        let text = "{\n  \"image\": \"alpine:3.20\"\n}\n";
        let path = ".devcontainer/devcontainer.json";
        let analysis = Analysis::new(path, text.to_string());
        let findings = analysis.findings(&Settings::default(), &Facts::none());
        let fixed = apply(&analysis, &suppress_edit(&analysis, &findings[0]));
        assert_eq!(
            fixed,
            "{\n  // pin-lint: ignore[unpinned-image]\n  \"image\": \"alpine:3.20\"\n}\n"
        );
        let again = Analysis::new(path, fixed);
        assert!(again.syntax_error.is_none());
        assert!(again
            .findings(&Settings::default(), &Facts::none())
            .is_empty());
    }
}
