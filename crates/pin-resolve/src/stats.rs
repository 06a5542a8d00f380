//! Request counters, per registry: what the benchmark and `--verbose` output report.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::DashMap;

/// Requests sent to one registry (and its token realm).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RegistryStats {
    /// HEAD requests for manifests.
    pub head: u64,
    /// GET requests for manifests.
    pub get: u64,
    /// Requests to the token realm.
    pub token: u64,
    /// Attempts that were retried (5xx, 429, connection errors, timeouts).
    pub retries: u64,
}

impl RegistryStats {
    /// All requests sent.
    pub fn requests(&self) -> u64 {
        self.head + self.get + self.token
    }
}

/// A snapshot of a resolver's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Keyed by canonical registry (`docker.io`, `127.0.0.1:5000`).
    pub registries: BTreeMap<String, RegistryStats>,
    /// Answers taken from a catalog.
    pub catalog_hits: u64,
    /// Answers taken from the disk cache.
    pub disk_cache_hits: u64,
    /// Answers taken from the in-memory cache (a repeated lookup).
    pub memory_hits: u64,
    /// Distinct lookups that went to a registry.
    pub registry_lookups: u64,
}

impl Stats {
    /// Requests to all registries together.
    pub fn total_requests(&self) -> u64 {
        self.registries.values().map(RegistryStats::requests).sum()
    }
}

#[derive(Default)]
pub(crate) struct Counters {
    head: AtomicU64,
    get: AtomicU64,
    token: AtomicU64,
    retries: AtomicU64,
}

/// What kind of request is counted.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Req {
    Head,
    Get,
    Token,
    Retry,
}

#[derive(Default)]
pub(crate) struct StatsCollector {
    per_registry: DashMap<String, Counters>,
    pub catalog_hits: AtomicU64,
    pub disk_cache_hits: AtomicU64,
    pub memory_hits: AtomicU64,
    pub registry_lookups: AtomicU64,
}

impl StatsCollector {
    pub fn count(&self, registry: &str, req: Req) {
        let entry = self.per_registry.entry(registry.to_owned()).or_default();
        let c = match req {
            Req::Head => &entry.head,
            Req::Get => &entry.get,
            Req::Token => &entry.token,
            Req::Retry => &entry.retries,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Stats {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Stats {
            registries: self
                .per_registry
                .iter()
                .map(|e| {
                    (
                        e.key().clone(),
                        RegistryStats {
                            head: load(&e.head),
                            get: load(&e.get),
                            token: load(&e.token),
                            retries: load(&e.retries),
                        },
                    )
                })
                .collect(),
            catalog_hits: load(&self.catalog_hits),
            disk_cache_hits: load(&self.disk_cache_hits),
            memory_hits: load(&self.memory_hits),
            registry_lookups: load(&self.registry_lookups),
        }
    }
}
