//! A tag the registry says no longer exists is a `missing-tag` finding (exit 1) and the
//! file's other references are still bumped; a registry that only answers 500 stays a lookup
//! failure (exit 3). Against a real `docker-registry` on loopback.

mod support;

use pin_test_support::proxy::{Fault, FaultProxy};
use pin_test_support::{push_image, ImageSpec, Registry};
use support::{run_in as run, stderr};

#[test]
fn a_deleted_tag_is_a_finding_and_the_file_is_still_fixed() {
    let reg = Registry::start();
    let addr = reg.addr.as_str();
    let app1 = push_image(addr, "team/app", "1", &[ImageSpec::new("amd64", "app one")]);
    let old = push_image(addr, "team/old", "1", &[ImageSpec::new("amd64", "old one")]);
    let dir = tempfile::tempdir().expect("tempdir");
    let pipeline = format!(
        "resources:\n  containers:\n  - container: app\n    image: {addr}/team/app:1@{app1}\n  - container: old\n    image: {addr}/team/old:1\n  - container: gone\n    image: {addr}/team/never:1\n"
    );
    std::fs::write(dir.path().join("pipeline.yml"), &pipeline).expect("write");
    // The producer moves app:1 and retires old:1 (its manifest deleted); team/never was never
    // pushed (NAME_UNKNOWN).
    let app2 = push_image(addr, "team/app", "1", &[ImageSpec::new("amd64", "app two")]);
    reg.delete_manifest("team/old", &old);

    let fixed = run(
        dir.path(),
        &[
            "--fix",
            "--insecure-registry",
            addr,
            "--format",
            "json",
            ".",
        ],
    );
    assert_eq!(fixed.status.code(), Some(1), "{}", stderr(&fixed));
    let json: serde_json::Value = serde_json::from_slice(&fixed.stdout).expect("json");
    let missing: Vec<String> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "missing-tag")
        .map(|f| format!("{}:{} {}", f["line"], f["severity"], f["reference"]))
        .collect();
    assert_eq!(
        missing,
        [
            format!("6:\"error\" \"{addr}/team/old:1\""),
            format!("8:\"error\" \"{addr}/team/never:1\""),
        ],
        "{json:#}"
    );
    assert_eq!(json["fix"]["totals"]["failed_lookups"], 0, "{json:#}");
    // The JSON summary lists the removed tags as the Markdown one does.
    assert_eq!(json["fix"]["totals"]["removed_tags"], 2, "{json:#}");
    assert_eq!(
        json["fix"]["removed_tags"],
        serde_json::json!([
            {"line": 6, "path": "pipeline.yml", "reference": format!("{addr}/team/old:1")},
            {"line": 8, "path": "pipeline.yml", "reference": format!("{addr}/team/never:1")},
        ]),
        "{json:#}"
    );
    let after = std::fs::read_to_string(dir.path().join("pipeline.yml")).expect("read");
    assert_eq!(
        after,
        pipeline.replace(&format!("app:1@{app1}"), &format!("app:1@{app2}")),
        "the stale reference in the same file is bumped, nothing else changes"
    );
    // The next night: nothing left to bump; the summary lists the removed tags.
    let summary = dir.path().join("bump.md");
    let again = run(
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
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    let summary = std::fs::read_to_string(summary).expect("summary");
    assert!(
        summary.contains(&format!(
            "## Removed tags\n\nThe registry says these tags (or their repositories) no longer exist (`missing-tag`); they cannot be bumped. Move them to a published tag:\n\n- `pipeline.yml:6`: `{addr}/team/old:1`\n- `pipeline.yml:8`: `{addr}/team/never:1`\n"
        )),
        "{summary}"
    );
}

#[test]
fn missing_tag_alone_still_looks_the_tags_up() {
    let reg = Registry::start();
    let addr = reg.addr.as_str();
    let app = push_image(addr, "team/app", "1", &[ImageSpec::new("amd64", "app")]);
    let dir = tempfile::tempdir().expect("tempdir");
    // A pinned reference (no other selected rule wants its tag) and an unpinned one.
    std::fs::write(
        dir.path().join("pipeline.yml"),
        format!(
            "resources:\n  containers:\n  - container: gone\n    image: {addr}/team/gone:1@{app}\n  - container: app\n    image: {addr}/team/app:1\n  - container: never\n    image: {addr}/team/never:2\n"
        ),
    )
    .expect("write");
    let out = run(
        dir.path(),
        &[
            "check",
            "--online",
            "--select",
            "missing-tag",
            "--insecure-registry",
            addr,
            "--format",
            "json",
            ".",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let found: Vec<(u64, &str)> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["line"].as_u64().unwrap_or(0),
                f["rule"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(found, [(4, "missing-tag"), (8, "missing-tag")], "{json:#}");
}

#[test]
fn a_registry_answering_500_stays_a_failure() {
    let reg = Registry::start();
    let addr = reg.addr.as_str();
    push_image(addr, "team/app", "1", &[ImageSpec::new("amd64", "app")]);
    let proxy = FaultProxy::start(addr);
    proxy.always(Some(Fault::Status(500, Vec::new())));
    let dir = tempfile::tempdir().expect("tempdir");
    let pipeline = format!(
        "resources:\n  containers:\n  - container: app\n    image: {}/team/app:1\n",
        proxy.addr
    );
    std::fs::write(dir.path().join("pipeline.yml"), &pipeline).expect("write");
    let out = run(
        dir.path(),
        &[
            "--fix",
            "--insecure-registry",
            &proxy.addr,
            "--format",
            "json",
            ".",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        json["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .all(|f| f["rule"] != "missing-tag"),
        "{json:#}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pipeline.yml")).expect("read"),
        pipeline
    );
}
