//! `pin-lint`: the command-line front end. Gathers inputs, runs the analyzer, renders, and
//! maps the outcome to the exit codes of the contract (0 clean, 1 error findings, 2 usage /
//! config / I/O error, 3 an online check could not complete).

mod args;
mod render;
mod walk;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use clap::Parser;
use rayon::prelude::*;

use args::{CheckArgs, Cli, Command, Format, RefsArgs};
use pin_core::{Analysis, Facts, Rule, Settings, Severity};
use render::FileReport;

/// Exit codes of the contract.
mod exit {
    pub const CLEAN: u8 = 0;
    pub const FINDINGS: u8 = 1;
    pub const USAGE: u8 = 2;
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() {
                exit::USAGE
            } else {
                exit::CLEAN
            };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("pin-lint: error: {err:#}");
            ExitCode::from(exit::USAGE)
        }
    }
}

fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        None => check(&cli.check),
        Some(Command::Check(args)) => check(&args),
        Some(Command::Refs(args)) => refs(&args),
        Some(Command::Rules) => {
            print_out(&rules_table())?;
            Ok(exit::CLEAN)
        }
        Some(Command::Explain { rule }) => explain(&rule),
    }
}

fn check(args: &CheckArgs) -> Result<u8> {
    let settings = settings(args)?;
    let facts = Facts::none();
    let inputs = walk::collect(&args.paths)?;
    let reports = analyze(&inputs, |analysis| analysis.findings(&settings, &facts))?;
    let failed = reports
        .iter()
        .any(|r| r.findings.iter().any(|f| f.severity == Severity::Error));
    let rendered = match args.format {
        Format::Human => render::human::findings(&reports, std::io::stdout().is_terminal()),
        Format::Json => format!("{:#}\n", render::json::findings(&reports)),
    };
    print_out(&rendered)?;
    Ok(if failed { exit::FINDINGS } else { exit::CLEAN })
}

fn refs(args: &RefsArgs) -> Result<u8> {
    let inputs = walk::collect(&args.paths)?;
    let reports = analyze(&inputs, |_| Vec::new())?;
    let rendered = match args.format {
        Format::Human => render::human::references(&reports),
        Format::Json => format!("{:#}\n", render::json::references(&reports)),
    };
    print_out(&rendered)?;
    Ok(exit::CLEAN)
}

/// Read and analyze every input in parallel; output order follows the sorted inputs.
fn analyze(
    inputs: &[walk::Input],
    findings: impl Fn(&Analysis) -> Vec<pin_core::Finding> + Sync,
) -> Result<Vec<FileReport>> {
    inputs
        .par_iter()
        .map(|input| {
            let bytes = std::fs::read(&input.path)
                .with_context(|| format!("cannot read `{}`", input.display))?;
            let analysis = Analysis::from_bytes(&input.display, bytes);
            let findings = findings(&analysis);
            Ok(FileReport {
                path: input.display.clone(),
                analysis,
                findings,
            })
        })
        .collect()
}

fn settings(args: &CheckArgs) -> Result<Settings> {
    Ok(Settings {
        select: rule_list(&args.select)?,
        ignore: rule_list(&args.ignore)?,
        ..Settings::default()
    })
}

fn rule_list(ids: &[String]) -> Result<Vec<Rule>> {
    ids.iter()
        .filter(|id| !id.trim().is_empty())
        .map(|id| {
            let id = id.trim();
            Rule::from_id(id).ok_or_else(|| match Rule::suggest(id) {
                Some(s) => anyhow::anyhow!(
                    "unknown rule `{id}` (did you mean `{s}`?); `pin-lint rules` lists them"
                ),
                None => anyhow::anyhow!("unknown rule `{id}`; `pin-lint rules` lists them"),
            })
        })
        .collect()
}

fn rules_table() -> String {
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

fn explain(id: &str) -> Result<u8> {
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

/// Write to stdout; a closed pipe (`| head`) is not an error.
fn print_out(text: &str) -> Result<()> {
    let mut out = anstream::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write output"),
    }
}
