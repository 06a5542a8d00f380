//! What the dialects find: image references with their position, kind, site and pin state.

use std::ops::Range;

use crate::fix::{Applicability, Edit};
use crate::reference::ImageRef;

/// What kind of image a reference names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A pinnable OCI image reference.
    Container,
    /// A VM or runner image label or id.
    Vm,
    /// Built from an expression or variable; cannot be pinned where it stands.
    Dynamic,
}

/// Where in a pipeline a reference sits (the `site` of the JSON output).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Site {
    /// `image:` of an Azure Pipelines container resource.
    Resource,
    /// An Azure Pipelines job `container:`.
    JobContainer,
    /// An Azure Pipelines `services:` entry.
    Service,
    /// The image part of a Helix queue string.
    Helix,
    /// A variable or env value.
    Variable,
    /// A template's own parameter default.
    ParameterDefault,
    /// A step `target:` that is an image literal.
    StepTarget,
    /// GitHub `jobs.*.container`.
    GhaContainer,
    /// GitHub `jobs.*.services.*.image`.
    GhaService,
    /// GitHub `uses: docker://…`.
    GhaDockerUses,
    /// `runs.image` of an `action.yml`.
    GhaActionImage,
    /// A GitHub step's `with: image:` input.
    GhaStepInput,
    /// GitLab `image:`.
    GitlabImage,
    /// GitLab `services:`.
    GitlabService,
    /// Azure Pipelines `pool.vmImage`.
    #[serde(rename = "vmImage")]
    VmImage,
    /// `demands: ImageOverride -equals X`.
    ImageOverride,
    /// A 1ES pool `image:`.
    PoolImage,
    /// GitHub `runs-on` label.
    GhaRunsOn,
    /// A VM image in an infrastructure file (ARM, Bicep, Terraform).
    InfraVmImage,
    /// A Dockerfile `FROM` image.
    DockerfileFrom,
    /// A Dockerfile `COPY --from=` / `ADD --from=` image.
    DockerfileCopyFrom,
    /// A Dockerfile `RUN --mount=…,from=` image.
    DockerfileMountFrom,
    /// The image of a Dockerfile `# syntax=` parser directive.
    DockerfileSyntax,
    /// A Dockerfile `ARG` default used as an image by a `FROM`.
    DockerfileArg,
    /// `services.<name>.image` of a Compose file.
    ComposeImage,
    /// `image` of a devcontainer.json.
    DevcontainerImage,
    /// A `features` key of a devcontainer.json that is an OCI reference.
    DevcontainerFeature,
    /// A Kubernetes container, init container or ephemeral container `image`.
    K8sContainer,
    /// An `images:` entry of a kustomization.yaml.
    KustomizeImage,
}

impl Site {
    /// The contract's spelling of this site.
    pub fn as_str(self) -> &'static str {
        match self {
            Site::Resource => "resource",
            Site::JobContainer => "job-container",
            Site::Service => "service",
            Site::Helix => "helix",
            Site::Variable => "variable",
            Site::ParameterDefault => "parameter-default",
            Site::StepTarget => "step-target",
            Site::GhaContainer => "gha-container",
            Site::GhaService => "gha-service",
            Site::GhaDockerUses => "gha-docker-uses",
            Site::GhaActionImage => "gha-action-image",
            Site::GhaStepInput => "gha-step-input",
            Site::GitlabImage => "gitlab-image",
            Site::GitlabService => "gitlab-service",
            Site::VmImage => "vmImage",
            Site::ImageOverride => "image-override",
            Site::PoolImage => "pool-image",
            Site::GhaRunsOn => "gha-runs-on",
            Site::InfraVmImage => "infra-vm-image",
            Site::DockerfileFrom => "dockerfile-from",
            Site::DockerfileCopyFrom => "dockerfile-copy-from",
            Site::DockerfileMountFrom => "dockerfile-mount-from",
            Site::DockerfileSyntax => "dockerfile-syntax",
            Site::DockerfileArg => "dockerfile-arg",
            Site::ComposeImage => "compose-image",
            Site::DevcontainerImage => "devcontainer-image",
            Site::DevcontainerFeature => "devcontainer-feature",
            Site::K8sContainer => "k8s-container",
            Site::KustomizeImage => "kustomize-image",
        }
    }
}

impl Kind {
    /// The contract's spelling of this kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Container => "container",
            Kind::Vm => "vm",
            Kind::Dynamic => "dynamic",
        }
    }
}

/// Pin state of a container reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Tag (or nothing) but no digest.
    Unpinned,
    /// Tag and digest.
    Pinned,
    /// Digest without a tag.
    DigestOnly,
    /// Not a valid reference.
    Invalid,
    /// Not applicable (VM and dynamic references).
    #[serde(rename = "-")]
    None,
}

impl State {
    /// The contract's spelling of this state.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Unpinned => "unpinned",
            State::Pinned => "pinned",
            State::DigestOnly => "digest-only",
            State::Invalid => "invalid",
            State::None => "-",
        }
    }
}

/// One image reference found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Byte span of the reference text itself (inside quotes, after `@` of a Helix string).
    pub span: Range<usize>,
    /// The text exactly as written (for dynamic references: the whole value, trimmed).
    pub text: String,
    /// Container, VM or dynamic.
    pub kind: Kind,
    /// Where it sits.
    pub site: Site,
    /// Pin state (containers only).
    pub state: State,
    /// The parsed reference, for valid container references.
    pub image: Option<ImageRef>,
    /// Why the reference is invalid, when it is.
    pub error: Option<String>,
    /// The pinnable VM image version of an infrastructure file (ARM, Bicep, Terraform).
    pub vm_image: Option<VmImage>,
    /// Where the digest is written when it is not part of the reference text (a
    /// kustomization `images:` entry); `None` for the usual `text@sha256:…` form.
    pub digest_key: Option<Box<DigestKey>>,
}

/// A digest kept in a key of its own next to the reference (kustomize's `digest:`), instead of
/// being appended to the reference text. `image` of such a reference is the image the entry
/// produces (`newName`/`name` with `newTag`, and the digest when it is a valid one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestKey {
    /// Byte span of the digest value as written (inside quotes), when the key is there.
    pub value: Option<Range<usize>>,
    /// Where a new key is inserted when there is none.
    pub insert_at: usize,
    /// Text inserted before the digest (line break, indentation, `digest: `, opening quote).
    pub before: String,
    /// Text inserted after the digest (closing quote, line break).
    pub after: String,
}

/// A VM image whose version can be pinned in an infrastructure file.
///
/// `key` names the image independently of the version, in the form the facts use:
/// `publisher:offer:sku` for a marketplace image, the gallery image id (without
/// `/versions/…`) for an Azure Compute Gallery image; both lower-case because Azure compares
/// them case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmImage {
    /// Facts key: `publisher:offer:sku` or the gallery image id, lower-case.
    pub key: String,
    /// The version as written (`latest`, `1.2.3`); `None` when the id names no version.
    pub version: Option<String>,
    /// Byte span of the version text; when there is none, the empty span where
    /// `insert_prefix` + a version would go.
    pub version_span: Range<usize>,
    /// Written before the version when inserting one (`/versions/`); empty when replacing.
    pub insert_prefix: &'static str,
}

impl VmImage {
    /// Written without a fixed version: no version, or `latest` in any case.
    pub fn is_unpinned(&self) -> bool {
        self.version
            .as_deref()
            .is_none_or(|v| v.eq_ignore_ascii_case("latest"))
    }
}

impl Reference {
    /// A container reference: parses `text` and derives its state.
    pub fn container(span: Range<usize>, text: &str, site: Site) -> Reference {
        let (state, image, error) = match ImageRef::parse(text) {
            Ok(image) => {
                let state = match (image.tag.is_some(), image.digest.is_some()) {
                    (_, false) => State::Unpinned,
                    (true, true) => State::Pinned,
                    (false, true) => State::DigestOnly,
                };
                (state, Some(image), None)
            }
            Err(err) => (State::Invalid, None, Some(err.to_string())),
        };
        Reference {
            span,
            text: text.to_string(),
            kind: Kind::Container,
            site,
            state,
            image,
            error,
            vm_image: None,
            digest_key: None,
        }
    }

    /// A VM image label or a dynamic reference (no pin state).
    pub fn other(span: Range<usize>, text: &str, kind: Kind, site: Site) -> Reference {
        Reference {
            span,
            text: text.to_string(),
            kind,
            site,
            state: State::None,
            image: None,
            error: None,
            vm_image: None,
            digest_key: None,
        }
    }

    /// A VM image in an infrastructure file: `text` names the whole image (URN or id).
    pub fn infra_vm(span: Range<usize>, text: &str, vm_image: VmImage) -> Reference {
        Reference {
            vm_image: Some(vm_image),
            ..Reference::other(span, text, Kind::Vm, Site::InfraVmImage)
        }
    }

    /// The edit that makes `digest` this reference's pin, and how safe it is: the written
    /// digest is replaced; a missing one is appended after the tag (`@sha256:…`) or, for a
    /// reference with a [`DigestKey`], written into that key. A reference without a tag gets
    /// `:latest@sha256:…` only when `untagged_as_latest` (unsafe: it changes what is written);
    /// a digest key is only written for an entry that names its tag.
    pub fn pin_edit(
        &self,
        digest: &str,
        untagged_as_latest: bool,
    ) -> Option<(Edit, Applicability)> {
        let image = self.image.as_ref()?;
        if let Some(key) = &self.digest_key {
            image.tag.as_ref()?;
            let edit = match &key.value {
                Some(value) => Edit::replace(value.clone(), digest),
                None => Edit::insert(
                    key.insert_at,
                    format!("{}{digest}{}", key.before, key.after),
                ),
            };
            return Some((edit, Applicability::Safe));
        }
        let start = self.span.start;
        match (&image.digest, &image.tag) {
            (Some(d), _) => Some((
                Edit::replace(start + d.start..start + d.end, digest),
                Applicability::Safe,
            )),
            (None, Some(_)) => Some((
                Edit::insert(start + image.pin_offset(), format!("@{digest}")),
                Applicability::Safe,
            )),
            (None, None) if untagged_as_latest => Some((
                Edit::insert(start + image.pin_offset(), format!(":latest@{digest}")),
                Applicability::Unsafe,
            )),
            (None, None) => None,
        }
    }
}
