use super::{finding, Context, RuleSpec};
use crate::finding::Severity;
use crate::model::{Kind, State};

/// `digest-only-image`: pinned by digest without a tag.
pub static RULE: RuleSpec = RuleSpec {
    id: "digest-only-image",
    default_severity: Severity::Warning,
    needs_registry: false,
    summary: "Image pinned by digest without a tag: cannot be read or bumped",
    doc: "\
## What it flags
`repo@sha256:…` with no tag.

## Why it matters
The digest is safe, but nobody can tell which version it is, and no tool can bump it: there is
no tag to ask the registry about.

## Example
```yaml
image: mcr.microsoft.com/dotnet-buildtools/prereqs@sha256:62d9…
# better:
image: mcr.microsoft.com/dotnet-buildtools/prereqs:azurelinux-3.0@sha256:62d9…
```

## Fix
None automatic: the tag that was meant cannot be known for sure.",
    check,
};

fn check(cx: &Context<'_>) -> Vec<crate::finding::Finding> {
    cx.references
        .iter()
        .filter(|r| r.kind == Kind::Container && r.state == State::DigestOnly)
        .map(|r| {
            finding(
                &RULE,
                r,
                format!(
                    "`{}` is pinned without a tag; add the tag so it can be read and bumped",
                    r.text
                ),
            )
        })
        .collect()
}
