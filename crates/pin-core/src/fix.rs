//! Fixes are byte-range edits, never re-serialised YAML: every byte outside an edit survives.

use std::ops::Range;

/// How safe a fix is to apply without review (after ruff's `Applicability`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Applicability {
    /// Keeps meaning: pins the digest the tag points to right now, or bumps a stale pin to it.
    Safe,
    /// Changes meaning (e.g. adds a tag that was not written); only applied on request.
    Unsafe,
}

/// Replace the bytes in `range` by `new_text`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Edit {
    /// Byte range to replace (empty for an insertion).
    pub range: Range<usize>,
    /// Replacement text.
    pub new_text: String,
}

impl Edit {
    /// Insert `text` at `offset`.
    pub fn insert(offset: usize, text: impl Into<String>) -> Edit {
        Edit {
            range: offset..offset,
            new_text: text.into(),
        }
    }

    /// Replace `range` with `text`.
    pub fn replace(range: Range<usize>, text: impl Into<String>) -> Edit {
        Edit {
            range,
            new_text: text.into(),
        }
    }
}

/// A titled set of edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    /// What the fix does, e.g. "Pin to sha256:…".
    pub title: String,
    /// Whether `--fix` may apply it by default.
    pub applicability: Applicability,
    /// The edits; non-overlapping.
    pub edits: Vec<Edit>,
}

/// Two edits touch the same bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("overlapping edits at bytes {first:?} and {second:?}")]
pub struct OverlapError {
    /// The first edit's range.
    pub first: Range<usize>,
    /// The overlapping edit's range.
    pub second: Range<usize>,
}

/// Apply `edits` to `text`. Edits are sorted; identical duplicates are merged; overlapping
/// ones are refused as a whole so that nothing is half-applied.
pub fn apply(text: &str, edits: &[Edit]) -> Result<String, OverlapError> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.range.start, e.range.end));
    sorted.dedup();
    for pair in sorted.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let touching_inserts =
            a.range.is_empty() && b.range.is_empty() && a.range.start == b.range.start;
        if b.range.start < a.range.end || touching_inserts {
            return Err(OverlapError {
                first: a.range.clone(),
                second: b.range.clone(),
            });
        }
    }
    let mut out =
        String::with_capacity(text.len() + sorted.iter().map(|e| e.new_text.len()).sum::<usize>());
    let mut at = 0;
    for edit in sorted {
        out.push_str(&text[at..edit.range.start]);
        out.push_str(&edit.new_text);
        at = edit.range.end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_in_order_and_refuses_overlap() {
        let text = "a: x\r\nb: y";
        let out = apply(text, &[Edit::insert(10, "@2"), Edit::insert(4, "@1")]).expect("applies");
        assert_eq!(out, "a: x@1\r\nb: y@2");
        assert!(apply(text, &[Edit::replace(0..3, "z"), Edit::replace(2..4, "q")]).is_err());
    }

    #[test]
    fn constructors_set_range_and_text() {
        assert_eq!(
            Edit::insert(3, "x"),
            Edit {
                range: 3..3,
                new_text: "x".into()
            }
        );
        assert_eq!(
            Edit::replace(1..4, "yz"),
            Edit {
                range: 1..4,
                new_text: "yz".into()
            }
        );
    }

    #[test]
    fn duplicates_merge_adjacent_edits_apply_and_inserts_may_grow_the_text() {
        let dup = Edit::insert(1, "@d");
        assert_eq!(apply("ab", &[dup.clone(), dup]).as_deref(), Ok("a@db"));
        // Touching but not overlapping: both apply.
        assert_eq!(
            apply(
                "abcd",
                &[Edit::replace(2..4, "Z"), Edit::replace(0..2, "XY")]
            )
            .as_deref(),
            Ok("XYZ")
        );
        assert_eq!(
            apply("a", &[Edit::insert(0, "long "), Edit::insert(1, " text")]).as_deref(),
            Ok("long a text")
        );
        assert_eq!(apply("same", &[]).as_deref(), Ok("same"));
        assert_eq!(apply("abc", &[Edit::replace(0..3, "")]).as_deref(), Ok(""));
    }

    #[test]
    fn overlaps_are_refused_and_named() {
        let err = apply(
            "abcdef",
            &[Edit::replace(3..5, "x"), Edit::replace(1..4, "y")],
        )
        .expect_err("overlap");
        assert_eq!(
            err,
            OverlapError {
                first: 1..4,
                second: 3..5
            }
        );
        assert_eq!(err.to_string(), "overlapping edits at bytes 1..4 and 3..5");
        // Two different insertions at one offset: their order would be a guess.
        assert_eq!(
            apply("ab", &[Edit::insert(1, "x"), Edit::insert(1, "y")]),
            Err(OverlapError {
                first: 1..1,
                second: 1..1
            })
        );
        // An insertion inside a replaced range.
        assert!(apply("abcd", &[Edit::replace(0..3, "x"), Edit::insert(2, "y")]).is_err());
        // An insertion at the end of a replaced range is not inside it.
        assert_eq!(
            apply("abcd", &[Edit::replace(0..2, "x"), Edit::insert(2, "y")]).as_deref(),
            Ok("xycd")
        );
    }
}
