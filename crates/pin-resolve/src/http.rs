//! One registry conversation: retries, backoff, rate limits, authentication.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode, Url};
use tokio::sync::{Mutex, OnceCell};

use crate::auth::{Challenge, Credential, CredentialSources};
use crate::error::ResolveError;
use crate::name::{canonical_registry, DOCKER_HUB, DOCKER_HUB_API_HOST};
use crate::options::ResolverOptions;
use crate::stats::{Req, StatsCollector};

/// The four manifest media types; some registries answer 404 unless the one they hold is listed.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// Manifests are at most 4 MiB by the distribution spec; twice that is refused.
const MAX_BODY: usize = 8 << 20;

/// A complete answer, body included (read under the same timeout as the request).
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The body was longer than the request's limit; it was dropped unread.
    pub oversized: bool,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

struct CachedToken {
    token: String,
    expires: Instant,
}

/// State shared by every lookup of one resolver.
pub(crate) struct Http {
    client: reqwest::Client,
    insecure: Arc<HashSet<String>>,
    timeout: Duration,
    retries: u32,
    backoff_base: Duration,
    max_retry_after: Duration,
    mirrors: std::collections::HashMap<String, String>,
    credentials: CredentialSources,
    creds: DashMap<String, Arc<OnceCell<Option<Credential>>>>,
    challenges: DashMap<String, Challenge>,
    tokens: DashMap<(String, String), Arc<Mutex<Option<CachedToken>>>>,
    pub stats: StatsCollector,
}

/// Where requests for one canonical registry go.
#[derive(Clone, Debug)]
pub(crate) struct Endpoint {
    /// Canonical registry: key for stats, errors, tokens.
    pub registry: String,
    /// `http://host[:port]` or `https://host[:port]`.
    pub base: String,
}

impl Http {
    pub fn new(opts: &ResolverOptions) -> Result<Self, crate::InitError> {
        // A process-wide default is only installed if none is; reqwest then picks it up.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let insecure: Arc<HashSet<String>> = Arc::new(
            opts.insecure_registries
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .collect(),
        );
        let allowed = Arc::clone(&insecure);
        let redirect = reqwest::redirect::Policy::custom(move |attempt| {
            let plain = attempt.url().scheme() == "http";
            let host = authority(attempt.url());
            if plain && !allowed.contains(&host) {
                attempt.error(format!("redirect to plain HTTP host {host}"))
            } else if attempt.previous().len() >= 5 {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .user_agent(opts.user_agent.clone())
            .redirect(redirect)
            .connect_timeout(opts.timeout)
            .pool_max_idle_per_host(opts.per_registry_concurrency.max(1))
            .build()
            .map_err(|e| crate::InitError(e.to_string()))?;
        Ok(Self {
            client,
            insecure,
            timeout: opts.timeout,
            retries: opts.retries,
            backoff_base: opts.backoff_base,
            max_retry_after: opts.max_retry_after,
            mirrors: opts
                .mirrors
                .iter()
                .map(|(k, v)| (canonical_registry(k), v.trim().to_ascii_lowercase()))
                .collect(),
            credentials: opts.credentials.clone(),
            creds: DashMap::new(),
            challenges: DashMap::new(),
            tokens: DashMap::new(),
            stats: StatsCollector::default(),
        })
    }

    /// Where a canonical registry's requests go, honouring mirrors and `insecure_registries`.
    pub fn endpoint(&self, registry: &str) -> Endpoint {
        let host = self.mirrors.get(registry).cloned().unwrap_or_else(|| {
            if registry == DOCKER_HUB {
                DOCKER_HUB_API_HOST.to_owned()
            } else {
                registry.to_owned()
            }
        });
        let scheme = if self.insecure.contains(&host) {
            "http"
        } else {
            "https"
        };
        Endpoint {
            registry: registry.to_owned(),
            base: format!("{scheme}://{host}"),
        }
    }

    /// Sends a manifest request for `repository` / `reference`, authenticating as the
    /// registry asks. Returns any non-auth answer (200, 404, …) for the caller to judge.
    pub async fn manifest(
        &self,
        ep: &Endpoint,
        method: Method,
        repository: &str,
        reference: &str,
        shown: &str,
    ) -> Result<Reply, ResolveError> {
        let url = format!("{}/v2/{repository}/manifests/{reference}", ep.base);
        let scope = format!("repository:{repository}:pull");
        let kind = if method == Method::HEAD {
            Req::Head
        } else {
            Req::Get
        };
        let mut auth = self.preemptive_auth(ep, &scope, shown).await?;
        for pass in 0..2 {
            let reply = self
                .send(ep, kind, || {
                    let mut rb = self
                        .client
                        .request(method.clone(), &url)
                        .header(ACCEPT, MANIFEST_ACCEPT);
                    if let Some(a) = &auth {
                        rb = rb.header(AUTHORIZATION, a);
                    }
                    rb
                })
                .await?;
            match reply.status {
                StatusCode::UNAUTHORIZED if pass == 0 => {
                    let challenge = reply
                        .header(WWW_AUTHENTICATE.as_str())
                        .and_then(Challenge::parse);
                    let Some(challenge) = challenge else {
                        return Err(self.unauthorized(
                            ep,
                            shown,
                            "401 without a usable WWW-Authenticate challenge".into(),
                        ));
                    };
                    tracing::debug!(registry = %ep.registry, "auth challenge for {shown}");
                    self.challenges
                        .insert(ep.registry.clone(), challenge.clone());
                    auth = Some(
                        self.authorize(ep, &challenge, &scope, shown, auth.as_deref())
                            .await?,
                    );
                }
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    let how = self.credential_description(ep).await;
                    let detail = format!("registry answered {} ({how})", reply.status.as_u16());
                    return Err(self.unauthorized(ep, shown, detail));
                }
                _ => return Ok(reply),
            }
        }
        Err(self.unauthorized(ep, shown, "authentication did not converge".into()))
    }

    fn unauthorized(&self, ep: &Endpoint, shown: &str, detail: String) -> ResolveError {
        ResolveError::Unauthorized {
            registry: ep.registry.clone(),
            reference: shown.to_owned(),
            detail,
        }
    }

    async fn credential_description(&self, ep: &Endpoint) -> String {
        match self.credential(ep).await {
            Some(c) => format!("with {} credentials", c.kind()),
            None => "anonymous; no credentials configured".to_owned(),
        }
    }

    /// Credentials for the host the endpoint actually talks to.
    async fn credential(&self, ep: &Endpoint) -> Option<Credential> {
        let host = canonical_registry(ep.base.split("://").nth(1).unwrap_or(&ep.registry));
        let cell = self.creds.entry(host.clone()).or_default().clone();
        cell.get_or_init(|| async {
            let c = self.credentials.lookup(&host).await;
            tracing::debug!(registry = %host, credential = ?c.as_ref().map(Credential::kind), "credential lookup");
            c
        })
        .await
        .clone()
    }

    /// The Authorization header to send before any challenge, from what this registry asked
    /// for earlier (saves one 401 round trip per repository).
    async fn preemptive_auth(
        &self,
        ep: &Endpoint,
        scope: &str,
        shown: &str,
    ) -> Result<Option<String>, ResolveError> {
        if let Some(Credential::Bearer(t)) = self.credential(ep).await {
            return Ok(Some(format!("Bearer {t}")));
        }
        let known = self.challenges.get(&ep.registry).map(|c| c.clone());
        match known {
            Some(challenge) => Ok(Some(
                self.authorize(ep, &challenge, scope, shown, None).await?,
            )),
            None => Ok(None),
        }
    }

    /// Answers a challenge with an Authorization header value. `stale` is a header that the
    /// registry just refused, so a cached token equal to it is not offered again.
    async fn authorize(
        &self,
        ep: &Endpoint,
        challenge: &Challenge,
        scope: &str,
        shown: &str,
        stale: Option<&str>,
    ) -> Result<String, ResolveError> {
        let cred = self.credential(ep).await;
        match challenge {
            Challenge::Basic => match cred.as_ref().and_then(Credential::basic_header) {
                Some(h) if stale != Some(h.as_str()) => Ok(h),
                Some(_) => Err(self.unauthorized(
                    ep,
                    shown,
                    "registry refused the username/password".into(),
                )),
                None => Err(self.unauthorized(
                    ep,
                    shown,
                    "registry requires Basic auth; no username/password configured".into(),
                )),
            },
            Challenge::Bearer { realm, service, .. } => {
                if let Some(Credential::Bearer(t)) = &cred {
                    let h = format!("Bearer {t}");
                    if stale == Some(h.as_str()) {
                        return Err(self.unauthorized(
                            ep,
                            shown,
                            "registry refused the configured bearer token".into(),
                        ));
                    }
                    return Ok(h);
                }
                let slot = self
                    .tokens
                    .entry((ep.registry.clone(), scope.to_owned()))
                    .or_default()
                    .clone();
                let mut guard = slot.lock().await;
                if let Some(t) = guard.as_ref() {
                    let h = format!("Bearer {}", t.token);
                    if t.expires > Instant::now() && stale != Some(h.as_str()) {
                        return Ok(h);
                    }
                }
                let (token, ttl) = self
                    .fetch_token(ep, realm, service.as_deref(), scope, cred.as_ref(), shown)
                    .await?;
                let h = format!("Bearer {token}");
                *guard = Some(CachedToken {
                    token,
                    // Renew a little early so a token does not expire in flight.
                    expires: Instant::now() + ttl.saturating_sub(Duration::from_secs(5)),
                });
                Ok(h)
            }
        }
    }

    async fn fetch_token(
        &self,
        ep: &Endpoint,
        realm: &str,
        service: Option<&str>,
        scope: &str,
        cred: Option<&Credential>,
        shown: &str,
    ) -> Result<(String, Duration), ResolveError> {
        let mut url = Url::parse(realm).map_err(|e| ResolveError::Protocol {
            registry: ep.registry.clone(),
            msg: format!("token realm {realm:?} is not a URL: {e}"),
        })?;
        match url.scheme() {
            "https" => {}
            "http" if self.insecure.contains(&authority(&url)) => {}
            "http" => {
                return Err(ResolveError::Insecure {
                    registry: ep.registry.clone(),
                    url_host: authority(&url),
                })
            }
            other => {
                return Err(ResolveError::Protocol {
                    registry: ep.registry.clone(),
                    msg: format!("token realm has unsupported scheme {other:?}"),
                })
            }
        }
        tracing::debug!(registry = %ep.registry, realm = %url, scope, "requesting token");
        let reply = if let Some(Credential::IdentityToken(refresh)) = cred {
            // OAuth2 refresh-token grant, as docker does with an identity token.
            let mut form =
                Url::parse("http://form.invalid/").map_err(|e| ResolveError::Protocol {
                    registry: ep.registry.clone(),
                    msg: e.to_string(),
                })?;
            {
                let mut q = form.query_pairs_mut();
                q.append_pair("grant_type", "refresh_token");
                q.append_pair("client_id", "pin-lint");
                q.append_pair("scope", scope);
                q.append_pair("refresh_token", refresh);
                if let Some(s) = service {
                    q.append_pair("service", s);
                }
            }
            let body = form.query().unwrap_or_default().to_owned();
            self.send(ep, Req::Token, || {
                self.client
                    .post(url.clone())
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body.clone())
            })
            .await?
        } else {
            {
                let mut q = url.query_pairs_mut();
                if let Some(s) = service {
                    q.append_pair("service", s);
                }
                q.append_pair("scope", scope);
            }
            let basic = cred.and_then(Credential::basic_header);
            self.send(ep, Req::Token, || {
                let rb = self.client.get(url.clone());
                match &basic {
                    Some(b) => rb.header(AUTHORIZATION, b),
                    None => rb,
                }
            })
            .await?
        };
        if reply.status == StatusCode::UNAUTHORIZED || reply.status == StatusCode::FORBIDDEN {
            let how = match cred {
                Some(c) => format!("with {} credentials", c.kind()),
                None => "anonymous; no credentials configured".to_owned(),
            };
            return Err(self.unauthorized(
                ep,
                shown,
                format!("token endpoint answered {} ({how})", reply.status.as_u16()),
            ));
        }
        if !reply.status.is_success() {
            return Err(ResolveError::Protocol {
                registry: ep.registry.clone(),
                msg: format!("token endpoint answered {}", reply.status),
            });
        }
        #[derive(serde::Deserialize)]
        struct TokenReply {
            token: Option<String>,
            access_token: Option<String>,
            expires_in: Option<u64>,
        }
        let parsed: TokenReply =
            serde_json::from_slice(&reply.body).map_err(|e| ResolveError::Protocol {
                registry: ep.registry.clone(),
                msg: format!("token endpoint answered unexpected JSON: {e}"),
            })?;
        let token = parsed
            .token
            .or(parsed.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ResolveError::Protocol {
                registry: ep.registry.clone(),
                msg: "token endpoint answered without a token".into(),
            })?;
        // The distribution spec's default lifetime is 60 s.
        let ttl = Duration::from_secs(parsed.expires_in.unwrap_or(60).max(10));
        Ok((token, ttl))
    }

    /// Sends with retries: 5xx, connection errors and timeouts back off exponentially with
    /// jitter; 429 waits `Retry-After` (seconds) if it is within the cap.
    async fn send(
        &self,
        ep: &Endpoint,
        kind: Req,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Reply, ResolveError> {
        self.send_limited(ep, kind, MAX_BODY, build).await
    }

    /// [`Http::send`] with a body limit of `limit` bytes: a longer body is an error at once
    /// (not retried; the server would send it again).
    async fn send_limited(
        &self,
        ep: &Endpoint,
        kind: Req,
        limit: usize,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Reply, ResolveError> {
        let mut attempt: u32 = 0;
        loop {
            self.stats.count(&ep.registry, kind);
            let outcome = self.attempt(build(), limit).await;
            let last = attempt >= self.retries;
            let wait = match outcome {
                Ok(reply) if reply.oversized => {
                    return Err(ResolveError::Protocol {
                        registry: ep.registry.clone(),
                        msg: format!("the answer is larger than {} MiB", limit >> 20),
                    })
                }
                Ok(reply) if reply.status == StatusCode::TOO_MANY_REQUESTS => {
                    let retry_after = reply
                        .header(RETRY_AFTER.as_str())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    if last || retry_after.is_some_and(|d| d > self.max_retry_after) {
                        return Err(ResolveError::RateLimited {
                            registry: ep.registry.clone(),
                            retry_after,
                        });
                    }
                    tracing::debug!(registry = %ep.registry, ?retry_after, "429, waiting");
                    retry_after.unwrap_or_else(|| self.backoff(attempt))
                }
                Ok(reply) if reply.status.is_server_error() => {
                    if last {
                        return Err(ResolveError::Network {
                            registry: ep.registry.clone(),
                            msg: format!(
                                "server error {} after {} attempt(s)",
                                reply.status,
                                attempt + 1
                            ),
                        });
                    }
                    tracing::debug!(registry = %ep.registry, status = %reply.status, "server error, retrying");
                    self.backoff(attempt)
                }
                Ok(reply) => return Ok(reply),
                Err(e) => {
                    let err = self.classify(ep, &e);
                    let retryable = matches!(
                        err,
                        ResolveError::Timeout { .. } | ResolveError::Network { .. }
                    );
                    if last || !retryable {
                        return Err(err);
                    }
                    tracing::debug!(registry = %ep.registry, error = %err, "request failed, retrying");
                    self.backoff(attempt)
                }
            };
            self.stats.count(&ep.registry, Req::Retry);
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn attempt(
        &self,
        rb: reqwest::RequestBuilder,
        limit: usize,
    ) -> Result<Reply, reqwest::Error> {
        let mut resp = rb.timeout(self.timeout).send().await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let mut body = Vec::new();
        let announced = resp.content_length().unwrap_or(0);
        let mut oversized = usize::try_from(announced).map_or(true, |n| n > limit);
        while !oversized {
            let Some(chunk) = resp.chunk().await? else {
                break;
            };
            body.extend_from_slice(&chunk);
            oversized = body.len() > limit;
        }
        if oversized {
            body.clear();
        }
        Ok(Reply {
            status,
            headers,
            body,
            oversized,
        })
    }

    /// GETs a document (a catalog) from `url`: `https`, or plain `http` only to a host in
    /// `insecure_registries`; with the same timeout, retries and redirect policy as registry
    /// requests, and a body limit of `limit` bytes. Returns any answer for the caller to
    /// judge; errors name the URL's `host[:port]`.
    pub async fn document(&self, url: &Url, limit: usize) -> Result<Reply, ResolveError> {
        let host = authority(url);
        match url.scheme() {
            "https" => {}
            "http" if self.insecure.contains(&host) => {}
            "http" => {
                return Err(ResolveError::Insecure {
                    registry: host.clone(),
                    url_host: host,
                })
            }
            other => {
                return Err(ResolveError::Protocol {
                    registry: host,
                    msg: format!("unsupported URL scheme {other:?} (use https)"),
                })
            }
        }
        let ep = Endpoint {
            base: format!("{}://{host}", url.scheme()),
            registry: host,
        };
        self.send_limited(&ep, Req::Get, limit, || self.client.get(url.clone()))
            .await
    }

    fn classify(&self, ep: &Endpoint, e: &reqwest::Error) -> ResolveError {
        if e.is_timeout() {
            return ResolveError::Timeout {
                registry: ep.registry.clone(),
            };
        }
        if e.is_redirect() {
            return ResolveError::Insecure {
                registry: ep.registry.clone(),
                url_host: e.url().map(authority).unwrap_or_default(),
            };
        }
        // reqwest's Display is terse; the source chain says what actually failed.
        let mut msg = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(s) = src {
            msg.push_str(": ");
            msg.push_str(&s.to_string());
            src = s.source();
        }
        ResolveError::Network {
            registry: ep.registry.clone(),
            msg,
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.backoff_base.saturating_mul(1u32 << attempt.min(10));
        let jitter = base.mul_f64(fastrand::f64() * 0.5);
        base + jitter
    }
}

/// `host[:port]` of a URL, lower-cased (the form `insecure_registries` is written in).
fn authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    }
}
