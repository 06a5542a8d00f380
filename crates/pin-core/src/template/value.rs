//! Values of the template language, as sets of possibilities, with the place each string was
//! written.
//!
//! Where the preprocessor would pick one value, the analysis may not know which: a parameter
//! default that a caller may override, both branches of an undecidable `${{ if }}`. Such
//! places hold [`Alts`]: every value they can take, capped at [`MAX_ALTS`]. Strings carry
//! their [`Origin`] so an image can be reported where it is written, not where it is used.

use std::ops::Range;
use std::rc::Rc;

/// Index of a file in the [`super::Repository`].
pub type FileId = usize;

/// At most this many alternatives are kept per value; the rest are dropped and the analysis
/// says so (see [`super::TemplateAnalysis::notes`]).
pub const MAX_ALTS: usize = 64;

/// A byte range in one file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Loc {
    /// The file.
    pub file: FileId,
    /// Byte range in its text.
    pub span: Range<usize>,
}

/// Where a string value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Computed with nothing written behind it (a number turned into text, a predefined name).
    None,
    /// Written literally at this place (a YAML scalar, or a string literal inside an
    /// expression when its position is known).
    Literal(Loc),
    /// Built by an expression (boxed: values are copied a lot, and most are literals).
    Built(Rc<Built>),
}

/// Where a value built by an expression comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Built {
    /// The scalar whose expression built the value (set when the value leaves it).
    pub at: Option<Loc>,
    /// The written literals the value was built from (in order).
    pub parts: Vec<Loc>,
}

impl Origin {
    /// A built origin.
    pub fn built(at: Option<Loc>, parts: Vec<Loc>) -> Origin {
        Origin::Built(Rc::new(Built { at, parts }))
    }
}

impl Origin {
    /// The written places behind this value (itself, or its parts).
    pub fn parts(&self) -> Vec<Loc> {
        match self {
            Origin::None => Vec::new(),
            Origin::Literal(l) => vec![l.clone()],
            Origin::Built(b) => b.parts.clone(),
        }
    }

    /// Where the value is written: the literal, or the scalar whose expression built it.
    pub fn at(&self) -> Option<&Loc> {
        match self {
            Origin::Literal(l) => Some(l),
            Origin::Built(b) => b.at.as_ref(),
            Origin::None => None,
        }
    }
}

/// A string with its origin.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Text {
    /// The value.
    pub s: Rc<str>,
    /// Where it was written.
    pub origin: Origin,
}

impl Text {
    /// A string with no written origin.
    pub fn bare(s: &str) -> Text {
        Text {
            s: Rc::from(s),
            origin: Origin::None,
        }
    }
}

/// Where a mapping was written and through which templates it was reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// The mapping's position.
    pub loc: Loc,
    /// The include stack when it was expanded: outermost file first, its own file last.
    pub chain: Rc<[FileId]>,
    /// A `template:` reference that was not expanded (external, missing or unknown path).
    pub unfollowed: bool,
}

/// One value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`, or a key written without a value.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A string.
    Str(Text),
    /// A sequence; each item is itself a set of possibilities.
    Array(Rc<Vec<Alts>>),
    /// A mapping in order; keys are strings with origins (an alias map's keys matter).
    Object(Rc<Object>),
    /// Not known at compile time (a runtime variable, an unknown function, a parameter of a
    /// template analysed on its own).
    Unknown,
}

/// A mapping value.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// Fields in order.
    pub fields: Vec<(Text, Alts)>,
    /// Where it was written, if it was written as a YAML mapping.
    pub meta: Option<Meta>,
}

impl Object {
    /// The field named `key` (exact match first, then ASCII case-insensitive as the
    /// expression language compares names).
    pub fn get(&self, key: &str) -> Option<&Alts> {
        self.fields
            .iter()
            .find(|(k, _)| &*k.s == key)
            .or_else(|| {
                self.fields
                    .iter()
                    .find(|(k, _)| k.s.eq_ignore_ascii_case(key))
            })
            .map(|(_, v)| v)
    }
}

impl Value {
    /// A string with an origin.
    pub fn str(s: &str, origin: Origin) -> Value {
        Value::Str(Text {
            s: Rc::from(s),
            origin,
        })
    }

    /// The text of a scalar as the expression language converts it to a string; `None` for
    /// collections and unknowns.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::Null => Some(String::new()),
            Value::Bool(b) => Some(if *b { "True" } else { "False" }.to_string()),
            Value::Number(n) => Some(number_text(*n)),
            Value::Str(t) => Some(t.s.to_string()),
            _ => None,
        }
    }

    /// The value's origin, for strings.
    pub fn origin(&self) -> Origin {
        match self {
            Value::Str(t) => t.origin.clone(),
            _ => Origin::None,
        }
    }
}

/// A number as the expression language prints it (`3`, not `3.0`).
pub fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Every value a place can take (never empty: an unknown place holds [`Value::Unknown`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Alts(pub Vec<Value>);

impl Alts {
    /// Exactly one possibility.
    pub fn one(v: Value) -> Alts {
        Alts(vec![v])
    }

    /// Nothing known.
    pub fn unknown() -> Alts {
        Alts::one(Value::Unknown)
    }

    /// Add `v` unless an equal scalar is already there; returns false when the cap dropped it.
    pub fn push(&mut self, v: Value) -> bool {
        let duplicate = match &v {
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::Unknown => {
                self.0.iter().any(|x| x == &v)
            }
            Value::Str(t) => self
                .0
                .iter()
                .any(|x| matches!(x, Value::Str(u) if u.s == t.s && u.origin == t.origin)),
            _ => false,
        };
        if duplicate {
            return true;
        }
        if self.0.len() >= MAX_ALTS {
            return false;
        }
        self.0.push(v);
        true
    }

    /// Add every possibility of `other`; returns false when the cap dropped some.
    pub fn extend(&mut self, other: Alts) -> bool {
        let mut all = true;
        for v in other.0 {
            all &= self.push(v);
        }
        all
    }

    /// The strings among the possibilities.
    pub fn texts(&self) -> impl Iterator<Item = &Text> {
        self.0.iter().filter_map(|v| match v {
            Value::Str(t) => Some(t),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whole numbers print without a fraction, at any size and without a sign on zero;
    /// others print as they are.
    #[test]
    fn numbers_print_as_the_expression_language_prints_them() {
        for (n, text) in [
            (3.0, "3"),
            (-12.0, "-12"),
            (-0.0, "0"),
            (0.5, "0.5"),
            (-2.25, "-2.25"),
            (1e19, "10000000000000000000"),
            (-1e19, "-10000000000000000000"),
        ] {
            assert_eq!(number_text(n), text, "{n:?}");
        }
    }

    fn at(start: usize) -> Origin {
        Origin::Literal(Loc {
            file: 0,
            span: start..start + 1,
        })
    }

    /// A set of possibilities keeps one of each scalar, and one of each string written at
    /// one place (the same text written at two places is two possibilities); it holds
    /// `MAX_ALTS` at most and says when it dropped one.
    #[test]
    fn possibilities_are_distinct_and_capped() {
        let mut alts = Alts::default();
        for v in [
            Value::Null,
            Value::Null,
            Value::Bool(true),
            Value::Bool(true),
            Value::Number(1.0),
            Value::Number(1.0),
            Value::Unknown,
            Value::Unknown,
        ] {
            assert!(alts.push(v));
        }
        assert_eq!(alts.0.len(), 4, "{alts:?}");
        assert!(alts.push(Value::str("a", at(0))));
        assert!(alts.push(Value::str("a", at(0))));
        assert!(alts.push(Value::str("a", at(5))));
        assert!(alts.push(Value::str("b", at(0))));
        assert_eq!(alts.texts().count(), 3, "{alts:?}");
        let list = Value::Array(Rc::new(Vec::new()));
        assert!(alts.push(list.clone()));
        assert!(alts.push(list));
        assert_eq!(alts.0.len(), 9);

        let mut full = Alts::default();
        let more = Alts((0..MAX_ALTS + 1).map(|i| Value::Number(i as f64)).collect());
        assert!(!full.extend(more));
        assert_eq!(full.0.len(), MAX_ALTS);
        // At the cap, a value already there is no loss; a new one is.
        assert!(full.push(Value::Number(0.0)));
        assert!(!full.push(Value::Number(-1.0)));
        let mut exact = Alts::default();
        let fits = Alts((0..MAX_ALTS).map(|i| Value::Number(i as f64)).collect());
        assert!(exact.extend(fits));
        assert_eq!(exact.0.len(), MAX_ALTS);
    }

    /// A field is found by its exact name first, then ignoring ASCII case.
    #[test]
    fn fields_are_found_by_exact_name_first() {
        let o = Object {
            fields: vec![
                (Text::bare("Image"), Alts::one(Value::Number(1.0))),
                (Text::bare("image"), Alts::one(Value::Number(2.0))),
                (Text::bare("Tag"), Alts::one(Value::Number(3.0))),
            ],
            meta: None,
        };
        assert_eq!(o.get("image"), Some(&Alts::one(Value::Number(2.0))));
        assert_eq!(o.get("Image"), Some(&Alts::one(Value::Number(1.0))));
        assert_eq!(o.get("IMAGE"), Some(&Alts::one(Value::Number(1.0))));
        assert_eq!(o.get("tag"), Some(&Alts::one(Value::Number(3.0))));
        assert_eq!(o.get("name"), None);
    }

    /// Scalars print as the expression language converts them to text; collections and
    /// unknown values have no text, and only strings have an origin.
    #[test]
    fn scalars_have_text_and_strings_an_origin() {
        assert_eq!(Value::Null.as_text().as_deref(), Some(""));
        assert_eq!(Value::Bool(true).as_text().as_deref(), Some("True"));
        assert_eq!(Value::Bool(false).as_text().as_deref(), Some("False"));
        assert_eq!(Value::Number(2.5).as_text().as_deref(), Some("2.5"));
        assert_eq!(Value::str("x", at(3)).as_text().as_deref(), Some("x"));
        assert_eq!(Value::Unknown.as_text(), None);
        assert_eq!(Value::Array(Rc::new(Vec::new())).as_text(), None);
        assert_eq!(Value::str("x", at(3)).origin(), at(3));
        assert_eq!(Value::Number(1.0).origin(), Origin::None);
        let built = Origin::built(
            Some(Loc {
                file: 1,
                span: 0..4,
            }),
            vec![Loc {
                file: 0,
                span: 2..3,
            }],
        );
        assert_eq!(
            built.parts(),
            [Loc {
                file: 0,
                span: 2..3
            }]
        );
        assert_eq!(
            built.at(),
            Some(&Loc {
                file: 1,
                span: 0..4
            })
        );
        assert_eq!(
            at(3).parts(),
            [Loc {
                file: 0,
                span: 3..4
            }]
        );
        assert_eq!(
            at(3).at(),
            Some(&Loc {
                file: 0,
                span: 3..4
            })
        );
        assert!(Origin::None.parts().is_empty());
        assert_eq!(Origin::None.at(), None);
    }
}
