//! Executing the lookups of pin-core's engine with this crate: a planned lookup as a
//! resolver [`Query`], and what catalogs and the resolver say as the engine's
//! [`Answer`](pin_core::engine::Answer). Both front ends use these, so a lookup is asked and
//! its answer recorded the same way in the CLI's batch and in the server's background work.

use std::path::Path;

use pin_core::engine::{self, LookupError};
use pin_core::{ImageRef, TagFact};

use crate::{Answer, Catalog, ImageName, Query, ResolveError, Source};

impl From<&ImageRef> for ImageName {
    /// The parts of a parsed reference, keeping the user's spelling.
    fn from(image: &ImageRef) -> ImageName {
        ImageName {
            registry: image.registry_str().unwrap_or_default().to_string(),
            repository: image.repository_str().to_string(),
            tag: image.tag_str().map(str::to_string),
            digest: image.digest_str().map(str::to_string),
        }
    }
}

impl Query {
    /// The resolver query for a planned container lookup; `None` for a VM lookup (answered by
    /// `pin-vm-resolve`).
    pub fn for_planned(query: &engine::Query) -> Option<Query> {
        match query {
            engine::Query::Tag { image, .. } => {
                let mut name = ImageName::from(image);
                name.digest = None;
                Some(Query::Tag { name })
            }
            engine::Query::Digest { image, .. } => Some(Query::Digest {
                name: ImageName::from(image),
            }),
            engine::Query::VmVersions { .. } => None,
        }
    }
}

/// `catalog NAME`: where a catalog answer came from, for messages and hovers.
pub fn catalog_label(path: &Path) -> String {
    format!(
        "catalog {}",
        path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into()
        )
    )
}

/// What the first catalog that knows it says about a planned container lookup: a tag's
/// digest, or that a pinned digest exists (a catalog never says that one does not).
pub fn catalog_answer(catalogs: &[Catalog], query: &engine::Query) -> Option<engine::Answer> {
    match Query::for_planned(query)? {
        Query::Tag { name } => catalogs.iter().find_map(|c| {
            let digest = c.lookup_tag(&name)?;
            Some(engine::Answer::Tag(TagFact {
                digest: digest.to_string(),
                platforms: Vec::new(),
                source: catalog_label(c.path()),
            }))
        }),
        Query::Digest { name } => {
            let digest = name.digest.as_deref().unwrap_or_default();
            catalogs
                .iter()
                .any(|c| c.knows_digest(&name, digest))
                .then_some(engine::Answer::DigestExists(true))
        }
    }
}

/// The engine's answer for what the resolver said to `query`. A tag the registry does not
/// know is [`engine::Answer::NotFound`]; other errors are failures naming the registry.
pub fn answer(query: &Query, result: Result<Answer, ResolveError>) -> engine::Answer {
    match result {
        Ok(Answer::Tag(resolved)) => {
            let source = match &resolved.source {
                Source::Catalog(path) => catalog_label(path),
                Source::DiskCache => "digest cache".to_string(),
                Source::Registry => format!("registry {}", query.name().canonical_registry()),
            };
            engine::Answer::Tag(TagFact {
                digest: resolved.digest,
                platforms: resolved.platforms,
                source,
            })
        }
        Ok(Answer::Exists(exists)) => engine::Answer::DigestExists(exists),
        Err(error) => {
            let failure = LookupError {
                service: error
                    .registry()
                    .map_or_else(|| query.name().canonical_registry(), str::to_string),
                message: error.to_string(),
            };
            match (&error, query) {
                (ResolveError::NotFound { .. }, Query::Tag { .. }) => {
                    engine::Answer::NotFound(failure)
                }
                _ => engine::Answer::Failed(failure),
            }
        }
    }
}
