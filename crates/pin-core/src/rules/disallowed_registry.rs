use super::{finding, Context, RuleSpec};
use crate::finding::{Finding, Severity};
use crate::model::Kind;

/// `disallowed-registry`: a container image from a registry outside `allowed-registries`.
pub static RULE: RuleSpec = RuleSpec {
    id: "disallowed-registry",
    default_severity: Severity::Error,
    needs_registry: false,
    summary: "Container image from a registry that is not in `allowed-registries`",
    doc: "\
## What it flags
A container image whose registry is not listed in `allowed-registries` of `pin-lint.toml`. A
reference without a registry (`ubuntu:24.04`) comes from `docker.io`. Entries are `host[:port]`
or `*.domain` (any subdomain). The rule is off while the list is empty.

## Why it matters
Builds that pull from any registry depend on every one of them staying up, keeping its images
and not being compromised. An allow-list keeps CI on the registries the team has chosen (for
example an internal mirror) and makes a new dependency a reviewed decision.

## Example
```toml
# pin-lint.toml
allowed-registries = [\"mcr.microsoft.com\", \"*.azurecr.io\"]
```
```yaml
container: ubuntu:24.04@sha256:<digest>   # docker.io is not allowed
```

## Fix
None: move the image to an allowed registry (or its mirror), or add the registry to the list.",
    check,
};

fn check(cx: &Context<'_>) -> Vec<Finding> {
    if cx.settings.allowed_registries.is_empty() {
        return Vec::new();
    }
    cx.references
        .iter()
        .filter(|r| r.kind == Kind::Container)
        .filter_map(|r| {
            let image = r.image.as_ref()?;
            let host = image.registry_host();
            if cx.settings.registry_allowed(host) {
                return None;
            }
            Some(finding(
                &RULE,
                r,
                format!(
                    "`{}` comes from `{host}`, which is not in `allowed-registries`",
                    r.text
                ),
            ))
        })
        .collect()
}
