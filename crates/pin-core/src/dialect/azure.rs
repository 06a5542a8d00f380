//! Azure Pipelines: pipelines and templates, read file by file.
//!
//! Container sites: `resources.containers` items and `containers:` alias maps (`resource`), job
//! and template-parameter `container:` (`job-container`), `services:`, Helix queue strings,
//! variable values and the template's own parameter defaults. VM sites: `vmImage`,
//! `ImageOverride` demands and 1ES pool `image:` (beside `os:` or under a `…pool` key).
//! `${{ if }}` / `${{ else }}` / `${{ each }}` layers are transparent: every branch is read.

use super::{entries, has_expression, is_pass_through, is_script_key, items, values, Emitter};
use crate::model::Site;
use crate::yaml::{Node, Value};

#[derive(Clone, Copy, Default)]
struct Ctx<'k> {
    /// The nearest real key above the current node.
    parent_key: Option<&'k str>,
    /// Inside the file's own top-level `parameters:` declaration.
    parameter_defaults: bool,
    /// Inside a Helix queue list or variable.
    helix: bool,
}

/// Extract references from one Azure Pipelines document.
pub fn extract(out: &mut Emitter<'_>, root: &Node<'_>) {
    let pairs = entries(root);
    let siblings = Siblings::of(&pairs);
    for (key, value) in pairs {
        if key.as_str() == Some("parameters") {
            parameter_declarations(out, value);
        } else {
            pair(out, siblings, key, value, Ctx::default());
        }
    }
}

fn parameter_declarations(out: &mut Emitter<'_>, decl: &Node<'_>) {
    let ctx = Ctx {
        parameter_defaults: true,
        ..Ctx::default()
    };
    match &decl.value {
        // `- name: x / type: / default: …`
        Value::Sequence(_) => {
            for item in items(decl) {
                let name = item.get("name").and_then(Node::as_str);
                for default in values(item, "default") {
                    walk(
                        out,
                        default,
                        Ctx {
                            parent_key: name,
                            helix: name.is_some_and(is_helix_name),
                            ..ctx
                        },
                    );
                }
            }
        }
        // Old map style: `name: default`.
        Value::Mapping(_) => {
            for (key, value) in entries(decl) {
                let name = key.as_str();
                walk(
                    out,
                    value,
                    Ctx {
                        parent_key: name,
                        helix: name.is_some_and(is_helix_name),
                        ..ctx
                    },
                );
            }
        }
        _ => {}
    }
}

fn walk<'k>(out: &mut Emitter<'_>, node: &'k Node<'_>, ctx: Ctx<'k>) {
    match &node.value {
        Value::Mapping(_) => {
            let pairs = entries(node);
            let siblings = Siblings::of(&pairs);
            for (key, value) in pairs {
                pair(out, siblings, key, value, ctx);
            }
        }
        Value::Sequence(_) => {
            for item in items(node) {
                walk(out, item, ctx);
            }
        }
        Value::Scalar(..) => {
            if let Some((text, span)) = out.scalar_text(node) {
                out.helix(text, span, ctx.helix);
            }
        }
        Value::Alias => {}
    }
}

/// What the other keys of the current mapping say, looking through `${{ if }}` layers (so an
/// `os:` in one branch is seen next to an `image:` in another).
#[derive(Clone, Copy, Default)]
struct Siblings {
    /// An `os:` key: a 1ES pool, so `image:` is a VM image.
    os: bool,
    /// `container: <alias>` with `image:`: a container resource item.
    resource_item: bool,
}

impl Siblings {
    fn of(pairs: &[(&Node<'_>, &Node<'_>)]) -> Siblings {
        let has = |name: &str| pairs.iter().any(|(k, _)| k.as_str() == Some(name));
        Siblings {
            os: has("os"),
            resource_item: has("image")
                && pairs
                    .iter()
                    .any(|(k, v)| k.as_str() == Some("container") && v.as_str().is_some()),
        }
    }
}

fn pair<'k>(
    out: &mut Emitter<'_>,
    siblings: Siblings,
    key: &'k Node<'_>,
    value: &'k Node<'_>,
    ctx: Ctx<'k>,
) {
    let Some(k) = key.as_str() else {
        return;
    };
    if super::is_directive(key) {
        // A directive whose value is not a mapping (`${{ each }}` over a list, `${{ insert }}`).
        return walk(out, value, ctx);
    }
    let resource_item = siblings.resource_item;
    match k {
        _ if is_script_key(k) => {}
        "containers" => container_definitions(out, value),
        "container" if resource_item => {}
        "container" => job_container(out, value, ctx),
        "image" if resource_item => out.image(value, Site::Resource),
        "image" if siblings.os || ctx.parent_key.is_some_and(is_pool_key) => {
            out.vm(value, Site::PoolImage)
        }
        "vmImage" => out.vm(value, Site::VmImage),
        "demands" => demands(out, value),
        "variables" => variables(out, value, ctx),
        "services" => services(out, value),
        _ => walk(
            out,
            value,
            Ctx {
                parent_key: Some(k),
                helix: ctx.helix || is_helix_name(k),
                ..ctx
            },
        ),
    }
}

/// `resources.containers` list items and `containers:` alias maps.
fn container_definitions(out: &mut Emitter<'_>, value: &Node<'_>) {
    match &value.value {
        Value::Sequence(_) => {
            for item in items(value) {
                for image in values(item, "image") {
                    out.image(image, Site::Resource);
                }
            }
        }
        Value::Mapping(_) => {
            for (_, definition) in entries(value) {
                for image in values(definition, "image") {
                    out.image(image, Site::Resource);
                }
            }
        }
        _ => {}
    }
}

/// A job's (or template argument's) `container:`.
fn job_container(out: &mut Emitter<'_>, value: &Node<'_>, ctx: Ctx<'_>) {
    let site = if ctx.parameter_defaults {
        Site::ParameterDefault
    } else {
        Site::JobContainer
    };
    match &value.value {
        Value::Scalar(..) => {
            let Some((text, _)) = out.scalar_text(value) else {
                return;
            };
            let alias = !text.contains(['/', ':', '@']);
            if text.is_empty() || is_pass_through(text) || (alias && !has_expression(text)) {
                return;
            }
            out.image(value, site);
        }
        Value::Mapping(_) => {
            let has_registry = !values(value, "registry").is_empty();
            for image in values(value, "image") {
                let fragment = out
                    .scalar_text(image)
                    .is_some_and(|(t, _)| !t.contains('/') && !has_expression(t));
                if has_registry && fragment {
                    out.dynamic(image, site);
                } else {
                    out.image(image, site);
                }
            }
        }
        _ => {}
    }
}

/// `demands: ImageOverride -equals X`, as a string or a list.
fn demands(out: &mut Emitter<'_>, value: &Node<'_>) {
    let nodes: Vec<&Node<'_>> = match &value.value {
        Value::Sequence(_) => items(value),
        _ => vec![value],
    };
    for node in nodes {
        let Some((text, span)) = out.scalar_text(node) else {
            continue;
        };
        let Some(rest) = strip_prefix_ci(text, "ImageOverride") else {
            continue;
        };
        let trimmed = rest.trim_start();
        let Some(operand) = strip_prefix_ci(trimmed, "-equals") else {
            continue;
        };
        let image = operand.trim();
        let start = span.start + (text.len() - operand.trim_start().len());
        out.vm_text(image, start..start + image.len(), Site::ImageOverride);
    }
}

fn strip_prefix_ci<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// `variables:` as a list of `name`/`value` items or as a map.
fn variables<'k>(out: &mut Emitter<'_>, value: &'k Node<'_>, ctx: Ctx<'k>) {
    match &value.value {
        Value::Sequence(_) => {
            for item in items(value) {
                let name = item.get("name").and_then(Node::as_str);
                let vals = values(item, "value");
                if name.is_none() || vals.is_empty() {
                    walk(out, item, ctx);
                }
                for v in vals {
                    out.variable(v, name.is_some_and(is_helix_name));
                }
            }
        }
        Value::Mapping(_) => {
            for (key, v) in entries(value) {
                match &v.value {
                    Value::Scalar(..) => out.variable(v, key.as_str().is_some_and(is_helix_name)),
                    _ => walk(out, v, ctx),
                }
            }
        }
        _ => {}
    }
}

/// Job `services:` map: values are container resource aliases; a value that looks like an
/// image reference (has `/`, `:` or `@`) is reported as one.
fn services(out: &mut Emitter<'_>, value: &Node<'_>) {
    for (_, v) in entries(value) {
        if let Some((text, _)) = out.scalar_text(v) {
            if text.contains(['/', ':', '@']) && !is_pass_through(text) {
                out.image(v, Site::Service);
            }
        }
    }
}

/// A key or variable name that holds Helix queues.
fn is_helix_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("helix_")
        || lower == "helixqueues"
        || lower == "helixtargetqueues"
        || (lower.contains("helix") && lower.contains("queue"))
}

/// `pool` or a key ending in `Pool` (`buildPool`, `helixPool` …).
fn is_pool_key(key: &str) -> bool {
    key == "pool" || key.ends_with("Pool")
}
