//! Azure Pipelines template expansion through the real binary, on the multi-file fixtures in
//! tests/fixtures/templates/<case>/: aliases across files, literals through three template
//! layers, `format()` of fragments, `if`/`else`, `each`, external templates, include cycles
//! and expression errors.

mod support;

use std::path::PathBuf;

use serde_json::Value;

fn case(name: &str) -> PathBuf {
    let dir = support::fixtures_dir().join("templates").join(name);
    assert!(dir.is_dir(), "fixture {} is missing", dir.display());
    dir
}

/// Run pin-lint inside a fixture folder; returns (exit code, stdout as JSON).
fn json(name: &str, args: &[&str]) -> (i32, Value) {
    let output = support::pin_lint()
        .args(args)
        .current_dir(case(name))
        .output()
        .expect("pin-lint runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap_or(-1), value)
}

fn findings(name: &str, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    let (code, value) = json(name, &args);
    assert!(code == 0 || code == 1, "check exit code {code}");
    value["findings"].as_array().expect("findings").clone()
}

fn of_rule<'a>(all: &'a [Value], rule: &str) -> Vec<&'a Value> {
    all.iter().filter(|f| f["rule"] == rule).collect()
}

fn at(f: &Value) -> (String, u64, u64) {
    (
        f["path"].as_str().unwrap_or_default().to_string(),
        f["line"].as_u64().unwrap_or_default(),
        f["column"].as_u64().unwrap_or_default(),
    )
}

fn expanded(name: &str) -> Value {
    let (code, value) = json(name, &["refs", "--expand", "--format", "json"]);
    assert_eq!(code, 0);
    value
}

/// One listed image: (image, defined_at `path:line:col`, length of `via`, alias).
type Listed = (String, String, usize, Option<String>);

/// `(job, images)` of one entry point.
fn jobs(value: &Value, entry: &str) -> Vec<(String, Vec<Listed>)> {
    let entries = value["expanded"].as_array().expect("expanded array");
    let e = entries
        .iter()
        .find(|e| e["entry"] == entry)
        .unwrap_or_else(|| panic!("no entry {entry} in {value:#}"));
    e["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| {
            let images = j["images"]
                .as_array()
                .expect("images")
                .iter()
                .map(|i| {
                    let d = &i["defined_at"];
                    (
                        i["image"].as_str().unwrap_or_default().to_string(),
                        format!(
                            "{}:{}:{}",
                            d["path"].as_str().unwrap_or_default(),
                            d["line"],
                            d["column"]
                        ),
                        i["via"].as_array().map_or(0, Vec::len),
                        i["alias"].as_str().map(str::to_string),
                    )
                })
                .collect();
            (j["job"].as_str().unwrap_or_default().to_string(), images)
        })
        .collect()
}

#[test]
fn aliases_resolve_across_files_and_a_dangling_one_is_reported() {
    let all = findings("alias", &[]);
    let dangling = of_rule(&all, "unknown-container-alias");
    assert_eq!(dangling.len(), 1, "{all:#?}");
    assert_eq!(at(dangling[0]), ("azure-pipelines.yml".to_string(), 18, 16));
    assert_eq!(dangling[0]["reference"], "linux_x46");
    assert_eq!(dangling[0]["severity"], "warning");

    let value = expanded("alias");
    let jobs = jobs(&value, "azure-pipelines.yml");
    let linux = &jobs
        .iter()
        .find(|(j, _)| j == "build_linux")
        .expect("job")
        .1;
    // The job container through its parameter, and the step target two templates down.
    assert_eq!(
        linux
            .iter()
            .map(|i| (i.0.as_str(), i.1.as_str(), i.3.as_deref()))
            .collect::<Vec<_>>(),
        [
            (
                "mcr.microsoft.com/dotnet-buildtools/prereqs:azurelinux-3.0-net10.0-cross-amd64",
                "azure-pipelines.yml:6:12",
                Some("linux_x64")
            ),
            (
                "mcr.microsoft.com/dotnet-buildtools/prereqs:ubuntu-22.04-debpkg",
                "azure-pipelines.yml:8:12",
                Some("debpkg")
            ),
        ]
    );
}

#[test]
fn a_literal_through_three_layers_is_reported_and_fixed_where_written() {
    let all = findings("three-layers", &[]);
    let unpinned = of_rule(&all, "unpinned-image");
    assert_eq!(unpinned.len(), 1, "{all:#?}");
    assert_eq!(at(unpinned[0]), ("eng/pipelines/ci.yml".to_string(), 6, 17));
    let message = unpinned[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.ends_with(
            "(used as job container via eng/pipelines/ci.yml → templates/stage-jobs.yml → templates/jobs/platform-jobs.yml → templates/build-job.yml)"
        ),
        "{message}"
    );

    let value = expanded("three-layers");
    let jobs = jobs(&value, "eng/pipelines/ci.yml");
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].0, "build");
    assert_eq!(
        jobs[0].1,
        [(
            "mcr.microsoft.com/dotnet-buildtools/prereqs:ubuntu-24.04".to_string(),
            "eng/pipelines/ci.yml:6:17".to_string(),
            4,
            None
        )]
    );

    // `--fix` edits the caller's argument, the place where the image is written.
    let dir = tempfile::tempdir().expect("temp dir");
    let catalog = dir.path().join("catalog.tsv");
    let digest = format!("sha256:{}", "ab".repeat(32));
    std::fs::write(
        &catalog,
        format!("mcr.microsoft.com/dotnet-buildtools/prereqs:ubuntu-24.04\t{digest}\n"),
    )
    .expect("catalog written");
    let output = support::pin_lint()
        .args(["check", "--fix", "--diff", "--offline", "--catalog"])
        .arg(&catalog)
        .current_dir(case("three-layers"))
        .output()
        .expect("pin-lint runs");
    let diff = String::from_utf8_lossy(&output.stdout);
    assert!(
        diff.contains(&format!(
            "+    buildImage: mcr.microsoft.com/dotnet-buildtools/prereqs:ubuntu-24.04@{digest}\n"
        )),
        "{diff}\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        diff.matches("+++ ").count(),
        1,
        "only ci.yml changes: {diff}"
    );
}

#[test]
fn format_of_fragments_lists_the_concrete_images() {
    let all = findings("format", &[]);
    let dynamic = of_rule(&all, "dynamic-image");
    let expression = dynamic
        .iter()
        .find(|f| at(f) == ("eng/common/xplat-setup.yml".to_string(), 9, 18))
        .expect("the format() row");
    let message = expression["message"].as_str().unwrap_or_default();
    assert!(message.contains("it can produce 3 images: `mcr.microsoft.com/dotnet-buildtools/prereqs:alpine-3.21-amd64`, `mcr.microsoft.com/dotnet-buildtools/prereqs:azurelinux-3.0-net10.0-cross-amd64`, `mcr.microsoft.com/dotnet-buildtools/prereqs:ubuntu-22.04-cross-arm64`"), "{message}");
    assert!(
        message.contains("the pin belongs on the fragments"),
        "{message}"
    );
    for (line, tag) in [
        (10, "azurelinux-3.0-net10.0-cross-amd64"),
        (17, "alpine-3.21-amd64"),
        (24, "ubuntu-22.04-cross-arm64"),
    ] {
        let f = dynamic
            .iter()
            .find(|f| at(f) == ("eng/common/platform-matrix.yml".to_string(), line, 16))
            .unwrap_or_else(|| panic!("fragment row at line {line}"));
        let m = f["message"].as_str().unwrap_or_default();
        assert!(
            m.contains(&format!(
                "it becomes `mcr.microsoft.com/dotnet-buildtools/prereqs:{tag}` (built at eng/common/xplat-setup.yml:9:18)"
            )),
            "{m}"
        );
    }

    // The entry point enables two platforms: each job gets its own image.
    let value = expanded("format");
    let jobs = jobs(&value, "azure-pipelines.yml");
    let summary: Vec<(String, Vec<String>)> = jobs
        .into_iter()
        .map(|(j, images)| (j, images.into_iter().map(|i| i.0).collect()))
        .collect();
    assert_eq!(
        summary,
        [
            (
                "build_linux_x64".to_string(),
                vec!["mcr.microsoft.com/dotnet-buildtools/prereqs:azurelinux-3.0-net10.0-cross-amd64".to_string()]
            ),
            (
                "build_linux_musl_x64".to_string(),
                vec!["mcr.microsoft.com/dotnet-buildtools/prereqs:alpine-3.21-amd64".to_string()]
            ),
        ]
    );
}

#[test]
fn if_else_alternatives() {
    let all = findings("if-else", &[]);
    let unpinned: Vec<(u64, bool)> = of_rule(&all, "unpinned-image")
        .iter()
        .map(|f| {
            let via = f["message"]
                .as_str()
                .unwrap_or_default()
                .contains("(used as job container via azure-pipelines.yml → job.yml)");
            (at(f).1, via)
        })
        .collect();
    // Every branch can run (the official one when the pipeline is queued with
    // isOfficialBuild=true), so every literal is checked where it is written.
    assert_eq!(unpinned, [(10, true), (12, true), (14, true)]);

    // The inventory expands the entry point with its defaults: official is false, the
    // PR condition is only known at run time.
    let value = expanded("if-else");
    let images: Vec<String> = jobs(&value, "azure-pipelines.yml")[0]
        .1
        .iter()
        .map(|i| i.0.clone())
        .collect();
    assert_eq!(
        images,
        [
            "mcr.microsoft.com/public/builder:1.0",
            "mcr.microsoft.com/public/builder:pr"
        ]
    );
}

#[test]
fn each_over_a_list_of_images() {
    let all = findings("each", &[]);
    let lines: Vec<u64> = of_rule(&all, "unpinned-image")
        .iter()
        .filter(|f| {
            f["message"]
                .as_str()
                .unwrap_or_default()
                .contains("via azure-pipelines.yml → test-jobs.yml")
        })
        .map(|f| at(f).1)
        .collect();
    assert_eq!(lines, [5, 6, 7]);
    let value = expanded("each");
    let jobs = jobs(&value, "azure-pipelines.yml");
    let names: Vec<&str> = jobs.iter().map(|(j, _)| j.as_str()).collect();
    assert_eq!(
        names,
        [
            "test_mcr_microsoft_com_dotnet_sdk_9_0",
            "test_mcr_microsoft_com_dotnet_sdk_10_0",
            "test_docker_io_library_alpine_3_21"
        ]
    );
}

#[test]
fn external_templates_are_reported_once_as_not_followed() {
    let value = expanded("external");
    let not_followed = value["not_followed"].as_array().expect("not_followed");
    let refs: Vec<(&str, &str)> = not_followed
        .iter()
        .map(|n| {
            (
                n["reference"].as_str().unwrap_or_default(),
                n["reason"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        refs,
        [
            ("steps/build.yml@templates", "external"),
            ("v1/official.yml@templates", "external")
        ]
    );
    // `local-steps.yml@self` is followed; the alias comes from the containers map passed to
    // the external template, so nothing dangles.
    let jobs = jobs(&value, "azure-pipelines.yml");
    assert_eq!(jobs.len(), 2);
    assert!(jobs.iter().all(|(_, images)| images.len() == 1
        && images[0].3.as_deref() == Some("builder")
        && images[0].1 == "azure-pipelines.yml:12:16"));
    let all = findings("external", &[]);
    assert!(
        of_rule(&all, "unknown-container-alias").is_empty(),
        "{all:#?}"
    );

    let output = support::pin_lint()
        .args(["refs", "--expand"])
        .current_dir(case("external"))
        .output()
        .expect("pin-lint runs");
    let human = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        human
            .matches("v1/official.yml@templates (another repository)")
            .count(),
        1,
        "{human}"
    );
}

#[test]
fn include_cycles_are_reported_on_the_template_line_and_end() {
    let all = findings("cycle", &[]);
    let cycles = of_rule(&all, "template-expression");
    assert_eq!(cycles.len(), 1, "{all:#?}");
    assert_eq!(at(cycles[0]), ("templates/b.yml".to_string(), 2, 13));
    assert!(cycles[0]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("templates/a.yml → templates/b.yml → templates/a.yml"));
    // What the cycle does not hide is still checked.
    assert_eq!(of_rule(&all, "unpinned-image").len(), 1);
}

#[test]
fn expression_errors_are_findings_with_positions() {
    let all = findings("expression-errors", &[]);
    let positions: Vec<(u64, u64)> = of_rule(&all, "template-expression")
        .iter()
        .map(|f| (at(f).1, at(f).2))
        .collect();
    assert_eq!(positions, [(8, 21), (9, 51), (10, 39), (11, 76)]);
    let typo = &of_rule(&all, "template-expression")[0];
    assert!(typo["message"]
        .as_str()
        .unwrap_or_default()
        .contains("has a space after `$`"));
    // Settings apply to the layer's rules like to any other.
    let ignored = findings("expression-errors", &["--ignore", "template-expression"]);
    assert!(of_rule(&ignored, "template-expression").is_empty());
}

#[test]
fn suppression_comments_silence_template_findings() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("azure-pipelines.yml"),
        "jobs:\n- job: a\n  # pin-lint: ignore[unknown-container-alias]\n  container: nope\n- job: b\n  container: nope_either\n",
    )
    .expect("written");
    let output = support::pin_lint()
        .args(["check", "--format", "json"])
        .current_dir(dir.path())
        .output()
        .expect("pin-lint runs");
    let value: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let lines: Vec<u64> = value["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "unknown-container-alias")
        .map(|f| f["line"].as_u64().unwrap_or_default())
        .collect();
    assert_eq!(lines, [6]);
}
