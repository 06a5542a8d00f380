//! Images that only the Azure Pipelines template layer sees go through the same resolution,
//! rules, fixes and suppressions as references written at their use: literals passed through
//! template parameters, and the images a `format()` builds from fragments. Checked against a
//! real registry on loopback (`docker-registry` + `skopeo`) and with catalogs.

mod support;

use std::net::TcpListener;
use std::path::Path;
use std::process::Output;

use pin_test_support::{push_image, raw_status, ImageSpec, Registry};
use serde_json::Value;
use support::{run_in as run, stderr};

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            stderr(out)
        )
    })
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).expect("read")
}

/// `(rule, path, line)` of every finding, sorted.
fn rows(value: &Value) -> Vec<(String, String, u64)> {
    let mut out: Vec<(String, String, u64)> = value["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["path"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    out.sort();
    out
}

/// A pipeline whose job images are all written away from their use: a literal passed down
/// as a template parameter, and a fragment completed by a `format()` in another template.
fn template_repo(dir: &Path, addr: &str, build: &str, fragment: &str) {
    write(
        dir,
        "azure-pipelines.yml",
        &format!(
            "jobs:\n\
             - template: templates/build.yml\n  parameters:\n    buildImage: {addr}/team/build:1.0@{build}\n\
             - template: templates/matrix.yml\n  parameters:\n    container:\n      image: {fragment}\n      registry: local\n"
        ),
    );
    write(
        dir,
        "templates/build.yml",
        "parameters:\n- name: buildImage\n  type: string\n  default: ''\n\njobs:\n- job: build\n  container: ${{ parameters.buildImage }}\n  steps:\n  - script: make\n",
    );
    write(
        dir,
        "templates/matrix.yml",
        &format!(
            "parameters:\n  container: ''\n\njobs:\n- job: test\n  container: ${{{{ format('{{0}}:{{1}}', '{addr}/team/base', parameters.container.image) }}}}\n  steps:\n  - script: make test\n"
        ),
    );
}

#[test]
fn images_reached_through_templates_are_checked_online_and_fixed_where_written() {
    let reg = Registry::start();
    let addr = reg.addr.as_str();
    let build_v1 = push_image(
        addr,
        "team/build",
        "1.0",
        &[ImageSpec::new("amd64", "build one")],
    );
    let base_v1 = push_image(
        addr,
        "team/base",
        "alpine",
        &[ImageSpec::new("amd64", "base one")],
    );
    let dir = tempfile::tempdir().expect("tempdir");
    template_repo(dir.path(), addr, &build_v1, &format!("alpine@{base_v1}"));
    let clean = run(
        dir.path(),
        &["check", "--online", "--insecure-registry", addr, "."],
    );
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));

    // Both tags move; the fragment's old digest is deleted as well (a broken pin).
    let build_v2 = push_image(
        addr,
        "team/build",
        "1.0",
        &[ImageSpec::new("amd64", "build two")],
    );
    let base_v2 = push_image(
        addr,
        "team/base",
        "alpine",
        &[ImageSpec::new("amd64", "base two")],
    );
    assert_eq!(
        raw_status(
            addr,
            "DELETE",
            &format!("/v2/team/base/manifests/{base_v1}")
        ),
        Some(202)
    );
    let check = run(
        dir.path(),
        &[
            "check",
            "--online",
            "--format",
            "json",
            "--insecure-registry",
            addr,
            ".",
        ],
    );
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    let value = json(&check);
    let interesting: Vec<(String, String, u64)> = rows(&value)
        .into_iter()
        .filter(|(rule, _, _)| rule.ends_with("-digest"))
        .collect();
    let at = |rule: &str, line| (rule.to_string(), "azure-pipelines.yml".to_string(), line);
    assert_eq!(
        interesting,
        [
            at("missing-digest", 8),
            at("stale-digest", 4),
            at("stale-digest", 8)
        ],
        "{value:#}"
    );
    let messages: Vec<&str> = value["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains(&format!("`{addr}/team/base:alpine` (this fragment becomes it at templates/matrix.yml:6:14) is pinned to"))),
        "{messages:#?}"
    );
    assert!(
        messages.iter().any(|m| m
            .ends_with("(used as job container via azure-pipelines.yml → templates/build.yml)")),
        "{messages:#?}"
    );

    // --fix writes the new digests where the images are written, and converges.
    let summary = dir.path().join("summary.md");
    let fixed = run(
        dir.path(),
        &[
            "--fix",
            "--insecure-registry",
            addr,
            "--summary",
            summary.to_str().expect("utf-8"),
            ".",
        ],
    );
    assert_eq!(fixed.status.code(), Some(0), "{}", stderr(&fixed));
    let pipeline = read(dir.path(), "azure-pipelines.yml");
    assert!(
        pipeline.contains(&format!("buildImage: {addr}/team/build:1.0@{build_v2}\n")),
        "{pipeline}"
    );
    assert!(
        pipeline.contains(&format!("image: alpine@{base_v2}\n")),
        "{pipeline}"
    );
    let md = std::fs::read_to_string(&summary).expect("summary");
    assert!(
        md.contains("2 references in 1 file across 2 images: 0 pinned, 1 bumped, 1 re-pinned."),
        "{md}"
    );
    assert!(md.contains(&format!("### `{addr}/team/base`")), "{md}");
    let again = run(dir.path(), &["--fix", "--insecure-registry", addr, "."]);
    assert!(
        stderr(&again).contains("Fixed 0 references in 0 files"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn every_spelling_and_every_built_image_is_one_lookup() {
    // docker.io through a proxy on a closed loopback port: every lookup fails, and the
    // errors say which distinct lookups were made.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind")
        .port();
    let proxy = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "a.yml",
        "resources:\n  containers:\n  - container: a\n    image: alpine:3.20\n  - container: b\n    image: docker.io/library/alpine:3.20\njobs:\n- template: t.yml\n  parameters:\n    container:\n      image: '3.21'\n      registry: hub\n",
    );
    write(
        dir.path(),
        "b.yml",
        "jobs:\n- job: b\n  container: library/alpine:3.20\n  steps:\n  - script: make\n",
    );
    write(
        dir.path(),
        "t.yml",
        "parameters:\n  container: ''\njobs:\n- job: t\n  container: ${{ format('alpine:{0}', parameters.container.image) }}\n  steps:\n  - script: make\n",
    );
    let out = support::pin_lint()
        .args(["--fix", "--format", "json", "."])
        .env("HTTPS_PROXY", &proxy)
        .env("HTTP_PROXY", &proxy)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .current_dir(dir.path())
        .output()
        .expect("pin-lint runs");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let value = json(&out);
    let mut failed: Vec<&str> = value["fix"]["lookup_errors"]
        .as_array()
        .expect("lookup_errors")
        .iter()
        .filter_map(|e| e["reference"].as_str())
        .collect();
    failed.sort_unstable();
    assert_eq!(failed, ["alpine:3.20", "alpine:3.21"], "{value:#}");
    assert!(
        stderr(&out).contains("(2 lookups failed)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn what_fix_leaves_is_what_check_reports_next() {
    let dir = tempfile::tempdir().expect("tempdir");
    for case in ["alias", "format"] {
        let from = support::fixtures_dir().join("templates").join(case);
        copy_tree(&from, &dir.path().join(case));
    }
    let catalog = dir.path().join("catalog.tsv");
    let digest = format!("sha256:{}", "cd".repeat(32));
    std::fs::write(
        &catalog,
        format!(
            "mcr.microsoft.com/dotnet-buildtools/prereqs:azurelinux-3.0-net10.0-cross-amd64\t{digest}\n\
             mcr.microsoft.com/dotnet-buildtools/prereqs:alpine-3.21-amd64\t{digest}\n"
        ),
    )
    .expect("catalog");
    let catalog = catalog.to_str().expect("utf-8");
    let fixed = run(
        dir.path(),
        &[
            "--fix",
            "--offline",
            "--catalog",
            catalog,
            "--format",
            "json",
            "alias",
            "format",
        ],
    );
    let after_fix = json(&fixed);
    assert!(
        stderr(&fixed).contains("Fixed 1 reference in 1 file (1 pinned"),
        "{}",
        stderr(&fixed)
    );
    let next = run(
        dir.path(),
        &[
            "check",
            "--offline",
            "--catalog",
            catalog,
            "--format",
            "json",
            "alias",
            "format",
        ],
    );
    let next = json(&next);
    assert_eq!(after_fix["findings"], next["findings"]);
    // The template layer's findings are among them, explained as `check` explains them.
    let remaining = rows(&next);
    assert!(
        remaining.contains(&(
            "unknown-container-alias".to_string(),
            "alias/azure-pipelines.yml".to_string(),
            18
        )),
        "{remaining:?}"
    );
    let fragment = next["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["path"] == "format/eng/common/platform-matrix.yml" && f["line"] == 17)
        .expect("the alpine fragment");
    assert!(
        fragment["message"]
            .as_str()
            .unwrap_or_default()
            .contains("(tag now at sha256:cdcdcdcdcdcd)"),
        "{fragment:#}"
    );
    assert_eq!(fragment["fix"]["applicability"], "unsafe");
}

#[test]
fn suppressions_of_template_findings_count_as_used() {
    let dir = tempfile::tempdir().expect("tempdir");
    let digest = format!("sha256:{}", "ab".repeat(32));
    write(
        dir.path(),
        "azure-pipelines.yml",
        &format!(
            "jobs:\n\
             - job: a\n  # pin-lint: ignore[unknown-container-alias]\n  container: nope\n\
             - job: b\n  # pin-lint: ignore[template-expression]\n  displayName: $ {{{{ parameters.name }}}}\n\
             - job: c\n  # pin-lint: ignore[unpinned-image]\n  container: alpine:3.20@{digest}\n\
             - template: t.yml\n  parameters:\n    container:\n      # pin-lint: ignore[stale-digest]\n      image: '3.21@{digest}'\n      registry: hub\n"
        ),
    );
    write(
        dir.path(),
        "t.yml",
        "parameters:\n  container: ''\njobs:\n- job: t\n  container: ${{ format('alpine:{0}', parameters.container.image) }}\n  steps:\n  - script: make\n",
    );
    let catalog = dir.path().join("catalog.tsv");
    std::fs::write(
        &catalog,
        format!("alpine:3.21\tsha256:{}\n", "cd".repeat(32)),
    )
    .expect("catalog");
    let out = run(
        dir.path(),
        &[
            "check",
            "--report-unused-ignores",
            "--catalog",
            catalog.to_str().expect("utf-8"),
            "--format",
            "json",
            "azure-pipelines.yml",
            "t.yml",
        ],
    );
    let value = json(&out);
    let unused: Vec<(u64, &str)> = value["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "unused-suppression")
        .map(|f| {
            (
                f["line"].as_u64().unwrap_or_default(),
                f["message"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    // Only the comment over an already pinned reference silences nothing; the layer's
    // alias, expression and fragment findings were silenced by theirs.
    assert_eq!(
        unused,
        [(
            9,
            "unused suppression: `unpinned-image` silences nothing here"
        )],
        "{value:#}"
    );
    let silenced: Vec<(String, String, u64)> = rows(&value)
        .into_iter()
        .filter(|(rule, _, _)| rule != "unused-suppression" && rule != "dynamic-image")
        .collect();
    assert_eq!(silenced, [], "{value:#}");
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
