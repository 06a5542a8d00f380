use super::{finding, Context, RuleSpec};
use crate::finding::Severity;
use crate::fix::{Applicability, Edit, Fix};
use crate::model::{Kind, VmImage};

/// `unpinned-vm-image`: an infrastructure VM image without a fixed version.
pub static RULE: RuleSpec = RuleSpec {
    id: "unpinned-vm-image",
    default_severity: Severity::Error,
    needs_registry: true,
    summary: "VM image in ARM, Bicep, Terraform or a pool definition with `version: latest` or no version",
    doc: "\
## What it flags
A marketplace image reference with `version: 'latest'` (ARM and Bicep `imageReference`,
Terraform `source_image_reference` / `storage_image_reference`, Managed DevOps Pools
`fabricProfile.images[].resourceId` ending in `/versions/latest`), and an Azure Compute Gallery
image id without `/versions/<version>` or ending in `/versions/latest`.

## Why it matters
`latest` is resolved at deployment time: every scale-out, reimage or redeploy can bring a new
image, so agents in one pool run different images and a broken image arrives outside of any
pull request. A pinned version changes only through a reviewed bump.

## Example
```bicep
imageReference: {
  publisher: 'Canonical'
  offer: 'ubuntu-24_04-lts'
  sku: 'server'
  version: 'latest'   // pin: '24.04.202411030'
}
```

## Fix
Safe: write the version `latest` resolves to now (the newest version not marked
`excludeFromLatest`), from a VM catalog (`--catalog` with `az vm image list` /
`az sig image-version list` JSON) or the Azure Resource Manager API (`--online`).

## Registry facts
Listed as needing them because the pin does: without a VM catalog or `--online` the finding
is still reported (a `latest` is visible in the file), but it carries no fix, and an
`# pin-lint: ignore[unpinned-vm-image]` comment is judged by `unused-suppression` only where
the run knew the image's versions.",
    check,
};

fn check(cx: &Context<'_>) -> Vec<crate::finding::Finding> {
    cx.references
        .iter()
        .filter(|r| r.kind == Kind::Vm)
        .filter_map(|r| {
            let vm = r.vm_image.as_ref()?;
            if !vm.is_unpinned() {
                return None;
            }
            let mut f = finding(
                &RULE,
                r,
                format!("VM image `{}` is not pinned to a version", r.text),
            );
            if let Some(newest) = cx.facts.newest_vm_version(&vm.key) {
                f.message
                    .push_str(&format!("; `latest` is {} now", newest.version));
                f.fix = Some(version_fix(
                    vm,
                    &newest.version,
                    format!("Pin to {}", newest.version),
                ));
            }
            Some(f)
        })
        .collect()
}

/// A safe fix writing `version` at the image's version position.
pub(super) fn version_fix(vm: &VmImage, version: &str, title: String) -> Fix {
    let text = if vm.version.is_some() {
        version.to_string()
    } else {
        format!("{}{version}", vm.insert_prefix)
    };
    Fix {
        title,
        applicability: Applicability::Safe,
        edits: vec![Edit::replace(vm.version_span.clone(), text)],
    }
}
