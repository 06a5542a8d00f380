//! GitHub Actions: workflows and `action.yml`.
//!
//! Sites: `jobs.*.container` (string or `.image`), `jobs.*.services.*.image`,
//! `uses: docker://…`, `runs.image` of an action, a step's `with: image:`, `env:` values (the
//! variable rule), literal `runs-on` labels (`vm`), and matrix values that feed a container or
//! service image (reported where the matrix writes them).

use super::{has_expression, is_pass_through, Emitter};
use crate::model::Site;
use crate::yaml::{Node, Value};

/// Extract references from one workflow or action document.
pub fn extract(out: &mut Emitter<'_>, root: &Node<'_>) {
    if let Some(env) = root.get("env") {
        env_values(out, env);
    }
    if let Some(runs) = root.get("runs") {
        if let Some(image) = runs.get("image") {
            docker_uri(out, image, Site::GhaActionImage);
        }
        if let Some(env) = runs.get("env") {
            env_values(out, env);
        }
        steps(out, runs.get("steps"));
    }
    let Some(jobs) = root.get("jobs").and_then(Node::as_mapping) else {
        return;
    };
    for (_, job) in jobs {
        job_references(out, job);
    }
}

fn job_references(out: &mut Emitter<'_>, job: &Node<'_>) {
    if let Some(runs_on) = job.get("runs-on") {
        runner_labels(out, runs_on);
    }
    if let Some(env) = job.get("env") {
        env_values(out, env);
    }
    let matrix = job.get("strategy").and_then(|s| s.get("matrix"));
    if let Some(container) = job.get("container") {
        let (image, string_form) = match &container.value {
            Value::Mapping(_) => (container.get("image"), false),
            _ => (Some(container), true),
        };
        if let Some(image) = image {
            consumer(out, image, matrix, Site::GhaContainer, string_form);
        }
        if let Some(env) = container.get("env") {
            env_values(out, env);
        }
    }
    if let Some(services) = job.get("services").and_then(Node::as_mapping) {
        for (_, service) in services {
            if let Some(image) = service.get("image") {
                consumer(out, image, matrix, Site::GhaService, false);
            }
            if let Some(env) = service.get("env") {
                env_values(out, env);
            }
        }
    }
    steps(out, job.get("steps"));
}

/// An image position; when it is one `${{ }}` reading `matrix.…`, the matrix values it can
/// take are reported too.
///
/// A `container:` string that only passes a value through (`${{ matrix.os.container }}`) is not
/// itself reported (the values are), as for Azure Pipelines `container:` strings.
fn consumer(
    out: &mut Emitter<'_>,
    image: &Node<'_>,
    matrix: Option<&Node<'_>>,
    site: Site,
    string_form: bool,
) {
    let Some((text, _)) = out.scalar_text(image) else {
        return;
    };
    if !(string_form && is_pass_through(text)) {
        out.image(image, site);
    }
    let Some(inner) = single_expression(text) else {
        return;
    };
    let Some(matrix) = matrix else {
        return;
    };
    for path in matrix_paths(inner) {
        for value in matrix_values(matrix, &path) {
            out.image(value, site);
        }
    }
}

/// The inside of `${{ … }}` when `text` is exactly one expression.
fn single_expression(text: &str) -> Option<&str> {
    let inner = text.strip_prefix("${{")?.strip_suffix("}}")?;
    (!inner.contains("${{") && !inner.contains("}}")).then_some(inner)
}

/// Every `matrix.a.b` property path read by an expression.
fn matrix_paths(expr: &str) -> Vec<Vec<&str>> {
    let mut paths = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("matrix.") {
        let boundary = at == 0
            || !rest.as_bytes()[at - 1].is_ascii_alphanumeric() && rest.as_bytes()[at - 1] != b'.';
        let after = &rest[at + "matrix.".len()..];
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
            .unwrap_or(after.len());
        if boundary && end > 0 {
            paths.push(after[..end].split('.').filter(|p| !p.is_empty()).collect());
        }
        rest = &after[end..];
    }
    paths
}

/// The scalars a matrix gives `path`: from `matrix.<a>` lists and from `include` items.
fn matrix_values<'n, 'a>(matrix: &'n Node<'a>, path: &[&str]) -> Vec<&'n Node<'a>> {
    let Some((first, rest)) = path.split_first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(list) = matrix.get(first) {
        match &list.value {
            Value::Sequence(items) => items.iter().for_each(|item| descend(item, rest, &mut out)),
            _ => descend(list, rest, &mut out),
        }
    }
    if let Some(include) = matrix.get("include").and_then(Node::as_sequence) {
        for item in include {
            if let Some(v) = item.get(first) {
                descend(v, rest, &mut out);
            }
        }
    }
    out
}

fn descend<'n, 'a>(node: &'n Node<'a>, path: &[&str], out: &mut Vec<&'n Node<'a>>) {
    match path.split_first() {
        None => {
            if node.as_str().is_some() {
                out.push(node);
            }
        }
        Some((key, rest)) => {
            if let Some(child) = node.get(key) {
                descend(child, rest, out);
            }
        }
    }
}

/// Steps: `uses: docker://…` and `with: image:`; `env:` values.
fn steps(out: &mut Emitter<'_>, steps: Option<&Node<'_>>) {
    let Some(steps) = steps.and_then(Node::as_sequence) else {
        return;
    };
    for step in steps {
        if let Some(uses) = step.get("uses") {
            docker_uri(out, uses, Site::GhaDockerUses);
        }
        if let Some(image) = step.get("with").and_then(|w| w.get("image")) {
            out.image(image, Site::GhaStepInput);
        }
        if let Some(env) = step.get("env") {
            env_values(out, env);
        }
    }
}

/// `docker://image`: the reference starts after the scheme.
fn docker_uri(out: &mut Emitter<'_>, node: &Node<'_>, site: Site) {
    if let Some((text, span)) = out.scalar_text(node) {
        if let Some(image) = text.strip_prefix("docker://") {
            let start = span.start + "docker://".len();
            out.image_text(image, start..span.end, site);
        }
    }
}

fn env_values(out: &mut Emitter<'_>, env: &Node<'_>) {
    if let Some(pairs) = env.as_mapping() {
        for (_, value) in pairs {
            out.variable(value, false);
        }
    }
}

/// Literal hosted-runner labels; lists with `self-hosted` or any expression are skipped.
fn runner_labels(out: &mut Emitter<'_>, runs_on: &Node<'_>) {
    let labels: Vec<&Node<'_>> = match &runs_on.value {
        Value::Sequence(items) => items.iter().collect(),
        Value::Scalar(..) => vec![runs_on],
        _ => return,
    };
    let texts: Vec<Option<&str>> = labels
        .iter()
        .map(|n| out.scalar_text(n).map(|(t, _)| t))
        .collect();
    let skip = texts
        .iter()
        .any(|t| t.is_none_or(|t| has_expression(t) || t.eq_ignore_ascii_case("self-hosted")));
    if skip {
        return;
    }
    for label in labels {
        if let Some((text, _)) = out.scalar_text(label) {
            let lower = text.to_ascii_lowercase();
            if ["ubuntu-", "windows-", "macos-"]
                .iter()
                .any(|p| lower.starts_with(p))
            {
                out.vm(label, Site::GhaRunsOn);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_paths_are_found() {
        assert_eq!(matrix_paths(" matrix.mysql || '' "), vec![vec!["mysql"]]);
        assert_eq!(
            matrix_paths("matrix.os.container"),
            vec![vec!["os", "container"]]
        );
        assert!(matrix_paths("inputs.image").is_empty());
    }
}
