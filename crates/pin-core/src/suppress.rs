//! Inline suppressions: `# pin-lint: ignore[rule-a, rule-b]` on the line of a finding or the
//! line above it, and `# pin-lint: ignore-file` anywhere in the file.

use std::collections::HashMap;
use std::ops::Range;

use crate::finding::Finding;
use crate::source::SourceFile;
use crate::yaml::Comment;

/// What every suppression comment starts with (after `#` and blanks).
pub const PREFIX: &str = "pin-lint:";

/// One `ignore[...]` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// 0-based line of the comment.
    pub line: usize,
    /// Span of the comment (for the unused-suppression report).
    pub span: Range<usize>,
    /// Rule ids named; empty means every rule.
    pub rules: Vec<String>,
    /// Whether this comment stands alone on its line (then it covers the next line).
    pub own_line: bool,
}

/// The suppressions of one file.
#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    /// Every `ignore` comment.
    pub entries: Vec<Suppression>,
    /// `ignore-file` present.
    pub whole_file: bool,
    /// Span of the (first) `ignore-file` comment.
    pub whole_file_span: Option<Range<usize>>,
    by_line: HashMap<usize, Vec<usize>>,
}

impl Suppressions {
    /// Read suppressions from the file's comments.
    pub fn from_comments(source: &SourceFile, comments: &[Comment<'_>]) -> Suppressions {
        let mut out = Suppressions::default();
        for comment in comments {
            let Some(body) = comment.text.trim().strip_prefix(PREFIX) else {
                continue;
            };
            let body = body.trim();
            if body == "ignore-file" {
                out.whole_file = true;
                out.whole_file_span.get_or_insert(comment.span.clone());
                continue;
            }
            let Some(rest) = body.strip_prefix("ignore") else {
                continue;
            };
            let rules = match rest
                .trim()
                .strip_prefix('[')
                .and_then(|r| r.split_once(']'))
            {
                Some((list, _)) => list
                    .split(',')
                    .map(|r| r.trim().to_string())
                    .filter(|r| !r.is_empty())
                    .collect(),
                None if rest.trim().is_empty() => Vec::new(),
                None => continue,
            };
            let line = source.line_index(comment.span.start);
            let line_start = source.line_range(line).start;
            let own_line = source.text()[line_start..comment.span.start]
                .trim()
                .is_empty();
            out.by_line.entry(line).or_default().push(out.entries.len());
            if own_line {
                out.by_line
                    .entry(line + 1)
                    .or_default()
                    .push(out.entries.len());
            }
            out.entries.push(Suppression {
                line,
                span: comment.span.clone(),
                rules,
                own_line,
            });
        }
        out
    }

    /// The suppression that silences `rule` on 0-based `line`, if any.
    pub fn matching(&self, rule: &str, line: usize) -> Option<usize> {
        self.by_line.get(&line)?.iter().copied().find(|&i| {
            let rules = &self.entries[i].rules;
            rules.is_empty() || rules.iter().any(|r| r == rule)
        })
    }

    /// Drop the findings that a comment silences, and record which comment silenced which
    /// rule (for `unused-suppression`). With `ignore-file` every finding is silenced.
    pub fn apply(&self, source: &SourceFile, findings: Vec<Finding>) -> (Vec<Finding>, Usage) {
        let mut usage = Usage {
            silenced: vec![Vec::new(); self.entries.len()],
            whole_file_silenced: false,
        };
        if self.whole_file {
            usage.whole_file_silenced = !findings.is_empty();
            return (Vec::new(), usage);
        }
        let mut kept = Vec::with_capacity(findings.len());
        for finding in findings {
            let line = source.line_index(finding.span.start);
            match self.matching(finding.rule.id(), line) {
                Some(i) => {
                    let used = &mut usage.silenced[i];
                    if !used.contains(&finding.rule.id()) {
                        used.push(finding.rule.id());
                    }
                }
                None => kept.push(finding),
            }
        }
        (kept, usage)
    }
}

/// What the suppressions of one file silenced in one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    /// Per entry of [`Suppressions::entries`]: the rule ids it silenced.
    pub silenced: Vec<Vec<&'static str>>,
    /// Whether `ignore-file` silenced at least one finding.
    pub whole_file_silenced: bool,
}
