//! The resolution plan: which lookups a file's references need, decided once from the rules
//! that run on the file, its settings and whether registries may be asked.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};

use crate::analyze::Analysis;
use crate::facts::Facts;
use crate::model::{Kind, Reference, State};
use crate::reference::ImageRef;
use crate::rules::Rule;
use crate::settings::Settings;
use crate::template::FileExtras;

/// What identifies a lookup: its kind and the facts key its answer is recorded under.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QueryKey {
    /// The digest a tag points to now; [`Facts::tag_key`].
    Tag(String),
    /// Whether a pinned digest exists; [`Facts::digest_key`].
    Digest(String),
    /// The published versions of a VM image; [`Facts::vm_marketplace_key`] or
    /// [`Facts::vm_gallery_key`].
    VmVersions(String),
}

impl QueryKey {
    /// The facts key.
    pub fn as_str(&self) -> &str {
        match self {
            QueryKey::Tag(k) | QueryKey::Digest(k) | QueryKey::VmVersions(k) => k,
        }
    }
}

/// One lookup, with what an executor needs to ask it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// What `image`'s tag points to now (`image` as first written; its digest, if any, is
    /// not part of the question).
    Tag {
        /// The facts key.
        key: String,
        /// The reference as written.
        image: ImageRef,
    },
    /// Whether `image`'s pinned digest still exists.
    Digest {
        /// The facts key.
        key: String,
        /// The reference as written.
        image: ImageRef,
    },
    /// Every published version of a VM image.
    VmVersions {
        /// The facts key (lower-case).
        key: String,
    },
}

impl Query {
    /// What identifies this lookup.
    pub fn key(&self) -> QueryKey {
        match self {
            Query::Tag { key, .. } => QueryKey::Tag(key.clone()),
            Query::Digest { key, .. } => QueryKey::Digest(key.clone()),
            Query::VmVersions { key } => QueryKey::VmVersions(key.clone()),
        }
    }

    /// The facts key.
    pub fn key_str(&self) -> &str {
        match self {
            Query::Tag { key, .. } | Query::Digest { key, .. } | Query::VmVersions { key } => key,
        }
    }

    /// The reference to name when this lookup fails, for one that wants it written as
    /// `written`: for a tag lookup, the reference without its digest; otherwise `written`.
    pub fn reference(&self, written: &str) -> String {
        match self {
            Query::Tag { image, .. } => image.without_digest().to_string(),
            _ => written.to_string(),
        }
    }

    /// The container image concerned (`None` for a VM lookup).
    pub fn image(&self) -> Option<&ImageRef> {
        match self {
            Query::Tag { image, .. } | Query::Digest { image, .. } => Some(image),
            Query::VmVersions { .. } => None,
        }
    }
}

/// Why a file wants a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A rule judges the file with the answer; `blocks_fix` when a fix depends on it, so a
    /// failed lookup must leave the file untouched.
    Rule {
        /// Whether a fix depends on the answer.
        blocks_fix: bool,
    },
    /// Only shown to people (an editor's hover on an image that reaches a template); never
    /// changes a finding.
    Context,
}

/// One lookup a file wants, and which reference wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Demand {
    /// The lookup.
    pub query: Query,
    /// The reference text that wants it, as written.
    pub written: String,
    /// Why.
    pub purpose: Purpose,
}

/// What decides which lookups are wanted besides the rules and settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanOptions {
    /// Registries may be asked. Digest existence is only asked of registries (a catalog can
    /// confirm a digest, never deny it), so it is wanted only online.
    pub online: bool,
    /// Also want what is only shown to people ([`Purpose::Context`]): the tag and digest of
    /// every container reference and of the images that reach the file's template use
    /// sites. The language server sets it for its hovers; the CLI does not.
    pub context: bool,
}

/// The distinct lookups one file wants, in the order its references are met.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileQueries {
    /// One entry per distinct [`QueryKey`]; a key wanted both by a rule and as context is a
    /// rule demand, blocking a fix if any reference's fix depends on it.
    pub demands: Vec<Demand>,
}

impl FileQueries {
    /// The demands a rule judges the file with (those that change findings).
    pub fn rule_demands(&self) -> impl Iterator<Item = &Demand> {
        self.demands
            .iter()
            .filter(|d| matches!(d.purpose, Purpose::Rule { .. }))
    }

    fn add(&mut self, index: &mut HashMap<QueryKey, usize>, demand: Demand) {
        match index.entry(demand.query.key()) {
            Entry::Occupied(e) => {
                let existing = &mut self.demands[*e.get()].purpose;
                *existing = match (*existing, demand.purpose) {
                    (Purpose::Rule { blocks_fix: a }, Purpose::Rule { blocks_fix: b }) => {
                        Purpose::Rule { blocks_fix: a || b }
                    }
                    (Purpose::Context, rule) | (rule, Purpose::Context) => rule,
                };
            }
            Entry::Vacant(e) => {
                e.insert(self.demands.len());
                self.demands.push(demand);
            }
        }
    }
}

/// What a reference needs from resolution, given the rules that run on its file.
#[derive(Debug, Clone, Copy, Default)]
struct Need {
    tag: Option<Purpose>,
    digest: Option<Purpose>,
}

impl Need {
    fn unblocked(self) -> Need {
        let unblock = |p: Option<Purpose>| {
            p.map(|p| match p {
                Purpose::Rule { .. } => Purpose::Rule { blocks_fix: false },
                Purpose::Context => Purpose::Context,
            })
        };
        Need {
            tag: unblock(self.tag),
            digest: unblock(self.digest),
        }
    }
}

fn selected(settings: &Settings, id: &str) -> bool {
    Rule::from_id(id).is_some_and(|r| settings.is_selected(r))
}

fn rule(blocks_fix: bool) -> Option<Purpose> {
    Some(Purpose::Rule { blocks_fix })
}

/// What a container reference written in the file needs under `settings`.
fn need(r: &Reference, image: &ImageRef, settings: &Settings, online: bool) -> Need {
    let unpinned = selected(settings, "unpinned-image");
    let stale = selected(settings, "stale-digest");
    let missing = selected(settings, "missing-digest");
    let need = match r.state {
        State::Unpinned if unpinned => {
            let fixable = image.tag.is_some() || settings.pin_untagged_as_latest;
            Need {
                tag: fixable.then_some(Purpose::Rule { blocks_fix: true }),
                digest: None,
            }
        }
        State::Pinned if stale || missing => Need {
            tag: rule(true),
            // With stale-digest on, the tag's answer alone decides the edit.
            digest: (missing && online).then_some(Purpose::Rule { blocks_fix: !stale }),
        },
        State::DigestOnly if missing && online => Need {
            tag: None,
            digest: rule(false),
        },
        _ => Need::default(),
    };
    // `missing-tag` judges any tagged reference with the registry's answer for its tag.
    let missing_tag = online && image.tag.is_some() && selected(settings, "missing-tag");
    Need {
        tag: need
            .tag
            .or(missing_tag.then_some(Purpose::Rule { blocks_fix: false })),
        ..need
    }
}

/// What an image a template expression can produce needs. Only a fragment that carries its
/// digest and becomes this one image has a safe fix (`fixable`): bumping the digest written
/// in it. The other answers only complete the `dynamic-image` message (and its unsafe fix,
/// which `--fix` does not apply).
fn concrete_need(image: &ImageRef, fixable: bool, settings: &Settings, online: bool) -> Need {
    let stale = selected(settings, "stale-digest");
    let missing = selected(settings, "missing-digest");
    match (image.tag.is_some(), image.digest.is_some()) {
        (true, false) if selected(settings, "dynamic-image") => Need {
            tag: rule(false),
            digest: None,
        },
        (true, true) if stale || missing => Need {
            tag: rule(fixable),
            digest: (missing && online).then_some(Purpose::Rule {
                blocks_fix: fixable && !stale,
            }),
        },
        (false, true) if missing && online => Need {
            tag: None,
            digest: rule(false),
        },
        _ => Need::default(),
    }
}

/// What a container image wants only for people to see: its tag (when it has one, or when
/// it is not pinned) and the existence of its digest.
fn context_need(image: &ImageRef) -> Need {
    Need {
        tag: (image.tag.is_some() || image.digest.is_none()).then_some(Purpose::Context),
        digest: image.digest.is_some().then_some(Purpose::Context),
    }
}

fn add_image(
    out: &mut FileQueries,
    index: &mut HashMap<QueryKey, usize>,
    image: &ImageRef,
    written: &str,
    need: Need,
) {
    let demand = |query: Query, purpose: Purpose| Demand {
        query,
        written: written.to_string(),
        purpose,
    };
    if let Some(purpose) = need.tag {
        let query = Query::Tag {
            key: Facts::tag_key(image),
            image: image.clone(),
        };
        out.add(index, demand(query, purpose));
    }
    if let (Some(purpose), Some(key)) = (need.digest, Facts::digest_key(image)) {
        let query = Query::Digest {
            key,
            image: image.clone(),
        };
        out.add(index, demand(query, purpose));
    }
}

/// The lookups one file wants: for each container reference (those written in the file and
/// those the template layer found, already in `analysis`), by the rules `settings` select;
/// for each VM image whose rule is selected, its versions; for each image a template
/// expression of the file can produce (`extras`), what the dynamic-image and pinned-fragment
/// checks need. With [`PlanOptions::context`], also what hovers show.
///
/// This is the one place that decides what is resolved: the CLI's batch and the language
/// server's background lookups both ask exactly these.
pub fn file_queries(
    analysis: &Analysis,
    extras: Option<&FileExtras>,
    settings: &Settings,
    options: PlanOptions,
) -> FileQueries {
    let mut out = FileQueries::default();
    let mut index = HashMap::new();
    for r in &analysis.references {
        match (r.kind, &r.image, &r.vm_image) {
            (Kind::Container, Some(image), _) => {
                let mut need = need(r, image, settings, options.online);
                if settings.hold_for(image).is_some() {
                    // Still asked (the summary shows what a held image would move to), but
                    // no fix waits for the answer.
                    need = need.unblocked();
                }
                add_image(&mut out, &mut index, image, &r.text, need);
            }
            (Kind::Vm, _, Some(vm)) => {
                let rule = if vm.is_unpinned() {
                    "unpinned-vm-image"
                } else {
                    "stale-vm-image"
                };
                if selected(settings, rule) {
                    let demand = Demand {
                        query: Query::VmVersions {
                            key: vm.key.to_ascii_lowercase(),
                        },
                        written: r.text.clone(),
                        purpose: Purpose::Rule { blocks_fix: true },
                    };
                    out.add(&mut index, demand);
                }
            }
            _ => {}
        }
    }
    if let Some(extras) = extras {
        let text = analysis.source.text();
        for d in &extras.dynamic {
            let pinned_fragment =
                d.fragment && text.get(d.span.clone()).is_some_and(|t| t.contains('@'));
            let fixable = pinned_fragment && d.images.len() == 1;
            for c in &d.images {
                let Ok(image) = ImageRef::parse(&c.image) else {
                    continue;
                };
                let need = concrete_need(&image, fixable, settings, options.online);
                add_image(&mut out, &mut index, &image, &c.image, need);
            }
        }
    }
    if options.context {
        add_context(&mut out, &mut index, analysis, extras);
    }
    out
}

/// The hover-only demands: every container reference's tag and digest, and the images that
/// a template expression produces or that reach a use site of the file.
fn add_context(
    out: &mut FileQueries,
    index: &mut HashMap<QueryKey, usize>,
    analysis: &Analysis,
    extras: Option<&FileExtras>,
) {
    for r in &analysis.references {
        if let Some(image) = r.image.as_ref().filter(|_| r.kind == Kind::Container) {
            add_image(out, index, image, &r.text, context_need(image));
        }
    }
    let templated = extras.into_iter().flat_map(|e| {
        let produced = e.dynamic.iter().flat_map(|d| &d.images).map(|c| &*c.image);
        let incoming = e.uses.iter().flat_map(|u| &u.images).map(|i| &*i.image);
        produced.chain(incoming)
    });
    for text in templated {
        if let Ok(image) = ImageRef::parse(text) {
            add_image(out, index, &image, text, context_need(&image));
        }
    }
}

/// One distinct lookup of a run and the files waiting for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedQuery {
    /// The lookup, with the first spelling met.
    pub query: Query,
    /// Indices of the files that want it.
    pub files: BTreeSet<usize>,
    /// Whether a fix in one of those files depends on the answer.
    pub blocks_fix: bool,
    /// Every distinct reference text that wants it, in the order met.
    pub written: Vec<String>,
}

impl PlannedQuery {
    /// The reference to name when the lookup fails: for a tag lookup, the first spelling
    /// without its digest; otherwise the first reference text met.
    pub fn reference(&self) -> String {
        let first = self.written.first().map_or("", String::as_str);
        self.query.reference(first)
    }
}

/// The distinct lookups of a set of files: container lookups in the order first met
/// (`ubuntu:24.04` and `docker.io/library/ubuntu:24.04` are one lookup, asked with the first
/// spelling met), then VM images by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// The lookups.
    pub queries: Vec<PlannedQuery>,
}

impl Plan {
    /// Merge the demands of every file (`files[i]` is file `i`'s). Context demands, wanted
    /// only for people to see, are included with `include_context`.
    pub fn new(files: &[FileQueries], include_context: bool) -> Plan {
        let mut containers: Vec<PlannedQuery> = Vec::new();
        let mut vms: Vec<PlannedQuery> = Vec::new();
        let mut index: HashMap<QueryKey, (bool, usize)> = HashMap::new();
        for (file, queries) in files.iter().enumerate() {
            for d in &queries.demands {
                let blocks_fix = match d.purpose {
                    Purpose::Rule { blocks_fix } => blocks_fix,
                    Purpose::Context if include_context => false,
                    Purpose::Context => continue,
                };
                let vm = matches!(d.query, Query::VmVersions { .. });
                let list = if vm { &mut vms } else { &mut containers };
                let (_, i) = *index.entry(d.query.key()).or_insert_with(|| {
                    list.push(PlannedQuery {
                        query: d.query.clone(),
                        files: BTreeSet::new(),
                        blocks_fix: false,
                        written: Vec::new(),
                    });
                    (vm, list.len() - 1)
                });
                let p = &mut list[i];
                p.files.insert(file);
                p.blocks_fix |= blocks_fix;
                if !p.written.contains(&d.written) {
                    p.written.push(d.written.clone());
                }
            }
        }
        vms.sort_by(|a, b| a.query.key_str().cmp(b.query.key_str()));
        containers.extend(vms);
        Plan {
            queries: containers,
        }
    }

    /// Number of distinct lookups.
    pub fn len(&self) -> usize {
        self.queries.len()
    }

    /// Whether there is nothing to look up.
    pub fn is_empty(&self) -> bool {
        self.queries.is_empty()
    }
}
