//! Kubernetes manifests and kustomizations.
//!
//! A manifest document is a mapping with `apiVersion` and `kind`; the `image` of every item of
//! a `containers`, `initContainers` or `ephemeralContainers` list at any depth is a reference,
//! so every kind with a pod spec or template is covered (Pod, Deployment, Job, CronJob, custom
//! kinds). A singular `container:` mapping is not a container list.
//!
//! A kustomization's top-level `images:` entries are references at their `name:` value. Their
//! pin is not appended to the name: it is the entry's `digest:` key, which the fix adds or
//! updates ([`DigestKey`]).

use std::ops::Range;

use super::Emitter;
use crate::model::{DigestKey, Reference, Site, State};
use crate::reference::ImageRef;
use crate::yaml::{Node, Style, Value};

/// The list keys whose items are containers.
const CONTAINER_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

/// Whether a lower-case file name is a kustomization.
pub fn is_kustomization_name(lower: &str) -> bool {
    matches!(
        lower,
        "kustomization.yaml" | "kustomization.yml" | "kustomization"
    )
}

/// Whether a document is a Kubernetes object (a mapping with `apiVersion` and `kind`).
pub fn is_manifest(root: &Node<'_>) -> bool {
    root.get("apiVersion").is_some() && root.get("kind").is_some()
}

/// References of one manifest document; documents that are not objects give none.
pub fn extract(out: &mut Emitter<'_>, root: &Node<'_>) {
    if is_manifest(root) {
        containers(out, root);
    }
}

fn containers(out: &mut Emitter<'_>, node: &Node<'_>) {
    match &node.value {
        Value::Mapping(pairs) => {
            for (key, value) in pairs {
                let is_list = key.as_str().is_some_and(|k| CONTAINER_LISTS.contains(&k));
                match value.as_sequence() {
                    Some(items) if is_list => {
                        for item in items {
                            if let Some(image) = item.get("image") {
                                out.image(image, Site::K8sContainer);
                            }
                        }
                    }
                    _ => containers(out, value),
                }
            }
        }
        Value::Sequence(items) => items.iter().for_each(|i| containers(out, i)),
        _ => {}
    }
}

/// References of a kustomization document: one per `images:` entry with a `name`.
pub fn extract_kustomization(out: &mut Emitter<'_>, root: &Node<'_>) {
    let Some(items) = root.get("images").and_then(Node::as_sequence) else {
        return;
    };
    for item in items {
        if let Some(r) = kustomize_image(out, item) {
            out.push(r);
        }
    }
}

fn kustomize_image(out: &Emitter<'_>, item: &Node<'_>) -> Option<Reference> {
    let pairs = item.as_mapping()?;
    let (name, name_span) = out.scalar_text(item.get("name")?)?;
    if name.is_empty() {
        return None;
    }
    let text_of = |key: &str| item.get(key).and_then(|v| out.scalar_text(v));
    let digest = text_of("digest");
    let produced_name = text_of("newName").map_or(name, |(n, _)| n);
    let produced = match text_of("newTag") {
        Some((tag, _)) => format!("{produced_name}:{tag}"),
        None => produced_name.to_string(),
    };
    let image = digest
        .as_ref()
        .and_then(|(d, _)| ImageRef::parse(&format!("{produced}@{d}")).ok())
        .or_else(|| ImageRef::parse(&produced).ok());
    let mut r = Reference::container(name_span, name, Site::KustomizeImage);
    if r.state != State::Invalid {
        r.state = if digest.is_some() {
            State::Pinned
        } else {
            State::Unpinned
        };
        r.image = image;
    }
    let (insert_at, before, after) = new_key(out.src, item, pairs);
    r.digest_key = Some(Box::new(DigestKey {
        value: digest.map(|(_, span)| span),
        insert_at,
        before,
        after,
    }));
    Some(r)
}

/// Where a `digest:` key goes in an entry that has none, and the text around the digest: a
/// new line after the entry's last line with the indentation, line ending and quoting of
/// the entry's `name:` (in a flow mapping `{…}`: `, digest: …` before the `}`).
fn new_key(src: &str, item: &Node<'_>, pairs: &[(Node<'_>, Node<'_>)]) -> (usize, String, String) {
    let quote = match item.get("name").and_then(Node::style) {
        Some(Style::DoubleQuoted) => "\"",
        Some(Style::SingleQuoted) => "'",
        _ => "",
    };
    if src[item.span.clone()].starts_with('{') {
        let close = item.span.end.saturating_sub(1);
        return (close, format!(", digest: {quote}"), quote.to_string());
    }
    let first_key = pairs.first().map_or(item.span.start, |(k, _)| k.span.start);
    let line_start = src[..first_key].rfind('\n').map_or(0, |i| i + 1);
    let indent = " ".repeat(src[line_start..first_key].chars().count());
    let last = pairs.last().map_or(item.span.end, |(_, v)| v.span.end);
    let eol = line_ending(src, last);
    if src[..last].ends_with('\n') {
        return (
            last,
            format!("{indent}digest: {quote}"),
            format!("{quote}{eol}"),
        );
    }
    let end = line_end(src, last);
    (
        end,
        format!("{eol}{indent}digest: {quote}"),
        quote.to_string(),
    )
}

/// The byte offset of the end of the line holding `at` (before `\r\n` or `\n`).
fn line_end(src: &str, at: usize) -> usize {
    let end = src[at..].find('\n').map_or(src.len(), |i| at + i);
    if src[..end].ends_with('\r') {
        end - 1
    } else {
        end
    }
}

/// The line ending used at `at` (the file's first one when that line has none).
fn line_ending(src: &str, at: usize) -> &'static str {
    let probe: Range<usize> = match src[at..].find('\n') {
        Some(i) => at..at + i + 1,
        None => 0..src.find('\n').map_or(0, |i| i + 1),
    };
    if src[probe].ends_with("\r\n") {
        "\r\n"
    } else {
        "\n"
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::{self, Dialect};
    use crate::model::State;

    fn pin(text: &str) -> String {
        let parsed = crate::yaml::parse(text).map_err(|e| e.0).expect("parses");
        let refs = dialect::extract(Dialect::Kustomize, text, &parsed.documents);
        let digest = format!("sha256:{}", "a".repeat(64));
        let edits: Vec<_> = refs
            .iter()
            .filter_map(|r| r.pin_edit(&digest, false).map(|(e, _)| e))
            .collect();
        crate::fix::apply(text, &edits).expect("applies")
    }

    #[test]
    fn kustomize_digest_is_added_or_updated() {
        let d = "a".repeat(64);
        assert_eq!(
            pin("images:\r\n- name: app\r\n  newTag: v1 # c\r\n- name: \"b\"\r\n  newTag: \"2\"\r\n  digest: sha256:00\r\n- name: notag\n"),
            format!("images:\r\n- name: app\r\n  newTag: v1 # c\r\n  digest: sha256:{d}\r\n- name: \"b\"\r\n  newTag: \"2\"\r\n  digest: sha256:{d}\r\n- name: notag\n")
        );
        assert_eq!(
            pin("images:\n  - name: 'app'\n    newName: x/y\n    newTag: v1"),
            format!("images:\n  - name: 'app'\n    newName: x/y\n    newTag: v1\n    digest: 'sha256:{d}'")
        );
        assert_eq!(
            pin("images:\n- {name: app, newTag: v1}\n"),
            format!("images:\n- {{name: app, newTag: v1, digest: sha256:{d}}}\n")
        );
    }

    #[test]
    fn kustomize_states_and_produced_image() {
        let text =
            "images:\n- name: a\n  newName: b\n  newTag: v1\n- name: c\n  digest: sha256:25a0d4\n";
        let parsed = crate::yaml::parse(text).map_err(|e| e.0).expect("parses");
        let refs = dialect::extract(Dialect::Kustomize, text, &parsed.documents);
        assert_eq!(refs[0].text, "a");
        assert_eq!(refs[0].state, State::Unpinned);
        assert_eq!(refs[0].image.as_ref().map(|i| i.as_str()), Some("b:v1"));
        assert_eq!(refs[1].state, State::Pinned);
    }

    #[test]
    fn containers_at_any_depth_in_every_document() {
        let text = "apiVersion: batch/v1\nkind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          initContainers:\n          - image: busybox\n          containers:\n          - name: x\n            image: \"a/b:1\"  # c\n---\napiVersion: x/v1\nkind: MyKind\nspec:\n  runLatest:\n    container:\n      image: crd-image\n---\nnot: a manifest\ncontainers:\n- image: no\n";
        let parsed = crate::yaml::parse(text).map_err(|e| e.0).expect("parses");
        let refs = dialect::extract(Dialect::Kubernetes, text, &parsed.documents);
        let texts: Vec<_> = refs.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(texts, ["busybox", "a/b:1"]);
    }
}
