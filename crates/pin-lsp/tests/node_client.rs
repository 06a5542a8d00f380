//! End-to-end with a Node client built on `vscode-jsonrpc` (the library under VS Code's LSP
//! client): diagnostics, quick fixes, hover and commands, first with the oracle's catalog, then
//! online against a real registry process on loopback (`docker-registry` + `skopeo`), and
//! across the files of a workspace (templates, container aliases, files changed on disk).
//!
//! Needs `node` and `npm ci --prefix crates/pin-lsp/tests/node`; the registry test needs
//! `apt-get install -y docker-registry skopeo`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use pin_test_support::{push_image, ImageSpec, Registry};
use serde_json::{json, Value};
use support::{
    copy_corpus_file, copy_tree, file_uri, fixture_dir, pin_lsp_path, require_binary, shared_dir,
};

fn node_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node")
}

/// Run the scripted client on `plan`; returns its observations.
fn run_client(plan: &Value) -> Value {
    let node = require_binary(
        "node",
        "install Node.js 18+ (Debian: apt-get install -y nodejs npm)",
    );
    assert!(
        node_dir().join("node_modules/vscode-jsonrpc").is_dir(),
        "the Node test client's dependencies are missing; run: npm ci --prefix {}",
        node_dir().display()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let plan_path = dir.path().join("plan.json");
    std::fs::write(&plan_path, plan.to_string()).expect("write plan");
    let out = Command::new(node)
        .arg(node_dir().join("client.js"))
        .arg(&plan_path)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let result: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "node client printed no JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(
        out.status.success() && result.get("error").is_none(),
        "node client failed: {}\nserver log:\n{}",
        result["error"].as_str().unwrap_or(""),
        result["serverLog"].as_str().unwrap_or("")
    );
    assert_eq!(
        result["exitCode"], 0,
        "pin-lsp exit code after shutdown/exit"
    );
    result
}

fn codes(step: &Value) -> Vec<String> {
    step["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("?").to_string())
        .collect()
}

/// `expected` with only its first `@sha256:<64 hex>` insertion kept.
fn keep_first_pin(expected: &str) -> String {
    let mut out = String::new();
    let mut rest = expected;
    let mut kept = false;
    while let Some(i) = rest.find("@sha256:") {
        let end = i + "@sha256:".len() + 64;
        out.push_str(&rest[..i]);
        if !kept {
            out.push_str(&rest[i..end]);
            kept = true;
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn node_client_pins_with_the_catalog_and_hovers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("root");
    let helix_rel = "dotnet-runtime/eng/pipelines/helix-platforms.yml";
    let gorm_rel = "go-gorm-gorm/.github/workflows/tests.yml";
    let helix = copy_corpus_file(&root, helix_rel);
    let gorm = copy_corpus_file(&root, gorm_rel);
    let (helix_uri, gorm_uri) = (file_uri(&helix), file_uri(&gorm));
    let catalog = shared_dir().join("oracle/fake-digests.tsv");
    let expected = |rel: &str| {
        std::fs::read_to_string(
            shared_dir()
                .join("oracle/expected-fixed")
                .join(rel.replace('/', "__")),
        )
        .expect("expected-fixed")
    };
    let plan = json!({
        "server": pin_lsp_path(),
        "root": root,
        "initializationOptions": {"pinLint": {"catalogs": [catalog]}},
        "steps": [
            {"op": "open", "uri": helix_uri, "path": helix},
            {"op": "open", "uri": gorm_uri, "path": gorm},
            {"op": "waitDiagnostics", "uri": helix_uri, "codes": ["unpinned-image"]},
            {"op": "codeAction", "uri": helix_uri, "code": "unpinned-image", "nth": 0,
             "title": "Pin to sha256:", "apply": true},
            {"op": "waitDiagnostics", "uri": helix_uri},
            {"op": "hover", "uri": helix_uri, "needle": "@sha256:", "delta": -3},
            {"op": "command", "command": "pinLint.pinAllInFile", "arguments": [helix_uri]},
            {"op": "waitDiagnostics", "uri": helix_uri, "absent": ["unpinned-image"]},
            {"op": "text", "uri": helix_uri},
            {"op": "waitDiagnostics", "uri": gorm_uri, "codes": ["unpinned-image"]},
            {"op": "codeAction", "uri": gorm_uri, "title": "Pin all images in this file",
             "apply": true},
            {"op": "waitDiagnostics", "uri": gorm_uri, "absent": ["unpinned-image"]},
        ],
    });
    let r = run_client(&plan);
    let steps = r["results"].as_array().expect("results");
    assert_eq!(
        r["initialize"]["capabilities"]["positionEncoding"],
        "utf-16"
    );

    let first = codes(&steps[2]);
    assert_eq!(
        first.iter().filter(|c| *c == "unpinned-image").count(),
        26,
        "{first:?}"
    );
    let pin = &steps[3];
    assert_eq!(pin["isPreferred"], true);
    assert_eq!(pin["kind"], "quickfix");
    assert_eq!(
        pin["text"].as_str().expect("text"),
        keep_first_pin(&expected(helix_rel))
    );
    let after_one = codes(&steps[4]);
    assert_eq!(
        after_one.iter().filter(|c| *c == "unpinned-image").count(),
        25
    );

    let hover = steps[5]["value"].as_str().expect("hover markdown");
    for needle in [
        "mcr.microsoft.com",
        "pinned digest",
        "current digest",
        "the pin is current",
        "catalog fake-digests.tsv",
    ] {
        assert!(hover.contains(needle), "{needle} not in hover:\n{hover}");
    }

    assert_eq!(steps[6]["result"], json!({"applied": true, "edits": 25}));
    assert_eq!(
        steps[8]["text"].as_str().expect("text"),
        expected(helix_rel)
    );

    let gorm_codes = codes(&steps[9]);
    assert_eq!(
        gorm_codes.iter().filter(|c| *c == "unpinned-image").count(),
        10,
        "{gorm_codes:?}"
    );
    assert_eq!(steps[10]["kind"], "source.fixAll.pin-lint");
    assert_eq!(
        steps[10]["text"].as_str().expect("text"),
        expected(gorm_rel)
    );
}

#[test]
fn node_client_against_a_real_registry() {
    pin_test_support::require_binary("skopeo");
    let registry = Registry::start();
    let addr = registry.addr.clone();
    let app = push_image(&addr, "team/app", "1.0", &[ImageSpec::new("amd64", "app")]);
    let multi = push_image(
        &addr,
        "team/multi",
        "2.0",
        &[ImageSpec::new("amd64", "m"), ImageSpec::new("arm64", "m")],
    );
    let lib_old = push_image(
        &addr,
        "team/lib",
        "3.0",
        &[ImageSpec::new("amd64", "lib-v1")],
    );
    let lib_new = push_image(
        &addr,
        "team/lib",
        "3.0",
        &[ImageSpec::new("amd64", "lib-v2")],
    );
    let gone = push_image(
        &addr,
        "team/gone",
        "4.0",
        &[ImageSpec::new("amd64", "gone")],
    );
    registry.delete_manifest("team/gone", &gone);
    assert_ne!(lib_old, lib_new);

    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("root");
    let workflows = root.join(".github/workflows");
    std::fs::create_dir_all(&workflows).expect("mkdir");
    let ci = workflows.join("ci.yml");
    std::fs::write(
        &ci,
        format!(
            "on: push\njobs:\n  build:\n    runs-on: ubuntu-24.04\n    container: {addr}/team/app:1.0\n    services:\n      multi:\n        image: {addr}/team/multi:2.0@{multi}\n      lib:\n        image: \"{addr}/team/lib:3.0@{lib_old}\"\n      gone:\n        image: {addr}/team/gone:4.0@{gone}\n    steps:\n      - run: echo hi\n"
        ),
    )
    .expect("write ci.yml");
    // Not open in the editor: only the workspace command touches it.
    let other = workflows.join("other.yml");
    std::fs::write(
        &other,
        format!("on: push\njobs:\n  lint:\n    runs-on: ubuntu-24.04\n    container: '{addr}/team/lib:3.0@{lib_old}'  # keep me\n    steps:\n      - run: true\n"),
    )
    .expect("write other.yml");
    let ci_uri = file_uri(&ci);
    let plan = json!({
        "server": pin_lsp_path(),
        "root": root,
        "initializationOptions": {"online": true, "insecureRegistries": [addr]},
        "steps": [
            {"op": "open", "uri": ci_uri, "path": ci},
            {"op": "waitDiagnostics", "uri": ci_uri,
             "codes": ["unpinned-image", "stale-digest", "missing-digest"]},
            {"op": "codeAction", "uri": ci_uri, "code": "unpinned-image", "title": "Pin to sha256:",
             "apply": true},
            {"op": "waitDiagnostics", "uri": ci_uri, "absent": ["unpinned-image"],
             "codes": ["stale-digest"]},
            {"op": "codeAction", "uri": ci_uri, "code": "stale-digest", "title": "Bump to sha256:",
             "apply": true},
            {"op": "waitDiagnostics", "uri": ci_uri, "absent": ["unpinned-image", "stale-digest"],
             "codes": ["missing-digest"]},
            {"op": "hover", "uri": ci_uri, "needle": "team/multi", "until": "platforms"},
            {"op": "hover", "uri": ci_uri, "needle": "team/gone", "until": "exists"},
            {"op": "text", "uri": ci_uri},
            {"op": "command", "command": "pinLint.bumpWorkspace"},
            {"op": "text", "uri": file_uri(&other)},
        ],
    });
    let r = run_client(&plan);
    let steps = r["results"].as_array().expect("results");
    let first = codes(&steps[1]);
    // The removed tag is a `missing-tag` finding, as in `pin-lint check --online`: the
    // editor records the registry's answers the way the CLI does.
    assert_eq!(
        first,
        [
            "unpinned-image",
            "stale-digest",
            "missing-digest",
            "missing-tag"
        ],
        "registry log:\n{}",
        registry.log()
    );
    let stale = &steps[1]["diagnostics"][1]["message"];
    assert!(
        stale.as_str().unwrap_or("").contains(&lib_new[..19]),
        "{stale}"
    );
    assert_eq!(steps[2]["isPreferred"], true);
    let pinned_text = steps[8]["text"].as_str().expect("text");
    assert!(
        pinned_text.contains(&format!("container: {addr}/team/app:1.0@{app}\n")),
        "{pinned_text}"
    );
    assert!(
        pinned_text.contains(&format!("image: \"{addr}/team/lib:3.0@{lib_new}\"\n")),
        "{pinned_text}"
    );
    assert!(pinned_text.contains(&format!("team/gone:4.0@{gone}")));

    let multi_hover = steps[6]["value"].as_str().expect("hover");
    for needle in [
        multi.as_str(),
        "linux/amd64, linux/arm64",
        "the pin is current",
        "registry 127.0.0.1",
    ] {
        assert!(
            multi_hover.contains(needle),
            "{needle} not in:\n{multi_hover}"
        );
    }
    let gone_hover = steps[7]["value"].as_str().expect("hover");
    assert!(
        gone_hover.contains("the pin is broken") && gone_hover.contains("missing-digest"),
        "{gone_hover}"
    );

    // The workspace bump pins nothing new in ci.yml (the gone tag cannot be resolved) but
    // bumps other.yml on disk, keeping quotes and the comment.
    assert_eq!(steps[9]["result"]["applied"], true, "{}", steps[9]);
    assert_eq!(
        steps[10]["text"].as_str().expect("text"),
        format!("on: push\njobs:\n  lint:\n    runs-on: ubuntu-24.04\n    container: '{addr}/team/lib:3.0@{lib_new}'  # keep me\n    steps:\n      - run: true\n")
    );
}

/// `(line, character, message)` of the diagnostics with `code` in a `waitDiagnostics` result.
fn with_code(step: &Value, code: &str) -> Vec<(u64, u64, String)> {
    step["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["code"] == code)
        .map(|d| {
            (
                d["range"]["start"]["line"].as_u64().expect("line"),
                d["range"]["start"]["character"]
                    .as_u64()
                    .expect("character"),
                d["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn node_client_follows_templates_across_workspace_files() {
    // eng/pipelines/ci.yml defines `linux_x64` and hands an image to templates/build-job.yml
    // as a parameter; build-job.yml uses `tools` (defined in containers.yml, which stays
    // closed) and `tools_x64` (defined nowhere).
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("root");
    copy_tree(&fixture_dir("workspace"), &root);
    let ci = root.join("eng/pipelines/ci.yml");
    let job = root.join("eng/pipelines/templates/build-job.yml");
    let containers = root.join("eng/pipelines/containers.yml");
    let (ci_uri, job_uri) = (file_uri(&ci), file_uri(&job));
    let renamed = std::fs::read_to_string(&containers)
        .expect("containers.yml")
        .replace("container: tools", "container: tools_arm64");
    let plan = json!({
        "server": pin_lsp_path(),
        "root": root,
        "steps": [
            {"op": "open", "uri": job_uri, "path": job},
            {"op": "waitDiagnostics", "uri": job_uri, "codes": ["unknown-container-alias"]},
            {"op": "open", "uri": ci_uri, "path": ci},
            {"op": "waitDiagnostics", "uri": ci_uri, "codes": ["unpinned-image"]},
            {"op": "hover", "uri": ci_uri, "needle": "prereqs:ubuntu-24.04"},
            // Define `tools_x64` in the open ci.yml: build-job.yml is judged again.
            {"op": "change", "uri": ci_uri, "find": "  - container: linux_x64\n",
             "replace": "  - container: tools_x64\n    image: mcr.microsoft.com/dotnet-buildtools/prereqs:tools-x64\n  - container: linux_x64\n"},
            {"op": "waitDiagnostics", "uri": job_uri, "absent": ["unknown-container-alias"]},
            {"op": "waitDiagnostics", "uri": ci_uri, "codes": ["unpinned-image"]},
            // Rename `tools` on disk: `target: tools` now names nothing.
            {"op": "writeFile", "path": containers, "uri": file_uri(&containers), "text": renamed},
            {"op": "waitDiagnostics", "uri": job_uri, "codes": ["unknown-container-alias"]},
        ],
    });
    let r = run_client(&plan);
    let steps = r["results"].as_array().expect("results");

    // The dangling alias is reported where it is written; `tools`, defined in a file that is
    // not open, is not.
    let dangling = with_code(&steps[1], "unknown-container-alias");
    assert_eq!(dangling.len(), 1, "{}", steps[1]);
    assert_eq!((dangling[0].0, dangling[0].1), (21, 12), "{dangling:?}");
    assert!(dangling[0].2.contains("`tools_x64`"), "{dangling:?}");
    assert_eq!(codes(&steps[1]), ["unknown-container-alias"]);

    // The image handed to the template is reported at the literal in ci.yml, with its chain.
    let unpinned = with_code(&steps[3], "unpinned-image");
    assert_eq!(unpinned.len(), 2, "{}", steps[3]);
    let passed = unpinned
        .iter()
        .find(|(line, _, _)| *line == 14)
        .unwrap_or_else(|| panic!("no finding at the testImage argument: {unpinned:?}"));
    assert_eq!(passed.1, 15);
    assert!(
        passed
            .2
            .contains("(used as job container via eng/pipelines/ci.yml → templates/build-job.yml)"),
        "{passed:?}"
    );

    let hover = steps[4]["value"].as_str().expect("hover");
    assert!(
        hover.contains(
            "- through templates: used as job container via eng/pipelines/ci.yml → templates/build-job.yml"
        ),
        "{hover}"
    );
    assert!(hover.contains("unpinned-image"), "{hover}");

    // An edit in ci.yml changes build-job.yml's findings, at build-job.yml's own version.
    assert_eq!(steps[6]["version"], 1);
    assert_eq!(codes(&steps[6]), Vec::<String>::new());
    assert_eq!(steps[7]["version"], 2);
    assert_eq!(with_code(&steps[7], "unpinned-image").len(), 3);

    // A file changed on disk (not open) is read again.
    let dangling = with_code(&steps[9], "unknown-container-alias");
    assert_eq!(dangling.len(), 1, "{}", steps[9]);
    assert_eq!((dangling[0].0, dangling[0].1), (16, 12), "{dangling:?}");
    assert!(dangling[0].2.contains("`tools`"), "{dangling:?}");
}
