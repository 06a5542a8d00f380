//! `pin-lint --fix` on the project's own fixtures (tests/fixtures/fix/), through the real
//! binary: byte-exact edits that keep CRLF, a BOM, comments, quotes, trailing blanks and a
//! missing final newline; `--diff` (snapshot) writes nothing; a second run changes nothing;
//! rule selection picks pins or bumps; summaries; opt-in `:latest` pins; atomic writes that
//! refuse a read-only file; a failed lookup leaves its file untouched and exits 3.

mod support;

use std::net::TcpListener;
use std::path::PathBuf;

use sha2::{Digest as _, Sha256};
use support::run_in;

fn fixture(name: &str) -> PathBuf {
    support::fixtures_dir().join("fix").join(name)
}

/// A temporary folder holding writable copies of the named fixtures.
fn workdir(files: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in files {
        std::fs::copy(fixture(name), dir.path().join(name)).expect("copy fixture");
    }
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// The fake digest the fixture catalog gives a reference.
fn digest_of(reference: &str) -> String {
    let hex: String = Sha256::digest(reference.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

fn catalog() -> String {
    fixture("catalog.tsv").display().to_string()
}

#[test]
fn fix_keeps_crlf_bom_comments_quotes_and_missing_final_newline() {
    let dir = workdir(&["crlf-bom.yml"]);
    let original = std::fs::read(dir.path().join("crlf-bom.yml")).expect("read");
    assert!(original.starts_with("\u{feff}".as_bytes()) && !original.ends_with(b"\n"));
    let out = run_in(
        dir.path(),
        &[
            "--fix",
            "--offline",
            "--catalog",
            &catalog(),
            "crlf-bom.yml",
        ],
    );
    let stderr = text(&out.stderr);
    let fixed = std::fs::read(dir.path().join("crlf-bom.yml")).expect("read");
    let expected = std::fs::read(fixture("crlf-bom.fixed.yml")).expect("read expected");
    assert_eq!(
        text(&fixed),
        text(&expected),
        "fixed bytes differ; stderr:\n{stderr}"
    );
    assert!(
        stderr.contains("Fixed 4 references in 1 file (3 pinned, 1 bumped, 0 re-pinned)"),
        "{stderr}"
    );
    // The untagged reference is reported and left alone by default.
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(text(&out.stdout).contains("ghcr.io/org/untagged"));

    let again = run_in(
        dir.path(),
        &[
            "--fix",
            "--offline",
            "--catalog",
            &catalog(),
            "crlf-bom.yml",
        ],
    );
    assert_eq!(
        std::fs::read(dir.path().join("crlf-bom.yml")).expect("read"),
        expected,
        "a second run changed the file"
    );
    assert!(
        text(&again.stderr).contains("Fixed 0 references in 0 files"),
        "{}",
        text(&again.stderr)
    );
}

#[test]
fn pin_untagged_as_latest_is_opt_in() {
    let dir = workdir(&["crlf-bom.yml"]);
    let out = run_in(
        dir.path(),
        &[
            "--fix",
            "--offline",
            "--pin-untagged-as-latest",
            "--catalog",
            &catalog(),
            "crlf-bom.yml",
        ],
    );
    let fixed = text(&std::fs::read(dir.path().join("crlf-bom.yml")).expect("read"));
    let pinned = format!(
        "image: ghcr.io/org/untagged:latest@{}\r\n",
        digest_of("ghcr.io/org/untagged")
    );
    assert!(fixed.contains(&pinned), "{fixed}");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn diff_prints_a_unified_diff_and_writes_nothing() {
    let dir = workdir(&["small.yml"]);
    let before = std::fs::read(dir.path().join("small.yml")).expect("read");
    let out = run_in(
        dir.path(),
        &[
            "--fix",
            "--diff",
            "--offline",
            "--catalog",
            &catalog(),
            "small.yml",
        ],
    );
    assert_eq!(
        std::fs::read(dir.path().join("small.yml")).expect("read"),
        before,
        "--diff wrote the file"
    );
    let entries: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(entries.len(), 1, "--diff left files behind: {entries:?}");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("Would fix 2 references in 1 file"),
        "{stderr}"
    );
    insta::assert_snapshot!(text(&out.stdout));
}

#[test]
fn rule_selection_chooses_pins_or_bumps() {
    let stale = format!("ghcr.io/org/tool:1.0@sha256:{}1", "0".repeat(63));
    let bumped = format!("ghcr.io/org/tool:1.0@{}", digest_of("ghcr.io/org/tool:1.0"));
    let build = "mcr.microsoft.com/dotnet-buildtools/prereqs:ubuntu-24.04";
    let build_pinned = format!("{build}@{}", digest_of(build));

    let dir = workdir(&["small.yml"]);
    let args = ["--fix", "--offline", "--catalog", &catalog()];
    run_in(
        dir.path(),
        &[&args[..], &["--select", "unpinned-image", "small.yml"]].concat(),
    );
    let after = std::fs::read_to_string(dir.path().join("small.yml")).expect("read");
    assert!(
        after.contains(&build_pinned) && after.contains(&stale),
        "--select unpinned-image must pin only:\n{after}"
    );

    let dir = workdir(&["small.yml"]);
    run_in(
        dir.path(),
        &[&args[..], &["--select", "stale-digest", "small.yml"]].concat(),
    );
    let after = std::fs::read_to_string(dir.path().join("small.yml")).expect("read");
    assert!(
        after.contains(&bumped) && !after.contains(&build_pinned),
        "--select stale-digest must bump only:\n{after}"
    );
}

#[test]
fn summary_markdown_and_json_describe_every_change() {
    let dir = workdir(&["small.yml", "crlf-bom.yml"]);
    let summary = dir.path().join("summary.md");
    let out = run_in(
        dir.path(),
        &[
            "--fix",
            "--offline",
            "--format",
            "json",
            "--catalog",
            &catalog(),
            "--summary",
            summary.to_str().expect("utf-8 path"),
            "crlf-bom.yml",
            "small.yml",
        ],
    );
    let md = std::fs::read_to_string(&summary).expect("summary written");
    assert!(
        md.contains("6 references in 2 files across 4 images: 4 pinned, 2 bumped, 0 re-pinned."),
        "{md}"
    );
    assert!(md.contains("### `ghcr.io/org/tool`"), "{md}");
    let short_new = &digest_of("ghcr.io/org/tool:1.0")[..19];
    assert!(
        md.contains(&format!(
            "| `small.yml:7` | `1.0` | `sha256:000000000000` → `{short_new}` |"
        )),
        "{md}"
    );
    assert!(
        md.contains("| `crlf-bom.yml:9` | `3.20` | unpinned → `"),
        "{md}"
    );

    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    let fix = &json["fix"];
    assert_eq!(fix["totals"]["changed_references"], 6, "{fix:#}");
    assert_eq!(fix["totals"]["bumped"], 2);
    assert_eq!(fix["dry_run"], false);
    let change = fix["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["path"] == "small.yml" && c["action"] == "bump")
        .expect("the bump in small.yml");
    assert_eq!(change["line"], 7);
    assert_eq!(change["image"], "ghcr.io/org/tool");
    assert_eq!(change["tag"], "1.0");
    assert_eq!(
        change["old_digest"],
        format!("sha256:{}1", "0".repeat(63)).as_str()
    );
    assert_eq!(
        change["new_digest"],
        digest_of("ghcr.io/org/tool:1.0").as_str()
    );
    // What remains is still reported in the contract's findings shape.
    assert!(json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .any(|f| f["reference"] == "ghcr.io/org/untagged"));
}

#[test]
fn a_read_only_file_is_left_intact_with_a_clear_error() {
    let dir = workdir(&["small.yml", "crlf-bom.yml"]);
    let path = dir.path().join("small.yml");
    let before = std::fs::read(&path).expect("read");
    let mut perms = std::fs::metadata(&path).expect("meta").permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&path, perms).expect("chmod");
    let out = run_in(
        dir.path(),
        &[
            "--fix",
            "--offline",
            "--catalog",
            &catalog(),
            "small.yml",
            "crlf-bom.yml",
        ],
    );
    let stderr = text(&out.stderr);
    assert_eq!(std::fs::read(&path).expect("read"), before);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error: small.yml: not written: `small.yml` is read-only"),
        "{stderr}"
    );
    // The other file was still fixed, and no temporary file is left behind.
    let other = std::fs::read(dir.path().join("crlf-bom.yml")).expect("read");
    assert_eq!(
        other,
        std::fs::read(fixture("crlf-bom.fixed.yml")).expect("read")
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with(".pin-lint-")),
        "{names:?}"
    );
}

#[cfg(unix)]
#[test]
fn atomic_write_keeps_permissions_and_symlinks() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = workdir(&["small.yml"]);
    let path = dir.path().join("small.yml");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    std::os::unix::fs::symlink("small.yml", dir.path().join("link.yml")).expect("symlink");
    let out = run_in(
        dir.path(),
        &["--fix", "--offline", "--catalog", &catalog(), "link.yml"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let meta = std::fs::symlink_metadata(dir.path().join("link.yml")).expect("meta");
    assert!(meta.file_type().is_symlink(), "the link was replaced");
    let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    assert!(std::fs::read_to_string(&path)
        .expect("read")
        .contains(&digest_of("ghcr.io/org/tool:1.0")));
}

#[test]
fn a_failed_lookup_leaves_its_file_untouched_and_exits_3() {
    // A loopback port where nothing listens: the registry is unreachable.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind")
        .port();
    let registry = format!("127.0.0.1:{port}");
    let dir = workdir(&["small.yml"]);
    let broken = format!(
        "resources:\n  containers:\n  - container: a\n    image: {registry}/team/app:1.0\n  - container: b\n    image: alpine:3.20\n"
    );
    std::fs::write(dir.path().join("broken.yml"), &broken).expect("write");
    let out = run_in(
        dir.path(),
        &[
            "--fix",
            "--catalog",
            &catalog(),
            "--insecure-registry",
            &registry,
            "broken.yml",
            "small.yml",
        ],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("broken.yml")).expect("read"),
        broken,
        "a file with a failed lookup was written"
    );
    assert!(std::fs::read_to_string(dir.path().join("small.yml"))
        .expect("read")
        .contains(&digest_of("ghcr.io/org/tool:1.0")));
    let registry_lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("pin-lint: error: ") && l.contains(&registry))
        .collect();
    assert_eq!(registry_lines.len(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "broken.yml: left untouched: could not resolve {registry}/team/app:1.0"
        )),
        "{stderr}"
    );
}

#[test]
fn check_stays_offline_by_default_and_uses_catalogs() {
    let dir = workdir(&["small.yml"]);
    let out = run_in(
        dir.path(),
        &[
            "check",
            "--format",
            "json",
            "--catalog",
            &catalog(),
            "small.yml",
        ],
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let rules: Vec<&str> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert_eq!(rules, ["unpinned-image", "stale-digest"]);
    assert_eq!(out.status.code(), Some(1));
}
