//! Property tests: the reference parser and the whole analyzer never panic, on arbitrary
//! bytes and strings and on generated YAML that looks like a pipeline, in every dialect; and
//! what they return stays inside the text (spans on character boundaries, fixes applicable).
//!
//! Case counts are bounded so that `cargo test` stays quick; `PROPTEST_CASES` raises them.

use pin_core::dockerfile;
use pin_core::fix;
use pin_core::template;
use pin_core::{Analysis, Facts, ImageRef, Kind, Settings, State, TagFact, VmVersion};
use proptest::prelude::*;

/// Paths that select each dialect (the file name decides, or the content for YAML).
const PATHS: &[&str] = &[
    "azure-pipelines.yml",
    "eng/pipelines/templates/job.yml",
    ".github/workflows/ci.yml",
    "action.yml",
    ".gitlab-ci.yml",
    "docker-compose.yml",
    "deploy/app.yaml",
    "kustomization.yaml",
    "chart/templates/deployment.yaml",
    ".devcontainer/devcontainer.json",
    "infra/main.bicep",
    "infra/main.tf",
    "infra/azuredeploy.json",
    "Dockerfile",
    "build/windows.Containerfile",
];

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(cases),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A span is usable on `text`: in bounds, ordered, on character boundaries.
fn assert_span(text: &str, span: &std::ops::Range<usize>, what: &str) {
    assert!(
        span.start <= span.end && span.end <= text.len(),
        "{what}: span {span:?} outside a text of {} bytes",
        text.len()
    );
    assert!(
        text.is_char_boundary(span.start) && text.is_char_boundary(span.end),
        "{what}: span {span:?} splits a character"
    );
}

/// Facts that make the registry-backed rules speak: every tag points to another digest,
/// every pinned digest is gone, every VM image has a newer version.
fn facts_for(analysis: &Analysis) -> Facts {
    let mut facts = Facts::default();
    for r in &analysis.references {
        if let Some(image) = &r.image {
            facts.insert_tag(
                Facts::tag_key(image),
                TagFact {
                    digest: format!("sha256:{}", "e".repeat(64)),
                    platforms: Vec::new(),
                    source: "property test".to_string(),
                },
            );
            if let Some(key) = Facts::digest_key(image) {
                facts.insert_digest(key, false);
            }
        }
        if let Some(vm) = &r.vm_image {
            facts.insert_vm_versions(
                &vm.key,
                vec![VmVersion {
                    version: "9999.1.1".to_string(),
                    exclude_from_latest: false,
                    published: None,
                }],
                "property test".to_string(),
            );
        }
    }
    facts
}

/// Analyse, run every rule with and without facts, and check what comes back.
fn analyze_and_check(path: &str, analysis: &Analysis) {
    let text = analysis.source.text();
    for r in &analysis.references {
        assert_span(text, &r.span, "reference");
        if r.kind == Kind::Container {
            assert_eq!(
                r.image.is_some(),
                r.state != State::Invalid,
                "{path}: {r:?}"
            );
        }
        let _ = analysis.source.line_col(r.span.start);
        let _ = analysis.source.line_col(r.span.end);
    }
    if let Some(err) = &analysis.syntax_error {
        assert!(err.offset <= text.len(), "{path}: {err:?}");
        let _ = analysis.source.line_col(err.offset);
    }
    let mut settings = Settings {
        report_unused_ignores: true,
        ..Settings::default()
    };
    for facts in [Facts::none(), facts_for(analysis)] {
        for f in analysis.findings(&settings, &facts) {
            assert_span(text, &f.span, f.rule.id());
            if let Some(fix) = &f.fix {
                for edit in &fix.edits {
                    assert_span(text, &edit.range, fix.title.as_str());
                }
                let _ = fix::apply(text, &fix.edits);
            }
        }
    }
    settings.pin_untagged_as_latest = true;
    let _ = analysis.findings(&settings, &facts_for(analysis));
}

/// A string that looks like an image reference, or almost does.
fn image_like() -> impl Strategy<Value = String> {
    let registry = prop_oneof![
        Just(String::new()),
        Just("mcr.microsoft.com/".to_string()),
        Just("localhost:5000/".to_string()),
        Just("[::1]:5000/".to_string()),
        Just("ghcr.io/".to_string()),
        "[a-zA-Z0-9.:-]{1,12}/",
    ];
    let repository = prop_oneof![
        Just("ubuntu".to_string()),
        Just("dotnet-buildtools/prereqs".to_string()),
        "[a-z0-9]{1,8}([._-]{1,2}[a-z0-9]{1,6}){0,2}(/[a-z0-9]{1,8}){0,2}",
        "[A-Za-z0-9/._-]{0,20}",
    ];
    let tag = prop_oneof![
        Just(String::new()),
        Just(":22.04".to_string()),
        Just(":latest".to_string()),
        ":[A-Za-z0-9_.-]{1,20}",
        ":[^@\\s]{0,8}",
    ];
    let digest = prop_oneof![
        Just(String::new()),
        "@sha256:[0-9a-f]{64}",
        "@sha256:[0-9a-fA-F]{0,70}",
        "@[a-z0-9]{1,8}:[0-9a-z]{1,10}",
    ];
    let decorated = prop_oneof![
        4 => Just(("", "")),
        1 => Just(("$(", ")")),
        1 => Just(("${{ parameters.", " }}")),
        1 => Just(("'", "'")),
        1 => Just(("\"", "\"")),
        1 => Just(("(Ubuntu.2204.Amd64)Ubuntu.2204.Amd64@", "")),
    ];
    (registry, repository, tag, digest, decorated)
        .prop_map(|(r, p, t, d, (pre, post))| format!("{pre}{r}{p}{t}{d}{post}"))
}

/// How a scalar is written.
#[derive(Debug, Clone, Copy)]
enum Quote {
    /// Plain when YAML allows it, else double-quoted: the document stays valid.
    Plain,
    /// Always double-quoted.
    Double,
    /// As generated, even when that breaks the document.
    Raw,
}

/// A scalar in a pipeline: an image, a VM label, an expression or noise.
fn scalar() -> impl Strategy<Value = Tree> {
    let text = prop_oneof![
        6 => image_like(),
        1 => Just("ubuntu-latest".to_string()),
        1 => Just("windows-2019".to_string()),
        1 => Just("Canonical:ubuntu-24_04-lts:server:latest".to_string()),
        1 => "[ -~]{0,16}",
        1 => "\\PC{0,8}",
    ];
    let quote = prop_oneof![
        30 => Just(Quote::Plain),
        8 => Just(Quote::Double),
        1 => Just(Quote::Raw),
    ];
    let written = (text, quote).prop_map(|(s, q)| Tree::Scalar(s, q));
    let special = prop_oneof![
        Just("*anchor"),
        Just("&anchor ubuntu:22.04"),
        Just("!reference [.a, image]"),
        Just("|\n  multi\n  line"),
        Just("ubuntu:22.04 # pin-lint: ignore[unpinned-image]"),
    ]
    .prop_map(|s| Tree::Scalar(s.to_string(), Quote::Raw));
    prop_oneof![40 => written, 1 => special]
}

/// Whether `s` can be written as a plain scalar anywhere (block or flow).
fn plain_safe(s: &str) -> bool {
    !s.is_empty()
        && s.trim() == s
        && !s.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@`".contains(c))
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.ends_with(':')
        && !s.contains(|c: char| c.is_control() || "[]{},".contains(c) || c == '\u{feff}')
}

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() || c == '\u{feff}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Keys that the dialects look at, and a few that they do not.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("image"),
        Just("container"),
        Just("containers"),
        Just("resources"),
        Just("services"),
        Just("jobs"),
        Just("job"),
        Just("steps"),
        Just("target"),
        Just("pool"),
        Just("vmImage"),
        Just("demands"),
        Just("runs-on"),
        Just("runs"),
        Just("uses"),
        Just("with"),
        Just("on"),
        Just("variables"),
        Just("parameters"),
        Just("default"),
        Just("template"),
        Just("extends"),
        Just("stages"),
        Just("name"),
        Just("value"),
        Just("env"),
        Just("helixQueues"),
        Just("${{ if eq(parameters.a, 'x') }}"),
        Just("${{ each x in parameters.list }}"),
        Just("storageProfile"),
        Just("imageReference"),
        Just("version"),
        Just("type"),
    ]
    .prop_map(str::to_string)
}

/// A YAML-ish tree rendered as text: block or flow collections, with keys and scalars drawn
/// from pipelines. Not always valid YAML (indentation and scalars are not escaped), which is
/// the point.
#[derive(Debug, Clone)]
enum Tree {
    Scalar(String, Quote),
    Map(Vec<(String, Tree)>),
    Seq(Vec<Tree>),
}

fn tree() -> impl Strategy<Value = Tree> {
    scalar().prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec((key(), inner.clone()), 1..6).prop_map(Tree::Map),
            prop::collection::vec(inner, 1..5).prop_map(Tree::Seq),
        ]
    })
}

fn render(tree: &Tree, indent: usize, flow: bool, out: &mut String) {
    let pad = " ".repeat(indent);
    match tree {
        Tree::Scalar(s, Quote::Raw) => out.push_str(s),
        Tree::Scalar(s, Quote::Plain) if plain_safe(s) => out.push_str(s),
        Tree::Scalar(s, _) => out.push_str(&double_quoted(s)),
        Tree::Map(pairs) if flow => {
            out.push('{');
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                if plain_safe(k) {
                    out.push_str(k);
                } else {
                    out.push_str(&double_quoted(k));
                }
                out.push_str(": ");
                render(v, indent, true, out);
            }
            out.push('}');
        }
        Tree::Seq(items) if flow => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render(v, indent, true, out);
            }
            out.push(']');
        }
        Tree::Map(pairs) => {
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                    out.push_str(&pad);
                }
                out.push_str(k);
                out.push(':');
                match v {
                    Tree::Scalar(..) => {
                        out.push(' ');
                        render(v, indent + 2, false, out);
                    }
                    _ => {
                        out.push('\n');
                        out.push_str(&pad);
                        out.push_str("  ");
                        render(v, indent + 2, false, out);
                    }
                }
            }
        }
        Tree::Seq(items) => {
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                    out.push_str(&pad);
                }
                out.push_str("- ");
                render(v, indent + 2, false, out);
            }
        }
    }
}

/// A pipeline-shaped document: the tree under a few top-level keys, some parts in flow style,
/// with CRLF or a BOM now and then.
fn pipeline() -> impl Strategy<Value = String> {
    (
        prop::collection::vec((key(), tree(), any::<bool>()), 1..5),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(parts, crlf, bom)| {
            let mut out = String::new();
            if bom {
                out.push('\u{feff}');
            }
            for (k, t, flow) in parts {
                out.push_str(&k);
                out.push(':');
                if flow || matches!(t, Tree::Scalar(..)) {
                    out.push(' ');
                    render(&t, 2, flow, &mut out);
                } else {
                    out.push_str("\n  ");
                    render(&t, 2, false, &mut out);
                }
                out.push('\n');
            }
            if crlf {
                out = out.replace('\n', "\r\n");
            }
            out
        })
}

proptest! {
    #![proptest_config(config(512))]

    /// Any string: parsing never panics; a parsed reference keeps the text and its parts
    /// are slices of it.
    #[test]
    fn the_reference_parser_never_panics(text in prop_oneof![image_like(), "\\PC{0,40}", ".{0,300}"]) {
        if let Ok(image) = ImageRef::parse(&text) {
            prop_assert_eq!(image.as_str(), text.as_str());
            for part in [image.registry.clone(), Some(image.repository.clone()), image.tag.clone(), image.digest.clone()].into_iter().flatten() {
                assert_span(&text, &part, "part");
            }
            prop_assert!(image.pin_offset() <= text.len());
            prop_assert!(image.without_digest().len() <= text.len());
            let _ = image.normalized();
            let _ = image.repository_path();
            let _ = Facts::tag_key(&image);
            let _ = Facts::digest_key(&image);
        }
    }

    /// A reference built from valid parts parses back into those parts.
    #[test]
    fn valid_references_parse_into_their_parts(
        registry in prop::option::of(prop_oneof![
            Just("mcr.microsoft.com".to_string()),
            Just("localhost:5000".to_string()),
            "[a-z]{1,8}\\.[a-z]{2,4}",
        ]),
        // Without a registry, a first component with a `.` would name one (`a.io/b`).
        repository in "[a-z0-9]{1,8}([_-][a-z0-9]{1,6}){0,2}(/[a-z0-9]{1,8}([._-][a-z0-9]{1,4})?){0,2}"
            .prop_filter("`localhost` names a registry", |r| !r.starts_with("localhost")),
        tag in prop::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,30}"),
        digest in prop::option::of("sha256:[0-9a-f]{64}"),
    ) {
        let mut text = String::new();
        if let Some(r) = &registry {
            text.push_str(r);
            text.push('/');
        }
        text.push_str(&repository);
        if let Some(t) = &tag {
            text.push(':');
            text.push_str(t);
        }
        if let Some(d) = &digest {
            text.push('@');
            text.push_str(d);
        }
        let image = ImageRef::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(image.registry_str(), registry.as_deref());
        prop_assert_eq!(image.repository_str(), repository.as_str());
        prop_assert_eq!(image.tag_str(), tag.as_deref());
        prop_assert_eq!(image.digest_str(), digest.as_deref());
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Arbitrary bytes under every dialect's file name.
    #[test]
    fn the_analyzer_never_panics_on_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..400),
        path in prop::sample::select(PATHS),
    ) {
        let analysis = Analysis::from_bytes(path, bytes);
        analyze_and_check(path, &analysis);
    }

    /// Arbitrary text made of YAML punctuation, pipeline words and any characters.
    #[test]
    fn the_analyzer_never_panics_on_text(
        text in prop_oneof![
            "\\PC{0,300}",
            "([-:#&*!|>'\"\\[\\]{},@ \\t\\r\\n]|image|jobs|container|steps|vmImage|ubuntu:22.04|\\$\\{\\{|\\}\\}|\\$\\(|\\)){0,80}",
        ],
        path in prop::sample::select(PATHS),
    ) {
        let analysis = Analysis::new(path, text);
        analyze_and_check(path, &analysis);
    }

    /// Pipeline-shaped YAML with image-like scalars, per file and through the template layer
    /// (the same text as an entry point and as the template it includes).
    #[test]
    fn the_analyzer_never_panics_on_pipelines(
        text in pipeline(),
        path in prop::sample::select(PATHS),
    ) {
        let analysis = Analysis::new(path, text.clone());
        analyze_and_check(path, &analysis);
        let mut entry = text.clone();
        entry.push_str("\nextends:\n  template: t.yml\n  parameters:\n    image: ubuntu:22.04\n");
        let files = [("azure-pipelines.yml", entry.as_str()), ("t.yml", text.as_str())];
        let layer = template::analyze(files);
        for (name, file_text) in files {
            let mut analysis = Analysis::new(name, file_text.to_string());
            if let Some(extras) = layer.file(name) {
                extras.extend_analysis(&mut analysis);
                let facts = facts_for(&analysis);
                for f in extras.findings(&analysis, &Settings::default(), &facts) {
                    assert_span(file_text, &f.span, f.rule.id());
                }
            }
            analyze_and_check(name, &analysis);
        }
    }
}

/// A JSONC value to render, with what its strings must read as after parsing.
#[derive(Debug, Clone)]
enum JsoncTree {
    Str(String),
    Word(&'static str),
    Array(Vec<JsoncTree>),
    Object(Vec<(String, JsoncTree)>),
}

fn jsonc_string() -> impl Strategy<Value = String> {
    prop_oneof![image_like(), "[a-zA-Z0-9 ./:@${}_-]{0,20}", "\\PC{0,8}"]
        .prop_map(|s| s.replace(['"', '\\', '\n', '\r'], ""))
}

fn jsonc_tree() -> impl Strategy<Value = JsoncTree> {
    let leaf = prop_oneof![
        jsonc_string().prop_map(JsoncTree::Str),
        prop::sample::select(&["1", "-2.5e3", "true", "false", "null"][..])
            .prop_map(JsoncTree::Word),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(JsoncTree::Array),
            prop::collection::vec((jsonc_string(), inner), 0..5).prop_map(JsoncTree::Object),
        ]
    })
}

/// Whitespace and comments between tokens.
fn gap(choice: u8) -> &'static str {
    match choice % 6 {
        0 => "",
        1 => " ",
        2 => "\n  ",
        3 => " /* c */ ",
        4 => " // line\r\n",
        _ => "\t/* multi\nline */\n",
    }
}

/// Render `tree`, recording for every string the content it must parse to. `gaps` picks the
/// whitespace and comments; trailing commas appear where it says so.
fn render_jsonc(
    tree: &JsoncTree,
    gaps: &mut impl Iterator<Item = u8>,
    out: &mut String,
    strings: &mut Vec<(usize, String)>,
) {
    match tree {
        JsoncTree::Str(s) => {
            out.push('"');
            strings.push((out.len(), s.clone()));
            out.push_str(s);
            out.push('"');
        }
        JsoncTree::Word(w) => out.push_str(w),
        JsoncTree::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                let g = gaps.next().unwrap_or(0);
                out.push_str(gap(g));
                render_jsonc(item, gaps, out, strings);
                if i + 1 < items.len() || g % 2 == 1 {
                    out.push(',');
                }
            }
            out.push(']');
        }
        JsoncTree::Object(members) => {
            out.push('{');
            for (i, (key, value)) in members.iter().enumerate() {
                let g = gaps.next().unwrap_or(0);
                out.push_str(gap(g));
                out.push('"');
                strings.push((out.len(), key.clone()));
                out.push_str(key);
                out.push('"');
                out.push_str(gap(g / 2));
                out.push(':');
                render_jsonc(value, gaps, out, strings);
                if i + 1 < members.len() || g % 2 == 1 {
                    out.push(',');
                }
            }
            out.push('}');
        }
    }
}

fn jsonc_strings(src: &str, value: &pin_core::jsonc::Json, out: &mut Vec<(usize, String)>) {
    use pin_core::jsonc::JsonValue;
    match &value.value {
        JsonValue::String(span) => out.push((span.start, src[span.clone()].to_string())),
        JsonValue::Array(items) => items.iter().for_each(|i| jsonc_strings(src, i, out)),
        JsonValue::Object(members) => {
            for (key, v) in members {
                out.push((key.start, src[key.clone()].to_string()));
                jsonc_strings(src, v, out);
            }
        }
        JsonValue::Scalar => {}
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Generated JSONC (comments, trailing commas, CRLF) parses, and every string and key
    /// is found at the exact bytes it was written at.
    #[test]
    fn jsonc_keeps_the_span_of_every_string(
        tree in jsonc_tree(),
        gaps in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut src = String::new();
        let mut written = Vec::new();
        let mut gaps = gaps.into_iter();
        render_jsonc(&tree, &mut gaps, &mut src, &mut written);
        let doc = pin_core::jsonc::parse(&src).map_err(|(e, _)| TestCaseError::fail(format!("{src:?}: {e} at {}", e.offset)))?;
        let mut read = Vec::new();
        jsonc_strings(&src, &doc.root, &mut read);
        prop_assert_eq!(read, written);
    }

    /// Any text: the JSONC reader never panics, and an error is on a character boundary.
    #[test]
    fn jsonc_never_panics(text in prop_oneof![
        "\\PC{0,200}",
        "([{}\\[\\],:\"/*\\\\ \n]|true|null|-1|image|features|\u{e9}){0,60}",
    ]) {
        match pin_core::jsonc::parse(&text) {
            Ok(doc) => assert_span(&text, &doc.root.span, "root"),
            Err((err, comments)) => {
                prop_assert!(err.offset <= text.len() && text.is_char_boundary(err.offset));
                for c in &comments {
                    assert_span(&text, &c.span, "comment");
                }
            }
        }
    }
}

/// Found by the properties above: an unclosed block comment ending in a multi-byte
/// character split it (Bicep and Terraform).
#[test]
fn an_unclosed_block_comment_ending_in_a_wide_character_is_read() {
    for path in ["main.tf", "main.bicep"] {
        for text in [
            "/*\u{20ac}",
            "/* x \u{1f600}",
            "/*",
            "/**/",
            "a = 1 /* \u{e9}",
        ] {
            let analysis = Analysis::new(path, text.to_string());
            assert!(analysis.references.is_empty(), "{path}: {text:?}");
            assert!(analysis.syntax_error.is_none(), "{path}: {text:?}");
        }
    }
}

/// A Dockerfile line: instructions with flags, images, variables, quotes, JSON, heredoc
/// markers and terminators, continuations (both escape characters), comments and noise.
fn dockerfile_line() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("FROM ".to_string()),
        Just("from ".to_string()),
        Just("ARG ".to_string()),
        Just("RUN ".to_string()),
        Just("COPY ".to_string()),
        Just("ADD ".to_string()),
        Just("ONBUILD ".to_string()),
        Just("CMD ".to_string()),
        Just("--platform=$BUILDPLATFORM ".to_string()),
        Just("--from=".to_string()),
        Just("--mount=type=bind,from=".to_string()),
        Just(",from=".to_string()),
        Just(" AS ".to_string()),
        Just("build".to_string()),
        Just("scratch".to_string()),
        Just("BASE=".to_string()),
        Just("$BASE".to_string()),
        Just("${BASE:-x}".to_string()),
        Just("${".to_string()),
        Just("<<EOF".to_string()),
        Just("<<-'EOF'".to_string()),
        Just("<<\"".to_string()),
        Just("EOF".to_string()),
        Just("\tEOF".to_string()),
        Just("[\"a\", \"b\\u00e9\"]".to_string()),
        Just("[\"\\".to_string()),
        Just("\\".to_string()),
        Just("`".to_string()),
        Just("# syntax=".to_string()),
        Just("# escape=`".to_string()),
        Just("# pin-lint: ignore[unpinned-image]".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just(" ".to_string()),
        Just("\t".to_string()),
        Just("\r".to_string()),
        image_like(),
        "\\PC{0,6}",
    ];
    prop::collection::vec(piece, 0..8).prop_map(|p| p.concat())
}

fn dockerfile_text() -> impl Strategy<Value = String> {
    prop::collection::vec(dockerfile_line(), 0..24).prop_map(|lines| lines.join("\n"))
}

proptest! {
    #![proptest_config(config(512))]

    /// The Dockerfile tokenizer on Dockerfile-shaped text and on any text: no panic; every
    /// span (words, sub-spans of words, heredocs, comments, directives, errors) inside the
    /// text and on character boundaries; verbatim words equal their source.
    #[test]
    fn the_dockerfile_tokenizer_keeps_its_spans_in_the_text(
        text in prop_oneof![3 => dockerfile_text(), 1 => "\\PC{0,300}", 1 => ".{0,300}"],
    ) {
        let file = dockerfile::parse(&text);
        for d in &file.directives {
            assert_span(&text, &d.value.span, "directive");
        }
        for c in &file.comments {
            assert_span(&text, &c.span, "comment");
        }
        for e in &file.errors {
            prop_assert!(e.offset <= text.len());
        }
        for i in &file.instructions {
            assert_span(&text, &i.span, "instruction");
            for h in &i.heredocs {
                assert_span(&text, &h.marker, "heredoc marker");
                assert_span(&text, &h.body, "heredoc body");
            }
            for w in std::iter::once(&i.keyword).chain(&i.flags).chain(&i.args) {
                assert_span(&text, &w.span, "word");
                if w.is_verbatim() {
                    prop_assert_eq!(&text[w.span.clone()], w.text.as_ref());
                }
                for (at, _) in w.text.char_indices().chain(std::iter::once((w.text.len(), ' '))) {
                    let sub = w.source_span(0..at);
                    assert_span(&text, &sub, "word prefix");
                    prop_assert!(sub.start >= w.span.start && sub.end <= w.span.end);
                }
            }
        }
        analyze_and_check("Dockerfile", &Analysis::new("Dockerfile", text.clone()));
    }
}
