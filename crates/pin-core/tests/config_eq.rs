//! `Config` equality (the language server compares configurations to decide whether to
//! re-lint): equal for the same file, different as soon as any one setting differs.

use std::path::Path;

use pin_core::config::Config;

const BASE: &str = r#"
include = ["eng/pipelines/**"]
exclude = ["**/testdata/**"]
select = ["unpinned-image", "stale-digest"]
ignore = ["dynamic-image"]
allowed-registries = ["mcr.microsoft.com"]
pin-untagged-as-latest = false
report-unused-ignores = true
online = false
known-pool-images = ["1es-ubuntu-2204"]

[rules]
stale-digest = "error"

[[policy]]
match = "localhost/**"
allow-tags = true

[[hold]]
image = "mcr.microsoft.com/a:1-*"
reason = "breaks arm64"
until = 2026-12-31
"#;

fn parse(text: &str) -> Config {
    Config::parse(text, None).expect("valid configuration")
}

#[test]
fn configurations_are_equal_only_when_every_setting_is() {
    assert_eq!(parse(BASE), parse(BASE));
    let changes = [
        ("include = [\"eng/pipelines/**\"]", "include = [\"eng/**\"]"),
        ("exclude = [\"**/testdata/**\"]", "exclude = []"),
        (
            "select = [\"unpinned-image\", \"stale-digest\"]",
            "select = [\"unpinned-image\"]",
        ),
        ("ignore = [\"dynamic-image\"]", "ignore = []"),
        (
            "allowed-registries = [\"mcr.microsoft.com\"]",
            "allowed-registries = [\"ghcr.io\"]",
        ),
        (
            "pin-untagged-as-latest = false",
            "pin-untagged-as-latest = true",
        ),
        (
            "report-unused-ignores = true",
            "report-unused-ignores = false",
        ),
        ("online = false", "online = true"),
        (
            "known-pool-images = [\"1es-ubuntu-2204\"]",
            "known-pool-images = [\"1es-ubuntu-2404\"]",
        ),
        ("stale-digest = \"error\"", "stale-digest = \"info\""),
        ("match = \"localhost/**\"", "match = \"127.0.0.1/**\""),
        (
            "image = \"mcr.microsoft.com/a:1-*\"",
            "image = \"mcr.microsoft.com/a:2-*\"",
        ),
        ("reason = \"breaks arm64\"", "reason = \"breaks x64\""),
        ("until = 2026-12-31", "until = 2027-01-01"),
    ];
    for (from, to) in changes {
        assert!(BASE.contains(from), "{from}");
        let changed = BASE.replace(from, to);
        assert_ne!(parse(BASE), parse(&changed), "{from} -> {to}");
    }
    let here = Config::parse(BASE, Some(Path::new("/repo/pin-lint.toml"))).expect("valid");
    assert_ne!(parse(BASE), here);
    assert_eq!(
        here,
        Config::parse(BASE, Some(Path::new("/repo/pin-lint.toml"))).expect("valid")
    );
}
