//! Evaluating template expressions over sets of possibilities.
//!
//! Semantics follow the Azure Pipelines expression language where it matters for image flow:
//! string comparisons ignore ASCII case, the right operand of a comparison is converted to the
//! left one's type, a missing parameter property is null, and a variable that is not defined
//! at compile time (`variables['Build.Reason']`) is unknown. Anything unknown makes a
//! condition undecidable, and undecidable branches are all explored. Unknown functions give
//! [`Value::Unknown`] rather than an error.

use std::borrow::Cow;
use std::cell::Cell;
use std::rc::Rc;

use super::expr::{Expr, Lit};
use super::value::{number_text, Alts, FileId, Loc, Object, Origin, Text, Value, MAX_ALTS};

/// What names mean while evaluating.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// `parameters`: an object (or unknown).
    pub params: Alts,
    /// When set, a parameter that is not declared is unknown instead of null (a template
    /// analysed on its own, whose callers are not known).
    pub params_open: bool,
    /// Compile-time variables (`${{ variables.x }}`), lower-case names.
    pub vars: Rc<Vec<(String, Alts)>>,
    /// Loop variables of enclosing `${{ each }}`.
    pub locals: Rc<Vec<(String, Alts)>>,
}

/// Three-valued truth: conditions that cannot be decided at compile time are `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    /// Always true.
    True,
    /// Always false.
    False,
    /// Depends on something not known here.
    Unknown,
}

/// An evaluator: where the expression text sits (to give string literals an origin) and a
/// flag raised when a set of possibilities hit [`MAX_ALTS`].
pub struct Eval<'a> {
    /// File and byte offset of the expression text in it, when the text maps 1:1 to the file.
    pub base: Option<(FileId, usize)>,
    /// Raised when alternatives were dropped.
    pub capped: &'a Cell<bool>,
}

impl Eval<'_> {
    /// Every value `e` can take under `scope`.
    pub fn eval(&self, e: &Expr, scope: &Scope) -> Alts {
        match e {
            Expr::Lit(lit, span) => Alts::one(match lit {
                Lit::Null => Value::Null,
                Lit::Bool(b) => Value::Bool(*b),
                Lit::Number(n) => Value::Number(*n),
                Lit::Str(s) => {
                    let origin = match self.base {
                        Some((file, at)) => Origin::Literal(Loc {
                            file,
                            span: at + span.start + 1..at + span.end - 1,
                        }),
                        None => Origin::None,
                    };
                    Value::Str(Text {
                        s: s.clone(),
                        origin,
                    })
                }
            }),
            Expr::Name(..) | Expr::Member(..) => self.operand(e, scope).into_owned(),
            Expr::Index(base, index) => {
                let keys = self.eval(index, scope);
                let mut out = Alts::default();
                for k in &keys.0 {
                    let key = match k {
                        Value::Number(n) => Key::Index(*n),
                        other => match other.as_text() {
                            Some(t) => Key::Owned(t),
                            None => {
                                self.push(&mut out, Value::Unknown);
                                continue;
                            }
                        },
                    };
                    let got = self.member(base, &key.borrow(), scope);
                    self.extend(&mut out, got.into_owned());
                }
                out
            }
            Expr::Call(name, args, _) => self.call(name, args, scope),
        }
    }

    /// Truth of `e` over all its possibilities.
    pub fn condition(&self, e: &Expr, scope: &Scope) -> Tri {
        decide(&self.operand(e, scope))
    }

    /// Every value `e` can take, read in place when it names a parameter, a variable, a loop
    /// variable or a field of one (the common operands of comparisons), computed otherwise.
    fn operand<'s>(&self, e: &Expr, scope: &'s Scope) -> Cow<'s, Alts> {
        match e {
            Expr::Name(name, _) if name.eq_ignore_ascii_case("parameters") => {
                Cow::Borrowed(&scope.params)
            }
            Expr::Name(name, _) => lookup(&scope.locals, name)
                .map_or_else(|| Cow::Owned(Alts::unknown()), Cow::Borrowed),
            Expr::Member(base, name) => self.member(base, &Key::Name(name), scope),
            _ => Cow::Owned(self.eval(e, scope)),
        }
    }

    fn push(&self, out: &mut Alts, v: Value) {
        if !out.push(v) {
            self.capped.set(true);
        }
    }

    fn extend(&self, out: &mut Alts, more: Alts) {
        if !out.extend(more) {
            self.capped.set(true);
        }
    }

    fn member<'s>(&self, base: &Expr, key: &Key<'_>, scope: &'s Scope) -> Cow<'s, Alts> {
        if let (Expr::Name(root, _), Key::Name(name)) = (base, key) {
            if root.eq_ignore_ascii_case("variables") {
                return lookup(&scope.vars, name)
                    .map_or_else(|| Cow::Owned(Alts::unknown()), Cow::Borrowed);
            }
        }
        if let Expr::Name(root, _) = base {
            if root.eq_ignore_ascii_case("parameters") && scope.params_open {
                if let Key::Name(name) = key {
                    let declared = scope
                        .params
                        .0
                        .iter()
                        .any(|p| matches!(p, Value::Object(o) if o.get(name).is_some()));
                    if !declared {
                        return Cow::Owned(Alts::unknown());
                    }
                }
            }
        }
        // Names are read in place: cloning `parameters` for every `parameters.x` is costly.
        let bases: &'s Alts = match base {
            Expr::Name(root, _) if root.eq_ignore_ascii_case("parameters") => &scope.params,
            Expr::Name(root, _) => match lookup(&scope.locals, root) {
                Some(found) => found,
                None => return Cow::Owned(Alts::unknown()),
            },
            _ => {
                let owned = self.eval(base, scope);
                return Cow::Owned(self.select(&owned, key).into_owned());
            }
        };
        self.select(bases, key)
    }

    /// Field or item `key` of every value in `bases`.
    fn select<'b>(&self, bases: &'b Alts, key: &Key<'_>) -> Cow<'b, Alts> {
        if let ([one], Key::Name(name)) = (bases.0.as_slice(), key) {
            // The common case: one object, one field, read in place.
            return match one {
                Value::Object(o) => o
                    .get(name)
                    .map_or_else(|| Cow::Owned(Alts::one(Value::Null)), Cow::Borrowed),
                Value::Unknown => Cow::Owned(Alts::unknown()),
                _ => Cow::Owned(Alts::one(Value::Null)),
            };
        }
        let mut out = Alts::default();
        for b in &bases.0 {
            let got = match (b, key) {
                (Value::Object(o), Key::Name(name)) => {
                    o.get(name).cloned().unwrap_or(Alts::one(Value::Null))
                }
                (Value::Object(o), Key::Index(n)) => o
                    .get(&number_text(*n))
                    .cloned()
                    .unwrap_or(Alts::one(Value::Null)),
                (Value::Array(items), Key::Index(n)) => {
                    let i = *n as usize;
                    if *n >= 0.0 && n.fract() == 0.0 && i < items.len() {
                        items[i].clone()
                    } else {
                        Alts::one(Value::Null)
                    }
                }
                (Value::Unknown, _) => Alts::unknown(),
                _ => Alts::one(Value::Null),
            };
            self.extend(&mut out, got);
        }
        if out.0.is_empty() {
            out.0.push(Value::Unknown);
        }
        Cow::Owned(out)
    }

    fn call(&self, name: &str, args: &[Expr], scope: &Scope) -> Alts {
        // Known names are short: lower-cased on the stack, not in a new string per call.
        let mut buf = [0u8; 16];
        let Some(lower) = buf.get_mut(..name.len()).and_then(|b| {
            b.copy_from_slice(name.as_bytes());
            b.make_ascii_lowercase();
            std::str::from_utf8(b).ok()
        }) else {
            return Alts::unknown();
        };
        let known = matches!(
            lower,
            "eq" | "ne"
                | "and"
                | "or"
                | "not"
                | "xor"
                | "in"
                | "notin"
                | "containsvalue"
                | "contains"
                | "startswith"
                | "endswith"
                | "coalesce"
                | "format"
                | "replace"
                | "lower"
                | "upper"
                | "length"
                | "join"
                | "split"
                | "iif"
                | "le"
                | "lt"
                | "ge"
                | "gt"
                | "trim"
        );
        if !known {
            return Alts::unknown();
        }
        let values: Vec<Cow<'_, Alts>> = args.iter().map(|a| self.operand(a, scope)).collect();
        if values.iter().all(|v| v.0.len() == 1) {
            let (first, second) = match values.as_slice() {
                [a] => apply(lower, &[&a.0[0]]),
                [a, b] => apply(lower, &[&a.0[0], &b.0[0]]),
                _ => apply(lower, &values.iter().map(|v| &v.0[0]).collect::<Vec<_>>()),
            };
            let mut out = Alts::one(first);
            if let Some(v) = second {
                self.push(&mut out, v);
            }
            return out;
        }
        let mut out = Alts::default();
        let mut combos = 0usize;
        let mut pick = vec![0usize; values.len()];
        loop {
            combos += 1;
            if combos > MAX_ALTS * 4 {
                self.capped.set(true);
                break;
            }
            let chosen: Vec<&Value> = pick
                .iter()
                .zip(&values)
                .map(|(&i, alts)| alts.0.get(i).unwrap_or(&Value::Unknown))
                .collect();
            let (first, second) = apply(lower, &chosen);
            self.push(&mut out, first);
            if let Some(v) = second {
                self.push(&mut out, v);
            }
            // Next combination (odometer).
            let mut i = 0;
            loop {
                if i == pick.len() {
                    if out.0.is_empty() {
                        out.0.push(Value::Unknown);
                    }
                    return out;
                }
                pick[i] += 1;
                if pick[i] < values[i].0.len().max(1) {
                    break;
                }
                pick[i] = 0;
                i += 1;
            }
        }
        if out.0.is_empty() {
            out.0.push(Value::Unknown);
        }
        out
    }
}

enum Key<'k> {
    Name(&'k str),
    Index(f64),
    Owned(String),
}

impl Key<'_> {
    fn borrow(&self) -> Key<'_> {
        match self {
            Key::Name(n) => Key::Name(n),
            Key::Index(n) => Key::Index(*n),
            Key::Owned(s) => Key::Name(s),
        }
    }
}

fn lookup<'a>(table: &'a [(String, Alts)], name: &str) -> Option<&'a Alts> {
    table
        .iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Truthiness of one value.
pub fn truthy(v: &Value) -> Tri {
    match v {
        Value::Null => Tri::False,
        Value::Bool(b) => tri(*b),
        Value::Number(n) => tri(*n != 0.0),
        Value::Str(t) => tri(!t.s.is_empty()),
        Value::Array(_) | Value::Object(_) => Tri::True,
        Value::Unknown => Tri::Unknown,
    }
}

/// Truth over every possibility: decided only when all agree.
pub fn decide(alts: &Alts) -> Tri {
    let mut seen = None;
    for v in &alts.0 {
        let t = truthy(v);
        if t == Tri::Unknown {
            return Tri::Unknown;
        }
        match seen {
            None => seen = Some(t),
            Some(s) if s != t => return Tri::Unknown,
            _ => {}
        }
    }
    seen.unwrap_or(Tri::Unknown)
}

fn tri(b: bool) -> Tri {
    if b {
        Tri::True
    } else {
        Tri::False
    }
}

fn from_tri(t: Tri) -> Value {
    match t {
        Tri::True => Value::Bool(true),
        Tri::False => Value::Bool(false),
        Tri::Unknown => Value::Unknown,
    }
}

/// `a == b` with the language's conversions; `None` when it cannot be known.
pub fn loose_eq(a: &Value, b: &Value) -> Option<bool> {
    match (a, b) {
        (Value::Unknown, _) | (_, Value::Unknown) => None,
        (Value::Str(x), Value::Str(y)) => Some(x.s.eq_ignore_ascii_case(&y.s)),
        (Value::Null, Value::Null) => Some(true),
        (Value::Null, Value::Str(t)) | (Value::Str(t), Value::Null) => Some(t.s.is_empty()),
        (Value::Number(x), Value::Number(y)) => Some(x == y),
        (Value::Number(x), Value::Str(t)) | (Value::Str(t), Value::Number(x)) => {
            Some(t.s.trim().parse::<f64>().is_ok_and(|y| y == *x))
        }
        (Value::Bool(x), Value::Bool(y)) => Some(x == y),
        (Value::Bool(x), Value::Str(t)) | (Value::Str(t), Value::Bool(x)) => {
            Some(t.s.eq_ignore_ascii_case(if *x { "true" } else { "false" }))
        }
        (Value::Bool(x), Value::Number(n)) | (Value::Number(n), Value::Bool(x)) => {
            Some(*x == (*n != 0.0))
        }
        (Value::Null, _) | (_, Value::Null) => Some(false),
        (Value::Array(x), Value::Array(y)) => Some(Rc::ptr_eq(x, y)),
        (Value::Object(x), Value::Object(y)) => Some(Rc::ptr_eq(x, y)),
        _ => Some(false),
    }
}

fn eq_tri(a: &Value, b: &Value) -> Tri {
    match loose_eq(a, b) {
        Some(x) => tri(x),
        None => Tri::Unknown,
    }
}

fn any_tri(items: impl Iterator<Item = Tri>) -> Tri {
    let mut unknown = false;
    for t in items {
        match t {
            Tri::True => return Tri::True,
            Tri::Unknown => unknown = true,
            Tri::False => {}
        }
    }
    if unknown {
        Tri::Unknown
    } else {
        Tri::False
    }
}

fn not(t: Tri) -> Tri {
    match t {
        Tri::True => Tri::False,
        Tri::False => Tri::True,
        Tri::Unknown => Tri::Unknown,
    }
}

/// A string-valued result built from `sources`.
fn built(s: String, sources: &[&Value]) -> Value {
    let mut parts = Vec::new();
    for v in sources {
        parts.extend(v.origin().parts());
    }
    Value::str(&s, Origin::built(None, parts))
}

fn text_of(v: &Value) -> Option<String> {
    v.as_text()
}

/// Apply function `name` (lower-case) to one combination of arguments: one result, or two
/// for an undecidable `iif`.
fn apply(name: &str, a: &[&Value]) -> (Value, Option<Value>) {
    let arg = |i: usize| a.get(i).copied().unwrap_or(&Value::Null);
    let compare = |f: fn(std::cmp::Ordering) -> bool| -> Value {
        let (x, y) = (arg(0), arg(1));
        if matches!(x, Value::Unknown) || matches!(y, Value::Unknown) {
            return Value::Unknown;
        }
        let ord = match (x, y) {
            (Value::Number(p), q) => q
                .as_text()
                .and_then(|t| t.trim().parse::<f64>().ok())
                .and_then(|q| p.partial_cmp(&q)),
            (p, q) => match (p.as_text(), q.as_text()) {
                (Some(p), Some(q)) => Some(p.to_ascii_lowercase().cmp(&q.to_ascii_lowercase())),
                _ => None,
            },
        };
        ord.map_or(Value::Unknown, |o| Value::Bool(f(o)))
    };
    let v = match name {
        "eq" => from_tri(eq_tri(arg(0), arg(1))),
        "ne" => from_tri(not(eq_tri(arg(0), arg(1)))),
        "and" => {
            let mut unknown = false;
            for x in a {
                match truthy(x) {
                    Tri::False => return (Value::Bool(false), None),
                    Tri::Unknown => unknown = true,
                    Tri::True => {}
                }
            }
            from_tri(if unknown { Tri::Unknown } else { Tri::True })
        }
        "or" => from_tri(any_tri(a.iter().map(|x| truthy(x)))),
        "not" => from_tri(not(truthy(arg(0)))),
        "xor" => match (truthy(arg(0)), truthy(arg(1))) {
            (Tri::Unknown, _) | (_, Tri::Unknown) => Value::Unknown,
            (x, y) => Value::Bool(x != y),
        },
        "in" => from_tri(any_tri(a.iter().skip(1).map(|x| eq_tri(arg(0), x)))),
        "notin" => from_tri(not(any_tri(a.iter().skip(1).map(|x| eq_tri(arg(0), x))))),
        "containsvalue" => match arg(0) {
            Value::Array(items) => {
                from_tri(any_tri(items.iter().map(|alts| element_eq(alts, arg(1)))))
            }
            Value::Object(o) => from_tri(any_tri(
                o.fields.iter().map(|(_, alts)| element_eq(alts, arg(1))),
            )),
            Value::Unknown => Value::Unknown,
            other => from_tri(eq_tri(other, arg(1))),
        },
        "contains" | "startswith" | "endswith" => match (text_of(arg(0)), text_of(arg(1))) {
            (Some(h), Some(n)) if !matches!(arg(0), Value::Unknown) => {
                let (h, n) = (h.to_ascii_lowercase(), n.to_ascii_lowercase());
                Value::Bool(match name {
                    "contains" => h.contains(&n),
                    "startswith" => h.starts_with(&n),
                    _ => h.ends_with(&n),
                })
            }
            _ => Value::Unknown,
        },
        "coalesce" => {
            for x in a {
                match x {
                    Value::Unknown => return (Value::Unknown, None),
                    Value::Null => {}
                    Value::Str(t) if t.s.is_empty() => {}
                    other => return ((*other).clone(), None),
                }
            }
            Value::Null
        }
        "format" => format(a),
        "replace" => match (text_of(arg(0)), text_of(arg(1)), text_of(arg(2))) {
            (Some(s), Some(old), Some(new)) if !old.is_empty() => {
                built(s.replace(&old, &new), &[arg(0), arg(2)])
            }
            (Some(s), Some(_), Some(_)) => built(s, &[arg(0)]),
            _ => Value::Unknown,
        },
        "lower" | "upper" | "trim" => match text_of(arg(0)) {
            Some(s) => built(
                match name {
                    "lower" => s.to_lowercase(),
                    "upper" => s.to_uppercase(),
                    _ => s.trim().to_string(),
                },
                &[arg(0)],
            ),
            None => Value::Unknown,
        },
        "length" => match arg(0) {
            Value::Str(t) => Value::Number(t.s.chars().count() as f64),
            Value::Array(items) => Value::Number(items.len() as f64),
            Value::Object(o) => Value::Number(o.fields.len() as f64),
            Value::Null => Value::Number(0.0),
            _ => Value::Unknown,
        },
        "join" => match (text_of(arg(0)), arg(1)) {
            (Some(sep), Value::Array(items)) => {
                let mut texts = Vec::new();
                for item in items.iter() {
                    match item.0.as_slice() {
                        [one] => match one.as_text() {
                            Some(t) => texts.push(t),
                            None => return (Value::Unknown, None),
                        },
                        _ => return (Value::Unknown, None),
                    }
                }
                Value::str(&texts.join(&sep), Origin::None)
            }
            _ => Value::Unknown,
        },
        "split" => match (text_of(arg(0)), text_of(arg(1))) {
            (Some(s), Some(sep)) if !matches!(arg(0), Value::Unknown) && !sep.is_empty() => {
                Value::Array(Rc::new(
                    s.split(sep.as_str())
                        .map(|p| Alts::one(built(p.to_string(), &[arg(0)])))
                        .collect(),
                ))
            }
            _ => Value::Unknown,
        },
        "iif" => match truthy(arg(0)) {
            Tri::True => arg(1).clone(),
            Tri::False => arg(2).clone(),
            Tri::Unknown => return (arg(1).clone(), Some(arg(2).clone())),
        },
        "le" => compare(|o| o.is_le()),
        "lt" => compare(|o| o.is_lt()),
        "ge" => compare(|o| o.is_ge()),
        "gt" => compare(|o| o.is_gt()),
        _ => Value::Unknown,
    };
    (v, None)
}

/// Does a collection element (itself a set of possibilities) equal `needle`?
fn element_eq(alts: &Alts, needle: &Value) -> Tri {
    let mut seen = None;
    for v in &alts.0 {
        let t = eq_tri(v, needle);
        if t == Tri::Unknown || seen.is_some_and(|s| s != t) {
            return Tri::Unknown;
        }
        seen = Some(t);
    }
    seen.unwrap_or(Tri::Unknown)
}

/// `format('{0}:{1}', a, b)`: `{N}` placeholders, `{{`/`}}` escapes.
fn format(a: &[&Value]) -> Value {
    let Some(Some(fmt)) = a.first().map(|v| text_of(v)) else {
        return Value::Unknown;
    };
    let mut out = String::new();
    let mut used: Vec<&Value> = Vec::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut digits = String::new();
                for d in chars.by_ref() {
                    if d == '}' {
                        break;
                    }
                    digits.push(d);
                }
                let Some(v) = digits
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| a.get(i + 1))
                else {
                    return Value::Unknown;
                };
                match v.as_text() {
                    Some(t) if !matches!(v, Value::Unknown) => {
                        out.push_str(&t);
                        used.push(v);
                    }
                    _ => return Value::Unknown,
                }
            }
            other => out.push(other),
        }
    }
    built(out, &used)
}

/// An object built by the engine from fields (for `each` over a mapping: `{key, value}`).
pub fn pair_object(key: &Text, value: &Alts) -> Value {
    Value::Object(Rc::new(Object {
        fields: vec![
            (Text::bare("key"), Alts::one(Value::Str(key.clone()))),
            (Text::bare("value"), value.clone()),
        ],
        meta: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::super::expr::parse;
    use super::*;

    fn scope_with(params: Vec<(&str, Alts)>) -> Scope {
        Scope {
            params: Alts::one(Value::Object(Rc::new(Object {
                fields: params
                    .into_iter()
                    .map(|(k, v)| (Text::bare(k), v))
                    .collect(),
                meta: None,
            }))),
            ..Scope::default()
        }
    }

    /// `src` parsed and handed to a fresh evaluator.
    fn with_eval<R>(src: &str, f: impl FnOnce(&Eval<'_>, &Expr) -> R) -> R {
        let capped = Cell::new(false);
        let ev = Eval {
            base: None,
            capped: &capped,
        };
        f(&ev, &parse(src).expect("parses"))
    }

    fn run(src: &str, scope: &Scope) -> Alts {
        with_eval(src, |ev, e| ev.eval(e, scope))
    }

    fn condition(src: &str, scope: &Scope) -> Tri {
        with_eval(src, |ev, e| ev.condition(e, scope))
    }

    fn s(v: &str) -> Value {
        Value::str(v, Origin::None)
    }

    #[test]
    fn format_coalesce_and_replace() {
        let scope = scope_with(vec![
            ("image", Alts(vec![s("a"), s("b")])),
            ("empty", Alts::one(s(""))),
        ]);
        let got: Vec<String> = run("format('{0}:{1}', 'mcr/p', parameters.image)", &scope)
            .texts()
            .map(|t| t.s.to_string())
            .collect();
        assert_eq!(got, ["mcr/p:a", "mcr/p:b"]);
        let got = run(
            "coalesce(parameters.empty, parameters.missing, 'x')",
            &scope,
        );
        assert_eq!(got.texts().next().map(|t| &*t.s), Some("x"));
        let got = run("upper(replace('a-b', '-', '_'))", &scope);
        assert_eq!(got.texts().next().map(|t| &*t.s), Some("A_B"));
        assert_eq!(
            run("format('{{{0}}}', 1)", &scope)
                .texts()
                .next()
                .map(|t| t.s.to_string()),
            Some("{1}".to_string())
        );
    }

    #[test]
    fn conditions_decide_or_stay_unknown() {
        let scope = scope_with(vec![
            ("reg", Alts::one(s("MCR"))),
            ("flag", Alts::one(Value::Bool(true))),
            (
                "list",
                Alts::one(Value::Array(Rc::new(vec![Alts::one(s("Linux_x64"))]))),
            ),
        ]);
        let cond = |src: &str| condition(src, &scope);
        assert_eq!(cond("eq(parameters.reg, 'mcr')"), Tri::True);
        assert_eq!(cond("ne(parameters.reg, 'mcr')"), Tri::False);
        assert_eq!(cond("eq(parameters.flag, 'true')"), Tri::True);
        assert_eq!(
            cond("containsValue(parameters.list, 'linux_x64')"),
            Tri::True
        );
        assert_eq!(cond("in(parameters.reg, 'a', 'mcr')"), Tri::True);
        assert_eq!(cond("notIn(parameters.reg, 'a', 'mcr')"), Tri::False);
        assert_eq!(
            cond("eq(variables['Build.Reason'], 'PullRequest')"),
            Tri::Unknown
        );
        assert_eq!(
            cond("and(eq(variables['Build.Reason'], 'PullRequest'), false)"),
            Tri::False
        );
        assert_eq!(cond("startsWith(parameters.reg, 'm')"), Tri::True);
        assert_eq!(cond("not(endsWith(parameters.reg, 'x'))"), Tri::True);
        assert_eq!(cond("someFunction(1)"), Tri::Unknown);
        assert_eq!(cond("eq(parameters.missing, '')"), Tri::True);
        assert_eq!(cond("lower('ABC')"), Tri::True);
    }

    #[test]
    fn comparisons_truthiness_and_lengths() {
        let scope = scope_with(vec![
            ("n", Alts::one(Value::Number(2.0))),
            ("zero", Alts::one(Value::Number(0.0))),
            ("nothing", Alts::one(Value::Null)),
            ("v", Alts::one(s("b"))),
        ]);
        for (src, want) in [
            // A number against text that reads as a number compares as numbers.
            ("lt(parameters.n, '10')", Tri::True),
            ("gt(parameters.n, '10')", Tri::False),
            ("le(parameters.n, 2)", Tri::True),
            ("ge(parameters.n, 3)", Tri::False),
            // Texts compare case-insensitively, in order.
            ("lt(parameters.v, 'C')", Tri::True),
            ("lt('a', parameters.v)", Tri::True),
            ("lt('c', parameters.v)", Tri::False),
            ("gt('c', parameters.v)", Tri::True),
            ("lt(parameters.n, 'x')", Tri::Unknown),
            // Zero, null and the empty text are false; other numbers are true.
            ("parameters.zero", Tri::False),
            ("parameters.n", Tri::True),
            ("parameters.nothing", Tri::False),
        ] {
            assert_eq!(condition(src, &scope), want, "{src}");
        }
        assert_eq!(truthy(&Value::Number(0.0)), Tri::False);
        assert_eq!(truthy(&Value::Number(-1.0)), Tri::True);
        let length = |src: &str| match run(src, &scope).0.as_slice() {
            [Value::Number(n)] => Some(*n),
            _ => None,
        };
        assert_eq!(length("length(parameters.nothing)"), Some(0.0));
        assert_eq!(length("length('abc')"), Some(3.0));
    }

    #[test]
    fn joins_and_loose_equality() {
        let list = Alts::one(Value::Array(Rc::new(vec![
            Alts::one(s("a")),
            Alts::one(s("b")),
        ])));
        let scope = scope_with(vec![("list", list)]);
        let text = |src: &str| run(src, &scope).texts().next().map(|t| t.s.to_string());
        assert_eq!(text("join(', ', parameters.list)").as_deref(), Some("a, b"));
        assert_eq!(condition("eq(true, 1)", &scope), Tri::True);
        assert_eq!(condition("eq(0, false)", &scope), Tri::True);
        assert_eq!(condition("eq(true, 0)", &scope), Tri::False);
    }

    /// A field of a value with several possibilities is read from each of them.
    #[test]
    fn fields_of_many_valued_objects_are_read_from_each() {
        let object = |image: &str| {
            Value::Object(Rc::new(Object {
                fields: vec![(Text::bare("image"), Alts::one(s(image)))],
                meta: None,
            }))
        };
        let scope = scope_with(vec![("c", Alts(vec![object("a:1"), object("b:2")]))]);
        let got: Vec<String> = run("parameters.c.image", &scope)
            .texts()
            .map(|t| t.s.to_string())
            .collect();
        assert_eq!(got, ["a:1", "b:2"]);
        // A field of a possibility that is not known is not known either.
        let scope = scope_with(vec![("c", Alts(vec![object("a:1"), Value::Unknown]))]);
        let got = run("parameters.c.image", &scope);
        assert_eq!(got.0.len(), 2, "{got:?}");
        assert!(
            matches!(&got.0[0], Value::Str(t) if &*t.s == "a:1"),
            "{got:?}"
        );
        assert_eq!(got.0[1], Value::Unknown);
    }

    /// A condition over several possibilities is decided when they all agree, whatever
    /// their values, and unknown when they do not.
    #[test]
    fn conditions_over_several_possibilities() {
        let scope = scope_with(vec![
            ("words", Alts(vec![s("a"), s("b")])),
            ("blanks", Alts(vec![s(""), Value::Null])),
            ("mixed", Alts(vec![s("a"), s("")])),
        ]);
        assert_eq!(condition("parameters.words", &scope), Tri::True);
        assert_eq!(condition("parameters.blanks", &scope), Tri::False);
        assert_eq!(condition("parameters.mixed", &scope), Tri::Unknown);
    }

    /// A function of several many-valued arguments is tried on every combination up to the
    /// cap, the last one included.
    #[test]
    fn every_combination_up_to_the_cap_is_tried() {
        let a = Alts((0..16).map(|i| s(&format!("x{i}"))).collect());
        // Only the last combination (x15, x15) is equal.
        let b = Alts(
            (0..16)
                .map(|i| {
                    s(&if i == 15 {
                        "x15".to_string()
                    } else {
                        format!("y{i}")
                    })
                })
                .collect(),
        );
        assert_eq!(a.0.len() * b.0.len(), MAX_ALTS * 4);
        let scope = scope_with(vec![("a", a), ("b", b)]);
        let capped = Cell::new(false);
        let got = Eval {
            base: None,
            capped: &capped,
        }
        .eval(
            &parse("eq(parameters.a, parameters.b)").expect("parses"),
            &scope,
        );
        assert_eq!(got.0, [Value::Bool(false), Value::Bool(true)]);
        assert!(!capped.get());
    }

    /// `split` with an empty separator is not known (it does not cut between characters).
    #[test]
    fn split_needs_a_separator() {
        let scope = Scope::default();
        assert_eq!(run("split('a,b', '')", &scope).0, [Value::Unknown]);
        let parts: Vec<Vec<String>> = run("split('a,b', ',')", &scope)
            .0
            .iter()
            .map(|v| match v {
                Value::Array(items) => items
                    .iter()
                    .flat_map(|i| i.texts().map(|t| t.s.to_string()))
                    .collect(),
                _ => Vec::new(),
            })
            .collect();
        assert_eq!(parts, [["a", "b"]]);
    }

    /// Every value of `alts`, written for reading: texts quoted, `?` for unknown.
    fn shown(alts: &Alts) -> Vec<String> {
        alts.0
            .iter()
            .map(|v| match v {
                Value::Str(t) => format!("'{}'", t.s),
                Value::Array(items) => format!(
                    "[{}]",
                    items.iter().flat_map(shown).collect::<Vec<_>>().join(", ")
                ),
                Value::Object(o) => format!("{{{} fields}}", o.fields.len()),
                Value::Unknown => "?".to_string(),
                Value::Null => "null".to_string(),
                other => other.as_text().unwrap_or_default(),
            })
            .collect()
    }

    /// The functions and conversions of the expression language, one expression at a time:
    /// what each gives for known values, and that anything unknown it depends on leaves the
    /// result unknown.
    #[test]
    fn functions_follow_the_expression_language() {
        let object = Value::Object(Rc::new(Object {
            fields: vec![
                (Text::bare("k"), Alts::one(s("v"))),
                (Text::bare("n"), Alts::one(Value::Number(1.0))),
                (Text::bare("8"), Alts::one(s("eight"))),
                (Text::bare("build_image-2"), Alts::one(s("u"))),
            ],
            meta: None,
        }));
        let list = Value::Array(Rc::new(vec![Alts::one(s("a")), Alts::one(s("b"))]));
        let mut scope = scope_with(vec![
            ("s", Alts::one(s("Abc"))),
            ("list", Alts::one(list)),
            ("obj", Alts::one(object)),
            ("empty", Alts::one(s(""))),
            ("nothing", Alts::one(Value::Null)),
            ("unknown", Alts::unknown()),
            (
                "either",
                Alts::one(Value::Array(Rc::new(vec![Alts(vec![s("a"), s("b")])]))),
            ),
        ]);
        scope.vars = Rc::new(vec![("os".to_string(), Alts::one(s("Linux")))]);
        let cases: &[(&str, &[&str])] = &[
            // Boolean functions: decided by what is known, unknown otherwise.
            ("or(false, 0, '')", &["False"]),
            ("or(false, 'x')", &["True"]),
            ("or(false, variables['Build.Reason'])", &["?"]),
            ("or(variables['Build.Reason'], true)", &["True"]),
            ("and(true, 1, 'x')", &["True"]),
            ("and(true, variables['Build.Reason'])", &["?"]),
            ("not(variables['Build.Reason'])", &["?"]),
            ("xor(true, false)", &["True"]),
            ("xor(true, 1)", &["False"]),
            ("xor(true, variables['Build.Reason'])", &["?"]),
            // Texts, ignoring ASCII case.
            ("contains(parameters.s, 'BC')", &["True"]),
            ("contains('abc', 'd')", &["False"]),
            ("contains('abc', 'B')", &["True"]),
            ("endsWith('abc', 'BC')", &["True"]),
            ("startsWith('abc', 'b')", &["False"]),
            ("startsWith(variables['Build.Reason'], 'a')", &["?"]),
            ("EQ('a', 'A')", &["True"]),
            // Collections: values of a mapping, not its keys; a scalar is compared.
            ("containsValue(parameters.obj, 'V')", &["True"]),
            ("containsValue(parameters.obj, 'k')", &["False"]),
            ("containsValue(parameters.list, 'c')", &["False"]),
            ("containsValue(parameters.unknown, 'a')", &["?"]),
            ("containsValue('abc', 'ABC')", &["True"]),
            // An item that may be one of several values may or may not be the one.
            ("containsValue(parameters.either, 'a')", &["?"]),
            ("containsValue(parameters.either, 'c')", &["False"]),
            ("in('b', 'a', 'B')", &["True"]),
            ("in('c', 'a', variables['Build.Reason'])", &["?"]),
            ("notIn('c', 'a', 'b')", &["True"]),
            ("length(parameters.list)", &["2"]),
            ("length(parameters.obj)", &["4"]),
            ("length('héllo')", &["5"]),
            ("length(1)", &["?"]),
            ("join('-', parameters.s)", &["?"]),
            ("split('a-b', '-')", &["['a', 'b']"]),
            // `iif` takes one branch, or both when its condition is not known.
            ("iif(true, 'a', 'b')", &["'a'"]),
            ("iif(0, 'a', 'b')", &["'b'"]),
            ("iif(variables['Build.Reason'], 'a', 'b')", &["'a'", "'b'"]),
            // Texts built.
            ("trim('  a b ')", &["'a b'"]),
            ("lower(parameters.s)", &["'abc'"]),
            ("replace('abc', '', 'x')", &["'abc'"]),
            ("coalesce(parameters.nothing, parameters.empty)", &["null"]),
            ("coalesce('', 0, 'x')", &["0"]),
            ("coalesce(variables['Build.Reason'], 'a')", &["?"]),
            ("format('{0}/{1}', 1.5, true)", &["'1.5/True'"]),
            ("format('{0}-{1}', 'a')", &["?"]),
            ("format('{x}', 'a')", &["?"]),
            ("format('a}b{0}', 1)", &["'a}b1'"]),
            ("format('{0}', variables['Build.Reason'])", &["?"]),
            // Comparisons convert the right operand to the left one's type.
            ("eq(parameters.nothing, '')", &["True"]),
            ("eq(null, 0)", &["False"]),
            ("eq(2, ' 2 ')", &["True"]),
            ("eq('True', true)", &["True"]),
            ("eq(true, true)", &["True"]),
            ("eq(false, true)", &["False"]),
            ("eq(parameters.list, parameters.list)", &["True"]),
            ("eq(parameters.list, parameters.obj)", &["False"]),
            ("eq(parameters.obj, parameters.obj)", &["True"]),
            ("eq(null, parameters.nothing)", &["True"]),
            // Collections are true.
            ("iif(parameters.list, 'a', 'b')", &["'a'"]),
            ("iif(parameters.obj, 'a', 'b')", &["'a'"]),
            ("ne(variables['Build.Reason'], 'a')", &["?"]),
            ("ge('b', 'B')", &["True"]),
            ("lt(-2, -1.5)", &["True"]),
            ("eq(.5, 0.5)", &["True"]),
            ("gt(variables['Build.Reason'], 1)", &["?"]),
            // Paths: fields, items, compile-time variables; a missing one is null.
            ("parameters.obj['k']", &["'v'"]),
            ("parameters.obj.n", &["1"]),
            ("parameters.obj.build_image-2", &["'u'"]),
            // A number indexes a mapping by its text.
            ("parameters.obj[8]", &["'eight'"]),
            ("parameters.obj[9]", &["null"]),
            ("parameters.list[1]", &["'b'"]),
            ("parameters.list[2]", &["null"]),
            ("parameters.list[0.5]", &["null"]),
            ("parameters.list[-1]", &["null"]),
            ("parameters.unknown.field", &["?"]),
            ("parameters.list[parameters.unknown]", &["?"]),
            ("parameters.s.length", &["null"]),
            ("parameters.missing", &["null"]),
            ("variables.OS", &["'Linux'"]),
            ("variables['Build.Reason']", &["?"]),
            ("somename", &["?"]),
            // Unknown functions give unknown values.
            ("someVeryLongFunctionName(1)", &["?"]),
            ("frobnicate(1)", &["?"]),
        ];
        for (src, want) in cases {
            assert_eq!(shown(&run(src, &scope)), want.to_vec(), "{src}");
        }
        // A template analysed on its own: a parameter it does not declare is unknown.
        scope.params_open = true;
        assert_eq!(shown(&run("parameters.missing", &scope)), ["?"]);
        assert_eq!(shown(&run("parameters.s", &scope)), ["'Abc'"]);
    }

    /// A string literal of an expression whose text sits in a file is placed at its text
    /// there, inside the quotes.
    #[test]
    fn string_literals_are_placed_inside_their_quotes() {
        let capped = Cell::new(false);
        let ev = Eval {
            base: Some((2, 100)),
            capped: &capped,
        };
        let got = ev.eval(&parse("  'ab'").expect("parses"), &Scope::default());
        assert_eq!(
            got.0,
            [Value::str(
                "ab",
                Origin::Literal(Loc {
                    file: 2,
                    span: 103..105
                })
            )]
        );
    }

    #[test]
    fn alternatives_are_capped() {
        let many = Alts((0..64).map(|i| s(&i.to_string())).collect());
        let scope = scope_with(vec![("a", many.clone()), ("b", many)]);
        let capped = Cell::new(false);
        let got = Eval {
            base: None,
            capped: &capped,
        }
        .eval(
            &parse("format('{0}{1}', parameters.a, parameters.b)").expect("parses"),
            &scope,
        );
        assert!(got.0.len() <= MAX_ALTS);
        assert!(capped.get());
    }
}
