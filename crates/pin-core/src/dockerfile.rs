//! Dockerfile (and Containerfile) tokenizer: instructions with the exact byte span of every
//! word, read the way BuildKit's parser reads them.
//!
//! - Parser directives (`# syntax=…`, `# escape=…`, `# check=…`) only at the very top: scanning
//!   stops at the first line that is not a known directive (an instruction, an empty line, an
//!   ordinary comment). `# escape=` switches the continuation and escape character to `` ` ``.
//! - Instructions are case-insensitive. A line whose last non-blank character is the escape
//!   character continues on the next line; comment lines and blank lines inside a continuation
//!   are dropped. A continuation still open at end of file ends the instruction there, as in
//!   BuildKit.
//! - Flags (`--platform=…`, `--from=…`, `--mount=…`) are the leading words that start with
//!   `--`; a word `--` ends them.
//! - Words are split at unquoted blanks; quotes are removed and escapes resolved in
//!   [`Word::text`], while [`Word::span`] covers the word as written. Every byte of the text
//!   maps back to the byte it came from ([`Word::source_span`]), also across continuation
//!   lines.
//! - JSON-form arguments (`["a", "b"]`) of `RUN`, `CMD`, `ENTRYPOINT`, `SHELL`, `COPY`, `ADD`
//!   and `VOLUME` become one word per string, spans inside the quotes.
//! - Heredocs in `RUN`, `COPY` and `ADD` (also under `ONBUILD`): every word `<<NAME`,
//!   `<<-NAME`, `<<"NAME"`, `<<'NAME'` of the instruction opens one, and their bodies follow
//!   the instruction in order, each ending at a line equal to its name (`<<-`: after removing
//!   leading tabs). Bodies are skipped as text: only the outer terminator counts. A heredoc
//!   that is never closed runs to end of file and is reported in [`Tokenizer::errors`].
//!
//! The tokenizer is an iterator, so a huge file is read one instruction at a time; [`parse`]
//! collects everything for callers that want the whole file.

use std::borrow::Cow;
use std::ops::Range;

use crate::yaml::{Comment, SyntaxError};

/// The parser directives BuildKit knows; an unknown `# name=value` ends the directives.
const DIRECTIVES: [&str; 3] = ["syntax", "escape", "check"];

/// Instructions whose arguments may be written in JSON form.
const JSON_FORM: [&str; 7] = ["RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME"];

/// Instructions that may open heredocs.
const HEREDOC: [&str; 3] = ["RUN", "COPY", "ADD"];

/// One word: its text after quote removal and escapes, and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word<'a> {
    /// The text with quotes removed, escapes resolved and continuations joined.
    pub text: Cow<'a, str>,
    /// Byte span of the word as written (quotes included; across continuation lines when the
    /// word is split by one).
    pub span: Range<usize>,
    /// Source offset of each byte of `text`, when `text` is not exactly the source at `span`.
    offsets: Option<Box<[usize]>>,
}

impl Word<'_> {
    /// Whether `text` is exactly the source text at `span` (nothing quoted, escaped or joined).
    pub fn is_verbatim(&self) -> bool {
        self.offsets.is_none()
    }

    /// The source span of the bytes `range` of [`Word::text`] (on character boundaries when
    /// `range` is). Across a continuation the span covers the joined lines too.
    pub fn source_span(&self, range: Range<usize>) -> Range<usize> {
        let Some(offsets) = &self.offsets else {
            return self.span.start + range.start..self.span.start + range.end;
        };
        let at = |i: usize| offsets.get(i).copied().unwrap_or(self.span.end);
        let start = at(range.start);
        if range.end <= range.start {
            return start..start;
        }
        start..at(range.end - 1) + 1
    }
}

/// A parser directive at the top of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive<'a> {
    /// The name, lower-cased (`syntax`, `escape`, `check`).
    pub name: String,
    /// The value, trimmed, and its span.
    pub value: Word<'a>,
}

/// A heredoc opened by an instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The terminator, quotes removed.
    pub name: String,
    /// `<<-`: leading tabs are removed before comparing a line with the terminator.
    pub strip_tabs: bool,
    /// Span of the `<<NAME` word.
    pub marker: Range<usize>,
    /// Span of the body: from the line after the instruction (or the previous heredoc) to the
    /// start of the terminator line, or to end of file when unterminated.
    pub body: Range<usize>,
    /// Whether a terminator line was found.
    pub terminated: bool,
}

/// One instruction (all its continuation lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction<'a> {
    /// The keyword as written (`FROM`, `from`, …).
    pub keyword: Word<'a>,
    /// The leading `--name[=value]` words, quotes removed.
    pub flags: Vec<Word<'a>>,
    /// The arguments after the flags.
    pub args: Vec<Word<'a>>,
    /// Whether the arguments are in JSON form.
    pub json: bool,
    /// Heredocs the instruction opens, in order.
    pub heredocs: Vec<Heredoc>,
    /// From the keyword to the end of the instruction's last line (heredoc bodies excluded).
    pub span: Range<usize>,
}

impl<'a> Instruction<'a> {
    /// Whether the keyword is `name` (case-insensitive).
    pub fn is(&self, name: &str) -> bool {
        self.keyword.text.eq_ignore_ascii_case(name)
    }

    /// The flags named `name` (`--name=value`), each with the byte range of its value in the
    /// flag's text (empty at the end for a flag without `=`).
    pub fn flags_named<'i>(
        &'i self,
        name: &'i str,
    ) -> impl Iterator<Item = (&'i Word<'a>, Range<usize>)> + 'i {
        self.flags.iter().filter_map(move |flag| {
            let body = flag.text.strip_prefix("--")?;
            let (flag_name, value) = body.split_once('=').unwrap_or((body, ""));
            (flag_name == name).then(|| {
                let end = flag.text.len();
                (flag, end - value.len()..end)
            })
        })
    }
}

/// A whole Dockerfile.
#[derive(Debug, Clone, Default)]
pub struct Dockerfile<'a> {
    /// The parser directives.
    pub directives: Vec<Directive<'a>>,
    /// The instructions, in order.
    pub instructions: Vec<Instruction<'a>>,
    /// Every comment line (directives included), for suppressions.
    pub comments: Vec<Comment<'a>>,
    /// What makes the file unreadable for BuildKit (an unterminated heredoc, an invalid
    /// escape directive), in order.
    pub errors: Vec<SyntaxError>,
}

/// Tokenize a whole file (see [`Tokenizer`] to read instruction by instruction).
pub fn parse(src: &str) -> Dockerfile<'_> {
    let mut tokenizer = Tokenizer::new(src);
    let instructions = tokenizer.by_ref().collect();
    Dockerfile {
        directives: tokenizer.directives,
        instructions,
        comments: tokenizer.comments,
        errors: tokenizer.errors,
    }
}

/// Reads a Dockerfile one instruction at a time; directives are read by [`Tokenizer::new`],
/// comments and errors are collected as the iteration passes them.
#[derive(Debug)]
pub struct Tokenizer<'a> {
    src: &'a str,
    /// Start of the next physical line.
    pos: usize,
    escape: u8,
    directives: Vec<Directive<'a>>,
    comments: Vec<Comment<'a>>,
    errors: Vec<SyntaxError>,
}

impl<'a> Tokenizer<'a> {
    /// Start reading `src`: skips a byte-order mark and reads the parser directives.
    pub fn new(src: &'a str) -> Tokenizer<'a> {
        let mut t = Tokenizer {
            src,
            pos: if src.starts_with('\u{feff}') { 3 } else { 0 },
            escape: b'\\',
            directives: Vec::new(),
            comments: Vec::new(),
            errors: Vec::new(),
        };
        t.read_directives();
        t
    }

    /// The parser directives at the top of the file.
    pub fn directives(&self) -> &[Directive<'a>] {
        &self.directives
    }

    /// The escape (and continuation) character: `\` unless `# escape=`` ` `` says otherwise.
    pub fn escape(&self) -> char {
        char::from(self.escape)
    }

    /// The comments passed so far.
    pub fn comments(&self) -> &[Comment<'a>] {
        &self.comments
    }

    /// Take the comments passed so far.
    pub fn take_comments(&mut self) -> Vec<Comment<'a>> {
        std::mem::take(&mut self.comments)
    }

    /// The errors met so far.
    pub fn errors(&self) -> &[SyntaxError] {
        &self.errors
    }

    /// The next physical line at `self.pos`: its content (without the line break and a
    /// trailing `\r`), and advances past it.
    fn line(&mut self) -> Option<Range<usize>> {
        if self.pos >= self.src.len() {
            return None;
        }
        let start = self.pos;
        let bytes = self.src.as_bytes();
        let (mut end, next) = match memchr_newline(&bytes[start..]) {
            Some(n) => (start + n, start + n + 1),
            None => (bytes.len(), bytes.len()),
        };
        while end > start && bytes[end - 1] == b'\r' {
            end -= 1;
        }
        self.pos = next;
        Some(start..end)
    }

    fn read_directives(&mut self) {
        loop {
            let before = self.pos;
            let Some(line) = self.line() else { return };
            let Some((name, value)) = directive(self.src, line.clone()) else {
                self.pos = before;
                return;
            };
            let lower = self.src[name].to_ascii_lowercase();
            if !DIRECTIVES.contains(&lower.as_str())
                || self.directives.iter().any(|d| d.name == lower)
            {
                self.pos = before;
                return;
            }
            if lower == "escape" {
                match &self.src[value.clone()] {
                    "\\" => self.escape = b'\\',
                    "`" => self.escape = b'`',
                    other => self.errors.push(SyntaxError {
                        offset: value.start,
                        message: format!("invalid escape directive `{other}`: must be ` or \\"),
                    }),
                }
            }
            self.comment(line);
            self.directives.push(Directive {
                name: lower,
                value: Word {
                    text: Cow::Borrowed(&self.src[value.clone()]),
                    span: value,
                    offsets: None,
                },
            });
        }
    }

    /// Record the comment on `line` (which starts, after blanks, with `#`).
    fn comment(&mut self, line: Range<usize>) {
        let text = &self.src[line.clone()];
        let hash = line.start + (text.len() - text.trim_start().len());
        self.comments.push(Comment {
            span: hash..line.end,
            text: Cow::Borrowed(&self.src[hash + 1..line.end]),
        });
    }

    /// Where the continuation character ends `line`, if it does (`\` or `` ` `` followed only
    /// by blanks).
    fn continuation(&self, line: &Range<usize>) -> Option<usize> {
        let text = &self.src.as_bytes()[line.clone()];
        let kept = text.len() - text.iter().rev().take_while(|b| is_blank(**b)).count();
        (kept > 0 && text[kept - 1] == self.escape).then(|| line.start + kept - 1)
    }

    /// Read the heredoc bodies that follow an instruction.
    fn read_heredocs(&mut self, heredocs: &mut [Heredoc]) {
        for doc in heredocs {
            let start = self.pos;
            doc.body = start..self.src.len();
            while let Some(line) = self.line() {
                let mut text = &self.src[line.clone()];
                if doc.strip_tabs {
                    text = text.trim_start_matches('\t');
                }
                if text == doc.name {
                    doc.body = start..line.start;
                    doc.terminated = true;
                    break;
                }
            }
            if !doc.terminated {
                self.errors.push(SyntaxError {
                    offset: doc.marker.start,
                    message: format!(
                        "unterminated heredoc: no line `{}` closes it before the end of the file",
                        doc.name
                    ),
                });
            }
        }
    }
}

impl<'a> Iterator for Tokenizer<'a> {
    type Item = Instruction<'a>;

    fn next(&mut self) -> Option<Instruction<'a>> {
        loop {
            if let Some(instruction) = self.read_instruction()? {
                return Some(instruction);
            }
        }
    }
}

impl<'a> Tokenizer<'a> {
    /// Read the next instruction: `None` at end of file, `Some(None)` when the lines read
    /// joined to nothing (a lone continuation character).
    fn read_instruction(&mut self) -> Option<Option<Instruction<'a>>> {
        // The first line of the instruction: blank lines and comments before it are skipped.
        let first = loop {
            let line = self.line()?;
            let text = &self.src[line.clone()];
            let lead = text.len() - text.trim_start().len();
            let rest = &text[lead..];
            if rest.is_empty() {
                continue;
            }
            if rest.starts_with('#') {
                self.comment(line);
                continue;
            }
            break line.start + lead..line.end;
        };
        let mut joined = Joined::default();
        let mut last_end = first.end;
        let mut open = match self.continuation(&first) {
            Some(at) => {
                joined.push(self.src, first.start..at);
                true
            }
            None => {
                joined.push(self.src, first.clone());
                false
            }
        };
        while open {
            let Some(line) = self.line() else { break };
            let text = &self.src[line.clone()];
            let rest = text.trim_start();
            if rest.is_empty() {
                continue;
            }
            if rest.starts_with('#') {
                self.comment(line);
                continue;
            }
            last_end = line.end;
            match self.continuation(&line) {
                Some(at) => joined.push(self.src, line.start..at),
                None => {
                    joined.push(self.src, line);
                    open = false;
                }
            }
        }
        if joined.text.trim().is_empty() {
            return Some(None);
        }
        let mut instruction = joined.instruction(self.src, self.escape, last_end);
        let mut heredocs = std::mem::take(&mut instruction.heredocs);
        self.read_heredocs(&mut heredocs);
        instruction.heredocs = heredocs;
        Some(Some(instruction))
    }
}

/// `# name = value` at the start of `line` (after blanks): the spans of name and value.
fn directive(src: &str, line: Range<usize>) -> Option<(Range<usize>, Range<usize>)> {
    let text = &src[line.clone()];
    let lead = text.len() - text.trim_start().len();
    let b = text.as_bytes();
    let mut i = lead;
    if b.get(i) != Some(&b'#') {
        return None;
    }
    i += 1;
    while b.get(i).is_some_and(|c| is_blank(*c)) {
        i += 1;
    }
    let name_start = i;
    if !b.get(i).is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    while b.get(i).is_some_and(u8::is_ascii_alphanumeric) {
        i += 1;
    }
    let name_end = i;
    while b.get(i).is_some_and(|c| is_blank(*c)) {
        i += 1;
    }
    if b.get(i) != Some(&b'=') {
        return None;
    }
    i += 1;
    while b.get(i).is_some_and(|c| is_blank(*c)) {
        i += 1;
    }
    let value_end = b.len() - b[i..].iter().rev().take_while(|c| is_blank(**c)).count();
    if value_end <= i {
        return None;
    }
    Some((
        line.start + name_start..line.start + name_end,
        line.start + i..line.start + value_end,
    ))
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// The text of an instruction with its continuation lines joined, and where each piece came
/// from.
#[derive(Debug, Default)]
struct Joined {
    text: String,
    /// `(offset in text, offset in source)` of each piece, in order.
    pieces: Vec<(usize, usize)>,
}

impl Joined {
    fn push(&mut self, src: &str, range: Range<usize>) {
        self.pieces.push((self.text.len(), range.start));
        self.text.push_str(&src[range]);
    }

    /// The source offset of byte `i` of the joined text.
    fn source(&self, i: usize) -> usize {
        let piece = self
            .pieces
            .partition_point(|&(at, _)| at <= i)
            .saturating_sub(1);
        let (at, source) = self.pieces.get(piece).copied().unwrap_or((0, 0));
        source + (i - at)
    }

    /// The source span of the joined bytes `range`.
    fn span(&self, range: Range<usize>) -> Range<usize> {
        let start = self.source(range.start);
        if range.end <= range.start {
            return start..start;
        }
        start..self.source(range.end - 1) + 1
    }

    /// Turn a word of the joined text into a [`Word`] of the source.
    fn word<'a>(&self, src: &'a str, raw: Range<usize>, lexed: Lexed) -> Word<'a> {
        let span = self.span(raw.clone());
        match lexed {
            Lexed::Verbatim if span.len() == raw.len() => Word {
                text: Cow::Borrowed(&src[span.clone()]),
                span,
                offsets: None,
            },
            Lexed::Verbatim => Word {
                text: Cow::Owned(self.text[raw.clone()].to_string()),
                span,
                offsets: Some(raw.map(|i| self.source(i)).collect()),
            },
            Lexed::Changed(text, at) => Word {
                text: Cow::Owned(text),
                span,
                offsets: Some(at.into_iter().map(|i| self.source(i)).collect()),
            },
        }
    }

    /// The instruction this joined text is; `last_end` is the end of its last line.
    fn instruction<'a>(&self, src: &'a str, escape: u8, last_end: usize) -> Instruction<'a> {
        let text = self.text.as_str();
        let end = text.len();
        let key_start = end - text.trim_start().len();
        let key_end = text[key_start..]
            .find(|c: char| c.is_ascii_whitespace())
            .map_or(end, |n| key_start + n);
        let keyword = self.word(src, key_start..key_end, Lexed::Verbatim);
        let span = keyword.span.start..last_end;
        let upper = keyword.text.to_ascii_uppercase();
        let words = lex(text, key_end, escape);
        let mut flags = Vec::new();
        let mut rest = words.len();
        for (i, (raw, lexed)) in words.iter().enumerate() {
            let written = &text[raw.clone()];
            if written == "--" {
                rest = i + 1;
                break;
            }
            if !written.starts_with("--") {
                rest = i;
                break;
            }
            flags.push(self.word(src, raw.clone(), lexed.clone()));
        }
        let args_start = words.get(rest).map_or(end, |(raw, _)| raw.start);
        let json_args = JSON_FORM
            .contains(&upper.as_str())
            .then(|| json_strings(text, args_start))
            .flatten();
        let json = json_args.is_some();
        let args: Vec<Word<'a>> = match json_args {
            Some(strings) => strings
                .into_iter()
                .map(|(raw, lexed)| self.word(src, raw, lexed))
                .collect(),
            None => words[rest.min(words.len())..]
                .iter()
                .map(|(raw, lexed)| self.word(src, raw.clone(), lexed.clone()))
                .collect(),
        };
        let heredoc_capable = !json
            && (HEREDOC.contains(&upper.as_str())
                || (upper == "ONBUILD"
                    && args
                        .first()
                        .is_some_and(|a| HEREDOC.iter().any(|h| a.text.eq_ignore_ascii_case(h)))));
        let heredocs = if heredoc_capable {
            words
                .iter()
                .filter_map(|(raw, _)| {
                    let (name, strip_tabs) = heredoc_marker(&text[raw.clone()])?;
                    Some(Heredoc {
                        name,
                        strip_tabs,
                        marker: self.span(raw.clone()),
                        body: 0..0,
                        terminated: false,
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        Instruction {
            keyword,
            flags,
            args,
            json,
            heredocs,
            span,
        }
    }
}

/// A word's text as the lexer left it.
#[derive(Debug, Clone)]
enum Lexed {
    /// The text is the raw word.
    Verbatim,
    /// The text, and the offset (in the lexed string) of each of its bytes.
    Changed(String, Vec<usize>),
}

/// Split `text[from..]` into words at unquoted blanks. In a word, `'…'` is literal, `"…"`
/// keeps its content (the escape character escapes `"`, `$` and itself there), and elsewhere
/// the escape character makes the next character literal.
fn lex(text: &str, from: usize, escape: u8) -> Vec<(Range<usize>, Lexed)> {
    let b = text.as_bytes();
    let mut words = Vec::new();
    let mut i = from;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        // The lexed bytes and their offsets, built only once the word differs from its raw
        // text (most words, in shell scripts above all, are verbatim: nothing is allocated).
        let mut changed: Option<(Vec<u8>, Vec<usize>)> = None;
        let mut quote: Option<u8> = None;
        while i < b.len() {
            let c = b[i];
            match quote {
                None if c.is_ascii_whitespace() => break,
                None if c == b'\'' || c == b'"' => {
                    quote = Some(c);
                    change(&mut changed, b, start, i);
                    i += 1;
                    continue;
                }
                None if c == escape => {
                    change(&mut changed, b, start, i);
                    i += 1;
                    if i < b.len() {
                        keep(&mut changed, b, i);
                        i += 1;
                    }
                    continue;
                }
                Some(q) if c == q => {
                    quote = None;
                    i += 1;
                    continue;
                }
                Some(b'"')
                    if c == escape
                        && matches!(b.get(i + 1), Some(&n) if n == b'"' || n == b'$' || n == escape) =>
                {
                    change(&mut changed, b, start, i);
                    keep(&mut changed, b, i + 1);
                    i += 2;
                    continue;
                }
                _ => {}
            }
            keep(&mut changed, b, i);
            i += 1;
        }
        let lexed = match changed {
            // Only ASCII bytes were dropped, so the rest is still UTF-8.
            Some((out, at)) => match String::from_utf8(out) {
                Ok(s) => Lexed::Changed(s, at),
                Err(_) => Lexed::Verbatim,
            },
            None => Lexed::Verbatim,
        };
        words.push((start..i, lexed));
    }
    words
}

/// The word starting at `start` stops being verbatim at `i`: its bytes so far are kept as
/// they are.
fn change(changed: &mut Option<(Vec<u8>, Vec<usize>)>, b: &[u8], start: usize, i: usize) {
    if changed.is_none() {
        *changed = Some((b[start..i].to_vec(), (start..i).collect()));
    }
}

/// Byte `i` is part of the lexed word (recorded only once the word has changed).
fn keep(changed: &mut Option<(Vec<u8>, Vec<usize>)>, b: &[u8], i: usize) {
    if let Some((out, at)) = changed {
        out.push(b[i]);
        at.push(i);
    }
}

/// `<<NAME`, `<<-NAME`, `<<"NAME"`, `<<'NAME'` (BuildKit's `^<<(-?)\s*([^<]*)$`, the name
/// unquoted and a single word): the name and whether leading tabs are stripped.
fn heredoc_marker(word: &str) -> Option<(String, bool)> {
    let rest = word.strip_prefix("<<")?;
    let (strip_tabs, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let rest = rest.trim_start();
    if rest.contains('<') {
        return None;
    }
    let words = lex(rest, 0, b'\\');
    let [(raw, lexed)] = words.as_slice() else {
        return None;
    };
    let name = match lexed {
        Lexed::Verbatim => rest[raw.clone()].to_string(),
        Lexed::Changed(s, _) => s.clone(),
    };
    (!name.is_empty()).then_some((name, strip_tabs))
}

/// `text[from..]` as a JSON array of strings (and nothing after it but blanks): each string's
/// content span in `text` and its decoded text.
fn json_strings(text: &str, from: usize) -> Option<Vec<(Range<usize>, Lexed)>> {
    let b = text.as_bytes();
    let skip = |mut i: usize| {
        while b.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        i
    };
    let mut i = skip(from);
    if b.get(i) != Some(&b'[') {
        return None;
    }
    i = skip(i + 1);
    let mut out = Vec::new();
    if b.get(i) == Some(&b']') {
        return (skip(i + 1) == b.len()).then_some(out);
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let start = i + 1;
        let (end, lexed) = json_string(text, start)?;
        out.push((start..end, lexed));
        i = skip(end + 1);
        match b.get(i) {
            Some(b',') => i = skip(i + 1),
            Some(b']') => return (skip(i + 1) == b.len()).then_some(out),
            _ => return None,
        }
    }
}

/// A JSON string's content from `start` (after the opening quote): the offset of the closing
/// quote and the decoded text.
fn json_string(text: &str, start: usize) -> Option<(usize, Lexed)> {
    let b = text.as_bytes();
    let mut out = String::new();
    let mut at = Vec::new();
    let mut changed = false;
    let mut i = start;
    loop {
        let c = *b.get(i)?;
        match c {
            b'"' => {
                let lexed = if changed {
                    Lexed::Changed(out, at)
                } else {
                    Lexed::Verbatim
                };
                return Some((i, lexed));
            }
            b'\\' => {
                changed = true;
                let decoded = match *b.get(i + 1)? {
                    b'"' => '"',
                    b'\\' => '\\',
                    b'/' => '/',
                    b'b' => '\u{8}',
                    b'f' => '\u{c}',
                    b'n' => '\n',
                    b'r' => '\r',
                    b't' => '\t',
                    b'u' => {
                        let hex = text.get(i + 2..i + 6)?;
                        let code = u32::from_str_radix(hex, 16).ok()?;
                        let decoded = char::from_u32(code).unwrap_or('\u{fffd}');
                        at.extend(std::iter::repeat_n(i, decoded.len_utf8()));
                        out.push(decoded);
                        i += 6;
                        continue;
                    }
                    _ => return None,
                };
                out.push(decoded);
                at.push(i);
                i += 2;
            }
            c if c < 0x20 => return None,
            _ => {
                let ch = text[i..].chars().next()?;
                out.push(ch);
                at.extend(i..i + ch.len_utf8());
                i += ch.len_utf8();
            }
        }
    }
}

#[cfg(test)]
mod tests;
