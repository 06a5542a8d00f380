//! `--catalog URL`: a producer's catalog read over HTTP pins exactly as the same file given as
//! a path, and a catalog that cannot be fetched (too large, too slow, not there) stops the run
//! with one line and exit 3 before anything is written.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use support::{pin_lint, shared_dir};

const IMAGE_INFO: &str =
    "corpus/dotnet-versions/build-info/docker/image-info.dotnet-dotnet-buildtools-prereqs-docker-main.json";

/// A loopback HTTP server on a thread: `/image-info.json` serves the shared dotnet image-info
/// file, `/huge.json` a 20 MB body, `/slow.json` never answers, anything else is a 404.
fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let body = std::fs::read(shared_dir().join(IMAGE_INFO)).expect("shared image-info file");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let body = body.clone();
            std::thread::spawn(move || answer(stream, &body));
        }
    });
    addr
}

fn answer(mut stream: TcpStream, image_info: &[u8]) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head);
    let path = head
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let (status, body): (&str, Vec<u8>) = match path.as_str() {
        "/image-info.json" => ("200 OK", image_info.to_vec()),
        "/huge.json" => ("200 OK", vec![b' '; 20 << 20]),
        "/slow.json" => {
            std::thread::sleep(Duration::from_secs(30));
            return;
        }
        _ => ("404 Not Found", b"not found\n".to_vec()),
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(&body);
}

/// A writable copy of the shared dotnet-runtime corpus folder, with a `pin-lint.toml` that
/// keeps request timeouts short.
fn corpus_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_tree(
        &shared_dir().join("corpus/dotnet-runtime"),
        &dir.path().join("dotnet-runtime"),
    );
    std::fs::write(dir.path().join("pin-lint.toml"), "timeout = \"1s\"\n").expect("config");
    let root = dir.path().to_path_buf();
    (dir, root)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::write(&target, std::fs::read(entry.path()).expect("read")).expect("write");
        }
    }
}

/// Every file below `root`, relative path → bytes.
fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("below root").to_path_buf();
                out.push((rel, std::fs::read(&path).expect("read")));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

fn fix_with(root: &Path, catalog: &str, addr: &str) -> std::process::Output {
    pin_lint()
        .args([
            "--fix",
            "--offline",
            "--format",
            "json",
            "--catalog",
            catalog,
        ])
        .args(["--insecure-registry", addr, "dotnet-runtime"])
        .current_dir(root)
        .output()
        .expect("run pin-lint")
}

#[test]
fn catalog_by_url_pins_like_the_same_file() {
    let addr = serve();
    let (_by_path_dir, by_path) = corpus_copy();
    let (_by_url_dir, by_url) = corpus_copy();
    let before = snapshot(&by_url);

    let file = shared_dir().join(IMAGE_INFO);
    let from_file = fix_with(&by_path, file.to_str().expect("utf-8 path"), &addr);
    let url = format!("http://{addr}/image-info.json");
    let from_url = fix_with(&by_url, &url, &addr);

    for out in [&from_file, &from_url] {
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let totals = |out: &std::process::Output| {
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        json["fix"]["totals"].clone()
    };
    assert_eq!(totals(&from_url), totals(&from_file));
    let pinned = totals(&from_url)["pinned"].as_u64().expect("pinned count");
    assert!(
        pinned >= 50,
        "the image-info catalog pins the corpus: {pinned}"
    );
    let after = snapshot(&by_url);
    assert_ne!(after, before, "the URL catalog changed nothing");
    assert_eq!(
        after,
        snapshot(&by_path),
        "URL and file catalogs pin differently"
    );
}

#[test]
fn unusable_catalog_urls_stop_the_run_with_exit_3() {
    let addr = serve();
    let (_dir, root) = corpus_copy();
    let before = snapshot(&root);
    for (path, expected) in [
        ("/huge.json", "larger than 16 MiB"),
        ("/slow.json", "timed out"),
        ("/gone.json", "404 Not Found"),
    ] {
        let url = format!("http://{addr}{path}");
        let out = fix_with(&root, &url, &addr);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{path}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{path}: one line: {stderr}");
        assert!(
            stderr.starts_with(&format!(
                "pin-lint: error: cannot use the catalog: cannot fetch {url}: "
            )) && stderr.contains(expected),
            "{path}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{path}: nothing reported");
        assert_eq!(snapshot(&root), before, "{path}: nothing written");
    }
    // Plain HTTP needs the host named in `--insecure-registry`.
    let out = pin_lint()
        .args(["--fix", "--offline", "--catalog"])
        .arg(format!("http://{addr}/image-info.json"))
        .arg("dotnet-runtime")
        .current_dir(&root)
        .output()
        .expect("run pin-lint");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("refusing plain HTTP"), "{stderr}");
    assert_eq!(snapshot(&root), before);
}
