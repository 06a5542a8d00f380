//! Facts for the analyzer: catalogs answered at once, registry answers from background lookups.
//!
//! The editor never waits for the network (HOUSE-RULES 10): a lint run takes whatever is known
//! now (catalog entries and earlier registry answers) and hands the missing keys back as
//! [`Lookup`]s, which the session resolves in a background task. When the answers arrive they
//! are cached here and the documents that were waiting for them are linted again, at whatever
//! version they have reached by then.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use pin_core::template::FileExtras;
use pin_core::{Analysis, Facts, ImageRef, Kind, TagFact};
use pin_resolve::{Answer, Catalog, ImageName, Query, ResolveError, Source};
use pin_vm_resolve::VmCatalog;
use tower_lsp_server::ls_types::Uri;

/// How long a failed lookup is answered from the cache before it is tried again.
const RETRY_FAILED_AFTER: Duration = Duration::from_secs(60);

/// One registry question, with the pin-core fact key its answer is stored under.
#[derive(Debug, Clone)]
pub struct Lookup {
    /// `Facts::tag_key` or `Facts::digest_key` of the reference.
    pub key: String,
    /// What to ask the resolver.
    pub query: Query,
}

#[derive(Debug, Clone)]
enum Entry<T> {
    Known(T),
    Failed(String, Instant),
    Pending,
}

#[derive(Default)]
struct Inner {
    generation: u64,
    tags: HashMap<String, Entry<TagFact>>,
    digests: HashMap<String, Entry<bool>>,
    waiters: HashMap<String, HashSet<Uri>>,
}

/// Registry answers of this session, keyed like pin-core's [`Facts`].
#[derive(Default)]
pub struct FactCache {
    inner: Mutex<Inner>,
}

/// A description of where a catalog answer came from, for hovers.
fn catalog_source(catalog: &Catalog) -> String {
    let name = catalog.path().file_name().map_or_else(
        || catalog.path().display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    format!("catalog {name}")
}

/// A registry question a file raises, before looking at any cache.
enum Want {
    Tag {
        key: String,
        name: ImageName,
    },
    Digest {
        key: String,
        name: ImageName,
        digest: String,
    },
}

/// The distinct questions of a file: the tag of every tagged (or untagged, unpinned) container
/// reference, and the existence of every pinned digest; the same for the images the template
/// layer says its expressions (and the fragments they complete) produce.
fn wants(analysis: &Analysis, extras: Option<&FileExtras>) -> Vec<Want> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for r in &analysis.references {
        if let Some(image) = r.image.as_ref().filter(|_| r.kind == Kind::Container) {
            want(image, &mut seen, &mut out);
        }
    }
    // Images the template layer says the file's expressions produce, and images that reach
    // its use sites from elsewhere (for their hovers).
    let templated = extras.into_iter().flat_map(|e| {
        let produced = e.dynamic.iter().flat_map(|d| &d.images).map(|c| &*c.image);
        let incoming = e.uses.iter().flat_map(|u| &u.images).map(|i| &*i.image);
        produced.chain(incoming)
    });
    for text in templated {
        if let Ok(image) = ImageRef::parse(text) {
            want(&image, &mut seen, &mut out);
        }
    }
    out
}

fn want(image: &ImageRef, seen: &mut HashSet<String>, out: &mut Vec<Want>) {
    let Ok(name) = ImageName::parse(image.as_str()) else {
        return;
    };
    if image.tag.is_some() || image.digest.is_none() {
        let key = Facts::tag_key(image);
        if seen.insert(key.clone()) {
            out.push(Want::Tag {
                key,
                name: name.clone(),
            });
        }
    }
    if let (Some(key), Some(digest)) = (Facts::digest_key(image), image.digest_str()) {
        if seen.insert(key.clone()) {
            out.push(Want::Digest {
                key,
                name,
                digest: digest.to_string(),
            });
        }
    }
}

/// Versions of the document's VM images from the VM catalogs. The editor asks no Azure API:
/// VM versions change rarely and the CLI's `--fix` (online) is where they are bumped.
pub fn vm_facts(analysis: &Analysis, catalogs: &[VmCatalog], facts: &mut Facts) {
    if catalogs.is_empty() {
        return;
    }
    for vm in analysis
        .references
        .iter()
        .filter_map(|r| r.vm_image.as_ref())
    {
        pin_vm_resolve::answer_from_catalogs(facts, &vm.key, catalogs);
    }
}

fn catalog_tag(catalogs: &[Catalog], name: &ImageName) -> Option<TagFact> {
    catalogs.iter().find_map(|c| {
        c.lookup_tag(name).map(|digest| TagFact {
            digest: digest.to_string(),
            platforms: Vec::new(),
            source: catalog_source(c),
        })
    })
}

impl FactCache {
    /// Facts for `analysis` (and the images `extras` says its expressions produce): catalog
    /// entries and cached answers. When `online`, the keys nobody has asked about yet are
    /// marked pending (with `uri` waiting for them) and returned as lookups to start; keys
    /// already pending just get `uri` added to their waiters.
    pub fn facts_for(
        &self,
        analysis: &Analysis,
        extras: Option<&FileExtras>,
        catalogs: &[Catalog],
        online: bool,
        uri: &Uri,
    ) -> (Facts, Vec<Lookup>) {
        let mut facts = Facts::none();
        let mut lookups = Vec::new();
        let mut guard = self.lock();
        let inner = &mut *guard;
        if catalogs.is_empty() && !online && inner.tags.is_empty() && inner.digests.is_empty() {
            // Offline without catalogs: nothing can be known, skip parsing the references.
            return (facts, lookups);
        }
        for want in wants(analysis, extras) {
            match want {
                Want::Tag { key, name } => {
                    if let Some(fact) = catalog_tag(catalogs, &name) {
                        facts.insert_tag(key, fact);
                        continue;
                    }
                    match inner.tags.get(&key) {
                        Some(Entry::Known(fact)) => facts.insert_tag(key, fact.clone()),
                        Some(Entry::Failed(msg, at))
                            if !online || at.elapsed() < RETRY_FAILED_AFTER =>
                        {
                            facts.insert_failure(key, msg.clone());
                        }
                        Some(Entry::Pending) => {
                            inner.waiters.entry(key).or_default().insert(uri.clone());
                        }
                        _ if online => {
                            inner.tags.insert(key.clone(), Entry::Pending);
                            inner
                                .waiters
                                .entry(key.clone())
                                .or_default()
                                .insert(uri.clone());
                            lookups.push(Lookup {
                                key,
                                query: Query::Tag { name },
                            });
                        }
                        _ => {}
                    }
                }
                Want::Digest { key, name, digest } => {
                    if catalogs.iter().any(|c| c.knows_digest(&name, &digest)) {
                        facts.insert_digest(key, true);
                        continue;
                    }
                    match inner.digests.get(&key) {
                        Some(Entry::Known(exists)) => facts.insert_digest(key, *exists),
                        Some(Entry::Failed(msg, at))
                            if !online || at.elapsed() < RETRY_FAILED_AFTER =>
                        {
                            facts.insert_failure(key, msg.clone());
                        }
                        Some(Entry::Pending) => {
                            inner.waiters.entry(key).or_default().insert(uri.clone());
                        }
                        _ if online => {
                            inner.digests.insert(key.clone(), Entry::Pending);
                            inner
                                .waiters
                                .entry(key.clone())
                                .or_default()
                                .insert(uri.clone());
                            lookups.push(Lookup {
                                key,
                                query: Query::Digest { name },
                            });
                        }
                        _ => {}
                    }
                }
            }
        }
        (facts, lookups)
    }

    /// Every registry question of `analysis` (and `extras`) that the catalogs do not answer, whatever the
    /// cache holds (for commands that want fresh answers and wait for them).
    pub fn all_lookups(
        analysis: &Analysis,
        extras: Option<&FileExtras>,
        catalogs: &[Catalog],
    ) -> Vec<Lookup> {
        wants(analysis, extras)
            .into_iter()
            .filter_map(|want| match want {
                Want::Tag { key, name } => {
                    catalog_tag(catalogs, &name).is_none().then_some(Lookup {
                        key,
                        query: Query::Tag { name },
                    })
                }
                Want::Digest { key, name, digest } => {
                    (!catalogs.iter().any(|c| c.knows_digest(&name, &digest))).then_some(Lookup {
                        key,
                        query: Query::Digest { name },
                    })
                }
            })
            .collect()
    }

    /// The cache generation; answers to lookups started in an older one are dropped.
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Store answers; returns the documents waiting for them. Answers from an older generation
    /// (the settings changed meanwhile) are dropped.
    pub fn record(
        &self,
        generation: u64,
        lookups: &[Lookup],
        answers: Vec<(Query, Result<Answer, ResolveError>)>,
    ) -> HashSet<Uri> {
        let mut inner = self.lock();
        if inner.generation != generation {
            return HashSet::new();
        }
        let mut wake = HashSet::new();
        for (lookup, (_, answer)) in lookups.iter().zip(answers) {
            match (answer, &lookup.query) {
                (Ok(Answer::Tag(resolved)), _) => {
                    let source = match &resolved.source {
                        Source::Catalog(path) => format!("catalog {}", path.display()),
                        Source::DiskCache => "digest cache".to_string(),
                        Source::Registry => {
                            format!("registry {}", lookup.query.name().registry)
                        }
                    };
                    let fact = TagFact {
                        digest: resolved.digest,
                        platforms: resolved.platforms,
                        source,
                    };
                    inner.tags.insert(lookup.key.clone(), Entry::Known(fact));
                }
                (Ok(Answer::Exists(exists)), _) => {
                    inner
                        .digests
                        .insert(lookup.key.clone(), Entry::Known(exists));
                }
                (Err(err), Query::Tag { .. }) => {
                    tracing::info!("lookup of {} failed: {err}", lookup.key);
                    let failed = Entry::Failed(err.to_string(), Instant::now());
                    inner.tags.insert(lookup.key.clone(), failed);
                }
                (Err(err), Query::Digest { .. }) => {
                    tracing::info!("lookup of {} failed: {err}", lookup.key);
                    let failed = Entry::Failed(err.to_string(), Instant::now());
                    inner.digests.insert(lookup.key.clone(), failed);
                }
            }
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

    fn uri() -> Uri {
        "file:///ws/a.yml".parse().expect("uri")
    }

    #[test]
    fn catalog_answers_at_once_and_registry_keys_are_asked_once() {
        let text = "resources:\n  containers:\n  - container: a\n    image: mcr.microsoft.com/x/y:1\n  - container: b\n    image: docker.io/library/alpine:3.20\n  - container: c\n    image: alpine:3.20\n";
        let analysis = Analysis::new("azure-pipelines.yml", text.to_string());
        assert_eq!(analysis.references.len(), 3, "{:?}", analysis.references);
        let digest = format!("sha256:{}", "a".repeat(64));
        let catalog = Catalog::parse("c.tsv", &format!("mcr.microsoft.com/x/y:1\t{digest}\n"))
            .expect("catalog");
        let cache = FactCache::default();

        let (facts, lookups) = cache.facts_for(
            &analysis,
            None,
            std::slice::from_ref(&catalog),
            false,
            &uri(),
        );
        assert_eq!(facts.tag_count(), 1);
        assert!(lookups.is_empty(), "offline: no lookups");

        let (_, lookups) = cache.facts_for(
            &analysis,
            None,
            std::slice::from_ref(&catalog),
            true,
            &uri(),
        );
        // Both alpine spellings share one normalised key.
        assert_eq!(lookups.len(), 1, "{lookups:?}");
        let (_, again) = cache.facts_for(
            &analysis,
            None,
            std::slice::from_ref(&catalog),
            true,
            &uri(),
        );
        assert!(again.is_empty(), "pending keys are not asked twice");

        let gen = cache.generation();
        let answer = Answer::Tag(pin_resolve::Resolved {
            digest: digest.clone(),
            source: Source::Registry,
            platforms: vec!["linux/amd64".into()],
        });
        let wake = cache.record(gen, &lookups, vec![(lookups[0].query.clone(), Ok(answer))]);
        assert_eq!(wake.len(), 1);
        let (facts, _) = cache.facts_for(&analysis, None, &[catalog], true, &uri());
        assert_eq!(facts.tag_count(), 2);

        cache.clear();
        assert!(cache.record(gen, &lookups, Vec::new()).is_empty());
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
        let without = FactCache::all_lookups(analysis, None, &[]);
        let with = FactCache::all_lookups(analysis, Some(extras), &[]);
        assert!(without.is_empty(), "{without:?}");
        let keys: Vec<&str> = with.iter().map(|l| l.key.as_str()).collect();
        assert_eq!(keys, ["mcr.microsoft.com/x/y:2.0"], "{with:?}");
    }
}
