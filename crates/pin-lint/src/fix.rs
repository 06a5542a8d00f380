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

use anyhow::{bail, Context as _, Result};
use pin_core::template::{FileExtras, TemplateAnalysis};
use pin_core::{Analysis, Applicability, Edit, Facts, Finding, ImageRef, Kind, Settings};
use rayon::prelude::*;
use serde::Serialize;

use crate::render::json::Seq;
use crate::render::FileReport;
use crate::resolve::Resolution;
use crate::templates;
use crate::walk::Input;

/// One reference changed by a fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The file, as shown.
    pub path: String,
    /// 1-based line of the reference (before the fix; a fix never moves lines).
    pub line: u32,
    /// 1-based column of the reference.
    pub column: u32,
    /// Registry and repository as written (`mcr.microsoft.com/dotnet-buildtools/prereqs`).
    pub image: String,
    /// The tag (`latest` when the fix adds it).
    pub tag: String,
    /// `pin` (unpinned → pinned), `bump` (stale digest) or `repin` (missing digest).
    pub action: &'static str,
    /// The digest before, if the reference was pinned.
    pub old_digest: Option<String>,
    /// The digest after.
    pub new_digest: String,
}

/// One VM image whose version a fix changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmChange {
    /// The file, as shown.
    pub path: String,
    /// 1-based line of the reference.
    pub line: u32,
    /// 1-based column of the reference.
    pub column: u32,
    /// The image as written, without its version (`Canonical:ubuntu-24_04-lts:server`, a
    /// gallery image id).
    pub image: String,
    /// `pin` (no version or `latest` → a version) or `bump` (an older version → the newest).
    pub action: &'static str,
    /// The version before (`latest`, `24.04.202409120`), `None` when none was written.
    pub old_version: Option<String>,
    /// The version after.
    pub new_version: String,
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Fixes were applied (or, with `--diff`, would be).
    Fixed,
    /// Left untouched on purpose: a lookup its fixes depend on failed, or it does not parse.
    Skipped(String),
    /// A fix could not be applied or written; the file is untouched.
    Failed(String),
}

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

/// Whether `--fix` applies this finding's fix: safe fixes, and the unsafe `:latest@…` pin
/// of an untagged reference when the user opted in with `pin-untagged-as-latest`.
fn applies(finding: &Finding, settings: &Settings) -> bool {
    finding.fix.as_ref().is_some_and(|fix| {
        fix.applicability == Applicability::Safe
            || (settings.pin_untagged_as_latest && finding.rule.id() == "unpinned-image")
    })
}

/// The new text of one file and the changes that make it.
struct Planned {
    text: String,
    changes: Vec<Change>,
    vm_changes: Vec<VmChange>,
}

/// Apply the fixes of `report`; `None` when there is nothing to fix. Errors say why the
/// file must stay untouched. Whether the result parses and converges is checked later, over
/// all files at once ([`verify`]).
fn plan(
    report: &FileReport,
    extras: Option<&FileExtras>,
    settings: &Settings,
    facts: &Facts,
) -> Result<Option<Planned>, String> {
    let analysis = &report.analysis;
    let chosen: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| applies(f, settings))
        .collect();
    if chosen.is_empty() {
        return Ok(None);
    }
    let edits: Vec<Edit> = chosen
        .iter()
        .filter_map(|f| f.fix.as_ref())
        .flat_map(|fix| fix.edits.iter().cloned())
        .collect();
    let text = pin_core::fix::apply(analysis.source.text(), &edits)
        .map_err(|e| format!("not fixed: {e}"))?;
    // Keyed by the reference's start: stale-digest and missing-digest make the same edit
    // on one reference (findings come sorted, so the first rule's action is kept).
    let mut changes: BTreeMap<usize, Change> = BTreeMap::new();
    let mut vm_changes: Vec<VmChange> = Vec::new();
    for f in chosen {
        let Some(reference) = analysis.references.iter().find(|r| r.span == f.span) else {
            continue;
        };
        if let (Some(vm), Kind::Vm) = (&reference.vm_image, reference.kind) {
            let Some(newest) = facts.newest_vm_version(&vm.key) else {
                continue;
            };
            let at = analysis.source.line_col(reference.span.start);
            vm_changes.push(VmChange {
                path: report.path.clone(),
                line: at.line,
                column: at.column,
                image: vm_image_name(&reference.text),
                action: if f.rule.id() == "unpinned-vm-image" {
                    "pin"
                } else {
                    "bump"
                },
                old_version: vm.version.clone(),
                new_version: newest.version.clone(),
            });
            continue;
        }
        let image = match (&reference.image, reference.kind) {
            (Some(image), Kind::Container) => image.clone(),
            // A pinned fragment: the image is the one it becomes.
            (_, Kind::Dynamic) => {
                let Some(image) = extras
                    .and_then(|x| x.dynamic.iter().find(|d| d.span == f.span))
                    .and_then(|d| match d.images.as_slice() {
                        [one] => ImageRef::parse(&one.image).ok(),
                        _ => None,
                    })
                else {
                    continue;
                };
                image
            }
            _ => continue,
        };
        let Some(current) = facts.tag(&image) else {
            continue;
        };
        let at = analysis.source.line_col(reference.span.start);
        changes
            .entry(reference.span.start)
            .or_insert_with(|| Change {
                path: report.path.clone(),
                line: at.line,
                column: at.column,
                image: image_name(&image),
                tag: image.tag_str().unwrap_or("latest").to_string(),
                action: match f.rule.id() {
                    "unpinned-image" => "pin",
                    "stale-digest" => "bump",
                    _ => "repin",
                },
                old_digest: image.digest_str().map(str::to_string),
                new_digest: current.digest.clone(),
            });
    }
    let changes = changes.into_values().collect();
    Ok(Some(Planned {
        text,
        changes,
        vm_changes,
    }))
}

/// A VM image as written, without its version: `Canonical:ubuntu-24_04-lts:server` for
/// `Canonical:ubuntu-24_04-lts:server:latest`, an id without its `/versions/…`.
fn vm_image_name(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    if let Some(at) = lower.rfind("/versions") {
        return text[..at].to_string();
    }
    if text.starts_with('/') {
        return text.to_string();
    }
    let parts: Vec<&str> = text.split(':').collect();
    match parts.as_slice() {
        [p, o, s, _] => format!("{p}:{o}:{s}"),
        _ => text.to_string(),
    }
}

/// Why a fixed file must not be written: it no longer parses, or fixing it again would
/// change it again. `after` went through the same pipeline as `check` (template layer
/// included), over every file with its fixes applied.
fn verify(after: &FileReport, settings: &Settings) -> Result<(), String> {
    if let Some(e) = &after.analysis.syntax_error {
        return Err(format!(
            "not fixed: the fixed file would not parse ({})",
            e.message
        ));
    }
    let again = after
        .findings
        .iter()
        .filter(|f| applies(f, settings))
        .count();
    if again > 0 {
        return Err(format!(
            "not fixed: the fixes do not converge ({again} fix{} left after applying them)",
            if again == 1 { "" } else { "es" }
        ));
    }
    Ok(())
}

/// Registry and repository as written.
fn image_name(image: &ImageRef) -> String {
    match image.registry_str() {
        Some(registry) => format!("{registry}/{}", image.repository_str()),
        None => image.repository_str().to_string(),
    }
}

/// Apply the fixes of every report. With `dry_run` (`--diff`) nothing is written and the
/// diff is collected instead. The fixed texts are analysed again through the same pipeline
/// as `check` (`layer` is the template layer of `reports`), so the reports end up holding
/// what remains after the fix, template-layer findings included.
pub fn run(
    inputs: &[Input],
    reports: &mut Vec<FileReport>,
    layer: &TemplateAnalysis,
    settings: &[Settings],
    resolution: &Resolution,
    dry_run: bool,
) -> FixRun {
    let facts = &resolution.facts;
    let blocked = resolution.blocked_files();
    let mut status: Vec<Option<Status>> = vec![None; reports.len()];
    let mut planned: Vec<Option<Planned>> = Vec::with_capacity(reports.len());
    for (i, report) in reports.iter().enumerate() {
        planned.push(None);
        let settings = &settings[i];
        if let Some(failures) = blocked.get(&i) {
            let names: Vec<&str> = failures.iter().map(|f| f.reference.as_str()).collect();
            status[i] = Some(Status::Skipped(format!(
                "left untouched: could not resolve {}",
                names.join(", ")
            )));
            continue;
        }
        if let Some(error) = &report.analysis.syntax_error {
            if report.findings.iter().any(|f| applies(f, settings)) {
                status[i] = Some(Status::Skipped(format!(
                    "left untouched: the file does not parse ({})",
                    error.message
                )));
            }
            continue;
        }
        match plan(report, layer.file(&report.path), settings, facts) {
            Ok(p) => planned[i] = p,
            Err(reason) => status[i] = Some(Status::Failed(reason)),
        }
    }
    let mut run = FixRun::default();
    if planned.iter().all(Option::is_none) {
        run.files = collect_status(reports, status);
        return run;
    }

    let mut after = analyse_again(reports, layer, &planned, settings, facts);
    let mut reverted = false;
    for (i, (input, report)) in inputs.iter().zip(reports.iter()).enumerate() {
        let Some(p) = &planned[i] else { continue };
        if let Err(reason) = verify(&after[i], &settings[i]) {
            status[i] = Some(Status::Failed(reason));
            planned[i] = None;
            reverted = true;
            continue;
        }
        let old = report.analysis.source.text();
        if dry_run {
            run.diff.push_str(&unified_diff(&report.path, old, &p.text));
        } else if let Err(e) = write_checked(&input.path, old, &p.text) {
            status[i] = Some(Status::Failed(format!("not written: {e:#}")));
            planned[i] = None;
            reverted = true;
            continue;
        }
        status[i] = Some(Status::Fixed);
        run.changes.extend(p.changes.iter().cloned());
        run.vm_changes.extend(p.vm_changes.iter().cloned());
    }
    if reverted {
        // What remains is judged on what is on disk: the files left untouched count as
        // they were.
        after = analyse_again(reports, layer, &planned, settings, facts);
    }
    run.files = collect_status(reports, status);
    *reports = after;
    run
}

/// Every report again, with the planned texts in place of the fixed files, through the
/// pipeline of `check`: per-file analysis, the template layer over all files, the rules.
fn analyse_again(
    reports: &[FileReport],
    layer: &TemplateAnalysis,
    planned: &[Option<Planned>],
    settings: &[Settings],
    facts: &Facts,
) -> Vec<FileReport> {
    let mut after: Vec<FileReport> = reports
        .par_iter()
        .zip(planned)
        .map(|(report, planned)| FileReport {
            path: report.path.clone(),
            analysis: match planned {
                Some(p) => Analysis::new(&report.path, p.text.clone()),
                None => templates::per_file_analysis(report, layer),
            },
            findings: Vec::new(),
        })
        .collect();
    let after_layer = templates::expand(&mut after);
    templates::findings(&mut after, &after_layer, settings, facts);
    after
}

fn collect_status(reports: &[FileReport], status: Vec<Option<Status>>) -> Vec<(String, Status)> {
    reports
        .iter()
        .zip(status)
        .filter_map(|(r, s)| Some((r.path.clone(), s?)))
        .collect()
}

/// Replace `path`'s content `old` by `new`, atomically. Refuses when the file changed since
/// it was read or is read-only.
fn write_checked(path: &Path, old: &str, new: &str) -> Result<()> {
    let current =
        std::fs::read(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    if current != old.as_bytes() {
        bail!("`{}` changed while pin-lint ran", path.display());
    }
    write_atomic(path, new.as_bytes())
}

/// Write `bytes` to `path` whole or not at all: a temporary file in the same folder with
/// the original's permissions, flushed to disk, then renamed over the original (a symlink
/// is followed, so the link stays a link). A read-only file is refused: that is the user
/// saying it must not change.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let target: PathBuf = std::fs::canonicalize(path)
        .with_context(|| format!("cannot resolve `{}`", path.display()))?;
    let meta = std::fs::metadata(&target)
        .with_context(|| format!("cannot read `{}`", target.display()))?;
    if meta.permissions().readonly() {
        bail!("`{}` is read-only", path.display());
    }
    let dir = target.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".pin-lint-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in `{}`", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write a temporary file in `{}`", dir.display()))?;
    std::fs::set_permissions(tmp.path(), meta.permissions())
        .with_context(|| format!("cannot set permissions in `{}`", dir.display()))?;
    tmp.persist(&target)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot replace `{}`", path.display()))?;
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
        lookup_errors: Seq(|| {
            resolution.failures.iter().map(|f| LookupErrorEntry {
                message: &f.message,
                reference: &f.reference,
                registry: &f.registry,
            })
        }),
        totals: Totals {
            bumped: run.count("bump"),
            changed_files: run.fixed_files(),
            changed_references: run.changes.len() + run.vm_changes.len(),
            failed_files: files_with(|s| matches!(s, Status::Failed(_))),
            failed_lookups: resolution.failures.len(),
            pinned: run.count("pin"),
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
struct Summary<C, F, L, V> {
    changes: C,
    dry_run: bool,
    files: F,
    lookup_errors: L,
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
    pinned: usize,
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
