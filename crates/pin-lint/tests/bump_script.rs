//! The nightly job: `scripts/pin-bump` against a real git repository with a bare remote
//! (night 1 creates the bot branch with one commit, night 2 force-updates it, an unchanged
//! night pushes nothing, `--dry-run` prints the PR command), and the pipelines, templates and
//! action that call it: valid YAML, no unpinned image, `pin-lint check` clean.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn script() -> PathBuf {
    workspace().join("scripts/pin-bump")
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

/// A work repository on `main` with one pipeline file, pushed to a bare `origin`.
struct Repos {
    _dir: tempfile::TempDir,
    work: PathBuf,
    remote: PathBuf,
    catalog: PathBuf,
}

const REF: &str = "mcr.microsoft.com/dotnet-buildtools/prereqs:ubuntu-24.04";

fn digest(n: u8) -> String {
    format!("sha256:{}", format!("{n:x}").repeat(64))
}

impl Repos {
    fn new() -> Repos {
        let dir = tempfile::tempdir().expect("tempdir");
        let work = dir.path().join("work");
        let remote = dir.path().join("remote.git");
        std::fs::create_dir_all(&work).expect("mkdir");
        git(
            dir.path(),
            &["init", "-q", "--bare", "-b", "main", "remote.git"],
        );
        git(&work, &["init", "-q", "-b", "main"]);
        git(&work, &["config", "user.name", "Test"]);
        git(&work, &["config", "user.email", "test@example.invalid"]);
        std::fs::write(
            work.join("azure-pipelines.yml"),
            format!("resources:\n  containers:\n  - container: build\n    image: {REF}  # build image\n\nsteps:\n- script: make\n"),
        )
        .expect("write pipeline");
        git(&work, &["add", "."]);
        git(&work, &["commit", "-q", "-m", "initial"]);
        git(
            &work,
            &["remote", "add", "origin", remote.to_str().expect("utf-8")],
        );
        git(&work, &["push", "-q", "origin", "main"]);
        let catalog = dir.path().join("catalog.tsv");
        Repos {
            _dir: dir,
            work,
            remote,
            catalog,
        }
    }

    /// The registry's answer tonight.
    fn tag_points_to(&self, digest: &str) {
        std::fs::write(&self.catalog, format!("{REF}\t{digest}\n")).expect("catalog");
    }

    fn bump(&self, extra: &[&str]) -> Output {
        let out = Command::new("bash")
            .arg(script())
            .args(extra)
            .args(["--pin-lint", env!("CARGO_BIN_EXE_pin-lint")])
            .args(["--", "--offline", "--catalog"])
            .arg(&self.catalog)
            .arg(".")
            .current_dir(&self.work)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", &self.work)
            .env_remove("GITHUB_ACTIONS")
            .env_remove("TF_BUILD")
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "pin-bump failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn remote_git(&self, args: &[&str]) -> String {
        git(&self.remote, args)
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn nightly_bump_creates_then_force_updates_one_branch_and_pushes_nothing_when_unchanged() {
    let repos = Repos::new();
    let main = repos.remote_git(&["rev-parse", "main"]);

    // Night 1: the reference gets pinned on the bot branch, one commit on top of main.
    repos.tag_points_to(&digest(1));
    let night1 = repos.bump(&["--dry-run", "--provider", "github"]);
    let out = stdout(&night1);
    assert!(
        out.contains(
            "dry-run: gh pr create --base main --head bot/pin-bump --title Bump\\ pinned\\ container\\ image\\ digests --body-file "
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "| `azure-pipelines.yml:4` | `ubuntu-24.04` | unpinned → `sha256:111111111111` |"
        ),
        "{out}"
    );
    let log = repos.remote_git(&["log", "--format=%s%n%b", "main..bot/pin-bump"]);
    assert!(
        log.starts_with(&format!("Pin {REF}\nazure-pipelines.yml:4\n")),
        "{log}"
    );
    let sha = repos.remote_git(&["rev-parse", "bot/pin-bump"]);
    assert!(
        out.contains(&format!("- Pin {REF}: revert `{sha}` to drop this image")),
        "{out}"
    );
    assert_eq!(
        repos.remote_git(&["rev-list", "--count", "main..bot/pin-bump"]),
        "1"
    );
    assert_eq!(repos.remote_git(&["rev-parse", "bot/pin-bump^"]), main);
    let file = repos.remote_git(&["show", "bot/pin-bump:azure-pipelines.yml"]);
    assert!(
        file.contains(&format!("image: {REF}@{}  # build image", digest(1))),
        "{file}"
    );
    // The work tree is back on main, clean and unchanged.
    assert_eq!(
        git(&repos.work, &["symbolic-ref", "--short", "HEAD"]),
        "main"
    );
    assert_eq!(git(&repos.work, &["status", "--porcelain"]), "");
    let night1_commit = repos.remote_git(&["rev-parse", "bot/pin-bump"]);

    // The same night again: the branch already holds this change; nothing is pushed.
    let again = repos.bump(&["--dry-run"]);
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already up to date; nothing pushed"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(!stdout(&again).contains("dry-run:"));
    assert_eq!(
        repos.remote_git(&["rev-parse", "bot/pin-bump"]),
        night1_commit
    );

    // Night 2: the tag moved; the branch is rebuilt from main and force-updated.
    repos.tag_points_to(&digest(2));
    let night2 = repos.bump(&["--dry-run", "--provider", "azure"]);
    assert!(
        stdout(&night2).contains("dry-run: az repos pr create --source-branch bot/pin-bump --target-branch main --title Bump\\ pinned\\ container\\ image\\ digests --description "),
        "{}",
        stdout(&night2)
    );
    let night2_commit = repos.remote_git(&["rev-parse", "bot/pin-bump"]);
    assert_ne!(night2_commit, night1_commit);
    assert_eq!(
        repos.remote_git(&["rev-list", "--count", "main..bot/pin-bump"]),
        "1"
    );
    assert_eq!(repos.remote_git(&["rev-parse", "bot/pin-bump^"]), main);
    let file = repos.remote_git(&["show", "bot/pin-bump:azure-pipelines.yml"]);
    assert!(
        file.contains(&digest(2)) && !file.contains(&digest(1)),
        "{file}"
    );

    // The PR is merged; the next night finds nothing to change and pushes nothing.
    git(&repos.work, &["fetch", "-q", "origin"]);
    git(
        &repos.work,
        &["merge", "-q", "--ff-only", "origin/bot/pin-bump"],
    );
    git(&repos.work, &["push", "-q", "origin", "main"]);
    let quiet = repos.bump(&["--dry-run"]);
    assert!(
        String::from_utf8_lossy(&quiet.stderr).contains("nothing changed; nothing pushed"),
        "{}",
        String::from_utf8_lossy(&quiet.stderr)
    );
    assert_eq!(stdout(&quiet), "");
    assert_eq!(
        repos.remote_git(&["rev-parse", "bot/pin-bump"]),
        night2_commit
    );
}

/// A marketplace VM image catalog (`az vm image list` JSON) listing these versions.
fn vm_catalog(path: &Path, versions: &[&str]) {
    let items: Vec<String> = versions
        .iter()
        .map(|v| format!(r#"{{"offer":"ubuntu-24_04-lts","publisher":"Canonical","sku":"server","version":"{v}"}}"#))
        .collect();
    std::fs::write(path, format!("[{}]\n", items.join(","))).expect("VM catalog");
}

#[test]
fn nightly_bump_carries_vm_image_versions_and_says_so() {
    let repos = Repos::new();
    std::fs::write(
        repos.work.join("agents.tf"),
        "resource \"azurerm_linux_virtual_machine\" \"agent\" {\n  source_image_reference {\n    publisher = \"Canonical\"\n    offer     = \"ubuntu-24_04-lts\"\n    sku       = \"server\"\n    version   = \"latest\"\n  }\n}\n",
    )
    .expect("write");
    git(&repos.work, &["add", "agents.tf"]);
    git(&repos.work, &["commit", "-q", "-m", "agents"]);
    git(&repos.work, &["push", "-q", "origin", "main"]);
    let vm = repos.catalog.with_file_name("vm-catalog.json");
    let bump = || {
        let out = Command::new("bash")
            .arg(script())
            .args(["--dry-run", "--pin-lint", env!("CARGO_BIN_EXE_pin-lint")])
            .args(["--", "--offline", "--catalog"])
            .arg(&repos.catalog)
            .arg("--catalog")
            .arg(&vm)
            .arg(".")
            .current_dir(&repos.work)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", &repos.work)
            .env_remove("GITHUB_ACTIONS")
            .env_remove("TF_BUILD")
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "pin-bump failed ({}):\n{}\n{}",
            out.status,
            stdout(&out),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };

    // Night 1: a container pin and a VM version pin in one commit, one PR.
    repos.tag_points_to(&digest(1));
    vm_catalog(&vm, &["24.04.202409120", "24.04.202411030"]);
    let night1 = bump();
    assert!(
        stdout(&night1).contains(
            "--title Bump\\ pinned\\ container\\ image\\ digests\\ and\\ VM\\ image\\ versions "
        ),
        "{}",
        stdout(&night1)
    );
    // One commit per image, in the order of the image names.
    let subjects = repos.remote_git(&["log", "--reverse", "--format=%s", "main..bot/pin-bump"]);
    assert_eq!(
        subjects,
        format!("Pin Canonical:ubuntu-24_04-lts:server\nPin {REF}")
    );
    let vm_commit = repos.remote_git(&["show", "--format=", "--name-only", "bot/pin-bump^"]);
    assert_eq!(vm_commit, "agents.tf");
    let file = repos.remote_git(&["show", "bot/pin-bump:agents.tf"]);
    assert!(file.contains("version   = \"24.04.202411030\""), "{file}");
    assert!(
        stdout(&night1).contains("| `agents.tf:6` | `latest` → `24.04.202411030` |"),
        "{}",
        stdout(&night1)
    );

    // Merged; then only a newer VM image appears: the PR is about VM images alone.
    git(&repos.work, &["fetch", "-q", "origin"]);
    git(
        &repos.work,
        &["merge", "-q", "--ff-only", "origin/bot/pin-bump"],
    );
    git(&repos.work, &["push", "-q", "origin", "main"]);
    vm_catalog(&vm, &["24.04.202411030", "24.04.202412010"]);
    let night2 = bump();
    assert!(
        stdout(&night2).contains("--title Bump\\ pinned\\ VM\\ image\\ versions "),
        "{}",
        stdout(&night2)
    );
    let log = repos.remote_git(&["log", "--format=%s%n%b", "main..bot/pin-bump"]);
    assert!(
        log.starts_with("Bump Canonical:ubuntu-24_04-lts:server\nagents.tf:6\n"),
        "{log}"
    );
}

#[test]
fn pin_bump_refuses_bad_options() {
    let repos = Repos::new();
    let out = Command::new("bash")
        .arg(script())
        .args(["--provider", "gitlab"])
        .current_dir(&repos.work)
        .output()
        .expect("bash runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--provider must be azure or github"));
}

/// Every file another repository can consume or copy: the nightly job and the gate for both
/// CI systems, their templates and the composite action.
const TEMPLATES: [&str; 8] = [
    "eng/pipelines/pin-bump.yml",
    "eng/pipelines/pin-lint.yml",
    "eng/pipelines/templates/install-pin-lint.yml",
    "eng/pipelines/templates/pin-bump.yml",
    "eng/pipelines/templates/pin-lint-check.yml",
    ".github/workflows/pin-bump.yml",
    ".github/workflows/pin-lint.yml",
    "action.yml",
];

#[test]
fn pipeline_templates_are_valid_yaml_pinned_and_pass_check() {
    let read = |file: &str| std::fs::read_to_string(workspace().join(file)).expect("read");
    for template in TEMPLATES {
        let text = read(template);
        let analysis = pin_core::Analysis::new(template, text.clone());
        assert!(
            analysis.syntax_error.is_none(),
            "{template}: {:?}",
            analysis.syntax_error
        );
        assert!(
            analysis.dialect.is_some(),
            "{template} is not seen as a pipeline"
        );
        for r in &analysis.references {
            assert!(
                r.kind != pin_core::Kind::Container || r.state == pin_core::State::Pinned,
                "{template}: container image `{}` is not pinned",
                r.text
            );
        }
    }
    // The bump job's logic is the script, called from the job template and from the action.
    for caller in ["eng/pipelines/templates/pin-bump.yml", "action.yml"] {
        assert!(
            read(caller).contains("/scripts/pin-bump\""),
            "{caller} must call the script"
        );
    }
    let azure = read("eng/pipelines/pin-bump.yml");
    assert!(azure.contains("always: true") && azure.contains("cron:"));
    assert!(
        azure.contains("- template: templates/pin-bump.yml") && azure.contains("provider: azure")
    );
    let gate = read("eng/pipelines/pin-lint.yml");
    assert!(gate.contains("- template: templates/pin-lint-check.yml"));
    let github = read(".github/workflows/pin-bump.yml");
    assert!(
        github.contains("schedule:")
            && github.contains("uses: ./")
            && github.contains("command: bump")
    );
    let github = read(".github/workflows/pin-lint.yml");
    assert!(
        github.contains("pull_request:")
            && github.contains("uses: ./")
            && github.contains("command: check")
    );

    let out = support::pin_lint()
        .env_remove("GITHUB_ACTIONS")
        .env_remove("TF_BUILD")
        .args(["check", "--report-unused-ignores"])
        .args(TEMPLATES)
        .current_dir(workspace())
        .output()
        .expect("pin-lint runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("No problems found in 8 files."),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
