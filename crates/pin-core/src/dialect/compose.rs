//! Compose files: the `image` of every service under the top-level `services:`.
//!
//! A service that has `build` (its own key or through a `<<:` merge) names with `image` what
//! it builds, not what it pulls: no reference. Values reached through an alias or a merge key
//! are reported once, at the anchored node. `${VAR}`, `${VAR:-default}`, `${VAR-default}` and
//! `$VAR` make an image dynamic; `$$` is an escaped dollar.

use std::collections::HashMap;

use super::Emitter;
use crate::model::{Kind, Reference, Site};
use crate::yaml::{Node, Value};

/// Whether a file name (lower-case) is one Compose reads: `compose.yaml`, `compose.*.yaml`,
/// `docker-compose.yml`, `docker-compose*.yml` (and the other YAML extension of each).
pub fn is_compose_name(lower: &str) -> bool {
    let yaml = lower.ends_with(".yml") || lower.ends_with(".yaml");
    yaml && (lower.starts_with("docker-compose") || lower.starts_with("compose."))
}

/// References of one Compose document.
pub fn extract(out: &mut Emitter<'_>, root: &Node<'_>) {
    let Some(services) = root.get("services").and_then(Node::as_mapping) else {
        return;
    };
    let mut anchors = HashMap::new();
    root.anchors(&mut anchors);
    for (_, service) in services {
        let service = resolve(service, &anchors);
        if lookup(service, "build", &anchors, 0).is_some() {
            continue;
        }
        let Some(image) = lookup(service, "image", &anchors, 0) else {
            continue;
        };
        let image = resolve(image, &anchors);
        if let Some((text, span)) = out.scalar_text(image) {
            if text.is_empty() {
                continue;
            }
            out.push(if interpolates(text) {
                Reference::other(span, text, Kind::Dynamic, Site::ComposeImage)
            } else {
                Reference::container(span, text, Site::ComposeImage)
            });
        }
    }
}

/// The node an alias stands for (the node itself when it is not an alias).
fn resolve<'n, 'a>(node: &'n Node<'a>, anchors: &HashMap<usize, &'n Node<'a>>) -> &'n Node<'a> {
    match node.value {
        Value::Alias => anchors.get(&node.anchor).copied().unwrap_or(node),
        _ => node,
    }
}

/// The value of `key` in a mapping, its own key first, then the mappings merged in with `<<:`
/// (an alias or a list of aliases, earlier ones winning). Merge chains are followed to a
/// bounded depth, so a cycle cannot loop.
fn lookup<'n, 'a>(
    mapping: &'n Node<'a>,
    key: &str,
    anchors: &HashMap<usize, &'n Node<'a>>,
    depth: usize,
) -> Option<&'n Node<'a>> {
    if let Some(value) = mapping.get(key) {
        return Some(value);
    }
    if depth > 16 {
        return None;
    }
    let merged = mapping.get("<<")?;
    let sources: Vec<&Node<'a>> = match &merged.value {
        Value::Sequence(items) => items.iter().collect(),
        _ => vec![merged],
    };
    sources
        .into_iter()
        .find_map(|source| lookup(resolve(source, anchors), key, anchors, depth + 1))
}

/// Does a Compose value interpolate a variable (`$VAR`, `${…}`)? `$$` is a literal dollar.
pub fn interpolates(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' {
            match b.get(i + 1) {
                Some(b'$') => {
                    i += 2;
                    continue;
                }
                Some(&n) if n == b'{' || n == b'_' || n.is_ascii_alphabetic() => return true,
                _ => {}
            }
        }
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::{self, Dialect};
    use crate::model::State;

    fn refs(text: &str) -> Vec<(String, Kind)> {
        let parsed = crate::yaml::parse(text).map_err(|e| e.0).expect("parses");
        dialect::extract(Dialect::Compose, text, &parsed.documents)
            .into_iter()
            .map(|r| (text[r.span.clone()].to_string(), r.kind))
            .collect()
    }

    #[test]
    fn services_builds_anchors_and_interpolation() {
        let text = "x-image: &img registry.example/app:${TAG:-latest}\nservices:\n  a:\n    image: *img\n  d:\n    image: *img\n  b: &b\n    image: \"redis:7\"\n  c:\n    <<: *b\n  built:\n    build: .\n    image: mine\n  cash:\n    image: x/y:$$1\n";
        assert_eq!(
            refs(text),
            vec![
                (
                    "registry.example/app:${TAG:-latest}".to_string(),
                    Kind::Dynamic
                ),
                ("redis:7".to_string(), Kind::Container),
                ("x/y:$$1".to_string(), Kind::Container),
            ]
        );
    }

    #[test]
    fn merged_build_hides_the_image() {
        let text = "services:\n  base: &base\n    build: .\n    image: app\n  other:\n    <<: [*base]\n  pulled:\n    image: postgres:16\n";
        let parsed = crate::yaml::parse(text).map_err(|e| e.0).expect("parses");
        let refs = dialect::extract(Dialect::Compose, text, &parsed.documents);
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].state, State::Unpinned);
        assert_eq!(refs[0].text, "postgres:16");
    }

    #[test]
    fn interpolation() {
        assert!(interpolates("${A}"));
        assert!(interpolates("a:$TAG"));
        assert!(interpolates("docker.io/n:${VERSION-v4}"));
        assert!(!interpolates("a$$b"));
        assert!(!interpolates("a$"));
        assert!(!interpolates("a$1"));
        assert!(!interpolates("a$-b"));
        assert!(!interpolates("redis:7"));
    }
}
