use super::{finding, Context, RuleSpec};
use crate::finding::Severity;
use crate::model::{Kind, Site};
use crate::vm_images::is_hosted_label;

/// `unknown-pool-image`: a pool image name that is not in the configured list.
pub static RULE: RuleSpec = RuleSpec {
    id: "unknown-pool-image",
    default_severity: Severity::Warning,
    needs_registry: false,
    summary:
        "`ImageOverride` demand or 1ES pool `image:` naming an image not in `known-pool-images`",
    doc: "\
## What it flags
`demands: ImageOverride -equals X` and 1ES pool `image: X` where `X` is not in the
`known-pool-images` list of `pin-lint.toml` (compared case-insensitively). Hosted labels
(`ubuntu-24.04`, `windows-2025`, `macOS-15`, `*-latest`) are left to `floating-vm-image` and
`retired-vm-image`. Without a list the rule is silent.

## Why it matters
Pool images are defined by the pool's owners and renamed or removed on their schedule; a
misspelt or removed image name leaves the job waiting for an agent that never comes.

## Example
```toml
# pin-lint.toml
known-pool-images = [\"build.azurelinux.3.amd64\", \"windows.vs2026.amd64\"]
```
```yaml
demands: ImageOverride -equals build.ubuntu.1804.amd64   # not in the list
```

## Fix
None: choose an image the pool offers and update the list when the pool changes.",
    check,
};

fn check(cx: &Context<'_>) -> Vec<crate::finding::Finding> {
    let Some(known) = &cx.settings.vm.known_pool_images else {
        return Vec::new();
    };
    cx.references
        .iter()
        .filter(|r| r.kind == Kind::Vm && matches!(r.site, Site::ImageOverride | Site::PoolImage))
        .filter(|r| !is_hosted_label(&r.text) && cx.settings.vm.retirement(&r.text).is_none())
        .filter(|r| !known.contains(&r.text.to_ascii_lowercase()))
        .map(|r| {
            finding(
                &RULE,
                r,
                format!("pool image `{}` is not in `known-pool-images`", r.text),
            )
        })
        .collect()
}
