//! `pin-lint check`: lint pipeline files and fail on error-severity findings.

use anyhow::Result;
use std::io::IsTerminal;

use pin_core::{Facts, Rule, Severity};

use crate::args::{CheckArgs, CheckFormat};
use crate::{analyze, exit, gate, print_out, render, walk};

/// Run `check`.
pub fn run(args: &CheckArgs) -> Result<u8> {
    let mut configs = gate::Configs::load(args)?;
    if args.show_settings {
        print_out(&format!(
            "# configuration: {}\n{:#?}\n",
            configs.primary(),
            configs.primary_settings()
        ))?;
        return Ok(exit::CLEAN);
    }
    let inputs = gate::select_inputs(args, &mut configs, walk::collect(&args.paths)?)?;
    let facts = Facts::none();
    let mut reports = analyze(&inputs, |_| Vec::new())?;
    for (input, report) in inputs.iter().zip(reports.iter_mut()) {
        let (_, settings) = configs.for_file(&input.path)?;
        report.findings = report.analysis.findings(settings, &facts);
    }
    let failed = reports
        .iter()
        .any(|r| r.findings.iter().any(|f| f.severity == Severity::Error));
    let gate_fails = failed && !args.exit_zero;
    let rendered = match gate::format(args.format) {
        CheckFormat::Human => render::human::findings(&reports, std::io::stdout().is_terminal()),
        CheckFormat::Json => format!("{:#}\n", render::json::findings(&reports)),
        CheckFormat::Sarif => render::sarif::findings(&reports),
        CheckFormat::Github => render::github::findings(&reports),
        CheckFormat::Azure => render::azure::findings(&reports, gate_fails),
    };
    print_out(&rendered)?;
    Ok(if gate_fails {
        exit::FINDINGS
    } else {
        exit::CLEAN
    })
}

/// Rule ids from the command line, validated (an unknown id is a usage error with a
/// suggestion).
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
