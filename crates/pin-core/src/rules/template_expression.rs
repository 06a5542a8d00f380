use super::{Context, RuleSpec};
use crate::finding::{Finding, Severity};

/// `template-expression`: a template expression or include the preprocessor would reject.
pub static RULE: RuleSpec = RuleSpec {
    id: "template-expression",
    default_severity: Severity::Warning,
    needs_registry: false,
    summary: "A template expression that cannot be read, or a template include cycle",
    doc: "\
## What it flags
In Azure Pipelines files:
- a `${{ }}` expression that cannot be parsed (an unclosed call, a GitHub-style `==` or `&&`,
  an unterminated string, `${{` without `}}`), at the position of the error;
- text that was meant to be an expression but is not one: `$ {{ parameters.x }}` (a space after
  `$`) or `{{ parameters.x }}` (no `$`), which the service passes on as plain text;
- a `template:` include cycle (a template that includes itself, directly or through others),
  on the `template:` line that closes the cycle.

## Why it matters
The pipeline fails to compile, or, for the near misses, silently receives the literal text
`$ {{ parameters.x }}` instead of the parameter's value. For image flow, pin-lint cannot follow
what it cannot read.

## Example
```yaml
collectionType: $ {{ parameters.collectionType }}
# fixed:
collectionType: ${{ parameters.collectionType }}
```

## Fix
None automatic.",
    check,
};

/// Nothing per file: the template layer (`pin_core::template`) reports these.
fn check(_: &Context<'_>) -> Vec<Finding> {
    Vec::new()
}
