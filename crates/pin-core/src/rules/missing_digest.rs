use super::{finding, short_digest, Context, RuleSpec};
use crate::finding::Severity;
use crate::fix::Fix;
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
            let pinned = image.digest_str()?;
            let mut f = finding(
                &RULE,
                r,
                format!(
                    "the pinned digest {} of `{}` no longer exists in the registry: the pin is broken",
                    short_digest(pinned),
                    image.without_digest()
                ),
            );
            if let (Some(current), Some(_)) = (cx.facts.tag(image), image.tag.as_ref()) {
                f.fix = r
                    .pin_edit(&current.digest, false)
                    .map(|(edit, applicability)| Fix {
                        title: format!("Re-pin to {}", short_digest(&current.digest)),
                        applicability,
                        edits: vec![edit],
                    });
            }
            Some(f)
        })
        .collect()
}
