//! VM images through the real binary: the folder walk picks Bicep, Terraform and ARM
//! templates (and no other JSON), offline checks fire with their severities and fixes, and
//! `pin-lint.toml` overrides the label tables.

mod support;

use std::collections::BTreeSet;
use std::path::Path;

fn json(args: &[&str], dir: &Path) -> (Option<i32>, serde_json::Value) {
    let output = support::pin_lint()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("pin-lint runs");
    let value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code(), value)
}

#[test]
fn the_walk_reads_infrastructure_files_and_skips_other_json() {
    let (code, refs) = json(
        &["refs", "--format", "json", "vm"],
        &support::fixtures_dir(),
    );
    assert_eq!(code, Some(0));
    let refs = refs["references"].as_array().expect("references");
    let files: BTreeSet<&str> = refs.iter().filter_map(|r| r["path"].as_str()).collect();
    assert_eq!(
        files.into_iter().collect::<Vec<_>>(),
        [
            "vm/.github/workflows/ci.yml",
            "vm/arm/mdp-pool.json",
            "vm/arm/vm.json",
            "vm/azure-pipelines.yml",
            "vm/bicep/mdp-pool.bicep",
            "vm/bicep/vm.bicep",
            "vm/terraform/main.tf",
        ]
    );
    let infra = refs
        .iter()
        .filter(|r| r["site"] == "infra-vm-image")
        .count();
    assert_eq!(infra, 20);
    // The position is the version (or the id), inside the quotes.
    let tf = refs
        .iter()
        .find(|r| r["path"] == "vm/terraform/main.tf")
        .expect("a Terraform reference");
    assert_eq!(
        (tf["line"].as_u64(), tf["column"].as_u64()),
        (Some(10), Some(18))
    );
    assert_eq!(tf["text"], "Canonical:ubuntu-24_04-lts:server:latest");
}

#[test]
fn offline_check_reports_vm_rules_with_fixes() {
    let (code, out) = json(
        &["check", "--format", "json", "vm"],
        &support::fixtures_dir(),
    );
    assert_eq!(
        code,
        Some(1),
        "retired labels and unpinned images are errors"
    );
    let findings = out["findings"].as_array().expect("findings");
    let count = |rule: &str| findings.iter().filter(|f| f["rule"] == rule).count();
    assert_eq!(count("floating-vm-image"), 4);
    assert_eq!(count("retired-vm-image"), 5);
    assert_eq!(count("unpinned-vm-image"), 8);
    assert_eq!(count("stale-vm-image"), 0, "needs facts");
    assert_eq!(count("unknown-pool-image"), 0, "off without a list");
    let floating = findings
        .iter()
        .find(|f| f["rule"] == "floating-vm-image" && f["path"] == "vm/.github/workflows/ci.yml")
        .expect("a GitHub floating label");
    assert_eq!(floating["fix"]["applicability"], "unsafe");
    assert_eq!(floating["fix"]["edits"][0]["new_text"], "26.04");
}

#[test]
fn config_overrides_the_label_tables() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        support::fixtures_dir().join("vm/azure-pipelines.yml"),
        dir.path().join("azure-pipelines.yml"),
    )
    .expect("copy");
    std::fs::write(
        dir.path().join("pin-lint.toml"),
        r#"known-pool-images = ["build.azurelinux.3.amd64.open"]
not-retired-vm-images = ["windows-2019"]
retired-vm-images = { "windows.vs2026.amd64" = "windows.vs2026.amd64.open" }

[floating-vm-map.azure-pipelines]
ubuntu-latest = "ubuntu-22.04"
"#,
    )
    .expect("config");
    let (_, out) = json(&["check", "--format", "json"], dir.path());
    let findings = out["findings"].as_array().expect("findings");
    let summary: Vec<(u64, &str, String)> = findings
        .iter()
        .filter(|f| {
            f["rule"]
                .as_str()
                .is_some_and(|r| r.contains("vm") || r.contains("pool"))
        })
        .map(|f| {
            let fix = f["fix"]["edits"][0]["new_text"].as_str().unwrap_or("-");
            (
                f["line"].as_u64().expect("line"),
                f["rule"].as_str().expect("rule"),
                fix.to_string(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (5, "floating-vm-image", "22.04".to_string()),
            (8, "floating-vm-image", "15".to_string()),
            (26, "unknown-pool-image", "-".to_string()),
            (
                31,
                "retired-vm-image",
                "windows.vs2026.amd64.open".to_string()
            ),
            // A retired label is replaced by what the family's `*-latest` maps to: configured.
            (35, "retired-vm-image", "22.04".to_string()),
        ]
    );
}
