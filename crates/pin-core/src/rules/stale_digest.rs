use super::{finding, short_digest, Context, RuleSpec};
use crate::finding::Severity;
use crate::fix::Fix;
use crate::model::{Kind, State};

/// `stale-digest`: the tag now points to another digest.
pub static RULE: RuleSpec = RuleSpec {
    id: "stale-digest",
    default_severity: Severity::Warning,
    needs_registry: true,
    summary: "The pinned tag now points to another digest",
    doc: "\
## What it flags
`repo:tag@sha256:old` where the registry (or a catalog) says `repo:tag` is now `sha256:new`.

## Why it matters
The pin is doing its job, but the image is falling behind: security fixes and toolchain updates
in the rebuilt image are not used. The nightly `pin-lint --fix` job bumps these in one pull
request, so the new images are proven by that PR's CI run before they land.

## Example
```yaml
image: mcr.microsoft.com/dotnet-buildtools/prereqs:ubuntu-24.04@sha256:<old>
```

## Fix
Safe: replace the digest with the one the tag points to now. Needs `--online` or a catalog.",
    check,
};

fn check(cx: &Context<'_>) -> Vec<crate::finding::Finding> {
    cx.references
        .iter()
        .filter(|r| r.kind == Kind::Container && r.state == State::Pinned)
        .filter_map(|r| {
            let image = r.image.as_ref()?;
            let current = cx.facts.tag(image)?;
            let pinned_text = image.digest_str()?;
            if pinned_text == current.digest {
                return None;
            }
            let (edit, applicability) = r.pin_edit(&current.digest, false)?;
            let mut f = finding(
                &RULE,
                r,
                format!(
                    "`{}` is pinned to {} but the tag now points to {}",
                    image.without_digest(),
                    short_digest(pinned_text),
                    short_digest(&current.digest)
                ),
            );
            f.fix = Some(Fix {
                title: format!("Bump to {}", short_digest(&current.digest)),
                applicability,
                edits: vec![edit],
            });
            Some(f)
        })
        .collect()
}
