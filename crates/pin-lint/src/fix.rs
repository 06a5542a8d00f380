//! `--fix`: apply the safe fixes of every file, check that they converge and that the file
//! still parses, then write each file atomically (or show a diff instead) and describe the
//! changes for people (Markdown PR body) and scripts (JSON).
//!
//! A file is written whole or not at all: a temporary file in the same folder, with the
//! original's permissions, renamed over the original. A file whose needed lookups failed,
//! whose fixes overlap, do not converge or break the YAML is left untouched and reported.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use pin_core::{Analysis, Applicability, Edit, Facts, Finding, ImageRef, Settings};
use serde_json::{json, Value};

use crate::render::FileReport;
use crate::resolve::Resolution;
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
    /// Every changed reference, in file order.
    pub changes: Vec<Change>,
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

    /// One line for people: what was (or would be) changed and what was left alone.
    pub fn status_line(&self, dry_run: bool) -> String {
        let verb = if dry_run { "Would fix" } else { "Fixed" };
        let n = self.changes.len();
        let mut line = format!(
            "{verb} {n} reference{} in {} file{} ({} pinned, {} bumped, {} re-pinned)",
            plural(n),
            self.fixed_files(),
            plural(self.fixed_files()),
            self.count("pin"),
            self.count("bump"),
            self.count("repin"),
        );
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
}

/// Apply the fixes of `report`; `None` when there is nothing to fix. Errors say why the
/// file must stay untouched.
fn plan(
    report: &FileReport,
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
    let after = Analysis::new(&report.path, text.clone());
    if after.syntax_error.is_some() {
        let e = after
            .syntax_error
            .as_ref()
            .map_or("", |e| e.message.as_str());
        return Err(format!("not fixed: the fixed file would not parse ({e})"));
    }
    let again = after
        .findings(settings, facts)
        .into_iter()
        .filter(|f| applies(f, settings))
        .count();
    if again > 0 {
        return Err(format!(
            "not fixed: the fixes do not converge ({again} fix{} left after applying them)",
            if again == 1 { "" } else { "es" }
        ));
    }
    // Keyed by the reference's start: stale-digest and missing-digest make the same edit
    // on one reference (findings come sorted, so the first rule's action is kept).
    let mut changes: BTreeMap<usize, Change> = BTreeMap::new();
    for f in chosen {
        let Some(reference) = analysis.references.iter().find(|r| r.span == f.span) else {
            continue;
        };
        let (Some(image), Some(current)) = (
            reference.image.as_ref(),
            reference.image.as_ref().and_then(|i| facts.tag(i)),
        ) else {
            continue;
        };
        let at = analysis.source.line_col(reference.span.start);
        changes
            .entry(reference.span.start)
            .or_insert_with(|| Change {
                path: report.path.clone(),
                line: at.line,
                column: at.column,
                image: image_name(image),
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
    Ok(Some(Planned { text, changes }))
}

/// Registry and repository as written.
fn image_name(image: &ImageRef) -> String {
    match image.registry_str() {
        Some(registry) => format!("{registry}/{}", image.repository_str()),
        None => image.repository_str().to_string(),
    }
}

/// Apply the fixes of every report. With `dry_run` (`--diff`) nothing is written and the
/// diff is collected instead. Fixed reports are re-analysed in place, with their findings
/// recomputed, so that what is rendered afterwards is what remains.
pub fn run(
    inputs: &[Input],
    reports: &mut [FileReport],
    settings: &[Settings],
    resolution: &Resolution,
    dry_run: bool,
) -> FixRun {
    let blocked = resolution.blocked_files();
    let mut run = FixRun::default();
    for (i, (input, report)) in inputs.iter().zip(reports.iter_mut()).enumerate() {
        let settings = &settings[i];
        if let Some(failures) = blocked.get(&i) {
            let names: Vec<&str> = failures.iter().map(|f| f.reference.as_str()).collect();
            run.files.push((
                report.path.clone(),
                Status::Skipped(format!(
                    "left untouched: could not resolve {}",
                    names.join(", ")
                )),
            ));
            continue;
        }
        if let Some(error) = &report.analysis.syntax_error {
            if report.findings.iter().any(|f| applies(f, settings)) {
                let why = format!(
                    "left untouched: the file does not parse ({})",
                    error.message
                );
                run.files.push((report.path.clone(), Status::Skipped(why)));
            }
            continue;
        }
        let planned = match plan(report, settings, &resolution.facts) {
            Ok(None) => continue,
            Ok(Some(planned)) => planned,
            Err(reason) => {
                run.files
                    .push((report.path.clone(), Status::Failed(reason)));
                continue;
            }
        };
        let old = report.analysis.source.text();
        if dry_run {
            run.diff
                .push_str(&unified_diff(&report.path, old, &planned.text));
        } else if let Err(e) = write_checked(&input.path, old, &planned.text) {
            run.files.push((
                report.path.clone(),
                Status::Failed(format!("not written: {e:#}")),
            ));
            continue;
        }
        run.files.push((report.path.clone(), Status::Fixed));
        run.changes.extend(planned.changes);
        report.analysis = Analysis::new(&report.path, planned.text);
        report.findings = report.analysis.findings(settings, &resolution.facts);
    }
    run
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

/// The Markdown PR body: totals, then one table per image with a row per changed reference,
/// then the files left untouched and why.
pub fn summary_markdown(run: &FixRun) -> String {
    let mut out = String::from("## Container image pins\n\n");
    if run.changes.is_empty() {
        out.push_str("No reference needed a change.\n");
    } else {
        let images: BTreeMap<&str, Vec<&Change>> =
            run.changes.iter().fold(BTreeMap::new(), |mut m, c| {
                m.entry(c.image.as_str()).or_insert_with(Vec::new).push(c);
                m
            });
        let _ = writeln!(
            out,
            "{} reference{} in {} file{} across {} image{}: {} pinned, {} bumped, {} re-pinned.\n",
            run.changes.len(),
            plural(run.changes.len()),
            run.fixed_files(),
            plural(run.fixed_files()),
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

/// The JSON summary for scripts (shape documented in docs/fix-and-bump.md).
pub fn summary_json(run: &FixRun, resolution: &Resolution, dry_run: bool) -> Value {
    let changes: Vec<Value> = run
        .changes
        .iter()
        .map(|c| {
            json!({
                "path": c.path,
                "line": c.line,
                "column": c.column,
                "image": c.image,
                "tag": c.tag,
                "action": c.action,
                "old_digest": c.old_digest,
                "new_digest": c.new_digest,
            })
        })
        .collect();
    let files: Vec<Value> = run
        .files
        .iter()
        .map(|(path, status)| {
            let (status, reason) = match status {
                Status::Fixed => ("fixed", None),
                Status::Skipped(why) => ("skipped", Some(why)),
                Status::Failed(why) => ("failed", Some(why)),
            };
            json!({"path": path, "status": status, "reason": reason})
        })
        .collect();
    let errors: Vec<Value> = resolution
        .failures
        .iter()
        .map(|f| json!({"registry": f.registry, "reference": f.reference, "message": f.message}))
        .collect();
    json!({
        "dry_run": dry_run,
        "totals": {
            "changed_references": run.changes.len(),
            "changed_files": run.fixed_files(),
            "pinned": run.count("pin"),
            "bumped": run.count("bump"),
            "repinned": run.count("repin"),
            "skipped_files": run.files.iter().filter(|(_, s)| matches!(s, Status::Skipped(_))).count(),
            "failed_files": run.files.iter().filter(|(_, s)| matches!(s, Status::Failed(_))).count(),
            "failed_lookups": resolution.failures.len(),
        },
        "changes": changes,
        "files": files,
        "lookup_errors": errors,
    })
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
