//! Tag resolution and digest existence against a real registry.

use pin_resolve::{Answer, Query, ResolveError, Source};

use crate::support::{push_image, ImageSpec, Registry};
use crate::{loopback_resolver, name};

#[tokio::test]
async fn tag_resolves_to_pushed_digest_and_follows_repush() {
    let reg = Registry::start();
    let first = push_image(
        &reg.addr,
        "team/app",
        "1.0",
        &[ImageSpec::new("amd64", "one")],
    );

    let resolver = loopback_resolver(&[&reg.addr]);
    let r = resolver
        .resolve_tag(&name(&reg.addr, "team/app:1.0"))
        .await
        .unwrap();
    assert_eq!(r.digest, first);
    assert_eq!(r.source, Source::Registry);
    assert!(r.platforms.is_empty());
    let stats = resolver.stats();
    let s = stats.registries[&reg.addr];
    assert_eq!(
        (s.head, s.get, s.token),
        (1, 0, 0),
        "one HEAD suffices: {stats:?}"
    );

    // Moving the tag changes the answer (a fresh resolver: answers are memoised per resolver).
    let second = push_image(
        &reg.addr,
        "team/app",
        "1.0",
        &[ImageSpec::new("amd64", "two")],
    );
    assert_ne!(first, second);
    let fresh = loopback_resolver(&[&reg.addr]);
    let r = fresh
        .resolve_tag(&name(&reg.addr, "team/app:1.0"))
        .await
        .unwrap();
    assert_eq!(r.digest, second);

    // The old digest still exists until deleted; after DELETE it is gone.
    let mut pinned = name(&reg.addr, "team/app:1.0");
    pinned.digest = Some(second.clone());
    assert!(fresh.digest_exists(&pinned).await.unwrap());
    reg.delete_manifest("team/app", &second);
    let after = loopback_resolver(&[&reg.addr]);
    assert!(!after.digest_exists(&pinned).await.unwrap());
    let err = after
        .resolve_tag(&name(&reg.addr, "team/app:1.0"))
        .await
        .unwrap_err();
    assert!(matches!(err, ResolveError::NotFound { .. }), "{err:?}");
    let err = after
        .resolve_tag(&name(&reg.addr, "team/app:nope"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ResolveError::NotFound { registry, .. } if registry == &reg.addr),
        "{err:?}"
    );
}

#[tokio::test]
async fn two_platform_image_resolves_to_index() {
    let reg = Registry::start();
    let digest = push_image(
        &reg.addr,
        "multi",
        "latest",
        &[ImageSpec::new("amd64", "m"), ImageSpec::new("arm64", "m")],
    );
    let resolver = loopback_resolver(&[&reg.addr]);
    let r = resolver
        .resolve_tag(&name(&reg.addr, "multi"))
        .await
        .unwrap();
    assert_eq!(r.digest, digest, "the index digest, not a platform's");
    assert_eq!(r.platforms, vec!["linux/amd64", "linux/arm64"]);
}

#[tokio::test]
async fn resolve_all_deduplicates_normalised_names() {
    let reg = Registry::start();
    let a = push_image(
        &reg.addr,
        "lib/a",
        "latest",
        &[ImageSpec::new("amd64", "a")],
    );
    let resolver = loopback_resolver(&[&reg.addr]);
    let spellings = ["lib/a", "lib/a:latest", "lib/a", "lib/a:latest"];
    let mut queries: Vec<Query> = spellings
        .iter()
        .map(|s| Query::Tag {
            name: name(&reg.addr, s),
        })
        .collect();
    let mut pinned = name(&reg.addr, "lib/a:latest");
    pinned.digest = Some(a.clone());
    queries.push(Query::Digest {
        name: pinned.clone(),
    });
    queries.push(Query::Digest { name: pinned });
    let results = resolver.resolve_all(queries.clone()).await;
    assert_eq!(results.len(), queries.len());
    for ((q, r), original) in results.iter().zip(&queries) {
        assert_eq!(q, original, "results keep query order");
        match (q, r) {
            (Query::Tag { .. }, Ok(Answer::Tag(t))) => assert_eq!(t.digest, a),
            (Query::Digest { .. }, Ok(Answer::Exists(e))) => assert!(e),
            other => panic!("unexpected {other:?}"),
        }
    }
    let s = resolver.stats();
    assert_eq!(
        s.registries[&reg.addr].head, 2,
        "one HEAD per distinct lookup: {s:?}"
    );
    assert_eq!(s.registry_lookups, 2);
}

#[tokio::test]
async fn disk_cache_answers_without_requests() {
    let reg = Registry::start();
    let d = push_image(&reg.addr, "cached", "v1", &[ImageSpec::new("amd64", "c")]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("digests.json");
    let mut opts = crate::loopback_options(&[&reg.addr]);
    opts.disk_cache = Some((path.clone(), std::time::Duration::from_secs(3600)));
    let q = vec![Query::Tag {
        name: name(&reg.addr, "cached:v1"),
    }];
    let first = pin_resolve::Resolver::new(opts.clone()).unwrap();
    first.resolve_all(q.clone()).await;
    assert!(path.is_file());
    let second = pin_resolve::Resolver::new(opts).unwrap();
    let r = second
        .resolve_tag(&name(&reg.addr, "cached:v1"))
        .await
        .unwrap();
    assert_eq!(
        (r.digest.as_str(), r.source),
        (d.as_str(), Source::DiskCache)
    );
    assert_eq!(second.stats().total_requests(), 0);
}

#[tokio::test]
async fn plain_http_only_for_insecure_registries() {
    let reg = Registry::start();
    // Not listed as insecure: HTTPS is attempted and fails (the registry speaks plain HTTP).
    let resolver = loopback_resolver(&[]);
    let err = resolver
        .resolve_tag(&name(&reg.addr, "x:1"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ResolveError::Network { registry, .. } if registry == &reg.addr),
        "{err:?}"
    );
}

#[tokio::test]
async fn docker_hub_names_normalise_and_follow_a_mirror() {
    let reg = Registry::start();
    let d = push_image(
        &reg.addr,
        "library/ubuntu",
        "latest",
        &[ImageSpec::new("amd64", "u")],
    );
    let mut opts = crate::loopback_options(&[&reg.addr]);
    opts.mirrors.insert("docker.io".into(), reg.addr.clone());
    let r = pin_resolve::Resolver::new(opts).unwrap();
    let spellings = [
        "ubuntu",
        "ubuntu:latest",
        "docker.io/ubuntu",
        "index.docker.io/library/ubuntu:latest",
    ];
    let queries: Vec<Query> = spellings
        .iter()
        .map(|s| Query::Tag {
            name: pin_resolve::ImageName::parse(s).unwrap(),
        })
        .collect();
    for (q, res) in r.resolve_all(queries).await {
        assert!(
            matches!(&res, Ok(Answer::Tag(t)) if t.digest == d),
            "{q:?}: {res:?}"
        );
    }
    let stats = r.stats();
    assert_eq!(
        stats.registries["docker.io"].head, 1,
        "four spellings, one request: {stats:?}"
    );
}
