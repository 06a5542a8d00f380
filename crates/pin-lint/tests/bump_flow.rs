//! The code-flow loop of the nightly job, end to end: `scripts/pin-bump` against a bare git
//! remote and a real registry on loopback (`docker-registry` + `skopeo`), with recording
//! stand-ins for `gh` and `az` on PATH that write down their arguments and answer like the
//! real CLIs. One commit per image, the validation runs of `[bump]` per provider, and the
//! branch force-updated without an image that a `[[hold]]` keeps back.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pin_test_support::{push_image, ImageSpec, Registry};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("git runs (install git)");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The stand-in for `gh`: records its argv (one line, arguments separated by `|`, newlines
/// inside an argument written as `\n`) and the
/// body file it is given; `pr view` answers OPEN once a PR was created.
const GH: &str = r#"#!/usr/bin/env bash
set -euo pipefail
printf '%s' gh >>"$RECORD/calls"; printf '|%s' "${@//$'\n'/\\n}" >>"$RECORD/calls"; echo >>"$RECORD/calls"
n=$(wc -l <"$RECORD/calls")
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [[ "${args[i]}" == --body-file ]] && cp "${args[i+1]}" "$RECORD/body-$n.md"
done
case "$1 ${2:-}" in
  "pr view") [[ -f "$RECORD/pr-open" ]] || { echo "no pull requests found for branch \"$3\"" >&2; exit 1; }; echo OPEN ;;
  "pr create") touch "$RECORD/pr-open"; echo "https://github.com/org/repo/pull/7" ;;
  "pr edit"|"pr comment") echo "https://github.com/org/repo/pull/7#issuecomment-1" ;;
  "workflow run") echo "Created workflow_dispatch event for $3 at ${5:-}" ;;
  *) echo "gh: unexpected call: $*" >&2; exit 1 ;;
esac
"#;

/// The stand-in for `az`: records its argv; `repos pr list` answers the id of the PR once
/// one was created.
const AZ: &str = r#"#!/usr/bin/env bash
set -euo pipefail
printf '%s' az >>"$RECORD/calls"; printf '|%s' "${@//$'\n'/\\n}" >>"$RECORD/calls"; echo >>"$RECORD/calls"
case "$1 ${2:-} ${3:-}" in
  "repos pr list") [[ -f "$RECORD/pr-open" ]] && echo 42 || true ;;
  "repos pr create") touch "$RECORD/pr-open"; echo '{"pullRequestId": 42}' ;;
  "repos pr update") echo '{"pullRequestId": 42}' ;;
  "pipelines run "*) echo '{"id": 1001, "status": "notStarted"}' ;;
  *) echo "az: unexpected call: $*" >&2; exit 1 ;;
esac
"#;

/// A work repository on `main` pushed to a bare `origin`, the stand-ins, and a registry.
struct Flow {
    dir: tempfile::TempDir,
    work: PathBuf,
    remote: PathBuf,
    record: PathBuf,
    bin: PathBuf,
    reg: Registry,
}

impl Flow {
    fn new() -> Flow {
        let reg = Registry::start();
        let dir = tempfile::tempdir().expect("tempdir");
        let work = dir.path().join("work");
        let remote = dir.path().join("remote.git");
        let record = dir.path().join("record");
        let bin = dir.path().join("bin");
        for d in [&work, &record, &bin] {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        for (name, text) in [("gh", GH), ("az", AZ)] {
            let path = bin.join(name);
            std::fs::write(&path, text).expect("stand-in");
            let mut perms = std::fs::metadata(&path).expect("meta").permissions();
            std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
            std::fs::set_permissions(&path, perms).expect("chmod");
        }
        git(
            dir.path(),
            &["init", "-q", "--bare", "-b", "main", "remote.git"],
        );
        git(&work, &["init", "-q", "-b", "main"]);
        git(&work, &["config", "user.name", "Test"]);
        git(&work, &["config", "user.email", "test@example.invalid"]);
        git(
            &work,
            &["remote", "add", "origin", remote.to_str().expect("utf-8")],
        );
        Flow {
            dir,
            work,
            remote,
            record,
            bin,
            reg,
        }
    }

    fn addr(&self) -> &str {
        &self.reg.addr
    }

    fn push(&self, repo: &str, marker: &str) -> String {
        push_image(self.addr(), repo, "1", &[ImageSpec::new("amd64", marker)])
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.work.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    fn commit_and_push(&self, message: &str) {
        git(&self.work, &["add", "."]);
        git(&self.work, &["commit", "-q", "-m", message]);
        git(&self.work, &["push", "-q", "origin", "main"]);
    }

    fn bump(&self, extra: &[&str]) -> Output {
        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = Command::new("bash")
            .arg(workspace().join("scripts/pin-bump"))
            .args(extra)
            .args(["--pin-lint", env!("CARGO_BIN_EXE_pin-lint"), "--", "."])
            .current_dir(&self.work)
            .env("PATH", path)
            .env("RECORD", &self.record)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", &self.work)
            .env_remove("GITHUB_ACTIONS")
            .env_remove("TF_BUILD")
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "pin-bump failed ({}):\n{}\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.reg.log()
        );
        out
    }

    /// The recorded calls, one `tool|arg|arg…` line each.
    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.record.join("calls"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The body file given with call number `n` (1-based).
    fn body(&self, n: usize) -> String {
        std::fs::read_to_string(self.record.join(format!("body-{n}.md"))).expect("body recorded")
    }

    fn remote_git(&self, args: &[&str]) -> String {
        git(&self.remote, args)
    }

    fn forget_calls(&self) {
        let _ = std::fs::remove_file(self.record.join("calls"));
    }
}

const VALIDATE: &str = "validate = [\"runtime-extra-platforms\", \"runtime-coreclr outerloop\"]\n";

/// Two images pinned on main (`a` in two files, `b` in one, CRLF line ends in one), then
/// both tags move.
fn two_stale_images(flow: &Flow, bump_table: &str) -> (String, String) {
    let addr = flow.addr().to_owned();
    let a1 = flow.push("team/a", "a one");
    let b1 = flow.push("team/b", "b one");
    flow.write(
        "pin-lint.toml",
        &format!("insecure-registries = [\"{addr}\"]\n\n[bump]\n{bump_table}"),
    );
    flow.write(
        "eng/pipelines/ci.yml",
        &format!(
            "resources:\r\n  containers:\r\n  - container: a\r\n    image: {addr}/team/a:1@{a1}  # A\r\n  - container: b\r\n    image: \"{addr}/team/b:1@{b1}\"\r\n"
        ),
    );
    flow.write(
        ".github/workflows/test.yml",
        &format!("on: push\njobs:\n  test:\n    runs-on: ubuntu-24.04\n    container: {addr}/team/a:1@{a1}\n    steps:\n    - run: make test"),
    );
    flow.commit_and_push("initial");
    let a2 = flow.push("team/a", "a two");
    let b2 = flow.push("team/b", "b two");
    assert_ne!(a1, a2);
    assert_ne!(b1, b2);
    (a2, b2)
}

#[test]
fn night_one_opens_one_pr_with_a_commit_per_image_and_the_azp_comment() {
    let flow = Flow::new();
    let addr = flow.addr().to_owned();
    let (a2, b2) = two_stale_images(&flow, &format!("ci = \"azure-pipelines\"\n{VALIDATE}"));
    let main = flow.remote_git(&["rev-parse", "main"]);

    let night1 = flow.bump(&["--provider", "github"]);
    let printed = String::from_utf8_lossy(&night1.stdout).into_owned();

    // One commit per image, in the order of the image names, on top of main.
    let series = flow.remote_git(&["log", "--reverse", "--format=%H %s", "main..bot/pin-bump"]);
    let series: Vec<(&str, &str)> = series
        .lines()
        .map(|l| l.split_once(' ').expect("sha subject"))
        .collect();
    let subjects: Vec<&str> = series.iter().map(|(_, s)| *s).collect();
    assert_eq!(
        subjects,
        [
            format!("Bump {addr}/team/a:1"),
            format!("Bump {addr}/team/b:1")
        ]
    );
    let (sha_a, sha_b) = (series[0].0, series[1].0);
    assert_eq!(flow.remote_git(&["rev-parse", &format!("{sha_a}^")]), main);
    // A's commit touches both files that use A and nothing of B; B's only B's line.
    let a_diff = flow.remote_git(&["show", "--format=", "-U0", sha_a]);
    assert_eq!(a_diff.matches(&a2).count(), 2, "{a_diff}");
    assert!(!a_diff.contains(&b2), "{a_diff}");
    let b_files = flow.remote_git(&["show", "--format=", "--name-only", sha_b]);
    assert_eq!(b_files, "eng/pipelines/ci.yml");
    // Every other byte survives: CRLF, quotes, comments, the missing final newline.
    let ci = flow.remote_git(&["show", "bot/pin-bump:eng/pipelines/ci.yml"]);
    assert!(
        ci.contains(&format!("image: {addr}/team/a:1@{a2}  # A\r\n")),
        "{ci:?}"
    );
    assert!(
        ci.ends_with(&format!("image: \"{addr}/team/b:1@{b2}\"")),
        "{ci:?}"
    );
    let test = flow.remote_git(&["show", "bot/pin-bump:.github/workflows/test.yml"]);
    assert!(test.ends_with("- run: make test"), "{test:?}");

    // gh: no open PR yet, so one is created; then the one `/azp run` comment.
    let calls = flow.calls();
    assert_eq!(calls.len(), 3, "{calls:#?}");
    assert_eq!(calls[0], "gh|pr|view|bot/pin-bump|--json|state|--jq|.state");
    assert!(
        calls[1].starts_with("gh|pr|create|--base|main|--head|bot/pin-bump|--title|Bump pinned container image digests|--body-file|"),
        "{calls:#?}"
    );
    assert_eq!(
        calls[2],
        "gh|pr|comment|bot/pin-bump|--body|/azp run runtime-extra-platforms, runtime-coreclr outerloop"
    );
    let body = flow.body(2);
    assert!(
        body.contains("across 2 images: 0 pinned, 3 bumped, 0 re-pinned."),
        "{body}"
    );
    assert!(
        body.contains("## Validation runs\n\nRequested with the PR comment `/azp run runtime-extra-platforms, runtime-coreclr outerloop`:\n\n- `runtime-extra-platforms`\n- `runtime-coreclr outerloop`\n"),
        "{body}"
    );
    assert!(
        body.contains(&format!("- Bump {addr}/team/a:1: revert `{sha_a}` to drop this image\n- Bump {addr}/team/b:1: revert `{sha_b}` to drop this image\n")),
        "{body}"
    );
    assert!(printed.contains(&body), "the body is printed too");

    // The same night again: the branch already holds this series; no push, no PR call, no
    // second comment.
    flow.forget_calls();
    let again = flow.bump(&["--provider", "github"]);
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already up to date; nothing pushed"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(flow.calls().is_empty(), "{:#?}", flow.calls());
    assert_eq!(flow.remote_git(&["rev-parse", "bot/pin-bump"]), sha_b);

    // Reverting one image's commit drops exactly that image.
    git(&flow.work, &["fetch", "-q", "origin"]);
    git(
        &flow.work,
        &["checkout", "-q", "-b", "review", "origin/bot/pin-bump"],
    );
    git(&flow.work, &["revert", "--no-edit", sha_b]);
    let ci = std::fs::read_to_string(flow.work.join("eng/pipelines/ci.yml")).expect("read");
    assert!(ci.contains(&a2) && !ci.contains(&b2), "{ci:?}");
    git(&flow.work, &["checkout", "-q", "main"]);
}

#[test]
fn validation_runs_per_provider() {
    // Azure Repos + Azure Pipelines: one `az pipelines run` per pipeline on the bot branch.
    let flow = Flow::new();
    two_stale_images(&flow, &format!("provider = \"azure\"\n{VALIDATE}"));
    flow.bump(&[]);
    let calls = flow.calls();
    assert_eq!(calls.len(), 4, "{calls:#?}");
    assert!(
        calls[0].starts_with("az|repos|pr|list|--source-branch|bot/pin-bump|--target-branch|main|"),
        "{calls:#?}"
    );
    assert!(calls[1].starts_with("az|repos|pr|create|--source-branch|bot/pin-bump|--target-branch|main|--title|Bump pinned container image digests|--description|"), "{calls:#?}");
    assert!(
        calls[1].contains("Queued with `az pipelines run` on `bot/pin-bump`:"),
        "{calls:#?}"
    );
    assert_eq!(
        calls[2..],
        [
            "az|pipelines|run|--name|runtime-extra-platforms|--branch|bot/pin-bump",
            "az|pipelines|run|--name|runtime-coreclr outerloop|--branch|bot/pin-bump",
        ]
    );

    // GitHub Actions, names from the flags (they win over `[bump]`), and an open PR is
    // edited instead of created.
    let flow = Flow::new();
    two_stale_images(&flow, VALIDATE);
    std::fs::write(flow.record.join("pr-open"), "").expect("open PR");
    flow.bump(&["--ci", "github-actions", "--validate", "outerloop.yml"]);
    let calls = flow.calls();
    assert_eq!(calls.len(), 3, "{calls:#?}");
    assert!(
        calls[1].starts_with("gh|pr|edit|bot/pin-bump|--title|"),
        "{calls:#?}"
    );
    assert!(flow
        .body(2)
        .contains("Dispatched with `gh workflow run` on `bot/pin-bump`:\n\n- `outerloop.yml`\n"));
    assert_eq!(calls[2], "gh|workflow|run|outerloop.yml|--ref|bot/pin-bump");

    // `--dry-run` prints every command instead of running it.
    let flow = Flow::new();
    two_stale_images(&flow, &format!("ci = \"azure-pipelines\"\n{VALIDATE}"));
    let dry = flow.bump(&["--dry-run"]);
    let out = String::from_utf8_lossy(&dry.stdout);
    assert!(flow.calls().is_empty(), "{:#?}", flow.calls());
    assert!(
        out.contains("dry-run: gh pr create --base main --head bot/pin-bump "),
        "{out}"
    );
    assert!(
        out.contains("dry-run: gh pr comment bot/pin-bump --body /azp\\ run\\ runtime-extra-platforms\\,\\ runtime-coreclr\\ outerloop\n"),
        "{out}"
    );
    let _ = &flow.dir;
}

/// `pin-lint check --format json .` in the work tree with today's date set; the findings as
/// `rule path:line message`.
fn check_on(flow: &Flow, today: &str) -> Vec<String> {
    let out = support::pin_lint()
        .args(["check", "--format", "json", "."])
        .current_dir(&flow.work)
        .env("PIN_LINT_TODAY", today)
        .output()
        .expect("pin-lint runs");
    assert_eq!(out.status.code(), Some(0), "{}", support::stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{} {}:{} {}",
                f["rule"].as_str().unwrap_or_default(),
                f["path"].as_str().unwrap_or_default(),
                f["line"],
                f["message"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

#[test]
fn night_two_holds_back_the_image_that_broke_the_outer_loop() {
    let flow = Flow::new();
    let addr = flow.addr().to_owned();
    let (a2, b2) = two_stale_images(&flow, &format!("ci = \"azure-pipelines\"\n{VALIDATE}"));
    let b1 = {
        let ci = std::fs::read_to_string(flow.work.join("eng/pipelines/ci.yml")).expect("read");
        let at = ci.find("team/b:1@").expect("b pinned") + "team/b:1@".len();
        ci[at..at + 71].to_string()
    };
    let azp = "gh|pr|comment|bot/pin-bump|--body|/azp run runtime-extra-platforms, runtime-coreclr outerloop";
    let short = |d: &str| d[..19].to_string();

    // Night 1: one PR, A and B one commit each, the outer loop requested.
    flow.bump(&["--provider", "github"]);
    let subjects = flow.remote_git(&["log", "--reverse", "--format=%s", "main..bot/pin-bump"]);
    assert_eq!(
        subjects,
        format!("Bump {addr}/team/a:1\nBump {addr}/team/b:1")
    );
    assert_eq!(flow.calls()[2], azp, "{:#?}", flow.calls());

    // The outer loop fails on B: a hold for B lands on the base branch.
    let reason = "team/b:1 breaks the outer loop, https://github.com/org/repo/issues/9";
    let toml = std::fs::read_to_string(flow.work.join("pin-lint.toml")).expect("read");
    let held = format!(
        "{toml}\n[[hold]]\nimage = \"{addr}/team/b:*\"\nreason = \"{reason}\"\nuntil = 2026-12-31\n"
    );
    flow.write("pin-lint.toml", &held);
    flow.commit_and_push("Hold team/b back");
    let main = flow.remote_git(&["rev-parse", "main"]);
    flow.forget_calls();

    // Night 2: the branch is force-updated with A's commit only, on the new base.
    let night2 = flow.bump(&["--provider", "github"]);
    let stderr = String::from_utf8_lossy(&night2.stderr);
    assert!(stderr.contains("1 reference held back"), "{stderr}");
    let series = flow.remote_git(&["log", "--reverse", "--format=%H %s", "main..bot/pin-bump"]);
    let (sha_a, subject) = series.split_once(' ').expect("one commit");
    assert_eq!(subject, format!("Bump {addr}/team/a:1"), "{series}");
    assert_eq!(flow.remote_git(&["rev-parse", &format!("{sha_a}^")]), main);
    let ci = flow.remote_git(&["show", "bot/pin-bump:eng/pipelines/ci.yml"]);
    assert!(
        ci.contains(&a2) && ci.contains(&b1) && !ci.contains(&b2),
        "{ci:?}"
    );

    // The open PR is edited; the body lists B under "Held back" with its reason and the
    // digest it would have moved to; the outer loop is requested again.
    let calls = flow.calls();
    assert_eq!(calls.len(), 3, "{calls:#?}");
    assert!(
        calls[1].starts_with(
            "gh|pr|edit|bot/pin-bump|--title|Bump pinned container image digests|--body-file|"
        ),
        "{calls:#?}"
    );
    assert_eq!(calls[2], azp);
    let body = flow.body(2);
    assert!(
        body.contains(&format!(
            "## Held back\n\nA `[[hold]]` in `pin-lint.toml` keeps these images at their current digest; remove the hold to let them move.\n\n| Image | Reason | Until | Now | Would move to | References |\n|---|---|---|---|---|---|\n| `{addr}/team/b:1` | {reason} | 2026-12-31 | `{}` | `{}` | `eng/pipelines/ci.yml:6` |\n",
            short(&b1),
            short(&b2)
        )),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "- Bump {addr}/team/a:1: revert `{sha_a}` to drop this image\n"
        )),
        "{body}"
    );
    assert!(!body.contains(&format!("Bump {addr}/team/b:1")), "{body}");

    // Until the hold's last day nothing is said about it; the day after, `expired-hold`.
    assert_eq!(check_on(&flow, "2026-12-31"), Vec::<String>::new());
    let line = held
        .lines()
        .position(|l| l.starts_with("image ="))
        .expect("hold")
        + 1;
    assert_eq!(
        check_on(&flow, "2027-01-01"),
        [format!(
            "expired-hold pin-lint.toml:{line} the hold of `{addr}/team/b:*` expired on 2026-12-31 ({reason}); it still holds: remove it or extend `until`"
        )]
    );

    // A hold that matches nothing: `unused-hold`.
    flow.write(
        "pin-lint.toml",
        &format!(
            "{held}\n[[hold]]\nimage = \"{addr}/team/c:*\"\nreason = \"c is not used here\"\n"
        ),
    );
    let unused_line = line + 5;
    assert_eq!(
        check_on(&flow, "2026-12-05"),
        [format!(
            "unused-hold pin-lint.toml:{unused_line} the hold of `{addr}/team/c:*` matches no image reference: correct the pattern or remove the hold"
        )]
    );
}
