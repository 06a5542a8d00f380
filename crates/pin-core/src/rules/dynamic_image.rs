use super::{finding, Context, RuleSpec};
use crate::finding::Severity;
use crate::model::{Kind, Site};

/// `dynamic-image`: a container image built from an expression.
pub static RULE: RuleSpec = RuleSpec {
    id: "dynamic-image",
    default_severity: Severity::Warning,
    needs_registry: false,
    summary: "Container image built from an expression or variable: cannot be pinned where it is",
    doc: "\
## What it flags
A container image position whose value is built with `${{ }}`, `$( )`, `$VAR` or `format()`, or
is only a tag fragment completed elsewhere (`container: {image: tag, registry: mcr}`).

## Why it matters
pin-lint cannot pin what it cannot see. The pin belongs where the literal is written: the
variable, the parameter default or the caller's argument.

## Example
```yaml
container: ${{ format('{0}:{1}', parameters.registry, parameters.image) }}
```

## Fix
None here: pin the literal values that flow into the expression. VM image positions built from
expressions are inventoried by `pin-lint refs` but not flagged.",
    check,
};

fn check(cx: &Context<'_>) -> Vec<crate::finding::Finding> {
    cx.references
        .iter()
        .filter(|r| r.kind == Kind::Dynamic && !is_vm_site(r.site))
        .map(|r| {
            finding(
                &RULE,
                r,
                format!("`{}` is built from an expression and cannot be pinned here; pin the values it is built from", r.text),
            )
        })
        .collect()
}

fn is_vm_site(site: Site) -> bool {
    matches!(
        site,
        Site::VmImage
            | Site::ImageOverride
            | Site::PoolImage
            | Site::GhaRunsOn
            | Site::InfraVmImage
    )
}
