//! End-to-end with a real editor: Neovim (headless) opens corpus files, receives pin-lint
//! diagnostics, asks for code actions and applies the "Pin" ones; the buffer must equal the
//! oracle's pinned text. Requires `nvim` (Debian: `apt-get install -y neovim`).

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::{copy_corpus_file, pin_lsp_path, require_binary, shared_dir};

fn run_nvim(rel: &str, mode: &str) -> (Value, String) {
    let nvim = require_binary("nvim", "install Neovim with: apt-get install -y neovim");
    let dir = tempfile::tempdir().expect("tempdir");
    let target = copy_corpus_file(dir.path(), rel);
    let out = dir.path().join("result.json");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/nvim/pin.lua");
    let catalog = shared_dir().join("oracle/fake-digests.tsv");
    let output = Command::new(nvim)
        .args(["--headless", "-n", "-i", "NONE", "-u"])
        .arg(&script)
        .env("PIN_LSP", pin_lsp_path())
        .env("TARGET", &target)
        .env("ROOT", dir.path())
        .env("CATALOG", &catalog)
        .env("MODE", mode)
        .env("OUT", &out)
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .env("XDG_CACHE_HOME", dir.path().join("cache"))
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .output()
        .expect("run nvim");
    let log = format!(
        "nvim exited {}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&out)
        .unwrap_or_else(|e| panic!("no result from nvim ({e}); {log}"));
    let result: Value = serde_json::from_str(&text).expect("result json");
    assert!(
        output.status.success() && result.get("error").is_none(),
        "nvim script failed: {}\n{log}",
        result["error"]
    );
    let expected = std::fs::read_to_string(
        shared_dir()
            .join("oracle/expected-fixed")
            .join(rel.replace('/', "__")),
    )
    .expect("expected-fixed file");
    (result, expected)
}

fn codes(diags: &Value) -> Vec<&str> {
    diags
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("?"))
        .collect()
}

#[test]
fn neovim_pins_the_single_reference_of_source_build() {
    let rel = "dotnet-arcade/eng/common/core-templates/jobs/source-build.yml";
    let (result, expected) = run_nvim(rel, "pin-one");
    assert_eq!(codes(&result["diagnostics"]), ["unpinned-image"]);
    let d = &result["diagnostics"][0];
    assert_eq!(d["range"]["start"]["line"], 10);
    assert_eq!(d["range"]["start"]["character"], 16);
    assert_eq!(d["source"], "pin-lint");
    assert_eq!(result["stored"], 1);
    assert_eq!(result["rebuilt_range"], d["range"]);
    assert_eq!(result["preferred"], true);
    assert!(
        result["titles"]
            .as_array()
            .expect("titles")
            .iter()
            .any(|t| t == "Add `# pin-lint: ignore[unpinned-image]`"),
        "{}",
        result["titles"]
    );
    assert_eq!(result["text"].as_str().expect("text"), expected);
    assert_eq!(codes(&result["after"]), Vec::<&str>::new());
}

#[test]
fn neovim_pins_all_images_of_pipeline_with_resources() {
    let rel = "dotnet-runtime/eng/pipelines/common/templates/pipeline-with-resources.yml";
    let (result, expected) = run_nvim(rel, "pin-all");
    let before = codes(&result["diagnostics"]);
    assert_eq!(
        before.iter().filter(|c| **c == "unpinned-image").count(),
        26,
        "{before:?}"
    );
    assert_eq!(result["text"].as_str().expect("text"), expected);
    let after = codes(&result["after"]);
    assert!(!after.contains(&"unpinned-image"), "{after:?}");
}
