//! `pin-lint check`: lint pipeline files and fail on error-severity findings.

use anyhow::Result;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Arc;

use pin_core::engine::{FileQueries, Plan, PlanOptions, Workspace};
use pin_core::{Facts, Finding, Rule, Settings, Severity};
use rayon::prelude::*;

use crate::args::{CheckArgs, CheckFormat};
use crate::render::FileReport;
use crate::{exit, fix, gate, print_json, print_out, render, resolve, templates, walk};

/// Run `check`.
pub fn run(args: &CheckArgs) -> Result<u8> {
    let mut configs = gate::Configs::load(args)?;
    if args.show_settings && args.format == Some(CheckFormat::Json) {
        // The machine-readable part: what scripts (the nightly job) read from the file.
        let primary = configs.primary();
        print_json(&serde_json::json!({
            "version": 1,
            "configuration": primary.path.as_ref().map(|p| p.display().to_string()),
            "bump": primary.bump,
        }))?;
        return Ok(exit::CLEAN);
    }
    if args.show_settings {
        print_out(&format!(
            "# configuration: {}\n{:#?}\n",
            configs.primary(),
            configs.primary_settings()
        ))?;
        return Ok(exit::CLEAN);
    }
    let walked = walk::collect(&args.paths, &mut configs)?;
    let inputs = gate::select_inputs(args, &mut configs, walked)?;
    let texts = templates::read(&inputs)?;
    // `--fix` analyses the fixed set again; the layer's model is kept for it.
    let (mut ws, model) = templates::analyze_and_expand(&inputs, &texts, args.fix.fix);
    // One copy of each configuration's settings, shared by the files it governs: a copy per
    // file (its VM image tables and all) took more memory than the files' texts.
    let mut by_config: HashMap<usize, Arc<Settings>> = HashMap::new();
    let settings: Vec<Arc<Settings>> = inputs
        .iter()
        .map(|input| {
            let shared = by_config.entry(input.config).or_insert_with(|| {
                let (_, settings) = configs.at(input.config);
                let mut settings = settings.clone();
                settings.pin_untagged_as_latest |= args.fix.pin_untagged_as_latest;
                Arc::new(settings)
            });
            shared.clone()
        })
        .collect();
    drop(by_config);
    let options = resolve::Options::new(&args.fix, &configs.primary().registry);
    let plan_options = PlanOptions {
        online: options.online,
        context: false,
    };
    let queries: Vec<FileQueries> = (0..ws.files.len())
        .into_par_iter()
        .map(|i| ws.queries(i, &settings[i], plan_options))
        .collect();
    let resolution = resolve::run(Plan::new(&queries, false), &options)?;
    for line in resolution.error_lines() {
        eprintln!("{line}");
    }
    let facts: Vec<Facts> = queries
        .par_iter()
        .map(|q| resolution.answers.facts_for(q))
        .collect();
    let mut findings = lint(&ws, &settings, &facts);
    let fixed = if args.fix.fix {
        let unresolved: Vec<Vec<String>> = queries
            .iter()
            .map(|q| q.unresolved(|k| resolution.answers.get(k)))
            .collect();
        let set = fix::Set {
            ws: &mut ws,
            model: model.as_ref(),
        };
        let run = fix::run(
            &inputs,
            set,
            &mut findings,
            &settings,
            &facts,
            &unresolved,
            args.fix.diff,
        );
        fix::report(&args.fix, &run)?;
        Some(run)
    } else {
        None
    };
    drop(model);
    drop(texts);
    let held = configs.hold_reports(args, &inputs, &ws)?;
    let reports: Vec<FileReport> = ws
        .files
        .into_iter()
        .zip(findings)
        .map(|(file, findings)| FileReport {
            path: file.path,
            analysis: file.analysis,
            findings,
        })
        .chain(held)
        .collect();
    let failed = reports
        .iter()
        .any(|r| r.findings.iter().any(|f| f.severity == Severity::Error));
    let gate_fails = failed && !args.exit_zero;
    let format = gate::format(args.format);
    match (&fixed, format) {
        (Some(run), _) if args.fix.diff => print_out(&run.diff)?,
        (_, CheckFormat::Human) => print_out(&render::human::findings(
            &reports,
            std::io::stdout().is_terminal(),
        ))?,
        (_, CheckFormat::Json) => {
            let summary = fixed
                .as_ref()
                .map(|run| fix::summary_json(run, &resolution, args.fix.diff));
            print_json(&render::json::findings(&reports, summary))?;
        }
        (_, CheckFormat::Sarif) => print_out(&render::sarif::findings(&reports))?,
        (_, CheckFormat::Github) => print_out(&render::github::findings(&reports))?,
        (_, CheckFormat::Azure) => print_out(&render::azure::findings(&reports, gate_fails))?,
    }
    Ok(if fixed.as_ref().is_some_and(fix::FixRun::failed) {
        exit::USAGE
    } else if resolution.incomplete() {
        exit::INCOMPLETE
    } else if gate_fails {
        exit::FINDINGS
    } else {
        exit::CLEAN
    })
}

/// Every file's findings (`pin_core::engine::Workspace::findings`), the same way for `check`
/// and after `--fix`; `settings[i]` and `facts[i]` are file `i`'s. Files are judged in
/// parallel.
pub fn lint(ws: &Workspace, settings: &[Arc<Settings>], facts: &[Facts]) -> Vec<Vec<Finding>> {
    (0..ws.files.len())
        .into_par_iter()
        .map(|i| ws.findings(i, &settings[i], &facts[i]))
        .collect()
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
