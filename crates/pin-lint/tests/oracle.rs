//! `pin-lint refs --format json`, run from inside the shared corpus, reports exactly the rows
//! of the independent oracle `expected.tsv`: same file, line, column, kind, site, state, text.

mod support;

use std::collections::BTreeSet;

use support::Row;

fn expected() -> BTreeSet<Row> {
    support::oracle_rows("oracle/expected.tsv")
}

#[test]
fn refs_match_the_oracle_exactly() {
    let corpus = support::shared_dir().join("corpus");
    let output = support::pin_lint()
        .args(["refs", "--format", "json"])
        .current_dir(&corpus)
        .output()
        .expect("pin-lint runs");
    assert!(
        output.status.success(),
        "refs failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    assert_eq!(json["version"], 1);
    let got: BTreeSet<Row> = json["references"]
        .as_array()
        .expect("references array")
        .iter()
        .map(support::reference_row)
        .collect();
    let expected = expected();
    support::assert_rows_match(&expected, &got);
    assert_eq!(got.len(), 361, "the oracle has 361 rows");
}

#[test]
fn check_reports_one_unpinned_image_per_unpinned_reference_and_exits_1() {
    let corpus = support::shared_dir().join("corpus");
    let unpinned = expected()
        .iter()
        .filter(|r| r.3 == "container" && r.5 == "unpinned")
        .count();
    let output = support::pin_lint()
        .args(["check", "--format", "json", "--select", "unpinned-image"])
        .current_dir(&corpus)
        .output()
        .expect("pin-lint runs");
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    let findings = json["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), unpinned);
    assert!(findings
        .iter()
        .all(|f| f["rule"] == "unpinned-image" && f["severity"] == "error"));
}

/// The oracle's pinned files (every container reference pinned): the gate passes.
#[test]
fn check_on_a_pinned_tree_exits_0() {
    let pinned = support::shared_dir().join("oracle/expected-fixed");
    let output = support::pin_lint()
        .args(["check", "--format", "json"])
        .current_dir(&pinned)
        .output()
        .expect("pin-lint runs");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    let findings = json["findings"].as_array().expect("findings");
    assert!(
        findings.iter().all(|f| f["severity"] != "error"),
        "{findings:#?}"
    );
    assert_eq!(output.status.code(), Some(0));
}

/// A path that does not exist is a usage error: exit 2 and one line naming it.
#[test]
fn check_on_a_missing_path_exits_2_with_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = support::run_in(dir.path(), &["check", "no-such-folder"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = support::stderr(&output);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no-such-folder"), "{stderr}");
    assert!(output.stdout.is_empty());
}
