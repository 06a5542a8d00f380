//! A real OCI registry on loopback for the `--fix` tests: a `docker-registry` process and
//! images written as OCI layouts and pushed with `skopeo`.
//!
//! The minimum copied from pin-resolve's test support (crates/pin-resolve/tests/integration/
//! support/mod.rs), which is not a library the CLI's tests can depend on. Included with
//! `#[path = "support/registry.rs"] mod registry;`. Missing binaries fail with what to install.

#![allow(dead_code)]

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

/// The Debian packages that provide the binaries these tests drive.
pub const INSTALL_HINT: &str =
    "apt-get update && apt-get install -y --no-install-recommends docker-registry skopeo";

/// Panics with an install hint when `name` is not on PATH.
pub fn require_binary(name: &str) {
    let found = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()));
    assert!(
        found,
        "required binary `{name}` not found on PATH; install it with: {INSTALL_HINT}"
    );
}

/// `sha256:<hex>` of bytes.
pub fn sha256(bytes: &[u8]) -> String {
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// A `docker-registry serve` process on 127.0.0.1 (anonymous, deletes enabled), killed on
/// drop.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    dir: tempfile::TempDir,
}

impl Registry {
    /// Start a registry and wait until `/v2/` answers.
    pub fn start() -> Registry {
        require_binary("docker-registry");
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = "version: 0.1\nlog: {level: warn, accesslog: {disabled: true}}\n\
                   storage: {filesystem: {rootdirectory: /unused}, delete: {enabled: true}}\n\
                   http: {addr: 127.0.0.1:5000}\n";
        let cfg_path = dir.path().join("registry.yml");
        std::fs::write(&cfg_path, cfg).expect("write registry.yml");
        let root = dir.path().join("storage");
        std::fs::create_dir_all(&root).expect("mkdir storage");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("bind 127.0.0.1:0")
            .port();
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
        let registry = Registry { child, addr, dir };
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if raw_status(&registry.addr, "GET", "/v2/") == Some(200) {
                return registry;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "docker-registry on {} did not become ready:\n{}",
            registry.addr,
            std::fs::read_to_string(registry.dir.path().join("registry.log")).unwrap_or_default()
        );
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Send a body-less HTTP/1.0 request and return the status code.
pub fn raw_status(addr: &str, method: &str, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "{method} {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf)
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn write_blob(dir: &Path, bytes: &[u8]) -> (String, usize) {
    let digest = sha256(bytes);
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("mkdir blobs");
    std::fs::write(blobs.join(digest.trim_start_matches("sha256:")), bytes).expect("blob");
    (digest, bytes.len())
}

/// Build a single-platform linux/amd64 image made unique by `marker`, push it to
/// `addr/repo:tag` and return the digest the registry serves for the tag (sha256 of
/// `skopeo inspect --raw`; skopeo rewrites the manifest on the way, so the layout's own
/// digest is not the answer).
pub fn push_image(addr: &str, repo: &str, tag: &str, marker: &str) -> String {
    require_binary("skopeo");
    let layout = tempfile::tempdir().expect("tempdir");
    let root = layout.path();
    let layer = vec![0u8; 1024]; // an empty tar archive
    let (layer_digest, layer_size) = write_blob(root, &layer);
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Labels": {"pin-lint.test": marker}},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
    });
    let (config_digest, config_size) =
        write_blob(root, &serde_json::to_vec(&config).expect("json"));
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": layer_size}],
    });
    let (digest, size) = write_blob(root, &serde_json::to_vec(&manifest).expect("json"));
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": size,
        "annotations": {"org.opencontainers.image.ref.name": tag},
    }]});
    std::fs::write(
        root.join("index.json"),
        serde_json::to_vec(&index).expect("json"),
    )
    .expect("index.json");
    std::fs::write(
        root.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .expect("oci-layout");
    run(
        Command::new("skopeo")
            .args([
                "--insecure-policy",
                "copy",
                "--quiet",
                "--dest-tls-verify=false",
            ])
            .arg(format!("oci:{}:{tag}", root.display()))
            .arg(format!("docker://{addr}/{repo}:{tag}")),
        "skopeo copy",
    );
    let raw = run(
        Command::new("skopeo")
            .args(["inspect", "--raw", "--tls-verify=false"])
            .arg(format!("docker://{addr}/{repo}:{tag}")),
        "skopeo inspect",
    );
    sha256(&raw)
}

fn run(cmd: &mut Command, what: &str) -> Vec<u8> {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}; install with: {INSTALL_HINT}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
