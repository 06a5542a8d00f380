//! `--format json` (shapes in the README, `"version": 1`). `end_column` is exclusive.
//!
//! Documents are typed views that borrow from the reports and are serialized straight to the
//! output, element by element, so a file with hundreds of thousands of references is never
//! held as a JSON tree or string. Object keys have always been written in alphabetical order,
//! so every struct here declares its fields in that order.

use serde::{Serialize, Serializer};

use pin_core::{Finding, Reference};

use super::{span_positions, FileReport};

/// A JSON array of the items `F` yields, produced while it is written.
pub struct Seq<F>(pub F);

impl<F, I> Serialize for Seq<F>
where
    F: Fn() -> I,
    I: IntoIterator,
    I::Item: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq((self.0)())
    }
}

/// The top level of `refs`; `refs --expand` adds the template layer's two members.
#[derive(Serialize)]
struct ReferencesDocument<R, E, N> {
    #[serde(skip_serializing_if = "Option::is_none")]
    expanded: Option<E>,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_followed: Option<N>,
    references: R,
    version: u32,
}

/// One element of `references`.
#[derive(Serialize)]
struct ReferenceEntry<'a> {
    column: u32,
    digest: Option<&'a str>,
    end_column: u32,
    end_line: u32,
    kind: &'a str,
    line: u32,
    path: &'a str,
    registry: Option<&'a str>,
    repository: Option<&'a str>,
    site: &'a str,
    state: &'a str,
    tag: Option<&'a str>,
    text: &'a str,
}

impl<'a> ReferenceEntry<'a> {
    fn new(report: &'a FileReport, r: &'a Reference) -> Self {
        let (start, end) = span_positions(&report.analysis, &r.span);
        let image = r.image.as_ref();
        ReferenceEntry {
            column: start.column,
            digest: image.and_then(|i| i.digest_str()),
            end_column: end.column,
            end_line: end.line,
            kind: r.kind.as_str(),
            line: start.line,
            path: &report.path,
            registry: image.map(|i| i.registry_host()),
            repository: image.map(|i| i.repository_str()),
            site: r.site.as_str(),
            state: r.state.as_str(),
            tag: image.and_then(|i| i.tag_str()),
            text: &r.text,
        }
    }
}

/// The `refs` inventory; `expansion` is the `expanded` and `not_followed` members of
/// `refs --expand`.
pub fn references<'a, E: Serialize + 'a, N: Serialize + 'a>(
    reports: &'a [FileReport],
    expansion: Option<(E, N)>,
) -> impl Serialize + 'a {
    let (expanded, not_followed) = expansion.unzip();
    ReferencesDocument {
        expanded,
        not_followed,
        references: Seq(move || {
            reports.iter().flat_map(|report| {
                report
                    .analysis
                    .references
                    .iter()
                    .map(move |r| ReferenceEntry::new(report, r))
            })
        }),
        version: 1,
    }
}

/// The top level of `check`; `--fix` adds its summary.
#[derive(Serialize)]
struct FindingsDocument<R, X> {
    findings: R,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<X>,
    version: u32,
}

/// One element of `findings`.
#[derive(Serialize)]
struct FindingEntry<'a> {
    column: u32,
    end_column: u32,
    end_line: u32,
    fix: Option<FixEntry<'a>>,
    line: u32,
    message: &'a str,
    path: &'a str,
    reference: Option<&'a str>,
    rule: &'a str,
    severity: &'a str,
}

/// The `fix` of a finding.
#[derive(Serialize)]
struct FixEntry<'a> {
    applicability: pin_core::Applicability,
    edits: Vec<EditEntry<'a>>,
    title: &'a str,
}

/// One edit of a fix.
#[derive(Serialize)]
struct EditEntry<'a> {
    column: u32,
    end_column: u32,
    end_line: u32,
    line: u32,
    new_text: &'a str,
}

impl<'a> FindingEntry<'a> {
    fn new(report: &'a FileReport, f: &'a Finding) -> Self {
        let (start, end) = span_positions(&report.analysis, &f.span);
        let fix = f.fix.as_ref().map(|fix| FixEntry {
            applicability: fix.applicability,
            edits: fix
                .edits
                .iter()
                .map(|e| {
                    let (s, t) = span_positions(&report.analysis, &e.range);
                    EditEntry {
                        column: s.column,
                        end_column: t.column,
                        end_line: t.line,
                        line: s.line,
                        new_text: &e.new_text,
                    }
                })
                .collect(),
            title: &fix.title,
        });
        FindingEntry {
            column: start.column,
            end_column: end.column,
            end_line: end.line,
            fix,
            line: start.line,
            message: &f.message,
            path: &report.path,
            reference: f.reference.as_deref(),
            rule: f.rule.id(),
            severity: f.severity.as_str(),
        }
    }
}

/// The `check` findings; `fix` is the summary of `--fix` when it ran.
pub fn findings<'a, X: Serialize + 'a>(
    reports: &'a [FileReport],
    fix: Option<X>,
) -> impl Serialize + 'a {
    FindingsDocument {
        findings: Seq(move || {
            reports.iter().flat_map(|report| {
                report
                    .findings
                    .iter()
                    .map(move |f| FindingEntry::new(report, f))
            })
        }),
        fix,
        version: 1,
    }
}

#[cfg(test)]
mod tests {

    use pin_core::template::TemplateAnalysis;
    use pin_core::{Analysis, Applicability, Edit, Facts, Fix, Settings};

    use super::*;
    use crate::fix::{Change, FixRun, Status, VmChange};
    use crate::resolve::{Failure, Resolution};

    /// The streamed text, after checking it equals what a `serde_json::Value` of the same
    /// document prints (its maps sort keys): the key order the output has always had.
    fn streamed(document: &impl Serialize) -> String {
        let text = serde_json::to_string_pretty(document).expect("serializes");
        let tree = serde_json::to_value(document).expect("serializes");
        assert_eq!(text, format!("{tree:#}"));
        text
    }

    const PIPELINE: &str = "\
resources:
  containers:
  - container: build
    image: mcr.microsoft.com/dotnet-buildtools/prereqs:azurelinux-3.0
  - container: ubuntu
    image: ubuntu@sha256:0000000000000000000000000000000000000000000000000000000000000000
  - container: built
    image: $(registry)/x:1
jobs:
- job: Build
  container: build
  steps:
  - script: echo
";

    fn report() -> FileReport {
        let analysis = Analysis::from_bytes("azure-pipelines.yml", PIPELINE.as_bytes().to_vec());
        let mut findings = analysis.findings(&Settings::default(), &Facts::default());
        let mut fixed = findings[0].clone();
        fixed.fix = Some(Fix {
            title: "Pin".to_string(),
            applicability: Applicability::Safe,
            edits: vec![Edit {
                range: fixed.span.end..fixed.span.end,
                new_text: "@sha256:1".to_string(),
            }],
        });
        findings.push(fixed);
        FileReport {
            path: "azure-pipelines.yml".to_string(),
            analysis,
            findings,
        }
    }

    #[test]
    fn refs_documents_keep_alphabetical_keys() {
        let reports = vec![report()];
        let plain = streamed(&references::<(), ()>(&reports, None));
        assert!(plain.contains("\"registry\": \"mcr.microsoft.com\""));
        assert!(!plain.contains("\"expanded\""));
        let layer: TemplateAnalysis = crate::templates::inventory(&reports);
        let expanded = streamed(&references(&reports, Some(crate::templates::json(&layer))));
        assert!(expanded.contains("\"defined_at\": {"));
        assert!(expanded.contains("\"not_followed\": []"));
    }

    #[test]
    fn check_documents_keep_alphabetical_keys() {
        let reports = vec![report()];
        let plain = streamed(&findings::<()>(&reports, None));
        assert!(plain.contains("\"applicability\": \"safe\""));
        assert!(plain.contains("\"fix\": null"));
        assert!(!plain.contains("\"dry_run\""));
        let run = FixRun {
            changes: vec![Change {
                path: "a.yml".to_string(),
                line: 1,
                column: 2,
                image: "ubuntu".to_string(),
                tag: "22.04".to_string(),
                action: "pin",
                old_digest: None,
                new_digest: "sha256:1".to_string(),
            }],
            vm_changes: vec![VmChange {
                path: "b.bicep".to_string(),
                line: 3,
                column: 4,
                image: "Canonical:ubuntu:22_04-lts:latest".to_string(),
                action: "bump",
                old_version: Some("1.0.0".to_string()),
                new_version: "1.0.1".to_string(),
            }],
            files: vec![
                ("a.yml".to_string(), Status::Fixed),
                (
                    "c.yml".to_string(),
                    Status::Skipped("lookup failed".to_string()),
                ),
            ],
            diff: String::new(),
            removed_tags: vec![crate::fix::RemovedTag {
                path: "a.yml".to_string(),
                line: 5,
                reference: "ghcr.io/org/gone:1".to_string(),
            }],
            held_back: vec![crate::fix::HeldBack {
                path: "a.yml".to_string(),
                line: 7,
                column: 12,
                image: "ghcr.io/org/held".to_string(),
                tag: Some("2".to_string()),
                pattern: "ghcr.io/org/held:*".to_string(),
                reason: "breaks arm64".to_string(),
                until: None,
                old_digest: Some("sha256:1".to_string()),
                new_digest: Some("sha256:2".to_string()),
            }],
        };
        let resolution = Resolution {
            failures: vec![Failure {
                registry: "mcr.microsoft.com".to_string(),
                reference: "mcr.microsoft.com/x:1".to_string(),
                message: "unreachable".to_string(),
            }],
            ..Resolution::default()
        };
        let with_fix = streamed(&findings(
            &reports,
            Some(crate::fix::summary_json(&run, &resolution, false)),
        ));
        assert!(with_fix.contains("\"old_digest\": null"));
        assert!(with_fix.contains("\"reason\": \"lookup failed\""));
        assert!(with_fix.contains("\"failed_lookups\": 1"));
        assert!(with_fix.contains("\"held_back\": 1,\n"), "{with_fix}");
        assert!(with_fix.contains("\"removed_tags\": 1,\n"), "{with_fix}");
        assert!(with_fix.contains("\"reference\": \"ghcr.io/org/gone:1\""));
        assert!(with_fix.contains("\"pattern\": \"ghcr.io/org/held:*\""));
        assert!(with_fix.contains("\"until\": null"));
    }
}
