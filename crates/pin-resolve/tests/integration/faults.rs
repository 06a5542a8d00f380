//! Faults injected by a loopback proxy in front of a real registry.

use std::time::{Duration, Instant};

use pin_resolve::{Answer, Query, ResolveError, Resolver};

use crate::support::proxy::{Fault, FaultProxy};
use crate::support::{push_image, ImageSpec, Registry};
use crate::{loopback_options, name};

fn status(code: u16) -> Fault {
    Fault::Status(code, Vec::new())
}

struct Setup {
    _reg: Registry,
    proxy: FaultProxy,
    digest: String,
}

fn setup() -> Setup {
    let reg = Registry::start();
    let digest = push_image(&reg.addr, "svc", "1", &[ImageSpec::new("amd64", "f")]);
    let proxy = FaultProxy::start(&reg.addr);
    Setup {
        _reg: reg,
        proxy,
        digest,
    }
}

fn resolver(addr: &str, timeout: Duration) -> Resolver {
    let mut opts = loopback_options(&[addr]);
    opts.timeout = timeout;
    opts.retries = 1;
    Resolver::new(opts).unwrap()
}

#[tokio::test]
async fn slow_responses_hit_the_timeout() {
    let s = setup();
    s.proxy.always(Some(Fault::Delay(Duration::from_secs(3))));
    let r = resolver(&s.proxy.addr, Duration::from_millis(300));
    let err = r
        .resolve_tag(&name(&s.proxy.addr, "svc:1"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ResolveError::Timeout {
            registry: s.proxy.addr.clone()
        }
    );
    assert_eq!(
        r.stats().registries[&s.proxy.addr].head,
        2,
        "first try plus one retry"
    );
}

#[tokio::test]
async fn server_error_then_success_is_retried() {
    let s = setup();
    s.proxy.queue([status(500), status(503)]);
    let mut opts = loopback_options(&[&s.proxy.addr]);
    opts.retries = 2;
    let r = Resolver::new(opts).unwrap();
    let got = r.resolve_tag(&name(&s.proxy.addr, "svc:1")).await.unwrap();
    assert_eq!(got.digest, s.digest);
    let st = r.stats().registries[&s.proxy.addr];
    assert_eq!((st.head, st.retries), (3, 2), "{:?}", s.proxy.log());
}

#[tokio::test]
async fn server_errors_past_retries_are_network_errors() {
    let s = setup();
    s.proxy.always(Some(status(502)));
    let r = resolver(&s.proxy.addr, Duration::from_secs(5));
    let err = r
        .resolve_tag(&name(&s.proxy.addr, "svc:1"))
        .await
        .unwrap_err();
    assert!(matches!(err, ResolveError::Network { .. }), "{err:?}");
}

#[tokio::test]
async fn too_many_requests_waits_out_retry_after() {
    let s = setup();
    s.proxy
        .queue([Fault::Status(429, vec![("Retry-After".into(), "1".into())])]);
    let r = resolver(&s.proxy.addr, Duration::from_secs(5));
    let started = Instant::now();
    let got = r.resolve_tag(&name(&s.proxy.addr, "svc:1")).await.unwrap();
    assert_eq!(got.digest, s.digest);
    // Behaviour, not a performance limit: the client must have honoured the 1 s wait.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After not honoured"
    );
}

#[tokio::test]
async fn too_many_requests_past_the_cap_is_rate_limited() {
    let s = setup();
    s.proxy.always(Some(Fault::Status(
        429,
        vec![("Retry-After".into(), "3600".into())],
    )));
    let r = resolver(&s.proxy.addr, Duration::from_secs(5));
    let err = r
        .resolve_tag(&name(&s.proxy.addr, "svc:1"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ResolveError::RateLimited {
            registry: s.proxy.addr.clone(),
            retry_after: Some(Duration::from_secs(3600)),
        }
    );
}

#[tokio::test]
async fn wrong_digest_header_is_rejected_when_verifiable() {
    let s = setup();
    let wrong = format!("sha256:{}", "0".repeat(64));
    // HEAD without a digest forces a GET, whose body is verified against the header.
    s.proxy.queue([
        Fault::RemoveHeader("Docker-Content-Digest".into()),
        Fault::SetHeader("Docker-Content-Digest".into(), wrong.clone()),
    ]);
    let r = resolver(&s.proxy.addr, Duration::from_secs(5));
    let err = r
        .resolve_tag(&name(&s.proxy.addr, "svc:1"))
        .await
        .unwrap_err();
    match err {
        ResolveError::BadDigest {
            header, computed, ..
        } => {
            assert_eq!(header, wrong);
            assert_eq!(computed, s.digest);
        }
        other => panic!("expected BadDigest, got {other:?} ({:?})", s.proxy.log()),
    }
    // Without any header, the body's sha256 is the answer.
    s.proxy.queue([
        Fault::RemoveHeader("Docker-Content-Digest".into()),
        Fault::RemoveHeader("Docker-Content-Digest".into()),
    ]);
    let r = resolver(&s.proxy.addr, Duration::from_secs(5));
    let got = r.resolve_tag(&name(&s.proxy.addr, "svc:1")).await.unwrap();
    assert_eq!(got.digest, s.digest);
    let st = r.stats().registries[&s.proxy.addr];
    assert_eq!((st.head, st.get), (1, 1));

    // A digest lookup answered for another digest is rejected too.
    s.proxy
        .queue([Fault::SetHeader("Docker-Content-Digest".into(), wrong)]);
    let mut pinned = name(&s.proxy.addr, "svc:1");
    pinned.digest = Some(s.digest.clone());
    let err = r.digest_exists(&pinned).await.unwrap_err();
    assert!(matches!(err, ResolveError::BadDigest { .. }), "{err:?}");
}

#[tokio::test]
async fn a_failing_registry_only_fails_its_own_references() {
    let s = setup();
    let good = Registry::start();
    let good_digest = push_image(&good.addr, "ok", "1", &[ImageSpec::new("amd64", "g")]);
    s.proxy.always(Some(status(500)));
    let mut opts = loopback_options(&[&s.proxy.addr, &good.addr]);
    opts.retries = 1;
    let r = Resolver::new(opts).unwrap();
    let queries = vec![
        Query::Tag {
            name: name(&s.proxy.addr, "svc:1"),
        },
        Query::Tag {
            name: name(&good.addr, "ok:1"),
        },
        Query::Tag {
            name: name(&s.proxy.addr, "svc:2"),
        },
        Query::Tag {
            name: name(&good.addr, "ok"),
        },
    ];
    let results = r.resolve_all(queries).await;
    for (q, res) in &results {
        if q.name().registry == s.proxy.addr {
            assert!(
                matches!(res, Err(ResolveError::Network { registry, .. }) if registry == &s.proxy.addr),
                "{q:?}: {res:?}"
            );
        }
    }
    assert!(matches!(&results[1].1, Ok(Answer::Tag(t)) if t.digest == good_digest));
    assert!(
        matches!(&results[3].1, Err(ResolveError::NotFound { registry, .. }) if registry == &good.addr),
        "{:?}",
        results[3].1
    );
}
