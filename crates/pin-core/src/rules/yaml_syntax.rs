use super::{Context, Rule, RuleSpec};
use crate::dialect::Dialect;
use crate::finding::{Finding, Severity};

/// `yaml-syntax`: the file could not be parsed.
pub static RULE: RuleSpec = RuleSpec {
    id: "yaml-syntax",
    default_severity: Severity::Error,
    needs_registry: false,
    summary: "The file could not be parsed (invalid YAML, JSONC or UTF-8, a Dockerfile heredoc left open); position of the error",
    doc: "\
## What it flags
A YAML syntax error, at the position the parser stopped; text that is not UTF-8, at the first
bad byte; in a Dockerfile, a heredoc that no terminator line closes (at its `<<`) or an invalid
`# escape=` directive; in a dev container definition, a JSONC error (an unterminated comment
or string, a missing `,`). The message names what the file was read as (`invalid YAML: …`,
`invalid Dockerfile: …`).

## Why it matters
Nothing after the error can be checked, and the pipeline or build will not run either.

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
            message: format!("invalid {}: {}", language(cx.dialect), err.message),
            reference: None,
            fix: None,
        })
        .into_iter()
        .collect()
}

/// What the file was read as: the text dialects name themselves, everything else is YAML.
fn language(dialect: Option<Dialect>) -> &'static str {
    match dialect {
        Some(d @ (Dialect::Bicep | Dialect::Terraform | Dialect::Dockerfile)) => d.name(),
        Some(Dialect::Devcontainer) => "JSONC",
        _ => "YAML",
    }
}
