use super::{finding, short_digest, Context, RuleSpec};
use crate::finding::Severity;
use crate::fix::{Applicability, Edit, Fix};
use crate::model::{Kind, State};

/// `missing-digest`: the pinned digest no longer exists.
pub static RULE: RuleSpec = RuleSpec {
    id: "missing-digest",
    default_severity: Severity::Error,
    needs_registry: true,
    summary: "The pinned digest no longer exists in the registry: the pin is broken",
    doc: "\
## What it flags
A pinned or digest-only reference whose manifest the registry no longer has.

## Why it matters
Pulling it fails: every job using it is broken, on every branch that carries the pin.

## Fix
When the tag still resolves, `--fix` re-pins to the tag's current digest (safe: the old digest
cannot be pulled anyway). Needs `--online`.",
    check,
};

fn check(cx: &Context<'_>) -> Vec<crate::finding::Finding> {
    cx.references
        .iter()
        .filter(|r| r.kind == Kind::Container && matches!(r.state, State::Pinned | State::DigestOnly))
        .filter_map(|r| {
            let image = r.image.as_ref()?;
            if cx.facts.digest_exists(image)? {
                return None;
            }
            let pinned = image.digest.clone()?;
            let mut f = finding(
                &RULE,
                r,
                format!(
                    "the pinned digest {} of `{}` no longer exists in the registry: the pin is broken",
                    short_digest(&r.text[pinned.clone()]),
                    image.without_digest()
                ),
            );
            if let (Some(current), Some(_)) = (cx.facts.tag(image), image.tag.as_ref()) {
                f.fix = Some(Fix {
                    title: format!("Re-pin to {}", short_digest(&current.digest)),
                    applicability: Applicability::Safe,
                    edits: vec![Edit::replace(
                        r.span.start + pinned.start..r.span.start + pinned.end,
                        current.digest.clone(),
                    )],
                });
            }
            Some(f)
        })
        .collect()
}
