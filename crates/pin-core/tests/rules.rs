//! Every rule on small files, with and without facts and settings: the exact findings (rule,
//! severity, span, message) and fixes (title, safety, edits, fixed text) each one gives.

use pin_core::fix::{self, Applicability};
use pin_core::rules::Rule;
use pin_core::settings::Settings;
use pin_core::{Analysis, Facts, TagFact, VmVersion};

fn digest(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

/// One line a finding: `rule severity line:col `text` message`, then its fix and the fixed
/// line(s) when it has one.
fn render(path: &str, text: &str, settings: &Settings, facts: &Facts) -> String {
    let analysis = Analysis::new(path, text.to_string());
    let mut out = String::new();
    for f in analysis.findings(settings, facts) {
        let at = analysis.source.line_col(f.span.start);
        out.push_str(&format!(
            "{} {} {}:{} `{}` {}\n",
            f.rule.id(),
            f.severity.as_str(),
            at.line,
            at.column,
            &text[f.span.clone()],
            f.message
        ));
        if let Some(fix) = &f.fix {
            let fixed = fix::apply(text, &fix.edits).expect("fix applies");
            let changed: Vec<&str> = fixed
                .lines()
                .zip(text.lines())
                .filter(|(a, b)| a != b)
                .map(|(a, _)| a.trim())
                .collect();
            let safety = match fix.applicability {
                Applicability::Safe => "safe",
                Applicability::Unsafe => "unsafe",
            };
            out.push_str(&format!(
                "  fix `{}` ({safety}): {}\n",
                fix.title,
                changed.join(" / ")
            ));
        }
    }
    out
}

fn tag_fact(facts: &mut Facts, image: &str, d: &str) {
    let image = pin_core::ImageRef::parse(image).expect("valid");
    facts.insert_tag(
        Facts::tag_key(&image),
        TagFact {
            digest: d.to_string(),
            platforms: Vec::new(),
            source: "test".to_string(),
        },
    );
}

fn digest_fact(facts: &mut Facts, image: &str, exists: bool) {
    let image = pin_core::ImageRef::parse(image).expect("valid");
    facts.insert_digest(Facts::digest_key(&image).expect("pinned"), exists);
}

const PIPELINE: &str = "\
resources:
  containers:
  - container: build
    image: mcr.microsoft.com/dotnet-buildtools/prereqs:ubuntu-24.04
  - container: stale
    image: ghcr.io/team/tool:3@sha256:1111111111111111111111111111111111111111111111111111111111111111
  - container: broken
    image: ghcr.io/team/gone:1@sha256:2222222222222222222222222222222222222222222222222222222222222222
  - container: current
    image: ghcr.io/team/app:2@sha256:3333333333333333333333333333333333333333333333333333333333333333
  - container: bare
    image: ubuntu
  - container: digestonly
    image: ghcr.io/team/app@sha256:4444444444444444444444444444444444444444444444444444444444444444
  - container: bad
    image: ghcr.io/Team/App:1
  - container: dyn
    image: $(imageName)
pool:
  vmImage: ubuntu-latest
jobs:
- job: a
  pool:
    vmImage: ubuntu-20.04
  container: build
  steps:
  - script: make
- job: b
  pool:
    name: mdp
    demands:
    - ImageOverride -equals team-custom-image
  container: nosuchalias
  steps:
  - script: make # pin-lint: ignore[unpinned-image]
";

fn pipeline_facts() -> Facts {
    let mut facts = Facts::default();
    tag_fact(
        &mut facts,
        "mcr.microsoft.com/dotnet-buildtools/prereqs:ubuntu-24.04",
        &digest('a'),
    );
    tag_fact(&mut facts, "ghcr.io/team/tool:3", &digest('b'));
    tag_fact(&mut facts, "ghcr.io/team/gone:1", &digest('c'));
    tag_fact(&mut facts, "ghcr.io/team/app:2", &digest('3'));
    tag_fact(&mut facts, "ubuntu", &digest('d'));
    for (image, exists) in [
        (format!("ghcr.io/team/tool:3@{}", digest('1')), true),
        (format!("ghcr.io/team/gone:1@{}", digest('2')), false),
        (format!("ghcr.io/team/app:2@{}", digest('3')), true),
        (format!("ghcr.io/team/app@{}", digest('4')), false),
    ] {
        digest_fact(&mut facts, &image, exists);
    }
    facts
}

const TERRAFORM: &str = r#"resource "azurerm_virtual_machine" "legacy" {
  storage_image_reference {
    publisher = "Canonical"
    offer     = "ubuntu-24_04-lts"
    sku       = "server"
    version   = "24.04.202409120"
  }
}
resource "azurerm_virtual_machine" "current" {
  storage_image_reference {
    publisher = "Canonical"
    offer     = "ubuntu-24_04-lts"
    sku       = "server"
    version   = "24.04.202411030"
  }
}
resource "azurerm_linux_virtual_machine" "floating" {
  source_image_reference {
    publisher = "Canonical"
    offer     = "ubuntu-24_04-lts"
    sku       = "server"
    version   = "latest"
  }
}
"#;

const BICEP: &str = "var img = {
  imageReference: {
    publisher: 'Canonical'
    offer: 'ubuntu-24_04-lts'
    sku: 'server'
  }
}
var pool = {
  fabricProfile: {
    images: [
      { wellKnownImageName: 'ubuntu-20.04/latest' }
      { resourceId: '/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images/i/versions/latest' }
    ]
  }
}
";

fn vm_facts(analysis: &Analysis) -> Facts {
    let mut facts = Facts::default();
    for vm in analysis
        .references
        .iter()
        .filter_map(|r| r.vm_image.as_ref())
    {
        let version = |v: &str, exclude_from_latest| VmVersion {
            version: v.to_string(),
            exclude_from_latest,
            published: None,
        };
        facts.insert_vm_versions(
            &vm.key,
            vec![
                version("24.04.202411030", false),
                // Excluded from `latest`: never proposed although newer.
                version("24.04.202501010", true),
                version("24.04.202409120", false),
            ],
            "test".to_string(),
        );
    }
    facts
}

fn rule(id: &str) -> Rule {
    Rule::from_id(id).expect("a rule")
}

#[track_caller]
fn check(actual: String, expected: &str) {
    assert!(
        actual == expected,
        "findings differ.\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

#[test]
fn offline_only_the_rules_that_need_no_facts_speak() {
    check(
        render(
            "azure-pipelines.yml",
            PIPELINE,
            &Settings::default(),
            &Facts::none(),
        ),
        OFFLINE,
    );
}

#[test]
fn with_facts_pins_bumps_and_broken_pins_get_fixes() {
    check(
        render(
            "azure-pipelines.yml",
            PIPELINE,
            &Settings::default(),
            &pipeline_facts(),
        ),
        ONLINE,
    );
}

#[test]
fn settings_allow_registries_pin_untagged_and_report_unused_suppressions() {
    let settings = Settings {
        pin_untagged_as_latest: true,
        report_unused_ignores: true,
        allowed_registries: vec!["mcr.microsoft.com".into(), "*.ghcr.io".into()],
        ..Settings::default()
    };
    check(
        render(
            "azure-pipelines.yml",
            PIPELINE,
            &settings,
            &pipeline_facts(),
        ),
        SETTINGS,
    );
    let mut selected = settings;
    selected.vm.known_pool_images = Some(["ubuntu-22.04-known".to_string()].into_iter().collect());
    selected.select = vec![
        rule("unknown-pool-image"),
        rule("stale-digest"),
        rule("unused-suppression"),
    ];
    selected
        .severity
        .insert(rule("stale-digest"), Some(pin_core::Severity::Info));
    check(
        render(
            "azure-pipelines.yml",
            PIPELINE,
            &selected,
            &pipeline_facts(),
        ),
        SELECTED,
    );
}

#[test]
fn ignored_and_switched_off_rules_are_silent() {
    let mut settings = Settings {
        ignore: vec![rule("unpinned-image")],
        ..Settings::default()
    };
    settings.severity.insert(rule("dynamic-image"), None);
    check(
        render(
            "azure-pipelines.yml",
            PIPELINE,
            &settings,
            &pipeline_facts(),
        ),
        IGNORED,
    );
}

#[test]
fn vm_images_in_terraform_and_bicep_are_pinned_and_bumped() {
    for (path, text, offline, online) in [
        (
            "infra/main.tf",
            TERRAFORM,
            TERRAFORM_OFFLINE,
            TERRAFORM_ONLINE,
        ),
        ("infra/main.bicep", BICEP, BICEP_OFFLINE, BICEP_ONLINE),
    ] {
        let facts = vm_facts(&Analysis::new(path, text.to_string()));
        check(
            render(path, text, &Settings::default(), &Facts::none()),
            offline,
        );
        check(render(path, text, &Settings::default(), &facts), online);
    }
}

const OFFLINE: &str = r##"unpinned-image error 4:12 `mcr.microsoft.com/dotnet-buildtools/prereqs:ubuntu-24.04` `mcr.microsoft.com/dotnet-buildtools/prereqs:ubuntu-24.04` is not pinned to a digest
unpinned-image error 12:12 `ubuntu` `ubuntu` is not pinned to a digest
digest-only-image warning 14:12 `ghcr.io/team/app@sha256:4444444444444444444444444444444444444444444444444444444444444444` `ghcr.io/team/app@sha256:4444444444444444444444444444444444444444444444444444444444444444` is pinned without a tag; add the tag so it can be read and bumped
invalid-image-reference error 16:12 `ghcr.io/Team/App:1` `ghcr.io/Team/App:1` is not a valid image reference: invalid repository name `Team/App`: use lower-case letters, digits and separators (`.`, `_`, `__`, `-`) between `/`
dynamic-image warning 18:12 `$(imageName)` `$(imageName)` is built from an expression and cannot be pinned here; pin the values it is built from
floating-vm-image warning 20:12 `ubuntu-latest` `ubuntu-latest` floats to new OS versions; use a versioned image label; it maps to `ubuntu-24.04` today
  fix `Use `ubuntu-24.04`` (unsafe): vmImage: ubuntu-24.04
retired-vm-image error 24:14 `ubuntu-20.04` hosted image `ubuntu-20.04` was retired on 2025-04-15 (GitHub changelog 2025-01-15 "GitHub Actions: Ubuntu 20 runner image brownout dates and other breaking changes" (retirement moved from April 1 to April 15, 2025); Azure DevOps "Upcoming Updates for Azure Pipelines Agents Images"); use `ubuntu-24.04`
  fix `Use `ubuntu-24.04`` (unsafe): vmImage: ubuntu-24.04
"##;

const ONLINE: &str = r##"unpinned-image error 4:12 `mcr.microsoft.com/dotnet-buildtools/prereqs:ubuntu-24.04` `mcr.microsoft.com/dotnet-buildtools/prereqs:ubuntu-24.04` is not pinned to a digest
  fix `Pin to sha256:aaaaaaaaaaaa` (safe): image: mcr.microsoft.com/dotnet-buildtools/prereqs:ubuntu-24.04@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
stale-digest warning 6:12 `ghcr.io/team/tool:3@sha256:1111111111111111111111111111111111111111111111111111111111111111` `ghcr.io/team/tool:3` is pinned to sha256:111111111111 but the tag now points to sha256:bbbbbbbbbbbb
  fix `Bump to sha256:bbbbbbbbbbbb` (safe): image: ghcr.io/team/tool:3@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
missing-digest error 8:12 `ghcr.io/team/gone:1@sha256:2222222222222222222222222222222222222222222222222222222222222222` the pinned digest sha256:222222222222 of `ghcr.io/team/gone:1` no longer exists in the registry: the pin is broken
  fix `Re-pin to sha256:cccccccccccc` (safe): image: ghcr.io/team/gone:1@sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc
stale-digest warning 8:12 `ghcr.io/team/gone:1@sha256:2222222222222222222222222222222222222222222222222222222222222222` `ghcr.io/team/gone:1` is pinned to sha256:222222222222 but the tag now points to sha256:cccccccccccc
  fix `Bump to sha256:cccccccccccc` (safe): image: ghcr.io/team/gone:1@sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc
unpinned-image error 12:12 `ubuntu` `ubuntu` is not pinned to a digest
digest-only-image warning 14:12 `ghcr.io/team/app@sha256:4444444444444444444444444444444444444444444444444444444444444444` `ghcr.io/team/app@sha256:4444444444444444444444444444444444444444444444444444444444444444` is pinned without a tag; add the tag so it can be read and bumped
missing-digest error 14:12 `ghcr.io/team/app@sha256:4444444444444444444444444444444444444444444444444444444444444444` the pinned digest sha256:444444444444 of `ghcr.io/team/app` no longer exists in the registry: the pin is broken
invalid-image-reference error 16:12 `ghcr.io/Team/App:1` `ghcr.io/Team/App:1` is not a valid image reference: invalid repository name `Team/App`: use lower-case letters, digits and separators (`.`, `_`, `__`, `-`) between `/`
dynamic-image warning 18:12 `$(imageName)` `$(imageName)` is built from an expression and cannot be pinned here; pin the values it is built from
floating-vm-image warning 20:12 `ubuntu-latest` `ubuntu-latest` floats to new OS versions; use a versioned image label; it maps to `ubuntu-24.04` today
  fix `Use `ubuntu-24.04`` (unsafe): vmImage: ubuntu-24.04
retired-vm-image error 24:14 `ubuntu-20.04` hosted image `ubuntu-20.04` was retired on 2025-04-15 (GitHub changelog 2025-01-15 "GitHub Actions: Ubuntu 20 runner image brownout dates and other breaking changes" (retirement moved from April 1 to April 15, 2025); Azure DevOps "Upcoming Updates for Azure Pipelines Agents Images"); use `ubuntu-24.04`
  fix `Use `ubuntu-24.04`` (unsafe): vmImage: ubuntu-24.04
"##;

const SETTINGS: &str = r##"unpinned-image error 4:12 `mcr.microsoft.com/dotnet-buildtools/prereqs:ubuntu-24.04` `mcr.microsoft.com/dotnet-buildtools/prereqs:ubuntu-24.04` is not pinned to a digest
  fix `Pin to sha256:aaaaaaaaaaaa` (safe): image: mcr.microsoft.com/dotnet-buildtools/prereqs:ubuntu-24.04@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
disallowed-registry error 6:12 `ghcr.io/team/tool:3@sha256:1111111111111111111111111111111111111111111111111111111111111111` `ghcr.io/team/tool:3@sha256:1111111111111111111111111111111111111111111111111111111111111111` comes from `ghcr.io`, which is not in `allowed-registries`
stale-digest warning 6:12 `ghcr.io/team/tool:3@sha256:1111111111111111111111111111111111111111111111111111111111111111` `ghcr.io/team/tool:3` is pinned to sha256:111111111111 but the tag now points to sha256:bbbbbbbbbbbb
  fix `Bump to sha256:bbbbbbbbbbbb` (safe): image: ghcr.io/team/tool:3@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
disallowed-registry error 8:12 `ghcr.io/team/gone:1@sha256:2222222222222222222222222222222222222222222222222222222222222222` `ghcr.io/team/gone:1@sha256:2222222222222222222222222222222222222222222222222222222222222222` comes from `ghcr.io`, which is not in `allowed-registries`
missing-digest error 8:12 `ghcr.io/team/gone:1@sha256:2222222222222222222222222222222222222222222222222222222222222222` the pinned digest sha256:222222222222 of `ghcr.io/team/gone:1` no longer exists in the registry: the pin is broken
  fix `Re-pin to sha256:cccccccccccc` (safe): image: ghcr.io/team/gone:1@sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc
stale-digest warning 8:12 `ghcr.io/team/gone:1@sha256:2222222222222222222222222222222222222222222222222222222222222222` `ghcr.io/team/gone:1` is pinned to sha256:222222222222 but the tag now points to sha256:cccccccccccc
  fix `Bump to sha256:cccccccccccc` (safe): image: ghcr.io/team/gone:1@sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc
disallowed-registry error 10:12 `ghcr.io/team/app:2@sha256:3333333333333333333333333333333333333333333333333333333333333333` `ghcr.io/team/app:2@sha256:3333333333333333333333333333333333333333333333333333333333333333` comes from `ghcr.io`, which is not in `allowed-registries`
disallowed-registry error 12:12 `ubuntu` `ubuntu` comes from `docker.io`, which is not in `allowed-registries`
unpinned-image error 12:12 `ubuntu` `ubuntu` is not pinned to a digest
  fix `Pin to sha256:dddddddddddd` (unsafe): image: ubuntu:latest@sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd
digest-only-image warning 14:12 `ghcr.io/team/app@sha256:4444444444444444444444444444444444444444444444444444444444444444` `ghcr.io/team/app@sha256:4444444444444444444444444444444444444444444444444444444444444444` is pinned without a tag; add the tag so it can be read and bumped
disallowed-registry error 14:12 `ghcr.io/team/app@sha256:4444444444444444444444444444444444444444444444444444444444444444` `ghcr.io/team/app@sha256:4444444444444444444444444444444444444444444444444444444444444444` comes from `ghcr.io`, which is not in `allowed-registries`
missing-digest error 14:12 `ghcr.io/team/app@sha256:4444444444444444444444444444444444444444444444444444444444444444` the pinned digest sha256:444444444444 of `ghcr.io/team/app` no longer exists in the registry: the pin is broken
invalid-image-reference error 16:12 `ghcr.io/Team/App:1` `ghcr.io/Team/App:1` is not a valid image reference: invalid repository name `Team/App`: use lower-case letters, digits and separators (`.`, `_`, `__`, `-`) between `/`
dynamic-image warning 18:12 `$(imageName)` `$(imageName)` is built from an expression and cannot be pinned here; pin the values it is built from
floating-vm-image warning 20:12 `ubuntu-latest` `ubuntu-latest` floats to new OS versions; use a versioned image label; it maps to `ubuntu-24.04` today
  fix `Use `ubuntu-24.04`` (unsafe): vmImage: ubuntu-24.04
retired-vm-image error 24:14 `ubuntu-20.04` hosted image `ubuntu-20.04` was retired on 2025-04-15 (GitHub changelog 2025-01-15 "GitHub Actions: Ubuntu 20 runner image brownout dates and other breaking changes" (retirement moved from April 1 to April 15, 2025); Azure DevOps "Upcoming Updates for Azure Pipelines Agents Images"); use `ubuntu-24.04`
  fix `Use `ubuntu-24.04`` (unsafe): vmImage: ubuntu-24.04
unused-suppression warning 35:18 `# pin-lint: ignore[unpinned-image]` unused suppression: `unpinned-image` silences nothing here
  fix `Remove the unused suppression` (safe): - script: make
"##;

const SELECTED: &str = r##"stale-digest info 6:12 `ghcr.io/team/tool:3@sha256:1111111111111111111111111111111111111111111111111111111111111111` `ghcr.io/team/tool:3` is pinned to sha256:111111111111 but the tag now points to sha256:bbbbbbbbbbbb
  fix `Bump to sha256:bbbbbbbbbbbb` (safe): image: ghcr.io/team/tool:3@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
stale-digest info 8:12 `ghcr.io/team/gone:1@sha256:2222222222222222222222222222222222222222222222222222222222222222` `ghcr.io/team/gone:1` is pinned to sha256:222222222222 but the tag now points to sha256:cccccccccccc
  fix `Bump to sha256:cccccccccccc` (safe): image: ghcr.io/team/gone:1@sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc
unknown-pool-image warning 32:29 `team-custom-image` pool image `team-custom-image` is not in `known-pool-images`
"##;

const IGNORED: &str = r##"stale-digest warning 6:12 `ghcr.io/team/tool:3@sha256:1111111111111111111111111111111111111111111111111111111111111111` `ghcr.io/team/tool:3` is pinned to sha256:111111111111 but the tag now points to sha256:bbbbbbbbbbbb
  fix `Bump to sha256:bbbbbbbbbbbb` (safe): image: ghcr.io/team/tool:3@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
missing-digest error 8:12 `ghcr.io/team/gone:1@sha256:2222222222222222222222222222222222222222222222222222222222222222` the pinned digest sha256:222222222222 of `ghcr.io/team/gone:1` no longer exists in the registry: the pin is broken
  fix `Re-pin to sha256:cccccccccccc` (safe): image: ghcr.io/team/gone:1@sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc
stale-digest warning 8:12 `ghcr.io/team/gone:1@sha256:2222222222222222222222222222222222222222222222222222222222222222` `ghcr.io/team/gone:1` is pinned to sha256:222222222222 but the tag now points to sha256:cccccccccccc
  fix `Bump to sha256:cccccccccccc` (safe): image: ghcr.io/team/gone:1@sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc
digest-only-image warning 14:12 `ghcr.io/team/app@sha256:4444444444444444444444444444444444444444444444444444444444444444` `ghcr.io/team/app@sha256:4444444444444444444444444444444444444444444444444444444444444444` is pinned without a tag; add the tag so it can be read and bumped
missing-digest error 14:12 `ghcr.io/team/app@sha256:4444444444444444444444444444444444444444444444444444444444444444` the pinned digest sha256:444444444444 of `ghcr.io/team/app` no longer exists in the registry: the pin is broken
invalid-image-reference error 16:12 `ghcr.io/Team/App:1` `ghcr.io/Team/App:1` is not a valid image reference: invalid repository name `Team/App`: use lower-case letters, digits and separators (`.`, `_`, `__`, `-`) between `/`
floating-vm-image warning 20:12 `ubuntu-latest` `ubuntu-latest` floats to new OS versions; use a versioned image label; it maps to `ubuntu-24.04` today
  fix `Use `ubuntu-24.04`` (unsafe): vmImage: ubuntu-24.04
retired-vm-image error 24:14 `ubuntu-20.04` hosted image `ubuntu-20.04` was retired on 2025-04-15 (GitHub changelog 2025-01-15 "GitHub Actions: Ubuntu 20 runner image brownout dates and other breaking changes" (retirement moved from April 1 to April 15, 2025); Azure DevOps "Upcoming Updates for Azure Pipelines Agents Images"); use `ubuntu-24.04`
  fix `Use `ubuntu-24.04`` (unsafe): vmImage: ubuntu-24.04
"##;

const TERRAFORM_OFFLINE: &str = r##"unpinned-vm-image error 22:18 `latest` VM image `Canonical:ubuntu-24_04-lts:server:latest` is not pinned to a version
"##;

const TERRAFORM_ONLINE: &str = r##"stale-vm-image warning 6:18 `24.04.202409120` VM image `Canonical:ubuntu-24_04-lts:server:24.04.202409120` is pinned to 24.04.202409120 but 24.04.202411030 is available
  fix `Bump to 24.04.202411030` (safe): version   = "24.04.202411030"
unpinned-vm-image error 22:18 `latest` VM image `Canonical:ubuntu-24_04-lts:server:latest` is not pinned to a version; `latest` is 24.04.202411030 now
  fix `Pin to 24.04.202411030` (safe): version   = "24.04.202411030"
"##;

const BICEP_OFFLINE: &str = r##"retired-vm-image error 11:30 `ubuntu-20.04` hosted image `ubuntu-20.04` was retired on 2025-04-15 (GitHub changelog 2025-01-15 "GitHub Actions: Ubuntu 20 runner image brownout dates and other breaking changes" (retirement moved from April 1 to April 15, 2025); Azure DevOps "Upcoming Updates for Azure Pipelines Agents Images"); use `ubuntu-24.04`
  fix `Use `ubuntu-24.04`` (unsafe): { wellKnownImageName: 'ubuntu-24.04/latest' }
unpinned-vm-image error 12:22 `/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images/i/versions/latest` VM image `/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images/i/versions/latest` is not pinned to a version
"##;

const BICEP_ONLINE: &str = r##"retired-vm-image error 11:30 `ubuntu-20.04` hosted image `ubuntu-20.04` was retired on 2025-04-15 (GitHub changelog 2025-01-15 "GitHub Actions: Ubuntu 20 runner image brownout dates and other breaking changes" (retirement moved from April 1 to April 15, 2025); Azure DevOps "Upcoming Updates for Azure Pipelines Agents Images"); use `ubuntu-24.04`
  fix `Use `ubuntu-24.04`` (unsafe): { wellKnownImageName: 'ubuntu-24.04/latest' }
unpinned-vm-image error 12:22 `/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images/i/versions/latest` VM image `/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images/i/versions/latest` is not pinned to a version; `latest` is 24.04.202411030 now
  fix `Pin to 24.04.202411030` (safe): { resourceId: '/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images/i/versions/24.04.202411030' }
"##;

const SUPPRESSED: &str = "\
jobs:
- job: a
  # pin-lint: ignore
  container: ghcr.io/team/app:2@sha256:3333333333333333333333333333333333333333333333333333333333333333
- job: b
  container: ghcr.io/team/tool:3@sha256:1111111111111111111111111111111111111111111111111111111111111111   # pin-lint: ignore[stale-digest, unpinned-imag, no-such-rule]
- job: c
  container: ubuntu # pin-lint: ignore[unpinned-image, stale-digest, digest-only-image]
- job: d
  container: ghcr.io/team/app:2@sha256:3333333333333333333333333333333333333333333333333333333333333333 # pin-lint: ignore[stale-digest,missing-digest]
- job: e
  container: ghcr.io/team/new:1@sha256:5555555555555555555555555555555555555555555555555555555555555555 # pin-lint: ignore[stale-digest]
# pin-lint: ignore[dynamic-image]";

#[test]
fn unused_suppressions_are_reported_once_they_can_be_judged() {
    let settings = Settings {
        report_unused_ignores: true,
        ..Settings::default()
    };
    let path = "azure-pipelines.yml";
    check(
        render(path, SUPPRESSED, &settings, &pipeline_facts()),
        SUPPRESSED_ONLINE,
    );
    // Without facts the registry rules cannot be judged: those comments stay.
    check(
        render(path, SUPPRESSED, &settings, &Facts::none()),
        SUPPRESSED_OFFLINE,
    );
    // Not asked for.
    check(
        render(path, SUPPRESSED, &Settings::default(), &pipeline_facts()),
        "",
    );
    // A file that does not parse is not judged.
    let broken = format!("{SUPPRESSED}\n  - [\n");
    check(
        render(path, &broken, &settings, &pipeline_facts()),
        SUPPRESSED_BROKEN,
    );
}

#[test]
fn an_ignore_file_comment_is_unused_only_when_nothing_is_found() {
    let settings = Settings {
        report_unused_ignores: true,
        ..Settings::default()
    };
    let path = "azure-pipelines.yml";
    let file = "# pin-lint: ignore-file\njobs:\n- job: a\n  container: ghcr.io/team/app:2@sha256:3333333333333333333333333333333333333333333333333333333333333333\n";
    check(
        render(path, file, &settings, &pipeline_facts()),
        FILE_UNUSED,
    );
    check(render(path, file, &settings, &Facts::none()), "");
    let used = file.replace(
        "app:2@sha256:3333333333333333333333333333333333333333333333333333333333333333",
        "app:2",
    );
    check(render(path, &used, &settings, &pipeline_facts()), "");
}

const SUPPRESSED_ONLINE: &str = r##"unused-suppression warning 3:3 `# pin-lint: ignore` `# pin-lint: ignore` silences nothing here
  fix `Remove the unused suppression` (safe): container: ghcr.io/team/app:2@sha256:3333333333333333333333333333333333333333333333333333333333333333 / - job: b / container: ghcr.io/team/tool:3@sha256:1111111111111111111111111111111111111111111111111111111111111111   # pin-lint: ignore[stale-digest, unpinned-imag, no-such-rule] / - job: c / container: ubuntu # pin-lint: ignore[unpinned-image, stale-digest, digest-only-image] / - job: d / container: ghcr.io/team/app:2@sha256:3333333333333333333333333333333333333333333333333333333333333333 # pin-lint: ignore[stale-digest,missing-digest] / - job: e / container: ghcr.io/team/new:1@sha256:5555555555555555555555555555555555555555555555555555555555555555 # pin-lint: ignore[stale-digest] / # pin-lint: ignore[dynamic-image]
unused-suppression warning 6:108 `# pin-lint: ignore[stale-digest, unpinned-imag, no-such-rule]` unused suppression: `unpinned-imag` is not a rule (did you mean `unpinned-image`?); `no-such-rule` is not a rule
  fix `Remove the unused rule names from the suppression` (safe): container: ghcr.io/team/tool:3@sha256:1111111111111111111111111111111111111111111111111111111111111111   # pin-lint: ignore[stale-digest]
unused-suppression warning 8:21 `# pin-lint: ignore[unpinned-image, stale-digest, digest-only-image]` unused suppression: `unpinned-image`, `stale-digest`, `digest-only-image` silence nothing here
  fix `Remove the unused suppression` (safe): container: ubuntu
unused-suppression warning 10:105 `# pin-lint: ignore[stale-digest,missing-digest]` unused suppression: `stale-digest`, `missing-digest` silence nothing here
  fix `Remove the unused suppression` (safe): container: ghcr.io/team/app:2@sha256:3333333333333333333333333333333333333333333333333333333333333333
unused-suppression warning 13:1 `# pin-lint: ignore[dynamic-image]` unused suppression: `dynamic-image` silences nothing here
  fix `Remove the unused suppression` (safe): 
"##;

const SUPPRESSED_OFFLINE: &str = r##"unused-suppression warning 6:108 `# pin-lint: ignore[stale-digest, unpinned-imag, no-such-rule]` unused suppression: `unpinned-imag` is not a rule (did you mean `unpinned-image`?); `no-such-rule` is not a rule
  fix `Remove the unused rule names from the suppression` (safe): container: ghcr.io/team/tool:3@sha256:1111111111111111111111111111111111111111111111111111111111111111   # pin-lint: ignore[stale-digest]
unused-suppression warning 8:21 `# pin-lint: ignore[unpinned-image, stale-digest, digest-only-image]` unused suppression: `unpinned-image`, `stale-digest`, `digest-only-image` silence nothing here
  fix `Remove the unused suppression` (safe): container: ubuntu
unused-suppression warning 13:1 `# pin-lint: ignore[dynamic-image]` unused suppression: `dynamic-image` silences nothing here
  fix `Remove the unused suppression` (safe): 
"##;

const SUPPRESSED_BROKEN: &str = r##"yaml-syntax error 14:5 `` invalid YAML: while parsing a block mapping, did not find expected key
"##;

const FILE_UNUSED: &str = r##"unused-suppression warning 1:1 `# pin-lint: ignore-file` `# pin-lint: ignore-file` silences nothing: the file has no findings
  fix `Remove the unused suppression` (safe): jobs: / - job: a / container: ghcr.io/team/app:2@sha256:3333333333333333333333333333333333333333333333333333333333333333
"##;

const WORKFLOW: &str = "\
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    container:
      image: node:20
    services:
      db:
        image: postgres:16@sha256:1111111111111111111111111111111111111111111111111111111111111111
    steps:
    - run: make
  old:
    runs-on: [self-hosted, windows-2019]
    steps:
    - run: make
  older:
    runs-on: macos-12
    steps:
    - run: make
  matrix:
    runs-on: ${{ matrix.os }}
    container: ${{ matrix.image }}
    steps:
    - run: make
";

#[test]
fn github_workflows_runners_containers_and_services() {
    let mut facts = Facts::default();
    tag_fact(&mut facts, "node:20", &digest('a'));
    tag_fact(&mut facts, "postgres:16", &digest('b'));
    check(
        render(
            ".github/workflows/ci.yml",
            WORKFLOW,
            &Settings::default(),
            &facts,
        ),
        WORKFLOW_FINDINGS,
    );
}

const WORKFLOW_FINDINGS: &str = r##"floating-vm-image warning 4:14 `ubuntu-latest` `ubuntu-latest` floats to new OS versions; use a versioned image label; it maps to `ubuntu-26.04` today
  fix `Use `ubuntu-26.04`` (unsafe): runs-on: ubuntu-26.04
unpinned-image error 6:14 `node:20` `node:20` is not pinned to a digest
  fix `Pin to sha256:aaaaaaaaaaaa` (safe): image: node:20@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
stale-digest warning 9:16 `postgres:16@sha256:1111111111111111111111111111111111111111111111111111111111111111` `postgres:16` is pinned to sha256:111111111111 but the tag now points to sha256:bbbbbbbbbbbb
  fix `Bump to sha256:bbbbbbbbbbbb` (safe): image: postgres:16@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
retired-vm-image error 17:14 `macos-12` hosted image `macos-12` was retired on 2024-12-03 (actions/runner-images announcement "The macOS 12 Actions runner image will begin deprecation on 10/7/24 and will be fully unsupported by 12/3/24"); use `macos-26`
  fix `Use `macos-26`` (unsafe): runs-on: macos-26
"##;

/// References of one kind or state never reach the rules meant for another: a VM image built
/// from an expression is not a dynamic container image, a digest-only reference is not
/// judged stale by the tag's digest, a custom `vmImage` is not a pool image and a hosted label
/// in a pool demand is not an unknown pool image.
#[test]
fn rules_leave_references_of_other_kinds_alone() {
    let pipeline = format!(
        "\
resources:
  containers:
  - container: digestonly
    image: ghcr.io/team/app@{}
  - container: dyn
    image: $(containerImage)
jobs:
- job: a
  pool:
    vmImage: $(imageName)
  container: dyn
- job: b
  pool:
    vmImage: team-custom-vm
- job: c
  pool:
    name: mdp
    demands:
    - ImageOverride -equals ubuntu-24.04
- job: d
  pool:
    name: mdp
    demands:
    - ImageOverride -equals team-unknown
",
        digest('4')
    );
    let mut facts = Facts::none();
    tag_fact(
        &mut facts,
        &format!("ghcr.io/team/app@{}", digest('4')),
        &digest('b'),
    );
    let mut settings = Settings::default();
    settings.vm.known_pool_images = Some(["team-known".to_string()].into_iter().collect());
    settings.select = [
        "digest-only-image",
        "dynamic-image",
        "stale-digest",
        "unknown-pool-image",
    ]
    .into_iter()
    .map(rule)
    .collect();
    check(
        render("azure-pipelines.yml", &pipeline, &settings, &facts),
        OTHER_KINDS,
    );
}

const OTHER_KINDS: &str = r##"digest-only-image warning 4:12 `ghcr.io/team/app@sha256:4444444444444444444444444444444444444444444444444444444444444444` `ghcr.io/team/app@sha256:4444444444444444444444444444444444444444444444444444444444444444` is pinned without a tag; add the tag so it can be read and bumped
dynamic-image warning 6:12 `$(containerImage)` `$(containerImage)` is built from an expression and cannot be pinned here; pin the values it is built from
unknown-pool-image warning 24:29 `team-unknown` pool image `team-unknown` is not in `known-pool-images`
"##;

/// A gallery image whose name ends in `-latest` in an infrastructure file is a VM image id,
/// not a hosted label: `floating-vm-image` leaves it alone.
#[test]
fn floating_labels_are_only_hosted_labels() {
    let tf = r#"resource "azurerm_linux_virtual_machine" "gallery" {
  source_image_id = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/galleries/gal/images/runner-latest"
}
"#;
    let analysis = Analysis::new("infra/main.tf", tf.to_string());
    assert!(
        analysis
            .references
            .iter()
            .any(|r| r.text.ends_with("runner-latest")),
        "{:?}",
        analysis.references
    );
    check(
        render("infra/main.tf", tf, &Settings::default(), &Facts::none()),
        FLOATING_INFRA,
    );
}

const FLOATING_INFRA: &str = "unpinned-vm-image error 2:22 `/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/galleries/gal/images/runner-latest` VM image `/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/galleries/gal/images/runner-latest` is not pinned to a version\n";

/// A tag the registry says does not exist is a `missing-tag` finding on every container
/// reference that names it (pinned or not); a reference without a tag is not judged.
#[test]
fn a_tag_the_registry_says_is_gone_is_a_missing_tag() {
    let text = format!(
        "resources:\n  containers:\n  - container: a\n    image: ghcr.io/team/old:1\n  - container: b\n    image: ghcr.io/team/old:1@{}\n  - container: c\n    image: ghcr.io/team/old@{}\n  - container: d\n    image: ghcr.io/team/new:2\n",
        digest('1'),
        digest('1'),
    );
    let mut facts = Facts::none();
    let old = pin_core::ImageRef::parse("ghcr.io/team/old:1").expect("valid");
    facts.insert_missing_tag(Facts::tag_key(&old), "manifest unknown".to_string());
    let settings = Settings {
        select: vec![rule("missing-tag")],
        ..Settings::default()
    };
    check(
        render("azure-pipelines.yml", &text, &settings, &facts),
        MISSING_TAG,
    );
}

const MISSING_TAG: &str = r##"missing-tag error 4:12 `ghcr.io/team/old:1` `ghcr.io/team/old:1` does not exist: the registry answered that the tag or repository is unknown (manifest unknown)
missing-tag error 6:12 `ghcr.io/team/old:1@sha256:1111111111111111111111111111111111111111111111111111111111111111` `ghcr.io/team/old:1` does not exist: the registry answered that the tag or repository is unknown (manifest unknown)
"##;

/// A retirement entry names hosted labels: an infrastructure VM image written as
/// `publisher:offer:sku:version` is never judged retired, whatever the entries say.
#[test]
fn retirements_apply_to_hosted_labels_only() {
    let tf = r#"resource "azurerm_linux_virtual_machine" "vm" {
  source_image_reference {
    publisher = "Canonical"
    offer     = "o"
    sku       = "s"
    version   = "1.0.0"
  }
}
"#;
    let mut settings = Settings::default();
    let entry = settings
        .vm
        .retirement("ubuntu-20.04")
        .expect("ubuntu-20.04 is retired")
        .clone();
    settings
        .vm
        .retired
        .insert("canonical:o:s:1.0.0".to_string(), entry);
    settings.select = vec![rule("retired-vm-image")];
    let analysis = Analysis::new("infra/main.tf", tf.to_string());
    assert_eq!(analysis.references.len(), 1, "{:?}", analysis.references);
    check(render("infra/main.tf", tf, &settings, &Facts::none()), "");
    let pipeline = "pool:\n  vmImage: Canonical:o:s:1.0.0\n";
    assert!(
        render("azure-pipelines.yml", pipeline, &settings, &Facts::none())
            .starts_with("retired-vm-image"),
        "the entry applies to a label"
    );
}

/// A suppression is judged only for rules that could have spoken: not for a rule left out by
/// `ignore` or switched off, and for a registry rule only where every reference on its lines
/// has a registry answer (a tag fact is enough; a dynamic reference without a digest needs
/// none). With no registry rule enabled, a bare `ignore` is judged without facts.
#[test]
fn unused_suppressions_are_judged_only_for_rules_that_could_speak() {
    let text = format!(
        "resources:\n  containers:\n  - container: a\n    image: ghcr.io/team/app:2@{} # pin-lint: ignore[stale-digest]\n  - container: b\n    image: $(imageName) # pin-lint: ignore[stale-digest]\n  - container: c\n    image: ghcr.io/team/app:2@{} # pin-lint: ignore[floating-vm-image]\n  - container: d\n    image: ghcr.io/team/app:2@{} # pin-lint: ignore[digest-only-image]\n  - container: e\n    image: ghcr.io/team/app:2@{} # pin-lint: ignore[invalid-image-reference]\n",
        digest('3'),
        digest('3'),
        digest('3'),
        digest('3'),
    );
    let mut facts = Facts::none();
    tag_fact(&mut facts, "ghcr.io/team/app:2", &digest('3'));
    let mut settings = Settings {
        report_unused_ignores: true,
        ignore: vec![rule("floating-vm-image"), rule("dynamic-image")],
        ..Settings::default()
    };
    settings.severity.insert(rule("digest-only-image"), None);
    check(
        render("azure-pipelines.yml", &text, &settings, &facts),
        JUDGED,
    );

    let bare = format!(
        "resources:\n  containers:\n  - container: a\n    image: ghcr.io/team/app:2@{} # pin-lint: ignore\n",
        digest('3')
    );
    let offline = Settings {
        report_unused_ignores: true,
        select: vec![rule("unused-suppression"), rule("unpinned-image")],
        ..Settings::default()
    };
    check(
        render("azure-pipelines.yml", &bare, &offline, &Facts::none()),
        BARE,
    );
}

const JUDGED: &str = r##"unused-suppression warning 4:103 `# pin-lint: ignore[stale-digest]` unused suppression: `stale-digest` silences nothing here
  fix `Remove the unused suppression` (safe): image: ghcr.io/team/app:2@sha256:3333333333333333333333333333333333333333333333333333333333333333
unused-suppression warning 6:25 `# pin-lint: ignore[stale-digest]` unused suppression: `stale-digest` silences nothing here
  fix `Remove the unused suppression` (safe): image: $(imageName)
unused-suppression warning 12:103 `# pin-lint: ignore[invalid-image-reference]` unused suppression: `invalid-image-reference` silences nothing here
  fix `Remove the unused suppression` (safe): image: ghcr.io/team/app:2@sha256:3333333333333333333333333333333333333333333333333333333333333333
"##;
const BARE: &str = r##"unused-suppression warning 4:103 `# pin-lint: ignore` `# pin-lint: ignore` silences nothing here
  fix `Remove the unused suppression` (safe): image: ghcr.io/team/app:2@sha256:3333333333333333333333333333333333333333333333333333333333333333
"##;

/// A syntax finding names what the file was read as: a Dockerfile by name (Bicep and
/// Terraform are read leniently and give none), a dev container as JSONC, everything else as
/// YAML.
#[test]
fn syntax_findings_name_the_language() {
    let settings = Settings {
        select: vec![rule("yaml-syntax")],
        ..Settings::default()
    };
    for (path, text, language) in [
        (
            "Dockerfile",
            "FROM alpine:3.20\nRUN <<EOF\necho\n",
            "invalid Dockerfile: ",
        ),
        (
            ".devcontainer/devcontainer.json",
            "{ \"image\": ",
            "invalid JSONC: ",
        ),
        ("azure-pipelines.yml", "jobs:\n  - [\n", "invalid YAML: "),
    ] {
        let analysis = Analysis::new(path, text.to_string());
        let findings = analysis.findings(&settings, &Facts::none());
        assert_eq!(findings.len(), 1, "{path}: {findings:?}");
        assert!(
            findings[0].message.starts_with(language),
            "{path}: {}",
            findings[0].message
        );
    }
}

/// A kustomization's `digest:` goes on a new line of the entry, written with the file's own
/// line endings, also after a last line that has none, and quoted as the entry's name is.
#[test]
fn kustomize_digests_keep_the_files_line_endings() {
    let d = digest('a');
    let mut facts = Facts::default();
    tag_fact(&mut facts, "nginx:1.27", &d);
    let pinned = |text: &str| {
        let analysis = Analysis::new("kustomization.yaml", text.to_string());
        let findings = analysis.findings(&Settings::default(), &facts);
        let fix = findings
            .iter()
            .find_map(|f| f.fix.as_ref())
            .unwrap_or_else(|| panic!("a pin: {findings:#?}"));
        fix::apply(text, &fix.edits).expect("fix applies")
    };
    for (eol, last) in [("\n", "\n"), ("\r\n", "\r\n"), ("\r\n", "")] {
        let head = format!(
            "resources:{eol}- app.yaml{eol}images:{eol}- name: nginx{eol}  newTag: \"1.27\""
        );
        let text = format!("{head}{last}");
        let fixed = pinned(&text);
        assert_eq!(fixed, format!("{head}{eol}  digest: {d}{last}"), "{text:?}");
    }
    // Quoted as the entry's name is quoted.
    for quote in ["\"", "'"] {
        let text = format!("images:\n- name: {quote}nginx{quote}\n  newTag: \"1.27\"\n");
        let fixed = pinned(&text);
        assert_eq!(
            fixed,
            format!("{text}  digest: {quote}{d}{quote}\n"),
            "{text:?}"
        );
    }
}
