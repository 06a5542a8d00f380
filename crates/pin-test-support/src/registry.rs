//! A `docker-registry serve` process on loopback, anonymous or behind token or Basic auth.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{free_port, require_binary};

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
