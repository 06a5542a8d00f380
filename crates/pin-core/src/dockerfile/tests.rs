use super::*;

/// Each instruction as `KEYWORD [flags] [args]` texts, for compact assertions.
fn shape(src: &str) -> Vec<(String, Vec<String>, Vec<String>)> {
    parse(src)
        .instructions
        .iter()
        .map(|i| {
            (
                i.keyword.text.to_string(),
                i.flags.iter().map(|w| w.text.to_string()).collect(),
                i.args.iter().map(|w| w.text.to_string()).collect(),
            )
        })
        .collect()
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// Every word's span, text and sub-spans agree with the source.
fn check_spans(src: &str) {
    for i in parse(src).instructions {
        for w in std::iter::once(&i.keyword).chain(&i.flags).chain(&i.args) {
            assert!(w.span.end <= src.len());
            if w.is_verbatim() {
                assert_eq!(&src[w.span.clone()], w.text);
            }
            let all = w.source_span(0..w.text.len());
            assert!(all.start >= w.span.start && all.end <= w.span.end, "{w:?}");
        }
    }
}

#[test]
fn instructions_are_case_insensitive_and_keep_their_spelling() {
    let src = "from alpine:3 as base\nRun echo hi\n";
    let file = parse(src);
    assert_eq!(file.instructions.len(), 2);
    assert!(file.instructions[0].is("FROM"));
    assert_eq!(file.instructions[0].keyword.text, "from");
    assert_eq!(file.instructions[0].args[0].span, 5..13);
    assert!(file.instructions[1].is("run"));
    check_spans(src);
}

#[test]
fn directives_only_at_the_top() {
    let file = parse("# syntax = docker/dockerfile:1.7 \n# escape=`\nFROM a\n");
    assert_eq!(file.directives.len(), 2);
    assert_eq!(file.directives[0].name, "syntax");
    assert_eq!(file.directives[0].value.text, "docker/dockerfile:1.7");
    assert_eq!(file.directives[0].value.span, 11..32);
    assert_eq!(file.directives[1].name, "escape");
    // An empty line, an ordinary comment or an unknown directive ends the directives.
    for src in [
        "\n# syntax=docker/dockerfile:1\nFROM a\n",
        "# hello\n# syntax=docker/dockerfile:1\nFROM a\n",
        "# foo=bar\n# syntax=docker/dockerfile:1\nFROM a\n",
        "FROM a\n# syntax=docker/dockerfile:1\n",
    ] {
        let file = parse(src);
        assert!(file.directives.is_empty(), "{src:?}");
        assert!(
            file.comments.iter().any(|c| c.text.contains("syntax")),
            "{src:?}: read as a comment"
        );
    }
    // A byte-order mark before the directives.
    let file = parse("\u{feff}# syntax=x/y:1\nFROM a\n");
    assert_eq!(file.directives[0].value.span, 12..17);
}

#[test]
fn escape_directive_switches_the_continuation_character() {
    let src = "# escape=`\nFROM a\nRUN C:\\x.exe `\n    /y \\\nCOPY a b\n";
    assert_eq!(
        shape(src),
        [
            ("FROM".into(), vec![], s(&["a"])),
            ("RUN".into(), vec![], s(&["C:\\x.exe", "/y", "\\"])),
            ("COPY".into(), vec![], s(&["a", "b"])),
        ]
    );
    let bad = parse("# escape=x\nFROM a\n");
    assert_eq!(bad.errors.len(), 1);
    assert_eq!(bad.errors[0].offset, 9);
}

#[test]
fn continuations_drop_comment_and_blank_lines() {
    let src =
        "RUN apt-get update \\\n  # install\n\n   \t\n  && apt-get install -y \\\n  curl\nFROM a\n";
    let file = parse(src);
    assert_eq!(file.instructions.len(), 2);
    let run = &file.instructions[0];
    let words: Vec<&str> = run.args.iter().map(|w| w.text.as_ref()).collect();
    assert_eq!(
        words,
        ["apt-get", "update", "&&", "apt-get", "install", "-y", "curl"]
    );
    let curl = &run.args[6];
    assert_eq!(&src[curl.span.clone()], "curl");
    assert_eq!(run.span, 0..src.find("curl").expect("curl") + 4);
    assert_eq!(file.comments.len(), 1);
    assert_eq!(file.comments[0].text, " install");
    check_spans(src);
}

#[test]
fn a_word_split_by_a_continuation_maps_back_to_both_lines() {
    let src = "FROM ubun\\\n  tu:22.04\n";
    let file = parse(src);
    let image = &file.instructions[0].args[0];
    assert_eq!(image.text, "ubun");
    // Leading blanks of a continuation line are kept, as BuildKit does: two words.
    let src = "FROM ubun\\\ntu:22.04\n";
    let image = &parse(src).instructions[0].args[0];
    assert_eq!(image.text, "ubuntu:22.04");
    assert!(!image.is_verbatim());
    assert_eq!(image.span, 5..src.len() - 1);
    assert_eq!(image.source_span(4..6), 11..13);
    assert_eq!(&src[image.source_span(4..12)], "tu:22.04");
}

#[test]
fn an_open_continuation_at_end_of_file_ends_the_instruction() {
    let file = parse("FROM a\nRUN echo \\");
    assert_eq!(file.instructions.len(), 2);
    assert!(file.errors.is_empty());
    let file = parse("FROM a\nRUN echo \\\n\n# c\n");
    assert_eq!(file.instructions.len(), 2);
    // A lone continuation character is no instruction.
    assert_eq!(parse("\\\n\\\n").instructions.len(), 0);
}

#[test]
fn flags_with_quotes_and_the_end_of_flags_marker() {
    let src = "COPY --from=\"build\" --chmod=755 -- --x y\n";
    let file = parse(src);
    let copy = &file.instructions[0];
    assert_eq!(copy.flags.len(), 2);
    assert_eq!(copy.flags[0].text, "--from=build");
    let (flag, value) = copy.flags_named("from").next().expect("a --from");
    assert_eq!(&src[flag.source_span(value)], "build");
    assert_eq!(
        copy.args
            .iter()
            .map(|w| w.text.as_ref())
            .collect::<Vec<_>>(),
        ["--x", "y"]
    );
    check_spans(src);
}

#[test]
fn json_form_arguments() {
    let src = "CMD [\"dotnet\", \"a\\\"b.dll\" ]\nCOPY --from=x [\"a b\", \"/c/\"]\nENV A=[\"x\"]\nRUN [\"broken\"\n";
    let file = parse(src);
    let cmd = &file.instructions[0];
    assert!(cmd.json);
    assert_eq!(cmd.args[0].text, "dotnet");
    assert_eq!(cmd.args[0].span, 6..12);
    assert_eq!(cmd.args[1].text, "a\"b.dll");
    assert!(!cmd.args[1].is_verbatim());
    let copy = &file.instructions[1];
    assert!(copy.json);
    assert_eq!(copy.args[0].text, "a b");
    assert!(!file.instructions[2].json, "ENV has no JSON form");
    assert!(!file.instructions[3].json, "not valid JSON: shell form");
    check_spans(src);
}

#[test]
fn heredocs_are_skipped_with_only_the_outer_terminator_counting() {
    let src = "FROM a\nRUN <<'EOF' bash\ncat <<'eot'\nFROM inner\neot\nEOF\nCOPY --chmod=755 <<\"A\" <<-B /x/\nbody a\nA\n\t\tbody b\n\tB\nFROM b\n";
    let file = parse(src);
    assert!(file.errors.is_empty(), "{:?}", file.errors);
    let keywords: Vec<&str> = file
        .instructions
        .iter()
        .map(|i| i.keyword.text.as_ref())
        .collect();
    assert_eq!(keywords, ["FROM", "RUN", "COPY", "FROM"]);
    let run = &file.instructions[1];
    assert_eq!(run.heredocs.len(), 1);
    assert_eq!(run.heredocs[0].name, "EOF");
    assert_eq!(
        &src[run.heredocs[0].body.clone()],
        "cat <<'eot'\nFROM inner\neot\n"
    );
    let copy = &file.instructions[2];
    assert_eq!(copy.heredocs.len(), 2);
    assert!(!copy.heredocs[0].strip_tabs && copy.heredocs[1].strip_tabs);
    assert_eq!(&src[copy.heredocs[1].body.clone()], "\t\tbody b\n");
    assert_eq!(file.instructions[3].args[0].text, "b");
}

#[test]
fn heredocs_after_a_multi_line_mount_list() {
    let src = "RUN --mount=type=cache,target=/a \\\n    --mount=from=x,target=/b <<EOT\nFROM no\nEOT\nFROM yes\n";
    let file = parse(src);
    assert_eq!(file.instructions.len(), 2);
    assert_eq!(file.instructions[0].flags.len(), 2);
    assert_eq!(file.instructions[1].args[0].text, "yes");
}

#[test]
fn not_heredocs() {
    // Here-strings, JSON form, other instructions.
    let src = "RUN cat <<<\"x\"\nRUN [\"<<EOF\"]\nENV A=<<EOF\nFROM b\n";
    let file = parse(src);
    assert!(file.instructions.iter().all(|i| i.heredocs.is_empty()));
    assert_eq!(file.instructions.len(), 4);
}

#[test]
fn onbuild_heredocs_are_skipped_too() {
    let file = parse("ONBUILD RUN <<EOF\nFROM no\nEOF\nFROM yes\n");
    assert_eq!(file.instructions.len(), 2);
}

#[test]
fn an_unterminated_heredoc_runs_to_the_end_and_is_an_error() {
    let src = "FROM a\nRUN <<EOF\nFROM no\n";
    let file = parse(src);
    assert_eq!(file.instructions.len(), 2);
    assert_eq!(file.errors.len(), 1);
    assert_eq!(file.errors[0].offset, 11);
    assert!(!file.instructions[1].heredocs[0].terminated);
    assert_eq!(file.instructions[1].heredocs[0].body, 17..src.len());
}

#[test]
fn crlf_lines() {
    let src = "FROM a:1 AS x\r\nRUN echo \\\r\n  hi\r\nRUN <<EOF\r\nbody\r\nEOF\r\nFROM x\r\n";
    let file = parse(src);
    assert!(file.errors.is_empty());
    assert_eq!(file.instructions.len(), 4);
    assert_eq!(file.instructions[0].args[2].text, "x");
    assert_eq!(file.instructions[3].args[0].text, "x");
    assert_eq!(file.instructions[3].span, src.len() - 8..src.len() - 2);
}

#[test]
fn multibyte_text_keeps_character_boundaries() {
    let src = "LABEL a=\"é\\\"ü\" b='ñ'\nFROM \"ünï:1\"\n";
    check_spans(src);
    let file = parse(src);
    let from = &file.instructions[1].args[0];
    assert_eq!(from.text, "ünï:1");
    let span = from.source_span(0..from.text.len());
    assert_eq!(&src[span], "ünï:1");
}
