//! docs/rules.md is generated from the rule registry: it must equal what
//! `pin-lint rules --markdown` prints, so the rule reference cannot drift from the code.
//! Regenerate with `cargo run -p pin-lint -- rules --markdown > docs/rules.md`.

mod support;

use std::path::PathBuf;

#[test]
fn docs_rules_md_is_up_to_date() {
    let output = support::pin_lint()
        .args(["rules", "--markdown"])
        .output()
        .expect("pin-lint runs");
    assert!(output.status.success());
    let generated = String::from_utf8(output.stdout).expect("UTF-8");
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/rules.md is out of date: run `cargo run -p pin-lint -- rules --markdown > docs/rules.md`"
    );
    for rule in pin_core::Rule::all() {
        assert!(
            generated.contains(&format!("\n## {}\n", rule.id())),
            "`{}` has its own heading (the SARIF helpUri anchor)",
            rule.id()
        );
    }
}

/// The README's rule table lists every rule once, with the severity the code gives it.
#[test]
fn readme_rule_table_matches_the_registry() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md is readable");
    let rows: Vec<&str> = readme
        .lines()
        .filter(|line| line.starts_with("| `"))
        .collect();
    for rule in pin_core::Rule::all() {
        let prefix = format!("| `{}` | ", rule.id());
        let matching: Vec<&&str> = rows.iter().filter(|row| row.starts_with(&prefix)).collect();
        assert_eq!(
            matching.len(),
            1,
            "README.md has one rule-table row for `{}`",
            rule.id()
        );
        let severity = matching[0][prefix.len()..]
            .split(" |")
            .next()
            .unwrap_or_default();
        assert_eq!(
            severity,
            rule.default_severity().as_str(),
            "README.md gives `{}` the severity the code does",
            rule.id()
        );
    }
}
