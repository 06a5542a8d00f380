use super::{finding, Context, RuleSpec};
use crate::finding::Severity;
use crate::model::Kind;

/// `missing-tag`: the registry answers that the tag (or the repository) does not exist.
pub static RULE: RuleSpec = RuleSpec {
    id: "missing-tag",
    default_severity: Severity::Error,
    needs_registry: true,
    summary: "The registry says the tag or repository does not exist",
    doc: "\
## What it flags
A container reference whose tag the registry answers does not exist: a `404` with the
distribution error code `MANIFEST_UNKNOWN` (the tag was deleted) or `NAME_UNKNOWN` (the
repository was deleted or renamed). Pinned and unpinned references alike.

## Why it matters
Producers retire tags (an end-of-life distribution, a renamed image). A pinned reference keeps
building as long as its digest exists, but it can never be bumped again, and an unpinned one
fails the next time a job starts. Move the reference to a tag that is published.

This is the registry's definitive answer, so it is a finding (exit 1), not a lookup failure:
the file's other fixes are still applied. A catalog that does not list an image says nothing
about it, and `401`/`403`, server errors, timeouts and rate limits stay failures (exit 3).

## Example
```yaml
image: mcr.microsoft.com/dotnet-buildtools/prereqs:ubuntu-18.04
```

## Fix
None: which tag replaces a retired one is a decision for people. Needs `--online`.",
    check,
};

fn check(cx: &Context<'_>) -> Vec<crate::finding::Finding> {
    cx.references
        .iter()
        .filter(|r| r.kind == Kind::Container)
        .filter_map(|r| {
            let image = r.image.as_ref()?;
            image.tag_str()?;
            let answer = cx.facts.tag_missing(image)?;
            Some(finding(
                &RULE,
                r,
                format!(
                    "`{}` does not exist: the registry answered that the tag or repository is unknown ({answer})",
                    image.without_digest()
                ),
            ))
        })
        .collect()
}
