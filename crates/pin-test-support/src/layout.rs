//! OCI image layouts written by hand and pushed to a registry with `skopeo`.

use std::path::Path;
use std::process::Command;

use crate::{require_binary, sha256};

/// One platform image to build.
pub struct ImageSpec {
    /// `amd64`, `arm64` …
    pub architecture: String,
    /// Anything; makes the config (and so the manifest digest) unique.
    pub marker: String,
}

impl ImageSpec {
    /// A linux image for `architecture` made unique by `marker`.
    pub fn new(architecture: &str, marker: &str) -> Self {
        Self {
            architecture: architecture.into(),
            marker: marker.into(),
        }
    }
}

/// An OCI image layout on disk with one tag, built by hand.
pub struct Layout {
    /// Layout directory.
    pub dir: tempfile::TempDir,
    /// Tag in `index.json`.
    pub tag: String,
    /// Digest of the tagged manifest or index in the layout (a registry may serve another
    /// one if skopeo converts on push).
    pub digest: String,
    /// Whether the tagged object is an index.
    pub is_index: bool,
}

fn write_blob(dir: &Path, bytes: &[u8]) -> (String, usize) {
    let digest = sha256(bytes);
    let hex = digest.trim_start_matches("sha256:");
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("mkdir blobs");
    std::fs::write(blobs.join(hex), bytes).expect("write blob");
    (digest, bytes.len())
}

fn descriptor(media_type: &str, digest: &str, size: usize) -> serde_json::Value {
    serde_json::json!({"mediaType": media_type, "digest": digest, "size": size})
}

/// Writes a single-platform image (one platform) or an index (several) tagged `tag`.
pub fn build_layout(tag: &str, images: &[ImageSpec]) -> Layout {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    // An empty tar archive: two zero blocks. Valid, tiny, and the same for every image.
    let layer = vec![0u8; 1024];
    let (layer_digest, layer_size) = write_blob(root, &layer);
    let mut manifests = Vec::new();
    for spec in images {
        let config = serde_json::json!({
            "architecture": spec.architecture,
            "os": "linux",
            "config": {"Labels": {"pin-lint.test": spec.marker}},
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        });
        let config_bytes = serde_json::to_vec(&config).expect("json");
        let (config_digest, config_size) = write_blob(root, &config_bytes);
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": descriptor("application/vnd.oci.image.config.v1+json", &config_digest, config_size),
            "layers": [descriptor("application/vnd.oci.image.layer.v1.tar", &layer_digest, layer_size)],
        });
        let bytes = serde_json::to_vec(&manifest).expect("json");
        let (d, s) = write_blob(root, &bytes);
        let mut desc = descriptor("application/vnd.oci.image.manifest.v1+json", &d, s);
        desc["platform"] = serde_json::json!({"architecture": spec.architecture, "os": "linux"});
        manifests.push(desc);
    }
    let (top, is_index) = if manifests.len() == 1 {
        let mut d = manifests.remove(0);
        if let Some(o) = d.as_object_mut() {
            o.remove("platform");
        }
        (d, false)
    } else {
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": manifests,
        });
        let bytes = serde_json::to_vec(&index).expect("json");
        let (d, s) = write_blob(root, &bytes);
        (
            descriptor("application/vnd.oci.image.index.v1+json", &d, s),
            true,
        )
    };
    let digest = top["digest"].as_str().expect("digest").to_owned();
    let mut entry = top;
    entry["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": tag});
    let index_json = serde_json::json!({"schemaVersion": 2, "manifests": [entry]});
    std::fs::write(
        root.join("index.json"),
        serde_json::to_vec(&index_json).expect("json"),
    )
    .expect("write index.json");
    std::fs::write(
        root.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .expect("write oci-layout");
    Layout {
        dir,
        tag: tag.into(),
        digest,
        is_index,
    }
}

fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Pushes the layout to `addr/repo:tag` with skopeo (`--all` for an index).
/// `creds` is `user:password` for a registry that needs it.
pub fn skopeo_push(layout: &Layout, addr: &str, repo: &str, tag: &str, creds: Option<&str>) {
    require_binary("skopeo");
    let mut cmd = Command::new("skopeo");
    cmd.args([
        "--insecure-policy",
        "copy",
        "--quiet",
        "--dest-tls-verify=false",
    ]);
    if layout.is_index {
        cmd.arg("--all");
    }
    if let Some(c) = creds {
        cmd.arg("--dest-creds").arg(c);
    }
    cmd.arg(format!(
        "oci:{}:{}",
        layout.dir.path().display(),
        layout.tag
    ))
    .arg(format!("docker://{addr}/{repo}:{tag}"));
    run(&mut cmd, "skopeo copy");
}

/// The digest skopeo sees for `addr/repo:tag`: sha256 of `skopeo inspect --raw`.
pub fn skopeo_digest(addr: &str, repo: &str, tag: &str, creds: Option<&str>) -> String {
    require_binary("skopeo");
    let mut cmd = Command::new("skopeo");
    cmd.args(["inspect", "--raw", "--tls-verify=false"]);
    if let Some(c) = creds {
        cmd.arg("--creds").arg(c);
    }
    cmd.arg(format!("docker://{addr}/{repo}:{tag}"));
    let out = cmd.output().expect("run skopeo inspect");
    assert!(
        out.status.success(),
        "skopeo inspect failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    sha256(&out.stdout)
}

/// Builds and pushes an image; returns its digest as skopeo reports it afterwards.
///
/// That is the reference answer, not the layout's own digest: skopeo compresses the
/// uncompressed layer on the way, which rewrites the manifest.
pub fn push_image(addr: &str, repo: &str, tag: &str, images: &[ImageSpec]) -> String {
    let layout = build_layout(tag, images);
    skopeo_push(&layout, addr, repo, tag, None);
    skopeo_digest(addr, repo, tag, None)
}
