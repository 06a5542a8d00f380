//! `pin-lint --fix` over a writable copy of the shared corpus with the oracle's fake catalog:
//! the five files of `oracle/expected-fixed/` come out byte for byte, every other file gets
//! exactly `@<digest>` after each tagged unpinned reference of the oracle and nothing else
//! changes; a second run changes nothing; `--diff` writes nothing; online, a reference no
//! registry can answer leaves its file untouched and the run exits 3.

mod support;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::PathBuf;
use support::{only_digests_added, pin_lint, read_tree, Tree};
use support::{run_in as run, stderr};

/// A writable copy of the corpus (the shared one is read-only).
fn corpus_copy() -> (tempfile::TempDir, Tree) {
    let original = read_tree(&support::shared_dir().join("corpus"));
    let dir = tempfile::tempdir().expect("tempdir");
    for (rel, bytes) in &original {
        let path = dir.path().join("corpus").join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, bytes).expect("write");
    }
    (dir, original)
}

fn fake_catalog() -> PathBuf {
    support::shared_dir().join("oracle/fake-digests.tsv")
}

/// The oracle's tagged unpinned container references: file → (line, column, text).
fn tagged_unpinned() -> BTreeMap<String, Vec<(usize, usize, String)>> {
    let tsv = std::fs::read_to_string(support::shared_dir().join("oracle/expected.tsv"))
        .expect("expected.tsv");
    let mut out: BTreeMap<String, Vec<(usize, usize, String)>> = BTreeMap::new();
    for row in tsv.lines().skip(1) {
        let f: Vec<&str> = row.split('\t').collect();
        let (kind, state, text) = (f[3], f[5], f[6]);
        let last = text.rsplit('/').next().unwrap_or(text);
        if kind == "container" && state == "unpinned" && last.contains(':') {
            out.entry(f[0].to_string()).or_default().push((
                f[1].parse().expect("line"),
                f[2].parse().expect("col"),
                text.to_string(),
            ));
        }
    }
    out
}

fn fake_digests() -> BTreeMap<String, String> {
    std::fs::read_to_string(fake_catalog())
        .expect("fake-digests.tsv")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .map(|(r, d)| (r.to_string(), d.to_string()))
        .collect()
}

/// `original` with `@<digest>` inserted after each reference (line/column in characters).
fn with_pins(original: &[u8], refs: &[(usize, usize, String)]) -> Vec<u8> {
    let text = std::str::from_utf8(original).expect("UTF-8 corpus file");
    let digests = fake_digests();
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let mut inserts: Vec<(usize, String)> = refs
        .iter()
        .map(|(line, col, reference)| {
            let start = line_starts[line - 1];
            let byte = start
                + text[start..]
                    .char_indices()
                    .nth(col - 1)
                    .map(|(i, _)| i)
                    .expect("column on the line");
            assert!(text[byte..].starts_with(reference.as_str()));
            let digest = digests.get(reference).expect("fake digest for reference");
            (byte + reference.len(), format!("@{digest}"))
        })
        .collect();
    inserts.sort();
    inserts.dedup();
    let mut out = text.to_string();
    for (at, pin) in inserts.into_iter().rev() {
        out.insert_str(at, &pin);
    }
    out.into_bytes()
}

/// What the offline fix must produce for every corpus file.
fn expected_tree(original: &Tree) -> Tree {
    let refs = tagged_unpinned();
    original
        .iter()
        .map(|(rel, bytes)| {
            let fixed = match refs.get(rel) {
                Some(r) => with_pins(bytes, r),
                None => bytes.clone(),
            };
            (rel.clone(), fixed)
        })
        .collect()
}

#[test]
fn offline_fix_matches_the_oracle_byte_for_byte_and_converges() {
    let (dir, original) = corpus_copy();
    let catalog = fake_catalog();
    let args = [
        "--fix",
        "--offline",
        "--catalog",
        catalog.to_str().expect("utf-8"),
        "corpus",
    ];
    let out = run(dir.path(), &args);
    let err = stderr(&out);
    assert!(
        err.contains("Fixed 212 references in 28 files (212 pinned, 0 bumped, 0 re-pinned)."),
        "{err}"
    );
    let fixed = read_tree(&dir.path().join("corpus"));

    // 1. The oracle's pinned files, byte for byte.
    let oracle = support::shared_dir().join("oracle/expected-fixed");
    let mut checked = 0;
    for entry in std::fs::read_dir(&oracle).expect("expected-fixed") {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("name").to_string_lossy();
        let rel = name.replace("__", "/");
        let expected = std::fs::read(&path).expect("read expected");
        assert!(
            fixed[&rel] == expected,
            "{rel} differs from oracle/expected-fixed/{name}"
        );
        checked += 1;
    }
    assert_eq!(checked, 5);

    // 2. Every file: exactly the digests of its tagged unpinned references, nothing else.
    let expected = expected_tree(&original);
    let mut changed = 0;
    let mut added_total = 0;
    for (rel, bytes) in &fixed {
        let added =
            only_digests_added(&original[rel], bytes).unwrap_or_else(|e| panic!("{rel}: {e}"));
        added_total += added;
        changed += usize::from(added > 0);
        assert!(
            bytes == &expected[rel],
            "{rel}: not exactly the expected pins"
        );
    }
    assert_eq!((changed, added_total), (28, 212));

    // 3. A second run changes nothing.
    support::assert_second_fix_changes_nothing(
        dir.path(),
        &args,
        &dir.path().join("corpus"),
        &fixed,
    );
}

#[test]
fn diff_over_the_corpus_writes_nothing() {
    let (dir, original) = corpus_copy();
    let catalog = fake_catalog();
    let out = run(
        dir.path(),
        &[
            "--fix",
            "--diff",
            "--offline",
            "--catalog",
            catalog.to_str().expect("utf-8"),
            "corpus",
        ],
    );
    assert!(
        read_tree(&dir.path().join("corpus")) == original,
        "--diff wrote files"
    );
    let diff = String::from_utf8(out.stdout).expect("UTF-8 diff");
    assert_eq!(
        diff.matches("\n+++ b/corpus/").count() + usize::from(diff.starts_with("+++")),
        28
    );
    assert_eq!(
        diff.lines()
            .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
            .map(|l| l.matches("@sha256:").count())
            .sum::<usize>()
            - diff
                .lines()
                .filter(|l| l.starts_with('-') && !l.starts_with("---"))
                .map(|l| l.matches("@sha256:").count())
                .sum::<usize>(),
        212
    );
}

#[test]
fn online_fix_leaves_files_with_unresolvable_references_untouched_and_exits_3() {
    // Every registry request goes through a proxy on a closed loopback port: the references
    // the catalog does not answer (one pinned, three digest-only) fail like an unreachable
    // registry would, without any traffic leaving the machine.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind")
        .port();
    let proxy = format!("http://127.0.0.1:{port}");
    let (dir, original) = corpus_copy();
    let catalog = fake_catalog();
    let out = pin_lint()
        .args([
            "--fix",
            "--catalog",
            catalog.to_str().expect("utf-8"),
            "corpus",
        ])
        .env("HTTPS_PROXY", &proxy)
        .env("HTTP_PROXY", &proxy)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .current_dir(dir.path())
        .output()
        .expect("pin-lint runs");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    let registries: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("pin-lint: error: ") && l.ends_with("failed)"))
        .collect();
    assert_eq!(registries.len(), 3, "one line per failing registry:\n{err}");
    for registry in ["docker.io", "fake.example.com", "mcr.microsoft.com"] {
        assert!(registries.iter().any(|l| l.contains(registry)), "{err}");
    }

    // The file whose pinned `mysql:8.4.9` could not be checked is untouched (it has nothing
    // else to pin; tests/fix_files.rs shows a file with pins left whole); digest-only
    // references have no fix, so their files are still pinned; all else as offline.
    let untouched = "zizmorcore-zizmor/crates/zizmor/tests/integration/test-data/unpinned-images/issue-2097-repro.yml";
    assert!(
        err.contains(&format!(
            "corpus/{untouched}: left untouched: could not resolve mysql:8.4.9"
        )),
        "{err}"
    );
    let fixed = read_tree(&dir.path().join("corpus"));
    let mut expected = expected_tree(&original);
    expected.insert(untouched.to_string(), original[untouched].clone());
    for (rel, bytes) in &fixed {
        assert!(bytes == &expected[rel], "{rel}: unexpected content");
    }
}
