//! `--format azure`: Azure Pipelines logging commands, shown as errors and warnings on the
//! run's summary and in the log.
//!
//! `##vso[task.logissue type=error;sourcepath=F;linenumber=L;columnnumber=C;code=RULE;]MESSAGE`
//! per error or warning finding (info findings are printed as plain log lines: logissue knows
//! only errors and warnings), and `##vso[task.complete result=Failed;]` at the end when the
//! gate fails. Values are escaped as the agent's parser requires (see [`escape_property`],
//! [`escape_data`]).

use std::fmt::Write as _;

use pin_core::Severity;

use super::{span_positions, FileReport};

/// Render the logging commands; `failed` adds the task-result command.
pub fn findings(reports: &[FileReport], failed: bool) -> String {
    let mut out = String::new();
    for report in reports {
        for f in &report.findings {
            let (start, _) = span_positions(&report.analysis, &f.span);
            let mut message = format!("{} [{}]", f.message, f.rule.id());
            if let Some(fix) = &f.fix {
                let _ = write!(message, "\nFix: {}", fix.title);
            }
            let kind = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => {
                    let _ = writeln!(
                        out,
                        "{}:{}:{}: info: {}",
                        report.path,
                        start.line,
                        start.column,
                        escape_data(&message)
                    );
                    continue;
                }
            };
            let _ = writeln!(
                out,
                "##vso[task.logissue type={kind};sourcepath={};linenumber={};columnnumber={};code={};]{}",
                escape_property(&report.path),
                start.line,
                start.column,
                escape_property(f.rule.id()),
                escape_data(&message)
            );
        }
    }
    if failed {
        out.push_str("##vso[task.complete result=Failed;]pin-lint found error-severity findings\n");
    }
    out
}

/// Escape a command's message as the agent unescapes it: `%` first (as `%AZP25`), then CR
/// and LF.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%AZP25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a property value: as data, plus `;` (ends a property) and `]` (ends the
/// properties).
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(';', "%3B").replace(']', "%5D")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_the_agent_expects() {
        assert_eq!(escape_data("50%\r\n]"), "50%AZP25%0D%0A]");
        assert_eq!(escape_property("a;b]c%"), "a%3Bb%5Dc%AZP25");
    }
}
