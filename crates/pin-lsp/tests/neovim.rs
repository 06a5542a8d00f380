//! End-to-end with a real editor: Neovim (headless) opens corpus files (pipeline YAML and
//! container files), receives pin-lint diagnostics, asks for code actions and applies the
//! "Pin" ones (pipeline YAML, a Dockerfile, a devcontainer.json); the buffer must equal the
//! pinned text. The server is attached on the `FileType` event of the file types Neovim gives
//! these files (`yaml`, `dockerfile`, `json`/`jsonc`), as a user's configuration does.
//! Requires `nvim` (Debian: `apt-get install -y neovim`).

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::{copy_corpus_file, pin_lsp_path, require_binary, shared_dir};

/// Run `tests/nvim/pin.lua` on `target` (below `root`) with `catalog`: what the script saw.
fn run_nvim_on(target: &Path, root: &Path, catalog: &Path, mode: &str) -> Value {
    let nvim = require_binary("nvim", "install Neovim with: apt-get install -y neovim");
    let out = root.join("result.json");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/nvim/pin.lua");
    let output = Command::new(nvim)
        .args(["--headless", "-n", "-i", "NONE", "-u"])
        .arg(&script)
        .env("PIN_LSP", pin_lsp_path())
        .env("TARGET", target)
        .env("ROOT", root)
        .env("CATALOG", catalog)
        .env("MODE", mode)
        .env("OUT", &out)
        .env("XDG_STATE_HOME", root.join("state"))
        .env("XDG_CACHE_HOME", root.join("cache"))
        .env("XDG_DATA_HOME", root.join("data"))
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
    result
}

/// [`run_nvim_on`] a pipeline file of the corpus with the oracle's catalog; also returns the
/// oracle's pinned text of the file.
fn run_nvim(rel: &str, mode: &str) -> (Value, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = copy_corpus_file(dir.path(), rel);
    let catalog = shared_dir().join("oracle/fake-digests.tsv");
    let result = run_nvim_on(&target, dir.path(), &catalog, mode);
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
    assert_eq!(result["filetype"], "yaml");
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

/// A dev container definition of the container-file corpus, at `.devcontainer/devcontainer.json`
/// of a temporary folder, with a catalog for its image and feature. `Pin` (first unpinned
/// reference: the image) and `Pin all` (the tagged feature too, inside its key) write exactly
/// the digests; the untagged feature stays reported.
#[test]
fn neovim_pins_the_image_and_features_of_a_devcontainer() {
    let source =
        shared_dir().join("corpus-images/dotnet-dotnet-docker/.devcontainer/devcontainer.json");
    let original = std::fs::read_to_string(&source).expect("devcontainer.json of the corpus");
    let image = "mcr.microsoft.com/dotnet/sdk:9.0-noble";
    let feature = "ghcr.io/devcontainers/features/docker-in-docker:2";
    let (d1, d2) = (
        format!("sha256:{}", "1".repeat(64)),
        format!("sha256:{}", "2".repeat(64)),
    );
    for (mode, pinned) in [
        ("pin-one", vec![(image, &d1)]),
        ("pin-all", vec![(image, &d1), (feature, &d2)]),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join(".devcontainer/devcontainer.json");
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::write(&target, &original).expect("write");
        let catalog = dir.path().join("catalog.tsv");
        std::fs::write(&catalog, format!("{image}\t{d1}\n{feature}\t{d2}\n")).expect("catalog");
        let result = run_nvim_on(&target, dir.path(), &catalog, mode);
        let filetype = result["filetype"].as_str().expect("filetype");
        assert!(matches!(filetype, "json" | "jsonc"), "{filetype}");
        assert_eq!(
            codes(&result["diagnostics"]),
            ["unpinned-image", "unpinned-image", "unpinned-image"],
            "{mode}"
        );
        let d = &result["diagnostics"][0];
        assert_eq!(d["range"]["start"]["line"], 1);
        assert_eq!(d["range"]["start"]["character"], 14);
        let mut expected = original.clone();
        for (reference, digest) in pinned {
            let quoted = format!("\"{reference}\"");
            expected = expected.replacen(&quoted, &format!("\"{reference}@{digest}\""), 1);
        }
        assert_eq!(result["text"].as_str().expect("text"), expected, "{mode}");
        let left = if mode == "pin-all" { 1 } else { 2 };
        assert_eq!(
            codes(&result["after"]),
            vec!["unpinned-image"; left],
            "{mode}"
        );
    }
}

/// A Dockerfile of the container-file corpus (two stages, the first `FROM --platform=…`) with a
/// catalog for both base images, opened with Neovim's `dockerfile` file type: diagnostics on
/// both `FROM` images at the oracle's positions; `Pin` pins the first, `Pin all` both, writing
/// exactly the digests, after which nothing is left to pin.
#[test]
fn neovim_pins_the_base_images_of_a_dockerfile() {
    let rel = "dotnet-dotnet-docker/samples/aspnetapp/Dockerfile";
    let original = std::fs::read_to_string(shared_dir().join("corpus-images").join(rel))
        .expect("Dockerfile of the corpus");
    let (sdk, aspnet) = (
        "mcr.microsoft.com/dotnet/sdk:10.0",
        "mcr.microsoft.com/dotnet/aspnet:10.0",
    );
    let (d1, d2) = (
        format!("sha256:{}", "3".repeat(64)),
        format!("sha256:{}", "4".repeat(64)),
    );
    for (mode, pinned) in [
        ("pin-one", vec![(sdk, &d1)]),
        ("pin-all", vec![(sdk, &d1), (aspnet, &d2)]),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("Dockerfile");
        std::fs::write(&target, &original).expect("write");
        let catalog = dir.path().join("catalog.tsv");
        std::fs::write(&catalog, format!("{sdk}\t{d1}\n{aspnet}\t{d2}\n")).expect("catalog");
        let result = run_nvim_on(&target, dir.path(), &catalog, mode);
        assert_eq!(result["filetype"], "dockerfile", "{mode}");
        assert_eq!(
            codes(&result["diagnostics"]),
            ["unpinned-image", "unpinned-image"],
            "{mode}"
        );
        // The oracle's rows (1-based line 3 column 32, line 17 column 6), as LSP positions.
        let starts: Vec<(u64, u64)> = result["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .map(|d| {
                let start = &d["range"]["start"];
                (
                    start["line"].as_u64().expect("line"),
                    start["character"].as_u64().expect("character"),
                )
            })
            .collect();
        assert_eq!(starts, [(2, 31), (16, 5)], "{mode}");
        assert_eq!(result["rebuilt_range"], result["diagnostics"][0]["range"]);
        let mut expected = original.clone();
        for (reference, digest) in pinned {
            expected = expected.replacen(reference, &format!("{reference}@{digest}"), 1);
        }
        assert_ne!(expected, original);
        assert_eq!(result["text"].as_str().expect("text"), expected, "{mode}");
        let left = if mode == "pin-all" { 0 } else { 1 };
        assert_eq!(
            codes(&result["after"]),
            vec!["unpinned-image"; left],
            "{mode}"
        );
    }
}
