//! Helpers shared by the end-to-end tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

#[allow(unused_imports)] // not every test binary reads the shared data
pub use pin_test_support::shared_dir;

/// The `pin-lint` binary under test, run as from a user's terminal: without the CI variables
/// of the machine running the tests (`GITHUB_ACTIONS`, `TF_BUILD` choose the output format) and
/// without its Azure credentials, and with today's date from the clock (`PIN_LINT_TODAY`
/// unset). A test that wants them sets them.
pub fn pin_lint() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_pin-lint"));
    cmd.env_remove("GITHUB_ACTIONS")
        .env_remove("TF_BUILD")
        .env_remove("AZURE_ACCESS_TOKEN")
        .env_remove("PIN_LINT_TODAY");
    cmd
}

/// The project's own fixtures folder (`<workspace>/tests/fixtures`).
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// Run `pin-lint` (see [`pin_lint`]) with `args` in `dir`.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    pin_lint()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("pin-lint runs")
}

/// What a run wrote to stderr, lossily decoded.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Files by path relative to a root folder (forward slashes).
pub type Tree = BTreeMap<String, Vec<u8>>;

/// Every file below `root`, by path relative to it.
pub fn read_tree(root: &Path) -> Tree {
    fn walk(root: &Path, dir: &Path, out: &mut Tree) {
        for entry in std::fs::read_dir(dir).expect("list") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("below root");
                let rel = rel.to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    let mut out = Tree::new();
    walk(root, root, &mut out);
    out
}

/// Check that `fixed` is `original` plus inserted `@sha256:<64 hex>` and nothing else,
/// returning how many were inserted.
pub fn only_digests_added(original: &[u8], fixed: &[u8]) -> Result<usize, String> {
    let (mut i, mut j, mut added) = (0, 0, 0);
    while j < fixed.len() {
        if i < original.len() && original[i] == fixed[j] {
            i += 1;
            j += 1;
            continue;
        }
        let pin = fixed.get(j..j + 72).unwrap_or_default();
        let is_pin = pin.starts_with(b"@sha256:")
            && pin[8..]
                .iter()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b));
        if !is_pin {
            return Err(format!("unexpected byte change at original offset {i}"));
        }
        j += 72;
        added += 1;
    }
    if i == original.len() {
        Ok(added)
    } else {
        Err(format!("bytes removed from offset {i}"))
    }
}

/// Run `--fix` `args` in `dir` once more: it must fix nothing and leave the files below
/// `root` exactly as `fixed`.
pub fn assert_second_fix_changes_nothing(dir: &Path, args: &[&str], root: &Path, fixed: &Tree) {
    let again = run_in(dir, args);
    assert!(
        stderr(&again).contains("Fixed 0 references in 0 files"),
        "{}",
        stderr(&again)
    );
    assert!(&read_tree(root) == fixed, "second run changed files");
}

/// One row of an oracle table or of `refs --format json`: file, line, column, kind, site,
/// state, text.
pub type Row = (String, u64, u64, String, String, String, String);

/// The rows of the oracle table at `rel` below the shared folder (`oracle/expected.tsv`,
/// `oracle/images/expected.tsv`).
pub fn oracle_rows(rel: &str) -> std::collections::BTreeSet<Row> {
    let path = shared_dir().join(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} is not readable: {e}", path.display()));
    text.lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 7, "malformed oracle row: {line}");
            (
                f[0].to_string(),
                f[1].parse().expect("line"),
                f[2].parse().expect("column"),
                f[3].to_string(),
                f[4].to_string(),
                f[5].to_string(),
                f[6].to_string(),
            )
        })
        .collect()
}

/// The [`Row`] of one reference of `refs --format json`.
pub fn reference_row(r: &serde_json::Value) -> Row {
    let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
    (
        s("path"),
        r["line"].as_u64().expect("line"),
        r["column"].as_u64().expect("column"),
        s("kind"),
        s("site"),
        s("state"),
        s("text"),
    )
}

/// `got` holds exactly the `expected` rows: otherwise fail with the recall and every row
/// missing or extra.
pub fn assert_rows_match(
    expected: &std::collections::BTreeSet<Row>,
    got: &std::collections::BTreeSet<Row>,
) {
    let missing: Vec<_> = expected.difference(got).collect();
    let extra: Vec<_> = got.difference(expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "recall {}/{}; {} missing: {missing:#?}\n{} not in the oracle: {extra:#?}",
        expected.len() - missing.len(),
        expected.len(),
        missing.len(),
        extra.len()
    );
}
