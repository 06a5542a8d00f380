//! Validated analysis settings: which rules run and at what severity. The CLI and the
//! language server build these from flags, `pin-lint.toml` and client settings.

use std::collections::HashMap;

use crate::finding::Severity;
use crate::rules::Rule;

/// Settings the analyzer needs.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Only these rules (empty = all).
    pub select: Vec<Rule>,
    /// Never these rules.
    pub ignore: Vec<Rule>,
    /// Severity overrides; `None` turns the rule off.
    pub severity: HashMap<Rule, Option<Severity>>,
    /// Offer pinning a reference that has no tag as `:latest@digest` (changes what is written;
    /// an unsafe fix, applied only when the user opts in).
    pub pin_untagged_as_latest: bool,
    /// VM image labels: retired and floating tables, known pool images (defaults from
    /// [`crate::vm_images`]; `pin-lint.toml` keys in docs/vm-images.md).
    pub vm: crate::vm_images::VmSettings,
}

impl Settings {
    /// Is `rule` enabled, and at which severity?
    pub fn severity_of(&self, rule: Rule) -> Option<Severity> {
        if (!self.select.is_empty() && !self.select.contains(&rule)) || self.ignore.contains(&rule)
        {
            return None;
        }
        match self.severity.get(&rule) {
            Some(over) => *over,
            None => Some(rule.default_severity()),
        }
    }
}
