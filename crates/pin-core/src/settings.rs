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
    /// `[[hold]]` entries, in file order: references they match are never pinned or bumped.
    pub holds: Vec<Hold>,
    /// The date `expired-hold` judges `until` against. The front ends set it from the
    /// `PIN_LINT_TODAY` environment variable (`YYYY-MM-DD`, for tests and reproducible runs)
    /// or else the system clock (UTC); `None` = no hold is judged expired.
    pub today: Option<Date>,
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

/// An image glob of a policy or hold: `*` stays inside one path component, `**` crosses them.
fn image_glob(pattern: &str) -> Result<GlobMatcher, PatternError> {
    Ok(globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|e| PatternError {
            pattern: pattern.to_string(),
            reason: e.kind().to_string(),
        })?
        .compile_matcher())
}

impl Policy {
    /// A policy for images matching `pattern` with nothing set yet.
    pub fn new(pattern: &str) -> Result<Policy, PatternError> {
        let matcher = image_glob(pattern)?;
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

/// A calendar date (`YYYY-MM-DD`, proleptic Gregorian), for a hold's `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year.
    pub year: i32,
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–31.
    pub day: u32,
}

impl Date {
    /// Parse `YYYY-MM-DD`; `None` unless it is a date that exists (`2026-02-30` does not).
    pub fn parse(text: &str) -> Option<Date> {
        let bytes = text.as_bytes();
        let shape = bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !shape {
            return None;
        }
        let date = Date {
            year: text[..4].parse().ok()?,
            month: text[5..7].parse().ok()?,
            day: text[8..].parse().ok()?,
        };
        let leap = date.year % 4 == 0 && (date.year % 100 != 0 || date.year % 400 == 0);
        let days = match date.month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days).contains(&date.day).then_some(date)
    }

    /// The date `days` days after 1970-01-01 (the civil-from-days algorithm), for turning the
    /// system clock into today's date.
    pub fn from_unix_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date {
            year: i32::try_from(year).unwrap_or(i32::MAX),
            month: u32::try_from(month).unwrap_or(1),
            day: u32::try_from(day).unwrap_or(1),
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A `[[hold]]` entry: container references it matches keep their current digest (an
/// unpinned one stays unpinned) until the hold is removed, with the reason people gave.
///
/// `image` is a reference or a glob. With a tag (`…/prereqs:azurelinux-3.0-*`) it is matched
/// against the reference without its digest; without one (`…/prereqs`, `ghcr.io/org/**`)
/// against the image name, so every tag is held. Each is tried in the spellings a
/// [`Policy`] is matched in (registry host as addressed, repository as written or canonical)
/// and as written; `*` stays inside one path component, `**` crosses them.
#[derive(Clone)]
pub struct Hold {
    /// `image` as written.
    pub pattern: String,
    matcher: GlobMatcher,
    with_tag: bool,
    /// `reason`: why (free text, such as a tracking link).
    pub reason: String,
    /// `until`: the last day the hold is meant to last; past it, `expired-hold` is reported
    /// (the hold still holds until it is removed).
    pub until: Option<Date>,
    /// Byte span of the entry's `image` value in the configuration file's text.
    pub span: std::ops::Range<usize>,
}

impl Hold {
    /// A hold of the images matching `pattern`.
    pub fn new(pattern: &str, reason: &str, until: Option<Date>) -> Result<Hold, PatternError> {
        let with_tag = pattern.rsplit('/').next().unwrap_or(pattern).contains(':');
        let matcher = image_glob(pattern)?;
        Ok(Hold {
            pattern: pattern.to_string(),
            matcher,
            with_tag,
            reason: reason.to_string(),
            until,
            span: 0..0,
        })
    }

    /// Does this hold keep `image` back?
    pub fn matches(&self, image: &ImageRef) -> bool {
        let host = image.registry_host();
        let tag = match (self.with_tag, image.tag_str()) {
            (false, _) => String::new(),
            (true, Some(tag)) => format!(":{tag}"),
            (true, None) => return false,
        };
        let written = image.without_digest().to_string();
        let written = if self.with_tag {
            written
        } else {
            written
                .strip_suffix(&tag_suffix(image))
                .map_or_else(|| written.clone(), str::to_string)
        };
        [
            written,
            format!("{host}/{}{tag}", image.repository_str()),
            format!("{host}/{}{tag}", image.repository_path()),
        ]
        .iter()
        .any(|candidate| self.matcher.is_match(candidate))
    }

    /// Whether `until` is before `today`.
    pub fn expired(&self, today: Option<Date>) -> bool {
        matches!((self.until, today), (Some(until), Some(today)) if until < today)
    }

    /// `reason`, and `until` when set: for messages and hovers.
    pub fn describe(&self) -> String {
        match self.until {
            Some(until) => format!("{} (until {until})", self.reason),
            None => self.reason.clone(),
        }
    }
}

fn tag_suffix(image: &ImageRef) -> String {
    image.tag_str().map(|t| format!(":{t}")).unwrap_or_default()
}

impl PartialEq for Hold {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern
            && self.reason == other.reason
            && self.until == other.until
            && self.span == other.span
    }
}

impl fmt::Debug for Hold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hold")
            .field("pattern", &self.pattern)
            .field("reason", &self.reason)
            .field("until", &self.until)
            .finish()
    }
}

impl Settings {
    /// The first `[[hold]]` that keeps `image` back, if any.
    pub fn hold_for(&self, image: &ImageRef) -> Option<&Hold> {
        self.holds.iter().find(|h| h.matches(image))
    }

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
