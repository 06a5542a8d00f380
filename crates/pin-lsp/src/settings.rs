//! What the editor tells the server (`initializationOptions`, `workspace/didChangeConfiguration`)
//! and the analyzer settings for a document.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use pin_core::config::{self, Config};
use pin_core::dialect::Dialect;
use pin_core::Settings;
use serde::Deserialize;
use tower_lsp_server::ls_types::Uri;

/// Client settings. Accepted with or without a `pinLint` wrapper object:
/// `{ "pinLint": { "online": true } }` and `{ "online": true }` mean the same.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClientSettings {
    /// Ask registries for stale/missing digests and for digests to pin (background lookups).
    /// Unset: `online` of the workspace's `pin-lint.toml`, else off.
    pub online: Option<bool>,
    /// Digest catalogs (TSV or dotnet image-info JSON), consulted before any registry.
    /// Relative paths are taken from the first workspace folder.
    pub catalogs: Vec<String>,
    /// Registries (`host[:port]`) that may be spoken to over plain HTTP.
    pub insecure_registries: Vec<String>,
    /// `error`, `warn`, `info`, `debug` or `trace`, or a `tracing` filter directive.
    pub log_level: Option<String>,
}

impl ClientSettings {
    /// Read settings from a JSON value; `null` or an absent section gives the defaults.
    pub fn from_json(value: &serde_json::Value) -> Result<ClientSettings, serde_json::Error> {
        let inner = value.get("pinLint").unwrap_or(value);
        if inner.is_null() {
            return Ok(ClientSettings::default());
        }
        serde_json::from_value(inner.clone())
    }

    /// Catalog paths made absolute against `root` (when there is one); a URL is kept as
    /// written.
    pub fn catalog_paths(&self, root: Option<&Path>) -> Vec<PathBuf> {
        self.catalogs
            .iter()
            .map(|c| {
                let p = PathBuf::from(c);
                match root {
                    Some(root) if p.is_relative() && !pin_resolve::is_catalog_url(c) => {
                        root.join(p)
                    }
                    _ => p,
                }
            })
            .collect()
    }
}

/// The `pin-lint.toml` that governs each document, found and read with pin-core's shared
/// discovery (`config::load_for`), so a file is judged by the same settings in the editor as
/// in the terminal and in CI. Cached per folder; cleared when a `pin-lint.toml` changes.
#[derive(Default)]
pub struct ConfigCache {
    by_dir: Mutex<HashMap<PathBuf, Arc<Loaded>>>,
    errors: Mutex<Vec<String>>,
}

/// A configuration and the analyzer settings it gives.
pub struct Loaded {
    /// The file's contents (defaults when no file governs the folder).
    pub config: Config,
    /// `config.settings()`, computed once.
    pub settings: Settings,
}

impl ConfigCache {
    /// The configuration governing `dir` (defaults when none does or the file is invalid; an
    /// invalid file is reported once through [`ConfigCache::take_errors`]).
    pub fn for_dir(&self, dir: &Path) -> Arc<Loaded> {
        if let Some(hit) = lock(&self.by_dir).get(dir) {
            return hit.clone();
        }
        let config = config::load_for(dir).unwrap_or_else(|e| {
            lock(&self.errors).push(format!("pin-lint: {e}; using the default settings"));
            Config::default()
        });
        let loaded = Arc::new(Loaded {
            settings: config.settings(),
            config,
        });
        lock(&self.by_dir).insert(dir.to_path_buf(), loaded.clone());
        loaded
    }

    /// Analyzer settings for the document at `uri`, and whether the configuration's
    /// `include`/`exclude` lets it be checked at all. Documents that are not files get the
    /// defaults.
    pub fn settings_for(&self, uri: &Uri) -> (Settings, bool) {
        let Some(path) = uri
            .to_file_path()
            .filter(|_| uri.scheme().as_str() == "file")
        else {
            return (Settings::default(), true);
        };
        let Some(dir) = path.parent() else {
            return (Settings::default(), true);
        };
        let loaded = self.for_dir(dir);
        (loaded.settings.clone(), loaded.config.is_included(&path))
    }

    /// The type `[files]` in the configuration governing the file at `path` gives it, if
    /// any (`Config::file_type`, as the CLI's walk asks it).
    pub fn file_type(&self, path: &Path) -> Option<Dialect> {
        path.parent()
            .and_then(|dir| self.for_dir(dir).config.file_type(path))
    }

    /// Whether the configuration governing the file at `path` lets it be checked.
    pub fn is_included(&self, path: &Path) -> bool {
        path.parent()
            .is_none_or(|dir| self.for_dir(dir).config.is_included(path))
    }

    /// Forget every loaded configuration (a `pin-lint.toml` changed).
    pub fn clear(&self) {
        lock(&self.by_dir).clear();
    }

    /// Problems met while loading, not yet shown to the user.
    pub fn take_errors(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.errors))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_settings_with_and_without_the_wrapper() {
        let wrapped = json!({"pinLint": {"online": true, "catalogs": ["a.tsv"],
            "insecureRegistries": ["127.0.0.1:5000"], "logLevel": "debug"}});
        let bare = json!({"online": true, "catalogs": ["a.tsv"],
            "insecureRegistries": ["127.0.0.1:5000"], "logLevel": "debug"});
        let a = ClientSettings::from_json(&wrapped).expect("wrapped");
        assert_eq!(a, ClientSettings::from_json(&bare).expect("bare"));
        assert_eq!(a.online, Some(true));
        assert_eq!(a.insecure_registries, ["127.0.0.1:5000"]);
        assert_eq!(
            ClientSettings::from_json(&serde_json::Value::Null).expect("null"),
            ClientSettings::default()
        );
        assert!(ClientSettings::from_json(&json!({"online": "yes"})).is_err());
        assert_eq!(
            a.catalog_paths(Some(Path::new("/ws"))),
            [PathBuf::from("/ws/a.tsv")]
        );
    }

    #[test]
    fn pin_lint_toml_governs_documents_below_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join(".git")).expect("mkdir");
        std::fs::create_dir_all(dir.path().join("eng/vendor")).expect("mkdir");
        std::fs::write(
            dir.path().join("pin-lint.toml"),
            "ignore = [\"unpinned-image\"]\nexclude = [\"eng/vendor\"]\n",
        )
        .expect("write");
        let cache = ConfigCache::default();
        let uri = |rel: &str| -> Uri { Uri::from_file_path(dir.path().join(rel)).expect("uri") };
        let (settings, included) = cache.settings_for(&uri("eng/ci.yml"));
        assert!(included);
        let unpinned = pin_core::Rule::from_id("unpinned-image").expect("rule");
        assert_eq!(settings.severity_of(unpinned), None);
        assert!(!cache.settings_for(&uri("eng/vendor/x.yml")).1);

        std::fs::write(dir.path().join("pin-lint.toml"), "nonsense = 1\n").expect("write");
        cache.clear();
        let (settings, _) = cache.settings_for(&uri("eng/ci.yml"));
        assert!(settings.severity_of(unpinned).is_some());
        let errors = cache.take_errors();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("nonsense"), "{errors:?}");
    }
}
