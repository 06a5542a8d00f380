//! `pin-lint --fix` against a real registry on loopback (`docker-registry` + `skopeo`): pin,
//! move a tag by pushing another image under it, then `--fix` bumps exactly the stale
//! references and the summary lists old → new digests. Plain HTTP is never implied.

mod support;

use pin_test_support::{push_image, raw_status, ImageSpec, Registry};
use support::{run_in as run, stderr};

fn short(digest: &str) -> &str {
    &digest[..19]
}

#[test]
fn pin_then_bump_exactly_the_stale_references() {
    let reg = Registry::start();
    let addr = reg.addr.as_str();
    let app_v1 = push_image(
        addr,
        "team/app",
        "1.0",
        &[ImageSpec::new("amd64", "app one")],
    );
    let base = push_image(addr, "team/base", "2", &[ImageSpec::new("amd64", "base")]);

    let dir = tempfile::tempdir().expect("tempdir");
    let pipeline = format!(
        "resources:\n  containers:\n  - container: app\n    image: {addr}/team/app:1.0  # app\n  - container: base\n    image: '{addr}/team/base:2'\n"
    );
    let workflow = format!(
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-24.04\n    container: {addr}/team/app:1.0\n    steps:\n    - run: make test\n"
    );
    std::fs::create_dir_all(dir.path().join(".github/workflows")).expect("mkdir");
    std::fs::write(dir.path().join("pipeline.yml"), &pipeline).expect("write");
    std::fs::write(dir.path().join(".github/workflows/ci.yml"), &workflow).expect("write");

    // Plain HTTP only when asked for: without the flag nothing resolves and nothing changes.
    let refused = run(dir.path(), &["--fix", "."]);
    assert_eq!(refused.status.code(), Some(3), "{}", stderr(&refused));
    // HTTPS is tried (and fails against the plain-HTTP registry): one line for the registry.
    let lines: Vec<String> = stderr(&refused)
        .lines()
        .filter(|l| l.starts_with("pin-lint: error: "))
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains(&format!("https://{addr}/v2/")),
        "{lines:?}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pipeline.yml")).expect("read"),
        pipeline
    );

    // Night 1: pin.
    let pinned = run(dir.path(), &["--fix", "--insecure-registry", addr, "."]);
    assert_eq!(pinned.status.code(), Some(0), "{}", stderr(&pinned));
    let after_pin = std::fs::read_to_string(dir.path().join("pipeline.yml")).expect("read");
    assert_eq!(
        after_pin,
        pipeline
            .replace("app:1.0  #", &format!("app:1.0@{app_v1}  #"))
            .replace("base:2'", &format!("base:2@{base}'"))
    );
    assert!(
        std::fs::read_to_string(dir.path().join(".github/workflows/ci.yml"))
            .expect("read")
            .contains(&format!("{addr}/team/app:1.0@{app_v1}\n"))
    );

    // The tag moves.
    let app_v2 = push_image(
        addr,
        "team/app",
        "1.0",
        &[ImageSpec::new("amd64", "app two")],
    );
    assert_ne!(app_v1, app_v2);
    let check = run(
        dir.path(),
        &[
            "check",
            "--online",
            "--format",
            "json",
            "--insecure-registry",
            addr,
            ".",
        ],
    );
    let json: serde_json::Value = serde_json::from_slice(&check.stdout).expect("JSON");
    let stale: Vec<&str> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "stale-digest")
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert_eq!(stale, [".github/workflows/ci.yml", "pipeline.yml"]);

    // Night 2: bump exactly those two.
    let summary = dir.path().join("summary.md");
    let bumped = run(
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
    assert_eq!(bumped.status.code(), Some(0), "{}", stderr(&bumped));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pipeline.yml")).expect("read"),
        after_pin.replace(&app_v1, &app_v2)
    );
    assert!(
        std::fs::read_to_string(dir.path().join(".github/workflows/ci.yml"))
            .expect("read")
            .contains(&format!("{addr}/team/app:1.0@{app_v2}\n"))
    );
    let md = std::fs::read_to_string(&summary).expect("summary");
    assert!(
        md.contains("2 references in 2 files across 1 image: 0 pinned, 2 bumped, 0 re-pinned."),
        "{md}"
    );
    assert!(md.contains(&format!("### `{addr}/team/app`")), "{md}");
    for row in [
        format!(
            "| `.github/workflows/ci.yml:5` | `1.0` | `{}` → `{}` |",
            short(&app_v1),
            short(&app_v2)
        ),
        format!(
            "| `pipeline.yml:4` | `1.0` | `{}` → `{}` |",
            short(&app_v1),
            short(&app_v2)
        ),
    ] {
        assert!(md.contains(&row), "missing row {row}\n{md}");
    }
    assert!(!md.contains("team/base"), "{md}");

    // Night 3: nothing moved, nothing changes.
    let quiet = run(dir.path(), &["--fix", "--insecure-registry", addr, "."]);
    assert!(
        stderr(&quiet).contains("Fixed 0 references in 0 files"),
        "{}",
        stderr(&quiet)
    );
}

#[test]
fn a_deleted_pinned_digest_is_reported_and_repinned() {
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
    let dir = tempfile::tempdir().expect("tempdir");
    let pipeline = format!("jobs:\n- job: a\n  container: \"{addr}/team/tool:3@{old}\"\n");
    std::fs::write(dir.path().join("pipeline.yml"), &pipeline).expect("write");

    let check = run(
        dir.path(),
        &[
            "check",
            "--online",
            "--select",
            "missing-digest",
            "--insecure-registry",
            addr,
            "pipeline.yml",
        ],
    );
    let out = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(1), "{out}{}", stderr(&check));
    assert!(out.contains("no longer exists in the registry"), "{out}");

    let fixed = run(
        dir.path(),
        &[
            "--fix",
            "--select",
            "missing-digest",
            "--format",
            "json",
            "--insecure-registry",
            addr,
            "pipeline.yml",
        ],
    );
    assert_eq!(fixed.status.code(), Some(0), "{}", stderr(&fixed));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pipeline.yml")).expect("read"),
        pipeline.replace(&old, &new)
    );
    let json: serde_json::Value = serde_json::from_slice(&fixed.stdout).expect("JSON");
    let change = &json["fix"]["changes"][0];
    assert_eq!(change["action"], "repin");
    assert_eq!(change["old_digest"], old.as_str());
    assert_eq!(change["new_digest"], new.as_str());
}
