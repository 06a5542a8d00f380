//! A direct reader for the block-style YAML that CI and container files are written in.
//!
//! Nearly every pipeline, Compose and Kubernetes file uses a small part of YAML: block mappings
//! and sequences, plain and one-line quoted scalars, literal and folded block scalars, one-line
//! flow collections of scalars, anchors, aliases, local tags (`!reference`) and comments. This
//! reader builds the tree of that part straight from the bytes, with the full parser's spans,
//! values and anchor ids, instead of going through a token and event stream. At anything
//! outside it (tabs, multi-line quoted or flow nodes, nested flow collections, directives, `!!`
//! tags, any syntax error, …) it gives up and returns `None`, and the full parser reads the
//! file: it never has to be right about what it does not take.
//!
//! The spans copy the full parser's conventions, which the tests below hold it to node for node
//! on the corpora and on thousands of mutations of them:
//! - a collection runs from its first token to the next token after it that is not a comment
//!   (or the end of the text); an indentless sequence starts at its first `-`;
//! - an empty mapping value is `~` at its `:`; an empty sequence item is `~` at the end of its
//!   `-` line (after any comment);
//! - a block scalar runs from its first content character to the first token of the line that
//!   ends it, comments included (or the end of the text);
//! - anchor ids count up through the stream from 1, in the order the anchors are written; an
//!   alias names an anchor of its own document, known from where the anchor is written; a node
//!   with properties but no content is `~` where the properties end.

use std::borrow::Cow;
use std::collections::HashMap;

use super::{Comment, Node, Style, Value, Yaml};

/// Deeper nesting is left to the full parser (which bounds it).
const MAX_DEPTH: usize = 64;
/// Longer keys are left to the full parser (which limits implicit keys).
const MAX_KEY: usize = 512;

/// The tree of `text` if it is written in the subset this reader takes; `comments` as in
/// `parse_with`.
pub(super) fn parse(text: &str, comments: bool) -> Option<Yaml<'_>> {
    if !plain_bytes(text.as_bytes()) {
        return None;
    }
    let mut reader = Reader {
        text,
        b: text.as_bytes(),
        pos: 0,
        line: 0,
        keep: comments,
        comments: Vec::new(),
        documents: Vec::new(),
        items: Vec::new(),
        pairs: Vec::new(),
        depth: 0,
        anchors: HashMap::new(),
        anchor_ids: 0,
    };
    reader.stream()?;
    Some(Yaml {
        documents: reader.documents,
        comments: reader.comments,
    })
}

/// Whether `b` holds only characters whose handling this reader copies: no tab, carriage
/// return or other control character, no byte order mark, no Unicode line separator.
fn plain_bytes(b: &[u8]) -> bool {
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\n' | 0x20..=0x7e => {}
            0..=0x1f | 0x7f => return false,
            // C1 controls, NEL among them.
            0xc2 if matches!(b.get(i + 1), Some(0x80..=0x9f)) => return false,
            // Line and paragraph separators.
            0xe2 if b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0xa8 | 0xa9)) => {
                return false
            }
            // Byte order mark, U+FFFE, U+FFFF.
            0xef if matches!(
                (b.get(i + 1), b.get(i + 2)),
                (Some(0xbb), Some(0xbf)) | (Some(0xbf), Some(0xbe | 0xbf))
            ) =>
            {
                return false
            }
            _ => {}
        }
        i += 1;
    }
    true
}

fn scalar(span: std::ops::Range<usize>, value: Cow<'_, str>, style: Style) -> Node<'_> {
    Node {
        span,
        value: Value::Scalar(value, style),
        tag: None,
        anchor: 0,
    }
}

/// The empty node the full parser reports for a missing value.
fn null<'a>(at: usize) -> Node<'a> {
    scalar(at..at, Cow::Borrowed("~"), Style::Plain)
}

/// Chomping of a block scalar's final line breaks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Chomp {
    Clip,
    Strip,
    Keep,
}

struct Reader<'a> {
    text: &'a str,
    b: &'a [u8],
    /// The next byte to read.
    pos: usize,
    /// Start of the line holding `pos`.
    line: usize,
    /// Whether comments are collected.
    keep: bool,
    comments: Vec<Comment<'a>>,
    documents: Vec<Node<'a>>,
    /// Items of every open sequence, innermost last.
    items: Vec<Node<'a>>,
    /// Pairs of every open mapping, innermost last.
    pairs: Vec<(Node<'a>, Node<'a>)>,
    depth: usize,
    /// The anchors of the current document: each name's latest id (a look-up per alias, so
    /// that many anchors and aliases cost time in proportion to their number).
    anchors: HashMap<&'a str, usize>,
    /// The last anchor id given (ids count up through the stream, as in the full parser).
    anchor_ids: usize,
}

impl<'a> Reader<'a> {
    /// The byte at `i`, or 0 past the end (the text holds no 0 byte).
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    /// A space, a line break or the end of the text.
    fn blank(&self, i: usize) -> bool {
        matches!(self.at(i), b' ' | b'\n' | 0)
    }

    fn eof(&self) -> bool {
        self.pos >= self.b.len()
    }

    fn col(&self) -> usize {
        self.pos - self.line
    }

    /// Where the current token's collection ends: here, or the end of the text.
    fn end(&self) -> usize {
        self.pos.min(self.b.len())
    }

    /// A `-` entry indicator at `pos`.
    fn dash(&self) -> bool {
        self.at(self.pos) == b'-' && self.blank(self.pos + 1)
    }

    /// A `---` or `...` document marker at `pos`, at the start of its line.
    fn marker(&self) -> bool {
        self.col() == 0
            && (self.b[self.pos..].starts_with(b"---") || self.b[self.pos..].starts_with(b"..."))
            && self.blank(self.pos + 3)
    }

    fn spaces(&mut self) {
        while self.at(self.pos) == b' ' {
            self.pos += 1;
        }
    }

    /// End of the line holding `from`: its line break, or the end of the text.
    fn eol(&self, from: usize) -> usize {
        self.b[from..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(self.b.len(), |i| from + i)
    }

    /// The comment at `pos` (a `#` after a space or at the start of a line), to its line's end.
    fn comment(&mut self) {
        let end = self.eol(self.pos);
        if self.keep {
            self.comments.push(Comment {
                span: self.pos..end,
                text: Cow::Borrowed(&self.text[self.pos + 1..end]),
            });
        }
        self.pos = end;
    }

    /// Skip spaces, line breaks and comments to the next token (or the end of the text).
    fn skip(&mut self) -> Option<()> {
        loop {
            match self.at(self.pos) {
                b' ' => self.pos += 1,
                b'\n' => {
                    self.pos += 1;
                    self.line = self.pos;
                }
                b'#' => {
                    if self.pos > self.line && self.b[self.pos - 1] != b' ' {
                        return None;
                    }
                    self.comment();
                }
                _ => return Some(()),
            }
        }
    }

    /// After a one-line node: nothing but spaces and a comment before the line break.
    fn line_end(&mut self) -> Option<()> {
        self.spaces();
        match self.at(self.pos) {
            0 | b'\n' | b'#' => self.skip(),
            _ => None,
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// The node of a collection [`Reader::enter`]ed before, now read.
    fn close(&mut self, span: std::ops::Range<usize>, value: Value<'a>) -> Node<'a> {
        self.depth -= 1;
        Node {
            span,
            value,
            tag: None,
            anchor: 0,
        }
    }

    fn stream(&mut self) -> Option<()> {
        self.skip()?;
        while !self.eof() {
            if self.marker() {
                if !self.b[self.pos..].starts_with(b"---") {
                    return None;
                }
                self.pos += 3;
                self.line_end()?;
            } else if !self.documents.is_empty() {
                return None;
            }
            if self.eof() || self.marker() {
                return None;
            }
            // An alias names an anchor of its own document only.
            self.anchors.clear();
            let root = self.root()?;
            self.documents.push(root);
            if !self.eof() && !self.marker() {
                return None;
            }
        }
        (!self.documents.is_empty()).then_some(())
    }

    /// A document's root: a block mapping or sequence.
    fn root(&mut self) -> Option<Node<'a>> {
        let col = self.col();
        if self.dash() {
            return self.sequence(col, false);
        }
        let key = self.key()?;
        self.mapping(col, key)
    }

    /// A node whose first token is at `pos`, on a line of its own or after a `-`, in a
    /// collection indented `parent`.
    fn block_node(&mut self, parent: usize) -> Option<Node<'a>> {
        let col = self.col();
        match self.at(self.pos) {
            b'-' if self.blank(self.pos + 1) => self.sequence(col, false),
            b'"' | b'\'' => {
                let node = self.quoted()?;
                if self.colon_follows(&node) {
                    return self.mapping(col, node);
                }
                self.line_end()?;
                Some(node)
            }
            _ => match self.plain_key()? {
                Some(key) => self.mapping(col, key),
                None => self.inline(parent, false),
            },
        }
    }

    /// A mapping key at `pos`, with `pos` left after its `:`.
    fn key(&mut self) -> Option<Node<'a>> {
        match self.at(self.pos) {
            b'"' | b'\'' => {
                let key = self.quoted()?;
                self.colon_follows(&key).then_some(key)
            }
            _ => self.plain_key()?,
        }
    }

    /// After a quoted scalar: spaces and a `:` indicator, which are then consumed.
    fn colon_follows(&mut self, key: &Node<'a>) -> bool {
        let mut i = self.pos;
        while self.at(i) == b' ' {
            i += 1;
        }
        if self.at(i) == b':' && self.blank(i + 1) && key.span.len() <= MAX_KEY {
            self.pos = i + 1;
            true
        } else {
            false
        }
    }

    /// A plain key at `pos` (`Some(Some(key))`, `pos` left after its `:`), or no key on this
    /// line (`Some(None)`, `pos` unchanged); `None` gives up.
    fn plain_key(&mut self) -> Option<Option<Node<'a>>> {
        let start = self.pos;
        if !plain_start(self.b, start) {
            return Some(None);
        }
        let mut i = start;
        let mut end = start;
        loop {
            match self.at(i) {
                0 | b'\n' => return Some(None),
                b' ' => i += 1,
                b'#' if self.b[i - 1] == b' ' => return Some(None),
                b':' if self.blank(i + 1) => break,
                _ => {
                    i += 1;
                    end = i;
                }
            }
        }
        if end - start > MAX_KEY {
            return None;
        }
        self.pos = i + 1;
        Some(Some(scalar(
            start..end,
            Cow::Borrowed(&self.text[start..end]),
            Style::Plain,
        )))
    }

    /// A block mapping whose first key (read, `pos` after its `:`) is at column `n`.
    fn mapping(&mut self, n: usize, first: Node<'a>) -> Option<Node<'a>> {
        self.enter()?;
        let start = first.span.start;
        let base = self.pairs.len();
        let mut key = first;
        loop {
            let value = self.value(n, self.pos - 1)?;
            self.pairs.push((key, value));
            if self.eof() || self.col() < n || self.marker() {
                break;
            }
            if self.col() > n {
                return None;
            }
            key = self.key()?;
        }
        let pairs = self.pairs.drain(base..).collect();
        Some(self.close(start..self.end(), Value::Mapping(pairs)))
    }

    /// The value after the `:` at `colon` of a key in a mapping at column `n`; `pos` is left
    /// at the next token.
    fn value(&mut self, n: usize, colon: usize) -> Option<Node<'a>> {
        self.spaces();
        if !matches!(self.at(self.pos), 0 | b'\n' | b'#') {
            return self.inline(n, true);
        }
        self.skip()?;
        if self.eof() || self.col() < n || self.marker() {
            return Some(null(colon));
        }
        if self.col() == n {
            return if self.dash() {
                self.sequence(n, true)
            } else {
                Some(null(colon))
            };
        }
        self.block_node(n)
    }

    /// A block sequence whose first `-` is at `pos`, column `n`; an indentless one (a
    /// mapping's value at the mapping's column) starts where its first item would on the
    /// first `-` line (after the spaces and any comment), as in the full parser.
    fn sequence(&mut self, n: usize, indentless: bool) -> Option<Node<'a>> {
        self.enter()?;
        let mut start = self.pos;
        let base = self.items.len();
        loop {
            self.pos += 1;
            self.spaces();
            let item = if matches!(self.at(self.pos), 0 | b'\n' | b'#') {
                if self.at(self.pos) == b'#' {
                    self.comment();
                }
                let eol = self.pos;
                if indentless && self.items.len() == base {
                    start = eol;
                }
                self.skip()?;
                if self.eof() || self.col() <= n || self.marker() {
                    null(eol)
                } else {
                    self.block_node(n)?
                }
            } else {
                if indentless && self.items.len() == base {
                    start = self.pos;
                }
                self.block_node(n)?
            };
            self.items.push(item);
            if self.eof() || self.col() < n || self.marker() {
                break;
            }
            if self.col() > n {
                return None;
            }
            if !self.dash() {
                break;
            }
        }
        let items = self.items.drain(base..).collect();
        Some(self.close(start..self.end(), Value::Sequence(items)))
    }

    /// A scalar, flow collection or alias starting at `pos` on the line of its key or `-`, or
    /// the properties of a node, in a collection indented `parent` (`indentless`: a mapping's
    /// value, which can be a sequence at the mapping's own column); `pos` is left at the next
    /// token.
    fn inline(&mut self, parent: usize, indentless: bool) -> Option<Node<'a>> {
        match self.at(self.pos) {
            b'&' | b'!' => self.with_properties(parent, indentless),
            b'*' => {
                let node = self.alias()?;
                self.line_end()?;
                Some(node)
            }
            b'"' | b'\'' => {
                let node = self.quoted()?;
                self.line_end()?;
                Some(node)
            }
            b'[' | b'{' => {
                let node = self.flow()?;
                self.line_end()?;
                Some(node)
            }
            b'|' | b'>' => self.block_scalar(parent),
            _ if plain_start(self.b, self.pos) => self.plain(parent),
            _ => None,
        }
    }

    /// A node with an anchor (`&name`), a local tag (`!name`) or both, at `pos`: its content
    /// follows on the same line, or on the next lines, or is empty (`~` where the properties
    /// end). An anchor is known from where it is written, so the node may name itself.
    fn with_properties(&mut self, parent: usize, indentless: bool) -> Option<Node<'a>> {
        let mut anchor = 0;
        let mut tag: Option<Box<str>> = None;
        let mut after = self.pos;
        loop {
            match self.at(self.pos) {
                b'&' if anchor == 0 => {
                    let end = self.name_end(self.pos + 1)?;
                    self.anchor_ids += 1;
                    anchor = self.anchor_ids;
                    self.anchors.insert(&self.text[self.pos + 1..end], anchor);
                    self.pos = end;
                }
                b'!' if tag.is_none() => {
                    let end = self.name_end(self.pos + 1)?;
                    if self.b[self.pos + 1..end].contains(&b'.') {
                        return None;
                    }
                    tag = Some(self.text[self.pos..end].into());
                    self.pos = end;
                }
                _ => break,
            }
            after = self.pos;
            self.spaces();
        }
        let mut node = if matches!(self.at(self.pos), 0 | b'\n' | b'#') {
            self.skip()?;
            if self.eof() || self.col() > parent && !self.marker() {
                if self.eof() {
                    null(after)
                } else {
                    self.block_node(parent)?
                }
            } else if indentless && self.col() == parent && self.dash() {
                self.sequence(parent, true)?
            } else {
                null(after)
            }
        } else {
            self.inline(parent, false)?
        };
        // An empty node with a tag is an empty string; two sets of properties, or properties
        // on an alias, are errors: all left to the full parser.
        let empty = node.span.is_empty() && node.as_str() == Some("~");
        if node.anchor != 0 || node.tag.is_some() || matches!(node.value, Value::Alias) {
            return None;
        }
        if empty && tag.is_some() {
            return None;
        }
        node.anchor = anchor;
        node.tag = tag;
        Some(node)
    }

    /// An alias (`*name`) at `pos` naming an anchor of this document; `pos` is left after it.
    fn alias(&mut self) -> Option<Node<'a>> {
        let start = self.pos;
        let end = self.name_end(start + 1)?;
        let name = &self.text[start + 1..end];
        let anchor = *self.anchors.get(name)?;
        self.pos = end;
        Some(Node {
            span: start..end,
            value: Value::Alias,
            tag: None,
            anchor,
        })
    }

    /// The end of an anchor, alias or tag name from `from`: letters, digits, `_`, `-` and `.`,
    /// then a space, a line break or the end of the text.
    fn name_end(&self, from: usize) -> Option<usize> {
        let mut i = from;
        while self.at(i).is_ascii_alphanumeric() || matches!(self.at(i), b'_' | b'-' | b'.') {
            i += 1;
        }
        (i > from && self.blank(i)).then_some(i)
    }

    /// A one-line quoted scalar at `pos`; `pos` is left after its closing quote.
    fn quoted(&mut self) -> Option<Node<'a>> {
        let start = self.pos;
        let quote = self.b[start];
        let mut owned: Option<String> = None;
        let mut from = start + 1;
        let mut i = from;
        loop {
            match self.at(i) {
                0 | b'\n' => return None,
                c if c == quote => {
                    if quote == b'\'' && self.at(i + 1) == b'\'' {
                        let s = owned.get_or_insert_with(String::new);
                        s.push_str(&self.text[from..=i]);
                        i += 2;
                        from = i;
                        continue;
                    }
                    break;
                }
                b'\\' if quote == b'"' => {
                    let s = owned.get_or_insert_with(String::new);
                    s.push_str(&self.text[from..i]);
                    let (c, len) = escape(&self.b[i + 1..])?;
                    s.push(c);
                    i += 1 + len;
                    from = i;
                }
                _ => i += 1,
            }
        }
        let value = match owned {
            Some(mut s) => {
                s.push_str(&self.text[from..i]);
                Cow::Owned(s)
            }
            None => Cow::Borrowed(&self.text[start + 1..i]),
        };
        self.pos = i + 1;
        let style = if quote == b'"' {
            Style::DoubleQuoted
        } else {
            Style::SingleQuoted
        };
        Some(scalar(start..i + 1, value, style))
    }

    /// One line of a plain scalar from `from`: the end of its text and where it stops (line
    /// break, end of text, or a comment's `#`); `None` at a `: ` (a key where none can be).
    fn plain_line(&self, from: usize) -> Option<(usize, usize)> {
        let mut i = from;
        let mut end = from;
        loop {
            match self.at(i) {
                0 | b'\n' => return Some((end, i)),
                b' ' => i += 1,
                b'#' if self.b[i - 1] == b' ' => return Some((end, i)),
                b':' if self.blank(i + 1) => return None,
                _ => {
                    i += 1;
                    end = i;
                }
            }
        }
    }

    /// A plain scalar at `pos`, continued on the following lines indented more than `parent`;
    /// `pos` is left at the next token.
    fn plain(&mut self, parent: usize) -> Option<Node<'a>> {
        let start = self.pos;
        let (mut end, mut stop) = self.plain_line(start)?;
        let mut owned: Option<String> = None;
        while self.at(stop) == b'\n' {
            // The next line that is not empty, and how many empty ones come before it.
            let mut breaks = 0;
            let mut line = stop + 1;
            let mut first = line;
            while self.at(first) == b' ' {
                first += 1;
            }
            while self.at(first) == b'\n' {
                breaks += 1;
                line = first + 1;
                first = line;
                while self.at(first) == b' ' {
                    first += 1;
                }
            }
            if first >= self.b.len() || first - line <= parent || self.b[first] == b'#' {
                break;
            }
            let (next_end, next_stop) = self.plain_line(first)?;
            let s = owned.get_or_insert_with(|| self.text[start..end].to_string());
            if breaks == 0 {
                s.push(' ');
            } else {
                (0..breaks).for_each(|_| s.push('\n'));
            }
            s.push_str(&self.text[first..next_end]);
            end = next_end;
            stop = next_stop;
            self.line = line;
        }
        self.pos = stop;
        self.skip()?;
        let value = match owned {
            Some(s) => Cow::Owned(s),
            None => Cow::Borrowed(&self.text[start..end]),
        };
        Some(scalar(start..end, value, Style::Plain))
    }

    /// A one-line flow sequence or mapping of scalars at `pos`; `pos` is left after it.
    fn flow(&mut self) -> Option<Node<'a>> {
        self.enter()?;
        let start = self.pos;
        let mapping = self.b[start] == b'{';
        let close = if mapping { b'}' } else { b']' };
        let (items, pairs) = (self.items.len(), self.pairs.len());
        self.pos += 1;
        self.spaces();
        if self.at(self.pos) != close {
            loop {
                let first = self.flow_scalar()?;
                self.spaces();
                if mapping {
                    if self.at(self.pos) != b':' || self.at(self.pos + 1) != b' ' {
                        return None;
                    }
                    self.pos += 1;
                    self.spaces();
                    let value = self.flow_scalar()?;
                    self.pairs.push((first, value));
                    self.spaces();
                } else {
                    self.items.push(first);
                }
                match self.at(self.pos) {
                    b',' => {
                        self.pos += 1;
                        self.spaces();
                        if self.at(self.pos) == close {
                            return None;
                        }
                    }
                    c if c == close => break,
                    _ => return None,
                }
            }
        }
        self.pos += 1;
        let value = if mapping {
            Value::Mapping(self.pairs.drain(pairs..).collect())
        } else {
            Value::Sequence(self.items.drain(items..).collect())
        };
        Some(self.close(start..self.pos, value))
    }

    /// A scalar inside a one-line flow collection.
    fn flow_scalar(&mut self) -> Option<Node<'a>> {
        if matches!(self.at(self.pos), b'"' | b'\'') {
            return self.quoted();
        }
        let start = self.pos;
        if !plain_start(self.b, start) {
            return None;
        }
        let mut i = start;
        let mut end = start;
        loop {
            match self.at(i) {
                0 | b'\n' | b'[' | b'{' => return None,
                b',' | b']' | b'}' => break,
                b'#' if self.b[i - 1] == b' ' => return None,
                b':' if matches!(self.at(i + 1), b' ' | b',' | b']' | b'}' | b'\n' | 0) => break,
                b' ' => i += 1,
                _ => {
                    i += 1;
                    end = i;
                }
            }
        }
        self.pos = i;
        Some(scalar(
            start..end,
            Cow::Borrowed(&self.text[start..end]),
            Style::Plain,
        ))
    }

    /// A literal (`|`) or folded (`>`) block scalar whose indicator is at `pos`, its content
    /// indented more than `parent`; `pos` is left at the next token.
    fn block_scalar(&mut self, parent: usize) -> Option<Node<'a>> {
        let literal = self.b[self.pos] == b'|';
        self.pos += 1;
        let chomp = match self.at(self.pos) {
            b'-' => Chomp::Strip,
            b'+' => Chomp::Keep,
            _ => Chomp::Clip,
        };
        if chomp != Chomp::Clip {
            self.pos += 1;
        }
        if !matches!(self.at(self.pos), b' ' | b'\n') {
            return None;
        }
        self.spaces();
        if self.at(self.pos) == b'#' {
            self.comment();
        }
        if self.at(self.pos) != b'\n' {
            return None;
        }
        // The first content line sets the indentation; leading empty lines are left to the
        // full parser.
        let mut line = self.pos + 1;
        let mut first = line;
        while self.at(first) == b' ' {
            first += 1;
        }
        let indent = first - line;
        if matches!(self.at(first), b'\n' | 0) || indent <= parent {
            return None;
        }
        let start = first;
        let mut value = String::new();
        let mut breaks = 0usize;
        let mut had_content = false;
        let mut last_more = false;
        // Where the line that ends the scalar has its first token.
        let stop = loop {
            let mut first = line;
            while self.at(first) == b' ' {
                first += 1;
            }
            let width = first - line;
            if first >= self.b.len() {
                if width > 0 {
                    return None;
                }
                break self.b.len();
            }
            if self.b[first] == b'\n' {
                if width > indent {
                    return None;
                }
                breaks += 1;
                line = first + 1;
                continue;
            }
            if width < indent {
                break first;
            }
            // Folding joins two lines that both start at the indentation; a more indented
            // line keeps the line breaks around it.
            let more = width > indent;
            if had_content {
                if literal || more || last_more {
                    (0..=breaks).for_each(|_| value.push('\n'));
                } else if breaks == 0 {
                    value.push(' ');
                } else {
                    (0..breaks).for_each(|_| value.push('\n'));
                }
            }
            breaks = 0;
            had_content = true;
            last_more = more;
            let end = self.eol(first);
            value.push_str(&self.text[line + indent..end]);
            if end >= self.b.len() {
                break self.b.len();
            }
            line = end + 1;
        };
        match chomp {
            Chomp::Strip => {}
            Chomp::Clip => value.push('\n'),
            Chomp::Keep => {
                if stop >= self.b.len() && breaks > 0 {
                    return None;
                }
                (0..=breaks).for_each(|_| value.push('\n'));
            }
        }
        self.pos = stop;
        self.line = line.min(stop);
        self.skip()?;
        Some(scalar(start..stop, Cow::Owned(value), Style::Block))
    }
}

/// Whether a plain scalar can start at `i`: not at an indicator, and `-`, `?` and `:` only
/// before a character that is not a space.
fn plain_start(b: &[u8], i: usize) -> bool {
    match b.get(i) {
        None => false,
        Some(b'-' | b'?' | b':') => !matches!(b.get(i + 1), None | Some(b' ' | b'\n')),
        Some(c) => !matches!(
            c,
            b',' | b'['
                | b']'
                | b'{'
                | b'}'
                | b'#'
                | b'&'
                | b'*'
                | b'!'
                | b'|'
                | b'>'
                | b'\''
                | b'"'
                | b'%'
                | b'@'
                | b'`'
                | b'\n'
                | b' '
        ),
    }
}

/// The character of a double-quoted escape after its `\`, and how many bytes it takes.
fn escape(b: &[u8]) -> Option<(char, usize)> {
    let hex = |len: usize| {
        let digits = std::str::from_utf8(b.get(1..=len)?).ok()?;
        if !digits.bytes().all(|d| d.is_ascii_hexdigit()) {
            return None;
        }
        let code = u32::from_str_radix(digits, 16).ok()?;
        Some((char::from_u32(code)?, len + 1))
    };
    match b.first()? {
        b'\\' => Some(('\\', 1)),
        b'"' => Some(('"', 1)),
        b'/' => Some(('/', 1)),
        b'n' => Some(('\n', 1)),
        b't' => Some(('\t', 1)),
        b'r' => Some(('\r', 1)),
        b'0' => Some(('\0', 1)),
        b'x' => hex(2),
        b'u' => hex(4),
        b'U' => hex(8),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
