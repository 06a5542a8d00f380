//! The LSP handlers: thin glue between the protocol and the [`Session`].

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{json, Value};
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::{
    CodeActionKind, CodeActionOptions, CodeActionParams, CodeActionProviderCapability,
    CodeActionResponse, ConfigurationItem, DidChangeConfigurationParams,
    DidChangeTextDocumentParams, DidChangeWatchedFilesParams,
    DidChangeWatchedFilesRegistrationOptions, DidChangeWorkspaceFoldersParams,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, ExecuteCommandOptions,
    ExecuteCommandParams, FileSystemWatcher, GlobPattern, Hover, HoverContents, HoverParams,
    HoverProviderCapability, InitializeParams, InitializeResult, InitializedParams, MarkupContent,
    MarkupKind, Registration, ServerCapabilities, ServerInfo, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextDocumentSyncOptions, Uri, WorkspaceFoldersServerCapabilities,
    WorkspaceServerCapabilities,
};
use tower_lsp_server::{Client, LanguageServer};

use crate::actions::{self, ActionInput, FileEdits, FIX_ALL_KIND};
use crate::hover;
use crate::positions::{self, Encoding};
use crate::session::{analyzer_path, ClientInfo, Session, SetLogLevel, Snapshot};
use crate::settings::ClientSettings;
use crate::transport::Outbox;
use crate::workspace::is_pipeline_file;
use pin_core::Edit;

/// `workspace/executeCommand`: apply every safe fix of one file (argument: its URI, as a
/// string or `{ "uri": … }`).
pub const CMD_PIN_ALL_IN_FILE: &str = "pinLint.pinAllInFile";
/// `workspace/executeCommand`: pin and bump every pipeline file of the workspace with fresh
/// registry answers (no argument).
pub const CMD_BUMP_WORKSPACE: &str = "pinLint.bumpWorkspace";

/// The language server.
pub struct Backend {
    session: Arc<Session>,
}

impl Backend {
    /// A server talking to `client` (diagnostics go out through `outbox`); `set_log_level`
    /// applies the `logLevel` setting.
    pub fn new(client: Client, outbox: Outbox, set_log_level: SetLogLevel) -> Backend {
        Backend {
            session: Arc::new(Session::new(client, outbox, set_log_level)),
        }
    }

    async fn show_problems(&self, problems: Vec<String>) {
        self.session.show_problems(problems).await;
    }

    async fn apply_settings_value(&self, value: &Value) {
        match ClientSettings::from_json(value) {
            Ok(settings) => {
                let problems = self.session.apply_settings(settings);
                self.session.fetch_catalogs();
                self.session.relint_all();
                self.show_problems(problems).await;
            }
            Err(e) => {
                self.show_problems(vec![format!("pin-lint: invalid settings: {e}")])
                    .await;
            }
        }
    }

    async fn register_watchers(&self) {
        let mut globs = vec![
            "**/*.yml".to_string(),
            "**/*.yaml".to_string(),
            "**/pin-lint.toml".to_string(),
        ];
        globs.extend(
            self.session
                .config()
                .catalog_paths
                .iter()
                .map(|p| p.to_string_lossy().into_owned()),
        );
        let options = DidChangeWatchedFilesRegistrationOptions {
            watchers: globs
                .into_iter()
                .map(|g| FileSystemWatcher {
                    glob_pattern: GlobPattern::String(g),
                    kind: None,
                })
                .collect(),
        };
        let registration = Registration {
            id: "pin-lint-watchers".to_string(),
            method: "workspace/didChangeWatchedFiles".to_string(),
            register_options: serde_json::to_value(options).ok(),
        };
        if let Err(e) = self
            .session
            .client
            .register_capability(vec![registration])
            .await
        {
            tracing::warn!("the client refused file watchers: {e}");
        }
    }

    fn reindex(&self) {
        let session = self.session.clone();
        tokio::spawn(async move {
            let indexer = session.clone();
            let indexed = tokio::task::spawn_blocking(move || {
                let started = std::time::Instant::now();
                let count = indexer
                    .workspace
                    .rebuild(&|path| indexer.configs.file_type(path));
                tracing::info!("indexed {count} pipeline files in {:?}", started.elapsed());
            })
            .await;
            if let Err(e) = indexed {
                tracing::error!("indexing the workspace failed: {e}");
            }
            // What the template layer sees has changed.
            session.relint_all();
        });
    }

    /// The view of a snapshot (what needs looking up), without facts or findings.
    async fn view(&self, snapshot: &Arc<Snapshot>) -> Result<crate::templates::View> {
        self.off_workers(snapshot, |session, snapshot| session.view(snapshot))
            .await
    }

    async fn off_workers<R: Send + 'static>(
        &self,
        snapshot: &Arc<Snapshot>,
        work: impl FnOnce(&Arc<Session>, &Snapshot) -> R + Send + 'static,
    ) -> Result<R> {
        let session = self.session.clone();
        let snapshot = snapshot.clone();
        tokio::task::spawn_blocking(move || work(&session, &snapshot))
            .await
            .map_err(|e| {
                tracing::error!("computing findings failed: {e}");
                Error::internal_error()
            })
    }

    fn snapshot_or_err(&self, uri: &Uri) -> Result<Arc<Snapshot>> {
        self.session
            .snapshot(uri)
            .ok_or_else(|| Error::invalid_params(format!("document not open: {}", uri.as_str())))
    }

    /// A snapshot's fix edits with the facts known now ([`Session::fix_edits`]), computed
    /// off the async workers.
    async fn fix_edits(&self, snapshot: &Arc<Snapshot>) -> Result<Option<Vec<Edit>>> {
        self.off_workers(snapshot, |session, snapshot| {
            let linted = session.findings(snapshot);
            session.fix_edits(snapshot, &linted)
        })
        .await
    }

    async fn pin_all_in_file(&self, uri: Uri) -> Result<Value> {
        let snapshot = self.snapshot_or_err(&uri)?;
        let before = self.view(&snapshot).await?;
        self.session.resolve_now(&[(&before, &uri)]).await;
        let Some(edits) = self.fix_edits(&snapshot).await? else {
            return Ok(json!({ "applied": false, "edits": 0 }));
        };
        let source = &snapshot.source;
        let info = self.session.info();
        let count = edits.len();
        let edit = actions::workspace_edit(
            vec![FileEdits {
                uri,
                version: Some(snapshot.version),
                edits: actions::text_edits(source, &edits, info.encoding),
            }],
            info.document_changes,
        );
        let applied = self.apply(edit).await?;
        Ok(json!({ "applied": applied, "edits": count }))
    }

    async fn bump_workspace(&self) -> Result<Value> {
        let session = &self.session;
        if let Some(resolver) = &session.config().resolver {
            resolver.clear_memory_cache();
        }
        session.facts.clear();
        let mut snapshots = session.snapshots();
        let open: std::collections::HashSet<String> =
            snapshots.iter().map(|s| s.path.clone()).collect();
        for file in session.workspace.files() {
            let Some(uri) = Uri::from_file_path(&file.path) else {
                continue;
            };
            if open.contains(&analyzer_path(&uri)) {
                continue;
            }
            // Not open: no version; the edit addresses the text on disk.
            snapshots.push(Arc::new(Snapshot::with_analysis(
                uri,
                -1,
                file.analysis.clone(),
            )));
        }
        let mut views = Vec::with_capacity(snapshots.len());
        for snapshot in &snapshots {
            views.push(self.view(snapshot).await?);
        }
        let views: Vec<_> = views
            .iter()
            .zip(&snapshots)
            .map(|(v, s)| (v, &s.uri))
            .collect();
        session.resolve_now(&views).await;
        let info = session.info();
        let mut files = Vec::new();
        let mut count = 0;
        for snapshot in &snapshots {
            if let Some(edits) = self.fix_edits(snapshot).await? {
                count += edits.len();
                files.push(FileEdits {
                    uri: snapshot.uri.clone(),
                    version: (snapshot.version >= 0).then_some(snapshot.version),
                    edits: actions::text_edits(&snapshot.source, &edits, info.encoding),
                });
            }
        }
        let file_count = files.len();
        if files.is_empty() {
            return Ok(json!({ "applied": false, "files": 0, "edits": 0 }));
        }
        let applied = self
            .apply(actions::workspace_edit(files, info.document_changes))
            .await?;
        Ok(json!({ "applied": applied, "files": file_count, "edits": count }))
    }

    async fn apply(&self, edit: tower_lsp_server::ls_types::WorkspaceEdit) -> Result<bool> {
        let response = self.session.client.apply_edit(edit).await?;
        if !response.applied {
            tracing::warn!(
                "the client did not apply the edit: {}",
                response.failure_reason.unwrap_or_default()
            );
        }
        Ok(response.applied)
    }
}

fn uri_argument(args: &[Value]) -> Result<Uri> {
    let raw = match args.first() {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) => o
            .get("uri")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| Error::invalid_params("expected { \"uri\": … }"))?,
        _ => {
            return Err(Error::invalid_params(
                "expected the document URI as argument",
            ))
        }
    };
    raw.parse::<Uri>()
        .map_err(|e| Error::invalid_params(format!("invalid URI `{raw}`: {e}")))
}

fn roots_of(params: &InitializeParams) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = params
        .workspace_folders
        .iter()
        .flatten()
        .filter_map(|f| f.uri.to_file_path().map(|p| p.into_owned()))
        .collect();
    #[allow(deprecated)]
    if roots.is_empty() {
        if let Some(p) = params.root_uri.as_ref().and_then(|u| u.to_file_path()) {
            roots.push(p.into_owned());
        }
    }
    roots
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let caps = &params.capabilities;
        let workspace = caps.workspace.as_ref();
        let info = ClientInfo {
            encoding: Encoding::negotiate(
                caps.general
                    .as_ref()
                    .and_then(|g| g.position_encodings.as_deref()),
            ),
            document_changes: workspace
                .and_then(|w| w.workspace_edit.as_ref())
                .and_then(|e| e.document_changes)
                .unwrap_or(false),
            watch_registration: workspace
                .and_then(|w| w.did_change_watched_files.as_ref())
                .and_then(|d| d.dynamic_registration)
                .unwrap_or(false),
            configuration_pull: workspace.and_then(|w| w.configuration).unwrap_or(false),
        };
        self.session.set_client_info(info);
        self.session.workspace.set_roots(roots_of(&params));
        // Always applied, also without options: the workspace's pin-lint.toml may name
        // catalogs or turn lookups on.
        let options = params.initialization_options.clone().unwrap_or(Value::Null);
        let settings = ClientSettings::from_json(&options)
            .map_err(|e| Error::invalid_params(format!("invalid initializationOptions: {e}")))?;
        for p in self.session.apply_settings(settings) {
            tracing::warn!("{p}");
        }
        self.session.fetch_catalogs();
        tracing::info!(?info, roots = ?self.session.workspace.roots(), "initialize");
        Ok(InitializeResult {
            server_info: Some(ServerInfo {
                name: "pin-lsp".to_string(),
                version: Some(env!("CARGO_PKG_VERSION").to_string()),
            }),
            capabilities: ServerCapabilities {
                position_encoding: Some(info.encoding.kind()),
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        ..TextDocumentSyncOptions::default()
                    },
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(vec![CodeActionKind::QUICKFIX, FIX_ALL_KIND]),
                        resolve_provider: Some(false),
                        ..CodeActionOptions::default()
                    },
                )),
                execute_command_provider: Some(ExecuteCommandOptions {
                    commands: vec![
                        CMD_PIN_ALL_IN_FILE.to_string(),
                        CMD_BUMP_WORKSPACE.to_string(),
                    ],
                    ..ExecuteCommandOptions::default()
                }),
                workspace: Some(WorkspaceServerCapabilities {
                    workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                        supported: Some(true),
                        change_notifications: Some(tower_lsp_server::ls_types::OneOf::Left(true)),
                    }),
                    file_operations: None,
                }),
                ..ServerCapabilities::default()
            },
            ..InitializeResult::default()
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        self.reindex();
        if self.session.info().watch_registration {
            self.register_watchers().await;
        }
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let doc = params.text_document;
        self.session.open(doc.uri.clone(), doc.version, doc.text);
        self.session.schedule_lint(&doc.uri);
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let doc = params.text_document;
        let encoding = self.session.info().encoding;
        let changes = params.content_changes;
        let previous = self.session.change(&doc.uri, doc.version, |old| {
            positions::apply_changes(old, changes, encoding)
        });
        if let Some(previous) = previous {
            self.session.schedule_lint(&doc.uri);
            // Freeing the previous version's analysis waits until the lint is under way.
            drop(previous);
        } else {
            tracing::warn!(
                "change to a document that is not open: {}",
                doc.uri.as_str()
            );
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        self.session.close(&uri);
        self.session.publish(&uri, None, b"[]");
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        let empty =
            params.settings.is_null() || params.settings.as_object().is_some_and(|o| o.is_empty());
        if empty && self.session.info().configuration_pull {
            let item = ConfigurationItem {
                scope_uri: None,
                section: Some("pinLint".to_string()),
            };
            match self.session.client.configuration(vec![item]).await {
                Ok(values) => {
                    if let Some(v) = values.first() {
                        self.apply_settings_value(v).await;
                    }
                }
                Err(e) => tracing::warn!("workspace/configuration failed: {e}"),
            }
        } else {
            self.apply_settings_value(&params.settings).await;
        }
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let catalogs = self.session.config().catalog_paths.clone();
        let mut reload = false;
        let mut pipelines: Vec<PathBuf> = Vec::new();
        for change in params.changes {
            let Some(path) = change.uri.to_file_path().map(|p| p.into_owned()) else {
                continue;
            };
            if path.file_name().is_some_and(|n| n == "pin-lint.toml") || catalogs.contains(&path) {
                reload = true;
            }
            if is_pipeline_file(&path) || self.session.configs.file_type(&path).is_some() {
                pipelines.push(path);
            }
        }
        let relint = reload || !pipelines.is_empty();
        if !pipelines.is_empty() {
            // Files on disk feed the template layer of the open documents: read them again,
            // then lint the open documents against them.
            let session = self.session.clone();
            let refreshed = tokio::task::spawn_blocking(move || {
                for path in &pipelines {
                    session
                        .workspace
                        .refresh(path, session.configs.file_type(path));
                }
            })
            .await;
            if let Err(e) = refreshed {
                tracing::error!("re-reading changed files failed: {e}");
            }
        }
        let problems = if reload {
            let problems = self.session.reload();
            self.session.fetch_catalogs();
            problems
        } else {
            Vec::new()
        };
        if relint {
            self.session.relint_all();
        }
        self.show_problems(problems).await;
    }

    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        let mut roots = self.session.workspace.roots();
        let path_of = |f: &tower_lsp_server::ls_types::WorkspaceFolder| {
            f.uri.to_file_path().map(|p| p.into_owned())
        };
        let removed: Vec<PathBuf> = params.event.removed.iter().filter_map(path_of).collect();
        roots.retain(|r| !removed.contains(r));
        roots.extend(params.event.added.iter().filter_map(path_of));
        self.session.workspace.set_roots(roots);
        self.reindex();
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let at = params.text_document_position_params;
        let Some(snapshot) = self.session.snapshot(&at.text_document.uri) else {
            return Ok(None);
        };
        let encoding = self.session.info().encoding;
        let offset = positions::offset(&snapshot.source, at.position, encoding);
        // The template layer's hover records are built here, on the first hover of a run.
        let (linted, hover_facts) = self
            .off_workers(&snapshot, |session, snapshot| {
                let linted = session.findings(snapshot);
                let facts =
                    linted.view.run().is_some().then(|| {
                        session.hover_facts(&linted.view, &linted.settings, &snapshot.uri)
                    });
                (linted, facts)
            })
            .await?;
        let facts = &hover_facts.as_ref().unwrap_or(&linted.facts).shown;
        let analysis = &linted.view.analysis;
        let Some(reference) = hover::reference_at(analysis, offset) else {
            let place = linted.view.hover_extras().and_then(|extras| {
                hover::template_place(analysis.source.text(), extras, offset, facts)
            });
            return Ok(place.map(|(value, span)| Hover {
                contents: HoverContents::Markup(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value,
                }),
                range: Some(positions::range(&analysis.source, span, encoding)),
            }));
        };
        let online = self.session.config().resolver.is_some();
        let (settings, _) = self.session.configs.settings_for(&at.text_document.uri);
        Ok(Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: hover::markdown(
                    reference,
                    facts,
                    &linted.findings,
                    online,
                    linted.view.hover_extras(),
                    &settings,
                ),
            }),
            range: Some(positions::range(
                &analysis.source,
                reference.span.clone(),
                encoding,
            )),
        }))
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let uri = params.text_document.uri;
        let Some(snapshot) = self.session.snapshot(&uri) else {
            return Ok(None);
        };
        let info = self.session.info();
        let range = positions::byte_range(&snapshot.source, params.range, info.encoding);
        let only = params.context.only;
        let fix_all_wanted = actions::wanted(only.as_deref(), &actions::FIX_ALL_KIND);
        let (linted, fix_all) = self
            .off_workers(&snapshot, move |session, snapshot| {
                let linted = session.findings(snapshot);
                let fix_all = fix_all_wanted
                    .then(|| session.fix_edits(snapshot, &linted))
                    .flatten();
                (linted, fix_all)
            })
            .await?;
        let actions = actions::code_actions(&ActionInput {
            uri: &uri,
            version: snapshot.version,
            analysis: &linted.view.analysis,
            findings: &linted.findings,
            settings: &linted.settings,
            fix_all: fix_all.as_deref(),
            range,
            encoding: info.encoding,
            document_changes: info.document_changes,
            only: only.as_deref(),
        });
        Ok(Some(actions))
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<Value>> {
        let result = match params.command.as_str() {
            CMD_PIN_ALL_IN_FILE => self.pin_all_in_file(uri_argument(&params.arguments)?).await,
            CMD_BUMP_WORKSPACE => self.bump_workspace().await,
            other => Err(Error::invalid_params(format!("unknown command `{other}`"))),
        };
        result.map(Some)
    }
}
