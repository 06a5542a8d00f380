//! `# pin-lint: ignore[…]` / `ignore-file` through the real binary: every output format
//! honours them identically, and `--report-unused-ignores` reports the ones that silence
//! nothing, with fixes that remove them.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use pin_core::{fix, Edit, LineCol, SourceFile};
use support::run_in;

type Row = (String, u64);

fn fixture() -> PathBuf {
    support::fixtures_dir().join("gate/suppress")
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn json_rows(dir: &Path, extra: &[&str]) -> BTreeSet<(String, String, u64)> {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    json(&run_in(dir, &args))["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().expect("path").to_string(),
                f["rule"].as_str().expect("rule").to_string(),
                f["line"].as_u64().expect("line"),
            )
        })
        .collect()
}

fn pipeline_rows(rows: &BTreeSet<(String, String, u64)>) -> BTreeSet<Row> {
    rows.iter()
        .filter(|(p, _, _)| p == "pipeline.yml")
        .map(|(_, r, l)| (r.clone(), *l))
        .collect()
}

fn row(rule: &str, line: u64) -> Row {
    (rule.to_string(), line)
}

#[test]
fn suppressed_findings_are_absent_in_every_format() {
    let expected: BTreeSet<Row> = [row("unpinned-image", 9), row("unpinned-image", 21)]
        .into_iter()
        .collect();
    assert_eq!(pipeline_rows(&json_rows(&fixture(), &[])), expected, "json");

    let sarif = json(&run_in(&fixture(), &["--format", "sarif", "pipeline.yml"]));
    let from_sarif: BTreeSet<Row> = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().expect("ruleId").to_string(),
                r["locations"][0]["physicalLocation"]["region"]["startLine"]
                    .as_u64()
                    .expect("startLine"),
            )
        })
        .collect();
    assert_eq!(from_sarif, expected, "sarif");

    let github = run_in(&fixture(), &["--format", "github", "pipeline.yml"]);
    let from_github: BTreeSet<Row> = String::from_utf8_lossy(&github.stdout)
        .lines()
        .map(|l| {
            let line = l.split(",line=").nth(1).and_then(|r| r.split(',').next());
            let rule = l.split(",title=").nth(1).and_then(|r| r.split("::").next());
            (
                rule.expect("title").to_string(),
                line.expect("line").parse().expect("number"),
            )
        })
        .collect();
    assert_eq!(from_github, expected, "github");

    let azure = run_in(&fixture(), &["--format", "azure", "pipeline.yml"]);
    let from_azure: BTreeSet<Row> = String::from_utf8_lossy(&azure.stdout)
        .lines()
        .filter(|l| l.starts_with("##vso[task.logissue"))
        .map(|l| {
            let field = |name: &str| {
                l.split(&format!(";{name}="))
                    .nth(1)
                    .and_then(|r| r.split(';').next())
                    .expect("field")
                    .to_string()
            };
            (field("code"), field("linenumber").parse().expect("number"))
        })
        .collect();
    assert_eq!(from_azure, expected, "azure");
}

#[test]
fn ignore_file_silences_the_whole_file() {
    let rows = json_rows(&fixture(), &["ignored-file.yml"]);
    assert!(rows.is_empty(), "{rows:?}");
    let without = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(fixture().join("ignored-file.yml")).expect("read");
    std::fs::write(
        without.path().join("ci.yml"),
        text.replace("# pin-lint: ignore-file\n", ""),
    )
    .expect("write");
    assert_eq!(
        json_rows(without.path(), &["ci.yml"]).len(),
        1,
        "without the comment the finding is there"
    );
}

#[test]
fn unused_suppressions_are_reported_only_when_asked() {
    let plain = json_rows(&fixture(), &[]);
    assert!(plain.iter().all(|(_, r, _)| r != "unused-suppression"));

    let rows = json_rows(&fixture(), &["--report-unused-ignores"]);
    let unused: BTreeSet<(String, u64)> = rows
        .iter()
        .filter(|(_, r, _)| r == "unused-suppression")
        .map(|(p, _, l)| (p.clone(), *l))
        .collect();
    let expected: BTreeSet<(String, u64)> = [
        ("clean-ignored-file.yml", 1), // ignore-file in a file without findings
        ("pipeline.yml", 9),           // names another rule than the one that fires
        ("pipeline.yml", 13),          // partly used; names an unknown rule
        ("pipeline.yml", 15),          // the reference is pinned
        ("pipeline.yml", 19),          // two lines above its reference: covers nothing
    ]
    .into_iter()
    .map(|(p, l)| (p.to_string(), l))
    .collect();
    assert_eq!(
        unused, expected,
        "line 17 (`ignore[stale-digest]` in an offline run) cannot be judged and is not reported"
    );
    let output = run_in(
        &fixture(),
        &[
            "--format",
            "json",
            "--report-unused-ignores",
            "pipeline.yml",
        ],
    );
    let messages: Vec<String> = json(&output)["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["line"] == 13)
        .map(|f| f["message"].as_str().expect("message").to_string())
        .collect();
    assert_eq!(
        messages,
        ["unused suppression: `not-a-rule` is not a rule; `digest-only-image` silences nothing here"]
    );
}

/// Apply every fix of a JSON run to `text` (edits are given as line/column).
fn apply_fixes(text: &str, findings: &serde_json::Value) -> String {
    let source = SourceFile::new(text.to_string());
    let at = |line: &serde_json::Value, column: &serde_json::Value| {
        let position = LineCol {
            line: u32::try_from(line.as_u64().expect("line")).expect("small"),
            column: u32::try_from(column.as_u64().expect("column")).expect("small"),
        };
        source.offset(position).expect("inside the file")
    };
    let edits: Vec<Edit> = findings
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["fix"]["edits"].as_array())
        .flatten()
        .map(|e| {
            Edit::replace(
                at(&e["line"], &e["column"])..at(&e["end_line"], &e["end_column"]),
                e["new_text"].as_str().expect("new_text"),
            )
        })
        .collect();
    fix::apply(text, &edits).expect("fixes do not overlap")
}

#[test]
fn the_fixes_remove_exactly_the_unused_suppressions() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join(".git")).expect("repository root");
    let original = std::fs::read_to_string(fixture().join("pipeline.yml")).expect("read");
    std::fs::write(dir.path().join("pipeline.yml"), &original).expect("write");
    let output = run_in(
        dir.path(),
        &[
            "--format",
            "json",
            "--report-unused-ignores",
            "pipeline.yml",
        ],
    );
    let fixed = apply_fixes(&original, &json(&output)["findings"]);
    let expected = original
        .replace(
            "ubuntu:24.04 # pin-lint: ignore[digest-only-image]",
            "ubuntu:24.04",
        )
        .replace(
            "ignore[unpinned-image, digest-only-image, not-a-rule]",
            "ignore[unpinned-image]",
        )
        .replace(
            "aabbccddeeff # pin-lint: ignore[unpinned-image]\n",
            "aabbccddeeff\n",
        )
        .replace(
            "  # pin-lint: ignore[unpinned-image]\n  - container: too-far-above",
            "  - container: too-far-above",
        );
    assert_eq!(fixed, expected);

    std::fs::write(dir.path().join("pipeline.yml"), &fixed).expect("write");
    let after = json_rows(dir.path(), &["--report-unused-ignores", "pipeline.yml"]);
    assert_eq!(
        pipeline_rows(&after),
        [row("unpinned-image", 9), row("unpinned-image", 20)]
            .into_iter()
            .collect(),
        "after the fixes nothing is unused and the same problems remain"
    );
}
