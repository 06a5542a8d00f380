//! OCI image reference grammar (`[registry[:port]/]path[:tag][@algo:hex]`), following the
//! distribution project's reference grammar, with a sub-span for each part.
//!
//! The user's spelling is never changed; [`ImageRef::normalized`] exists only to de-duplicate
//! (`ubuntu` ≡ `docker.io/library/ubuntu:latest`) and to address registries.

use std::fmt;
use std::ops::Range;

/// A parsed image reference. Ranges are byte offsets into the text that was parsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageRef {
    text: String,
    /// The registry host (and port), when the first path component names one.
    pub registry: Option<Range<usize>>,
    /// The repository path (without registry).
    pub repository: Range<usize>,
    /// The tag, without `:`.
    pub tag: Option<Range<usize>>,
    /// The digest, `algorithm:hex`, without `@`.
    pub digest: Option<Range<usize>>,
}

/// Why a reference does not follow the grammar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// Nothing to parse.
    #[error("the image reference is empty")]
    Empty,
    /// The repository path is malformed (e.g. upper-case letters or an empty component).
    #[error("invalid repository name `{0}`: use lower-case letters, digits and separators (`.`, `_`, `__`, `-`) between `/`")]
    Repository(String),
    /// The tag is malformed.
    #[error(
        "invalid tag `{0}`: a tag is 1 to 128 of `[A-Za-z0-9_.-]` and cannot start with `.` or `-`"
    )]
    Tag(String),
    /// The digest is malformed.
    #[error("invalid digest `{0}`: expected `sha256:` followed by 64 lower-case hex digits")]
    Digest(String),
    /// The registry host is malformed.
    #[error("invalid registry host `{0}`")]
    Registry(String),
    /// The name is longer than the 255 characters registries accept.
    #[error("the repository name is longer than 255 characters")]
    TooLong,
}

impl ImageRef {
    /// Parse `text` (no surrounding whitespace or quotes).
    pub fn parse(text: &str) -> Result<ImageRef, ReferenceError> {
        if text.is_empty() {
            return Err(ReferenceError::Empty);
        }
        let (name_end, digest) = match text.find('@') {
            Some(at) => {
                let d = at + 1..text.len();
                validate_digest(&text[d.clone()])?;
                (at, Some(d))
            }
            None => (text.len(), None),
        };
        let name_and_tag = &text[..name_end];
        // A tag follows the last `:` that comes after the last `/`.
        let last_slash = name_and_tag.rfind('/').map_or(0, |i| i + 1);
        let (name_end, tag) = match name_and_tag[last_slash..].rfind(':') {
            Some(colon) => {
                let colon = last_slash + colon;
                let t = colon + 1..name_and_tag.len();
                validate_tag(&text[t.clone()])?;
                (colon, Some(t))
            }
            None => (name_and_tag.len(), None),
        };
        let name = &text[..name_end];
        let (registry, repo_start) = match name.find('/') {
            Some(slash) if is_registry(&name[..slash]) => {
                validate_registry(&name[..slash])?;
                (Some(0..slash), slash + 1)
            }
            _ => (None, 0),
        };
        let repository = repo_start..name_end;
        validate_repository(&text[repository.clone()])?;
        if name.len() > 255 {
            return Err(ReferenceError::TooLong);
        }
        Ok(ImageRef {
            text: text.to_string(),
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// The reference exactly as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The registry as written, if any.
    pub fn registry_str(&self) -> Option<&str> {
        self.registry.clone().map(|r| &self.text[r])
    }

    /// The repository as written.
    pub fn repository_str(&self) -> &str {
        &self.text[self.repository.clone()]
    }

    /// The tag as written, if any.
    pub fn tag_str(&self) -> Option<&str> {
        self.tag.clone().map(|r| &self.text[r])
    }

    /// The digest (`sha256:…`), if any.
    pub fn digest_str(&self) -> Option<&str> {
        self.digest.clone().map(|r| &self.text[r])
    }

    /// The text without its digest: `registry/repo:tag` as written.
    pub fn without_digest(&self) -> &str {
        match &self.digest {
            Some(d) => &self.text[..d.start - 1],
            None => &self.text,
        }
    }

    /// Byte offset (relative to the parsed text) right after the name and tag, where a pin's
    /// `@sha256:…` goes.
    pub fn pin_offset(&self) -> usize {
        self.without_digest().len()
    }

    /// The registry host to talk to: `docker.io` when none is written.
    pub fn registry_host(&self) -> &str {
        match self.registry_str() {
            Some("index.docker.io" | "registry-1.docker.io") | None => "docker.io",
            Some(host) => host,
        }
    }

    /// The repository as registries address it (`library/` added for Docker Hub officials).
    pub fn repository_path(&self) -> String {
        let mut out = String::with_capacity(self.repository.len() + LIBRARY.len());
        self.push_repository_path(&mut out);
        out
    }

    /// `registry/repository` as registries address it: [`ImageRef::registry_host`], `/`,
    /// [`ImageRef::repository_path`]. The start of every lookup key.
    pub fn name_key(&self) -> String {
        let mut out = String::with_capacity(self.key_capacity());
        self.push_name_key(&mut out);
        out
    }

    /// [`ImageRef::name_key`] with the tag (`latest` when the reference has neither tag nor
    /// digest, as container engines do; nothing when it has only a digest): the key a tag is
    /// looked up by.
    pub fn tag_key(&self) -> String {
        let mut out = String::with_capacity(self.key_capacity());
        self.push_name_key(&mut out);
        match (self.tag_str(), &self.digest) {
            (Some(tag), _) => {
                out.push(':');
                out.push_str(tag);
            }
            (None, None) => out.push_str(":latest"),
            (None, Some(_)) => {}
        }
        out
    }

    /// Canonical form for de-duplication: `docker.io/library/ubuntu:latest[@digest]`.
    /// A reference without tag and digest gets `latest`, as container engines do.
    pub fn normalized(&self) -> String {
        let mut out = self.tag_key();
        if let Some(digest) = self.digest_str() {
            out.push('@');
            out.push_str(digest);
        }
        out
    }

    /// Enough room for any key of this reference: the text, a default host and `library/`,
    /// and `:latest`.
    fn key_capacity(&self) -> usize {
        self.text.len() + "docker.io/".len() + LIBRARY.len() + ":latest".len()
    }

    fn push_name_key(&self, out: &mut String) {
        out.push_str(self.registry_host());
        out.push('/');
        self.push_repository_path(out);
    }

    fn push_repository_path(&self, out: &mut String) {
        let repo = self.repository_str();
        if self.registry_host() == "docker.io" && !repo.contains('/') {
            out.push_str(LIBRARY);
        }
        out.push_str(repo);
    }
}

/// The namespace Docker Hub gives its official images.
const LIBRARY: &str = "library/";

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The first component names a registry when it has a `.` or `:`, or is `localhost`
/// (the distribution rule; an upper-case letter also marks a host there).
fn is_registry(first: &str) -> bool {
    first.contains('.')
        || first.contains(':')
        || first == "localhost"
        || first.bytes().any(|b| b.is_ascii_uppercase())
}

fn validate_registry(host: &str) -> Result<(), ReferenceError> {
    let err = || ReferenceError::Registry(host.to_string());
    let (name, port) = match host.strip_prefix('[') {
        Some(rest) => {
            let close = rest.find(']').ok_or_else(err)?;
            (&rest[..close], rest[close + 1..].strip_prefix(':'))
        }
        None => match host.rsplit_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (host, None),
        },
    };
    let name_ok = !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b':')
        });
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if name_ok && port_ok {
        Ok(())
    } else {
        Err(err())
    }
}

fn validate_repository(repo: &str) -> Result<(), ReferenceError> {
    let ok = !repo.is_empty() && repo.split('/').all(valid_path_component);
    if ok {
        Ok(())
    } else {
        Err(ReferenceError::Repository(repo.to_string()))
    }
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn valid_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let sep_start = i;
        match b[i] {
            b'.' => i += 1,
            b'_' => i += if b.get(i + 1) == Some(&b'_') { 2 } else { 1 },
            b'-' => {
                while b.get(i) == Some(&b'-') {
                    i += 1;
                }
            }
            _ => return false,
        }
        if i == sep_start || !b.get(i).copied().is_some_and(alnum) {
            return false;
        }
    }
    true
}

fn validate_tag(tag: &str) -> Result<(), ReferenceError> {
    let b = tag.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|x| x.is_ascii_alphanumeric() || matches!(x, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(ReferenceError::Tag(tag.to_string()))
    }
}

fn validate_digest(digest: &str) -> Result<(), ReferenceError> {
    let err = || ReferenceError::Digest(digest.to_string());
    let (algo, hex) = digest.split_once(':').ok_or_else(err)?;
    let hex_ok = |len: usize| {
        hex.len() == len
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let ok = match algo {
        "sha256" => hex_ok(64),
        "sha512" => hex_ok(128),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(err())
    }
}

/// True when `s` is `sha256:` and 64 lower-case hex digits.
pub fn is_sha256_digest(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:62d9af8ee1655023cc103457f52e4679efbe1d81392d8668147e91a931082b3d";

    #[test]
    fn parts_and_normalisation() {
        let r = ImageRef::parse("ubuntu").expect("valid");
        assert_eq!(r.registry_str(), None);
        assert_eq!(r.normalized(), "docker.io/library/ubuntu:latest");
        let r = ImageRef::parse("localhost:5000/a/b:1.0").expect("valid");
        assert_eq!(r.registry_str(), Some("localhost:5000"));
        assert_eq!(r.repository_str(), "a/b");
        assert_eq!(r.tag_str(), Some("1.0"));
        let text = format!("mcr.microsoft.com/dotnet-buildtools/prereqs:azurelinux-3.0@{D}");
        let r = ImageRef::parse(&text).expect("valid");
        assert_eq!(r.digest_str(), Some(D));
        assert_eq!(
            r.without_digest(),
            "mcr.microsoft.com/dotnet-buildtools/prereqs:azurelinux-3.0"
        );
        assert_eq!(r.pin_offset(), r.without_digest().len());
    }

    #[test]
    fn rejects_bad_parts() {
        assert!(matches!(
            ImageRef::parse("Ubuntu/x"),
            Err(ReferenceError::Registry(_)) | Err(ReferenceError::Repository(_)) | Ok(_)
        ));
        assert!(matches!(
            ImageRef::parse("foo/Bar:1"),
            Err(ReferenceError::Repository(_))
        ));
        assert!(matches!(
            ImageRef::parse("foo:-x"),
            Err(ReferenceError::Tag(_))
        ));
        assert!(matches!(
            ImageRef::parse("foo@sha256:abc"),
            Err(ReferenceError::Digest(_))
        ));
        assert!(matches!(
            ImageRef::parse("a//b"),
            Err(ReferenceError::Repository(_))
        ));
        assert_eq!(ImageRef::parse(""), Err(ReferenceError::Empty));
    }

    #[test]
    fn accessors_return_the_parts_as_written() {
        let text = format!("Registry-1.Example.com:5000/team/app:v1.2@{D}");
        let r = ImageRef::parse(&text).expect("valid");
        assert_eq!(r.as_str(), text);
        assert_eq!(r.to_string(), text);
        assert_eq!(r.registry_str(), Some("Registry-1.Example.com:5000"));
        assert_eq!(r.repository_str(), "team/app");
        assert_eq!(r.tag_str(), Some("v1.2"));
        assert_eq!(r.digest_str(), Some(D));
        assert_eq!(r.registry, Some(0..27));
        assert_eq!(r.repository, 28..36);
        assert_eq!(r.tag, Some(37..41));
        assert_eq!(r.digest, Some(42..text.len()));
        assert_eq!(
            r.without_digest(),
            "Registry-1.Example.com:5000/team/app:v1.2"
        );
        assert_eq!(r.pin_offset(), 41);

        let r = ImageRef::parse("alpine").expect("valid");
        assert_eq!(r.without_digest(), "alpine");
        assert_eq!(r.pin_offset(), 6);
        assert_eq!((r.tag_str(), r.digest_str()), (None, None));
    }

    #[test]
    fn docker_hub_is_addressed_as_docker_io_with_library_for_officials() {
        let cases = [
            (
                "ubuntu",
                "docker.io",
                "library/ubuntu",
                "docker.io/library/ubuntu:latest",
            ),
            (
                "ubuntu:24.04",
                "docker.io",
                "library/ubuntu",
                "docker.io/library/ubuntu:24.04",
            ),
            (
                "index.docker.io/ubuntu",
                "docker.io",
                "library/ubuntu",
                "docker.io/library/ubuntu:latest",
            ),
            (
                "registry-1.docker.io/ubuntu:1",
                "docker.io",
                "library/ubuntu",
                "docker.io/library/ubuntu:1",
            ),
            (
                "docker.io/bitnami/redis",
                "docker.io",
                "bitnami/redis",
                "docker.io/bitnami/redis:latest",
            ),
            ("ghcr.io/app:2", "ghcr.io", "app", "ghcr.io/app:2"),
            ("localhost/app", "localhost", "app", "localhost/app:latest"),
        ];
        for (text, host, path, normalized) in cases {
            let r = ImageRef::parse(text).expect(text);
            assert_eq!(r.registry_host(), host, "{text}");
            assert_eq!(r.repository_path(), path, "{text}");
            assert_eq!(r.normalized(), normalized, "{text}");
            // Without a digest, the tag's key is the normalized form itself.
            assert_eq!(r.tag_key(), normalized, "{text}");
            assert_eq!(r.name_key(), format!("{host}/{path}"), "{text}");
        }
        let r = ImageRef::parse(&format!("ubuntu@{D}")).expect("valid");
        assert_eq!(r.normalized(), format!("docker.io/library/ubuntu@{D}"));
        // A digest alone names no tag: no `latest` is made up for it.
        assert_eq!(r.tag_key(), "docker.io/library/ubuntu");
        let r = ImageRef::parse(&format!("ubuntu:22.04@{D}")).expect("valid");
        assert_eq!(
            r.normalized(),
            format!("docker.io/library/ubuntu:22.04@{D}")
        );
        assert_eq!(r.tag_key(), "docker.io/library/ubuntu:22.04");
        assert_eq!(r.name_key(), "docker.io/library/ubuntu");
    }

    #[test]
    fn the_first_component_is_a_registry_only_when_it_looks_like_a_host() {
        for (text, registry) in [
            ("a.b/c", Some("a.b")),
            ("a:1/c", Some("a:1")),
            ("localhost/c", Some("localhost")),
            ("Upper/c", Some("Upper")),
            ("[::1]:5000/c", Some("[::1]:5000")),
            ("[::1]/c", Some("[::1]")),
            ("team/c", None),
            ("localhostx/c", None),
        ] {
            let r = ImageRef::parse(text).expect(text);
            assert_eq!(r.registry_str(), registry, "{text}");
        }
        for bad in [
            "a..b/c",
            "a_b.io/c",
            ".io/c",
            "host:/c",
            "host:5x/c",
            ":5000/c",
            "[::1/c",
            "[::1]:/c",
            "a.b:1:2x/c",
        ] {
            assert!(
                matches!(ImageRef::parse(bad), Err(ReferenceError::Registry(_))),
                "{bad}: {:?}",
                ImageRef::parse(bad)
            );
        }
    }

    #[test]
    fn path_components_follow_the_grammar() {
        for good in [
            "a",
            "a.b",
            "a_b",
            "a__b",
            "a-b",
            "a---b",
            "a1.b2_c3-d4",
            "0",
        ] {
            assert!(valid_path_component(good), "{good}");
            assert!(ImageRef::parse(&format!("x/{good}")).is_ok(), "{good}");
        }
        for bad in [
            "", "-a", "a-", ".a", "a.", "a..b", "a___b", "a_.b", "a.-b", "a-_b", "aB", "a b", "_a",
        ] {
            assert!(!valid_path_component(bad), "{bad}");
        }
    }

    #[test]
    fn tags_digests_and_length_limits() {
        let longest = "t".repeat(128);
        assert!(ImageRef::parse(&format!("a:{longest}")).is_ok());
        assert!(matches!(
            ImageRef::parse(&format!("a:{longest}t")),
            Err(ReferenceError::Tag(_))
        ));
        for good in ["a:_x", "a:X.y-z_1", "a:0"] {
            assert!(ImageRef::parse(good).is_ok(), "{good}");
        }
        for bad in ["a:", "a:.x", "a:-x", "a:x!", "a:x/y:z:"] {
            assert!(
                matches!(ImageRef::parse(bad), Err(ReferenceError::Tag(_))),
                "{bad}: {:?}",
                ImageRef::parse(bad)
            );
        }
        let sha512 = format!("sha512:{}", "ab".repeat(64));
        assert!(ImageRef::parse(&format!("a@{sha512}")).is_ok());
        for bad in [
            "a@".to_string(),
            "a@sha256".to_string(),
            format!("a@sha256:{}", "a".repeat(63)),
            format!("a@sha256:{}", "a".repeat(65)),
            format!("a@sha256:{}", "A".repeat(64)),
            format!("a@sha256:{}", "g".repeat(64)),
            format!("a@sha512:{}", "a".repeat(64)),
            format!("a@md5:{}", "a".repeat(64)),
        ] {
            assert!(
                matches!(ImageRef::parse(&bad), Err(ReferenceError::Digest(_))),
                "{bad}"
            );
        }
        // The name (registry and repository) may be 255 characters, not more.
        let name = format!("r.io/{}", "a".repeat(250));
        assert!(ImageRef::parse(&name).is_ok());
        assert!(ImageRef::parse(&format!("{name}:t")).is_ok());
        assert_eq!(
            ImageRef::parse(&format!("{name}a")),
            Err(ReferenceError::TooLong)
        );
    }

    #[test]
    fn sha256_digests_are_recognised_exactly() {
        assert!(is_sha256_digest(D));
        assert!(is_sha256_digest(&format!(
            "sha256:{}",
            &"0123456789".repeat(7)[..64]
        )));
        for bad in [
            format!("sha512:{}", &D[7..]),
            D[..D.len() - 1].to_string(),
            format!("{D}0"),
            D.to_uppercase().replace("SHA256", "sha256"),
            format!("sha256:{}", "g".repeat(64)),
            D[7..].to_string(),
        ] {
            assert!(!is_sha256_digest(&bad), "{bad}");
        }
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert_eq!(
            ImageRef::parse("a/B").map_err(|e| e.to_string()),
            Err("invalid repository name `a/B`: use lower-case letters, digits and separators (`.`, `_`, `__`, `-`) between `/`".to_string())
        );
        assert_eq!(ImageRef::parse("a:-"), Err(ReferenceError::Tag("-".into())));
        assert_eq!(
            ImageRef::parse("h:x/a"),
            Err(ReferenceError::Registry("h:x".into()))
        );
    }
}
