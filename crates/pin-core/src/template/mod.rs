//! Azure Pipelines template preprocessing: follow images through `template:` files,
//! parameters and expressions, the way the service's own preprocessor expands them.
//!
//! This is a cross-file layer on top of the per-file analyzer, which it leaves unchanged.
//! [`analyze`] takes every file's text (pure: the caller reads the files) and returns, per
//! file, what the per-file view cannot know:
//!
//! - references to images written where no image site is visible (a parameter that becomes a
//!   job container three templates down), reported at the literal;
//! - where a literal flows ("used as job container via a.yml → b.yml → c.yml");
//! - the concrete images a `dynamic` reference can produce (`format()` of fragments);
//! - problems: expressions that cannot be read, include cycles (`template-expression`),
//!   container aliases with no resource of that name anywhere (`unknown-container-alias`);
//!
//! and, per pipeline entry point, the images each job can run in ([`EntryImages`]).
//!
//! How: every entry point (a pipeline-shaped file no other file includes) is expanded with
//! its parameter defaults; every other file is also expanded on its own with each parameter
//! being its default or unknown, so that templates whose callers are missing are still read.
//! Conditions that cannot be decided keep every branch; values are sets of possibilities
//! capped at [`value::MAX_ALTS`].

pub mod eval;
pub mod expand;
pub mod expr;
pub mod repo;
pub mod value;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::Range;
use std::rc::Rc;

use rayon::prelude::*;

use crate::analyze::Analysis;
use crate::dialect::has_expression;
use crate::facts::Facts;
use crate::finding::Finding;
use crate::fix::{Applicability, Edit, Fix};
use crate::model::{Kind, Reference, Site};
use crate::reference::ImageRef;
use crate::rules::{short_digest, Rule};
use crate::settings::Settings;

pub use expand::UnfollowedReason;
pub use repo::Repository;
use value::{Alts, FileId, Loc, Object, Origin, Text, Value};

/// A position in a file, for people and JSON.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// File path as handed in.
    pub path: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column in characters.
    pub column: u32,
}

/// One image a job can run in (or use as a service / step target).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExpandedImage {
    /// The image as it reaches the job.
    pub image: String,
    /// Where it is written (for a built image: the expression that builds it).
    pub defined_at: Position,
    /// The include chain from the entry point to the file that uses it.
    pub via: Vec<String>,
    /// The container alias it was reached through, if any.
    pub alias: Option<String>,
}

/// The images of one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobImages {
    /// The job's name (`job:` / `deployment:`), or `path:line` of where it is written.
    pub job: String,
    /// Its images, sorted.
    pub images: Vec<ExpandedImage>,
}

/// The jobs of one pipeline entry point that run in containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryImages {
    /// The entry point's path.
    pub entry: String,
    /// Jobs with at least one image, in expansion order.
    pub jobs: Vec<JobImages>,
}

/// A template reference that was not followed, reported once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotFollowed {
    /// The reference (`v1/1ES.Official.PipelineTemplate.yml@1ESPipelineTemplates`).
    pub reference: String,
    /// Its first occurrence.
    pub at: Position,
    /// Why it was not followed.
    pub reason: UnfollowedReason,
}

/// A concrete image a dynamic reference can produce.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Concrete {
    /// The image text.
    pub image: String,
    /// Where the written parts it is built from are (`path:line:column`).
    pub parts: Vec<Position>,
    /// Where the expression that builds it is, when the reference is a fragment.
    pub built_at: Option<Position>,
}

/// What a `dynamic` reference expands to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamicImages {
    /// Span of the dynamic reference.
    pub span: Range<usize>,
    /// The reference is a fragment (a literal completed by an expression elsewhere) rather
    /// than the expression itself.
    pub fragment: bool,
    /// The images it can produce, sorted.
    pub images: Vec<Concrete>,
}

/// A literal that reaches a use site through templates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    /// Span of the literal.
    pub span: Range<usize>,
    /// "used as job container via a.yml → b.yml → c.yml".
    pub description: String,
}

/// An image that reaches a use site from somewhere else: a caller's argument, a parameter
/// default, a container resource named by an alias.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Incoming {
    /// The image as it reaches the use site.
    pub image: String,
    /// Where it is written (for an image built by an expression: that expression).
    pub defined_at: Option<Position>,
    /// The include chain from the file where it is written (or, when that file is not on
    /// the chain, from the expanded root) to the file of the use site.
    pub via: Vec<String>,
    /// The container alias that names it, when it is reached through one.
    pub alias: Option<String>,
}

/// A place in this file where a job container, step target or service takes a value that
/// is written elsewhere (`container: ${{ parameters.image }}`, an alias handed down by a
/// caller), with every image that can reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseSiteImages {
    /// Span of the value written at the use site.
    pub span: Range<usize>,
    /// What the value is used as (`job container`, `step target container`, …).
    pub used_as: &'static str,
    /// The images that reach it, sorted.
    pub images: Vec<Incoming>,
}

/// A place that names a container resource's alias.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AliasUseSite {
    /// Where the alias is written (`container: linux_x64`, `target: tools`, or the caller's
    /// argument that hands it to a template).
    pub at: Position,
    /// The job that uses it: its `job:` / `deployment:` name, or `path:line` of the job.
    pub job: String,
    /// What the alias is used as (`job container`, `step target container`, …).
    pub used_as: &'static str,
}

/// A container resource defined in this file (a `resources.containers` item or an entry of
/// a `containers:` alias map) and the places that use its alias in the pipelines that
/// define it or receive it as an argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceUses {
    /// The alias as written.
    pub alias: String,
    /// Span of the alias.
    pub span: Range<usize>,
    /// Spans of the definition's `image:` values written in this file.
    pub images: Vec<Range<usize>>,
    /// The places that use it, sorted.
    pub uses: Vec<AliasUseSite>,
}

/// A problem found by the template layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Rule id (`template-expression`, `unknown-container-alias`).
    pub rule: &'static str,
    /// Where.
    pub span: Range<usize>,
    /// Message.
    pub message: String,
    /// The reference text concerned (an alias), if any.
    pub reference: Option<String>,
}

/// What the template layer adds to one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileExtras {
    /// Image literals the per-file view does not see as images (sorted by span).
    pub references: Vec<Reference>,
    /// Where literals flow, by literal span.
    pub flows: Vec<Flow>,
    /// Expansions of the file's dynamic references.
    pub dynamic: Vec<DynamicImages>,
    /// Problems.
    pub problems: Vec<Problem>,
    /// Use sites of this file whose images are written elsewhere, by span.
    pub uses: Vec<UseSiteImages>,
    /// Container resources defined in this file and where their aliases are used, by span.
    pub resources: Vec<ResourceUses>,
}

/// The template layer's results for a set of files.
#[derive(Debug, Clone, Default)]
pub struct TemplateAnalysis {
    files: BTreeMap<String, FileExtras>,
    /// Per entry point, the images each job can run in.
    pub entries: Vec<EntryImages>,
    /// Template references not followed (external repositories, missing files, paths that
    /// are unknown expressions), one per distinct reference.
    pub not_followed: Vec<NotFollowed>,
    /// Limits that were hit (alternatives capped, expansion budget), for people.
    pub notes: Vec<String>,
}

impl TemplateAnalysis {
    /// What the layer adds to the file at `path` (empty when nothing).
    pub fn file(&self, path: &str) -> Option<&FileExtras> {
        self.files.get(path)
    }

    /// Every file with extras.
    pub fn files(&self) -> impl Iterator<Item = (&str, &FileExtras)> {
        self.files.iter().map(|(p, e)| (p.as_str(), e))
    }
}

/// Analyse `(path, text)` pairs (forward-slash paths; only Azure Pipelines YAML files take
/// part), with the per-entry-point inventory. Settings and facts are applied later, per
/// file, by [`FileExtras::findings`].
pub fn analyze<'t>(files: impl IntoIterator<Item = (&'t str, &'t str)>) -> TemplateAnalysis {
    analyze_repository(
        &Repository::new(files),
        Options {
            inventory: true,
            hovers: true,
        },
    )
}

/// Analyse files the caller has already analysed one by one (the CLI, the language server):
/// their dialect and references are reused. `(path, analysis)` pairs.
pub fn analyze_analyses<'t>(
    files: impl IntoIterator<Item = (&'t str, &'t Analysis)>,
    options: Options,
) -> TemplateAnalysis {
    let repo = Repository::build(files.into_iter().map(|(path, a)| repo::Input {
        path,
        text: a.source.text(),
        known: Some((a.dialect, a.references.as_slice())),
    }));
    analyze_repository(&repo, options)
}

/// What to compute.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Build [`TemplateAnalysis::entries`] (the per-job image inventory of `refs --expand`).
    /// Without it, entry points that declare parameters are only expanded with unknown
    /// callers, which covers every branch their defaults take, and `entries` stays empty.
    pub inventory: bool,
    /// Build the records only hovers show: [`FileExtras::uses`] (the images that reach each
    /// use site) and [`FileExtras::resources`] (the jobs that use each container resource).
    /// Without it both stay empty; nothing else the layer finds depends on them, so findings,
    /// fixes and the inventory are the same either way.
    pub hovers: bool,
}

/// How an image reaches a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UseSite {
    JobContainer,
    StepTarget,
    Service,
    /// A `container` argument of a template that was not followed.
    TemplateArgument,
}

impl UseSite {
    fn describe(self) -> &'static str {
        match self {
            UseSite::JobContainer => "job container",
            UseSite::StepTarget => "step target container",
            UseSite::Service => "service container",
            UseSite::TemplateArgument => "container argument of a template that is not followed",
        }
    }

    fn site(self) -> Site {
        match self {
            UseSite::JobContainer | UseSite::TemplateArgument => Site::JobContainer,
            UseSite::StepTarget => Site::StepTarget,
            UseSite::Service => Site::Service,
        }
    }
}

struct Use {
    value: Text,
    alias: Option<Text>,
    site: UseSite,
    chain: Rc<[FileId]>,
    job: usize,
    /// The key the value sits under at the use site (`container`, `target`, `image` …).
    at: Option<Loc>,
}

struct AliasUse {
    alias: Text,
    site: UseSite,
    chain: Rc<[FileId]>,
    job: usize,
    at: Option<Loc>,
}

/// A container resource met in one root's expansion: where its alias and images are written.
struct DefinitionSite {
    alias: Loc,
    images: Vec<Loc>,
}

/// Keys that make a mapping a step (so its `target:` is a step target wherever the step
/// list is passed, e.g. as a `postBuildSteps` template argument).
const STEP_KEYS: &[&str] = &[
    "script",
    "bash",
    "pwsh",
    "powershell",
    "task",
    "checkout",
    "download",
    "downloadBuild",
    "getPackage",
    "publish",
];

/// Use sites found in one root's expansion.
#[derive(Default)]
struct Scan {
    jobs: Vec<(String, Option<Loc>)>,
    job_index: HashMap<usize, usize>,
    uses: Vec<Use>,
    alias_uses: Vec<AliasUse>,
    definitions: HashMap<String, Vec<Text>>,
    /// Where each alias of `definitions` is written.
    definition_sites: HashMap<String, Vec<DefinitionSite>>,
}

impl Scan {
    fn walk(&mut self, alts: &Alts, key: Option<&str>, job: Option<usize>, chain: &Rc<[FileId]>) {
        for v in &alts.0 {
            match v {
                Value::Array(items) => {
                    for item in items.iter() {
                        self.walk(item, key, job, chain);
                    }
                }
                Value::Object(o) => self.object(o, key, job, chain),
                _ => {}
            }
        }
    }

    /// The job for a job mapping. Each expansion of a template builds its own mapping, so
    /// the mapping's identity (not its place in the file) tells job instances apart.
    fn job_for(&mut self, o: &Object, name: Option<String>) -> usize {
        let id = std::ptr::from_ref(o) as usize;
        if let Some(&i) = self.job_index.get(&id) {
            return i;
        }
        let loc = o.meta.as_ref().map(|m| m.loc.clone());
        self.jobs.push((name.unwrap_or_default(), loc));
        let i = self.jobs.len() - 1;
        self.job_index.insert(id, i);
        i
    }

    fn object(&mut self, o: &Object, key: Option<&str>, job: Option<usize>, chain: &Rc<[FileId]>) {
        let chain = o
            .meta
            .as_ref()
            .map_or_else(|| chain.clone(), |m| m.chain.clone());
        if o.meta.as_ref().is_some_and(|m| m.unfollowed) {
            let template = o
                .get("template")
                .and_then(|t| t.texts().next())
                .map(|t| t.s.to_string())
                .unwrap_or_default();
            let Some(params) = o.get("parameters") else {
                return;
            };
            // Name a job template instance by what tells instances apart.
            let detail = params.0.iter().find_map(|p| match p {
                Value::Object(po) => ["name", "jobName", "platform", "displayName"]
                    .iter()
                    .find_map(|k| po.get(k)?.texts().next())
                    .filter(|t| !t.s.is_empty())
                    .map(|t| t.s.to_string()),
                _ => None,
            });
            let name = match detail {
                Some(d) => format!("template {template} ({d})"),
                None => format!("template {template}"),
            };
            let job = match job {
                None if key == Some("jobs") => Some(self.job_for(o, Some(name.clone()))),
                other => other,
            };
            for p in &params.0 {
                let Value::Object(po) = p else { continue };
                for (k, v) in &po.fields {
                    match &*k.s {
                        "container" => {
                            let j = match job {
                                Some(j) => j,
                                None => self.job_for(o, Some(name.clone())),
                            };
                            self.container(v, UseSite::TemplateArgument, j, &chain, key_loc(k));
                        }
                        "containers" => self.definitions(v),
                        name => self.walk(v, Some(name), job, &chain),
                    }
                }
            }
            return;
        }
        let is_job = key == Some("jobs");
        // Only a `target:` asks whether this is a step: looking up every step key in every
        // mapping was most of the scan.
        let is_step = || key == Some("steps") || STEP_KEYS.iter().any(|k| o.get(k).is_some());
        let job = if is_job {
            let name = ["job", "deployment"].iter().find_map(|k| {
                o.get(k)
                    .and_then(|v| v.texts().next())
                    .map(|t| t.s.to_string())
            });
            Some(self.job_for(o, name))
        } else {
            job
        };
        for (k, v) in &o.fields {
            match (&*k.s, job) {
                ("container", Some(j)) if is_job => {
                    self.container(v, UseSite::JobContainer, j, &chain, key_loc(k));
                }
                ("services", Some(j)) if is_job => {
                    for s in &v.0 {
                        if let Value::Object(so) = s {
                            for (sk, sv) in &so.fields {
                                for t in sv.texts() {
                                    self.image_or_alias(
                                        t,
                                        UseSite::Service,
                                        j,
                                        &chain,
                                        key_loc(sk),
                                    );
                                }
                            }
                        }
                    }
                }
                ("target", _) if !is_job && is_step() => {
                    let j = match job {
                        Some(j) => j,
                        None => self.job_for(o, None),
                    };
                    for t in &v.0 {
                        match t {
                            Value::Str(t) if !t.s.eq_ignore_ascii_case("host") => {
                                self.image_or_alias(t, UseSite::StepTarget, j, &chain, key_loc(k));
                            }
                            Value::Object(to) => {
                                let fields = to
                                    .fields
                                    .iter()
                                    .filter(|(tk, _)| tk.s.eq_ignore_ascii_case("container"));
                                for (tk, tv) in fields {
                                    for c in tv.texts() {
                                        let at = key_loc(tk);
                                        self.image_or_alias(c, UseSite::StepTarget, j, &chain, at);
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
                ("containers", _) => self.definitions(v),
                (name, _) => self.walk(v, Some(name), job, &chain),
            }
        }
    }

    fn container(
        &mut self,
        alts: &Alts,
        site: UseSite,
        job: usize,
        chain: &Rc<[FileId]>,
        at: Option<Loc>,
    ) {
        for v in &alts.0 {
            match v {
                Value::Str(t) => self.image_or_alias(t, site, job, chain, at.clone()),
                Value::Object(o) => {
                    let has_registry = o.get("registry").is_some();
                    let images = o
                        .fields
                        .iter()
                        .filter(|(k, _)| k.s.eq_ignore_ascii_case("image"));
                    for (k, images) in images {
                        for t in images.texts() {
                            if has_registry && !t.s.contains('/') {
                                continue; // a fragment completed by a format() elsewhere
                            }
                            self.image(t, site, job, chain, key_loc(k));
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn image_or_alias(
        &mut self,
        t: &Text,
        site: UseSite,
        job: usize,
        chain: &Rc<[FileId]>,
        at: Option<Loc>,
    ) {
        let s = t.s.trim();
        if s.is_empty() || has_expression(s) {
            return;
        }
        if s.contains(['/', ':', '@']) {
            self.image(t, site, job, chain, at);
        } else {
            self.alias_uses.push(AliasUse {
                alias: t.clone(),
                site,
                chain: chain.clone(),
                job,
                at,
            });
        }
    }

    fn image(
        &mut self,
        t: &Text,
        site: UseSite,
        job: usize,
        chain: &Rc<[FileId]>,
        at: Option<Loc>,
    ) {
        if t.s.trim().is_empty() || has_expression(&t.s) {
            return;
        }
        // A built value that is no image reference comes from partial knowledge (an empty
        // default fed to `format()`), not from a pipeline that can run.
        if matches!(t.origin, Origin::Built(_)) && ImageRef::parse(t.s.trim()).is_err() {
            return;
        }
        self.uses.push(Use {
            value: t.clone(),
            alias: None,
            site,
            chain: chain.clone(),
            job,
            at,
        });
    }

    /// A resource met in the expansion: its images under its alias, and where it is written.
    fn define(&mut self, alias: &Text, images: &[Text]) {
        self.definitions
            .entry(alias.s.to_ascii_lowercase())
            .or_default()
            .extend(images.iter().cloned());
        let Origin::Literal(at) = &alias.origin else {
            return;
        };
        let sites = self
            .definition_sites
            .entry(alias.s.trim().to_ascii_lowercase())
            .or_default();
        if sites.iter().any(|d| d.alias == *at) {
            return;
        }
        sites.push(DefinitionSite {
            alias: at.clone(),
            images: images.iter().filter_map(key_loc).collect(),
        });
    }

    /// `resources.containers` lists and `containers:` alias maps, after expansion.
    fn definitions(&mut self, alts: &Alts) {
        for v in &alts.0 {
            match v {
                Value::Array(items) => {
                    for item in items.iter().flat_map(|i| i.0.iter()) {
                        let Value::Object(o) = item else { continue };
                        let images: Vec<Text> = o
                            .get("image")
                            .into_iter()
                            .flat_map(|a| a.texts().cloned())
                            .collect();
                        for alias in o.get("container").into_iter().flat_map(Alts::texts) {
                            self.define(alias, &images);
                        }
                    }
                }
                Value::Object(map) => {
                    for (alias, def) in &map.fields {
                        for d in &def.0 {
                            let Value::Object(o) = d else { continue };
                            let images: Vec<Text> = o
                                .get("image")
                                .into_iter()
                                .flat_map(|a| a.texts().cloned())
                                .collect();
                            self.define(alias, &images);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// Where a key was written, when it was.
fn key_loc(k: &Text) -> Option<Loc> {
    match &k.origin {
        Origin::Literal(l) => Some(l.clone()),
        _ => None,
    }
}

/// Analyse a repository model (see [`analyze`]).
pub fn analyze_repository(repo: &Repository<'_>, options: Options) -> TemplateAnalysis {
    let roots = roots(repo, options);
    // Roots are expanded in parallel, in runs of consecutive roots (neighbours in the file
    // order share templates, so each run's engine reuses its caches). The runs are fixed, not
    // derived from the number of threads, and their results are merged in root order, so the
    // outcome is the same on any number of cores and the same as one pass over every root.
    let runs: Vec<Collector<'_, '_>> = roots
        .par_chunks(ROOTS_PER_RUN)
        .map(|run| expand_roots(repo, run, options))
        .collect();
    assemble(repo, options, runs)
}

/// [`analyze_repository`], keeping in `repo` what each root's expansion showed and which
/// files it read, so that [`analyze_repository_after`] can analyse a later state of the same
/// files expanding only the roots that read a changed file. `--fix` runs its first pass so;
/// `check` does not, and keeps nothing.
pub fn analyze_repository_keeping(repo: &Repository<'_>, options: Options) -> TemplateAnalysis {
    let roots = roots(repo, options);
    let runs: Vec<Vec<RootResult>> = roots
        .par_chunks(ROOTS_PER_RUN)
        .map(|run| expand_roots_kept(repo, run, options))
        .collect();
    let results: Vec<RootResult> = runs.into_iter().flatten().collect();
    let analysis = assemble(
        repo,
        options,
        found_runs(repo, options, results.iter().map(|r| r.found.clone())),
    );
    // Set once: a model is analysed so once, by the pass that built it.
    let _ = repo.kept.set(Expansions {
        options,
        roots,
        results,
    });
    analysis
}

/// [`analyze_repository`] of `repo`, a later state of the files `old` modelled (the same
/// paths; some texts changed). When `old` was analysed with [`analyze_repository_keeping`],
/// only the roots whose expansion can differ are expanded again: those that read a changed
/// file or looked up a container alias whose definitions changed. The others' results are
/// taken as they were, and everything is merged in root order as [`analyze_repository`]
/// merges it, so the result is the same as its.
///
/// That holds because a root's result depends only on the trees of the files it read, the
/// aliases it looked up and, through its engine's caches, on the roots expanded before it in
/// its run of [`ROOTS_PER_RUN`]. Where every root of a run is independent of the roots before
/// it ([`expand::Engine::independent`]), its roots are taken or expanded again one by one
/// (those expanded again run together in new runs, and must be independent there too, or the
/// whole set is analysed again); a run with a root that is not is expanded again whole, as
/// it was, when any of its roots must be.
pub fn analyze_repository_after(
    old: &Repository<'_>,
    repo: &Repository<'_>,
    options: Options,
) -> TemplateAnalysis {
    let Some(kept) = old.kept.get() else {
        return analyze_repository(repo, options);
    };
    let roots = roots(repo, options);
    let same_files = old.files.len() == repo.files.len()
        && old
            .files
            .iter()
            .zip(&repo.files)
            .all(|(a, b)| a.path == b.path);
    if !same_files || kept.options != options || kept.roots != roots {
        return analyze_repository(repo, options);
    }
    let changed: Vec<bool> = old
        .files
        .iter()
        .zip(&repo.files)
        .map(|(a, b)| {
            !(std::ptr::eq(a.text, b.text) || a.text == b.text) || a.references != b.references
        })
        .collect();
    let dirty = |key: &String| {
        let (a, b) = (old.aliases.get(key), repo.aliases.get(key));
        a != b
            || a.into_iter()
                .chain(b)
                .flatten()
                .any(|d| changed[d.alias.file] || d.images.iter().any(|(_, l)| changed[l.file]))
    };
    let affected =
        |r: &RootResult| r.reads.iter().any(|&f| changed[f]) || r.aliases.iter().any(dirty);
    // Runs expanded again whole, and roots expanded again on their own.
    let mut jobs: Vec<(bool, Vec<usize>)> = Vec::new();
    let mut alone: Vec<usize> = Vec::new();
    for (r, run) in kept.results.chunks(ROOTS_PER_RUN).enumerate() {
        let first = r * ROOTS_PER_RUN;
        let redo: Vec<usize> = (first..first + run.len())
            .filter(|&i| affected(&kept.results[i]))
            .collect();
        if redo.is_empty() {
            continue;
        }
        if run.iter().all(|r| r.independent) {
            alone.extend(redo);
        } else {
            jobs.push((false, (first..first + run.len()).collect()));
        }
    }
    jobs.extend(
        alone
            .chunks(ROOTS_ALONE_PER_RUN)
            .map(|c| (true, c.to_vec())),
    );
    let expanded: Vec<Option<Vec<RootResult>>> = jobs
        .par_iter()
        .map(|(alone, ids)| {
            let run: Vec<(FileId, bool)> = ids.iter().map(|&i| roots[i]).collect();
            let results = expand_roots_kept(repo, &run, options);
            // A root expanded in another company than before must not depend on it.
            (!alone || results.iter().all(|r| r.independent)).then_some(results)
        })
        .collect();
    let mut new: Vec<Option<Found>> = vec![None; roots.len()];
    for ((_, ids), results) in jobs.iter().zip(expanded) {
        let Some(results) = results else {
            return analyze_repository(repo, options);
        };
        for (&i, r) in ids.iter().zip(results) {
            new[i] = Some(r.found);
        }
    }
    let founds = new
        .into_iter()
        .zip(&kept.results)
        .map(|(new, old)| new.unwrap_or_else(|| old.found.clone()));
    assemble(repo, options, found_runs(repo, options, founds))
}

/// The roots the layer expands, in order: each file id, and whether it is expanded on its own
/// with unknown callers.
fn roots(repo: &Repository<'_>, options: Options) -> Vec<(FileId, bool)> {
    let entries = repo.entries();
    // Entry points with their defaults (what runs), then every file on its own with unknown
    // callers (what can run): templates whose callers are missing, and entry points whose
    // parameters a run may override. Without the inventory, a parameterised entry point's
    // run with defaults adds nothing the run with unknown callers does not cover.
    let mut roots: Vec<(FileId, bool)> = Vec::new();
    for &e in &entries {
        if options.inventory || !repo.parameterised(e) {
            roots.push((e, false));
        }
    }
    let mut is_entry = vec![false; repo.files.len()];
    for &e in &entries {
        is_entry[e] = true;
    }
    for (id, &entry) in is_entry.iter().enumerate() {
        if repo.files[id].has_tree() && (!entry || repo.parameterised(id)) {
            roots.push((id, true));
        }
    }
    roots
}

/// The layer's result from what each run of roots showed (in root order), after the
/// repository's own problems.
fn assemble<'r, 't>(
    repo: &'r Repository<'t>,
    options: Options,
    runs: impl IntoIterator<Item = Collector<'r, 't>>,
) -> TemplateAnalysis {
    let mut out = Collector::new(repo, options.hovers);
    for p in &repo.problems {
        out.problem(&p.loc, p.rule, p.message.clone(), None);
    }
    for run in runs {
        out.merge(run);
    }
    out.finish()
}

/// Kept per-root results as collectors for [`assemble`].
fn found_runs<'r, 't>(
    repo: &'r Repository<'t>,
    options: Options,
    founds: impl Iterator<Item = Found>,
) -> impl Iterator<Item = Collector<'r, 't>> {
    founds.map(move |found| Collector::with_found(repo, options.hovers, found))
}

/// Roots expanded by one engine, one after the other.
const ROOTS_PER_RUN: usize = 16;

/// Roots expanded again on their own by one engine in [`analyze_repository_after`]: they are
/// independent of the roots before them, so longer runs change no result and share more of
/// the engine's caches (these roots go through the same changed templates).
const ROOTS_ALONE_PER_RUN: usize = 64;

/// What every root's expansion showed, kept by [`analyze_repository_keeping`].
pub(crate) struct Expansions {
    options: Options,
    roots: Vec<(FileId, bool)>,
    results: Vec<RootResult>,
}

impl std::fmt::Debug for Expansions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Expansions({} roots)", self.roots.len())
    }
}

/// What one root's expansion showed, and what it depended on.
struct RootResult {
    found: Found,
    /// The files whose trees it read, sorted.
    reads: Vec<FileId>,
    /// The aliases (lower case) it looked up in the repository-wide table, sorted.
    aliases: Vec<String>,
    /// Its result is the same whatever roots its engine expanded before it.
    independent: bool,
}

/// Expand `roots` in order with one engine and collect what they show.
fn expand_roots<'r, 't>(
    repo: &'r Repository<'t>,
    roots: &[(FileId, bool)],
    options: Options,
) -> Collector<'r, 't> {
    let mut out = Collector::new(repo, options.hovers);
    let mut engine = expand::Engine::new(repo);
    for &(id, standalone) in roots {
        expand_root(&mut engine, id, standalone, options, &mut out, None);
    }
    out
}

/// [`expand_roots`], with what each root showed apart.
fn expand_roots_kept(
    repo: &Repository<'_>,
    roots: &[(FileId, bool)],
    options: Options,
) -> Vec<RootResult> {
    let mut engine = expand::Engine::new(repo);
    roots
        .iter()
        .map(|&(id, standalone)| {
            let mut out = Collector::new(repo, options.hovers);
            let mut aliases = Vec::new();
            expand_root(
                &mut engine,
                id,
                standalone,
                options,
                &mut out,
                Some(&mut aliases),
            );
            let mut reads = engine.reads.clone();
            reads.sort_unstable();
            reads.dedup();
            aliases.sort_unstable();
            aliases.dedup();
            RootResult {
                found: out.into_found(),
                reads,
                aliases,
                independent: engine.independent(),
            }
        })
        .collect()
}

/// Expand root `id` with `engine` and collect what it shows in `out`; with `aliases`, note
/// there the aliases it looks up in the repository-wide table.
fn expand_root<'r, 't>(
    engine: &mut expand::Engine<'r, 't>,
    id: FileId,
    standalone: bool,
    options: Options,
    out: &mut Collector<'r, 't>,
    aliases: Option<&mut Vec<String>>,
) {
    let repo = out.repo;
    engine.reset();
    let Some(tree) = engine.expand_root(id, standalone) else {
        return;
    };
    let path = repo.files[id].path;
    if engine.capped.get() {
        out.found.notes.insert(format!(
            "{path}: some values had more than {} possibilities; the rest were not followed",
            value::MAX_ALTS
        ));
    }
    if engine.truncated {
        out.found.notes.insert(format!(
            "{path}: expansion stopped at its size limit ({} nodes or {} nested templates); images beyond it are not listed",
            expand::NODE_BUDGET,
            40
        ));
    }
    for c in &engine.cycles {
        let mut members = c.files.clone();
        members.sort_unstable();
        if out.found.cycles.contains_key(&members) {
            continue; // the same cycle, met from another root or another edge
        }
        let names: Vec<&str> = c
            .files
            .iter()
            .chain(std::iter::once(&c.files[0]))
            .map(|&f| repo.files[f].path)
            .collect();
        let message = format!(
            "template include cycle: {}; the cycle is not followed",
            names.join(" → ")
        );
        let at = (c.at.file, c.at.span.start, c.at.span.end);
        out.found.cycles.insert(members, (at, message));
    }
    for u in &engine.unfollowed {
        out.unfollowed(u);
    }
    let mut scan = Scan::default();
    let root_chain: Rc<[FileId]> = Rc::from(vec![id]);
    scan.walk(&tree, None, None, &root_chain);
    if let Some(aliases) = aliases {
        aliases.extend(
            scan.alias_uses
                .iter()
                .map(|a| a.alias.s.trim().to_ascii_lowercase()),
        );
    }
    out.root(id, !standalone && options.inventory, scan, engine);
}

/// A place as a sortable key: file, span start, span end.
type Key = (FileId, usize, usize);

/// What roots' expansions showed, without the model (see [`Collector`]).
#[derive(Clone, Default)]
struct Found {
    files: BTreeMap<FileId, FileExtras>,
    flows: BTreeMap<Key, BTreeSet<String>>,
    dynamic: BTreeMap<Key, (bool, BTreeMap<String, Concrete>)>,
    new_refs: BTreeMap<Key, Reference>,
    problems: BTreeSet<(Key, &'static str, String, Option<String>)>,
    entries: Vec<EntryImages>,
    not_followed: BTreeMap<String, NotFollowed>,
    notes: BTreeSet<String>,
    /// Include cycles by their sorted members, with the place and message of the first
    /// meeting (a `template-expression` problem each, added when finishing).
    cycles: BTreeMap<Vec<FileId>, (Key, String)>,
    /// Images reaching each use site, by the span of the value written there.
    uses: BTreeMap<Key, (&'static str, BTreeSet<Incoming>)>,
    /// Resources met in expansions, by alias place: alias, image places, use sites.
    resources: BTreeMap<Key, (String, Vec<Loc>, BTreeSet<AliasUseSite>)>,
}

/// What roots' expansions showed ([`Found`]) over `repo`, and what only collecting needs.
struct Collector<'r, 't> {
    repo: &'r Repository<'t>,
    found: Found,
    /// The value written under a key, by the key's place (looked up once).
    value_spans: HashMap<(FileId, usize), Option<Range<usize>>>,
    /// Record `uses` and `resources` (see [`Options::hovers`]).
    hovers: bool,
}

impl<'r, 't> Collector<'r, 't> {
    fn new(repo: &'r Repository<'t>, hovers: bool) -> Self {
        Collector::with_found(repo, hovers, Found::default())
    }

    /// What this collected, apart from the model.
    fn into_found(self) -> Found {
        self.found
    }

    /// A collector over `repo` holding `found` (collected over the same files).
    fn with_found(repo: &'r Repository<'t>, hovers: bool, found: Found) -> Self {
        Collector {
            repo,
            found,
            value_spans: HashMap::new(),
            hovers,
        }
    }

    /// Add what `later` collected from the roots after this one's, keeping what was met first
    /// where only the first meeting counts: the result is that of one collector over both.
    fn merge(&mut self, later: Collector<'r, 't>) {
        use std::collections::btree_map::Entry;
        let later = later.found;
        for (k, texts) in later.flows {
            self.found.flows.entry(k).or_default().extend(texts);
        }
        for (k, (fragment, images)) in later.dynamic {
            match self.found.dynamic.entry(k) {
                Entry::Vacant(e) => {
                    e.insert((fragment, images));
                }
                Entry::Occupied(mut e) => {
                    for (image, c) in images {
                        merge_concrete(&mut e.get_mut().1, &image, &c.parts, c.built_at.as_ref());
                    }
                }
            }
        }
        for (k, r) in later.new_refs {
            self.found.new_refs.entry(k).or_insert(r);
        }
        self.found.problems.extend(later.problems);
        self.found.entries.extend(later.entries);
        for (k, n) in later.not_followed {
            self.found.not_followed.entry(k).or_insert(n);
        }
        self.found.notes.extend(later.notes);
        for (k, c) in later.cycles {
            self.found.cycles.entry(k).or_insert(c);
        }
        for (k, (used_as, images)) in later.uses {
            match self.found.uses.entry(k) {
                Entry::Vacant(e) => {
                    e.insert((used_as, images));
                }
                Entry::Occupied(mut e) => e.get_mut().1.extend(images),
            }
        }
        for (k, (alias, images, uses)) in later.resources {
            match self.found.resources.entry(k) {
                Entry::Vacant(e) => {
                    e.insert((alias, images, uses));
                }
                Entry::Occupied(mut e) => e.get_mut().2.extend(uses),
            }
        }
    }

    fn position(&self, loc: &Loc) -> Position {
        let (line, column) = self.repo.line_col(loc.file, loc.span.start);
        Position {
            path: self.repo.files[loc.file].path.to_string(),
            line,
            column,
        }
    }

    fn problem(
        &mut self,
        loc: &Loc,
        rule: &'static str,
        message: String,
        reference: Option<String>,
    ) {
        self.found.problems.insert((
            (loc.file, loc.span.start, loc.span.end),
            rule,
            message,
            reference,
        ));
    }

    fn unfollowed(&mut self, u: &expand::Unfollowed) {
        if self.found.not_followed.contains_key(&u.reference) {
            return;
        }
        let at = self.position(&u.at);
        self.found.not_followed.insert(
            u.reference.clone(),
            NotFollowed {
                reference: u.reference.clone(),
                at,
                reason: u.reason,
            },
        );
    }

    fn per_file_ref(&self, loc: &Loc) -> Option<&repo::KnownReference> {
        self.repo.files[loc.file]
            .references
            .iter()
            .find(|r| r.span.start == loc.span.start)
    }

    fn via(&self, chain: &[FileId], from: Option<FileId>) -> Vec<FileId> {
        let start = from
            .and_then(|f| chain.iter().position(|&c| c == f))
            .unwrap_or(0);
        chain[start..].to_vec()
    }

    /// `eng/pipelines/a.yml → b.yml → templates/c.yml`: the first file in full, the others
    /// relative to the first one's folder when they are below it.
    fn chain_text(&self, files: &[FileId]) -> String {
        let Some(&first) = files.first() else {
            return String::new();
        };
        let first = self.repo.files[first].path;
        let dir = first.rfind('/').map_or("", |i| &first[..=i]);
        let mut out = first.to_string();
        for &f in &files[1..] {
            let path = self.repo.files[f].path;
            out.push_str(" → ");
            out.push_str(path.strip_prefix(dir).unwrap_or(path));
        }
        out
    }

    /// Resolve the alias uses of one root, then record every use (`engine`, which expanded
    /// it, has the trees of the files it read).
    fn root(
        &mut self,
        id: FileId,
        entry: bool,
        mut scan: Scan,
        engine: &mut expand::Engine<'r, 't>,
    ) {
        let alias_uses = std::mem::take(&mut scan.alias_uses);
        for a in alias_uses {
            let key = a.alias.s.trim().to_ascii_lowercase();
            let mut images: Vec<Text> = scan.definitions.get(&key).cloned().unwrap_or_default();
            let defined = self.repo.aliases.get(&key);
            if images.is_empty() {
                for def in defined.into_iter().flatten() {
                    for (text, loc) in def.images.iter().filter(|(t, _)| !has_expression(t)) {
                        images.push(Text {
                            s: Rc::from(text.as_str()),
                            origin: Origin::Literal(loc.clone()),
                        });
                    }
                }
            }
            if self.hovers && !images.is_empty() && scan.definitions.contains_key(&key) {
                self.alias_used(&scan, &key, &a);
            }
            if defined.is_none()
                && !scan.definitions.contains_key(&key)
                && a.site != UseSite::TemplateArgument
            {
                if let Some(loc) = a.alias.origin.at() {
                    self.problem(
                        loc,
                        "unknown-container-alias",
                        format!(
                            "`{}` is used as a {} but no container resource of that name is defined anywhere in the repository",
                            a.alias.s,
                            a.site.describe()
                        ),
                        Some(a.alias.s.to_string()),
                    );
                }
            }
            for image in images {
                scan.uses.push(Use {
                    value: image,
                    alias: Some(a.alias.clone()),
                    site: a.site,
                    chain: a.chain.clone(),
                    job: a.job,
                    at: a.at.clone(),
                });
            }
        }
        let mut jobs: Vec<BTreeSet<ExpandedImage>> = vec![BTreeSet::new(); scan.jobs.len()];
        for u in &scan.uses {
            self.record(u);
            if self.hovers {
                self.incoming(u, engine);
            }
            if entry {
                if let Some(image) = self.expanded(u) {
                    jobs[u.job].insert(image);
                }
            }
        }
        if entry {
            let mut list = Vec::new();
            for (i, images) in jobs.into_iter().enumerate() {
                if images.is_empty() {
                    continue;
                }
                list.push(JobImages {
                    job: self.job_name(&scan, i),
                    images: images.into_iter().collect(),
                });
            }
            self.found.entries.push(EntryImages {
                entry: self.repo.files[id].path.to_string(),
                jobs: list,
            });
        }
    }

    /// A job's name, or `path:line` of where it is written.
    fn job_name(&self, scan: &Scan, job: usize) -> String {
        let (name, loc) = &scan.jobs[job];
        if name.is_empty() {
            loc.as_ref().map_or_else(String::new, |l| {
                let p = self.position(l);
                format!("{}:{}", p.path, p.line)
            })
        } else {
            name.clone()
        }
    }

    /// Note that alias use `a` names the resources defined under `key` in this expansion.
    fn alias_used(&mut self, scan: &Scan, key: &str, a: &AliasUse) {
        let Some(place) = a.alias.origin.at() else {
            return;
        };
        let site = AliasUseSite {
            at: self.position(place),
            job: self.job_name(scan, a.job),
            used_as: a.site.describe(),
        };
        for def in scan.definition_sites.get(key).into_iter().flatten() {
            let l = &def.alias;
            let entry = self
                .found
                .resources
                .entry((l.file, l.span.start, l.span.end))
                .or_insert_with(|| {
                    let alias = self.repo.files[l.file]
                        .text
                        .get(l.span.clone())
                        .unwrap_or(key)
                        .to_string();
                    (alias, def.images.clone(), BTreeSet::new())
                });
            entry.2.insert(site.clone());
        }
    }

    /// The span of the value written under the key at `key` (a scalar's content), found
    /// once per key.
    fn value_span(
        &mut self,
        key: &Loc,
        engine: &mut expand::Engine<'r, 't>,
    ) -> Option<Range<usize>> {
        self.value_spans
            .entry((key.file, key.span.start))
            .or_insert_with(|| {
                let root = engine.tree(key.file)?;
                value_under_key(&root, key.span.start)
            })
            .clone()
    }

    /// Record an image reaching a use site whose value is not written right there.
    fn incoming(&mut self, u: &Use, engine: &mut expand::Engine<'r, 't>) {
        let Some(key) = &u.at else {
            return;
        };
        let Some(span) = self.value_span(key, engine) else {
            return;
        };
        let here = |l: &Loc| {
            l.file == key.file
                && span.start <= l.span.start
                && l.span.start < span.end.max(span.start + 1)
        };
        let written = match &u.value.origin {
            Origin::Literal(l) => {
                if u.alias.is_none() && here(l) {
                    return;
                }
                Some(l.clone())
            }
            Origin::Built(b) => {
                if u.alias.is_none() && b.at.as_ref().is_some_and(here) {
                    return; // built right here: the expression's own hover lists it
                }
                b.at.clone().or_else(|| b.parts.first().cloned())
            }
            Origin::None => None,
        };
        let via = self
            .via(&u.chain, written.as_ref().map(|l| l.file))
            .into_iter()
            .map(|f| self.repo.files[f].path.to_string())
            .collect();
        let incoming = Incoming {
            image: u.value.s.trim().to_string(),
            defined_at: written.as_ref().map(|l| self.position(l)),
            via,
            alias: u.alias.as_ref().map(|a| a.s.trim().to_string()),
        };
        self.found
            .uses
            .entry((key.file, span.start, span.end))
            .or_insert_with(|| (u.site.describe(), BTreeSet::new()))
            .1
            .insert(incoming);
    }

    fn expanded(&self, u: &Use) -> Option<ExpandedImage> {
        let loc = match &u.value.origin {
            Origin::Literal(l) => l.clone(),
            Origin::Built(b) => match &b.at {
                Some(l) => l.clone(),
                None => b.parts.first()?.clone(),
            },
            Origin::None => return None,
        };
        Some(ExpandedImage {
            image: u.value.s.to_string(),
            defined_at: self.position(&loc),
            via: u
                .chain
                .iter()
                .map(|&f| self.repo.files[f].path.to_string())
                .collect(),
            alias: u.alias.as_ref().map(|a| a.s.to_string()),
        })
    }

    /// Flows, new references and dynamic expansions of one use.
    fn record(&mut self, u: &Use) {
        match &u.value.origin {
            Origin::Literal(l) if u.alias.is_none() => {
                let via = self.via(&u.chain, Some(l.file));
                let crossed = via.len() > 1 || via.first() != Some(&l.file);
                if crossed {
                    let text = format!(
                        "used as {} via {}",
                        u.site.describe(),
                        self.chain_text(&via)
                    );
                    self.found
                        .flows
                        .entry((l.file, l.span.start, l.span.end))
                        .or_default()
                        .insert(text);
                }
                let src = self.repo.files[l.file].text;
                let written = src.get(l.span.clone()) == Some(&*u.value.s);
                if self.per_file_ref(l).is_none() && written {
                    self.found
                        .new_refs
                        .entry((l.file, l.span.start, l.span.end))
                        .or_insert_with(|| {
                            Reference::container(l.span.clone(), &u.value.s, u.site.site())
                        });
                }
            }
            Origin::Built(b) => {
                let (at, parts) = (&b.at, &b.parts);
                let part_positions: Vec<Position> =
                    parts.iter().map(|p| self.position(p)).collect();
                if let Some(at) = at {
                    if self
                        .per_file_ref(at)
                        .is_some_and(|r| r.kind == Kind::Dynamic)
                    {
                        let slot = self
                            .found
                            .dynamic
                            .entry((at.file, at.span.start, at.span.end))
                            .or_insert((false, BTreeMap::new()));
                        merge_concrete(&mut slot.1, &u.value.s, &part_positions, None);
                    }
                }
                let built_at = at.as_ref().map(|a| self.position(a));
                for p in parts {
                    let Some(r) = self.per_file_ref(p) else {
                        continue;
                    };
                    if r.kind != Kind::Dynamic || r.span != p.span {
                        continue;
                    }
                    let slot = self
                        .found
                        .dynamic
                        .entry((p.file, p.span.start, p.span.end))
                        .or_insert((true, BTreeMap::new()));
                    merge_concrete(&mut slot.1, &u.value.s, &part_positions, built_at.as_ref());
                }
            }
            _ => {}
        }
    }

    fn finish(mut self) -> TemplateAnalysis {
        for ((file, start, end), message) in std::mem::take(&mut self.found.cycles).into_values() {
            self.found
                .problems
                .insert(((file, start, end), "template-expression", message, None));
        }
        for ((file, start, end), texts) in std::mem::take(&mut self.found.flows) {
            let mut list: Vec<String> = texts.into_iter().collect();
            let more = list.len().saturating_sub(3);
            list.truncate(3);
            let mut description = list.join("; ");
            if more > 0 {
                description.push_str(&format!("; and {more} more"));
            }
            self.found.files.entry(file).or_default().flows.push(Flow {
                span: start..end,
                description,
            });
        }
        for ((file, start, end), (fragment, images)) in std::mem::take(&mut self.found.dynamic) {
            self.found
                .files
                .entry(file)
                .or_default()
                .dynamic
                .push(DynamicImages {
                    span: start..end,
                    fragment,
                    images: images.into_values().collect(),
                });
        }
        for ((file, _, _), r) in std::mem::take(&mut self.found.new_refs) {
            self.found.files.entry(file).or_default().references.push(r);
        }
        for ((file, start, end), rule, message, reference) in
            std::mem::take(&mut self.found.problems)
        {
            self.found
                .files
                .entry(file)
                .or_default()
                .problems
                .push(Problem {
                    rule,
                    span: start..end,
                    message,
                    reference,
                });
        }
        for ((file, start, end), (used_as, images)) in std::mem::take(&mut self.found.uses) {
            self.found
                .files
                .entry(file)
                .or_default()
                .uses
                .push(UseSiteImages {
                    span: start..end,
                    used_as,
                    images: images.into_iter().collect(),
                });
        }
        for ((file, start, end), (alias, images, uses)) in std::mem::take(&mut self.found.resources)
        {
            self.found
                .files
                .entry(file)
                .or_default()
                .resources
                .push(ResourceUses {
                    alias,
                    span: start..end,
                    images: images
                        .into_iter()
                        .filter(|l| l.file == file)
                        .map(|l| l.span)
                        .collect(),
                    uses: uses.into_iter().collect(),
                });
        }
        let repo = self.repo;
        TemplateAnalysis {
            files: self
                .found
                .files
                .into_iter()
                .map(|(f, e)| (repo.files[f].path.to_string(), e))
                .collect(),
            entries: self.found.entries,
            not_followed: self.found.not_followed.into_values().collect(),
            notes: self.found.notes.into_iter().collect(),
        }
    }
}

/// The span of the value under the mapping key that starts at `key_start`, searched below
/// `node` (a scalar's content span; a collection's whole span). Children are in document
/// order, so each level is a binary search for the one child that can hold the key.
fn value_under_key(node: &crate::yaml::Node<'_>, key_start: usize) -> Option<Range<usize>> {
    if let Some(pairs) = node.as_mapping() {
        let i = pairs.partition_point(|(k, _)| k.span.start <= key_start);
        let (k, v) = pairs.get(i.checked_sub(1)?)?;
        if k.content_span().start == key_start {
            return Some(v.content_span());
        }
        (v.span.start <= key_start && key_start < v.span.end)
            .then(|| value_under_key(v, key_start))
            .flatten()
    } else if let Some(items) = node.as_sequence() {
        let i = items.partition_point(|item| item.span.start <= key_start);
        let item = items.get(i.checked_sub(1)?)?;
        (key_start < item.span.end)
            .then(|| value_under_key(item, key_start))
            .flatten()
    } else {
        None
    }
}

/// Add one produced image to a dynamic reference's list, merging the places it is built
/// from when the same image is produced several ways.
fn merge_concrete(
    into: &mut BTreeMap<String, Concrete>,
    image: &str,
    parts: &[Position],
    built_at: Option<&Position>,
) {
    let c = into.entry(image.to_string()).or_insert_with(|| Concrete {
        image: image.to_string(),
        parts: Vec::new(),
        built_at: built_at.cloned(),
    });
    for p in parts {
        if !c.parts.contains(p) {
            c.parts.push(p.clone());
        }
    }
}

impl FileExtras {
    /// Add the references found through templates to a file's analysis, so that the rules,
    /// the resolution phase and `--fix` treat them like any other reference.
    pub fn extend_analysis(&self, analysis: &mut Analysis) {
        if self.references.is_empty() {
            return;
        }
        let mut known: HashSet<(usize, usize)> = analysis
            .references
            .iter()
            .map(|x| (x.span.start, x.span.end))
            .collect();
        for r in &self.references {
            if known.insert((r.span.start, r.span.end)) {
                analysis.references.push(r.clone());
            }
        }
        analysis
            .references
            .sort_by_key(|r| (r.span.start, r.span.end));
    }

    /// A file's findings with the template layer taken into account: the rules of
    /// [`Analysis::findings`], flow chains appended to the messages of findings on a literal,
    /// dynamic-image findings explained with the concrete images they produce (and an unsafe
    /// rewrite), pinned fragments checked like pinned references (`stale-digest`,
    /// `missing-digest` at the fragment), and this layer's own problems. Settings apply to all
    /// of them, and suppressions judge all of them at once, so a comment that silences a
    /// finding of this layer counts as used for `unused-suppression`.
    pub fn findings(
        &self,
        analysis: &Analysis,
        settings: &Settings,
        facts: &Facts,
    ) -> Vec<Finding> {
        analysis.findings_with(settings, facts, |raw| {
            let extra = self.complete(analysis, raw, settings, facts);
            raw.extend(extra);
        })
    }

    /// Rewrite `findings` in place with what the layer knows and return the layer's own
    /// findings (settings applied, suppressions not).
    fn complete(
        &self,
        analysis: &Analysis,
        findings: &mut Vec<Finding>,
        settings: &Settings,
        facts: &Facts,
    ) -> Vec<Finding> {
        let text = analysis.source.text();
        // A fragment that carries its digest makes pinned images: it is no longer a pin to
        // be written, but a pin to keep current.
        let pinned_fragments: Vec<&DynamicImages> = self
            .dynamic
            .iter()
            .filter(|d| d.fragment && !d.images.is_empty())
            .filter(|d| text.get(d.span.clone()).is_some_and(|t| t.contains('@')))
            .filter(|d| {
                d.images
                    .iter()
                    .all(|c| ImageRef::parse(&c.image).is_ok_and(|i| i.digest.is_some()))
            })
            .collect();
        // Looked up by span once per file: a search per finding is quadratic on huge files.
        let pinned_spans: HashSet<(usize, usize)> = pinned_fragments
            .iter()
            .map(|d| (d.span.start, d.span.end))
            .collect();
        findings.retain(|f| {
            f.rule.id() != "dynamic-image" || !pinned_spans.contains(&(f.span.start, f.span.end))
        });
        let mut flows: HashMap<(usize, usize), &Flow> = HashMap::new();
        for fl in &self.flows {
            flows.entry((fl.span.start, fl.span.end)).or_insert(fl);
        }
        let mut dynamic: HashMap<(usize, usize), &DynamicImages> = HashMap::new();
        for d in &self.dynamic {
            dynamic.entry((d.span.start, d.span.end)).or_insert(d);
        }
        for f in findings.iter_mut() {
            let span = (f.span.start, f.span.end);
            if let Some(flow) = flows.get(&span) {
                f.message = format!("{} ({})", f.message, flow.description);
            }
            if f.rule.id() == "dynamic-image" {
                if let Some(d) = dynamic.get(&span) {
                    explain_dynamic(analysis, f, d, facts);
                }
            }
        }
        let mut extra = Vec::new();
        for d in pinned_fragments {
            extra.extend(check_pinned_fragment(analysis, d, settings, facts));
        }
        for p in &self.problems {
            let Some(rule) = Rule::from_id(p.rule) else {
                continue;
            };
            if !settings.is_selected(rule) {
                continue;
            }
            let Some(severity) = settings.severity_for(rule, None) else {
                continue;
            };
            extra.push(Finding {
                rule,
                severity,
                span: p.span.clone(),
                message: p.message.clone(),
                reference: p.reference.clone(),
                fix: None,
            });
        }
        extra
    }
}

/// `stale-digest` and `missing-digest` for a fragment that carries its digest
/// (`image: ubuntu-22.04@sha256:…` completed by a `format()` elsewhere) and becomes exactly
/// one image. The fix replaces the digest inside the fragment, where it is written.
fn check_pinned_fragment(
    analysis: &Analysis,
    d: &DynamicImages,
    settings: &Settings,
    facts: &Facts,
) -> Vec<Finding> {
    let [c] = d.images.as_slice() else {
        return Vec::new();
    };
    let Some(fragment) = analysis.source.text().get(d.span.clone()) else {
        return Vec::new();
    };
    let Ok(image) = ImageRef::parse(&c.image) else {
        return Vec::new();
    };
    let (Some(digest), Some(pinned)) = (image.digest.clone(), image.digest_str()) else {
        return Vec::new();
    };
    // The digest must be written in the fragment, at its end, for the edit to land there.
    let tail = c.image.len() - digest.start;
    if digest.end != c.image.len() || !c.image.ends_with(fragment) || fragment.len() < tail {
        return Vec::new();
    }
    let range = d.span.end - tail..d.span.end;
    let built = c
        .built_at
        .as_ref()
        .map(|p| {
            format!(
                " (this fragment becomes it at {}:{}:{})",
                p.path, p.line, p.column
            )
        })
        .unwrap_or_default();
    let name = image.without_digest();
    let current = facts.tag(&image).filter(|_| image.tag.is_some());
    let mut out = Vec::new();
    let mut push = |id: &str, message: String, title: String| {
        let Some(rule) = Rule::from_id(id) else {
            return;
        };
        if !settings.is_selected(rule) {
            return;
        }
        let Some(severity) = settings.severity_for(rule, Some(&image)) else {
            return;
        };
        let fix = current.map(|fact| Fix {
            title: format!("{title} {}", short_digest(&fact.digest)),
            applicability: Applicability::Safe,
            edits: vec![Edit::replace(range.clone(), fact.digest.clone())],
        });
        out.push(Finding {
            rule,
            severity,
            span: d.span.clone(),
            message,
            reference: Some(fragment.to_string()),
            fix,
        });
    };
    if facts.digest_exists(&image) == Some(false) {
        push(
            "missing-digest",
            format!(
                "the pinned digest {} of `{name}`{built} no longer exists in the registry: the pin is broken",
                short_digest(pinned)
            ),
            "Re-pin to".to_string(),
        );
    }
    if let Some(fact) = current.filter(|f| f.digest != pinned) {
        push(
            "stale-digest",
            format!(
                "`{name}`{built} is pinned to {} but the tag now points to {}",
                short_digest(pinned),
                short_digest(&fact.digest)
            ),
            "Bump to".to_string(),
        );
    }
    out
}

/// Rewrite a dynamic-image finding with what the expression produces.
fn explain_dynamic(analysis: &Analysis, f: &mut Finding, d: &DynamicImages, facts: &Facts) {
    let text = analysis
        .source
        .text()
        .get(d.span.clone())
        .unwrap_or_default()
        .to_string();
    let described: Vec<String> = d
        .images
        .iter()
        .take(12)
        .map(|c| match ImageRef::parse(&c.image) {
            Err(e) => format!("`{}` (not a valid image reference: {e})", c.image),
            Ok(image) => match (facts.tag(&image), image.digest_str()) {
                (Some(fact), None) => {
                    format!("`{}` (tag now at {})", c.image, short_digest(&fact.digest))
                }
                (_, Some(_)) if facts.digest_exists(&image) == Some(false) => {
                    format!("`{}` (its pinned digest no longer exists)", c.image)
                }
                (Some(fact), Some(pinned)) if fact.digest != pinned => format!(
                    "`{}` (stale: tag now at {})",
                    c.image,
                    short_digest(&fact.digest)
                ),
                _ => format!("`{}`", c.image),
            },
        })
        .collect();
    let more = d.images.len().saturating_sub(described.len());
    let mut list = described.join(", ");
    if more > 0 {
        list.push_str(&format!(" and {more} more"));
    }
    let single = match d.images.as_slice() {
        [one] => ImageRef::parse(&one.image).ok().map(|i| (one, i)),
        _ => None,
    };
    if d.fragment {
        let built: Vec<String> = d
            .images
            .iter()
            .filter_map(|c| c.built_at.as_ref())
            .map(|p| format!("{}:{}:{}", p.path, p.line, p.column))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        f.message = format!(
            "`{text}` is only a fragment of an image: it becomes {list} (built at {}); the pin belongs here, on the fragment: append the digest of that image",
            built.join(", ")
        );
        if let Some((c, image)) = single {
            if let (Some(fact), None, true) = (
                facts.tag(&image),
                image.digest.as_ref(),
                c.image.ends_with(&text),
            ) {
                f.fix = Some(Fix {
                    title: format!(
                        "Pin the fragment to {} (the digest of `{}`)",
                        short_digest(&fact.digest),
                        c.image
                    ),
                    applicability: Applicability::Unsafe,
                    edits: vec![Edit::insert(d.span.end, format!("@{}", fact.digest))],
                });
            }
        }
        return;
    }
    let fragments: Vec<String> = d
        .images
        .iter()
        .flat_map(|c| c.parts.iter())
        .map(|p| format!("{}:{}:{}", p.path, p.line, p.column))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .take(8)
        .collect();
    let n = d.images.len();
    f.message = format!(
        "`{text}` is built from an expression and cannot be pinned here; it can produce {n} image{}: {list}; the pin belongs on the fragments it is built from{}",
        if n == 1 { "" } else { "s" },
        if fragments.is_empty() {
            String::new()
        } else {
            format!(" ({})", fragments.join(", "))
        }
    );
    if let Some((c, image)) = single {
        let literal = match (facts.tag(&image), image.digest.is_some()) {
            (Some(fact), false) => format!("{}@{}", c.image, fact.digest),
            _ => c.image.clone(),
        };
        f.fix = Some(Fix {
            title: format!("Replace the expression with the literal `{literal}`"),
            applicability: Applicability::Unsafe,
            edits: vec![Edit::replace(d.span.clone(), literal)],
        });
    }
}

#[cfg(test)]
mod tests;
