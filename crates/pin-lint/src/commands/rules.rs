//! `pin-lint rules` and `pin-lint explain RULE`: the rule documentation.

use anyhow::{bail, Result};

use pin_core::Rule;

use crate::{exit, print_out};

/// The rule table.
pub fn rules_table() -> String {
    let mut out = String::new();
    for rule in Rule::all() {
        let spec = rule.spec();
        let registry = if spec.needs_registry {
            "  (needs --online or a catalog)"
        } else {
            ""
        };
        out.push_str(&format!(
            "{:<26} {:<8} {}{}\n",
            spec.id,
            spec.default_severity.as_str(),
            spec.summary,
            registry
        ));
    }
    out
}

pub fn explain(id: &str) -> Result<u8> {
    let Some(rule) = Rule::from_id(id) else {
        match Rule::suggest(id) {
            Some(s) => bail!("unknown rule `{id}` (did you mean `{s}`?)"),
            None => bail!("unknown rule `{id}`; `pin-lint rules` lists them"),
        }
    };
    let spec = rule.spec();
    print_out(&format!(
        "# {}\n\n{}\n\nDefault severity: {}. Needs registry facts: {}.\n\n{}\n",
        spec.id,
        spec.summary,
        spec.default_severity.as_str(),
        if spec.needs_registry { "yes" } else { "no" },
        spec.doc
    ))?;
    Ok(exit::CLEAN)
}
