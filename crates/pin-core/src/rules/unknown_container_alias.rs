use super::{Context, RuleSpec};
use crate::finding::{Finding, Severity};

/// `unknown-container-alias`: a `container:` / `target:` alias with no resource of that name.
pub static RULE: RuleSpec = RuleSpec {
    id: "unknown-container-alias",
    default_severity: Severity::Warning,
    needs_registry: false,
    summary: "A `container:` / `target:` alias with no container resource of that name",
    doc: "\
## What it flags
A job `container:`, a step `target:` or a `services:` value that names a container resource
(`container: linux_x64`) when no file of the repository defines a resource of that name, neither
in a `resources.containers` list nor in a `containers:` alias map such as the one dotnet/runtime
passes to its 1ES template (`extends.parameters.containers`).

Aliases are followed through templates: an alias passed as a parameter is checked where it is
written. An alias given to a template that is not part of the repository (another repository's
template, a missing file) is not judged, since only that template knows what it does with it.

## Why it matters
The pipeline fails to compile, or (when the resource is added by a template from another
repository) the job silently depends on an image pin-lint cannot see or pin.

## Example
```yaml
resources:
  containers:
  - container: linux_x64
    image: mcr.microsoft.com/dotnet-buildtools/prereqs:azurelinux-3.0-net9.0-cross-amd64
jobs:
- job: build
  container: linux_x46   # typo: no such resource
```

## Fix
None automatic: correct the alias or define the resource.",
    check,
};

/// Nothing per file: the template layer (`pin_core::template`) finds these across files.
fn check(_: &Context<'_>) -> Vec<Finding> {
    Vec::new()
}
