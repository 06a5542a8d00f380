//! Holds (`[[hold]]` in `pin-lint.toml`): which images of a run they keep back and what they
//! would have moved to, and the findings about the holds themselves (`expired-hold`,
//! `unused-hold`), placed in the configuration file.
//!
//! That a held reference is never pinned or bumped is decided with the findings: a finding
//! on a held reference carries no fix and says it is held (`Analysis::findings`), so
//! `--fix`, the editor's quick fixes and "fix all" all leave it alone.

use crate::analyze::Analysis;
use crate::config::Config;
use crate::facts::Facts;
use crate::finding::Finding;
use crate::model::{Kind, State};
use crate::reference::ImageRef;
use crate::rules::Rule;
use crate::settings::{Hold, Settings};
use crate::source::SourceFile;
use crate::suppress::Suppressions;
use crate::template::FileExtras;

use super::File;

/// A held container reference that a fix would otherwise have changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldBack {
    /// The file, as named in the run.
    pub path: String,
    /// 1-based line of the reference.
    pub line: u32,
    /// 1-based column of the reference.
    pub column: u32,
    /// Registry and repository as written.
    pub image: String,
    /// The tag (`None` when none is written).
    pub tag: Option<String>,
    /// The hold's `image` as written.
    pub pattern: String,
    /// The hold's `reason`.
    pub reason: String,
    /// The hold's `until`, `YYYY-MM-DD`.
    pub until: Option<String>,
    /// The digest pinned now (`None`: unpinned).
    pub old_digest: Option<String>,
    /// What the tag points to now, the digest it would have moved to (`None`: unknown, the
    /// lookup gave no answer).
    pub new_digest: Option<String>,
}

/// The held references of one file that a fix would have changed: unpinned ones, and pinned
/// ones whose tag now points elsewhere or whose tag's digest is unknown. A pin that is
/// current, a reference without a tag and a tag the registry says is gone (`missing-tag`)
/// are not listed.
pub fn held_back(file: &File, settings: &Settings, facts: &Facts) -> Vec<HeldBack> {
    if settings.holds.is_empty() {
        return Vec::new();
    }
    let analysis = &file.analysis;
    let mut out: Vec<HeldBack> = Vec::new();
    for r in &analysis.references {
        let (Kind::Container, Some(image)) = (r.kind, &r.image) else {
            continue;
        };
        let Some(hold) = settings.hold_for(image) else {
            continue;
        };
        if !matches!(r.state, State::Unpinned | State::Pinned)
            || image.tag.is_none() && !settings.pin_untagged_as_latest
            || facts.tag_missing(image).is_some()
        {
            continue;
        }
        let current = facts.tag(image).map(|f| f.digest.clone());
        let old_digest = image.digest_str().map(str::to_string);
        if old_digest.is_some() && current == old_digest {
            continue;
        }
        let at = analysis.source.line_col(r.span.start);
        if out
            .iter()
            .any(|h| (h.line, h.column) == (at.line, at.column))
        {
            continue;
        }
        out.push(HeldBack {
            path: file.path.clone(),
            line: at.line,
            column: at.column,
            image: super::fix::image_name(image),
            tag: image.tag_str().map(str::to_string),
            pattern: hold.pattern.clone(),
            reason: hold.reason.clone(),
            until: hold.until.map(|d| d.to_string()),
            old_digest,
            new_digest: current,
        });
    }
    out
}

/// The container images of one file: its references (those the template layer folds in
/// included) and the images its template expressions produce.
pub fn images(analysis: &Analysis, extras: Option<&FileExtras>) -> Vec<ImageRef> {
    let written = analysis
        .references
        .iter()
        .filter(|r| r.kind == Kind::Container)
        .filter_map(|r| r.image.clone());
    let produced = extras
        .into_iter()
        .flat_map(|e| e.dynamic.iter().flat_map(|d| &d.images))
        .filter_map(|c| ImageRef::parse(&c.image).ok());
    written.chain(produced).collect()
}

/// Mark in `used` (one flag per hold of `holds`) the holds that match one of `images`.
pub fn mark_used(holds: &[Hold], images: &[ImageRef], used: &mut [bool]) {
    for (hold, used) in holds.iter().zip(used.iter_mut()) {
        *used = *used || images.iter().any(|i| hold.matches(i));
    }
}

/// The configuration file as a file of the run, for reporting findings placed in it: its
/// text, no references.
pub fn config_analysis(config: &Config) -> Analysis {
    Analysis {
        source: SourceFile::new(config.text.clone()),
        dialect: None,
        file_type: None,
        references: Vec::new(),
        syntax_error: None,
        suppressions: Suppressions::default(),
    }
}

/// The findings about `config`'s holds, placed at each hold's `image` in the file:
/// `expired-hold` for a hold past its `until` (judged against `settings.today`), and, when
/// `used` is given (one flag per hold, from [`mark_used`] over every file the configuration
/// governs, when the run saw all of them), `unused-hold` for a hold that matched nothing.
/// `settings` are the configuration's settings (rule selection and severities).
pub fn findings(config: &Config, settings: &Settings, used: Option<&[bool]>) -> Vec<Finding> {
    let mut out = Vec::new();
    let rule = |id: &str| {
        let rule = Rule::from_id(id)?;
        Some((rule, settings.severity_for(rule, None)?))
    };
    for (i, hold) in config.holds.iter().enumerate() {
        if let (Some((rule, severity)), Some(until)) = (rule("expired-hold"), hold.until) {
            if hold.expired(settings.today) {
                out.push(Finding {
                    rule,
                    severity,
                    span: hold.span.clone(),
                    message: format!(
                        "the hold of `{}` expired on {until} ({}); it still holds: remove it or extend `until`",
                        hold.pattern, hold.reason
                    ),
                    reference: None,
                    fix: None,
                });
            }
        }
        let unused = used.is_some_and(|u| !u.get(i).copied().unwrap_or(true));
        if let (Some((rule, severity)), true) = (rule("unused-hold"), unused) {
            out.push(Finding {
                rule,
                severity,
                span: hold.span.clone(),
                message: format!(
                    "the hold of `{}` matches no image reference: correct the pattern or remove the hold",
                    hold.pattern
                ),
                reference: None,
                fix: None,
            });
        }
    }
    out
}
