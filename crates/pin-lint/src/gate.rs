//! The CI-gate side of `check`: which `pin-lint.toml` governs each file and the settings that
//! follow from it and the flags (flags win), which files are checked (`include`/`exclude`,
//! `--changed-since`), and which output format applies when none is given.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context as _, Result};
use pin_core::config::{self, Config};
use pin_core::dialect::Dialect;
use pin_core::engine::holds;
use pin_core::settings::Date;
use pin_core::Settings;

use crate::args::{CheckArgs, CheckFormat};
use crate::commands::check::rule_list;
use crate::render::FileReport;
use crate::walk::Input;

/// The configurations in play for one run, and the settings each one gives with the flags.
///
/// For the resolution phase: [`Configs::primary`] is the configuration of the first path on
/// the command line (or `--config FILE`); its `registry` field holds `online`, `catalogs`,
/// `insecure-registries`, `[mirror]` and `[cache]`, to be overridden by the registry flags.
pub struct Configs {
    configs: Vec<(Config, Settings)>,
    explicit: bool,
    by_dir: HashMap<PathBuf, usize>,
    flags: Flags,
}

/// The flags that override settings from the file: `--select` / `--ignore` replace the
/// file's `select` and `ignore` together; `--report-unused-ignores` turns the report on.
struct Flags {
    select: Vec<pin_core::Rule>,
    ignore: Vec<pin_core::Rule>,
    report_unused_ignores: bool,
    today: Option<Date>,
}

impl Configs {
    /// Load `--config FILE`, or the configuration governing the first path. Errors (exit 2)
    /// name the file, line and column.
    pub fn load(args: &CheckArgs) -> Result<Configs> {
        let flags = Flags {
            select: rule_list(&args.select)?,
            ignore: rule_list(&args.ignore)?,
            report_unused_ignores: args.report_unused_ignores,
            today: Some(today()?),
        };
        Configs::with_flags(args.config.as_deref(), &args.paths, flags)
    }

    /// The configurations governing `paths`, without flags (`refs` takes only `[files]`
    /// from them).
    pub fn discover(paths: &[PathBuf]) -> Result<Configs> {
        let flags = Flags {
            select: Vec::new(),
            ignore: Vec::new(),
            report_unused_ignores: false,
            today: None,
        };
        Configs::with_flags(None, paths, flags)
    }

    fn with_flags(config: Option<&Path>, paths: &[PathBuf], flags: Flags) -> Result<Configs> {
        let mut configs = Configs {
            configs: Vec::new(),
            explicit: config.is_some(),
            by_dir: HashMap::new(),
            flags,
        };
        match config {
            Some(file) => {
                let config = config::load(file)?;
                configs.push(config);
            }
            None => {
                let first = paths.first().map_or(Path::new("."), PathBuf::as_path);
                configs.index_for(first)?;
            }
        }
        Ok(configs)
    }

    /// The configuration of the first path (or the explicit one).
    pub fn primary(&self) -> &Config {
        &self.configs[0].0
    }

    /// The settings of the first path (or the explicit configuration), flags applied.
    pub fn primary_settings(&self) -> &Settings {
        &self.configs[0].1
    }

    /// The configuration and settings at `index` (an [`Input::config`]).
    pub fn at(&self, index: usize) -> (&Config, &Settings) {
        let (config, settings) = &self.configs[index];
        (config, settings)
    }

    /// Whether `--config FILE` governs every file.
    pub fn is_explicit(&self) -> bool {
        self.explicit
    }

    /// The configuration governing a file named on the command line, and the type `[files]`
    /// gives it.
    pub fn for_named_file(&mut self, file: &Path) -> Result<(usize, Option<Dialect>)> {
        let absolute = std::path::absolute(file)
            .with_context(|| format!("cannot resolve `{}`", file.display()))?;
        let i = match absolute.parent() {
            Some(dir) if !self.explicit => self.index_for_dir(dir.to_path_buf())?,
            _ => self.index_for(&absolute)?,
        };
        Ok((i, self.configs[i].0.file_type(&absolute)))
    }

    /// The configuration governing the folder `dir` (absolute), searching upwards.
    pub fn for_dir(&mut self, dir: &Path) -> Result<usize> {
        if self.explicit {
            return Ok(0);
        }
        self.index_for_dir(dir.to_path_buf())
    }

    /// The configuration a folder settles on (what [`config::settles`] found in it: its own
    /// file, or `None` for a repository root without one).
    pub fn settled(&mut self, found: Option<PathBuf>) -> Result<usize> {
        if self.explicit {
            return Ok(0);
        }
        self.index_of(found)
    }

    fn index_for(&mut self, path: &Path) -> Result<usize> {
        if self.explicit {
            return Ok(0);
        }
        let absolute = std::path::absolute(path)
            .with_context(|| format!("cannot resolve `{}`", path.display()))?;
        let dir = if absolute.is_dir() {
            absolute
        } else {
            absolute
                .parent()
                .map_or_else(|| absolute.clone(), Path::to_path_buf)
        };
        self.index_for_dir(dir)
    }

    /// [`Configs::index_for`] a folder (absolute).
    fn index_for_dir(&mut self, dir: PathBuf) -> Result<usize> {
        if let Some(&i) = self.by_dir.get(&dir) {
            return Ok(i);
        }
        // Up from `dir` to the first folder that is known or settles the question (as
        // `config::find` does), remembering every folder passed: sibling and nested folders
        // then cost one look-up instead of a search to the root each.
        let mut passed = Vec::new();
        let mut current = Some(dir.as_path());
        let found = loop {
            let Some(folder) = current else { break None };
            if let Some(&i) = self.by_dir.get(folder) {
                for d in passed {
                    self.by_dir.insert(d, i);
                }
                return Ok(i);
            }
            passed.push(folder.to_path_buf());
            if let Some(found) = config::settles(folder) {
                break found;
            }
            current = folder.parent();
        };
        let i = self.index_of(found)?;
        for d in passed {
            self.by_dir.insert(d, i);
        }
        Ok(i)
    }

    /// The entry for the configuration file `found` (the defaults for `None`), loaded on first
    /// use. Folders without a configuration share one default entry: building the defaults
    /// (the VM image tables) per folder cost more than reading a small file.
    fn index_of(&mut self, found: Option<PathBuf>) -> Result<usize> {
        let existing = self.configs.iter().position(|(c, _)| c.path == found);
        Ok(match (existing, found) {
            (Some(i), _) => i,
            (None, Some(file)) => self.push(config::load(&file)?),
            (None, None) => self.push(Config::default()),
        })
    }

    fn push(&mut self, config: Config) -> usize {
        let settings = self.flags.apply(config.settings());
        self.configs.push((config, settings));
        self.configs.len() - 1
    }
}

impl Flags {
    fn apply(&self, mut settings: Settings) -> Settings {
        // The rule selection is taken whole from the command line when it says anything.
        if !self.select.is_empty() || !self.ignore.is_empty() {
            settings.select = self.select.clone();
            settings.ignore = self.ignore.clone();
        }
        settings.report_unused_ignores |= self.report_unused_ignores;
        settings.today = self.today;
        settings
    }
}

/// The environment variable that sets today's date for `expired-hold` (`YYYY-MM-DD`), for
/// tests and reproducible runs.
pub const TODAY_VAR: &str = "PIN_LINT_TODAY";

/// Today's date: [`TODAY_VAR`] when set, else the system clock in UTC.
pub fn today() -> Result<Date> {
    if let Some(value) = std::env::var_os(TODAY_VAR) {
        let text = value.to_string_lossy();
        return Date::parse(text.trim())
            .with_context(|| format!("{TODAY_VAR} must be a date `YYYY-MM-DD`, not `{text}`"));
    }
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Ok(Date::from_unix_days(
        i64::try_from(seconds / 86_400).unwrap_or(0),
    ))
}

impl Configs {
    /// The findings about the `[[hold]]` entries of every configuration in play
    /// (`expired-hold`, `unused-hold`), one report per configuration file that has any, placed
    /// in that file. `files[i]` is the analysis (and template-layer extras) of `inputs[i]`.
    /// Whether a hold is unused is judged only when the run saw every file the configuration
    /// governs: no `--changed-since`, and a path on the command line is the configuration's
    /// folder or a folder above it.
    pub fn hold_reports(
        &mut self,
        args: &CheckArgs,
        inputs: &[Input],
        ws: &pin_core::engine::Workspace,
    ) -> Result<Vec<FileReport>> {
        let mut used: Vec<Vec<bool>> = self
            .configs
            .iter()
            .map(|(c, _)| vec![false; c.holds.len()])
            .collect();
        if self.configs.iter().all(|(c, _)| c.holds.is_empty()) {
            return Ok(Vec::new());
        }
        for (i, input) in inputs.iter().enumerate() {
            let c = input.config;
            if self.configs[c].0.holds.is_empty() {
                continue;
            }
            let images = holds::images(&ws.files[i].analysis, ws.extras(i));
            holds::mark_used(&self.configs[c].0.holds, &images, &mut used[c]);
        }
        let roots: Vec<PathBuf> = args
            .paths
            .iter()
            .filter(|p| p.is_dir())
            .filter_map(|p| std::path::absolute(p).ok())
            .collect();
        let cwd = std::env::current_dir().unwrap_or_default();
        let mut out = Vec::new();
        for ((config, settings), used) in self.configs.iter().zip(&used) {
            let whole = args.changed_since.is_none()
                && config
                    .root()
                    .is_some_and(|root| roots.iter().any(|r| root.starts_with(r)));
            let findings = holds::findings(config, settings, whole.then_some(used.as_slice()));
            let Some(path) = config.path.as_ref().filter(|_| !findings.is_empty()) else {
                continue;
            };
            let shown = path.strip_prefix(&cwd).unwrap_or(path);
            out.push(FileReport {
                path: shown.to_string_lossy().replace('\\', "/"),
                analysis: holds::config_analysis(config),
                findings,
            });
        }
        Ok(out)
    }
}

/// Keep the inputs their configuration includes (`include` / `exclude`) and, with
/// `--changed-since`, those git reports as changed. A file named explicitly on the command
/// line is subject to `include` / `exclude` too (so that pre-commit's file lists honour
/// them); a note on stderr says when one is skipped.
pub fn select_inputs(
    args: &CheckArgs,
    configs: &mut Configs,
    inputs: Vec<Input>,
) -> Result<Vec<Input>> {
    let changed = match &args.changed_since {
        Some(rev) => Some(changed_files(rev, &args.paths)?),
        None => None,
    };
    let explicit: BTreeSet<PathBuf> = args
        .paths
        .iter()
        .filter(|p| p.is_file())
        .filter_map(|p| std::path::absolute(p).ok())
        .collect();
    let mut out = Vec::with_capacity(inputs.len());
    for input in inputs {
        let absolute = std::path::absolute(&input.path)
            .with_context(|| format!("cannot resolve `{}`", input.display))?;
        let (config, _) = configs.at(input.config);
        if !config.is_included(&absolute) {
            if explicit.contains(&absolute) {
                eprintln!(
                    "pin-lint: note: `{}` is excluded by {}",
                    input.display, config
                );
            }
            continue;
        }
        if let Some(changed) = &changed {
            let canonical = absolute.canonicalize().unwrap_or(absolute);
            if !changed.all && !changed.files.contains(&canonical) {
                continue;
            }
        }
        out.push(input);
    }
    Ok(out)
}

/// What git reports as changed.
struct Changed {
    /// Canonical paths of changed, added and untracked files.
    files: BTreeSet<PathBuf>,
    /// A `pin-lint.toml` changed: every file may be judged differently, so all are checked.
    all: bool,
}

/// Files changed since `rev` in the repositories holding `paths`: what `git diff REV...`
/// lists (changes on this branch since it left `rev`), uncommitted changes to tracked files,
/// and untracked files that are not ignored.
fn changed_files(rev: &str, paths: &[PathBuf]) -> Result<Changed> {
    let mut tops = BTreeSet::new();
    for path in paths {
        let dir = if path.is_dir() {
            path.clone()
        } else {
            path.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        };
        let top = git(&dir, &["rev-parse", "--show-toplevel"])?;
        tops.insert(PathBuf::from(top.trim()));
    }
    let mut changed = Changed {
        files: BTreeSet::new(),
        all: false,
    };
    for top in tops {
        let base = git(&top, &["merge-base", rev, "HEAD"])
            .with_context(|| format!("--changed-since: cannot find where HEAD left `{rev}`"))?;
        let lists = [
            git(
                &top,
                &["diff", "--name-only", "-z", "--no-renames", base.trim()],
            )?,
            git(&top, &["ls-files", "--others", "--exclude-standard", "-z"])?,
        ];
        for name in lists
            .iter()
            .flat_map(|l| l.split('\0'))
            .filter(|n| !n.is_empty())
        {
            let file = top.join(name);
            if file.file_name().is_some_and(|n| n == config::FILE_NAME) {
                changed.all = true;
            }
            changed.files.insert(file.canonicalize().unwrap_or(file));
        }
    }
    Ok(changed)
}

fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .context("--changed-since needs git on PATH")?;
    if !output.status.success() {
        bail!(
            "`git {}` failed in `{}`: {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    String::from_utf8(output.stdout).context("git printed a path that is not UTF-8")
}

/// The format to use: the flag, else the CI system's annotations when running in one
/// (`GITHUB_ACTIONS=true` → `github`, `TF_BUILD` set → `azure`), else `human`.
pub fn format(flag: Option<CheckFormat>) -> CheckFormat {
    if let Some(format) = flag {
        return format;
    }
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        CheckFormat::Github
    } else if std::env::var_os("TF_BUILD").is_some_and(|v| !v.is_empty()) {
        CheckFormat::Azure
    } else {
        CheckFormat::Human
    }
}
