//! The cross-file step's input and output: read and analyse every file, run pin-core's Azure
//! Pipelines template layer (`pin_core::template`) over them and hand both to the engine
//! (`pin_core::engine::Workspace`), which folds the layer's references into the analyses;
//! and the `refs --expand` inventory's renderings.
//!
//! docs/templates.md describes what the layer does for users.

use std::fmt::Write as _;

use std::sync::Arc;

use anyhow::{Context as _, Result};
use pin_core::engine::{self, File, Workspace};
use pin_core::template::repo::{self, ReadFile, Repository};
use pin_core::template::{self, TemplateAnalysis, UnfollowedReason};
use pin_core::Analysis;
use rayon::prelude::*;
use serde::Serialize;

use crate::render::json::Seq;
use crate::render::FileReport;
use crate::walk::Input;

/// Every input's text, in input order: UTF-8 text shared (`Arc`) between the YAML trees,
/// which borrow it, and the analyses, which keep it (one copy of each file in memory, not
/// two); the bytes of a file that is not UTF-8.
pub type Texts = Vec<Result<Arc<str>, Vec<u8>>>;

/// Read every input, in parallel.
pub fn read(inputs: &[Input]) -> Result<Texts> {
    inputs
        .par_iter()
        .map(|input| {
            let bytes = crate::walk::read(&input.path)
                .with_context(|| format!("cannot read `{}`", input.display))?;
            Ok(String::from_utf8(bytes)
                .map(Arc::from)
                .map_err(|e| e.into_bytes()))
        })
        .collect()
}

/// Analyse every input (`texts`, from [`read`]) in parallel, then run the template layer over
/// them, with each file's YAML parsed once for both: the tree that gives a file its
/// references is read for the layer's model right away and dropped, so the trees of all the
/// files are never in memory at once (the layer parses a file again when an expansion needs
/// its tree, and keeps it only while it expands the roots of one run). The engine folds the
/// layer's references into the analyses. Output order follows the sorted inputs.
///
/// With `keep`, the layer's model of the files is returned too, with what each root's
/// expansion showed, so that `--fix` can analyse the fixed set again without reading the
/// unchanged files a second time nor expanding the roots that read none of the fixed ones.
pub fn analyze_and_expand<'t>(
    inputs: &'t [Input],
    texts: &'t [Result<Arc<str>, Vec<u8>>],
    keep: bool,
) -> (Workspace, Option<Repository<'t>>) {
    // Files that are not UTF-8 are analysed from their bytes (a syntax finding) and have no
    // tree; so are Bicep, Terraform and Helm template files, which are not YAML.
    let (read, files): (Vec<Option<ReadFile<'t>>>, Vec<File>) = inputs
        .par_iter()
        .zip(texts)
        .map(|(input, text)| {
            let path = input.display.as_str();
            let configured = input.file_type;
            let (analysis, yaml) = match text {
                Ok(text) => engine::analyse_text(path, text, configured),
                Err(bytes) => (
                    Analysis::from_bytes_as(path, bytes.clone(), configured),
                    None,
                ),
            };
            let read = ReadFile::new(
                repo::Input {
                    path,
                    text: text.as_deref().unwrap_or_default(),
                    known: Some((analysis.dialect, analysis.references.as_slice())),
                },
                yaml,
            );
            let file = File {
                path: input.display.clone(),
                analysis,
            };
            (read, file)
        })
        .unzip();
    let repository = Repository::from_read(read.into_iter().flatten());
    let options = template::Options {
        inventory: false,
        hovers: false,
    };
    // With `keep`, what each root's expansion showed is kept too, so that `--fix` expands
    // again only the roots that read a fixed file.
    let layer = if keep {
        template::analyze_repository_keeping(&repository, options)
    } else {
        template::analyze_repository(&repository, options)
    };
    // Dropped here unless kept, before the analyses take the layer's references.
    let model = keep.then_some(repository);
    (Workspace::with_layer(files, layer), model)
}

fn reason(r: UnfollowedReason) -> &'static str {
    match r {
        UnfollowedReason::External => "external",
        UnfollowedReason::Missing => "missing",
        UnfollowedReason::Unknown => "unknown-path",
    }
}

/// The layer with the per-entry-point inventory, for `refs --expand`: over a model that keeps
/// no YAML trees, as `check` runs it (each file read as soon as it is parsed).
pub fn inventory(reports: &[FileReport]) -> TemplateAnalysis {
    let read: Vec<Option<ReadFile<'_>>> = reports
        .par_iter()
        .map(|r| {
            let a = &r.analysis;
            let input = repo::Input {
                path: r.path.as_str(),
                text: a.source.text(),
                known: Some((a.dialect, a.references.as_slice())),
            };
            ReadFile::new(input, None)
        })
        .collect();
    template::analyze_repository(
        &Repository::from_read(read.into_iter().flatten()),
        template::Options {
            inventory: true,
            hovers: false,
        },
    )
}

/// The `"expanded"` and `"not_followed"` members of `refs --expand --format json`.
pub fn json(layer: &TemplateAnalysis) -> (impl Serialize + '_, impl Serialize + '_) {
    let expanded = Seq(|| {
        layer.entries.iter().map(|e| EntryJson {
            entry: &e.entry,
            jobs: Seq(|| {
                e.jobs.iter().map(|j| JobJson {
                    images: Seq(|| {
                        j.images.iter().map(|i| ImageJson {
                            alias: i.alias.as_deref(),
                            defined_at: PositionJson {
                                column: i.defined_at.column,
                                line: i.defined_at.line,
                                path: &i.defined_at.path,
                            },
                            image: &i.image,
                            via: &i.via,
                        })
                    }),
                    job: &j.job,
                })
            }),
        })
    });
    let not_followed = Seq(|| {
        layer.not_followed.iter().map(|n| NotFollowedJson {
            column: n.at.column,
            line: n.at.line,
            path: &n.at.path,
            reason: reason(n.reason),
            reference: &n.reference,
        })
    });
    (expanded, not_followed)
}

// The inventory's JSON shapes; fields in alphabetical order, the order of the output's keys.

#[derive(Serialize)]
struct EntryJson<'a, J> {
    entry: &'a str,
    jobs: J,
}

#[derive(Serialize)]
struct JobJson<'a, I> {
    images: I,
    job: &'a str,
}

#[derive(Serialize)]
struct ImageJson<'a> {
    alias: Option<&'a str>,
    defined_at: PositionJson<'a>,
    image: &'a str,
    via: &'a [String],
}

#[derive(Serialize)]
struct PositionJson<'a> {
    column: u32,
    line: u32,
    path: &'a str,
}

#[derive(Serialize)]
struct NotFollowedJson<'a> {
    column: u32,
    line: u32,
    path: &'a str,
    reason: &'a str,
    reference: &'a str,
}

/// The human section of `refs --expand`: per entry point, per job, the images it can run in.
pub fn human(layer: &TemplateAnalysis) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\nImages per job, after template expansion:");
    let mut shown = 0;
    for e in layer.entries.iter().filter(|e| !e.jobs.is_empty()) {
        shown += 1;
        let _ = writeln!(out, "\n{}", e.entry);
        for j in &e.jobs {
            let _ = writeln!(out, "  job {}", j.job);
            for i in &j.images {
                let alias = i
                    .alias
                    .as_ref()
                    .map(|a| format!(" (alias {a})"))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "    {}{alias}\n      defined at {}:{}:{}, via {}",
                    i.image,
                    i.defined_at.path,
                    i.defined_at.line,
                    i.defined_at.column,
                    i.via.join(" → ")
                );
            }
        }
    }
    let entries = layer.entries.len();
    let _ = writeln!(
        out,
        "\n{shown} of {entries} pipeline entry point{} run jobs in containers.",
        if entries == 1 { "" } else { "s" }
    );
    if !layer.not_followed.is_empty() {
        let _ = writeln!(out, "\nTemplates not followed:");
        for n in &layer.not_followed {
            let _ = writeln!(
                out,
                "  {} ({}), first at {}:{}:{}",
                n.reference,
                match n.reason {
                    UnfollowedReason::External => "another repository",
                    UnfollowedReason::Missing => "not among the files read",
                    UnfollowedReason::Unknown => "path not known before the run",
                },
                n.at.path,
                n.at.line,
                n.at.column
            );
        }
    }
    for note in &layer.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}
