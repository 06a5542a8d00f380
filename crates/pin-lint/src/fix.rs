//! `--fix`: apply the safe fixes of every file (container pins and bumps, VM image versions),
//! check that they converge and that the files still parse, then write each file atomically
//! (or show a diff instead) and describe the changes for people (Markdown PR body) and
//! scripts (JSON).
//!
//! A file is written whole or not at all: a temporary file in the same folder, with the
//! original's permissions, renamed over the original. A file whose needed lookups failed,
//! whose fixes overlap, do not converge or break the YAML is left untouched and reported.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context as _, Result};
use pin_core::engine::{self, FixRequest, Workspace};
pub use pin_core::engine::{Change, HeldBack, Status, VmChange};
use pin_core::template::Repository;
use pin_core::{Facts, Finding, Settings};
use serde::Serialize;

use crate::render::json::Seq;
use crate::resolve::Resolution;
use crate::walk::Input;

/// The outcome of `--fix` over all files.
#[derive(Debug, Default)]
pub struct FixRun {
    /// Every changed container reference, in file order.
    pub changes: Vec<Change>,
    /// Every changed VM image version, in file order.
    pub vm_changes: Vec<VmChange>,
    /// Files that were fixed, skipped or failed (untouched files without fixes are not
    /// listed), in input order.
    pub files: Vec<(String, Status)>,
    /// With `--diff`: the unified diff of every fixed file.
    pub diff: String,
    /// References whose tag the registry says no longer exists (`missing-tag`), as they
    /// remain after the fix, in file order.
    pub removed_tags: Vec<RemovedTag>,
    /// References a `[[hold]]` kept back that a fix would have changed, in file order.
    pub held_back: Vec<HeldBack>,
}

/// A reference to a tag the registry says no longer exists, for the PR body.
#[derive(Debug, Clone)]
pub struct RemovedTag {
    /// The file.
    pub path: String,
    /// 1-based line.
    pub line: u32,
    /// The reference as written.
    pub reference: String,
}

/// The `missing-tag` findings of every file.
fn removed_tags(ws: &Workspace, findings: &[Vec<Finding>]) -> Vec<RemovedTag> {
    ws.files
        .iter()
        .zip(findings)
        .flat_map(|(file, findings)| {
            findings
                .iter()
                .filter(|f| f.rule.id() == "missing-tag")
                .map(|f| RemovedTag {
                    path: file.path.clone(),
                    line: file.analysis.source.line_col(f.span.start).line,
                    reference: f.reference.clone().unwrap_or_default(),
                })
        })
        .collect()
}

impl FixRun {
    /// Whether a file could not be fixed or written (exit 2).
    pub fn failed(&self) -> bool {
        self.files
            .iter()
            .any(|(_, s)| matches!(s, Status::Failed(_)))
    }

    /// Number of files fixed.
    pub fn fixed_files(&self) -> usize {
        self.files
            .iter()
            .filter(|(_, s)| *s == Status::Fixed)
            .count()
    }

    fn count(&self, action: &str) -> usize {
        self.changes.iter().filter(|c| c.action == action).count()
    }

    fn vm_count(&self, action: &str) -> usize {
        self.vm_changes
            .iter()
            .filter(|c| c.action == action)
            .count()
    }

    /// One line for people: what was (or would be) changed and what was left alone.
    pub fn status_line(&self, dry_run: bool) -> String {
        let verb = if dry_run { "Would fix" } else { "Fixed" };
        let n = self.changes.len() + self.vm_changes.len();
        let mut line = format!(
            "{verb} {n} reference{} in {} file{} ({} pinned, {} bumped, {} re-pinned",
            plural(n),
            self.fixed_files(),
            plural(self.fixed_files()),
            self.count("pin"),
            self.count("bump"),
            self.count("repin"),
        );
        if !self.vm_changes.is_empty() {
            let _ = write!(
                line,
                "; VM images: {} pinned, {} bumped",
                self.vm_count("pin"),
                self.vm_count("bump")
            );
        }
        line.push(')');
        let skipped = self
            .files
            .iter()
            .filter(|(_, s)| matches!(s, Status::Skipped(_)))
            .count();
        let failed = self.files.len() - self.fixed_files() - skipped;
        if skipped > 0 {
            let _ = write!(line, "; {skipped} file{} left untouched", plural(skipped));
        }
        if failed > 0 {
            let _ = write!(line, "; {failed} file{} could not be fixed", plural(failed));
        }
        if !self.held_back.is_empty() {
            let n = self.held_back.len();
            let _ = write!(line, "; {n} reference{} held back", plural(n));
        }
        line.push('.');
        line
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The set `--fix` works on: the analysed files, and the template layer's model their layer
/// came from when `check` kept it (what reading the files a fix leaves unchanged showed serves
/// again, instead of their being parsed a second time).
pub struct Set<'a, 't> {
    /// The files with the layer's references folded in.
    pub ws: &'a mut Workspace,
    /// The layer's model of the same files.
    pub model: Option<&'a Repository<'t>>,
}

/// Apply the fixes of every file through the engine (`pin_core::engine::fix`: choose, apply,
/// re-analyse the whole set, check that each fixed file parses and converges), then write
/// each fixed file atomically; with `dry_run` (`--diff`) nothing is written and the diff is
/// collected instead. `unresolved[i]` names the references whose failed lookups a fix of
/// file `i` depends on. Afterwards `set.ws` and `findings` hold what remains: the fixed
/// texts, or the old ones of files that could not be written, through the same pipeline as
/// `check`.
pub fn run(
    inputs: &[Input],
    set: Set<'_, '_>,
    findings: &mut Vec<Vec<Finding>>,
    settings: &[Arc<Settings>],
    facts: &[Facts],
    unresolved: &[Vec<String>],
    dry_run: bool,
) -> FixRun {
    let Set { ws, model } = set;
    let reanalyse = |texts: &[Option<String>]| match model {
        Some(model) => ws.with_texts_reusing(model, texts),
        None => ws.with_texts(texts),
    };
    let requests: Vec<FixRequest<'_>> = (0..ws.files.len())
        .map(|i| FixRequest {
            file: i,
            findings: &findings[i],
            settings: &settings[i],
            facts: &facts[i],
            unresolved: &unresolved[i],
        })
        .collect();
    let outcome = match model {
        Some(model) => engine::fix_reusing(ws, model, &requests),
        None => engine::fix(ws, &requests),
    };
    let held_back = ws
        .files
        .iter()
        .enumerate()
        .flat_map(|(i, file)| engine::holds::held_back(file, &settings[i], &facts[i]))
        .collect();
    let mut status: Vec<Option<Status>> = vec![None; ws.files.len()];
    let mut texts: Vec<Option<String>> = vec![None; ws.files.len()];
    let mut run = FixRun {
        held_back,
        ..FixRun::default()
    };
    let mut unwritten = false;
    let written = if dry_run {
        Vec::new()
    } else {
        let writes: Vec<Write<'_>> = outcome
            .files
            .iter()
            .filter_map(|(i, _, fix)| {
                Some(Write {
                    path: &inputs[*i].path,
                    old: ws.files[*i].analysis.source.text(),
                    new: &fix.as_ref()?.text,
                })
            })
            .collect();
        write_checked_all(&writes)
    };
    let mut written = written.into_iter();
    for (i, file_status, fix) in outcome.files {
        status[i] = file_status;
        let Some(fix) = fix else { continue };
        let file = &ws.files[i];
        let old = file.analysis.source.text();
        if dry_run {
            run.diff.push_str(&unified_diff(&file.path, old, &fix.text));
        } else if let Some(Err(e)) = written.next() {
            status[i] = Some(Status::Failed(format!("not written: {e:#}")));
            unwritten = true;
            continue;
        }
        run.changes.extend(fix.changes);
        run.vm_changes.extend(fix.vm_changes);
        texts[i] = Some(fix.text);
    }
    run.files = ws
        .files
        .iter()
        .zip(status)
        .filter_map(|(f, s)| Some((f.path.clone(), s?)))
        .collect();
    let after = match outcome.after {
        None => {
            run.removed_tags = removed_tags(ws, findings);
            return run;
        }
        // What remains is judged on what is on disk: a file that could not be written
        // counts as it was.
        Some(_) if unwritten => reanalyse(&texts),
        Some(after) => after,
    };
    *findings = relint(ws, &after, std::mem::take(findings), settings, facts);
    *ws = after;
    run.removed_tags = removed_tags(ws, findings);
    run
}

/// The findings of `after` (the set with the fixes in place), as `check` lints it: a file whose
/// text, references and template-layer results are those it had in `before` keeps its findings
/// from `old` (a file's findings are a function of these, its settings and its facts, which do
/// not change); the others are linted again.
fn relint(
    before: &Workspace,
    after: &Workspace,
    old: Vec<Vec<Finding>>,
    settings: &[Arc<Settings>],
    facts: &[Facts],
) -> Vec<Vec<Finding>> {
    use rayon::prelude::*;
    old.into_par_iter()
        .enumerate()
        .map(|(i, old)| {
            let (b, a) = (&before.files[i], &after.files[i]);
            let same = b.path == a.path
                && b.analysis.source.text() == a.analysis.source.text()
                && b.analysis.references == a.analysis.references
                && before.extras(i) == after.extras(i);
            if same {
                old
            } else {
                after.findings(i, &settings[i], &facts[i])
            }
        })
        .collect()
}

/// One fixed text to write: `path`'s content was `old` when it was read.
struct Write<'a> {
    path: &'a Path,
    old: &'a str,
    new: &'a str,
}

/// Files written per batch: each batch's temporary files are open at once, so this bounds the
/// file descriptors in use.
const WRITE_BATCH: usize = 256;

/// Threads flushing one batch's temporary files at once.
const SYNC_THREADS: usize = 16;

/// Replace each `path`'s content `old` by `new`, each atomically, and say per file (in order)
/// whether it was written. A file is refused when it changed since it was read (checked before
/// its temporary file is written and again right before the rename) or is read-only.
///
/// Durability is that of writing the files one by one (temporary file, `fsync`, rename), in
/// three steps per batch so that the flushes overlap: every temporary file is written, then all
/// are flushed to disk concurrently (`sync_all` on each, from several threads: the filesystem
/// commits concurrent flushes together, where one after the other each waits for its own
/// commit), then each whose flush succeeded is renamed over its original, in order. A rename
/// is only issued after its own file's `sync_all` returned success, so after a crash every
/// original holds either its old content or the whole new one, never a part; a file whose
/// flush failed is not renamed and its temporary file is removed. As before, the rename itself
/// is not flushed (no `fsync` of the folder): after a crash a file may still hold its old
/// content, which is a state the user can run `--fix` from again.
fn write_checked_all(files: &[Write<'_>]) -> Vec<Result<()>> {
    let mut out = Vec::with_capacity(files.len());
    for batch in files.chunks(WRITE_BATCH) {
        let mut temps: Vec<Result<Temp>> = batch.iter().map(prepare_write).collect();
        let per_thread = temps.len().div_ceil(SYNC_THREADS).max(1);
        std::thread::scope(|s| {
            for part in temps.chunks_mut(per_thread) {
                s.spawn(move || {
                    for temp in part {
                        if let Ok(t) = temp {
                            if let Err(e) = t.file.as_file().sync_all() {
                                let dir = t.dir.display();
                                let e = anyhow::Error::new(e)
                                    .context(format!("cannot write a temporary file in `{dir}`"));
                                *temp = Err(e);
                            }
                        }
                    }
                });
            }
        });
        for (w, temp) in batch.iter().zip(temps) {
            out.push(temp.and_then(|t| finish_write(w, t)));
        }
    }
    out
}

/// A written, not yet flushed temporary file and the file it replaces.
struct Temp {
    file: tempfile::NamedTempFile,
    dir: PathBuf,
    target: PathBuf,
}

/// `w.new` in a temporary file next to `w.path`'s target, with its permissions, when the file
/// still holds `w.old` and is not read-only.
fn prepare_write(w: &Write<'_>) -> Result<Temp> {
    unchanged(w)?;
    let path = w.path;
    let target: PathBuf = std::fs::canonicalize(path)
        .with_context(|| format!("cannot resolve `{}`", path.display()))?;
    let meta = std::fs::metadata(&target)
        .with_context(|| format!("cannot read `{}`", target.display()))?;
    if meta.permissions().readonly() {
        bail!("`{}` is read-only", path.display());
    }
    let dir = target.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut file = tempfile::Builder::new()
        .prefix(".pin-lint-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .with_context(|| format!("cannot create a temporary file in `{}`", dir.display()))?;
    file.write_all(w.new.as_bytes())
        .with_context(|| format!("cannot write a temporary file in `{}`", dir.display()))?;
    std::fs::set_permissions(file.path(), meta.permissions())
        .with_context(|| format!("cannot set permissions in `{}`", dir.display()))?;
    Ok(Temp { file, dir, target })
}

/// Rename the flushed temporary file `t` over its target, when `w.path` still holds `w.old`.
fn finish_write(w: &Write<'_>, t: Temp) -> Result<()> {
    unchanged(w)?;
    t.file
        .persist(&t.target)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot replace `{}`", w.path.display()))?;
    Ok(())
}

/// Refuse when `w.path` no longer holds what was read.
fn unchanged(w: &Write<'_>) -> Result<()> {
    let current =
        std::fs::read(w.path).with_context(|| format!("cannot read `{}`", w.path.display()))?;
    if current != w.old.as_bytes() {
        bail!("`{}` changed while pin-lint ran", w.path.display());
    }
    Ok(())
}

/// A unified diff (`--- a/path`, `+++ b/path`, 3 lines of context) of one file.
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

/// `sha256:` and the first 12 hex digits.
fn short(digest: &str) -> &str {
    pin_core::rules::short_digest(digest)
}

/// The Markdown PR body: for container images, totals, then one table per image with a row
/// per changed reference; for VM images (when any changed) the same with versions; then the
/// files left untouched and why.
pub fn summary_markdown(run: &FixRun) -> String {
    let mut out = String::new();
    if !run.changes.is_empty() || run.vm_changes.is_empty() {
        out.push_str("## Container image pins\n\n");
    }
    if run.changes.is_empty() && run.vm_changes.is_empty() {
        out.push_str("No reference needed a change.\n");
    } else if !run.changes.is_empty() {
        let images: BTreeMap<&str, Vec<&Change>> =
            run.changes.iter().fold(BTreeMap::new(), |mut m, c| {
                m.entry(c.image.as_str()).or_insert_with(Vec::new).push(c);
                m
            });
        let files = distinct_files(run.changes.iter().map(|c| c.path.as_str()));
        let _ = writeln!(
            out,
            "{} reference{} in {} file{} across {} image{}: {} pinned, {} bumped, {} re-pinned.\n",
            run.changes.len(),
            plural(run.changes.len()),
            files,
            plural(files),
            images.len(),
            plural(images.len()),
            run.count("pin"),
            run.count("bump"),
            run.count("repin"),
        );
        for (image, changes) in images {
            let _ = writeln!(out, "### `{image}`\n");
            out.push_str("| Reference | Tag | Digest |\n|---|---|---|\n");
            for c in changes {
                let old = c
                    .old_digest
                    .as_deref()
                    .map_or_else(|| "unpinned".to_string(), |d| format!("`{}`", short(d)));
                let _ = writeln!(
                    out,
                    "| `{}:{}` | `{}` | {old} → `{}` |",
                    c.path,
                    c.line,
                    c.tag,
                    short(&c.new_digest)
                );
            }
            out.push('\n');
        }
    }
    if !run.vm_changes.is_empty() {
        vm_markdown(run, &mut out);
    }
    if !run.removed_tags.is_empty() {
        out.push_str(
            "## Removed tags\n\nThe registry says these tags (or their repositories) no longer \
             exist (`missing-tag`); they cannot be bumped. Move them to a published tag:\n\n",
        );
        for r in &run.removed_tags {
            let _ = writeln!(out, "- `{}:{}`: `{}`", r.path, r.line, r.reference);
        }
        out.push('\n');
    }
    if !run.held_back.is_empty() {
        held_markdown(&run.held_back, &mut out);
    }
    let untouched: Vec<&(String, Status)> = run
        .files
        .iter()
        .filter(|(_, s)| *s != Status::Fixed)
        .collect();
    if !untouched.is_empty() {
        out.push_str("### Not changed\n\n");
        for (path, status) in untouched {
            let why = match status {
                Status::Skipped(why) | Status::Failed(why) => why.as_str(),
                Status::Fixed => "",
            };
            let _ = writeln!(out, "- `{path}`: {why}");
        }
        out.push('\n');
    }
    out.push_str("Generated by `pin-lint --fix`.\n");
    out
}

/// The VM section of the PR body: totals, then one table per image (grouped without regard
/// to case, shown as first written).
fn vm_markdown(run: &FixRun, out: &mut String) {
    let mut images: BTreeMap<String, (&str, Vec<&VmChange>)> = BTreeMap::new();
    for c in &run.vm_changes {
        images
            .entry(c.image.to_ascii_lowercase())
            .or_insert_with(|| (c.image.as_str(), Vec::new()))
            .1
            .push(c);
    }
    let n = run.vm_changes.len();
    let files = distinct_files(run.vm_changes.iter().map(|c| c.path.as_str()));
    out.push_str("## VM image versions\n\n");
    let _ = writeln!(
        out,
        "{n} VM image reference{} in {files} file{} across {} image{}: {} pinned, {} bumped.\n",
        plural(n),
        plural(files),
        images.len(),
        plural(images.len()),
        run.vm_count("pin"),
        run.vm_count("bump"),
    );
    for (image, changes) in images.into_values() {
        let _ = writeln!(out, "### `{image}`\n");
        out.push_str("| Reference | Version |\n|---|---|\n");
        for c in changes {
            let old = c
                .old_version
                .as_deref()
                .map_or_else(|| "none".to_string(), |v| format!("`{v}`"));
            let _ = writeln!(
                out,
                "| `{}:{}` | {old} → `{}` |",
                c.path, c.line, c.new_version
            );
        }
        out.push('\n');
    }
}

/// The "Held back" section: per held image and tag, the hold's reason and `until`, the
/// digest it would have moved to, and where it is referenced.
fn held_markdown(held: &[HeldBack], out: &mut String) {
    let mut images: BTreeMap<String, Vec<&HeldBack>> = BTreeMap::new();
    for h in held {
        let name = match &h.tag {
            Some(tag) => format!("{}:{tag}", h.image),
            None => h.image.clone(),
        };
        images.entry(name).or_default().push(h);
    }
    out.push_str(
        "## Held back\n\nA `[[hold]]` in `pin-lint.toml` keeps these images at their current \
         digest; remove the hold to let them move.\n\n\
         | Image | Reason | Until | Now | Would move to | References |\n|---|---|---|---|---|---|\n",
    );
    for (image, refs) in images {
        let first = refs[0];
        let now = first
            .old_digest
            .as_deref()
            .map_or_else(|| "unpinned".to_string(), |d| format!("`{}`", short(d)));
        let next = first
            .new_digest
            .as_deref()
            .map_or_else(|| "unknown".to_string(), |d| format!("`{}`", short(d)));
        let places: Vec<String> = refs
            .iter()
            .map(|h| format!("`{}:{}`", h.path, h.line))
            .collect();
        let _ = writeln!(
            out,
            "| `{image}` | {} | {} | {now} | {next} | {} |",
            first.reason.replace('|', "\\|").replace('\n', " "),
            first.until.as_deref().unwrap_or("–"),
            places.join(", ")
        );
    }
    out.push('\n');
}

fn distinct_files<'a>(paths: impl Iterator<Item = &'a str>) -> usize {
    paths.collect::<std::collections::BTreeSet<_>>().len()
}

/// The JSON summary for scripts (shape documented in docs/fix-and-bump.md): the `fix` member
/// of `check --fix --format json`.
pub fn summary_json<'a>(
    run: &'a FixRun,
    resolution: &'a Resolution,
    dry_run: bool,
) -> impl Serialize + 'a {
    let files_with =
        |wanted: fn(&Status) -> bool| run.files.iter().filter(|(_, s)| wanted(s)).count();
    Summary {
        changes: Seq(|| {
            run.changes.iter().map(|c| ChangeEntry {
                action: c.action,
                column: c.column,
                image: &c.image,
                line: c.line,
                new_digest: &c.new_digest,
                old_digest: c.old_digest.as_deref(),
                path: &c.path,
                tag: &c.tag,
            })
        }),
        dry_run,
        files: Seq(|| {
            run.files.iter().map(|(path, status)| {
                let (status, reason) = match status {
                    Status::Fixed => ("fixed", None),
                    Status::Skipped(why) => ("skipped", Some(why.as_str())),
                    Status::Failed(why) => ("failed", Some(why.as_str())),
                };
                FileEntry {
                    path,
                    reason,
                    status,
                }
            })
        }),
        held_back: Seq(|| {
            run.held_back.iter().map(|h| HeldEntry {
                column: h.column,
                image: &h.image,
                line: h.line,
                new_digest: h.new_digest.as_deref(),
                old_digest: h.old_digest.as_deref(),
                path: &h.path,
                pattern: &h.pattern,
                reason: &h.reason,
                tag: h.tag.as_deref(),
                until: h.until.as_deref(),
            })
        }),
        lookup_errors: Seq(|| {
            resolution.failures.iter().map(|f| LookupErrorEntry {
                message: &f.message,
                reference: &f.reference,
                registry: &f.registry,
            })
        }),
        removed_tags: Seq(|| {
            run.removed_tags.iter().map(|r| RemovedEntry {
                line: r.line,
                path: &r.path,
                reference: &r.reference,
            })
        }),
        totals: Totals {
            bumped: run.count("bump"),
            changed_files: run.fixed_files(),
            changed_references: run.changes.len() + run.vm_changes.len(),
            failed_files: files_with(|s| matches!(s, Status::Failed(_))),
            failed_lookups: resolution.failures.len(),
            held_back: run.held_back.len(),
            pinned: run.count("pin"),
            removed_tags: run.removed_tags.len(),
            repinned: run.count("repin"),
            skipped_files: files_with(|s| matches!(s, Status::Skipped(_))),
            vm_bumped: run.vm_count("bump"),
            vm_pinned: run.vm_count("pin"),
        },
        vm_changes: Seq(|| {
            run.vm_changes.iter().map(|c| VmChangeEntry {
                action: c.action,
                column: c.column,
                image: &c.image,
                line: c.line,
                new_version: &c.new_version,
                old_version: c.old_version.as_deref(),
                path: &c.path,
            })
        }),
    }
}

// The summary's JSON shapes; fields in alphabetical order, the order of the output's keys.

#[derive(Serialize)]
struct Summary<C, F, H, L, R, V> {
    changes: C,
    dry_run: bool,
    files: F,
    held_back: H,
    lookup_errors: L,
    removed_tags: R,
    totals: Totals,
    vm_changes: V,
}

#[derive(Serialize)]
struct Totals {
    bumped: usize,
    changed_files: usize,
    changed_references: usize,
    failed_files: usize,
    failed_lookups: usize,
    held_back: usize,
    pinned: usize,
    removed_tags: usize,
    repinned: usize,
    skipped_files: usize,
    vm_bumped: usize,
    vm_pinned: usize,
}

#[derive(Serialize)]
struct ChangeEntry<'a> {
    action: &'a str,
    column: u32,
    image: &'a str,
    line: u32,
    new_digest: &'a str,
    old_digest: Option<&'a str>,
    path: &'a str,
    tag: &'a str,
}

#[derive(Serialize)]
struct VmChangeEntry<'a> {
    action: &'a str,
    column: u32,
    image: &'a str,
    line: u32,
    new_version: &'a str,
    old_version: Option<&'a str>,
    path: &'a str,
}

#[derive(Serialize)]
struct HeldEntry<'a> {
    column: u32,
    image: &'a str,
    line: u32,
    new_digest: Option<&'a str>,
    old_digest: Option<&'a str>,
    path: &'a str,
    pattern: &'a str,
    reason: &'a str,
    tag: Option<&'a str>,
    until: Option<&'a str>,
}

#[derive(Serialize)]
struct RemovedEntry<'a> {
    line: u32,
    path: &'a str,
    reference: &'a str,
}

#[derive(Serialize)]
struct FileEntry<'a> {
    path: &'a str,
    reason: Option<&'a str>,
    status: &'a str,
}

#[derive(Serialize)]
struct LookupErrorEntry<'a> {
    message: &'a str,
    reference: &'a str,
    registry: &'a str,
}

/// Tell people what `--fix` did (stderr: one line per file not fixed, then the totals) and
/// write `--summary FILE`.
pub fn report(args: &crate::args::FixArgs, run: &FixRun) -> Result<()> {
    for (path, status) in &run.files {
        match status {
            Status::Fixed => {}
            Status::Skipped(why) => eprintln!("pin-lint: {path}: {why}"),
            Status::Failed(why) => eprintln!("pin-lint: error: {path}: {why}"),
        }
    }
    eprintln!("pin-lint: {}", run.status_line(args.diff));
    if let Some(file) = &args.summary {
        std::fs::write(file, summary_markdown(run))
            .with_context(|| format!("cannot write the summary `{}`", file.display()))?;
    }
    Ok(())
}
