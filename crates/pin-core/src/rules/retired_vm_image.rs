use super::floating_vm_image::{is_label_site, relabel_fix};
use super::{finding, Context, RuleSpec};
use crate::finding::Severity;
use crate::model::{Kind, Site};
use crate::vm_images::Provider;

/// `retired-vm-image`: a hosted image label that no longer exists.
pub static RULE: RuleSpec = RuleSpec {
    id: "retired-vm-image",
    default_severity: Severity::Error,
    needs_registry: false,
    summary:
        "Hosted VM image label that the provider has retired (`ubuntu-20.04`, `windows-2019` …)",
    doc: "\
## What it flags
A hosted agent or runner label that the provider has removed: `vmImage: ubuntu-20.04`,
`runs-on: macos-12`, a 1ES pool `image: macOS-12`, `demands: ImageOverride -equals windows-2019`,
a Managed DevOps Pools `wellKnownImageName`. Labels are compared case-insensitively against the
table in `crates/pin-core/src/vm_images.rs` (each row with its retirement date and source),
extended or trimmed by `retired-vm-images` / `not-retired-vm-images` in `pin-lint.toml`.

## Why it matters
A job asking for a retired image does not run: it fails at queue time (after weeks of
brownouts), typically on a release branch nobody has built for a while.

## Example
```yaml
pool:
  vmImage: ubuntu-20.04   # retired 2025-04-15; use ubuntu-24.04
```

## Fix
Unsafe (the job moves to another OS release): replace the label with what the family's
`*-latest` label maps to today for that provider, or with the replacement configured for it.",
    check,
};

fn check(cx: &Context<'_>) -> Vec<crate::finding::Finding> {
    cx.references
        .iter()
        .filter(|r| r.kind == Kind::Vm && r.vm_image.is_none())
        .filter(|r| is_label_site(r.site) || r.site == Site::InfraVmImage)
        .filter_map(|r| {
            // A Managed DevOps Pools well-known image may carry a version: `ubuntu-20.04/latest`.
            let label = r.text.split('/').next().unwrap_or(&r.text);
            let retirement = cx.settings.vm.retirement(label)?;
            let provider = Provider::of(r.site);
            let replacement = cx.settings.vm.replacement(provider, retirement);
            let when = match &retirement.retired {
                Some(date) => format!("was retired on {date} ({})", retirement.source),
                None => format!("is retired ({})", retirement.source),
            };
            let advice = match &replacement {
                Some(t) => format!("; use `{t}`"),
                None => String::new(),
            };
            let mut f = finding(&RULE, r, format!("hosted image `{label}` {when}{advice}"));
            f.span = r.span.start..r.span.start + label.len();
            f.fix = replacement.map(|t| {
                let mut shortened = r.clone();
                shortened.text = label.to_string();
                shortened.span = f.span.clone();
                relabel_fix(&shortened, t.as_str(), format!("Use `{t}`"))
            });
            Some(f)
        })
        .collect()
}
