use super::{Context, Rule, RuleSpec};
use crate::finding::{Finding, Severity};

/// `yaml-syntax`: the file could not be parsed.
pub static RULE: RuleSpec = RuleSpec {
    id: "yaml-syntax",
    default_severity: Severity::Error,
    needs_registry: false,
    summary: "The file is not valid YAML; position of the error",
    doc: "\
## What it flags
A YAML syntax error, at the position the parser stopped.

## Why it matters
Nothing in the file can be checked, and the pipeline will not run either.

## Fix
None automatic. References found before the error are still reported.",
    check,
};

fn check(cx: &Context<'_>) -> Vec<Finding> {
    cx.syntax_error
        .map(|err| Finding {
            rule: Rule(&RULE),
            severity: RULE.default_severity,
            span: err.offset..err.offset,
            message: format!("invalid YAML: {}", err.message),
            reference: None,
            fix: None,
        })
        .into_iter()
        .collect()
}
