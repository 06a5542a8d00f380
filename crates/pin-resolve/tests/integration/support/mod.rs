//! Real components for the registry tests: a `docker-registry` process on loopback, OCI
//! layouts written by hand and pushed with `skopeo`, a token endpoint and a fault proxy.
//!
//! Shared with the benchmark example through `#[path]`. Missing binaries fail loudly with
//! what to install; nothing is skipped.

#![allow(dead_code)]

pub mod proxy;
pub mod token;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// The Debian packages that provide the binaries these tests drive.
pub const INSTALL_HINT: &str =
    "apt-get update && apt-get install -y --no-install-recommends docker-registry skopeo umoci";

/// Panics with an install hint when `name` is not on PATH.
pub fn require_binary(name: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "required binary `{name}` not found on PATH; install it with: {INSTALL_HINT}"
    );
}

/// A free loopback port (bound, then released for the child to take).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// `sha256:<hex>` of bytes.
pub fn sha256(bytes: &[u8]) -> String {
    let mut s = String::from("sha256:");
    for b in Sha256::digest(bytes) {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Token-auth settings for the registry's `auth.token` section.
pub struct TokenAuth {
    /// Token endpoint URL.
    pub realm: String,
    /// `service` the registry announces and expects as audience.
    pub service: String,
    /// Expected `iss` claim.
    pub issuer: String,
    /// PEM certificate(s) that sign tokens.
    pub rootcertbundle: PathBuf,
}

/// A `docker-registry serve` process on 127.0.0.1, killed on drop.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    dir: tempfile::TempDir,
}

impl Registry {
    /// Starts an anonymous registry (deletes enabled).
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// Starts a registry, optionally requiring bearer tokens.
    pub fn start_with(auth: Option<&TokenAuth>) -> Self {
        Self::start_configured(|_| {
            match auth {
            Some(a) => format!(
                "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                a.realm,
                a.service,
                a.issuer,
                a.rootcertbundle.display()
            ),
            None => String::new(),
        }
        })
    }

    /// Starts a registry requiring Basic auth for the given `user:bcrypt-hash` line.
    pub fn start_with_htpasswd(line: &str) -> Self {
        Self::start_configured(|dir| {
            let path = dir.join("htpasswd");
            std::fs::write(&path, format!("{line}\n")).expect("write htpasswd");
            format!(
                "auth:\n  htpasswd:\n    realm: pin-lint-test\n    path: {}\n",
                path.display()
            )
        })
    }

    fn start_configured(auth_yaml: impl FnOnce(&Path) -> String) -> Self {
        require_binary("docker-registry");
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cfg = String::from(
            "version: 0.1\nlog: {level: warn, accesslog: {disabled: true}}\n\
             storage: {filesystem: {rootdirectory: /unused}, delete: {enabled: true}}\n\
             http: {addr: 127.0.0.1:5000}\n",
        );
        cfg.push_str(&auth_yaml(dir.path()));
        let cfg_path = dir.path().join("registry.yml");
        std::fs::write(&cfg_path, cfg).expect("write registry.yml");
        let root = dir.path().join("storage");
        std::fs::create_dir_all(&root).expect("mkdir storage");
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("log file");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&cfg_path)
            .env("REGISTRY_HTTP_ADDR", &addr)
            .env("REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY", &root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start docker-registry");
        let reg = Self { child, addr, dir };
        reg.wait_ready();
        reg
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Some(status) = raw_status(&self.addr, "GET", "/v2/") {
                if status == 200 || status == 401 {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let log = std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default();
        panic!(
            "docker-registry on {} did not become ready:\n{log}",
            self.addr
        );
    }

    /// The registry's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// `DELETE /v2/<repo>/manifests/<digest>`; panics unless 202.
    pub fn delete_manifest(&self, repo: &str, digest: &str) {
        let status = raw_status(
            &self.addr,
            "DELETE",
            &format!("/v2/{repo}/manifests/{digest}"),
        );
        assert_eq!(status, Some(202), "DELETE manifest failed");
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends a body-less request with HTTP/1.0 and returns the status code.
pub fn raw_status(addr: &str, method: &str, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "{method} {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    text.split_whitespace().nth(1)?.parse().ok()
}

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
