use std::cmp::Ordering;

use super::unpinned_vm_image::version_fix;
use super::{finding, Context, RuleSpec};
use crate::facts::compare_vm_versions;
use crate::finding::Severity;
use crate::model::Kind;

/// `stale-vm-image`: a pinned VM image version older than the newest available.
pub static RULE: RuleSpec = RuleSpec {
    id: "stale-vm-image",
    default_severity: Severity::Warning,
    needs_registry: true,
    summary: "Pinned VM image version older than the newest available",
    doc: "\
## What it flags
A VM image pinned to a version (`version: '24.04.202409120'`, `…/versions/1.9.3`) when a VM
catalog or the Azure Resource Manager API lists a newer one. Versions compare as Azure orders
them (numeric parts: `1.10.0` is newer than `1.9.3`); gallery versions marked
`excludeFromLatest` are never proposed.

## Why it matters
The pin is doing its job, but the image falls behind on security and toolchain updates. The
nightly `pin-lint --fix` job bumps these in one pull request, proven by that PR's CI run.

## Example
```hcl
source_image_reference {
  publisher = \"Canonical\"
  offer     = \"ubuntu-24_04-lts\"
  sku       = \"server\"
  version   = \"24.04.202409120\"   # newest: 24.04.202411030
}
```

## Fix
Safe: replace the version with the newest available one. Needs `--online` or a VM catalog.",
    check,
};

fn check(cx: &Context<'_>) -> Vec<crate::finding::Finding> {
    cx.references
        .iter()
        .filter(|r| r.kind == Kind::Vm)
        .filter_map(|r| {
            let vm = r.vm_image.as_ref()?;
            if vm.is_unpinned() {
                return None;
            }
            let pinned = vm.version.as_deref()?;
            let newest = cx.facts.newest_vm_version(&vm.key)?;
            if compare_vm_versions(pinned, &newest.version) != Ordering::Less {
                return None;
            }
            let mut f = finding(
                &RULE,
                r,
                format!(
                    "VM image `{}` is pinned to {pinned} but {} is available",
                    r.text, newest.version
                ),
            );
            f.fix = Some(version_fix(
                vm,
                &newest.version,
                format!("Bump to {}", newest.version),
            ));
            Some(f)
        })
        .collect()
}
