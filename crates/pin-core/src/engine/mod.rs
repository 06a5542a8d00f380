//! The engine under both front ends: a set of files in, findings and fixed texts out, with
//! the lookups they need spelled out as a plan in between.
//!
//! ```text
//! files (path + analysis) ─▶ Workspace::new (template layer, its references folded in)
//!   ─▶ Workspace::queries per file (FileQueries) ─▶ Plan (distinct lookups, who waits, which block a fix)
//!   ─▶ the front end answers the lookups (Answers: tag facts, digest existence, VM versions, failures)
//!   ─▶ facts_for per file ─▶ Workspace::findings per file ─▶ fix (apply, re-analyse, verify)
//! ```
//!
//! It lives in pin-core rather than in a crate of its own because it needs nothing but
//! pin-core's types (analyses, the template layer, facts, findings, edits) and keeps the same
//! contract: pure and synchronous, no I/O, no network, no async runtime. The front ends only
//! execute what it decides: `pin-lint` answers a [`Plan`] in one batch (catalogs, then
//! registries) and writes the fixed texts; `pin-lsp` answers each file's [`FileQueries`]
//! from its cache and in the background, and lints again when answers arrive. Both call the
//! same functions here, so the editor and CI cannot disagree on what to look up, what a
//! file's findings are, or how a fix is applied and checked.
//!
//! Per-file steps ([`file_queries`], [`findings`], [`fix::prepare`], [`fix::verify`]) take
//! one file and are independent of each other, so a front end may run them in parallel; only
//! the template layer ([`Workspace::new`], [`Workspace::with_texts`],
//! [`Workspace::with_texts_reusing`]) reads the whole set.

pub mod answer;
pub mod fix;
pub mod holds;
pub mod plan;

pub use answer::{facts_for, record, Answer, Answers, FactScope, LookupError};
pub use fix::{fix, fix_reusing, Change, FileFix, FixOutcome, FixRequest, Status, VmChange};
pub use holds::HeldBack;
pub use plan::{
    file_queries, Demand, FileQueries, Plan, PlanOptions, PlannedQuery, Purpose, Query, QueryKey,
};

use std::sync::Arc;

use rayon::prelude::*;

use crate::analyze::Analysis;
use crate::dialect::{self, Dialect};
use crate::facts::Facts;
use crate::finding::Finding;
use crate::settings::Settings;
use crate::template::repo::{self, Repository};
use crate::template::{self, FileExtras, TemplateAnalysis};
use crate::yaml;

/// One file of a run.
#[derive(Debug, Clone)]
pub struct File {
    /// Its path in the run (forward slashes; the template layer resolves `template:` paths
    /// against it, and messages name it so).
    pub path: String,
    /// Its analysis; inside a [`Workspace`], with the template layer's references folded in.
    pub analysis: Analysis,
}

/// `analysis` with the references only the template layer sees as images (a parameter that
/// becomes a job container in another file) added, so that the plan, the rules and fixes
/// treat them like the others.
pub fn with_layer(mut analysis: Analysis, extras: Option<&FileExtras>) -> Analysis {
    if let Some(extras) = extras {
        extras.extend_analysis(&mut analysis);
    }
    analysis
}

/// Analyse `text` as [`Analysis::new_as`] does, parsing its YAML once: when the template
/// layer reads the file (an Azure Pipelines file read as YAML), its tree (complete, or the
/// part before a syntax error) is returned too, for the layer to take instead of parsing the
/// text again.
pub fn analyse_text<'t>(
    path: &str,
    text: &'t Arc<str>,
    file_type: Option<Dialect>,
) -> (Analysis, Option<yaml::Yaml<'t>>) {
    if dialect::detect_text_as(path, text, file_type).is_some() {
        return (Analysis::new_as(path, text.clone(), file_type), None);
    }
    let parsed = yaml::parse_for_analysis(text);
    let analysis = Analysis::from_yaml_as(path, text.clone(), &parsed, file_type);
    let keep = analysis.dialect == Some(Dialect::AzurePipelines);
    let tree = keep.then(|| parsed.unwrap_or_else(|(_, partial)| partial));
    (analysis, tree)
}

/// `analysis` as the file alone gives it: without the references [`with_layer`] added.
pub fn without_layer(analysis: &Analysis, extras: Option<&FileExtras>) -> Analysis {
    let mut analysis = analysis.clone();
    if let Some(extras) = extras {
        analysis
            .references
            .retain(|r| !extras.references.iter().any(|x| x.span == r.span));
    }
    analysis
}

/// A file's findings with `settings` and `facts`: the per-file rules, then what the template
/// layer adds (template chains in messages, dynamic references explained with the images they
/// produce, pinned fragments kept current, the layer's own problems), then settings and
/// suppressions over all of them at once. `analysis` is the file's analysis with the layer's
/// references ([`with_layer`]).
pub fn findings(
    analysis: &Analysis,
    extras: Option<&FileExtras>,
    settings: &Settings,
    facts: &Facts,
) -> Vec<Finding> {
    match extras {
        Some(extras) => extras.findings(analysis, settings, facts),
        None => analysis.findings(settings, facts),
    }
}

/// A set of files with the template layer run over them.
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    /// The files, in the caller's order, each with the layer's references folded in.
    pub files: Vec<File>,
    /// What the template layer found.
    pub layer: TemplateAnalysis,
}

impl Workspace {
    /// Run the template layer over `files` (per-file analyses) and fold its references in.
    pub fn new(files: Vec<File>) -> Workspace {
        let layer = template::analyze_analyses(
            files.iter().map(|f| (f.path.as_str(), &f.analysis)),
            template::Options {
                inventory: false,
                hovers: false,
            },
        );
        Workspace::with_layer(files, layer)
    }

    /// `files` (per-file analyses) with the layer the caller has already run over them (the
    /// CLI runs it on the YAML trees it parsed anyway), its references folded in.
    pub fn with_layer(files: Vec<File>, layer: TemplateAnalysis) -> Workspace {
        let files = files
            .into_iter()
            .map(|f| File {
                analysis: with_layer(f.analysis, layer.file(&f.path)),
                path: f.path,
            })
            .collect();
        Workspace { files, layer }
    }

    /// What the layer adds to file `i`.
    pub fn extras(&self, i: usize) -> Option<&FileExtras> {
        self.layer.file(&self.files[i].path)
    }

    /// The lookups file `i` wants ([`file_queries`]).
    pub fn queries(&self, i: usize, settings: &Settings, options: PlanOptions) -> FileQueries {
        file_queries(&self.files[i].analysis, self.extras(i), settings, options)
    }

    /// File `i`'s findings ([`findings`]).
    pub fn findings(&self, i: usize, settings: &Settings, facts: &Facts) -> Vec<Finding> {
        findings(&self.files[i].analysis, self.extras(i), settings, facts)
    }

    /// The same files with `texts[i]`, where given, in place of file `i`'s text: those are
    /// analysed anew, the others keep their per-file analyses, and the layer runs again.
    pub fn with_texts<T: AsRef<str>>(&self, texts: &[Option<T>]) -> Workspace {
        let files = self
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| File {
                path: f.path.clone(),
                analysis: match texts.get(i).and_then(Option::as_ref) {
                    Some(text) => Analysis::new_as(&f.path, text.as_ref(), f.analysis.file_type),
                    None => without_layer(&f.analysis, self.extras(i)),
                },
            })
            .collect();
        Workspace::new(files)
    }

    /// [`Workspace::with_texts`] for a workspace whose layer the caller ran over `repo` (its
    /// model of the same files, kept for this): a file whose text is unchanged takes what
    /// reading it showed (and its YAML tree, when `repo` keeps trees) from `repo` instead of
    /// being parsed again, and each new text is parsed once for both its analysis and the
    /// layer. When the layer ran over `repo` with
    /// [`template::analyze_repository_keeping`], only the roots whose expansion can differ are
    /// expanded again ([`template::analyze_repository_after`]). The result is the same as
    /// [`Workspace::with_texts`]'s.
    pub fn with_texts_reusing<T: AsRef<str>>(
        &self,
        repo: &Repository<'_>,
        texts: &[Option<T>],
    ) -> Workspace {
        let new_texts: Vec<Option<Arc<str>>> = (0..self.files.len())
            .map(|i| {
                let text = texts.get(i).and_then(Option::as_ref)?;
                Some(Arc::from(text.as_ref()))
            })
            .collect();
        // Each new text's analysis, and what reading it for the layer's model shows (read as
        // soon as it is parsed, so that the trees of the new texts are not all kept at once).
        let (files, read): (Vec<File>, Vec<Option<repo::ReadFile<'_>>>) = self
            .files
            .par_iter()
            .zip(&new_texts)
            .enumerate()
            .map(|(i, (f, text))| {
                let Some(text) = text else {
                    let analysis = without_layer(&f.analysis, self.extras(i));
                    let file = File {
                        path: f.path.clone(),
                        analysis,
                    };
                    return (file, None);
                };
                let (analysis, tree) = analyse_text(&f.path, text, f.analysis.file_type);
                let input = repo::Input {
                    path: &f.path,
                    text,
                    known: Some((analysis.dialect, analysis.references.as_slice())),
                };
                let read = repo::ReadFile::new(input, tree);
                let file = File {
                    path: f.path.clone(),
                    analysis,
                };
                (file, read)
            })
            .unzip();
        let layer = {
            let inputs = files.iter().zip(read).map(|(f, read)| {
                let a = &f.analysis;
                let input = repo::Input {
                    path: f.path.as_str(),
                    text: a.source.text(),
                    known: Some((a.dialect, a.references.as_slice())),
                };
                (input, read)
            });
            let new_repo = Repository::build_reusing_read(repo, inputs);
            template::analyze_repository_after(
                repo,
                &new_repo,
                template::Options {
                    inventory: false,
                    hovers: false,
                },
            )
        };
        Workspace::with_layer(files, layer)
    }
}
