//! Image names as the caller wrote them, and the normalised key used internally.

use std::fmt;

/// The registry every unqualified reference refers to.
pub const DOCKER_HUB: &str = "docker.io";

/// The host that actually serves Docker Hub's registry API.
pub const DOCKER_HUB_API_HOST: &str = "registry-1.docker.io";

/// An OCI image reference split into parts, keeping the user's spelling.
///
/// The caller (pin-core) owns the full reference grammar; this crate only needs the parts.
/// Nothing here is canonicalised: `ubuntu` stays `registry: ""`, `repository: "ubuntu"`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageName {
    /// Registry host (and port) as written; empty means Docker Hub.
    pub registry: String,
    /// Repository path as written (`ubuntu`, `dotnet-buildtools/prereqs`).
    pub repository: String,
    /// Tag, if written.
    pub tag: Option<String>,
    /// Digest (`sha256:<hex>`), if written.
    pub digest: Option<String>,
}

impl ImageName {
    /// Splits a reference such as `mcr.microsoft.com/a/b:tag@sha256:…` into its parts.
    ///
    /// A convenience for tests, catalogs and tools; it follows the Docker rules for telling
    /// a registry host from a first path segment (a `.` or `:` in it, or `localhost`) and
    /// does not validate characters.
    ///
    /// # Errors
    /// [`crate::ResolveError::InvalidReference`] for an empty repository or tag, or a digest
    /// that is not `sha256:<64 lowercase hex>`.
    pub fn parse(text: &str) -> Result<Self, crate::ResolveError> {
        let invalid = |why: &str| crate::ResolveError::InvalidReference {
            reference: text.to_owned(),
            reason: why.to_owned(),
        };
        let text_trimmed = text.trim();
        if text_trimmed.is_empty() {
            return Err(invalid("empty reference"));
        }
        let (rest, digest) = match text_trimmed.split_once('@') {
            Some((rest, digest)) => (rest, Some(digest.to_owned())),
            None => (text_trimmed, None),
        };
        let (registry, path) = match rest.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_owned(), path)
            }
            _ => (String::new(), rest),
        };
        let last_slash = path.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match path[last_slash..].rfind(':') {
            Some(i) => (
                path[..last_slash + i].to_owned(),
                Some(path[last_slash + i + 1..].to_owned()),
            ),
            None => (path.to_owned(), None),
        };
        if repository.is_empty() {
            return Err(invalid("empty repository"));
        }
        if tag.as_deref() == Some("") {
            return Err(invalid("empty tag"));
        }
        if let Some(d) = &digest {
            if !is_sha256_digest(d) {
                return Err(invalid("digest is not sha256:<64 lowercase hex>"));
            }
        }
        Ok(Self {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// The reference without its digest, exactly as the parts were written
    /// (`ubuntu`, `ghcr.io/o/r:1`). Catalogs are matched on this text first.
    pub fn written_without_digest(&self) -> String {
        let mut s = String::new();
        if !self.registry.is_empty() {
            s.push_str(&self.registry);
            s.push('/');
        }
        s.push_str(&self.repository);
        if let Some(tag) = &self.tag {
            s.push(':');
            s.push_str(tag);
        }
        s
    }

    /// The registry with Docker Hub's aliases folded (`""`, `index.docker.io` → `docker.io`),
    /// lower-cased. Used for credentials, mirrors, statistics and keys.
    pub fn canonical_registry(&self) -> String {
        canonical_registry(&self.registry)
    }

    /// The repository with Docker Hub's implicit `library/` added for single-segment names.
    pub fn canonical_repository(&self) -> String {
        if self.canonical_registry() == DOCKER_HUB && !self.repository.contains('/') {
            format!("library/{}", self.repository)
        } else {
            self.repository.clone()
        }
    }
}

impl fmt::Display for ImageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.written_without_digest())?;
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// Folds Docker Hub's spellings into `docker.io` and lower-cases the host.
pub fn canonical_registry(registry: &str) -> String {
    let r = registry.trim().to_ascii_lowercase();
    match r.as_str() {
        ""
        | "docker.io"
        | "index.docker.io"
        | "registry-1.docker.io"
        | "registry.hub.docker.com" => DOCKER_HUB.to_owned(),
        _ => r,
    }
}

/// True for `sha256:` followed by exactly 64 lowercase hex digits.
pub fn is_sha256_digest(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// What is being looked up, after normalisation: the unit of de-duplication and caching.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Key {
    /// Canonical registry (`docker.io`, `ghcr.io`, `127.0.0.1:5000`).
    pub registry: String,
    /// Canonical repository (`library/ubuntu`).
    pub repository: String,
    /// A tag, or a `sha256:` digest.
    pub reference: String,
}

impl Key {
    /// Key for resolving the name's tag (`latest` when none is written).
    pub fn for_tag(name: &ImageName) -> Self {
        Self {
            registry: name.canonical_registry(),
            repository: name.canonical_repository(),
            reference: name.tag.clone().unwrap_or_else(|| "latest".to_owned()),
        }
    }

    /// Key for a digest lookup.
    pub fn for_digest(name: &ImageName, digest: &str) -> Self {
        Self {
            registry: name.canonical_registry(),
            repository: name.canonical_repository(),
            reference: digest.to_owned(),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sep = if self.reference.starts_with("sha256:") {
            '@'
        } else {
            ':'
        };
        write!(
            f,
            "{}/{}{}{}",
            self.registry, self.repository, sep, self.reference
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        let n = ImageName::parse("ubuntu").unwrap();
        assert_eq!(n.registry, "");
        assert_eq!(n.repository, "ubuntu");
        assert_eq!(n.tag, None);
        assert_eq!(
            Key::for_tag(&n).to_string(),
            "docker.io/library/ubuntu:latest"
        );
        let m = ImageName::parse("index.docker.io/library/ubuntu:latest").unwrap();
        assert_eq!(Key::for_tag(&n), Key::for_tag(&m));
        assert_eq!(
            m.written_without_digest(),
            "index.docker.io/library/ubuntu:latest"
        );

        let p = ImageName::parse("localhost:5000/a/b:1.0").unwrap();
        assert_eq!(p.registry, "localhost:5000");
        assert_eq!(p.repository, "a/b");
        assert_eq!(p.tag.as_deref(), Some("1.0"));

        let d = format!("sha256:{}", "a".repeat(64));
        let q = ImageName::parse(&format!("mcr.microsoft.com/x/y:t@{d}")).unwrap();
        assert_eq!(q.digest.as_deref(), Some(d.as_str()));
        assert_eq!(q.tag.as_deref(), Some("t"));
        assert!(ImageName::parse("x@sha256:zz").is_err());
        assert!(ImageName::parse("owner/repo").unwrap().registry.is_empty());
        assert_eq!(
            Key::for_tag(&ImageName::parse("owner/repo").unwrap()).repository,
            "owner/repo"
        );
    }
}
