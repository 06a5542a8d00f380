//! How a [`crate::Resolver`] talks to registries.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::auth::CredentialSources;
use crate::catalog::Catalog;

/// Settings for a [`crate::Resolver`]. `Default` is what the CLI uses without flags.
#[derive(Clone, Debug)]
pub struct ResolverOptions {
    /// Registries (`host[:port]`, as written or canonical) that may be spoken to over plain
    /// HTTP. The only way to get plain HTTP; token realms on plain HTTP must be listed too.
    pub insecure_registries: Vec<String>,
    /// Limit for one HTTP request, from sending to the last body byte.
    pub timeout: Duration,
    /// Extra attempts after a connection error, timeout, 5xx or 429.
    pub retries: u32,
    /// First backoff delay; doubled per attempt, plus up to 50 % jitter.
    pub backoff_base: Duration,
    /// Longest `Retry-After` that is waited out; a longer one fails at once with `RateLimited`.
    pub max_retry_after: Duration,
    /// Lookups in flight at once against one registry.
    pub per_registry_concurrency: usize,
    /// Consulted in order before any registry; a hit makes no request.
    pub catalogs: Vec<Catalog>,
    /// Optional JSON file remembering tag → digest answers, and how long they stay valid.
    pub disk_cache: Option<(PathBuf, Duration)>,
    /// Canonical registry (`docker.io`) → `host[:port]` to send its requests to instead.
    pub mirrors: HashMap<String, String>,
    /// `User-Agent` header.
    pub user_agent: String,
    /// Whether a tag that points to an index is followed by a GET of the index to list its
    /// platforms (one more request; Docker Hub counts manifest GETs towards its pull limit).
    pub list_platforms: bool,
    /// How long a registry that failed with a network error or timeout is answered with that
    /// error without asking it again (so that one dead registry does not cost a timeout per
    /// reference). Zero disables this.
    pub failed_registry_ttl: Duration,
    /// Where credentials are looked up.
    pub credentials: CredentialSources,
}

impl Default for ResolverOptions {
    fn default() -> Self {
        Self {
            insecure_registries: Vec::new(),
            timeout: Duration::from_secs(20),
            retries: 3,
            backoff_base: Duration::from_millis(250),
            max_retry_after: Duration::from_secs(60),
            per_registry_concurrency: 8,
            catalogs: Vec::new(),
            disk_cache: None,
            mirrors: HashMap::new(),
            user_agent: concat!("pin-lint/", env!("CARGO_PKG_VERSION")).to_owned(),
            list_platforms: true,
            failed_registry_ttl: Duration::from_secs(30),
            credentials: CredentialSources::from_environment(),
        }
    }
}
