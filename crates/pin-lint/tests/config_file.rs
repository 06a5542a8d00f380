//! `pin-lint.toml`: every key, discovery from a nested folder, policies, flags over the file,
//! errors with file, line and suggestion, and the shared load function (the language server
//! calls `pin_core::config::load_for` too) giving the settings the CLI uses.

mod support;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use pin_core::config::{self, Config, ConfigError};
use pin_core::vm_images::Provider;
use support::run_in;

fn fixture() -> PathBuf {
    support::fixtures_dir()
        .join("gate/config")
        .canonicalize()
        .expect("fixture exists")
}

/// `(rule, severity, path, line)` of every finding of a JSON run.
fn findings(output: &Output) -> BTreeSet<(String, String, String, u64)> {
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().expect("rule").to_string(),
                f["severity"].as_str().expect("severity").to_string(),
                f["path"].as_str().expect("path").to_string(),
                f["line"].as_u64().expect("line"),
            )
        })
        .collect()
}

fn row(rule: &str, severity: &str, path: &str, line: u64) -> (String, String, String, u64) {
    (rule.into(), severity.into(), path.into(), line)
}

#[test]
fn every_key_takes_effect() {
    let output = run_in(&fixture(), &["--format", "json", "."]);
    assert_eq!(output.status.code(), Some(1));
    let expected: BTreeSet<_> = [
        // [[policy]] mcr.microsoft.com/dotnet-buildtools/** → warning
        row("unpinned-image", "warning", "pipelines/ci.yml", 4),
        // other mcr images keep the default severity
        row("unpinned-image", "error", "pipelines/ci.yml", 6),
        // localhost/** allow-tags: line 8 is not reported
        // allowed-registries: ghcr.io is not in the list, *.azurecr.io is
        row("disallowed-registry", "error", "pipelines/ci.yml", 10),
        // [rules] digest-only-image = "error"
        row("digest-only-image", "error", "pipelines/ci.yml", 14),
        // report-unused-ignores (the line below is dynamic, and dynamic-image is ignored)
        row("unused-suppression", "warning", "pipelines/ci.yml", 20),
        // include/exclude: pipelines/vendor and other/ are not checked
        row(
            "unpinned-image",
            "warning",
            "pipelines/deep/nested/ci.yml",
            3,
        ),
    ]
    .into_iter()
    .collect();
    // floating-vm-image = "off" (vmImage: ubuntu-latest on line 18); ignore = ["dynamic-image"]
    assert_eq!(findings(&output), expected);

    let config = config::load(&fixture().join("pin-lint.toml")).expect("valid");
    let root = fixture();
    assert_eq!(config.include, ["pipelines/**"]);
    assert_eq!(config.exclude, ["pipelines/vendor"]);
    assert_eq!(config.registry.catalogs, [root.join("catalog.tsv")]);
    assert_eq!(config.registry.insecure_registries, ["127.0.0.1:5000"]);
    assert_eq!(config.registry.online, Some(false));
    assert_eq!(
        config.registry.mirrors.get("docker.io").map(String::as_str),
        Some("mirror.example.com")
    );
    assert_eq!(
        config.registry.cache.dir,
        Some(root.join(".cache/pin-lint"))
    );
    assert_eq!(
        config.registry.cache.ttl,
        Some(Duration::from_secs(24 * 3600))
    );
    let settings = config.settings();
    assert!(settings.pin_untagged_as_latest);
    assert!(settings.report_unused_ignores);
    assert_eq!(settings.allowed_registries.len(), 4);
    assert_eq!(settings.policies.len(), 2);
    assert!(settings
        .vm
        .known_pool_images
        .as_ref()
        .is_some_and(|k| k.contains("1es-ubuntu-2204")));
    let retired = settings.vm.retirement("build-image-2019").expect("retired");
    assert_eq!(retired.replacement.as_deref(), Some("build-image-2022"));
    assert!(settings.vm.retirement("ubuntu-20.04").is_none());
    assert_eq!(
        settings
            .vm
            .floating_target(Provider::AzurePipelines, "ubuntu-latest"),
        Some("ubuntu-24.04")
    );
    assert_eq!(
        settings
            .vm
            .floating_target(Provider::GithubActions, "windows-latest"),
        Some("windows-2025")
    );
}

#[test]
fn discovered_from_a_nested_folder() {
    let nested = fixture().join("pipelines/deep/nested");
    let output = run_in(&nested, &["--format", "json"]);
    assert_eq!(
        findings(&output),
        [row("unpinned-image", "warning", "ci.yml", 3)]
            .into_iter()
            .collect(),
        "the policy of ../../../pin-lint.toml applies"
    );
    let file = run_in(
        &fixture(),
        &["--format", "json", "pipelines/deep/nested/ci.yml"],
    );
    assert_eq!(
        findings(&file),
        [row(
            "unpinned-image",
            "warning",
            "pipelines/deep/nested/ci.yml",
            3
        )]
        .into_iter()
        .collect()
    );
}

#[test]
fn a_policy_downgrades_one_registry_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join(".git")).expect("repository root");
    std::fs::write(
        dir.path().join("pin-lint.toml"),
        "[[policy]]\nmatch = \"mcr.microsoft.com/**\"\nseverity = \"warning\"\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("ci.yml"),
        "jobs:\n- job: a\n  container: mcr.microsoft.com/a/b:1\n- job: b\n  container: ghcr.io/a/b:1\n",
    )
    .expect("write");
    let output = run_in(dir.path(), &["--format", "json"]);
    assert_eq!(
        findings(&output),
        [
            row("unpinned-image", "warning", "ci.yml", 3),
            row("unpinned-image", "error", "ci.yml", 5),
        ]
        .into_iter()
        .collect()
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "ghcr.io still fails the gate"
    );
}

#[test]
fn a_typo_is_rejected_with_file_line_and_suggestion() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join(".git")).expect("repository root");
    std::fs::write(
        dir.path().join("pin-lint.toml"),
        "# config\nonline = false\ninlcude = [\"eng/**\"]\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("ci.yml"), "jobs: []\n").expect("write");
    let output = run_in(dir.path(), &["."]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("pin-lint.toml:3:1: unknown key `inlcude`, did you mean `include`?"),
        "{stderr}"
    );
    assert!(
        output.stdout.is_empty(),
        "nothing is checked with a bad config"
    );

    let bad_value = dir.path().join("bad.toml");
    std::fs::write(&bad_value, "[rules]\nunpinned-image = \"warn\"\n").expect("write");
    let output = run_in(dir.path(), &["--config", "bad.toml", "."]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.toml:2:18: invalid severity `warn`, did you mean `warning`?"),
        "{stderr}"
    );
    match config::load(&bad_value) {
        Err(ConfigError::Invalid { line, column, .. }) => assert_eq!((line, column), (2, 18)),
        other => panic!("expected a positioned error, got {other:?}"),
    }
}

#[test]
fn the_shared_load_function_gives_the_settings_the_cli_uses() {
    for dir in [fixture(), fixture().join("pipelines/deep/nested")] {
        // Today's date comes from the clock, or PIN_LINT_TODAY.
        let output = support::pin_lint()
            .args(["--show-settings"])
            .env("PIN_LINT_TODAY", "2026-01-02")
            .current_dir(&dir)
            .output()
            .expect("pin-lint runs");
        assert!(output.status.success());
        let printed = String::from_utf8(output.stdout).expect("UTF-8");
        let loaded: Config = config::load_for(&dir).expect("valid");
        let mut settings = loaded.settings();
        settings.today = pin_core::settings::Date::parse("2026-01-02");
        assert_eq!(
            printed,
            format!("# configuration: {loaded}\n{settings:#?}\n"),
            "for {}",
            dir.display()
        );
        assert_eq!(loaded.path, Some(fixture().join("pin-lint.toml")));
    }
}

#[test]
fn flags_win_over_the_file_and_an_explicit_config_replaces_discovery() {
    let output = run_in(
        &fixture(),
        &["--format", "json", "--select", "dynamic-image", "."],
    );
    assert_eq!(
        findings(&output),
        [row("dynamic-image", "warning", "pipelines/ci.yml", 21)]
            .into_iter()
            .collect(),
        "--select replaces the file's `ignore`"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let explicit = dir.path().join("strict.toml");
    std::fs::write(&explicit, "[rules]\nunpinned-image = \"off\"\n").expect("write");
    let output = run_in(
        &fixture().join("pipelines/deep/nested"),
        &[
            "--format",
            "json",
            "--config",
            explicit.to_str().expect("UTF-8 path"),
        ],
    );
    assert!(
        findings(&output).is_empty(),
        "the explicit file applies, not the discovered one"
    );
    assert_eq!(output.status.code(), Some(0));
}

/// `[files]`: files whose names the built-in detection does not know are found by the walk
/// and read as the configured type, by `refs`, `check` and `--fix` (which reads the fixed
/// text as the same type); a file that the patterns leave alone is read as before.
#[test]
fn files_table_gives_more_names_their_types() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::create_dir_all(root.join(".git")).expect("mkdir");
    std::fs::create_dir_all(root.join("deploy")).expect("mkdir");
    std::fs::create_dir_all(root.join("manifests/web")).expect("mkdir");
    let files = [
        (
            "pin-lint.toml",
            "[files]\ncompose = [\"deploy/*.svc.yml\"]\ndevcontainer = [\"*.dock.json\"]\n\
             kubernetes = [\"manifests/**\"]\ndockerfile = [\"*.docker\"]\n",
        ),
        ("deploy/web.svc.yml", "services:\n  web:\n    image: nginx:1.27\n"),
        (
            "tools.dock.json",
            "{\n  // the tools\n  \"image\": \"mcr.microsoft.com/devcontainers/base:1\",\n}\n",
        ),
        (
            "manifests/web/pod.txt",
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: a\n      image: busybox:1.36\n",
        ),
        ("build.docker", "FROM alpine:3.20 AS base\nRUN true\n"),
        // Not matched: read as before (a pipeline's container, a plain JSON file skipped).
        ("ci.yml", "resources:\n  containers:\n    - container: b\n      image: ubuntu:24.04\n"),
        ("other.json", "{\"image\": \"ubuntu:22.04\"}\n"),
    ];
    for (path, text) in files {
        std::fs::write(root.join(path), text).expect("write");
    }
    let refs = |root: &std::path::Path| -> BTreeSet<(String, u64, String, String)> {
        let out = run_in(root, &["refs", "--format", "json", "."]);
        assert_eq!(out.status.code(), Some(0), "{}", support::stderr(&out));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        json["references"]
            .as_array()
            .expect("references")
            .iter()
            .map(|r| {
                (
                    r["path"].as_str().expect("path").to_string(),
                    r["line"].as_u64().expect("line"),
                    r["site"].as_str().expect("site").to_string(),
                    r["state"].as_str().expect("state").to_string(),
                )
            })
            .collect()
    };
    let s = |p: &str, line: u64, site: &str, state: &str| {
        (p.to_string(), line, site.to_string(), state.to_string())
    };
    let expected: BTreeSet<_> = [
        s("build.docker", 1, "dockerfile-from", "unpinned"),
        s("ci.yml", 4, "resource", "unpinned"),
        s("deploy/web.svc.yml", 3, "compose-image", "unpinned"),
        s("manifests/web/pod.txt", 6, "k8s-container", "unpinned"),
        s("tools.dock.json", 3, "devcontainer-image", "unpinned"),
    ]
    .into();
    assert_eq!(refs(root), expected);

    // `check` judges them; `--fix` with a catalog pins each in its own syntax.
    let out = run_in(root, &["check", "--format", "json", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", support::stderr(&out));
    let unpinned: BTreeSet<String> = findings(&out)
        .into_iter()
        .filter(|f| f.0 == "unpinned-image")
        .map(|f| f.2)
        .collect();
    assert_eq!(unpinned.len(), 5, "{unpinned:?}");
    let digest = format!("sha256:{}", "ab".repeat(32));
    let catalog: String = [
        "docker.io/library/alpine:3.20",
        "docker.io/library/ubuntu:24.04",
        "docker.io/library/nginx:1.27",
        "docker.io/library/busybox:1.36",
        "mcr.microsoft.com/devcontainers/base:1",
    ]
    .iter()
    .map(|k| format!("{k}\t{digest}\n"))
    .collect();
    std::fs::write(root.join("catalog.tsv"), catalog).expect("write");
    let fix = [
        "check",
        "--fix",
        "--offline",
        "--catalog",
        "catalog.tsv",
        ".",
    ];
    let out = run_in(root, &fix);
    assert_eq!(out.status.code(), Some(0), "{}", support::stderr(&out));
    let read = |p: &str| std::fs::read_to_string(root.join(p)).expect("read");
    assert_eq!(
        read("build.docker"),
        format!("FROM alpine:3.20@{digest} AS base\nRUN true\n")
    );
    assert!(read("tools.dock.json").contains(&format!("base:1@{digest}\",\n}}")));
    assert!(read("deploy/web.svc.yml").ends_with(&format!("nginx:1.27@{digest}\n")));
    assert!(read("manifests/web/pod.txt").ends_with(&format!("busybox:1.36@{digest}\n")));
    assert_eq!(read("other.json"), "{\"image\": \"ubuntu:22.04\"}\n");
    assert!(refs(root).iter().all(|r| r.3 == "pinned"));

    // A wrong key or glob is a configuration error naming the place (exit 2).
    std::fs::write(
        root.join("pin-lint.toml"),
        "[files]\ncompse = [\"x.yml\"]\n",
    )
    .expect("write");
    for args in [&["refs", "."][..], &["check", "."][..]] {
        let out = run_in(root, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = support::stderr(&out);
        assert!(
            err.contains(
                "pin-lint.toml:2:1: unknown key `compse` in `[files]`, did you mean `compose`?"
            ),
            "{err}"
        );
    }
    std::fs::write(
        root.join("pin-lint.toml"),
        "[files]\ncompose = [\"a/[b\"]\n",
    )
    .expect("write");
    let err = support::stderr(&run_in(root, &["check", "."]));
    assert!(err.contains("invalid glob `a/[b`"), "{err}");
}
