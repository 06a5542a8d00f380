//! `--format sarif`: a SARIF 2.1.0 log for code scanning (GitHub, Azure DevOps, any viewer).
//!
//! A small serde model of the parts of SARIF that pin-lint fills (the `serde-sarif` crate pulls
//! old build-time dependencies). Choices a consumer may rely on:
//! - every rule of the registry is in `tool.driver.rules`, with its documentation as `help`
//!   and `helpUri` = [`DOCS_URL`]`#<rule-id>` (the `## <rule-id>` heading of docs/rules.md);
//! - locations are relative URIs with `uriBaseId` `%SRCROOT%` (absolute paths become `file:`
//!   URIs); columns count Unicode code points (`columnKind`), `endColumn` is exclusive;
//! - `partialFingerprints."pinLint/v1"` hashes the rule id, the path, the reference text (or
//!   the flagged source text) and its occurrence index among equal ones in that file, never a
//!   line number, so findings keep their identity when lines move;
//! - a finding with a fix carries it as `fixes[].artifactChanges[].replacements`.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use pin_core::{Analysis, Finding, Rule, Severity};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{span_positions, FileReport};

/// Where the rule documentation lives; a rule's `helpUri` is this plus `#<rule-id>`.
pub const DOCS_URL: &str = "https://github.com/pin-lint/pin-lint/blob/main/docs/rules.md";
/// The tool's home page.
const INFORMATION_URI: &str = "https://github.com/pin-lint/pin-lint";
/// Key of the stable fingerprint in `partialFingerprints`.
const FINGERPRINT_KEY: &str = "pinLint/v1";
const SRCROOT: &str = "%SRCROOT%";

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    column_kind: &'static str,
    results: Vec<SarifResult>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<ReportingDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor {
    id: &'static str,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    help_uri: String,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<SarifFix>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    start_column: u32,
    end_line: u32,
    end_column: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifFix {
    description: Text,
    artifact_changes: Vec<ArtifactChange>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactChange {
    artifact_location: ArtifactLocation,
    replacements: Vec<Replacement>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replacement {
    deleted_region: Region,
    inserted_content: Text,
}

/// Render the SARIF log (pretty-printed JSON, with a final newline).
pub fn findings(reports: &[FileReport]) -> String {
    let rules: Vec<Rule> = Rule::all().collect();
    let index: HashMap<&str, usize> = rules.iter().enumerate().map(|(i, r)| (r.id(), i)).collect();
    let mut results = Vec::new();
    for report in reports {
        let artifact = artifact_location(&report.path);
        let mut seen: HashMap<(&str, String), usize> = HashMap::new();
        for f in &report.findings {
            let key_text = fingerprint_text(&report.analysis, f);
            let occurrence = seen.entry((f.rule.id(), key_text.clone())).or_insert(0);
            let fingerprint = fingerprint(f.rule.id(), &report.path, &key_text, *occurrence);
            *occurrence += 1;
            let fixes = f
                .fix
                .iter()
                .map(|fix| SarifFix {
                    description: Text {
                        text: fix.title.clone(),
                    },
                    artifact_changes: vec![ArtifactChange {
                        artifact_location: artifact.clone(),
                        replacements: fix
                            .edits
                            .iter()
                            .map(|e| Replacement {
                                deleted_region: region(&report.analysis, &e.range),
                                inserted_content: Text {
                                    text: e.new_text.clone(),
                                },
                            })
                            .collect(),
                    }],
                })
                .collect();
            results.push(SarifResult {
                rule_id: f.rule.id(),
                rule_index: index.get(f.rule.id()).copied().unwrap_or_default(),
                level: level(f.severity),
                message: Text {
                    text: sentence(&f.message),
                },
                locations: vec![Location {
                    physical_location: PhysicalLocation {
                        artifact_location: artifact.clone(),
                        region: region(&report.analysis, &f.span),
                    },
                }],
                partial_fingerprints: BTreeMap::from([(FINGERPRINT_KEY, fingerprint)]),
                fixes,
            });
        }
    }
    let log = Log {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "pin-lint",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: INFORMATION_URI,
                    rules: rules.iter().map(|r| descriptor(*r)).collect(),
                },
            },
            column_kind: "unicodeCodePoints",
            results,
        }],
    };
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}

fn descriptor(rule: Rule) -> ReportingDescriptor {
    let spec = rule.spec();
    let mut tags = vec!["ci", "supply-chain"];
    if spec.needs_registry {
        tags.push("needs-registry");
    }
    ReportingDescriptor {
        id: spec.id,
        name: pascal_case(spec.id),
        short_description: Text {
            text: sentence(spec.summary),
        },
        full_description: Text {
            text: sentence(&first_paragraph(spec.doc)),
        },
        help: Help {
            text: spec.doc.to_string(),
            markdown: spec.doc.to_string(),
        },
        help_uri: format!("{DOCS_URL}#{}", spec.id),
        default_configuration: Configuration {
            level: level(spec.default_severity),
        },
        properties: RuleProperties { tags },
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn region(analysis: &Analysis, span: &Range<usize>) -> Region {
    let (start, end) = span_positions(analysis, span);
    Region {
        start_line: start.line,
        start_column: start.column,
        end_line: end.line,
        end_column: end.column,
    }
}

/// A relative path becomes a `%SRCROOT%`-relative URI; an absolute one a `file:` URI.
fn artifact_location(path: &str) -> ArtifactLocation {
    if let Some(rest) = path.strip_prefix('/') {
        ArtifactLocation {
            uri: format!("file:///{}", percent_encode(rest)),
            uri_base_id: None,
        }
    } else if path.as_bytes().get(1) == Some(&b':') {
        ArtifactLocation {
            uri: format!("file:///{}", percent_encode(path)),
            uri_base_id: None,
        }
    } else {
        ArtifactLocation {
            uri: percent_encode(path),
            uri_base_id: Some(SRCROOT),
        }
    }
}

/// Percent-encode everything but RFC 3986 unreserved characters, `/` and a drive's `:`.
fn percent_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for (i, b) in path.bytes().enumerate() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/')
            || (b == b':' && i == 1)
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What identifies a finding apart from its position: the reference text, else the flagged
/// source text, else the text of its line.
fn fingerprint_text(analysis: &Analysis, f: &Finding) -> String {
    if let Some(reference) = &f.reference {
        return reference.clone();
    }
    let text = analysis.source.text();
    let flagged = text.get(f.span.clone()).unwrap_or_default().trim();
    if !flagged.is_empty() {
        return flagged.to_string();
    }
    let line = analysis.source.line_index(f.span.start.min(text.len()));
    analysis.source.line_text(line).trim().to_string()
}

fn fingerprint(rule: &str, path: &str, text: &str, occurrence: usize) -> String {
    let mut hasher = Sha256::new();
    for part in [rule, path, text, &occurrence.to_string()] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn pascal_case(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The first paragraph of a rule's documentation (below its first heading), on one line.
fn first_paragraph(doc: &str) -> String {
    doc.lines()
        .skip_while(|l| l.starts_with('#') || l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

/// SARIF messages should be sentences ending in a period.
fn sentence(text: &str) -> String {
    let text = text.trim();
    if text.ends_with('.') {
        text.to_string()
    } else {
        format!("{text}.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_and_encoded() {
        let a = artifact_location("eng/pipelines/my file.yml");
        assert_eq!(a.uri, "eng/pipelines/my%20file.yml");
        assert_eq!(a.uri_base_id, Some(SRCROOT));
        let a = artifact_location("/tmp/x.yml");
        assert_eq!(a.uri, "file:///tmp/x.yml");
        assert_eq!(a.uri_base_id, None);
    }

    #[test]
    fn fingerprints_ignore_position_but_not_occurrence() {
        let a = fingerprint("unpinned-image", "a.yml", "ubuntu:22.04", 0);
        assert_eq!(a, fingerprint("unpinned-image", "a.yml", "ubuntu:22.04", 0));
        assert_ne!(a, fingerprint("unpinned-image", "a.yml", "ubuntu:22.04", 1));
        assert_ne!(a, fingerprint("unpinned-image", "b.yml", "ubuntu:22.04", 0));
    }
}
