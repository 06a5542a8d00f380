//! Cross-file findings: pin-core's Azure Pipelines template layer (`pin_core::template`) over
//! the workspace, as `pin-lint check` runs it over a repository.
//!
//! A document's template findings depend on the files it is connected to by `template:`
//! references: the files it may include, the files that may include it, transitively (its
//! component), and on the container resources defined anywhere. The layer therefore runs over
//! that component plus every file that may define container resources, never over unrelated
//! pipelines. The component is found from [`Hints`], an over-approximation read from each
//! file's text, so it always holds every file the layer would follow; as it is closed under
//! those references, the layer's results for its files are the same as over the whole
//! workspace.
//!
//! Runs are cached by the contents they read: an edit re-expands the edited document's
//! component once, other documents of that component (and opening a file as it is on disk)
//! reuse the run, concurrent requests for the same run wait for one computation, and
//! unchanged files keep their per-file analyses (pin-core reuses their references).
//!
//! A run does not build the records only hovers show (the images that reach each use site,
//! the jobs that use each container resource): the first hover over one of its documents runs
//! the layer again over the same analyses with them ([`TemplateRun::hovers`]), once per run.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{Hash as _, Hasher as _};
use std::sync::{Arc, Mutex, OnceLock};

use pin_core::dialect::Dialect;
use pin_core::engine::FileQueries;
use pin_core::template::repo::{Input, Repository};
use pin_core::template::{self, FileExtras, TemplateAnalysis};
use pin_core::yaml::Yaml;
use pin_core::Analysis;

/// Template runs kept for reuse (each holds the analyses it read).
const CACHED_RUNS: usize = 8;

/// Longest template path looked at, in bytes.
const MAX_WORD: usize = 1024;

/// What the template layer needs to know about a file before reading it, from its text.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Hints {
    /// Every file name a template path written in the file can end with: for each word ending
    /// in `.yml` / `.yaml`, the word and each of its tails after a `/` or YAML punctuation.
    names: Vec<Box<str>>,
    /// A template path's file name is built by an expression (`${{ parameters.x }}.yml`,
    /// `format('{0}.yml', …)`, `$(name).yml`): the file may include any file.
    computed: bool,
    /// The file may define container resources (it mentions `containers`).
    containers: bool,
    /// A digest of the text (with its length), which identifies it in cached runs.
    content: (u64, usize),
}

/// Characters after which a template path's file name may start inside a word.
fn is_name_boundary(c: char) -> bool {
    matches!(
        c,
        '/' | '\\' | '"' | '\'' | '[' | '{' | ',' | ':' | '=' | '(' | '@'
    )
}

impl Hints {
    /// Read the hints of a file's text.
    pub fn of(text: &str) -> Hints {
        let bytes = text.as_bytes();
        let mut names: Vec<Box<str>> = Vec::new();
        let mut computed = false;
        for (dot, _) in text.match_indices('.') {
            let rest = &bytes[dot + 1..];
            let end = if rest.len() >= 4 && rest[..4].eq_ignore_ascii_case(b"yaml") {
                dot + 5
            } else if rest.len() >= 3 && rest[..3].eq_ignore_ascii_case(b"yml") {
                dot + 4
            } else {
                continue;
            };
            // The word around it, looking back a bounded distance.
            let mut from = dot.saturating_sub(MAX_WORD);
            while !text.is_char_boundary(from) {
                from += 1;
            }
            let start = text[from..dot]
                .rfind(char::is_whitespace)
                .map_or(from, |i| {
                    from + i + text[from + i..].chars().next().map_or(1, char::len_utf8)
                });
            let word = &text[start..end];
            let file_name = word.rsplit('/').next().unwrap_or(word);
            // `${{ parameters.name }}.yml`, `format('{0}.yml', …)`, `$(name).yml`.
            if file_name.contains(['}', '$']) {
                computed = true;
            }
            names.push(word.into());
            for (i, c) in word.char_indices() {
                if is_name_boundary(c) && i + c.len_utf8() < word.len() {
                    names.push(word[i + c.len_utf8()..].into());
                }
            }
        }
        names.sort_unstable();
        names.dedup();
        let mut hasher = std::hash::DefaultHasher::new();
        text.hash(&mut hasher);
        Hints {
            names,
            computed,
            containers: text.contains("containers"),
            content: (hasher.finish(), text.len()),
        }
    }
}

/// Whether a file takes part in the template layer (an Azure Pipelines YAML file).
pub fn takes_part(path: &str, analysis: &Analysis) -> bool {
    pin_core::template::repo::has_yaml_extension(path)
        && analysis.dialect == Some(Dialect::AzurePipelines)
}

/// One file handed to the layer.
#[derive(Clone)]
pub struct LayerFile {
    /// The name the layer knows it by (workspace-relative when it can be), which is also how
    /// messages name it.
    pub name: String,
    /// Its analysis (an open document's current one, else the one of its text on disk).
    pub analysis: Arc<Analysis>,
    /// Its hints.
    pub hints: Arc<Hints>,
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The files the layer must read to judge `files[doc]`: its component under (possible)
/// template references, and every file that may define container resources. Sorted indexes.
pub fn scope(files: &[LayerFile], doc: usize) -> Vec<usize> {
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, f) in files.iter().enumerate() {
        by_name.entry(file_name(&f.name)).or_default().push(i);
    }
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); files.len()];
    for (i, f) in files.iter().enumerate() {
        for name in &f.hints.names {
            for &j in by_name.get(&**name).into_iter().flatten() {
                if i != j {
                    edges[i].push(j);
                    edges[j].push(i);
                }
            }
        }
    }
    let mut seen = vec![false; files.len()];
    let mut queue = VecDeque::from([doc]);
    seen[doc] = true;
    while let Some(i) = queue.pop_front() {
        if files[i].hints.computed {
            // A computed template path may name any file.
            return (0..files.len()).collect();
        }
        for &j in &edges[i] {
            if !seen[j] {
                seen[j] = true;
                queue.push_back(j);
            }
        }
    }
    (0..files.len())
        .filter(|&i| seen[i] || files[i].hints.containers)
        .collect()
}

/// What identifies a run: `(name, content)` of every file read, sorted by name.
type RunKey = Vec<(String, (u64, usize))>;

/// One run of the layer over a set of files.
pub struct TemplateRun {
    /// Names of the files read.
    names: Vec<String>,
    /// What the layer found (without the hover records).
    pub result: TemplateAnalysis,
    /// Analyses with the layer's references added, made on demand.
    extended: Mutex<HashMap<String, Arc<Analysis>>>,
    /// The files read, by name, in the order read (for the hover records).
    inputs: Vec<(String, Arc<Analysis>)>,
    /// The layer's results with the hover records, built when a hover first asks.
    hovers: OnceLock<TemplateAnalysis>,
}

impl TemplateRun {
    /// The layer's results over the same files with the records hovers show
    /// ([`FileExtras::uses`], [`FileExtras::resources`]), built on the first call.
    pub fn hovers(&self) -> &TemplateAnalysis {
        self.hovers.get_or_init(|| {
            let started = std::time::Instant::now();
            let result = template::analyze_analyses(
                self.inputs.iter().map(|(name, a)| (name.as_str(), &**a)),
                template::Options {
                    inventory: false,
                    hovers: true,
                },
            );
            tracing::debug!(
                files = self.inputs.len(),
                "hover records built in {:?}",
                started.elapsed()
            );
            result
        })
    }

    /// Names of the files this run read.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    /// `analysis` (the run's input for `name`, or one of the same text) with the references
    /// the layer found in it.
    fn extended(&self, name: &str, analysis: &Arc<Analysis>) -> Arc<Analysis> {
        let Some(extras) = self.result.file(name).filter(|e| !e.references.is_empty()) else {
            return analysis.clone();
        };
        let mut cache = self
            .extended
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache
            .entry(name.to_string())
            .or_insert_with(|| {
                Arc::new(pin_core::engine::with_layer(
                    Analysis::clone(analysis),
                    Some(extras),
                ))
            })
            .clone()
    }
}

fn key_of(files: &[LayerFile], scope: &[usize]) -> RunKey {
    let mut key: RunKey = scope
        .iter()
        .map(|&i| (files[i].name.clone(), files[i].hints.content))
        .collect();
    key.sort();
    key
}

/// A cached run, or the one being computed.
struct Slot {
    key: RunKey,
    run: OnceLock<Arc<TemplateRun>>,
}

/// Recent runs of the layer, by the contents they read.
#[derive(Default)]
pub struct TemplateCache {
    slots: Mutex<VecDeque<Arc<Slot>>>,
}

impl TemplateCache {
    /// The layer's results over `files[scope]`: a cached run that read the same contents,
    /// else a new run (computed once when several documents ask for it at the same time).
    /// `first_yaml`, when given, is the YAML of `files[0]`'s text, which a new run then does
    /// not parse again.
    #[cfg(test)]
    pub fn run(
        &self,
        files: &[LayerFile],
        scope: &[usize],
        first_yaml: Option<Yaml<'_>>,
    ) -> Arc<TemplateRun> {
        self.run_then(files, scope, first_yaml, |run| run.expect("the layer ran"))
    }

    /// [`TemplateCache::run`], handing the run to `then` before the trees a new run read are
    /// freed (freeing them takes a while on big files; a caller can answer first). `None` when
    /// the layer failed (a panic, logged): the documents are then judged file by file.
    pub fn run_then<R>(
        &self,
        files: &[LayerFile],
        scope: &[usize],
        first_yaml: Option<Yaml<'_>>,
        then: impl FnOnce(Option<Arc<TemplateRun>>) -> R,
    ) -> R {
        let key = key_of(files, scope);
        let slot = {
            let mut slots = self.lock();
            match slots.iter().position(|s| s.key == key) {
                Some(i) => {
                    let slot = slots.remove(i).expect("slot index");
                    slots.push_front(slot.clone());
                    slot
                }
                None => {
                    let slot = Arc::new(Slot {
                        key,
                        run: OnceLock::new(),
                    });
                    slots.push_front(slot.clone());
                    slots.truncate(CACHED_RUNS);
                    slot
                }
            }
        };
        let mut read = None;
        let computed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            slot.run
                .get_or_init(|| {
                    let started = std::time::Instant::now();
                    let mut first_yaml = first_yaml;
                    let repo = Repository::build_parsed(scope.iter().map(|&i| {
                        let f = &files[i];
                        let input = Input {
                            path: &f.name,
                            text: f.analysis.source.text(),
                            known: Some((f.analysis.dialect, f.analysis.references.as_slice())),
                        };
                        (input, if i == 0 { first_yaml.take() } else { None })
                    }));
                    let result = template::analyze_repository(
                        &repo,
                        template::Options {
                            inventory: false,
                            hovers: false,
                        },
                    );
                    tracing::debug!(
                        files = scope.len(),
                        "template layer ran in {:?}",
                        started.elapsed()
                    );
                    read = Some(repo);
                    Arc::new(TemplateRun {
                        names: slot.key.iter().map(|(n, _)| n.clone()).collect(),
                        result,
                        extended: Mutex::new(HashMap::new()),
                        inputs: scope
                            .iter()
                            .map(|&i| (files[i].name.clone(), files[i].analysis.clone()))
                            .collect(),
                        hovers: OnceLock::new(),
                    })
                })
                .clone()
        }));
        let run = match computed {
            Ok(run) => Some(run),
            Err(_) => {
                tracing::error!(
                    "the template layer failed on {} files; judging them one by one",
                    scope.len()
                );
                None
            }
        };
        let out = then(run);
        drop(read);
        out
    }

    /// Forget every run (settings that decide which files take part changed).
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Arc<Slot>>> {
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A document as the rules see it: its analysis with the references the template layer found
/// in it, and the layer's results for it.
#[derive(Clone)]
pub struct View {
    /// The analysis the findings, fixes and hovers use.
    pub analysis: Arc<Analysis>,
    run: Option<(Arc<TemplateRun>, String)>,
}

impl View {
    /// A document outside the template layer.
    pub fn plain(analysis: Arc<Analysis>) -> View {
        View {
            analysis,
            run: None,
        }
    }

    /// The document named `name` in `run`, whose input for it was `analysis`.
    pub fn with_run(analysis: &Arc<Analysis>, run: Arc<TemplateRun>, name: String) -> View {
        View {
            analysis: run.extended(&name, analysis),
            run: Some((run, name)),
        }
    }

    /// What the layer adds to this document.
    pub fn extras(&self) -> Option<&FileExtras> {
        self.run
            .as_ref()
            .and_then(|(run, name)| run.result.file(name))
    }

    /// [`View::extras`] with the records only hovers show, built on first use
    /// ([`TemplateRun::hovers`]).
    pub fn hover_extras(&self) -> Option<&FileExtras> {
        self.run
            .as_ref()
            .and_then(|(run, name)| run.hovers().file(name))
    }

    /// The run this view comes from.
    pub fn run(&self) -> Option<&Arc<TemplateRun>> {
        self.run.as_ref().map(|(run, _)| run)
    }

    /// Findings with `settings` and `facts`: the per-file rules and the layer's, judged by
    /// the suppressions together (as `pin-lint check` does).
    pub fn findings(
        &self,
        settings: &pin_core::Settings,
        facts: &pin_core::Facts,
    ) -> Vec<pin_core::Finding> {
        pin_core::engine::findings(&self.analysis, self.extras(), settings, facts)
    }

    /// The lookups the engine plans for this document under `settings`
    /// ([`pin_core::engine::file_queries`], with the server's [`crate::lookup::plan_options`]).
    pub fn queries(&self, settings: &pin_core::Settings, online: bool) -> FileQueries {
        pin_core::engine::file_queries(
            &self.analysis,
            self.extras(),
            settings,
            crate::lookup::plan_options(online),
        )
    }
}

/// Names of `run`'s files, as a set.
pub fn names_of(run: Option<&Arc<TemplateRun>>) -> HashSet<String> {
    run.map(|r| r.names().map(str::to_string).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> LayerFile {
        LayerFile {
            name: name.to_string(),
            analysis: Arc::new(Analysis::new(name, text.to_string())),
            hints: Arc::new(Hints::of(text)),
        }
    }

    #[test]
    fn hints_name_every_possible_template_file_name() {
        let h = Hints::of(
            "jobs:\n- template: /eng/x/Build-Job.YML@self\n  parameters: {steps: [\"s.yaml\", 'q.yml']}\n- template: ${{ parameters.name }}.yml\n",
        );
        for name in ["Build-Job.YML", "s.yaml", "q.yml", "/eng/x/Build-Job.YML"] {
            assert!(
                h.names.iter().any(|n| &**n == name),
                "{name} not in {:?}",
                h.names
            );
        }
        assert!(h.computed);
        assert!(!h.containers);
        let plain = Hints::of("resources:\n  containers: []\njobs:\n- template: a.yml\n");
        assert!(!plain.computed && plain.containers);
        assert!(Hints::of("é: ü.yml").names.iter().any(|n| &**n == "ü.yml"));
    }

    #[test]
    fn scope_is_the_component_and_the_resource_files() {
        let files = vec![
            file("ci.yml", "jobs:\n- template: t/build.yml\n"),
            file("t/build.yml", "jobs:\n- template: steps.yml\n"),
            file("t/steps.yml", "steps:\n- script: x\n"),
            file("other.yml", "jobs:\n- job: a\n  container: c\n"),
            file(
                "res.yml",
                "resources:\n  containers:\n  - container: c\n    image: a:1\n",
            ),
        ];
        assert_eq!(scope(&files, 2), [0, 1, 2, 4]);
        assert_eq!(scope(&files, 3), [3, 4]);
        let mut computed = files.clone();
        computed.push(file(
            "dyn.yml",
            "jobs:\n- template: ${{ parameters.t }}.yml\n",
        ));
        computed[3] = file("other.yml", "jobs:\n- template: dyn.yml\n");
        assert_eq!(scope(&computed, 3).len(), computed.len());
    }

    /// Every YAML file of the shared corpus as `(path below the corpus, text)`.
    fn corpus() -> Vec<(String, String)> {
        let shared = std::env::var_os("PIN_LINT_SHARED").map_or_else(
            || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
            std::path::PathBuf::from,
        );
        let root = shared.join("corpus");
        assert!(
            root.is_dir(),
            "shared corpus not found at {}; set PIN_LINT_SHARED to the folder holding corpus/",
            root.display()
        );
        let mut out = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("corpus folder") {
                let path = entry.expect("corpus entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else if crate::workspace::is_pipeline_file(&path) {
                    let rel = path.strip_prefix(&root).expect("below the root");
                    let text = std::fs::read_to_string(&path).expect("corpus file");
                    out.push((crate::workspace::analyzer_path_of(rel), text));
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn a_component_run_finds_what_a_whole_corpus_run_finds() {
        let files: Vec<LayerFile> = corpus()
            .iter()
            .map(|(path, text)| file(path, text))
            .filter(|f| takes_part(&f.name, &f.analysis))
            .collect();
        assert!(files.len() > 50, "{} Azure Pipelines files", files.len());
        let all: Vec<usize> = (0..files.len()).collect();
        let whole = TemplateCache::default().run(&files, &all, None);
        let cache = TemplateCache::default();
        let mut smaller = 0;
        for (i, f) in files.iter().enumerate() {
            let scope = scope(&files, i);
            smaller += usize::from(scope.len() < files.len());
            let run = cache.run(&files, &scope, None);
            assert_eq!(
                run.result.file(&f.name),
                whole.result.file(&f.name),
                "{} (component of {} files)",
                f.name,
                scope.len()
            );
        }
        // The corpus holds several repositories: components are smaller than the whole.
        assert!(smaller > files.len() / 2, "{smaller} of {}", files.len());
        let with_extras = files
            .iter()
            .filter(|f| whole.result.file(&f.name).is_some())
            .count();
        // Some files have something to compare.
        assert!(with_extras > 0, "{with_extras}");
    }

    #[test]
    fn runs_are_reused_for_the_same_analyses() {
        let files = vec![
            file(
                "ci.yml",
                "resources:\n  containers:\n  - container: linux\n    image: a/b:1\njobs:\n- template: job.yml\n  parameters:\n    c: linux\n",
            ),
            file(
                "job.yml",
                "parameters:\n  c: ''\njobs:\n- job: j\n  container: ${{ parameters.c }}\n",
            ),
        ];
        let cache = TemplateCache::default();
        let s = scope(&files, 1);
        let a = cache.run(&files, &s, None);
        let b = cache.run(&files, &s, None);
        assert!(Arc::ptr_eq(&a, &b));
        // The same texts analysed again (a file opened as it is on disk): the same run.
        let reopened: Vec<LayerFile> = files
            .iter()
            .map(|f| file(&f.name, f.analysis.source.text()))
            .collect();
        assert!(Arc::ptr_eq(&a, &cache.run(&reopened, &s, None)));
        let mut changed = files.clone();
        changed[0] = file(
            "ci.yml",
            &files[0]
                .analysis
                .source
                .text()
                .replace("c: linux", "c: linx"),
        );
        let c = cache.run(&changed, &s, None);
        assert!(!Arc::ptr_eq(&a, &c));
        let problems = |r: &TemplateRun| {
            r.result
                .file("ci.yml")
                .map(|e| e.problems.iter().map(|p| p.rule).collect::<Vec<_>>())
                .unwrap_or_default()
        };
        assert!(problems(&a).is_empty());
        assert_eq!(problems(&c), ["unknown-container-alias"]);
    }
}
