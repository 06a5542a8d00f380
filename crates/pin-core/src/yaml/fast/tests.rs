//! The direct reader against the full parser: wherever the reader takes a text, its tree
//! (every span, value, style, tag and anchor) and its comments must be the full parser's, with
//! comments collected and without; and it must never take a text the full parser rejects.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::super::{parse_full, Node, Value, Yaml};
use super::parse;

/// The first difference between two nodes, with the path to it.
fn node_diff(path: &str, a: &Node<'_>, b: &Node<'_>) -> Option<String> {
    let here = |what: &str| Some(format!("{path}: {what}: reader {a:?}\nparser {b:?}"));
    if a.span != b.span {
        return here("span");
    }
    if a.tag != b.tag || a.anchor != b.anchor {
        return here("tag or anchor");
    }
    match (&a.value, &b.value) {
        (Value::Scalar(x, sx), Value::Scalar(y, sy)) => {
            if x != y || sx != sy {
                return here("scalar");
            }
        }
        (Value::Alias, Value::Alias) => {}
        (Value::Sequence(x), Value::Sequence(y)) => {
            if x.len() != y.len() {
                return here("sequence length");
            }
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                if let Some(d) = node_diff(&format!("{path}[{i}]"), p, q) {
                    return Some(d);
                }
            }
        }
        (Value::Mapping(x), Value::Mapping(y)) => {
            if x.len() != y.len() {
                return here("mapping length");
            }
            for (i, ((k1, v1), (k2, v2))) in x.iter().zip(y).enumerate() {
                let at = format!("{path}.{}", k2.as_str().unwrap_or("?"));
                if let Some(d) = node_diff(&format!("{path}.<key {i}>"), k1, k2)
                    .or_else(|| node_diff(&at, v1, v2))
                {
                    return Some(d);
                }
            }
        }
        _ => return here("kind"),
    }
    None
}

fn yaml_diff(a: &Yaml<'_>, b: &Yaml<'_>) -> Option<String> {
    if a.documents.len() != b.documents.len() {
        return Some(format!(
            "{} documents against {}",
            a.documents.len(),
            b.documents.len()
        ));
    }
    for (i, (x, y)) in a.documents.iter().zip(&b.documents).enumerate() {
        if let Some(d) = node_diff(&format!("doc{i}"), x, y) {
            return Some(d);
        }
    }
    let comments = |y: &Yaml<'_>| {
        y.comments
            .iter()
            .map(|c| (c.span.clone(), c.text.to_string()))
            .collect::<Vec<_>>()
    };
    let (x, y) = (comments(a), comments(b));
    (x != y).then(|| format!("comments: reader {x:?}\nparser {y:?}"))
}

/// `text` for a failure message, cut short.
fn excerpt(text: &str) -> &str {
    let mut end = text.len().min(1500);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Whether the reader takes `text`; panics where it differs from the full parser.
fn check(name: &str, text: &str) -> bool {
    let mut taken = false;
    for comments in [true, false] {
        let Some(fast) = parse(text, comments) else {
            continue;
        };
        taken = true;
        match parse_full(text, comments) {
            Ok(full) => {
                if let Some(d) = yaml_diff(&fast, &full) {
                    panic!(
                        "{name} (comments {comments}): {d}\n--- text ---\n{}\n---",
                        excerpt(text)
                    );
                }
            }
            Err((err, _)) => panic!(
                "{name}: the reader takes it, the full parser rejects it at {}: {}\n\
                 --- text ---\n{}\n---",
                err.offset,
                err.message,
                excerpt(text)
            ),
        }
    }
    taken
}

/// Every YAML file of the shared corpora, in a fixed order.
fn corpus_files() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                out.push(path);
            }
        }
    }
    let shared = pin_test_support::shared_dir();
    let mut paths = Vec::new();
    for corpus in ["corpus", "corpus-images"] {
        walk(&shared.join(corpus), &mut paths);
    }
    assert!(
        paths.len() > 100,
        "too few YAML files in {}",
        shared.display()
    );
    paths
        .into_iter()
        .filter_map(|p| {
            let text = String::from_utf8(std::fs::read(&p).ok()?).ok()?;
            Some((p, text))
        })
        .collect()
}

#[test]
fn same_tree_as_the_full_parser_on_the_corpora() {
    let files = corpus_files();
    let mut left = Vec::new();
    for (path, text) in &files {
        if !check(&path.display().to_string(), text) {
            left.push(path.display().to_string());
        }
    }
    let taken = files.len() - left.len();
    eprintln!("the reader takes {taken} of {} corpus files", files.len());
    // Nearly every CI file is in the reader's subset; what is left uses anchors, tags, tabs or
    // template syntax.
    assert!(
        taken * 5 >= files.len() * 4,
        "the reader takes only {taken} of {} corpus files; left to the full parser:\n{}",
        files.len(),
        left.join("\n")
    );
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// What mutations insert: the characters that decide YAML's structure.
const PIECES: &[&str] = &[
    ": ", ":", "- ", "-", "#", " #", "'", "\"", "''", "\\n", "\\", "[", "]", "{", "}", ", ", "|",
    "|-", "|+", ">", ">-", "\n", "\n\n", " ", "  ", "&a ", "*a", "!t ", "---\n", "...\n", "? ",
    "%", "@", "`", "é", "x", "\u{2028}", "~", "\\x41", "\\u00e9",
];

/// `lines` with one to three random edits: a line dropped, repeated, re- or de-indented,
/// swapped with the next, or a structural piece inserted inside it.
fn mutate(rng: &mut Rng, lines: &[&str]) -> String {
    let mut lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    for _ in 0..=rng.below(3) {
        if lines.is_empty() {
            break;
        }
        let i = rng.below(lines.len());
        match rng.below(6) {
            0 => {
                lines.remove(i);
            }
            1 => {
                let copy = lines[i].clone();
                lines.insert(i, copy);
            }
            2 => lines[i].insert_str(0, if rng.below(2) == 0 { " " } else { "  " }),
            3 => {
                let n = lines[i].len() - lines[i].trim_start_matches(' ').len();
                lines[i].drain(..n.min(1 + rng.below(2)));
            }
            4 if i + 1 < lines.len() => lines.swap(i, i + 1),
            _ => {
                let line = &mut lines[i];
                let boundaries: Vec<usize> = (0..=line.len())
                    .filter(|&b| line.is_char_boundary(b))
                    .collect();
                let at = boundaries[rng.below(boundaries.len())];
                line.insert_str(at, PIECES[rng.below(PIECES.len())]);
            }
        }
    }
    let mut out = lines.join("\n");
    if rng.below(4) != 0 {
        out.push('\n');
    }
    out
}

#[test]
fn same_tree_as_the_full_parser_on_mutated_corpus_files() {
    let files = corpus_files();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut tried, mut taken) = (0usize, 0usize);
    for (path, text) in &files {
        let lines: Vec<&str> = text.lines().collect();
        for round in 0..200 {
            // A window of the file, so that each case is small and errors fall everywhere.
            let start = rng.below(lines.len());
            let len = 3 + rng.below(40);
            let window = &lines[start..(start + len).min(lines.len())];
            let mutated = mutate(&mut rng, window);
            tried += 1;
            let name = format!("{} (mutation {round})", path.display());
            if check(&name, &mutated) {
                taken += 1;
            }
        }
    }
    eprintln!("the reader takes {taken} of {tried} mutated texts");
    // The mutations must reach the reader, not only its refusals.
    assert!(
        taken * 6 >= tried,
        "the reader took only {taken} of {tried} mutated texts"
    );
}

#[test]
fn same_tree_as_the_full_parser_on_edge_cases() {
    // Each case the reader must take (and get right).
    let taken = [
        "a: 1\n",
        "a: 1",
        "a:\n",
        "a:",
        "a: # c\nb:\n  - x # d\n  -\n  - # e\n  - y\nc: 1\n",
        "a: |\n  foo\n  bar\n# c\nb: x\n",
        "a: |\n  foo\n\nb: x",
        "a: |\n  foo",
        "a: |-\n  foo\n\n",
        "a: |+\n  foo\n\n\nb: 1\n",
        "a: >\n  foo\n  bar\n\n  baz\n",
        "a: >-\n  foo\n  bar\n\n  baz\n\n\n",
        "a: |\n  x\n    indented\n  y\n",
        "- |\n  x\n- >\n  y\n",
        "a:\n  b: 1\n  # c\nc: 2\n",
        "k: [a, \"b\", c ]  # x\nm: {a: b, c: d}\nz: []\ne: {}\n",
        "- a: 1\n  b: 2\n- b\n",
        "x:\n- a\n- b\ny: 2",
        "x:\n-\n- b\n",
        "x:\n- # c\n  a: 1\n",
        "a: foo\n  bar\n\n  baz\nb: 1",
        "- foo\n  bar\n- baz\n",
        "a:\n  foo\n  bar\n",
        "---\na: 1\n---\n- b\n",
        "--- # doc\na: 1\n",
        "a: \"x\\ty\\u00e9\\x41\\\\\\\"\" \nb: 'it''s'\n",
        "'q k': 1\n\"r\" : 2\n",
        "- - a\n  - b\n- c\n",
        "-\n  a: 1\n-\n  - x\n",
        "a:\n  - b:\n    - c\n    d: e\n",
        "  a: 1\n  b: 2\n",
        "a: b#c\nd: e #f\n",
        "a: http://x:80/y\n",
        "a: -1\nb: -x\n",
        "a b: c d\n",
        "a: [x]\nb: [\"y\", 'z']\n",
        "a: é\nb: 'ü'\n",
        "# only a comment\na: 1\n",
        "a: 1 # trailing   \n",
        "a: x   \nb: y\n",
        "a:\n\n\n  b: 1\n",
        "a:\n  -\n  -\n",
        "a: 'x' # c\n",
        "a:\n  - x\n  # between\n  - y\n",
        "a: |\n  x\n  # not a comment\nb: 1\n",
        "a: >\n  x\n\n\n  y\n",
        "a: >\n  x\n    more\n  y\n",
        "a: >-\n  or(\n    eq(a),\n\n    eq(b))\nb: 1\n",
        "a: foo\n  -bar\n  - baz\n  ?x\n  :y\n  [x]\n",
        "a: &x 1\nb: &y 2\nc: *x\nd: &x 3\ne: *x\n",
        "a: &x\nb: *x\n",
        "a: &x # c\n  b: 1\nc: *x\n",
        "a: !t foo\nb: &k !t [x]\nc: !t &k2 {a: b}\n",
        "a: &m\n  b: 1\nc:\n  <<: *m\n  d: 2\n",
        "- &s\n  - 1\n- *s\n- &e\n- !reference [a, b]\n",
        "---\na: &x 1\n---\nb: &y 2\nc: *y\n",
        "a: &x [1]\nb: *x\n",
        "a: &x |\n  t\nb: !t \"q\"\n",
        "- &x\n  a: 1\n- &a1.b-c_d x\n",
        "a:\n  &x\n  b: 1\n",
        "a: &x\n- b\nc: *x\n",
        "x:\n- &a b\n- c\n",
        "x:\n- !reference [.a, b] # c\n",
    ];
    let mut refused = Vec::new();
    for (i, text) in taken.iter().enumerate() {
        if !check(&format!("case {i}"), text) {
            refused.push(*text);
        }
    }
    assert!(refused.is_empty(), "the reader refused: {refused:#?}");

    // Cases it may refuse; where it takes one, it must agree with the full parser.
    let either = [
        "a: &x [*x]\n",
        "a: &x *y\n",
        "a: &x\n  &y\n  b: 1\n",
        "&k a: 1\n",
        "a: !!str x\n",
        "- !t\n",
        "a: *x\n",
        "- &k a: 1\n",
        "a: &x 1\nb: *x : c\n",
        "---\na: &x 1\n---\nb: *x\n",
        "a: >\n    more\n  x\n",
        "a: |\n    x\n   y\n",
        "a: 1\n- c\n",
        "a: &x 1\nb: *x\n",
        "a: !t 1\n",
        "? a\n: b\n",
        "%YAML 1.2\n---\na: 1\n",
        "a: 1\n...\n",
        "a: 1\n---\n",
        "---\n---\na: 1\n",
        "a:\tb\n",
        "a: 1\r\nb: 2\r\n",
        "\u{feff}a: 1\n",
        "a: \"multi\n  line\"\n",
        "a: [x,\n  y]\n",
        "a: [x, [y]]\n",
        "a: [x,]\n",
        "a: |2\n   x\n",
        "a: |\n\n  x\n",
        "a: |\n",
        "a: b: c\n",
        "a: - b\n",
        "a: 1\n b: 2\n",
        "a:\n  b: 1\n c: 2\n",
        "- a\nb: 1\n",
        "a: 'x'y\n",
        "a: \"x\"#c\n",
        "scalar\n",
        "",
        "# nothing\n",
        "a: foo\n  - bar\n",
        "a: foo\n  # c\n  bar\n",
        "a: [a: b]\n",
        "{a: 1}\n",
        "a: \"\\e\"\n",
        "a: \"\\uD800\"\n",
        "a: |+\n  x\n\n",
        "a: x\n  y: z\n",
        "a: 'x' 'y'\n",
        "-\n",
        "- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - x\n",
    ];
    for (i, text) in either.iter().enumerate() {
        check(&format!("either {i}"), text);
    }
    let mut report = String::new();
    for text in either {
        let _ = writeln!(report, "{:?}: {}", text, parse(text, true).is_some());
    }
    // Tabs, secondary tags and aliases to unknown anchors go to the full parser, which knows
    // them (or reports the error).
    assert!(parse("a:\tb\n", true).is_none(), "{report}");
    assert!(parse("a: !!str x\n", true).is_none(), "{report}");
    assert!(parse("a: *x\n", true).is_none(), "{report}");
}

#[test]
fn many_anchors_and_aliases_are_read_like_the_full_parser() {
    // Every alias names the first anchor, the worst case for a look-up that searches.
    let mut text = String::new();
    for i in 0..2_000 {
        text.push_str(&format!("a{i}: &x{i} v{i}\nb{i}: *x0\n"));
    }
    assert!(check("2,000 anchors", &text), "the reader refused it");
    let yaml = parse(&text, false).expect("taken");
    let pairs = yaml.documents[0].as_mapping().expect("a mapping");
    assert_eq!(pairs.len(), 4_000);
    assert!(pairs
        .iter()
        .skip(1)
        .step_by(2)
        .all(|(_, v)| matches!(v.value, Value::Alias) && v.anchor == 1));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4_000))]

    /// Texts of random lines, indented at random, each a common YAML line or a structural
    /// piece: the reader never panics, and where it takes a text it agrees with the full
    /// parser (which `check` asserts).
    #[test]
    fn random_lines_agree_or_are_refused(
        lines in proptest::collection::vec(
            (
                proptest::sample::select(vec!["", "", "", "", "  ", "  ", "    ", " "]),
                proptest::sample::select(vec![
                    "a: 1", "a: 1", "a: 1", "b:", "b:", "- x", "- x", "-", "- c: d", "  e: f",
                    "g: |", "h: >-", "text",
                    "more text", "i: [x, 'y']", "j: {k: v}", "# comment", "l: &x v", "m: *x",
                    "n: &y", "o: !reference [a, b]", "p: 'q''s'", "r: \"t\\n\"", "", "---",
                    "s: u # c", "- - w", "x: y: z", "'k': v", "a b: c", "- *x", "v: é",
                    "[", "}", "?", "\"", "&", "t: \"unclosed",
                ]),
            ),
            0..8,
        ),
        final_newline in proptest::bool::ANY,
    ) {
        let mut text = lines
            .iter()
            .map(|(indent, line)| format!("{indent}{line}"))
            .collect::<Vec<_>>()
            .join("\n");
        if final_newline {
            text.push('\n');
        }
        check("a text of random lines", &text);
    }
}
