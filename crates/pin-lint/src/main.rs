//! `pin-lint`: the command-line front end. Gathers inputs, runs the analyzer, renders, and
//! maps the outcome to the exit codes of the contract (0 clean, 1 error findings, 2 usage /
//! config / I/O error, 3 an online check could not complete).

mod args;
mod commands;
mod fix;
mod gate;
mod render;
mod resolve;
mod templates;
mod walk;

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::Parser;
use rayon::prelude::*;

use args::{Cli, Command};
use pin_core::Analysis;
use render::FileReport;

/// mimalloc instead of the system allocator: the analysis makes many small, short-lived
/// allocations (YAML nodes, template values), where glibc's `malloc`/`free` took a quarter
/// of `check`'s instructions (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes of the contract.
pub mod exit {
    pub const CLEAN: u8 = 0;
    pub const FINDINGS: u8 = 1;
    pub const USAGE: u8 = 2;
    /// A requested online check or fix could not complete (a registry lookup failed).
    pub const INCOMPLETE: u8 = 3;
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
            if err.downcast_ref::<resolve::Incomplete>().is_some() {
                ExitCode::from(exit::INCOMPLETE)
            } else {
                ExitCode::from(exit::USAGE)
            }
        }
    }
}

fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        None => commands::check::run(&cli.check),
        Some(Command::Check(args)) => commands::check::run(&args),
        Some(Command::Refs(args)) => commands::refs::run(&args),
        Some(Command::Rules { markdown }) => {
            print_out(&if markdown {
                commands::rules::rules_markdown()
            } else {
                commands::rules::rules_table()
            })?;
            Ok(exit::CLEAN)
        }
        Some(Command::Explain { rule }) => commands::rules::explain(&rule),
    }
}

/// Read and analyze every input in parallel; output order follows the sorted inputs.
pub fn analyze(
    inputs: &[walk::Input],
    findings: impl Fn(&Analysis) -> Vec<pin_core::Finding> + Sync,
) -> Result<Vec<FileReport>> {
    inputs
        .par_iter()
        .map(|input| {
            let bytes = walk::read(&input.path)
                .with_context(|| format!("cannot read `{}`", input.display))?;
            let analysis = Analysis::from_bytes_as(&input.display, bytes, input.file_type);
            let findings = findings(&analysis);
            Ok(FileReport {
                path: input.display.clone(),
                analysis,
                findings,
            })
        })
        .collect()
}

/// Write to stdout; a closed pipe (`| head`) is not an error. Text with terminal escapes
/// (the human format's colours) goes through `anstream`, which strips them when stdout is
/// not a terminal or `NO_COLOR` is set; text without any is written as it is.
pub fn print_out(text: &str) -> Result<()> {
    let written = if text.as_bytes().contains(&0x1b) {
        let mut out = anstream::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|()| out.flush())
    } else {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|()| out.flush())
    };
    output_result(written)
}

/// Write `document` to stdout as pretty JSON and a newline, as it is serialized (nothing
/// is built in memory first); a closed pipe is not an error. JSON never holds a terminal
/// escape (serde_json escapes control characters), so it bypasses `anstream`, whose
/// stripping reads every byte of the output again.
pub fn print_json(document: &impl serde::Serialize) -> Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = serde_json::to_writer_pretty(&mut out, document)
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    output_result(written)
}

fn output_result(written: std::io::Result<()>) -> Result<()> {
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write output"),
    }
}
