//! The repository model: every Azure Pipelines file handed in, parsed once, with its
//! parameter declarations, the static `template:` / `extends:` graph, the container resources
//! defined anywhere, the entry points, and the template-expression problems found by reading.
//!
//! Pure: the caller hands in the texts (a `HashMap<path, text>` or any iterator of pairs).

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;

use super::expr::{self, Directive};
use super::value::{FileId, Loc};
use crate::dialect::{self, entries, items, values, Dialect};
use crate::model::{Kind, Reference};
use crate::yaml::{self, Node, Style, Value as YValue, Yaml};

/// One file of the repository.
#[derive(Debug)]
pub struct File<'t> {
    /// Path as given (forward slashes).
    pub path: &'t str,
    /// The text.
    pub text: &'t str,
    /// The root node of the first document, in a model that keeps its files' trees (see
    /// [`Repository::tree`]). Shared, so that a model of the same files with a few texts
    /// changed can take the others' trees without parsing them again
    /// ([`Repository::build_reusing`]).
    root: Option<Arc<Node<'t>>>,
    /// The file has a tree: it is an Azure Pipelines file whose first document parsed
    /// (completely or in part).
    has_tree: bool,
    /// Where the per-file analyzer's references are, and their kinds (to tell new references
    /// from known ones), in the analyzer's order.
    pub references: Vec<KnownReference>,
    /// Has `stages`, `jobs`, `steps` or `extends` at top level.
    pub pipeline_shaped: bool,
    /// Declares parameters.
    parameterised: bool,
    /// Byte offset where each line starts, indexed when a position in the file is first
    /// asked for ([`Repository::line_col`]): most files never are.
    line_starts: OnceLock<Vec<usize>>,
}

impl File<'_> {
    /// Whether the file has a tree (an Azure Pipelines file whose first document parsed,
    /// completely or in part): the files the layer expands.
    pub fn has_tree(&self) -> bool {
        self.has_tree
    }
}

/// What the layer knows of a reference the per-file analysis found: where it is and its kind
/// (the layer reads nothing else of it, so a model keeps no more).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownReference {
    /// Byte span of the reference text ([`Reference::span`]).
    pub span: Range<usize>,
    /// Its kind.
    pub kind: Kind,
}

impl KnownReference {
    fn of(r: &Reference) -> KnownReference {
        KnownReference {
            span: r.span.clone(),
            kind: r.kind,
        }
    }
}

/// One file handed to [`Repository::build`].
#[derive(Debug, Clone, Copy)]
pub struct Input<'t, 'k> {
    /// Path (forward slashes).
    pub path: &'t str,
    /// Text.
    pub text: &'t str,
    /// The dialect and references the per-file analysis found, when the caller has them (the
    /// model keeps what it needs of them, so they need not outlive it).
    pub known: Option<(Option<Dialect>, &'k [Reference])>,
}

/// A declared template parameter.
#[derive(Debug, Clone)]
pub struct Param<'n, 't> {
    /// Its name.
    pub name: &'n str,
    /// `type:` as written (`boolean`, `object`, `stageList` …), when declared.
    pub ty: Option<&'n str>,
    /// The default value node.
    pub default: Option<&'n Node<'t>>,
}

/// Where a template reference points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A file of this repository.
    File(FileId),
    /// `path@repo` for a repository other than `self`: not followed.
    External(String),
    /// No file of that path was handed in.
    Missing(String),
}

/// A container resource written in a file: `- container: alias` + `image:`, or an entry
/// of a `containers:` alias map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasDef {
    /// The alias as written.
    pub alias: Loc,
    /// The literal `image:` values (several under `${{ if }}` branches).
    pub images: Vec<(String, Loc)>,
}

/// A problem found by reading a file (not by expanding it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Rule id.
    pub rule: &'static str,
    /// Where.
    pub loc: Loc,
    /// Message.
    pub message: String,
}

/// Every pipeline and template file, read once.
///
/// A model keeps its files' YAML trees ([`Repository::build`] and the others), or keeps only
/// what reading them showed ([`Repository::from_read`]): then a tree is parsed again from the
/// file's text when an expansion asks for it ([`Repository::tree`]), and the expansion keeps
/// it only while it runs, so the trees of a large set of files are never all in memory.
#[derive(Debug)]
pub struct Repository<'t> {
    /// The files, indexed by [`FileId`].
    pub files: Vec<File<'t>>,
    by_path: HashMap<&'t str, FileId>,
    /// Files some other file references as a template (statically).
    pub included: Vec<bool>,
    /// Per file, the files its static template references name (itself left out).
    includes: Vec<Vec<FileId>>,
    /// Container resources defined anywhere, by lower-case alias.
    pub aliases: HashMap<String, Vec<AliasDef>>,
    /// Expression problems found while reading.
    pub problems: Vec<Problem>,
    /// The model keeps its files' trees.
    keeps_trees: bool,
    /// Resolved template paths, by including file and path as written.
    resolved: Mutex<HashMap<(FileId, String), Target>>,
    /// What each root's expansion showed, when the layer was run over this model with
    /// [`super::analyze_repository_keeping`].
    pub(super) kept: OnceLock<super::Expansions>,
}

/// One file read for a model that does not keep trees ([`Repository::from_read`]): what
/// reading its tree showed, without the tree.
#[derive(Debug)]
pub struct ReadFile<'t> {
    file: File<'t>,
    reading: Reading,
}

impl<'t> ReadFile<'t> {
    /// Read one file: `yaml` is what `yaml::parse_for_analysis` gave for its text (complete
    /// or the part before an error), or `None` to parse the text here. The tree is dropped
    /// when this returns. `None` for a file that takes no part in the model (not YAML, not an
    /// Azure Pipelines file).
    ///
    /// Files are read one by one, so a caller can read them in parallel, each as soon as it
    /// has parsed it.
    pub fn new(input: Input<'t, '_>, yaml: Option<Yaml<'t>>) -> Option<ReadFile<'t>> {
        takes_part(&input).then(|| {
            let root = root_of(yaml, input.text);
            prepare(input, root, false)
        })
    }
}

impl<'t> Repository<'t> {
    /// Build the model from `(path, text)` pairs. Only Azure Pipelines YAML files take part;
    /// other files are ignored. Paths use forward slashes.
    pub fn new(files: impl IntoIterator<Item = (&'t str, &'t str)>) -> Repository<'t> {
        Repository::build(files.into_iter().map(|(path, text)| Input {
            path,
            text,
            known: None,
        }))
    }

    /// Build the model from files whose per-file analysis the caller already has: files that
    /// are not Azure Pipelines files are skipped without parsing, and the references are
    /// reused instead of being extracted again.
    pub fn build<'k>(files: impl IntoIterator<Item = Input<'t, 'k>>) -> Repository<'t> {
        Repository::build_parsed(files.into_iter().map(|f| (f, None)))
    }

    /// [`Repository::build`] for files of which the caller may hold the YAML already: a file
    /// handed with `Some(yaml)` (what `yaml::parse` gave for its text, complete or the part
    /// before an error) is not parsed again.
    pub fn build_parsed<'k>(
        files: impl IntoIterator<Item = (Input<'t, 'k>, Option<Yaml<'t>>)>,
    ) -> Repository<'t> {
        let list = sorted(files.into_iter().filter(|(f, _)| takes_part(f)));
        let prepared = list
            .into_par_iter()
            .map(|(f, yaml)| {
                let root = root_of(yaml, f.text);
                prepare(f, root, true)
            })
            .collect();
        Repository::assemble(prepared, None, true)
    }

    /// The model of files read one by one ([`ReadFile::new`]), which keeps no trees: an
    /// expansion parses a file's text again when it needs its tree ([`Repository::tree`]).
    /// Its analyses are those of the model [`Repository::build_parsed`] builds of the same
    /// files (the tree of a text is what parsing it gives).
    pub fn from_read(files: impl IntoIterator<Item = ReadFile<'t>>) -> Repository<'t> {
        let list = by_path(files.into_iter().collect(), |r| r.file.path);
        Repository::assemble(list, None, false)
    }

    /// [`Repository::build`] for a set of files of which `old` modelled an earlier state: a
    /// file whose path and text are those of a file of `old` takes that file's tree instead of
    /// being parsed again (the tree of a text is what parsing it gives, so the model is the
    /// one [`Repository::build_parsed`] builds), and what reading it showed, when `old`
    /// models the same paths. The others are parsed, or take the tree handed with them. The
    /// model keeps trees when `old` does; when `old` keeps none, an unchanged file is not
    /// parsed at all.
    pub fn build_reusing<'o: 't, 'k>(
        old: &Repository<'o>,
        files: impl IntoIterator<Item = (Input<'t, 'k>, Option<Yaml<'t>>)>,
    ) -> Repository<'t> {
        let keep = old.keeps_trees;
        Repository::reusing(
            old,
            files.into_iter().map(|(f, yaml)| {
                let read = yaml
                    .filter(|_| takes_part(&f))
                    .map(|yaml| prepare(f, root_of(Some(yaml), f.text), keep));
                (f, read)
            }),
        )
    }

    /// [`Repository::build_reusing`] with the files that are not unchanged handed already
    /// read ([`ReadFile::new`], their trees dropped): `--fix` reads each fixed text as soon as
    /// it has parsed it, so the trees of the fixed files are not all in memory at once.
    pub fn build_reusing_read<'o: 't, 'k>(
        old: &Repository<'o>,
        files: impl IntoIterator<Item = (Input<'t, 'k>, Option<ReadFile<'t>>)>,
    ) -> Repository<'t> {
        Repository::reusing(old, files)
    }

    /// [`Repository::build_reusing`] for files each handed with what reading it showed, or
    /// with nothing to take it from `old` or to read it here.
    fn reusing<'o: 't, 'k>(
        old: &Repository<'o>,
        files: impl IntoIterator<Item = (Input<'t, 'k>, Option<ReadFile<'t>>)>,
    ) -> Repository<'t> {
        let keep = old.keeps_trees;
        let list = sorted(files.into_iter().filter(|(f, _)| takes_part(f)));
        // What reading a file showed is taken from `old` only when it models the same paths:
        // the same paths give the same ids.
        let same_paths = old.files.len() == list.len()
            && old
                .files
                .iter()
                .zip(&list)
                .all(|(a, (b, _))| a.path == b.path);
        let prepared = list
            .into_par_iter()
            .map(|(f, read)| {
                if let Some(read) = read {
                    return read;
                }
                let unchanged = old
                    .id(f.path)
                    .map(|id| &old.files[id])
                    .filter(|o| std::ptr::eq(o.text, f.text) || o.text == f.text)
                    .filter(|o| o.has_tree);
                match unchanged {
                    Some(o) if same_paths => unchanged_file(f, o, keep),
                    // Read again: the ids differ from `old`'s.
                    Some(o) if o.root.is_some() => prepare(f, o.root.clone(), keep),
                    _ => prepare(f, first_document(f.text), keep),
                }
            })
            .collect();
        Repository::assemble(prepared, same_paths.then_some(old), keep)
    }

    /// The model of `list` (sorted by path, without repeated paths); with `old` (an earlier
    /// state of the same paths), a file marked as unchanged takes what reading it showed in
    /// `old`: reading looks at the file's tree alone, and the same paths give the same ids.
    fn assemble(
        list: Vec<ReadFile<'t>>,
        old: Option<&Repository<'_>>,
        keeps_trees: bool,
    ) -> Repository<'t> {
        let mut repo = Repository {
            files: Vec::with_capacity(list.len()),
            by_path: HashMap::new(),
            included: Vec::new(),
            includes: Vec::new(),
            aliases: HashMap::new(),
            problems: Vec::new(),
            keeps_trees,
            resolved: Mutex::new(HashMap::new()),
            kept: OnceLock::new(),
        };
        let mut readings = Vec::with_capacity(list.len());
        for ReadFile { file, reading } in list {
            repo.by_path.insert(file.path, repo.files.len());
            repo.files.push(file);
            readings.push(reading);
        }
        repo.included = vec![false; repo.files.len()];
        repo.includes = vec![Vec::new(); repo.files.len()];
        let unchanged: Vec<bool> = readings
            .iter()
            .map(|r| matches!(r, Reading::Unchanged))
            .collect();
        let taken = match old {
            Some(old) => Taken::from(old, &unchanged),
            None => (0..repo.files.len()).map(|_| None).collect(),
        };
        // The template paths each file names, resolved on every thread (a rooted path is
        // tried below every folder of the including file); a resolution depends on the paths
        // of the set only, so the order does not matter.
        let targets: Vec<Option<Vec<FileId>>> = readings
            .par_iter()
            .zip(taken.par_iter())
            .enumerate()
            .map(|(id, (reading, taken))| match (reading, taken) {
                (Reading::Read(read), None) => Some(repo.targets(id, &read.includes)),
                _ => None,
            })
            .collect();
        // What each file showed is added in file order, so the model is the same on any
        // number of threads.
        for (id, ((reading, taken), targets)) in
            readings.into_iter().zip(taken).zip(targets).enumerate()
        {
            match (reading, taken, targets) {
                (_, Some(t), _) => repo.add(id, t.includes, t.aliases, t.problems),
                (Reading::Read(read), None, Some(targets)) => repo.add_read(id, read, targets),
                _ => {}
            }
        }
        repo
    }

    /// The files of this set that the template paths `includes` of file `id` name, itself
    /// left out.
    fn targets(&self, id: FileId, includes: &[String]) -> Vec<FileId> {
        includes
            .iter()
            .filter_map(|path| match self.resolve(id, path) {
                Target::File(target) if target != id => Some(target),
                _ => None,
            })
            .collect()
    }

    /// Build the model from a map of path → text.
    pub fn from_map(files: &'t HashMap<String, String>) -> Repository<'t> {
        Repository::new(files.iter().map(|(p, t)| (p.as_str(), t.as_str())))
    }

    /// The file with this path.
    pub fn id(&self, path: &str) -> Option<FileId> {
        self.by_path.get(path).copied()
    }

    /// Entry points: pipeline-shaped files that no other file includes.
    pub fn entries(&self) -> Vec<FileId> {
        (0..self.files.len())
            .filter(|&i| self.files[i].pipeline_shaped && !self.included[i])
            .collect()
    }

    /// Resolve a template path written in file `from`: relative paths against the including
    /// file's folder, `/`-rooted paths against the repository root, `@self` stripped.
    ///
    /// The root of a rooted path is the first ancestor folder of the including file (from the
    /// top) under which the path exists, so a repository analysed from a parent folder
    /// (`corpus/dotnet-runtime/…`) still resolves `/eng/…` to its own files.
    pub fn resolve(&self, from: FileId, path: &str) -> Target {
        let key = (from, path.to_string());
        if let Some(t) = self.resolved_paths().get(&key) {
            return t.clone();
        }
        let target = self.resolve_uncached(from, path);
        self.resolved_paths().insert(key, target.clone());
        target
    }

    /// The cache of resolved template paths (shared by the threads that expand roots).
    fn resolved_paths(&self) -> std::sync::MutexGuard<'_, HashMap<(FileId, String), Target>> {
        self.resolved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn resolve_uncached(&self, from: FileId, path: &str) -> Target {
        let mut path = path.trim();
        if let Some((file, repo)) = path.rsplit_once('@') {
            if repo.trim() != "self" {
                return Target::External(path.to_string());
            }
            path = file.trim();
        }
        if path.is_empty() {
            return Target::Missing(String::new());
        }
        let including = self.files[from].path;
        if let Some(rooted) = path.strip_prefix('/') {
            let mut prefixes = vec![String::new()];
            if including.starts_with('/') {
                prefixes[0] = "/".to_string();
            }
            for (i, c) in including.char_indices() {
                if c == '/' && i > 0 {
                    prefixes.push(including[..=i].to_string());
                }
            }
            for prefix in prefixes {
                if let Some(id) = self.id(&normalize(&format!("{prefix}{rooted}"))) {
                    return Target::File(id);
                }
            }
            return Target::Missing(path.to_string());
        }
        let dir = including.rfind('/').map_or("", |i| &including[..=i]);
        match self.id(&normalize(&format!("{dir}{path}"))) {
            Some(id) => Target::File(id),
            None => Target::Missing(path.to_string()),
        }
    }

    /// The tree of file `id` (the root node of its first document), when it has one: the
    /// one the model keeps, or, in a model that keeps none, parsed again from its text (the
    /// caller keeps it as long as it needs it).
    pub fn tree(&self, id: FileId) -> Option<Arc<Node<'t>>> {
        let file = &self.files[id];
        match &file.root {
            Some(root) => Some(root.clone()),
            None if file.has_tree => first_document(file.text),
            None => None,
        }
    }

    /// Whether file `id` declares parameters ([`params`] of its tree is not empty).
    pub fn parameterised(&self, id: FileId) -> bool {
        self.files[id].parameterised
    }

    /// Line and column (1-based, columns in characters) of a byte offset of a file.
    pub fn line_col(&self, id: FileId, offset: usize) -> (u32, u32) {
        let file = &self.files[id];
        let text = file.text;
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line_starts = file
            .line_starts
            .get_or_init(|| crate::source::line_starts(text));
        let index = match line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let line = index + 1;
        let start = line_starts.get(index).copied().unwrap_or(0);
        let column = text[start..offset].chars().count() + 1;
        (
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(column).unwrap_or(u32::MAX),
        )
    }

    /// Add what reading file `id` showed to the model.
    fn add_read(&mut self, id: FileId, read: Read, targets: Vec<FileId>) {
        let Read {
            includes: _,
            mut aliases,
            mut problems,
        } = read;
        // Read before the file had its id.
        for (_, def) in &mut aliases {
            def.alias.file = id;
            for (_, loc) in &mut def.images {
                loc.file = id;
            }
        }
        for p in &mut problems {
            p.loc.file = id;
        }
        self.add(id, targets, aliases, problems);
    }

    /// Add what file `id` shows: the files it includes, its container resources, its problems.
    fn add(
        &mut self,
        id: FileId,
        includes: Vec<FileId>,
        aliases: Vec<(String, AliasDef)>,
        problems: Vec<Problem>,
    ) {
        for &target in &includes {
            self.included[target] = true;
        }
        self.includes[id] = includes;
        for (alias, def) in aliases {
            self.aliases
                .entry(alias.to_ascii_lowercase())
                .or_default()
                .push(def);
        }
        self.problems.extend(problems);
    }
}

/// The parameters a template declares (list style `- name/type/default` or the old map
/// style `name: default`), from its tree ([`Repository::tree`]).
pub fn params<'n, 't>(root: &'n Node<'t>) -> Vec<Param<'n, 't>> {
    let Some(decl) = root.get("parameters") else {
        return Vec::new();
    };
    match &decl.value {
        YValue::Sequence(_) => items(decl)
            .into_iter()
            .filter_map(|item| {
                Some(Param {
                    name: item.get("name")?.as_str()?,
                    ty: item.get("type").and_then(Node::as_str),
                    default: item.get("default"),
                })
            })
            .collect(),
        YValue::Mapping(pairs) => pairs
            .iter()
            .filter_map(|(k, v)| {
                Some(Param {
                    name: k.as_str().filter(|n| !n.starts_with("${{"))?,
                    ty: None,
                    default: Some(v),
                })
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The root node of the first document of `text`, as the per-file analysis parses it.
fn first_document(text: &str) -> Option<Arc<Node<'_>>> {
    match yaml::parse_for_analysis(text) {
        Ok(parsed) | Err((_, parsed)) => root_of(Some(parsed), text),
    }
}

/// The root node of the first document of `yaml`, what parsing `text` gave, or of `text`
/// parsed here when the caller has no tree.
fn root_of<'t>(yaml: Option<Yaml<'t>>, text: &'t str) -> Option<Arc<Node<'t>>> {
    match yaml {
        Some(yaml) => yaml.documents.into_iter().next().map(Arc::new),
        None => first_document(text),
    }
}

/// Whether a file takes part in a model: a YAML file that is an Azure Pipelines file, or
/// whose dialect is not known yet.
fn takes_part(f: &Input<'_, '_>) -> bool {
    has_yaml_extension(f.path)
        && f.known
            .is_none_or(|(d, _)| d == Some(Dialect::AzurePipelines))
}

/// Files sorted by path, the first of each path kept.
fn sorted<'t, 'k, T>(files: impl Iterator<Item = (Input<'t, 'k>, T)>) -> Vec<(Input<'t, 'k>, T)> {
    by_path(files.collect(), |(f, _)| f.path)
}

/// `list` sorted by the path `path` gives each item, the first item of each path kept.
fn by_path<T>(mut list: Vec<T>, path: impl Fn(&T) -> &str) -> Vec<T> {
    list.sort_by(|a, b| path(a).cmp(path(b)));
    list.dedup_by(|a, b| path(a) == path(b));
    list
}

/// File `input` of a model, with `root` its tree (the root of its first document), read;
/// the model keeps the tree when `keep`.
fn prepare<'t>(input: Input<'t, '_>, root: Option<Arc<Node<'t>>>, keep: bool) -> ReadFile<'t> {
    let Input { path, text, known } = input;
    let (root, references) = if let Some((_, refs)) = known {
        (root, refs.iter().map(KnownReference::of).collect())
    } else {
        match dialect::detect(path, root.as_deref()) {
            Some(Dialect::AzurePipelines) => {
                let refs = root.as_deref().map_or_else(Vec::new, |r| {
                    dialect::extract(Dialect::AzurePipelines, text, std::slice::from_ref(r))
                });
                (root, refs.iter().map(KnownReference::of).collect())
            }
            _ => (None, Vec::new()),
        }
    };
    let pipeline_shaped = root.as_ref().is_some_and(|r| {
        entries(r)
            .iter()
            .any(|(k, _)| matches!(k.as_str(), Some("stages" | "jobs" | "steps" | "extends")))
    });
    let parameterised = root.as_deref().is_some_and(|r| !params(r).is_empty());
    let reading = match root.as_deref() {
        Some(r) => Reading::Read(read(r, text)),
        None => Reading::Nothing,
    };
    let file = File {
        path,
        text,
        has_tree: root.is_some(),
        root: root.filter(|_| keep),
        references,
        pipeline_shaped,
        parameterised,
        line_starts: OnceLock::new(),
    };
    ReadFile { file, reading }
}

/// File `input` of a model, whose text is that of `old`, a file of an earlier model of the
/// same paths that has a tree: what reading it showed is taken from that model, and its tree
/// too when the model keeps it and `keep`.
fn unchanged_file<'t>(input: Input<'t, '_>, old: &File<'t>, keep: bool) -> ReadFile<'t> {
    let Input { path, text, known } = input;
    let references = match known {
        Some((_, refs)) => refs.iter().map(KnownReference::of).collect(),
        None => old.references.clone(),
    };
    let file = File {
        path,
        text,
        root: old.root.clone().filter(|_| keep),
        has_tree: old.has_tree,
        references,
        pipeline_shaped: old.pipeline_shaped,
        parameterised: old.parameterised,
        line_starts: OnceLock::new(),
    };
    ReadFile {
        file,
        reading: Reading::Unchanged,
    }
}

/// Read one file's tree: include edges, resource aliases, expression problems (placed in file
/// 0 until the model gives the file its id).
fn read(root: &Node<'_>, text: &str) -> Read {
    let mut reader = Reader {
        text,
        file: 0,
        includes: Vec::new(),
        aliases: Vec::new(),
        problems: Vec::new(),
        seen_problem: HashSet::new(),
    };
    reader.node(root, None);
    let Reader {
        includes,
        aliases,
        problems,
        ..
    } = reader;
    Read {
        includes,
        aliases,
        problems,
    }
}

/// What a model knows of what reading a file showed.
#[derive(Debug)]
enum Reading {
    /// What reading its tree showed.
    Read(Read),
    /// Its text is that of the same file of an earlier model, which read it.
    Unchanged,
    /// It has no tree.
    Nothing,
}

/// Whether `path` ends in `.yml` or `.yaml`, in any case (checked for every scalar of every
/// file, so without allocating).
pub fn has_yaml_extension(path: &str) -> bool {
    let b = path.as_bytes();
    let ends =
        |ext: &[u8]| b.len() >= ext.len() && b[b.len() - ext.len()..].eq_ignore_ascii_case(ext);
    ends(b".yml") || ends(b".yaml")
}

/// Collapse `.` and `..` segments (a leading `/` is kept).
pub fn normalize(path: &str) -> String {
    // Most paths are already normal: no empty, `.` or `..` segment (a leading `/` aside).
    let body = path.strip_prefix('/').unwrap_or(path);
    if !body.is_empty() && body.split('/').all(|seg| !matches!(seg, "" | "." | "..")) {
        return path.to_string();
    }
    collapse(path)
}

/// [`normalize`] segment by segment.
fn collapse(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    if rooted {
        format!("/{joined}")
    } else {
        joined
    }
}

/// What reading a file showed, taken from an earlier model of the same file.
struct Taken {
    includes: Vec<FileId>,
    aliases: Vec<(String, AliasDef)>,
    problems: Vec<Problem>,
}

impl Taken {
    /// What reading each file marked in `unchanged` (those whose text is that of the same
    /// file of `old`, a model of the same paths) showed in `old`.
    #[inline(never)]
    fn from(old: &Repository<'_>, unchanged: &[bool]) -> Vec<Option<Taken>> {
        let mut taken: Vec<Option<Taken>> = unchanged
            .iter()
            .zip(&old.files)
            .enumerate()
            .map(|(id, (&unchanged, f))| {
                (unchanged && f.has_tree).then(|| Taken {
                    includes: old.includes[id].clone(),
                    aliases: Vec::new(),
                    problems: Vec::new(),
                })
            })
            .collect();
        // Each alias's definitions are in file order, so a file's are in its own order.
        for (alias, defs) in &old.aliases {
            for d in defs {
                if let Some(t) = &mut taken[d.alias.file] {
                    t.aliases.push((alias.clone(), d.clone()));
                }
            }
        }
        for p in &old.problems {
            if let Some(t) = &mut taken[p.loc.file] {
                t.problems.push(p.clone());
            }
        }
        taken
    }
}

#[derive(Debug)]
struct Read {
    includes: Vec<String>,
    aliases: Vec<(String, AliasDef)>,
    problems: Vec<Problem>,
}

/// One pass over a file's tree.
struct Reader<'t> {
    text: &'t str,
    file: FileId,
    includes: Vec<String>,
    aliases: Vec<(String, AliasDef)>,
    problems: Vec<Problem>,
    seen_problem: HashSet<usize>,
}

impl Reader<'_> {
    fn node(&mut self, node: &Node<'_>, key: Option<&str>) {
        match &node.value {
            YValue::Mapping(pairs) => {
                for (k, v) in pairs {
                    self.scalar(k, true, false);
                    let name = k.as_str();
                    if name == Some("containers") {
                        self.container_definitions(v);
                    }
                    self.node(v, name);
                }
            }
            YValue::Sequence(seq) => {
                for item in seq {
                    self.node(item, key);
                }
            }
            YValue::Scalar(..) => {
                let script = key.is_some_and(dialect::is_script_key);
                self.scalar(node, false, script);
                if let Some(s) = node.as_str() {
                    // `path@repo`: the path part decides (a `@${{ parameters.repo }}` suffix
                    // is usually `self`).
                    let path = s.trim().split_once('@').map_or(s.trim(), |(p, _)| p);
                    if !script
                        && has_yaml_extension(path)
                        && !path.contains("${{")
                        && !path.contains(char::is_whitespace)
                    {
                        self.includes.push(path.to_string());
                    }
                }
            }
            YValue::Alias => {}
        }
    }

    /// `resources.containers` list items and `containers:` alias maps.
    fn container_definitions(&mut self, value: &Node<'_>) {
        match &value.value {
            YValue::Sequence(_) => {
                for item in items(value) {
                    let images = self.images(item);
                    for alias in values(item, "container") {
                        if let Some(a) = alias.as_str().filter(|a| !a.contains("${{")) {
                            if !images.is_empty() {
                                let def = AliasDef {
                                    alias: self.loc(alias),
                                    images: images.clone(),
                                };
                                self.aliases.push((a.trim().to_string(), def));
                            }
                        }
                    }
                }
            }
            YValue::Mapping(_) => {
                for (k, def) in entries(value) {
                    let Some(alias) = k.as_str().filter(|a| !a.contains("${{")) else {
                        continue;
                    };
                    let images = self.images(def);
                    if !images.is_empty() {
                        let def = AliasDef {
                            alias: self.loc(k),
                            images,
                        };
                        self.aliases.push((alias.to_string(), def));
                    }
                }
            }
            _ => {}
        }
    }

    /// The `image:` values of a resource definition: literal ones with their place, and
    /// expressions too (with the place, so a dangling check still sees the definition).
    fn images(&self, def: &Node<'_>) -> Vec<(String, Loc)> {
        values(def, "image")
            .into_iter()
            .filter_map(|n| {
                let text = n.as_str()?.trim();
                (!text.is_empty()).then(|| (text.to_string(), self.trimmed_loc(n)))
            })
            .collect()
    }

    /// The place of a scalar's trimmed content.
    fn trimmed_loc(&self, node: &Node<'_>) -> Loc {
        let span = node.content_span();
        let raw = self.text.get(span.clone()).unwrap_or_default();
        let start = span.start + (raw.len() - raw.trim_start().len());
        Loc {
            file: self.file,
            span: start..start + raw.trim().len(),
        }
    }

    fn loc(&self, node: &Node<'_>) -> Loc {
        Loc {
            file: self.file,
            span: node.content_span(),
        }
    }

    /// Check the `${{ }}` in a key or value; report near misses such as `$ {{ x }}`.
    fn scalar(&mut self, node: &Node<'_>, is_key: bool, script: bool) {
        let Some(decoded) = node.as_str() else {
            return;
        };
        if !decoded.contains("{{") {
            return;
        }
        let span = node.content_span();
        let raw = self.text.get(span.clone()).unwrap_or_default();
        let exact = raw == decoded && !matches!(node.style(), Some(Style::Block));
        let at = |offset: usize| {
            if exact {
                span.start + offset..span.start + offset + 1
            } else {
                span.start..span.start + 1
            }
        };
        if !script {
            for (offset, message) in expr::near_misses(decoded) {
                let range = at(offset);
                self.problem(range, message);
            }
        }
        let segs = match expr::segments(decoded) {
            Ok(segs) => segs,
            Err(e) => {
                let range = at(e.offset);
                self.problem(
                    range,
                    format!("template expression cannot be read: {}", e.message),
                );
                return;
            }
        };
        let whole = segs.len() == 1 && segs[0].outer == (0..decoded.trim_end().len());
        for seg in segs {
            let inner = &decoded[seg.inner.clone()];
            let result = if is_key && whole {
                match expr::parse_directive(inner) {
                    Some(r) => r.map(|_| ()),
                    None => expr::parse(inner).map(|_| ()),
                }
            } else {
                match expr::parse_directive(inner) {
                    Some(Ok(Directive::Each(..) | Directive::If(_) | Directive::ElseIf(_)))
                    | Some(Ok(Directive::Else | Directive::Insert)) => Err(expr::ExprError {
                        offset: 0,
                        message: "a directive (`if`, `each`, `insert` …) is only allowed as a mapping key"
                            .to_string(),
                    }),
                    _ => expr::parse(inner).map(|_| ()),
                }
            };
            if let Err(e) = result {
                let range = at(seg.inner.start + e.offset);
                self.problem(
                    range,
                    format!(
                        "template expression `{}` cannot be read: {}",
                        inner.trim(),
                        e.message
                    ),
                );
            }
        }
    }

    fn problem(&mut self, span: Range<usize>, message: String) {
        if self.seen_problem.insert(span.start) {
            self.problems.push(Problem {
                rule: "template-expression",
                loc: Loc {
                    file: self.file,
                    span,
                },
                message,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_parsed_by_the_caller_serves_the_analysis_and_the_model() {
        let text = "resources:\n  containers:\n  - container: c1\n    image: a/b:1\njobs:\n- template: t.yml\n";
        let parsed = yaml::parse(text);
        let analysis = crate::Analysis::from_yaml("p.yml", text.to_string(), &parsed);
        let fresh = crate::Analysis::new("p.yml", text.to_string());
        assert_eq!(format!("{analysis:?}"), format!("{fresh:?}"));
        let broken = "jobs:\n- job: [a\n";
        assert_eq!(
            format!(
                "{:?}",
                crate::Analysis::from_yaml("b.yml", broken.to_string(), &yaml::parse(broken))
            ),
            format!("{:?}", crate::Analysis::new("b.yml", broken.to_string()))
        );

        let known = Some((analysis.dialect, analysis.references.as_slice()));
        let template = Input {
            path: "t.yml",
            text: "steps:\n- script: x\n",
            known: None,
        };
        let tree = match parsed {
            Ok(y) | Err((_, y)) => y,
        };
        let handed = Repository::build_parsed([
            (
                Input {
                    path: "p.yml",
                    text,
                    known,
                },
                Some(tree),
            ),
            (template, None),
        ]);
        let parsed_here = Repository::build([
            Input {
                path: "p.yml",
                text,
                known,
            },
            template,
        ]);
        assert_eq!(
            format!("{:?}", handed.files),
            format!("{:?}", parsed_here.files)
        );
        assert!(handed.aliases.contains_key("c1"));
        assert_eq!(handed.entries(), parsed_here.entries());

        // The tree handed in is the one used (here, on purpose, not the text's).
        let other = match yaml::parse("steps: []\n") {
            Ok(y) | Err((_, y)) => y,
        };
        let repo = Repository::build_parsed([(
            Input {
                path: "p.yml",
                text: "jobs: []\n",
                known: None,
            },
            Some(other),
        )]);
        assert!(repo.files[0]
            .root
            .as_ref()
            .and_then(|r| r.get("steps"))
            .is_some());
    }

    #[test]
    fn a_model_of_changed_files_takes_the_unchanged_files_trees_from_the_old_one() {
        let old_files = [
            ("a.yml", "jobs:\n- template: t.yml\n"),
            ("t.yml", "jobs:\n- job: j\n  container: x/y:1\n"),
            ("u.yml", "steps:\n- script: x\n"),
        ];
        let old = Repository::new(old_files);
        // `t.yml` changed (a new text), `u.yml` too but to the same text (another string).
        let t = "jobs:\n- job: j\n  container: x/y:1@sha256:00\n".to_string();
        let u = old_files[2].1.to_string();
        let new_files = [
            ("a.yml", old_files[0].1),
            ("t.yml", t.as_str()),
            ("u.yml", &u),
        ];
        let reusing = Repository::build_reusing(
            &old,
            new_files.iter().map(|&(path, text)| {
                let input = Input {
                    path,
                    text,
                    known: None,
                };
                (input, None)
            }),
        );
        let fresh = Repository::new(new_files);
        assert_eq!(format!("{:?}", reusing.files), format!("{:?}", fresh.files));
        assert_eq!(reusing.entries(), fresh.entries());
        assert_eq!(
            format!("{:?}", reusing.aliases),
            format!("{:?}", fresh.aliases)
        );
        let shared = |path: &str| {
            let (Some(a), Some(b)) = (old.id(path), reusing.id(path)) else {
                panic!("{path} is in both");
            };
            match (&old.files[a].root, &reusing.files[b].root) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                _ => panic!("{path} has a tree in both"),
            }
        };
        assert!(shared("a.yml"));
        assert!(shared("u.yml"));
        assert!(!shared("t.yml"));
        assert!(reusing.files[reusing.id("t.yml").expect("t")]
            .text
            .contains("@sha256:00"));
    }

    /// A model that keeps no trees knows what a model that keeps them knows, and gives the
    /// same tree when asked (parsed again); a model of changed files built from it takes what
    /// reading the unchanged ones showed, keeps no tree either, and is the fresh model.
    #[test]
    fn a_model_without_trees_reads_the_same_and_parses_again_when_asked() {
        let files = [
            ("a.yml", "jobs:\n- template: t.yml\n  parameters:\n    c: x/y:1\n"),
            (
                "t.yml",
                "parameters:\n- name: c\n  default: z:1\njobs:\n- job: j\n  container: ${{ parameters.c }}\n",
            ),
            (
                "r.yml",
                "resources:\n  containers:\n  - container: c1\n    image: a/b:1\nsteps:\n- script: x\n  env:\n    A: $ {{ parameters.a }}\n",
            ),
            ("README.md", "jobs: []\n"),
        ];
        let read = |files: &[(&'static str, &'static str)]| {
            Repository::from_read(files.iter().filter_map(|&(path, text)| {
                ReadFile::new(
                    Input {
                        path,
                        text,
                        known: None,
                    },
                    None,
                )
            }))
        };
        let kept = Repository::new(files);
        let light = read(&files);
        let same = |a: &Repository<'_>, b: &Repository<'_>| {
            assert_eq!(a.entries(), b.entries());
            assert_eq!(a.included, b.included);
            assert_eq!(a.includes, b.includes);
            assert_eq!(a.problems, b.problems);
            assert_eq!(a.aliases, b.aliases);
            assert_eq!(a.files.len(), b.files.len());
            for (id, (x, y)) in a.files.iter().zip(&b.files).enumerate() {
                assert_eq!(
                    (x.path, x.has_tree, x.pipeline_shaped, x.parameterised),
                    (y.path, y.has_tree, y.pipeline_shaped, y.parameterised)
                );
                assert_eq!(x.references, y.references);
                assert_eq!(format!("{:?}", a.tree(id)), format!("{:?}", b.tree(id)));
            }
        };
        same(&kept, &light);
        assert!(light.files.iter().all(|f| f.root.is_none()));
        assert!(light
            .problems
            .iter()
            .all(|p| p.loc.file == light.id("r.yml").expect("r")));
        assert!(light.parameterised(light.id("t.yml").expect("t")));

        let changed = [
            files[0],
            (files[1].0, "jobs:\n- job: k\n"),
            files[2],
            files[3],
        ];
        let reusing = Repository::build_reusing(
            &light,
            changed.iter().map(|&(path, text)| {
                let input = Input {
                    path,
                    text,
                    known: None,
                };
                (input, None)
            }),
        );
        assert!(reusing.files.iter().all(|f| f.root.is_none()));
        same(&reusing, &read(&changed));
        same(&reusing, &Repository::new(changed));
    }

    #[test]
    fn template_paths_end_in_yml_or_yaml_in_any_case() {
        for yes in ["a.yml", "eng/B.YAML", "x/.Yml", ".yaml"] {
            assert!(has_yaml_extension(yes), "{yes}");
        }
        for no in ["a.yml.txt", "yml", "a.ym", "é", "", "a.json"] {
            assert!(!has_yaml_extension(no), "{no}");
        }
    }

    #[test]
    fn resolves_relative_rooted_self_and_external() {
        let files = [
            ("r/eng/a.yml", "jobs:\n- template: sub/b.yml\n"),
            ("r/eng/sub/b.yml", "jobs:\n- template: /eng/c.yml@self\n"),
            ("r/eng/c.yml", "jobs: []\n"),
        ];
        let repo = Repository::new(files);
        let a = repo.id("r/eng/a.yml").expect("a");
        let b = repo.id("r/eng/sub/b.yml").expect("b");
        let c = repo.id("r/eng/c.yml").expect("c");
        assert_eq!(repo.resolve(a, "sub/b.yml"), Target::File(b));
        assert_eq!(repo.resolve(b, "../c.yml"), Target::File(c));
        assert_eq!(repo.resolve(b, "/eng/c.yml@self"), Target::File(c));
        assert_eq!(
            repo.resolve(b, "v1/x.yml@templates"),
            Target::External("v1/x.yml@templates".to_string())
        );
        assert!(matches!(repo.resolve(a, "nope.yml"), Target::Missing(_)));
        assert_eq!(repo.entries(), vec![a]);
    }

    #[test]
    fn params_both_styles_and_aliases() {
        let files = [
            (
                "list.yml",
                "parameters:\n- name: img\n  type: string\n  default: x:1\njobs: []\n",
            ),
            (
                "map.yml",
                "parameters:\n  img: y:2\nresources:\n  containers:\n  - container: c1\n    image: a/b:1\n",
            ),
        ];
        let repo = Repository::new(files);
        let tree = repo.tree(repo.id("list.yml").expect("id")).expect("tree");
        let p = params(&tree);
        assert_eq!(p[0].name, "img");
        assert_eq!(p[0].ty, Some("string"));
        assert_eq!(p[0].default.and_then(Node::as_str), Some("x:1"));
        let tree = repo.tree(repo.id("map.yml").expect("id")).expect("tree");
        let p = params(&tree);
        assert_eq!(p[0].default.and_then(Node::as_str), Some("y:2"));
        assert!(repo.aliases.contains_key("c1"));
    }

    #[test]
    fn expression_problems_have_positions() {
        let text =
            "steps:\n- script: x\n  env:\n    A: $ {{ parameters.a }}\n    B: ${{ eq(1, }}\n";
        let repo = Repository::new([("p.yml", text)]);
        assert_eq!(repo.problems.len(), 2, "{:?}", repo.problems);
        assert_eq!(&text[repo.problems[0].loc.span.start..][..3], "$ {");
        assert!(repo.problems[1].message.contains("eq(1,"));
    }

    /// Lines and columns (in characters) of byte offsets: inside a character of several
    /// bytes it is the character's, past the end it is the end.
    #[test]
    fn line_col_counts_lines_and_characters() {
        let text = "a: \u{e9}\nbb: x\n";
        let repo = Repository::new([("p.yml", text)]);
        for (offset, want) in [
            (0, (1, 1)),
            (3, (1, 4)),
            (4, (1, 4)),
            (5, (1, 5)),
            (6, (2, 1)),
            (8, (2, 3)),
            (12, (3, 1)),
            (100, (3, 1)),
        ] {
            assert_eq!(repo.line_col(0, offset), want, "{offset}");
        }
    }

    /// A file another file names as a template is no entry point: named by its path, or
    /// `path@self`, with its extension in any case. A script's text names no template, and
    /// a file that names itself is still an entry point.
    #[test]
    fn entry_points_are_the_files_no_other_file_names() {
        let files = [
            (
                "ci.yml",
                "steps:\n- script: t1.yml\n- template: t2.yml@self\n- template: t3.YML\n",
            ),
            ("t1.yml", "steps: []\n"),
            ("t2.yml", "steps: []\n"),
            ("t3.YML", "steps: []\n"),
            ("t4.yml", "steps:\n- template: t4.yml\n"),
        ];
        let repo = Repository::new(files);
        let entries: Vec<&str> = repo.entries().iter().map(|&i| repo.files[i].path).collect();
        assert_eq!(entries, ["ci.yml", "t1.yml", "t4.yml"]);
    }

    /// A resource's image is placed at its text, without the blanks inside its quotes.
    #[test]
    fn resource_images_are_placed_at_their_text() {
        let text = "resources:\n  containers:\n  - container: c1\n    image: '  a/b:1 '\n";
        let repo = Repository::new([("p.yml", text)]);
        let def = &repo.aliases["c1"][0];
        assert_eq!(&text[def.alias.span.clone()], "c1");
        let (image, loc) = &def.images[0];
        assert_eq!(image, "a/b:1");
        assert_eq!(&text[loc.span.clone()], "a/b:1");
    }

    /// Where expression problems are placed: at the character the expression parser stopped
    /// at, in keys as in values; at the start of the text of a block scalar or of a quoted
    /// one with escapes, whose decoded text is not the file's. A directive in a key that
    /// holds more than the directive is a problem where the directive's text begins.
    #[test]
    fn expression_problems_are_placed_where_the_parser_stopped() {
        let text = "steps:\n- script: x\n  ${{ if eq(1, }}:\n    a: b\n  env:\n    B: |\n      x ${{ eq(2, }}\n    C: y ${{ eq(3, }}\n    D: \"\\t${{ eq(4, }}\"\n    x ${{ if eq(5, 5) }}: y\n";
        let repo = Repository::new([("p.yml", text)]);
        let places: Vec<&str> = repo
            .problems
            .iter()
            .map(|p| &text[p.loc.span.start..][..3])
            .collect();
        assert_eq!(
            places,
            ["}}:", "x $", "}}\n", "\\t$", " if"],
            "{:?}",
            repo.problems
        );
        for p in &repo.problems {
            assert_eq!(p.loc.span.len(), 1, "{p:?}");
        }
    }

    /// Container resources are defined by a literal alias with an image, in a
    /// `resources.containers` list or a `containers:` map; an alias built by an expression
    /// or without an image defines nothing here.
    #[test]
    fn resources_define_aliases_with_images() {
        let text = "resources:\n  containers:\n  - container: c1\n    image: a/b:1\n  - container: ${{ parameters.name }}\n    image: a/c:1\n  - container: noimage\n    options: --x\nextends:\n  template: t.yml\n  parameters:\n    containers:\n      m1:\n        image: a/d:1\n      ${{ parameters.other }}:\n        image: a/e:1\n      m2:\n        env: {}\n";
        let repo = Repository::new([("p.yml", text)]);
        let mut aliases: Vec<(&str, Vec<&str>)> = repo
            .aliases
            .iter()
            .map(|(k, defs)| {
                let images = defs
                    .iter()
                    .flat_map(|d| d.images.iter().map(|(i, _)| i.as_str()))
                    .collect();
                (k.as_str(), images)
            })
            .collect();
        aliases.sort();
        assert_eq!(aliases, [("c1", vec!["a/b:1"]), ("m1", vec!["a/d:1"])]);
    }

    /// Normalizing gives what collapsing every segment gives, for paths that are already
    /// normal (returned as they are) and for the others; and collapsing does collapse.
    #[test]
    fn normalize_collapses_segments() {
        let segs = ["a", "bc", ".", "..", "", "x.yml"];
        let mut paths = vec![String::new(), "/".to_string()];
        for a in segs {
            for b in segs {
                for c in segs {
                    paths.push(format!("{a}/{b}/{c}"));
                    paths.push(format!("/{a}/{b}"));
                    paths.push(format!("{a}/{b}"));
                }
            }
        }
        for path in &paths {
            assert_eq!(normalize(path), collapse(path), "{path:?}");
        }
        assert_eq!(collapse("/a/./b/../c//d/"), "/a/c/d");
        assert_eq!(collapse("../a/.."), "");
        assert_eq!(normalize("eng/x.yml"), "eng/x.yml");
    }
}
