//! VM catalogs in the JSON shapes `az vm image list --all -o json` and
//! `az sig image-version list -o json` print, and the facts they give.

use std::path::PathBuf;

use pin_core::{Analysis, Facts, Settings};
use pin_vm_resolve::{resolve_into, sniff, vm_queries, VmCatalog, VmOptions};

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/vm")
        .join(rel)
}

const GALLERY: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/images/providers/Microsoft.Compute/galleries/ciGallery/images/agent-ubuntu";

#[test]
fn az_shapes_are_recognised() {
    let market = VmCatalog::load(&fixture("catalog/marketplace.json"))
        .expect("readable")
        .expect("az vm image list shape");
    let versions = market
        .versions("Canonical:UBUNTU-24_04-lts:server")
        .expect("listed, case-insensitively");
    assert_eq!(versions.len(), 3);

    let gallery = VmCatalog::load(&fixture("catalog/gallery.json"))
        .expect("readable")
        .expect("az sig image-version list shape");
    let versions = gallery
        .versions(&Facts::vm_gallery_key(GALLERY))
        .expect("listed");
    let excluded: Vec<&str> = versions
        .iter()
        .filter(|v| v.exclude_from_latest)
        .map(|v| v.version.as_str())
        .collect();
    assert_eq!(excluded, ["2.0.0"]);
    assert!(versions.iter().all(|v| v.published.is_some()));
}

#[test]
fn other_files_are_not_vm_catalogs() {
    for text in [
        "[]",
        "{}",
        "not json",
        "mcr.microsoft.com/a:b\tsha256:0000",
        r#"[{"name": "x"}]"#,
        r#"[{"id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/images/managed"}]"#,
        r#"{"schemaVersion": "1.0", "repos": []}"#,
    ] {
        assert!(sniff(text).is_none(), "{text}");
    }
    let renovate = std::fs::read_to_string(fixture("other/renovate.json")).expect("readable");
    assert!(sniff(&renovate).is_none());
    // The REST page shape is accepted too.
    let page = r#"{"value":[{"id":"/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0","name":"1.0.0","properties":{"publishingProfile":{"excludeFromLatest":true}}}]}"#;
    let catalog = sniff(page).expect("REST page shape");
    let versions = catalog
        .versions(
            "/subscriptions/s/resourcegroups/r/providers/microsoft.compute/galleries/g/images/i",
        )
        .expect("listed");
    assert!(versions[0].exclude_from_latest);
}

/// `1.10.0` is newer than `1.9.3`, and a version excluded from latest is never proposed, even
/// when it is the highest.
#[tokio::test]
async fn pins_follow_azure_version_order_and_exclusions() {
    let text = format!(
        "resource \"azurerm_linux_virtual_machine_scale_set\" \"a\" {{\n  source_image_id = \"{GALLERY}/versions/1.9.3\"\n}}\nresource \"azurerm_linux_virtual_machine_scale_set\" \"b\" {{\n  source_image_id = \"{GALLERY}/versions/latest\"\n}}\n"
    );
    let analysis = Analysis::new("main.tf", text.clone());
    let mut facts = Facts::none();
    let opts = VmOptions {
        catalogs: vec![VmCatalog::load(&fixture("catalog/gallery.json"))
            .expect("readable")
            .expect("catalog")
            .named("gallery.json")],
        ..VmOptions::default()
    };
    let errors = resolve_into(&mut facts, &vm_queries(&analysis.references), &opts).await;
    assert!(errors.is_empty());
    assert_eq!(
        facts.vm_source(&Facts::vm_gallery_key(GALLERY)),
        Some("catalog gallery.json")
    );
    let findings = analysis.findings(&Settings::default(), &facts);
    let fixes: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| {
            let fix = f.fix.as_ref().expect("a fix");
            (f.rule.id(), fix.edits[0].new_text.as_str())
        })
        .collect();
    assert_eq!(
        fixes,
        [
            ("stale-vm-image", "1.10.0"),
            ("unpinned-vm-image", "1.10.0")
        ]
    );

    // Only excluded versions: nothing is what `latest` means, so no fix is offered.
    let only_excluded = r#"[{"id":"/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images/i/versions/9.0.0","name":"9.0.0","publishingProfile":{"excludeFromLatest":true}}]"#;
    let mut facts = Facts::none();
    let analysis = Analysis::new(
        "x.tf",
        "source_image_id = \"/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images/i\"\n".to_string(),
    );
    let opts = VmOptions {
        catalogs: vec![sniff(only_excluded).expect("catalog")],
        ..VmOptions::default()
    };
    resolve_into(&mut facts, &vm_queries(&analysis.references), &opts).await;
    let findings = analysis.findings(&Settings::default(), &facts);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].rule.id(), "unpinned-vm-image");
    assert!(findings[0].fix.is_none());
}
