//! Hosted VM image labels: which ones float (`ubuntu-latest`) and what they map to today,
//! which ones were retired (and when, and who said so). The ONE place this data lives; the
//! rules `floating-vm-image` and `retired-vm-image` and the defaults of [`VmSettings`] read it.
//!
//! Labels are compared case-insensitively (Azure Pipelines accepts `macOS-12` and `macos-12`
//! alike; GitHub runner labels are case-insensitive too). Each row names its source
//! (provider documentation page or announcement title) so that a maintainer can re-check it;
//! the tables were checked on 2026-11-28. Update them when a provider announces a change:
//! a retirement moves here once its final date has passed (the core has no clock, so a row
//! is an assertion that the label is gone); a `*-latest` migration updates [`FLOATING`].
//!
//! Not yet retired (re-check and add when the date has passed): `ubuntu-22.04`, final date
//! 2027-04-17 ("[Ubuntu] The Ubuntu 22 based runner images will begin deprecation on
//! September 17th and will be fully unsupported by April 17th for GitHub Actions and Azure
//! DevOps", actions/runner-images#14254).

use std::collections::{BTreeMap, BTreeSet};

use crate::model::Site;

/// The operating system family of a hosted label: decides what a retired label is replaced by
/// (the family's `*-latest` target for the same provider).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// `ubuntu-*`.
    Ubuntu,
    /// `windows-*`, `vs20xx-win20xx`, `win1803`.
    Windows,
    /// `macOS-*`.
    MacOs,
}

impl Family {
    /// The family's floating label (`ubuntu-latest`, `windows-latest`, `macos-latest`).
    pub fn latest_label(self) -> &'static str {
        match self {
            Family::Ubuntu => "ubuntu-latest",
            Family::Windows => "windows-latest",
            Family::MacOs => "macos-latest",
        }
    }
}

/// Who runs a hosted image label: the same label can map differently per provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Provider {
    /// Azure Pipelines (`vmImage`, `ImageOverride`, 1ES pool `image:`, Managed DevOps Pools).
    AzurePipelines,
    /// GitHub Actions (`runs-on`).
    GithubActions,
}

impl Provider {
    /// The provider a reference site belongs to.
    pub fn of(site: Site) -> Provider {
        match site {
            Site::GhaRunsOn => Provider::GithubActions,
            _ => Provider::AzurePipelines,
        }
    }
}

/// A hosted label that no longer exists.
#[derive(Debug, Clone, Copy)]
pub struct RetiredLabel {
    /// The label as the provider spelled it.
    pub label: &'static str,
    /// Its OS family.
    pub family: Family,
    /// Final retirement date (ISO 8601).
    pub retired: &'static str,
    /// Where the date comes from.
    pub source: &'static str,
}

/// Hosted labels that were retired, oldest first.
pub static RETIRED: &[RetiredLabel] = &[
    retired("vs2015-win2012r2", Family::Windows, "2020-03-23", AZDO_2020),
    retired("win1803", Family::Windows, "2020-03-23", AZDO_2020),
    retired("macOS-10.13", Family::MacOs, "2020-03-23", AZDO_2020),
    retired(
        "ubuntu-16.04",
        Family::Ubuntu,
        "2021-09-20",
        "GitHub changelog \"GitHub Actions: Ubuntu 16.04 LTS virtual environment will be removed on September 20, 2021\"; the Azure Pipelines image went the same day",
    ),
    retired(
        "macOS-10.14",
        Family::MacOs,
        "2021-12-10",
        "Azure DevOps blog \"Hosted Pipelines Image Deprecation\" (devblogs.microsoft.com/devops/hosted-pipelines-image-deprecation)",
    ),
    retired("windows-2016", Family::Windows, "2022-04-01", WIN2016),
    retired("vs2017-win2016", Family::Windows, "2022-04-01", WIN2016),
    retired(
        "macOS-10.15",
        Family::MacOs,
        "2022-09-30",
        "actions/runner-images#5583 (macOS 10.15 fully unsupported 2022-08-30 on GitHub; Azure Pipelines brownout notices gave 2022-09-30)",
    ),
    retired(
        "ubuntu-18.04",
        Family::Ubuntu,
        "2023-04-01",
        "actions/runner-images#6002 \"The Ubuntu 18.04 Actions runner image will begin deprecation on 8/8/22 and will be fully unsupported by 4/1/2023\" (GitHub Actions and Azure DevOps)",
    ),
    retired(
        "macOS-11",
        Family::MacOs,
        "2024-06-28",
        "actions/runner-images announcement \"The macOS 11 Actions runner image will begin deprecation on 1/15/24 and will be fully unsupported by 6/28/24\"",
    ),
    retired(
        "macOS-12",
        Family::MacOs,
        "2024-12-03",
        "actions/runner-images announcement \"The macOS 12 Actions runner image will begin deprecation on 10/7/24 and will be fully unsupported by 12/3/24\"",
    ),
    retired(
        "ubuntu-20.04",
        Family::Ubuntu,
        "2025-04-15",
        "GitHub changelog 2025-01-15 \"GitHub Actions: Ubuntu 20 runner image brownout dates and other breaking changes\" (retirement moved from April 1 to April 15, 2025); Azure DevOps \"Upcoming Updates for Azure Pipelines Agents Images\"",
    ),
    retired(
        "windows-2019",
        Family::Windows,
        "2025-06-30",
        "actions/runner-images#12045 \"The Windows 2019 Actions runner image will begin deprecation on 2025-06-01 and will be fully unsupported by 2025-06-30\" (GitHub Actions and Azure DevOps, aka.ms/azdo-windows)",
    ),
    retired("macOS-13", Family::MacOs, "2025-12-04", MACOS13),
    retired("macos-13-large", Family::MacOs, "2025-12-04", MACOS13),
    retired("macos-13-xlarge", Family::MacOs, "2025-12-04", MACOS13),
    retired("macOS-14", Family::MacOs, "2026-11-02", MACOS14),
    retired("macos-14-large", Family::MacOs, "2026-11-02", MACOS14),
    retired("macos-14-xlarge", Family::MacOs, "2026-11-02", MACOS14),
];

const AZDO_2020: &str = "Azure DevOps blog \"Removing older images in Azure Pipelines hosted pools\" (removal on March 23, 2020)";
const WIN2016: &str = "actions/runner-images#5238 \"Windows-2016 environment removal postponed until April 1st, 2022\"";
const MACOS13: &str =
    "GitHub changelog 2025-09-19 \"GitHub Actions: macOS 13 runner image is closing down\" (retired by December 4th, 2025)";
const MACOS14: &str = "actions/runner-images#13518 \"The macOS 14 Sonoma based runner images will begin deprecation on July 6th and will be fully unsupported by November 2nd for GitHub Actions and Azure DevOps\"; Azure Pipelines \"Microsoft-hosted image deprecation schedule\"";

const fn retired(
    label: &'static str,
    family: Family,
    retired: &'static str,
    source: &'static str,
) -> RetiredLabel {
    RetiredLabel {
        label,
        family,
        retired,
        source,
    }
}

/// A floating label and the versioned label it maps to today on one provider.
#[derive(Debug, Clone, Copy)]
pub struct FloatingLabel {
    /// The provider.
    pub provider: Provider,
    /// The floating label (`ubuntu-latest`).
    pub label: &'static str,
    /// The versioned label it maps to, spelled as the provider documents it.
    pub target: &'static str,
    /// Where the mapping comes from.
    pub source: &'static str,
}

/// What each `*-latest` label maps to today.
pub static FLOATING: &[FloatingLabel] = &[
    FloatingLabel {
        provider: Provider::GithubActions,
        label: "ubuntu-latest",
        target: "ubuntu-26.04",
        source: "actions/runner-images#14748 \"[Ubuntu] `ubuntu-latest` label will use Ubuntu 26.04 in November 2026\" (migration 2026-10-19 to 2026-11-19)",
    },
    FloatingLabel {
        provider: Provider::GithubActions,
        label: "windows-latest",
        target: "windows-2025",
        source: "actions/runner-images#14017 (`windows-latest` and `windows-2025` use Windows Server 2025 with Visual Studio 2026 from June 2026)",
    },
    FloatingLabel {
        provider: Provider::GithubActions,
        label: "macos-latest",
        target: "macos-26",
        source: "actions/runner-images#14167 (`macos-latest` migrates to `macos-26`, 2026-06-15 to 2026-07-15)",
    },
    FloatingLabel {
        provider: Provider::AzurePipelines,
        label: "ubuntu-latest",
        target: "ubuntu-24.04",
        source: "Azure Pipelines \"Microsoft-hosted agents\" (learn.microsoft.com/azure/devops/pipelines/agents/hosted): `ubuntu-latest OR ubuntu-24.04`",
    },
    FloatingLabel {
        provider: Provider::AzurePipelines,
        label: "windows-latest",
        target: "windows-2025",
        source: "Azure Pipelines \"Microsoft-hosted agents\" (ms.date 2026-01-06): `windows-latest OR windows-2025`",
    },
    FloatingLabel {
        provider: Provider::AzurePipelines,
        label: "macOS-latest",
        target: "macOS-15",
        source: "Azure Pipelines \"Microsoft-hosted image deprecation schedule\" (ms.date 2026-01-23): move macOS 14 pipelines to `macos-latest` or `macos-15`",
    },
];

/// Why a label counts as retired (from the table or from configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retirement {
    /// Final retirement date, when known (ISO 8601).
    pub retired: Option<String>,
    /// Where that comes from (`pin-lint.toml` for configured entries).
    pub source: String,
    /// What to use instead, when configured explicitly.
    pub replacement: Option<String>,
    /// The OS family, for a replacement taken from the family's `*-latest` target.
    pub family: Option<Family>,
}

/// The VM image settings: defaults from the tables above, overridable in `pin-lint.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmSettings {
    /// Retired labels, keyed by the lower-case label.
    pub retired: BTreeMap<String, Retirement>,
    /// Floating label targets, keyed by provider and lower-case label.
    pub floating: BTreeMap<(Provider, String), String>,
    /// Known pool image names (lower-case) for `unknown-pool-image`; `None` turns it off.
    pub known_pool_images: Option<BTreeSet<String>>,
}

impl Default for VmSettings {
    fn default() -> Self {
        let retired = RETIRED
            .iter()
            .map(|r| {
                (
                    r.label.to_ascii_lowercase(),
                    Retirement {
                        retired: Some(r.retired.to_string()),
                        source: r.source.to_string(),
                        replacement: None,
                        family: Some(r.family),
                    },
                )
            })
            .collect();
        let floating = FLOATING
            .iter()
            .map(|f| {
                (
                    (f.provider, f.label.to_ascii_lowercase()),
                    f.target.to_string(),
                )
            })
            .collect();
        VmSettings {
            retired,
            floating,
            known_pool_images: None,
        }
    }
}

impl VmSettings {
    /// Mark `label` retired (config `retired-vm-images`); `replacement` is suggested as an
    /// unsafe fix.
    pub fn retire(&mut self, label: &str, replacement: Option<String>) {
        self.retired.insert(
            label.trim().to_ascii_lowercase(),
            Retirement {
                retired: None,
                source: "pin-lint.toml".to_string(),
                replacement,
                family: None,
            },
        );
    }

    /// Forget a table entry (config `not-retired-vm-images`), e.g. for a self-hosted pool that
    /// reuses an old hosted name.
    pub fn unretire(&mut self, label: &str) {
        self.retired.remove(&label.trim().to_ascii_lowercase());
    }

    /// Map a floating label to `target` (config `floating-vm-map`); `None` = every provider.
    pub fn map_floating(&mut self, provider: Option<Provider>, label: &str, target: &str) {
        let providers = match provider {
            Some(p) => vec![p],
            None => vec![Provider::AzurePipelines, Provider::GithubActions],
        };
        for p in providers {
            self.floating.insert(
                (p, label.trim().to_ascii_lowercase()),
                target.trim().to_string(),
            );
        }
    }

    /// Set the known pool images (config `known-pool-images`); turns `unknown-pool-image` on.
    pub fn set_known_pool_images<I: IntoIterator<Item = S>, S: AsRef<str>>(&mut self, names: I) {
        self.known_pool_images = Some(
            names
                .into_iter()
                .map(|n| n.as_ref().trim().to_ascii_lowercase())
                .collect(),
        );
    }

    /// The retirement of `label`, compared case-insensitively.
    pub fn retirement(&self, label: &str) -> Option<&Retirement> {
        self.retired.get(&label.to_ascii_lowercase())
    }

    /// The versioned label a floating `label` maps to for `provider`, compared
    /// case-insensitively.
    pub fn floating_target(&self, provider: Provider, label: &str) -> Option<&str> {
        self.floating
            .get(&(provider, label.to_ascii_lowercase()))
            .map(String::as_str)
    }

    /// What to use instead of a retired label: the configured replacement, else the family's
    /// `*-latest` target for the provider.
    pub fn replacement(&self, provider: Provider, retirement: &Retirement) -> Option<String> {
        if let Some(r) = &retirement.replacement {
            return Some(r.clone());
        }
        let family = retirement.family?;
        self.floating_target(provider, family.latest_label())
            .map(str::to_string)
    }
}

/// Is `label` a floating hosted label (`*-latest`, any case)?
pub fn is_floating(label: &str) -> bool {
    label.to_ascii_lowercase().ends_with("-latest")
}

/// Does `label` look like a hosted image label (`ubuntu-24.04`, `windows-2025`, `macOS-15`,
/// `*-latest`)? Such names are not pool images, so `unknown-pool-image` leaves them alone.
pub fn is_hosted_label(label: &str) -> bool {
    let lower = label.to_ascii_lowercase();
    ["ubuntu-", "windows-", "macos-"].iter().any(|prefix| {
        lower.strip_prefix(prefix).is_some_and(|rest| {
            rest == "latest"
                || rest.split('-').next().is_some_and(|v| {
                    !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                })
        })
    })
}

/// The edit that turns `written` into `target` while keeping the user's spelling of the part
/// they share: for `MacOS-latest` → `macOS-15` only `latest` is replaced (`MacOS-15`).
/// Returns the byte offset within `written` where the replacement starts and the new text.
pub fn minimal_relabel(written: &str, target: &str) -> (usize, String) {
    let common = written
        .bytes()
        .zip(target.bytes())
        .take_while(|(a, b)| a.eq_ignore_ascii_case(b))
        .count();
    // Keep only whole `-`-separated words of the common prefix.
    let cut = written[..common].rfind('-').map_or(0, |i| i + 1);
    (cut, target[cut..].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_row_is_well_formed() {
        for r in RETIRED {
            assert!(
                r.retired.len() == 10 && r.retired.as_bytes()[4] == b'-',
                "{}",
                r.label
            );
            assert!(!r.source.is_empty());
            assert!(!is_floating(r.label));
        }
        for f in FLOATING {
            assert!(is_floating(f.label));
            assert!(
                VmSettings::default().retirement(f.target).is_none(),
                "{} is retired",
                f.target
            );
        }
    }

    #[test]
    fn lookups_ignore_case_and_config_overrides_apply() {
        let mut s = VmSettings::default();
        assert!(s.retirement("MACOS-12").is_some());
        assert_eq!(
            s.floating_target(Provider::AzurePipelines, "MacOS-Latest"),
            Some("macOS-15")
        );
        let r = s.retirement("ubuntu-20.04").cloned().expect("retired");
        assert_eq!(
            s.replacement(Provider::GithubActions, &r).as_deref(),
            Some("ubuntu-26.04")
        );
        s.unretire("Ubuntu-20.04");
        assert!(s.retirement("ubuntu-20.04").is_none());
        s.retire(
            "build.ubuntu.1804.amd64",
            Some("build.ubuntu.2204.amd64".into()),
        );
        assert!(s.retirement("Build.Ubuntu.1804.Amd64").is_some());
        s.map_floating(None, "ubuntu-latest", "ubuntu-22.04");
        assert_eq!(
            s.floating_target(Provider::GithubActions, "ubuntu-latest"),
            Some("ubuntu-22.04")
        );
    }

    #[test]
    fn relabel_keeps_the_users_spelling() {
        assert_eq!(
            minimal_relabel("MacOS-latest", "macOS-15"),
            (6, "15".to_string())
        );
        assert_eq!(
            minimal_relabel("ubuntu-16.04", "ubuntu-24.04"),
            (7, "24.04".to_string())
        );
        assert_eq!(
            minimal_relabel("vs2017-win2016", "windows-2025"),
            (0, "windows-2025".to_string())
        );
        assert!(is_hosted_label("macOS-12"));
        assert!(is_hosted_label("windows-2022"));
        assert!(!is_hosted_label("windows.vs2026.amd64"));
        assert!(!is_hosted_label("1es-windows-2022"));
    }
}
