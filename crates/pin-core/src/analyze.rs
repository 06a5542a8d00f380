//! The analyzer's entry point: one file's text in, references and findings out.

use std::collections::HashMap;
use std::sync::Arc;

use crate::dialect::{self, Dialect};
use crate::facts::Facts;
use crate::finding::Finding;
use crate::model::{Kind, Reference};
use crate::reference::ImageRef;
use crate::rules::{unused_suppression, Context, Rule, RULES};
use crate::settings::Settings;
use crate::source::SourceFile;
use crate::suppress::Suppressions;
use crate::yaml::{self, SyntaxError, Yaml};

/// What a YAML file's parse gives the analysis.
struct ReadYaml {
    dialect: Option<Dialect>,
    references: Vec<Reference>,
    syntax_error: Option<SyntaxError>,
    suppressions: Suppressions,
}

impl ReadYaml {
    fn of(
        path: &str,
        source: &SourceFile,
        parsed: &Result<Yaml<'_>, (SyntaxError, Yaml<'_>)>,
        file_type: Option<Dialect>,
    ) -> ReadYaml {
        let (parsed, error) = match parsed {
            Ok(parsed) => (parsed, None),
            Err((error, partial)) => (partial, Some(error.clone())),
        };
        let dialect = dialect::detect_as(path, parsed.documents.first(), file_type);
        let references = match dialect {
            Some(d) => dialect::extract(d, source.text(), &parsed.documents),
            None => Vec::new(),
        };
        let suppressions = Suppressions::from_comments(source, &parsed.comments);
        // JSON that is not an ARM template is not ours to judge, parseable or not.
        let syntax_error =
            error.filter(|_| dialect.is_some() || !path.to_ascii_lowercase().ends_with(".json"));
        ReadYaml {
            dialect,
            references,
            syntax_error,
            suppressions,
        }
    }

    fn into_analysis(self, source: SourceFile, file_type: Option<Dialect>) -> Analysis {
        Analysis {
            source,
            file_type,
            dialect: self.dialect,
            references: self.references,
            syntax_error: self.syntax_error,
            suppressions: self.suppressions,
        }
    }
}

/// A finding on a reference a `[[hold]]` keeps back loses its fix (so no front end pins or
/// bumps it) and says that it is held, when it is about what a fix would change. `image` is
/// the reference the finding sits on; for a finding elsewhere (a pinned template fragment),
/// the reference the finding names.
fn hold_back(f: &mut Finding, image: Option<&ImageRef>, settings: &Settings) {
    let parsed;
    let image = match image {
        Some(image) => image,
        None => match f.reference.as_deref().map(ImageRef::parse) {
            Some(Ok(image)) => {
                parsed = image;
                &parsed
            }
            _ => return,
        },
    };
    let Some(hold) = settings.hold_for(image) else {
        return;
    };
    let changes = matches!(
        f.rule.id(),
        "unpinned-image" | "stale-digest" | "missing-digest"
    );
    if f.fix.take().is_some() || changes {
        f.message = format!(
            "{}; held by `[[hold]]` `{}`: {}",
            f.message,
            hold.pattern,
            hold.describe()
        );
    }
}

/// One file after parsing and dialect extraction (before rules).
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The text and its line index.
    pub source: SourceFile,
    /// The dialect, or `None` when the file is not a pipeline file.
    pub dialect: Option<Dialect>,
    /// The type `[files]` in `pin-lint.toml` gave the file, if any (kept so that a fixed
    /// text is read the same way).
    pub file_type: Option<Dialect>,
    /// Every image reference, in source order.
    pub references: Vec<Reference>,
    /// The YAML (or encoding) error, if the file could not be read completely.
    pub syntax_error: Option<SyntaxError>,
    /// Inline suppressions.
    pub suppressions: Suppressions,
}

impl Analysis {
    /// Analyze raw bytes: invalid UTF-8 becomes a syntax error at the first bad byte.
    pub fn from_bytes(path: &str, bytes: Vec<u8>) -> Analysis {
        Analysis::from_bytes_as(path, bytes, None)
    }

    /// [`Analysis::from_bytes`] for a file of the type `file_type` when it is `Some`
    /// ([`crate::config::Config::file_type`]).
    pub fn from_bytes_as(path: &str, bytes: Vec<u8>, file_type: Option<Dialect>) -> Analysis {
        match String::from_utf8(bytes) {
            Ok(text) => Analysis::new_as(path, text, file_type),
            Err(err) => {
                let valid = err.utf8_error().valid_up_to();
                let mut bytes = err.into_bytes();
                bytes.truncate(valid);
                let text = String::from_utf8(bytes).unwrap_or_default();
                Analysis {
                    dialect: dialect::detect_text_as(path, &text, file_type).or(file_type),
                    file_type,
                    source: SourceFile::new(text),
                    references: Vec::new(),
                    syntax_error: Some(SyntaxError {
                        offset: valid,
                        message: "the file is not valid UTF-8".to_string(),
                    }),
                    suppressions: Suppressions::default(),
                }
            }
        }
    }

    /// Analyze `text` as the file at `path` (forward slashes; used to pick the dialect).
    pub fn new(path: &str, text: impl Into<Arc<str>>) -> Analysis {
        Analysis::new_as(path, text, None)
    }

    /// [`Analysis::new`] for a file of the type `file_type` when it is `Some`: the type
    /// `[files]` in `pin-lint.toml` gives it ([`crate::config::Config::file_type`]), whatever
    /// its name says.
    pub fn new_as(path: &str, text: impl Into<Arc<str>>, file_type: Option<Dialect>) -> Analysis {
        let source = SourceFile::new(text);
        if let Some(dialect) = dialect::detect_text_as(path, source.text(), file_type) {
            let (references, syntax_error, suppressions) = {
                let read = dialect::extract_text(dialect, source.text());
                let suppressions = Suppressions::from_comments(&source, &read.comments);
                (read.references, read.syntax_error, suppressions)
            };
            return Analysis {
                source,
                dialect: Some(dialect),
                file_type,
                references,
                syntax_error,
                suppressions,
            };
        }
        let parsed = yaml::parse_for_analysis(source.text());
        let read = ReadYaml::of(path, &source, &parsed, file_type);
        drop(parsed);
        read.into_analysis(source, file_type)
    }

    /// [`Analysis::new`] for a text whose YAML the caller has already parsed (`parsed` is what
    /// `yaml::parse(&text)` gave), so that the tree can serve something else too (the language
    /// server hands it to the template layer) without parsing the text twice. Files that are
    /// not read as YAML (Bicep, Terraform, Helm templates) are analysed as [`Analysis::new`] does.
    pub fn from_yaml(
        path: &str,
        text: impl Into<Arc<str>>,
        parsed: &Result<Yaml<'_>, (SyntaxError, Yaml<'_>)>,
    ) -> Analysis {
        Analysis::from_yaml_as(path, text, parsed, None)
    }

    /// [`Analysis::from_yaml`] for a file of the type `file_type` when it is `Some`
    /// ([`Analysis::new_as`]).
    pub fn from_yaml_as(
        path: &str,
        text: impl Into<Arc<str>>,
        parsed: &Result<Yaml<'_>, (SyntaxError, Yaml<'_>)>,
        file_type: Option<Dialect>,
    ) -> Analysis {
        let text: Arc<str> = text.into();
        if dialect::detect_text_as(path, &text, file_type).is_some() {
            return Analysis::new_as(path, text, file_type);
        }
        let source = SourceFile::new(text);
        ReadYaml::of(path, &source, parsed, file_type).into_analysis(source, file_type)
    }

    /// Run the rules with `facts`, apply settings (selection, severity, policies) and
    /// suppressions. Every front end (CLI formats, CI annotations, editor) goes through here,
    /// so they all honour settings and `# pin-lint: ignore` comments identically.
    pub fn findings(&self, settings: &Settings, facts: &Facts) -> Vec<Finding> {
        self.findings_with(settings, facts, |_| {})
    }

    /// [`Analysis::findings`] with a step between the rules and the suppressions: `complete`
    /// may add findings or rewrite them (the template layer does), and suppressions, including
    /// the `unused-suppression` report, then judge everything at once.
    pub(crate) fn findings_with(
        &self,
        settings: &Settings,
        facts: &Facts,
        complete: impl FnOnce(&mut Vec<Finding>),
    ) -> Vec<Finding> {
        let cx = Context {
            dialect: self.dialect,
            references: &self.references,
            syntax_error: self.syntax_error.as_ref(),
            facts,
            settings,
        };
        // Policies match on the image of the reference a finding sits on: look it up by span
        // once per file (a linear search per finding is quadratic on huge files).
        let mut images: HashMap<(usize, usize), Option<&ImageRef>> = HashMap::new();
        for r in self.references.iter().filter(|r| r.kind == Kind::Container) {
            images
                .entry((r.span.start, r.span.end))
                .or_insert(r.image.as_ref());
        }
        let mut raw = Vec::new();
        for spec in RULES {
            let Some(rule) = Rule::from_id(spec.id) else {
                continue;
            };
            if !settings.is_selected(rule) || spec.id == unused_suppression::RULE.id {
                continue;
            }
            for mut f in (spec.check)(&cx) {
                let image = images.get(&(f.span.start, f.span.end)).copied().flatten();
                let Some(severity) = settings.severity_for(rule, image) else {
                    continue;
                };
                f.severity = severity;
                raw.push(f);
            }
        }
        complete(&mut raw);
        if !settings.holds.is_empty() {
            for f in &mut raw {
                let image = images.get(&(f.span.start, f.span.end)).copied().flatten();
                hold_back(f, image, settings);
            }
        }
        let (mut out, usage) = self.suppressions.apply(&self.source, raw);
        out.extend(unused_suppression::report(self, settings, facts, &usage));
        out.sort_by(|a, b| (a.span.start, a.rule.id()).cmp(&(b.span.start, b.rule.id())));
        out
    }
}
