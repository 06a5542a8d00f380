//! Benchmark: resolve many tags on a loopback registry with pin-resolve, and compare with
//! looking each one up by itself with `skopeo inspect --raw`.
//!
//! `cargo run -p pin-resolve --example bench_resolve -- [--tags N] [--sample M]`
//! (or `crates/pin-resolve/bench/resolve.sh`). Needs `docker-registry` and `skopeo`.
//!
//! One image is pushed with skopeo, then the same manifest is PUT under N-1 more tags over
//! HTTP (cheap). pin-resolve gets N distinct tag queries plus N/2 repeated ones, as a
//! pipeline repository would (the same image in many files); each distinct one is fetched once.
//! skopeo looks up every tag, one after the other (`--sample M` runs it on M tags only and
//! extrapolates to N).

use pin_test_support as support;

use std::process::Command;
use std::time::{Duration, Instant};

use pin_resolve::{Answer, CredentialSources, ImageName, Query, Resolver, ResolverOptions};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let tags = arg("--tags", 500).max(1);
    let sample = arg("--sample", tags).clamp(1, tags);
    let concurrency = arg("--concurrency", 8).max(1);

    let reg = support::Registry::start();
    let repo = "bench/app";
    let setup = Instant::now();
    let digest = support::push_image(
        &reg.addr,
        repo,
        "t0",
        &[support::ImageSpec::new("amd64", "bench")],
    );
    let out = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{}/{repo}:t0", reg.addr))
        .output()?;
    let manifest = out.stdout;
    let media_type = serde_json::from_slice::<serde_json::Value>(&manifest)?["mediaType"]
        .as_str()
        .unwrap_or("application/vnd.oci.image.manifest.v1+json")
        .to_owned();

    // Tag the same manifest N-1 more times with PUTs, 16 at a time.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let mut set = tokio::task::JoinSet::new();
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(16));
    for i in 1..tags {
        let url = format!("http://{}/v2/{repo}/manifests/t{i}", reg.addr);
        let (client, body, mt, sem) = (
            client.clone(),
            manifest.clone(),
            media_type.clone(),
            sem.clone(),
        );
        set.spawn(async move {
            let _permit = sem.acquire_owned().await?;
            let resp = client
                .put(url)
                .header("content-type", mt)
                .body(body)
                .send()
                .await?;
            if resp.status() != reqwest::StatusCode::CREATED {
                return Err(format!("PUT manifest answered {}", resp.status()).into());
            }
            Ok::<(), BoxError>(())
        });
    }
    while let Some(r) = set.join_next().await {
        r??;
    }
    println!(
        "setup: registry {} with {tags} tags of one manifest in {:.2?}",
        reg.addr,
        setup.elapsed()
    );

    // pin-resolve: N distinct + N/2 repeated queries, all at once.
    let opts = ResolverOptions {
        insecure_registries: vec![reg.addr.clone()],
        per_registry_concurrency: concurrency,
        credentials: CredentialSources::none(),
        ..ResolverOptions::default()
    };
    let resolver = Resolver::new(opts)?;
    let mut queries = Vec::new();
    for i in 0..tags {
        queries.push(Query::Tag {
            name: ImageName::parse(&format!("{}/{repo}:t{i}", reg.addr))?,
        });
    }
    for i in (0..tags).step_by(2) {
        queries.push(Query::Tag {
            name: ImageName::parse(&format!("{}/{repo}:t{i}", reg.addr))?,
        });
    }
    let started = Instant::now();
    let results = resolver.resolve_all(queries.clone()).await;
    let ours = started.elapsed();
    let wrong = results
        .iter()
        .filter(|(_, r)| !matches!(r, Ok(Answer::Tag(t)) if t.digest == digest))
        .count();
    if wrong > 0 {
        return Err(format!("{wrong} queries did not resolve to {digest}").into());
    }
    let stats = resolver.stats();
    let requests = stats.total_requests();
    println!(
        "pin-resolve: {} queries, {tags} distinct, concurrency {concurrency}/registry: {requests} requests \
         ({:.2} per distinct reference; HEAD {}, GET {}, token {}), wall {:.2?}",
        queries.len(),
        requests as f64 / tags as f64,
        stats.registries.values().map(|s| s.head).sum::<u64>(),
        stats.registries.values().map(|s| s.get).sum::<u64>(),
        stats.registries.values().map(|s| s.token).sum::<u64>(),
        ours
    );

    // skopeo, one lookup after another, on a sample.
    let started = Instant::now();
    for i in 0..sample {
        let out = Command::new("skopeo")
            .args(["inspect", "--raw", "--tls-verify=false"])
            .arg(format!("docker://{}/{repo}:t{i}", reg.addr))
            .output()?;
        if !out.status.success() || support::sha256(&out.stdout) != digest {
            return Err(format!("skopeo inspect of t{i} failed or disagreed").into());
        }
    }
    let sampled = started.elapsed();
    let extrapolated = Duration::from_secs_f64(sampled.as_secs_f64() * tags as f64 / sample as f64);
    let each = sampled.as_secs_f64() * 1000.0 / sample as f64;
    if sample == tags {
        println!(
            "skopeo inspect --raw, sequential: {tags} lookups in {sampled:.2?} ({each:.1} ms each)"
        );
    } else {
        println!(
            "skopeo inspect --raw, sequential: {sample} lookups in {sampled:.2?} ({each:.1} ms each); \
             extrapolated to {tags}: {extrapolated:.2?}"
        );
    }
    println!(
        "ratio: pin-resolve is {:.1}x faster than sequential skopeo for {tags} distinct references",
        extrapolated.as_secs_f64() / ours.as_secs_f64()
    );
    Ok(())
}
