//! `pin-lint.toml`: parsing and validation (pure: text in, [`Config`] or a positioned error
//! out), and the one discovery + load function that the CLI and the language server share.
//!
//! **I/O exception.** pin-core does no I/O, except [`find`], [`load`] and [`load_for`] at the
//! end of this file: they look for `pin-lint.toml` from a path upward and read it. They live
//! here so that the CLI and the editor cannot disagree about which file governs a path or how
//! it is read; everything they do after reading is the pure [`Config::parse`].
//!
//! Every key is validated: an unknown key or a bad value is an error with the file, line,
//! column and, where one is close, a suggestion (`unknown key `inlcude`, did you mean
//! `include`?`). Relative paths in the file (`catalogs`, `cache.dir`) are taken from the
//! file's folder; `include`/`exclude` globs match paths relative to that folder.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::dialect::Dialect;
use crate::finding::Severity;
use crate::rules::{edit_distance, Rule};
use crate::settings::{Date, Hold, Policy, Settings, TagPolicy};
use crate::source::SourceFile;
use crate::vm_images::{Provider, VmSettings};

/// The configuration file's name.
pub const FILE_NAME: &str = "pin-lint.toml";

/// Top-level keys, for suggestions and the documentation.
pub const KEYS: &[&str] = &[
    "include",
    "exclude",
    "select",
    "ignore",
    "rules",
    "policy",
    "allowed-registries",
    "catalogs",
    "insecure-registries",
    "online",
    "timeout",
    "mirror",
    "cache",
    "pin-untagged-as-latest",
    "report-unused-ignores",
    "known-pool-images",
    "retired-vm-images",
    "not-retired-vm-images",
    "floating-vm-map",
    "bump",
    "hold",
    "files",
];
const HOLD_KEYS: &[&str] = &["image", "reason", "until"];
const POLICY_KEYS: &[&str] = &["match", "rules", "severity", "require-digest", "allow-tags"];
const CACHE_KEYS: &[&str] = &["dir", "ttl"];
const BUMP_KEYS: &[&str] = &["provider", "ci", "validate", "branch"];
const FILES_KEYS: &[&str] = &["compose", "devcontainer", "dockerfile", "kubernetes"];
const SEVERITIES: &[&str] = &["error", "warning", "info", "off"];

/// A validated `pin-lint.toml` (or the defaults when there is none).
///
/// Analyzer settings come out of [`Config::settings`]; the registry-related keys are in
/// [`Config::registry`] for the CLI's (and the editor's) resolution phase. Command-line flags
/// and client settings are applied on top by the caller: flags win over the file.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file this came from; `None` for the defaults.
    pub path: Option<PathBuf>,
    /// `include`: globs of files to check (empty = every file the walk finds).
    pub include: Vec<String>,
    /// `exclude`: globs of files never to check.
    pub exclude: Vec<String>,
    include_set: GlobSet,
    exclude_set: GlobSet,
    /// `select`: only these rules.
    pub select: Option<Vec<Rule>>,
    /// `ignore`: never these rules.
    pub ignore: Option<Vec<Rule>>,
    /// `[rules]`: severity per rule; `None` = `"off"`.
    pub rules: BTreeMap<Rule, Option<Severity>>,
    /// `[[policy]]` entries, in file order.
    pub policies: Vec<Policy>,
    /// `allowed-registries`.
    pub allowed_registries: Vec<String>,
    /// `pin-untagged-as-latest`.
    pub pin_untagged_as_latest: Option<bool>,
    /// `report-unused-ignores`.
    pub report_unused_ignores: Option<bool>,
    /// Keys for the resolution phase.
    pub registry: RegistryConfig,
    /// VM image tables: the built-in defaults changed by `known-pool-images`,
    /// `retired-vm-images`, `not-retired-vm-images` and `floating-vm-map`.
    pub vm: VmSettings,
    /// `[bump]`: settings of the nightly job (`scripts/pin-bump`), not of the analyzer.
    pub bump: BumpConfig,
    /// `[[hold]]` entries, in file order (their spans point into [`Config::text`]).
    pub holds: Vec<Hold>,
    /// The file's text, for findings placed in it (`expired-hold`, `unused-hold`); empty
    /// for the defaults.
    pub text: String,
    /// `[files]`: more file names for the container file types.
    pub files: FileTypes,
}

/// `[files]`: glob patterns that give a file type to files whose names the built-in detection
/// does not know (`compose = ["deploy/*.svc.yml"]`). [`Config::file_type`] applies them.
#[derive(Debug, Clone, Default)]
pub struct FileTypes {
    /// The patterns of each type, as written, in file order.
    pub patterns: Vec<(Dialect, Vec<String>)>,
    sets: Vec<(Dialect, GlobSet)>,
}

impl PartialEq for FileTypes {
    fn eq(&self, other: &Self) -> bool {
        self.patterns == other.patterns
    }
}

/// `[bump]`: how the nightly job opens its pull request and which validation runs it
/// requests on it. `scripts/pin-bump` reads these (through `pin-lint --show-settings
/// --format json`); its flags win.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct BumpConfig {
    /// `provider`: where the pull request lives, `github` or `azure` (Azure Repos).
    pub provider: Option<String>,
    /// `ci`: what runs the validation pipelines, `azure-pipelines` or `github-actions`.
    pub ci: Option<String>,
    /// `validate`: pipelines (Azure Pipelines) or workflows (GitHub Actions) to run on the
    /// bump pull request, e.g. the outer-loop pipelines.
    pub validate: Vec<String>,
    /// `branch`: the bot branch.
    pub branch: Option<String>,
}

/// The keys that concern talking to registries, for the resolution phase. Paths are absolute
/// when the configuration was loaded from an absolute path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryConfig {
    /// `online`: resolve against registries by default (`None` = not set; the command decides).
    pub online: Option<bool>,
    /// `catalogs`: digest catalogs, consulted before any registry, in order. A URL
    /// (`https://…`) is kept as written; a path is anchored in the file's folder.
    pub catalogs: Vec<PathBuf>,
    /// `insecure-registries`: `host[:port]` that may be spoken to over plain HTTP.
    pub insecure_registries: Vec<String>,
    /// `timeout`: limit for one registry or catalog request (`None` = the default, 20 s).
    pub timeout: Option<Duration>,
    /// `[mirror]`: registry as referenced (`docker.io`) → `host[:port]` to resolve against
    /// instead. The written reference never changes.
    pub mirrors: BTreeMap<String, String>,
    /// `[cache]`.
    pub cache: CacheConfig,
}

/// `[cache]`: where resolution answers are remembered and for how long.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheConfig {
    /// `dir`: the cache folder.
    pub dir: Option<PathBuf>,
    /// `ttl`: how long an answer stays valid (`"30m"`, `"24h"`, `"7d"`, or seconds).
    pub ttl: Option<Duration>,
}

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file is not valid TOML, or a key or value is wrong.
    #[error("{}:{line}:{column}: {message}{}", label(.path), hint(.suggestion))]
    Invalid {
        /// The file, when known.
        path: Option<PathBuf>,
        /// 1-based line.
        line: u32,
        /// 1-based column (characters).
        column: u32,
        /// What is wrong.
        message: String,
        /// What would be right (`did you mean `include`?`), when something close exists.
        suggestion: Option<String>,
    },
    /// The file could not be read.
    #[error("cannot read `{}`: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

fn label(path: &Option<PathBuf>) -> String {
    path.as_ref()
        .map_or_else(|| FILE_NAME.to_string(), |p| p.display().to_string())
}

fn hint(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map_or_else(String::new, |s| format!(", {s}"))
}

/// A validation error before it is placed in the file.
struct Problem {
    span: Range<usize>,
    message: String,
    suggestion: Option<String>,
}

impl Problem {
    fn new(span: Range<usize>, message: impl Into<String>) -> Problem {
        Problem {
            span,
            message: message.into(),
            suggestion: None,
        }
    }

    fn suggest(mut self, suggestion: Option<String>) -> Problem {
        self.suggestion = suggestion;
        self
    }
}

type Parsed<T> = Result<T, Problem>;

impl Config {
    /// Parse and validate the text of a configuration file. `path` names the file in errors
    /// and anchors relative paths; nothing is read from it.
    pub fn parse(text: &str, path: Option<&Path>) -> Result<Config, ConfigError> {
        let base = path.and_then(Path::parent).map(Path::to_path_buf);
        let located = |p: Problem| {
            let source = SourceFile::new(text.to_string());
            let at = source.line_col(p.span.start);
            ConfigError::Invalid {
                path: path.map(Path::to_path_buf),
                line: at.line,
                column: at.column,
                message: p.message,
                suggestion: p.suggestion,
            }
        };
        let table = DeTable::parse(text).map_err(|e| {
            located(Problem::new(
                e.span().unwrap_or(0..0),
                e.message().trim_end().to_string(),
            ))
        })?;
        let mut config = Config {
            path: path.map(Path::to_path_buf),
            text: text.to_string(),
            ..Config::default()
        };
        config
            .read_top(table.get_ref(), base.as_deref())
            .map_err(located)?;
        Ok(config)
    }

    fn read_top(&mut self, table: &DeTable<'_>, base: Option<&Path>) -> Parsed<()> {
        for (key, value) in in_file_order(table) {
            let span = value.span();
            match key.get_ref().as_ref() {
                "include" => {
                    self.include = strings(value)?;
                    self.include_set = globs(&self.include, span)?;
                }
                "exclude" => {
                    self.exclude = strings(value)?;
                    self.exclude_set = globs(&self.exclude, span)?;
                }
                "select" => self.select = Some(rule_ids(value)?),
                "ignore" => self.ignore = Some(rule_ids(value)?),
                "rules" => self.rules = rule_severities(value)?,
                "policy" => self.policies = policies(value)?,
                "allowed-registries" => self.allowed_registries = hosts(value, true)?,
                "catalogs" => {
                    self.registry.catalogs = strings(value)?
                        .into_iter()
                        .map(|p| {
                            if is_url(&p) {
                                p.into()
                            } else {
                                anchored(base, &p)
                            }
                        })
                        .collect();
                }
                "insecure-registries" => self.registry.insecure_registries = hosts(value, false)?,
                "online" => self.registry.online = Some(boolean(value)?),
                "timeout" => self.registry.timeout = Some(duration(value)?),
                "mirror" => self.registry.mirrors = mirrors(value)?,
                "cache" => self.registry.cache = cache(value, base)?,
                "pin-untagged-as-latest" => self.pin_untagged_as_latest = Some(boolean(value)?),
                "report-unused-ignores" => self.report_unused_ignores = Some(boolean(value)?),
                "known-pool-images" => self.vm.set_known_pool_images(strings(value)?),
                "retired-vm-images" => retired_vm_images(value, &mut self.vm)?,
                "not-retired-vm-images" => {
                    for label in strings(value)? {
                        self.vm.unretire(&label);
                    }
                }
                "floating-vm-map" => floating_vm_map(value, &mut self.vm)?,
                "bump" => self.bump = bump(value)?,
                "hold" => self.holds = array(value)?.iter().map(hold).collect::<Parsed<_>>()?,
                "files" => self.files = file_types(value)?,
                other => return Err(unknown_key(key.span(), other, KEYS, "")),
            }
        }
        Ok(())
    }

    /// The analyzer settings this file asks for (before any command-line flag).
    pub fn settings(&self) -> Settings {
        Settings {
            select: self.select.clone().unwrap_or_default(),
            ignore: self.ignore.clone().unwrap_or_default(),
            severity: self.rules.clone(),
            pin_untagged_as_latest: self.pin_untagged_as_latest.unwrap_or(false),
            policies: self.policies.clone(),
            allowed_registries: self.allowed_registries.clone(),
            report_unused_ignores: self.report_unused_ignores.unwrap_or(false),
            vm: self.vm.clone(),
            holds: self.holds.clone(),
            today: None,
        }
    }

    /// The folder the file's relative paths and globs are anchored in.
    pub fn root(&self) -> Option<&Path> {
        self.path.as_deref().and_then(Path::parent)
    }

    /// Whether `file` is to be checked according to `include` / `exclude`. `file` is taken
    /// relative to [`Config::root`] when it lies below it (give absolute paths for that); a
    /// glob also matches a file when it matches one of the folders above it.
    pub fn is_included(&self, file: &Path) -> bool {
        let text = self.relative(file);
        let candidates: Vec<&str> = std::iter::once(text.as_str())
            .chain(text.match_indices('/').map(|(i, _)| &text[..i]))
            .collect();
        if candidates.iter().any(|c| self.exclude_set.is_match(c)) {
            return false;
        }
        self.include.is_empty() || candidates.iter().any(|c| self.include_set.is_match(c))
    }

    /// Whether `[files]` gives any pattern (when not, [`Config::file_type`] is always `None`).
    pub fn has_file_types(&self) -> bool {
        !self.files.sets.is_empty()
    }

    /// The file type `[files]` gives `file`: the first type (in file order) with a pattern
    /// that matches the file's path relative to [`Config::root`] (give absolute paths for
    /// that) or its name alone. `None` leaves the choice to the built-in detection. The CLI's
    /// walk and the language server both ask this, and hand the answer to
    /// [`crate::Analysis::new_as`].
    pub fn file_type(&self, file: &Path) -> Option<Dialect> {
        if self.files.sets.is_empty() {
            return None;
        }
        let text = self.relative(file);
        let name = text.rsplit('/').next().unwrap_or(&text);
        self.files
            .sets
            .iter()
            .find(|(_, set)| set.is_match(&text) || set.is_match(name))
            .map(|(dialect, _)| *dialect)
    }

    /// `file` relative to [`Config::root`] when it lies below it, with forward slashes.
    fn relative(&self, file: &Path) -> String {
        let relative = self
            .root()
            .and_then(|root| file.strip_prefix(root).ok())
            .unwrap_or(file);
        relative.to_string_lossy().replace('\\', "/")
    }
}

impl PartialEq for Config {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path
            && self.include == other.include
            && self.exclude == other.exclude
            && self.select == other.select
            && self.ignore == other.ignore
            && self.rules == other.rules
            && self.policies == other.policies
            && self.allowed_registries == other.allowed_registries
            && self.pin_untagged_as_latest == other.pin_untagged_as_latest
            && self.report_unused_ignores == other.report_unused_ignores
            && self.registry == other.registry
            && self.vm == other.vm
            && self.bump == other.bump
            && self.holds == other.holds
            && self.files == other.files
    }
}

type Entry<'a, 'i> = (&'a Spanned<Cow<'i, str>>, &'a Spanned<DeValue<'i>>);

fn in_file_order<'a, 'i>(table: &'a DeTable<'i>) -> Vec<Entry<'a, 'i>> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    entries
}

fn unknown_key(span: Range<usize>, key: &str, known: &[&str], table: &str) -> Problem {
    let closest = known
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, k)| format!("did you mean `{k}`?"));
    let within = if table.is_empty() {
        String::new()
    } else {
        format!(" in `{table}`")
    };
    let fallback = format!(
        "expected one of {}",
        known
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Problem::new(span, format!("unknown key `{key}`{within}")).suggest(closest.or(Some(fallback)))
}

fn wrong_type(value: &Spanned<DeValue<'_>>, expected: &str) -> Problem {
    Problem::new(
        value.span(),
        format!("expected {expected}, found {}", value.get_ref().type_str()),
    )
}

fn boolean(value: &Spanned<DeValue<'_>>) -> Parsed<bool> {
    value
        .get_ref()
        .as_bool()
        .ok_or_else(|| wrong_type(value, "`true` or `false`"))
}

fn string<'a>(value: &'a Spanned<DeValue<'_>>) -> Parsed<&'a str> {
    value
        .get_ref()
        .as_str()
        .ok_or_else(|| wrong_type(value, "a string"))
}

fn array<'a, 'i>(value: &'a Spanned<DeValue<'i>>) -> Parsed<&'a [Spanned<DeValue<'i>>]> {
    match value.get_ref() {
        DeValue::Array(items) => Ok(items.as_ref()),
        _ => Err(wrong_type(value, "an array")),
    }
}

fn table<'a, 'i>(value: &'a Spanned<DeValue<'i>>) -> Parsed<&'a DeTable<'i>> {
    value
        .get_ref()
        .as_table()
        .ok_or_else(|| wrong_type(value, "a table"))
}

fn strings(value: &Spanned<DeValue<'_>>) -> Parsed<Vec<String>> {
    array(value)?
        .iter()
        .map(|item| string(item).map(str::to_string))
        .collect()
}

fn globs(patterns: &[String], span: Range<usize>) -> Parsed<GlobSet> {
    let mut set = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| {
                Problem::new(
                    span.clone(),
                    format!("invalid glob `{pattern}`: {}", e.kind()),
                )
            })?;
        set.add(glob);
    }
    set.build()
        .map_err(|e| Problem::new(span, format!("invalid globs: {e}")))
}

fn rule_id(value: &Spanned<DeValue<'_>>) -> Parsed<Rule> {
    let id = string(value)?;
    rule_named(id, value.span())
}

fn rule_named(id: &str, span: Range<usize>) -> Parsed<Rule> {
    Rule::from_id(id).ok_or_else(|| {
        Problem::new(span, format!("unknown rule `{id}`")).suggest(Some(match Rule::suggest(id) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "`pin-lint rules` lists them".to_string(),
        }))
    })
}

fn rule_ids(value: &Spanned<DeValue<'_>>) -> Parsed<Vec<Rule>> {
    array(value)?.iter().map(rule_id).collect()
}

fn severity(value: &Spanned<DeValue<'_>>) -> Parsed<Option<Severity>> {
    match string(value)? {
        "error" => Ok(Some(Severity::Error)),
        "warning" => Ok(Some(Severity::Warning)),
        "info" => Ok(Some(Severity::Info)),
        "off" => Ok(None),
        other => {
            let closest = SEVERITIES
                .iter()
                .map(|k| (edit_distance(other, k), *k))
                .filter(|(d, _)| *d <= 3)
                .min()
                .map(|(_, k)| format!("did you mean `{k}`?"));
            Err(
                Problem::new(value.span(), format!("invalid severity `{other}`")).suggest(Some(
                    closest.unwrap_or_else(|| {
                        "expected `error`, `warning`, `info` or `off`".to_string()
                    }),
                )),
            )
        }
    }
}

fn rule_severities(value: &Spanned<DeValue<'_>>) -> Parsed<BTreeMap<Rule, Option<Severity>>> {
    let mut out = BTreeMap::new();
    for (key, value) in in_file_order(table(value)?) {
        let rule = rule_named(key.get_ref(), key.span())?;
        out.insert(rule, severity(value)?);
    }
    Ok(out)
}

fn policies(value: &Spanned<DeValue<'_>>) -> Parsed<Vec<Policy>> {
    array(value)?.iter().map(policy).collect()
}

fn policy(value: &Spanned<DeValue<'_>>) -> Parsed<Policy> {
    let entries = table(value)?;
    let Some(pattern) = entries.get("match") else {
        return Err(Problem::new(
            value.span(),
            "a `[[policy]]` needs `match = \"<image pattern>\"`",
        ));
    };
    let mut policy =
        Policy::new(string(pattern)?).map_err(|e| Problem::new(pattern.span(), e.to_string()))?;
    let mut tag_keys: Vec<(&str, bool, Range<usize>)> = Vec::new();
    for (key, value) in in_file_order(entries) {
        match key.get_ref().as_ref() {
            "match" => {}
            "rules" => policy.rules = rule_ids(value)?,
            "severity" => policy.severity = Some(severity(value)?),
            name @ ("require-digest" | "allow-tags") => {
                tag_keys.push((name, boolean(value)?, value.span()));
            }
            other => return Err(unknown_key(key.span(), other, POLICY_KEYS, "[[policy]]")),
        }
    }
    for (name, on, span) in tag_keys {
        let tags = match (name, on) {
            ("require-digest", true) | ("allow-tags", false) => TagPolicy::RequireDigest,
            _ => TagPolicy::AllowTags,
        };
        if policy.tags.is_some_and(|t| t != tags) {
            return Err(Problem::new(
                span,
                "`require-digest` and `allow-tags` contradict each other in this policy",
            )
            .suggest(Some("keep one of them".to_string())));
        }
        policy.tags = Some(tags);
    }
    Ok(policy)
}

/// `host[:port]` entries; `*.suffix` wildcards where `wildcards` is set.
fn hosts(value: &Spanned<DeValue<'_>>, wildcards: bool) -> Parsed<Vec<String>> {
    array(value)?
        .iter()
        .map(|item| {
            let host = string(item)?;
            check_host(host, item.span(), wildcards)?;
            Ok(host.to_string())
        })
        .collect()
}

fn check_host(host: &str, span: Range<usize>, wildcards: bool) -> Parsed<()> {
    if let Some((scheme, rest)) = host.split_once("://") {
        return Err(
            Problem::new(span, format!("`{host}` is a URL, not a registry host"))
                .suggest(Some(format!("write `{rest}` without `{scheme}://`"))),
        );
    }
    let bare = if wildcards {
        host.strip_prefix("*.").unwrap_or(host)
    } else {
        host
    };
    let valid = !bare.is_empty()
        && bare
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if valid {
        Ok(())
    } else {
        let what = if wildcards {
            "`host[:port]` or `*.domain`"
        } else {
            "`host[:port]`"
        };
        Err(
            Problem::new(span, format!("invalid registry host `{host}`"))
                .suggest(Some(format!("expected {what}, without a path"))),
        )
    }
}

fn mirrors(value: &Spanned<DeValue<'_>>) -> Parsed<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (key, value) in in_file_order(table(value)?) {
        check_host(key.get_ref(), key.span(), false)?;
        let to = string(value)?;
        check_host(to, value.span(), false)?;
        out.insert(key.get_ref().to_string(), to.to_string());
    }
    Ok(out)
}

/// One `[[hold]]`: `image` and `reason` are required, `until` is a date (`2026-12-31`, as a
/// TOML date or a string).
fn hold(value: &Spanned<DeValue<'_>>) -> Parsed<Hold> {
    let entries = table(value)?;
    let mut image = None;
    let mut reason = None;
    let mut until = None;
    for (key, value) in in_file_order(entries) {
        match key.get_ref().as_ref() {
            "image" => image = Some((string(value)?, value.span())),
            "reason" => {
                let text = string(value)?;
                if text.trim().is_empty() {
                    return Err(Problem::new(value.span(), "the hold's `reason` is empty")
                        .suggest(Some(
                            "say why the image is held, e.g. a tracking link".into(),
                        )));
                }
                reason = Some(text);
            }
            "until" => until = Some(date(value)?),
            other => return Err(unknown_key(key.span(), other, HOLD_KEYS, "[[hold]]")),
        }
    }
    let Some((pattern, span)) = image else {
        return Err(Problem::new(
            value.span(),
            "a `[[hold]]` needs `image = \"<reference or glob>\"`",
        ));
    };
    let Some(reason) = reason else {
        return Err(Problem::new(
            value.span(),
            format!("the `[[hold]]` of `{pattern}` needs `reason = \"…\"`"),
        )
        .suggest(Some(
            "say why the image is held, e.g. a tracking link".into(),
        )));
    };
    let mut hold =
        Hold::new(pattern, reason, until).map_err(|e| Problem::new(span.clone(), e.to_string()))?;
    hold.span = span;
    Ok(hold)
}

/// A date `YYYY-MM-DD`: a TOML local date or a string.
fn date(value: &Spanned<DeValue<'_>>) -> Parsed<Date> {
    let text = match value.get_ref() {
        DeValue::String(text) => text.to_string(),
        DeValue::Datetime(dt) => dt.to_string(),
        _ => return Err(wrong_type(value, "a date such as `2026-12-31`")),
    };
    Date::parse(text.trim()).ok_or_else(|| {
        Problem::new(value.span(), format!("invalid date `{text}`")).suggest(Some(
            "write a date as `YYYY-MM-DD`, e.g. `2026-12-31`".into(),
        ))
    })
}

fn bump(value: &Spanned<DeValue<'_>>) -> Parsed<BumpConfig> {
    let one_of = |value: &Spanned<DeValue<'_>>, allowed: &[&str]| -> Parsed<String> {
        let text = string(value)?;
        if allowed.contains(&text) {
            Ok(text.to_string())
        } else {
            let list: Vec<String> = allowed.iter().map(|a| format!("`{a}`")).collect();
            Err(
                Problem::new(value.span(), format!("invalid value `{text}`"))
                    .suggest(Some(format!("expected {}", list.join(" or ")))),
            )
        }
    };
    let mut out = BumpConfig::default();
    for (key, value) in in_file_order(table(value)?) {
        match key.get_ref().as_ref() {
            "provider" => out.provider = Some(one_of(value, &["github", "azure"])?),
            "ci" => out.ci = Some(one_of(value, &["azure-pipelines", "github-actions"])?),
            "validate" => {
                out.validate = strings(value)?;
                if out.validate.iter().any(|v| v.trim().is_empty()) {
                    return Err(Problem::new(value.span(), "a pipeline name is empty"));
                }
            }
            "branch" => out.branch = Some(string(value)?.to_string()),
            other => return Err(unknown_key(key.span(), other, BUMP_KEYS, "[bump]")),
        }
    }
    Ok(out)
}

/// `[files]`: `type = ["glob", …]` for the container file types.
fn file_types(value: &Spanned<DeValue<'_>>) -> Parsed<FileTypes> {
    let mut out = FileTypes::default();
    for (key, value) in in_file_order(table(value)?) {
        let dialect = match key.get_ref().as_ref() {
            "compose" => Dialect::Compose,
            "devcontainer" => Dialect::Devcontainer,
            "dockerfile" => Dialect::Dockerfile,
            "kubernetes" => Dialect::Kubernetes,
            other => return Err(unknown_key(key.span(), other, FILES_KEYS, "[files]")),
        };
        let patterns = strings(value)?;
        if patterns.iter().any(|p| p.trim().is_empty()) {
            return Err(Problem::new(value.span(), "a file pattern is empty"));
        }
        out.sets.push((dialect, globs(&patterns, value.span())?));
        out.patterns.push((dialect, patterns));
    }
    Ok(out)
}

fn cache(value: &Spanned<DeValue<'_>>, base: Option<&Path>) -> Parsed<CacheConfig> {
    let mut out = CacheConfig::default();
    for (key, value) in in_file_order(table(value)?) {
        match key.get_ref().as_ref() {
            "dir" => out.dir = Some(anchored(base, string(value)?)),
            "ttl" => out.ttl = Some(duration(value)?),
            other => return Err(unknown_key(key.span(), other, CACHE_KEYS, "[cache]")),
        }
    }
    Ok(out)
}

/// `"90s"`, `"30m"`, `"24h"`, `"7d"`, or an integer number of seconds.
fn duration(value: &Spanned<DeValue<'_>>) -> Parsed<Duration> {
    let bad = |text: &str| {
        Problem::new(value.span(), format!("invalid duration `{text}`")).suggest(Some(
            "write a number with a unit: `90s`, `30m`, `24h` or `7d`".to_string(),
        ))
    };
    match value.get_ref() {
        DeValue::Integer(n) => n
            .as_str()
            .replace('_', "")
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| bad(n.as_str())),
        DeValue::String(text) => {
            let text = text.trim();
            let split = text
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(text.len());
            let (number, unit) = text.split_at(split);
            let number: u64 = number.parse().map_err(|_| bad(text))?;
            let scale = match unit.trim() {
                "s" | "" => 1,
                "m" => 60,
                "h" => 3600,
                "d" => 86_400,
                _ => return Err(bad(text)),
            };
            Ok(Duration::from_secs(number.saturating_mul(scale)))
        }
        _ => Err(wrong_type(value, "a duration such as `\"24h\"`")),
    }
}

/// `retired-vm-images = ["label", …]` (no replacement known) or
/// `retired-vm-images = { "label" = "replacement", … }`.
fn retired_vm_images(value: &Spanned<DeValue<'_>>, vm: &mut VmSettings) -> Parsed<()> {
    match value.get_ref() {
        DeValue::Array(_) => {
            for label in strings(value)? {
                vm.retire(&label, None);
            }
        }
        DeValue::Table(entries) => {
            for (label, replacement) in in_file_order(entries) {
                vm.retire(label.get_ref(), Some(string(replacement)?.to_string()));
            }
        }
        _ => {
            return Err(wrong_type(
                value,
                "an array of labels or a table label = replacement",
            ))
        }
    }
    Ok(())
}

/// `floating-vm-map = { "ubuntu-latest" = "ubuntu-24.04" }` for every provider, or per
/// provider under `azure-pipelines` / `github-actions` sub-tables.
fn floating_vm_map(value: &Spanned<DeValue<'_>>, vm: &mut VmSettings) -> Parsed<()> {
    for (key, value) in in_file_order(table(value)?) {
        match value.get_ref() {
            DeValue::String(target) => vm.map_floating(None, key.get_ref(), target),
            DeValue::Table(labels) => {
                let provider = match key.get_ref().as_ref() {
                    "azure-pipelines" => Provider::AzurePipelines,
                    "github-actions" => Provider::GithubActions,
                    other => {
                        return Err(unknown_key(
                            key.span(),
                            other,
                            &["azure-pipelines", "github-actions"],
                            "floating-vm-map",
                        ))
                    }
                };
                for (label, target) in in_file_order(labels) {
                    vm.map_floating(Some(provider), label.get_ref(), string(target)?);
                }
            }
            _ => return Err(wrong_type(value, "a label string or a provider table")),
        }
    }
    Ok(())
}

/// A catalog given as an `https://` (or `http://`) URL, kept as written.
fn is_url(location: &str) -> bool {
    let lower = location.get(..8).unwrap_or(location).to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

fn anchored(base: Option<&Path>, path: &str) -> PathBuf {
    let path = PathBuf::from(path);
    match base {
        Some(base) if path.is_relative() => base.join(path),
        _ => path,
    }
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{}", path.display()),
            None => f.write_str("(defaults)"),
        }
    }
}

// ---- I/O: discovery and loading (the documented exception, shared with the editor) ----

/// The `pin-lint.toml` that governs `path` (a file or a folder): the first one found in the
/// path's folder or any folder above it. The search stops after a folder that contains `.git`
/// (the repository root), so a stray file above a checkout is never picked up. Reads the
/// file system.
pub fn find(path: &Path) -> Option<PathBuf> {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let start = if path.is_dir() {
        path.as_path()
    } else {
        path.parent()?
    };
    start.ancestors().find_map(settles).flatten()
}

/// What [`find`] decides in the folder `dir` (absolute): `Some(Some(file))` when the folder
/// has its own file, `Some(None)` when it is a repository root without one (the search stops),
/// `None` when the answer is its parent's. Callers that remember folders use it to stop at
/// the first folder they know. Reads the file system.
pub fn settles(dir: &Path) -> Option<Option<PathBuf>> {
    let candidate = dir.join(FILE_NAME);
    if candidate.is_file() {
        return Some(Some(candidate));
    }
    dir.join(".git").exists().then_some(None)
}

/// Read and validate the configuration file `file`. Reads the file system.
pub fn load(file: &Path) -> Result<Config, ConfigError> {
    let file = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    let text = std::fs::read_to_string(&file).map_err(|source| ConfigError::Io {
        path: file.clone(),
        source,
    })?;
    Config::parse(&text, Some(&file))
}

/// The configuration for `path`: [`find`] then [`load`], or the defaults when no file governs
/// it. The CLI and the language server both call this, so a file is judged by the same
/// settings in the terminal, in CI and in the editor.
pub fn load_for(path: &Path) -> Result<Config, ConfigError> {
    match find(path) {
        Some(file) => load(&file),
        None => Ok(Config::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(text: &str) -> (u32, u32, String) {
        match Config::parse(text, Some(Path::new("/repo/pin-lint.toml"))) {
            Err(ConfigError::Invalid {
                line,
                column,
                message,
                suggestion,
                ..
            }) => (line, column, format!("{message}{}", hint(&suggestion))),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn typo_is_placed_and_suggested() {
        let (line, column, message) = invalid("online = true\ninlcude = [\"a\"]\n");
        assert_eq!((line, column), (2, 1));
        assert_eq!(message, "unknown key `inlcude`, did you mean `include`?");
        let (line, _, message) = invalid("[rules]\nunpinned-image = \"warn\"\n");
        assert_eq!(line, 2);
        assert_eq!(message, "invalid severity `warn`, did you mean `warning`?");
        let (_, _, message) = invalid("[rules]\nunpined-image = \"off\"\n");
        assert_eq!(
            message,
            "unknown rule `unpined-image`, did you mean `unpinned-image`?"
        );
        let (line, _, message) = invalid("[[policy]]\nmatch = \"a/**\"\nallow-tag = true\n");
        assert_eq!(line, 3);
        assert!(message.contains("did you mean `allow-tags`?"), "{message}");
        let (_, _, message) = invalid("[cache]\nttl = \"3 weeks\"\n");
        assert!(message.starts_with("invalid duration"), "{message}");
        let (_, _, message) = invalid("insecure-registries = [\"http://127.0.0.1:5000\"]\n");
        assert!(message.contains("without `http://`"), "{message}");
        let (line, _, message) = invalid("online = \"yes\"\n");
        assert_eq!(
            (line, message.as_str()),
            (1, "expected `true` or `false`, found string")
        );
        let (line, _, message) = invalid("online = true\nx = [1,\n");
        assert_eq!(line, 2, "{message}");
    }

    #[test]
    fn relative_paths_are_anchored_in_the_file_folder() {
        let config = Config::parse(
            "catalogs = [\"c.tsv\", \"/abs/d.tsv\"]\n[cache]\ndir = \".cache\"\nttl = \"2h\"\n",
            Some(Path::new("/repo/sub/pin-lint.toml")),
        )
        .expect("valid");
        assert_eq!(
            config.registry.catalogs,
            [
                PathBuf::from("/repo/sub/c.tsv"),
                PathBuf::from("/abs/d.tsv")
            ]
        );
        assert_eq!(
            config.registry.cache.dir,
            Some(PathBuf::from("/repo/sub/.cache"))
        );
        assert_eq!(config.registry.cache.ttl, Some(Duration::from_secs(7200)));
    }

    #[test]
    fn include_and_exclude_match_below_the_root() {
        let config = Config::parse(
            "include = [\"eng/**\"]\nexclude = [\"eng/vendor\", \"**/*.generated.yml\"]\n",
            Some(Path::new("/repo/pin-lint.toml")),
        )
        .expect("valid");
        assert!(config.is_included(Path::new("/repo/eng/pipelines/ci.yml")));
        assert!(!config.is_included(Path::new("/repo/eng/vendor/x/ci.yml")));
        assert!(!config.is_included(Path::new("/repo/eng/a.generated.yml")));
        assert!(!config.is_included(Path::new("/repo/.github/workflows/ci.yml")));
        assert!(Config::default().is_included(Path::new("anything.yml")));
    }

    #[test]
    fn files_give_types_by_relative_path_or_name() {
        let config = Config::parse(
            "[files]\ncompose = [\"deploy/*.svc.yml\"]\ndevcontainer = [\"*.dock.json\"]\n\
             kubernetes = [\"manifests/**\"]\ndockerfile = [\"build.docker\"]\n",
            Some(Path::new("/repo/pin-lint.toml")),
        )
        .expect("valid");
        let of = |p: &str| config.file_type(Path::new(p));
        assert_eq!(of("/repo/deploy/web.svc.yml"), Some(Dialect::Compose));
        // `*` does not cross folders; a name alone matches only a pattern without a folder.
        assert_eq!(of("/repo/deploy/x/web.svc.yml"), None);
        assert_eq!(of("/repo/a/b/tools.dock.json"), Some(Dialect::Devcontainer));
        assert_eq!(of("/repo/manifests/a/b.txt"), Some(Dialect::Kubernetes));
        assert_eq!(of("/repo/sub/build.docker"), Some(Dialect::Dockerfile));
        assert_eq!(of("/repo/ci.yml"), None);
        assert_eq!(
            Config::default().file_type(Path::new("/repo/x.dock.json")),
            None
        );

        let (line, column, message) =
            invalid("[files]\ncompose = [\"a\"]\ndockerfiles = [\"b\"]\n");
        assert_eq!((line, column), (3, 1));
        assert_eq!(
            message,
            "unknown key `dockerfiles` in `[files]`, did you mean `dockerfile`?"
        );
        let (line, _, message) = invalid("[files]\ncompose = [\"a/[b\"]\n");
        assert_eq!(line, 2);
        assert!(message.starts_with("invalid glob `a/[b`"), "{message}");
        let (_, _, message) = invalid("[files]\ncompose = \"x.yml\"\n");
        assert_eq!(message, "expected an array, found string");
        let (_, _, message) = invalid("files = [\"x\"]\n");
        assert_eq!(message, "expected a table, found array");
    }

    #[test]
    fn contradicting_tag_keys_are_refused() {
        let (line, _, message) =
            invalid("[[policy]]\nmatch = \"a/**\"\nrequire-digest = true\nallow-tags = true\n");
        assert_eq!(line, 4);
        assert!(message.contains("contradict"), "{message}");
    }
}
