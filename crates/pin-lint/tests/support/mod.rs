//! Helpers shared by the end-to-end tests.
#![allow(dead_code)]

use std::path::PathBuf;

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

/// The `pin-lint` binary under test.
pub fn pin_lint() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_pin-lint"))
}

/// The project's own fixtures folder (`<workspace>/tests/fixtures`).
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}
