//! Hover on an image reference: its parts, its pin, what the tag points to now, where it
//! flows through templates (or what an expression makes of it), the images that reach a
//! template's use site, the jobs that use a container resource, and the documentation
//! summary of the findings on it.

use std::fmt::Write as _;

use std::ops::Range;

use pin_core::reference::ImageRef;
use pin_core::template::{FileExtras, Incoming, Position, ResourceUses, UseSiteImages};
use pin_core::{Analysis, Facts, Finding, Kind, Reference, Settings};

use crate::diagnostics::rule_doc_url;

/// The reference whose text contains byte `offset` (its end included, so a cursor right after
/// the reference still hovers it).
pub fn reference_at(analysis: &Analysis, offset: usize) -> Option<&Reference> {
    analysis
        .references
        .iter()
        .find(|r| r.span.start <= offset && offset <= r.span.end)
}

/// Images listed in a hover before "and N more".
const MAX_LISTED: usize = 8;

fn place(p: &Position) -> String {
    format!("`{}:{}:{}`", p.path, p.line, p.column)
}

/// What the template layer knows about `r`: the chain of templates a literal flows through to
/// the job that uses it, or the images an expression (or a fragment it completes) makes and
/// where they are written.
fn template_rows(r: &Reference, extras: &FileExtras, out: &mut String) {
    if let Some(flow) = extras.flows.iter().find(|f| f.span == r.span) {
        let _ = writeln!(out, "- through templates: {}", flow.description);
    }
    let Some(d) = extras.dynamic.iter().find(|d| d.span == r.span) else {
        return;
    };
    if d.images.is_empty() {
        return;
    }
    let what = if d.fragment {
        "completed by templates into"
    } else {
        "after template expansion"
    };
    let _ = writeln!(out, "- {what}:");
    for c in d.images.iter().take(MAX_LISTED) {
        let from = if d.fragment {
            c.built_at
                .as_ref()
                .map(|p| format!(", built at {}", place(p)))
                .unwrap_or_default()
        } else if c.parts.is_empty() {
            String::new()
        } else {
            let parts: Vec<String> = c.parts.iter().map(place).collect();
            format!(", from {}", parts.join(", "))
        };
        let _ = writeln!(out, "  - `{}`{from}", c.image);
    }
    if d.images.len() > MAX_LISTED {
        let _ = writeln!(out, "  - and {} more", d.images.len() - MAX_LISTED);
    }
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end.max(b.start + 1) && b.start < a.end.max(a.start + 1)
}

/// The use site of `extras` whose value overlaps `span`.
fn use_site_at<'e>(extras: &'e FileExtras, span: &Range<usize>) -> Option<&'e UseSiteImages> {
    extras.uses.iter().find(|u| overlaps(&u.span, span))
}

/// The container resource of `extras` whose alias or image overlaps `span`.
fn resource_at<'e>(extras: &'e FileExtras, span: &Range<usize>) -> Option<&'e ResourceUses> {
    extras
        .resources
        .iter()
        .find(|r| overlaps(&r.span, span) || r.images.iter().any(|i| overlaps(i, span)))
}

/// The pin state of an image that reaches a use site, as far as the facts tell.
fn pin_state(image: &str, facts: &Facts) -> String {
    let Ok(image) = ImageRef::parse(image) else {
        return "not a valid image reference".to_string();
    };
    let current = facts
        .tag(&image)
        .filter(|_| image.tag.is_some() || image.digest.is_none());
    match (image.digest_str(), current) {
        (Some(_), _) if facts.digest_exists(&image) == Some(false) => {
            "**broken pin**: the pinned digest no longer exists".to_string()
        }
        (Some(pinned), Some(fact)) if fact.digest != pinned => format!(
            "pinned to `{pinned}`, **stale**: the tag now points to `{}`",
            fact.digest
        ),
        (Some(pinned), Some(_)) => format!("pinned to `{pinned}` (current)"),
        (Some(pinned), None) => format!("pinned to `{pinned}`"),
        (None, Some(fact)) => format!("not pinned; the tag points to `{}`", fact.digest),
        (None, None) => "not pinned".to_string(),
    }
}

fn incoming_row(i: &Incoming, facts: &Facts, out: &mut String) {
    let mut line = format!("  - `{}`: {}", i.image, pin_state(&i.image, facts));
    if let Some(alias) = &i.alias {
        let _ = write!(line, "; alias `{alias}`");
    }
    if let Some(at) = &i.defined_at {
        let _ = write!(line, "; written at {}", place(at));
    }
    if i.via.len() > 1 {
        let _ = write!(line, "; via {}", i.via.join(" → "));
    }
    let _ = writeln!(out, "{line}");
}

/// The images that reach a use site (`container: ${{ parameters.image }}`).
fn use_site_rows(u: &UseSiteImages, facts: &Facts, out: &mut String) {
    let n = u.images.len();
    let _ = writeln!(
        out,
        "- reaches this {} through templates ({n} image{}):",
        u.used_as,
        if n == 1 { "" } else { "s" }
    );
    for i in u.images.iter().take(MAX_LISTED) {
        incoming_row(i, facts, out);
    }
    if n > MAX_LISTED {
        let _ = writeln!(out, "  - and {} more", n - MAX_LISTED);
    }
}

/// The places that use a container resource's alias.
fn resource_rows(r: &ResourceUses, out: &mut String) {
    if r.uses.is_empty() {
        let _ = writeln!(
            out,
            "- alias `{}`: no job of these pipelines uses it",
            r.alias
        );
        return;
    }
    let _ = writeln!(out, "- alias `{}` used by:", r.alias);
    for u in r.uses.iter().take(MAX_LISTED) {
        let _ = writeln!(
            out,
            "  - job `{}` as {} at `{}:{}`",
            u.job, u.used_as, u.at.path, u.at.line
        );
    }
    if r.uses.len() > MAX_LISTED {
        let _ = writeln!(out, "  - and {} more", r.uses.len() - MAX_LISTED);
    }
}

/// Hover over a place that is no image reference of the file but that the template layer
/// knows: a use site whose images are written elsewhere (`target: ${{ parameters.t }}`) or a
/// container resource's alias. Markdown and the span it covers.
pub fn template_place(
    text: &str,
    extras: &FileExtras,
    offset: usize,
    facts: &Facts,
) -> Option<(String, Range<usize>)> {
    let at = offset..offset;
    let mut out = String::new();
    if let Some(u) = use_site_at(extras, &at) {
        let written = text.get(u.span.clone()).unwrap_or_default();
        let _ = writeln!(
            out,
            "**{}** `{written}`
",
            u.used_as
        );
        use_site_rows(u, facts, &mut out);
        return Some((out, u.span.clone()));
    }
    let r = extras.resources.iter().find(|r| overlaps(&r.span, &at))?;
    let _ = writeln!(
        out,
        "**container resource** `{}`
",
        r.alias
    );
    resource_rows(r, &mut out);
    Some((out, r.span.clone()))
}

/// Markdown for a hover over `r`; `extras` are the template layer's results for its file,
/// `settings` those of its `pin-lint.toml` (for the `[[hold]]` that keeps it back).
pub fn markdown(
    r: &Reference,
    facts: &Facts,
    findings: &[Finding],
    online: bool,
    extras: Option<&FileExtras>,
    settings: &Settings,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "**{}** `{}`\n", r.kind.as_str(), r.text);
    let mut row = |name: &str, value: &str| {
        let _ = writeln!(out, "- {name}: {value}");
    };
    row("site", r.site.as_str());
    if let Some(image) = r.image.as_ref().filter(|_| r.kind == Kind::Container) {
        row(
            "registry",
            &format!(
                "`{}`",
                image.registry_str().unwrap_or(image.registry_host())
            ),
        );
        row("repository", &format!("`{}`", image.repository_str()));
        row(
            "tag",
            &image
                .tag_str()
                .map_or("none".to_string(), |t| format!("`{t}`")),
        );
        let pinned = image.digest_str();
        row(
            "pinned digest",
            &pinned.map_or("none (not pinned)".to_string(), |d| format!("`{d}`")),
        );
        let tag_key = Facts::tag_key(image);
        if image.tag.is_some() || pinned.is_none() {
            let current = match (facts.tag(image), facts.failure(&tag_key)) {
                (Some(fact), _) => {
                    let status = match pinned {
                        Some(p) if p == fact.digest => " (the pin is current)",
                        Some(_) => " (**stale**: the tag has moved)",
                        None => "",
                    };
                    format!("`{}`{status}, from {}", fact.digest, fact.source)
                }
                (None, Some(err)) => format!("lookup failed: {err}"),
                (None, None) if online => "looking up…".to_string(),
                (None, None) => {
                    "unknown (offline; add a catalog or enable `pinLint.online`)".to_string()
                }
            };
            row("current digest", &current);
            if let Some(fact) = facts.tag(image).filter(|f| !f.platforms.is_empty()) {
                row("platforms", &fact.platforms.join(", "));
            }
        }
        match facts.digest_exists(image) {
            Some(false) => row("pinned digest exists", "**no**: the pin is broken"),
            Some(true) => row("pinned digest exists", "yes"),
            None => {}
        }
        if let Some(hold) = settings.hold_for(image) {
            let until = hold
                .until
                .map(|d| format!("; until {d}"))
                .unwrap_or_default();
            row(
                "held",
                &format!(
                    "**held back** by `[[hold]]` `{}` in pin-lint.toml: {}{until}; not pinned or bumped while the hold is there",
                    hold.pattern, hold.reason
                ),
            );
        }
    } else if let Some(err) = &r.error {
        row("invalid", err);
    }
    if let Some(extras) = extras {
        template_rows(r, extras, &mut out);
        if let Some(u) = use_site_at(extras, &r.span) {
            use_site_rows(u, facts, &mut out);
        }
        if let Some(res) = resource_at(extras, &r.span) {
            resource_rows(res, &mut out);
        }
    }
    let here: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.span.start < r.span.end && r.span.start < f.span.end.max(f.span.start + 1))
        .collect();
    if !here.is_empty() {
        out.push_str("\n---\n");
        for f in here {
            let spec = f.rule.spec();
            let _ = writeln!(
                out,
                "\n**[{}]({})** ({}): {}",
                spec.id,
                rule_doc_url(spec.id),
                f.severity.as_str(),
                spec.summary
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pin_core::TagFact;

    /// `mcr.microsoft.com/x/y:1` pinned to digest `1…`, its tag now at `2…` on two
    /// platforms: the file's text and analysis, the facts, and the two digests.
    fn stale_pin() -> (String, Analysis, Facts, String, String) {
        let old = format!("sha256:{}", "1".repeat(64));
        let new = format!("sha256:{}", "2".repeat(64));
        let text = format!("resources:\n  containers:\n  - container: a\n    image: mcr.microsoft.com/x/y:1@{old}\n");
        let analysis = Analysis::new("azure-pipelines.yml", text.clone());
        let image = analysis.references[0].image.clone().expect("image");
        let mut facts = Facts::none();
        facts.insert_tag(
            Facts::tag_key(&image),
            TagFact {
                digest: new.clone(),
                platforms: vec!["linux/amd64".into(), "linux/arm64".into()],
                source: "registry mcr.microsoft.com".into(),
            },
        );
        (text, analysis, facts, old, new)
    }

    #[test]
    fn hover_shows_parts_staleness_platforms_and_rule_summary() {
        let (text, analysis, facts, old, new) = stale_pin();
        let findings = analysis.findings(&Settings::default(), &facts);
        let at = text.find("x/y").expect("offset");
        let r = reference_at(&analysis, at).expect("reference");
        let md = markdown(r, &facts, &findings, false, None, &Settings::default());
        for needle in [
            "`mcr.microsoft.com`",
            "`x/y`",
            "`1`",
            &old,
            &new,
            "stale",
            "linux/amd64, linux/arm64",
            "stale-digest",
        ] {
            assert!(md.contains(needle), "{needle} missing in:\n{md}");
        }
        assert!(reference_at(&analysis, 3).is_none());
    }

    #[test]
    fn hover_on_a_held_reference_shows_the_hold_and_no_fix_is_offered() {
        let (_, analysis, facts, _, _) = stale_pin();
        let config = pin_core::config::Config::parse(
            "[[hold]]\nimage = \"mcr.microsoft.com/x/y:*\"\nreason = \"breaks arm64, see #12\"\nuntil = 2027-01-31\n",
            None,
        )
        .expect("valid");
        let settings = config.settings();
        let findings = analysis.findings(&settings, &facts);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].fix.is_none(), "a held reference offers no bump");
        assert!(pin_core::engine::fix::chosen_edits(&findings, &settings).is_empty());
        let r = &analysis.references[0];
        let md = markdown(r, &facts, &findings, false, None, &settings);
        assert!(
            md.contains("- held: **held back** by `[[hold]]` `mcr.microsoft.com/x/y:*` in pin-lint.toml: breaks arm64, see #12; until 2027-01-31;"),
            "{md}"
        );
        let plain = markdown(r, &facts, &findings, false, None, &Settings::default());
        assert!(!plain.contains("held"), "{plain}");
    }
}
