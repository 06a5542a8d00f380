//! What the resolver found out, as plain data handed to the rules.
//!
//! Keys are normalised references (`docker.io/library/ubuntu:latest`), so every spelling of
//! the same image shares one lookup. A rule without a fact stays quiet: it never guesses.

use std::collections::HashMap;

use crate::reference::ImageRef;

/// Where a tag's digest came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagFact {
    /// `sha256:<hex>` the tag points to now.
    pub digest: String,
    /// Platforms of a multi-platform index (`linux/amd64` …), when known.
    pub platforms: Vec<String>,
    /// A short description of the source (`catalog fake-digests.tsv`, `registry mcr.microsoft.com`).
    pub source: String,
}

/// Resolution results for one run.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    tags: HashMap<String, TagFact>,
    digests: HashMap<String, bool>,
    failures: HashMap<String, String>,
}

impl Facts {
    /// No facts: offline analysis.
    pub fn none() -> Facts {
        Facts::default()
    }

    /// The lookup key of a reference's tag (`registry/repo:tag`, normalised, without digest).
    pub fn tag_key(image: &ImageRef) -> String {
        let n = image.normalized();
        match n.split_once('@') {
            Some((name, _)) => name.to_string(),
            None => n,
        }
    }

    /// The lookup key of a pinned digest (`registry/repo@sha256:…`).
    pub fn digest_key(image: &ImageRef) -> Option<String> {
        let digest = image.digest_str()?;
        Some(format!(
            "{}/{}@{}",
            image.registry_host(),
            image.repository_path(),
            digest
        ))
    }

    /// Record what a tag points to.
    pub fn insert_tag(&mut self, key: String, fact: TagFact) {
        self.tags.insert(key, fact);
    }

    /// Record whether a pinned digest exists.
    pub fn insert_digest(&mut self, key: String, exists: bool) {
        self.digests.insert(key, exists);
    }

    /// Record that a lookup failed (the message names the registry and the reason).
    pub fn insert_failure(&mut self, key: String, message: String) {
        self.failures.insert(key, message);
    }

    /// What the reference's tag points to, if known.
    pub fn tag(&self, image: &ImageRef) -> Option<&TagFact> {
        self.tags.get(&Self::tag_key(image))
    }

    /// Whether the reference's pinned digest exists, if known.
    pub fn digest_exists(&self, image: &ImageRef) -> Option<bool> {
        self.digests.get(&Self::digest_key(image)?).copied()
    }

    /// Why a lookup for this key failed, if it did.
    pub fn failure(&self, key: &str) -> Option<&str> {
        self.failures.get(key).map(String::as_str)
    }

    /// Number of tag facts.
    pub fn tag_count(&self) -> usize {
        self.tags.len()
    }
}
