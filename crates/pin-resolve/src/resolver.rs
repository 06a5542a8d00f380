//! The resolver: catalogs, then caches, then the registry; de-duplicated and concurrent.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use dashmap::DashMap;
use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use sha2::{Digest as _, Sha256};
use tokio::sync::{OnceCell, Semaphore};

use crate::catalog::Catalog;
use crate::disk_cache::DiskCache;
use crate::error::ResolveError;
use crate::http::{Endpoint, Http, Reply};
use crate::name::{is_sha256_digest, ImageName, Key};
use crate::options::ResolverOptions;
use crate::stats::Stats;

/// Header carrying the manifest digest.
const DIGEST_HEADER: &str = "docker-content-digest";

/// One lookup to make.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Query {
    /// Which digest does the name's tag (`latest` if none) point to now?
    Tag {
        /// The reference as the user wrote it.
        name: ImageName,
    },
    /// Does the name's digest still exist in its repository?
    Digest {
        /// The reference as the user wrote it; must carry a digest.
        name: ImageName,
    },
}

impl Query {
    /// The name being looked up.
    pub fn name(&self) -> &ImageName {
        match self {
            Self::Tag { name } | Self::Digest { name } => name,
        }
    }
}

/// The answer to a [`Query`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Answer to [`Query::Tag`].
    Tag(Resolved),
    /// Answer to [`Query::Digest`]: whether the manifest exists.
    Exists(bool),
}

/// Where an answer came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A catalog file (no request made).
    Catalog(PathBuf),
    /// The on-disk cache (no request made).
    DiskCache,
    /// The registry, during this resolver's life.
    Registry,
}

/// What a tag points to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// `sha256:<hex>` of the manifest or index the tag points to, as served.
    pub digest: String,
    /// Where the answer came from.
    pub source: Source,
    /// For an index / manifest list: its platforms (`linux/amd64`, `linux/arm/v7`), in the
    /// index's order. Empty for a single manifest, for catalog answers, and when
    /// [`ResolverOptions::list_platforms`] is off.
    pub platforms: Vec<String>,
}

/// Creating the HTTP client failed (TLS setup).
#[derive(Debug, thiserror::Error)]
#[error("cannot initialise the HTTP client: {0}")]
pub struct InitError(pub(crate) String);

/// Answers tag → digest and digest-exists questions. Cheap to clone; clones share caches,
/// connection pools, tokens and statistics.
///
/// Talks to registries with `reqwest` directly rather than `oci-client`: HEAD with our own
/// `Accept` list and the raw `Docker-Content-Digest`, per-request counting for the
/// statistics, control of retries/backoff/429 handling, token caching per registry and
/// scope, and credentials scoped to their registry are all simpler to get exactly right
/// with a few hundred lines over `reqwest` than around `oci-client`'s higher-level API.
#[derive(Clone)]
pub struct Resolver {
    inner: Arc<Inner>,
}

struct Inner {
    http: Http,
    catalogs: Vec<Catalog>,
    list_platforms: bool,
    concurrency: usize,
    failed_ttl: std::time::Duration,
    disk: Option<DiskCache>,
    semaphores: DashMap<String, Arc<Semaphore>>,
    tags: DashMap<Key, Arc<OnceCell<Resolved>>>,
    digests: DashMap<Key, Arc<OnceCell<bool>>>,
    failed: DashMap<String, (Instant, ResolveError)>,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver")
            .field("catalogs", &self.inner.catalogs.len())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Resolver {
    /// Builds a resolver; reads the disk cache if one is configured.
    ///
    /// # Errors
    /// [`InitError`] when the HTTP client cannot be set up.
    pub fn new(options: ResolverOptions) -> Result<Self, InitError> {
        let http = Http::new(&options)?;
        let disk = options
            .disk_cache
            .as_ref()
            .map(|(path, ttl)| DiskCache::open(path, *ttl));
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                catalogs: options.catalogs,
                list_platforms: options.list_platforms,
                concurrency: options.per_registry_concurrency.max(1),
                failed_ttl: options.failed_registry_ttl,
                disk,
                semaphores: DashMap::new(),
                tags: DashMap::new(),
                digests: DashMap::new(),
                failed: DashMap::new(),
            }),
        })
    }

    /// The digest the name's tag points to now (`latest` when no tag is written).
    ///
    /// Catalogs first (exact spelling, then normalised name), then the in-memory and disk
    /// caches, then the registry: HEAD with `Docker-Content-Digest`, GET (verified by
    /// sha256 of the body) only when HEAD gives no digest.
    ///
    /// # Errors
    /// [`ResolveError::NotFound`] for an unknown tag, [`ResolveError::InvalidReference`] for
    /// a digest-only name, and the registry errors ([`ResolveError::Unauthorized`],
    /// [`ResolveError::RateLimited`], [`ResolveError::Timeout`], …).
    pub async fn resolve_tag(&self, name: &ImageName) -> Result<Resolved, ResolveError> {
        if name.tag.is_none() && name.digest.is_some() {
            return Err(ResolveError::InvalidReference {
                reference: name.to_string(),
                reason: "no tag to resolve".into(),
            });
        }
        let inner = &self.inner;
        for catalog in &inner.catalogs {
            if let Some(digest) = catalog.lookup_tag(name) {
                inner
                    .http
                    .stats
                    .catalog_hits
                    .fetch_add(1, Ordering::Relaxed);
                return Ok(Resolved {
                    digest: digest.to_owned(),
                    source: Source::Catalog(catalog.path().to_owned()),
                    platforms: Vec::new(),
                });
            }
        }
        let key = Key::for_tag(name);
        let cell = inner.tags.entry(key.clone()).or_default().clone();
        if let Some(r) = cell.get() {
            inner.http.stats.memory_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(r.clone());
        }
        cell.get_or_try_init(|| self.fetch_tag(&key)).await.cloned()
    }

    /// Whether the name's digest exists in its repository: `Ok(false)` on 404.
    ///
    /// # Errors
    /// [`ResolveError::InvalidReference`] when the name has no digest,
    /// [`ResolveError::BadDigest`] when the registry serves another digest, and the registry
    /// errors as for [`Resolver::resolve_tag`].
    pub async fn digest_exists(&self, name: &ImageName) -> Result<bool, ResolveError> {
        let Some(digest) = name.digest.as_deref() else {
            return Err(ResolveError::InvalidReference {
                reference: name.to_string(),
                reason: "no digest to check".into(),
            });
        };
        let inner = &self.inner;
        if inner.catalogs.iter().any(|c| c.knows_digest(name, digest)) {
            inner
                .http
                .stats
                .catalog_hits
                .fetch_add(1, Ordering::Relaxed);
            return Ok(true);
        }
        let key = Key::for_digest(name, digest);
        let cell = inner.digests.entry(key.clone()).or_default().clone();
        if let Some(r) = cell.get() {
            inner.http.stats.memory_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(*r);
        }
        cell.get_or_try_init(|| self.fetch_digest(&key))
            .await
            .copied()
    }

    /// Answers many queries concurrently: each distinct normalised name is fetched once,
    /// at most `per_registry_concurrency` at a time per registry; a failing registry only
    /// fails its own queries. Results come back in query order. Persists the disk cache.
    pub async fn resolve_all(
        &self,
        queries: Vec<Query>,
    ) -> Vec<(Query, Result<Answer, ResolveError>)> {
        let mut set = tokio::task::JoinSet::new();
        for (i, q) in queries.iter().cloned().enumerate() {
            let this = self.clone();
            set.spawn(async move {
                let r = match &q {
                    Query::Tag { name } => this.resolve_tag(name).await.map(Answer::Tag),
                    Query::Digest { name } => this.digest_exists(name).await.map(Answer::Exists),
                };
                (i, r)
            });
        }
        let mut results: Vec<Option<Result<Answer, ResolveError>>> = vec![None; queries.len()];
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok((i, r)) => results[i] = Some(r),
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(_) => {}
            }
        }
        if let Err(e) = self.persist_cache() {
            tracing::warn!("cannot write the digest cache: {e}");
        }
        queries
            .into_iter()
            .zip(results)
            .map(|(q, r)| {
                let r = r.unwrap_or_else(|| {
                    Err(ResolveError::Network {
                        registry: q.name().canonical_registry(),
                        msg: "lookup was cancelled".into(),
                    })
                });
                (q, r)
            })
            .collect()
    }

    /// Counters of requests made so far, per registry.
    pub fn stats(&self) -> Stats {
        self.inner.http.stats.snapshot()
    }

    /// Writes the disk cache, if one is configured and anything changed.
    ///
    /// # Errors
    /// The I/O error of writing the file.
    pub fn persist_cache(&self) -> std::io::Result<()> {
        match &self.inner.disk {
            Some(d) => d.persist(),
            None => Ok(()),
        }
    }

    /// Forgets in-memory answers and registry failures (a long-running server calls this
    /// when it wants fresh answers); tokens and credentials are kept.
    pub fn clear_memory_cache(&self) {
        self.inner.tags.clear();
        self.inner.digests.clear();
        self.inner.failed.clear();
    }

    async fn fetch_tag(&self, key: &Key) -> Result<Resolved, ResolveError> {
        let inner = &self.inner;
        let cache_key = key.to_string();
        if let Some(hit) = inner.disk.as_ref().and_then(|d| d.get(&cache_key)) {
            inner
                .http
                .stats
                .disk_cache_hits
                .fetch_add(1, Ordering::Relaxed);
            return Ok(Resolved {
                digest: hit.digest,
                source: Source::DiskCache,
                platforms: hit.platforms,
            });
        }
        let r = self
            .with_registry(
                key,
                |ep| async move { self.tag_from_registry(&ep, key).await },
            )
            .await?;
        if let Some(d) = &inner.disk {
            d.put(cache_key, r.digest.clone(), r.platforms.clone());
        }
        Ok(r)
    }

    async fn fetch_digest(&self, key: &Key) -> Result<bool, ResolveError> {
        self.with_registry(key, |ep| async move {
            self.digest_from_registry(&ep, key).await
        })
        .await
    }

    /// Runs one registry lookup under the registry's semaphore, remembering network failures
    /// so that the registry's other references fail fast.
    async fn with_registry<T, F, Fut>(&self, key: &Key, f: F) -> Result<T, ResolveError>
    where
        F: FnOnce(Endpoint) -> Fut,
        Fut: std::future::Future<Output = Result<T, ResolveError>>,
    {
        let inner = &self.inner;
        let failed_recently = |inner: &Inner| {
            inner
                .failed
                .get(&key.registry)
                .and_then(|f| (f.0.elapsed() < inner.failed_ttl).then(|| f.1.clone()))
        };
        if let Some(e) = failed_recently(inner) {
            return Err(e);
        }
        let sem = inner
            .semaphores
            .entry(key.registry.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(inner.concurrency)))
            .clone();
        let _permit = sem
            .acquire_owned()
            .await
            .map_err(|_| ResolveError::Network {
                registry: key.registry.clone(),
                msg: "resolver shut down".into(),
            })?;
        if let Some(e) = failed_recently(inner) {
            return Err(e);
        }
        inner
            .http
            .stats
            .registry_lookups
            .fetch_add(1, Ordering::Relaxed);
        let ep = inner.http.endpoint(&key.registry);
        tracing::debug!(registry = %key.registry, endpoint = %ep.base, "looking up {key}");
        let result = f(ep).await;
        if let Err(e @ (ResolveError::Timeout { .. } | ResolveError::Network { .. })) = &result {
            if !inner.failed_ttl.is_zero() {
                inner
                    .failed
                    .insert(key.registry.clone(), (Instant::now(), e.clone()));
            }
        }
        result
    }

    async fn tag_from_registry(&self, ep: &Endpoint, key: &Key) -> Result<Resolved, ResolveError> {
        let http = &self.inner.http;
        let shown = key.to_string();
        let head = http
            .manifest(ep, Method::HEAD, &key.repository, &key.reference, &shown)
            .await?;
        match head.status {
            // A HEAD answer has no body to say why; the GET below tells a deleted tag
            // (MANIFEST_UNKNOWN / NAME_UNKNOWN) from anything else answering 404.
            StatusCode::NOT_FOUND => {}
            s if s.is_success() => {
                if let Some(digest) = head.header(DIGEST_HEADER).filter(|d| is_sha256_digest(d)) {
                    let digest = digest.to_owned();
                    let platforms = if self.inner.list_platforms && is_index_type(&head) {
                        self.index_platforms(ep, key, &digest).await?
                    } else {
                        Vec::new()
                    };
                    return Ok(Resolved {
                        digest,
                        source: Source::Registry,
                        platforms,
                    });
                }
                tracing::debug!(registry = %ep.registry, "HEAD gave no digest for {shown}; using GET");
            }
            StatusCode::METHOD_NOT_ALLOWED => {}
            other => return Err(unexpected(ep, "HEAD", other)),
        }
        let get = http
            .manifest(ep, Method::GET, &key.repository, &key.reference, &shown)
            .await?;
        match get.status {
            StatusCode::NOT_FOUND if says_unknown(&get.body) => Err(not_found(ep, &shown)),
            StatusCode::NOT_FOUND => Err(ResolveError::Protocol {
                registry: ep.registry.clone(),
                msg: format!(
                    "GET manifest of {shown} answered 404 without a registry error code \
                     (MANIFEST_UNKNOWN / NAME_UNKNOWN)"
                ),
            }),
            s if s.is_success() => {
                let computed = sha256_digest(&get.body);
                if let Some(header) = get.header(DIGEST_HEADER) {
                    if header != computed {
                        return Err(ResolveError::BadDigest {
                            registry: ep.registry.clone(),
                            reference: shown,
                            header: header.to_owned(),
                            computed,
                        });
                    }
                }
                Ok(Resolved {
                    digest: computed,
                    source: Source::Registry,
                    platforms: platforms_of(&get.body),
                })
            }
            other => Err(unexpected(ep, "GET", other)),
        }
    }

    /// GETs an index by digest (immutable, so verifiable) and lists its platforms.
    async fn index_platforms(
        &self,
        ep: &Endpoint,
        key: &Key,
        digest: &str,
    ) -> Result<Vec<String>, ResolveError> {
        let shown = format!("{}/{}@{digest}", key.registry, key.repository);
        let get = self
            .inner
            .http
            .manifest(ep, Method::GET, &key.repository, digest, &shown)
            .await?;
        if !get.status.is_success() {
            return Err(unexpected(ep, "GET", get.status));
        }
        let computed = sha256_digest(&get.body);
        if computed != digest {
            return Err(ResolveError::BadDigest {
                registry: ep.registry.clone(),
                reference: shown,
                header: digest.to_owned(),
                computed,
            });
        }
        Ok(platforms_of(&get.body))
    }

    async fn digest_from_registry(&self, ep: &Endpoint, key: &Key) -> Result<bool, ResolveError> {
        let http = &self.inner.http;
        let shown = key.to_string();
        let head = http
            .manifest(ep, Method::HEAD, &key.repository, &key.reference, &shown)
            .await?;
        let check = |header: Option<&str>, computed: Option<String>| {
            let served = computed.or_else(|| header.map(str::to_owned));
            match served {
                Some(d) if d != key.reference => Err(ResolveError::BadDigest {
                    registry: ep.registry.clone(),
                    reference: shown.clone(),
                    header: key.reference.clone(),
                    computed: d,
                }),
                _ => Ok(true),
            }
        };
        match head.status {
            StatusCode::NOT_FOUND => Ok(false),
            s if s.is_success() => check(head.header(DIGEST_HEADER), None),
            StatusCode::METHOD_NOT_ALLOWED => {
                let get = http
                    .manifest(ep, Method::GET, &key.repository, &key.reference, &shown)
                    .await?;
                match get.status {
                    StatusCode::NOT_FOUND => Ok(false),
                    s if s.is_success() => check(None, Some(sha256_digest(&get.body))),
                    other => Err(unexpected(ep, "GET", other)),
                }
            }
            other => Err(unexpected(ep, "HEAD", other)),
        }
    }
}

fn not_found(ep: &Endpoint, shown: &str) -> ResolveError {
    ResolveError::NotFound {
        registry: ep.registry.clone(),
        reference: shown.to_owned(),
    }
}

/// Whether a 404 body is the registry's definitive answer that the manifest or repository
/// does not exist: a distribution error list with `MANIFEST_UNKNOWN` or `NAME_UNKNOWN`.
fn says_unknown(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Errors {
        #[serde(default)]
        errors: Vec<ErrorCode>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorCode {
        #[serde(default)]
        code: String,
    }
    serde_json::from_slice::<Errors>(body).is_ok_and(|e| {
        e.errors
            .iter()
            .any(|e| matches!(e.code.as_str(), "MANIFEST_UNKNOWN" | "NAME_UNKNOWN"))
    })
}

fn unexpected(ep: &Endpoint, method: &str, status: StatusCode) -> ResolveError {
    ResolveError::Protocol {
        registry: ep.registry.clone(),
        msg: format!("{method} manifest answered {status}"),
    }
}

fn is_index_type(reply: &Reply) -> bool {
    reply.header(CONTENT_TYPE.as_str()).is_some_and(|ct| {
        ct.contains("application/vnd.oci.image.index.v1+json")
            || ct.contains("application/vnd.docker.distribution.manifest.list.v2+json")
    })
}

/// `sha256:<hex>` of the bytes.
pub(crate) fn sha256_digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut s = String::with_capacity(71);
    s.push_str("sha256:");
    for b in hash {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// `os/architecture[/variant]` of every entry of an index; empty for anything else.
fn platforms_of(body: &[u8]) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Index {
        #[serde(default)]
        manifests: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        platform: Option<Platform>,
    }
    #[derive(serde::Deserialize)]
    struct Platform {
        os: String,
        architecture: String,
        variant: Option<String>,
    }
    let Ok(index) = serde_json::from_slice::<Index>(body) else {
        return Vec::new();
    };
    index
        .manifests
        .into_iter()
        .filter_map(|m| m.platform)
        .map(|p| match p.variant {
            Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
            None => format!("{}/{}", p.os, p.architecture),
        })
        .collect()
}
