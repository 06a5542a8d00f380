//! The Azure Resource Manager REST API: list the versions of a marketplace image
//! (`…/publishers/{p}/artifacttypes/vmimage/offers/{o}/skus/{s}/versions`, api-version
//! 2024-07-01) or of a gallery image (`{galleryImageId}/versions`, api-version 2023-07-03,
//! paged with `nextLink`).
//!
//! Authentication is a bearer token ([`crate::VmOptions::token`], else the Azure CLI).
//! Throttling (429) waits out `Retry-After` up to [`crate::VmOptions::max_retry_after`];
//! 5xx and connection errors are retried with exponential backoff. `nextLink` is followed only
//! on the endpoint's own host, so the token is never sent elsewhere.

use std::time::Duration;

use pin_core::VmVersion;
use reqwest::header::{ACCEPT, AUTHORIZATION, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::error::VmError;
use crate::options::VmOptions;
use crate::VmQuery;

/// api-version of the marketplace image listing.
pub const MARKETPLACE_API_VERSION: &str = "2024-07-01";
/// api-version of the gallery image version listing.
pub const GALLERY_API_VERSION: &str = "2023-07-03";

/// Pages followed at most for one image (a guard against a `nextLink` loop).
const MAX_PAGES: usize = 100;

/// A client for one run: one HTTP connection pool, one token.
pub struct Client {
    http: reqwest::Client,
    endpoint: Url,
    opts: VmOptions,
    token: OnceCell<Result<String, VmError>>,
}

impl Client {
    /// A client for `opts.endpoint`; refuses plain HTTP to anything but a loopback host.
    pub fn new(opts: &VmOptions) -> Result<Client, VmError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let endpoint = Url::parse(&opts.endpoint).map_err(|e| {
            VmError::Config(format!(
                "Azure Resource Manager endpoint {:?}: {e}",
                opts.endpoint
            ))
        })?;
        let loopback = matches!(
            endpoint.host_str(),
            Some("127.0.0.1" | "localhost" | "[::1]")
        );
        if endpoint.scheme() != "https" && !(endpoint.scheme() == "http" && loopback) {
            return Err(VmError::Config(format!(
                "Azure Resource Manager endpoint {} must use https (plain http only on loopback)",
                opts.endpoint
            )));
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("pin-lint/", env!("CARGO_PKG_VERSION")))
            .timeout(opts.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| VmError::Config(format!("HTTP client: {e}")))?;
        Ok(Client {
            http,
            endpoint,
            opts: opts.clone(),
            token: OnceCell::new(),
        })
    }

    /// Every version of the queried image.
    pub async fn versions(&self, query: &VmQuery) -> Result<Vec<VmVersion>, VmError> {
        let image = query.key();
        let base = self.endpoint.as_str().trim_end_matches('/');
        let first = match query {
            VmQuery::Marketplace {
                publisher,
                offer,
                sku,
                scope,
            } => {
                // The environment wins; else the subscription and region the image id names.
                let sub = self
                    .opts
                    .subscription
                    .as_ref()
                    .or(scope.as_ref().map(|s| &s.subscription));
                let loc = self
                    .opts
                    .location
                    .as_ref()
                    .or(scope.as_ref().map(|s| &s.location));
                let (Some(sub), Some(loc)) = (sub, loc) else {
                    return Err(VmError::Config(format!(
                        "{image}: listing marketplace image versions needs a subscription and a location (AZURE_SUBSCRIPTION_ID, AZURE_LOCATION)"
                    )));
                };
                format!(
                    "{base}/subscriptions/{sub}/providers/Microsoft.Compute/locations/{loc}/publishers/{publisher}/artifacttypes/vmimage/offers/{offer}/skus/{sku}/versions?api-version={MARKETPLACE_API_VERSION}"
                )
            }
            VmQuery::Gallery { id } => {
                format!("{base}{id}/versions?api-version={GALLERY_API_VERSION}")
            }
        };
        let mut url = Url::parse(&first).map_err(|e| VmError::Protocol {
            image: image.clone(),
            msg: format!("bad URL {first}: {e}"),
        })?;
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let body = self.get(&image, url.clone()).await?;
            let next = parse_page(&image, &body, &mut out)?;
            match next {
                None => return Ok(out),
                Some(link) => {
                    let next = Url::parse(&link).map_err(|e| VmError::Protocol {
                        image: image.clone(),
                        msg: format!("nextLink {link:?}: {e}"),
                    })?;
                    if next.origin() != self.endpoint.origin() {
                        return Err(VmError::Protocol {
                            image,
                            msg: format!(
                                "nextLink leaves the endpoint ({})",
                                next.origin().ascii_serialization()
                            ),
                        });
                    }
                    url = next;
                }
            }
        }
        Err(VmError::Protocol {
            image,
            msg: format!("more than {MAX_PAGES} pages"),
        })
    }

    async fn token(&self) -> Result<String, VmError> {
        self.token
            .get_or_init(|| async {
                if let Some(t) = &self.opts.token {
                    return Ok(t.clone());
                }
                if !self.opts.az_cli {
                    return Err(VmError::NoToken("AZURE_ACCESS_TOKEN is not set".into()));
                }
                az_cli_token().await
            })
            .await
            .clone()
    }

    /// One GET with retries; returns the body of a 2xx answer.
    async fn get(&self, image: &str, url: Url) -> Result<Vec<u8>, VmError> {
        let token = self.token().await?;
        let mut attempt = 0u32;
        loop {
            let sent = self
                .http
                .get(url.clone())
                .header(ACCEPT, "application/json")
                .header(AUTHORIZATION, format!("Bearer {token}"))
                .send()
                .await;
            let retry_in = match sent {
                Ok(reply) => {
                    let status = reply.status();
                    if status.is_success() {
                        return reply.bytes().await.map(|b| b.to_vec()).map_err(|e| {
                            VmError::Network {
                                image: image.to_string(),
                                msg: format!("reading the answer: {e}"),
                            }
                        });
                    }
                    let retry_after = reply
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let body = reply.text().await.unwrap_or_default();
                    match status {
                        StatusCode::NOT_FOUND => {
                            return Err(VmError::NotFound {
                                image: image.to_string(),
                            })
                        }
                        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                            return Err(VmError::Unauthorized {
                                image: image.to_string(),
                                detail: format!("{}{}", status.as_u16(), error_code(&body)),
                            })
                        }
                        StatusCode::TOO_MANY_REQUESTS => {
                            let wait = retry_after.unwrap_or_else(|| self.backoff(attempt));
                            if attempt >= self.opts.retries || wait > self.opts.max_retry_after {
                                return Err(VmError::RateLimited {
                                    image: image.to_string(),
                                    retry_after,
                                });
                            }
                            wait
                        }
                        s if s.is_server_error() && attempt < self.opts.retries => {
                            retry_after.unwrap_or_else(|| self.backoff(attempt))
                        }
                        s => {
                            return Err(VmError::Network {
                                image: image.to_string(),
                                msg: format!(
                                    "Azure Resource Manager answered {}{}",
                                    s.as_u16(),
                                    error_code(&body)
                                ),
                            })
                        }
                    }
                }
                Err(e) if attempt < self.opts.retries => {
                    tracing::debug!(image, "request failed, retrying: {e}");
                    self.backoff(attempt)
                }
                Err(e) if e.is_timeout() => {
                    return Err(VmError::Network {
                        image: image.to_string(),
                        msg: "timed out".into(),
                    })
                }
                Err(e) => {
                    return Err(VmError::Network {
                        image: image.to_string(),
                        msg: e.to_string(),
                    })
                }
            };
            attempt += 1;
            tokio::time::sleep(retry_in).await;
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        self.opts.backoff_base * 2u32.saturating_pow(attempt.min(10))
    }
}

/// ` (Code: message)` from an ARM error body, when there is one.
fn error_code(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            let e = v.get("error")?;
            Some(format!(
                " ({}: {})",
                e.get("code")?.as_str()?,
                e.get("message").and_then(Value::as_str).unwrap_or("")
            ))
        })
        .unwrap_or_default()
}

/// Versions from one page (a marketplace array of `{name}` or a `{value, nextLink}` page of
/// gallery versions); returns the `nextLink`.
fn parse_page(
    image: &str,
    body: &[u8],
    out: &mut Vec<VmVersion>,
) -> Result<Option<String>, VmError> {
    let protocol = |msg: String| VmError::Protocol {
        image: image.to_string(),
        msg,
    };
    let json: Value =
        serde_json::from_slice(body).map_err(|e| protocol(format!("not JSON: {e}")))?;
    let (items, next) = match &json {
        Value::Array(items) => (items.as_slice(), None),
        Value::Object(map) => (
            map.get("value")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .ok_or_else(|| protocol("no `value` array".into()))?,
            map.get("nextLink")
                .and_then(Value::as_str)
                .filter(|l| !l.is_empty())
                .map(str::to_string),
        ),
        _ => return Err(protocol("neither an array nor a page".into())),
    };
    for item in items {
        let name = item
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| protocol("an item without `name`".into()))?;
        let profile = item
            .get("properties")
            .and_then(|p| p.get("publishingProfile"));
        out.push(VmVersion {
            version: name.to_string(),
            exclude_from_latest: profile
                .and_then(|p| p.get("excludeFromLatest"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
            published: profile
                .and_then(|p| p.get("publishedDate"))
                .and_then(Value::as_str)
                .map(str::to_string),
        });
    }
    Ok(next)
}

/// `az account get-access-token --query accessToken -o tsv`.
async fn az_cli_token() -> Result<String, VmError> {
    let output = tokio::process::Command::new("az")
        .args([
            "account",
            "get-access-token",
            "--query",
            "accessToken",
            "-o",
            "tsv",
        ])
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| VmError::NoToken(format!("cannot run `az`: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(VmError::NoToken(format!(
            "`az account get-access-token` failed: {}",
            stderr.lines().next().unwrap_or("").trim()
        )));
    }
    let token = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if token.is_empty() {
        return Err(VmError::NoToken(
            "`az account get-access-token` printed nothing".into(),
        ));
    }
    Ok(token)
}
