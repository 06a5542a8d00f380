//! Answers to the plan's lookups, fed back as plain data, and the facts a file is judged with.

use std::collections::HashMap;

use super::plan::{FileQueries, Purpose, QueryKey};
use crate::facts::{Facts, TagFact, VmVersion};

/// Why a lookup could not be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupError {
    /// Who was asked (a registry in its canonical spelling, the Azure Resource Manager
    /// host), for grouping messages.
    pub service: String,
    /// Why, for people; names the service.
    pub message: String,
}

/// The answer to one lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// What a tag points to now.
    Tag(TagFact),
    /// Whether a pinned digest exists.
    DigestExists(bool),
    /// Every published version of a VM image, and where they came from.
    VmVersions {
        /// The versions.
        versions: Vec<VmVersion>,
        /// `catalog images.json`, `Azure Resource Manager`.
        source: String,
    },
    /// The registry says definitively that the tag or its repository does not exist (404
    /// with `MANIFEST_UNKNOWN` / `NAME_UNKNOWN`). A fact, not a failure: `missing-tag`
    /// reports it and the file's other fixes still apply.
    NotFound(LookupError),
    /// The lookup failed (network, authorisation, rate limit …).
    Failed(LookupError),
}

impl Answer {
    /// The error, when the lookup failed (a definitive "not found" is an answer, not an
    /// error).
    pub fn error(&self) -> Option<&LookupError> {
        match self {
            Answer::Failed(e) => Some(e),
            _ => None,
        }
    }
}

/// Record `answer` to the lookup `key` in `facts`. An answer of the wrong kind for the key
/// is ignored.
pub fn record(facts: &mut Facts, key: &QueryKey, answer: &Answer) {
    match (key, answer) {
        (QueryKey::Tag(k), Answer::Tag(fact)) => facts.insert_tag(k.clone(), fact.clone()),
        (QueryKey::Digest(k), Answer::DigestExists(exists)) => {
            facts.insert_digest(k.clone(), *exists)
        }
        (QueryKey::VmVersions(k), Answer::VmVersions { versions, source }) => {
            facts.insert_vm_versions(k, versions.clone(), source.clone());
        }
        (QueryKey::Tag(k), Answer::NotFound(e)) => {
            facts.insert_missing_tag(k.clone(), e.message.clone());
        }
        (_, Answer::NotFound(e) | Answer::Failed(e)) => {
            facts.insert_failure(key.as_str().to_string(), e.message.clone());
        }
        _ => {}
    }
}

/// Which of a file's demands to build facts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactScope {
    /// Only what rules judge with: the facts findings are computed from.
    Rules,
    /// Everything the file wants, context included: what a hover shows.
    All,
}

/// The facts one file is judged with: the answers to its own demands, and nothing else, so
/// a file's findings do not depend on which other files are in the run. `answer` gives the
/// answer known for a key (the CLI's answers of the whole run, the server's cache).
pub fn facts_for<'a>(
    queries: &FileQueries,
    scope: FactScope,
    mut answer: impl FnMut(&QueryKey) -> Option<&'a Answer>,
) -> Facts {
    let mut facts = Facts::none();
    for d in &queries.demands {
        if scope == FactScope::Rules && d.purpose == Purpose::Context {
            continue;
        }
        let key = d.query.key();
        if let Some(a) = answer(&key) {
            record(&mut facts, &key, a);
        }
    }
    facts
}

/// Every answer of a run, by lookup.
#[derive(Debug, Clone, Default)]
pub struct Answers {
    answers: HashMap<QueryKey, Answer>,
}

impl Answers {
    /// Record the answer to `key` (a later answer replaces an earlier one).
    pub fn insert(&mut self, key: QueryKey, answer: Answer) {
        self.answers.insert(key, answer);
    }

    /// The answer to `key`, if there is one.
    pub fn get(&self, key: &QueryKey) -> Option<&Answer> {
        self.answers.get(key)
    }

    /// Number of answers.
    pub fn len(&self) -> usize {
        self.answers.len()
    }

    /// Whether nothing was answered.
    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }

    /// The facts one file's findings are computed from ([`facts_for`] with
    /// [`FactScope::Rules`]).
    pub fn facts_for(&self, queries: &FileQueries) -> Facts {
        facts_for(queries, FactScope::Rules, |k| self.get(k))
    }
}

impl super::plan::Plan {
    /// The lookups that were asked and failed, with why, in plan order. A lookup nobody
    /// answered (offline, no catalog knows it) is unknown, not failed.
    pub fn failures<'a>(
        &'a self,
        answers: &'a Answers,
    ) -> impl Iterator<Item = (&'a super::plan::PlannedQuery, &'a LookupError)> + 'a {
        self.queries.iter().filter_map(move |q| {
            let error = answers.get(&q.query.key())?.error()?;
            Some((q, error))
        })
    }
}

impl FileQueries {
    /// The references a fix of this file must wait for: those of its demands whose fix
    /// depends on the answer ([`Purpose::Rule`] with `blocks_fix`) and whose lookup failed,
    /// in the order met (for a tag lookup, the reference without its digest). Any makes
    /// [`super::fix`] leave the file untouched.
    pub fn unresolved<'a>(
        &self,
        mut answer: impl FnMut(&QueryKey) -> Option<&'a Answer>,
    ) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for d in &self.demands {
            if d.purpose != (Purpose::Rule { blocks_fix: true }) {
                continue;
            }
            if answer(&d.query.key()).and_then(Answer::error).is_none() {
                continue;
            }
            let reference = d.query.reference(&d.written);
            if !out.contains(&reference) {
                out.push(reference);
            }
        }
        out
    }
}
