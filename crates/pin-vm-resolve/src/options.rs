//! How VM image versions are looked up.

use std::time::Duration;

use crate::catalog::VmCatalog;

/// The public Azure Resource Manager endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://management.azure.com";

/// Settings for [`crate::resolve_into`].
///
/// From the environment ([`VmOptions::from_env`]): `AZURE_RESOURCE_MANAGER_ENDPOINT`
/// (sovereign clouds: `https://management.usgovcloudapi.net`, `https://management.chinacloudapi.cn`),
/// `AZURE_SUBSCRIPTION_ID` and `AZURE_LOCATION` (needed for marketplace images only: the
/// marketplace is listed per subscription and region; gallery ids carry their own
/// subscription, and a marketplace image id such as a Managed DevOps Pool `resourceId` its own
/// subscription and region, used when these are unset), `AZURE_ACCESS_TOKEN` (a bearer token for Azure Resource Manager; when unset,
/// `az account get-access-token` is asked once, on first need).
#[derive(Clone, Debug)]
pub struct VmOptions {
    /// Consulted in order before the API; a hit makes no request.
    pub catalogs: Vec<VmCatalog>,
    /// Whether the Azure Resource Manager API may be asked.
    pub online: bool,
    /// Azure Resource Manager base URL, without trailing `/`. Plain `http://` is accepted only
    /// for loopback hosts (tests, local emulators), so a token never travels unencrypted.
    pub endpoint: String,
    /// Subscription id used to list marketplace images.
    pub subscription: Option<String>,
    /// Region (`eastus`) used to list marketplace images.
    pub location: Option<String>,
    /// Bearer token; `None` = ask the Azure CLI when `az_cli` is set.
    pub token: Option<String>,
    /// Whether `az account get-access-token --query accessToken -o tsv` may be run for a token.
    pub az_cli: bool,
    /// Limit for one HTTP request.
    pub timeout: Duration,
    /// Extra attempts after a connection error, timeout, 5xx or 429.
    pub retries: u32,
    /// First backoff delay, doubled per attempt.
    pub backoff_base: Duration,
    /// Longest `Retry-After` waited out; a longer one fails at once with `RateLimited`.
    pub max_retry_after: Duration,
    /// Images looked up at once.
    pub concurrency: usize,
}

impl Default for VmOptions {
    fn default() -> Self {
        VmOptions {
            catalogs: Vec::new(),
            online: false,
            endpoint: DEFAULT_ENDPOINT.to_string(),
            subscription: None,
            location: None,
            token: None,
            az_cli: true,
            timeout: Duration::from_secs(30),
            retries: 3,
            backoff_base: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(60),
            concurrency: 4,
        }
    }
}

impl VmOptions {
    /// Defaults overridden by the `AZURE_*` variables described on [`VmOptions`]; offline and
    /// without catalogs (the caller sets those from flags).
    pub fn from_env() -> Self {
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        VmOptions {
            endpoint: var("AZURE_RESOURCE_MANAGER_ENDPOINT")
                .map(|e| e.trim_end_matches('/').to_string())
                .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string()),
            subscription: var("AZURE_SUBSCRIPTION_ID"),
            location: var("AZURE_LOCATION"),
            token: var("AZURE_ACCESS_TOKEN"),
            ..VmOptions::default()
        }
    }
}
