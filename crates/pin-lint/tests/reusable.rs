//! What another repository consumes: the composite action (`action.yml`) and the Azure
//! Pipelines templates (`eng/pipelines/templates/`). The action's shell steps are taken out of
//! `action.yml` and run by bash with the environment the runner gives them (inputs as `env`,
//! `GITHUB_OUTPUT`, `RUNNER_TEMP`, `GITHUB_ACTION_PATH`), against a real git repository with a
//! bare remote; the templates are read through pin-lint's own template layer, from the
//! repository's pipelines that use them the way a consumer does.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `run` script of the step of `action.yml` with this `name`.
fn action_step(name: &str) -> String {
    let text = std::fs::read_to_string(workspace().join("action.yml")).expect("action.yml");
    let yaml = pin_core::yaml::parse(&text).expect("action.yml parses");
    let steps = yaml.documents[0]
        .get("runs")
        .and_then(|runs| runs.get("steps"))
        .and_then(|steps| steps.as_sequence())
        .expect("runs.steps");
    let step = steps
        .iter()
        .find(|step| step.get("name").and_then(|n| n.as_str()) == Some(name))
        .unwrap_or_else(|| panic!("action.yml has no step named {name:?}"));
    assert_eq!(
        step.get("shell").and_then(|s| s.as_str()),
        Some("bash"),
        "{name}"
    );
    step.get("run")
        .and_then(|run| run.as_str())
        .expect("a run step")
        .to_string()
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
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

const REF: &str = "mcr.microsoft.com/dotnet-buildtools/prereqs:ubuntu-24.04";
const DIGEST: &str = "sha256:abababababababababababababababababababababababababababababababab";

/// A consumer repository (one pipeline with an unpinned image) pushed to a bare `origin`, a
/// catalog that knows the image, and a runner's folders: `bin` holds `pin-lint` as the
/// install step would leave it on PATH.
struct Runner {
    dir: tempfile::TempDir,
    work: PathBuf,
}

impl Runner {
    fn new() -> Runner {
        let dir = tempfile::tempdir().expect("tempdir");
        let work = dir.path().join("work");
        std::fs::create_dir_all(&work).expect("mkdir");
        git(
            dir.path(),
            &["init", "-q", "--bare", "-b", "main", "remote.git"],
        );
        git(&work, &["init", "-q", "-b", "main"]);
        std::fs::write(
            work.join("azure-pipelines.yml"),
            format!("resources:\n  containers:\n  - container: build\n    image: {REF}\n\nsteps:\n- script: make\n"),
        )
        .expect("write");
        git(
            &work,
            &[
                "-c",
                "user.name=T",
                "-c",
                "user.email=t@e.invalid",
                "add",
                ".",
            ],
        );
        git(
            &work,
            &[
                "-c",
                "user.name=T",
                "-c",
                "user.email=t@e.invalid",
                "commit",
                "-q",
                "-m",
                "initial",
            ],
        );
        let remote = dir.path().join("remote.git");
        git(
            &work,
            &["remote", "add", "origin", remote.to_str().expect("utf-8")],
        );
        git(&work, &["push", "-q", "origin", "main"]);
        std::fs::write(dir.path().join("catalog.tsv"), format!("{REF}\t{DIGEST}\n"))
            .expect("catalog");
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).expect("mkdir");
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_pin-lint"), bin.join("pin-lint"))
            .expect("symlink");
        std::fs::create_dir_all(dir.path().join("temp")).expect("mkdir");
        Runner { dir, work }
    }

    fn catalog(&self) -> String {
        self.dir.path().join("catalog.tsv").display().to_string()
    }

    /// Runs one step's script as the runner does (`bash -e {0}`), in the work tree.
    fn step(&self, name: &str, env: &[(&str, &str)]) -> Output {
        let script = self.dir.path().join("step.sh");
        std::fs::write(&script, action_step(name)).expect("write step");
        let path = format!(
            "{}:{}",
            self.dir.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Command::new("bash")
            .args(["--noprofile", "--norc", "-e", "-o", "pipefail"])
            .arg(&script)
            .current_dir(&self.work)
            .env("PATH", path)
            .env("HOME", &self.work)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GITHUB_ACTION_PATH", workspace())
            .env("GITHUB_OUTPUT", self.dir.path().join("output"))
            .env("GITHUB_PATH", self.dir.path().join("path"))
            .env("GITHUB_REF_NAME", "main")
            .env("RUNNER_TEMP", self.dir.path().join("temp"))
            .env_remove("GITHUB_ACTIONS")
            .env_remove("TF_BUILD")
            .envs(env.iter().copied())
            .output()
            .expect("bash runs")
    }

    fn outputs(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("output")).unwrap_or_default()
    }
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn action_check_fails_on_an_unpinned_reference_and_the_sarif_step_writes_the_log() {
    let runner = Runner::new();
    let inputs = [("PIN_LINT_PATHS", "."), ("PIN_LINT_ARGS", "")];

    let sarif = runner.step("pin-lint (SARIF)", &inputs);
    assert_eq!(sarif.status.code(), Some(0), "{}", text(&sarif));
    let file = runner.dir.path().join("temp/pin-lint.sarif");
    assert_eq!(runner.outputs(), format!("file={}\n", file.display()));
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("sarif written"))
            .expect("json");
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "{log}");
    assert_eq!(results[0]["ruleId"], "unpinned-image");

    let gate = runner.step("pin-lint check", &inputs);
    assert_eq!(gate.status.code(), Some(1), "{}", text(&gate));
    assert!(text(&gate).contains("unpinned-image"), "{}", text(&gate));

    // `args` is split into words and goes before the paths.
    let ignored = runner.step(
        "pin-lint check",
        &[
            ("PIN_LINT_PATHS", "azure-pipelines.yml"),
            ("PIN_LINT_ARGS", "--ignore unpinned-image"),
        ],
    );
    assert_eq!(ignored.status.code(), Some(0), "{}", text(&ignored));
}

#[test]
fn action_refuses_an_unknown_command_before_installing_anything() {
    let runner = Runner::new();
    let out = runner.step("Install pin-lint", &[("PIN_LINT_COMMAND", "fix")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("::error title=pin-lint::command must be check or bump, not 'fix'"),
        "{}",
        text(&out)
    );
    assert!(!runner.dir.path().join("path").exists());
}

#[test]
fn action_bump_pushes_one_commit_per_image_and_requests_the_validation_runs() {
    let runner = Runner::new();
    let catalog = format!("--offline --catalog {}", runner.catalog());
    let out = runner.step(
        "pin-lint bump",
        &[
            ("PIN_LINT_PATHS", "."),
            ("PIN_LINT_ARGS", &catalog),
            ("PIN_BUMP_BASE", ""),
            ("PIN_BUMP_BRANCH", "bot/images"),
            ("PIN_BUMP_CI", "azure-pipelines"),
            (
                "PIN_BUMP_VALIDATE",
                "runtime-extra-platforms\nruntime-coreclr outerloop\n",
            ),
            ("PIN_BUMP_DRY_RUN", "true"),
            ("GH_TOKEN", "unused-in-a-dry-run"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("dry-run: gh pr create --base main --head bot/images --title "),
        "{}",
        text(&out)
    );
    assert!(
        stdout.contains(
            "dry-run: gh pr comment bot/images --body /azp\\ run\\ runtime-extra-platforms\\,\\ runtime-coreclr\\ outerloop"
        ),
        "{}",
        text(&out)
    );
    let remote = runner.dir.path().join("remote.git");
    assert_eq!(
        git(&remote, &["log", "--format=%s", "main..bot/images"]),
        format!("Pin {REF}")
    );
    let pinned = git(&remote, &["show", "bot/images:azure-pipelines.yml"]);
    assert!(
        pinned.contains(&format!("image: {REF}@{DIGEST}\n")),
        "{pinned}"
    );
    // The consumer's work tree is back on its branch, unchanged.
    assert_eq!(git(&runner.work, &["status", "--porcelain"]), "");
}

/// The parameters a template declares: name → whether it has a default.
fn declared(doc: &pin_core::yaml::Node<'_>) -> Vec<(String, bool)> {
    doc.get("parameters")
        .and_then(|p| p.as_sequence())
        .unwrap_or_default()
        .iter()
        .map(|p| {
            let name = p
                .get("name")
                .and_then(|n| n.as_str())
                .expect("parameter name");
            (name.to_string(), p.get("default").is_some())
        })
        .collect()
}

/// Every `template:` use below `node`, with the parameters it passes.
fn template_uses(node: &pin_core::yaml::Node<'_>, out: &mut Vec<(String, Vec<String>)>) {
    if let Some(map) = node.as_mapping() {
        if let Some(target) = node.get("template").and_then(|t| t.as_str()) {
            let passed = node
                .get("parameters")
                .and_then(|p| p.as_mapping())
                .unwrap_or_default()
                .iter()
                .filter_map(|(k, _)| k.as_str().map(str::to_string))
                .collect();
            out.push((target.to_string(), passed));
        }
        for (_, value) in map {
            template_uses(value, out);
        }
    } else if let Some(items) = node.as_sequence() {
        for item in items {
            template_uses(item, out);
        }
    }
}

/// The Azure Pipelines templates are wired as Azure Pipelines expands them: every `template:`
/// names an existing file, passes only parameters it declares and every one it declares
/// without a default, and every `parameters.NAME` a file reads is declared there. (Azure
/// Pipelines itself rejects an undeclared parameter only when the pipeline is queued.)
#[test]
fn azure_pipelines_templates_are_wired_through_their_parameters() {
    let dir = workspace().join("eng/pipelines");
    let mut files: Vec<PathBuf> = ["pin-bump.yml", "pin-lint.yml"]
        .iter()
        .map(|f| dir.join(f))
        .collect();
    let mut templates: Vec<PathBuf> = std::fs::read_dir(dir.join("templates"))
        .expect("eng/pipelines/templates")
        .map(|e| e.expect("entry").path())
        .collect();
    templates.sort();
    assert_eq!(
        templates
            .iter()
            .map(|t| t
                .file_name()
                .expect("a file name")
                .to_string_lossy()
                .into_owned())
            .collect::<Vec<_>>(),
        ["install-pin-lint.yml", "pin-bump.yml", "pin-lint-check.yml"]
    );
    files.extend(templates);
    let mut used = std::collections::BTreeSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read");
        let yaml = pin_core::yaml::parse(&text).unwrap_or_else(|(e, _)| panic!("{file:?}: {e}"));
        let doc = &yaml.documents[0];
        let params = declared(doc);
        let mut rest = text.as_str();
        while let Some(at) = rest.find("parameters.") {
            rest = &rest[at + "parameters.".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            assert!(
                params.iter().any(|(p, _)| *p == name),
                "{file:?} reads parameters.{name}, which it does not declare"
            );
        }
        let mut uses = Vec::new();
        template_uses(doc, &mut uses);
        for (target, passed) in uses {
            let path = file.parent().expect("a folder").join(&target);
            let target_text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{file:?} uses {target}: {e}"));
            let target_yaml = pin_core::yaml::parse(&target_text).expect("template parses");
            let wanted = declared(&target_yaml.documents[0]);
            for p in &passed {
                assert!(
                    wanted.iter().any(|(w, _)| w == p),
                    "{file:?} passes `{p}` to {target}, which does not declare it"
                );
            }
            for (w, has_default) in &wanted {
                assert!(
                    *has_default || passed.contains(w),
                    "{file:?} does not pass `{w}` to {target}, which needs it"
                );
            }
            used.insert(
                path.file_name()
                    .expect("a file name")
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    // Each template is used by this repository's own pipelines, as a consumer would use it.
    assert_eq!(
        used.into_iter().collect::<Vec<_>>(),
        ["install-pin-lint.yml", "pin-bump.yml", "pin-lint-check.yml"]
    );
}
