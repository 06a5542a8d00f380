//! The resolution phase of `check`: collect the container references of every file,
//! de-duplicate them, ask each distinct one once (catalogs first, then registries when
//! online) and hand the answers to the rules as [`Facts`].
//!
//! A failed lookup only affects the references that needed it: they get no fact (so their
//! rules stay quiet or offer no fix), the failure is remembered per file so that `--fix`
//! can leave such a file untouched, and the run exits 3 (CONTRACT.md).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result};
use pin_core::config::RegistryConfig;
use pin_core::{Facts, ImageRef, Kind, Reference, Rule, Settings, State, TagFact};
use pin_resolve::{Catalog, ImageName, Query, ResolveError, Resolved, Resolver, ResolverOptions};

use crate::args::FixArgs;
use crate::render::FileReport;

/// How the resolution phase runs, after flags and `pin-lint.toml` (flags win).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Ask registries; when false only catalogs answer and nothing goes over the network.
    pub online: bool,
    /// Catalog files, consulted in order before any registry.
    pub catalogs: Vec<PathBuf>,
    /// `host[:port]` that may be spoken to over plain HTTP.
    pub insecure_registries: Vec<String>,
    /// Registry as referenced → `host[:port]` to resolve against instead.
    pub mirrors: HashMap<String, String>,
    /// Disk cache file and how long its answers stay valid.
    pub cache: Option<(PathBuf, Duration)>,
    /// Draw a progress bar (only when stderr is a terminal).
    pub progress: bool,
}

impl Options {
    /// Combine the flags with the `registry` keys of the governing `pin-lint.toml`.
    /// `--offline` / `--online` win over `online = …`; without either, `--fix` resolves and
    /// a plain `check` does not. Catalogs and insecure registries from both are used.
    pub fn new(args: &FixArgs, config: &RegistryConfig) -> Options {
        let online = if args.offline {
            false
        } else if args.online {
            true
        } else {
            config.online.unwrap_or(args.fix)
        };
        let mut catalogs = args.catalog.clone();
        catalogs.extend(config.catalogs.iter().cloned());
        let mut insecure_registries = args.insecure_registry.clone();
        insecure_registries.extend(config.insecure_registries.iter().cloned());
        let cache = config.cache.dir.as_ref().map(|dir| {
            (
                dir.join("digests.json"),
                config
                    .cache
                    .ttl
                    .unwrap_or_else(|| Duration::from_secs(24 * 3600)),
            )
        });
        Options {
            online,
            catalogs,
            insecure_registries,
            mirrors: config
                .mirrors
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            cache,
            progress: args.progress,
        }
    }

    /// Whether there is anything to ask at all.
    fn active(&self) -> bool {
        self.online || !self.catalogs.is_empty()
    }
}

/// One lookup that could not be answered.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The registry concerned (canonical spelling), or the reference when none is known.
    pub registry: String,
    /// The reference as written (without digest for a tag lookup).
    pub reference: String,
    /// Why, for people; names the registry.
    pub message: String,
    /// Indices (into the reports) of the files that use the reference.
    pub files: BTreeSet<usize>,
    /// Whether a fix in those files depends on the answer (so `--fix` must not touch them).
    pub blocks_fix: bool,
}

/// What the resolution phase found out.
#[derive(Debug, Default)]
pub struct Resolution {
    /// Facts for the rules.
    pub facts: Facts,
    /// Failed lookups, one per distinct query, in reference order.
    pub failures: Vec<Failure>,
    /// Distinct lookups made (catalog hits included).
    pub lookups: usize,
}

impl Resolution {
    /// Whether a requested lookup failed (exit code 3).
    pub fn incomplete(&self) -> bool {
        !self.failures.is_empty()
    }

    /// The files that `--fix` must leave untouched because an answer one of their fixes
    /// depends on is missing.
    pub fn blocked_files(&self) -> BTreeMap<usize, Vec<&Failure>> {
        let mut out: BTreeMap<usize, Vec<&Failure>> = BTreeMap::new();
        for failure in self.failures.iter().filter(|f| f.blocks_fix) {
            for &file in &failure.files {
                out.entry(file).or_default().push(failure);
            }
        }
        out
    }

    /// One line per failing registry, for stderr: how many references could not be
    /// resolved there and the first reason.
    pub fn error_lines(&self) -> Vec<String> {
        let mut by_registry: BTreeMap<&str, Vec<&Failure>> = BTreeMap::new();
        for failure in &self.failures {
            by_registry
                .entry(failure.registry.as_str())
                .or_default()
                .push(failure);
        }
        by_registry
            .into_iter()
            .map(|(registry, failures)| {
                let n = failures.len();
                let plural = if n == 1 { "" } else { "s" };
                let message = &failures[0].message;
                // Registry errors already start with the registry's name.
                let prefix = if message.starts_with(registry) {
                    String::new()
                } else {
                    format!("{registry}: ")
                };
                format!("pin-lint: error: {prefix}{message} ({n} lookup{plural} failed)")
            })
            .collect()
    }
}

/// What a reference needs from resolution, given the rules that run on its file.
#[derive(Debug, Clone, Copy, Default)]
struct Need {
    /// The digest its tag points to now.
    tag: bool,
    /// Whether a fix depends on the tag answer.
    tag_blocks_fix: bool,
    /// Whether its pinned digest still exists.
    digest: bool,
    /// Whether a fix depends on the digest answer.
    digest_blocks_fix: bool,
}

fn rule(id: &str) -> Option<Rule> {
    Rule::from_id(id)
}

fn selected(settings: &Settings, id: &str) -> bool {
    rule(id).is_some_and(|r| settings.is_selected(r))
}

/// What `r` needs under `settings`. Digest existence is only asked of registries (a
/// catalog can confirm a digest, never deny it), so it is skipped offline.
fn need(r: &Reference, image: &ImageRef, settings: &Settings, online: bool) -> Need {
    let unpinned = selected(settings, "unpinned-image");
    let stale = selected(settings, "stale-digest");
    let missing = selected(settings, "missing-digest");
    match r.state {
        State::Unpinned if unpinned => {
            let fixable = image.tag.is_some() || settings.pin_untagged_as_latest;
            Need {
                tag: fixable,
                tag_blocks_fix: fixable,
                ..Need::default()
            }
        }
        State::Pinned if stale || missing => Need {
            tag: true,
            tag_blocks_fix: true,
            digest: missing && online,
            // With stale-digest on, the tag's answer alone decides the edit.
            digest_blocks_fix: missing && online && !stale,
        },
        State::DigestOnly if missing => Need {
            digest: online,
            ..Need::default()
        },
        _ => Need::default(),
    }
}

/// The pin-resolve name of a parsed reference, keeping the user's spelling.
fn image_name(image: &ImageRef) -> ImageName {
    ImageName {
        registry: image.registry_str().unwrap_or_default().to_string(),
        repository: image.repository_str().to_string(),
        tag: image.tag_str().map(str::to_string),
        digest: image.digest_str().map(str::to_string),
    }
}

/// One distinct lookup and the references waiting for it.
struct Pending {
    query: Query,
    /// Facts keys (one per spelling) and the files using it.
    keys: BTreeSet<String>,
    files: BTreeSet<usize>,
    blocks_fix: bool,
    first_text: String,
}

/// Collect, de-duplicate and answer every lookup the files need. `settings[i]` governs
/// `reports[i]`. Errors (exit 2) only for unusable inputs: a catalog that cannot be read,
/// an HTTP client that cannot be set up.
pub fn run(reports: &[FileReport], settings: &[Settings], options: &Options) -> Result<Resolution> {
    let mut resolution = Resolution::default();
    if !options.active() {
        return Ok(resolution);
    }
    let catalogs = options
        .catalogs
        .iter()
        .map(|path| Catalog::load(path).with_context(|| "cannot use the catalog".to_string()))
        .collect::<Result<Vec<_>>>()?;

    let mut pending: Vec<Pending> = Vec::new();
    let mut index: HashMap<Query, usize> = HashMap::new();
    for (file, (report, settings)) in reports.iter().zip(settings).enumerate() {
        for r in &report.analysis.references {
            let Some(image) = r.image.as_ref().filter(|_| r.kind == Kind::Container) else {
                continue;
            };
            let need = need(r, image, settings, options.online);
            let name = image_name(image);
            let mut add = |query: Query, key: String, blocks_fix: bool| {
                let i = *index.entry(query.clone()).or_insert_with(|| {
                    pending.push(Pending {
                        query,
                        keys: BTreeSet::new(),
                        files: BTreeSet::new(),
                        blocks_fix: false,
                        first_text: r.text.clone(),
                    });
                    pending.len() - 1
                });
                let p = &mut pending[i];
                p.keys.insert(key);
                p.files.insert(file);
                p.blocks_fix |= blocks_fix;
            };
            if need.tag {
                let mut tag_name = name.clone();
                tag_name.digest = None;
                add(
                    Query::Tag { name: tag_name },
                    Facts::tag_key(image),
                    need.tag_blocks_fix,
                );
            }
            if need.digest {
                if let Some(key) = Facts::digest_key(image) {
                    add(
                        Query::Digest { name: name.clone() },
                        key,
                        need.digest_blocks_fix,
                    );
                }
            }
        }
    }
    resolution.lookups = pending.len();
    if pending.is_empty() {
        return Ok(resolution);
    }

    if options.online {
        answer_online(&mut resolution, pending, catalogs, options)?;
    } else {
        answer_from_catalogs(&mut resolution, pending, &catalogs);
    }
    Ok(resolution)
}

/// Offline: catalogs answer what they know; the rest stays unknown (not a failure).
fn answer_from_catalogs(resolution: &mut Resolution, pending: Vec<Pending>, catalogs: &[Catalog]) {
    for p in pending {
        match &p.query {
            Query::Tag { name } => {
                let hit = catalogs
                    .iter()
                    .find_map(|c| c.lookup_tag(name).map(|d| (c.path().to_path_buf(), d)));
                if let Some((path, digest)) = hit {
                    let fact = TagFact {
                        digest: digest.to_string(),
                        platforms: Vec::new(),
                        source: catalog_label(&path),
                    };
                    for key in p.keys {
                        resolution.facts.insert_tag(key, fact.clone());
                    }
                }
            }
            Query::Digest { name } => {
                let digest = name.digest.as_deref().unwrap_or_default();
                if catalogs.iter().any(|c| c.knows_digest(name, digest)) {
                    for key in p.keys {
                        resolution.facts.insert_digest(key, true);
                    }
                }
            }
        }
    }
}

fn catalog_label(path: &Path) -> String {
    format!(
        "catalog {}",
        path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into()
        )
    )
}

/// Online: every distinct query once through the resolver, concurrently.
fn answer_online(
    resolution: &mut Resolution,
    pending: Vec<Pending>,
    catalogs: Vec<Catalog>,
    options: &Options,
) -> Result<()> {
    let resolver = Resolver::new(ResolverOptions {
        insecure_registries: options.insecure_registries.clone(),
        catalogs,
        mirrors: options.mirrors.clone(),
        disk_cache: options.cache.clone(),
        ..ResolverOptions::default()
    })
    .context("cannot set up registry lookups")?;
    let bar = progress_bar(options.progress, pending.len());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let answers = runtime.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for (i, p) in pending.iter().enumerate() {
            let resolver = resolver.clone();
            let query = p.query.clone();
            set.spawn(async move {
                let answer = match &query {
                    Query::Tag { name } => resolver.resolve_tag(name).await.map(Answer::Tag),
                    Query::Digest { name } => {
                        resolver.digest_exists(name).await.map(Answer::Exists)
                    }
                };
                (i, answer)
            });
        }
        let mut answers: Vec<Option<Result<Answer, ResolveError>>> = vec![None; pending.len()];
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok((i, answer)) => answers[i] = Some(answer),
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(_) => {}
            }
            bar.inc(1);
        }
        answers
    });
    bar.finish_and_clear();
    if let Err(e) = resolver.persist_cache() {
        eprintln!("pin-lint: warning: cannot write the digest cache: {e}");
    }
    for (p, answer) in pending.into_iter().zip(answers) {
        let answer = answer.unwrap_or_else(|| {
            Err(ResolveError::Network {
                registry: p.query.name().canonical_registry(),
                msg: "lookup was cancelled".into(),
            })
        });
        match answer {
            Ok(Answer::Tag(resolved)) => {
                let fact = tag_fact(&resolved, &p.query);
                for key in p.keys {
                    resolution.facts.insert_tag(key, fact.clone());
                }
            }
            Ok(Answer::Exists(exists)) => {
                for key in p.keys {
                    resolution.facts.insert_digest(key, exists);
                }
            }
            Err(error) => {
                let registry = error
                    .registry()
                    .map_or_else(|| p.query.name().canonical_registry(), str::to_string);
                let message = error.to_string();
                for key in &p.keys {
                    resolution
                        .facts
                        .insert_failure(key.clone(), message.clone());
                }
                let reference = match &p.query {
                    Query::Tag { name } => name.written_without_digest(),
                    Query::Digest { .. } => p.first_text.clone(),
                };
                resolution.failures.push(Failure {
                    registry,
                    reference,
                    message,
                    files: p.files,
                    blocks_fix: p.blocks_fix,
                });
            }
        }
    }
    Ok(())
}

/// A resolver answer, either kind.
#[derive(Clone)]
enum Answer {
    Tag(Resolved),
    Exists(bool),
}

fn tag_fact(resolved: &Resolved, query: &Query) -> TagFact {
    let source = match &resolved.source {
        pin_resolve::Source::Catalog(path) => catalog_label(path),
        pin_resolve::Source::DiskCache => "digest cache".to_string(),
        pin_resolve::Source::Registry => {
            format!("registry {}", query.name().canonical_registry())
        }
    };
    TagFact {
        digest: resolved.digest.clone(),
        platforms: resolved.platforms.clone(),
        source,
    }
}

/// A progress bar on stderr when asked for and stderr is a terminal; hidden otherwise.
fn progress_bar(wanted: bool, len: usize) -> indicatif::ProgressBar {
    if !wanted || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("resolving {bar:30} {pos}/{len} references")
    {
        bar.set_style(style);
    }
    bar
}
