//! The engine's two execution strategies agree on the whole shared corpus.
//!
//! The CLI answers the run's [`Plan`] in one batch and then judges every file; the language
//! server judges each file with what it knows (nothing at first), starts the lookups the file
//! still waits for, and judges it again as answers arrive, until nothing is pending. Both go
//! through the engine functions the binaries call (`Workspace::queries`, `Plan::new`,
//! `facts_for`, `Workspace::findings`, `FileQueries::unresolved`, `engine::fix`); the answers
//! come from the oracle's fake catalog (`shared/oracle/fake-digests.tsv`). For every corpus
//! file the findings and the fixed text must be identical, offline (the catalog alone) and
//! online (a registry that knows the catalog's tags and digests and fails on the rest).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use pin_core::engine::{
    self, facts_for, Answer, Answers, FactScope, File, FileQueries, FixRequest, LookupError, Plan,
    PlanOptions, Query, QueryKey, Status, Workspace,
};
use pin_core::{Analysis, Facts, Finding, ImageRef, Settings, TagFact};

/// The fake catalog as an answering service: tag keys to digests, and the digests it knows.
struct FakeRegistry {
    tags: HashMap<String, String>,
    digests: HashSet<String>,
    /// Whether lookups the catalog cannot answer go to a (failing) registry.
    online: bool,
}

impl FakeRegistry {
    fn load(shared: &Path, online: bool) -> FakeRegistry {
        let path = shared.join("oracle/fake-digests.tsv");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read the fake catalog {}: {e}", path.display()));
        let mut tags = HashMap::new();
        let mut digests = HashSet::new();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let (reference, digest) = line.split_once('\t').expect("reference<TAB>digest");
            let image = ImageRef::parse(reference).expect("a catalog reference parses");
            tags.insert(Facts::tag_key(&image), digest.to_string());
            digests.insert(format!(
                "{}/{}@{digest}",
                image.registry_host(),
                image.repository_path()
            ));
        }
        assert!(tags.len() > 100, "{} catalog entries", tags.len());
        FakeRegistry {
            tags,
            digests,
            online,
        }
    }

    /// What the catalog says: a tag's digest, or that a digest exists.
    fn catalog(&self, query: &Query) -> Option<Answer> {
        match query {
            Query::Tag { key, .. } => self.tags.get(key).map(|digest| {
                Answer::Tag(TagFact {
                    digest: digest.clone(),
                    platforms: Vec::new(),
                    source: "catalog fake-digests.tsv".to_string(),
                })
            }),
            Query::Digest { key, .. } => self
                .digests
                .contains(key)
                .then_some(Answer::DigestExists(true)),
            Query::VmVersions { .. } => None,
        }
    }

    /// What the registry behind the catalog says about what the catalog does not know: it
    /// cannot be reached.
    fn registry(&self, query: &Query) -> Answer {
        Answer::Failed(LookupError {
            service: "registry.invalid".to_string(),
            message: format!(
                "registry.invalid: cannot reach the registry for {}",
                query.key_str()
            ),
        })
    }

    /// The catalog's answer, else (online) the registry's; `None` when offline and the
    /// catalog does not know.
    fn answer(&self, query: &Query) -> Option<Answer> {
        self.catalog(query)
            .or_else(|| self.online.then(|| self.registry(query)))
    }
}

/// Every file of the corpus, by its path below the corpus folder.
fn corpus(root: &Path) -> Vec<File> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("corpus folder") {
            let path = entry.expect("corpus entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(root).expect("below the root");
            let name = rel.to_string_lossy().replace('\\', "/");
            let bytes = std::fs::read(&path).expect("corpus file");
            out.push(File {
                analysis: Analysis::from_bytes(&name, bytes),
                path: name,
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// What a strategy ends with, per file: findings, then the fix's status and text.
struct Outcome {
    findings: Vec<Vec<Finding>>,
    fixed: Vec<(Option<Status>, Option<String>)>,
    lookups: usize,
}

fn fix_all(
    ws: &Workspace,
    findings: &[Vec<Finding>],
    settings: &Settings,
    facts: &[Facts],
    unresolved: &[Vec<String>],
) -> Vec<(Option<Status>, Option<String>)> {
    let requests: Vec<FixRequest<'_>> = (0..ws.files.len())
        .map(|i| FixRequest {
            file: i,
            findings: &findings[i],
            settings,
            facts: &facts[i],
            unresolved: &unresolved[i],
        })
        .collect();
    let mut out = vec![(None, None); ws.files.len()];
    for (i, status, fix) in engine::fix(ws, &requests).files {
        out[i] = (status, fix.map(|f| f.text));
    }
    out
}

/// The CLI: plan every file, answer the distinct lookups once, then judge and fix.
fn batch(ws: &Workspace, settings: &Settings, registry: &FakeRegistry) -> Outcome {
    let judged = judge(ws, settings, registry);
    let unresolved: Vec<Vec<String>> = judged
        .queries
        .iter()
        .map(|q| q.unresolved(|k| judged.answers.get(k)))
        .collect();
    Outcome {
        fixed: fix_all(ws, &judged.findings, settings, &judged.facts, &unresolved),
        findings: judged.findings,
        lookups: judged.lookups,
    }
}

/// Every file's lookups, planned as one batch and answered by `registry`, and every file
/// judged with its facts.
struct Judged {
    queries: Vec<FileQueries>,
    answers: Answers,
    lookups: usize,
    facts: Vec<Facts>,
    findings: Vec<Vec<Finding>>,
}

/// A request to fix every file with its findings and facts, no lookup having failed.
fn fix_requests<'a>(
    findings: &'a [Vec<Finding>],
    settings: &'a Settings,
    facts: &'a [Facts],
) -> Vec<FixRequest<'a>> {
    (0..findings.len())
        .map(|i| FixRequest {
            file: i,
            findings: &findings[i],
            settings,
            facts: &facts[i],
            unresolved: &[],
        })
        .collect()
}

fn judge(ws: &Workspace, settings: &Settings, registry: &FakeRegistry) -> Judged {
    let options = PlanOptions {
        online: registry.online,
        context: false,
    };
    let queries: Vec<FileQueries> = (0..ws.files.len())
        .map(|i| ws.queries(i, settings, options))
        .collect();
    let plan = Plan::new(&queries, false);
    let mut answers = Answers::default();
    for q in &plan.queries {
        if let Some(answer) = registry.answer(&q.query) {
            answers.insert(q.query.key(), answer);
        }
    }
    let facts: Vec<Facts> = queries.iter().map(|q| answers.facts_for(q)).collect();
    let findings: Vec<Vec<Finding>> = (0..ws.files.len())
        .map(|i| ws.findings(i, settings, &facts[i]))
        .collect();
    Judged {
        lookups: plan.len(),
        queries,
        answers,
        facts,
        findings,
    }
}

/// The server: each document is linted with what its cache knows (the catalog answers at
/// once; registry lookups are started in the background); each answer that arrives is
/// cached and the document linted again, until it waits for nothing. Then "Bump" fixes
/// every file with the facts its last lint had.
fn incremental(ws: &Workspace, settings: &Settings, registry: &FakeRegistry) -> Outcome {
    let options = PlanOptions {
        online: registry.online,
        context: true,
    };
    let mut cache: HashMap<QueryKey, Answer> = HashMap::new();
    let mut asked: HashSet<QueryKey> = HashSet::new();
    let mut findings = Vec::with_capacity(ws.files.len());
    let mut facts = Vec::with_capacity(ws.files.len());
    let mut unresolved = Vec::with_capacity(ws.files.len());
    for i in 0..ws.files.len() {
        let queries = ws.queries(i, settings, options);
        // Lookups this lint starts: what is neither cached nor asked already.
        let mut in_flight: Vec<&Query> = Vec::new();
        loop {
            // The catalog answers at once; online, what it does not know is looked up.
            for d in &queries.demands {
                let key = d.query.key();
                if cache.contains_key(&key) || !asked.insert(key.clone()) {
                    continue;
                }
                match registry.catalog(&d.query) {
                    Some(answer) => {
                        cache.insert(key, answer);
                    }
                    None if registry.online => in_flight.push(&d.query),
                    None => {}
                }
            }
            let file_facts = facts_for(&queries, FactScope::Rules, |k| cache.get(k));
            let file_findings = ws.findings(i, settings, &file_facts);
            // One answer arrives; the document is linted again.
            let Some(query) = in_flight.pop() else {
                findings.push(file_findings);
                unresolved.push(queries.unresolved(|k| cache.get(k)));
                facts.push(file_facts);
                break;
            };
            cache.insert(query.key(), registry.registry(query));
        }
    }
    Outcome {
        fixed: fix_all(ws, &findings, settings, &facts, &unresolved),
        findings,
        lookups: asked.len(),
    }
}

fn compare(online: bool) {
    let shared = pin_test_support::shared_dir();
    let registry = FakeRegistry::load(&shared, online);
    let ws = Workspace::new(corpus(&shared.join("corpus")));
    assert!(ws.files.len() > 100, "{} corpus files", ws.files.len());
    let settings = Settings::default();
    let batch = batch(&ws, &settings, &registry);
    let server = incremental(&ws, &settings, &registry);
    for (i, file) in ws.files.iter().enumerate() {
        assert_eq!(
            batch.findings[i], server.findings[i],
            "findings of {} differ (online: {online})",
            file.path
        );
        assert_eq!(
            batch.fixed[i], server.fixed[i],
            "fix of {} differs (online: {online})",
            file.path
        );
    }
    // The comparison is about something: facts were used, files were fixed, and (online)
    // lookups failed and held files back.
    let with_fix = |o: &Outcome| {
        o.findings
            .iter()
            .flatten()
            .filter(|f| f.fix.is_some())
            .count()
    };
    let fixed = batch
        .fixed
        .iter()
        .filter(|(s, _)| *s == Some(Status::Fixed))
        .count();
    let skipped = batch
        .fixed
        .iter()
        .filter(|(s, _)| matches!(s, Some(Status::Skipped(_))))
        .count();
    eprintln!(
        "online: {online}; {} files, {} findings ({} with a fix), {fixed} fixed, {skipped} \
         skipped; lookups: batch {}, server {} (hovers included)",
        ws.files.len(),
        batch.findings.iter().map(Vec::len).sum::<usize>(),
        with_fix(&batch),
        batch.lookups,
        server.lookups
    );
    assert!(
        with_fix(&batch) > 50,
        "{} findings with a fix",
        with_fix(&batch)
    );
    assert!(fixed > 10, "{fixed} files fixed");
    assert_eq!(skipped > 0, online, "{skipped} files skipped");
}

#[test]
fn batch_and_incremental_execution_agree_offline() {
    compare(false);
}

#[test]
fn batch_and_incremental_execution_agree_online() {
    compare(true);
}

/// The same files analysed again two ways agree: every analysis and the whole template layer.
fn assert_same_workspace(full: &Workspace, reusing: &Workspace, case: &str) {
    assert_eq!(full.files.len(), reusing.files.len(), "{case}");
    for (a, b) in full.files.iter().zip(&reusing.files) {
        assert_eq!(a.path, b.path, "{case}");
        assert_eq!(
            format!("{:?}", a.analysis),
            format!("{:?}", b.analysis),
            "{case}: the analysis of {} differs",
            a.path
        );
    }
    assert_eq!(
        format!("{:?}", full.layer),
        format!("{:?}", reusing.layer),
        "{case}: the template layer differs"
    );
}

/// The template layer's options of `check`.
const LAYER: pin_core::template::Options = pin_core::template::Options {
    inventory: false,
    hovers: false,
};

/// `--fix` analyses the fixed set again with what reading the unchanged files showed (and
/// their YAML trees, when the model keeps them) taken from the model the first pass built,
/// and only the roots that read a fixed file expanded again (`engine::fix_reusing`,
/// `Workspace::with_texts_reusing`). On the whole corpus that must be exactly the full
/// re-analysis (`engine::fix`, `Workspace::with_texts`): the fix's statuses and texts, and the
/// analysed set, with every fix applied, with only some (as when a fix that does not converge
/// is taken back), and with a fixed text that no longer parses; from a model that keeps its
/// trees, and from one that keeps none (as `check` builds it).
#[test]
fn fix_reusing_the_first_passs_trees_agrees_with_a_full_reanalysis() {
    let shared = pin_test_support::shared_dir();
    let ws = Workspace::new(corpus(&shared.join("corpus")));
    let inputs = || {
        ws.files.iter().map(|f| pin_core::template::repo::Input {
            path: &f.path,
            text: f.analysis.source.text(),
            known: Some((f.analysis.dialect, f.analysis.references.as_slice())),
        })
    };
    fix_reusing_agrees(&ws, &pin_core::template::Repository::build(inputs()));
    let read = inputs().filter_map(|input| pin_core::template::repo::ReadFile::new(input, None));
    fix_reusing_agrees(&ws, &pin_core::template::Repository::from_read(read));
}

/// The checks of [`fix_reusing_the_first_passs_trees_agrees_with_a_full_reanalysis`] for one
/// first-pass model of `ws`.
fn fix_reusing_agrees(ws: &Workspace, repo: &pin_core::template::Repository<'_>) {
    let shared = pin_test_support::shared_dir();
    let registry = FakeRegistry::load(&shared, false);
    // As `check --fix` runs its first pass: what each root's expansion showed is kept, so that
    // the second pass expands again only the roots that read a fixed file.
    let layer = pin_core::template::analyze_repository_keeping(repo, LAYER);
    assert_eq!(format!("{layer:?}"), format!("{:?}", ws.layer));
    let settings = Settings::default();
    let Judged {
        facts, findings, ..
    } = judge(ws, &settings, &registry);
    let requests = fix_requests(&findings, &settings, &facts);

    let full = engine::fix(ws, &requests);
    let reusing = engine::fix_reusing(ws, repo, &requests);
    assert_eq!(full.files, reusing.files);
    let (Some(full_after), Some(reusing_after)) = (&full.after, &reusing.after) else {
        panic!("nothing was fixed");
    };
    assert_same_workspace(full_after, reusing_after, "every fix applied");

    let fixed: Vec<(usize, String)> = full
        .files
        .iter()
        .filter_map(|(i, _, fix)| Some((*i, fix.as_ref()?.text.clone())))
        .collect();
    assert!(fixed.len() > 10, "{} files fixed", fixed.len());
    let texts = |keep: &dyn Fn(usize) -> bool| {
        let mut texts: Vec<Option<String>> = vec![None; ws.files.len()];
        for (n, (i, text)) in fixed.iter().enumerate() {
            if keep(n) {
                texts[*i] = Some(text.clone());
            }
        }
        texts
    };
    let some = texts(&|n| n % 2 == 0);
    assert_same_workspace(
        &ws.with_texts(&some),
        &ws.with_texts_reusing(repo, &some),
        "every other fix taken back",
    );
    // A fixed text that no longer parses keeps the part before the error in the layer.
    let mut broken = texts(&|_| true);
    let (i, _) = fixed[0];
    broken[i].as_mut().expect("fixed").push_str("\njobs: [\n");
    let full_broken = ws.with_texts(&broken);
    assert!(full_broken.files[i].analysis.syntax_error.is_some());
    assert_same_workspace(
        &full_broken,
        &ws.with_texts_reusing(repo, &broken),
        "a fixed file that does not parse",
    );
}

/// The layer of a later state of the files, with only the roots that read a changed file
/// expanded again (`template::analyze_repository_after`), is the full layer's, also with the
/// inventory and the hovers' records, and when the model it starts from kept nothing; from
/// models that keep their trees and from models that keep none, whose layer is also the
/// same.
#[test]
fn the_layer_after_a_fix_expands_again_only_what_it_must_and_agrees() {
    use pin_core::template::{self, repo::Input, repo::ReadFile, Options, Repository};
    let shared = pin_test_support::shared_dir();
    let registry = FakeRegistry::load(&shared, false);
    let ws = Workspace::new(corpus(&shared.join("corpus")));
    let settings = Settings::default();
    let Judged {
        facts, findings, ..
    } = judge(&ws, &settings, &registry);
    let requests = fix_requests(&findings, &settings, &facts);
    let fixed = engine::fix(&ws, &requests);
    let mut texts: Vec<String> = ws
        .files
        .iter()
        .map(|f| f.analysis.source.text().to_string())
        .collect();
    let mut n = 0;
    for (i, _, fix) in &fixed.files {
        if let Some(fix) = fix {
            texts[*i] = fix.text.clone();
            n += 1;
        }
    }
    assert!(n > 10, "{n} files fixed");
    let inputs = |texts: &[String]| -> Vec<(String, String)> {
        ws.files
            .iter()
            .zip(texts)
            .map(|(f, t)| (f.path.clone(), t.clone()))
            .collect()
    };
    let before = inputs(
        &ws.files
            .iter()
            .map(|f| f.analysis.source.text().to_string())
            .collect::<Vec<_>>(),
    );
    let after = inputs(&texts);
    fn input<'t>((path, text): &'t (String, String)) -> Input<'t, 't> {
        Input {
            path,
            text,
            known: None,
        }
    }
    fn model(files: &[(String, String)], keep: bool) -> Repository<'_> {
        if keep {
            Repository::build(files.iter().map(input))
        } else {
            Repository::from_read(files.iter().filter_map(|f| ReadFile::new(input(f), None)))
        }
    }
    let everything = Options {
        inventory: true,
        hovers: true,
    };
    for (options, keep) in [
        (LAYER, true),
        (everything, true),
        (LAYER, false),
        (everything, false),
    ] {
        let model = |files| model(files, keep);
        let old = model(&before);
        let first = template::analyze_repository_keeping(&old, options);
        assert_eq!(
            format!("{first:?}"),
            format!(
                "{:?}",
                template::analyze_repository(&model(&before), options)
            ),
            "{options:?}: the first pass"
        );
        assert_eq!(
            format!("{first:?}"),
            format!(
                "{:?}",
                template::analyze_repository(&Repository::build(before.iter().map(input)), options)
            ),
            "{options:?}: a model with or without trees"
        );
        let new = Repository::build_reusing(&old, after.iter().map(|f| (input(f), None)));
        // The model takes what reading each unchanged file showed from the old one: the same.
        let fresh = model(&after);
        assert_eq!(new.entries(), fresh.entries());
        assert_eq!(new.included, fresh.included);
        assert_eq!(new.problems, fresh.problems);
        assert_eq!(new.aliases, fresh.aliases);
        let full = template::analyze_repository(&fresh, options);
        assert_eq!(
            format!(
                "{:?}",
                template::analyze_repository_after(&old, &new, options)
            ),
            format!("{full:?}"),
            "{options:?}: the second pass (model keeps trees: {keep})"
        );
        // Nothing changed: everything is taken as it was.
        assert_eq!(
            format!(
                "{:?}",
                template::analyze_repository_after(&old, &model(&before), options)
            ),
            format!("{first:?}"),
            "{options:?}: nothing changed"
        );
        // A model analysed without keeping anything: the second pass is a full one.
        assert_eq!(
            format!(
                "{:?}",
                template::analyze_repository_after(&model(&before), &new, options)
            ),
            format!("{full:?}"),
            "{options:?}: nothing kept"
        );
    }
}
