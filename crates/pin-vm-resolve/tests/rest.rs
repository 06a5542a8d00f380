//! The Azure Resource Manager resolver against a loopback HTTP server that serves the
//! documented response shapes (the real API needs an Azure account): bearer auth, `nextLink`
//! paging, 429 with `Retry-After`, error answers.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pin_core::Facts;
use pin_vm_resolve::{resolve_into, VmError, VmOptions, VmQuery};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN: &str = "test-token-1234";
const GALLERY: &str = "/subscriptions/0000/resourceGroups/images/providers/Microsoft.Compute/galleries/ciGallery/images/agent-ubuntu";

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    target: String,
    authorization: Option<String>,
}

/// What the server answers for a request target: status, extra headers, body.
type Answer = (u16, Vec<(&'static str, String)>, String);

struct Server {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    /// Serves `route(target, n)` where `n` counts earlier requests for the same target.
    async fn start(route: impl Fn(&str, usize, &str) -> Answer + Send + Sync + 'static) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let log = Arc::clone(&seen);
        let route = Arc::new(route);
        let own = base.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let log = Arc::clone(&log);
                let route = Arc::clone(&route);
                let own = own.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&buf).to_string();
                    let target = head
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or_default()
                        .to_string();
                    let authorization = head
                        .lines()
                        .find_map(|l| {
                            l.strip_prefix("authorization: ")
                                .or_else(|| l.strip_prefix("Authorization: "))
                        })
                        .map(str::to_string);
                    let n = {
                        let mut log = log.lock().expect("lock");
                        let n = log.iter().filter(|s| s.target == target).count();
                        log.push(Seen {
                            target: target.clone(),
                            authorization: authorization.clone(),
                        });
                        n
                    };
                    let (status, headers, body) = if authorization.as_deref()
                        != Some(&format!("Bearer {TOKEN}"))
                    {
                        (401, vec![], r#"{"error":{"code":"InvalidAuthenticationToken","message":"The access token is invalid."}}"#.to_string())
                    } else {
                        route(&target, n, &own)
                    };
                    let mut reply = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
                        body.len()
                    );
                    for (k, v) in headers {
                        reply.push_str(&format!("{k}: {v}\r\n"));
                    }
                    reply.push_str("\r\n");
                    reply.push_str(&body);
                    let _ = stream.write_all(reply.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Server { base, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

fn gallery_version(name: &str, exclude: bool) -> String {
    format!(
        r#"{{"id":"{GALLERY}/versions/{name}","name":"{name}","type":"Microsoft.Compute/galleries/images/versions","location":"eastus","properties":{{"publishingProfile":{{"excludeFromLatest":{exclude},"publishedDate":"2026-10-01T00:00:00+00:00","replicaCount":1}},"provisioningState":"Succeeded"}}}}"#
    )
}

/// The documented shapes: a marketplace version list is a JSON array; gallery versions come
/// in pages of `{value, nextLink}`; the second page is throttled once.
fn arm(target: &str, n: usize, base: &str) -> Answer {
    let marketplace = "/subscriptions/sub-1/providers/Microsoft.Compute/locations/eastus/publishers/canonical/artifacttypes/vmimage/offers/ubuntu-24_04-lts/skus/server/versions?api-version=2024-07-01";
    let gallery = format!(
        "{}/versions?api-version=2023-07-03",
        GALLERY.to_ascii_lowercase()
    );
    let page2 = format!("{gallery}&%24skiptoken=page2");
    if target == marketplace {
        let items: Vec<String> = ["24.04.202409120", "24.04.202411030", "24.04.202410020"]
            .iter()
            .map(|v| format!(r#"{{"location":"eastus","name":"{v}","id":"/Subscriptions/sub-1/Providers/Microsoft.Compute/Locations/eastus/Publishers/Canonical/ArtifactTypes/VMImage/Offers/ubuntu-24_04-lts/Skus/server/Versions/{v}"}}"#))
            .collect();
        (200, vec![], format!("[{}]", items.join(",")))
    } else if target == gallery {
        let body = format!(
            r#"{{"value":[{},{}],"nextLink":"{base}{page2}"}}"#,
            gallery_version("1.9.3", false),
            gallery_version("2.0.0", true)
        );
        (200, vec![], body)
    } else if target == page2 && n == 0 {
        (
            429,
            vec![("retry-after", "1".to_string())],
            r#"{"error":{"code":"TooManyRequests","message":"slow down"}}"#.to_string(),
        )
    } else if target == page2 {
        (
            200,
            vec![],
            format!(r#"{{"value":[{}]}}"#, gallery_version("1.10.0", false)),
        )
    } else {
        (
            404,
            vec![],
            r#"{"error":{"code":"NotFound","message":"no such image"}}"#.to_string(),
        )
    }
}

fn options(server: &Server) -> VmOptions {
    VmOptions {
        online: true,
        endpoint: server.base.clone(),
        subscription: Some("sub-1".into()),
        location: Some("eastus".into()),
        token: Some(TOKEN.into()),
        az_cli: false,
        backoff_base: Duration::from_millis(10),
        ..VmOptions::default()
    }
}

fn queries() -> Vec<VmQuery> {
    vec![
        VmQuery::from_key("canonical:ubuntu-24_04-lts:server").expect("marketplace key"),
        VmQuery::from_key(GALLERY).expect("gallery key"),
    ]
}

#[tokio::test]
async fn versions_come_with_auth_paging_and_throttling() {
    let server = Server::start(arm).await;
    let mut facts = Facts::none();
    let started = Instant::now();
    let errors = resolve_into(&mut facts, &queries(), &options(&server)).await;
    let waited = started.elapsed();
    assert!(errors.is_empty(), "{errors:?}");

    let gallery = Facts::vm_gallery_key(GALLERY);
    let versions: Vec<&str> = facts
        .vm_versions(&gallery)
        .expect("gallery versions")
        .iter()
        .map(|v| v.version.as_str())
        .collect();
    assert_eq!(
        versions,
        ["1.9.3", "2.0.0", "1.10.0"],
        "both pages are read"
    );
    assert_eq!(
        facts
            .newest_vm_version(&gallery)
            .map(|v| v.version.as_str()),
        Some("1.10.0"),
        "1.10.0 > 1.9.3, and 2.0.0 is excluded from latest"
    );
    assert_eq!(
        facts
            .newest_vm_version("canonical:ubuntu-24_04-lts:server")
            .map(|v| v.version.as_str()),
        Some("24.04.202411030")
    );
    assert_eq!(facts.vm_source(&gallery), Some("Azure Resource Manager"));

    let seen = server.seen();
    assert_eq!(
        seen.len(),
        4,
        "marketplace, page 1, page 2 throttled, page 2: {seen:#?}"
    );
    assert!(
        seen.iter()
            .all(|s| s.authorization.as_deref() == Some(&format!("Bearer {TOKEN}") as &str)),
        "every request carries the bearer token"
    );
    let throttled = seen
        .iter()
        .filter(|s| s.target.contains("skiptoken=page2"))
        .count();
    assert_eq!(throttled, 2, "the throttled page is asked again");
    assert!(
        waited >= Duration::from_secs(1),
        "Retry-After: 1 was waited out ({waited:?})"
    );
}

#[tokio::test]
async fn a_refused_token_is_an_unauthorized_error_per_image() {
    let server = Server::start(arm).await;
    let mut facts = Facts::none();
    let opts = VmOptions {
        token: Some("wrong".into()),
        ..options(&server)
    };
    let errors = resolve_into(&mut facts, &queries(), &opts).await;
    assert_eq!(errors.len(), 2);
    for e in &errors {
        assert!(
            matches!(e, VmError::Unauthorized { detail, .. } if detail.contains("401") && detail.contains("InvalidAuthenticationToken")),
            "{e}"
        );
        assert!(
            !e.to_string().contains("wrong"),
            "the token never appears in messages"
        );
    }
    let gallery = Facts::vm_gallery_key(GALLERY);
    assert!(facts.failure(&gallery).is_some());
    assert!(facts.vm_versions(&gallery).is_none());
}

#[tokio::test]
async fn throttling_longer_than_allowed_fails_at_once() {
    let server = Server::start(|_, _, _| {
        (
            429,
            vec![("Retry-After", "3600".to_string())],
            String::new(),
        )
    })
    .await;
    let mut facts = Facts::none();
    let errors = resolve_into(&mut facts, &queries()[1..], &options(&server)).await;
    assert_eq!(errors.len(), 1);
    assert!(
        matches!(&errors[0], VmError::RateLimited { retry_after: Some(d), .. } if *d == Duration::from_secs(3600)),
        "{:?}",
        errors[0]
    );
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn missing_images_and_settings_are_reported() {
    let server = Server::start(arm).await;
    let mut facts = Facts::none();
    let missing = VmQuery::from_key("canonical:no-such-offer:server").expect("key");
    let errors = resolve_into(&mut facts, &[missing], &options(&server)).await;
    assert!(
        matches!(&errors[..], [VmError::NotFound { .. }]),
        "{errors:?}"
    );

    let opts = VmOptions {
        subscription: None,
        ..options(&server)
    };
    let errors = resolve_into(&mut facts, &queries()[..1], &opts).await;
    assert!(
        matches!(&errors[..], [VmError::Config(m)] if m.contains("AZURE_SUBSCRIPTION_ID")),
        "{errors:?}"
    );
}

#[tokio::test]
async fn next_link_to_another_host_is_not_followed() {
    let server = Server::start(|target, _, _| {
        if target.contains("skiptoken") {
            (500, vec![], String::new())
        } else {
            (
                200,
                vec![],
                r#"{"value":[],"nextLink":"https://attacker.example/steal"}"#.to_string(),
            )
        }
    })
    .await;
    let mut facts = Facts::none();
    let errors = resolve_into(&mut facts, &queries()[1..], &options(&server)).await;
    assert!(
        matches!(&errors[..], [VmError::Protocol { msg, .. }] if msg.contains("nextLink")),
        "{errors:?}"
    );
}

#[tokio::test]
async fn plain_http_is_refused_off_loopback() {
    let mut facts = Facts::none();
    let opts = VmOptions {
        online: true,
        endpoint: "http://management.example".into(),
        token: Some(TOKEN.into()),
        ..VmOptions::default()
    };
    let errors = resolve_into(&mut facts, &queries()[1..], &opts).await;
    assert!(
        matches!(&errors[..], [VmError::Config(m)] if m.contains("https")),
        "{errors:?}"
    );
}
