//! Dockerfiles and Containerfiles: the images a build pulls.
//!
//! Sites, over the instructions of [`crate::dockerfile`]:
//! - `FROM [--platform=…] IMAGE [AS name]` (`dockerfile-from`);
//! - `COPY --from=IMAGE` / `ADD --from=IMAGE` (`dockerfile-copy-from`);
//! - `RUN --mount=…,from=IMAGE,…` (`dockerfile-mount-from`), every `--mount` of the `RUN`;
//! - the `# syntax=IMAGE` parser directive (`dockerfile-syntax`);
//! - `ARG NAME=IMAGE` before the first `FROM`, when a `FROM $NAME` / `FROM ${NAME}` uses the
//!   variable as its whole image (`dockerfile-arg`): the image is pinned where its literal is
//!   written, and the `FROM` is still reported, as a `dynamic` use site.
//!
//! Not images: `scratch`, earlier stage names (case-insensitive), stage numbers in `--from` and
//! `from=`, and values with variables that can only name a stage: all variables resolve through
//! the ARG defaults to a stage name, or, reading each unresolved variable as "one or more
//! characters", the value matches an earlier stage name (`FROM binaries-$TARGETOS`). Any other
//! value with a variable is `dynamic`; an ARG default that is only part of an image (a
//! repository completed by the FROM, a tag fragment) is not reported.
//!
//! `ONBUILD` instructions run in another build and are not read for sites.

use std::collections::HashMap;
use std::ops::Range;

use super::{has_expression, TextRead};
use crate::dockerfile::{Tokenizer, Word};
use crate::model::{Kind, Reference, Site};
use crate::yaml::SyntaxError;

/// Is this file name (any case) a Dockerfile: `Dockerfile`, `Containerfile`, `Dockerfile.*`,
/// `Containerfile.*`, `*.Dockerfile`, `*.Containerfile`? Per-Dockerfile ignore files
/// (`Dockerfile.dockerignore`) are not.
pub fn is_dockerfile(path: &str) -> bool {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".dockerignore") {
        return false;
    }
    ["dockerfile", "containerfile"].iter().any(|base| {
        lower == *base
            || lower
                .strip_prefix(base)
                .is_some_and(|rest| rest.len() > 1 && rest.starts_with('.'))
            || lower
                .strip_suffix(base)
                .is_some_and(|rest| rest.len() > 1 && rest.ends_with('.'))
    })
}

/// References, comments and the first syntax error of a Dockerfile.
pub fn extract(src: &str) -> TextRead<'_> {
    let mut tokens = Tokenizer::new(src);
    let mut sites = Sites {
        src,
        refs: Vec::new(),
        args: HashMap::new(),
        stages: Vec::new(),
        seen_from: false,
    };
    for directive in tokens.directives() {
        if directive.name == "syntax" {
            sites.literal(
                &directive.value,
                0..directive.value.text.len(),
                Site::DockerfileSyntax,
            );
        }
    }
    for instruction in tokens.by_ref() {
        if instruction.is("ARG") && !sites.seen_from {
            instruction.args.iter().for_each(|word| sites.declare(word));
        } else if instruction.is("FROM") {
            sites.seen_from = true;
            if let Some(image) = instruction.args.first() {
                sites.image(image, 0..image.text.len(), Site::DockerfileFrom);
            }
            if let [_, keyword, name, ..] = instruction.args.as_slice() {
                if keyword.text.eq_ignore_ascii_case("as") {
                    sites.stages.push(name.text.to_ascii_lowercase());
                }
            }
        } else if instruction.is("COPY") || instruction.is("ADD") {
            for (flag, value) in instruction.flags_named("from") {
                sites.image(flag, value, Site::DockerfileCopyFrom);
            }
        } else if instruction.is("RUN") {
            for (flag, value) in instruction.flags_named("mount") {
                for from in mount_from(&flag.text, value) {
                    sites.image(flag, from, Site::DockerfileMountFrom);
                }
            }
        }
    }
    let syntax_error: Option<SyntaxError> = tokens.errors().first().cloned();
    TextRead {
        references: sites.refs,
        comments: tokens.take_comments(),
        syntax_error,
    }
}

/// The byte ranges (in the flag's text) of the `from=` values of a `--mount` flag whose value
/// is at `value`: comma-separated `key=value` fields, a field possibly in double quotes.
fn mount_from(text: &str, value: Range<usize>) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut at = value.start;
    for field in text[value].split(',') {
        let start = at;
        at += field.len() + 1;
        let (inner, inner_start) = match field.strip_prefix('"').and_then(|f| f.strip_suffix('"')) {
            Some(inner) => (inner, start + 1),
            None => (field, start),
        };
        if let Some((key, v)) = inner.split_once('=') {
            if key.trim().eq_ignore_ascii_case("from") && !v.is_empty() {
                let v_start = inner_start + key.len() + 1;
                out.push(v_start..v_start + v.len());
            }
        }
    }
    out
}

/// An `ARG` declared before the first `FROM`.
struct Arg {
    /// The default value (quotes removed) and its span; `None` without a default.
    default: Option<(String, Range<usize>)>,
    /// Whether its `dockerfile-arg` row was emitted.
    reported: bool,
}

/// The state of one pass over the instructions.
struct Sites<'s> {
    src: &'s str,
    refs: Vec<Reference>,
    /// ARGs declared before the first FROM, by name.
    args: HashMap<String, Arg>,
    /// Stage names declared so far, lower-cased.
    stages: Vec<String>,
    seen_from: bool,
}

/// What a value with variables names.
enum Resolved {
    /// A stage (or `scratch`): not an image.
    Stage,
    /// Anything else: a dynamic image.
    Image,
}

impl Sites<'_> {
    /// Record `ARG NAME[=default]`; a later declaration replaces an earlier one.
    fn declare(&mut self, word: &Word<'_>) {
        let (name, default) = match word.text.split_once('=') {
            Some((name, value)) => {
                let start = name.len() + 1;
                let range = start..start + value.len();
                (name, Some((value.to_string(), word.source_span(range))))
            }
            None => (word.text.as_ref(), None),
        };
        self.args.insert(
            name.to_string(),
            Arg {
                default,
                reported: false,
            },
        );
    }

    /// An image position: bytes `range` of `word`'s text.
    fn image(&mut self, word: &Word<'_>, range: Range<usize>, site: Site) {
        let text = &word.text[range.clone()];
        if text.is_empty() {
            return;
        }
        let numbered_stage =
            site != Site::DockerfileFrom && text.bytes().all(|b| b.is_ascii_digit());
        if !has_expression(text) {
            if !numbered_stage && !self.is_stage(text) {
                self.literal(word, range, site);
            }
            return;
        }
        if let Resolved::Stage = self.resolve(text) {
            return;
        }
        let span = word.source_span(range);
        self.refs
            .push(Reference::other(span, text, Kind::Dynamic, site));
        if site == Site::DockerfileFrom {
            self.whole_use(text);
        }
    }

    /// A literal image at bytes `range` of `word`'s text. When the text is not written as is
    /// (escapes inside, split by a continuation), the reference is the text as written, which
    /// does not parse: it cannot be pinned in place.
    fn literal(&mut self, word: &Word<'_>, range: Range<usize>, site: Site) {
        let span = word.source_span(range.clone());
        let written = self.src.get(span.clone()).unwrap_or_default();
        let text = &word.text[range];
        let shown = if written == text { text } else { written };
        self.refs.push(Reference::container(span, shown, site));
    }

    /// `FROM $NAME` / `FROM ${NAME}` of a non-stage image: the ARG's literal default is the
    /// image, reported once at the default.
    fn whole_use(&mut self, text: &str) {
        let name = text
            .strip_prefix("${")
            .and_then(|t| t.strip_suffix('}'))
            .or_else(|| text.strip_prefix('$'));
        let Some(name) = name.filter(|n| is_name(n)) else {
            return;
        };
        let Some(arg) = self.args.get_mut(name) else {
            return;
        };
        let Some((value, span)) = &arg.default else {
            return;
        };
        if arg.reported || value.is_empty() || value.contains('$') {
            return;
        }
        arg.reported = true;
        let written = self.src.get(span.clone()).unwrap_or_default();
        let shown = if written == value { value } else { written };
        self.refs.push(Reference::container(
            span.clone(),
            shown,
            Site::DockerfileArg,
        ));
    }

    fn is_stage(&self, name: &str) -> bool {
        name.eq_ignore_ascii_case("scratch")
            || self.stages.iter().any(|s| s.eq_ignore_ascii_case(name))
    }

    /// What a value with variables names: a stage when every variable resolves through the
    /// ARG defaults to a stage name, or when some do not and the value, with literal text
    /// besides its variables, matches a stage name reading each variable as one or more
    /// characters.
    fn resolve(&self, text: &str) -> Resolved {
        let parts = parts(text);
        let mut value = String::new();
        let mut all_resolved = true;
        for part in &parts {
            match part {
                Part::Literal(l) => value.push_str(l),
                Part::Var(var) => match self.value_of(var) {
                    Some(v) => value.push_str(&v),
                    None => all_resolved = false,
                },
            }
        }
        if all_resolved {
            return if self.is_stage(&value) {
                Resolved::Stage
            } else {
                Resolved::Image
            };
        }
        let has_literal = parts
            .iter()
            .any(|p| matches!(p, Part::Literal(l) if !l.is_empty()));
        if has_literal
            && self
                .stages
                .iter()
                .any(|stage| matches_pattern(&parts, &stage.to_ascii_lowercase()))
        {
            return Resolved::Stage;
        }
        Resolved::Image
    }

    /// The value of a variable from the ARG defaults, if it can be known.
    fn value_of(&self, var: &Var<'_>) -> Option<String> {
        let own = self
            .args
            .get(var.name)
            .and_then(|a| a.default.as_ref())
            .map(|(v, _)| v.as_str())
            .filter(|v| !v.contains('$'));
        let word = var.word.filter(|w| !w.contains('$'));
        match var.op {
            None => own.map(str::to_string),
            Some(":-") => match own {
                Some(v) if !v.is_empty() => Some(v.to_string()),
                Some(_) => word.map(str::to_string),
                None => None,
            },
            Some(":+") => match own {
                Some(v) if !v.is_empty() => word.map(str::to_string),
                Some(_) => Some(String::new()),
                None => None,
            },
            Some(_) => None,
        }
    }
}

/// A variable use: `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME:+word}` (other operators are
/// kept but never resolved).
#[derive(Debug, PartialEq, Eq)]
struct Var<'t> {
    name: &'t str,
    op: Option<&'t str>,
    word: Option<&'t str>,
}

/// A piece of a value with variables.
#[derive(Debug, PartialEq, Eq)]
enum Part<'t> {
    Literal(&'t str),
    Var(Var<'t>),
}

fn is_name(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Split a value into literal text and variables.
fn parts(text: &str) -> Vec<Part<'_>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut literal = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' {
            i += 1;
            continue;
        }
        let var_start = i;
        let (var, end) = if b.get(i + 1) == Some(&b'{') {
            let Some(close) = text[i + 2..].find('}') else {
                break;
            };
            let inner = &text[i + 2..i + 2 + close];
            let name_len = inner
                .bytes()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
                .count();
            let (name, rest) = inner.split_at(name_len);
            let op_len = rest
                .bytes()
                .take_while(|c| matches!(c, b':' | b'-' | b'+' | b'?' | b'#' | b'%' | b'/' | b'='))
                .count()
                .min(2);
            let (op, word) = rest.split_at(op_len.min(rest.len()));
            let var = Var {
                name,
                op: (!op.is_empty()).then_some(op),
                word: (!op.is_empty()).then_some(word),
            };
            (var, i + 2 + close + 1)
        } else {
            let name_len = text[i + 1..]
                .bytes()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
                .count();
            if name_len == 0 {
                i += 1;
                continue;
            }
            let name = &text[i + 1..i + 1 + name_len];
            (
                Var {
                    name,
                    op: None,
                    word: None,
                },
                i + 1 + name_len,
            )
        };
        out.push(Part::Literal(&text[literal..var_start]));
        out.push(Part::Var(var));
        i = end;
        literal = end;
    }
    out.push(Part::Literal(&text[literal..]));
    out
}

/// Does `name` match the parts, each variable standing for one or more characters and the
/// literals compared case-insensitively?
fn matches_pattern(parts: &[Part<'_>], name: &str) -> bool {
    match parts.split_first() {
        None => name.is_empty(),
        Some((Part::Literal(l), rest)) => {
            name.get(..l.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(l))
                && matches_pattern(rest, &name[l.len()..])
        }
        Some((Part::Var(_), rest)) => name
            .char_indices()
            .skip(1)
            .map(|(i, _)| i)
            .chain(std::iter::once(name.len()))
            .filter(|&i| i > 0)
            .any(|i| matches_pattern(rest, &name[i..])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::State;

    fn rows(src: &str) -> Vec<(String, &'static str, &'static str, String)> {
        let mut refs = extract(src).references;
        refs.sort_by_key(|r| r.span.start);
        refs.iter()
            .map(|r| {
                (
                    src[r.span.clone()].to_string(),
                    r.site.as_str(),
                    if r.kind == Kind::Dynamic {
                        "dynamic"
                    } else {
                        r.state.as_str()
                    },
                    r.text.clone(),
                )
            })
            .collect()
    }

    fn row(
        text: &str,
        site: &'static str,
        state: &'static str,
    ) -> (String, &'static str, &'static str, String) {
        (text.to_string(), site, state, text.to_string())
    }

    #[test]
    fn file_names() {
        for yes in [
            "Dockerfile",
            "a/b/dockerfile",
            "Containerfile",
            "Dockerfile.syft",
            "x/windows.Dockerfile",
            "libraries-sdk.linux.Dockerfile",
            "lint.containerfile",
            "Containerfile.base",
        ] {
            assert!(is_dockerfile(yes), "{yes}");
        }
        for no in [
            "Dockerfile.dockerignore",
            "build.Dockerfile.dockerignore",
            "Dockerfiles",
            "mydockerfile",
            ".Dockerfile",
            "Dockerfile.",
            "dockerfile.yml.txt/x",
            "compose.yaml",
        ] {
            assert!(!is_dockerfile(no), "{no}");
        }
    }

    #[test]
    fn from_copy_mount_and_syntax() {
        let src = "# syntax=docker/dockerfile:1\n\
                   FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:8.0 AS build\n\
                   RUN --mount=type=cache,target=/root \\\n    --mount=type=bind,from=ghcr.io/a/b:1,source=/x \\\n    make\n\
                   from build as Publish\n\
                   COPY --from=publish /app /app\n\
                   COPY --link --from=0 /a /b\n\
                   COPY --from=nginx:1.27 [\"/etc/nginx\", \"/x\"]\n\
                   FROM scratch\n\
                   RUN --mount=from=Build,target=/b true\n";
        assert_eq!(
            rows(src),
            [
                row("docker/dockerfile:1", "dockerfile-syntax", "unpinned"),
                row(
                    "mcr.microsoft.com/dotnet/sdk:8.0",
                    "dockerfile-from",
                    "unpinned"
                ),
                row("ghcr.io/a/b:1", "dockerfile-mount-from", "unpinned"),
                row("nginx:1.27", "dockerfile-copy-from", "unpinned"),
            ]
        );
    }

    /// A `--mount` field may be written in double quotes (kept inside a single-quoted
    /// flag): its `from=` value is placed inside them.
    #[test]
    fn quoted_mount_fields() {
        let src =
            "FROM alpine:3.20\nRUN --mount='type=bind,\"from=ghcr.io/a/b:1\",target=/x' true\n";
        assert_eq!(
            rows(src),
            [
                row("alpine:3.20", "dockerfile-from", "unpinned"),
                row("ghcr.io/a/b:1", "dockerfile-mount-from", "unpinned"),
            ]
        );
    }

    #[test]
    fn arg_defaults_and_dynamic_froms() {
        let src = "ARG BASE=\"quay.io/a/b:1\"\n\
                   ARG REPO=mcr.microsoft.com/dotnet/runtime-deps\n\
                   ARG VARIANT=8.0\n\
                   ARG NONE\n\
                   FROM ${BASE} AS one\n\
                   FROM $BASE\n\
                   FROM $REPO:8.0\n\
                   FROM x/y:${VARIANT}\n\
                   FROM $NONE\n";
        assert_eq!(
            rows(src),
            [
                row("quay.io/a/b:1", "dockerfile-arg", "unpinned"),
                row("${BASE}", "dockerfile-from", "dynamic"),
                row("$BASE", "dockerfile-from", "dynamic"),
                row("$REPO:8.0", "dockerfile-from", "dynamic"),
                row("x/y:${VARIANT}", "dockerfile-from", "dynamic"),
                row("$NONE", "dockerfile-from", "dynamic"),
            ]
        );
        let refs = extract(src).references;
        let arg = refs.iter().find(|r| r.site == Site::DockerfileArg);
        assert_eq!(arg.map(|r| r.state), Some(State::Unpinned));
    }

    /// An ARG default is reported as the image of a `FROM $NAME` only when it is a literal:
    /// a default built from another variable is not, and one split by a continuation is
    /// reported as written (it cannot be pinned in place).
    #[test]
    fn arg_defaults_that_are_no_literal_image() {
        let src = "ARG INNER=alpine:3.20\nARG BASE=$INNER\nARG SPLIT=ubun\\\ntu:22.04\nFROM $BASE\nFROM $SPLIT\n";
        let mut refs = extract(src).references;
        refs.sort_by_key(|r| r.span.start);
        let got: Vec<(&str, &str, Kind, State)> = refs
            .iter()
            .map(|r| (&src[r.span.clone()], r.text.as_str(), r.kind, r.state))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "ubun\\\ntu:22.04",
                    "ubun\\\ntu:22.04",
                    Kind::Container,
                    State::Invalid
                ),
                ("$BASE", "$BASE", Kind::Dynamic, State::None),
                ("$SPLIT", "$SPLIT", Kind::Dynamic, State::None),
            ]
        );
    }

    /// Only `$NAME` or `${NAME}` with NAME a variable name (letters, digits, `_`, not
    /// starting with a digit) uses an ARG whole: `${BASE-IMAGE}` is BASE with a default, not
    /// an ARG declared as `BASE-IMAGE`.
    #[test]
    fn whole_uses_name_a_variable() {
        let src =
            "ARG BASE-IMAGE=alpine:3.20\nARG _BASE=debian:12\nFROM ${BASE-IMAGE}\nFROM $_BASE\n";
        assert_eq!(
            rows(src),
            [
                row("debian:12", "dockerfile-arg", "unpinned"),
                row("${BASE-IMAGE}", "dockerfile-from", "dynamic"),
                row("$_BASE", "dockerfile-from", "dynamic"),
            ]
        );
    }

    /// A `$` that starts no variable (nothing after it, or a character no name starts
    /// with) is text of the value.
    #[test]
    fn dollars_that_start_no_variable_are_text() {
        let src = "FROM ${REGISTRY}/app:1$\nFROM $REGISTRY/app:$-1\n";
        assert_eq!(
            rows(src),
            [
                row("${REGISTRY}/app:1$", "dockerfile-from", "dynamic"),
                row("$REGISTRY/app:$-1", "dockerfile-from", "dynamic"),
            ]
        );
    }

    #[test]
    fn stages_through_variables() {
        let src = "ARG SRC=true\n\
                   FROM golang:1.22 AS golangci-binary-true\n\
                   FROM golang:1.22 AS binaries-linux\n\
                   FROM golangci-binary-${SRC}\n\
                   FROM binaries-$TARGETOS\n\
                   FROM $TARGETOS\n\
                   COPY --from=binaries-${TARGETOS} /a /b\n";
        assert_eq!(
            rows(src),
            [
                row("golang:1.22", "dockerfile-from", "unpinned"),
                row("golang:1.22", "dockerfile-from", "unpinned"),
                row("$TARGETOS", "dockerfile-from", "dynamic"),
            ]
        );
    }

    #[test]
    fn backtick_escape_and_continuations() {
        let src = "# escape=`\n\nFROM `\n  # a comment\n\n  mcr.microsoft.com/windows/servercore:ltsc2022 AS a\nRUN C:\\x.exe `\n  --y\nFROM a\n";
        assert_eq!(
            rows(src),
            [row(
                "mcr.microsoft.com/windows/servercore:ltsc2022",
                "dockerfile-from",
                "unpinned"
            )]
        );
    }

    #[test]
    fn heredoc_bodies_are_not_read() {
        let src = "FROM alpine:3 AS a\nRUN <<'EOF'\ncat <<'eot'\nFROM nope:1\neot\nEOF\nCOPY <<EOF /etc/x\nFROM nope:2\nEOF\nFROM debian:12\n";
        assert_eq!(
            rows(src),
            [
                row("alpine:3", "dockerfile-from", "unpinned"),
                row("debian:12", "dockerfile-from", "unpinned"),
            ]
        );
    }

    #[test]
    fn unterminated_heredoc_is_an_error() {
        let file = extract("FROM alpine:3\nRUN <<EOF\necho\n");
        let err = file.syntax_error.expect("an error");
        assert_eq!(err.offset, 18);
        assert!(
            err.message.contains("unterminated heredoc"),
            "{}",
            err.message
        );
    }

    #[test]
    fn split_or_escaped_images_are_not_pinnable_in_place() {
        let src = "FROM ubun\\\ntu:22.04\n";
        let refs = extract(src).references;
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].state, State::Invalid);
        assert_eq!(refs[0].text, "ubun\\\ntu:22.04");
    }

    #[test]
    fn suppression_comments_are_dockerfile_comments() {
        use crate::{Analysis, Facts, Settings};
        let src = "# pin-lint: ignore[unpinned-image]\nFROM ubuntu:22.04\nRUN true \\\n  # pin-lint: ignore\n  && true\nFROM debian:12\n# pin-lint: ignore-file-not\nCOPY --from=nginx:1 /a /b\n";
        let analysis = Analysis::new("build/Dockerfile", src.to_string());
        assert_eq!(analysis.suppressions.entries.len(), 2);
        let settings = Settings {
            report_unused_ignores: true,
            ..Settings::default()
        };
        let findings = analysis.findings(&settings, &Facts::none());
        let got: Vec<(&str, usize)> = findings
            .iter()
            .map(|f| (f.rule.id(), analysis.source.line_index(f.span.start) + 1))
            .collect();
        // The comment inside the continuation covers the next physical line only.
        assert_eq!(
            got,
            [
                ("unused-suppression", 4),
                ("unpinned-image", 6),
                ("unpinned-image", 8)
            ]
        );
    }

    #[test]
    fn pattern_matching() {
        let p = parts("binaries-$TARGETOS");
        assert!(matches_pattern(&p, "binaries-linux"));
        assert!(!matches_pattern(&p, "binaries-"));
        assert!(!matches_pattern(&parts("a-${X}-b"), "a--b"));
        assert!(matches_pattern(&parts("a-${X}-b"), "a-x-b"));
    }
}
