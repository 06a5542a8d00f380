//! The resolution phase of `check`: collect what every file needs looked up, de-duplicate
//! it, ask each distinct lookup once and hand the answers to the rules as [`Facts`].
//!
//! Container references (those written in files, those the template layer found, and the
//! images a template expression can produce) are de-duplicated by their normalised
//! reference and asked of the container catalogs, then registries when online. VM images
//! (`version: latest`, pinned versions in ARM, Bicep, Terraform and pool definitions) are
//! asked of the VM catalogs, then the Azure Resource Manager API when online
//! (`pin_vm_resolve`).
//!
//! A failed lookup only affects the references that needed it: they get no fact (so their
//! rules stay quiet or offer no fix), the failure is remembered per file so that `--fix`
//! can leave such a file untouched, and the run exits 3 (the exit codes in the README).

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, Context as _, Result};
use pin_core::config::RegistryConfig;
use pin_core::template::TemplateAnalysis;
use pin_core::{Facts, ImageRef, Kind, Reference, Rule, Settings, State, TagFact};
use pin_resolve::{Catalog, ImageName, Query, ResolveError, Resolved, Resolver, ResolverOptions};
use pin_vm_resolve::{VmCatalog, VmOptions, VmQuery};

use crate::args::FixArgs;
use crate::render::FileReport;

/// How the resolution phase runs, after flags and `pin-lint.toml` (flags win).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Ask registries; when false only catalogs answer and nothing goes over the network.
    pub online: bool,
    /// Catalog files, consulted in order before any registry: container digest catalogs
    /// and VM catalogs, told apart by their content.
    pub catalogs: Vec<PathBuf>,
    /// `host[:port]` that may be spoken to over plain HTTP.
    pub insecure_registries: Vec<String>,
    /// Registry as referenced → `host[:port]` to resolve against instead.
    pub mirrors: HashMap<String, String>,
    /// Disk cache file and how long its answers stay valid.
    pub cache: Option<(PathBuf, Duration)>,
    /// Limit for one registry or catalog request (`None` = the resolver's default).
    pub timeout: Option<Duration>,
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
            timeout: config.timeout,
            progress: args.progress,
        }
    }

    /// The registry client's settings: these options over the defaults.
    fn resolver_options(&self, catalogs: Vec<Catalog>) -> ResolverOptions {
        let defaults = ResolverOptions::default();
        ResolverOptions {
            insecure_registries: self.insecure_registries.clone(),
            catalogs,
            mirrors: self.mirrors.clone(),
            disk_cache: self.cache.clone(),
            timeout: self.timeout.unwrap_or(defaults.timeout),
            ..defaults
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
    /// The registry concerned (canonical spelling), or the reference when none is known;
    /// for a VM image, the Azure Resource Manager host.
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

/// What an image a template expression can produce needs. Only a fragment that carries
/// its digest and becomes this one image has a safe fix (`fixable`): bumping the digest
/// written in it. The other answers only complete the `dynamic-image` message (and its
/// unsafe fix, which `--fix` does not apply).
fn concrete_need(image: &ImageRef, fixable: bool, settings: &Settings, online: bool) -> Need {
    let stale = selected(settings, "stale-digest");
    let missing = selected(settings, "missing-digest");
    match (image.tag.is_some(), image.digest.is_some()) {
        (true, false) if selected(settings, "dynamic-image") => Need {
            tag: true,
            ..Need::default()
        },
        (true, true) if stale || missing => Need {
            tag: true,
            tag_blocks_fix: fixable,
            digest: missing && online,
            digest_blocks_fix: fixable && missing && online && !stale,
        },
        (false, true) if missing => Need {
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
    /// The facts key the answer is recorded under (the normalised reference).
    key: String,
    files: BTreeSet<usize>,
    blocks_fix: bool,
    first_text: String,
}

/// The distinct container lookups, keyed by normalised reference: `ubuntu:24.04` and
/// `docker.io/library/ubuntu:24.04` are one lookup, asked with the first spelling met.
#[derive(Default)]
struct Lookups {
    pending: Vec<Pending>,
    index: HashMap<(bool, String), usize>,
}

impl Lookups {
    fn add(&mut self, image: &ImageRef, text: &str, need: Need, file: usize) {
        if need.tag {
            let mut name = image_name(image);
            name.digest = None;
            let key = Facts::tag_key(image);
            self.push(Query::Tag { name }, key, text, file, need.tag_blocks_fix);
        }
        if need.digest {
            if let Some(key) = Facts::digest_key(image) {
                let name = image_name(image);
                self.push(
                    Query::Digest { name },
                    key,
                    text,
                    file,
                    need.digest_blocks_fix,
                );
            }
        }
    }

    fn push(&mut self, query: Query, key: String, text: &str, file: usize, blocks_fix: bool) {
        let is_tag = matches!(query, Query::Tag { .. });
        let i = *self.index.entry((is_tag, key.clone())).or_insert_with(|| {
            self.pending.push(Pending {
                query,
                key,
                files: BTreeSet::new(),
                blocks_fix: false,
                first_text: text.to_string(),
            });
            self.pending.len() - 1
        });
        let p = &mut self.pending[i];
        p.files.insert(file);
        p.blocks_fix |= blocks_fix;
    }
}

/// One VM image whose versions are wanted, and the references waiting for it.
struct VmPending {
    query: VmQuery,
    files: BTreeSet<usize>,
    first_text: String,
}

/// The catalog files, sorted by kind.
struct Catalogs {
    containers: Vec<Catalog>,
    vms: Vec<VmCatalog>,
}

/// Read every catalog (a file, or a URL fetched with the registry client's timeout, retries
/// and size limit) and tell its kind from its content: a VM catalog (the JSON of `az vm image
/// list` / `az sig image-version list`), else a container digest catalog (TSV or dotnet
/// image-info JSON). A file that is neither is an error naming it (exit 2); a URL that
/// cannot be fetched is an [`Incomplete`] error (exit 3).
fn load_catalogs(paths: &[PathBuf], options: &Options) -> Result<Catalogs> {
    let mut out = Catalogs {
        containers: Vec::new(),
        vms: Vec::new(),
    };
    for path in paths {
        // Read once; the content tells a VM catalog from a digest catalog.
        let text = match path.to_str().filter(|p| pin_resolve::is_catalog_url(p)) {
            Some(url) => fetch_catalog(url, options)?,
            None => std::fs::read_to_string(path)
                .map_err(|e| anyhow!("cannot use the catalog: {}: {e}", path.display()))?,
        };
        match pin_vm_resolve::sniff(&text) {
            Some(vm) => out.vms.push(vm.named(&path.display().to_string())),
            None => match Catalog::parse(path, &text) {
                Ok(c) => out.containers.push(c),
                Err(e) => {
                    return Err(anyhow!(
                        "cannot use the catalog `{}`: it is neither a digest catalog (TSV \
                         `reference<TAB>sha256:…` lines or dotnet image-info JSON) nor a VM \
                         catalog (`az vm image list` / `az sig image-version list` JSON): {e}",
                        path.display()
                    ))
                }
            },
        }
    }
    Ok(out)
}

/// A requested lookup could not complete before anything was checked or written (a catalog
/// URL that cannot be fetched): exit 3, not 2.
#[derive(Debug)]
pub struct Incomplete(pub String);

impl std::fmt::Display for Incomplete {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Incomplete {}

/// Fetch one catalog URL with the registry client's settings (`--insecure-registry` allows
/// plain HTTP to its host).
fn fetch_catalog(url: &str, options: &Options) -> Result<String> {
    let client = options.resolver_options(Vec::new());
    runtime()?
        .block_on(pin_resolve::fetch_catalog(url, &client))
        .map_err(|e| anyhow::Error::new(Incomplete(format!("cannot use the catalog: {e}"))))
}

/// Collect, de-duplicate and answer every lookup the files need. `settings[i]` governs
/// `reports[i]`; `layer` is the template layer of `reports` (its references already added
/// to the analyses), whose expanded expressions add the images they can produce. Errors
/// (exit 2) only for unusable inputs: a catalog that cannot be read or is of no known kind,
/// an HTTP client that cannot be set up.
pub fn run(
    reports: &[FileReport],
    layer: &TemplateAnalysis,
    settings: &[Settings],
    options: &Options,
) -> Result<Resolution> {
    let mut resolution = Resolution::default();
    if !options.active() {
        return Ok(resolution);
    }
    let catalogs = load_catalogs(&options.catalogs, options)?;

    let mut lookups = Lookups::default();
    let mut vm_pending: BTreeMap<String, VmPending> = BTreeMap::new();
    for (file, (report, settings)) in reports.iter().zip(settings).enumerate() {
        for r in &report.analysis.references {
            match (r.kind, &r.image, &r.vm_image) {
                (Kind::Container, Some(image), _) => {
                    let need = need(r, image, settings, options.online);
                    lookups.add(image, &r.text, need, file);
                }
                (Kind::Vm, _, Some(vm)) => {
                    let rule = if vm.is_unpinned() {
                        "unpinned-vm-image"
                    } else {
                        "stale-vm-image"
                    };
                    if !selected(settings, rule) {
                        continue;
                    }
                    let Some(query) = VmQuery::for_reference(r) else {
                        continue;
                    };
                    let p = match vm_pending.entry(query.key()) {
                        Entry::Vacant(slot) => slot.insert(VmPending {
                            query,
                            files: BTreeSet::new(),
                            first_text: r.text.clone(),
                        }),
                        Entry::Occupied(slot) => {
                            let p = slot.into_mut();
                            p.query.merge(query);
                            p
                        }
                    };
                    p.files.insert(file);
                }
                _ => {}
            }
        }
        let Some(extras) = layer.file(&report.path) else {
            continue;
        };
        let text = report.analysis.source.text();
        for d in &extras.dynamic {
            let pinned_fragment =
                d.fragment && text.get(d.span.clone()).is_some_and(|t| t.contains('@'));
            let fixable = pinned_fragment && d.images.len() == 1;
            for c in &d.images {
                let Ok(image) = ImageRef::parse(&c.image) else {
                    continue;
                };
                let need = concrete_need(&image, fixable, settings, options.online);
                lookups.add(&image, &c.image, need, file);
            }
        }
    }
    resolution.lookups = lookups.pending.len() + vm_pending.len();
    if !lookups.pending.is_empty() {
        if options.online {
            answer_online(
                &mut resolution,
                lookups.pending,
                catalogs.containers,
                options,
            )?;
        } else {
            answer_from_catalogs(&mut resolution, lookups.pending, &catalogs.containers);
        }
    }
    if !vm_pending.is_empty() {
        answer_vms(&mut resolution, vm_pending, catalogs.vms, options)?;
    }
    Ok(resolution)
}

/// VM images: the VM catalogs, then (online) the Azure Resource Manager API, configured by
/// the `AZURE_*` environment variables ([`VmOptions::from_env`]).
fn answer_vms(
    resolution: &mut Resolution,
    pending: BTreeMap<String, VmPending>,
    catalogs: Vec<VmCatalog>,
    options: &Options,
) -> Result<()> {
    if !options.online {
        // Only the catalogs answer; a miss is unknown, not a failure.
        for key in pending.keys() {
            pin_vm_resolve::answer_from_catalogs(&mut resolution.facts, key, &catalogs);
        }
        return Ok(());
    }
    let mut opts = VmOptions::from_env();
    opts.online = true;
    opts.catalogs = catalogs;
    let queries: Vec<VmQuery> = pending.values().map(|p| p.query.clone()).collect();
    let runtime = runtime()?;
    runtime.block_on(pin_vm_resolve::resolve_into(
        &mut resolution.facts,
        &queries,
        &opts,
    ));
    let host = opts
        .endpoint
        .split_once("://")
        .map_or(opts.endpoint.as_str(), |(_, rest)| rest)
        .trim_end_matches('/')
        .to_string();
    for (key, p) in pending {
        let Some(message) = resolution.facts.failure(&key) else {
            continue;
        };
        let message = message.to_string();
        resolution.failures.push(Failure {
            registry: host.clone(),
            reference: p.first_text,
            message,
            files: p.files,
            // A VM lookup is only made for a fix or a rule that needs the versions.
            blocks_fix: true,
        });
    }
    Ok(())
}

/// The async runtime for lookups: two workers (the machine is shared; lookups wait on the
/// network, not the CPU).
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
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
                    resolution.facts.insert_tag(p.key, fact);
                }
            }
            Query::Digest { name } => {
                let digest = name.digest.as_deref().unwrap_or_default();
                if catalogs.iter().any(|c| c.knows_digest(name, digest)) {
                    resolution.facts.insert_digest(p.key, true);
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
    let resolver = Resolver::new(options.resolver_options(catalogs))
        .context("cannot set up registry lookups")?;
    let bar = progress_bar(options.progress, pending.len());
    let runtime = runtime()?;
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
                resolution.facts.insert_tag(p.key, fact);
            }
            Ok(Answer::Exists(exists)) => {
                resolution.facts.insert_digest(p.key, exists);
            }
            Err(error) => {
                let registry = error
                    .registry()
                    .map_or_else(|| p.query.name().canonical_registry(), str::to_string);
                let message = error.to_string();
                resolution
                    .facts
                    .insert_failure(p.key.clone(), message.clone());
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
