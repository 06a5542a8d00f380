//! Every `vm` row of the shared oracle gets the VM rule its label calls for: `*-latest` labels
//! `floating-vm-image`, labels the providers have retired `retired-vm-image`, every other
//! label neither. The retired labels are listed here independently of the analyzer's table.

mod support;

use std::collections::{BTreeMap, BTreeSet};

/// Hosted labels retired by Azure Pipelines / GitHub Actions as of 2026-11 (lower-case).
const RETIRED: &[&str] = &[
    "ubuntu-16.04",
    "ubuntu-18.04",
    "ubuntu-20.04",
    "macos-10.13",
    "macos-10.14",
    "macos-10.15",
    "macos-11",
    "macos-12",
    "macos-13",
    "macos-14",
    "windows-2016",
    "vs2017-win2016",
    "vs2015-win2012r2",
    "win1803",
    "windows-2019",
];

type Place = (String, u64, u64);

fn vm_rows() -> Vec<(Place, String, String)> {
    let path = support::shared_dir().join("oracle/expected.tsv");
    let text = std::fs::read_to_string(&path).expect("expected.tsv is readable");
    text.lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|f| f[3] == "vm")
        .map(|f| {
            let place = (
                f[0].to_string(),
                f[1].parse().expect("line"),
                f[2].parse().expect("column"),
            );
            (place, f[4].to_string(), f[6].to_string())
        })
        .collect()
}

fn expected_rules(label: &str) -> BTreeSet<&'static str> {
    let lower = label.to_ascii_lowercase();
    let mut rules = BTreeSet::new();
    if lower.ends_with("-latest") {
        rules.insert("floating-vm-image");
    }
    if RETIRED.contains(&lower.as_str()) {
        rules.insert("retired-vm-image");
    }
    rules
}

#[test]
fn every_vm_row_gets_the_right_rule() {
    let rows = vm_rows();
    assert_eq!(rows.len(), 100, "the oracle has 100 vm rows");
    let output = support::pin_lint()
        .args([
            "check",
            "--format",
            "json",
            "--select",
            "floating-vm-image,retired-vm-image",
        ])
        .current_dir(support::shared_dir().join("corpus"))
        .output()
        .expect("pin-lint runs");
    assert_eq!(
        output.status.code(),
        Some(1),
        "retired labels are errors: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    let mut found: BTreeMap<Place, BTreeSet<String>> = BTreeMap::new();
    for f in json["findings"].as_array().expect("findings") {
        let place = (
            f["path"].as_str().expect("path").to_string(),
            f["line"].as_u64().expect("line"),
            f["column"].as_u64().expect("column"),
        );
        let rule = f["rule"].as_str().expect("rule").to_string();
        let severity = f["severity"].as_str().expect("severity");
        match rule.as_str() {
            "retired-vm-image" => assert_eq!(severity, "error"),
            "floating-vm-image" => assert_eq!(severity, "warning"),
            other => panic!("unexpected rule {other}"),
        }
        found.entry(place).or_default().insert(rule);
    }
    let mut wrong = Vec::new();
    let (mut floating, mut retired) = (0, 0);
    for (place, site, label) in &rows {
        let want = expected_rules(label);
        floating += usize::from(want.contains("floating-vm-image"));
        retired += usize::from(want.contains("retired-vm-image"));
        let got = found.remove(place).unwrap_or_default();
        if got.iter().map(String::as_str).ne(want.iter().copied()) {
            wrong.push(format!(
                "{place:?} {site} {label}: want {want:?}, got {got:?}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(found.is_empty(), "findings outside the vm rows: {found:#?}");
    assert_eq!(
        (floating, retired),
        (25, 9),
        "floating and retired rows in the oracle"
    );
}
