//! GitLab CI: `image` and `services` (string or `name:`) of jobs, hidden jobs and `default:`,
//! and `variables:` values (global, job, `rules[].variables`). Anchors are not expanded: a node
//! reached through an alias is reported once, where it is written. `!reference` is ignored.

use super::Emitter;
use crate::model::Site;
use crate::yaml::{Node, Value};

const RESERVED: &[&str] = &["stages", "include", "workflow", "variables", "spec"];

/// Extract references from one GitLab CI document.
pub fn extract(out: &mut Emitter<'_>, root: &Node<'_>) {
    let Some(pairs) = root.as_mapping() else {
        return;
    };
    for (key, value) in pairs {
        let Some(k) = key.as_str() else {
            continue;
        };
        if k == "variables" {
            variables(out, value);
        } else if !RESERVED.contains(&k) && matches!(value.value, Value::Mapping(_)) {
            job(out, value);
        }
    }
}

fn job(out: &mut Emitter<'_>, job: &Node<'_>) {
    if let Some(image) = job.get("image") {
        named_image(out, image, Site::GitlabImage);
    }
    if let Some(services) = job.get("services").and_then(Node::as_sequence) {
        for service in services {
            named_image(out, service, Site::GitlabService);
        }
    }
    if let Some(vars) = job.get("variables") {
        variables(out, vars);
    }
    if let Some(rules) = job.get("rules").and_then(Node::as_sequence) {
        for rule in rules {
            if let Some(vars) = rule.get("variables") {
                variables(out, vars);
            }
        }
    }
}

/// `image: x` or `image: {name: x}`.
fn named_image(out: &mut Emitter<'_>, node: &Node<'_>, site: Site) {
    match &node.value {
        Value::Mapping(_) if node.tag.is_none() => {
            if let Some(name) = node.get("name") {
                out.image(name, site);
            }
        }
        Value::Scalar(..) => out.image(node, site),
        _ => {}
    }
}

fn variables(out: &mut Emitter<'_>, vars: &Node<'_>) {
    let Some(pairs) = vars.as_mapping() else {
        return;
    };
    for (_, value) in pairs {
        match &value.value {
            Value::Mapping(_) => {
                if let Some(v) = value.get("value") {
                    out.variable(v, false);
                }
            }
            _ => out.variable(value, false),
        }
    }
}
