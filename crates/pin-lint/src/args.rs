//! Command-line arguments (CONTRACT.md is the reference; keep them in step).

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
    Rules,
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
    /// Machine-readable JSON (CONTRACT.md shapes).
    Json,
}

/// Options of `check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// Files or folders to check.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Only these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Skip these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
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
}
