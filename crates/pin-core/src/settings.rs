//! Validated analysis settings: which rules run, at what severity, and the per-image policies.
//! The CLI and the language server build these from `pin-lint.toml` (see [`crate::config`]),
//! flags and client settings; [`Settings`] is the analyzer's single configuration input.

use std::collections::BTreeMap;
use std::fmt;

use globset::GlobMatcher;

use crate::finding::Severity;
use crate::reference::ImageRef;
use crate::rules::Rule;

/// Settings the analyzer needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// Only these rules (empty = all). A hard filter: policies cannot bring a rule back.
    pub select: Vec<Rule>,
    /// Never these rules. A hard filter, like `select`.
    pub ignore: Vec<Rule>,
    /// Severity overrides; `None` turns the rule off (policies may still enable it for the
    /// references they match).
    pub severity: BTreeMap<Rule, Option<Severity>>,
    /// Offer pinning a reference that has no tag as `:latest@digest` (changes what is written;
    /// an unsafe fix, applied only when the user opts in).
    pub pin_untagged_as_latest: bool,
    /// Per-image policies, in file order; for each setting the last matching policy wins.
    pub policies: Vec<Policy>,
    /// Registries (`host[:port]`, or `*.suffix`) references may point to; empty = any.
    /// Feeds the `disallowed-registry` rule.
    pub allowed_registries: Vec<String>,
    /// Report `ignore` comments that silenced nothing (`unused-suppression`).
    pub report_unused_ignores: bool,
    /// VM image labels: retired and floating tables, known pool images (defaults from
    /// [`crate::vm_images`]; `pin-lint.toml` keys in docs/vm-images.md).
    pub vm: crate::vm_images::VmSettings,
}

/// What a policy says about tag-only references of the images it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagPolicy {
    /// `require-digest = true`: `unpinned-image` is reported for these images even when the
    /// rule is turned off in `[rules]`.
    RequireDigest,
    /// `allow-tags = true` (or `require-digest = false`): a tag without digest is accepted for
    /// these images (local or throw-away registries), so `unpinned-image` stays quiet.
    AllowTags,
}

/// A `[[policy]]` entry: settings for the container images whose name matches a glob.
///
/// The glob is matched against the image name without tag or digest, in two spellings: the
/// registry host as addressed (`docker.io` when none is written) joined with the repository as
/// written (`docker.io/ubuntu`), and the canonical one (`docker.io/library/ubuntu`); either
/// matching is enough. `*` stays inside one path component, `**` crosses them.
#[derive(Clone)]
pub struct Policy {
    /// The glob as written (`mcr.microsoft.com/dotnet-buildtools/**`).
    pub pattern: String,
    matcher: GlobMatcher,
    /// Rules the `severity` applies to; empty = every rule.
    pub rules: Vec<Rule>,
    /// Severity of findings on matching references; `Some(None)` turns them off.
    pub severity: Option<Option<Severity>>,
    /// Tag handling for matching references.
    pub tags: Option<TagPolicy>,
}

/// A policy's glob did not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid image pattern `{pattern}`: {reason}")]
pub struct PatternError {
    /// The pattern as written.
    pub pattern: String,
    /// Why globset refused it.
    pub reason: String,
}

impl Policy {
    /// A policy for images matching `pattern` with nothing set yet.
    pub fn new(pattern: &str) -> Result<Policy, PatternError> {
        let matcher = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| PatternError {
                pattern: pattern.to_string(),
                reason: e.kind().to_string(),
            })?
            .compile_matcher();
        Ok(Policy {
            pattern: pattern.to_string(),
            matcher,
            rules: Vec::new(),
            severity: None,
            tags: None,
        })
    }

    /// Does this policy apply to `image`?
    pub fn matches(&self, image: &ImageRef) -> bool {
        let host = image.registry_host();
        self.matcher
            .is_match(format!("{host}/{}", image.repository_str()))
            || self
                .matcher
                .is_match(format!("{host}/{}", image.repository_path()))
    }

    fn applies_to(&self, rule: Rule) -> bool {
        self.rules.is_empty() || self.rules.contains(&rule)
    }
}

impl PartialEq for Policy {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern
            && self.rules == other.rules
            && self.severity == other.severity
            && self.tags == other.tags
    }
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("pattern", &self.pattern)
            .field("rules", &self.rules)
            .field("severity", &self.severity)
            .field("tags", &self.tags)
            .finish()
    }
}

impl Settings {
    /// Does `rule` run at all (`select` / `ignore`)?
    pub fn is_selected(&self, rule: Rule) -> bool {
        (self.select.is_empty() || self.select.contains(&rule)) && !self.ignore.contains(&rule)
    }

    /// Is `rule` enabled file-wide, and at which severity? Policies are not considered: see
    /// [`Settings::severity_for`].
    pub fn severity_of(&self, rule: Rule) -> Option<Severity> {
        if !self.is_selected(rule) {
            return None;
        }
        match self.severity.get(&rule) {
            Some(over) => *over,
            None => Some(rule.default_severity()),
        }
    }

    /// Severity of a finding of `rule` about the container image `image` (if any), with the
    /// policies applied; `None` drops the finding.
    pub fn severity_for(&self, rule: Rule, image: Option<&ImageRef>) -> Option<Severity> {
        if !self.is_selected(rule) {
            return None;
        }
        let mut severity = self.severity_of(rule);
        let Some(image) = image else {
            return severity;
        };
        let mut tags = None;
        for policy in self.policies.iter().filter(|p| p.matches(image)) {
            if let Some(over) = policy.severity.filter(|_| policy.applies_to(rule)) {
                severity = over;
            }
            tags = policy.tags.or(tags);
        }
        if rule.id() != "unpinned-image" {
            return severity;
        }
        match tags {
            Some(TagPolicy::AllowTags) => None,
            Some(TagPolicy::RequireDigest) => severity.or(Some(rule.default_severity())),
            None => severity,
        }
    }

    /// Whether a reference may point to registry `host` (`allowed-registries`).
    pub fn registry_allowed(&self, host: &str) -> bool {
        if self.allowed_registries.is_empty() {
            return true;
        }
        let host = canonical_host(host);
        self.allowed_registries.iter().any(|allowed| {
            let allowed = canonical_host(allowed);
            match allowed.strip_prefix("*.") {
                Some(suffix) => host
                    .strip_suffix(suffix)
                    .is_some_and(|rest| rest.ends_with('.')),
                None => allowed == host,
            }
        })
    }
}

fn canonical_host(host: &str) -> String {
    let host = host.to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".to_string(),
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(text: &str) -> ImageRef {
        ImageRef::parse(text).expect("valid reference")
    }

    #[test]
    fn policies_match_written_and_canonical_names() {
        let p = Policy::new("docker.io/library/*").expect("valid glob");
        assert!(p.matches(&image("ubuntu:22.04")));
        assert!(!p.matches(&image("mcr.microsoft.com/ubuntu:22.04")));
        let p = Policy::new("mcr.microsoft.com/dotnet-buildtools/**").expect("valid glob");
        assert!(p.matches(&image(
            "mcr.microsoft.com/dotnet-buildtools/prereqs:azurelinux-3.0"
        )));
        let one_level = Policy::new("mcr.microsoft.com/*").expect("valid glob");
        assert!(!one_level.matches(&image("mcr.microsoft.com/dotnet-buildtools/prereqs:x")));
    }

    #[test]
    fn last_matching_policy_wins_and_allow_tags_silences_unpinned() {
        let unpinned = Rule::from_id("unpinned-image").expect("rule");
        let mut settings = Settings::default();
        let mut warn = Policy::new("mcr.microsoft.com/**").expect("glob");
        warn.severity = Some(Some(Severity::Warning));
        let mut local = Policy::new("localhost/**").expect("glob");
        local.tags = Some(TagPolicy::AllowTags);
        settings.policies = vec![warn, local];
        assert_eq!(
            settings.severity_for(unpinned, Some(&image("mcr.microsoft.com/a:1"))),
            Some(Severity::Warning)
        );
        assert_eq!(
            settings.severity_for(unpinned, Some(&image("localhost/a:1"))),
            None
        );
        assert_eq!(
            settings.severity_for(unpinned, Some(&image("ghcr.io/a:1"))),
            Some(Severity::Error)
        );
        settings.severity.insert(unpinned, None);
        let mut require = Policy::new("ghcr.io/**").expect("glob");
        require.tags = Some(TagPolicy::RequireDigest);
        settings.policies.push(require);
        assert_eq!(
            settings.severity_for(unpinned, Some(&image("ghcr.io/a:1"))),
            Some(Severity::Error)
        );
        assert_eq!(
            settings.severity_for(unpinned, Some(&image("quay.io/a:1"))),
            None
        );
        settings.ignore.push(unpinned);
        assert_eq!(
            settings.severity_for(unpinned, Some(&image("ghcr.io/a:1"))),
            None
        );
    }

    #[test]
    fn allowed_registries_accept_exact_hosts_and_suffix_wildcards() {
        let settings = Settings {
            allowed_registries: vec!["MCR.microsoft.com".into(), "*.azurecr.io".into()],
            ..Settings::default()
        };
        assert!(settings.registry_allowed("mcr.microsoft.com"));
        assert!(settings.registry_allowed("contoso.azurecr.io"));
        assert!(!settings.registry_allowed("azurecr.io"));
        assert!(!settings.registry_allowed("docker.io"));
        assert!(Settings::default().registry_allowed("docker.io"));
    }
}
