//! Registry lookups for pin-lint: which digest a tag points to now, and whether a pinned
//! digest still exists. Knows no YAML; callers hand in [`ImageName`]s and get facts back.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use pin_resolve::{ImageName, Resolver, ResolverOptions};
//! let resolver = Resolver::new(ResolverOptions::default())?;
//! let resolved = resolver.resolve_tag(&ImageName::parse("ubuntu:24.04")?).await?;
//! println!("{}", resolved.digest);
//! # Ok(()) }
//! ```
//!
//! Order of consultation for a tag: catalogs ([`Catalog`]), the in-memory cache, the disk
//! cache, then the registry. Distinct normalised names are fetched once per [`Resolver`]
//! (`ubuntu` ≡ `docker.io/library/ubuntu:latest`), at most
//! [`ResolverOptions::per_registry_concurrency`] at a time per registry.
//! Credentials: see [`auth`].

#![warn(missing_docs)]

pub mod auth;
mod catalog;
mod disk_cache;
pub mod engine;
mod error;
mod http;
mod name;
mod options;
mod resolver;
mod stats;

pub use auth::CredentialSources;
pub use catalog::{fetch_catalog, is_catalog_url, Catalog, MAX_CATALOG_BYTES};
pub use error::{CatalogError, ResolveError};
pub use http::MANIFEST_ACCEPT;
pub use name::{canonical_registry, is_sha256_digest, ImageName, DOCKER_HUB, DOCKER_HUB_API_HOST};
pub use options::ResolverOptions;
pub use resolver::{Answer, InitError, Query, Resolved, Resolver, Source};
pub use stats::{RegistryStats, Stats};
