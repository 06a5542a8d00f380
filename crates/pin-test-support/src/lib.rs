//! Real components for the tests of pin-resolve, pin-lint and pin-lsp: a `docker-registry`
//! process on loopback ([`Registry`]), OCI layouts written by hand and pushed with `skopeo`
//! ([`push_image`]), a token endpoint for the registry's `auth.token` mode ([`token`]) and a
//! proxy that injects faults in front of a registry ([`proxy`]) and a server of fixed files
//! ([`files::FileServer`], a producer's published catalog).
//!
//! Missing binaries fail loudly with what to install; nothing is skipped. A dev-dependency
//! only (`publish = false`).

pub mod files;
pub mod layout;
pub mod proxy;
pub mod registry;
mod server;
pub mod token;

use std::net::TcpListener;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

pub use layout::{build_layout, push_image, skopeo_digest, skopeo_push, ImageSpec, Layout};
pub use registry::{raw_status, Registry, TokenAuth};

/// The Debian packages that provide the binaries these tests drive.
pub const INSTALL_HINT: &str =
    "apt-get update && apt-get install -y --no-install-recommends docker-registry skopeo openssl";

/// Panics with an install hint when `name` is not on PATH.
pub fn require_binary(name: &str) {
    let found = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()));
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

/// The shared test data folder: `$PIN_LINT_SHARED`, else `<workspace>/../shared`.
/// Panics with a clear message when it is missing (CI always has it).
pub fn shared_dir() -> PathBuf {
    let dir = std::env::var_os("PIN_LINT_SHARED").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        PathBuf::from,
    );
    assert!(
        dir.join("corpus").is_dir() && dir.join("oracle").is_dir(),
        "shared test data not found at {} (expected corpus/ and oracle/ there); \
         set PIN_LINT_SHARED to the folder that holds them",
        dir.display()
    );
    dir.canonicalize().expect("shared dir is readable")
}
