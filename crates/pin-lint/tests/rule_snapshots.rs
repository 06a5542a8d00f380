//! The human and JSON output of every rule, as snapshots, on the fixtures in
//! tests/fixtures/rules/<rule-id>/: each is checked with `--select <rule-id>` (plus the
//! arguments in its `args` file, such as `--catalog catalog.tsv`; an `args` that selects rules
//! itself replaces the default selection), and any `pin-lint.toml` there applies.
//!
//! Human output is taken from a pipe with `NO_COLOR` set, so it has no terminal colours.
//! `missing-digest` needs a registry (a catalog can confirm a digest, never deny one): its
//! fixture is checked against a real registry on loopback, with the address and digests
//! written into the file and replaced by fixed text in the snapshots.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use pin_test_support::{push_image, raw_status, ImageSpec, Registry};

fn rules_dir() -> PathBuf {
    support::fixtures_dir().join("rules")
}

/// `pin-lint` with a plain environment: no colours, no CI format detection.
fn pin_lint(dir: &Path) -> Command {
    let mut cmd = support::pin_lint();
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("TF_BUILD");
    cmd
}

/// Every rule id, from `pin-lint rules`.
fn rule_ids() -> Vec<String> {
    let out = support::pin_lint()
        .arg("rules")
        .output()
        .expect("pin-lint runs");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// The arguments of a rule's run: `--select <rule>` unless its `args` file selects.
fn args_for(rule: &str, dir: &Path) -> Vec<String> {
    let extra: Vec<String> = std::fs::read_to_string(dir.join("args"))
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let mut args = vec!["check".to_string()];
    if !extra.iter().any(|a| a == "--select") {
        args.extend(["--select".to_string(), rule.to_string()]);
    }
    args.extend(extra);
    args
}

/// Run and return (exit code, stdout); stderr must be empty (no errors, no notes).
fn run(dir: &Path, args: &[String]) -> (i32, String) {
    let out = pin_lint(dir).args(args).output().expect("pin-lint runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.is_empty(),
        "pin-lint {args:?} wrote to stderr: {stderr}"
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("UTF-8 output"),
    )
}

/// Check the findings of the JSON output: at least one of `rule`, each of a selected rule.
fn assert_findings(rule: &str, json: &str, selected: &[String]) {
    let value: serde_json::Value = serde_json::from_str(json).expect("JSON output");
    let findings = value["findings"].as_array().expect("findings");
    assert!(
        findings.iter().any(|f| f["rule"] == rule),
        "the fixture of {rule} gives no {rule} finding: {json}"
    );
    for f in findings {
        let id = f["rule"].as_str().unwrap_or_default();
        assert!(
            selected.iter().any(|s| s == id),
            "{rule}: unexpected {id} finding: {f}"
        );
    }
}

fn selection(rule: &str, args: &[String]) -> Vec<String> {
    match args.iter().position(|a| a == "--select") {
        Some(i) => args[i + 1].split(',').map(str::to_string).collect(),
        None => vec![rule.to_string()],
    }
}

/// Human and JSON snapshots of the run in `dir`, and the exit code the severities give.
fn snapshot(rule: &str, dir: &Path, redact: impl Fn(String) -> String) {
    let args = args_for(rule, dir);
    let mut json_args = args.clone();
    json_args.extend(["--format".to_string(), "json".to_string()]);
    let (json_code, json) = run(dir, &json_args);
    let (human_code, human) = run(dir, &args);
    assert_findings(rule, &json, &selection(rule, &args));
    assert_eq!(json_code, human_code, "{rule}: both formats exit alike");
    let errors = json.contains("\"severity\": \"error\"");
    assert_eq!(
        json_code,
        i32::from(errors),
        "{rule}: exit 1 exactly when an error is reported"
    );
    assert!(!human.contains('\u{1b}'), "{rule}: colours in piped output");
    insta::assert_snapshot!(format!("{rule}-human"), redact(human));
    insta::assert_snapshot!(format!("{rule}-json"), redact(json));
}

#[test]
fn every_rule_has_a_fixture() {
    let ids = rule_ids();
    assert!(ids.len() >= 16, "{ids:?}");
    let mut dirs: Vec<String> = std::fs::read_dir(rules_dir())
        .expect("tests/fixtures/rules")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(dirs, sorted, "one fixture folder per rule, named by its id");
}

#[test]
fn rules_without_a_registry() {
    for rule in rule_ids()
        .iter()
        .filter(|r| *r != "missing-digest" && *r != "missing-tag")
    {
        snapshot(rule, &rules_dir().join(rule), |s| s);
    }
}

#[test]
fn missing_digest_against_a_registry() {
    let reg = Registry::start();
    let addr = reg.addr.as_str();
    let old = push_image(
        addr,
        "team/tool",
        "3",
        &[ImageSpec::new("amd64", "tool old")],
    );
    let new = push_image(
        addr,
        "team/tool",
        "3",
        &[ImageSpec::new("amd64", "tool new")],
    );
    assert_eq!(
        raw_status(addr, "DELETE", &format!("/v2/team/tool/manifests/{old}")),
        Some(202)
    );
    let fixture = std::fs::read_to_string(rules_dir().join("missing-digest/azure-pipelines.yml"))
        .expect("fixture");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("azure-pipelines.yml"),
        fixture
            .replace("REGISTRY", addr)
            .replace("OLD_DIGEST", &old),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("args"),
        format!("--online --insecure-registry {addr}"),
    )
    .expect("args");
    // Same-length stand-ins keep the human output's underlines in place.
    let port = addr.rsplit(':').next().expect("a port").to_string();
    let (old_hex, new_hex) = (
        old.trim_start_matches("sha256:").to_string(),
        new.trim_start_matches("sha256:").to_string(),
    );
    snapshot("missing-digest", dir.path(), move |s| {
        s.replace(&old_hex, &"0".repeat(old_hex.len()))
            .replace(&new_hex, &"1".repeat(new_hex.len()))
            .replace(&old_hex[..12], &"0".repeat(12))
            .replace(&new_hex[..12], &"1".repeat(12))
            .replace(
                &format!("127.0.0.1:{port}"),
                &format!("127.0.0.1:{}", "P".repeat(port.len())),
            )
    });
}

#[test]
fn missing_tag_against_a_registry() {
    let reg = Registry::start();
    let addr = reg.addr.as_str();
    let fixture = std::fs::read_to_string(rules_dir().join("missing-tag/azure-pipelines.yml"))
        .expect("fixture");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("azure-pipelines.yml"),
        fixture.replace("REGISTRY", addr),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("args"),
        format!("--online --insecure-registry {addr} --select unpinned-image,missing-tag"),
    )
    .expect("args");
    let port = addr.rsplit(':').next().expect("a port").to_string();
    snapshot("missing-tag", dir.path(), move |s| {
        s.replace(
            &format!("127.0.0.1:{port}"),
            &format!("127.0.0.1:{}", "P".repeat(port.len())),
        )
    });
}
