use super::{finding, short_digest, Context, RuleSpec};
use crate::finding::Severity;
use crate::fix::Fix;
use crate::model::{Kind, State};

/// `unpinned-image`: a container image referenced by tag only.
pub static RULE: RuleSpec = RuleSpec {
    id: "unpinned-image",
    default_severity: Severity::Error,
    needs_registry: false,
    summary: "Container image referenced by a mutable tag, without a digest",
    doc: "\
## What it flags
A container image reference without a digest: `mcr.microsoft.com/dotnet-buildtools/prereqs:azurelinux-3.0-net10.0-cross-amd64`.

## Why it matters
A tag is mutable. When the image behind it is rebuilt, every branch picks up the new image at once
and CI can break outside of any pull request. Pinning the digest makes the image an input that
changes only through a reviewed change.

## Example
```yaml
image: mcr.microsoft.com/dotnet-buildtools/prereqs:ubuntu-24.04
# fixed:
image: mcr.microsoft.com/dotnet-buildtools/prereqs:ubuntu-24.04@sha256:<digest>
```

## Fix
Safe: `--fix` appends `@sha256:…` of what the tag points to now (from a catalog or the registry),
keeping the tag so the reference stays readable and can be bumped. A reference without a tag is
left alone unless `pin-untagged-as-latest` is set (then `:latest@sha256:…` is added, an unsafe fix).",
    check,
};

fn check(cx: &Context<'_>) -> Vec<crate::finding::Finding> {
    cx.references
        .iter()
        .filter(|r| r.kind == Kind::Container && r.state == State::Unpinned)
        .filter_map(|r| {
            let image = r.image.as_ref()?;
            let mut f = finding(&RULE, r, format!("`{}` is not pinned to a digest", r.text));
            if let Some(fact) = cx.facts.tag(image) {
                f.fix = r
                    .pin_edit(&fact.digest, cx.settings.pin_untagged_as_latest)
                    .map(|(edit, applicability)| Fix {
                        title: format!("Pin to {}", short_digest(&fact.digest)),
                        applicability,
                        edits: vec![edit],
                    });
            }
            Some(f)
        })
        .collect()
}
