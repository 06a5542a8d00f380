//! Every VM rule on every file type of `tests/fixtures/vm/`, with facts from the az-shaped
//! catalogs there: the findings and the text after applying every fix are snapshots.

use std::path::PathBuf;

use pin_core::{fix, Analysis, Facts, Settings};
use pin_vm_resolve::{resolve_into, vm_queries, VmCatalog, VmOptions};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/vm")
}

fn catalogs() -> Vec<VmCatalog> {
    ["catalog/marketplace.json", "catalog/gallery.json"]
        .iter()
        .map(|name| {
            VmCatalog::load(&fixtures().join(name))
                .expect("catalog is readable")
                .expect("catalog is recognised")
                .named(name)
        })
        .collect()
}

fn settings() -> Settings {
    let mut settings = Settings::default();
    settings
        .vm
        .set_known_pool_images(["build.azurelinux.3.amd64.open", "Windows.VS2026.Amd64"]);
    settings
}

/// Findings (one line each) and the fixed text, for a fixture at `rel`.
async fn report(rel: &str) -> String {
    let text = std::fs::read_to_string(fixtures().join(rel)).expect("fixture is readable");
    let analysis = Analysis::new(rel, text.clone());
    let mut facts = Facts::none();
    let opts = VmOptions {
        catalogs: catalogs(),
        ..VmOptions::default()
    };
    let errors = resolve_into(&mut facts, &vm_queries(&analysis.references), &opts).await;
    assert!(errors.is_empty(), "{errors:?}");
    let findings = analysis.findings(&settings(), &facts);
    let mut out = String::new();
    let mut edits = Vec::new();
    for f in &findings {
        let at = analysis.source.line_col(f.span.start);
        out.push_str(&format!(
            "{}:{} {} {}: {}\n",
            at.line,
            at.column,
            f.rule.id(),
            f.severity.as_str(),
            f.message
        ));
        if let Some(fix) = &f.fix {
            out.push_str(&format!(
                "    fix ({:?}): {}\n",
                fix.applicability, fix.title
            ));
            edits.extend(fix.edits.iter().cloned());
        }
    }
    let fixed = fix::apply(&text, &edits).expect("fixes do not overlap");
    // A fixed file is read again the same way and keeps every reference.
    let again = Analysis::new(rel, fixed.clone());
    assert_eq!(again.references.len(), analysis.references.len(), "{rel}");
    assert!(again.syntax_error.is_none(), "{rel}");
    out.push_str("--- after applying every fix ---\n");
    out.push_str(&fixed);
    out
}

macro_rules! fixture {
    ($name:ident, $path:literal) => {
        #[tokio::test]
        async fn $name() {
            insta::assert_snapshot!(stringify!($name), report($path).await);
        }
    };
}

fixture!(azure_pipelines, "azure-pipelines.yml");
fixture!(github_actions, ".github/workflows/ci.yml");
fixture!(arm_template, "arm/vm.json");
fixture!(arm_managed_devops_pool, "arm/mdp-pool.json");
fixture!(bicep, "bicep/vm.bicep");
fixture!(bicep_managed_devops_pool, "bicep/mdp-pool.bicep");
fixture!(terraform, "terraform/main.tf");

#[test]
fn json_that_is_not_a_template_gives_nothing() {
    for rel in [
        "other/renovate.json",
        "other/tsconfig.json",
        "catalog/gallery.json",
    ] {
        let text = std::fs::read_to_string(fixtures().join(rel)).expect("readable");
        let analysis = Analysis::new(rel, text);
        assert!(analysis.dialect.is_none(), "{rel}");
        assert!(analysis.references.is_empty(), "{rel}");
        assert!(
            analysis
                .findings(&Settings::default(), &Facts::none())
                .is_empty(),
            "{rel}"
        );
    }
}

#[test]
fn offline_the_rules_that_need_no_facts_still_fire() {
    let rel = "terraform/main.tf";
    let text = std::fs::read_to_string(fixtures().join(rel)).expect("readable");
    let analysis = Analysis::new(rel, text);
    let findings = analysis.findings(&Settings::default(), &Facts::none());
    let rules: Vec<&str> = findings.iter().map(|f| f.rule.id()).collect();
    assert_eq!(rules, ["unpinned-vm-image", "unpinned-vm-image"]);
    assert!(findings.iter().all(|f| f.fix.is_none()));
}
