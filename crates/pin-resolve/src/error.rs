//! Errors a caller can act on.

use std::path::PathBuf;
use std::time::Duration;

/// Why a lookup could not answer.
///
/// Every variant that comes from talking to a registry names that registry (canonical
/// spelling, e.g. `docker.io`), so a caller can report one failing registry without
/// failing the others. Messages never contain credentials.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// The tag (or repository) does not exist on the registry.
    #[error("{reference}: not found on {registry}")]
    NotFound {
        /// Registry that answered.
        registry: String,
        /// The normalised reference that was looked up.
        reference: String,
    },
    /// The registry refused access, anonymously or with the configured credentials.
    #[error("{registry}: access refused for {reference} ({detail})")]
    Unauthorized {
        /// Registry that refused.
        registry: String,
        /// The normalised reference that was looked up.
        reference: String,
        /// What was tried (anonymous, credentials from where, token endpoint status).
        detail: String,
    },
    /// The registry kept answering 429 past the retries, or asked to wait longer than allowed.
    #[error("{registry}: rate limited{}", retry_after.map(|d| format!(" (retry after {}s)", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// Registry that limited us.
        registry: String,
        /// What the registry last asked for in `Retry-After`, if anything.
        retry_after: Option<Duration>,
    },
    /// Every attempt ran into the per-request timeout.
    #[error("{registry}: timed out")]
    Timeout {
        /// Registry that did not answer in time.
        registry: String,
    },
    /// Connection errors or server errors (5xx) that outlasted the retries.
    #[error("{registry}: {msg}")]
    Network {
        /// Registry that could not be reached.
        registry: String,
        /// What went wrong, for humans.
        msg: String,
    },
    /// The registry's `Docker-Content-Digest` disagrees with the bytes it served,
    /// or it served another manifest than the digest asked for.
    #[error(
        "{registry}: digest mismatch for {reference}: header says {header}, content is {computed}"
    )]
    BadDigest {
        /// Registry that served the manifest.
        registry: String,
        /// The normalised reference that was looked up.
        reference: String,
        /// Digest the registry claimed.
        header: String,
        /// Digest of the served bytes (or the requested digest).
        computed: String,
    },
    /// Plain HTTP would have been needed for a host not listed in `insecure_registries`.
    #[error("{registry}: refusing plain HTTP to {url_host} (not an insecure registry)")]
    Insecure {
        /// Registry being looked up.
        registry: String,
        /// The host that would have been contacted over plain HTTP.
        url_host: String,
    },
    /// The registry answered something this client does not understand.
    #[error("{registry}: protocol error: {msg}")]
    Protocol {
        /// Registry that answered.
        registry: String,
        /// What was unexpected.
        msg: String,
    },
    /// The reference cannot be looked up as asked (no tag to resolve, no digest to check).
    #[error("{reference}: {reason}")]
    InvalidReference {
        /// The reference as given.
        reference: String,
        /// Why.
        reason: String,
    },
}

impl ResolveError {
    /// The registry concerned, when the error came from one.
    pub fn registry(&self) -> Option<&str> {
        match self {
            Self::NotFound { registry, .. }
            | Self::Unauthorized { registry, .. }
            | Self::RateLimited { registry, .. }
            | Self::Timeout { registry }
            | Self::Network { registry, .. }
            | Self::BadDigest { registry, .. }
            | Self::Insecure { registry, .. }
            | Self::Protocol { registry, .. } => Some(registry),
            Self::InvalidReference { .. } => None,
        }
    }
}

/// A catalog file could not be read or parsed.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The catalog file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A catalog URL could not be fetched.
    #[error("cannot fetch {url}: {msg}")]
    Fetch {
        /// The catalog's URL.
        url: String,
        /// What went wrong.
        msg: String,
    },
    /// A line or JSON value is malformed.
    #[error("{}:{line}: {msg}", path.display())]
    Parse {
        /// The catalog file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// What is wrong.
        msg: String,
    },
}
