//! Session state: open documents, settings, catalogs, the resolver and the lint scheduler.
//!
//! Concurrency contract (tower-lsp-server runs handlers concurrently): every handler that
//! changes a document does so synchronously, before its first `.await`, and each document keeps
//! `(version, text)` together in an immutable [`Snapshot`]. Lint runs work on a snapshot and
//! publish only if that snapshot is still the document's current one and no later run has
//! published already; otherwise the result is dropped.
//!
//! A document is judged together with the workspace (the template layer follows images across
//! files): its [`View`] comes from the open documents and the indexed files on disk. When a
//! document's text changes, the other open documents its template component touches are
//! linted again; they are published only if their diagnostics changed.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use pin_core::dialect::Dialect;
use pin_core::engine::{self, FixRequest, Status};
use pin_core::{Analysis, Edit, Finding, Settings, SourceFile};
use pin_resolve::{Catalog, Resolver, ResolverOptions};
use pin_vm_resolve::VmCatalog;
use tower_lsp_server::ls_types::{Diagnostic, Uri};
use tower_lsp_server::Client;

use crate::diagnostics::{publication, to_diagnostic};
use crate::lookup::{FactCache, FileFacts, Lookup};
use crate::positions::Encoding;
use crate::settings::{ClientSettings, ConfigCache};
use crate::templates::{self, Hints, LayerFile, TemplateCache, View};
use crate::transport::Outbox;
use crate::workspace::{is_pipeline_file, WorkspaceIndex};

/// Minimum time between two lint runs of one document. The first change after a quiet period
/// is linted at once; changes arriving faster are coalesced into one run over the latest text.
pub const DEBOUNCE: Duration = Duration::from_millis(50);

/// How long a lint run waits for the first walk of the workspace (the template layer needs
/// it) before going on without the other files; the documents are linted again once it ends.
const INDEX_WAIT: Duration = Duration::from_secs(2);

/// Changes the log filter (`info`, `debug`, a `tracing` directive).
pub type SetLogLevel = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// One version of one document: immutable, shared by the runs and requests that read it.
pub struct Snapshot {
    /// The document.
    pub uri: Uri,
    /// The path handed to the analyzer (selects the dialect).
    pub path: String,
    /// The client's version number.
    pub version: i32,
    /// The type `[files]` in `pin-lint.toml` gives the document, if any.
    pub file_type: Option<Dialect>,
    /// The text and its line index.
    pub source: SourceFile,
    analysis: OnceLock<Arc<Analysis>>,
    hints: OnceLock<Arc<Hints>>,
}

impl Snapshot {
    /// A snapshot of `source` at `version`, read as `file_type` when that is `Some`.
    pub fn new(uri: Uri, version: i32, source: SourceFile, file_type: Option<Dialect>) -> Snapshot {
        Snapshot {
            path: analyzer_path(&uri),
            uri,
            version,
            file_type,
            source,
            analysis: OnceLock::new(),
            hints: OnceLock::new(),
        }
    }

    /// A snapshot whose analysis is already known (a file on disk the index has analysed).
    pub fn with_analysis(uri: Uri, version: i32, analysis: Arc<Analysis>) -> Snapshot {
        let snapshot = Snapshot::new(uri, version, analysis.source.clone(), analysis.file_type);
        let _ = snapshot.analysis.set(analysis);
        snapshot
    }

    /// The per-file analysis of this version, computed on first use.
    pub fn analysis(&self) -> &Arc<Analysis> {
        self.analysis.get_or_init(|| {
            let text = self.source.text().to_string();
            Arc::new(Analysis::new_as(&self.path, text, self.file_type))
        })
    }

    /// What the template layer needs to know about this version before reading it.
    pub fn hints(&self) -> Arc<Hints> {
        self.hints
            .get_or_init(|| Arc::new(Hints::of(self.source.text())))
            .clone()
    }
}

/// A snapshot's findings with the facts known now, and the view they come from.
pub struct Linted {
    /// The facts known now: those the findings come from, those hovers show, and what a fix
    /// would wait for.
    pub facts: FileFacts,
    /// The settings of the `pin-lint.toml` that governs the document.
    pub settings: Settings,
    /// The findings (none for a file its `pin-lint.toml` excludes).
    pub findings: Vec<Finding>,
    /// The document as the rules saw it.
    pub view: View,
}

/// The path the analyzer sees for `uri`: the file path with `/` separators, or the URI's path
/// for other schemes (`untitled:`).
pub fn analyzer_path(uri: &Uri) -> String {
    match uri.to_file_path() {
        Some(p) if uri.scheme().as_str() == "file" => crate::workspace::analyzer_path_of(&p),
        _ => uri.path().as_str().to_string(),
    }
}

struct Doc {
    snapshot: Arc<Snapshot>,
    scheduled: bool,
    last_run: Option<Instant>,
    run_seq: u64,
    published: Arc<Mutex<u64>>,
    /// What was published last: the version and the diagnostics (as JSON).
    last_published: Option<(i32, Vec<u8>)>,
    /// The files of the template run of the last lint.
    scope: HashSet<String>,
    /// The version whose change was last passed on to the documents sharing its templates.
    passed_on: Option<i32>,
}

/// Settings in force and what was built from them.
#[derive(Clone)]
pub struct Config {
    /// What the client sent.
    pub client: ClientSettings,
    /// Loaded digest catalogs (those that failed to load are reported and left out).
    pub catalogs: Vec<Catalog>,
    /// Loaded VM catalogs (`az vm image list` / `az sig image-version list` JSON), told apart
    /// from digest catalogs by their content as the CLI does.
    pub vm_catalogs: Vec<VmCatalog>,
    /// Absolute catalog paths, to notice changes on disk (URLs are not among them).
    pub catalog_paths: Vec<PathBuf>,
    /// Catalogs given as `https://` (or `http://`) URLs, fetched in the background
    /// ([`Session::fetch_catalogs`]); once fetched they are in `catalogs` / `vm_catalogs`.
    pub catalog_urls: Vec<String>,
    /// The HTTP client settings of catalog fetches and registry lookups (insecure
    /// registries, mirrors, timeout), without the catalogs.
    pub http: ResolverOptions,
    /// Whether registries are asked.
    pub online: bool,
    /// The registry resolver, when online.
    pub resolver: Option<Resolver>,
}

impl Config {
    /// Load catalogs and build the resolver from the client settings and the registry keys of
    /// the workspace's `pin-lint.toml` (`file`): catalogs and insecure registries of both
    /// are used; the client's `online` wins over the file's. Catalog files are read here;
    /// catalog URLs are left in [`Config::catalog_urls`] for a background fetch. Problems
    /// come back as messages.
    pub fn build(
        client: ClientSettings,
        root: Option<&Path>,
        file: Option<&pin_core::config::RegistryConfig>,
    ) -> (Config, Vec<String>) {
        let mut problems = Vec::new();
        let mut locations = client.catalog_paths(root);
        let mut insecure = client.insecure_registries.clone();
        if let Some(file) = file {
            locations.extend(file.catalogs.iter().cloned());
            insecure.extend(file.insecure_registries.iter().cloned());
        }
        let online = client
            .online
            .or(file.and_then(|f| f.online))
            .unwrap_or(false);
        let defaults = ResolverOptions::default();
        let http = ResolverOptions {
            insecure_registries: insecure,
            mirrors: file
                .map(|f| f.mirrors.clone().into_iter().collect())
                .unwrap_or_default(),
            timeout: file.and_then(|f| f.timeout).unwrap_or(defaults.timeout),
            ..defaults
        };
        let mut config = Config {
            client,
            catalogs: Vec::new(),
            vm_catalogs: Vec::new(),
            catalog_paths: Vec::new(),
            catalog_urls: Vec::new(),
            http,
            online,
            resolver: None,
        };
        for path in locations {
            if let Some(url) = path.to_str().filter(|p| pin_resolve::is_catalog_url(p)) {
                config.catalog_urls.push(url.to_string());
                continue;
            }
            // Read once; the content tells a VM catalog from a digest catalog.
            match std::fs::read_to_string(&path) {
                Ok(text) => config.add_catalog(&path, &text, &mut problems),
                Err(e) => {
                    let shown = path.display();
                    problems.push(format!("pin-lint: cannot load catalog: {shown}: {e}"));
                }
            }
            config.catalog_paths.push(path);
        }
        config.resolver = config.new_resolver(&mut problems);
        (config, problems)
    }

    /// Add the catalog `text` read from `name` (a path or URL), a VM catalog or a digest
    /// catalog by its content.
    fn add_catalog(&mut self, name: &Path, text: &str, problems: &mut Vec<String>) {
        match pin_vm_resolve::sniff(text) {
            Some(vm) => self.vm_catalogs.push(vm.named(&name.display().to_string())),
            None => match Catalog::parse(name, text) {
                Ok(catalog) => self.catalogs.push(catalog),
                Err(e) => problems.push(format!("pin-lint: cannot load catalog: {e}")),
            },
        }
    }

    /// The resolver over the current catalogs, when online.
    fn new_resolver(&self, problems: &mut Vec<String>) -> Option<Resolver> {
        if !self.online {
            return None;
        }
        let options = ResolverOptions {
            catalogs: self.catalogs.clone(),
            ..self.http.clone()
        };
        Resolver::new(options)
            .map_err(|e| problems.push(format!("pin-lint: registry lookups are off: {e}")))
            .ok()
    }

    /// This configuration with the catalogs fetched from [`Config::catalog_urls`] added:
    /// `fetched` holds each URL's text, or why it could not be fetched (reported, and the
    /// catalog left out, as for a file that cannot be read).
    pub fn with_fetched(
        &self,
        fetched: Vec<(String, Result<String, String>)>,
    ) -> (Config, Vec<String>) {
        let mut problems = Vec::new();
        let mut config = self.clone();
        for (url, text) in fetched {
            match text {
                Ok(text) => config.add_catalog(Path::new(&url), &text, &mut problems),
                Err(e) => problems.push(format!("pin-lint: cannot load catalog: {e}")),
            }
        }
        config.resolver = config.new_resolver(&mut problems);
        (config, problems)
    }
}

/// Client capabilities and choices made at `initialize`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientInfo {
    /// Negotiated position encoding.
    pub encoding: Encoding,
    /// The client accepts versioned `documentChanges` in workspace edits.
    pub document_changes: bool,
    /// The client lets the server register file watchers.
    pub watch_registration: bool,
    /// The client answers `workspace/configuration`.
    pub configuration_pull: bool,
}

/// Everything the handlers share.
pub struct Session {
    /// The connection to the client.
    pub client: Client,
    /// Where diagnostics go.
    outbox: Outbox,
    docs: Mutex<HashMap<Uri, Doc>>,
    config: RwLock<Arc<Config>>,
    /// Registry answers.
    pub facts: FactCache,
    /// The workspace's pipeline files.
    pub workspace: WorkspaceIndex,
    /// `pin-lint.toml` files, per folder.
    pub configs: ConfigCache,
    /// Runs of the template layer.
    pub templates: TemplateCache,
    info: RwLock<ClientInfo>,
    set_log_level: SetLogLevel,
}

impl Session {
    /// A session with default settings (offline, no catalogs).
    pub fn new(client: Client, outbox: Outbox, set_log_level: SetLogLevel) -> Session {
        let (config, _) = Config::build(ClientSettings::default(), None, None);
        Session {
            client,
            outbox,
            docs: Mutex::new(HashMap::new()),
            config: RwLock::new(Arc::new(config)),
            facts: FactCache::default(),
            workspace: WorkspaceIndex::default(),
            configs: ConfigCache::default(),
            templates: TemplateCache::default(),
            info: RwLock::new(ClientInfo::default()),
            set_log_level,
        }
    }

    /// Record the client's capabilities.
    pub fn set_client_info(&self, info: ClientInfo) {
        *self
            .info
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = info;
    }

    /// The client's capabilities.
    pub fn info(&self) -> ClientInfo {
        *self
            .info
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The settings in force.
    pub fn config(&self) -> Arc<Config> {
        self.config
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Install new client settings: log level, catalogs, resolver. Cached registry answers are
    /// dropped (they may come from another registry setup). Returns problems to show the user.
    pub fn apply_settings(&self, client: ClientSettings) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(level) = &client.log_level {
            if let Err(e) = (self.set_log_level)(level) {
                problems.push(format!("pin-lint: invalid logLevel `{level}`: {e}"));
            }
        }
        self.configs.clear();
        // Which files take part in the template layer depends on `pin-lint.toml`.
        self.templates.clear();
        let roots = self.workspace.roots();
        let root = roots.first().map(PathBuf::as_path);
        let file = root.map(|r| self.configs.for_dir(r));
        let (config, more) = Config::build(client, root, file.as_ref().map(|f| &f.config.registry));
        problems.extend(more);
        problems.extend(self.configs.take_errors());
        tracing::info!(
            online = config.resolver.is_some(),
            catalogs = config.catalogs.len(),
            "settings applied"
        );
        *self
            .config
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(config);
        self.facts.clear();
        problems
    }

    /// Fetch the catalogs the settings in force give as URLs, in the background, with the
    /// HTTP client of the registry lookups; when they arrive (and the settings have not
    /// changed meanwhile), install them and lint the open documents again. A catalog that
    /// cannot be fetched is reported to the user and left out. Needs the async runtime.
    pub fn fetch_catalogs(self: &Arc<Self>) {
        let started = self.config();
        if started.catalog_urls.is_empty() {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let mut fetched = Vec::with_capacity(started.catalog_urls.len());
            for url in &started.catalog_urls {
                let text = pin_resolve::fetch_catalog(url, &started.http)
                    .await
                    .map_err(|e| e.to_string());
                fetched.push((url.clone(), text));
            }
            let (config, problems) = started.with_fetched(fetched);
            {
                let mut current = this
                    .config
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if !Arc::ptr_eq(&current, &started) {
                    // Settings changed meanwhile; their own fetch is under way.
                    return;
                }
                tracing::info!(catalogs = config.catalogs.len(), "catalog URLs fetched");
                *current = Arc::new(config);
            }
            this.relint_all();
            this.show_problems(problems).await;
        });
    }

    /// Reload `pin-lint.toml` files, catalogs and the resolver with the current client
    /// settings (a watched file changed).
    pub fn reload(&self) -> Vec<String> {
        let client = self.config().client.clone();
        self.apply_settings(client)
    }

    /// Open (or reopen) a document.
    pub fn open(&self, uri: Uri, version: i32, text: String) {
        let file_type = self.file_type_of(&uri);
        let snapshot = Arc::new(Snapshot::new(
            uri.clone(),
            version,
            SourceFile::new(text),
            file_type,
        ));
        let mut docs = self.lock_docs();
        // A reopened document keeps its run counter and publication lock, so that a run of
        // the closed one still in flight cannot publish over the new one's results.
        let (run_seq, published) = docs
            .get(&uri)
            .map(|d| (d.run_seq, d.published.clone()))
            .unwrap_or_default();
        docs.insert(
            uri,
            Doc {
                snapshot,
                scheduled: false,
                last_run: None,
                run_seq,
                published,
                last_published: None,
                scope: HashSet::new(),
                passed_on: None,
            },
        );
    }

    /// Replace a document's text by applying `change` to the current one. Returns the previous
    /// snapshot (for the caller to release once the new one is on its way), or `None` for an
    /// unknown document.
    pub fn change(
        &self,
        uri: &Uri,
        version: i32,
        change: impl FnOnce(&SourceFile) -> SourceFile,
    ) -> Option<Arc<Snapshot>> {
        let mut docs = self.lock_docs();
        let doc = docs.get_mut(uri)?;
        if version <= doc.snapshot.version {
            tracing::warn!(
                "change to version {version} of {} arrived after version {}",
                uri.as_str(),
                doc.snapshot.version
            );
        }
        let source = change(&doc.snapshot.source);
        let file_type = doc.snapshot.file_type;
        Some(std::mem::replace(
            &mut doc.snapshot,
            Arc::new(Snapshot::new(uri.clone(), version, source, file_type)),
        ))
    }

    /// Forget a closed document; the open documents that shared templates with it are linted
    /// again (its text on disk takes its place).
    pub fn close(self: &Arc<Self>, uri: &Uri) {
        let Some(doc) = self.lock_docs().remove(uri) else {
            return;
        };
        self.lint_sharing(uri, &doc.scope);
    }

    /// The current snapshot of an open document.
    pub fn snapshot(&self, uri: &Uri) -> Option<Arc<Snapshot>> {
        self.lock_docs().get(uri).map(|d| d.snapshot.clone())
    }

    /// Every open document's current snapshot.
    pub fn snapshots(&self) -> Vec<Arc<Snapshot>> {
        self.lock_docs()
            .values()
            .map(|d| d.snapshot.clone())
            .collect()
    }

    /// Facts for the view of the document `uri` under `settings`: the answers known now to
    /// the lookups the engine plans for it ([`pin_core::engine::file_queries`]); missing
    /// registry answers are looked up in the background (and the document linted again when
    /// they arrive).
    pub fn facts(self: &Arc<Self>, view: &View, settings: &Settings, uri: &Uri) -> FileFacts {
        self.facts_with(view, view.extras(), settings, uri)
    }

    /// [`Session::facts`] for a hover: with the images the template layer's hover records say
    /// reach the document's use sites (the records are built now if no hover asked before).
    pub fn hover_facts(self: &Arc<Self>, view: &View, settings: &Settings, uri: &Uri) -> FileFacts {
        self.facts_with(view, view.hover_extras(), settings, uri)
    }

    fn facts_with(
        self: &Arc<Self>,
        view: &View,
        extras: Option<&pin_core::template::FileExtras>,
        settings: &Settings,
        uri: &Uri,
    ) -> FileFacts {
        let config = self.config();
        let online = config.resolver.is_some();
        let queries = pin_core::engine::file_queries(
            &view.analysis,
            extras,
            settings,
            crate::lookup::plan_options(online),
        );
        let (facts, lookups) =
            self.facts
                .facts_for(&queries, &config.catalogs, &config.vm_catalogs, online, uri);
        if let (Some(resolver), false) = (config.resolver.clone(), lookups.is_empty()) {
            self.spawn_lookups(resolver, lookups);
        }
        facts
    }

    /// Findings of a snapshot with the facts known now, under the settings of the
    /// `pin-lint.toml` that governs it (none for a file it excludes), with the template
    /// layer's view of the workspace. Blocking (the layer may run): call it off the async
    /// workers when it may be slow.
    pub fn findings(self: &Arc<Self>, snapshot: &Snapshot) -> Linted {
        self.findings_then(snapshot, |linted| linted)
    }

    /// The view of a snapshot as [`Session::findings`] builds it, without facts or findings
    /// (so no background lookups are started): for commands that resolve and wait.
    pub fn view(&self, snapshot: &Snapshot) -> View {
        if !self.configs.settings_for(&snapshot.uri).1 {
            return View::plain(snapshot.analysis().clone());
        }
        self.view_then(snapshot, |view| view)
    }

    /// [`Session::findings`], handed to `then` before the temporary trees of a template run
    /// are freed (the lint publishes from there).
    fn findings_then<R>(
        self: &Arc<Self>,
        snapshot: &Snapshot,
        then: impl FnOnce(Linted) -> R,
    ) -> R {
        let (settings, included) = self.configs.settings_for(&snapshot.uri);
        if !included {
            return then(Linted {
                facts: FileFacts::default(),
                settings,
                findings: Vec::new(),
                view: View::plain(snapshot.analysis().clone()),
            });
        }
        self.view_then(snapshot, |view| {
            let facts = self.facts(&view, &settings, &snapshot.uri);
            let findings = view.findings(&settings, &facts.facts);
            then(Linted {
                facts,
                settings,
                findings,
                view,
            })
        })
    }

    /// The edits of the document's fixes as `pin-lint --fix` applies them: the engine
    /// chooses and applies them ([`engine::fix::prepare`]: none while a lookup they depend on
    /// has failed or the document does not parse), then the fixed text, judged with the
    /// workspace as a lint run would judge it, must parse and need no further fix
    /// ([`engine::fix::verify`]). `None` when there is nothing to fix or the fixes do not
    /// hold. Blocking (the template layer may run).
    pub fn fix_edits(&self, snapshot: &Snapshot, linted: &Linted) -> Option<Vec<Edit>> {
        let file = engine::File {
            path: snapshot.path.clone(),
            analysis: Analysis::clone(&linted.view.analysis),
        };
        let request = FixRequest {
            file: 0,
            findings: &linted.findings,
            settings: &linted.settings,
            facts: &linted.facts.facts,
            unresolved: &linted.facts.unresolved,
        };
        let fix = match engine::fix::prepare(&file, linted.view.extras(), &request) {
            (Some(Status::Fixed), Some(fix)) => fix,
            (Some(Status::Skipped(why) | Status::Failed(why)), _) => {
                tracing::info!("{}: {why}", snapshot.uri.as_str());
                return None;
            }
            _ => return None,
        };
        let after = Snapshot::new(
            snapshot.uri.clone(),
            snapshot.version,
            SourceFile::new(fix.text),
            snapshot.file_type,
        );
        let verdict = self.view_then(&after, |view| {
            let findings = view.findings(&linted.settings, &linted.facts.facts);
            engine::fix::verify(&view.analysis, &findings, &linted.settings)
        });
        match verdict {
            Ok(()) => Some(fix.edits),
            Err(why) => {
                tracing::warn!("{}: {why}", snapshot.uri.as_str());
                None
            }
        }
    }

    /// The folder template-layer names are relative to: the workspace folder when there is
    /// exactly one (analyzer path, without a trailing `/`).
    fn layer_root(&self) -> Option<String> {
        match &self.workspace.roots()[..] {
            [root] => Some(
                crate::workspace::analyzer_path_of(root)
                    .trim_end_matches('/')
                    .to_string(),
            ),
            _ => None,
        }
    }

    /// The name the template layer gives the file at `path`: relative to `root` (see
    /// [`Session::layer_root`]) when the file is inside it, else the path itself.
    fn layer_name(root: Option<&str>, path: &str) -> String {
        root.and_then(|root| path.strip_prefix(root))
            .and_then(|r| r.strip_prefix('/'))
            .map_or_else(|| path.to_string(), str::to_string)
    }

    /// Every file that takes part in the template layer: `snapshot` first, then the other
    /// open documents, then the indexed files that are not open.
    fn layer_files(&self, snapshot: &Snapshot) -> Vec<LayerFile> {
        let root = self.layer_root();
        let mut taken: HashSet<String> = HashSet::new();
        let mut files = Vec::new();
        let mut push = |path: &str, analysis: &Arc<Analysis>, hints: &dyn Fn() -> Arc<Hints>| {
            files.push(LayerFile {
                name: Self::layer_name(root.as_deref(), path),
                analysis: analysis.clone(),
                hints: hints(),
            });
        };
        taken.insert(snapshot.path.clone());
        push(&snapshot.path, snapshot.analysis(), &|| snapshot.hints());
        for other in self.snapshots() {
            if taken.insert(other.path.clone())
                && templates::takes_part(&other.path, other.analysis())
                && self.file_included(&other.uri, &other.path)
            {
                push(&other.path, other.analysis(), &|| other.hints());
            }
        }
        for file in self.workspace.files() {
            let path = crate::workspace::analyzer_path_of(&file.path);
            if taken.insert(path.clone())
                && templates::takes_part(&path, &file.analysis)
                && self.configs.is_included(&file.path)
            {
                push(&path, &file.analysis, &|| file.hints());
            }
        }
        files
    }

    fn file_included(&self, uri: &Uri, path: &str) -> bool {
        uri.scheme().as_str() != "file" || self.configs.is_included(Path::new(path))
    }

    /// A snapshot as the rules see it: with the template layer's results when it is an Azure
    /// Pipelines file and the workspace has been read. Handed to `then` before the temporary
    /// trees of a template run are freed.
    fn view_then<R>(&self, snapshot: &Snapshot, then: impl FnOnce(View) -> R) -> R {
        if !self.workspace.is_ready() {
            return then(View::plain(snapshot.analysis().clone()));
        }
        // A version not analysed yet is parsed once, for its analysis and for the layer.
        let yaml = (snapshot.analysis.get().is_none()
            && is_pipeline_file(Path::new(&snapshot.path)))
        .then(|| pin_core::yaml::parse_for_analysis(snapshot.source.text()));
        if let Some(parsed) = &yaml {
            let text = snapshot.source.text().to_string();
            let _ = snapshot.analysis.set(Arc::new(Analysis::from_yaml_as(
                &snapshot.path,
                text,
                parsed,
                snapshot.file_type,
            )));
        }
        let analysis = snapshot.analysis();
        if !templates::takes_part(&snapshot.path, analysis) {
            return then(View::plain(analysis.clone()));
        }
        let files = self.layer_files(snapshot);
        let scope = templates::scope(&files, 0);
        let tree = yaml.map(|parsed| match parsed {
            Ok(tree) | Err((_, tree)) => tree,
        });
        self.templates.run_then(&files, &scope, tree, |run| {
            then(match run {
                Some(run) => View::with_run(analysis, run, files[0].name.clone()),
                None => View::plain(analysis.clone()),
            })
        })
    }

    /// Lint again the open documents (other than `uri`) among `names` (template-layer names).
    fn lint_sharing(self: &Arc<Self>, uri: &Uri, names: &HashSet<String>) {
        if names.is_empty() {
            return;
        }
        let root = self.layer_root();
        let others: Vec<Uri> = self
            .lock_docs()
            .iter()
            .filter(|(u, d)| {
                *u != uri && names.contains(&Self::layer_name(root.as_deref(), &d.snapshot.path))
            })
            .map(|(u, _)| u.clone())
            .collect();
        for other in others {
            self.schedule_lint(&other);
        }
    }

    fn spawn_lookups(self: &Arc<Self>, resolver: Resolver, lookups: Vec<Lookup>) {
        let this = self.clone();
        let generation = self.facts.generation();
        tokio::spawn(async move {
            tracing::debug!("looking up {} references", lookups.len());
            let queries = lookups.iter().map(|l| l.query.clone()).collect();
            let answers = resolver.resolve_all(queries).await;
            for uri in this.facts.record(generation, &lookups, answers) {
                this.schedule_lint(&uri);
            }
        });
    }

    /// Resolve every registry lookup the engine plans for `views` (each with the document it
    /// shows) now and wait for the answers (for commands, which may take their time; lint
    /// runs never do this). Documents their `pin-lint.toml` excludes are left out.
    pub async fn resolve_now(self: &Arc<Self>, views: &[(&View, &Uri)]) {
        let config = self.config();
        let Some(resolver) = config.resolver.clone() else {
            return;
        };
        let mut seen = std::collections::HashSet::new();
        let mut lookups: Vec<Lookup> = Vec::new();
        for (view, uri) in views {
            let (settings, included) = self.configs.settings_for(uri);
            if !included {
                continue;
            }
            let queries = view.queries(&settings, true);
            lookups.extend(
                FactCache::all_lookups(&queries, &config.catalogs)
                    .into_iter()
                    .filter(|l| seen.insert(l.key.clone())),
            );
        }
        if lookups.is_empty() {
            return;
        }
        let generation = self.facts.generation();
        let answers = resolver
            .resolve_all(lookups.iter().map(|l| l.query.clone()).collect())
            .await;
        for uri in self.facts.record(generation, &lookups, answers) {
            self.schedule_lint(&uri);
        }
    }

    /// Lint one document soon: at once after a quiet period, else when [`DEBOUNCE`] has passed
    /// since its last run. A run already scheduled picks up the latest text.
    pub fn schedule_lint(self: &Arc<Self>, uri: &Uri) {
        let delay = {
            let mut docs = self.lock_docs();
            let Some(doc) = docs.get_mut(uri) else {
                return;
            };
            if doc.scheduled {
                return;
            }
            doc.scheduled = true;
            doc.last_run
                .map_or(Duration::ZERO, |t| DEBOUNCE.saturating_sub(t.elapsed()))
        };
        let this = self.clone();
        let uri = uri.clone();
        if delay.is_zero() && self.workspace.is_ready() {
            tokio::task::spawn_blocking(move || this.lint(&uri));
            return;
        }
        tokio::spawn(async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if !this.workspace.is_ready() {
                // The template layer needs the workspace; the index ending relints anyway.
                let _ = tokio::time::timeout(INDEX_WAIT, this.workspace.wait_ready()).await;
            }
            if let Err(e) = tokio::task::spawn_blocking(move || this.lint(&uri)).await {
                tracing::error!("a lint run failed: {e}");
            }
        });
    }

    /// The type `[files]` in the governing `pin-lint.toml` gives the document at `uri`.
    fn file_type_of(&self, uri: &Uri) -> Option<Dialect> {
        uri.to_file_path()
            .filter(|_| uri.scheme().as_str() == "file")
            .and_then(|path| self.configs.file_type(&path))
    }

    /// Lint every open document again (settings, catalogs or config changed). A document
    /// whose type under `[files]` changed is read again as its new type.
    pub fn relint_all(self: &Arc<Self>) {
        let uris: Vec<Uri> = self.lock_docs().keys().cloned().collect();
        for uri in &uris {
            let file_type = self.file_type_of(uri);
            if let Some(doc) = self.lock_docs().get_mut(uri) {
                let old = &doc.snapshot;
                if old.file_type != file_type {
                    doc.snapshot = Arc::new(Snapshot::new(
                        uri.clone(),
                        old.version,
                        old.source.clone(),
                        file_type,
                    ));
                }
            }
        }
        for uri in uris {
            self.schedule_lint(&uri);
        }
    }

    /// One lint run, on a blocking thread: the diagnostics of the document's current snapshot,
    /// published from here if that snapshot is still current and no later run has published.
    fn lint(self: Arc<Self>, uri: &Uri) {
        let (snapshot, seq, published) = {
            let mut docs = self.lock_docs();
            let Some(doc) = docs.get_mut(uri) else {
                return;
            };
            doc.scheduled = false;
            doc.last_run = Some(Instant::now());
            doc.run_seq += 1;
            (doc.snapshot.clone(), doc.run_seq, doc.published.clone())
        };
        let encoding = self.info().encoding;
        let started = Instant::now();
        let sharing = self.findings_then(&snapshot, |linted| {
            let source = &linted.view.analysis.source;
            let diagnostics = linted
                .findings
                .iter()
                .map(|f| to_diagnostic(f, source, encoding))
                .collect::<Vec<Diagnostic>>();
            let json = serde_json::to_vec(&diagnostics).unwrap_or_else(|e| {
                tracing::error!("cannot serialise diagnostics: {e}");
                b"[]".to_vec()
            });
            tracing::debug!(
                version = snapshot.version,
                findings = diagnostics.len(),
                "linted in {:?}",
                started.elapsed()
            );
            let scope = templates::names_of(linted.view.run());
            self.settle(uri, &snapshot, seq, &published, json, scope)
        });
        if let Some(names) = sharing {
            self.lint_sharing(uri, &names);
        }
        let problems = self.configs.take_errors();
        if !problems.is_empty() {
            let this = self.clone();
            tokio::spawn(async move { this.show_problems(problems).await });
        }
    }

    /// Log each problem and show it to the user as a warning.
    pub async fn show_problems(&self, problems: Vec<String>) {
        for problem in problems {
            tracing::warn!("{problem}");
            self.client
                .show_message(tower_lsp_server::ls_types::MessageType::WARNING, problem)
                .await;
        }
    }

    /// Publish a run's diagnostics if its snapshot is still the document's current one, no
    /// later run has published, and they differ from what was published for this version.
    /// Returns the template-layer names of the documents to lint again when this version's
    /// text has not been passed on to them yet.
    fn settle(
        &self,
        uri: &Uri,
        snapshot: &Snapshot,
        seq: u64,
        published: &Mutex<u64>,
        diagnostics: Vec<u8>,
        scope: HashSet<String>,
    ) -> Option<HashSet<String>> {
        let mut last = published
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut docs = self.lock_docs();
        let doc = match docs.get_mut(uri) {
            Some(doc) if doc.snapshot.version == snapshot.version && seq > *last => doc,
            other => {
                tracing::debug!(
                    "dropping diagnostics of {} version {} (now {:?})",
                    uri.as_str(),
                    snapshot.version,
                    other.map(|d| d.snapshot.version)
                );
                return None;
            }
        };
        *last = seq;
        let unchanged = doc
            .last_published
            .as_ref()
            .is_some_and(|(v, d)| *v == snapshot.version && *d == diagnostics);
        if unchanged {
            tracing::debug!(
                "diagnostics of {} version {} unchanged",
                uri.as_str(),
                snapshot.version
            );
        } else {
            self.publish(uri, Some(snapshot.version), &diagnostics);
            doc.last_published = Some((snapshot.version, diagnostics));
        }
        // A new text changes what the documents sharing its templates see.
        let sharing = (doc.passed_on != Some(snapshot.version)).then(|| {
            doc.passed_on = Some(snapshot.version);
            doc.scope
                .union(&scope)
                .cloned()
                .collect::<HashSet<String>>()
        });
        doc.scope = scope;
        sharing
    }

    /// Publish diagnostics (already serialised as a JSON array) for a document.
    pub fn publish(&self, uri: &Uri, version: Option<i32>, diagnostics_json: &[u8]) {
        if !self
            .outbox
            .send(&publication(uri, version, diagnostics_json))
        {
            tracing::warn!(
                "the output is closed; diagnostics of {} dropped",
                uri.as_str()
            );
        }
    }

    fn lock_docs(&self) -> std::sync::MutexGuard<'_, HashMap<Uri, Doc>> {
        self.docs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
