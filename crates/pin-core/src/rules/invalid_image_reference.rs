use super::{finding, Context, RuleSpec};
use crate::finding::Severity;
use crate::model::{Kind, State};

/// `invalid-image-reference`: text at an image position that is not a valid reference.
pub static RULE: RuleSpec = RuleSpec {
    id: "invalid-image-reference",
    default_severity: Severity::Error,
    needs_registry: false,
    summary: "Text at an image position is not a valid OCI image reference",
    doc: "\
## What it flags
An image position whose text does not follow the reference grammar
`[registry[:port]/]repository[:tag][@sha256:<64 hex>]`: upper-case repository names, empty path
components, a malformed tag or digest.

## Why it matters
The container runtime will refuse it, usually at the worst moment.

## Example
```yaml
image: mcr.microsoft.com/Dotnet/Prereqs:latest
```

## Fix
None automatic.",
    check,
};

fn check(cx: &Context<'_>) -> Vec<crate::finding::Finding> {
    cx.references
        .iter()
        .filter(|r| r.kind == Kind::Container && r.state == State::Invalid)
        .map(|r| {
            let why = r
                .error
                .as_deref()
                .unwrap_or("does not follow the reference grammar");
            finding(
                &RULE,
                r,
                format!("`{}` is not a valid image reference: {why}", r.text),
            )
        })
        .collect()
}
