//! Fixes over a set of files: choose each file's fixes, apply them to its text, then check
//! over the whole set (template layer included) that every fixed file still parses and that
//! fixing it again would change nothing.

use std::collections::BTreeMap;

use super::{File, Workspace};
use crate::analyze::Analysis;
use crate::facts::Facts;
use crate::finding::Finding;
use crate::fix::{Applicability, Edit};
use crate::model::Kind;
use crate::reference::ImageRef;
use crate::settings::Settings;
use crate::template::{FileExtras, Repository};

/// One container reference changed by a fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The file, as named in the run.
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
    /// The file, as named in the run.
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
    /// Its fixes apply, parse and converge.
    Fixed,
    /// Left untouched on purpose: a lookup its fixes depend on failed, or it does not parse.
    Skipped(String),
    /// A fix could not be applied; the file is untouched.
    Failed(String),
}

/// A file's new text and what makes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFix {
    /// The fixed text.
    pub text: String,
    /// The edits applied to the old text to get it (sorted, non-overlapping).
    pub edits: Vec<Edit>,
    /// The container references changed, in file order.
    pub changes: Vec<Change>,
    /// The VM image versions changed, in file order.
    pub vm_changes: Vec<VmChange>,
}

/// Whether a fix applies this finding's fix: safe fixes, and the unsafe `:latest@…` pin of
/// an untagged reference when the user opted in with `pin-untagged-as-latest`. A finding on a
/// reference a `[[hold]]` keeps back has no fix to apply ([`super::holds`]).
pub fn applies(finding: &Finding, settings: &Settings) -> bool {
    finding.fix.as_ref().is_some_and(|fix| {
        fix.applicability == Applicability::Safe
            || (settings.pin_untagged_as_latest && finding.rule.id() == "unpinned-image")
    })
}

/// The edits of every fix [`applies`] chooses among `findings`.
pub fn chosen_edits(findings: &[Finding], settings: &Settings) -> Vec<Edit> {
    findings
        .iter()
        .filter(|f| applies(f, settings))
        .filter_map(|f| f.fix.as_ref())
        .flat_map(|fix| fix.edits.iter().cloned())
        .collect()
}

/// Apply the fixes of one file (`file.analysis` with the layer's references, `findings`
/// computed from it with `facts`); `None` when there is nothing to fix. Errors say why the
/// file must stay untouched. Whether the result parses and converges is checked by [`fix`],
/// over all files at once.
pub fn plan_file(
    file: &File,
    extras: Option<&FileExtras>,
    findings: &[Finding],
    settings: &Settings,
    facts: &Facts,
) -> Result<Option<FileFix>, String> {
    let analysis = &file.analysis;
    let chosen: Vec<&Finding> = findings.iter().filter(|f| applies(f, settings)).collect();
    if chosen.is_empty() {
        return Ok(None);
    }
    let mut edits = chosen_edits(findings, settings);
    let text =
        crate::fix::apply(analysis.source.text(), &edits).map_err(|e| format!("not fixed: {e}"))?;
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    edits.dedup();
    // Keyed by the reference's start: stale-digest and missing-digest make the same edit on
    // one reference (findings come sorted, so the first rule's action is kept).
    let mut changes: BTreeMap<usize, Change> = BTreeMap::new();
    let mut vm_changes: Vec<VmChange> = Vec::new();
    for f in chosen {
        let Some(reference) = analysis.references.iter().find(|r| r.span == f.span) else {
            continue;
        };
        let at = analysis.source.line_col(reference.span.start);
        if let (Some(vm), Kind::Vm) = (&reference.vm_image, reference.kind) {
            let Some(newest) = facts.newest_vm_version(&vm.key) else {
                continue;
            };
            vm_changes.push(VmChange {
                path: file.path.clone(),
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
        changes
            .entry(reference.span.start)
            .or_insert_with(|| Change {
                path: file.path.clone(),
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
    Ok(Some(FileFix {
        text,
        edits,
        changes: changes.into_values().collect(),
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

/// Registry and repository as written.
pub(crate) fn image_name(image: &ImageRef) -> String {
    match image.registry_str() {
        Some(registry) => format!("{registry}/{}", image.repository_str()),
        None => image.repository_str().to_string(),
    }
}

/// Why a fixed file must not be written: it no longer parses, or fixing it again would
/// change it again. `after` is the fixed file's analysis in the set with every fix applied
/// (template layer included), `findings` its findings there.
pub fn verify(after: &Analysis, findings: &[Finding], settings: &Settings) -> Result<(), String> {
    if let Some(e) = &after.syntax_error {
        return Err(format!(
            "not fixed: the fixed file would not parse ({})",
            e.message
        ));
    }
    let again = findings.iter().filter(|f| applies(f, settings)).count();
    if again > 0 {
        return Err(format!(
            "not fixed: the fixes do not converge ({again} fix{} left after applying them)",
            if again == 1 { "" } else { "es" }
        ));
    }
    Ok(())
}

/// One file to fix.
#[derive(Debug, Clone, Copy)]
pub struct FixRequest<'a> {
    /// Its index in the workspace.
    pub file: usize,
    /// Its findings, from [`Workspace::findings`] with `settings` and `facts`.
    pub findings: &'a [Finding],
    /// Its settings.
    pub settings: &'a Settings,
    /// The facts its findings come from.
    pub facts: &'a Facts,
    /// The references whose failed lookups a fix of the file depends on
    /// ([`super::FileQueries::unresolved`]); any makes the file be left untouched.
    pub unresolved: &'a [String],
}

/// The first step of [`fix`] for one file (`file` with the layer's references, `extras` what
/// the layer adds to it): skipped when a lookup its fixes depend on failed or when it does not
/// parse, failed when its fixes overlap, else its fixes applied ([`plan_file`]); `(None,
/// None)` when there is nothing to fix. A front end that checks the fixed text itself (the
/// language server, with its own view of the workspace) then calls [`verify`].
pub fn prepare(
    file: &File,
    extras: Option<&FileExtras>,
    r: &FixRequest<'_>,
) -> (Option<Status>, Option<FileFix>) {
    if !r.unresolved.is_empty() {
        let status = Status::Skipped(format!(
            "left untouched: could not resolve {}",
            r.unresolved.join(", ")
        ));
        return (Some(status), None);
    }
    if let Some(error) = &file.analysis.syntax_error {
        let status = r.findings.iter().any(|f| applies(f, r.settings)).then(|| {
            Status::Skipped(format!(
                "left untouched: the file does not parse ({})",
                error.message
            ))
        });
        return (status, None);
    }
    match plan_file(file, extras, r.findings, r.settings, r.facts) {
        Ok(Some(fix)) => (Some(Status::Fixed), Some(fix)),
        Ok(None) => (None, None),
        Err(reason) => (Some(Status::Failed(reason)), None),
    }
}

/// The outcome of [`fix`].
#[derive(Debug)]
pub struct FixOutcome {
    /// Per requested file (in request order): its index, what happened (`None`: nothing to
    /// fix) and, when [`Status::Fixed`], its fix.
    pub files: Vec<(usize, Option<Status>, Option<FileFix>)>,
    /// The workspace with every fixed text in place, analysed again (template layer
    /// included); `None` when nothing was fixed.
    pub after: Option<Workspace>,
}

/// Fix the requested files of `ws`: a file some of whose fixes depend on a failed lookup,
/// or that does not parse, is skipped; one whose fixes overlap fails; the others get their
/// fixes applied, and the whole set is analysed again to check that each fixed file still
/// parses and converges (a file that does not fails and keeps its text).
pub fn fix(ws: &Workspace, requests: &[FixRequest<'_>]) -> FixOutcome {
    fix_with(ws, requests, |texts| ws.with_texts(texts))
}

/// [`fix`] for a workspace whose template layer the caller ran over `repo` (its model of the
/// same files, kept for this): the set is analysed again with what reading the unchanged
/// files showed taken from `repo` ([`Workspace::with_texts_reusing`]) instead of their being
/// parsed a second time. The outcome is the same as [`fix`]'s.
pub fn fix_reusing(
    ws: &Workspace,
    repo: &Repository<'_>,
    requests: &[FixRequest<'_>],
) -> FixOutcome {
    fix_with(ws, requests, |texts| ws.with_texts_reusing(repo, texts))
}

/// The fixed texts of `files`, by file index (of `n`), borrowed: the analyses of the fixed
/// set take copies of their own.
fn fixed_texts(n: usize, files: &[(usize, Option<Status>, Option<FileFix>)]) -> Vec<Option<&str>> {
    let mut texts = vec![None; n];
    for (i, _, fix) in files {
        if let Some(fix) = fix {
            texts[*i] = Some(fix.text.as_str());
        }
    }
    texts
}

/// [`fix`], with `analyse` giving the workspace with the given texts in place.
fn fix_with(
    ws: &Workspace,
    requests: &[FixRequest<'_>],
    analyse: impl Fn(&[Option<&str>]) -> Workspace,
) -> FixOutcome {
    let mut files: Vec<_> = requests
        .iter()
        .map(|r| {
            let (status, fix) = prepare(&ws.files[r.file], ws.extras(r.file), r);
            (r.file, status, fix)
        })
        .collect();
    if files.iter().all(|(_, _, fix)| fix.is_none()) {
        return FixOutcome { files, after: None };
    }
    let mut after = analyse(&fixed_texts(ws.files.len(), &files));
    let mut reverted = false;
    for (entry, r) in files.iter_mut().zip(requests) {
        if entry.2.is_none() {
            continue;
        }
        let findings = after.findings(r.file, r.settings, r.facts);
        if let Err(reason) = verify(&after.files[r.file].analysis, &findings, r.settings) {
            *entry = (r.file, Some(Status::Failed(reason)), None);
            reverted = true;
        }
    }
    if reverted {
        after = analyse(&fixed_texts(ws.files.len(), &files));
    }
    FixOutcome {
        files,
        after: Some(after),
    }
}
