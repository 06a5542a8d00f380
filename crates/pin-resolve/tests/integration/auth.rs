//! Bearer-token auth against a registry in `auth.token` mode and our token endpoint.

use std::os::unix::fs::PermissionsExt;

use base64::Engine;
use pin_resolve::{CredentialSources, ResolveError, Resolver};

use crate::support::token::TokenServer;
use crate::support::{build_layout, skopeo_digest, skopeo_push, ImageSpec, Registry};
use crate::{loopback_options, name};

const USER: &str = "alice";
const PASSWORD: &str = "s3cret-pw";

struct Setup {
    tokens: TokenServer,
    reg: Registry,
    digest_a: String,
    digest_b: String,
}

fn setup() -> Setup {
    let tokens = TokenServer::start(USER, PASSWORD);
    let reg = Registry::start_with(Some(&tokens.auth));
    let creds = format!("{USER}:{PASSWORD}");
    let mut digests = Vec::new();
    for repo in ["private/a", "private/b"] {
        let layout = build_layout("1", &[ImageSpec::new("amd64", repo)]);
        skopeo_push(&layout, &reg.addr, repo, "1", Some(&creds));
        digests.push(skopeo_digest(&reg.addr, repo, "1", Some(&creds)));
    }
    let digest_b = digests.pop().unwrap();
    let digest_a = digests.pop().unwrap();
    Setup {
        tokens,
        reg,
        digest_a,
        digest_b,
    }
}

fn resolver(s: &Setup, credentials: CredentialSources) -> Resolver {
    let mut opts = loopback_options(&[&s.reg.addr, &s.tokens.addr]);
    opts.credentials = credentials;
    Resolver::new(opts).unwrap()
}

#[tokio::test]
async fn anonymous_is_refused_naming_the_registry() {
    let s = setup();
    let r = resolver(&s, CredentialSources::none());
    let err = r
        .resolve_tag(&name(&s.reg.addr, "private/a:1"))
        .await
        .unwrap_err();
    match &err {
        ResolveError::Unauthorized { registry, .. } => assert_eq!(registry, &s.reg.addr),
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    assert!(err.to_string().contains(&s.reg.addr), "{err}");
}

#[tokio::test]
async fn docker_config_auths_and_one_token_per_scope() {
    let s = setup();
    let dir = tempfile::tempdir().unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    std::fs::write(
        dir.path().join("config.json"),
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, s.reg.addr),
    )
    .unwrap();
    let r = resolver(
        &s,
        CredentialSources {
            docker_config_dir: Some(dir.path().to_owned()),
            ..CredentialSources::none()
        },
    );
    let scope_a = "repository:private/a:pull";
    let scope_b = "repository:private/b:pull";
    // skopeo's pushes asked with other scopes; count only ours from here on.
    let (before_a, before_b) = (s.tokens.count(scope_a), s.tokens.count(scope_b));

    let got = r
        .resolve_tag(&name(&s.reg.addr, "private/a:1"))
        .await
        .unwrap();
    assert_eq!(got.digest, s.digest_a);
    // Another lookup in the same repository reuses the token.
    let mut pinned = name(&s.reg.addr, "private/a:1");
    pinned.digest = Some(s.digest_a.clone());
    assert!(r.digest_exists(&pinned).await.unwrap());
    let got = r
        .resolve_tag(&name(&s.reg.addr, "private/b:1"))
        .await
        .unwrap();
    assert_eq!(got.digest, s.digest_b);

    assert_eq!(
        s.tokens.count(scope_a) - before_a,
        1,
        "one token request for private/a"
    );
    assert_eq!(
        s.tokens.count(scope_b) - before_b,
        1,
        "one token request for private/b"
    );
    let stats = r.stats();
    assert_eq!(stats.registries[&s.reg.addr].token, 2, "{stats:?}");
    // Neither the resolver's Debug nor its stats carry the password.
    assert!(!format!("{r:?}").contains(PASSWORD));
}

#[tokio::test]
async fn credential_helper_on_search_path() {
    let s = setup();
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-test");
    // The helper checks it was asked for the right server, like a real one would.
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread server\n[ \"$server\" = \"{}\" ] || exit 1\n\
             printf '{{\"ServerURL\":\"%s\",\"Username\":\"{USER}\",\"Secret\":\"{PASSWORD}\"}}' \"$server\"\n",
            s.reg.addr
        ),
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cfg = dir.path().join("docker");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(
        cfg.join("config.json"),
        format!(r#"{{"credHelpers":{{"{}":"test"}}}}"#, s.reg.addr),
    )
    .unwrap();
    let r = resolver(
        &s,
        CredentialSources {
            docker_config_dir: Some(cfg),
            helper_path: Some(bin.into_os_string()),
            ..CredentialSources::none()
        },
    );
    let got = r
        .resolve_tag(&name(&s.reg.addr, "private/b:1"))
        .await
        .unwrap();
    assert_eq!(got.digest, s.digest_b);
}

#[tokio::test]
async fn environment_credentials_apply_to_their_registry_only() {
    let s = setup();
    let var = format!(
        "{}{}",
        pin_resolve::auth::ENV_AUTH_PREFIX,
        pin_resolve::auth::env_suffix(&s.reg.addr)
    );
    let mut right = CredentialSources::none();
    right.env.insert(var, format!("{USER}:{PASSWORD}"));
    let r = resolver(&s, right);
    assert_eq!(
        r.resolve_tag(&name(&s.reg.addr, "private/a:1"))
            .await
            .unwrap()
            .digest,
        s.digest_a
    );
    let mut other = CredentialSources::none();
    other.env.insert(
        format!("{}GHCR_IO", pin_resolve::auth::ENV_AUTH_PREFIX),
        format!("{USER}:{PASSWORD}"),
    );
    let r = resolver(&s, other);
    let err = r
        .resolve_tag(&name(&s.reg.addr, "private/a:1"))
        .await
        .unwrap_err();
    assert!(matches!(err, ResolveError::Unauthorized { .. }), "{err:?}");
}

#[tokio::test]
async fn plain_http_token_realm_must_be_allowed() {
    let s = setup();
    let mut opts = loopback_options(&[&s.reg.addr]);
    opts.credentials = CredentialSources::none();
    let r = Resolver::new(opts).unwrap();
    let err = r
        .resolve_tag(&name(&s.reg.addr, "private/a:1"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ResolveError::Insecure { url_host, .. } if url_host == &s.tokens.addr),
        "{err:?}"
    );
}

/// bcrypt of `basic-pw` (cost 4), made once with Python's `crypt`; fixed so the test needs
/// no bcrypt tool.
const HTPASSWD: &str = "bob:$2b$04$lIz9afasPog.EuI70TTqKemIabHUeM8.nyjojIuiX9JXfW9u85xNC";

#[tokio::test]
async fn basic_auth_registry() {
    let reg = Registry::start_with_htpasswd(HTPASSWD);
    let layout = build_layout("1", &[ImageSpec::new("amd64", "basic")]);
    skopeo_push(&layout, &reg.addr, "basic/img", "1", Some("bob:basic-pw"));
    let digest = skopeo_digest(&reg.addr, "basic/img", "1", Some("bob:basic-pw"));

    let anon = Resolver::new(loopback_options(&[&reg.addr])).unwrap();
    let err = anon
        .resolve_tag(&name(&reg.addr, "basic/img:1"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ResolveError::Unauthorized { registry, .. } if registry == &reg.addr),
        "{err:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.json"),
        format!(
            r#"{{"auths":{{"http://{}":{{"username":"bob","password":"basic-pw"}}}}}}"#,
            reg.addr
        ),
    )
    .unwrap();
    let mut opts = loopback_options(&[&reg.addr]);
    opts.credentials = CredentialSources {
        docker_config_dir: Some(dir.path().to_owned()),
        ..CredentialSources::none()
    };
    let r = Resolver::new(opts).unwrap();
    assert_eq!(
        r.resolve_tag(&name(&reg.addr, "basic/img:1"))
            .await
            .unwrap()
            .digest,
        digest
    );
    // The second lookup sends Basic at once: no second 401 round trip.
    let mut pinned = name(&reg.addr, "basic/img:1");
    pinned.digest = Some(digest);
    assert!(r.digest_exists(&pinned).await.unwrap());
    assert_eq!(
        r.stats().registries[&reg.addr].head,
        3,
        "401 + 200, then 200"
    );
}
