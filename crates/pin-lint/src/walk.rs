//! Finding the files to analyze: folders are walked (gitignore-aware, hidden folders such as
//! `.github` included, `.git` skipped); files named explicitly are always read. A file that
//! `[files]` in its `pin-lint.toml` gives a type is picked whatever its name, and keeps that
//! type.
//!
//! The walk keeps the semantics of the `ignore` crate's walker as pin-lint configured it
//! (`.gitignore`, `.ignore`, `.git/info/exclude` and the global git excludes file, in every
//! folder of the walk and above it, without requiring a git repository; symbolic links are not
//! followed below a path given on the command line), and `ignore`'s own matcher applies the
//! patterns. What it adds is economy: each folder is read once, and what the folder holds
//! (`.gitignore`, `.ignore`, `.git`, `pin-lint.toml`) is decided from the names that read
//! returned instead of asking the file system for each name, as ripgrep's parallel walker
//! does. In small folders of small files (Dockerfiles) those look-ups cost more than the
//! analysis.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read as _};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::{anyhow, bail, Context as _, Result};
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::Match;
use pin_core::config;
use pin_core::dialect::Dialect;

use crate::gate::Configs;

/// A file to analyze, with the path to show (as given on the command line joined with the
/// path below it, without a leading `./`, with forward slashes).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Input {
    /// Path shown in output.
    pub display: String,
    /// Path on disk.
    pub path: PathBuf,
    /// The type `[files]` in the governing `pin-lint.toml` gives the file, if any.
    pub file_type: Option<Dialect>,
    /// The configuration that governs the file (an index for [`Configs::at`]).
    pub config: usize,
}

/// Expand the command-line paths into files. A path that does not exist is an error (exit 2),
/// and so is a folder below it that cannot be read. Each file's configuration is found in
/// `configs` (the first `pin-lint.toml` in its folder or above); an invalid one stops the
/// walk.
pub fn collect(paths: &[PathBuf], configs: &mut Configs) -> Result<Vec<Input>> {
    let global = Gitignore::global().0;
    let mut above = HashMap::new();
    let mut out = Vec::new();
    for root in paths {
        let meta =
            fs::metadata(root).with_context(|| format!("cannot read `{}`", root.display()))?;
        if meta.is_file() {
            let (config, file_type) = configs.for_named_file(root)?;
            out.push(input(root, file_type, config));
            continue;
        }
        if !meta.is_dir() {
            bail!("`{}` is neither a file nor a folder", root.display());
        }
        let mut walk = Walk {
            root,
            parents: Parents::of(root, &mut above)
                .with_context(|| format!("cannot walk `{}`", root.display()))?,
            global: &global,
            stack: Vec::new(),
            buffer: listing::Buffer::default(),
            configs,
            out: &mut out,
        };
        let absolute = std::path::absolute(root)
            .with_context(|| format!("cannot resolve `{}`", root.display()))?;
        walk.folder(root.clone(), absolute)?;
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// One walk below a folder given on the command line.
struct Walk<'a> {
    root: &'a Path,
    parents: Option<Parents>,
    global: &'a Gitignore,
    /// The folders from `root` down to the one being read.
    stack: Vec<Level>,
    /// Room for a folder's listing, shared by all folders.
    buffer: listing::Buffer,
    configs: &'a mut Configs,
    out: &'a mut Vec<Input>,
}

/// What one folder of the walk contributes.
struct Level {
    /// The folder as walked (the root as given, joined with the names below it).
    dir: PathBuf,
    /// The folder made absolute (configuration globs are anchored in absolute folders).
    absolute: PathBuf,
    /// The open folder, when kept (its sub-folders are opened relative to it).
    handle: Option<listing::Folder>,
    rules: Rules,
    /// What `config::settles` says of this folder, decided from its names: `Some(Some(file))`
    /// when it holds a `pin-lint.toml`, `Some(None)` when it is a repository root without one,
    /// `None` when its parent decides.
    settles: Option<Option<PathBuf>>,
    /// The governing configuration, once asked for.
    config: Option<usize>,
}

/// The ignore files of one folder (an empty matcher for each one it lacks).
#[derive(Default)]
struct Rules {
    ignore: Option<Gitignore>,
    git_ignore: Option<Gitignore>,
    git_exclude: Option<Gitignore>,
}

/// The names in a folder that matter to the walk.
#[derive(Default)]
struct Marks {
    ignore: bool,
    git_ignore: bool,
    git: Option<Kind>,
    config: Option<Kind>,
}

/// What a folder entry is, as the folder's listing says (a link is not followed).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
    Link,
    Other,
}

impl Kind {
    fn of(kind: fs::FileType) -> Kind {
        if kind.is_file() {
            Kind::File
        } else if kind.is_dir() {
            Kind::Dir
        } else if kind.is_symlink() {
            Kind::Link
        } else {
            Kind::Other
        }
    }

    /// The kind of what a link named `path` points to (`None` when it points nowhere).
    fn followed(self, path: impl FnOnce() -> PathBuf) -> Option<Kind> {
        match self {
            Kind::Link => fs::metadata(path()).ok().map(|m| Kind::of(m.file_type())),
            kind => Some(kind),
        }
    }
}

impl Walk<'_> {
    /// Read `dir` (`absolute` is the same folder made absolute), pick its files and walk its
    /// sub-folders, depth first in the order the folder lists them.
    fn folder(&mut self, dir: PathBuf, absolute: PathBuf) -> Result<()> {
        let mut entries = Vec::new();
        let parent = self.stack.last().and_then(|l| l.handle.as_ref());
        let handle = listing::list(parent, &dir, &mut self.buffer, &mut entries).map_err(
            |(err, name)| match name {
                Some(name) => self.io_error(&dir.join(name), err),
                None => self.io_error(&dir, err),
            },
        )?;
        let mut marks = Marks::default();
        for (name, kind) in &entries {
            match name.as_encoded_bytes() {
                b".ignore" => marks.ignore = true,
                b".gitignore" => marks.git_ignore = true,
                b".git" => marks.git = Some(*kind),
                b"pin-lint.toml" => marks.config = Some(*kind),
                _ => {}
            }
        }
        let rules = Rules::read(&dir, &marks);
        let settles = if self.configs.is_explicit() {
            None
        } else {
            settles(&dir, &absolute, &marks)
        };
        // Below a few dozen levels folders are opened by path, so that a deep tree does not
        // hold a descriptor per level.
        let keep = self.stack.len() < 32;
        self.stack.push(Level {
            dir,
            absolute,
            handle: handle.filter(|_| keep),
            rules,
            settles,
            config: None,
        });
        let top = self.stack.len() - 1;
        for (name, kind) in entries {
            if name == ".git" {
                continue;
            }
            let path = self.stack[top].dir.join(&name);
            if kind == Kind::Dir {
                if self.ignored(&path, true) {
                    continue;
                }
                let absolute = self.stack[top].absolute.join(&name);
                self.folder(path, absolute)?;
            } else if kind == Kind::File {
                if self.ignored(&path, false) {
                    continue;
                }
                self.file(path, &name)?;
            }
        }
        self.stack.pop();
        Ok(())
    }

    /// Pick the file `path` (named `name`, in the innermost folder of the stack) when its
    /// configuration gives it a type or its name or content make it a candidate.
    fn file(&mut self, path: PathBuf, name: &OsStr) -> Result<()> {
        let top = self.stack.len() - 1;
        let config = self.config(top)?;
        let governing = self.configs.at(config).0;
        let file_type = if governing.has_file_types() {
            governing.file_type(&self.stack[top].absolute.join(name))
        } else {
            None
        };
        if file_type.is_some() || is_pipeline_candidate(&path) {
            self.out.push(input(&path, file_type, config));
        }
        Ok(())
    }

    /// The configuration governing the folder at `depth` of the stack: the nearest folder of
    /// the walk that settles the question, else the search from the root upwards.
    fn config(&mut self, depth: usize) -> Result<usize> {
        if let Some(i) = self.stack[depth].config {
            return Ok(i);
        }
        let i = match self.stack[depth].settles.clone() {
            Some(found) => self.configs.settled(found)?,
            None if depth == 0 => self.configs.for_dir(&self.stack[0].absolute)?,
            None => self.config(depth - 1)?,
        };
        self.stack[depth].config = Some(i);
        Ok(i)
    }

    /// The error for a folder that cannot be read, worded as `ignore`'s walker worded it.
    fn io_error(&self, path: &Path, err: io::Error) -> anyhow::Error {
        let shown = path.display();
        anyhow!("{shown}: IO error for operation on {shown}: {err}")
            .context(format!("cannot walk `{}`", self.root.display()))
    }

    /// Whether the ignore files in play exclude `path` (an entry of the innermost folder):
    /// the nearest `.ignore` that matches it, else the nearest `.gitignore`, else the nearest
    /// `.git/info/exclude`, then the global excludes file, decide; a later rule's negation
    /// (`!name`) keeps a path. The same precedence as `ignore::WalkBuilder`.
    fn ignored(&self, path: &Path, is_dir: bool) -> bool {
        let path = strip_prefix("./", path).unwrap_or(path);
        let mut found = Found {
            ignore: Match::None,
            git_ignore: Match::None,
            git_exclude: Match::None,
        };
        for level in self.stack.iter().rev() {
            found.visit(&level.rules, path, is_dir);
        }
        if let Some(parents) = &self.parents {
            let relative = match self.stack.first() {
                Some(root) if root.dir.as_path() != Path::new(".") => {
                    let root = strip_prefix("./", &root.dir).unwrap_or(&root.dir);
                    let rest = strip_prefix(root, path).unwrap_or(path);
                    strip_prefix("/", rest).unwrap_or(rest)
                }
                _ => path,
            };
            let absolute = parents.base.join(relative);
            for rules in &parents.rules {
                found.visit(rules, &absolute, is_dir);
            }
        }
        let global = self.global.matched(path, is_dir);
        found
            .ignore
            .or(found.git_ignore)
            .or(found.git_exclude)
            .or(global)
            .is_ignore()
    }
}

/// The first match of each kind of ignore file, from the nearest folder outwards.
struct Found<'a> {
    ignore: Match<&'a ignore::gitignore::Glob>,
    git_ignore: Match<&'a ignore::gitignore::Glob>,
    git_exclude: Match<&'a ignore::gitignore::Glob>,
}

impl<'a> Found<'a> {
    fn visit(&mut self, rules: &'a Rules, path: &Path, is_dir: bool) {
        for (found, matcher) in [
            (&mut self.ignore, &rules.ignore),
            (&mut self.git_ignore, &rules.git_ignore),
            (&mut self.git_exclude, &rules.git_exclude),
        ] {
            if let (true, Some(matcher)) = (found.is_none(), matcher) {
                *found = matcher.matched(path, is_dir);
            }
        }
    }
}

/// The ignore files of the folders above a walked folder (its canonical path's ancestors),
/// when any of them has one.
struct Parents {
    /// The walked folder, canonical.
    base: PathBuf,
    /// The ancestors' rules, nearest first.
    rules: Vec<Rc<Rules>>,
}

impl Parents {
    /// The rules above `root`, or `None` when there are none (or `root` has no canonical
    /// path). An invalid pattern in one of them is an error, as it was for `ignore`'s walker.
    /// `read` keeps the folders already read (for the other paths of the command line).
    fn of(root: &Path, read: &mut HashMap<PathBuf, Rc<Rules>>) -> Result<Option<Parents>> {
        let Ok(base) = root.canonicalize() else {
            return Ok(None);
        };
        let mut rules = Vec::new();
        let mut errors = Vec::new();
        // From the file system's root down, as `ignore` reads them (its errors come in that
        // order).
        let above: Vec<&Path> = base.ancestors().skip(1).collect();
        for dir in above.into_iter().rev() {
            if let Some(known) = read.get(dir) {
                rules.push(Rc::clone(known));
                continue;
            }
            let git = fs::metadata(dir.join(".git"))
                .ok()
                .map(|m| Kind::of(m.file_type()));
            let marks = Marks {
                ignore: dir.join(".ignore").exists(),
                git_ignore: dir.join(".gitignore").exists(),
                git,
                config: None,
            };
            let (found, mut errs) = Rules::read_reporting(dir, &marks);
            errors.append(&mut errs);
            let found = Rc::new(found);
            read.insert(dir.to_path_buf(), Rc::clone(&found));
            rules.push(found);
        }
        match errors.len() {
            0 => {}
            1 => return Err(errors.remove(0).into()),
            _ => return Err(ignore::Error::Partial(errors).into()),
        }
        if rules.iter().all(|r| r.is_empty()) {
            return Ok(None);
        }
        rules.reverse();
        Ok(Some(Parents { base, rules }))
    }
}

impl Rules {
    /// The rules of the folder `dir` that holds what `marks` says. Errors in the files are
    /// not the walk's concern (a pattern that does not parse is left out).
    fn read(dir: &Path, marks: &Marks) -> Rules {
        Rules::read_reporting(dir, marks).0
    }

    /// [`Rules::read`], with the errors `ignore` reports (invalid patterns, an unreadable
    /// `.git` file; an unreadable ignore file is not an error).
    fn read_reporting(dir: &Path, marks: &Marks) -> (Rules, Vec<ignore::Error>) {
        let mut errors = Vec::new();
        let matcher = |file: PathBuf, errors: &mut Vec<ignore::Error>| {
            let mut builder = GitignoreBuilder::new(dir);
            if let Some(err) = builder.add(file) {
                if !err.is_io() {
                    errors.push(err);
                }
            }
            let matcher = builder.build().unwrap_or_else(|err| {
                errors.push(err);
                Gitignore::empty()
            });
            (!matcher.is_empty()).then_some(matcher)
        };
        let ignore = marks
            .ignore
            .then(|| matcher(dir.join(".ignore"), &mut errors))
            .flatten();
        let git_ignore = marks
            .git_ignore
            .then(|| matcher(dir.join(".gitignore"), &mut errors))
            .flatten();
        let common = match marks.git.map(|kind| git_common_dir(dir, kind)) {
            Some(Ok(common)) => common,
            Some(Err(err)) => {
                errors.push(err);
                None
            }
            None => None,
        };
        let git_exclude = common
            .map(|git| git.join("info/exclude"))
            .filter(|exclude| exclude.exists())
            .and_then(|exclude| matcher(exclude, &mut errors));
        (
            Rules {
                ignore,
                git_ignore,
                git_exclude,
            },
            errors,
        )
    }

    fn is_empty(&self) -> bool {
        self.ignore.is_none() && self.git_ignore.is_none() && self.git_exclude.is_none()
    }
}

/// The git folder that holds `info/exclude` for the folder `dir` with a `.git` of type
/// `kind` (as listed; a link is followed): `.git` itself, or for a linked worktree (a `.git`
/// file saying `gitdir: …`) the repository's common folder. `Ok(None)` when a `.git` file
/// does not say where; an error when it cannot be read.
fn git_common_dir(dir: &Path, kind: Kind) -> Result<Option<PathBuf>, ignore::Error> {
    let git = dir.join(".git");
    if kind.followed(|| git.clone()) != Some(Kind::File) {
        return Ok(Some(git));
    }
    let with_path = |err: io::Error, path: &Path| ignore::Error::WithPath {
        path: path.to_path_buf(),
        err: Box::new(ignore::Error::Io(err)),
    };
    let pointer = fs::File::open(&git).and_then(first_line);
    let Some(pointer) = pointer.map_err(|e| with_path(e, &git))? else {
        return Ok(None);
    };
    let Some(real) = pointer.strip_prefix("gitdir: ").map(PathBuf::from) else {
        return Ok(None);
    };
    let commondir = real.join("commondir");
    let Ok(file) = fs::File::open(&commondir) else {
        return Ok(None);
    };
    let Some(common) = first_line(file).map_err(|e| with_path(e, &commondir))? else {
        return Ok(None);
    };
    Ok(Some(if common.starts_with('.') {
        real.join(common)
    } else {
        PathBuf::from(common)
    }))
}

/// The first line of a file (without its line ending), `None` for an empty file; an error
/// when it cannot be read or is not UTF-8 (as `BufRead::lines` reads it).
fn first_line(file: fs::File) -> io::Result<Option<String>> {
    io::BufRead::lines(io::BufReader::new(file))
        .next()
        .transpose()
}

/// What `config::settles` says of the folder `dir` (absolute: `absolute`) with `marks`,
/// without asking the file system unless a name is a symbolic link.
fn settles(dir: &Path, absolute: &Path, marks: &Marks) -> Option<Option<PathBuf>> {
    if marks
        .config
        .and_then(|kind| kind.followed(|| dir.join(config::FILE_NAME)))
        == Some(Kind::File)
    {
        return Some(Some(absolute.join(config::FILE_NAME)));
    }
    marks
        .git
        .and_then(|kind| kind.followed(|| dir.join(".git")))
        .map(|_| None)
}

/// `path` without the leading `prefix`, compared byte by byte but only at a component
/// boundary (as `ignore` strips paths before matching).
#[cfg(unix)]
fn strip_prefix(prefix: impl AsRef<Path>, path: &Path) -> Option<&Path> {
    use std::os::unix::ffi::OsStrExt as _;
    let prefix = prefix.as_ref().as_os_str().as_bytes();
    let rest = path.as_os_str().as_bytes().strip_prefix(prefix)?;
    if prefix.last().is_some_and(|&b| b != b'/') && rest.first().is_some_and(|&b| b != b'/') {
        return None;
    }
    Some(Path::new(OsStr::from_bytes(rest)))
}

/// `path` without the leading `prefix` (whole components).
#[cfg(not(unix))]
fn strip_prefix(prefix: impl AsRef<Path>, path: &Path) -> Option<&Path> {
    path.strip_prefix(prefix).ok()
}

/// Read a whole file with one `open` and as few `read`s as it takes, without the `stat` (and
/// `lseek`) that `std::fs::read` makes to size its buffer. The bytes land in a buffer kept by
/// the thread (reads fill it without clearing it first) and are copied out at their exact
/// size.
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let file = fs::File::open(path)?;
    BUFFER.with_borrow_mut(|buffer| {
        buffer.clear();
        // No size hint: `take` hides the file from `read_to_end`'s `stat`.
        let read = file.take(u64::MAX).read_to_end(buffer);
        let bytes = buffer.as_slice().to_vec();
        // A very large file's buffer is not kept.
        if buffer.capacity() > 1 << 20 {
            *buffer = Vec::new();
        }
        read.map(|_| bytes)
    })
}

/// Files a folder walk picks: YAML files, Bicep and Terraform files, Dockerfiles, dev container
/// definitions, and JSON files that look like ARM templates (the analyzer decides for sure;
/// other JSON gives no references).
fn is_pipeline_candidate(path: &Path) -> bool {
    if pin_core::dialect::dockerfile::is_dockerfile(&path.to_string_lossy()) {
        return true;
    }
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("yml" | "yaml" | "bicep" | "tf") => true,
        Some("json") => {
            pin_core::dialect::devcontainer::is_devcontainer_path(
                &path.to_string_lossy().replace('\\', "/"),
            ) || looks_like_arm_template(path)
        }
        _ => false,
    }
}

/// A cheap look inside a `.json` file: ARM templates name a `deploymentTemplate` schema or
/// have `"resources"`. Files over 16 MiB are not templates (ARM's limit is 4 MB).
fn looks_like_arm_template(path: &Path) -> bool {
    let small = fs::metadata(path).is_ok_and(|m| m.len() <= 16 << 20);
    small
        && read(path).is_ok_and(|bytes| {
            let text = String::from_utf8_lossy(&bytes);
            text.contains("\"resources\"")
                || text.to_ascii_lowercase().contains("deploymenttemplate")
        })
}

fn input(path: &Path, file_type: Option<Dialect>, config: usize) -> Input {
    let shown = path.to_string_lossy().replace('\\', "/");
    let mut display = shown.as_str();
    while let Some(rest) = display.strip_prefix("./") {
        display = rest;
    }
    Input {
        display: display.to_string(),
        path: path.to_path_buf(),
        file_type,
        config,
    }
}

/// Listing a folder. On Linux a folder is opened relative to its parent's descriptor (no
/// path look-up from the working folder) and read with `getdents64` into a buffer shared by
/// all folders (no `fstat`, which `opendir` makes); elsewhere `std::fs::read_dir`.
mod listing {
    use std::ffi::OsString;
    use std::io;

    use super::Kind;

    /// A listing error, with the name of the entry it concerns when not the folder itself.
    pub type Error = (io::Error, Option<OsString>);

    #[cfg(target_os = "linux")]
    pub use linux::{list, Buffer, Folder};
    #[cfg(not(target_os = "linux"))]
    pub use portable::{list, Buffer, Folder};

    #[cfg(target_os = "linux")]
    mod linux {
        use std::ffi::{OsStr, OsString};
        use std::mem::MaybeUninit;
        use std::os::unix::ffi::OsStrExt as _;
        use std::path::Path;

        use rustix::fd::OwnedFd;
        use rustix::fs::{openat, statat, AtFlags, FileType, Mode, OFlags, RawDir, CWD};

        use super::{Error, Kind};

        /// An open folder.
        pub struct Folder(OwnedFd);

        /// Room for `getdents64`'s answers.
        pub struct Buffer(Vec<MaybeUninit<u8>>);

        impl Default for Buffer {
            fn default() -> Buffer {
                Buffer(vec![MaybeUninit::uninit(); 32 << 10])
            }
        }

        /// List the folder `path` (the entry `path`'s last name of `parent`, when given) into
        /// `out`; the open folder is returned for its sub-folders.
        pub fn list(
            parent: Option<&Folder>,
            path: &Path,
            buffer: &mut Buffer,
            out: &mut Vec<(OsString, Kind)>,
        ) -> Result<Option<Folder>, Error> {
            let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::DIRECTORY | OFlags::CLOEXEC;
            let opened = match (parent, path.file_name()) {
                (Some(parent), Some(name)) => openat(&parent.0, name, flags, Mode::empty()),
                _ => openat(CWD, path, flags, Mode::empty()),
            };
            let fd = opened.map_err(|e| (e.into(), None))?;
            let mut entries = RawDir::new(&fd, &mut buffer.0);
            while let Some(entry) = entries.next() {
                let entry = entry.map_err(|e| (e.into(), None))?;
                let name = entry.file_name().to_bytes();
                if name == b"." || name == b".." {
                    continue;
                }
                let name = OsStr::from_bytes(name);
                let kind = match entry.file_type() {
                    FileType::Unknown => {
                        let stat = statat(&fd, name, AtFlags::SYMLINK_NOFOLLOW)
                            .map_err(|e| (e.into(), Some(name.to_os_string())))?;
                        kind(FileType::from_raw_mode(stat.st_mode))
                    }
                    other => kind(other),
                };
                out.push((name.to_os_string(), kind));
            }
            Ok(Some(Folder(fd)))
        }

        fn kind(file_type: FileType) -> Kind {
            match file_type {
                FileType::RegularFile => Kind::File,
                FileType::Directory => Kind::Dir,
                FileType::Symlink => Kind::Link,
                _ => Kind::Other,
            }
        }
    }

    #[cfg(not(target_os = "linux"))]
    mod portable {
        use std::ffi::OsString;
        use std::path::Path;

        use super::{Error, Kind};

        /// Nothing is kept open.
        pub struct Folder;

        /// Nothing to share.
        #[derive(Default)]
        pub struct Buffer;

        /// List the folder `path` into `out`.
        pub fn list(
            _parent: Option<&Folder>,
            path: &Path,
            _buffer: &mut Buffer,
            out: &mut Vec<(OsString, Kind)>,
        ) -> Result<Option<Folder>, Error> {
            for entry in std::fs::read_dir(path).map_err(|e| (e, None))? {
                let entry = entry.map_err(|e| (e, None))?;
                let kind = entry
                    .file_type()
                    .map_err(|e| (e, Some(entry.file_name())))?;
                out.push((entry.file_name(), Kind::of(kind)));
            }
            Ok(None)
        }
    }
}
