use super::{Context, RuleSpec};
use crate::finding::{Finding, Severity};

/// `expired-hold`: a `[[hold]]` in `pin-lint.toml` is past its `until` date.
pub static RULE: RuleSpec = RuleSpec {
    id: "expired-hold",
    default_severity: Severity::Warning,
    needs_registry: false,
    summary: "A `[[hold]]` in `pin-lint.toml` is past its `until` date",
    doc: "\
## What it flags
A `[[hold]]` entry of `pin-lint.toml` whose `until` date has passed (the day after `until`
onwards). It is reported at the hold's `image` in `pin-lint.toml`.

The date is today's date in UTC, or the `PIN_LINT_TODAY` environment variable
(`YYYY-MM-DD`) when it is set, for tests and reproducible runs.

## Why it matters
A hold keeps an image that broke the build at its current digest while every other image
keeps flowing. It is meant to be temporary: once the producer fixed the image (or the
build was adapted), the hold only keeps the repository on an old image. `until` is the date
by which someone meant to look again. An expired hold still holds: the image does not
start flowing unannounced; remove the hold or move `until`.

## Example
```toml
[[hold]]
image = \"mcr.microsoft.com/dotnet-buildtools/prereqs:azurelinux-3.0-net10.0-cross-*\"
reason = \"https://github.com/dotnet/runtime/issues/12345: the new image breaks the arm64 cross build\"
until = 2026-01-31
```

## Fix
None: remove the `[[hold]]` (the next nightly bumps the image) or extend `until`.",
    check,
};

/// Nothing to do per file: holds live in `pin-lint.toml`, and the engine reports them there
/// (`pin_core::engine::holds`).
fn check(_: &Context<'_>) -> Vec<Finding> {
    Vec::new()
}
