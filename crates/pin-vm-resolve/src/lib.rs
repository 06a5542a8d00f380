//! VM image version lookups for pin-lint: which versions of a marketplace or Azure Compute
//! Gallery image exist, so that `unpinned-vm-image` can pin `latest` and `stale-vm-image` can
//! bump an old pin. Knows no file formats beyond the JSON it reads; callers hand in
//! [`VmQuery`]s (from [`vm_queries`]) and get [`pin_core::Facts`] back.
//!
//! Order of consultation for an image: the VM catalogs ([`VmCatalog`], az-shaped JSON given
//! with `--catalog`), then, when online, the Azure Resource Manager REST API ([`arm`]).
//!
//! ```no_run
//! # async fn demo(refs: &[pin_core::Reference]) {
//! use pin_vm_resolve::{resolve_into, vm_queries, VmOptions};
//! let mut facts = pin_core::Facts::none();
//! let errors = resolve_into(&mut facts, &vm_queries(refs), &VmOptions::from_env()).await;
//! # let _ = errors; }
//! ```

pub mod arm;
mod catalog;
mod error;
mod options;

use std::collections::BTreeMap;
use std::sync::Arc;

use pin_core::engine::{Answer, LookupError, PlannedQuery, QueryKey};
use pin_core::{Facts, Reference};

pub use catalog::{sniff, CatalogError, VmCatalog};
pub use error::VmError;
pub use options::{VmOptions, DEFAULT_ENDPOINT};

/// One VM image whose versions are wanted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VmQuery {
    /// A marketplace image (`publisher`, `offer`, `sku`, lower-case).
    Marketplace {
        /// Publisher.
        publisher: String,
        /// Offer.
        offer: String,
        /// SKU.
        sku: String,
        /// Subscription and location named by the reference itself (a Managed DevOps Pool
        /// `resourceId` of a marketplace image carries both); used when `AZURE_SUBSCRIPTION_ID`
        /// and `AZURE_LOCATION` are not set.
        scope: Option<Scope>,
    },
    /// An Azure Compute Gallery image id (lower-case, without `/versions/…`).
    Gallery {
        /// `/subscriptions/…/galleries/G/images/I`.
        id: String,
    },
}

/// Where a marketplace image is listed: Azure lists its versions per subscription and region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope {
    /// Subscription id.
    pub subscription: String,
    /// Region (`eastus`).
    pub location: String,
}

impl Scope {
    /// The subscription and location of a marketplace image id
    /// (`/subscriptions/S/providers/Microsoft.Compute/locations/L/publishers/…`, any case).
    pub fn from_image_id(id: &str) -> Option<Scope> {
        let parts: Vec<&str> = id.split('/').collect();
        let after = |name: &str| {
            parts
                .iter()
                .position(|p| p.eq_ignore_ascii_case(name))
                .and_then(|i| parts.get(i + 1))
                .filter(|v| !v.is_empty())
                .map(|v| v.to_string())
        };
        Some(Scope {
            subscription: after("subscriptions")?,
            location: after("locations")?,
        })
    }
}

impl VmQuery {
    /// The query for a facts key ([`Facts::vm_marketplace_key`] / [`Facts::vm_gallery_key`]);
    /// `None` for a key of neither shape.
    pub fn from_key(key: &str) -> Option<VmQuery> {
        if key.starts_with('/') {
            return Some(VmQuery::Gallery {
                id: Facts::vm_gallery_key(key),
            });
        }
        let mut parts = key.split(':');
        let (p, o, s) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || [p, o, s].iter().any(|x| x.is_empty()) {
            return None;
        }
        Some(VmQuery::Marketplace {
            publisher: p.to_ascii_lowercase(),
            offer: o.to_ascii_lowercase(),
            sku: s.to_ascii_lowercase(),
            scope: None,
        })
    }

    /// The query for a VM reference: its facts key, and for a marketplace image the
    /// subscription and location its id names, if any.
    pub fn for_reference(reference: &Reference) -> Option<VmQuery> {
        let mut query = VmQuery::from_key(&reference.vm_image.as_ref()?.key)?;
        if let VmQuery::Marketplace { scope, .. } = &mut query {
            *scope = Scope::from_image_id(&reference.text);
        }
        Some(query)
    }

    /// The query for a planned VM lookup: its key, and for a marketplace image the first
    /// subscription and location one of the references that want it names.
    pub fn for_planned(planned: &PlannedQuery) -> Option<VmQuery> {
        let mut query = VmQuery::from_key(planned.query.key_str())?;
        if let VmQuery::Marketplace { scope, .. } = &mut query {
            *scope = planned
                .written
                .iter()
                .find_map(|text| Scope::from_image_id(text));
        }
        Some(query)
    }

    /// Fold another query for the same image into this one: the first scope named wins.
    pub fn merge(&mut self, other: VmQuery) {
        if let (
            VmQuery::Marketplace {
                scope: mine @ None, ..
            },
            VmQuery::Marketplace { scope: theirs, .. },
        ) = (self, other)
        {
            *mine = theirs;
        }
    }

    /// The facts key this query answers.
    pub fn key(&self) -> String {
        match self {
            VmQuery::Marketplace {
                publisher,
                offer,
                sku,
                ..
            } => Facts::vm_marketplace_key(publisher, offer, sku),
            VmQuery::Gallery { id } => Facts::vm_gallery_key(id),
        }
    }
}

/// The distinct images the references need versions for (pinnable infrastructure images),
/// one query per image ([`VmQuery::merge`] keeps the scope a reference names).
pub fn vm_queries(references: &[Reference]) -> Vec<VmQuery> {
    let mut out: BTreeMap<String, VmQuery> = BTreeMap::new();
    for query in references.iter().filter_map(VmQuery::for_reference) {
        match out.entry(query.key()) {
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(query);
            }
            std::collections::btree_map::Entry::Occupied(mut slot) => slot.get_mut().merge(query),
        }
    }
    out.into_values().collect()
}

/// The engine's answer from the first catalog listing the image `key`, if one does.
pub fn catalog_answer(key: &str, catalogs: &[VmCatalog]) -> Option<Answer> {
    catalogs.iter().find_map(|c| {
        c.versions(key).map(|v| Answer::VmVersions {
            versions: v.to_vec(),
            source: format!("catalog {}", c.name()),
        })
    })
}

/// The engine's answers to `queries`, by facts key: the catalogs, then (online) the Azure
/// Resource Manager API ([`resolve_into`]). Offline, an image no catalog lists gets no
/// answer (unknown, not failed).
pub async fn answers(queries: &[VmQuery], opts: &VmOptions) -> Vec<(String, Answer)> {
    let mut facts = Facts::none();
    resolve_into(&mut facts, queries, opts).await;
    let service = opts
        .endpoint
        .split_once("://")
        .map_or(opts.endpoint.as_str(), |(_, rest)| rest)
        .trim_end_matches('/')
        .to_string();
    let mut out = Vec::new();
    for key in queries.iter().map(VmQuery::key) {
        let answer = match (facts.vm_versions(&key), facts.failure(&key)) {
            (Some(versions), _) => Answer::VmVersions {
                versions: versions.to_vec(),
                source: facts.vm_source(&key).unwrap_or_default().to_string(),
            },
            (None, Some(message)) => Answer::Failed(LookupError {
                service: service.clone(),
                message: message.to_string(),
            }),
            (None, None) => continue,
        };
        out.push((key, answer));
    }
    out
}

/// Record the versions the first catalog listing the image `key` gives (with that catalog as
/// their source); `false` when no catalog lists it.
pub fn answer_from_catalogs(facts: &mut Facts, key: &str, catalogs: &[VmCatalog]) -> bool {
    let Some(answer) = catalog_answer(key, catalogs) else {
        return false;
    };
    pin_core::engine::record(facts, &QueryKey::VmVersions(key.to_string()), &answer);
    true
}

/// Find the versions of every queried image and record them in `facts`
/// ([`Facts::insert_vm_versions`]); failures are recorded too ([`Facts::insert_failure`]) and
/// returned, one per image that could not be answered. Offline (`opts.online == false`) only
/// the catalogs are consulted and images they do not list are simply left without facts.
pub async fn resolve_into(
    facts: &mut Facts,
    queries: &[VmQuery],
    opts: &VmOptions,
) -> Vec<VmError> {
    let mut pending = Vec::new();
    for query in queries {
        let key = query.key();
        if !answer_from_catalogs(facts, &key, &opts.catalogs) && opts.online {
            pending.push(query.clone());
        }
    }
    if pending.is_empty() {
        return Vec::new();
    }
    let client = match arm::Client::new(opts) {
        Ok(c) => Arc::new(c),
        Err(e) => {
            for q in &pending {
                facts.insert_failure(q.key(), e.to_string());
            }
            return vec![e];
        }
    };
    let limit = Arc::new(tokio::sync::Semaphore::new(opts.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for query in pending {
        let client = Arc::clone(&client);
        let limit = Arc::clone(&limit);
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let answer = client.versions(&query).await;
            (query, answer)
        });
    }
    let mut answers = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok((query, answer)) = joined {
            answers.insert(query, answer);
        }
    }
    let mut errors = Vec::new();
    for (query, answer) in answers {
        match answer {
            Ok(versions) => facts.insert_vm_versions(
                &query.key(),
                versions,
                "Azure Resource Manager".to_string(),
            ),
            Err(e) => {
                facts.insert_failure(query.key(), e.to_string());
                errors.push(e);
            }
        }
    }
    errors
}
