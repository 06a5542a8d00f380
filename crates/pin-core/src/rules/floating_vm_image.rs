use super::{finding, Context, RuleSpec};
use crate::finding::Severity;
use crate::fix::{Applicability, Edit, Fix};
use crate::model::{Kind, Reference, Site};
use crate::vm_images::{is_floating, minimal_relabel, Provider};

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
Unsafe (it changes which OS the job runs on, from whatever is newest to a fixed release):
replace the label with the versioned one it maps to today, from the table in
`crates/pin-core/src/vm_images.rs` (per provider: GitHub `ubuntu-latest` is `ubuntu-26.04`,
Azure Pipelines `ubuntu-latest` is `ubuntu-24.04`) or `floating-vm-map` in `pin-lint.toml`.
Only the `latest` part is rewritten, so the spelling of the rest is kept.",
    check,
};

fn check(cx: &Context<'_>) -> Vec<crate::finding::Finding> {
    cx.references
        .iter()
        .filter(|r| r.kind == Kind::Vm && is_label_site(r.site) && is_floating(&r.text))
        .map(|r| {
            let provider = Provider::of(r.site);
            let target = cx.settings.vm.floating_target(provider, &r.text);
            let advice = match target {
                Some(t) => format!("; it maps to `{t}` today"),
                None => String::new(),
            };
            let mut f = finding(
                &RULE,
                r,
                format!(
                    "`{}` floats to new OS versions; use a versioned image label{advice}",
                    r.text
                ),
            );
            f.fix = target.map(|t| relabel_fix(r, t, format!("Use `{t}`")));
            f
        })
        .collect()
}

/// Sites that hold a hosted label (not an infrastructure image).
pub(super) fn is_label_site(site: Site) -> bool {
    matches!(
        site,
        Site::VmImage | Site::ImageOverride | Site::PoolImage | Site::GhaRunsOn
    )
}

/// An unsafe fix replacing the label `r` by `target`, touching only the part that differs.
pub(super) fn relabel_fix(r: &Reference, target: &str, title: String) -> Fix {
    let (at, text) = minimal_relabel(&r.text, target);
    Fix {
        title,
        applicability: Applicability::Unsafe,
        edits: vec![Edit::replace(r.span.start + at..r.span.end, text)],
    }
}
