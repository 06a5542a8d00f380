//! Cost of the Azure Pipelines template layer: analysing the whole shared corpus with template
//! expansion versus plain per-file analysis. Prints figures and the ratio (target: within
//! 3×); asserts nothing about time.
//!
//! Run: `cargo bench -p pin-core --bench templates` (needs the shared corpus: `$PIN_LINT_SHARED`
//! or `<workspace>/../shared`). `cargo test --benches` runs it once as a smoke test.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pin_core::template::repo::{Input, Repository};
use pin_core::{template, yaml, Analysis, Facts, Settings};

fn shared_dir() -> PathBuf {
    let dir = std::env::var_os("PIN_LINT_SHARED").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        PathBuf::from,
    );
    assert!(
        dir.join("corpus").is_dir(),
        "shared corpus not found at {}; set PIN_LINT_SHARED to the folder holding corpus/",
        dir.display()
    );
    dir
}

/// Every YAML file below `root`, as (path relative to `root`, text), sorted.
fn read_corpus(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).expect("corpus folder is readable");
        for entry in entries {
            let path = entry.expect("corpus entry is readable").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                let rel = path
                    .strip_prefix(root)
                    .expect("below the root")
                    .to_string_lossy()
                    .replace('\\', "/");
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                out.push((rel, text));
            }
        }
    }
    out.sort();
    out
}

/// Per-file analysis and findings: what `pin-lint check` does without the template layer.
fn plain(files: &[(String, String)], settings: &Settings, facts: &Facts) -> usize {
    files
        .iter()
        .map(|(path, text)| {
            Analysis::new(path, text.clone())
                .findings(settings, facts)
                .len()
        })
        .sum()
}

/// The same plus the cross-file step, as `pin-lint check` runs it: each file's YAML is parsed
/// once and serves both its analysis and the template layer.
fn with_templates(files: &[(String, String)], settings: &Settings, facts: &Facts) -> usize {
    let parsed: Vec<_> = files.iter().map(|(_, text)| yaml::parse(text)).collect();
    let mut analyses: Vec<Analysis> = files
        .iter()
        .zip(&parsed)
        .map(|((path, text), yaml)| Analysis::from_yaml(path, text.clone(), yaml))
        .collect();
    let repo = Repository::build_parsed(files.iter().zip(&analyses).zip(parsed).map(
        |(((path, text), analysis), yaml)| {
            let input = Input {
                path,
                text,
                known: Some((analysis.dialect, analysis.references.as_slice())),
            };
            (input, Some(yaml.unwrap_or_else(|(_, partial)| partial)))
        },
    ));
    let layer = template::analyze_repository(
        &repo,
        template::Options {
            inventory: false,
            hovers: false,
        },
    );
    drop(repo);
    files
        .iter()
        .zip(analyses.iter_mut())
        .map(|((path, _), analysis)| {
            let Some(extras) = layer.file(path) else {
                return analysis.findings(settings, facts).len();
            };
            extras.extend_analysis(analysis);
            extras.findings(analysis, settings, facts).len()
        })
        .sum()
}

/// The cross-file step as it was before files shared their parse: the template layer parses
/// every Azure Pipelines file again (for the before/after figure).
fn with_templates_reparsing(
    files: &[(String, String)],
    settings: &Settings,
    facts: &Facts,
) -> usize {
    let mut analyses: Vec<Analysis> = files
        .iter()
        .map(|(path, text)| Analysis::new(path, text.clone()))
        .collect();
    let layer = template::analyze_analyses(
        files.iter().map(|(p, _)| p.as_str()).zip(analyses.iter()),
        template::Options {
            inventory: false,
            hovers: false,
        },
    );
    files
        .iter()
        .zip(analyses.iter_mut())
        .map(|((path, _), analysis)| {
            let Some(extras) = layer.file(path) else {
                return analysis.findings(settings, facts).len();
            };
            extras.extend_analysis(analysis);
            extras.findings(analysis, settings, facts).len()
        })
        .sum()
}

/// Fastest and median of the rounds. The machine is shared (other builds run beside the
/// benchmark), so the fastest round is the steadier figure; both are printed.
struct Timing {
    min: Duration,
    median: Duration,
}

fn measure(rounds: usize, f: impl Fn() -> usize) -> (Timing, usize) {
    let mut times = Vec::with_capacity(rounds);
    let mut n = 0;
    for _ in 0..rounds {
        let t = Instant::now();
        n = std::hint::black_box(f());
        times.push(t.elapsed());
    }
    times.sort();
    let timing = Timing {
        min: times[0],
        median: times[times.len() / 2],
    };
    (timing, n)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let rounds = if std::env::args().any(|a| a == "--bench") {
        30
    } else {
        1
    };
    let corpus = shared_dir().join("corpus");
    let files = read_corpus(&corpus);
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    let settings = Settings::default();
    let facts = Facts::default();
    let (t_plain, n_plain) = measure(rounds, || plain(&files, &settings, &facts));
    let (t_tmpl, n_tmpl) = measure(rounds, || with_templates(&files, &settings, &facts));
    let (t_reparse, n_reparse) = measure(rounds, || {
        with_templates_reparsing(&files, &settings, &facts)
    });
    assert_eq!(n_tmpl, n_reparse, "sharing the parse changes no finding");
    let layer = template::analyze(files.iter().map(|(p, t)| (p.as_str(), t.as_str())));
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-9);
    println!(
        "corpus: {} YAML files, {:.1} KiB; {} pipeline entry points",
        files.len(),
        bytes as f64 / 1024.0,
        layer.entries.len()
    );
    println!(
        "plain per-file analysis:  fastest {:>8.2} ms, median {:>8.2} ms  ({n_plain} findings)",
        ms(t_plain.min),
        ms(t_plain.median)
    );
    println!(
        "with template expansion:  fastest {:>8.2} ms, median {:>8.2} ms  ({n_tmpl} findings)",
        ms(t_tmpl.min),
        ms(t_tmpl.median)
    );
    println!(
        "  parsing twice:          fastest {:>8.2} ms, median {:>8.2} ms  ({:.2}x, {:.2}x)",
        ms(t_reparse.min),
        ms(t_reparse.median),
        ratio(t_reparse.min, t_plain.min),
        ratio(t_reparse.median, t_plain.median)
    );
    println!(
        "ratio: {:.2}x fastest, {:.2}x median (target: within 3x; {rounds} round{})",
        ratio(t_tmpl.min, t_plain.min),
        ratio(t_tmpl.median, t_plain.median),
        if rounds == 1 { "" } else { "s" }
    );
}
