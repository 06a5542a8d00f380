//! Executing the engine's lookups in the editor: catalogs answer at once, registries in the
//! background, and answers are cached.
//!
//! What a document needs looked up is not decided here: it is the engine's
//! [`pin_core::engine::file_queries`] (with [`PlanOptions::context`], so hovers can show the
//! digests of references no rule asks about), and the facts a document is judged with are
//! the engine's [`engine::facts_for`] over those queries, as in `pin-lint check`. This module
//! only answers the queries: from the catalogs, else from the cache of earlier answers
//! ([`Answer`]s, keyed by [`QueryKey`]), else (online) by handing them back as [`Lookup`]s.
//!
//! The editor never waits for the network (HOUSE-RULES 10): a lint run takes whatever is known
//! now and the session resolves the missing lookups in a background task. When the answers
//! arrive they are cached here and the documents that were waiting for them are linted again,
//! at whatever version they have reached by then.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use pin_core::engine::{self, Answer, Answers, FactScope, FileQueries, PlanOptions, QueryKey};
use pin_core::Facts;
use pin_resolve::{Catalog, Query, ResolveError};
use pin_vm_resolve::VmCatalog;
use tower_lsp_server::ls_types::Uri;

/// How long a failed lookup is answered from the cache before it is tried again.
const RETRY_FAILED_AFTER: Duration = Duration::from_secs(60);

/// The server's plan options: registries may be asked when online, and hovers want the
/// context lookups too.
pub fn plan_options(online: bool) -> PlanOptions {
    PlanOptions {
        online,
        context: true,
    }
}

/// One registry question: the engine's lookup, as the resolver asks it.
#[derive(Debug, Clone)]
pub struct Lookup {
    /// The engine's key the answer is stored under.
    pub key: QueryKey,
    /// What to ask the resolver.
    pub query: Query,
}

impl Lookup {
    /// The registry question for a planned lookup; `None` for a VM image (the editor asks no
    /// Azure API: VM versions change rarely and the CLI's `--fix` is where they are bumped).
    fn of(query: &engine::Query) -> Option<Lookup> {
        Some(Lookup {
            key: query.key(),
            query: Query::for_planned(query)?,
        })
    }
}

#[derive(Debug, Clone)]
enum Entry {
    Known(Answer, Instant),
    Pending,
}

#[derive(Default)]
struct Inner {
    generation: u64,
    answers: HashMap<QueryKey, Entry>,
    waiters: HashMap<QueryKey, HashSet<Uri>>,
}

/// Registry answers of this session, keyed like the engine's lookups.
#[derive(Default)]
pub struct FactCache {
    inner: Mutex<Inner>,
}

/// What the catalogs say about a lookup: container lookups from the digest catalogs, VM
/// versions from the VM catalogs (the same answers the CLI's batch takes from them).
fn catalog_answer(
    query: &engine::Query,
    catalogs: &[Catalog],
    vm_catalogs: &[VmCatalog],
) -> Option<Answer> {
    match query {
        engine::Query::VmVersions { key } => pin_vm_resolve::catalog_answer(key, vm_catalogs),
        _ => pin_resolve::engine::catalog_answer(catalogs, query),
    }
}

/// What a lint run knows about one document's lookups.
#[derive(Debug, Clone, Default)]
pub struct FileFacts {
    /// The facts its findings and fixes are computed from ([`engine::facts_for`] over the
    /// rules' lookups, as `pin-lint check` computes them).
    pub facts: Facts,
    /// Every fact known about its lookups, the context ones included: what hovers show.
    pub shown: Facts,
    /// The references whose failed lookups a fix depends on
    /// ([`FileQueries::unresolved`]): while any is left, no fix of the file is offered.
    pub unresolved: Vec<String>,
}

impl FileFacts {
    fn of(queries: &FileQueries, answers: &Answers) -> FileFacts {
        FileFacts {
            facts: answers.facts_for(queries),
            shown: engine::facts_for(queries, FactScope::All, |k| answers.get(k)),
            unresolved: queries.unresolved(|k| answers.get(k)),
        }
    }
}

impl FactCache {
    /// Facts for a document whose lookups are `queries`: catalog entries and cached answers.
    /// When `online`, the registry lookups nobody has asked yet are marked pending (with
    /// `uri` waiting for them) and returned to start; lookups already pending just get `uri`
    /// added to their waiters. A failed lookup is asked again after a while.
    pub fn facts_for(
        &self,
        queries: &FileQueries,
        catalogs: &[Catalog],
        vm_catalogs: &[VmCatalog],
        online: bool,
        uri: &Uri,
    ) -> (FileFacts, Vec<Lookup>) {
        let mut answers = Answers::default();
        let mut lookups = Vec::new();
        let mut guard = self.lock();
        let inner = &mut *guard;
        if catalogs.is_empty() && vm_catalogs.is_empty() && !online && inner.answers.is_empty() {
            // Offline without catalogs: nothing can be known.
            return (FileFacts::default(), lookups);
        }
        for demand in &queries.demands {
            let key = demand.query.key();
            if let Some(answer) = catalog_answer(&demand.query, catalogs, vm_catalogs) {
                answers.insert(key, answer);
                continue;
            }
            match inner.answers.get(&key) {
                Some(Entry::Known(answer, at))
                    if !online || answer.error().is_none() || at.elapsed() < RETRY_FAILED_AFTER =>
                {
                    answers.insert(key, answer.clone());
                }
                Some(Entry::Pending) => {
                    inner.waiters.entry(key).or_default().insert(uri.clone());
                }
                _ if online => {
                    let Some(lookup) = Lookup::of(&demand.query) else {
                        continue;
                    };
                    inner.answers.insert(key.clone(), Entry::Pending);
                    inner.waiters.entry(key).or_default().insert(uri.clone());
                    lookups.push(lookup);
                }
                _ => {}
            }
        }
        (FileFacts::of(queries, &answers), lookups)
    }

    /// Every registry lookup of `queries` that the catalogs do not answer, whatever the cache
    /// holds (for commands that want fresh answers and wait for them).
    pub fn all_lookups(queries: &FileQueries, catalogs: &[Catalog]) -> Vec<Lookup> {
        queries
            .demands
            .iter()
            .filter(|d| pin_resolve::engine::catalog_answer(catalogs, &d.query).is_none())
            .filter_map(|d| Lookup::of(&d.query))
            .collect()
    }

    /// The cache generation; answers to lookups started in an older one are dropped.
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Store answers (as the engine's [`Answer`]s, the way the CLI records them); returns the
    /// documents waiting for them. Answers from an older generation (the settings changed
    /// meanwhile) are dropped.
    pub fn record(
        &self,
        generation: u64,
        lookups: &[Lookup],
        answers: Vec<(Query, Result<pin_resolve::Answer, ResolveError>)>,
    ) -> HashSet<Uri> {
        let mut inner = self.lock();
        if inner.generation != generation {
            return HashSet::new();
        }
        let mut wake = HashSet::new();
        for (lookup, (_, result)) in lookups.iter().zip(answers) {
            let answer = pin_resolve::engine::answer(&lookup.query, result);
            if let Some(error) = answer.error() {
                tracing::info!(
                    "lookup of {} failed: {}",
                    lookup.key.as_str(),
                    error.message
                );
            }
            inner
                .answers
                .insert(lookup.key.clone(), Entry::Known(answer, Instant::now()));
            if let Some(uris) = inner.waiters.remove(&lookup.key) {
                wake.extend(uris);
            }
        }
        wake
    }

    /// Forget every answer (settings changed, or a bump wants fresh digests).
    pub fn clear(&self) {
        let mut inner = self.lock();
        let generation = inner.generation + 1;
        *inner = Inner {
            generation,
            ..Inner::default()
        };
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pin_core::engine::file_queries;
    use pin_core::template::FileExtras;
    use pin_core::{Analysis, Settings};
    use pin_resolve::Source;

    fn uri() -> Uri {
        "file:///ws/a.yml".parse().expect("uri")
    }

    fn queries(analysis: &Analysis, extras: Option<&FileExtras>, online: bool) -> FileQueries {
        file_queries(analysis, extras, &Settings::default(), plan_options(online))
    }

    #[test]
    fn catalog_answers_at_once_and_registry_keys_are_asked_once() {
        let text = "resources:\n  containers:\n  - container: a\n    image: mcr.microsoft.com/x/y:1\n  - container: b\n    image: docker.io/library/alpine:3.20\n  - container: c\n    image: alpine:3.20\n";
        let analysis = Analysis::new("azure-pipelines.yml", text.to_string());
        assert_eq!(analysis.references.len(), 3, "{:?}", analysis.references);
        let digest = format!("sha256:{}", "a".repeat(64));
        let catalog = Catalog::parse("c.tsv", &format!("mcr.microsoft.com/x/y:1\t{digest}\n"))
            .expect("catalog");
        let catalogs = std::slice::from_ref(&catalog);
        let cache = FactCache::default();

        let offline = queries(&analysis, None, false);
        let (known, lookups) = cache.facts_for(&offline, catalogs, &[], false, &uri());
        assert_eq!(known.facts.tag_count(), 1);
        assert_eq!(known.shown.tag_count(), 1);
        assert!(known.unresolved.is_empty());
        assert!(lookups.is_empty(), "offline: no lookups");

        let online = queries(&analysis, None, true);
        let (_, lookups) = cache.facts_for(&online, catalogs, &[], true, &uri());
        // Both alpine spellings share one normalised key.
        assert_eq!(lookups.len(), 1, "{lookups:?}");
        let (_, again) = cache.facts_for(&online, catalogs, &[], true, &uri());
        assert!(again.is_empty(), "pending keys are not asked twice");

        let gen = cache.generation();
        let answer = pin_resolve::Answer::Tag(pin_resolve::Resolved {
            digest: digest.clone(),
            source: Source::Registry,
            platforms: vec!["linux/amd64".into()],
        });
        let wake = cache.record(gen, &lookups, vec![(lookups[0].query.clone(), Ok(answer))]);
        assert_eq!(wake.len(), 1);
        let (known, _) = cache.facts_for(&online, catalogs, &[], true, &uri());
        assert_eq!(known.facts.tag_count(), 2);

        cache.clear();
        assert!(cache.record(gen, &lookups, Vec::new()).is_empty());
    }

    #[test]
    fn a_failed_lookup_a_fix_depends_on_leaves_the_file_unresolved() {
        let text = "resources:\n  containers:\n  - container: a\n    image: alpine:3.20\n";
        let analysis = Analysis::new("azure-pipelines.yml", text.to_string());
        let cache = FactCache::default();
        let online = queries(&analysis, None, true);
        let (_, lookups) = cache.facts_for(&online, &[], &[], true, &uri());
        assert_eq!(lookups.len(), 1, "{lookups:?}");
        let error = ResolveError::Network {
            registry: "registry-1.docker.io".into(),
            msg: "connection refused".into(),
        };
        let gen = cache.generation();
        cache.record(gen, &lookups, vec![(lookups[0].query.clone(), Err(error))]);
        let (known, again) = cache.facts_for(&online, &[], &[], true, &uri());
        assert!(again.is_empty(), "a failure is not asked again at once");
        assert_eq!(known.unresolved, ["alpine:3.20"]);
        let key = lookups[0].key.as_str();
        assert!(
            known.facts.failure(key).is_some(),
            "{key}: {:?}",
            known.facts
        );
    }

    #[test]
    fn images_built_by_templates_are_asked_about_too() {
        let job = "parameters:\n  image: ''\njobs:\n- job: j\n  container: ${{ format('mcr.microsoft.com/x/y:{0}', parameters.image) }}\n";
        let ci = "jobs:\n- template: job.yml\n  parameters:\n    image: '2.0'\n";
        let analyses = [
            ("ci.yml", Analysis::new("ci.yml", ci.to_string())),
            ("job.yml", Analysis::new("job.yml", job.to_string())),
        ];
        let layer = pin_core::template::analyze_analyses(
            analyses.iter().map(|(p, a)| (*p, a)),
            pin_core::template::Options::default(),
        );
        let extras = layer.file("job.yml").expect("extras of job.yml");
        let analysis = &analyses[1].1;
        let without = FactCache::all_lookups(&queries(analysis, None, true), &[]);
        let with = FactCache::all_lookups(&queries(analysis, Some(extras), true), &[]);
        assert!(without.is_empty(), "{without:?}");
        let keys: Vec<&str> = with.iter().map(|l| l.key.as_str()).collect();
        assert_eq!(keys, ["mcr.microsoft.com/x/y:2.0"], "{with:?}");
    }
}
