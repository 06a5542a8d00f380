//! Dev container definitions (`devcontainer.json`, JSONC): the top-level `image`, and the
//! keys of the top-level `features` object that are OCI references.
//!
//! Features are OCI artifacts: `ghcr.io/devcontainers/features/node:1` is resolved like an
//! image and pinned inside the key (`"…/node:1@sha256:…": {}`). Legacy short ids
//! (`"docker-in-docker": "latest"`), local paths (`./feature`) and tarball URLs are not
//! references; neither are commands, `build.dockerfile` or `dockerComposeFile`.

use super::{has_expression, is_host};
use crate::jsonc;
use crate::model::{Kind, Reference, Site};
use crate::yaml::{Comment, SyntaxError};

/// Whether a path (forward slashes) names a dev container definition:
/// `.devcontainer.json`, or `devcontainer.json` anywhere below a `.devcontainer` folder.
pub fn is_devcontainer_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let mut parts = lower.rsplit('/');
    match parts.next() {
        Some(".devcontainer.json") => true,
        Some("devcontainer.json") => parts.any(|dir| dir == ".devcontainer"),
        _ => false,
    }
}

/// References, comments and the syntax error (if the file is not valid JSONC; then no
/// references) of a dev container definition.
pub fn extract(src: &str) -> (Vec<Reference>, Vec<Comment<'_>>, Option<SyntaxError>) {
    let doc = match jsonc::parse(src) {
        Ok(doc) => doc,
        Err((err, comments)) => return (Vec::new(), comments, Some(err)),
    };
    let mut refs = Vec::new();
    if let Some(span) = doc
        .root
        .get(src, "image")
        .and_then(jsonc::Json::string_span)
    {
        let text = &src[span.clone()];
        if has_expression(text) {
            refs.push(Reference::other(
                span,
                text,
                Kind::Dynamic,
                Site::DevcontainerImage,
            ));
        } else if !text.trim().is_empty() {
            refs.push(Reference::container(span, text, Site::DevcontainerImage));
        }
    }
    if let Some(features) = doc.root.get(src, "features") {
        for (key, _) in features.members() {
            let text = &src[key.clone()];
            if is_oci_feature(text) {
                refs.push(Reference::container(
                    key.clone(),
                    text,
                    Site::DevcontainerFeature,
                ));
            }
        }
    }
    (refs, doc.comments, None)
}

/// `host/path[:tag|@digest]` with a registry host (a `.` or a port, or `localhost`).
fn is_oci_feature(key: &str) -> bool {
    key.split_once('/')
        .is_some_and(|(host, rest)| is_host(host) && !rest.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::State;

    #[test]
    fn image_and_feature_keys() {
        let src = "{\n  // c\n  \"image\": \"mcr.microsoft.com/devcontainers/dotnet:2-${templateOption:v}\",\n  \"features\": {\n    \"ghcr.io/devcontainers/features/node:1\": {},\n    \"ghcr.io/devcontainers/features/common-utils\": {},\n    \"docker-in-docker\": \"latest\",\n    \"./local\": {},\n    \"https://example.com/f.tgz\": {},\n  },\n  \"updateContentCommand\": \"docker pull mcr.microsoft.com/x:latest\",\n}";
        let (refs, comments, error) = extract(src);
        assert!(error.is_none());
        assert_eq!(comments.len(), 1);
        let got: Vec<_> = refs
            .iter()
            .map(|r| (&src[r.span.clone()], r.kind, r.state))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "mcr.microsoft.com/devcontainers/dotnet:2-${templateOption:v}",
                    Kind::Dynamic,
                    State::None
                ),
                (
                    "ghcr.io/devcontainers/features/node:1",
                    Kind::Container,
                    State::Unpinned
                ),
                (
                    "ghcr.io/devcontainers/features/common-utils",
                    Kind::Container,
                    State::Unpinned
                ),
            ]
        );
    }

    #[test]
    fn paths() {
        assert!(is_devcontainer_path(".devcontainer.json"));
        assert!(is_devcontainer_path("x/.devcontainer/devcontainer.json"));
        assert!(is_devcontainer_path(
            "x/.devcontainer/wasm/devcontainer.json"
        ));
        assert!(!is_devcontainer_path("x/devcontainer.json"));
        assert!(!is_devcontainer_path("x/.devcontainer/other.json"));
    }

    #[test]
    fn unbalanced_comment_is_an_error() {
        let (refs, _, error) = extract("{ \"image\": \"a:1\" /* open\n}");
        assert!(refs.is_empty());
        assert!(error.expect("error").message.contains("unterminated"));
    }
}
