//! The rule registry: one file per rule, one line per rule in [`RULES`].
//!
//! A rule is a function from a file's [`Context`] (references, syntax error, facts) to
//! findings. Its [`RuleSpec`] carries the id, default severity and documentation that feeds
//! `pin-lint rules`, `pin-lint explain`, editor hovers and the README's rule table.

mod digest_only_image;
mod disallowed_registry;
mod dynamic_image;
mod expired_hold;
mod floating_vm_image;
mod invalid_image_reference;
mod missing_digest;
mod missing_tag;
mod retired_vm_image;
mod stale_digest;
mod stale_vm_image;
mod template_expression;
mod unknown_container_alias;
mod unknown_pool_image;
mod unpinned_image;
mod unpinned_vm_image;
mod unused_hold;
pub(crate) mod unused_suppression;
mod yaml_syntax;

use std::fmt;
use std::hash::{Hash, Hasher};

use crate::facts::Facts;
use crate::finding::{Finding, Severity};
use crate::model::Reference;
use crate::settings::Settings;
use crate::yaml::SyntaxError;

/// Everything a rule may look at for one file.
pub struct Context<'c> {
    /// The file's dialect (`None`: not a file pin-lint reads).
    pub dialect: Option<crate::dialect::Dialect>,
    /// The file's references.
    pub references: &'c [Reference],
    /// The syntax error, when the file did not parse.
    pub syntax_error: Option<&'c SyntaxError>,
    /// Resolution results (empty offline).
    pub facts: &'c Facts,
    /// Settings.
    pub settings: &'c Settings,
}

/// A rule's identity, documentation and check.
pub struct RuleSpec {
    /// Stable kebab-case id.
    pub id: &'static str,
    /// Severity unless configured otherwise.
    pub default_severity: Severity,
    /// Whether the rule needs registry (or catalog) facts to do its job: to say anything at
    /// all, or (`unpinned-vm-image`) to offer its fix.
    pub needs_registry: bool,
    /// One-line summary.
    pub summary: &'static str,
    /// Markdown documentation: what it flags, why, example, fix safety.
    pub doc: &'static str,
    /// The check. Findings are produced at the rule's default severity; the caller applies
    /// settings and suppressions.
    pub check: fn(&Context<'_>) -> Vec<Finding>,
}

/// Every rule, in documentation order.
pub static RULES: &[&RuleSpec] = &[
    &unpinned_image::RULE,
    &digest_only_image::RULE,
    &dynamic_image::RULE,
    &invalid_image_reference::RULE,
    &yaml_syntax::RULE,
    &stale_digest::RULE,
    &missing_digest::RULE,
    &missing_tag::RULE,
    &floating_vm_image::RULE,
    &retired_vm_image::RULE,
    &unknown_pool_image::RULE,
    &unpinned_vm_image::RULE,
    &stale_vm_image::RULE,
    &disallowed_registry::RULE,
    &unused_suppression::RULE,
    &expired_hold::RULE,
    &unused_hold::RULE,
    &unknown_container_alias::RULE,
    &template_expression::RULE,
];

/// A handle to a registered rule; compares by id.
#[derive(Clone, Copy)]
pub struct Rule(&'static RuleSpec);

impl Rule {
    /// Look a rule up by id.
    pub fn from_id(id: &str) -> Option<Rule> {
        RULES.iter().find(|r| r.id == id).map(|r| Rule(r))
    }

    /// Every rule.
    pub fn all() -> impl Iterator<Item = Rule> {
        RULES.iter().map(|r| Rule(r))
    }

    /// The rule's spec.
    pub fn spec(self) -> &'static RuleSpec {
        self.0
    }

    /// Stable id.
    pub fn id(self) -> &'static str {
        self.0.id
    }

    /// Default severity.
    pub fn default_severity(self) -> Severity {
        self.0.default_severity
    }

    /// The closest rule id to a misspelt one, for error messages.
    pub fn suggest(id: &str) -> Option<&'static str> {
        RULES
            .iter()
            .map(|r| (edit_distance(id, r.id), r.id))
            .filter(|(d, _)| *d <= 3)
            .min()
            .map(|(_, id)| id)
    }
}

impl PartialEq for Rule {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id
    }
}
impl Eq for Rule {}
impl Hash for Rule {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.id.hash(state);
    }
}
impl PartialOrd for Rule {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Rule {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.id.cmp(other.0.id)
    }
}
impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rule({})", self.0.id)
    }
}
impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.id)
    }
}

/// Levenshtein distance, for "did you mean" suggestions.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Abbreviated digest for titles and messages: `sha256:0123456789ab`.
pub fn short_digest(digest: &str) -> &str {
    let end = digest.find(':').map_or(12, |i| i + 13).min(digest.len());
    &digest[..end]
}

/// A finding of `spec` on reference `r`.
fn finding(spec: &'static RuleSpec, r: &Reference, message: String) -> Finding {
    Finding {
        rule: Rule(spec),
        severity: spec.default_severity,
        span: r.span.clone(),
        message,
        reference: Some(r.text.clone()),
        fix: None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn rules_are_found_by_id_and_compare_by_id() {
        let ids: Vec<&str> = Rule::all().map(Rule::id).collect();
        assert_eq!(ids.len(), RULES.len());
        assert_eq!(ids[0], "unpinned-image");
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
        for id in &ids {
            let rule = Rule::from_id(id).expect("registered");
            assert_eq!(rule.id(), *id);
            assert_eq!(rule.spec().id, *id);
            assert_eq!(rule.to_string(), *id);
            assert_eq!(format!("{rule:?}"), format!("Rule({id})"));
        }
        assert!(Rule::from_id("no-such-rule").is_none());
        let stale = Rule::from_id("stale-digest").expect("registered");
        let unpinned = Rule::from_id("unpinned-image").expect("registered");
        assert_eq!(stale.default_severity(), Severity::Warning);
        assert_eq!(unpinned.default_severity(), Severity::Error);
        assert!(stale.spec().needs_registry && !unpinned.spec().needs_registry);
        assert_eq!(stale, Rule::from_id("stale-digest").expect("registered"));
        assert_ne!(stale, unpinned);
        assert!(stale < unpinned);
        assert_eq!(stale.cmp(&unpinned), std::cmp::Ordering::Less);
        assert_eq!(stale.partial_cmp(&unpinned), Some(std::cmp::Ordering::Less));
        let set: HashSet<Rule> = [stale, unpinned, stale].into_iter().collect();
        assert_eq!(set.len(), 2);
        let mut sorted: Vec<Rule> = Rule::all().collect();
        sorted.sort();
        assert!(sorted.windows(2).all(|w| w[0].id() < w[1].id()));
    }

    #[test]
    fn misspelt_ids_get_the_closest_rule_within_three_edits() {
        assert_eq!(Rule::suggest("unpinned-imag"), Some("unpinned-image"));
        assert_eq!(Rule::suggest("stale-digets"), Some("stale-digest"));
        assert_eq!(Rule::suggest("unpinned-im"), Some("unpinned-image"));
        assert_eq!(Rule::suggest("unpinned-i"), None);
        assert_eq!(Rule::suggest("something-else"), None);
    }

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        for (a, b, d) in [
            ("kitten", "sitting", 3),
            ("", "abc", 3),
            ("abc", "", 3),
            ("abc", "abc", 0),
            ("ab", "ba", 2),
            ("flaw", "lawn", 2),
            ("a", "b", 1),
            // A deletion after a match: only the cell above gives the distance.
            ("ab", "a", 1),
            ("stale-digests", "stale-digest", 1),
        ] {
            assert_eq!(edit_distance(a, b), d, "{a} -> {b}");
        }
    }

    #[test]
    fn short_digests_keep_the_algorithm_and_twelve_digits() {
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert_eq!(short_digest(d), "sha256:0123456789ab");
        assert_eq!(short_digest("sha512:abc"), "sha512:abc");
        assert_eq!(short_digest("0123456789abcdef"), "0123456789ab");
        assert_eq!(short_digest("abc"), "abc");
    }
}
