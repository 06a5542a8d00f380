//! Errors a caller can act on.

use std::time::Duration;

/// Why the versions of a VM image could not be listed. Every variant names the image (its
/// facts key) so one failing image can be reported without failing the others. Messages
/// never contain the access token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VmError {
    /// The image (or its publisher, offer, SKU or gallery) does not exist.
    #[error("{image}: not found by Azure Resource Manager")]
    NotFound {
        /// Facts key of the image.
        image: String,
    },
    /// Azure Resource Manager refused the token (401/403).
    #[error("{image}: access refused by Azure Resource Manager ({detail})")]
    Unauthorized {
        /// Facts key of the image.
        image: String,
        /// Status and error code.
        detail: String,
    },
    /// Throttled (429) past the retries, or asked to wait longer than allowed.
    #[error("{image}: throttled by Azure Resource Manager{}", retry_after.map(|d| format!(" (retry after {}s)", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// Facts key of the image.
        image: String,
        /// What `Retry-After` last asked for.
        retry_after: Option<Duration>,
    },
    /// Connection errors, timeouts or 5xx answers that outlasted the retries.
    #[error("{image}: {msg}")]
    Network {
        /// Facts key of the image.
        image: String,
        /// What went wrong.
        msg: String,
    },
    /// An answer this client does not understand.
    #[error("{image}: unexpected answer from Azure Resource Manager: {msg}")]
    Protocol {
        /// Facts key of the image.
        image: String,
        /// What was wrong with it.
        msg: String,
    },
    /// No access token: neither `AZURE_ACCESS_TOKEN` nor `az account get-access-token` gave one.
    #[error("no Azure access token: {0} (set AZURE_ACCESS_TOKEN or run `az login`)")]
    NoToken(String),
    /// A setting needed for the lookup is missing or unusable (subscription, location,
    /// endpoint).
    #[error("{0}")]
    Config(String),
}
