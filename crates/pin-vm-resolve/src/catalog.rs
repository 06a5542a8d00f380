//! VM catalogs: the JSON that `az vm image list --all -o json` and
//! `az sig image-version list -o json` print, read as a list of versions per image.

use std::collections::BTreeMap;
use std::path::Path;

use pin_core::{Facts, VmVersion};
use serde_json::Value;

/// A VM catalog file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {msg}")]
pub struct CatalogError {
    /// The file.
    pub path: String,
    /// What was wrong.
    pub msg: String,
}

/// Versions per image (facts key → versions), from one or more az-shaped JSON documents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VmCatalog {
    name: String,
    images: BTreeMap<String, Vec<VmVersion>>,
}

/// Recognise a VM catalog from its content: a JSON array whose every item is either a
/// marketplace image (`publisher`, `offer`, `sku`, `version`, as `az vm image list` prints) or
/// a gallery image version (`id` …`/galleries/G/images/I/versions/V`, with `publishingProfile`
/// at the top level as az prints it or under `properties` as the REST API does). The REST
/// shape `{"value": [...]}` is accepted too. Anything else (an empty array, the dotnet
/// image-info catalog, a TSV file) is `None`, so the CLI can try the other catalog formats.
pub fn sniff(text: &str) -> Option<VmCatalog> {
    let json: Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).ok()?;
    let items = match &json {
        Value::Array(items) => items,
        Value::Object(map) => map.get("value")?.as_array()?,
        _ => return None,
    };
    if items.is_empty() {
        return None;
    }
    let mut catalog = VmCatalog::default();
    for item in items {
        let (key, version) = marketplace_item(item).or_else(|| gallery_item(item))?;
        catalog.images.entry(key).or_default().push(version);
    }
    Some(catalog)
}

fn marketplace_item(item: &Value) -> Option<(String, VmVersion)> {
    let s = |k: &str| {
        item.get(k)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    let key = Facts::vm_marketplace_key(s("publisher")?, s("offer")?, s("sku")?);
    Some((
        key,
        VmVersion {
            version: s("version")?.to_string(),
            exclude_from_latest: false,
            published: None,
        },
    ))
}

fn gallery_item(item: &Value) -> Option<(String, VmVersion)> {
    let id = item.get("id")?.as_str()?;
    let lower = id.to_ascii_lowercase();
    if !lower.contains("/galleries/") {
        return None;
    }
    let at = lower.rfind("/versions/")?;
    let version = item
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or(&id[at + "/versions/".len()..]);
    if version.is_empty() || version.contains('/') {
        return None;
    }
    let profile = item
        .get("publishingProfile")
        .or_else(|| item.get("properties")?.get("publishingProfile"));
    let flag = profile
        .and_then(|p| p.get("excludeFromLatest"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let published = profile
        .and_then(|p| p.get("publishedDate"))
        .and_then(Value::as_str)
        .map(str::to_string);
    Some((
        Facts::vm_gallery_key(id),
        VmVersion {
            version: version.to_string(),
            exclude_from_latest: flag,
            published,
        },
    ))
}

impl VmCatalog {
    /// Read a file that [`sniff`] recognises; `Ok(None)` when it is not a VM catalog.
    pub fn load(path: &Path) -> Result<Option<VmCatalog>, CatalogError> {
        let text = std::fs::read_to_string(path).map_err(|e| CatalogError {
            path: path.display().to_string(),
            msg: e.to_string(),
        })?;
        Ok(sniff(&text).map(|c| c.named(&path.display().to_string())))
    }

    /// The same catalog under `name` (shown as the source of its facts).
    pub fn named(mut self, name: &str) -> VmCatalog {
        self.name = name.to_string();
        self
    }

    /// The catalog's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every version listed for the image with facts key `key` (case-insensitive).
    pub fn versions(&self, key: &str) -> Option<&[VmVersion]> {
        self.images
            .get(&key.to_ascii_lowercase())
            .map(Vec::as_slice)
    }

    /// Number of images listed.
    pub fn len(&self) -> usize {
        self.images.len()
    }

    /// Whether no image is listed.
    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }
}
