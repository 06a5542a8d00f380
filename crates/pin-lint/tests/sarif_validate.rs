//! The SARIF output passes Microsoft's SARIF validator (`@microsoft/sarif-multitool validate`,
//! the official SARIF 2.1.0 schema plus the SDK's rules and GitHub's ingestion rules) with no
//! error and no warning, for the shared corpus and for the gate fixture (which has fixes).
//!
//! The multitool's own schema pass does not check enums or `additionalProperties`, so the log
//! is also validated against the official schema it ships (`sarif-2.1.0.json`) with Ajv in
//! strict JSON Schema 2020-12 mode.
//!
//! Needs `npm ci --prefix tests/sarif` (Node and npm); the tests fail with that instruction
//! when the validators are missing. Fingerprint stability is checked here too.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

fn sarif_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/sarif")
}

fn pin_lint_sarif(dir: &Path, extra: &[&str]) -> Vec<u8> {
    let output = support::pin_lint()
        .args(["check", "--format", "sarif"])
        .args(extra)
        .current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("TF_BUILD")
        .output()
        .expect("pin-lint runs");
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "pin-lint failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Run the validator on `log`; returns its findings as `(level, rule, message)`.
fn validate(name: &str, log: &[u8]) -> Vec<(String, String, String)> {
    let dir = sarif_dir();
    assert!(
        dir.join("node_modules/@microsoft/sarif-multitool").is_dir(),
        "the SARIF validator is not installed: run `npm ci --prefix tests/sarif` \
         (needs Node.js and npm; scripts/test-deps does this)"
    );
    let work = tempfile::tempdir().expect("tempdir");
    let input = work.path().join(format!("{name}.sarif"));
    let report = work.path().join("validation.sarif");
    std::fs::write(&input, log).expect("write log");
    // bin.js passes the arguments through a shell: quote the `;` lists.
    let output = Command::new("npx")
        .args(["--no-install", "sarif-multitool", "validate"])
        .args(["--rule-kind", "\"Sarif;Gh\""])
        .args(["--level", "\"Error;Warning\""])
        .arg("--output")
        .arg(&report)
        .arg(&input)
        .current_dir(&dir)
        .output()
        .expect("npx runs (install Node.js and npm)");
    let console = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && report.is_file(),
        "the validator did not run: {console}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).expect("validation report"))
            .expect("the validation report is JSON");
    report["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["level"].as_str().unwrap_or("warning").to_string(),
                r["ruleId"].as_str().unwrap_or_default().to_string(),
                format!("{}", r["message"]),
            )
        })
        .collect()
}

/// Validate `log` against the official SARIF 2.1.0 schema; `Err` carries Ajv's errors.
fn schema_validate(log: &[u8]) -> Result<(), String> {
    let dir = sarif_dir();
    let schema = dir.join("node_modules/@microsoft/sarif-multitool-linux/sarif-2.1.0.json");
    assert!(
        schema.is_file() && dir.join("node_modules/ajv-cli").is_dir(),
        "the SARIF schema or Ajv is not installed: run `npm ci --prefix tests/sarif` \
         (needs Node.js and npm; scripts/test-deps does this)"
    );
    let work = tempfile::tempdir().expect("tempdir");
    let data = work.path().join("log.json");
    std::fs::write(&data, log).expect("write log");
    let output = Command::new("npx")
        .args([
            "--no-install",
            "ajv",
            "validate",
            "--spec=draft2020",
            "-c",
            "ajv-formats",
        ])
        .args(["--strict=false", "--all-errors", "--errors=text", "-s"])
        .arg(&schema)
        .arg("-d")
        .arg(&data)
        .current_dir(&dir)
        .output()
        .expect("npx runs (install Node.js and npm)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.status.success() && text.contains(" valid") {
        Ok(())
    } else {
        Err(text)
    }
}

#[test]
fn the_validators_reject_a_broken_log() {
    let dir = support::fixtures_dir().join("gate/formats");
    let log = pin_lint_sarif(&dir, &[]);
    let text = String::from_utf8(log).expect("UTF-8");
    let bad_level = text.replacen("\"level\": \"error\"", "\"level\": \"fatal\"", 1);
    let err = schema_validate(bad_level.as_bytes()).expect_err("an unknown level is invalid");
    assert!(err.contains("allowed values"), "{err}");
    let mut bad_line: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    bad_line["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        0.into();
    let bad_line = serde_json::to_vec(&bad_line).expect("serialises");
    let problems = validate("broken", &bad_line);
    assert!(
        problems.iter().any(|(level, _, _)| level == "error"),
        "the multitool reports line 0: {problems:?}"
    );
}

#[test]
fn corpus_sarif_passes_the_validator() {
    let corpus = support::shared_dir().join("corpus");
    let log = pin_lint_sarif(&corpus, &[]);
    let parsed: serde_json::Value = serde_json::from_slice(&log).expect("JSON");
    let results = parsed["runs"][0]["results"]
        .as_array()
        .expect("results")
        .len();
    assert!(results > 100, "the corpus has many findings, got {results}");
    let problems = validate("corpus", &log);
    assert!(problems.is_empty(), "validator findings: {problems:#?}");
    schema_validate(&log).unwrap_or_else(|e| panic!("schema: {e}"));
}

#[test]
fn fixture_sarif_with_fixes_passes_the_validator() {
    let dir = support::fixtures_dir().join("gate/formats");
    let log = pin_lint_sarif(&dir, &["--report-unused-ignores"]);
    let parsed: serde_json::Value = serde_json::from_slice(&log).expect("JSON");
    let with_fixes = parsed["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r.get("fixes").is_some())
        .count();
    assert!(with_fixes > 0, "the fixture has a finding with a fix");
    let problems = validate("fixture", &log);
    assert!(problems.is_empty(), "validator findings: {problems:#?}");
    schema_validate(&log).unwrap_or_else(|e| panic!("schema: {e}"));
}

fn fingerprints(log: &[u8]) -> Vec<(String, String)> {
    let parsed: serde_json::Value = serde_json::from_slice(log).expect("JSON");
    parsed["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().expect("ruleId").to_string(),
                r["partialFingerprints"]["pinLint/v1"]
                    .as_str()
                    .expect("fingerprint")
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn fingerprints_survive_moved_lines_and_tell_repeats_apart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("ci.yml");
    let body = "jobs:\n- job: a\n  container: ubuntu:22.04\n- job: b\n  container: ubuntu:22.04\n";
    std::fs::write(&file, body).expect("write");
    let before = fingerprints(&pin_lint_sarif(dir.path(), &["ci.yml"]));
    std::fs::write(&file, format!("# a comment\n\n{body}")).expect("write");
    let after = fingerprints(&pin_lint_sarif(dir.path(), &["ci.yml"]));
    assert_eq!(before.len(), 2);
    assert_eq!(before, after, "fingerprints do not depend on line numbers");
    assert_ne!(
        before[0].1, before[1].1,
        "two equal references differ by occurrence"
    );
}
