//! Digest catalogs: files that answer lookups before any registry is asked.
//!
//! Two formats, recognised by content (a file whose first non-blank character is `{` is JSON):
//!
//! * TSV: `reference<TAB>sha256:<hex>` per line; blank lines and lines starting with `#` are
//!   ignored. Fields may also be separated by spaces.
//! * The dotnet image-info JSON (`build-info/docker/image-info.*.json`):
//!   `repos[].images[]` with `platforms[]` (`simpleTags`, `digest`) and an optional
//!   `manifest` (`sharedTags`, `digest`). A platform's `simpleTags` map to that platform's
//!   digest (the tag serves that single-platform manifest); `manifest.sharedTags` map to the
//!   manifest-list digest, which wins if a tag appears in both, because a shared tag is what
//!   serves the list. The registry and repository come from the `digest` value
//!   (`mcr.microsoft.com/dotnet-buildtools/prereqs@sha256:…`); when a digest value is bare
//!   (`sha256:…`), `repos[].repo` is used as written.
//!
//! Lookups match the reference text exactly as written first (so a catalog may tell
//! `ubuntu` from `ubuntu:latest`), then by normalised name (`ubuntu` ≡
//! `docker.io/library/ubuntu:latest`); on a normalised collision the first entry in the file wins.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{CatalogError, ResolveError};
use crate::http::Http;
use crate::name::{is_sha256_digest, ImageName, Key};
use crate::options::ResolverOptions;

/// The largest catalog accepted from a URL (the dotnet image-info files are about 0.5 MiB).
pub const MAX_CATALOG_BYTES: usize = 16 << 20;

/// Whether a catalog location is a URL (`https://…` or `http://…`) rather than a file path.
pub fn is_catalog_url(location: &str) -> bool {
    let lower = location.get(..8).unwrap_or(location).to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// Fetches the text of a catalog published at `url` (a producer's image-info JSON, a TSV
/// catalog or a VM catalog) with the HTTP client of the registry lookups: `options`'
/// timeout, retries and backoff and its redirect policy; `https` only, plain `http` only to
/// a host listed in `options.insecure_registries`. A body over [`MAX_CATALOG_BYTES`] is
/// refused. The text is returned unparsed so that the caller can tell its kind (see
/// [`Catalog::parse`]).
///
/// # Errors
/// [`CatalogError::Fetch`] naming the URL: not a usable URL, refused plain HTTP, timeout,
/// connection or server error past the retries, a status other than 2xx, an oversized or
/// non-UTF-8 body.
pub async fn fetch_catalog(url: &str, options: &ResolverOptions) -> Result<String, CatalogError> {
    let failed = |msg: String| CatalogError::Fetch {
        url: url.to_owned(),
        msg,
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| failed(format!("not a URL: {e}")))?;
    let http = Http::new(options).map_err(|e| failed(e.to_string()))?;
    let reply = http
        .document(&parsed, MAX_CATALOG_BYTES)
        .await
        .map_err(|e| {
            failed(match e {
                ResolveError::Timeout { .. } => format!(
                    "timed out ({} attempt(s) of {} s)",
                    options.retries + 1,
                    options.timeout.as_secs_f32()
                ),
                ResolveError::Insecure { url_host, .. } => {
                    format!("refusing plain HTTP to {url_host} (not an insecure registry)")
                }
                ResolveError::Network { msg, .. } | ResolveError::Protocol { msg, .. } => msg,
                other => other.to_string(),
            })
        })?;
    if !reply.status.is_success() {
        return Err(failed(format!("the server answered {}", reply.status)));
    }
    String::from_utf8(reply.body).map_err(|_| failed("the answer is not UTF-8 text".to_owned()))
}

/// A loaded catalog file.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    path: PathBuf,
    exact: HashMap<String, String>,
    normalised: HashMap<Key, String>,
    known_digests: HashSet<Key>,
}

impl Catalog {
    /// Reads and parses a catalog file.
    ///
    /// # Errors
    /// [`CatalogError`] naming the file (and line) when it cannot be read or parsed.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, CatalogError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| CatalogError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(path, &text)
    }

    /// Parses catalog text; `path` is used for error messages and [`Catalog::path`].
    ///
    /// # Errors
    /// [`CatalogError::Parse`] with the line of the first malformed entry.
    pub fn parse(path: impl AsRef<Path>, text: &str) -> Result<Self, CatalogError> {
        let mut catalog = Self {
            path: path.as_ref().to_owned(),
            ..Self::default()
        };
        if text.trim_start().starts_with('{') {
            catalog.parse_image_info(text)?;
        } else {
            catalog.parse_tsv(text)?;
        }
        Ok(catalog)
    }

    /// The file this catalog was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of references (tags) the catalog maps.
    pub fn len(&self) -> usize {
        self.exact.len()
    }

    /// True when the catalog maps no reference.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty()
    }

    /// The digest the catalog gives for this name's tag, if any.
    pub fn lookup_tag(&self, name: &ImageName) -> Option<&str> {
        self.exact
            .get(&name.written_without_digest())
            .or_else(|| self.normalised.get(&Key::for_tag(name)))
            .map(String::as_str)
    }

    /// True when the catalog lists `digest` for this name's repository.
    pub fn knows_digest(&self, name: &ImageName, digest: &str) -> bool {
        self.known_digests.contains(&Key::for_digest(name, digest))
    }

    fn error(&self, line: usize, msg: impl Into<String>) -> CatalogError {
        CatalogError::Parse {
            path: self.path.clone(),
            line,
            msg: msg.into(),
        }
    }

    fn insert(&mut self, line: usize, reference: &str, digest: &str) -> Result<(), CatalogError> {
        let name = ImageName::parse(reference)
            .map_err(|e| self.error(line, format!("invalid reference: {e}")))?;
        if name.digest.is_some() {
            return Err(self.error(line, format!("reference {reference:?} carries a digest")));
        }
        if !is_sha256_digest(digest) {
            return Err(self.error(line, format!("{digest:?} is not sha256:<64 lowercase hex>")));
        }
        self.exact
            .entry(name.written_without_digest())
            .or_insert_with(|| digest.to_owned());
        self.normalised
            .entry(Key::for_tag(&name))
            .or_insert_with(|| digest.to_owned());
        self.known_digests.insert(Key::for_digest(&name, digest));
        Ok(())
    }

    fn parse_tsv(&mut self, text: &str) -> Result<(), CatalogError> {
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [reference, digest] = fields.as_slice() else {
                return Err(self.error(
                    line_no,
                    format!(
                        "expected `reference<TAB>sha256:<hex>`, found {} field(s)",
                        fields.len()
                    ),
                ));
            };
            self.insert(line_no, reference, digest)?;
        }
        Ok(())
    }

    fn parse_image_info(&mut self, text: &str) -> Result<(), CatalogError> {
        let info: ImageInfo = serde_json::from_str(text)
            .map_err(|e| self.error(e.line(), format!("not an image-info JSON file: {e}")))?;
        // Shared tags (manifest lists) first so that they win over a same-named platform tag.
        let mut pairs: Vec<(String, String)> = Vec::new();
        for repo in &info.repos {
            for image in &repo.images {
                if let Some(manifest) = &image.manifest {
                    let (name, digest) = split_digest(&repo.repo, &manifest.digest);
                    for tag in &manifest.shared_tags {
                        pairs.push((format!("{name}:{tag}"), digest.to_owned()));
                    }
                }
            }
        }
        for repo in &info.repos {
            for image in &repo.images {
                for platform in &image.platforms {
                    let (name, digest) = split_digest(&repo.repo, &platform.digest);
                    for tag in &platform.simple_tags {
                        pairs.push((format!("{name}:{tag}"), digest.to_owned()));
                    }
                }
            }
        }
        // serde_json does not keep positions of values; line 1 is the honest answer.
        for (reference, digest) in pairs {
            self.insert(1, &reference, &digest)?;
        }
        Ok(())
    }
}

/// `mcr.microsoft.com/x/y@sha256:…` → (`mcr.microsoft.com/x/y`, `sha256:…`); a bare digest
/// keeps the repository as written in the file.
fn split_digest<'a>(repo: &'a str, value: &'a str) -> (&'a str, &'a str) {
    match value.rsplit_once('@') {
        Some((name, digest)) => (name, digest),
        None => (repo, value),
    }
}

#[derive(Deserialize)]
struct ImageInfo {
    repos: Vec<RepoInfo>,
}

#[derive(Deserialize)]
struct RepoInfo {
    repo: String,
    #[serde(default)]
    images: Vec<ImageEntry>,
}

#[derive(Deserialize)]
struct ImageEntry {
    #[serde(default)]
    platforms: Vec<PlatformEntry>,
    manifest: Option<ManifestEntry>,
}

#[derive(Deserialize)]
struct PlatformEntry {
    #[serde(default, rename = "simpleTags")]
    simple_tags: Vec<String>,
    digest: String,
}

#[derive(Deserialize)]
struct ManifestEntry {
    digest: String,
    #[serde(default, rename = "sharedTags")]
    shared_tags: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    #[test]
    fn tsv_exact_then_normalised() {
        let text = format!("# reference\tdigest\n\nubuntu\t{D1}\nubuntu:latest\t{D2}\n");
        let c = Catalog::parse("c.tsv", &text).unwrap();
        let get = |s: &str| c.lookup_tag(&ImageName::parse(s).unwrap());
        assert_eq!(get("ubuntu"), Some(D1));
        assert_eq!(get("ubuntu:latest"), Some(D2));
        assert_eq!(get("docker.io/library/ubuntu:latest"), Some(D1));
        assert_eq!(get("ubuntu:22.04"), None);
    }

    #[test]
    fn tsv_errors_name_file_and_line() {
        let err = Catalog::parse("x/c.tsv", "# c\nubuntu\tsha256:nothex\n").unwrap_err();
        assert!(err.to_string().starts_with("x/c.tsv:2: "), "{err}");
        let err = Catalog::parse("c.tsv", "ubuntu\n").unwrap_err();
        assert!(err.to_string().starts_with("c.tsv:1: "), "{err}");
    }

    #[test]
    fn image_info_prefers_manifest_list() {
        let json = format!(
            r#"{{"repos":[{{"repo":"r/p","images":[
              {{"manifest":{{"digest":"reg.example/r/p@{D1}","sharedTags":["shared"]}},
                "platforms":[{{"simpleTags":["a-amd64","shared"],"digest":"reg.example/r/p@{D2}"}}]}}]}}]}}"#
        );
        let c = Catalog::parse("i.json", &json).unwrap();
        let get = |s: &str| c.lookup_tag(&ImageName::parse(s).unwrap());
        assert_eq!(get("reg.example/r/p:shared"), Some(D1));
        assert_eq!(get("reg.example/r/p:a-amd64"), Some(D2));
        assert!(c.knows_digest(&ImageName::parse("reg.example/r/p").unwrap(), D2));
    }

    #[test]
    fn json_errors_have_line() {
        let err = Catalog::parse("i.json", "{\n\"repos\": [\n 1\n]}").unwrap_err();
        assert!(err.to_string().starts_with("i.json:3: "), "{err}");
    }
}
