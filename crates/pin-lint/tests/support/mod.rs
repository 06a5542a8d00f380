//! Helpers shared by the end-to-end tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

#[allow(unused_imports)] // not every test binary reads the shared data
pub use pin_test_support::shared_dir;

/// The `pin-lint` binary under test, run as from a user's terminal: without the CI variables
/// of the machine running the tests (`GITHUB_ACTIONS`, `TF_BUILD` choose the output format) and
/// without its Azure credentials. A test that wants them sets them.
pub fn pin_lint() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_pin-lint"));
    cmd.env_remove("GITHUB_ACTIONS")
        .env_remove("TF_BUILD")
        .env_remove("AZURE_ACCESS_TOKEN");
    cmd
}

/// The project's own fixtures folder (`<workspace>/tests/fixtures`).
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// Run `pin-lint` (see [`pin_lint`]) with `args` in `dir`.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    pin_lint()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("pin-lint runs")
}

/// What a run wrote to stderr, lossily decoded.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
