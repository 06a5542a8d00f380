//! The resolution phase of `check`: execute the engine's plan (`pin_core::engine::Plan`, what
//! every file needs looked up, de-duplicated) in one batch, asking each distinct lookup once,
//! and keep the answers for the engine to turn into each file's facts.
//!
//! Container lookups are asked of the container catalogs, then registries when online. VM
//! images are asked of the VM catalogs, then the Azure Resource Manager API when online
//! (`pin_vm_resolve`).
//!
//! A failed lookup only affects the files that wanted it: their references get no fact (so
//! their rules stay quiet or offer no fix), the engine leaves a file untouched when a fix
//! depends on the answer, and the run exits 3 (the exit codes in the README).

use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, Context as _, Result};
use pin_core::config::RegistryConfig;
use pin_core::engine::{self, Answers, Plan, PlannedQuery, QueryKey};
use pin_resolve::{Answer, Catalog, Query, ResolveError, Resolver, ResolverOptions};
use pin_vm_resolve::{VmCatalog, VmOptions, VmQuery};

use crate::args::FixArgs;

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
}

/// What the resolution phase found out.
#[derive(Debug, Default)]
pub struct Resolution {
    /// The run's lookups, as the engine planned them.
    pub plan: Plan,
    /// Their answers.
    pub answers: Answers,
    /// Failed lookups, one per distinct query, in plan order.
    pub failures: Vec<Failure>,
}

impl Resolution {
    /// Whether a requested lookup failed (exit code 3).
    pub fn incomplete(&self) -> bool {
        !self.failures.is_empty()
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

/// Answer every lookup of `plan` (the engine's plan of the run's files): container lookups
/// from the catalogs, then registries when online; VM images from the VM catalogs, then the
/// Azure Resource Manager API when online. Errors (exit 2) only for unusable inputs: a
/// catalog that cannot be read or is of no known kind, an HTTP client that cannot be set up.
pub fn run(plan: Plan, options: &Options) -> Result<Resolution> {
    let mut resolution = Resolution {
        plan,
        ..Resolution::default()
    };
    if !options.active() {
        return Ok(resolution);
    }
    let catalogs = load_catalogs(&options.catalogs, options)?;
    let (vms, containers): (Vec<&PlannedQuery>, Vec<&PlannedQuery>) = resolution
        .plan
        .queries
        .iter()
        .partition(|q| matches!(q.query, engine::Query::VmVersions { .. }));
    if !containers.is_empty() {
        if options.online {
            answer_online(
                &mut resolution.answers,
                &containers,
                catalogs.containers,
                options,
            )?;
        } else {
            // Only the catalogs answer; a miss is unknown, not a failure.
            for q in containers {
                if let Some(answer) =
                    pin_resolve::engine::catalog_answer(&catalogs.containers, &q.query)
                {
                    resolution.answers.insert(q.query.key(), answer);
                }
            }
        }
    }
    if !vms.is_empty() {
        answer_vms(&mut resolution.answers, &vms, catalogs.vms, options)?;
    }
    resolution.failures = resolution
        .plan
        .failures(&resolution.answers)
        .map(|(q, error)| Failure {
            registry: error.service.clone(),
            reference: q.reference(),
            message: error.message.clone(),
        })
        .collect();
    Ok(resolution)
}

/// VM images: the VM catalogs, then (online) the Azure Resource Manager API, configured by
/// the `AZURE_*` environment variables ([`VmOptions::from_env`]).
fn answer_vms(
    answers: &mut Answers,
    planned: &[&PlannedQuery],
    catalogs: Vec<VmCatalog>,
    options: &Options,
) -> Result<()> {
    let queries: Vec<VmQuery> = planned
        .iter()
        .filter_map(|q| VmQuery::for_planned(q))
        .collect();
    if !options.online {
        // Only the catalogs answer; a miss is unknown, not a failure.
        for query in &queries {
            let key = query.key();
            if let Some(answer) = pin_vm_resolve::catalog_answer(&key, &catalogs) {
                answers.insert(QueryKey::VmVersions(key), answer);
            }
        }
        return Ok(());
    }
    let mut opts = VmOptions::from_env();
    opts.online = true;
    opts.catalogs = catalogs;
    let runtime = runtime()?;
    for (key, answer) in runtime.block_on(pin_vm_resolve::answers(&queries, &opts)) {
        answers.insert(QueryKey::VmVersions(key), answer);
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

/// Online: every distinct query once through the resolver (catalogs first), concurrently.
fn answer_online(
    answers: &mut Answers,
    planned: &[&PlannedQuery],
    catalogs: Vec<Catalog>,
    options: &Options,
) -> Result<()> {
    let resolver = Resolver::new(options.resolver_options(catalogs))
        .context("cannot set up registry lookups")?;
    let queries: Vec<(QueryKey, Query)> = planned
        .iter()
        .filter_map(|q| Some((q.query.key(), Query::for_planned(&q.query)?)))
        .collect();
    let bar = progress_bar(options.progress, queries.len());
    let runtime = runtime()?;
    let results = runtime.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for (i, (_, query)) in queries.iter().enumerate() {
            let resolver = resolver.clone();
            let query = query.clone();
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
        let mut results: Vec<Option<Result<Answer, ResolveError>>> = vec![None; queries.len()];
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok((i, answer)) => results[i] = Some(answer),
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(_) => {}
            }
            bar.inc(1);
        }
        results
    });
    bar.finish_and_clear();
    if let Err(e) = resolver.persist_cache() {
        eprintln!("pin-lint: warning: cannot write the digest cache: {e}");
    }
    for ((key, query), result) in queries.into_iter().zip(results) {
        let result = result.unwrap_or_else(|| {
            Err(ResolveError::Network {
                registry: query.name().canonical_registry(),
                msg: "lookup was cancelled".into(),
            })
        });
        answers.insert(key, pin_resolve::engine::answer(&query, result));
    }
    Ok(())
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
