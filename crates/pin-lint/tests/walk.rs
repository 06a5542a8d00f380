//! Which files a folder walk picks, through the real binary: `.gitignore` (nested, negated,
//! in folders above the path given), `.ignore`, `.git/info/exclude`, hidden folders, `.git`,
//! symbolic links (a loop included), a `pin-lint.toml` in a sub-folder (`[files]` for `refs`,
//! `exclude` for `check`) and a folder that cannot be read. Each tree is also walked by the
//! `ignore` crate's walker configured as pin-lint configured it before it had its own walk,
//! and both must pick the same files.

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use support::run_in;

/// A pipeline whose one container image names the file (so a reported reference names its
/// file).
fn pipeline(path: &str) -> String {
    let name: String = path
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("resources:\n  containers:\n  - container: a\n    image: example.com/{name}:1\n")
}

/// Write `files` below `root`: a file without text gets a pipeline naming it.
fn write(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let file = root.join(path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        let body = if text.is_empty() {
            pipeline(path)
        } else {
            (*text).to_string()
        };
        std::fs::write(&file, body).expect("write");
    }
}

/// The files with references that `pin-lint refs` reports for `paths`, run in `dir`.
fn refs(dir: &Path, paths: &[&str]) -> BTreeSet<String> {
    let mut args = vec!["refs", "--format", "json"];
    args.extend_from_slice(paths);
    let out = run_in(dir, &args);
    assert_eq!(out.status.code(), Some(0), "{}", support::stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    json["references"]
        .as_array()
        .expect("references")
        .iter()
        .map(|r| r["path"].as_str().expect("path").to_string())
        .collect()
}

/// The YAML files `ignore::WalkBuilder` finds below `path` (relative to `dir`), configured
/// as pin-lint's walk was: hidden files included, no git repository required, `.git` skipped.
/// Shown as pin-lint shows them when run in `dir`.
fn ignore_crate(dir: &Path, path: &str) -> BTreeSet<String> {
    let prefix = format!("{}/", dir.display());
    ignore::WalkBuilder::new(dir.join(path))
        .hidden(false)
        .require_git(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build()
        .map(|e| e.expect("entry"))
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(|e| e.path().to_string_lossy().into_owned())
        .filter(|p| p.ends_with(".yml"))
        .map(|p| {
            let p = p.strip_prefix(&prefix).expect("below the folder");
            p.strip_prefix("./").unwrap_or(p).to_string()
        })
        .collect()
}

/// A tree with every ignore rule the walk honours.
fn ignore_tree(root: &Path) {
    write(
        root,
        &[
            (
                ".gitignore",
                "ignored/\n*.skip.yml\n!keep.skip.yml\ndrop2.yml\n/only-top.yml\n",
            ),
            (".ignore", "!drop2.yml\nby-dot-ignore.yml\n"),
            ("a.yml", ""),
            ("drop2.yml", ""),
            ("by-dot-ignore.yml", ""),
            ("ignored/x.yml", ""),
            ("keep.skip.yml", ""),
            ("drop.skip.yml", ""),
            ("only-top.yml", ""),
            ("nested/only-top.yml", ""),
            ("nested/.gitignore", "local.yml\n!ignored/\n"),
            ("nested/local.yml", ""),
            ("nested/ignored/y.yml", ""),
            ("nested/deeper/z.skip.yml", ""),
            ("nested/deeper/w.yml", ""),
            (
                ".github/workflows/ci.yml",
                "jobs:\n  a:\n    runs-on: ubuntu-latest\n    container: example.com/ci:1\n",
            ),
            (".hidden.yml", ""),
            (".git/config.yml", ""),
            (".git/info/exclude", "by-info-exclude.yml\n"),
            ("by-info-exclude.yml", ""),
            ("sub/.git", "not a pointer\n"),
            ("sub/s.yml", ""),
        ],
    );
}

#[test]
fn gitignore_ignore_and_info_exclude_decide_like_the_ignore_crate() {
    let dir = tempfile::tempdir().expect("tempdir");
    ignore_tree(dir.path());
    let got = refs(dir.path(), &["."]);
    let expected: BTreeSet<String> = [
        ".github/workflows/ci.yml",
        ".hidden.yml",
        "a.yml",
        "drop2.yml",
        "keep.skip.yml",
        "nested/deeper/w.yml",
        "nested/ignored/y.yml",
        "nested/only-top.yml",
        "sub/s.yml",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(got, expected);
    assert_eq!(got, ignore_crate(dir.path(), "."));
}

#[test]
fn rules_of_folders_above_the_path_given_apply() {
    let dir = tempfile::tempdir().expect("tempdir");
    ignore_tree(dir.path());
    let inner = refs(&dir.path().join("nested"), &["deeper"]);
    assert_eq!(inner, BTreeSet::from(["deeper/w.yml".to_string()]));
    assert_eq!(inner, ignore_crate(&dir.path().join("nested"), "deeper"));
    // The same folder named from above, with a `./` and a trailing slash.
    for path in ["nested", "./nested/", "nested/deeper"] {
        assert_eq!(
            refs(dir.path(), &[path]),
            ignore_crate(dir.path(), path),
            "{path}"
        );
    }
}

#[cfg(unix)]
#[test]
fn symbolic_links_below_a_folder_are_not_followed_and_a_loop_ends() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), &[("real/a.yml", ""), ("other/b.yml", "")]);
    std::os::unix::fs::symlink("..", dir.path().join("real/loop")).expect("symlink");
    std::os::unix::fs::symlink("../other", dir.path().join("real/linked")).expect("symlink");
    std::os::unix::fs::symlink("a.yml", dir.path().join("real/alias.yml")).expect("symlink");
    std::os::unix::fs::symlink("missing", dir.path().join("real/broken.yml")).expect("symlink");
    let got = refs(dir.path(), &["real"]);
    assert_eq!(got, BTreeSet::from(["real/a.yml".to_string()]));
    assert_eq!(got, ignore_crate(dir.path(), "real"));
    // A link named on the command line is followed.
    std::os::unix::fs::symlink("other", dir.path().join("via")).expect("symlink");
    assert_eq!(
        refs(dir.path(), &["via", "real/alias.yml"]),
        BTreeSet::from(["real/alias.yml".to_string(), "via/b.yml".to_string()])
    );
}

#[test]
fn a_configuration_in_a_sub_folder_governs_only_below_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let service = "services:\n  app:\n    image: example.com/svc:1\n";
    write(
        dir.path(),
        &[
            (".git/HEAD", "ref: refs/heads/main\n"),
            ("top.svc", service),
            (
                "sub/pin-lint.toml",
                "exclude = [\"gen/**\"]\n[files]\ncompose = [\"*.svc\"]\n",
            ),
            ("sub/a.svc", service),
            ("sub/deeper/b.svc", service),
            ("sub/gen/c.yml", ""),
            ("sub/d.yml", ""),
            ("sub/repo/.git", "gitdir: /nowhere\n"),
            ("sub/repo/e.svc", service),
        ],
    );
    // `[files]` of sub/pin-lint.toml names `*.svc` below sub/, not above it, nor in a nested
    // repository (its `.git` ends the search for a configuration).
    assert_eq!(
        refs(dir.path(), &["."]),
        [
            "sub/a.svc",
            "sub/d.yml",
            "sub/deeper/b.svc",
            "sub/gen/c.yml"
        ]
        .into_iter()
        .map(String::from)
        .collect::<BTreeSet<_>>()
    );
    // `check` leaves out what its `exclude` names.
    let out = run_in(dir.path(), &["check", "--format", "json", "--offline", "."]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let files: BTreeSet<&str> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["path"].as_str().expect("path"))
        .collect();
    assert_eq!(
        files,
        BTreeSet::from(["sub/a.svc", "sub/d.yml", "sub/deeper/b.svc"]),
        "{}",
        support::stderr(&out)
    );
}

#[test]
fn an_invalid_configuration_below_stops_the_walk() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        &[
            ("a.yml", ""),
            ("sub/pin-lint.toml", "nonsense = 1\n"),
            ("sub/b.yml", ""),
        ],
    );
    let out = run_in(dir.path(), &["refs", "."]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = support::stderr(&out);
    assert!(stderr.contains("sub/pin-lint.toml"), "{stderr}");
}

/// Run `pin-lint refs` as an unprivileged user when the tests run as root (whom permissions
/// do not stop).
#[cfg(unix)]
fn refs_unprivileged(dir: &Path, path: &str) -> std::process::Output {
    let running_as_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let mut cmd = if running_as_root {
        let mut cmd = std::process::Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_pin-lint"));
        cmd
    } else {
        support::pin_lint()
    };
    cmd.args(["refs", path])
        .current_dir(dir)
        .output()
        .expect("pin-lint runs")
}

#[cfg(unix)]
#[test]
fn a_folder_that_cannot_be_read_is_an_error_naming_it() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::Builder::new()
        .prefix("walk")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("tempdir");
    write(dir.path(), &[("tree/a.yml", ""), ("tree/locked/b.yml", "")]);
    let mode = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    };
    for open in [dir.path().to_path_buf(), dir.path().join("tree")] {
        mode(&open, 0o755);
    }
    mode(&dir.path().join("tree/a.yml"), 0o644);
    mode(&dir.path().join("tree/locked"), 0o000);
    let out = refs_unprivileged(dir.path(), "tree");
    mode(&dir.path().join("tree/locked"), 0o755);
    assert_eq!(out.status.code(), Some(2), "{}", support::stderr(&out));
    assert_eq!(
        support::stderr(&out),
        "pin-lint: error: cannot walk `tree`: tree/locked: IO error for operation on \
         tree/locked: Permission denied (os error 13)\n"
    );
    // Ignored, it is not read at all.
    std::fs::write(dir.path().join("tree/.gitignore"), "locked/\n").expect("write");
    mode(&dir.path().join("tree/.gitignore"), 0o644);
    mode(&dir.path().join("tree/locked"), 0o000);
    let out = refs_unprivileged(dir.path(), "tree");
    mode(&dir.path().join("tree/locked"), 0o755);
    assert_eq!(out.status.code(), Some(0), "{}", support::stderr(&out));
}
