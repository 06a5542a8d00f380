//! Holds: `[[hold]]` parsing and its errors, which references a hold matches, a held
//! reference's findings (reported, no fix), the plan (still asked, blocking no fix), what a
//! held image would have moved to, and `expired-hold` / `unused-hold` placed in the file.

use std::path::Path;

use pin_core::config::{Config, ConfigError};
use pin_core::engine::{self, holds, File, PlanOptions, Purpose, Workspace};
use pin_core::settings::{Date, Hold};
use pin_core::{Analysis, Facts, ImageRef, TagFact};

fn digest(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

fn image(text: &str) -> ImageRef {
    ImageRef::parse(text).expect("valid reference")
}

fn config(text: &str) -> Config {
    Config::parse(text, Some(Path::new("/repo/pin-lint.toml"))).expect("valid configuration")
}

fn error(text: &str) -> String {
    match Config::parse(text, Some(Path::new("/repo/pin-lint.toml"))) {
        Err(e @ ConfigError::Invalid { .. }) => e.to_string(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

const HELD: &str = "mcr.microsoft.com/dotnet-buildtools/prereqs";

#[test]
fn holds_need_an_image_and_a_reason_and_take_a_real_date() {
    let c = config(&format!(
        "[[hold]]\nimage = \"{HELD}:azurelinux-3.0-net10.0-cross-*\"\nreason = \"https://github.com/dotnet/runtime/issues/1\"\nuntil = 2026-02-28\n\n[[hold]]\nimage = \"ghcr.io/org/**\"\nreason = \"x\"\nuntil = \"2028-02-29\"\n"
    ));
    assert_eq!(c.holds.len(), 2);
    assert_eq!(
        c.holds[0].reason,
        "https://github.com/dotnet/runtime/issues/1"
    );
    assert_eq!(
        c.holds[0].until.map(|d| d.to_string()).as_deref(),
        Some("2026-02-28")
    );
    assert_eq!(
        c.holds[1].until.map(|d| d.to_string()).as_deref(),
        Some("2028-02-29")
    );
    // The span is the `image` value, as written in the file.
    assert_eq!(&c.text[c.holds[1].span.clone()], "\"ghcr.io/org/**\"");
    assert_eq!(c.settings().holds, c.holds);

    assert_eq!(
        error("[[hold]]\nimage = \"a/b:1\"\n"),
        "/repo/pin-lint.toml:1:1: the `[[hold]]` of `a/b:1` needs `reason = \"…\"`, say why the image is held, e.g. a tracking link"
    );
    assert_eq!(
        error("[[hold]]\nimage = \"a/b:1\"\nreason = \"  \"\n"),
        "/repo/pin-lint.toml:3:10: the hold's `reason` is empty, say why the image is held, e.g. a tracking link"
    );
    assert!(error("[[hold]]\nreason = \"r\"\n").contains("needs `image = \"<reference or glob>\"`"));
    assert_eq!(
        error("[[hold]]\nimage = \"a/b:1\"\nreason = \"r\"\nuntil = \"2026-02-30\"\n"),
        "/repo/pin-lint.toml:4:9: invalid date `2026-02-30`, write a date as `YYYY-MM-DD`, e.g. `2026-12-31`"
    );
    assert!(
        error("[[hold]]\nimage = \"a/b:1\"\nreason = \"r\"\nuntil = \"next week\"\n")
            .contains("invalid date `next week`")
    );
    assert!(
        error("[[hold]]\nimage = \"a/b:1\"\nreason = \"r\"\nuntil = 20260101\n")
            .contains("expected a date such as `2026-12-31`, found integer")
    );
    assert!(error("[[hold]]\nimage = \"a/b:1\"\nreson = \"r\"\n")
        .contains("unknown key `reson` in `[[hold]]`, did you mean `reason`?"));
    assert!(error("[[hold]]\nimage = \"a/[b\"\nreason = \"r\"\n").contains("invalid image pattern"));
}

#[test]
fn dates_parse_only_when_they_exist_and_follow_the_clock() {
    for bad in [
        "2026-2-1",
        "2026-13-01",
        "2026-00-10",
        "2025-02-29",
        "1900-02-29",
        "2026-04-31",
        "x026-01-01",
    ] {
        assert_eq!(Date::parse(bad), None, "{bad}");
    }
    assert!(Date::parse("2000-02-29").is_some());
    assert_eq!(Date::from_unix_days(0).to_string(), "1970-01-01");
    assert_eq!(Date::from_unix_days(20_792).to_string(), "2026-12-05");
    assert_eq!(Date::from_unix_days(11_016).to_string(), "2000-02-29");
    assert!(Date::parse("2026-12-05") < Date::parse("2026-12-06"));
}

#[test]
fn a_hold_matches_by_tag_glob_by_name_and_in_every_spelling() {
    let by_tag =
        Hold::new(&format!("{HELD}:azurelinux-3.0-net10.0-cross-*"), "r", None).expect("glob");
    assert!(by_tag.matches(&image(&format!(
        "{HELD}:azurelinux-3.0-net10.0-cross-arm64"
    ))));
    assert!(by_tag.matches(&image(&format!(
        "{HELD}:azurelinux-3.0-net10.0-cross-amd64@{}",
        digest('1')
    ))));
    assert!(!by_tag.matches(&image(&format!("{HELD}:azurelinux-3.0-net9.0-cross-amd64"))));
    assert!(!by_tag.matches(&image(HELD)), "no tag, nothing to match");
    let by_name = Hold::new("docker.io/library/ubuntu", "r", None).expect("glob");
    assert!(by_name.matches(&image("ubuntu:24.04")));
    assert!(by_name.matches(&image("docker.io/ubuntu")));
    assert!(!by_name.matches(&image("ubuntu-extra:1")));
    let as_written = Hold::new("ubuntu:22.04", "r", None).expect("glob");
    assert!(as_written.matches(&image("ubuntu:22.04")));
    assert!(!as_written.matches(&image("ubuntu:24.04")));
    let tree = Hold::new("127.0.0.1:5000/team/**", "r", None).expect("glob");
    assert!(tree.matches(&image("127.0.0.1:5000/team/b/c:1")));
    assert!(!tree.matches(&image("127.0.0.1:5000/other/b:1")));
    let today = Date::parse("2026-12-05");
    let until = |d: &str| Hold::new("a/b", "r", Date::parse(d)).expect("glob");
    assert!(until("2026-12-04").expired(today));
    assert!(
        !until("2026-12-05").expired(today),
        "the until day itself is still held"
    );
    assert!(!until("2026-12-04").expired(None));
    assert_eq!(until("2026-12-04").describe(), "r (until 2026-12-04)");
}

fn tag_fact(facts: &mut Facts, text: &str, d: &str) {
    facts.insert_tag(
        Facts::tag_key(&image(text)),
        TagFact {
            digest: d.to_string(),
            platforms: Vec::new(),
            source: "test".to_string(),
        },
    );
}

/// `a` pinned and stale, `b` pinned and stale, `c` unpinned; `b` and `c` are held.
fn pipeline() -> String {
    format!(
        "resources:\n  containers:\n  - container: a\n    image: reg.io/team/a:1@{old}\n  - container: b\n    image: reg.io/team/b:1@{old}\n  - container: c\n    image: reg.io/team/c:1\n",
        old = digest('1')
    )
}

const HOLDS: &str = "[[hold]]\nimage = \"reg.io/team/b:*\"\nreason = \"b breaks the arm64 leg\"\nuntil = 2026-12-31\n\n[[hold]]\nimage = \"reg.io/team/c\"\nreason = \"c is being renamed\"\n\n[[hold]]\nimage = \"reg.io/team/gone:*\"\nreason = \"nothing uses it\"\nuntil = 2026-01-31\n";

#[test]
fn held_references_are_reported_without_a_fix_and_listed_with_their_new_digest() {
    let config = config(HOLDS);
    let mut settings = config.settings();
    settings.today = Date::parse("2026-12-05");
    let mut facts = Facts::none();
    for name in ["a", "b", "c"] {
        tag_fact(&mut facts, &format!("reg.io/team/{name}:1"), &digest('2'));
    }
    let analysis = Analysis::new("azure-pipelines.yml", pipeline());
    let findings = analysis.findings(&settings, &facts);
    let summary: Vec<(&str, bool, &str)> = findings
        .iter()
        .map(|f| (f.rule.id(), f.fix.is_some(), f.message.as_str()))
        .collect();
    assert_eq!(summary.len(), 3, "{summary:#?}");
    assert_eq!((summary[0].0, summary[0].1), ("stale-digest", true));
    assert!(!summary[0].2.contains("held"), "{}", summary[0].2);
    assert_eq!((summary[1].0, summary[1].1), ("stale-digest", false));
    assert!(
        summary[1].2.ends_with(
            "; held by `[[hold]]` `reg.io/team/b:*`: b breaks the arm64 leg (until 2026-12-31)"
        ),
        "{}",
        summary[1].2
    );
    assert_eq!((summary[2].0, summary[2].1), ("unpinned-image", false));
    assert!(
        summary[2].2.ends_with(": c is being renamed"),
        "{}",
        summary[2].2
    );
    // Offline (no facts) the unpinned held reference still says it is held.
    let offline = analysis.findings(&settings, &Facts::none());
    assert!(offline
        .iter()
        .any(|f| f.rule.id() == "unpinned-image" && f.message.contains("held by")));

    // The fix changes only `a`.
    let ws = Workspace::new(vec![File {
        path: "azure-pipelines.yml".into(),
        analysis: analysis.clone(),
    }]);
    let request = engine::FixRequest {
        file: 0,
        findings: &findings,
        settings: &settings,
        facts: &facts,
        unresolved: &[],
    };
    let outcome = engine::fix(&ws, &[request]);
    let fix = outcome.files[0].2.as_ref().expect("fixed");
    assert_eq!(fix.changes.len(), 1);
    assert_eq!(fix.changes[0].image, "reg.io/team/a");
    assert!(fix
        .text
        .contains(&format!("reg.io/team/b:1@{}", digest('1'))));
    assert!(fix.text.contains("image: reg.io/team/c:1\n"));

    // Held back: b (pinned, would move to 2…) and c (unpinned, would be pinned to 2…).
    let held = holds::held_back(&ws.files[0], &settings, &facts);
    type Row<'a> = (
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        &'a str,
    );
    let rows: Vec<Row<'_>> = held
        .iter()
        .map(|h| {
            (
                h.image.as_str(),
                h.old_digest.as_deref(),
                h.new_digest.as_deref(),
                h.until.as_deref(),
                h.reason.as_str(),
            )
        })
        .collect();
    let (one, two) = (digest('1'), digest('2'));
    assert_eq!(
        rows,
        [
            (
                "reg.io/team/b",
                Some(one.as_str()),
                Some(two.as_str()),
                Some("2026-12-31"),
                "b breaks the arm64 leg"
            ),
            (
                "reg.io/team/c",
                None,
                Some(two.as_str()),
                None,
                "c is being renamed"
            ),
        ]
    );
    assert_eq!((held[0].line, held[0].column), (6, 12));
    // A held pin that is current is not held back; an unknown answer is listed as unknown.
    let mut current = Facts::none();
    tag_fact(&mut current, "reg.io/team/b:1", &digest('1'));
    let held = holds::held_back(&ws.files[0], &settings, &current);
    assert_eq!(held.len(), 1);
    assert_eq!(
        (held[0].image.as_str(), held[0].new_digest.as_deref()),
        ("reg.io/team/c", None)
    );

    // The lookups of held references are still planned, but no fix waits for them.
    let online = PlanOptions {
        online: true,
        context: false,
    };
    let queries = ws.queries(0, &settings, online);
    let tags: Vec<(&str, bool)> = queries
        .rule_demands()
        .filter(|d| matches!(d.query, engine::Query::Tag { .. }))
        .map(|d| {
            let blocks = d.purpose == Purpose::Rule { blocks_fix: true };
            (d.query.key_str(), blocks)
        })
        .collect();
    assert_eq!(
        tags,
        [
            ("reg.io/team/a:1", true),
            ("reg.io/team/b:1", false),
            ("reg.io/team/c:1", false)
        ]
    );

    // The holds themselves: `b` and `c` match, `gone` matches nothing and expired.
    let mut used = vec![false; config.holds.len()];
    holds::mark_used(
        &config.holds,
        &holds::images(&ws.files[0].analysis, None),
        &mut used,
    );
    assert_eq!(used, [true, true, false]);
    let about = holds::findings(&config, &settings, Some(&used));
    let placed = holds::config_analysis(&config);
    let rendered: Vec<String> = about
        .iter()
        .map(|f| {
            let at = placed.source.line_col(f.span.start);
            format!(
                "{} {} {}:{} {}",
                f.rule.id(),
                f.severity.as_str(),
                at.line,
                at.column,
                f.message
            )
        })
        .collect();
    assert_eq!(
        rendered,
        [
            "expired-hold warning 11:9 the hold of `reg.io/team/gone:*` expired on 2026-01-31 (nothing uses it); it still holds: remove it or extend `until`",
            "unused-hold warning 11:9 the hold of `reg.io/team/gone:*` matches no image reference: correct the pattern or remove the hold",
        ]
    );
    // Not judged: no usage given, no today; rules turned off.
    let mut quiet = settings.clone();
    quiet.today = None;
    assert!(holds::findings(&config, &quiet, None).is_empty());
    quiet.today = settings.today;
    quiet.ignore = vec![pin_core::Rule::from_id("expired-hold").expect("rule")];
    assert_eq!(holds::findings(&config, &quiet, Some(&used)).len(), 1);
}

#[test]
fn missing_tag_alone_still_asks_for_every_tag_online() {
    let settings = pin_core::Settings {
        select: vec![pin_core::Rule::from_id("missing-tag").expect("rule")],
        ..pin_core::Settings::default()
    };
    let analysis = Analysis::new("azure-pipelines.yml", pipeline());
    let queries = engine::file_queries(
        &analysis,
        None,
        &settings,
        PlanOptions {
            online: true,
            context: false,
        },
    );
    let keys: Vec<&str> = queries.rule_demands().map(|d| d.query.key_str()).collect();
    assert_eq!(
        keys,
        ["reg.io/team/a:1", "reg.io/team/b:1", "reg.io/team/c:1"]
    );
    assert!(queries
        .rule_demands()
        .all(|d| d.purpose == Purpose::Rule { blocks_fix: false }));
    // Offline only a registry can say a tag is gone: nothing to ask.
    let offline = engine::file_queries(&analysis, None, &settings, PlanOptions::default());
    assert!(offline.demands.is_empty());
}
