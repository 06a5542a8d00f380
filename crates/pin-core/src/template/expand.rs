//! Template expansion, the way the Azure Pipelines preprocessor does it: a file's tree is
//! rebuilt with `${{ }}` evaluated, `${{ if }}` / `elseif` / `else` branches chosen,
//! `${{ each }}` unrolled, `${{ insert }}` merged, and `template:` references (in lists and
//! under `extends:`) replaced by the expanded template, bound to its arguments.
//!
//! Where a condition cannot be decided every branch is kept, so the result over-approximates
//! what can run. Work is bounded: include depth, an include stack (cycles are reported, not
//! followed) and a node budget per root.

use std::cell::Cell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;
use std::sync::Arc;

use super::eval::{pair_object, Eval, Scope, Tri};
use super::expr::{self, Directive};
use super::repo::{self, Repository, Target};
use super::value::{Alts, FileId, Loc, Meta, Object, Origin, Text, Value};
use crate::yaml::{Node, Style, Value as YValue};

/// Deepest template nesting followed (Azure Pipelines allows 100 files in total; real
/// pipelines stay far below this).
const MAX_DEPTH: usize = 40;

/// Nodes expanded per root before expansion stops following templates.
pub const NODE_BUDGET: usize = 400_000;

/// A template reference that was not expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfollowed {
    /// The reference as written/evaluated.
    pub reference: String,
    /// The `template:` value's place.
    pub at: Loc,
    /// Why: external repository, missing file, unknown path.
    pub reason: UnfollowedReason,
}

/// Why a template reference was not expanded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnfollowedReason {
    /// `file@repo` in another repository.
    External,
    /// No such file among those handed in.
    Missing,
    /// The path is an expression whose value is not known.
    Unknown,
}

/// An include cycle: `at` is the `template:` that would re-enter a file on the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    /// The `template:` value.
    pub at: Loc,
    /// The files of the cycle, from the re-entered one to the including one.
    pub files: Vec<FileId>,
}

/// Expansion state for one root (an entry point or a template analysed on its own).
pub struct Engine<'r, 't> {
    repo: &'r Repository<'t>,
    stack: Vec<FileId>,
    nodes: usize,
    /// Raised when a set of possibilities hit the cap.
    pub capped: Cell<bool>,
    /// Raised when the node budget or the depth limit stopped expansion.
    pub truncated: bool,
    /// Template references not followed.
    pub unfollowed: Vec<Unfollowed>,
    /// Include cycles met.
    pub cycles: Vec<Cycle>,
    /// Every file expanded.
    pub visited: Vec<FileId>,
    /// Every file whose tree this root's expansion read (expanded, or whose parameters it
    /// took), with repetitions.
    pub reads: Vec<FileId>,
    /// Nodes the file facts this root took would have counted, had it computed each of them
    /// itself ([`Engine::independent`]).
    facts_nodes: usize,
    /// The file facts this root took, each once.
    facts_taken: Vec<FileId>,
    /// Raised when this root took file facts whose computation depended on where it happened.
    facts_dependent: bool,
    /// Template calls made so far (to tell whether computing file facts made any).
    calls: usize,
    /// Per-file parameters and variables, computed once for all roots.
    files: HashMap<FileId, Rc<FileFacts>>,
    /// The `${{ }}` of scalars, parsed once, by (file, scalar start).
    scalars: HashMap<(FileId, usize), Rc<ParsedScalar>>,
    /// Parsed directive keys by (file, key start).
    directives: HashMap<(FileId, usize), Option<ParsedDirective>>,
    /// Above zero while expanding a value that expressions can read (template arguments,
    /// parameter defaults): inert subtrees are expanded in full there.
    reading: usize,
    /// Per YAML collection node (by address): `Some(n)` when it is inert (see
    /// [`Engine::inert`]) and expanding it would count `n` nodes, `None` when it is not.
    inert: HashMap<usize, Option<usize>, BuildHasherDefault<AddressHasher>>,
    /// The value standing for an inert subtree.
    stand_in: Rc<Vec<Alts>>,
    /// The trees of the files this engine read, kept as long as it lives: the caches above
    /// know nodes by their address, which must not be reused for another node meanwhile;
    /// and a file is parsed once for all the roots the engine expands, in a model that keeps
    /// no trees ([`Repository::tree`]).
    trees: HashMap<FileId, Option<Arc<Node<'t>>>>,
    /// Inert collections already expanded, by node address: an inert subtree expands to the
    /// same value in every scope, so it is built once and shared.
    shared: HashMap<usize, Value, BuildHasherDefault<AddressHasher>>,
}

/// Hashes node addresses (distinct, aligned `usize`s): a multiply is enough.
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(26);
    }
}

/// Keys under which the scan of an expansion looks for images, resources or template
/// references (compared ignoring ASCII case): a subtree with none of them is inert.
const SCANNED_KEYS: &[&str] = &[
    "container",
    "containers",
    "services",
    "target",
    "image",
    "template",
];

/// Whether `s` holds `${{` (what `s.contains("${{")` says). Scalars and keys are short and
/// most hold no `$`: one pass over the bytes, looking further only at a `$`, is cheaper than
/// the general substring search, which the expansion asks for every scalar and key it meets.
fn opens_expression(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter()
        .enumerate()
        .any(|(i, &c)| c == b'$' && b.get(i + 1..i + 3) == Some(b"{{"))
}

fn scanned(key: &str) -> bool {
    SCANNED_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// A directive key parsed once; `Err` when it cannot be read (reported by the repository).
type ParsedDirective = Result<Rc<Directive>, ()>;

/// The `${{ }}` segments of one scalar and their expressions (`None` where one cannot be
/// read), split and parsed once for all the times expansion meets the scalar.
struct ParsedScalar {
    segments: Option<Vec<expr::Segment>>,
    exprs: Vec<Option<Rc<expr::Expr>>>,
}

/// What a file declares, prepared once: parameters with their expanded defaults, and its
/// top-level compile-time variables.
struct FileFacts {
    params: Vec<(String, Option<String>, Option<Alts>)>,
    vars: Vec<(String, Alts)>,
    /// Nodes computing them counted.
    nodes: usize,
    /// Computing them made no template call, met no unfollowed template, hit no limit and
    /// capped no set of possibilities: they are a function of the file's tree alone, and
    /// computing them had no effect on the root that did beyond `nodes`.
    pure: bool,
}

#[derive(Clone)]
struct Cx {
    file: FileId,
    scope: Scope,
    chain: Rc<[FileId]>,
}

/// State of an `if` / `elseif` / `else` chain.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Chain {
    /// A branch was certainly taken: the rest are skipped.
    Taken,
    /// No branch certainly taken; `all_false` when every earlier one was certainly not.
    Open { all_false: bool },
}

impl<'r, 't> Engine<'r, 't> {
    /// A fresh engine over `repo`.
    pub fn new(repo: &'r Repository<'t>) -> Self {
        Engine {
            repo,
            stack: Vec::new(),
            nodes: 0,
            capped: Cell::new(false),
            truncated: false,
            unfollowed: Vec::new(),
            cycles: Vec::new(),
            visited: Vec::new(),
            reads: Vec::new(),
            facts_nodes: 0,
            facts_taken: Vec::new(),
            facts_dependent: false,
            calls: 0,
            files: HashMap::new(),
            scalars: HashMap::new(),
            directives: HashMap::new(),
            reading: 0,
            inert: HashMap::default(),
            stand_in: Rc::new(Vec::new()),
            shared: HashMap::default(),
            trees: HashMap::new(),
        }
    }

    /// The tree of file `id` ([`Repository::tree`]), obtained once for this engine.
    pub fn tree(&mut self, id: FileId) -> Option<Arc<Node<'t>>> {
        let repo = self.repo;
        self.trees
            .entry(id)
            .or_insert_with(|| repo.tree(id))
            .clone()
    }

    /// Whether `node` is inert, and if so how many nodes expanding it would count.
    ///
    /// An inert subtree has no `${{ }}` anywhere (so it expands to itself whatever the scope),
    /// only plain scalar keys, and none of [`SCANNED_KEYS`]: the scan of an expansion finds
    /// nothing in it wherever it lands, and it raises no limit (no alternatives, no include).
    fn inert(&mut self, node: &Node<'t>) -> Option<usize> {
        match &node.value {
            YValue::Scalar(s, _) => (!opens_expression(s)).then_some(1),
            YValue::Alias => Some(1),
            YValue::Mapping(pairs) => {
                let address = std::ptr::from_ref(node) as usize;
                if let Some(&known) = self.inert.get(&address) {
                    return known;
                }
                let mut count = Some(1usize);
                for (k, v) in pairs {
                    let plain = k
                        .as_str()
                        .is_some_and(|key| !opens_expression(key) && !scanned(key.trim()));
                    count = match (count, plain) {
                        (Some(n), true) => self.inert(v).map(|c| n + 1 + c),
                        _ => None,
                    };
                    if count.is_none() {
                        break;
                    }
                }
                self.inert.insert(address, count);
                count
            }
            YValue::Sequence(items) => {
                let address = std::ptr::from_ref(node) as usize;
                if let Some(&known) = self.inert.get(&address) {
                    return known;
                }
                let mut count = Some(1usize);
                for item in items {
                    count = count.and_then(|n| self.inert(item).map(|c| n + 1 + c));
                    if count.is_none() {
                        break;
                    }
                }
                self.inert.insert(address, count);
                count
            }
        }
    }

    /// Expand `node`, written under `key` in a pipeline (not in a value expressions can
    /// read). An inert collection is not rebuilt: nothing reads its content, so an empty
    /// stand-in takes its place and its nodes are counted against the budget as expanding it
    /// would (when they fit; otherwise it is expanded and stops where the budget ends).
    fn expand_placed(&mut self, node: &Node<'t>, cx: &Cx, key: Option<&str>) -> Alts {
        if self.reading == 0
            && matches!(node.value, YValue::Mapping(_) | YValue::Sequence(_))
            && !key.is_some_and(scanned)
        {
            if let Some(n) = self.inert(node) {
                if self.nodes + n <= NODE_BUDGET {
                    self.nodes += n;
                    return Alts::one(Value::Array(self.stand_in.clone()));
                }
            }
        }
        self.expand(node, cx, key)
    }

    /// Expand a value that expressions can read (arguments, defaults): in full.
    fn expand_read(&mut self, node: &Node<'t>, cx: &Cx) -> Alts {
        self.reading += 1;
        let out = self.expand(node, cx, None);
        self.reading -= 1;
        out
    }

    /// Forget what the previous root found (the caches stay).
    pub fn reset(&mut self) {
        self.stack.clear();
        self.nodes = 0;
        self.capped.set(false);
        self.truncated = false;
        self.unfollowed.clear();
        self.cycles.clear();
        self.visited.clear();
        self.reads.clear();
        self.facts_nodes = 0;
        self.facts_taken.clear();
        self.facts_dependent = false;
    }

    /// Whether the last root's expansion is the same whatever roots this engine expanded
    /// before it (and so, whatever its caches held).
    ///
    /// The caches of parsed scalars and directives, of inert subtrees and of shared inert
    /// values give the same values whoever filled them. File facts (parameter defaults,
    /// expanded) are the exception: the root that computes them counts their nodes against
    /// its budget and a root that finds them cached does not, and a computation that made
    /// template calls, met unfollowed templates, capped possibilities or hit a limit depends
    /// on the root that made it (its include stack, its budget) and leaves its marks on that
    /// root only. So the result is independent when every file fact the root took was pure and
    /// the root stays within its budget even when counting every one of them itself: the
    /// budget decides only through comparisons of a count that only grows, so a count that
    /// never passes it on the higher path never passes it on any lower one.
    pub fn independent(&self) -> bool {
        !self.truncated && !self.facts_dependent && self.nodes + self.facts_nodes <= NODE_BUDGET
    }

    /// Parameters (defaults expanded) and variables of file `id`, cached.
    fn file_facts(&mut self, id: FileId) -> Rc<FileFacts> {
        self.reads.push(id);
        let facts = match self.files.get(&id) {
            Some(f) => f.clone(),
            None => self.compute_file_facts(id),
        };
        if !self.facts_taken.contains(&id) {
            self.facts_taken.push(id);
            self.facts_nodes += facts.nodes;
            self.facts_dependent |= !facts.pure;
        }
        facts
    }

    /// [`Engine::file_facts`], computed and cached.
    fn compute_file_facts(&mut self, id: FileId) -> Rc<FileFacts> {
        let (nodes, calls) = (self.nodes, self.calls);
        let (unfollowed, cycles) = (self.unfollowed.len(), self.cycles.len());
        let capped = self.capped.replace(false);
        let truncated = std::mem::replace(&mut self.truncated, false);
        let cx = Cx {
            file: id,
            scope: Scope::default(),
            chain: Rc::from(vec![id]),
        };
        let tree = self.tree(id);
        let mut params = Vec::new();
        for p in tree.as_deref().map(repo::params).unwrap_or_default() {
            let default = p.default.map(|d| typed(self.expand_read(d, &cx), p.ty));
            params.push((p.name.to_string(), p.ty.map(str::to_string), default));
        }
        let vars = tree.as_deref().map(file_variables).unwrap_or_default();
        let pure = self.calls == calls
            && self.unfollowed.len() == unfollowed
            && self.cycles.len() == cycles
            && !self.capped.get()
            && !self.truncated;
        self.capped.set(capped || self.capped.get());
        self.truncated |= truncated;
        let facts = Rc::new(FileFacts {
            params,
            vars,
            nodes: self.nodes - nodes,
            pure,
        });
        self.files.insert(id, facts.clone());
        facts
    }

    /// The `${{ }}` of the scalar of `file` at `start` whose text is `decoded`, split and
    /// parsed on first use.
    fn parsed(&mut self, file: FileId, start: usize, decoded: &str) -> Rc<ParsedScalar> {
        self.scalars
            .entry((file, start))
            .or_insert_with(|| {
                let segments = expr::segments(decoded).ok();
                let exprs = segments
                    .iter()
                    .flatten()
                    .map(|seg| expr::parse(&decoded[seg.inner.clone()]).ok().map(Rc::new));
                let exprs = exprs.collect();
                Rc::new(ParsedScalar { segments, exprs })
            })
            .clone()
    }

    /// Expand file `id` as a root. `standalone`: its callers are unknown, so each parameter
    /// may be its default or anything (conditions on parameters are explored both ways).
    pub fn expand_root(&mut self, id: FileId, standalone: bool) -> Option<Alts> {
        self.reads.push(id);
        let root = self.tree(id)?;
        let facts = self.file_facts(id);
        let mut fields = Vec::new();
        for (name, _, default) in &facts.params {
            let mut alts = default.clone().unwrap_or_default();
            if standalone || alts.0.is_empty() {
                alts.push(Value::Unknown);
            }
            fields.push((Text::bare(name), alts));
        }
        let scope = Scope {
            params: Alts::one(Value::Object(Rc::new(Object { fields, meta: None }))),
            params_open: standalone,
            vars: Rc::new(facts.vars.clone()),
            locals: Rc::new(Vec::new()),
        };
        let cx = Cx {
            file: id,
            scope,
            chain: Rc::from(vec![id]),
        };
        self.stack.push(id);
        self.visited.push(id);
        let out = self.document(&root, &cx);
        self.stack.pop();
        Some(out)
    }

    fn document(&mut self, root: &Node<'t>, cx: &Cx) -> Alts {
        let mut fields = Builder::new(meta_of(root, cx, false));
        self.fill_mapping(root, cx, &mut fields, true, true);
        Alts::one(fields.finish())
    }

    /// Set a mapping key, noting when the cap dropped possibilities.
    fn put(&self, b: &mut Builder, key: Text, value: Alts, certain: bool) {
        if !b.set(key, value, certain) {
            self.capped.set(true);
        }
    }

    fn tick(&mut self) -> bool {
        self.nodes += 1;
        if self.nodes > NODE_BUDGET {
            self.truncated = true;
            return false;
        }
        true
    }

    fn evaluator(&self, base: Option<(FileId, usize)>) -> Eval<'_> {
        Eval {
            base,
            capped: &self.capped,
        }
    }

    /// Expand any node. `key` is the key it sits under (lists of `stages`/`jobs`/`steps`
    /// splice the matching list of an included template).
    fn expand(&mut self, node: &Node<'t>, cx: &Cx, key: Option<&str>) -> Alts {
        if matches!(node.value, YValue::Mapping(_) | YValue::Sequence(_)) {
            if let Some(n) = self.inert(node) {
                if self.nodes + n <= NODE_BUDGET {
                    let address = std::ptr::from_ref(node) as usize;
                    if let Some(v) = self.shared.get(&address) {
                        self.nodes += n;
                        return Alts::one(v.clone());
                    }
                    let out = self.build(node, cx, key);
                    if let [v] = out.0.as_slice() {
                        self.shared.insert(address, v.clone());
                    }
                    return out;
                }
            }
        }
        self.build(node, cx, key)
    }

    /// Expand `node` anew.
    fn build(&mut self, node: &Node<'t>, cx: &Cx, key: Option<&str>) -> Alts {
        if !self.tick() {
            return Alts::unknown();
        }
        match &node.value {
            YValue::Scalar(..) => self.scalar(node, cx),
            YValue::Mapping(_) => {
                let mut b = Builder::new(meta_of(node, cx, false));
                self.fill_mapping(node, cx, &mut b, true, false);
                Alts::one(b.finish())
            }
            YValue::Sequence(_) => {
                let mut items = Vec::new();
                self.fill_sequence(node, cx, key, &mut items);
                Alts::one(Value::Array(Rc::new(items)))
            }
            YValue::Alias => Alts::unknown(),
        }
    }

    fn scalar(&mut self, node: &Node<'t>, cx: &Cx) -> Alts {
        let Some(decoded) = node.as_str() else {
            return Alts::unknown();
        };
        let span = node.content_span();
        let text = self.repo.files[cx.file].text;
        let raw = text.get(span.clone()).unwrap_or_default();
        let exact = raw == decoded && !matches!(node.style(), Some(Style::Block));
        let lead = decoded.len() - decoded.trim_start().len();
        let trimmed = decoded.trim();
        let loc = Loc {
            file: cx.file,
            span: if exact {
                span.start + lead..span.start + lead + trimmed.len()
            } else {
                span.clone()
            },
        };
        if !opens_expression(decoded) {
            if node.style() == Some(Style::Plain) {
                match trimmed {
                    "" | "~" | "null" | "Null" | "NULL" => return Alts::one(Value::Null),
                    "true" | "True" | "TRUE" => return Alts::one(Value::Bool(true)),
                    "false" | "False" | "FALSE" => return Alts::one(Value::Bool(false)),
                    _ => {}
                }
                if let Ok(n) = trimmed.parse::<f64>() {
                    if trimmed
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
                    {
                        return Alts::one(Value::Number(n));
                    }
                }
            }
            return Alts::one(Value::str(trimmed, Origin::Literal(loc)));
        }
        let parsed = self.parsed(cx.file, node.span.start, decoded);
        let Some(segs) = &parsed.segments else {
            return Alts::unknown();
        };
        let base = |offset: usize| exact.then_some((cx.file, span.start + offset));
        // The whole value is one expression: its result keeps its type (an object stays one).
        if segs.len() == 1
            && decoded[..segs[0].outer.start].trim().is_empty()
            && decoded[segs[0].outer.end..].trim().is_empty()
        {
            let Some(Some(e)) = parsed.exprs.first() else {
                return Alts::unknown();
            };
            let out = self.evaluator(base(segs[0].inner.start)).eval(e, &cx.scope);
            return stamp(out, &loc);
        }
        // Interpolation: text around expressions; the result is a string built from parts.
        let mut results: Vec<(String, Vec<Loc>)> = vec![(String::new(), Vec::new())];
        let mut at = 0;
        for (seg, e) in segs.iter().zip(&parsed.exprs) {
            let piece = &decoded[at..seg.outer.start];
            for r in &mut results {
                r.0.push_str(piece);
            }
            if exact && !piece.trim().is_empty() {
                for r in &mut results {
                    r.1.push(Loc {
                        file: cx.file,
                        span: span.start + at..span.start + seg.outer.start,
                    });
                }
            }
            let Some(e) = e else {
                return Alts::unknown();
            };
            let values = self.evaluator(base(seg.inner.start)).eval(e, &cx.scope);
            let mut next = Vec::new();
            for r in &results {
                for v in &values.0 {
                    let Some(t) = v.as_text().filter(|_| !matches!(v, Value::Unknown)) else {
                        return Alts::unknown();
                    };
                    let mut parts = r.1.clone();
                    parts.extend(v.origin().parts());
                    next.push((format!("{}{t}", r.0), parts));
                    if next.len() >= super::value::MAX_ALTS {
                        self.capped.set(true);
                        break;
                    }
                }
            }
            results = next;
            at = seg.outer.end;
        }
        let tail = &decoded[at..];
        let mut out = Alts::default();
        for (mut s, mut parts) in results {
            s.push_str(tail);
            if exact && !tail.trim().is_empty() {
                parts.push(Loc {
                    file: cx.file,
                    span: span.start + at..span.start + decoded.len(),
                });
            }
            out.push(Value::str(
                s.trim(),
                Origin::built(Some(loc.clone()), parts),
            ));
        }
        out
    }

    /// Evaluate a directive condition written in key `k`.
    fn directive(&mut self, file: FileId, k: &Node<'t>) -> Option<ParsedDirective> {
        let s = k.as_str()?.trim();
        let inner = s.strip_prefix("${{")?.strip_suffix("}}")?;
        self.directives
            .entry((file, k.span.start))
            .or_insert_with(|| Some(expr::parse_directive(inner)?.map(Rc::new).map_err(|_| ())))
            .clone()
    }

    fn condition(&self, e: &expr::Expr, cx: &Cx) -> Tri {
        self.evaluator(None).condition(e, &cx.scope)
    }

    /// Decide whether a branch of an `if` chain is taken: `Some(certain)` or `None` (skipped).
    fn branch(&self, d: &Directive, chain: &mut Option<Chain>, cx: &Cx) -> Option<bool> {
        let cond = match d {
            Directive::If(e) => {
                *chain = Some(Chain::Open { all_false: true });
                self.condition(e, cx)
            }
            Directive::ElseIf(e) => match chain {
                Some(Chain::Taken) => return None,
                _ => self.condition(e, cx),
            },
            Directive::Else => match chain {
                Some(Chain::Taken) => return None,
                _ => Tri::True,
            },
            _ => return None,
        };
        let all_false = match chain {
            Some(Chain::Open { all_false }) => *all_false,
            _ => true,
        };
        match cond {
            Tri::False => None,
            Tri::True if all_false => {
                *chain = Some(Chain::Taken);
                Some(true)
            }
            _ => {
                *chain = Some(Chain::Open { all_false: false });
                Some(false)
            }
        }
    }

    /// Loop bindings of `${{ each name in coll }}`.
    fn each_bindings(&self, coll: &expr::Expr, cx: &Cx) -> Vec<(Alts, bool)> {
        let values = self.evaluator(None).eval(coll, &cx.scope);
        let single = values.0.len() == 1;
        let mut out = Vec::new();
        for v in &values.0 {
            match v {
                Value::Array(items) => {
                    out.extend(items.iter().map(|i| (i.clone(), single)));
                }
                Value::Object(o) => {
                    out.extend(
                        o.fields
                            .iter()
                            .map(|(k, v)| (Alts::one(pair_object(k, v)), single)),
                    );
                }
                Value::Unknown => out.push((Alts::unknown(), false)),
                _ => {}
            }
        }
        out
    }

    fn bind(cx: &Cx, name: &str, value: Alts) -> Cx {
        let mut locals = (*cx.scope.locals).clone();
        locals.push((name.to_string(), value));
        Cx {
            scope: Scope {
                locals: Rc::new(locals),
                ..cx.scope.clone()
            },
            ..cx.clone()
        }
    }

    fn fill_mapping(
        &mut self,
        node: &Node<'t>,
        cx: &Cx,
        b: &mut Builder,
        certain: bool,
        document: bool,
    ) {
        let Some(pairs) = node.as_mapping() else {
            return;
        };
        let mut chain: Option<Chain> = None;
        for (k, v) in pairs {
            if !self.tick() {
                return;
            }
            let Some(key) = k.as_str() else {
                continue;
            };
            if document && key == "parameters" {
                continue;
            }
            let parsed = self.directive(cx.file, k);
            match parsed.as_ref().map(|r| r.as_deref()) {
                Some(Ok(d @ (Directive::If(_) | Directive::ElseIf(_) | Directive::Else))) => {
                    if let Some(sure) = self.branch(d, &mut chain, cx) {
                        self.fill_mapping(v, cx, b, certain && sure, document);
                    }
                    continue;
                }
                Some(Ok(Directive::Each(name, coll))) => {
                    chain = None;
                    for (value, sure) in self.each_bindings(coll, cx) {
                        let inner = Self::bind(cx, name, value);
                        self.fill_mapping(v, &inner, b, certain && sure, document);
                    }
                    continue;
                }
                Some(Ok(Directive::Insert)) => {
                    chain = None;
                    let got = self.expand(v, cx, None);
                    let sure = got.0.len() == 1;
                    for alt in got.0 {
                        if let Value::Object(o) = alt {
                            for (fk, fv) in &o.fields {
                                self.put(b, fk.clone(), fv.clone(), certain && sure);
                            }
                        }
                    }
                    continue;
                }
                Some(Err(_)) => continue,
                None => {}
            }
            chain = None;
            if opens_expression(key) {
                // An expression key such as `${{ pair.key }}`.
                let keys = self.scalar(k, cx);
                let sure = keys.0.len() == 1;
                let value = self.expand(v, cx, None);
                for alt in keys.0 {
                    if let Some(t) = alt.as_text().filter(|_| !matches!(alt, Value::Unknown)) {
                        self.put(
                            b,
                            Text {
                                s: Rc::from(t.as_str()),
                                origin: alt.origin(),
                            },
                            value.clone(),
                            certain && sure,
                        );
                    }
                }
                continue;
            }
            let key_text = Text {
                s: Rc::from(key),
                origin: Origin::Literal(Loc {
                    file: cx.file,
                    span: k.content_span(),
                }),
            };
            if key == "extends" && v.get("template").is_some() {
                self.extends(v, cx, b, certain);
                continue;
            }
            let value = self.expand_placed(v, cx, Some(key));
            self.put(b, key_text, value, certain);
        }
    }

    fn fill_sequence(&mut self, node: &Node<'t>, cx: &Cx, key: Option<&str>, out: &mut Vec<Alts>) {
        let Some(seq) = node.as_sequence() else {
            return;
        };
        let mut chain: Option<Chain> = None;
        for item in seq {
            if !self.tick() {
                return;
            }
            if let Some(pairs) = item.as_mapping() {
                let directives: Vec<_> = pairs
                    .iter()
                    .map(|(k, _)| self.directive(cx.file, k))
                    .collect();
                if !pairs.is_empty() && directives.iter().all(Option::is_some) {
                    for ((_, v), d) in pairs.iter().zip(directives) {
                        match d.as_ref().map(|r| r.as_deref()) {
                            Some(Ok(
                                d @ (Directive::If(_) | Directive::ElseIf(_) | Directive::Else),
                            )) if self.branch(d, &mut chain, cx).is_some() => {
                                self.splice(v, cx, key, out);
                            }
                            Some(Ok(Directive::Each(name, coll))) => {
                                chain = None;
                                for (value, _) in self.each_bindings(coll, cx) {
                                    let inner = Self::bind(cx, name, value);
                                    self.splice(v, &inner, key, out);
                                }
                            }
                            Some(Ok(Directive::Insert)) => {
                                chain = None;
                                self.splice(v, cx, key, out);
                            }
                            _ => {}
                        }
                    }
                    continue;
                }
                chain = None;
                if item.get("template").is_some_and(|t| t.as_str().is_some())
                    && item.get("task").is_none()
                {
                    self.template_item(item, cx, key, out);
                    continue;
                }
            }
            chain = None;
            if item
                .as_str()
                .is_some_and(|s| s.trim_start().starts_with("${{"))
            {
                for alt in self.expand(item, cx, key).0 {
                    match alt {
                        Value::Array(items) => out.extend(items.iter().cloned()),
                        other => out.push(Alts::one(other)),
                    }
                }
                continue;
            }
            out.push(self.expand_placed(item, cx, key));
        }
    }

    /// The content of an `if`/`each` item in a sequence: a list is spliced, anything else
    /// is one item.
    fn splice(&mut self, v: &Node<'t>, cx: &Cx, key: Option<&str>, out: &mut Vec<Alts>) {
        match &v.value {
            YValue::Sequence(_) => self.fill_sequence(v, cx, key, out),
            YValue::Mapping(_) if v.get("template").is_some_and(|t| t.as_str().is_some()) => {
                self.template_item(v, cx, key, out)
            }
            _ => {
                for alt in self.expand(v, cx, key).0 {
                    match alt {
                        Value::Array(items) => out.extend(items.iter().cloned()),
                        other => out.push(Alts::one(other)),
                    }
                }
            }
        }
    }

    /// A `- template: x` list item: the template's matching list is spliced in.
    fn template_item(&mut self, item: &Node<'t>, cx: &Cx, key: Option<&str>, out: &mut Vec<Alts>) {
        let Some(path_node) = item.get("template") else {
            return;
        };
        let args = match item.get("parameters") {
            Some(p) => self.expand_read(p, cx),
            None => Alts::default(),
        };
        for (target, at, written) in self.targets(path_node, cx) {
            let content = match target {
                Some(id) => self.call(id, &args, cx, &at),
                None => None,
            };
            match content {
                Some(content) => {
                    for alt in content.0 {
                        let Value::Object(o) = alt else { continue };
                        let list = key.and_then(|k| o.get(k)).or_else(|| {
                            ["stages", "jobs", "steps", "variables"]
                                .iter()
                                .find_map(|k| o.get(k))
                        });
                        for l in list.into_iter().flat_map(|l| l.0.iter()) {
                            if let Value::Array(items) = l {
                                out.extend(items.iter().cloned());
                            }
                        }
                    }
                }
                None => out.push(Alts::one(unfollowed_object(&written, &args, cx, item))),
            }
        }
    }

    /// `extends: {template, parameters}`: the template's top-level keys are merged in place.
    fn extends(&mut self, v: &Node<'t>, cx: &Cx, b: &mut Builder, certain: bool) {
        let Some(path_node) = v.get("template") else {
            return;
        };
        let args = match v.get("parameters") {
            Some(p) => self.expand_read(p, cx),
            None => Alts::default(),
        };
        let targets = self.targets(path_node, cx);
        let sure = targets.len() == 1;
        for (target, at, written) in targets {
            let content = match target {
                Some(id) => self.call(id, &args, cx, &at),
                None => None,
            };
            match content {
                Some(content) => {
                    for alt in content.0 {
                        if let Value::Object(o) = alt {
                            for (k, fv) in &o.fields {
                                self.put(b, k.clone(), fv.clone(), certain && sure);
                            }
                        }
                    }
                }
                None => self.put(
                    b,
                    Text::bare("extends"),
                    Alts::one(unfollowed_object(&written, &args, cx, v)),
                    false,
                ),
            }
        }
    }

    /// Where a `template:` value points: one entry per possible path (`None` target when not
    /// followed), with the value's place and the path text.
    fn targets(&mut self, path_node: &Node<'t>, cx: &Cx) -> Vec<(Option<FileId>, Loc, String)> {
        let at = Loc {
            file: cx.file,
            span: path_node.content_span(),
        };
        let paths = self.scalar(path_node, cx);
        let mut out = Vec::new();
        for alt in paths.0 {
            let written = match &alt {
                Value::Str(t) => t.s.to_string(),
                _ => {
                    let written = path_node.as_str().unwrap_or_default().trim().to_string();
                    self.unfollowed.push(Unfollowed {
                        reference: written.clone(),
                        at: at.clone(),
                        reason: UnfollowedReason::Unknown,
                    });
                    if !out.iter().any(|(t, _, w): &(Option<FileId>, Loc, String)| {
                        t.is_none() && *w == written
                    }) {
                        out.push((None, at.clone(), written));
                    }
                    continue;
                }
            };
            match self.repo.resolve(cx.file, &written) {
                Target::File(id) => out.push((Some(id), at.clone(), written)),
                Target::External(r) => {
                    self.unfollowed.push(Unfollowed {
                        reference: r,
                        at: at.clone(),
                        reason: UnfollowedReason::External,
                    });
                    out.push((None, at.clone(), written));
                }
                Target::Missing(_) => {
                    self.unfollowed.push(Unfollowed {
                        reference: written.clone(),
                        at: at.clone(),
                        reason: UnfollowedReason::Missing,
                    });
                    out.push((None, at.clone(), written));
                }
            }
        }
        out
    }

    /// Expand template `id` with arguments `args` (alternatives of an object), called from
    /// `cx` at `at`. `None` when not followed (cycle, depth, budget).
    fn call(&mut self, id: FileId, args: &Alts, cx: &Cx, at: &Loc) -> Option<Alts> {
        self.calls += 1;
        self.reads.push(id);
        if let Some(pos) = self.stack.iter().position(|&f| f == id) {
            self.cycles.push(Cycle {
                at: at.clone(),
                files: self.stack[pos..].to_vec(),
            });
            return None;
        }
        if self.stack.len() >= MAX_DEPTH || self.nodes > NODE_BUDGET {
            self.truncated = true;
            return None;
        }
        let root = self.tree(id)?;
        let arg_objects: Vec<Rc<Object>> = args
            .0
            .iter()
            .filter_map(|a| match a {
                Value::Object(o) => Some(o.clone()),
                _ => None,
            })
            .collect();
        let sure = arg_objects.len() <= 1;
        let mut fields: Vec<(Text, Alts)> = Vec::new();
        let facts = self.file_facts(id);
        for (name, ty, default) in &facts.params {
            let mut alts = Alts::default();
            let mut given_everywhere = !arg_objects.is_empty();
            for o in &arg_objects {
                match o.get(name) {
                    Some(v) => {
                        alts.extend(v.clone());
                    }
                    None => given_everywhere = false,
                }
            }
            if !given_everywhere || !sure {
                if let Some(d) = default {
                    alts.extend(d.clone());
                }
            }
            if alts.0.is_empty() {
                alts.push(Value::Null);
            }
            fields.push((Text::bare(name), typed(alts, ty.as_deref())));
        }
        // Arguments a template does not declare are still visible to it (old map-style
        // templates commonly take them).
        for o in &arg_objects {
            for (k, v) in &o.fields {
                if !facts.params.iter().any(|p| p.0.eq_ignore_ascii_case(&k.s))
                    && !fields.iter().any(|(f, _)| f.s.eq_ignore_ascii_case(&k.s))
                {
                    fields.push((k.clone(), v.clone()));
                }
            }
        }
        let mut chain: Vec<FileId> = cx.chain.to_vec();
        chain.push(id);
        let mut vars = (*cx.scope.vars).clone();
        vars.extend(facts.vars.iter().cloned());
        let inner = Cx {
            file: id,
            scope: Scope {
                params: Alts::one(Value::Object(Rc::new(Object { fields, meta: None }))),
                params_open: false,
                vars: Rc::new(vars),
                locals: Rc::new(Vec::new()),
            },
            chain: Rc::from(chain),
        };
        self.stack.push(id);
        if !self.visited.contains(&id) {
            self.visited.push(id);
        }
        let out = self.document(&root, &inner);
        self.stack.pop();
        Some(out)
    }
}

/// Give a built value the place of the scalar whose expression produced it.
fn stamp(alts: Alts, loc: &Loc) -> Alts {
    Alts(
        alts.0
            .into_iter()
            .map(|v| match v {
                Value::Str(Text {
                    s,
                    origin: Origin::Built(b),
                }) if b.at.is_none() => Value::Str(Text {
                    s,
                    origin: Origin::built(Some(loc.clone()), b.parts.clone()),
                }),
                other => other,
            })
            .collect(),
    )
}

/// Convert declared `boolean` / `number` parameters from their written text.
fn typed(alts: Alts, ty: Option<&str>) -> Alts {
    match ty.map(str::to_ascii_lowercase).as_deref() {
        Some("boolean") => Alts(
            alts.0
                .into_iter()
                .map(|v| match &v {
                    Value::Str(t) if t.s.eq_ignore_ascii_case("true") => Value::Bool(true),
                    Value::Str(t) if t.s.eq_ignore_ascii_case("false") => Value::Bool(false),
                    _ => v,
                })
                .collect(),
        ),
        Some("number") => Alts(
            alts.0
                .into_iter()
                .map(|v| match &v {
                    Value::Str(t) => t.s.trim().parse().map_or(v.clone(), Value::Number),
                    _ => v,
                })
                .collect(),
        ),
        _ => alts,
    }
}

fn meta_of(node: &Node<'_>, cx: &Cx, unfollowed: bool) -> Option<Meta> {
    Some(Meta {
        loc: Loc {
            file: cx.file,
            span: node.span.clone(),
        },
        chain: cx.chain.clone(),
        unfollowed,
    })
}

/// A template reference kept as written (with its expanded arguments) because it was not
/// followed; use sites inside its arguments are still found.
fn unfollowed_object(written: &str, args: &Alts, cx: &Cx, node: &Node<'_>) -> Value {
    Value::Object(Rc::new(Object {
        fields: vec![
            (
                Text::bare("template"),
                Alts::one(Value::str(written, Origin::None)),
            ),
            (Text::bare("parameters"), args.clone()),
        ],
        meta: meta_of(node, cx, true),
    }))
}

/// Compile-time variables a file defines at its top level (`- name/value` or a map).
fn file_variables(root: &Node<'_>) -> Vec<(String, Alts)> {
    let mut out = Vec::new();
    let Some(vars) = root.get("variables") else {
        return out;
    };
    match &vars.value {
        YValue::Sequence(items) => {
            for item in items {
                if let (Some(name), Some(value)) = (
                    item.get("name").and_then(Node::as_str),
                    item.get("value").and_then(Node::as_str),
                ) {
                    if !value.contains("${{") {
                        out.push((name.to_string(), Alts::one(Value::str(value, Origin::None))));
                    }
                }
            }
        }
        YValue::Mapping(pairs) => {
            for (k, v) in pairs {
                if let (Some(name), Some(value)) = (k.as_str(), v.as_str()) {
                    if !name.contains("${{") && !value.contains("${{") {
                        out.push((name.to_string(), Alts::one(Value::str(value, Origin::None))));
                    }
                }
            }
        }
        _ => {}
    }
    out
}

/// Builds a mapping value; `set` with `certain == false` adds possibilities instead of
/// replacing (a key set under an undecidable branch).
struct Builder {
    fields: Vec<(Text, Alts)>,
    meta: Option<Meta>,
    /// Position of each key in `fields`, once the mapping is large enough for a linear
    /// search per key to matter (a huge `variables:` mapping would be quadratic).
    index: Option<HashMap<Rc<str>, usize>>,
}

/// Mappings up to this many keys are searched linearly.
const LINEAR_KEYS: usize = 32;

impl Builder {
    fn new(meta: Option<Meta>) -> Self {
        Builder {
            fields: Vec::new(),
            meta,
            index: None,
        }
    }

    fn position(&mut self, key: &Rc<str>) -> Option<usize> {
        if self.index.is_none() && self.fields.len() > LINEAR_KEYS {
            let mut index = HashMap::with_capacity(self.fields.len() * 2);
            for (i, (k, _)) in self.fields.iter().enumerate() {
                index.entry(k.s.clone()).or_insert(i);
            }
            self.index = Some(index);
        }
        match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.fields.iter().position(|(k, _)| k.s == *key),
        }
    }

    /// Returns false when possibilities were dropped at the cap.
    fn set(&mut self, key: Text, value: Alts, certain: bool) -> bool {
        let at = self.position(&key.s);
        if at.is_none() {
            if let Some(index) = &mut self.index {
                index.insert(key.s.clone(), self.fields.len());
            }
        }
        match at.map(|i| &mut self.fields[i]) {
            Some((_, existing)) if !certain => existing.extend(value),
            Some(slot) => {
                *slot = (key, value);
                true
            }
            None => {
                self.fields.push((key, value));
                true
            }
        }
    }

    fn finish(self) -> Value {
        Value::Object(Rc::new(Object {
            fields: self.fields,
            meta: self.meta,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `opens_expression` is `contains("${{")`, at the ends and around other dollars too.
    #[test]
    fn opens_expression_is_contains() {
        for s in [
            "",
            "$",
            "${",
            "${{",
            "$${{",
            "a${{ x }}",
            "${ {",
            "$ {{",
            "${{}}",
            "x$",
            "x${",
            "x${{",
            "$(x) ${{ y }}",
            "ünï${{",
            "{{$",
            "${{${{",
        ] {
            assert_eq!(opens_expression(s), s.contains("${{"), "{s:?}");
        }
    }

    /// The engine over `text` as `ci.yml`, and the node under the top-level key `key`.
    fn with_node<'t, R>(
        text: &'t str,
        key: &str,
        f: impl for<'r> FnOnce(&mut Engine<'r, 't>, &'r Node<'t>, &Cx) -> R,
    ) -> R {
        let repo = Repository::new([("ci.yml", text)]);
        let root = repo.tree(0).expect("parses");
        let node = root.get(key).expect("key");
        let cx = Cx {
            file: 0,
            scope: Scope::default(),
            chain: Rc::from(vec![0]),
        };
        let mut engine = Engine::new(&repo);
        f(&mut engine, node, &cx)
    }

    /// An inert subtree is counted against the budget as expanding it counts its nodes:
    /// mappings and lists, nested, of several entries.
    #[test]
    fn inert_subtrees_count_the_nodes_expanding_them_counts() {
        let text = "variables:\n  a: 1\n  b:\n    c: [x, y, z]\n    d:\n    - e: 2\n      f: 3\n    - g\n  h: [[1, 2], {i: j}]\n";
        with_node(text, "variables", |engine, node, cx| {
            let counted = engine.inert(node).expect("inert");
            engine.reading = 1;
            let before = engine.nodes;
            let _ = engine.expand(node, cx, None);
            assert_eq!(engine.nodes - before, counted);
            assert!(counted > 20, "{counted}");
        });
    }

    /// An inert subtree is built once and shared, also late in a large expansion: meeting
    /// it again counts its nodes and gives the same value.
    #[test]
    fn inert_subtrees_are_built_once_and_shared() {
        let text = "variables:\n  a: 1\n  b: [x, y]\n";
        with_node(text, "variables", |engine, node, cx| {
            let n = engine.inert(node).expect("inert");
            engine.reading = 1;
            engine.nodes = NODE_BUDGET / 4;
            let first = engine.expand(node, cx, None);
            let second = engine.expand(node, cx, None);
            assert_eq!(engine.nodes, NODE_BUDGET / 4 + 2 * n);
            match (first.0.as_slice(), second.0.as_slice()) {
                ([Value::Object(a)], [Value::Object(b)]) => assert!(Rc::ptr_eq(a, b)),
                other => panic!("{other:?}"),
            }
            assert!(!engine.truncated);
        });
    }

    /// An inert subtree that does not fit in what is left of the node budget is expanded
    /// until the budget ends, and the expansion says it stopped there.
    #[test]
    fn inert_subtrees_past_the_budget_stop_the_expansion() {
        let text = "variables:\n  a: 1\n  b: [x, y]\n";
        with_node(text, "variables", |engine, node, cx| {
            let n = engine.inert(node).expect("inert");
            engine.nodes = NODE_BUDGET - n + 1;
            let _ = engine.expand_placed(node, cx, Some("variables"));
            assert!(engine.truncated);
        });
        // Also when the subtree alone is larger than the whole budget.
        let big = format!("variables: [{}]\n", vec!["1"; NODE_BUDGET / 2].join(","));
        with_node(&big, "variables", |engine, node, cx| {
            assert!(engine.inert(node).expect("inert") > NODE_BUDGET);
            let _ = engine.expand_placed(node, cx, Some("variables"));
            assert!(engine.truncated);
        });
        // One that fits to the last node does not.
        with_node(text, "variables", |engine, node, cx| {
            let n = engine.inert(node).expect("inert");
            engine.nodes = NODE_BUDGET - n;
            let _ = engine.expand_placed(node, cx, Some("variables"));
            assert!(!engine.truncated);
            assert_eq!(engine.nodes, NODE_BUDGET);
        });
    }
}
