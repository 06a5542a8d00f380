//! A YAML tree that keeps the exact byte span (start and end) of every key and scalar.
//!
//! Files in the block-style subset nearly every CI file is written in are read directly
//! (`fast`); every other file is built from `granit-parser` events, which give the same tree. Aliases are kept as references to their anchor and are
//! never expanded, so an alias bomb costs nothing. Comments are collected with their spans (for
//! suppressions). Nesting depth is bounded by the parser's limits, so walking the tree
//! recursively is safe.

use std::borrow::Cow;
use std::ops::Range;

use granit_parser::{Event, Options, Parser, ScalarStyle};

mod fast;

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Unquoted.
    Plain,
    /// `'…'`.
    SingleQuoted,
    /// `"…"`.
    DoubleQuoted,
    /// `|` or `>` block scalar.
    Block,
}

/// One YAML node with its byte span in the source.
#[derive(Debug, Clone)]
pub struct Node<'a> {
    /// Byte span: for a quoted scalar it includes the quotes.
    pub span: Range<usize>,
    /// What the node is.
    pub value: Value<'a>,
    /// Local tag as written (`!reference`), if any.
    pub tag: Option<Box<str>>,
    /// The anchor this node defines (`&name`), or for an alias the anchor it refers to; `0`
    /// for none. Ids are the parser's: unique within the stream.
    pub anchor: usize,
}

/// The content of a node.
#[derive(Debug, Clone)]
pub enum Value<'a> {
    /// A scalar, after escape processing.
    Scalar(Cow<'a, str>, Style),
    /// A mapping, in source order (duplicate keys are kept).
    Mapping(Vec<(Node<'a>, Node<'a>)>),
    /// A sequence.
    Sequence(Vec<Node<'a>>),
    /// An alias (`*name`); never expanded.
    Alias,
}

/// A comment: the text after `#`, and the span of the whole comment including `#`.
#[derive(Debug, Clone)]
pub struct Comment<'a> {
    /// Byte span of `#…` (without the line break).
    pub span: Range<usize>,
    /// Text after `#`.
    pub text: Cow<'a, str>,
}

/// A parsed YAML stream.
#[derive(Debug, Clone, Default)]
pub struct Yaml<'a> {
    /// One root node per document.
    pub documents: Vec<Node<'a>>,
    /// Every comment, in source order.
    pub comments: Vec<Comment<'a>>,
}

/// A syntax error at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SyntaxError {
    /// Byte offset of the error.
    pub offset: usize,
    /// What went wrong, without position (positions are rendered by the caller).
    pub message: String,
}

/// Parse `text`; on error, the comments seen so far are kept in the error's partial result.
pub fn parse(text: &str) -> Result<Yaml<'_>, (SyntaxError, Yaml<'_>)> {
    parse_with(text, true)
}

/// [`parse`] as the analysis needs it: comments are collected only when `text` holds
/// `pin-lint:`, the prefix of every suppression, since suppressions are all that reads them.
/// The parser still checks every comment's syntax, so the documents and any syntax error are
/// those of [`parse`]; only capturing the comments is skipped (most files have comments and
/// no suppression).
pub fn parse_for_analysis(text: &str) -> Result<Yaml<'_>, (SyntaxError, Yaml<'_>)> {
    parse_with(text, text.contains(crate::suppress::PREFIX))
}

/// The direct reader when `text` is in the subset it takes (nearly every CI file is), else the
/// full parser: both give the same tree.
fn parse_with(text: &str, comments: bool) -> Result<Yaml<'_>, (SyntaxError, Yaml<'_>)> {
    match fast::parse(text, comments) {
        Some(yaml) => Ok(yaml),
        None => parse_full(text, comments),
    }
}

/// Every YAML stream, through `granit-parser`'s events.
fn parse_full(text: &str, comments: bool) -> Result<Yaml<'_>, (SyntaxError, Yaml<'_>)> {
    let mut options = Options::default();
    options.emit_comments = comments;
    options.max_buffered_comment_events = 1 << 16;
    let mut out = Yaml::default();
    let mut stack: Vec<Frame<'_>> = Vec::new();
    // The children of every open collection, innermost last: each collection takes its own
    // when it closes, in one allocation of the exact size.
    let mut children: Vec<Node<'_>> = Vec::new();
    for next in Parser::new_from_str_with_options(text, options) {
        let (event, span) = match next {
            Ok(pair) => pair,
            Err(err) => {
                let offset = char_to_byte(text, err.marker().byte_offset(), err.marker().index());
                let message = err.info().to_string();
                // Keep what was read before the error: close the open collections so the
                // valid prefix can still be analyzed.
                while let Some(frame) = stack.pop() {
                    let node = frame.finish(offset, &mut children);
                    match stack.last() {
                        Some(_) => children.push(node),
                        None => out.documents.push(node),
                    }
                }
                return Err((SyntaxError { offset, message }, out));
            }
        };
        let range = span.byte_range().unwrap_or(0..0);
        let node = match event {
            Event::Comment(body, _) => {
                out.comments.push(Comment {
                    span: range,
                    text: body,
                });
                continue;
            }
            Event::Scalar(value, style, anchor, tag) => Node {
                span: range,
                value: Value::Scalar(value, convert_style(style)),
                tag: tag.map(|t| t.original().into_boxed_str()),
                anchor,
            },
            Event::Alias(anchor) => Node {
                span: range,
                value: Value::Alias,
                tag: None,
                anchor,
            },
            Event::UnresolvedAlias(_) => Node {
                span: range,
                value: Value::Alias,
                tag: None,
                anchor: 0,
            },
            Event::SequenceStart(_, anchor, tag) => {
                let value = Value::Sequence(Vec::new());
                stack.push(Frame::new(range, value, tag, anchor, children.len()));
                continue;
            }
            Event::MappingStart(_, anchor, tag) => {
                let value = Value::Mapping(Vec::new());
                stack.push(Frame::new(range, value, tag, anchor, children.len()));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(frame) => frame.finish(range.end, &mut children),
                None => continue,
            },
            _ => continue,
        };
        match stack.last() {
            Some(_) => children.push(node),
            None => out.documents.push(node),
        }
    }
    Ok(out)
}

/// An open collection: its node (with an empty value until it closes) and where its children
/// start in the shared stack of children.
struct Frame<'a> {
    node: Node<'a>,
    first_child: usize,
}

impl<'a> Frame<'a> {
    fn new(
        span: Range<usize>,
        value: Value<'a>,
        tag: Option<Cow<'_, granit_parser::Tag>>,
        anchor: usize,
        first_child: usize,
    ) -> Self {
        Frame {
            node: Node {
                span,
                value,
                tag: tag.map(|t| t.original().into_boxed_str()),
                anchor,
            },
            first_child,
        }
    }

    /// Close the collection at `end`, taking its children from `children`. A mapping whose
    /// last key has no value yet (the input ended) gets an empty scalar after the key.
    fn finish(mut self, end: usize, children: &mut Vec<Node<'a>>) -> Node<'a> {
        let items = children.drain(self.first_child.min(children.len())..);
        match &mut self.node.value {
            Value::Sequence(seq) => *seq = items.collect(),
            Value::Mapping(pairs) => {
                pairs.reserve_exact(items.len().div_ceil(2));
                let mut items = items;
                while let Some(key) = items.next() {
                    let value = items.next().unwrap_or_else(|| {
                        let at = key.span.end;
                        Node {
                            span: at..at,
                            value: Value::Scalar(Cow::Borrowed(""), Style::Plain),
                            tag: None,
                            anchor: 0,
                        }
                    });
                    pairs.push((key, value));
                }
            }
            _ => {}
        }
        self.node.span.end = self.node.span.end.max(end);
        self.node
    }
}

fn convert_style(style: ScalarStyle) -> Style {
    match style {
        ScalarStyle::Plain => Style::Plain,
        ScalarStyle::SingleQuoted => Style::SingleQuoted,
        ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
        _ => Style::Block,
    }
}

fn char_to_byte(text: &str, byte: Option<usize>, chars: usize) -> usize {
    byte.unwrap_or_else(|| {
        text.char_indices()
            .nth(chars)
            .map_or(text.len(), |(i, _)| i)
    })
}

impl<'a> Node<'a> {
    /// The scalar text, if this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    /// The scalar style, if this is a scalar.
    pub fn style(&self) -> Option<Style> {
        match &self.value {
            Value::Scalar(_, style) => Some(*style),
            _ => None,
        }
    }

    /// The mapping pairs, if this is a mapping.
    pub fn as_mapping(&self) -> Option<&[(Node<'a>, Node<'a>)]> {
        match &self.value {
            Value::Mapping(pairs) => Some(pairs),
            _ => None,
        }
    }

    /// The items, if this is a sequence.
    pub fn as_sequence(&self) -> Option<&[Node<'a>]> {
        match &self.value {
            Value::Sequence(items) => Some(items),
            _ => None,
        }
    }

    /// The value of the first key equal to `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        self.as_mapping()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// Every node below (and including) this one that defines an anchor, by anchor id, so that
    /// aliases can be looked through without expanding them.
    pub fn anchors<'n>(&'n self, out: &mut std::collections::HashMap<usize, &'n Node<'a>>) {
        if self.anchor != 0 && !matches!(self.value, Value::Alias) {
            out.insert(self.anchor, self);
        }
        match &self.value {
            Value::Mapping(pairs) => pairs.iter().for_each(|(k, v)| {
                k.anchors(out);
                v.anchors(out);
            }),
            Value::Sequence(items) => items.iter().for_each(|i| i.anchors(out)),
            _ => {}
        }
    }

    /// Byte span of the scalar's content: inside the quotes for a quoted scalar.
    pub fn content_span(&self) -> Range<usize> {
        match self.style() {
            Some(Style::SingleQuoted | Style::DoubleQuoted) if self.span.len() >= 2 => {
                self.span.start + 1..self.span.end - 1
            }
            _ => self.span.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_cover_keys_and_quoted_scalars() {
        let text = "a: 'x y' # c\r\nb:\n  - \"q\"\n  - plain";
        let yaml = parse(text).map_err(|e| e.0).expect("parses");
        let root = &yaml.documents[0];
        let a = root.get("a").expect("a");
        assert_eq!(&text[a.span.clone()], "'x y'");
        assert_eq!(&text[a.content_span()], "x y");
        let b = root.get("b").and_then(Node::as_sequence).expect("b");
        assert_eq!(&text[b[0].content_span()], "q");
        assert_eq!(&text[b[1].span.clone()], "plain");
        assert_eq!(yaml.comments.len(), 1);
        assert_eq!(&text[yaml.comments[0].span.clone()], "# c");
    }

    #[test]
    fn error_has_an_offset_and_keeps_the_prefix() {
        let (err, partial) = parse("a: x\nb: [1, 2\nc: d").expect_err("invalid");
        assert!(err.offset > 0);
        let root = &partial.documents[0];
        assert_eq!(root.get("a").and_then(Node::as_str), Some("x"));
    }

    /// The spans of every node, depth first, and the scalars' values: what the analysis reads.
    fn shape(yaml: &Yaml<'_>) -> Vec<(Range<usize>, Option<String>)> {
        fn walk(node: &Node<'_>, out: &mut Vec<(Range<usize>, Option<String>)>) {
            out.push((node.span.clone(), node.as_str().map(str::to_string)));
            match &node.value {
                Value::Mapping(entries) => entries.iter().for_each(|(k, v)| {
                    walk(k, out);
                    walk(v, out);
                }),
                Value::Sequence(items) => items.iter().for_each(|n| walk(n, out)),
                Value::Scalar(..) | Value::Alias => {}
            }
        }
        let mut out = Vec::new();
        yaml.documents.iter().for_each(|d| walk(d, &mut out));
        out
    }

    #[test]
    fn analysis_parse_keeps_comments_only_when_a_suppression_can_be_among_them() {
        let plain = "# head\na: 1 # tail\nb:\n  - x # item\n";
        let full = parse(plain).map_err(|e| e.0).expect("parses");
        let lean = parse_for_analysis(plain).map_err(|e| e.0).expect("parses");
        assert_eq!(full.comments.len(), 3);
        assert!(lean.comments.is_empty());
        assert_eq!(shape(&lean), shape(&full));

        let suppressed = "# head\na: 1 # pin-lint: ignore[unpinned-image]\n";
        let full = parse(suppressed).map_err(|e| e.0).expect("parses");
        let lean = parse_for_analysis(suppressed)
            .map_err(|e| e.0)
            .expect("parses");
        let texts = |y: &Yaml<'_>| {
            y.comments
                .iter()
                .map(|c| (c.span.clone(), c.text.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(texts(&lean), texts(&full));
        assert_eq!(lean.comments.len(), 2);
        assert_eq!(shape(&lean), shape(&full));

        // A syntax error after comments is the same error either way.
        let broken = "# c\na: [1, 2\nb: c # d\n";
        let (full, _) = parse(broken).expect_err("invalid");
        let (lean, _) = parse_for_analysis(broken).expect_err("invalid");
        assert_eq!(lean, full);
    }
}
