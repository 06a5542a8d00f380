//! Template expansion on the shared dotnet-runtime corpus: the `format()` dynamic rows of the
//! oracle are expanded to the concrete images they produce, `refs --expand` lists only images
//! defined in the corpus, and no container alias is reported as dangling when its resource
//! exists.

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

const PREREQS: &str = "mcr.microsoft.com/dotnet-buildtools/prereqs";

/// The `dynamic` rows of the oracle that are fragments completed by xplat-setup.yml's
/// `format()`: (line, column, fragment).
const FRAGMENTS: &[(u64, u64, &str)] = &[
    (41, 16, "ubuntu-16.04-cross-20200413125008-09ec757"),
    (65, 16, "ubuntu-16.04-cross-arm64-20200413125008-cfdd435"),
    (92, 18, "alpine-3.9-WithNode-0fc54a3-20200131134036"),
    (94, 18, "alpine-3.9-WithNode-0fc54a3-20190918214015"),
    (
        122,
        16,
        "ubuntu-16.04-cross-arm64-alpine-20200413125008-406629a",
    ),
    (146, 16, "centos-7-359e48e-20200313130914"),
    (172, 16, "ubuntu-18.04-webassembly-20200529220811-6a6da63"),
    (
        192,
        16,
        "ubuntu-18.04-cross-freebsd-11-20200407092345-a84b0d2",
    ),
    (214, 16, "ubuntu-18.04-android-20200401093035-1517ea2"),
    (236, 16, "ubuntu-18.04-android-20200401093035-1517ea2"),
    (258, 16, "ubuntu-18.04-android-20200401093035-1517ea2"),
    (280, 16, "ubuntu-18.04-android-20200401093035-1517ea2"),
];

fn run(corpus: &Path, args: &[&str]) -> Value {
    let output = support::pin_lint()
        .args(args)
        .current_dir(corpus)
        .output()
        .expect("pin-lint runs");
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "pin-lint {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("valid JSON")
}

fn findings(corpus: &Path) -> Vec<Value> {
    run(corpus, &["check", "--format", "json", "dotnet-runtime"])["findings"]
        .as_array()
        .expect("findings")
        .clone()
}

fn finding_at<'a>(all: &'a [Value], rule: &str, path: &str, line: u64, column: u64) -> &'a Value {
    all.iter()
        .find(|f| {
            f["rule"] == rule && f["path"] == path && f["line"] == line && f["column"] == column
        })
        .unwrap_or_else(|| panic!("no {rule} finding at {path}:{line}:{column}"))
}

/// The `…` quoted images in a message, in order.
fn quoted_images(message: &str) -> Vec<String> {
    message
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| s.starts_with(PREREQS))
        .map(str::to_string)
        .collect()
}

#[test]
fn format_rows_of_the_oracle_expand_to_concrete_images() {
    let corpus = support::shared_dir().join("corpus");
    let oracle = std::fs::read_to_string(support::shared_dir().join("oracle/expected.tsv"))
        .expect("expected.tsv is readable");
    let all = findings(&corpus);

    // The rows are the oracle's: make sure the test follows it.
    let matrix = "dotnet-runtime/eng/pipelines/common/platform-matrix.yml";
    for (line, column, fragment) in FRAGMENTS {
        let row = format!("{matrix}\t{line}\t{column}\tdynamic\tjob-container\t-\t{fragment}");
        assert!(
            oracle.lines().any(|l| l == row),
            "oracle row missing: {row}"
        );
        let f = finding_at(&all, "dynamic-image", matrix, *line, *column);
        let message = f["message"].as_str().unwrap_or_default();
        assert_eq!(
            quoted_images(message),
            [format!("{PREREQS}:{fragment}")],
            "{message}"
        );
        assert!(
            message.contains("built at dotnet-runtime/eng/pipelines/common/xplat-setup.yml:116:20"),
            "{message}"
        );
    }

    // xplat-setup.yml:116 (`format('{0}:{1}', '<prereqs>', parameters.container.image)`).
    let setup = "dotnet-runtime/eng/pipelines/common/xplat-setup.yml";
    let f = finding_at(&all, "dynamic-image", setup, 116, 20);
    let message = f["message"].as_str().unwrap_or_default();
    let expected: BTreeSet<String> = FRAGMENTS
        .iter()
        .map(|(_, _, fragment)| format!("{PREREQS}:{fragment}"))
        .collect();
    assert_eq!(expected.len(), 9);
    assert!(message.contains("it can produce 9 images"), "{message}");
    assert_eq!(
        quoted_images(message).into_iter().collect::<BTreeSet<_>>(),
        expected,
        "{message}"
    );
    // xplat-setup.yml:118 (`format('{0}:{1}', parameters.container.registry, …)`) is only
    // taken when a caller passes a registry other than `mcr`; every caller in the corpus
    // passes `registry: mcr`, so it produces no image and keeps the plain message.
    let f = finding_at(&all, "dynamic-image", setup, 118, 20);
    let message = f["message"].as_str().unwrap_or_default();
    assert!(quoted_images(message).is_empty(), "{message}");
    assert!(
        message.ends_with("pin the values it is built from"),
        "{message}"
    );
}

#[test]
fn no_alias_is_dangling_when_its_resource_exists() {
    // Checked by hand: the alias uses in dotnet-runtime are `linux_x64`
    // (coreclr/templates/superpmi-collect-pipeline.yml:110, a step target through
    // global-build-step.yml; defined in the containers map of
    // common/templates/pipeline-with-resources.yml:56) and `debpkg` / `rpmpkg`
    // (installer/jobs/build-job.yml:27/30, given to a step template that is not in the
    // corpus; defined in installer/installer-container-resources.yml and
    // pipeline-with-resources.yml). None is dangling.
    let corpus = support::shared_dir().join("corpus");
    let all = findings(&corpus);
    let dangling: Vec<&Value> = all
        .iter()
        .filter(|f| f["rule"] == "unknown-container-alias")
        .collect();
    assert_eq!(dangling.len(), 0, "{dangling:#?}");

    // The one alias reached through templates resolves to its resource.
    let value = run(
        &corpus,
        &["refs", "--expand", "--format", "json", "dotnet-runtime"],
    );
    let superpmi = value["expanded"]
        .as_array()
        .expect("expanded")
        .iter()
        .find(|e| {
            e["entry"]
                == "dotnet-runtime/eng/pipelines/coreclr/templates/superpmi-collect-pipeline.yml"
        })
        .expect("superpmi entry");
    let via_alias: BTreeSet<(String, String, u64)> = superpmi["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .flat_map(|j| j["images"].as_array().cloned().unwrap_or_default())
        .filter(|i| i["alias"] == "linux_x64")
        .map(|i| {
            (
                i["image"].as_str().unwrap_or_default().to_string(),
                i["defined_at"]["path"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                i["defined_at"]["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        via_alias.into_iter().collect::<Vec<_>>(),
        [(
            format!("{PREREQS}:azurelinux-3.0-net9.0-cross-amd64"),
            "dotnet-runtime/eng/pipelines/common/templates/pipeline-with-resources.yml".to_string(),
            57
        )]
    );
}

#[test]
fn expanded_entry_points_list_only_images_defined_in_the_corpus() {
    let corpus = support::shared_dir().join("corpus");
    let value = run(
        &corpus,
        &["refs", "--expand", "--format", "json", "dotnet-runtime"],
    );
    // Without --expand the inventory is unchanged (the oracle test guards it); with it the
    // references stay the per-file ones.
    assert!(value["references"]
        .as_array()
        .is_some_and(|r| !r.is_empty()));
    let entries = value["expanded"].as_array().expect("expanded");
    let mut checked = 0;
    let mut images_seen = 0;
    for e in entries {
        let entry = e["entry"].as_str().unwrap_or_default();
        let text = std::fs::read_to_string(corpus.join(entry)).expect("entry readable");
        if !text.contains("/eng/pipelines/common/templates/pipeline-with-resources.yml") {
            continue;
        }
        checked += 1;
        for image in e["jobs"]
            .as_array()
            .expect("jobs")
            .iter()
            .flat_map(|j| j["images"].as_array().cloned().unwrap_or_default())
        {
            images_seen += 1;
            let name = image["image"].as_str().unwrap_or_default();
            let d = &image["defined_at"];
            let path = d["path"].as_str().unwrap_or_default();
            let line = d["line"].as_u64().unwrap_or_default() as usize;
            let source = std::fs::read_to_string(corpus.join(path))
                .unwrap_or_else(|_| panic!("{name}: defined_at {path} is not a corpus file"));
            let written = source.lines().nth(line - 1).unwrap_or_default();
            // Either the literal is on that line, or the line builds it with format() from
            // the prereqs repository and a fragment written in the corpus.
            let literal = written.contains(name);
            let built = written.contains("format(")
                && name
                    .strip_prefix(&format!("{PREREQS}:"))
                    .is_some_and(|tag| {
                        FRAGMENTS.iter().any(|(_, _, f)| *f == tag) && written.contains(PREREQS)
                    });
            assert!(
                literal || built,
                "{entry}: {name} is not defined at {path}:{line}: {written}"
            );
            let via = image["via"].as_array().expect("via");
            assert_eq!(via.first().and_then(Value::as_str), Some(entry));
        }
    }
    assert!(
        checked >= 10,
        "entry points using pipeline-with-resources.yml: {checked}"
    );
    assert!(images_seen > 50, "images listed: {images_seen}");
}
