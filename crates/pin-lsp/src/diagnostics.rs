//! Findings rendered as LSP diagnostics (the analyzer's `Finding` is the only input).

use std::collections::HashMap;
use std::sync::OnceLock;

use pin_core::{Finding, Severity, SourceFile};
use tower_lsp_server::ls_types::{
    CodeDescription, Diagnostic, DiagnosticSeverity, NumberOrString, Uri,
};

use crate::positions::{self, Encoding};

/// `source` of every diagnostic.
pub const SOURCE: &str = "pin-lint";

/// Where a rule's documentation lives: `docs/rules.md#<rule-id>` in the repository.
pub fn rule_doc_url(rule: &str) -> String {
    format!(
        "{}/blob/main/docs/rules.md#{rule}",
        env!("CARGO_PKG_REPOSITORY")
    )
}

/// The documentation link of a rule, parsed once per rule (a file can carry thousands of
/// diagnostics).
fn code_description(rule: &'static str) -> Option<CodeDescription> {
    static LINKS: OnceLock<HashMap<&'static str, Uri>> = OnceLock::new();
    let links = LINKS.get_or_init(|| {
        pin_core::Rule::all()
            .filter_map(|r| Some((r.id(), rule_doc_url(r.id()).parse::<Uri>().ok()?)))
            .collect()
    });
    links
        .get(rule)
        .map(|href| CodeDescription { href: href.clone() })
}

/// The body of a `textDocument/publishDiagnostics` notification, given the diagnostics already
/// serialised as a JSON array (so that a document's last publication can be compared without
/// serialising twice).
pub fn publication(uri: &Uri, version: Option<i32>, diagnostics_json: &[u8]) -> Vec<u8> {
    let uri = serde_json::to_string(uri.as_str()).unwrap_or_else(|_| "\"\"".to_string());
    let mut body = Vec::with_capacity(diagnostics_json.len() + uri.len() + 128);
    body.extend_from_slice(
        br#"{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{"uri":"#,
    );
    body.extend_from_slice(uri.as_bytes());
    body.extend_from_slice(br#","diagnostics":"#);
    body.extend_from_slice(diagnostics_json);
    if let Some(v) = version {
        body.extend_from_slice(format!(r#","version":{v}"#).as_bytes());
    }
    body.extend_from_slice(b"}}");
    body
}

/// One finding as a diagnostic: `code` is the rule id, with a link to its documentation.
pub fn to_diagnostic(finding: &Finding, source: &SourceFile, enc: Encoding) -> Diagnostic {
    let rule = finding.rule.id();
    Diagnostic {
        range: positions::range(source, finding.span.clone(), enc),
        severity: Some(match finding.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Info => DiagnosticSeverity::INFORMATION,
        }),
        code: Some(NumberOrString::String(rule.to_string())),
        code_description: code_description(rule),
        source: Some(SOURCE.to_string()),
        message: finding.message.clone(),
        ..Diagnostic::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pin_core::{Analysis, Facts, Settings};
    use tower_lsp_server::ls_types::PublishDiagnosticsParams;

    #[test]
    fn publication_is_the_notification_the_protocol_defines() {
        let uri: Uri = "file:///ws/a%20b.yml".parse().expect("uri");
        let d = Diagnostic {
            message: "quote \" and é".to_string(),
            ..Diagnostic::default()
        };
        let json = serde_json::to_vec(std::slice::from_ref(&d)).expect("json");
        let body: serde_json::Value =
            serde_json::from_slice(&publication(&uri, Some(7), &json)).expect("valid JSON");
        assert_eq!(body["jsonrpc"], "2.0");
        assert_eq!(body["method"], "textDocument/publishDiagnostics");
        let params: PublishDiagnosticsParams =
            serde_json::from_value(body["params"].clone()).expect("params");
        assert_eq!(
            params,
            PublishDiagnosticsParams::new(uri.clone(), vec![d], Some(7))
        );
        let none: serde_json::Value =
            serde_json::from_slice(&publication(&uri, None, b"[]")).expect("valid JSON");
        assert!(none["params"].get("version").is_none(), "{none}");
    }

    #[test]
    fn unpinned_image_becomes_an_error_with_rule_code_and_link() {
        let text = "resources:\n  containers:\n  - container: a\n    image: \"é/x:1\"\n  - container: b\n    image: alpine:3.20\n";
        let analysis = Analysis::new("azure-pipelines.yml", text.to_string());
        let findings = analysis.findings(&Settings::default(), &Facts::none());
        let unpinned = findings
            .iter()
            .find(|f| f.rule.id() == "unpinned-image")
            .expect("unpinned finding");
        let d = to_diagnostic(unpinned, &analysis.source, Encoding::Utf16);
        assert_eq!(
            d.code,
            Some(NumberOrString::String("unpinned-image".into()))
        );
        assert_eq!(d.severity, Some(DiagnosticSeverity::ERROR));
        assert_eq!(d.source.as_deref(), Some("pin-lint"));
        assert_eq!((d.range.start.line, d.range.start.character), (5, 11));
        assert_eq!(d.range.end.character, 11 + "alpine:3.20".len() as u32);
        let href = d.code_description.expect("link").href;
        assert!(
            href.as_str().ends_with("docs/rules.md#unpinned-image"),
            "{href:?}"
        );
    }
}
