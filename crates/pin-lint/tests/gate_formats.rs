//! CI-gate outputs through the real binary: GitHub workflow commands, Azure Pipelines logging
//! commands and SARIF (snapshots), the format picked from the CI environment, `--exit-zero`
//! and `--changed-since`.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use support::pin_lint;
use support::run_in;

fn fixture() -> std::path::PathBuf {
    support::fixtures_dir().join("gate/formats")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

#[test]
fn github_workflow_commands() {
    let output = run_in(
        &fixture(),
        &["--format", "github", "--report-unused-ignores"],
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "error findings fail the gate"
    );
    insta::assert_snapshot!(stdout(&output));
}

#[test]
fn azure_logging_commands() {
    let output = run_in(
        &fixture(),
        &["--format", "azure", "--report-unused-ignores"],
    );
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(
        text.ends_with(
            "##vso[task.complete result=Failed;]pin-lint found error-severity findings\n"
        ),
        "{text}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn sarif_log() {
    let output = run_in(
        &fixture(),
        &["--format", "sarif", "--report-unused-ignores"],
    );
    assert_eq!(output.status.code(), Some(1));
    let mut log: serde_json::Value = serde_json::from_slice(&output.stdout).expect("SARIF is JSON");
    let driver = &mut log["runs"][0]["tool"]["driver"];
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    driver["version"] = "[version]".into();
    driver["semanticVersion"] = "[version]".into();
    // Rule documentation has its own test (docs/rules.md); keep what SARIF consumers key on.
    let rules = driver["rules"].as_array_mut().expect("rules");
    assert_eq!(
        rules.len(),
        pin_core::Rule::all().count(),
        "every rule is listed"
    );
    for rule in rules.iter_mut() {
        let doc = rule["help"]["markdown"].as_str().expect("help").to_string();
        assert!(doc.contains("## What it flags"), "{doc}");
        assert!(!rule["fullDescription"]["text"]
            .as_str()
            .unwrap_or_default()
            .is_empty());
        *rule = serde_json::json!({
            "id": rule["id"],
            "name": rule["name"],
            "helpUri": rule["helpUri"],
            "defaultConfiguration": rule["defaultConfiguration"],
        });
    }
    insta::assert_json_snapshot!(log);
}

#[test]
fn the_ci_system_picks_the_format_when_none_is_given() {
    let github = pin_lint()
        .arg(".")
        .env("GITHUB_ACTIONS", "true")
        .current_dir(fixture())
        .output()
        .expect("runs");
    let text = stdout(&github);
    assert!(text.starts_with("::error file="), "{text}");
    assert_eq!(github.status.code(), Some(1));

    let azure = pin_lint()
        .arg(".")
        .env("TF_BUILD", "True")
        .current_dir(fixture())
        .output()
        .expect("runs");
    let text = stdout(&azure);
    assert!(
        text.starts_with("##vso[task.logissue type=error;"),
        "{text}"
    );
    assert!(
        text.contains("##vso[task.complete result=Failed;]"),
        "{text}"
    );

    let explicit = pin_lint()
        .args([".", "--format", "json"])
        .env("GITHUB_ACTIONS", "true")
        .current_dir(fixture())
        .output()
        .expect("runs");
    let json: serde_json::Value = serde_json::from_slice(&explicit.stdout).expect("a flag wins");
    assert_eq!(json["version"], 1);

    let local = run_in(&fixture(), &["."]);
    let text = stdout(&local);
    assert!(
        !text.contains("::error")
            && !text.contains("##vso")
            && text.contains("error[unpinned-image]"),
        "human output outside CI: {text}"
    );
}

#[test]
fn exit_zero_reports_but_passes_the_gate() {
    let output = run_in(&fixture(), &["--format", "azure", "--exit-zero"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(
        text.contains("type=error;"),
        "findings still reported: {text}"
    );
    assert!(
        !text.contains("task.complete"),
        "the task is not failed: {text}"
    );
    let missing = run_in(&fixture(), &["--exit-zero", "no/such/path"]);
    assert_eq!(missing.status.code(), Some(2), "I/O errors still exit 2");
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .current_dir(dir)
        .status()
        .expect("git is installed (apt-get install git)");
    assert!(status.success(), "git {args:?}");
}

#[test]
fn changed_since_checks_only_changed_and_untracked_files() {
    let repo = tempfile::tempdir().expect("tempdir");
    let dir = repo.path();
    let pipeline = |image: &str| {
        format!("jobs:\n- job: a\n  container: {image}\n  steps:\n  - script: echo\n")
    };
    std::fs::create_dir_all(dir.join("p")).expect("mkdir");
    std::fs::write(dir.join("p/old.yml"), pipeline("ubuntu:20.04")).expect("write");
    std::fs::write(dir.join("p/edited.yml"), pipeline("ubuntu:22.04")).expect("write");
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "base"]);
    git(dir, &["checkout", "-q", "-b", "topic"]);
    std::fs::write(dir.join("p/edited.yml"), pipeline("ubuntu:24.04")).expect("write");
    git(dir, &["commit", "-q", "-am", "edit"]);
    std::fs::write(dir.join("p/new.yml"), pipeline("alpine:3.20")).expect("write");

    let output = run_in(dir, &["--format", "json", "--changed-since", "main", "."]);
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let mut paths: Vec<&str> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["path"].as_str().expect("path"))
        .collect();
    paths.sort_unstable();
    assert_eq!(paths, ["p/edited.yml", "p/new.yml"]);

    let bad = run_in(dir, &["--changed-since", "no-such-rev", "."]);
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("no-such-rev"), "{stderr}");

    std::fs::write(dir.join("pin-lint.toml"), "online = false\n").expect("write");
    let all = run_in(dir, &["--format", "json", "--changed-since", "main", "."]);
    let json: serde_json::Value = serde_json::from_slice(&all.stdout).expect("JSON");
    assert_eq!(
        json["findings"].as_array().map(Vec::len),
        Some(3),
        "a changed pin-lint.toml re-checks every file"
    );
}
