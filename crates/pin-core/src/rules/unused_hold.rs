use super::{Context, RuleSpec};
use crate::finding::{Finding, Severity};

/// `unused-hold`: a `[[hold]]` that matches no reference.
pub static RULE: RuleSpec = RuleSpec {
    id: "unused-hold",
    default_severity: Severity::Warning,
    needs_registry: false,
    summary: "A `[[hold]]` in `pin-lint.toml` matches no image reference",
    doc: "\
## What it flags
A `[[hold]]` entry of `pin-lint.toml` whose `image` matches no container reference of the
files that configuration governs (references the template layer finds included). It is
reported at the hold's `image` in `pin-lint.toml`.

Only judged when the run checks the whole folder of `pin-lint.toml` (a path on the command
line is that folder or one above it) and not with `--changed-since`: a run over some files
cannot tell whether the others use the image.

## Why it matters
Like a suppression that silences nothing, a hold that holds nothing outlives its problem:
the image was renamed or moved to another tag, or the pattern has a typo and never held
what it was meant to hold, so the broken image flowed anyway.

## Example
```toml
[[hold]]
image = \"mcr.microsoft.com/dotnet-buildtools/prereqs:azurelinux-3.0-net10.0-crosss-*\"
reason = \"https://github.com/dotnet/runtime/issues/12345\"
```

## Fix
None: correct the pattern, or remove the `[[hold]]`.",
    check,
};

/// Nothing to do per file: whether a hold is used depends on every file of the run, so the
/// engine reports it in `pin-lint.toml` (`pin_core::engine::holds`).
fn check(_: &Context<'_>) -> Vec<Finding> {
    Vec::new()
}
