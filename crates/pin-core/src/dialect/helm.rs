//! Helm chart templates: YAML files under a `templates/` folder that use `{{ }}` actions.
//!
//! They are not YAML until rendered, so they are never parsed (and never give a syntax
//! error): every line whose key is `image:` (or `- image:`) is read by text. A value with
//! `{{` is dynamic, its text the whole value with one pair of outer quotes removed; any other
//! value is a literal reference. Both branches of an `{{ if }}`/`{{ else }}` are read.

use std::borrow::Cow;

use crate::model::{Kind, Reference, Site};
use crate::yaml::Comment;

/// Whether a file is a Helm template: a YAML file below a `templates/` folder whose text has
/// a Helm action `{{` (not the `${{` of a CI expression).
pub fn is_template(path: &str, text: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let yaml = lower.ends_with(".yaml") || lower.ends_with(".yml");
    let below_templates = lower.starts_with("templates/") || lower.contains("/templates/");
    yaml && below_templates && has_action(text)
}

fn has_action(text: &str) -> bool {
    text.match_indices("{{")
        .any(|(at, _)| at == 0 || text.as_bytes()[at - 1] != b'$')
}

/// References and comments (whole-line and trailing `#` comments, for suppressions).
pub fn extract(src: &str) -> (Vec<Reference>, Vec<Comment<'_>>) {
    let mut refs = Vec::new();
    let mut comments = Vec::new();
    let mut start = 0;
    for line in src.split_inclusive('\n') {
        scan_line(
            src,
            start,
            line.trim_end_matches(['\n', '\r']),
            &mut refs,
            &mut comments,
        );
        start += line.len();
    }
    (refs, comments)
}

fn scan_line<'s>(
    src: &'s str,
    start: usize,
    line: &str,
    refs: &mut Vec<Reference>,
    comments: &mut Vec<Comment<'s>>,
) {
    let body = line.trim_start();
    let indent = line.len() - body.len();
    if body.starts_with('#') {
        comments.push(comment(src, start + indent, start + line.len()));
        return;
    }
    let after_dash = body.strip_prefix('-').map_or(body, str::trim_start);
    let Some(rest) = after_dash.strip_prefix("image:") else {
        return;
    };
    let value_at = line.len() - rest.len();
    let mut value = rest;
    // A trailing comment starts at ` #` after the last action.
    let actions_end = value.rfind("}}").map_or(0, |i| i + 2);
    if let Some(hash) = value[actions_end..].find(" #") {
        let hash = actions_end + hash + 1;
        comments.push(comment(src, start + value_at + hash, start + line.len()));
        value = &value[..hash];
    }
    let lead = value.len() - value.trim_start().len();
    let mut text = value.trim();
    let mut at = start + value_at + lead;
    if text.len() >= 2 {
        let quoted = [b'"', b'\'']
            .iter()
            .any(|&q| text.as_bytes()[0] == q && text.as_bytes()[text.len() - 1] == q);
        if quoted {
            text = &text[1..text.len() - 1];
            at += 1;
        }
    }
    if text.is_empty() {
        return;
    }
    let span = at..at + text.len();
    refs.push(if text.contains("{{") || super::has_expression(text) {
        Reference::other(span, text, Kind::Dynamic, Site::K8sContainer)
    } else {
        Reference::container(span, text, Site::K8sContainer)
    });
}

fn comment(src: &str, from: usize, to: usize) -> Comment<'_> {
    Comment {
        span: from..to,
        text: Cow::Borrowed(&src[from + 1..to]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_by_text() {
        let src = "spec:\n  containers:\n  - name: x\n    image: \"{{ template \"a\" . }}:{{ .Values.tag }}\" # c\n{{- if .Values.x }}\n    - image: redis:alpine # pin-lint: ignore\n{{- end }}\n    imagePullPolicy: Always\n    image:\n";
        let (refs, comments) = extract(src);
        let texts: Vec<_> = refs.iter().map(|r| (r.text.as_str(), r.kind)).collect();
        assert_eq!(
            texts,
            [
                ("{{ template \"a\" . }}:{{ .Values.tag }}", Kind::Dynamic),
                ("redis:alpine", Kind::Container)
            ]
        );
        for r in &refs {
            assert_eq!(&src[r.span.clone()], r.text);
        }
        assert_eq!(comments.len(), 2);
        assert_eq!(comments[1].text.trim(), "pin-lint: ignore");
        // A comment line is placed at its `#`, after its indentation.
        let src = "spec:\n    # pin-lint: ignore\n  image: redis:alpine\n";
        let (_, comments) = extract(src);
        assert_eq!(comments.len(), 1);
        assert_eq!(&src[comments[0].span.clone()], "# pin-lint: ignore");
    }

    #[test]
    fn detection() {
        assert!(is_template(
            "chart/templates/d.yaml",
            "image: {{ .Values.x }}"
        ));
        assert!(!is_template(
            "eng/templates/t.yml",
            "image: ${{ parameters.x }}"
        ));
        assert!(!is_template("chart/d.yaml", "image: {{ .Values.x }}"));
    }
}
