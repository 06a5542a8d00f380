//! Azure Resource Manager JSON templates: VM images (`imageReference`, Managed DevOps Pools
//! `fabricProfile.images[]`) with their exact spans.
//!
//! JSON is read by the YAML parser (JSON is YAML-compatible), so spans are the same exact byte
//! spans as in pipelines. A `.json` file is a template only when its `$schema` names a
//! `deploymentTemplate` or it has `resources` (an array, or a symbolic-name map) whose entries
//! have a `type`; any other JSON (`renovate.json`, image catalogs, `package.json`) gives no
//! references at all.

use super::infra::{self, Val};
use super::Emitter;
use crate::yaml::{Node, Style, Value};

/// Is this parsed JSON document an ARM template?
pub fn is_template(root: &Node<'_>) -> bool {
    let schema = root
        .get("$schema")
        .and_then(Node::as_str)
        .is_some_and(|s| s.to_ascii_lowercase().contains("deploymenttemplate"));
    let typed = |item: &Node<'_>| item.get("type").is_some_and(|t| t.as_str().is_some());
    let resources = match root.get("resources").map(|r| &r.value) {
        Some(Value::Sequence(items)) => !items.is_empty() && items.iter().all(typed),
        Some(Value::Mapping(pairs)) => !pairs.is_empty() && pairs.iter().all(|(_, v)| typed(v)),
        _ => false,
    };
    schema || resources
}

/// Extract VM image references from one template.
pub fn extract(out: &mut Emitter<'_>, root: &Node<'_>) {
    let mut refs = Vec::new();
    infra::images(&to_val(out.src, root), &mut refs);
    refs.into_iter().for_each(|r| out.push(r));
}

/// The template as an infra value tree; ARM `[…]` strings are expressions, `[[…` is a literal
/// that starts with `[`.
fn to_val(src: &str, node: &Node<'_>) -> Val {
    match &node.value {
        Value::Mapping(pairs) => Val::Object(
            pairs
                .iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_string(), to_val(src, v))))
                .collect(),
        ),
        Value::Sequence(items) => Val::Array(items.iter().map(|i| to_val(src, i)).collect()),
        Value::Scalar(_, style) => {
            let span = node.content_span();
            let raw = src.get(span.clone()).unwrap_or_default();
            let quoted = matches!(style, Style::SingleQuoted | Style::DoubleQuoted);
            let expression = raw.starts_with('[') && !raw.starts_with("[[");
            if quoted && !expression && !raw.contains('\\') {
                Val::Str(raw.to_string(), span)
            } else {
                Val::Expr(raw.to_string(), span)
            }
        }
        Value::Alias => Val::Expr(String::new(), node.span.clone()),
    }
}
