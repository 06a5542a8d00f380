//! Container files (Dockerfile, Compose, devcontainer.json, Kubernetes, kustomize, Helm
//! templates): `pin-lint refs --format json` over the shared `corpus-images/` reports exactly
//! the rows of the independent oracle `oracle/images/expected.tsv`, and `--fix` with a catalog
//! for every unpinned reference changes each file only by the added digests, and every fixed
//! YAML and JSONC file parses to the same document apart from the digests.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use pin_core::jsonc::{self, Json, JsonValue};
use pin_core::yaml::{self, Node, Value};

use support::Row;

/// The corpus of container files, checked to be there (see `support::shared_dir`).
fn corpus() -> PathBuf {
    let dir = support::shared_dir().join("corpus-images");
    assert!(
        dir.is_dir(),
        "container-file corpus not found at {}",
        dir.display()
    );
    dir
}

fn expected() -> BTreeSet<Row> {
    support::oracle_rows("oracle/images/expected.tsv")
}

/// `refs --format json` run in `dir`: the JSON references.
fn refs(dir: &Path) -> Vec<serde_json::Value> {
    let output = support::run_in(dir, &["refs", "--format", "json"]);
    assert!(
        output.status.success(),
        "refs failed: {}",
        support::stderr(&output)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    assert_eq!(json["version"], 1);
    json["references"]
        .as_array()
        .expect("references array")
        .clone()
}

fn row(r: &serde_json::Value) -> Row {
    support::reference_row(r)
}

#[test]
fn refs_match_the_images_oracle_exactly() {
    let got: BTreeSet<Row> = refs(&corpus()).iter().map(row).collect();
    let expected = expected();
    let all = &expected;
    let missing: Vec<_> = expected.difference(&got).collect();
    let extra: Vec<_> = got.difference(&expected).collect();
    let found = expected.len() - missing.len();
    println!(
        "recall {found}/{} = {:.1}%, precision {found}/{} = {:.1}%",
        expected.len(),
        100.0 * found as f64 / expected.len() as f64,
        got.len(),
        100.0 * found as f64 / got.len().max(1) as f64,
    );
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{} missing: {missing:#?}\n{} not in the oracle: {extra:#?}",
        missing.len(),
        extra.len()
    );
    assert_eq!(all.len(), 98, "the oracle has 98 rows");
}

/// The catalog key of a reference as `refs` describes it (registry, repository, tag: for a
/// kustomize entry, the image the entry produces), and a digest made up for it.
fn catalog_entry(r: &serde_json::Value) -> (String, String) {
    let registry = r["registry"].as_str().expect("registry");
    let repository = r["repository"].as_str().expect("repository");
    let tag = r["tag"].as_str().unwrap_or("latest");
    let key = format!("{registry}/{repository}:{tag}");
    let mut hex = String::new();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    while hex.len() < 64 {
        for b in key.bytes().chain(hex.len().to_le_bytes()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        let _ = write!(hex, "{h:016x}");
    }
    (key, format!("sha256:{hex}"))
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("readable") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::write(&target, std::fs::read(entry.path()).expect("read")).expect("write");
        }
    }
}

fn read_tree(dir: &Path, below: &Path, out: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).expect("readable") {
        let entry = entry.expect("entry");
        let path = entry.path();
        if entry.file_type().expect("type").is_dir() {
            read_tree(&path, below, out);
        } else {
            let rel = path.strip_prefix(below).expect("below");
            let text = std::fs::read_to_string(&path).expect("UTF-8");
            out.insert(rel.to_string_lossy().replace('\\', "/"), text);
        }
    }
}

/// A YAML document as text, without digests: `@sha256:<hex>` suffixes of scalars and `digest`
/// keys are left out, so a file and its pinned copy give the same dump.
fn dump(node: &Node<'_>, out: &mut String) {
    match &node.value {
        Value::Scalar(s, _) => {
            let plain = match s.find("@sha256:") {
                Some(at) => &s[..at],
                None => s,
            };
            let _ = write!(out, "{plain:?}");
        }
        Value::Mapping(pairs) => {
            out.push('{');
            for (k, v) in pairs.iter().filter(|(k, _)| k.as_str() != Some("digest")) {
                dump(k, out);
                out.push(':');
                dump(v, out);
                out.push(',');
            }
            out.push('}');
        }
        Value::Sequence(items) => {
            out.push('[');
            for i in items {
                dump(i, out);
                out.push(',');
            }
            out.push(']');
        }
        Value::Alias => out.push('*'),
    }
}

fn yaml_dump(text: &str) -> String {
    let parsed = yaml::parse(text)
        .map_err(|(e, _)| e)
        .expect("the file parses");
    let mut out = String::new();
    for doc in &parsed.documents {
        dump(doc, &mut out);
        out.push('\n');
    }
    out
}

/// Text without `@sha256:<hex>` digests (dev container feature keys and images carry them).
fn without_digest(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("@sha256:") {
        out.push_str(&rest[..at]);
        let hex = rest[at + "@sha256:".len()..]
            .bytes()
            .take_while(u8::is_ascii_hexdigit)
            .count();
        rest = &rest[at + "@sha256:".len() + hex..];
    }
    out.push_str(rest);
    out
}

/// A JSONC value as text, without digests in its strings and member keys (which is where
/// `--fix` puts them), so a file and its pinned copy give the same dump.
fn json_dump(src: &str, value: &Json, out: &mut String) {
    match &value.value {
        JsonValue::String(span) => {
            let _ = write!(out, "{:?}", without_digest(&src[span.clone()]));
        }
        JsonValue::Scalar => {
            let _ = write!(out, "{}", &src[value.span.clone()]);
        }
        JsonValue::Object(members) => {
            out.push('{');
            for (key, member) in members {
                let _ = write!(out, "{:?}:", without_digest(&src[key.clone()]));
                json_dump(src, member, out);
                out.push(',');
            }
            out.push('}');
        }
        JsonValue::Array(items) => {
            out.push('[');
            for item in items {
                json_dump(src, item, out);
                out.push(',');
            }
            out.push(']');
        }
    }
}

fn jsonc_dump(text: &str) -> String {
    let document = jsonc::parse(text)
        .map_err(|(e, _)| e)
        .expect("the file parses as JSONC");
    let mut out = String::new();
    json_dump(text, &document.root, &mut out);
    for comment in &document.comments {
        let _ = write!(out, "\n// {:?}", comment.text);
    }
    out
}

#[test]
fn fix_with_a_catalog_adds_only_digests_and_converges() {
    let work = tempfile::tempdir().expect("tempdir");
    let tree = work.path().join("tree");
    std::fs::create_dir(&tree).expect("mkdir");
    copy_tree(&corpus(), &tree);
    let before_refs = refs(&tree);

    // A catalog entry for every unpinned container reference (untagged ones included: they
    // must stay as they are, since pinning them would add a tag).
    let mut catalog = String::new();
    let mut digests = BTreeMap::new();
    for r in before_refs
        .iter()
        .filter(|r| r["kind"] == "container" && r["state"] == "unpinned")
    {
        let (key, digest) = catalog_entry(r);
        let _ = writeln!(catalog, "{key}\t{digest}");
        digests.insert(row(r), (r["tag"].is_string(), digest));
    }
    let catalog_path = work.path().join("catalog.tsv");
    std::fs::write(&catalog_path, &catalog).expect("write catalog");
    let catalog_arg = catalog_path.to_string_lossy().into_owned();

    let mut before = BTreeMap::new();
    read_tree(&tree, &tree, &mut before);
    let fix = [
        "check",
        "--fix",
        "--offline",
        "--catalog",
        &catalog_arg,
        ".",
    ];
    let out = support::run_in(&tree, &fix);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "--fix failed: {}",
        support::stderr(&out)
    );
    let mut after = BTreeMap::new();
    read_tree(&tree, &tree, &mut after);

    // Every file changes only by the digests: taking them out gives the original back.
    let mut changed = 0;
    let mut yaml_checked = 0;
    let mut jsonc_changed = 0;
    for (path, old) in &before {
        let new = &after[path];
        if new != old {
            changed += 1;
        }
        let mut undone = new.clone();
        for (_, digest) in digests.values() {
            undone = undone.replace(&format!("@{digest}"), "");
            for eol in ["\r\n", "\n"] {
                let line_start = undone.clone();
                undone = remove_digest_lines(&line_start, digest, eol);
            }
        }
        assert_eq!(&undone, old, "{path} changed by more than its digests");
        let yaml = path.ends_with(".yaml") || path.ends_with(".yml");
        if yaml && !path.contains("/templates/") {
            assert_eq!(yaml_dump(new), yaml_dump(old), "{path} parses differently");
            yaml_checked += 1;
        }
        if path.ends_with(".json") {
            assert_eq!(
                jsonc_dump(new),
                jsonc_dump(old),
                "{path} parses differently"
            );
            if new != old {
                jsonc_changed += 1;
            }
        }
    }

    // Every tagged unpinned reference is now pinned to its digest; the rest are as they were.
    // References are listed in file and source order, so the two lists pair up one to one
    // (positions move where a kustomize `digest:` line was added above).
    let after_refs = refs(&tree);
    assert_eq!(after_refs.len(), before_refs.len());
    let mut pinned = 0;
    for (r, now) in before_refs.iter().zip(&after_refs) {
        let key = row(r);
        assert_eq!((&now["path"], &now["site"]), (&r["path"], &r["site"]));
        match digests.get(&key) {
            Some((true, digest)) => {
                pinned += 1;
                assert_eq!(now["state"], "pinned", "{key:?}");
                if r["site"] == "kustomize-image" {
                    assert_eq!(now["text"], r["text"]);
                } else {
                    assert_eq!(now["text"].as_str(), Some(&*format!("{}@{digest}", key.6)));
                    assert_eq!((&now["line"], &now["column"]), (&r["line"], &r["column"]));
                }
            }
            _ => assert_eq!(
                (&now["kind"], &now["state"], &now["text"]),
                (&r["kind"], &r["state"], &r["text"]),
                "left alone"
            ),
        }
    }
    println!(
        "{pinned} references pinned in {changed} files; {yaml_checked} YAML files and \
         {jsonc_changed} changed JSONC files parse to the same documents apart from the digests"
    );
    assert!(pinned > 0 && changed > 0 && yaml_checked > 0 && jsonc_changed > 0);

    // A second run changes nothing.
    let out = support::run_in(&tree, &fix);
    assert!(matches!(out.status.code(), Some(0 | 1)));
    let mut again = BTreeMap::new();
    read_tree(&tree, &tree, &mut again);
    assert_eq!(again, after, "a second --fix changed files");
}

/// `text` without the lines that only hold `digest: <digest>` (a kustomize entry's new key).
fn remove_digest_lines(text: &str, digest: &str, eol: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(&format!("digest: {digest}")) {
        let line_start = rest[..at].rfind('\n').map_or(0, |i| i + 1);
        let line_end = at + "digest: ".len() + digest.len();
        let whole_line = rest[line_start..at].trim().is_empty();
        if whole_line && rest[line_end..].starts_with(eol) {
            out.push_str(&rest[..line_start]);
            rest = &rest[line_end + eol.len()..];
        } else if whole_line && line_end == rest.len() && line_start > 0 {
            // The last line of a file without a final line break: drop the break before it.
            let before = rest[..line_start]
                .strip_suffix(eol)
                .unwrap_or(&rest[..line_start]);
            out.push_str(before);
            rest = "";
        } else {
            out.push_str(&rest[..line_end]);
            rest = &rest[line_end..];
        }
    }
    out.push_str(rest);
    out
}
