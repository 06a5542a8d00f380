//! The Dockerfiles of the shared container-file corpus (`corpus-images/`) against the
//! independent oracle `oracle/images/expected.tsv`:
//! - `pin-lint refs --format json` reports every Dockerfile row (file, line, column, kind,
//!   site, state, text) and nothing else for those files;
//! - `--fix --offline` with a catalog made here for every unpinned reference adds exactly the
//!   digests and nothing else, a second run changes nothing, and every fixed file tokenizes to
//!   the same instructions once the digests are taken out again.

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use pin_core::dialect::dockerfile::is_dockerfile;
use pin_core::dockerfile;
use sha2::{Digest, Sha256};
use support::{only_digests_added, read_tree, run_in as run, stderr, Row, Tree};

fn corpus() -> std::path::PathBuf {
    support::shared_dir().join("corpus-images")
}

/// The oracle's Dockerfile rows.
fn expected() -> BTreeSet<Row> {
    support::oracle_rows("oracle/images/expected.tsv")
        .into_iter()
        .filter(|row| is_dockerfile(&row.0))
        .collect()
}

/// `refs --format json` in `dir`, the rows of Dockerfiles only.
fn reported(dir: &Path) -> BTreeSet<Row> {
    let output = run(dir, &["refs", "--format", "json"]);
    assert!(output.status.success(), "refs failed: {}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    json["references"]
        .as_array()
        .expect("references array")
        .iter()
        .map(support::reference_row)
        .filter(|row| is_dockerfile(&row.0))
        .collect()
}

#[test]
fn refs_match_the_oracle_for_every_dockerfile() {
    let expected = expected();
    let got = reported(&corpus());
    support::assert_rows_match(&expected, &got);
    assert_eq!(got.len(), 43, "the oracle has 43 Dockerfile rows");
    // Every site and state of the conventions occurs.
    let sites: BTreeSet<&str> = got.iter().map(|r| r.4.as_str()).collect();
    assert_eq!(
        sites.into_iter().collect::<Vec<_>>(),
        [
            "dockerfile-arg",
            "dockerfile-copy-from",
            "dockerfile-from",
            "dockerfile-mount-from",
            "dockerfile-syntax"
        ]
    );
}

/// A fake digest for a reference: the SHA-256 of its text.
fn fake_digest(reference: &str) -> String {
    let hash = Sha256::digest(reference.as_bytes());
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// What the tokenizer makes of a file, as plain text: directives, then per instruction its
/// keyword, flags, arguments, JSON form and heredoc terminators.
fn instructions(text: &str) -> Vec<String> {
    let file = dockerfile::parse(text);
    let directives = file
        .directives
        .iter()
        .map(|d| format!("# {}={}", d.name, d.value.text));
    let instructions = file.instructions.iter().map(|i| {
        let words = |w: &[dockerfile::Word<'_>]| {
            w.iter()
                .map(|w| w.text.to_string())
                .collect::<Vec<_>>()
                .join(" | ")
        };
        let heredocs: Vec<&str> = i.heredocs.iter().map(|h| h.name.as_str()).collect();
        format!(
            "{} [{}] [{}] json={} heredocs={heredocs:?}",
            i.keyword.text,
            words(&i.flags),
            words(&i.args),
            i.json
        )
    });
    assert!(file.errors.is_empty(), "{:?}", file.errors);
    directives.chain(instructions).collect()
}

#[test]
fn offline_fix_adds_exactly_the_digests_converges_and_keeps_the_instructions() {
    // A writable copy of the corpus's Dockerfiles.
    let original: Tree = read_tree(&corpus())
        .into_iter()
        .filter(|(rel, _)| is_dockerfile(rel))
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    for (rel, bytes) in &original {
        let path = dir.path().join("corpus").join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, bytes).expect("write");
    }
    // A catalog entry for every unpinned reference of the oracle.
    let unpinned: Vec<Row> = expected()
        .into_iter()
        .filter(|r| r.3 == "container" && r.5 == "unpinned")
        .collect();
    let catalog: String = unpinned
        .iter()
        .map(|r| format!("{}\t{}\n", r.6, fake_digest(&r.6)))
        .collect();
    std::fs::write(dir.path().join("catalog.tsv"), catalog).expect("catalog");
    let args = ["--fix", "--offline", "--catalog", "catalog.tsv", "corpus"];
    let out = run(dir.path(), &args);
    let files: BTreeSet<&str> = unpinned.iter().map(|r| r.0.as_str()).collect();
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "Fixed {} references in {} files ({} pinned, 0 bumped, 0 re-pinned).",
            unpinned.len(),
            files.len(),
            unpinned.len()
        )),
        "{err}"
    );
    assert_eq!(out.status.code(), Some(0), "{err}");
    let fixed = read_tree(&dir.path().join("corpus"));
    assert_eq!(fixed.len(), original.len());

    for (rel, bytes) in &fixed {
        let before = &original[rel];
        // Only `@sha256:…` inserted, one per unpinned reference, each right after it.
        let added = only_digests_added(before, bytes).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let of_file: Vec<&Row> = unpinned.iter().filter(|r| &r.0 == rel).collect();
        assert_eq!(added, of_file.len(), "{rel}");
        let text = std::str::from_utf8(bytes).expect("UTF-8");
        let pins: Vec<String> = of_file
            .iter()
            .map(|r| format!("@{}", fake_digest(&r.6)))
            .collect();
        for row in of_file {
            let pinned = format!("{}@{}", row.6, fake_digest(&row.6));
            let line = text.lines().nth(row.1 as usize - 1).expect("line");
            let col = row.2 as usize - 1;
            assert_eq!(
                line.get(col..col + pinned.len()),
                Some(pinned.as_str()),
                "{rel}:{}",
                row.1
            );
        }
        // The same instructions, apart from the digests added.
        let before = std::str::from_utf8(before).expect("UTF-8");
        let unfixed: Vec<String> = instructions(text)
            .into_iter()
            .map(|mut i| {
                for pin in &pins {
                    i = i.replace(pin.as_str(), "");
                }
                i
            })
            .collect();
        assert_eq!(instructions(before), unfixed, "{rel}");
    }

    // A second run changes nothing, and every reference of the fixed tree is pinned.
    support::assert_second_fix_changes_nothing(
        dir.path(),
        &args,
        &dir.path().join("corpus"),
        &fixed,
    );
    let rows = reported(dir.path());
    assert!(
        rows.iter().all(|r| r.5 != "unpinned"),
        "{:#?}",
        rows.iter()
            .filter(|r| r.5 == "unpinned")
            .collect::<Vec<_>>()
    );
}
