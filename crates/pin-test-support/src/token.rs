//! A loopback token endpoint for the registry's `auth.token` mode: grants ES256 JWTs
//! (certificate in the `x5c` header, trusted through `rootcertbundle`) to one user.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use tokio::io::AsyncWriteExt;

use crate::server::{read_head, LoopbackServer};
use crate::{require_binary, TokenAuth};

/// Service name the registry announces.
pub const SERVICE: &str = "pin-lint-test-registry";
/// Issuer the registry expects.
pub const ISSUER: &str = "pin-lint-test-issuer";

/// The running endpoint; stops when dropped.
pub struct TokenServer {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// What to put in the registry config.
    pub auth: TokenAuth,
    /// Requests per `scope` value (all requests, granted or not).
    pub requests: Arc<Mutex<HashMap<String, usize>>>,
    _dir: tempfile::TempDir,
    _server: LoopbackServer,
}

struct Signer {
    key: EcdsaKeyPair,
    cert_der: Vec<u8>,
    user: String,
    password: String,
}

impl TokenServer {
    /// Starts an endpoint that grants tokens to `user:password` only (anonymous → 401).
    pub fn start(user: &str, password: &str) -> Self {
        require_binary("openssl");
        let dir = tempfile::tempdir().expect("tempdir");
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("generate key");
        let key_path = dir.path().join("key.der");
        std::fs::write(&key_path, pkcs8.as_ref()).expect("write key");
        let cert_pem: PathBuf = dir.path().join("cert.pem");
        let cert_der_path = dir.path().join("cert.der");
        for args in [
            vec![
                "req",
                "-x509",
                "-new",
                "-keyform",
                "DER",
                "-key",
                key_path.to_str().expect("utf-8 path"),
                "-subj",
                "/CN=pin-lint-test-token-signer",
                "-days",
                "2",
                "-out",
                cert_pem.to_str().expect("utf-8 path"),
            ],
            vec![
                "x509",
                "-in",
                cert_pem.to_str().expect("utf-8 path"),
                "-outform",
                "DER",
                "-out",
                cert_der_path.to_str().expect("utf-8 path"),
            ],
        ] {
            let out = Command::new("openssl")
                .args(&args)
                .output()
                .expect("run openssl");
            assert!(
                out.status.success(),
                "openssl {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("load key");
        let signer = Arc::new(Signer {
            key,
            cert_der: std::fs::read(&cert_der_path).expect("read cert"),
            user: user.into(),
            password: password.into(),
        });

        let requests: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let counts = Arc::clone(&requests);
        let server = LoopbackServer::start(move |stream| {
            let signer = Arc::clone(&signer);
            let counts = Arc::clone(&counts);
            async move { serve(stream, &signer, &counts).await }
        });
        let addr = server.addr.clone();
        Self {
            auth: TokenAuth {
                realm: format!("http://{addr}/token"),
                service: SERVICE.into(),
                issuer: ISSUER.into(),
                rootcertbundle: cert_pem,
            },
            addr,
            requests,
            _dir: dir,
            _server: server,
        }
    }

    /// How many requests asked for exactly this scope.
    pub fn count(&self, scope: &str) -> usize {
        self.requests
            .lock()
            .expect("lock")
            .get(scope)
            .copied()
            .unwrap_or(0)
    }
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn serve(
    mut stream: tokio::net::TcpStream,
    signer: &Signer,
    counts: &Mutex<HashMap<String, usize>>,
) {
    let Some(buf) = read_head(&mut stream).await else {
        return;
    };
    let head = String::from_utf8_lossy(&buf).into_owned();
    let target = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
    let params: Vec<(String, String)> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (percent_decode(k), percent_decode(v)))
        .collect();
    let scopes: Vec<String> = params
        .iter()
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v.clone())
        .collect();
    {
        let mut c = counts.lock().expect("lock");
        for s in &scopes {
            *c.entry(s.clone()).or_default() += 1;
        }
    }
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", signer.user, signer.password))
    );
    let authorized = head.lines().any(|l| {
        l.split_once(':').is_some_and(|(n, v)| {
            n.trim().eq_ignore_ascii_case("authorization") && v.trim() == expected
        })
    });
    let response = if authorized {
        let body = serde_json::json!({
            "token": sign(signer, &scopes),
            "expires_in": 300,
        })
        .to_string();
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    } else {
        let body = r#"{"errors":[{"code":"UNAUTHORIZED","message":"credentials required"}]}"#;
        format!(
            "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn sign(signer: &Signer, scopes: &[String]) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let access: Vec<serde_json::Value> = scopes
        .iter()
        .filter_map(|s| {
            let mut parts = s.splitn(3, ':');
            let typ = parts.next()?;
            let name = parts.next()?;
            let actions: Vec<&str> = parts.next()?.split(',').collect();
            Some(serde_json::json!({"type": typ, "name": name, "actions": actions}))
        })
        .collect();
    let header = serde_json::json!({
        "typ": "JWT",
        "alg": "ES256",
        "x5c": [base64::engine::general_purpose::STANDARD.encode(&signer.cert_der)],
    });
    let claims = serde_json::json!({
        "iss": ISSUER,
        "sub": signer.user,
        "aud": SERVICE,
        "exp": now + 300,
        "nbf": now - 10,
        "iat": now,
        "jti": format!("{now}-{}", fastrand::u64(..)),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let sig = signer
        .key
        .sign(&SystemRandom::new(), signing_input.as_bytes())
        .expect("sign");
    format!("{signing_input}.{}", b64url(sig.as_ref()))
}
