use super::{finding, Context, RuleSpec};
use crate::finding::Severity;
use crate::model::Kind;

/// `floating-vm-image`: a hosted image label that moves (`ubuntu-latest`).
pub static RULE: RuleSpec = RuleSpec {
    id: "floating-vm-image",
    default_severity: Severity::Warning,
    needs_registry: false,
    summary:
        "Hosted VM image label that moves to a new OS version (`ubuntu-latest`, `windows-latest` …)",
    doc: "\
## What it flags
A `*-latest` hosted agent or runner label (`vmImage: ubuntu-latest`, `runs-on: windows-latest`).

## Why it matters
The provider moves the label to a new OS release on its own schedule; every pipeline moves with
it at once, outside of any pull request.

## Example
```yaml
pool:
  vmImage: ubuntu-latest   # use ubuntu-24.04
```

## Fix
Replace the label with the versioned one it maps to today.",
    check,
};

fn check(cx: &Context<'_>) -> Vec<crate::finding::Finding> {
    cx.references
        .iter()
        .filter(|r| r.kind == Kind::Vm && r.text.to_ascii_lowercase().ends_with("-latest"))
        .map(|r| {
            finding(
                &RULE,
                r,
                format!(
                    "`{}` floats to new OS versions; use a versioned image label",
                    r.text
                ),
            )
        })
        .collect()
}
