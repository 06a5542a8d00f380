//! Editor latency and memory of the real `pin-lsp` process (prints figures; asserts nothing
//! about time):
//!
//! - `didChange` → `publishDiagnostics` on a generated 5,000-line pipeline, 200 edits typed
//!   one at a time (each after the 50 ms throttle window, as a person types), p50/p95/max,
//!   with the template layer run on every text (the benchmark checks it did);
//! - the same 200 edits sent back to back: time until the final text's diagnostics, and how
//!   many publications the burst was coalesced into;
//! - the same measure in a repository whose templates connect many files (the corpus's
//!   dotnet/runtime, read in place), editing the file that defines its container resources;
//! - resident memory with every pipeline file of the shared corpus open.
//!
//! Beside the wall times it prints what they depend on, so that runs on different machines
//! can be compared: the build profile, the load average and the CPU time stolen by the
//! hypervisor during the run, the server's own CPU time and page faults per edit, and the wall
//! time of a one-shot `pin-lint check --format json` of the same text, measured in the same
//! run between the edits (the ratio of the server's p95 to the CLI's median is the figure
//! that does not depend on how loaded the machine is).
//!
//! Run: `cargo build --release -p pin-lint && cargo bench -p pin-lsp --bench latency` (needs
//! the shared corpus, see the tests; without a release `pin-lint` next to the bench's
//! `pin-lsp`, the CLI comparison is skipped with a note).

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use support::{file_uri, Lsp};

const LINES_TARGET: usize = 5_000;
/// Edits per measurement (`cargo bench`); a smoke run (`cargo test --benches`) does fewer.
fn edits() -> usize {
    if std::env::args().any(|a| a == "--bench") {
        200
    } else {
        10
    }
}
const PAUSE: Duration = Duration::from_millis(60);

/// A 5,000-line Azure pipeline with 1,000 container resources; every `unpinned_every`-th one
/// is unpinned, the others are pinned (the steady state of a repository that uses pin-lint).
fn big_pipeline(unpinned_every: usize) -> (String, Vec<u32>) {
    let mut text = String::from("resources:\n  containers:\n");
    let mut image_lines = Vec::new();
    let containers = 1_000;
    for i in 0..containers {
        text.push_str(&format!("  - container: c{i}\n"));
        image_lines.push(text.lines().count() as u32);
        let pin = if i % unpinned_every == 0 {
            String::new()
        } else {
            format!("@sha256:{:064x}", i)
        };
        text.push_str(&format!(
            "    image: mcr.microsoft.com/dotnet-buildtools/prereqs:azurelinux-3.0-net10.0-{i:04}{pin}\n"
        ));
    }
    text.push_str("jobs:\n");
    let mut j = 0;
    while text.lines().count() + 6 <= LINES_TARGET {
        text.push_str(&format!(
            "- job: j{j}\n  container: c{}\n  pool:\n    vmImage: ubuntu-22.04\n  steps:\n  - script: echo {j}\n",
            j % containers
        ));
        j += 1;
    }
    (text, image_lines)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn edit(lsp: &mut Lsp, uri: &str, version: i64, line: u32, step: usize) {
    // Rewrite the last four characters of the tag (a digit run): a real reference change.
    let col =
        "    image: mcr.microsoft.com/dotnet-buildtools/prereqs:azurelinux-3.0-net10.0-".len();
    lsp.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": version},
               "contentChanges": [{
                   "range": {"start": {"line": line, "character": col},
                             "end": {"line": line, "character": col + 4}},
                   "text": format!("{:04}", 5000 + step)}]}),
    );
}

/// Clock ticks per second of `/proc/<pid>/stat` (`USER_HZ`, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU time (user + system) and minor page faults of a process so far, from `/proc`.
fn cpu_and_faults(pid: u32) -> (Duration, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("proc stat");
    // The fields after the command name (which may hold spaces) start with field 3, `state`.
    let fields: Vec<&str> = stat[stat.rfind(')').expect("comm") + 1..]
        .split_whitespace()
        .collect();
    let field = |n: usize| -> u64 { fields[n - 3].parse().expect("stat field") };
    let ticks = field(14) + field(15);
    (
        Duration::from_secs_f64(ticks as f64 / TICKS_PER_SECOND),
        field(10),
    )
}

/// The whole machine's CPU ticks: (all, stolen by the hypervisor), from `/proc/stat`.
fn machine_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").expect("proc stat");
    let cpu: Vec<u64> = stat
        .lines()
        .next()
        .expect("cpu line")
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    (cpu.iter().sum(), cpu.get(7).copied().unwrap_or(0))
}

/// The 1-minute load average.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// The `pin-lint` binary of the same build profile as this bench's `pin-lsp`, when built.
fn pin_lint_binary() -> Option<PathBuf> {
    let bin = support::pin_lsp_path().with_file_name("pin-lint");
    bin.is_file().then_some(bin)
}

/// Wall time of one `pin-lint check --format json FILE`, output discarded.
fn one_shot(bin: &Path, file: &Path) -> Duration {
    let started = Instant::now();
    let status = Command::new(bin)
        .args(["check", "--format", "json"])
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run pin-lint");
    let took = started.elapsed();
    assert!(
        matches!(status.code(), Some(0 | 1)),
        "pin-lint check failed: {status}"
    );
    took
}

fn latency(unpinned_every: usize) {
    let n = edits();
    let dir = tempfile::tempdir().expect("tempdir");
    let uri = file_uri(&dir.path().join("azure-pipelines.yml"));
    let (text, image_lines) = big_pipeline(unpinned_every);
    let lines = text.lines().count();
    let mut lsp = Lsp::start();
    lsp.initialize(dir.path(), json!({}), json!({}));
    lsp.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}),
    );
    let first = lsp.diagnostics_at(&uri, 1);
    let findings = first["diagnostics"].as_array().map_or(0, Vec::len);
    // The same text on disk for the one-shot CLI, in a folder of its own.
    let cli_dir = tempfile::tempdir().expect("tempdir");
    let cli_file = cli_dir.path().join("azure-pipelines.yml");
    std::fs::write(&cli_file, &text).expect("write the pipeline");
    let cli = pin_lint_binary();
    let mut cli_samples = Vec::new();

    let mut samples = Vec::with_capacity(n);
    let mut parsed = Vec::with_capacity(n);
    let mut version = 1;
    let load_before = load_average();
    let (cpu_before, faults_before) = cpu_and_faults(lsp.pid());
    let machine_before = machine_ticks();
    for step in 0..n {
        std::thread::sleep(PAUSE);
        if let Some(bin) = cli.as_deref().filter(|_| step % 4 == 0) {
            cli_samples.push(one_shot(bin, &cli_file));
            std::thread::sleep(PAUSE);
        }
        version += 1;
        let line = image_lines[(step * 37) % image_lines.len()];
        let started = Instant::now();
        edit(&mut lsp, &uri, version, line, step);
        lsp.diagnostics_at(&uri, version);
        // Until the publication's last byte was read, not until the client parsed it.
        let received = lsp.last_received.expect("receive time");
        samples.push(received.duration_since(started));
        parsed.push(started.elapsed());
    }
    let (cpu_after, faults_after) = cpu_and_faults(lsp.pid());
    let machine_after = machine_ticks();
    samples.sort();
    parsed.sort();
    cli_samples.sort();
    println!("latency: {lines}-line pipeline, 1000 references, {findings} diagnostics per publication, {n} edits typed {PAUSE:?} apart");
    let all = machine_after.0.saturating_sub(machine_before.0).max(1);
    let stolen = machine_after.1.saturating_sub(machine_before.1);
    println!(
        "  {} build; load average {load_before} before, {} after; {:.1}% of the machine's CPU time stolen by the hypervisor",
        if cfg!(debug_assertions) { "DEBUG" } else { "release" },
        load_average(),
        100.0 * stolen as f64 / all as f64
    );
    println!(
        "  didChange -> publishDiagnostics: p50 {}  p95 {}  max {}",
        ms(percentile(&samples, 0.5)),
        ms(percentile(&samples, 0.95)),
        ms(*samples.last().expect("samples"))
    );
    println!(
        "  (including the test client's JSON parsing: p50 {}  p95 {})",
        ms(percentile(&parsed, 0.5)),
        ms(percentile(&parsed, 0.95))
    );
    println!(
        "  server CPU time per edit {} (mean over the edits, user + system, all threads); {} minor page faults per edit",
        ms((cpu_after - cpu_before) / n as u32),
        (faults_after - faults_before) / n as u64
    );
    match cli.as_deref() {
        Some(bin) if !cli_samples.is_empty() => {
            let median = percentile(&cli_samples, 0.5);
            println!(
                "  one-shot `pin-lint check --format json` of the same text ({} runs between the edits): p50 {}  p95 {}",
                cli_samples.len(),
                ms(median),
                ms(percentile(&cli_samples, 0.95))
            );
            println!(
                "  server p95 / one-shot CLI p50: {:.2}   server p50 / CLI p50: {:.2}   ({})",
                percentile(&samples, 0.95).as_secs_f64() / median.as_secs_f64(),
                percentile(&samples, 0.5).as_secs_f64() / median.as_secs_f64(),
                bin.display()
            );
        }
        _ => println!(
            "  (no one-shot CLI comparison: build `pin-lint` in the same profile first, e.g. `cargo build --release -p pin-lint`)"
        ),
    }

    std::thread::sleep(PAUSE);
    let burst_start = version;
    let started = Instant::now();
    for step in 0..n {
        version += 1;
        let line = image_lines[(step * 11) % image_lines.len()];
        edit(&mut lsp, &uri, version, line, step + n);
    }
    lsp.diagnostics_at(&uri, version);
    let burst = started.elapsed();
    let publications = lsp
        .seen
        .iter()
        .filter(|m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["version"]
                    .as_i64()
                    .is_some_and(|v| v > burst_start)
        })
        .count();
    println!(
        "  burst of {n} edits back to back: final diagnostics after {}, {publications} publications",
        ms(burst)
    );
    // Every text the server linted went through the template layer: the figures include it.
    let log = lsp.stderr();
    let runs = log.matches("template layer ran").count();
    println!("  template layer: {runs} runs over the document's component");
    assert!(
        runs > n,
        "the template layer did not run on every edit:\n{log}"
    );
    if std::env::var_os("PIN_LSP_BENCH_LOG").is_some() {
        let tail: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("linted"))
            .rev()
            .take(5)
            .collect();
        println!("{}", tail.join("\n"));
    }
    assert!(lsp.shutdown().success());
}

/// Edits in dotnet/runtime's `pipeline-with-resources.yml`, which most of its pipelines
/// extend: every edit re-runs the template layer over its whole component.
fn templates_in_a_repository() {
    let n = edits() / 2;
    let root = support::shared_dir().join("corpus/dotnet-runtime");
    let path = root.join("eng/pipelines/common/templates/pipeline-with-resources.yml");
    let text = std::fs::read_to_string(&path).expect("corpus file");
    let needle = "prereqs:azurelinux-3.0-net9.0-cross-arm\n";
    let at = text.find(needle).expect("image line") + "prereqs:azurelinux-3.0-".len();
    let line = text[..at].matches('\n').count() as u32;
    let col = (at - text[..at].rfind('\n').map_or(0, |i| i + 1)) as u32;
    let uri = file_uri(&path);
    let mut lsp = Lsp::start();
    lsp.initialize(&root, json!({}), json!({}));
    lsp.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}),
    );
    lsp.diagnostics_at(&uri, 1);
    let mut samples = Vec::with_capacity(n);
    for step in 0..n {
        std::thread::sleep(PAUSE);
        let version = step as i64 + 2;
        let started = Instant::now();
        lsp.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version},
                   "contentChanges": [{
                       "range": {"start": {"line": line, "character": col},
                                 "end": {"line": line, "character": col + 6}},
                       // A new text every time: no template run can be reused.
                       "text": format!("n{:05}", step % 100_000)}]}),
        );
        lsp.diagnostics_at(&uri, version);
        let received = lsp.last_received.expect("receive time");
        samples.push(received.duration_since(started));
    }
    samples.sort();
    let log = lsp.stderr();
    let component = log
        .lines()
        .rev()
        .find(|l| l.contains("template layer ran"))
        .and_then(|l| l.split("files=").nth(1))
        .unwrap_or("?")
        .to_string();
    println!(
        "templates in a repository: {} lines, a component of {component} files, {n} edits typed {PAUSE:?} apart",
        text.lines().count()
    );
    println!(
        "  didChange -> publishDiagnostics: p50 {}  p95 {}  max {}",
        ms(percentile(&samples, 0.5)),
        ms(percentile(&samples, 0.95)),
        ms(*samples.last().expect("samples"))
    );
    assert!(lsp.shutdown().success());
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("rss field")
}

fn pipeline_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read corpus")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            pipeline_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(p);
        }
    }
}

fn memory() {
    let corpus = support::shared_dir().join("corpus");
    let mut files = Vec::new();
    pipeline_files(&corpus, &mut files);
    let mut lsp = Lsp::start();
    lsp.initialize(&corpus, json!({}), json!({}));
    let idle = rss_kib(lsp.pid(), "VmRSS:");
    let mut bytes = 0;
    for (i, path) in files.iter().enumerate() {
        let text = std::fs::read_to_string(path).expect("read corpus file");
        bytes += text.len();
        lsp.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": file_uri(path), "languageId": "yaml",
                   "version": i + 1, "text": text}}),
        );
    }
    for (i, path) in files.iter().enumerate() {
        lsp.diagnostics_at(&file_uri(path), i as i64 + 1);
    }
    let rss = rss_kib(lsp.pid(), "VmRSS:");
    let peak = rss_kib(lsp.pid(), "VmHWM:");
    println!(
        "memory: {} corpus files open ({:.1} MiB of YAML, workspace indexed too): RSS {:.1} MiB (peak {:.1} MiB; {:.1} MiB right after initialize)",
        files.len(),
        bytes as f64 / 1048576.0,
        rss as f64 / 1024.0,
        peak as f64 / 1024.0,
        idle as f64 / 1024.0
    );
    assert!(lsp.shutdown().success());
}

fn main() {
    // `cargo bench` passes `--bench` and gets the full measurement (about 40 s); under
    // `cargo test --benches` / `--all-targets` this is a short smoke run.
    // A pinned repository (1 reference in 20 unpinned), then the worst case: every one of
    // the 1,000 references unpinned, so each publication carries 1,000 diagnostics.
    latency(20);
    latency(1);
    templates_in_a_repository();
    memory();
}
