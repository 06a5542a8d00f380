//! What the editor tells the server (`initializationOptions`, `workspace/didChangeConfiguration`)
//! and the analyzer settings for a document.

use std::path::{Path, PathBuf};

use pin_core::Settings;
use serde::Deserialize;
use tower_lsp_server::ls_types::Uri;

/// Client settings. Accepted with or without a `pinLint` wrapper object:
/// `{ "pinLint": { "online": true } }` and `{ "online": true }` mean the same.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClientSettings {
    /// Ask registries for stale/missing digests and for digests to pin (background lookups).
    pub online: bool,
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

    /// Catalog paths made absolute against `root` (when there is one).
    pub fn catalog_paths(&self, root: Option<&Path>) -> Vec<PathBuf> {
        self.catalogs
            .iter()
            .map(|c| {
                let p = PathBuf::from(c);
                match root {
                    Some(root) if p.is_relative() => root.join(p),
                    _ => p,
                }
            })
            .collect()
    }
}

/// Analyzer settings for the document at `uri`: the same rules, severities and selection the
/// CLI would use for that file.
///
/// TODO(issue 6): switch to pin-core's shared `pin-lint.toml` discovery once
/// `crates/pin-core/src/config.rs` lands; this is the only place that has to change.
pub fn settings_for(_uri: &Uri) -> Settings {
    Settings::default()
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
        assert!(a.online);
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
}
