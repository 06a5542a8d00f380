//! Catalog files shared with the rest of the project (`$PIN_LINT_SHARED`, default
//! `<repo>/../shared`). A missing file fails with where it was looked for.

use std::path::PathBuf;

use pin_resolve::{Catalog, ImageName, Query, Resolver, Source};

use crate::loopback_options;

fn shared() -> PathBuf {
    std::env::var_os("PIN_LINT_SHARED").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        PathBuf::from,
    )
}

fn shared_file(rel: &str) -> PathBuf {
    let p = shared().join(rel);
    assert!(
        p.is_file(),
        "shared test data {} is missing; set PIN_LINT_SHARED to the shared/ folder",
        p.display()
    );
    p
}

#[tokio::test]
async fn tsv_catalog_answers_every_row_without_requests() {
    let path = shared_file("oracle/fake-digests.tsv");
    let text = std::fs::read_to_string(&path).unwrap();
    let catalog = Catalog::load(&path).unwrap();
    let mut opts = loopback_options(&[]);
    opts.catalogs = vec![catalog];
    let r = Resolver::new(opts).unwrap();
    let rows: Vec<(String, String)> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (a, b) = l.split_once('\t').unwrap();
            (a.to_owned(), b.to_owned())
        })
        .collect();
    assert!(rows.len() > 100);
    let queries = rows
        .iter()
        .map(|(reference, _)| Query::Tag {
            name: ImageName::parse(reference).unwrap(),
        })
        .collect();
    let results = r.resolve_all(queries).await;
    for ((_, expected), (q, res)) in rows.iter().zip(results) {
        match res {
            Ok(pin_resolve::Answer::Tag(t)) => {
                assert_eq!(&t.digest, expected, "{q:?}");
                assert_eq!(t.source, Source::Catalog(path.clone()));
            }
            other => panic!("{q:?}: {other:?}"),
        }
    }
    // Spelling is respected: `ubuntu` and `ubuntu:latest` are distinct rows in this file.
    let stats = r.stats();
    assert_eq!(stats.total_requests(), 0, "{stats:?}");
    assert_eq!(stats.catalog_hits as usize, rows.len());
}

#[tokio::test]
async fn dotnet_image_info_catalog() {
    let path = shared_file(
        "corpus/dotnet-versions/build-info/docker/image-info.dotnet-dotnet-buildtools-prereqs-docker-main.json",
    );
    let catalog = Catalog::load(&path).unwrap();
    assert!(catalog.len() > 200, "{}", catalog.len());
    let get = |s: &str| {
        catalog
            .lookup_tag(&ImageName::parse(s).unwrap())
            .map(str::to_owned)
    };
    // A platform tag maps to that platform's digest.
    assert_eq!(
        get("mcr.microsoft.com/dotnet-buildtools/prereqs:alpine-3.24-helix-arm32v7").as_deref(),
        Some("sha256:a83eb3128ad65f60d0e9c665bf56116e13355cef7d2a4be55e81bbdbd8226a54")
    );
    // A shared tag maps to the manifest-list digest.
    assert_eq!(
        get("mcr.microsoft.com/dotnet-buildtools/prereqs:azurelinux3.0-docker-testrunner")
            .as_deref(),
        Some("sha256:96734954fbc53d08ec1424f4545e7f1b83e27f416898241efceeb13c4c56e0ed")
    );
    // Each platform's other simple tag too.
    assert_eq!(
        get("mcr.microsoft.com/dotnet-buildtools/prereqs:azurelinux-3.0-docker-testrunner-arm64v8")
            .as_deref(),
        Some("sha256:de6215acbfa00184111a8ff50e29f808a8eb07bc955dec182167e1dd34508e4f")
    );
    // A pinned digest listed in the catalog exists without asking the registry.
    let mut opts = loopback_options(&[]);
    opts.catalogs = vec![catalog];
    let r = Resolver::new(opts).unwrap();
    let pinned = ImageName::parse(
        "mcr.microsoft.com/dotnet-buildtools/prereqs:alpine-3.24-helix-arm32v7@sha256:a83eb3128ad65f60d0e9c665bf56116e13355cef7d2a4be55e81bbdbd8226a54",
    )
    .unwrap();
    assert!(r.digest_exists(&pinned).await.unwrap());
    assert_eq!(r.stats().total_requests(), 0);
}

#[test]
fn parse_errors_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.tsv");
    std::fs::write(&p, "# header\nubuntu:22.04\tsha256:abc\n").unwrap();
    let err = Catalog::load(&p).unwrap_err().to_string();
    assert!(err.starts_with(&format!("{}:2:", p.display())), "{err}");
}
