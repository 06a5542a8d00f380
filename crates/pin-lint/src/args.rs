//! Command-line arguments (the README documents them; keep the two in step).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Keep CI container and VM images pinned, current and reviewable.
#[derive(Debug, Parser)]
#[command(name = "pin-lint", version, about, long_about = None, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do; `check` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of the default `check` command.
    #[command(flatten)]
    pub check: CheckArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lint pipeline files (the default command).
    Check(CheckArgs),
    /// Inventory of every image reference found, pinned or not.
    Refs(RefsArgs),
    /// List the rules.
    Rules {
        /// Print the rule reference as Markdown (what docs/rules.md holds).
        #[arg(long)]
        markdown: bool,
    },
    /// Explain one rule.
    Explain {
        /// Rule id, e.g. `unpinned-image`.
        rule: String,
    },
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Rustc-style snippets for people.
    Human,
    /// Machine-readable JSON (shapes in the README).
    Json,
}

/// Output format of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Rustc-style snippets for people.
    Human,
    /// Machine-readable JSON (shapes in the README).
    Json,
    /// SARIF 2.1.0, for code scanning upload.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=…::`), shown as annotations.
    Github,
    /// Azure Pipelines logging commands (`##vso[task.logissue …]`).
    Azure,
}

/// Options of `check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Files or folders to check.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format [default: `github` when GITHUB_ACTIONS=true, `azure` when TF_BUILD is
    /// set, else `human`].
    #[arg(long, value_enum)]
    pub format: Option<CheckFormat>,
    /// Only these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Skip these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Use this configuration file instead of looking for `pin-lint.toml` from each path up.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Report `# pin-lint: ignore` comments that silenced nothing (rule `unused-suppression`).
    #[arg(long)]
    pub report_unused_ignores: bool,
    /// Only check files changed since the git revision REV (`git diff REV...`, uncommitted
    /// changes and untracked files included).
    #[arg(long, value_name = "REV")]
    pub changed_since: Option<String>,
    /// Exit 0 even when error findings are reported (report-only adoption); usage, config and
    /// I/O errors still exit 2.
    #[arg(long)]
    pub exit_zero: bool,
    /// Print the analyzer settings in effect for the first path (after `pin-lint.toml` and
    /// flags) and exit.
    #[arg(long)]
    pub show_settings: bool,
    /// Fix and resolution options (`--fix`, `--diff`, `--summary`, `--online`, `--catalog` …).
    #[command(flatten)]
    pub fix: FixArgs,
}

/// Options of `check` that concern resolving references and fixing files (docs/fix-and-bump.md).
#[derive(Debug, Clone, Default, Args)]
pub struct FixArgs {
    /// Apply every safe fix: pin unpinned references, bump stale digests. Resolves the
    /// references it needs (online unless `--offline`).
    #[arg(long)]
    pub fix: bool,
    /// With `--fix`: print a unified diff of what would change and write nothing.
    #[arg(long, requires = "fix")]
    pub diff: bool,
    /// With `--fix`: write a Markdown summary of the changed references (a bump PR body).
    #[arg(long, value_name = "FILE", requires = "fix")]
    pub summary: Option<PathBuf>,
    /// Resolve references against registries (the default with `--fix`).
    #[arg(long, conflicts_with = "offline")]
    pub online: bool,
    /// Never contact a registry; only catalogs answer (the default without `--fix`).
    #[arg(long)]
    pub offline: bool,
    /// Digest catalog consulted before any registry (TSV or dotnet image-info JSON), a file or
    /// an `https://` URL; repeatable.
    #[arg(long, value_name = "FILE")]
    pub catalog: Vec<PathBuf>,
    /// Allow plain HTTP to this registry (`HOST[:PORT]`); repeatable, never implied.
    #[arg(long, value_name = "HOST[:PORT]")]
    pub insecure_registry: Vec<String>,
    /// Pin a reference written without a tag as `repo:latest@sha256:…` (changes what is
    /// written; off by default, when such references are only reported).
    #[arg(long)]
    pub pin_untagged_as_latest: bool,
    /// Show a progress bar while resolving (only when stderr is a terminal).
    #[arg(long)]
    pub progress: bool,
}

/// Options of `refs`.
#[derive(Debug, Clone, Args)]
pub struct RefsArgs {
    /// Files or folders to read.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Also expand Azure Pipelines templates and list, per pipeline entry point, the images
    /// each job can run in (docs/templates.md).
    #[arg(long)]
    pub expand: bool,
}
