//! `pin-lint check`: lint pipeline files and fail on error-severity findings.

use anyhow::Result;
use std::io::IsTerminal;

use pin_core::{Facts, Rule, Settings, Severity};

use crate::args::{CheckArgs, Format};
use crate::{analyze, exit, print_out, render, walk};

/// Run `check`.
pub fn run(args: &CheckArgs) -> Result<u8> {
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

fn settings(args: &CheckArgs) -> Result<Settings> {
    Ok(Settings {
        select: rule_list(&args.select)?,
        ignore: rule_list(&args.ignore)?,
        ..Settings::default()
    })
}

pub fn rule_list(ids: &[String]) -> Result<Vec<Rule>> {
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
