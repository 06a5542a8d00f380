//! Unit tests of the template layer over small in-memory repositories.

use super::*;
use crate::facts::TagFact;

fn run(files: &[(&'static str, &'static str)]) -> TemplateAnalysis {
    analyze(files.iter().copied())
}

fn extras<'a>(a: &'a TemplateAnalysis, path: &str) -> &'a FileExtras {
    a.file(path).unwrap_or_else(|| {
        panic!(
            "no extras for {path}; files: {:?}",
            a.files().map(|f| f.0).collect::<Vec<_>>()
        )
    })
}

fn images_of(a: &TemplateAnalysis, entry: &str) -> Vec<String> {
    a.entries
        .iter()
        .find(|e| e.entry == entry)
        .map(|e| {
            e.jobs
                .iter()
                .flat_map(|j| j.images.iter().map(|i| i.image.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// `path` has no template-layer problems (or no extras at all).
fn assert_no_problems(a: &TemplateAnalysis, path: &str) {
    assert!(
        a.file(path).is_none_or(|e| e.problems.is_empty()),
        "{:?}",
        a.file(path)
    );
}

/// The jobs of an entry point and the images each runs in.
fn jobs_of<'a>(a: &'a TemplateAnalysis, entry: &str) -> Vec<(&'a str, Vec<&'a str>)> {
    a.entries
        .iter()
        .filter(|e| e.entry == entry)
        .flat_map(|e| &e.jobs)
        .map(|j| {
            let images = j.images.iter().map(|i| i.image.as_str()).collect();
            (j.job.as_str(), images)
        })
        .collect()
}

#[test]
fn literal_through_three_layers_is_reported_where_written() {
    let a = run(&[
        (
            "eng/pipelines/ci.yml",
            "jobs:\n- template: a.yml\n  parameters:\n    buildImage: mcr.microsoft.com/x/y:1.0\n",
        ),
        (
            "eng/pipelines/a.yml",
            "parameters:\n  buildImage: ''\njobs:\n- template: b.yml\n  parameters:\n    img: ${{ parameters.buildImage }}\n",
        ),
        (
            "eng/pipelines/b.yml",
            "parameters:\n- name: img\n  type: string\njobs:\n- template: /eng/pipelines/c.yml\n  parameters:\n    image: ${{ parameters.img }}\n",
        ),
        (
            "eng/pipelines/c.yml",
            "parameters:\n  image: ''\njobs:\n- job: build\n  container: ${{ parameters.image }}\n  steps: []\n",
        ),
    ]);
    let ci = extras(&a, "eng/pipelines/ci.yml");
    assert_eq!(ci.references.len(), 1, "{ci:?}");
    let r = &ci.references[0];
    assert_eq!(r.text, "mcr.microsoft.com/x/y:1.0");
    assert_eq!(r.site, Site::JobContainer);
    assert_eq!(ci.flows.len(), 1);
    assert_eq!(
        ci.flows[0].description,
        "used as job container via eng/pipelines/ci.yml → a.yml → b.yml → c.yml"
    );
    assert_eq!(
        images_of(&a, "eng/pipelines/ci.yml"),
        ["mcr.microsoft.com/x/y:1.0"]
    );
    let job = &a.entries[0].jobs[0];
    assert_eq!(job.job, "build");
    assert_eq!(job.images[0].defined_at.line, 4);
    assert_eq!(job.images[0].via.len(), 4);
}

#[test]
fn aliases_resolve_across_files_and_dangling_ones_are_reported() {
    let a = run(&[
        (
            "p.yml",
            "resources:\n  containers:\n  - container: build\n    image: mcr.microsoft.com/b:1\njobs:\n- template: t.yml\n  parameters:\n    c: build\n- template: t.yml\n  parameters:\n    c: biuld\n",
        ),
        (
            "t.yml",
            "parameters:\n  c: ''\njobs:\n- job: j\n  container: ${{ parameters.c }}\n  steps:\n  - script: echo\n    target: host\n",
        ),
        (
            "other.yml",
            "extends:\n  template: x.yml@templates\n  parameters:\n    containers:\n      svc:\n        image: mcr.microsoft.com/s:2\n    jobs:\n    - job: k\n      services:\n        s: svc\n",
        ),
    ]);
    assert_eq!(images_of(&a, "p.yml"), ["mcr.microsoft.com/b:1"]);
    let job = &a
        .entries
        .iter()
        .find(|e| e.entry == "p.yml")
        .expect("p")
        .jobs[0];
    assert_eq!(job.images[0].alias.as_deref(), Some("build"));
    let p = extras(&a, "p.yml");
    let dangling: Vec<_> = p
        .problems
        .iter()
        .filter(|x| x.rule == "unknown-container-alias")
        .collect();
    assert_eq!(dangling.len(), 1, "{:?}", p.problems);
    assert_eq!(dangling[0].reference.as_deref(), Some("biuld"));
    // The 1ES style `extends.parameters.containers` map defines `svc`.
    assert!(a.file("other.yml").is_none_or(|e| e.problems.is_empty()));
    assert!(a
        .not_followed
        .iter()
        .any(|n| n.reference == "x.yml@templates" && n.reason == UnfollowedReason::External));
}

#[test]
fn format_of_fragments_is_enumerated() {
    let a = run(&[
        (
            "matrix.yml",
            "parameters:\n  flavor: coreclr\njobs:\n- template: setup.yml\n  parameters:\n    container:\n      image: ubuntu-22.04\n      registry: mcr\n- template: setup.yml\n  parameters:\n    container:\n      image: alpine-3.21\n      registry: mcr\n",
        ),
        (
            "setup.yml",
            "parameters:\n  container: ''\njobs:\n- job: x\n  ${{ if eq(parameters.container.registry, 'mcr') }}:\n    container: ${{ format('{0}:{1}', 'mcr.microsoft.com/prereqs', parameters.container.image) }}\n  ${{ else }}:\n    container: ${{ format('{0}:{1}', parameters.container.registry, parameters.container.image) }}\n",
        ),
    ]);
    let setup = extras(&a, "setup.yml");
    let mcr = setup
        .dynamic
        .iter()
        .find(|d| !d.fragment)
        .expect("the format() expression is expanded");
    let images: Vec<&str> = mcr.images.iter().map(|c| c.image.as_str()).collect();
    assert_eq!(
        images,
        [
            "mcr.microsoft.com/prereqs:alpine-3.21",
            "mcr.microsoft.com/prereqs:ubuntu-22.04"
        ]
    );
    let matrix = extras(&a, "matrix.yml");
    assert_eq!(matrix.dynamic.len(), 2);
    assert!(matrix
        .dynamic
        .iter()
        .all(|d| d.fragment && d.images.len() == 1));
}

#[test]
fn if_else_alternatives_and_each_over_a_list() {
    let a = run(&[(
        "p.yml",
        "parameters:\n- name: official\n  type: boolean\n  default: false\n- name: images\n  type: object\n  default:\n  - mcr.microsoft.com/a:1\n  - mcr.microsoft.com/b:2\njobs:\n- job: j\n  ${{ if parameters.official }}:\n    container: mcr.microsoft.com/official:1\n  ${{ elseif eq(variables['Build.Reason'], 'PullRequest') }}:\n    container: mcr.microsoft.com/pr:1\n  ${{ else }}:\n    container: mcr.microsoft.com/public:1\n- ${{ each img in parameters.images }}:\n  - job: each_${{ replace(img, '/', '_') }}\n    container: ${{ img }}\n",
    )]);
    let mut images = images_of(&a, "p.yml");
    images.sort();
    // `official` is false by default: that branch is decided; the PR branch is not.
    assert_eq!(
        images,
        [
            "mcr.microsoft.com/a:1",
            "mcr.microsoft.com/b:2",
            "mcr.microsoft.com/pr:1",
            "mcr.microsoft.com/public:1"
        ]
    );
}

#[test]
fn include_cycles_are_reported_once_and_end() {
    let a = run(&[
        ("ci.yml", "jobs:\n- template: a.yml\n"),
        ("a.yml", "jobs:\n- template: b.yml\n"),
        (
            "b.yml",
            "jobs:\n- template: a.yml\n- job: x\n  container: ubuntu:24.04\n",
        ),
    ]);
    let b = extras(&a, "b.yml");
    let cycles: Vec<_> = b
        .problems
        .iter()
        .filter(|p| p.message.contains("cycle"))
        .collect();
    assert_eq!(cycles.len(), 1, "{:?}", b.problems);
    assert!(
        cycles[0].message.contains("a.yml → b.yml → a.yml"),
        "{}",
        cycles[0].message
    );
    assert_eq!(images_of(&a, "ci.yml"), ["ubuntu:24.04"]);
    // A template that includes itself.
    let a = run(&[("self.yml", "steps:\n- template: self.yml\n")]);
    assert_eq!(extras(&a, "self.yml").problems.len(), 1);
}

#[test]
fn expression_errors_are_findings_not_panics() {
    let text = "jobs:\n- job: a\n  variables:\n    x: $ {{ parameters.x }}\n    y: ${{ eq(parameters.x, }}\n    z: ${{ parameters.x == 'a' }}\n  container: ${{ format('{0}', }}\n";
    let a = analyze([("p.yml", text)]);
    let p = extras(&a, "p.yml");
    let positions: Vec<usize> = p.problems.iter().map(|x| x.span.start).collect();
    assert_eq!(p.problems.len(), 4, "{:?}", p.problems);
    assert_eq!(&text[positions[0]..positions[0] + 3], "$ {");
    // The near miss is marked at its `$`, one character wide.
    assert_eq!(p.problems[0].span, positions[0]..positions[0] + 1);
    assert!(p.problems.iter().all(|x| x.rule == "template-expression"));
}

/// A pipeline declaring the list parameter `name` with `items` as its default, then `rest`.
fn with_list_parameter(
    name: &str,
    items: impl Iterator<Item = String>,
    rest: &str,
) -> &'static str {
    let mut text = format!("parameters:\n- name: {name}\n  type: object\n  default:\n");
    for item in items {
        text.push_str(&format!("  - {item}\n"));
    }
    text.push_str(rest);
    Box::leak(text.into_boxed_str())
}

#[test]
fn alternatives_are_capped_and_said_so() {
    let list = with_list_parameter(
        "a",
        (0..70).map(|i| format!("t{i}")),
        "jobs:\n- ${{ each x in parameters.a }}:\n  - template: t.yml\n    parameters:\n      tag: ${{ x }}\n",
    );
    let a = run(&[
        ("p.yml", list),
        (
            "t.yml",
            "parameters:\n  tag: ''\njobs:\n- job: j\n  container: ${{ format('mcr.microsoft.com/r:{0}', parameters.tag) }}\n",
        ),
    ]);
    // Each iteration is its own job instance: 70 images reach the same job mapping.
    let d = &extras(&a, "t.yml").dynamic[0];
    assert_eq!(d.images.len(), 70);
    // 70 undecidable branches setting one key: one value with 70 possibilities.
    let mut branches = String::from("jobs:\n- job: j\n");
    for i in 0..70 {
        branches.push_str(&format!(
            "  ${{{{ if eq(variables['Build.Reason'], 'r{i}') }}}}:\n    container: mcr.microsoft.com/r:{i}\n"
        ));
    }
    let branches: &'static str = Box::leak(branches.into_boxed_str());
    let many = run(&[("q.yml", branches)]);
    assert_eq!(images_of(&many, "q.yml").len(), value::MAX_ALTS);
    assert!(
        many.notes
            .iter()
            .any(|n| n.contains("more than 64 possibilities")),
        "{:?}",
        many.notes
    );
}

/// Facts in which `mcr.microsoft.com/prereqs:ubuntu-22.04` points to `digest`.
fn prereqs_at(digest: &str) -> Facts {
    let mut facts = Facts::default();
    let image = ImageRef::parse("mcr.microsoft.com/prereqs:ubuntu-22.04").expect("valid");
    facts.insert_tag(
        Facts::tag_key(&image),
        TagFact {
            digest: digest.to_string(),
            platforms: Vec::new(),
            source: "test".to_string(),
        },
    );
    facts
}

#[test]
fn apply_explains_dynamic_references_and_offers_unsafe_fixes() {
    let files = [
        (
            "matrix.yml",
            "jobs:\n- template: setup.yml\n  parameters:\n    container:\n      image: ubuntu-22.04\n      registry: mcr\n",
        ),
        (
            "setup.yml",
            "parameters:\n  container: ''\njobs:\n- job: x\n  container: ${{ format('{0}:{1}', 'mcr.microsoft.com/prereqs', parameters.container.image) }}\n",
        ),
    ];
    let a = analyze(files);
    let digest = format!("sha256:{}", "ab".repeat(32));
    let facts = prereqs_at(&digest);
    let settings = Settings::default();
    for (path, text) in files {
        let analysis = Analysis::new(path, text.to_string());
        let findings = extras(&a, path).findings(&analysis, &settings, &facts);
        let f = findings
            .iter()
            .find(|f| f.rule.id() == "dynamic-image")
            .expect("dynamic finding");
        let fix = f.fix.as_ref().expect("a fix is offered");
        assert_eq!(fix.applicability, Applicability::Unsafe);
        let fixed = crate::fix::apply(text, &fix.edits).expect("applies");
        if path == "matrix.yml" {
            assert!(f.message.contains("the pin belongs here"), "{}", f.message);
            assert!(fixed.contains(&format!("image: ubuntu-22.04@{digest}\n")));
        } else {
            assert!(f.message.contains("can produce 1 image"), "{}", f.message);
            assert!(fixed.contains(&format!(
                "container: mcr.microsoft.com/prereqs:ubuntu-22.04@{digest}\n"
            )));
        }
    }
}

#[test]
fn broken_yaml_and_odd_inputs_do_not_panic() {
    let a = run(&[
        ("a.yml", "jobs:\n- template: [unclosed\n"),
        ("b.yml", "jobs:\n- template: ${{ \n"),
        ("c.yml", "- just\n- a list\n"),
        ("d.yml", "extends:\n  template: ${{ parameters.nope }}\n"),
        (
            "e.yml",
            "jobs:\n- ${{ each x in 3 }}:\n  - job: a\n- ${{ insert }}: 1\n",
        ),
        ("f.yml", ""),
    ]);
    let _ = a.entries.len();
}

proptest::proptest! {
    #[test]
    fn expressions_never_panic(src in "[a-z(),.'\\[\\] =&0-9{}$]{0,40}") {
        let _ = expr::parse(&src);
        let _ = expr::parse_directive(&src);
        let _ = expr::segments(&src);
        let _ = expr::near_misses(&src);
    }

    #[test]
    fn pipelines_never_panic(
        key in "(jobs|steps|template|container|parameters|\\$\\{\\{ if eq\\(parameters\\.a, 'x'\\) \\}\\}|\\$\\{\\{ each x in parameters\\.a \\}\\})",
        value in "[a-z./:${} ()',]{0,30}",
    ) {
        let text = format!("parameters:\n  a: [x]\n{key}:\n- template: p.yml\n  parameters:\n    c: {value}\n- job: j\n  container: {value}\n");
        let text: &'static str = Box::leak(text.into_boxed_str());
        let _ = analyze([("p.yml", text), ("q.yml", text)]);
    }
}

#[test]
fn use_sites_list_the_images_that_reach_them_and_resources_their_users() {
    let ci = "resources:\n  containers:\n  - container: linux_x64\n    image: mcr.microsoft.com/x/build:1\njobs:\n- template: templates/job.yml\n  parameters:\n    container: linux_x64\n    testImage: mcr.microsoft.com/x/test:2\n";
    let job = "parameters:\n  container: ''\n  testImage: 'mcr.microsoft.com/x/default:3'\njobs:\n- job: build\n  container: ${{ parameters.container }}\n  steps: []\n- job: test\n  container:\n    image: ${{ parameters.testImage }}\n  steps:\n  - script: x\n    target: linux_x64\n";
    let a = run(&[("eng/ci.yml", ci), ("eng/templates/job.yml", job)]);
    let job_extras = extras(&a, "eng/templates/job.yml");
    let at = |needle: &str| job.find(needle).expect("needle");
    let use_at = |needle: &str| {
        job_extras
            .uses
            .iter()
            .find(|u| u.span.start == at(needle))
            .unwrap_or_else(|| panic!("no use site at {needle}: {:?}", job_extras.uses))
    };
    let build = use_at("${{ parameters.container }}");
    assert_eq!(build.used_as, "job container");
    assert_eq!(build.span.end, at("${{ parameters.container }}") + 27);
    assert_eq!(
        build.images,
        [Incoming {
            image: "mcr.microsoft.com/x/build:1".into(),
            defined_at: Some(Position {
                path: "eng/ci.yml".into(),
                line: 4,
                column: 12
            }),
            via: vec!["eng/ci.yml".into(), "eng/templates/job.yml".into()],
            alias: Some("linux_x64".into()),
        }]
    );
    let test = use_at("${{ parameters.testImage }}");
    let images: Vec<(&str, u32, &[String])> = test
        .images
        .iter()
        .map(|i| {
            let p = i.defined_at.as_ref().expect("written");
            (i.image.as_str(), p.line, i.via.as_slice())
        })
        .collect();
    // The caller's argument, and the default (the template analysed on its own).
    assert_eq!(
        images,
        [
            (
                "mcr.microsoft.com/x/default:3",
                3,
                &["eng/templates/job.yml".to_string()][..]
            ),
            (
                "mcr.microsoft.com/x/test:2",
                9,
                &[
                    "eng/ci.yml".to_string(),
                    "eng/templates/job.yml".to_string()
                ][..]
            ),
        ]
    );
    // A literal written at the use site is not an incoming value.
    assert!(job_extras.uses.iter().all(|u| u.span.start != at("x\n")));

    let ci_extras = extras(&a, "eng/ci.yml");
    assert_eq!(ci_extras.resources.len(), 1, "{:?}", ci_extras.resources);
    let r = &ci_extras.resources[0];
    assert_eq!(r.alias, "linux_x64");
    assert_eq!(r.span.start, ci.find("linux_x64").expect("alias"));
    let image = ci.find("mcr.").expect("image")..ci.find(":1\n").expect("end") + 2;
    assert_eq!(r.images, vec![image]);
    let uses: Vec<(String, u32, &str, &str)> = r
        .uses
        .iter()
        .map(|u| (u.at.path.clone(), u.at.line, u.job.as_str(), u.used_as))
        .collect();
    assert_eq!(
        uses,
        [
            ("eng/ci.yml".to_string(), 8, "build", "job container"),
            (
                "eng/templates/job.yml".to_string(),
                13,
                "test",
                "step target container"
            ),
        ]
    );
}

/// A template that builds its job's image from a fragment: `mcr.microsoft.com/prereqs:` and
/// the `image` its caller passes.
const FRAGMENT_SETUP: &str = "parameters:\n  container: ''\njobs:\n- job: x\n  container: ${{ format('{0}:{1}', 'mcr.microsoft.com/prereqs', parameters.container.image) }}\n";

/// A pipeline that calls `setup.yml` with `image` as the fragment, then `rest`.
fn fragment_caller(image: &str, rest: &str) -> &'static str {
    Box::leak(
        format!("jobs:\n- template: setup.yml\n  parameters:\n    container:\n      image: {image}\n      registry: mcr\n{rest}")
            .into_boxed_str(),
    )
}

/// A fragment that carries its digest and becomes one image is kept current where the digest
/// is written (a safe edit of exactly the digest); the expression it completes explains the
/// image as stale.
#[test]
fn a_pinned_fragment_is_bumped_where_its_digest_is_written() {
    let old = format!("sha256:{}", "11".repeat(32));
    let new = format!("sha256:{}", "ab".repeat(32));
    let matrix = fragment_caller(&format!("ubuntu-22.04@{old}"), "");
    let setup = FRAGMENT_SETUP;
    let files = [("matrix.yml", matrix), ("setup.yml", setup)];
    let a = analyze(files);
    let facts = prereqs_at(&new);
    let settings = Settings::default();
    let analysis = Analysis::new("matrix.yml", matrix.to_string());
    let findings = extras(&a, "matrix.yml").findings(&analysis, &settings, &facts);
    // The fragment carries its digest: it is no longer asked to be pinned.
    assert!(
        findings.iter().all(|f| f.rule.id() != "dynamic-image"),
        "{findings:#?}"
    );
    let bump = findings
        .iter()
        .find(|f| {
            f.fix
                .as_ref()
                .is_some_and(|x| x.applicability == Applicability::Safe)
        })
        .unwrap_or_else(|| panic!("a safe fix of the fragment: {findings:#?}"));
    let fix = bump.fix.as_ref().expect("fix");
    assert_eq!(fix.edits.len(), 1, "{fix:?}");
    assert_eq!(&matrix[fix.edits[0].range.clone()], old, "{fix:?}");
    let fixed = crate::fix::apply(matrix, &fix.edits).expect("applies");
    assert!(
        fixed.contains(&format!("image: ubuntu-22.04@{new}\n")),
        "{fixed}"
    );

    let analysis = Analysis::new("setup.yml", setup.to_string());
    let findings = extras(&a, "setup.yml").findings(&analysis, &settings, &facts);
    let dynamic = findings
        .iter()
        .find(|f| f.rule.id() == "dynamic-image")
        .expect("dynamic finding");
    assert!(
        dynamic
            .message
            .contains("(stale: tag now at sha256:abababababab)"),
        "{}",
        dynamic.message
    );
    assert!(!dynamic.message.contains(" more"), "{}", dynamic.message);
}

/// A fragment the expression changes on its way (here lower-cased) is not where the image's
/// digest is written as it is built: no safe fix is offered there.
#[test]
fn a_fragment_changed_by_the_expression_is_not_bumped() {
    let old = format!("sha256:{}", "11".repeat(32));
    let matrix = fragment_caller(&format!("Ubuntu-22.04@{old}"), "");
    let setup = "parameters:\n  container: ''\njobs:\n- job: x\n  container: ${{ format('{0}:{1}', 'mcr.microsoft.com/prereqs', lower(parameters.container.image)) }}\n";
    let a = analyze([("matrix.yml", matrix), ("setup.yml", setup)]);
    let facts = prereqs_at(&format!("sha256:{}", "ab".repeat(32)));
    let analysis = Analysis::new("matrix.yml", matrix.to_string());
    let findings = extras(&a, "matrix.yml").findings(&analysis, &Settings::default(), &facts);
    assert!(
        !findings.iter().any(|f| f
            .fix
            .as_ref()
            .is_some_and(|x| x.applicability == Applicability::Safe)),
        "{findings:#?}"
    );
}

/// The layer over per-file analyses (what the engine and the language server run) sees the
/// same images as over the texts.
#[test]
fn the_layer_runs_over_analyses_as_over_texts() {
    let files = [
        (
            "ci.yml",
            "jobs:\n- template: job.yml\n  parameters:\n    image: '2.0'\n",
        ),
        (
            "job.yml",
            "parameters:\n  image: ''\njobs:\n- job: j\n  container: ${{ format('mcr.microsoft.com/x/y:{0}', parameters.image) }}\n",
        ),
    ];
    let analyses: Vec<(&str, Analysis)> = files
        .iter()
        .map(|(p, t)| (*p, Analysis::new(p, t.to_string())))
        .collect();
    let layer = analyze_analyses(
        analyses.iter().map(|(p, a)| (*p, a)),
        Options {
            inventory: false,
            hovers: false,
        },
    );
    let job = extras(&layer, "job.yml");
    let images: Vec<&str> = job
        .dynamic
        .iter()
        .flat_map(|d| d.images.iter().map(|c| c.image.as_str()))
        .collect();
    assert_eq!(images, ["mcr.microsoft.com/x/y:2.0"]);
    let texts = run(&files);
    assert_eq!(extras(&texts, "job.yml").dynamic.len(), job.dynamic.len());
}

/// Only a job's own `container:` is a use site, and only a literal image is an image that
/// reaches it: not an expression, not a blank value, not a `container:` nested deeper in the
/// job (a matrix variable).
#[test]
fn only_literal_images_of_a_jobs_own_container_reach_it() {
    let a = run(&[(
        "ci.yml",
        "jobs:\n- job: a\n  container:\n    image: $(img)\n  steps:\n  - script: x\n- job: b\n  container:\n    image: ' '\n- job: c\n  container: mcr.microsoft.com/x/y:1\n  strategy:\n    matrix:\n      one:\n        container: mcr.microsoft.com/x/other:2\n",
    )]);
    assert_eq!(images_of(&a, "ci.yml"), ["mcr.microsoft.com/x/y:1"]);
}

/// A plain `null` / `~` / empty value is null (which `coalesce` skips), and a mapping key
/// built by an expression is the key it evaluates to.
#[test]
fn nulls_and_expression_keys_expand_as_azure_pipelines_does() {
    for null in ["null", "~", "Null", "NULL", ""] {
        let job: &'static str = Box::leak(
            format!("parameters:\n  image: {null}\njobs:\n- job: j\n  container: ${{{{ coalesce(parameters.image, 'mcr.microsoft.com/x/y:1') }}}}\n")
                .into_boxed_str(),
        );
        let a = run(&[("ci.yml", "jobs:\n- template: job.yml\n"), ("job.yml", job)]);
        assert_eq!(
            images_of(&a, "ci.yml"),
            ["mcr.microsoft.com/x/y:1"],
            "image: {null}"
        );
    }
    let a = run(&[
        (
            "ci.yml",
            "jobs:\n- template: job.yml\n  parameters:\n    key: container\n",
        ),
        (
            "job.yml",
            "parameters:\n  key: ''\njobs:\n- job: j\n  ${{ parameters.key }}: mcr.microsoft.com/x/z:2\n",
        ),
    ]);
    assert_eq!(images_of(&a, "ci.yml"), ["mcr.microsoft.com/x/z:2"]);
}

/// A `containers:` alias map defines aliases by its keys (not a key built by an expression),
/// which jobs then name.
#[test]
fn alias_maps_define_the_aliases_jobs_name() {
    let a = run(&[(
        "ci.yml",
        "extends:\n  template: t.yml\n  parameters:\n    containers:\n      build:\n        image: mcr.microsoft.com/x/y:1\n    jobs:\n    - job: a\n      container: build\n",
    ), (
        "t.yml",
        "parameters:\n  containers: {}\n  jobs: []\njobs:\n- ${{ each job in parameters.jobs }}:\n  - ${{ job }}\n",
    )]);
    assert_eq!(images_of(&a, "ci.yml"), ["mcr.microsoft.com/x/y:1"]);
}

/// Under a condition that cannot be decided, each branch's `extends` adds its jobs as a
/// possibility; neither replaces the other.
#[test]
fn undecided_extends_keep_both_branches() {
    let a = run(&[
        (
            "ci.yml",
            "${{ if eq(variables['Build.Reason'], 'PullRequest') }}:\n  extends:\n    template: one.yml\n${{ else }}:\n  extends:\n    template: two.yml\n",
        ),
        (
            "one.yml",
            "jobs:\n- job: a\n  container: mcr.microsoft.com/x/one:1\n",
        ),
        (
            "two.yml",
            "jobs:\n- job: a\n  container: mcr.microsoft.com/x/two:2\n",
        ),
    ]);
    let mut images = images_of(&a, "ci.yml");
    images.sort();
    assert_eq!(
        images,
        ["mcr.microsoft.com/x/one:1", "mcr.microsoft.com/x/two:2"]
    );
}

/// A literal that reaches many use sites lists three of them and says how many more.
#[test]
fn flows_list_three_uses_and_count_the_rest() {
    let job = |name: &'static str| -> (&'static str, &'static str) {
        (
            name,
            "parameters:\n  image: ''\njobs:\n- job: j\n  container: ${{ parameters.image }}\n",
        )
    };
    let a = run(&[
        (
            "ci.yml",
            "parameters:\n- name: image\n  default: mcr.microsoft.com/x/y:1\njobs:\n- template: a.yml\n  parameters:\n    image: ${{ parameters.image }}\n- template: b.yml\n  parameters:\n    image: ${{ parameters.image }}\n- template: c.yml\n  parameters:\n    image: ${{ parameters.image }}\n- template: d.yml\n  parameters:\n    image: ${{ parameters.image }}\n",
        ),
        job("a.yml"),
        job("b.yml"),
        job("c.yml"),
        job("d.yml"),
    ]);
    let flows = &extras(&a, "ci.yml").flows;
    assert_eq!(flows.len(), 1, "{flows:?}");
    assert!(
        flows[0].description.ends_with("; and 1 more"),
        "{}",
        flows[0].description
    );
    let two = run(&[
        (
            "ci.yml",
            "parameters:\n- name: image\n  default: mcr.microsoft.com/x/y:1\njobs:\n- template: a.yml\n  parameters:\n    image: ${{ parameters.image }}\n",
        ),
        job("a.yml"),
    ]);
    let flows = &extras(&two, "ci.yml").flows;
    assert!(
        flows.iter().all(|f| !f.description.contains("more")),
        "{flows:?}"
    );
}

/// A plain `true` is a boolean, which the expression language prints as `True`.
#[test]
fn plain_booleans_print_as_azure_pipelines_prints_them() {
    let a = run(&[
        ("ci.yml", "jobs:\n- template: job.yml\n"),
        (
            "job.yml",
            "parameters:\n  flag: true\njobs:\n- job: j\n  container: ${{ format('mcr.microsoft.com/x/y:{0}', parameters.flag) }}\n",
        ),
    ]);
    assert_eq!(images_of(&a, "ci.yml"), ["mcr.microsoft.com/x/y:True"]);
}

/// A key set again under a condition that holds replaces the earlier value; under one that
/// cannot be decided, both stay possible, whether the key is written or built by an
/// expression.
#[test]
fn conditional_keys_replace_or_add() {
    let a = run(&[(
        "ci.yml",
        "parameters:\n- name: key\n  default: container\njobs:\n- job: j\n  container: mcr.microsoft.com/x/a:1\n  ${{ if eq(1, 1) }}:\n    container: mcr.microsoft.com/x/b:1\n- job: k\n  container: mcr.microsoft.com/x/c:1\n  ${{ if eq(variables['Build.Reason'], 'PullRequest') }}:\n    container: mcr.microsoft.com/x/d:1\n- job: m\n  container: mcr.microsoft.com/x/e:1\n  ${{ if eq(variables['Build.Reason'], 'PullRequest') }}:\n    ${{ parameters.key }}: mcr.microsoft.com/x/f:1\n",
    )]);
    let mut images = images_of(&a, "ci.yml");
    images.sort();
    assert_eq!(
        images,
        [
            "mcr.microsoft.com/x/b:1",
            "mcr.microsoft.com/x/c:1",
            "mcr.microsoft.com/x/d:1",
            "mcr.microsoft.com/x/e:1",
            "mcr.microsoft.com/x/f:1"
        ]
    );
}

/// A pipeline that expands past the size limit stops there and says so: what comes before
/// the limit is listed, what lies beyond it is not, and the work stays bounded (three nested
/// loops over 80 items would visit about a million nodes).
#[test]
fn expansion_stops_at_its_size_limit_and_says_so() {
    let text = with_list_parameter("l", (0..80).map(|i| i.to_string()), "jobs:\n- job: early\n  container: mcr.microsoft.com/x/early:1\n- job: big\n  variables:\n    ${{ each a in parameters.l }}:\n      ${{ each b in parameters.l }}:\n        ${{ each c in parameters.l }}:\n          v: 1\n- job: late\n  container: mcr.microsoft.com/x/late:1\n");
    let a = run(&[("ci.yml", text)]);
    assert_eq!(images_of(&a, "ci.yml"), ["mcr.microsoft.com/x/early:1"]);
    assert!(
        a.notes.iter().any(|n| n.starts_with(&format!(
            "ci.yml: expansion stopped at its size limit ({} nodes",
            expand::NODE_BUDGET
        ))),
        "{:?}",
        a.notes
    );
}

/// A value built from written text and expressions lists the places it is built from: the
/// text before, between or after the expressions and the caller's values, and no empty text.
#[test]
fn built_values_list_the_places_they_are_built_from() {
    let files = [
        (
            "ci.yml",
            "jobs:\n- template: job.yml\n  parameters:\n    tag: '1.0'\n    registry: mcr.microsoft.com\n",
        ),
        (
            "job.yml",
            "parameters:\n  tag: ''\n  registry: ''\njobs:\n- job: j\n  container: mcr.microsoft.com/x/app:${{ parameters.tag }}\n- job: k\n  container: ${{ parameters.registry }}/x/tools:2.0\n- job: l\n  container: ${{ parameters.registry }}/x/web:${{ parameters.tag }}\n",
        ),
    ];
    let a = analyze(files);
    let parts: Vec<(String, Vec<String>)> = extras(&a, "job.yml")
        .dynamic
        .iter()
        .flat_map(|d| &d.images)
        .map(|c| {
            let at = c.parts.iter();
            let at = at.map(|p| format!("{}:{}:{}", p.path, p.line, p.column));
            (c.image.clone(), at.collect())
        })
        .collect();
    assert_eq!(
        parts,
        [
            (
                "mcr.microsoft.com/x/app:1.0".to_string(),
                vec!["job.yml:6:14".to_string(), "ci.yml:4:11".to_string()]
            ),
            (
                "mcr.microsoft.com/x/tools:2.0".to_string(),
                vec!["ci.yml:5:15".to_string(), "job.yml:8:40".to_string()]
            ),
            (
                "mcr.microsoft.com/x/web:1.0".to_string(),
                vec![
                    "ci.yml:5:15".to_string(),
                    "job.yml:10:40".to_string(),
                    "ci.yml:4:11".to_string()
                ]
            ),
        ]
    );
    // The finding at each expression names the same places.
    let analysis = Analysis::new("job.yml", files[1].1.to_string());
    let findings =
        extras(&a, "job.yml").findings(&analysis, &Settings::default(), &Facts::default());
    let fragments: Vec<&str> = findings
        .iter()
        .filter(|f| f.rule.id() == "dynamic-image")
        .filter_map(|f| {
            f.message
                .split("the pin belongs on the fragments it is built from ")
                .nth(1)
        })
        .collect();
    assert_eq!(
        fragments,
        [
            "(ci.yml:4:11, job.yml:6:14)",
            "(ci.yml:5:15, job.yml:8:40)",
            "(ci.yml:4:11, ci.yml:5:15, job.yml:10:40)"
        ]
    );
}

/// An image built in the caller that reaches a template's use site is listed there, at the
/// place it is built.
#[test]
fn built_images_reaching_a_use_site_are_listed_where_they_are_built() {
    let ci = "parameters:\n- name: tag\n  default: '1.0'\njobs:\n- template: job.yml\n  parameters:\n    image: mcr.microsoft.com/x/app:${{ parameters.tag }}\n";
    let job = "parameters:\n  image: ''\njobs:\n- job: j\n  container: ${{ parameters.image }}\n";
    let a = run(&[("ci.yml", ci), ("job.yml", job)]);
    let uses = &extras(&a, "job.yml").uses;
    let at = job.find("${{").expect("use site");
    assert_eq!(
        uses,
        &[UseSiteImages {
            span: at..at + "${{ parameters.image }}".len(),
            used_as: "job container",
            images: vec![Incoming {
                image: "mcr.microsoft.com/x/app:1.0".into(),
                defined_at: Some(Position {
                    path: "ci.yml".into(),
                    line: 7,
                    column: 12
                }),
                via: vec!["ci.yml".into(), "job.yml".into()],
                alias: None,
            }],
        }]
    );
}

/// A function of several many-valued arguments is tried on at most 256 combinations of
/// them: a match only the last combination would give is not followed, and the run says
/// that possibilities were dropped.
#[test]
fn combinations_of_many_valued_arguments_are_capped_and_said_so() {
    let mut ci = String::from("jobs:\n- template: t.yml\n  parameters:\n");
    for i in 0..17 {
        let b = if i == 16 {
            "x16".to_string()
        } else {
            format!("y{i}")
        };
        ci.push_str(&format!(
            "    ${{{{ if eq(variables['Build.Reason'], 'r{i}') }}}}:\n      a: x{i}\n      b: {b}\n"
        ));
    }
    let ci: &'static str = Box::leak(ci.into_boxed_str());
    let a = run(&[
        ("ci.yml", ci),
        (
            "t.yml",
            "parameters:\n  a: ''\n  b: ''\njobs:\n- job: j\n  container: mcr.microsoft.com/x/differ:1\n  ${{ if eq(parameters.a, parameters.b) }}:\n    container: mcr.microsoft.com/x/same:1\n",
        ),
    ]);
    assert_eq!(images_of(&a, "ci.yml"), ["mcr.microsoft.com/x/differ:1"]);
    assert_eq!(
        a.notes,
        ["ci.yml: some values had more than 64 possibilities; the rest were not followed"]
    );
}

/// Small expressions read as Azure Pipelines reads them: each case is a template called
/// from an entry point, with the images the entry point's jobs get.
#[test]
fn expressions_expand_as_azure_pipelines_does() {
    let cases: &[(&str, &str, &[&str])] = &[
        // A quoted 'false' given for a boolean parameter is false.
        (
            "  parameters:\n    flag: 'false'\n",
            "- job: j\n  ${{ if parameters.flag }}:\n    container: mcr.microsoft.com/x/on:1\n  ${{ else }}:\n    container: mcr.microsoft.com/x/off:1\n",
            &["mcr.microsoft.com/x/off:1"],
        ),
        // `null` is the null literal, which `coalesce` skips.
        (
            "",
            "- job: j\n  container: ${{ coalesce(null, 'mcr.microsoft.com/x/c:1') }}\n",
            &["mcr.microsoft.com/x/c:1"],
        ),
        // An index picks a list item.
        (
            "",
            "- job: j\n  container: ${{ parameters.images[1] }}\n",
            &["mcr.microsoft.com/x/b:2"],
        ),
        // `each` reads its collection after `in`, however many blanks stand before it.
        (
            "",
            "- ${{ each img  in parameters.images }}:\n  - job: j\n    container: ${{ img }}\n",
            &["mcr.microsoft.com/x/a:1", "mcr.microsoft.com/x/b:2"],
        ),
        // A quoted string inside an expression may hold `}}`.
        (
            "",
            "- job: j\n  container: ${{ replace('mcr.microsoft.com/x/d:{{tag}}', '{{tag}}', '1') }}\n",
            &["mcr.microsoft.com/x/d:1"],
        ),
    ];
    for (args, jobs, expected) in cases {
        let ci = format!("jobs:\n- template: t.yml\n{args}");
        let t = format!("parameters:\n- name: flag\n  type: boolean\n  default: true\n- name: images\n  type: object\n  default: [mcr.microsoft.com/x/a:1, mcr.microsoft.com/x/b:2]\njobs:\n{jobs}");
        let a = analyze([("ci.yml", ci.as_str()), ("t.yml", t.as_str())]);
        let mut images = images_of(&a, "ci.yml");
        images.sort();
        assert_eq!(images, expected.to_vec(), "{t}");
    }
}

/// A use site lists only the images that come from elsewhere, not a literal written right
/// there; without [`Options::hovers`] neither use sites nor resources are recorded, and the
/// inventory is the same.
#[test]
fn hover_records_list_what_comes_from_elsewhere_and_only_on_request() {
    let ci = "resources:\n  containers:\n  - container: build\n    image: mcr.microsoft.com/x/build:1\njobs:\n- template: job.yml\n  parameters:\n    container: build\n- job: lit\n  container: mcr.microsoft.com/x/lit:1\n";
    let job =
        "parameters:\n  container: ''\njobs:\n- job: j\n  container: ${{ parameters.container }}\n";
    let files = [("ci.yml", ci), ("job.yml", job)];
    let a = run(&files);
    // The literal job container of `lit` is written at its use site: nothing comes in.
    assert!(extras(&a, "ci.yml").uses.is_empty(), "{a:#?}");
    let incoming: Vec<(&str, Option<&str>)> = extras(&a, "job.yml")
        .uses
        .iter()
        .flat_map(|u| &u.images)
        .map(|i| (i.image.as_str(), i.alias.as_deref()))
        .collect();
    assert_eq!(incoming, [("mcr.microsoft.com/x/build:1", Some("build"))]);
    assert_eq!(extras(&a, "ci.yml").resources.len(), 1);
    let quiet = analyze_repository(
        &Repository::new(files),
        Options {
            inventory: true,
            hovers: false,
        },
    );
    assert!(
        quiet
            .files()
            .all(|(_, e)| e.uses.is_empty() && e.resources.is_empty()),
        "{quiet:#?}"
    );
    assert_eq!(quiet.entries, a.entries);
}

/// A template included only from a branch that is switched off is still checked on its own.
#[test]
fn templates_behind_a_false_condition_are_checked_on_their_own() {
    let a = run(&[
        (
            "ci.yml",
            "jobs:\n- ${{ if eq(1, 2) }}:\n  - template: t.yml\n- job: a\n  container: mcr.microsoft.com/x/a:1\n",
        ),
        (
            "t.yml",
            "jobs:\n- job: t\n  container: ${{ format('mcr.microsoft.com/x/{0}:1', 'y') }}\n",
        ),
    ]);
    assert_eq!(images_of(&a, "ci.yml"), ["mcr.microsoft.com/x/a:1"]);
    let made: Vec<&str> = extras(&a, "t.yml")
        .dynamic
        .iter()
        .flat_map(|d| d.images.iter().map(|c| c.image.as_str()))
        .collect();
    assert_eq!(made, ["mcr.microsoft.com/x/y:1"]);
}

/// A template that is not followed is a job only in a `jobs:` list: given to a stage
/// template, a step's target is listed under the step's own place.
#[test]
fn unfollowed_stage_templates_are_no_jobs() {
    let a = run(&[(
        "ci.yml",
        "stages:\n- template: missing/stage.yml\n  parameters:\n    steps:\n    - script: x\n      target: mcr.microsoft.com/x/t:1\n",
    )]);
    let jobs = jobs_of(&a, "ci.yml");
    assert_eq!(jobs, [("ci.yml:5", vec!["mcr.microsoft.com/x/t:1"])]);
}

/// A rooted template path (`/job.yml`) is looked for under each folder of the including
/// file, never under the beginning of a folder's name.
#[test]
fn rooted_template_paths_resolve_under_whole_folders() {
    let a = run(&[
        ("eng/build/ci.yml", "jobs:\n- template: /job.yml\n"),
        (
            "eng/build/job.yml",
            "jobs:\n- job: j\n  container: mcr.microsoft.com/x/right:1\n",
        ),
        (
            "eng/buildjob.yml",
            "jobs:\n- job: j\n  container: mcr.microsoft.com/x/wrong:1\n",
        ),
    ]);
    assert_eq!(
        images_of(&a, "eng/build/ci.yml"),
        ["mcr.microsoft.com/x/right:1"]
    );
}

/// A job template that is not followed is one job in a `jobs:` list, named by the template
/// and the argument that tells its instances apart: the targets of the steps handed to it
/// are that job's.
#[test]
fn unfollowed_job_templates_are_jobs_of_their_own() {
    let a = run(&[(
        "ci.yml",
        "jobs:\n- template: missing/job.yml\n  parameters:\n    name: linux\n    steps:\n    - script: x\n      target: mcr.microsoft.com/x/t:1\n",
    )]);
    let jobs = jobs_of(&a, "ci.yml");
    assert_eq!(
        jobs,
        [(
            "template missing/job.yml (linux)",
            vec!["mcr.microsoft.com/x/t:1"]
        )]
    );
}

/// A job container written as a mapping runs its `image:`, with or without a registry host
/// in it; only beside a `registry:` is an image without one a fragment completed elsewhere.
#[test]
fn job_container_mappings_run_their_image() {
    let a = run(&[(
        "ci.yml",
        "jobs:\n- job: a\n  container:\n    image: ubuntu:24.04\n- job: b\n  container:\n    image: mcr.microsoft.com/x/y:1\n    registry: mcr\n- job: c\n  container:\n    image: ubuntu-22.04\n    registry: mcr\n",
    )]);
    let jobs = jobs_of(&a, "ci.yml");
    assert_eq!(
        jobs,
        [
            ("a", vec!["ubuntu:24.04"]),
            ("b", vec!["mcr.microsoft.com/x/y:1"])
        ]
    );
}

/// A literal the per-file view already reads as an image (a template's `container:`
/// argument) is not added again; its flow is still told.
#[test]
fn literals_the_file_already_reads_are_not_added_again() {
    let ci = "jobs:\n- template: job.yml\n  parameters:\n    container: mcr.microsoft.com/x/y:1\n";
    let a = run(&[
        ("ci.yml", ci),
        (
            "job.yml",
            "parameters:\n  container: ''\njobs:\n- job: j\n  container: ${{ parameters.container }}\n",
        ),
    ]);
    let per_file = Analysis::new("ci.yml", ci.to_string());
    assert_eq!(
        per_file
            .references
            .iter()
            .map(|r| r.text.as_str())
            .collect::<Vec<_>>(),
        ["mcr.microsoft.com/x/y:1"]
    );
    let extras = extras(&a, "ci.yml");
    assert!(extras.references.is_empty(), "{:?}", extras.references);
    let flows: Vec<&str> = extras
        .flows
        .iter()
        .map(|f| f.description.as_str())
        .collect();
    assert_eq!(flows, ["used as job container via ci.yml → job.yml"]);
}

/// A dynamic image's finding tells, for each image it can produce, what the registry says
/// of it: where an unpinned tag points now.
#[test]
fn dynamic_findings_tell_where_each_tag_points() {
    let files = [
        (
            "matrix.yml",
            "jobs:\n- template: setup.yml\n  parameters:\n    container:\n      image: ubuntu-22.04\n      registry: mcr\n",
        ),
        (
            "setup.yml",
            "parameters:\n  container: ''\njobs:\n- job: x\n  container: ${{ format('{0}:{1}', 'mcr.microsoft.com/prereqs', parameters.container.image) }}\n",
        ),
    ];
    let a = analyze(files);
    let facts = prereqs_at(&format!("sha256:{}", "ab".repeat(32)));
    for (path, text) in files {
        let analysis = Analysis::new(path, text.to_string());
        let findings = extras(&a, path).findings(&analysis, &Settings::default(), &facts);
        let f = findings
            .iter()
            .find(|f| f.rule.id() == "dynamic-image")
            .expect("dynamic finding");
        assert!(
            f.message.contains(
                "`mcr.microsoft.com/prereqs:ubuntu-22.04` (tag now at sha256:abababababab)"
            ),
            "{path}: {}",
            f.message
        );
    }
}

/// The files the layer has something to add to are listed, and only those.
#[test]
fn only_files_with_extras_are_listed() {
    let a = run(&[
        ("q.yml", "jobs:\n- job: b\n  steps: []\n"),
        ("p.yml", "jobs:\n- job: a\n  container: nope\n"),
    ]);
    let listed: Vec<(&str, Vec<&str>)> = a
        .files()
        .map(|(path, e)| (path, e.problems.iter().map(|p| p.rule).collect()))
        .collect();
    assert_eq!(listed, [("p.yml", vec!["unknown-container-alias"])]);
    assert!(a.file("q.yml").is_none());
}

/// What a template does with its arguments, as the preprocessor does it: `each` over a
/// mapping gives `key`/`value` pairs, compile-time variables of the caller (list style) and
/// of the template (map style) are read, a `number` parameter given as text compares as a
/// number, `insert` merges a mapping; services, step targets written as mappings and
/// aliases of the caller's resources are images of the job; a `container` argument of a
/// template that is not followed is one too, and an alias there is not judged.
#[test]
fn templates_expand_their_arguments_as_azure_pipelines_does() {
    let ci = "variables:\n- name: registry\n  value: mcr.microsoft.com\n- group: secrets\nresources:\n  containers:\n  - container: redis\n    image: redis:7\njobs:\n- template: job.yml\n  parameters:\n    images:\n      linux: x/linux:1\n      windows: x/windows:2\n    count: '10'\n- template: other.yml@tools\n  parameters:\n    container: mcr.microsoft.com/x/arg:1\n- template: other.yml@tools\n  parameters:\n    container: elsewhere\n";
    let job = "parameters:\n- name: images\n  type: object\n  default: {}\n- name: count\n  type: number\n  default: 1\nvariables:\n  suffix: '-x'\njobs:\n- ${{ each pair in parameters.images }}:\n  - job: ${{ pair.key }}\n    container: ${{ variables.registry }}/${{ pair.value }}\n- job: many\n  ${{ if gt(parameters.count, 2) }}:\n    container: mcr.microsoft.com/x/many:1\n  ${{ else }}:\n    container: mcr.microsoft.com/x/few:1\n- job: inserted\n  ${{ insert }}:\n    container: mcr.microsoft.com/x/inserted${{ variables.suffix }}:1\n- job: svc\n  services:\n    db: postgres:17\n    cache: redis\n  steps:\n  - script: x\n    target:\n      container: mcr.microsoft.com/x/tool:1\n  - script: y\n    target: host\n";
    let a = run(&[("ci.yml", ci), ("job.yml", job)]);
    assert_eq!(
        jobs_of(&a, "ci.yml"),
        [
            ("linux", vec!["mcr.microsoft.com/x/linux:1"]),
            ("windows", vec!["mcr.microsoft.com/x/windows:2"]),
            ("many", vec!["mcr.microsoft.com/x/many:1"]),
            ("inserted", vec!["mcr.microsoft.com/x/inserted-x:1"]),
            (
                "svc",
                vec!["mcr.microsoft.com/x/tool:1", "postgres:17", "redis:7"]
            ),
            (
                "template other.yml@tools",
                vec!["mcr.microsoft.com/x/arg:1"]
            ),
        ]
    );
    assert_no_problems(&a, "ci.yml");
}

/// A dynamic image's finding describes twelve of the images it can produce, each with what
/// the registry says of it, and counts the rest; with several images there is no single
/// literal to offer in its place.
#[test]
fn dynamic_findings_describe_twelve_images_and_count_the_rest() {
    let pinned = format!("alpine@sha256:{}", "11".repeat(32));
    let tags = ["a-22.04".to_string(), pinned.clone()]
        .into_iter()
        .chain((0..12).map(|i| format!("t{i}")));
    let text = with_list_parameter(
        "tags",
        tags.map(|t| format!("'{t}'")),
        "jobs:\n- ${{ each t in parameters.tags }}:\n  - job: j\n    container: ${{ format('mcr.microsoft.com/prereqs:{0}', t) }}\n",
    );
    let a = run(&[("ci.yml", text)]);
    let mut facts = Facts::default();
    let tagged = ImageRef::parse("mcr.microsoft.com/prereqs:a-22.04").expect("valid");
    facts.insert_tag(
        Facts::tag_key(&tagged),
        TagFact {
            digest: format!("sha256:{}", "ab".repeat(32)),
            platforms: Vec::new(),
            source: "test".to_string(),
        },
    );
    let gone = ImageRef::parse(&format!("mcr.microsoft.com/prereqs:{pinned}")).expect("valid");
    facts.insert_digest(Facts::digest_key(&gone).expect("digest"), false);
    let analysis = Analysis::new("ci.yml", text.to_string());
    let findings = extras(&a, "ci.yml").findings(&analysis, &Settings::default(), &facts);
    let f = findings
        .iter()
        .find(|f| f.rule.id() == "dynamic-image")
        .expect("dynamic finding");
    for part in [
        "it can produce 14 images: ",
        "`mcr.microsoft.com/prereqs:a-22.04` (tag now at sha256:abababababab), ",
        &format!("`mcr.microsoft.com/prereqs:{pinned}` (its pinned digest no longer exists), "),
        "`mcr.microsoft.com/prereqs:t7` and 2 more; ",
    ] {
        assert!(f.message.contains(part), "{part}: {}", f.message);
    }
    assert!(!f.message.contains(":t8`"), "{}", f.message);
    assert!(f.fix.is_none(), "{:?}", f.fix);
}

/// Roots are expanded in runs; what the runs find is put together as one pass over every
/// root would find it: every caller's image at a shared template, entry points in order, a
/// reference not followed reported at its first place.
#[test]
fn many_roots_add_up_to_one_pass() {
    let callers: Vec<(String, String)> = (0..40)
        .map(|i| {
            (
                format!("ci{i:02}.yml"),
                format!("jobs:\n- template: job.yml\n  parameters:\n    tag: '{i}'\n    image: mcr.microsoft.com/x/arg:{i}\n- template: shared.yml@tools\n"),
            )
        })
        .collect();
    let job = "parameters:\n  tag: ''\n  image: ''\njobs:\n- job: j\n  container: ${{ format('mcr.microsoft.com/x/built:{0}', parameters.tag) }}\n- job: k\n  container: ${{ parameters.image }}\n";
    let mut files: Vec<(&str, &str)> = callers
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    files.push(("job.yml", job));
    let a = analyze(files);
    let entries: Vec<&str> = a.entries.iter().map(|e| e.entry.as_str()).collect();
    let expected: Vec<&str> = callers.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(entries, expected);
    let extras = extras(&a, "job.yml");
    let built: Vec<&str> = extras
        .dynamic
        .iter()
        .flat_map(|d| d.images.iter().map(|c| c.image.as_str()))
        .collect();
    assert_eq!(built.len(), 40, "{built:?}");
    let incoming: Vec<&str> = extras
        .uses
        .iter()
        .flat_map(|u| u.images.iter().map(|i| i.image.as_str()))
        .collect();
    assert_eq!(incoming.len(), 40, "{incoming:?}");
    assert_eq!(a.not_followed.len(), 1, "{:?}", a.not_followed);
    assert_eq!(a.not_followed[0].at.path, "ci00.yml");
}

/// A directive is a mapping key: written as a value it is a problem. A script's text is
/// the shell's, so what looks like a mistyped expression there is left alone.
#[test]
fn directives_belong_in_keys_and_scripts_are_left_alone() {
    let text = "steps:\n- script: echo $ {{ not an expression }}\n  displayName: ${{ if eq(1, 1) }}\n  env:\n    ${{ insert }}: {}\n";
    let a = run(&[("ci.yml", text)]);
    let problems: Vec<(&str, &str)> = extras(&a, "ci.yml")
        .problems
        .iter()
        .map(|p| (&text[..p.span.start], p.message.as_str()))
        .collect();
    assert_eq!(problems.len(), 1, "{problems:?}");
    // Marked where the expression's text begins.
    assert!(problems[0].0.ends_with("displayName: ${{"), "{problems:?}");
    assert!(
        problems[0].1.ends_with("is only allowed as a mapping key"),
        "{problems:?}"
    );
}

/// A fragment pinned to a digest the registry no longer has is a broken pin, re-pinned
/// where the digest is written; each of the fragment's findings follows the settings, and
/// so do the layer's own problems.
#[test]
fn a_pinned_fragment_whose_digest_is_gone_is_re_pinned() {
    let old = format!("sha256:{}", "11".repeat(32));
    let new = format!("sha256:{}", "ab".repeat(32));
    let matrix = fragment_caller(
        &format!("ubuntu-22.04@{old}"),
        "- job: bad\n  variables:\n    x: ${{ eq(1, }}\n",
    );
    let setup = FRAGMENT_SETUP;
    let a = analyze([("matrix.yml", matrix), ("setup.yml", setup)]);
    let mut facts = prereqs_at(&new);
    let pinned =
        ImageRef::parse(&format!("mcr.microsoft.com/prereqs:ubuntu-22.04@{old}")).expect("valid");
    facts.insert_digest(Facts::digest_key(&pinned).expect("digest"), false);
    let analysis = Analysis::new("matrix.yml", matrix.to_string());
    let findings_with = |settings: &Settings| -> Vec<(String, String, Option<String>)> {
        extras(&a, "matrix.yml")
            .findings(&analysis, settings, &facts)
            .into_iter()
            .map(|f| {
                let fixed = f.fix.map(|x| {
                    assert_eq!(x.applicability, Applicability::Safe);
                    crate::fix::apply(matrix, &x.edits).expect("applies")
                });
                (f.rule.id().to_string(), f.message, fixed)
            })
            .collect()
    };
    let all = findings_with(&Settings::default());
    let rules: Vec<&str> = all.iter().map(|(r, _, _)| r.as_str()).collect();
    assert_eq!(
        rules,
        ["missing-digest", "stale-digest", "template-expression"],
        "{all:#?}"
    );
    let (_, message, fixed) = &all[0];
    assert_eq!(
        message,
        "the pinned digest sha256:111111111111 of `mcr.microsoft.com/prereqs:ubuntu-22.04` (this fragment becomes it at setup.yml:5:14) no longer exists in the registry: the pin is broken"
    );
    let fixed = fixed.as_deref().expect("re-pinned");
    assert!(
        fixed.contains(&format!("image: ubuntu-22.04@{new}\n")),
        "{fixed}"
    );
    let quiet = Settings {
        ignore: ["stale-digest", "template-expression"]
            .into_iter()
            .filter_map(Rule::from_id)
            .collect(),
        ..Settings::default()
    };
    let rules: Vec<String> = findings_with(&quiet).into_iter().map(|f| f.0).collect();
    assert_eq!(rules, ["missing-digest"]);
}

/// Templates are followed 39 levels below the entry point, the 40th level is not, and the
/// run says so; a step template's steps are the job's steps.
#[test]
fn templates_are_followed_to_forty_levels() {
    let chain = |levels: usize| -> TemplateAnalysis {
        let mut files: Vec<(String, String)> = vec![(
            "ci.yml".to_string(),
            "jobs:\n- template: t1.yml\n".to_string(),
        )];
        for i in 1..levels {
            files.push((
                format!("t{i}.yml"),
                format!("jobs:\n- template: t{}.yml\n", i + 1),
            ));
        }
        files.push((
            format!("t{levels}.yml"),
            "jobs:\n- job: deep\n  steps:\n  - template: steps.yml\n".to_string(),
        ));
        files.push((
            "steps.yml".to_string(),
            "steps:\n- script: x\n  target: mcr.microsoft.com/x/deep:1\n".to_string(),
        ));
        analyze(files.iter().map(|(p, t)| (p.as_str(), t.as_str())))
    };
    let followed = chain(38);
    assert_eq!(
        jobs_of(&followed, "ci.yml"),
        [("deep", vec!["mcr.microsoft.com/x/deep:1"])]
    );
    assert!(followed.notes.is_empty(), "{:?}", followed.notes);
    let cut = chain(39);
    assert!(jobs_of(&cut, "ci.yml").is_empty());
    assert!(
        cut.notes.iter().any(
            |n| n.starts_with("ci.yml: expansion stopped at its size limit")
                && n.contains("or 40 nested templates")
        ),
        "{:?}",
        cut.notes
    );
}

/// A flow names the files after the first relative to its folder only when they are below
/// it; the literals found are added to the file's analysis once, in order.
#[test]
fn flows_name_files_outside_the_first_folder_in_full() {
    let ci = "jobs:\n- template: ../templates/job.yml\n  parameters:\n    buildImage: mcr.microsoft.com/x/y:1\n- job: own\n  container: mcr.microsoft.com/x/own:1\n";
    let a = run(&[
        ("eng/ci.yml", ci),
        (
            "templates/job.yml",
            "parameters:\n  buildImage: ''\njobs:\n- job: j\n  container: ${{ parameters.buildImage }}\n",
        ),
    ]);
    let extras = extras(&a, "eng/ci.yml");
    let flows: Vec<&str> = extras
        .flows
        .iter()
        .map(|f| f.description.as_str())
        .collect();
    assert_eq!(
        flows,
        ["used as job container via eng/ci.yml → templates/job.yml"]
    );
    let mut analysis = Analysis::new("eng/ci.yml", ci.to_string());
    extras.extend_analysis(&mut analysis);
    extras.extend_analysis(&mut analysis);
    let texts: Vec<&str> = analysis
        .references
        .iter()
        .map(|r| r.text.as_str())
        .collect();
    assert_eq!(
        texts,
        ["mcr.microsoft.com/x/y:1", "mcr.microsoft.com/x/own:1"]
    );
}

/// A plain `false` is false in any of its spellings, whatever the parameter's declaration
/// says; quoted, it is text (and text is true).
#[test]
fn plain_false_is_false() {
    for (flag, expected) in [
        ("false", "mcr.microsoft.com/x/off:1"),
        ("False", "mcr.microsoft.com/x/off:1"),
        ("FALSE", "mcr.microsoft.com/x/off:1"),
        ("'false'", "mcr.microsoft.com/x/on:1"),
    ] {
        let job: &'static str = Box::leak(
            format!("parameters:\n  flag: {flag}\njobs:\n- job: j\n  ${{{{ if parameters.flag }}}}:\n    container: mcr.microsoft.com/x/on:1\n  ${{{{ else }}}}:\n    container: mcr.microsoft.com/x/off:1\n")
                .into_boxed_str(),
        );
        let a = run(&[("ci.yml", "jobs:\n- template: job.yml\n"), ("job.yml", job)]);
        assert_eq!(images_of(&a, "ci.yml"), [expected], "flag: {flag}");
    }
}

/// Only `template:` under `extends:` or in a list item is a template reference: a task
/// input of that name is the task's.
#[test]
fn a_task_input_named_template_is_no_template_reference() {
    let a = run(&[(
        "ci.yml",
        "jobs:\n- job: j\n  container: mcr.microsoft.com/x/y:1\n  steps:\n  - task: Deploy@1\n    inputs:\n      template: deploy/main.json\n",
    )]);
    assert_eq!(images_of(&a, "ci.yml"), ["mcr.microsoft.com/x/y:1"]);
    assert!(a.not_followed.is_empty(), "{:?}", a.not_followed);
}

/// A plain number (digits, a point, a minus) is a number and prints as one; quoted, it is
/// text and prints as written.
#[test]
fn plain_numbers_print_as_numbers() {
    for (tag, expected) in [
        ("1.50", "mcr.microsoft.com/x/y:v1.5"),
        ("-07", "mcr.microsoft.com/x/y:v-7"),
        ("'1.50'", "mcr.microsoft.com/x/y:v1.50"),
    ] {
        let job: &'static str = Box::leak(
            format!("parameters:\n  tag: {tag}\njobs:\n- job: j\n  container: ${{{{ format('mcr.microsoft.com/x/y:v{{0}}', parameters.tag) }}}}\n")
                .into_boxed_str(),
        );
        let a = run(&[("ci.yml", "jobs:\n- template: job.yml\n"), ("job.yml", job)]);
        assert_eq!(images_of(&a, "ci.yml"), [expected], "tag: {tag}");
    }
}

/// An `if` / `elseif` / `else` chain takes the first branch whose condition holds and skips
/// the rest; `else` is taken when every condition before it is false. A `boolean` parameter
/// given as text in any case is a boolean.
#[test]
fn if_chains_take_the_first_branch_that_holds() {
    let branches = |name: &str, first: &str, second: &str| {
        format!("- job: {name}\n  ${{{{ if {first} }}}}:\n    container: mcr.microsoft.com/x/{name}:1\n  ${{{{ elseif {second} }}}}:\n    container: mcr.microsoft.com/x/{name}:2\n  ${{{{ else }}}}:\n    container: mcr.microsoft.com/x/{name}:3\n")
    };
    let t = [
        "parameters:\n- name: on\n  type: boolean\n  default: true\njobs:\n".to_string(),
        branches("a", "eq(1, 2)", "eq(1, 1)"),
        branches("b", "eq(1, 2)", "eq(2, 1)"),
        branches("c", "eq(1, 1)", "eq(1, 1)"),
        branches("d", "parameters.on", "eq(1, 2)"),
    ]
    .concat();
    let a = analyze([
        (
            "ci.yml",
            "jobs:\n- template: t.yml\n  parameters:\n    on: 'FALSE'\n",
        ),
        ("t.yml", t.as_str()),
    ]);
    assert_eq!(
        jobs_of(&a, "ci.yml"),
        [
            ("a", vec!["mcr.microsoft.com/x/a:2"]),
            ("b", vec!["mcr.microsoft.com/x/b:3"]),
            ("c", vec!["mcr.microsoft.com/x/c:1"]),
            ("d", vec!["mcr.microsoft.com/x/d:3"]),
        ]
    );
}

/// `each` over a list that is known sets keys for certain: a key it sets replaces the one
/// written before it.
#[test]
fn each_over_a_known_list_sets_keys_for_certain() {
    let t = "parameters:\n- name: images\n  type: object\n  default: [mcr.microsoft.com/x/b:1]\njobs:\n- job: j\n  container: mcr.microsoft.com/x/a:1\n  ${{ each image in parameters.images }}:\n    container: ${{ image }}\n";
    let a = analyze([("ci.yml", "jobs:\n- template: t.yml\n"), ("t.yml", t)]);
    assert_eq!(images_of(&a, "ci.yml"), ["mcr.microsoft.com/x/b:1"]);
}

/// Arguments a template does not declare are visible to it once, also when the arguments
/// are several alternative objects: `each` over `parameters` meets each name once.
#[test]
fn undeclared_arguments_are_parameters_once() {
    let ci = "parameters:\n- name: a\n  type: object\n  default:\n    image: mcr.microsoft.com/x/a:1\n    extra: one\n- name: b\n  type: object\n  default:\n    image: mcr.microsoft.com/x/b:1\n    extra: two\njobs:\n- template: t.yml\n  parameters: ${{ iif(eq(variables['Build.Reason'], 'Manual'), parameters.a, parameters.b) }}\n";
    let t = "parameters:\n- name: image\n  type: string\n  default: ''\njobs:\n- job: build\n  container: ${{ parameters.image }}\n- ${{ each p in parameters }}:\n  - job: ${{ p.key }}\n    container: mcr.microsoft.com/x/${{ p.key }}:${{ length(parameters) }}\n";
    let a = analyze([("ci.yml", ci), ("t.yml", t)]);
    assert_eq!(
        jobs_of(&a, "ci.yml"),
        [
            (
                "build",
                vec!["mcr.microsoft.com/x/a:1", "mcr.microsoft.com/x/b:1"]
            ),
            ("image", vec!["mcr.microsoft.com/x/image:2"]),
            ("extra", vec!["mcr.microsoft.com/x/extra:2"]),
        ]
    );
}

/// A key set for certain replaces the one written before it, whether it is merged by
/// `insert` or built by an expression that has one value; under a condition that cannot
/// be decided, `insert` and `each` add possibilities instead.
#[test]
fn keys_set_for_certain_replace_earlier_ones() {
    let a = run(&[(
        "ci.yml",
        "parameters:\n- name: key\n  default: container\n- name: images\n  type: object\n  default: [mcr.microsoft.com/x/h:1]\njobs:\n- job: i\n  container: mcr.microsoft.com/x/a:1\n  ${{ insert }}:\n    container: mcr.microsoft.com/x/b:1\n- job: k\n  container: mcr.microsoft.com/x/c:1\n  ${{ parameters.key }}: mcr.microsoft.com/x/d:1\n- job: u\n  container: mcr.microsoft.com/x/e:1\n  ${{ if eq(variables['Build.Reason'], 'PullRequest') }}:\n    ${{ insert }}:\n      container: mcr.microsoft.com/x/f:1\n- job: v\n  container: mcr.microsoft.com/x/g:1\n  ${{ if eq(variables['Build.Reason'], 'PullRequest') }}:\n    ${{ each image in parameters.images }}:\n      container: ${{ image }}\n",
    )]);
    assert_eq!(
        jobs_of(&a, "ci.yml"),
        [
            ("i", vec!["mcr.microsoft.com/x/b:1"]),
            ("k", vec!["mcr.microsoft.com/x/d:1"]),
            (
                "u",
                vec!["mcr.microsoft.com/x/e:1", "mcr.microsoft.com/x/f:1"]
            ),
            (
                "v",
                vec!["mcr.microsoft.com/x/g:1", "mcr.microsoft.com/x/h:1"]
            ),
        ]
    );
}

/// `each` over a collection that is not known walks its body once, with the loop variable
/// unknown: what the body uses is still checked. Over a scalar it walks nothing.
#[test]
fn each_over_an_unknown_collection_walks_its_body_once() {
    let t = "parameters:\n- name: images\n  type: object\njobs:\n- ${{ each i in parameters.images }}:\n  - job: j\n    container: biuld\n- ${{ each i in 'text' }}:\n  - job: k\n    container: nowhere\n";
    let a = run(&[("t.yml", t)]);
    let problems: Vec<(&str, Option<&str>)> = extras(&a, "t.yml")
        .problems
        .iter()
        .map(|p| (&t[p.span.clone()], p.reference.as_deref()))
        .collect();
    assert_eq!(problems, [("biuld", Some("biuld"))]);
}

/// A quoted image with blanks inside its quotes is reported at its text, without them.
#[test]
fn quoted_images_are_placed_at_their_text() {
    let ci =
        "jobs:\n- template: t.yml\n  parameters:\n    buildImage: '  mcr.microsoft.com/x/y:1 '\n";
    let a = run(&[
        ("ci.yml", ci),
        (
            "t.yml",
            "parameters:\n  buildImage: ''\njobs:\n- job: j\n  container: ${{ parameters.buildImage }}\n",
        ),
    ]);
    let refs = &extras(&a, "ci.yml").references;
    assert_eq!(refs.len(), 1, "{refs:?}");
    assert_eq!(&ci[refs[0].span.clone()], "mcr.microsoft.com/x/y:1");
    let job = &a.entries[0].jobs[0];
    assert_eq!(
        (
            job.images[0].defined_at.line,
            job.images[0].defined_at.column
        ),
        (4, 20)
    );
}

/// Only a container name is an alias to look up: a blank value, a runtime variable,
/// `host` in any case and a task's own `target:` input are not, and a `services:` mapping
/// deeper in a job (a matrix entry) is not the job's.
#[test]
fn only_container_names_are_aliases() {
    let text = "jobs:\n- job: a\n  container: ''\n- job: b\n  container: $(image)\n- job: c\n  container: mcr.microsoft.com/x/c:1\n  strategy:\n    matrix:\n      one:\n        services:\n          db: postgres:16\n  steps:\n  - task: Deploy@1\n    inputs:\n      target: production\n  - script: x\n    target: HOST\n  - script: y\n    target: Host\n";
    let a = run(&[("ci.yml", text)]);
    assert_eq!(
        jobs_of(&a, "ci.yml"),
        [("c", vec!["mcr.microsoft.com/x/c:1"])]
    );
    assert_no_problems(&a, "ci.yml");
}

/// An entry point with parameters runs with its defaults (the inventory), and is also
/// checked as a run may call it: a branch its defaults do not take is still checked.
#[test]
fn branches_an_entry_points_defaults_do_not_take_are_checked() {
    let text = "parameters:\n- name: flavor\n  default: linux\njobs:\n- job: j\n  ${{ if eq(parameters.flavor, 'linux') }}:\n    container: mcr.microsoft.com/x/linux:1\n  ${{ else }}:\n    container: biuld\n";
    let a = run(&[("ci.yml", text)]);
    assert_eq!(
        jobs_of(&a, "ci.yml"),
        [("j", vec!["mcr.microsoft.com/x/linux:1"])]
    );
    let problems: Vec<(&str, &str)> = extras(&a, "ci.yml")
        .problems
        .iter()
        .map(|p| (p.rule, &text[p.span.clone()]))
        .collect();
    assert_eq!(problems, [("unknown-container-alias", "biuld")]);
}

/// A resource whose alias is built by an expression defines the alias it evaluates to in
/// the expansion; a resource defined elsewhere whose image is an expression gives the job
/// that names it no image.
#[test]
fn resources_are_defined_by_what_their_expressions_give() {
    let ci = "variables:\n  name: build\nresources:\n  containers:\n  - container: ${{ variables.name }}\n    image: mcr.microsoft.com/x/b:1\njobs:\n- job: j\n  container: build\n- job: k\n  container: tools\n";
    let r = "resources:\n  containers:\n  - container: tools\n    image: ${{ parameters.toolsImage }}\n";
    let a = run(&[("ci.yml", ci), ("r.yml", r)]);
    assert_eq!(
        jobs_of(&a, "ci.yml"),
        [("j", vec!["mcr.microsoft.com/x/b:1"])]
    );
    assert_no_problems(&a, "ci.yml");
}

/// Compile-time variables are known when written as plain text, in a list or a mapping; a
/// variable whose value is an expression is not known, so a condition on it keeps both
/// branches.
#[test]
fn variables_written_as_expressions_are_not_known() {
    let jobs = "jobs:\n- job: a\n  ${{ if eq(variables.plain, 'yes') }}:\n    container: mcr.microsoft.com/x/yes:1\n  ${{ else }}:\n    container: mcr.microsoft.com/x/no:1\n- job: b\n  ${{ if eq(variables.built, '') }}:\n    container: mcr.microsoft.com/x/empty:1\n  ${{ else }}:\n    container: mcr.microsoft.com/x/set:1\n";
    let list = format!("variables:\n- name: plain\n  value: 'yes'\n- name: built\n  value: ${{{{ parameters.tag }}}}\n{jobs}");
    let map = format!("variables:\n  plain: 'yes'\n  built: ${{{{ parameters.tag }}}}\n{jobs}");
    let a = analyze([("list.yml", list.as_str()), ("map.yml", map.as_str())]);
    for entry in ["list.yml", "map.yml"] {
        assert_eq!(
            jobs_of(&a, entry),
            [
                ("a", vec!["mcr.microsoft.com/x/yes:1"]),
                (
                    "b",
                    vec!["mcr.microsoft.com/x/empty:1", "mcr.microsoft.com/x/set:1"]
                ),
            ],
            "{entry}"
        );
    }
}

/// After an `if` that cannot be decided, an `elseif` that holds is taken as a possibility,
/// not for certain: the first branch stays possible.
#[test]
fn branches_after_an_undecided_if_stay_possible() {
    let a = run(&[(
        "ci.yml",
        "jobs:\n- job: j\n  ${{ if eq(variables['Build.Reason'], 'PullRequest') }}:\n    container: mcr.microsoft.com/x/a:1\n  ${{ elseif eq(1, 1) }}:\n    container: mcr.microsoft.com/x/b:1\n",
    )]);
    assert_eq!(
        jobs_of(&a, "ci.yml"),
        [(
            "j",
            vec!["mcr.microsoft.com/x/a:1", "mcr.microsoft.com/x/b:1"]
        )]
    );
}

/// In a list, `insert` splices its list, and an `if` holding one item keeps it: a job, or a
/// template reference, which is followed.
#[test]
fn list_directives_splice_their_items() {
    let a = run(&[
        (
            "ci.yml",
            "jobs:\n- ${{ insert }}:\n  - job: inserted\n    container: mcr.microsoft.com/x/inserted:1\n- ${{ if eq(1, 1) }}:\n    job: single\n    container: mcr.microsoft.com/x/single:1\n- ${{ if eq(1, 1) }}:\n    template: t.yml\n",
        ),
        (
            "t.yml",
            "jobs:\n- job: templated\n  container: mcr.microsoft.com/x/templated:1\n",
        ),
    ]);
    assert_eq!(
        jobs_of(&a, "ci.yml"),
        [
            ("inserted", vec!["mcr.microsoft.com/x/inserted:1"]),
            ("single", vec!["mcr.microsoft.com/x/single:1"]),
            ("templated", vec!["mcr.microsoft.com/x/templated:1"]),
        ]
    );
}

/// A dynamic image's finding tells, of each pinned image it can produce, whether its tag
/// has moved on since (stale) and says nothing more when the tag still points at the pin or
/// nothing is known of it.
#[test]
fn dynamic_findings_tell_which_pins_are_stale() {
    let pin = |b: &str| format!("sha256:{}", b.repeat(32));
    let tags = [
        format!("a@{}", pin("11")),
        format!("b@{}", pin("22")),
        format!("c@{}", pin("33")),
    ];
    let text = with_list_parameter(
        "tags",
        tags.iter().map(|t| format!("'{t}'")),
        "jobs:\n- ${{ each t in parameters.tags }}:\n  - job: j\n    container: ${{ format('mcr.microsoft.com/prereqs:{0}', t) }}\n",
    );
    let a = run(&[("ci.yml", text)]);
    let mut facts = Facts::default();
    for (tag, digest) in [("a", pin("ab")), ("b", pin("22"))] {
        let tagged = ImageRef::parse(&format!("mcr.microsoft.com/prereqs:{tag}")).expect("valid");
        facts.insert_tag(
            Facts::tag_key(&tagged),
            TagFact {
                digest,
                platforms: Vec::new(),
                source: "test".to_string(),
            },
        );
    }
    let analysis = Analysis::new("ci.yml", text.to_string());
    let findings = extras(&a, "ci.yml").findings(&analysis, &Settings::default(), &facts);
    let f = findings
        .iter()
        .find(|f| f.rule.id() == "dynamic-image")
        .expect("dynamic finding");
    let list = format!(
        "it can produce 3 images: `mcr.microsoft.com/prereqs:{}` (stale: tag now at sha256:abababababab), `mcr.microsoft.com/prereqs:{}`, `mcr.microsoft.com/prereqs:{}`; ",
        tags[0], tags[1], tags[2]
    );
    assert!(f.message.contains(&list), "{}", f.message);
}

/// An image reached through a container alias adds no flow to the resource's image: the
/// resource lists the jobs that use it instead.
#[test]
fn images_reached_through_an_alias_add_no_flow() {
    let ci = "resources:\n  containers:\n  - container: build\n    image: mcr.microsoft.com/x/b:1\njobs:\n- template: job.yml\n  parameters:\n    container: build\n";
    let job =
        "parameters:\n  container: ''\njobs:\n- job: j\n  container: ${{ parameters.container }}\n";
    let a = run(&[("ci.yml", ci), ("job.yml", job)]);
    assert_eq!(
        jobs_of(&a, "ci.yml"),
        [("j", vec!["mcr.microsoft.com/x/b:1"])]
    );
    let ci_extras = extras(&a, "ci.yml");
    assert!(ci_extras.flows.is_empty(), "{:?}", ci_extras.flows);
    assert_eq!(ci_extras.resources.len(), 1, "{:?}", ci_extras.resources);
}

/// Only Azure Pipelines files take part: a GitHub workflow handed in with its analysis is
/// no entry point, even with a `jobs:` key.
#[test]
fn only_azure_pipelines_analyses_take_part() {
    let azure = Analysis::new(
        "ci.yml",
        "jobs:\n- job: a\n  container: mcr.microsoft.com/x/a:1\n".to_string(),
    );
    let github = Analysis::new(
        ".github/workflows/ci.yml",
        "on: push\njobs:\n  b:\n    runs-on: ubuntu-24.04\n    container: alpine:3.20\n"
            .to_string(),
    );
    let a = analyze_analyses(
        [("ci.yml", &azure), (".github/workflows/ci.yml", &github)],
        Options {
            inventory: true,
            hovers: false,
        },
    );
    let entries: Vec<&str> = a.entries.iter().map(|e| e.entry.as_str()).collect();
    assert_eq!(entries, ["ci.yml"]);
}
