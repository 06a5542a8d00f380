//! Dialects: one module per CI system, each turning a YAML tree into image references.
//!
//! Shared here: choosing the dialect for a file, looking through Azure-style `${{ }}`
//! conditional keys, classifying an image position (empty, dynamic or a literal reference), and
//! the variable-value rule used by every dialect.

pub mod arm;
pub mod azure;
pub mod bicep;
pub mod compose;
pub mod devcontainer;
pub mod dockerfile;
pub mod github;
pub mod gitlab;
pub mod helm;
pub mod infra;
pub mod kubernetes;
pub mod terraform;

use std::ops::Range;

use crate::model::{Kind, Reference, Site};
use crate::yaml::{Node, Style, Value};

/// The CI system a file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dialect {
    /// Azure Pipelines pipelines and templates.
    AzurePipelines,
    /// GitHub Actions workflows and `action.yml`.
    GithubActions,
    /// GitLab CI.
    GitlabCi,
    /// Azure Resource Manager JSON templates (VM images only).
    Arm,
    /// Bicep (VM images only; read without the YAML parser).
    Bicep,
    /// Terraform (VM images only; read without the YAML parser).
    Terraform,
    /// Compose files (`compose.yaml`, `docker-compose*.yml`).
    Compose,
    /// Kubernetes manifests (documents with `apiVersion` and `kind`).
    Kubernetes,
    /// `kustomization.yaml`.
    Kustomize,
    /// Helm chart templates (read by text, never parsed).
    HelmTemplate,
    /// Dockerfiles and Containerfiles (read by [`crate::dockerfile`]).
    Dockerfile,
    /// Dev container definitions (`devcontainer.json`, JSON with comments).
    Devcontainer,
}

impl Dialect {
    /// Human name.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::AzurePipelines => "Azure Pipelines",
            Dialect::GithubActions => "GitHub Actions",
            Dialect::GitlabCi => "GitLab CI",
            Dialect::Arm => "Azure Resource Manager",
            Dialect::Bicep => "Bicep",
            Dialect::Terraform => "Terraform",
            Dialect::Compose => "Compose",
            Dialect::Kubernetes => "Kubernetes",
            Dialect::Kustomize => "Kustomize",
            Dialect::HelmTemplate => "Helm template",
            Dialect::Dockerfile => "Dockerfile",
            Dialect::Devcontainer => "dev container",
        }
    }
}

impl Dialect {
    /// What starts a line comment (a `pin-lint: ignore` comment is written after it).
    pub fn line_comment(self) -> &'static str {
        match self {
            Dialect::Devcontainer | Dialect::Bicep => "//",
            _ => "#",
        }
    }
}

/// Choose the dialect from the path (forward slashes) and, failing that, the content.
/// `None` means the file is not a pipeline file pin-lint understands.
pub fn detect(path: &str, root: Option<&Node<'_>>) -> Option<Dialect> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".json") {
        return root.filter(|r| arm::is_template(r)).map(|_| Dialect::Arm);
    }
    if path.contains(".github/workflows/") || lower == "action.yml" || lower == "action.yaml" {
        return Some(Dialect::GithubActions);
    }
    if lower == ".gitlab-ci.yml"
        || lower.ends_with(".gitlab-ci.yml")
        || path.contains(".gitlab/ci/")
    {
        return Some(Dialect::GitlabCi);
    }
    if let Some(root) = root {
        if root.get("on").is_some() && root.get("jobs").is_some() {
            return Some(Dialect::GithubActions);
        }
        if root.get("runs").is_some()
            && (root.get("name").is_some() || root.get("description").is_some())
        {
            return Some(Dialect::GithubActions);
        }
    }
    if kubernetes::is_kustomization_name(&lower) {
        return Some(Dialect::Kustomize);
    }
    if compose::is_compose_name(&lower) {
        return root
            .filter(|r| r.get("services").is_some())
            .map(|_| Dialect::Compose);
    }
    if root.is_some_and(kubernetes::is_manifest) {
        return Some(Dialect::Kubernetes);
    }
    if path.contains(".github/") {
        return None;
    }
    Some(Dialect::AzurePipelines)
}

/// [`detect`] for a file whose type `[files]` in `pin-lint.toml` may give
/// ([`crate::config::Config::file_type`]): a configured Kubernetes file named
/// `kustomization.yaml` is a kustomization; any other configured type is taken as given.
pub fn detect_as(
    path: &str,
    root: Option<&Node<'_>>,
    configured: Option<Dialect>,
) -> Option<Dialect> {
    match configured {
        Some(Dialect::Kubernetes)
            if kubernetes::is_kustomization_name(
                &path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase(),
            ) =>
        {
            Some(Dialect::Kustomize)
        }
        Some(dialect) => Some(dialect),
        None => detect(path, root),
    }
}

/// [`detect_text`] for a file whose type `[files]` may give: a configured Dockerfile or dev
/// container definition is read as one whatever its name; a configured Compose or Kubernetes
/// file is YAML (`None` here), except that a Helm chart template stays one.
pub fn detect_text_as(path: &str, text: &str, configured: Option<Dialect>) -> Option<Dialect> {
    match configured {
        Some(dialect @ (Dialect::Dockerfile | Dialect::Devcontainer)) => Some(dialect),
        Some(Dialect::Kubernetes) if helm::is_template(path, text) => Some(Dialect::HelmTemplate),
        Some(_) => None,
        None => detect_text(path, text),
    }
}

/// Run the dialect's extractor on every document of a file.
pub fn extract(dialect: Dialect, src: &str, documents: &[Node<'_>]) -> Vec<Reference> {
    let mut out = Emitter {
        src,
        refs: Vec::new(),
    };
    for root in documents {
        match dialect {
            Dialect::AzurePipelines => azure::extract(&mut out, root),
            Dialect::GithubActions => github::extract(&mut out, root),
            Dialect::GitlabCi => gitlab::extract(&mut out, root),
            Dialect::Arm => arm::extract(&mut out, root),
            Dialect::Compose => compose::extract(&mut out, root),
            Dialect::Kubernetes => kubernetes::extract(&mut out, root),
            Dialect::Kustomize => kubernetes::extract_kustomization(&mut out, root),
            Dialect::Bicep
            | Dialect::Terraform
            | Dialect::HelmTemplate
            | Dialect::Dockerfile
            | Dialect::Devcontainer => {}
        }
    }
    let mut refs = out.refs;
    refs.sort_by_key(|r| (r.span.start, r.span.end));
    refs.dedup_by(|a, b| a.span == b.span);
    refs
}

/// The dialect of a file that is not read as YAML (Bicep, Terraform, Helm templates,
/// Dockerfiles, dev container definitions), chosen by its path and, for Helm templates, its
/// text.
pub fn detect_text(path: &str, text: &str) -> Option<Dialect> {
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".bicep") {
        Some(Dialect::Bicep)
    } else if lower.ends_with(".tf") {
        Some(Dialect::Terraform)
    } else if devcontainer::is_devcontainer_path(path) {
        Some(Dialect::Devcontainer)
    } else if helm::is_template(path, text) {
        Some(Dialect::HelmTemplate)
    } else if dockerfile::is_dockerfile(path) {
        Some(Dialect::Dockerfile)
    } else {
        None
    }
}

/// What a file in a text dialect ([`detect_text`]) gives: its references in source order, its
/// comments (for suppressions) and the error that stopped the reading, if one did.
pub struct TextRead<'s> {
    /// References, sorted by position, without duplicates.
    pub references: Vec<Reference>,
    /// Comments, for suppressions.
    pub comments: Vec<crate::yaml::Comment<'s>>,
    /// Why the file could not be read completely.
    pub syntax_error: Option<crate::yaml::SyntaxError>,
}

/// Read a file in a text dialect ([`detect_text`]).
pub fn extract_text(dialect: Dialect, src: &str) -> TextRead<'_> {
    let ((mut references, comments), syntax_error) = match dialect {
        Dialect::Bicep => (bicep::extract(src), None),
        Dialect::Terraform => (terraform::extract(src), None),
        Dialect::HelmTemplate => (helm::extract(src), None),
        Dialect::Dockerfile => {
            let read = dockerfile::extract(src);
            ((read.references, read.comments), read.syntax_error)
        }
        Dialect::Devcontainer => {
            let (references, comments, error) = devcontainer::extract(src);
            ((references, comments), error)
        }
        _ => ((Vec::new(), Vec::new()), None),
    };
    references.sort_by_key(|r| (r.span.start, r.span.end));
    references.dedup_by(|a, b| a.span == b.span);
    TextRead {
        references,
        comments,
        syntax_error,
    }
}

/// Collects references with exact spans.
pub struct Emitter<'s> {
    src: &'s str,
    refs: Vec<Reference>,
}

impl<'s> Emitter<'s> {
    /// The trimmed source text of a scalar's content and its byte span; `None` for
    /// non-scalars, block scalars and tagged nodes (`!reference`).
    pub fn scalar_text(&self, node: &Node<'_>) -> Option<(&'s str, Range<usize>)> {
        if node.tag.is_some()
            || !matches!(
                node.style(),
                Some(Style::Plain | Style::SingleQuoted | Style::DoubleQuoted)
            )
        {
            return None;
        }
        let span = node.content_span();
        let raw = self.src.get(span.clone())?;
        let trimmed_start = raw.len() - raw.trim_start().len();
        let text = raw.trim();
        let start = span.start + trimmed_start;
        Some((text, start..start + text.len()))
    }

    /// An image position: empty values are skipped, expressions are `dynamic`, anything else
    /// is a container reference (valid or not).
    pub fn image(&mut self, node: &Node<'_>, site: Site) {
        if let Some((text, span)) = self.scalar_text(node) {
            self.image_text(text, span, site);
        }
    }

    /// Like [`Emitter::image`] for a piece of a scalar.
    pub fn image_text(&mut self, text: &str, span: Range<usize>, site: Site) {
        if text.is_empty() {
            return;
        }
        let r = if has_expression(text) {
            Reference::other(span, text, Kind::Dynamic, site)
        } else {
            Reference::container(span, text, site)
        };
        self.refs.push(r);
    }

    /// A VM image position: literal labels are `vm`, expressions `dynamic`.
    pub fn vm(&mut self, node: &Node<'_>, site: Site) {
        if let Some((text, span)) = self.scalar_text(node) {
            self.vm_text(text, span, site);
        }
    }

    /// Like [`Emitter::vm`] for a piece of a scalar.
    pub fn vm_text(&mut self, text: &str, span: Range<usize>, site: Site) {
        if text.is_empty() {
            return;
        }
        let kind = if has_expression(text) {
            Kind::Dynamic
        } else {
            Kind::Vm
        };
        self.refs.push(Reference::other(span, text, kind, site));
    }

    /// A dynamic reference at a scalar.
    pub fn dynamic(&mut self, node: &Node<'_>, site: Site) {
        if let Some((text, span)) = self.scalar_text(node) {
            if !text.is_empty() {
                self.refs
                    .push(Reference::other(span, text, Kind::Dynamic, site));
            }
        }
    }

    /// The variable rule: a value that starts with a registry host and has a tag or digest is
    /// a container reference; a host followed by an expression is dynamic; anything else is
    /// not an image (a repository prefix, a path, a word). Helix strings are handled first.
    pub fn variable(&mut self, node: &Node<'_>, helix_context: bool) {
        let Some((text, span)) = self.scalar_text(node) else {
            return;
        };
        if self.helix(text, span.clone(), helix_context) {
            return;
        }
        let Some((host, rest)) = text.split_once('/') else {
            return;
        };
        if !is_host(host) || rest.is_empty() || text.contains(char::is_whitespace) {
            return;
        }
        if has_expression(rest) {
            self.refs
                .push(Reference::other(span, text, Kind::Dynamic, Site::Variable));
            return;
        }
        if let Ok(image) = crate::reference::ImageRef::parse(text) {
            if image.tag.is_some() || image.digest.is_some() {
                self.refs
                    .push(Reference::container(span, text, Site::Variable));
            }
        }
    }

    /// A Helix queue string `(Guest)Host@image`, or `Host@image` in a Helix context: reports
    /// the image part (everything after the first `@`). Returns whether `text` was one.
    pub fn helix(&mut self, text: &str, span: Range<usize>, helix_context: bool) -> bool {
        match helix_image(text, helix_context) {
            Some(at) => {
                let image = &text[at..];
                self.image_text(image, span.start + at..span.end, Site::Helix);
                true
            }
            None => false,
        }
    }

    /// Add a ready-made reference.
    pub fn push(&mut self, r: Reference) {
        self.refs.push(r);
    }
}

/// Offset of the image in a Helix queue string, if `text` is one.
fn helix_image(text: &str, helix_context: bool) -> Option<usize> {
    let at = text.find('@')?;
    let queue = &text[..at];
    let host = match queue.strip_prefix('(') {
        Some(rest) => {
            let close = rest.find(')')?;
            if !is_queue_name(&rest[..close]) {
                return None;
            }
            &rest[close + 1..]
        }
        None if helix_context => queue,
        None => return None,
    };
    let image = &text[at + 1..];
    (is_queue_name(host) && !image.is_empty() && !image.contains(char::is_whitespace))
        .then_some(at + 1)
}

fn is_queue_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// `host.with.dots[:port]` or `localhost[:port]`.
pub fn is_host(s: &str) -> bool {
    let name = s.split_once(':').map_or(s, |(n, port)| {
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            ""
        } else {
            n
        }
    });
    (name.contains('.') || name == "localhost")
        && name
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

/// Does `s` contain a template or variable expression (`${{ }}`, `$( )`, `$[ ]`, `$VAR`,
/// `${VAR}`)?
pub fn has_expression(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        c == b'$'
            && b.get(i + 1).is_some_and(|&n| {
                matches!(n, b'{' | b'(' | b'[') || n.is_ascii_alphabetic() || n == b'_'
            })
    })
}

/// Is this mapping key an Azure-style template directive (`${{ if … }}`, `${{ else }}`,
/// `${{ each … }}`, `${{ insert }}`)?
pub fn is_directive(key: &Node<'_>) -> bool {
    key.as_str()
        .is_some_and(|k| k.trim_start().starts_with("${{"))
}

/// The pairs of a mapping, looking through directive keys: the pairs under
/// `${{ if }}` / `${{ else }}` branches are returned as if written in place, so each branch's
/// value is seen. Directive values that are not mappings are returned with the directive key.
pub fn entries<'n, 'a>(node: &'n Node<'a>) -> Vec<(&'n Node<'a>, &'n Node<'a>)> {
    let mut out = Vec::new();
    collect_entries(node, &mut out);
    out
}

fn collect_entries<'n, 'a>(node: &'n Node<'a>, out: &mut Vec<(&'n Node<'a>, &'n Node<'a>)>) {
    if let Some(pairs) = node.as_mapping() {
        for (k, v) in pairs {
            if is_directive(k) && matches!(v.value, Value::Mapping(_)) {
                collect_entries(v, out);
            } else {
                out.push((k, v));
            }
        }
    }
}

/// The items of a sequence, looking through directive items (`- ${{ if }}:` with a list or a
/// single item under it).
pub fn items<'n, 'a>(node: &'n Node<'a>) -> Vec<&'n Node<'a>> {
    let mut out = Vec::new();
    if let Some(seq) = node.as_sequence() {
        for item in seq {
            collect_item(item, &mut out);
        }
    }
    out
}

fn collect_item<'n, 'a>(item: &'n Node<'a>, out: &mut Vec<&'n Node<'a>>) {
    match item.as_mapping() {
        Some(pairs) if !pairs.is_empty() && pairs.iter().all(|(k, _)| is_directive(k)) => {
            for (_, v) in pairs {
                match &v.value {
                    Value::Sequence(inner) => inner.iter().for_each(|i| collect_item(i, out)),
                    _ => collect_item(v, out),
                }
            }
        }
        _ => out.push(item),
    }
}

/// The values of every key named `key` in a mapping (through directive branches).
pub fn values<'n, 'a>(node: &'n Node<'a>, key: &str) -> Vec<&'n Node<'a>> {
    entries(node)
        .into_iter()
        .filter(|(k, _)| k.as_str() == Some(key))
        .map(|(_, v)| v)
        .collect()
}

/// `${{ parameters.x }}` or `$(x)` alone: the value is passed through, not built.
pub fn is_pass_through(text: &str) -> bool {
    if let Some(inner) = text.strip_prefix("${{").and_then(|t| t.strip_suffix("}}")) {
        let inner = inner.trim();
        return !inner.is_empty()
            && inner
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    }
    if let Some(inner) = text.strip_prefix("$(").and_then(|t| t.strip_suffix(')')) {
        return !inner.contains(['(', ')', '$']);
    }
    false
}

/// Keys whose values are shell or script text: never scanned.
pub fn is_script_key(key: &str) -> bool {
    matches!(
        key,
        "script"
            | "bash"
            | "pwsh"
            | "powershell"
            | "run"
            | "inlineScript"
            | "before_script"
            | "after_script"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_and_hosts() {
        assert!(has_expression("a:${{ x }}"));
        assert!(has_expression("$(x)"));
        assert!(has_expression("golang:$GO"));
        assert!(!has_expression("a$"));
        assert!(!has_expression("mcr.microsoft.com/x:1"));
        assert!(is_host("mcr.microsoft.com"));
        assert!(is_host("localhost:5000"));
        assert!(!is_host("owner"));
        // Labels of letters, digits and `-`; a port is digits, never empty.
        assert!(is_host("my-registry.example.com:5000"));
        assert!(!is_host("my_registry.example.com"));
        assert!(!is_host("registry.example.com:"));
        assert!(!is_host("registry.example.com:http"));
    }

    #[test]
    fn pass_through() {
        assert!(is_pass_through("${{ parameters.container }}"));
        assert!(is_pass_through("${{ matrix.os.container }}"));
        assert!(is_pass_through("$(containerName)"));
        assert!(!is_pass_through("${{ format('{0}:{1}', a, b) }}"));
    }

    #[test]
    fn helix_strings() {
        assert_eq!(
            helix_image(
                "(Debian.13.Amd64.Open)AzureLinux.3.Amd64.Open@mcr.microsoft.com/a:b",
                false
            ),
            Some(46)
        );
        assert_eq!(
            helix_image("Ubuntu.2204.Amd64@mcr.microsoft.com/a:b", false),
            None
        );
        assert!(helix_image("Ubuntu.2204.Amd64@mcr.microsoft.com/a:b", true).is_some());
        assert_eq!(helix_image("user@example.com", false), None);
    }
}
