//! Registry credentials and the `WWW-Authenticate` challenge.
//!
//! Where credentials come from, first match wins, per canonical registry (`docker.io`,
//! `ghcr.io`, `127.0.0.1:5000`):
//!
//! 1. `PIN_LINT_REGISTRY_TOKEN_<HOST>`: a registry bearer token, sent as is.
//! 2. `PIN_LINT_REGISTRY_AUTH_<HOST>`: `username:password`, used for Basic auth or to obtain
//!    a bearer token from the registry's token realm.
//!
//!    `<HOST>` is the canonical registry upper-cased with every character that is not an ASCII
//!    letter or digit replaced by `_`: `docker.io` → `DOCKER_IO`, `ghcr.io` → `GHCR_IO`,
//!    `127.0.0.1:5000` → `127_0_0_1_5000`. A variable only ever applies to its registry.
//! 3. Docker's `config.json` in `$DOCKER_CONFIG` (else `~/.docker`): `credHelpers[host]`, then
//!    `auths[host]` (`auth` base64 `user:password`, or `username`+`password`, or
//!    `identitytoken`), then `credsStore`. Helpers are run as `docker-credential-<name> get`
//!    with the server on stdin. Docker Hub is looked up as `https://index.docker.io/v1/`
//!    and its other spellings.
//!
//! Credentials are sent only to their registry and to the token realm that registry names
//! in its challenge (never over plain HTTP unless that host is an insecure registry).
//! They are never logged: the `Debug` impls here redact them.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use base64::Engine;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;

use crate::name::DOCKER_HUB;

/// Prefix of the environment variables holding `username:password` per registry.
pub const ENV_AUTH_PREFIX: &str = "PIN_LINT_REGISTRY_AUTH_";
/// Prefix of the environment variables holding a bearer token per registry.
pub const ENV_TOKEN_PREFIX: &str = "PIN_LINT_REGISTRY_TOKEN_";

/// Where to find credentials. Captured once so that a process's environment is not
/// re-read (and tests can point at temporary files without touching global state).
#[derive(Clone, Default)]
pub struct CredentialSources {
    /// Directory holding Docker's `config.json`; `None` disables config.json and helpers.
    pub docker_config_dir: Option<PathBuf>,
    /// Search path for `docker-credential-*` helpers (like `PATH`).
    pub helper_path: Option<OsString>,
    /// `PIN_LINT_REGISTRY_*` variables (name → value).
    pub env: BTreeMap<String, String>,
}

impl CredentialSources {
    /// Reads `DOCKER_CONFIG` (else `$HOME/.docker`), `PATH` and the `PIN_LINT_REGISTRY_*`
    /// variables of this process.
    pub fn from_environment() -> Self {
        let docker_config_dir = std::env::var_os("DOCKER_CONFIG")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".docker")));
        let env = std::env::vars()
            .filter(|(k, _)| k.starts_with(ENV_AUTH_PREFIX) || k.starts_with(ENV_TOKEN_PREFIX))
            .collect();
        Self {
            docker_config_dir,
            helper_path: std::env::var_os("PATH"),
            env,
        }
    }

    /// No credentials at all: anonymous access only.
    pub fn none() -> Self {
        Self::default()
    }

    /// Looks up the credential for a canonical registry; errors are logged and mean
    /// "no credential" so that a broken helper degrades to anonymous access.
    pub(crate) async fn lookup(&self, registry: &str) -> Option<Credential> {
        let var = env_suffix(registry);
        if let Some(token) = self.env.get(&format!("{ENV_TOKEN_PREFIX}{var}")) {
            return Some(Credential::Bearer(token.clone()));
        }
        if let Some(pair) = self.env.get(&format!("{ENV_AUTH_PREFIX}{var}")) {
            return match pair.split_once(':') {
                Some((u, p)) => Some(Credential::Basic {
                    username: u.to_owned(),
                    password: p.to_owned(),
                }),
                None => {
                    tracing::warn!(
                        "{ENV_AUTH_PREFIX}{var} is not `username:password`; ignoring it"
                    );
                    None
                }
            };
        }
        let dir = self.docker_config_dir.as_ref()?;
        let path = dir.join("config.json");
        let text = match tokio::fs::read_to_string(&path).await {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!("cannot read {}: {e}", path.display());
                return None;
            }
        };
        let config: DockerConfig = match serde_json::from_str(&text) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("cannot parse {}: {e}", path.display());
                return None;
            }
        };
        let keys = config_keys(registry);
        if let Some(helper) = find_entry(&config.cred_helpers, &keys) {
            return self.run_helper(helper, &keys[0]).await;
        }
        if let Some(entry) = find_entry(&config.auths, &keys) {
            if let Some(c) = entry.credential() {
                return Some(c);
            }
        }
        if let Some(store) = &config.creds_store {
            return self.run_helper(store, &keys[0]).await;
        }
        None
    }

    async fn run_helper(&self, helper: &str, server: &str) -> Option<Credential> {
        let program = format!("docker-credential-{helper}");
        let Some(exe) = self.find_program(&program) else {
            tracing::warn!("credential helper {program} not found on the search path");
            return None;
        };
        let child = tokio::process::Command::new(&exe)
            .arg("get")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("cannot run {program}: {e}");
                return None;
            }
        };
        if let Some(mut stdin) = child.stdin.take() {
            if let Err(e) = stdin.write_all(server.as_bytes()).await {
                tracing::warn!("cannot talk to {program}: {e}");
                return None;
            }
        }
        let output = match child.wait_with_output().await {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!("{program} failed: {e}");
                return None;
            }
        };
        if !output.status.success() {
            // The helper's output may hold secrets: report only the status.
            tracing::debug!(
                "{program} found no credential for {server} ({})",
                output.status
            );
            return None;
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct HelperResponse {
            username: String,
            secret: String,
        }
        match serde_json::from_slice::<HelperResponse>(&output.stdout) {
            Ok(r) if r.username == "<token>" => Some(Credential::IdentityToken(r.secret)),
            Ok(r) => Some(Credential::Basic {
                username: r.username,
                password: r.secret,
            }),
            Err(_) => {
                tracing::warn!("{program} answered something that is not credentials JSON");
                None
            }
        }
    }

    fn find_program(&self, name: &str) -> Option<PathBuf> {
        let path = self.helper_path.as_ref()?;
        std::env::split_paths(path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    }
}

impl fmt::Debug for CredentialSources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialSources")
            .field("docker_config_dir", &self.docker_config_dir)
            .field("helper_path", &self.helper_path)
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// `docker.io` → `DOCKER_IO`, `127.0.0.1:5000` → `127_0_0_1_5000`.
pub fn env_suffix(registry: &str) -> String {
    registry
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Keys under which config.json may list a registry; the first is the one given to helpers.
fn config_keys(registry: &str) -> Vec<String> {
    if registry == DOCKER_HUB {
        [
            "https://index.docker.io/v1/",
            "index.docker.io",
            "docker.io",
            "registry-1.docker.io",
            "https://index.docker.io",
            "https://registry-1.docker.io",
        ]
        .map(str::to_owned)
        .to_vec()
    } else {
        vec![registry.to_owned()]
    }
}

/// Finds a config map entry whose key, stripped of scheme and path, matches one of `keys`.
fn find_entry<'a, T>(map: &'a BTreeMap<String, T>, keys: &[String]) -> Option<&'a T> {
    for k in keys {
        if let Some(v) = map.get(k) {
            return Some(v);
        }
    }
    let bare = |s: &str| -> String {
        let s = s
            .trim_start_matches("https://")
            .trim_start_matches("http://");
        s.split('/').next().unwrap_or(s).to_ascii_lowercase()
    };
    let wanted: Vec<String> = keys.iter().map(|k| bare(k)).collect();
    map.iter()
        .find(|(k, _)| wanted.contains(&bare(k)))
        .map(|(_, v)| v)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
    creds_store: Option<String>,
}

#[derive(Deserialize)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    identitytoken: Option<String>,
}

impl AuthEntry {
    fn credential(&self) -> Option<Credential> {
        if let Some(token) = self.identitytoken.as_ref().filter(|t| !t.is_empty()) {
            return Some(Credential::IdentityToken(token.clone()));
        }
        if let Some(auth) = self.auth.as_ref().filter(|a| !a.is_empty()) {
            let engine = base64::engine::GeneralPurpose::new(
                &base64::alphabet::STANDARD,
                base64::engine::GeneralPurposeConfig::new()
                    .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
            );
            let decoded = engine.decode(auth.trim()).ok()?;
            let text = String::from_utf8(decoded).ok()?;
            let (u, p) = text.split_once(':')?;
            return Some(Credential::Basic {
                username: u.to_owned(),
                password: p.to_owned(),
            });
        }
        match (&self.username, &self.password) {
            (Some(u), Some(p)) => Some(Credential::Basic {
                username: u.clone(),
                password: p.clone(),
            }),
            _ => None,
        }
    }
}

/// A credential for one registry. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Credential {
    /// Username and password: Basic auth, or the token request's Basic auth.
    Basic { username: String, password: String },
    /// An OAuth2 refresh token (`identitytoken`, or a helper's `<token>` user).
    IdentityToken(String),
    /// A registry bearer token used as is.
    Bearer(String),
}

impl Credential {
    pub(crate) fn basic_header(&self) -> Option<String> {
        match self {
            Self::Basic { username, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
            )),
            _ => None,
        }
    }

    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Basic { .. } => "username/password",
            Self::IdentityToken(_) => "identity token",
            Self::Bearer(_) => "bearer token",
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Self::IdentityToken(_) => f.write_str("IdentityToken(<redacted>)"),
            Self::Bearer(_) => f.write_str("Bearer(<redacted>)"),
        }
    }
}

/// A parsed `WWW-Authenticate` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Challenge {
    /// `Bearer realm=…,service=…,scope=…`
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    /// `Basic realm=…`
    Basic,
}

impl Challenge {
    pub(crate) fn parse(header: &str) -> Option<Self> {
        let header = header.trim();
        let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
        if scheme.eq_ignore_ascii_case("basic") {
            return Some(Self::Basic);
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let params = parse_params(rest);
        let get = |k: &str| {
            params
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.clone())
        };
        Some(Self::Bearer {
            realm: get("realm")?,
            service: get("service"),
            scope: get("scope"),
        })
    }
}

/// `a="x,y", b=z` → [(a, x,y), (b, z)]; commas inside quotes are kept.
fn parse_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' {
                break;
            }
            name.push(c);
            chars.next();
        }
        if chars.next().is_none() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => break,
                    _ => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_challenge() {
        let c = Challenge::parse(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        )
        .unwrap();
        assert_eq!(
            c,
            Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("registry.example".into()),
                scope: Some("repository:a/b:pull,push".into()),
            }
        );
        assert_eq!(
            Challenge::parse("Basic realm=\"x\""),
            Some(Challenge::Basic)
        );
    }

    #[test]
    fn debug_redacts() {
        let c = Credential::Basic {
            username: "u".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        let mut s = CredentialSources::none();
        s.env
            .insert(format!("{ENV_AUTH_PREFIX}X"), "u:hunter2".into());
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn env_names() {
        assert_eq!(env_suffix("docker.io"), "DOCKER_IO");
        assert_eq!(env_suffix("127.0.0.1:5000"), "127_0_0_1_5000");
    }

    #[tokio::test]
    async fn config_json_auths() {
        let dir = tempfile::tempdir().unwrap();
        let auth = base64::engine::general_purpose::STANDARD.encode("alice:pw");
        std::fs::write(
            dir.path().join("config.json"),
            format!(
                r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{auth}"}},"ghcr.io":{{"username":"bob","password":"pw2"}}}}}}"#
            ),
        )
        .unwrap();
        let s = CredentialSources {
            docker_config_dir: Some(dir.path().to_owned()),
            ..CredentialSources::none()
        };
        assert_eq!(
            s.lookup("docker.io").await,
            Some(Credential::Basic {
                username: "alice".into(),
                password: "pw".into()
            })
        );
        assert_eq!(
            s.lookup("ghcr.io").await,
            Some(Credential::Basic {
                username: "bob".into(),
                password: "pw2".into()
            })
        );
        assert_eq!(s.lookup("quay.io").await, None);
    }
}
