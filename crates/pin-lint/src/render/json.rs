//! `--format json` (shapes in the README, `"version": 1`). `end_column` is exclusive.

use serde_json::{json, Value};

use super::{span_positions, FileReport};

/// The `refs` inventory.
pub fn references(reports: &[FileReport]) -> Value {
    let mut refs = Vec::new();
    for report in reports {
        for r in &report.analysis.references {
            let (start, end) = span_positions(&report.analysis, &r.span);
            let image = r.image.as_ref();
            refs.push(json!({
                "path": report.path,
                "line": start.line,
                "column": start.column,
                "end_line": end.line,
                "end_column": end.column,
                "kind": r.kind.as_str(),
                "site": r.site.as_str(),
                "state": r.state.as_str(),
                "text": r.text,
                "registry": image.map(|i| i.registry_host()),
                "repository": image.map(|i| i.repository_str()),
                "tag": image.and_then(|i| i.tag_str()),
                "digest": image.and_then(|i| i.digest_str()),
            }));
        }
    }
    json!({ "version": 1, "references": refs })
}

/// The `check` findings.
pub fn findings(reports: &[FileReport]) -> Value {
    let mut out = Vec::new();
    for report in reports {
        for f in &report.findings {
            let (start, end) = span_positions(&report.analysis, &f.span);
            let fix = f.fix.as_ref().map(|fix| {
                let edits: Vec<Value> = fix
                    .edits
                    .iter()
                    .map(|e| {
                        let (s, t) = span_positions(&report.analysis, &e.range);
                        json!({"line": s.line, "column": s.column, "end_line": t.line, "end_column": t.column, "new_text": e.new_text})
                    })
                    .collect();
                json!({"title": fix.title, "applicability": fix.applicability, "edits": edits})
            });
            out.push(json!({
                "rule": f.rule.id(),
                "severity": f.severity.as_str(),
                "path": report.path,
                "line": start.line,
                "column": start.column,
                "end_line": end.line,
                "end_column": end.column,
                "message": f.message,
                "reference": f.reference,
                "fix": fix,
            }));
        }
    }
    json!({ "version": 1, "findings": out })
}
