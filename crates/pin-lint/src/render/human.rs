//! Human output: rustc-style snippets with the reference underlined and a one-line hint.
//! Colour only on a terminal (anstream strips it otherwise and honours `NO_COLOR`).

use std::fmt::Write as _;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use pin_core::{Finding, Severity};

use super::{span_positions, FileReport};

/// Render findings and a summary line.
pub fn findings(reports: &[FileReport], styled: bool) -> String {
    let renderer = if styled {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    let mut counts = [0usize; 3];
    for report in reports {
        for f in &report.findings {
            counts[f.severity as usize] += 1;
            out.push_str(&render_one(&renderer, styled, report, f));
            out.push_str("\n\n");
        }
    }
    let files = reports.len();
    let [info, warnings, errors] = counts;
    if errors + warnings + info == 0 {
        let _ = writeln!(out, "No problems found in {files} file{}.", plural(files));
    } else {
        let _ = writeln!(
            out,
            "Found {errors} error{}, {warnings} warning{} and {info} note{} in {files} file{}.",
            plural(errors),
            plural(warnings),
            plural(info),
            plural(files)
        );
    }
    out
}

/// Lines longer than this (minified flow YAML) are shown as a window around the finding: the
/// snippet is cut to the terminal width anyway, and rendering the whole line for each of its
/// findings would make the output quadratic in the line's length.
const LONG_LINE: usize = 4096;
/// Bytes of context kept on each side of the finding on a long line.
const CONTEXT: usize = 512;

fn render_one(renderer: &Renderer, styled: bool, report: &FileReport, f: &Finding) -> String {
    let source = &report.analysis.source;
    let line = source.line_index(f.span.start);
    let line_range = source.line_range(line);
    let mut text = &source.text()[line_range.clone()];
    let mut start = f.span.start.clamp(line_range.start, line_range.end) - line_range.start;
    let mut end = f.span.end.clamp(line_range.start, line_range.end) - line_range.start;
    if end <= start {
        end = (start + text[start..].chars().next().map_or(0, char::len_utf8)).min(text.len());
    }
    // On a long line the snippet shows a window, and the location line (whose column
    // annotate-snippets would count from the window's start) is written here.
    let mut location = None;
    if text.len() > LONG_LINE {
        let from = floor_char_boundary(text, start.saturating_sub(CONTEXT));
        let to = floor_char_boundary(text, end.saturating_add(CONTEXT).min(text.len()));
        let to = to.max(end);
        let column = source.line_col(line_range.start + start).column;
        location = Some(format!("{}:{}:{column}", report.path, line + 1));
        text = &text[from..to];
        start -= from;
        end -= from;
    }
    let level = match f.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Info => Level::NOTE,
    };
    let path = report.path.as_str();
    let label = hint(f);
    let snippet = Snippet::source(text).line_start(line + 1).annotation(
        AnnotationKind::Primary
            .span(start..end)
            .label(label.as_str()),
    );
    let snippet = match location {
        Some(_) => snippet,
        None => snippet.path(path),
    };
    let report_groups = &[level
        .primary_title(f.message.as_str())
        .id(f.rule.id())
        .element(snippet)];
    let fix_note = f
        .fix
        .as_ref()
        .map(|fix| format!("fix available: {}", fix.title));
    let mut out = match &fix_note {
        Some(note) => {
            let groups = [
                report_groups[0].clone(),
                Group::with_title(Level::HELP.secondary_title(note.as_str())),
            ];
            renderer.render(&groups)
        }
        None => renderer.render(report_groups),
    };
    if out.ends_with('\n') {
        out.pop();
    }
    if let Some(location) = location {
        insert_location(&mut out, &location, line + 1, styled);
    }
    out
}

/// Put ` --> path:line:col` after the title line, as annotate-snippets does for a snippet
/// with a path (the arrow indented by the width of the line number).
fn insert_location(out: &mut String, location: &str, line_number: usize, styled: bool) {
    let Some(title_end) = out.find('\n') else {
        return;
    };
    let indent = " ".repeat(line_number.to_string().len());
    let arrow = if styled {
        let style = anstyle::Style::new()
            .bold()
            .fg_color(Some(anstyle::AnsiColor::BrightBlue.into()));
        format!("{style}--> {style:#}")
    } else {
        "--> ".to_string()
    };
    out.insert_str(title_end + 1, &format!("{indent}{arrow}{location}\n"));
}

/// The largest char boundary of `text` at or before `at`.
fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn hint(f: &Finding) -> String {
    match f.rule.id() {
        "unpinned-image" => "pin with `pin-lint --fix`, or append `@sha256:<digest>`".to_string(),
        "digest-only-image" => "add the tag before `@`".to_string(),
        "dynamic-image" => "pin the values this is built from".to_string(),
        "stale-digest" => "bump with `pin-lint --fix`".to_string(),
        "missing-digest" => "re-pin to an existing digest".to_string(),
        "floating-vm-image" => "use a versioned image label".to_string(),
        "yaml-syntax" => "the file could not be parsed from here on".to_string(),
        _ => String::new(),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Render the inventory as a table: `path:line:col  kind  site  state  text`.
pub fn references(reports: &[FileReport]) -> String {
    let mut out = String::new();
    let mut total = 0;
    for report in reports {
        for r in &report.analysis.references {
            total += 1;
            let (pos, _) = span_positions(&report.analysis, &r.span);
            let _ = writeln!(
                out,
                "{}:{}:{}\t{}\t{}\t{}\t{}",
                report.path,
                pos.line,
                pos.column,
                r.kind.as_str(),
                r.site.as_str(),
                r.state.as_str(),
                r.text
            );
        }
    }
    let _ = writeln!(
        out,
        "{total} reference{} in {} file{}.",
        plural(total),
        reports.len(),
        plural(reports.len())
    );
    out
}
