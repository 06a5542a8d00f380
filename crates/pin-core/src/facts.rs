//! What the resolver found out, as plain data handed to the rules.
//!
//! Keys are normalised references (`docker.io/library/ubuntu:latest`), so every spelling of
//! the same image shares one lookup. A rule without a fact stays quiet: it never guesses.

use std::cmp::Ordering;
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

/// One published version of a VM image (marketplace or Azure Compute Gallery).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmVersion {
    /// The version name (`1.10.0`, `2024.07.15`).
    pub version: String,
    /// A gallery version marked `excludeFromLatest`: never what `latest` means, never
    /// proposed as a pin or bump.
    pub exclude_from_latest: bool,
    /// `publishingProfile.publishedDate` when known (RFC 3339), for messages only.
    pub published: Option<String>,
}

/// Resolution results for one run.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    tags: HashMap<String, TagFact>,
    digests: HashMap<String, bool>,
    failures: HashMap<String, String>,
    missing_tags: HashMap<String, String>,
    vm_versions: HashMap<String, (Vec<VmVersion>, String)>,
}

impl Facts {
    /// No facts: offline analysis.
    pub fn none() -> Facts {
        Facts::default()
    }

    /// The lookup key of a reference's tag (`registry/repo:tag`, normalised, without digest).
    pub fn tag_key(image: &ImageRef) -> String {
        image.tag_key()
    }

    /// The lookup key of a pinned digest (`registry/repo@sha256:…`).
    pub fn digest_key(image: &ImageRef) -> Option<String> {
        let digest = image.digest_str()?;
        let mut key = image.name_key();
        key.push('@');
        key.push_str(digest);
        Some(key)
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

    /// Record that the registry answered definitively that a tag (or its repository) does
    /// not exist; `key` as [`Facts::tag_key`], `message` names the registry.
    pub fn insert_missing_tag(&mut self, key: String, message: String) {
        self.missing_tags.insert(key, message);
    }

    /// The registry's answer that the reference's tag does not exist, if it gave one.
    pub fn tag_missing(&self, image: &ImageRef) -> Option<&str> {
        self.missing_tags
            .get(&Self::tag_key(image))
            .map(String::as_str)
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

    /// The VM facts key of a marketplace image: `publisher:offer:sku`, lower-case.
    pub fn vm_marketplace_key(publisher: &str, offer: &str, sku: &str) -> String {
        format!("{publisher}:{offer}:{sku}").to_ascii_lowercase()
    }

    /// The VM facts key of a gallery image id: lower-case, without `/versions/…` and without a
    /// trailing `/`.
    pub fn vm_gallery_key(id: &str) -> String {
        let lower = id.trim().to_ascii_lowercase();
        let base = match lower.find("/versions") {
            Some(at) => &lower[..at],
            None => lower.as_str(),
        };
        base.trim_end_matches('/').to_string()
    }

    /// Record every published version of a VM image; `key` as [`Facts::vm_marketplace_key`] or
    /// [`Facts::vm_gallery_key`] (it is lower-cased here too), `source` says where they came
    /// from (`catalog images.json`, `Azure Resource Manager`).
    pub fn insert_vm_versions(&mut self, key: &str, versions: Vec<VmVersion>, source: String) {
        self.vm_versions
            .insert(key.to_ascii_lowercase(), (versions, source));
    }

    /// Every known version of a VM image, if resolution found the image.
    pub fn vm_versions(&self, key: &str) -> Option<&[VmVersion]> {
        self.vm_versions
            .get(&key.to_ascii_lowercase())
            .map(|(v, _)| v.as_slice())
    }

    /// Where the versions of a VM image came from.
    pub fn vm_source(&self, key: &str) -> Option<&str> {
        self.vm_versions
            .get(&key.to_ascii_lowercase())
            .map(|(_, s)| s.as_str())
    }

    /// What `latest` means for a VM image now: the highest version in Azure's ordering that is
    /// not excluded from latest. `None` when unknown or when every version is excluded.
    pub fn newest_vm_version(&self, key: &str) -> Option<&VmVersion> {
        self.vm_versions(key)?
            .iter()
            .filter(|v| !v.exclude_from_latest)
            .max_by(|a, b| compare_vm_versions(&a.version, &b.version))
    }

    /// Number of VM images with version facts.
    pub fn vm_count(&self) -> usize {
        self.vm_versions.len()
    }
}

/// Azure's version order: dot-separated parts compared as numbers (`1.10.0` > `1.9.3`;
/// `2024.07.15` equals `2024.7.15`); a missing part counts as 0; parts that are not numbers
/// sort after numbers and compare as text.
pub fn compare_vm_versions(a: &str, b: &str) -> Ordering {
    let mut left = a.split('.');
    let mut right = b.split('.');
    loop {
        let (l, r) = match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (l, r) => (l.unwrap_or("0"), r.unwrap_or("0")),
        };
        let ord = match (l.parse::<u64>(), r.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            (Err(_), Err(_)) => l.cmp(r),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(version: &str, exclude: bool) -> VmVersion {
        VmVersion {
            version: version.to_string(),
            exclude_from_latest: exclude,
            published: None,
        }
    }

    #[test]
    fn versions_order_numerically() {
        assert_eq!(compare_vm_versions("1.10.0", "1.9.3"), Ordering::Greater);
        assert_eq!(compare_vm_versions("1.2", "1.2.0"), Ordering::Equal);
        assert_eq!(
            compare_vm_versions("2024.07.15", "2024.7.15"),
            Ordering::Equal
        );
        assert_eq!(compare_vm_versions("1.0.0", "1.0.0-beta"), Ordering::Less);
        assert_eq!(
            compare_vm_versions("22.04.202410020", "22.04.202409120"),
            Ordering::Greater
        );
    }

    #[test]
    fn newest_skips_excluded_versions_and_keys_ignore_case() {
        let mut facts = Facts::none();
        let key = Facts::vm_gallery_key("/Subscriptions/S/resourceGroups/R/providers/Microsoft.Compute/galleries/G/images/I/versions/latest");
        assert_eq!(
            key,
            "/subscriptions/s/resourcegroups/r/providers/microsoft.compute/galleries/g/images/i"
        );
        facts.insert_vm_versions(
            &key,
            vec![v("1.9.3", false), v("1.10.0", false), v("2.0.0", true)],
            "test".into(),
        );
        assert_eq!(
            facts
                .newest_vm_version(&key.to_uppercase())
                .map(|v| v.version.as_str()),
            Some("1.10.0")
        );
    }
}
