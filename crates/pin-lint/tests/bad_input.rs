//! Broken and hostile input through the real binary: invalid YAML is a `yaml-syntax` finding at
//! its position while the other files are still checked; invalid UTF-8, 10,000 levels of
//! nesting, an alias bomb and a 50 MB file each finish without a panic, with a bounded result,
//! under a hard memory limit.
//!
//! Memory is bounded for real: each run gets `RLIMIT_DATA` through `prlimit` (util-linux), so
//! going over the limit makes an allocation fail and the run abort, which fails the test. The
//! peak resident size (`VmHWM`, polled from /proc) is printed for information. There is no
//! time limit; a watchdog only turns a hang into a failure after ten minutes.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const MIB: u64 = 1 << 20;

/// What a bounded run gave.
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// Highest `VmHWM` seen while polling, in KiB (a lower bound of the true peak).
    peak_kib: u64,
}

impl Outcome {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}\nstderr: {}",
                self.stdout.chars().take(2000).collect::<String>(),
                self.stderr
            )
        })
    }

    fn findings(&self) -> Vec<Value> {
        self.json()["findings"]
            .as_array()
            .expect("findings array")
            .clone()
    }
}

/// Run `pin-lint ARGS` in `dir` with its data segment limited to `limit` bytes.
fn run_bounded(dir: &Path, args: &[&str], limit: u64) -> Outcome {
    let prlimit = Command::new("prlimit").arg("--version").output();
    assert!(
        prlimit.is_ok_and(|o| o.status.success()),
        "`prlimit` is needed to bound memory: apt-get install -y util-linux"
    );
    let out_dir = tempfile::tempdir().expect("tempdir");
    let stdout_path = out_dir.path().join("stdout");
    let stderr_path = out_dir.path().join("stderr");
    let mut child = Command::new("prlimit")
        .arg(format!("--data={limit}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_pin-lint"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .expect("prlimit starts pin-lint");
    let status_file = format!("/proc/{}/status", child.id());
    let started = Instant::now();
    let mut peak_kib = 0;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if let Some(hwm) = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|s| vm_hwm_kib(&s))
        {
            peak_kib = peak_kib.max(hwm);
        }
        if started.elapsed() > Duration::from_secs(600) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "watchdog: `pin-lint {}` still running after ten minutes",
                args.join(" ")
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let outcome = Outcome {
        code: status.code(),
        stdout: std::fs::read_to_string(&stdout_path).expect("stdout is UTF-8"),
        stderr: std::fs::read_to_string(&stderr_path).unwrap_or_default(),
        peak_kib,
    };
    eprintln!(
        "pin-lint {}: exit {:?}, peak RSS >= {} KiB (data limit {} MiB)",
        args.join(" "),
        outcome.code,
        outcome.peak_kib,
        limit / MIB
    );
    assert!(
        !outcome.stderr.contains("panicked") && !outcome.stderr.contains("memory allocation"),
        "pin-lint {} failed: {}",
        args.join(" "),
        outcome.stderr
    );
    outcome
}

fn vm_hwm_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn write(dir: &Path, rel: &str, bytes: &[u8]) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, bytes).expect("write");
}

fn position(f: &Value) -> (&str, &str, u64, u64) {
    (
        f["rule"].as_str().unwrap_or_default(),
        f["path"].as_str().unwrap_or_default(),
        f["line"].as_u64().unwrap_or_default(),
        f["column"].as_u64().unwrap_or_default(),
    )
}

/// `check --format json` in `dir` under 256 MiB, which must exit 1: its findings.
fn failing_check(dir: &Path) -> Vec<Value> {
    let out = run_bounded(dir, &["check", "--format", "json"], 256 * MIB);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    out.findings()
}

const GOOD: &str =
    "jobs:\n- job: test\n  container: mcr.microsoft.com/dotnet-buildtools/prereqs:ubuntu-24.04\n";

#[test]
fn invalid_yaml_is_a_finding_at_its_position_and_the_other_files_are_still_checked() {
    let tree = tempfile::tempdir().expect("tempdir");
    // Line 6, column 12 is the second `:` of `name: x: y`.
    write(
        tree.path(),
        "eng/pipelines/broken.yml",
        b"jobs:\n- job: build\n  container: ubuntu:22.04\n  pool:\n    vmImage: ubuntu-24.04\n    name: x: y\n",
    );
    write(tree.path(), "eng/pipelines/good.yml", GOOD.as_bytes());
    write(
        tree.path(),
        ".github/workflows/ci.yml",
        b"on: push\njobs:\n  build:\n    runs-on: ubuntu-24.04\n    container: node:22\n    steps:\n    - run: echo\n",
    );
    let findings = failing_check(tree.path());
    let got: Vec<_> = findings.iter().map(position).collect();
    assert_eq!(
        got,
        [
            ("unpinned-image", ".github/workflows/ci.yml", 5, 16),
            // The part before the error is still read.
            ("unpinned-image", "eng/pipelines/broken.yml", 3, 14),
            ("yaml-syntax", "eng/pipelines/broken.yml", 6, 12),
            ("unpinned-image", "eng/pipelines/good.yml", 3, 14),
        ]
    );
    let syntax = &findings[2];
    assert_eq!(syntax["severity"], "error");
    assert!(
        syntax["message"]
            .as_str()
            .is_some_and(|m| m.contains("mapping values are not allowed")),
        "{syntax}"
    );

    // The same position in the human output and the CI annotations.
    let human = run_bounded(tree.path(), &["check"], 256 * MIB);
    assert_eq!(human.code, Some(1));
    assert!(
        human
            .stdout
            .contains("error[yaml-syntax]: invalid YAML: mapping values")
            && human.stdout.contains("--> eng/pipelines/broken.yml:6:12"),
        "{}",
        human.stdout
    );
    let github = run_bounded(tree.path(), &["check", "--format", "github"], 256 * MIB);
    assert!(
        github
            .stdout
            .contains("::error file=eng/pipelines/broken.yml,line=6,col=12"),
        "{}",
        github.stdout
    );
}

#[test]
fn invalid_utf8_is_a_syntax_finding_at_the_first_bad_byte() {
    let tree = tempfile::tempdir().expect("tempdir");
    // Latin-1 `é` (0xE9) where UTF-8 is expected: line 5, column 21.
    write(
        tree.path(),
        "azure-pipelines.yml",
        b"jobs:\n- job: build\n  container: ubuntu:22.04\n  steps:\n  - script: echo caf\xe9 ok\n",
    );
    // Not UTF-8 from the first byte on, and a lone continuation byte in a flow sequence.
    write(
        tree.path(),
        "eng/binary.yml",
        &[0xff, 0xfe, b'a', b':', 0x80],
    );
    write(tree.path(), "eng/flow.yml", b"steps: [\x80]\n");
    write(tree.path(), "eng/good.yml", GOOD.as_bytes());
    let findings = failing_check(tree.path());
    let got: Vec<_> = findings.iter().map(position).collect();
    assert_eq!(
        got,
        [
            ("yaml-syntax", "azure-pipelines.yml", 5, 21),
            ("yaml-syntax", "eng/binary.yml", 1, 1),
            ("yaml-syntax", "eng/flow.yml", 1, 9),
            ("unpinned-image", "eng/good.yml", 3, 14),
        ]
    );
    for f in &findings[..3] {
        assert_eq!(
            f["message"], "invalid YAML: the file is not valid UTF-8",
            "{f}"
        );
    }
    let refs = run_bounded(tree.path(), &["refs", "--format", "json"], 256 * MIB);
    assert_eq!(refs.code, Some(0));
    assert_eq!(
        refs.json()["references"].as_array().map(Vec::len),
        Some(1),
        "only the valid file gives references"
    );
}

/// 10,000 levels of nesting in the shapes the YAML grammar allows: flow sequences, flow
/// mappings, block sequences on one line (`- - - …`), and an unclosed flow sequence. The
/// parser's depth limit turns each into a `yaml-syntax` finding on that line.
#[test]
fn ten_thousand_levels_of_nesting_are_a_syntax_finding() {
    const DEPTH: usize = 10_000;
    let shapes: [(&str, String, u64); 4] = [
        (
            "flow-sequence.yml",
            format!(
                "steps: {}ubuntu:22.04{}\n",
                "[".repeat(DEPTH),
                "]".repeat(DEPTH)
            ),
            1,
        ),
        (
            "flow-mapping.yml",
            format!("jobs: {}x{}\n", "{a: ".repeat(DEPTH), "}".repeat(DEPTH)),
            1,
        ),
        (
            "block-sequence.yml",
            format!("steps:\n{}ubuntu:22.04\n", "- ".repeat(DEPTH)),
            2,
        ),
        (
            "unclosed.yml",
            format!("jobs:\n- job: a\n  steps: {}\n", "[".repeat(DEPTH)),
            3,
        ),
    ];
    let tree = tempfile::tempdir().expect("tempdir");
    for (name, text, _) in &shapes {
        write(tree.path(), &format!("eng/{name}"), text.as_bytes());
    }
    write(tree.path(), "eng/good.yml", GOOD.as_bytes());
    let findings = failing_check(tree.path());
    for (name, _, line) in &shapes {
        let path = format!("eng/{name}");
        let of_file: Vec<&Value> = findings.iter().filter(|f| f["path"] == path).collect();
        assert_eq!(of_file.len(), 1, "{path}: {of_file:#?}");
        let (rule, _, got_line, column) = position(of_file[0]);
        assert_eq!((rule, got_line), ("yaml-syntax", *line), "{path}");
        assert!(column > 1, "{path}: the position is inside the nesting");
        assert!(
            of_file[0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("recursion limit")),
            "{path}: {}",
            of_file[0]
        );
    }
    assert!(findings
        .iter()
        .any(|f| f["path"] == "eng/good.yml" && f["rule"] == "unpinned-image"));
    // The human output stays one snippet per finding.
    let human = run_bounded(tree.path(), &["check"], 256 * MIB);
    assert_eq!(human.code, Some(1));
    assert_eq!(human.stdout.matches("error[yaml-syntax]").count(), 4);
    assert!(human.stdout.len() < 16 * 1024, "{}", human.stdout.len());
}

/// A billion-laughs document: ten levels of nine aliases each would be 9^10 (3.4 billion)
/// nodes if expanded. Aliases are never expanded: the image is reported once, where it is
/// written, in each dialect.
#[test]
fn an_alias_bomb_is_not_expanded() {
    let mut laughs = String::new();
    for level in 1..10 {
        laughs.push_str(&format!(
            "l{level}: &l{level} [{}]\n",
            vec![format!("*l{}", level - 1); 9].join(", ")
        ));
    }
    let azure = format!(
        "resources:\n  containers:\n  - &l0\n    container: build\n    \
         image: mcr.microsoft.com/dotnet-buildtools/prereqs:ubuntu-24.04\n{laughs}\
         jobs:\n- job: bomb\n  container: build\n  services: *l9\n  steps:\n  \
         - script: echo *l9\n    target: *l9\n"
    );
    let github = format!(
        "on: push\nx-image: &l0 node:22\n{laughs}jobs:\n  bomb:\n    runs-on: ubuntu-24.04\n    \
         container: *l9\n    services: {{a: {{image: *l9}}}}\n    steps:\n    - run: echo\n"
    );
    let gitlab = format!(
        ".base: &l0\n  image: python:3.12\n{laughs}build:\n  image: *l9\n  services: *l9\n  \
         script: [echo]\n"
    );
    let tree = tempfile::tempdir().expect("tempdir");
    write(tree.path(), "azure-pipelines.yml", azure.as_bytes());
    write(tree.path(), ".github/workflows/bomb.yml", github.as_bytes());
    write(tree.path(), ".gitlab-ci.yml", gitlab.as_bytes());
    let refs = run_bounded(tree.path(), &["refs", "--format", "json"], 256 * MIB);
    assert_eq!(refs.code, Some(0), "{}", refs.stderr);
    let references = refs.json()["references"]
        .as_array()
        .expect("references")
        .clone();
    let got: Vec<(&str, u64, &str)> = references
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap_or_default(),
                r["line"].as_u64().unwrap_or_default(),
                r["text"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (".github/workflows/bomb.yml", 14, "ubuntu-24.04"),
            (".gitlab-ci.yml", 2, "python:3.12"),
            (
                "azure-pipelines.yml",
                5,
                "mcr.microsoft.com/dotnet-buildtools/prereqs:ubuntu-24.04"
            ),
        ]
    );
    let check = run_bounded(tree.path(), &["check", "--format", "json"], 256 * MIB);
    assert_eq!(check.code, Some(1));
    let findings = check.findings();
    assert!(findings.len() <= 4, "{findings:#?}");
    assert!(findings
        .iter()
        .any(|f| f["rule"] == "unpinned-image" && f["path"] == "azure-pipelines.yml"));
}

/// A 50 MB pipeline (resources, then ~100,000 jobs with multi-line scripts) is read in full
/// with memory bounded by a small multiple of its size: every job is parsed (a syntax error
/// planted at the very end is found) and the result is the handful of resource findings.
#[test]
fn a_50_mb_file_is_read_in_full_with_bounded_memory() {
    const SIZE: usize = 50 * 1024 * 1024;
    let tree = tempfile::tempdir().expect("tempdir");
    let path = tree.path().join("azure-pipelines.yml");
    let mut text = String::with_capacity(SIZE + 4096);
    text.push_str("resources:\n  containers:\n");
    for i in 0..8 {
        text.push_str(&format!(
            "  - container: c{i}\n    image: mcr.microsoft.com/dotnet-buildtools/prereqs:image-{i}\n"
        ));
    }
    text.push_str("jobs:\n");
    let mut jobs = 0;
    while text.len() < SIZE {
        text.push_str(&format!(
            "- job: build_{jobs}\n  container: c{}\n  steps:\n  - script: |\n      \
             echo building part {jobs}\n      ./build.sh --configuration Release --part {jobs}\n    \
             displayName: Build part {jobs}\n",
            jobs % 8
        ));
        jobs += 1;
    }
    // One broken line at the very end: finding it shows the whole file was read.
    text.push_str("- job: last\n  pool: {vmImage: ubuntu-24.04\n");
    let lines = u64::try_from(text.matches('\n').count()).expect("fits");
    std::fs::write(&path, &text).expect("write");
    drop(text);
    let size = std::fs::metadata(&path).expect("metadata").len();
    assert!(size >= SIZE as u64, "{size} bytes");

    let limit = 1024 * MIB;
    let check = run_bounded(tree.path(), &["check", "--format", "json"], limit);
    assert_eq!(check.code, Some(1), "{}", check.stderr);
    let findings = check.findings();
    let unpinned = findings
        .iter()
        .filter(|f| f["rule"] == "unpinned-image")
        .count();
    assert_eq!(unpinned, 8, "one per resource, however many jobs use them");
    let syntax: Vec<&Value> = findings
        .iter()
        .filter(|f| f["rule"] == "yaml-syntax")
        .collect();
    assert_eq!(syntax.len(), 1, "{syntax:#?}");
    assert_eq!(syntax[0]["line"].as_u64(), Some(lines), "{}", syntax[0]);
    assert_eq!(findings.len(), 9, "{jobs} jobs give no other finding");

    let refs = run_bounded(tree.path(), &["refs", "--format", "json"], limit);
    assert_eq!(refs.code, Some(0));
    let references = refs.json()["references"]
        .as_array()
        .expect("references")
        .clone();
    let kinds: Vec<(&str, u64)> = references
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap_or_default(),
                r["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    // The eight resources (job `container:` aliases are not image references), and the
    // `vmImage` of the last, unfinished line.
    assert_eq!(kinds.len(), 9, "{kinds:?}");
    assert!(kinds[..8].iter().all(|(kind, _)| *kind == "container"));
    assert_eq!(kinds[8], ("vm", lines));
}

/// Many findings on one very long line (minified flow YAML): the human output shows each in
/// a window of the line with the right column, so its size grows with the number of findings,
/// not with findings × line length.
#[test]
fn findings_on_a_very_long_line_are_shown_with_their_columns() {
    const STEPS: usize = 3000;
    let mut line = String::from("steps: [");
    let mut columns = Vec::new();
    for i in 0..STEPS {
        line.push_str(&format!("{{script: x{i}, target: ubuntu:22.04}}, "));
        columns.push(line.len() - "ubuntu:22.04}, ".len() + 1);
    }
    line.push_str("{script: end}]\n");
    let tree = tempfile::tempdir().expect("tempdir");
    write(tree.path(), "azure-pipelines.yml", line.as_bytes());
    let json = run_bounded(
        tree.path(),
        &["check", "--select", "unpinned-image", "--format", "json"],
        256 * MIB,
    );
    let from_json: Vec<u64> = json
        .findings()
        .iter()
        .map(|f| f["column"].as_u64().unwrap_or_default())
        .collect();
    let expected: Vec<u64> = columns.iter().map(|&c| c as u64).collect();
    assert_eq!(from_json, expected);
    let human = run_bounded(
        tree.path(),
        &["check", "--select", "unpinned-image"],
        256 * MIB,
    );
    assert_eq!(human.code, Some(1));
    let from_human: Vec<u64> = human
        .stdout
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("--> azure-pipelines.yml:1:"))
        .map(|c| c.parse().expect("a column"))
        .collect();
    assert_eq!(from_human, expected);
    let widest = human.stdout.lines().map(str::len).max().unwrap_or(0);
    assert!(widest < 300, "snippet lines are cut: {widest} bytes");
    assert!(
        human.stdout.len() < STEPS * 600,
        "{} bytes of output for {STEPS} findings",
        human.stdout.len()
    );
}

/// Broken Dockerfiles: an unterminated heredoc is a finding at its `<<` (what comes before it
/// is still checked), a continuation left open at end of file ends the instruction there (as
/// BuildKit reads it), invalid UTF-8 is a finding at the first bad byte; the other files are
/// still checked, and none of the broken files is touched by `--fix`.
#[test]
fn broken_dockerfiles_are_findings_at_their_position() {
    let tree = tempfile::tempdir().expect("tempdir");
    write(
        tree.path(),
        "heredoc/Dockerfile",
        b"FROM alpine:3.20\nRUN <<EOF\napk add curl\nFROM never-read:1\n",
    );
    write(
        tree.path(),
        "continuation/Dockerfile",
        b"FROM alpine:3.20 AS a\nRUN echo \\",
    );
    write(
        tree.path(),
        "latin1/build.Dockerfile",
        b"FROM alpine:3.20\nLABEL maintainer=\"Ren\xe9\"\n",
    );
    write(tree.path(), "Containerfile", b"FROM debian:12\n");
    let findings = failing_check(tree.path());
    let got: Vec<_> = findings.iter().map(position).collect();
    assert_eq!(
        got,
        [
            ("unpinned-image", "Containerfile", 1, 6),
            ("unpinned-image", "continuation/Dockerfile", 1, 6),
            ("unpinned-image", "heredoc/Dockerfile", 1, 6),
            ("yaml-syntax", "heredoc/Dockerfile", 2, 5),
            ("yaml-syntax", "latin1/build.Dockerfile", 2, 22),
        ]
    );
    assert_eq!(
        findings[3]["message"],
        "invalid Dockerfile: unterminated heredoc: no line `EOF` closes it before the end of the file"
    );
    assert_eq!(
        findings[4]["message"],
        "invalid Dockerfile: the file is not valid UTF-8"
    );

    // With a digest for every image, only the readable files are fixed.
    let digest = format!("sha256:{}", "a".repeat(64));
    write(
        tree.path(),
        "catalog.tsv",
        format!("alpine:3.20\t{digest}\ndebian:12\t{digest}\n").as_bytes(),
    );
    let before = std::fs::read(tree.path().join("heredoc/Dockerfile")).expect("read");
    let fix = run_bounded(
        tree.path(),
        &["--fix", "--offline", "--catalog", "catalog.tsv", "."],
        256 * MIB,
    );
    assert!(
        fix.stderr
            .contains("heredoc/Dockerfile: left untouched: the file does not parse"),
        "{}",
        fix.stderr
    );
    assert_eq!(
        std::fs::read(tree.path().join("heredoc/Dockerfile")).expect("read"),
        before
    );
    assert_eq!(
        std::fs::read_to_string(tree.path().join("continuation/Dockerfile")).expect("read"),
        format!("FROM alpine:3.20@{digest} AS a\nRUN echo \\")
    );
}

/// A 50 MB Dockerfile (stages with multi-line `RUN`s, heredocs and `COPY --from`) is read in
/// full with memory bounded by a small multiple of its size: every stage's image is reported,
/// and a heredoc left open on the very last line is found.
#[test]
fn a_50_mb_dockerfile_is_read_in_full_with_bounded_memory() {
    const SIZE: usize = 50 * 1024 * 1024;
    let tree = tempfile::tempdir().expect("tempdir");
    let mut text = String::with_capacity(SIZE + 4096);
    text.push_str("# syntax=docker/dockerfile:1\nARG BASE=mcr.microsoft.com/dotnet/sdk:8.0\n");
    let mut stages = 0;
    while text.len() < SIZE {
        text.push_str(&format!(
            "FROM $BASE AS s{stages}\n\
             RUN --mount=type=cache,target=/root/.nuget \\\n    \
             dotnet restore part{stages}.csproj \\\n    \
             # a comment inside the continuation\n"
        ));
        for project in 0..30 {
            text.push_str(&format!(
                "    && dotnet build -c Release part{stages}/project{project}.csproj \\\n"
            ));
        }
        text.push_str(&format!(
            "    && echo done\n\
             RUN <<EOF\nset -e\necho building part {stages}\nFROM not-an-image:{stages}\nEOF\n\
             COPY --from=s{stages} /out /out\n"
        ));
        stages += 1;
    }
    text.push_str("RUN <<END\n");
    let lines = u64::try_from(text.matches('\n').count()).expect("fits");
    std::fs::write(tree.path().join("Dockerfile"), &text).expect("write");
    drop(text);

    let limit = 1024 * MIB;
    let check = run_bounded(tree.path(), &["check", "--format", "json"], limit);
    assert_eq!(check.code, Some(1), "{}", check.stderr);
    let findings = check.findings();
    let count = |rule: &str| findings.iter().filter(|f| f["rule"] == rule).count();
    assert_eq!(
        count("unpinned-image"),
        2,
        "the syntax image and the ARG default"
    );
    assert_eq!(count("dynamic-image"), stages, "one `FROM $BASE` per stage");
    let syntax: Vec<&Value> = findings
        .iter()
        .filter(|f| f["rule"] == "yaml-syntax")
        .collect();
    assert_eq!(syntax.len(), 1, "{syntax:#?}");
    assert_eq!(syntax[0]["line"].as_u64(), Some(lines), "{}", syntax[0]);
    assert_eq!(findings.len(), stages + 3);
}

/// A Helm template is not YAML (`{{ }}` actions, an unclosed action at the end): it is read by
/// text, gives its images (dynamic and literal) and never a syntax finding. A dev container
/// definition with an unbalanced comment (an opening `/*` without end, a `*/` without start)
/// is a `yaml-syntax` finding naming JSONC, at the comment.
#[test]
fn helm_templates_and_broken_jsonc_give_findings_not_parse_errors() {
    let tree = tempfile::tempdir().expect("tempdir");
    write(
        tree.path(),
        "chart/templates/deployment.yaml",
        b"apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      {{- range .Values.containers }}\n      - name: {{ .name }}\n        image: \"{{ .repo }}:{{ .tag }}\"\n      {{- end }}\n      - name: side\n        image: busybox:1.36\n{{ if .Values.x }\n",
    );
    write(
        tree.path(),
        ".devcontainer/devcontainer.json",
        b"{\n  \"image\": \"mcr.microsoft.com/devcontainers/base:ubuntu\",\n  /* unbalanced\n  \"features\": {}\n}\n",
    );
    write(
        tree.path(),
        ".devcontainer/close/devcontainer.json",
        b"{ \"image\": \"a:1\" */ }",
    );
    let out = run_bounded(tree.path(), &["check", "--format", "json"], 256 * MIB);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let findings = out.findings();
    let got: Vec<_> = findings.iter().map(position).collect();
    assert_eq!(
        got,
        [
            (
                "yaml-syntax",
                ".devcontainer/close/devcontainer.json",
                1,
                18
            ),
            ("yaml-syntax", ".devcontainer/devcontainer.json", 3, 3),
            ("dynamic-image", "chart/templates/deployment.yaml", 9, 17),
            ("unpinned-image", "chart/templates/deployment.yaml", 12, 16),
        ]
    );
    assert!(
        findings[1]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("invalid JSONC: unterminated `/*` comment")),
        "{}",
        findings[1]
    );
    assert!(
        findings[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("expected `,` or `}`")),
        "{}",
        findings[0]
    );
}
