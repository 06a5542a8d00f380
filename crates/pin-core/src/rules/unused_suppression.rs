use std::ops::Range;

use super::{Context, Rule, RuleSpec};
use crate::analyze::Analysis;
use crate::facts::Facts;
use crate::finding::{Finding, Severity};
use crate::fix::{Applicability, Edit, Fix};
use crate::model::Kind;
use crate::settings::Settings;
use crate::suppress::{Suppression, Usage};

/// `unused-suppression`: a `# pin-lint: ignore` comment that silenced nothing.
pub static RULE: RuleSpec = RuleSpec {
    id: "unused-suppression",
    default_severity: Severity::Warning,
    needs_registry: false,
    summary: "A `# pin-lint: ignore` comment that silences nothing",
    doc: "\
## What it flags
With `--report-unused-ignores` (or `report-unused-ignores = true` in `pin-lint.toml`): a
`# pin-lint: ignore[rule, …]` comment, or a rule named in one, that silenced no finding in this
run, a rule name that does not exist, and an `ignore-file` in a file without findings.

Only rules that ran are judged: a rule left out by `select`/`ignore` or turned `off` is not. A
rule that needs registry facts (`stale-digest`, `missing-digest` …) is judged only where the
run had those facts for the lines the comment covers, so an offline run never calls an
`ignore[stale-digest]` unused. Files that did not parse are not judged.

## Why it matters
A suppression outlives the problem it hid. Left in place it silently hides the next problem on
that line, and readers cannot tell which exceptions are still real.

## Example
```yaml
# pin-lint: ignore[unpinned-image]
image: ubuntu:24.04@sha256:<digest>   # already pinned: the comment does nothing
```

## Fix
Safe: remove the comment (the whole line when the comment stands alone), or remove only the
unused rule names from its list.",
    check,
};

/// Nothing to do here: these findings depend on what the other rules' findings were, so
/// [`Analysis::findings`] produces them with [`report`] after every other rule ran.
fn check(_: &Context<'_>) -> Vec<Finding> {
    Vec::new()
}

/// The unused suppressions of `analysis`, given what the suppressions silenced.
pub(crate) fn report(
    analysis: &Analysis,
    settings: &Settings,
    facts: &Facts,
    usage: &Usage,
) -> Vec<Finding> {
    let Some(rule) = Rule::from_id(RULE.id) else {
        return Vec::new();
    };
    if !settings.report_unused_ignores || analysis.syntax_error.is_some() {
        return Vec::new();
    }
    let Some(severity) = settings.severity_for(rule, None) else {
        return Vec::new();
    };
    let judge = Judge {
        analysis,
        settings,
        facts,
    };
    let suppressions = &analysis.suppressions;
    let mut out = Vec::new();
    if suppressions.whole_file {
        let all_lines = 0..analysis.source.line_count();
        if let Some(span) = &suppressions.whole_file_span {
            if !usage.whole_file_silenced && judge.registry_rules_judgeable(all_lines) {
                let fix = judge.removal(span, true);
                out.push(finding(
                    rule,
                    severity,
                    span.clone(),
                    "`# pin-lint: ignore-file` silences nothing: the file has no findings"
                        .to_string(),
                    fix,
                ));
            }
        }
        return out;
    }
    for (entry, used) in suppressions.entries.iter().zip(&usage.silenced) {
        out.extend(judge.entry(rule, severity, entry, used));
    }
    out
}

struct Judge<'a> {
    analysis: &'a Analysis,
    settings: &'a Settings,
    facts: &'a Facts,
}

impl Judge<'_> {
    fn entry(
        &self,
        rule: Rule,
        severity: Severity,
        entry: &Suppression,
        used: &[&str],
    ) -> Option<Finding> {
        let covered = entry.line..entry.line + 1 + usize::from(entry.own_line);
        if entry.rules.is_empty() {
            if !used.is_empty() || !self.registry_rules_judgeable(covered) {
                return None;
            }
            return Some(finding(
                rule,
                severity,
                entry.span.clone(),
                "`# pin-lint: ignore` silences nothing here".to_string(),
                self.removal(&entry.span, entry.own_line),
            ));
        }
        let mut unknown = Vec::new();
        let mut silent = Vec::new();
        let mut keep = Vec::new();
        for name in &entry.rules {
            let Some(named) = Rule::from_id(name) else {
                unknown.push(match Rule::suggest(name) {
                    Some(s) => format!("`{name}` is not a rule (did you mean `{s}`?)"),
                    None => format!("`{name}` is not a rule"),
                });
                continue;
            };
            let judged = self.enabled(named)
                && (!named.spec().needs_registry || self.registry_rules_judgeable(covered.clone()));
            if used.contains(&named.id()) || !judged {
                keep.push(name.as_str());
            } else {
                silent.push(format!("`{name}`"));
            }
        }
        let mut notes = unknown;
        match silent.len() {
            0 => {}
            1 => notes.push(format!("{} silences nothing here", silent[0])),
            _ => notes.push(format!("{} silence nothing here", silent.join(", "))),
        }
        if notes.is_empty() {
            return None;
        }
        let fix = if keep.is_empty() {
            self.removal(&entry.span, entry.own_line)
        } else {
            self.narrowing(&entry.span, &keep)
        };
        Some(finding(
            rule,
            severity,
            entry.span.clone(),
            format!("unused suppression: {}", notes.join("; ")),
            fix,
        ))
    }

    /// Could this rule have produced a finding in this run?
    fn enabled(&self, rule: Rule) -> bool {
        self.settings.is_selected(rule)
            && (self.settings.severity_of(rule).is_some() || !self.settings.policies.is_empty())
    }

    /// Were registry facts available for every reference on `lines` (or is no rule that
    /// needs them enabled)? Without them, silence from a registry rule proves nothing.
    fn registry_rules_judgeable(&self, lines: Range<usize>) -> bool {
        let any_registry_rule = Rule::all().any(|r| r.spec().needs_registry && self.enabled(r));
        if !any_registry_rule {
            return true;
        }
        let source = &self.analysis.source;
        self.analysis
            .references
            .iter()
            .filter(|r| lines.contains(&source.line_index(r.span.start)))
            .all(|r| match (r.kind, &r.image) {
                (Kind::Container, Some(image)) => {
                    self.facts.tag(image).is_some() || self.facts.digest_exists(image).is_some()
                }
                // A fragment that carries a digest is checked through the image it becomes,
                // which this file alone does not name.
                (Kind::Dynamic, _) => !r.text.contains('@'),
                (Kind::Container, None) => true,
                (Kind::Vm, _) => r
                    .vm_image
                    .as_ref()
                    .is_none_or(|vm| self.facts.vm_versions(&vm.key).is_some()),
            })
    }

    /// Remove the comment: its whole line when it stands alone, else the comment and the
    /// blanks before it.
    fn removal(&self, span: &Range<usize>, own_line: bool) -> Option<Fix> {
        let source = &self.analysis.source;
        let line = source.line_index(span.start);
        let line_range = source.line_range(line);
        let range = if own_line {
            let end = if line + 1 < source.line_count() {
                source.line_range(line + 1).start
            } else {
                line_range.end
            };
            line_range.start..end
        } else {
            let before = &source.text()[line_range.start..span.start];
            line_range.start + before.trim_end().len()..span.end
        };
        Some(Fix {
            title: "Remove the unused suppression".to_string(),
            applicability: Applicability::Safe,
            edits: vec![Edit::replace(range, "")],
        })
    }

    /// Rewrite the `[...]` list to the names still in use.
    fn narrowing(&self, span: &Range<usize>, keep: &[&str]) -> Option<Fix> {
        let text = &self.analysis.source.text()[span.clone()];
        let open = text.find('[')?;
        let close = open + text[open..].find(']')?;
        Some(Fix {
            title: "Remove the unused rule names from the suppression".to_string(),
            applicability: Applicability::Safe,
            edits: vec![Edit::replace(
                span.start + open + 1..span.start + close,
                keep.join(", "),
            )],
        })
    }
}

fn finding(
    rule: Rule,
    severity: Severity,
    span: Range<usize>,
    message: String,
    fix: Option<Fix>,
) -> Finding {
    Finding {
        rule,
        severity,
        span,
        message,
        reference: None,
        fix,
    }
}
