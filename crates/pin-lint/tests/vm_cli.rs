//! VM images through the real binary: the folder walk picks Bicep, Terraform and ARM
//! templates (and no other JSON), offline checks fire with their severities and fixes, and
//! `pin-lint.toml` overrides the label tables.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use support::{run_in, stderr};

fn json(args: &[&str], dir: &Path) -> (Option<i32>, serde_json::Value) {
    let output = support::pin_lint()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("pin-lint runs");
    let value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code(), value)
}

#[test]
fn the_walk_reads_infrastructure_files_and_skips_other_json() {
    let (code, refs) = json(
        &["refs", "--format", "json", "vm"],
        &support::fixtures_dir(),
    );
    assert_eq!(code, Some(0));
    let refs = refs["references"].as_array().expect("references");
    let files: BTreeSet<&str> = refs.iter().filter_map(|r| r["path"].as_str()).collect();
    assert_eq!(
        files.into_iter().collect::<Vec<_>>(),
        [
            "vm/.github/workflows/ci.yml",
            "vm/arm/mdp-pool.json",
            "vm/arm/vm.json",
            "vm/azure-pipelines.yml",
            "vm/bicep/mdp-pool.bicep",
            "vm/bicep/vm.bicep",
            "vm/terraform/main.tf",
        ]
    );
    let infra = refs
        .iter()
        .filter(|r| r["site"] == "infra-vm-image")
        .count();
    assert_eq!(infra, 20);
    // The position is the version (or the id), inside the quotes.
    let tf = refs
        .iter()
        .find(|r| r["path"] == "vm/terraform/main.tf")
        .expect("a Terraform reference");
    assert_eq!(
        (tf["line"].as_u64(), tf["column"].as_u64()),
        (Some(10), Some(18))
    );
    assert_eq!(tf["text"], "Canonical:ubuntu-24_04-lts:server:latest");
}

#[test]
fn offline_check_reports_vm_rules_with_fixes() {
    let (code, out) = json(
        &["check", "--format", "json", "vm"],
        &support::fixtures_dir(),
    );
    assert_eq!(
        code,
        Some(1),
        "retired labels and unpinned images are errors"
    );
    let findings = out["findings"].as_array().expect("findings");
    let count = |rule: &str| findings.iter().filter(|f| f["rule"] == rule).count();
    assert_eq!(count("floating-vm-image"), 4);
    assert_eq!(count("retired-vm-image"), 5);
    assert_eq!(count("unpinned-vm-image"), 8);
    assert_eq!(count("stale-vm-image"), 0, "needs facts");
    assert_eq!(count("unknown-pool-image"), 0, "off without a list");
    let floating = findings
        .iter()
        .find(|f| f["rule"] == "floating-vm-image" && f["path"] == "vm/.github/workflows/ci.yml")
        .expect("a GitHub floating label");
    assert_eq!(floating["fix"]["applicability"], "unsafe");
    assert_eq!(floating["fix"]["edits"][0]["new_text"], "26.04");
}

#[test]
fn config_overrides_the_label_tables() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        support::fixtures_dir().join("vm/azure-pipelines.yml"),
        dir.path().join("azure-pipelines.yml"),
    )
    .expect("copy");
    std::fs::write(
        dir.path().join("pin-lint.toml"),
        r#"known-pool-images = ["build.azurelinux.3.amd64.open"]
not-retired-vm-images = ["windows-2019"]
retired-vm-images = { "windows.vs2026.amd64" = "windows.vs2026.amd64.open" }

[floating-vm-map.azure-pipelines]
ubuntu-latest = "ubuntu-22.04"
"#,
    )
    .expect("config");
    let (_, out) = json(&["check", "--format", "json"], dir.path());
    let findings = out["findings"].as_array().expect("findings");
    let summary: Vec<(u64, &str, String)> = findings
        .iter()
        .filter(|f| {
            f["rule"]
                .as_str()
                .is_some_and(|r| r.contains("vm") || r.contains("pool"))
        })
        .map(|f| {
            let fix = f["fix"]["edits"][0]["new_text"].as_str().unwrap_or("-");
            (
                f["line"].as_u64().expect("line"),
                f["rule"].as_str().expect("rule"),
                fix.to_string(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (5, "floating-vm-image", "22.04".to_string()),
            (8, "floating-vm-image", "15".to_string()),
            (26, "unknown-pool-image", "-".to_string()),
            (
                31,
                "retired-vm-image",
                "windows.vs2026.amd64.open".to_string()
            ),
            // A retired label is replaced by what the family's `*-latest` maps to: configured.
            (35, "retired-vm-image", "22.04".to_string()),
        ]
    );
}

/// The infrastructure files of the VM fixture (no pipelines: no container image, no hosted
/// label) in a temporary folder, with the fixture's two VM catalogs.
fn infra_copy() -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = support::fixtures_dir().join("vm");
    for rel in [
        "arm/mdp-pool.json",
        "arm/vm.json",
        "bicep/mdp-pool.bicep",
        "bicep/vm.bicep",
        "terraform/main.tf",
        "catalog/marketplace.json",
        "catalog/gallery.json",
    ] {
        let to = dir.path().join(rel);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(fixture.join(rel), &to).expect("copy");
    }
    let catalogs = vec![
        "--catalog".to_string(),
        "catalog/marketplace.json".to_string(),
        "--catalog".to_string(),
        "catalog/gallery.json".to_string(),
    ];
    (dir, catalogs)
}

fn with(base: &[String], more: &[&str]) -> Vec<String> {
    let mut all: Vec<String> = more.iter().map(|s| (*s).to_string()).collect();
    let at = all.iter().position(|a| a == ".").unwrap_or(all.len());
    for (i, a) in base.iter().enumerate() {
        all.insert(at + i, a.clone());
    }
    all
}

#[test]
fn vm_catalogs_drive_check_and_fix_like_container_catalogs() {
    let (dir, catalogs) = infra_copy();
    let args = with(&catalogs, &["check", "--format", "json", "."]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out) = json(&args, dir.path());
    assert_eq!(code, Some(1), "unpinned VM images are errors");
    let findings = out["findings"].as_array().expect("findings");
    let of = |rule: &str| -> Vec<(String, u64, String)> {
        findings
            .iter()
            .filter(|f| f["rule"] == rule)
            .map(|f| {
                (
                    f["path"].as_str().unwrap_or_default().to_string(),
                    f["line"].as_u64().unwrap_or_default(),
                    f["fix"]["title"].as_str().unwrap_or("-").to_string(),
                )
            })
            .collect()
    };
    let bump = |path: &str, line, to: &str| (path.to_string(), line, format!("Bump to {to}"));
    assert_eq!(
        of("stale-vm-image"),
        [
            bump("arm/mdp-pool.json", 21, "1.10.0"),
            bump("arm/vm.json", 48, "1.10.0"),
            bump("bicep/mdp-pool.bicep", 14, "1.10.0"),
            bump("bicep/vm.bicep", 25, "24.04.202411030"),
            bump("terraform/main.tf", 21, "24.04.202411030"),
        ]
    );
    let unpinned = of("unpinned-vm-image");
    assert_eq!(unpinned.len(), 8);
    assert!(
        unpinned
            .iter()
            .all(|(_, _, fix)| fix == "Pin to 24.04.202411030" || fix == "Pin to 1.10.0"),
        "{unpinned:?}"
    );

    // --fix with the catalogs only: every VM image pinned or bumped, one summary section.
    let summary = dir.path().join("bump.md");
    let args = with(
        &catalogs,
        &[
            "--fix",
            "--offline",
            "--format",
            "json",
            "--summary",
            summary.to_str().expect("utf-8"),
            ".",
        ],
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out) = json(&args, dir.path());
    // What remains are the retired pool labels, which no version fixes.
    let left: BTreeSet<&str> = out["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert_eq!(
        left.into_iter().collect::<Vec<_>>(),
        ["retired-vm-image"],
        "{out:#}"
    );
    assert_eq!(code, Some(1));
    let fix = &out["fix"];
    assert_eq!(fix["totals"]["changed_references"], 13);
    assert_eq!(fix["totals"]["vm_pinned"], 8);
    assert_eq!(fix["totals"]["vm_bumped"], 5);
    assert_eq!(fix["totals"]["pinned"], 0);
    assert_eq!(fix["changes"].as_array().map(Vec::len), Some(0));
    let tf = fix["vm_changes"]
        .as_array()
        .expect("vm_changes")
        .iter()
        .find(|c| c["path"] == "terraform/main.tf" && c["line"] == 21)
        .expect("the Terraform bump");
    assert_eq!(tf["image"], "Canonical:ubuntu-24_04-lts:server");
    assert_eq!(tf["action"], "bump");
    assert_eq!(tf["old_version"], "24.04.202409120");
    assert_eq!(tf["new_version"], "24.04.202411030");

    let main_tf = std::fs::read_to_string(dir.path().join("terraform/main.tf")).expect("read");
    assert!(main_tf.contains("    version   = \"24.04.202411030\"\n"));
    assert!(main_tf.contains("    version   = \"24.04.202411030\" // pinned, behind\n"));
    assert!(main_tf.contains("images/agent-ubuntu/versions/1.10.0\"\n"));
    assert!(
        main_tf.contains("agent-ubuntu/versions/1.8.0\""),
        "a suppressed finding is not fixed"
    );
    let md = std::fs::read_to_string(&summary).expect("summary");
    assert!(md.starts_with("## VM image versions\n\n13 VM image references in 5 files across 3 images: 8 pinned, 5 bumped.\n"), "{md}");
    assert!(md.contains("### `Canonical:ubuntu-24_04-lts:server`\n\n| Reference | Version |\n|---|---|\n| `arm/vm.json:19` | `latest` → `24.04.202411030` |\n"), "{md}");
    assert!(
        md.contains("| `terraform/main.tf:27` | none → `1.10.0` |\n"),
        "{md}"
    );
    assert!(!md.contains("## Container image pins"), "{md}");

    // Converged: nothing left to pin, the second run changes nothing.
    let args = with(&catalogs, &["--fix", "--offline", "."]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let again = run_in(dir.path(), &args);
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("Fixed 0 references in 0 files"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn a_catalog_of_no_known_kind_is_a_usage_error_naming_the_file() {
    let (dir, _) = infra_copy();
    std::fs::write(dir.path().join("bad.json"), "[{\"name\": \"x\"}]\n").expect("write");
    let out = run_in(dir.path(), &["check", "--catalog", "bad.json", "."]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("cannot use the catalog `bad.json`: it is neither a digest catalog")
            && err.contains("nor a VM catalog"),
        "{err}"
    );
}

#[test]
fn vm_suppressions_are_judged_where_versions_are_known() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("main.tf"),
        "resource \"azurerm_linux_virtual_machine\" \"a\" {\n  source_image_reference {\n    publisher = \"Canonical\"\n    offer     = \"ubuntu-24_04-lts\"\n    sku       = \"server\"\n    # pin-lint: ignore[stale-vm-image]\n    version   = \"24.04.202411030\"\n  }\n}\n",
    )
    .expect("write");
    std::fs::copy(
        support::fixtures_dir().join("vm/catalog/marketplace.json"),
        dir.path().join("vm-catalog.json"),
    )
    .expect("copy");
    let unused = |args: &[&str]| -> Vec<u64> {
        let (_, out) = json(args, dir.path());
        out["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["rule"] == "unused-suppression")
            .filter_map(|f| f["line"].as_u64())
            .collect()
    };
    // Without versions the comment may be hiding something: not judged.
    let base = ["check", "--report-unused-ignores", "--format", "json"];
    assert_eq!(
        unused(&[&base[..], &["main.tf"]].concat()),
        Vec::<u64>::new()
    );
    // With them, the version is the newest: the comment silences nothing.
    assert_eq!(
        unused(&[&base[..], &["--catalog", "vm-catalog.json", "main.tf"]].concat()),
        [6]
    );
}

/// A loopback server answering the Azure Resource Manager version listings in their
/// documented shapes (the real API needs an Azure account), counting requests per path.
mod arm {
    use std::io::{Read as _, Write as _};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    pub const TOKEN: &str = "test-token-5678";
    pub const GALLERY: &str = "/subscriptions/0000/resourceGroups/images/providers/Microsoft.Compute/galleries/ciGallery/images/agent-ubuntu";
    pub const MARKETPLACE: &str = "/subscriptions/sub-1/providers/Microsoft.Compute/locations/eastus/publishers/canonical/artifacttypes/vmimage/offers/ubuntu-24_04-lts/skus/server/versions?api-version=2024-07-01";

    pub struct Server {
        pub base: String,
        seen: Arc<Mutex<Vec<String>>>,
    }

    impl Server {
        /// Serve; `gallery_found` false answers 404 for the gallery image.
        pub fn start(gallery_found: bool) -> Server {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let base = format!("http://{}", listener.local_addr().expect("addr"));
            let seen: Arc<Mutex<Vec<String>>> = Arc::default();
            let log = Arc::clone(&seen);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(mut stream) = stream else { continue };
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut chunk) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&buf).to_string();
                    let target = head
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or_default()
                        .to_string();
                    let authorized = head
                        .lines()
                        .any(|l| l.eq_ignore_ascii_case(&format!("authorization: Bearer {TOKEN}")));
                    log.lock().expect("lock").push(target.clone());
                    let (status, body) = answer(&target, authorized, gallery_found);
                    let reply = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(reply.as_bytes());
                }
            });
            Server { base, seen }
        }

        /// How many requests asked for `target`.
        pub fn count(&self, target: &str) -> usize {
            self.seen
                .lock()
                .expect("lock")
                .iter()
                .filter(|t| *t == target)
                .count()
        }

        pub fn total(&self) -> usize {
            self.seen.lock().expect("lock").len()
        }
    }

    pub fn gallery_target() -> String {
        format!(
            "{}/versions?api-version=2023-07-03",
            GALLERY.to_ascii_lowercase()
        )
    }

    fn answer(target: &str, authorized: bool, gallery_found: bool) -> (u16, String) {
        if !authorized {
            return (
                401,
                r#"{"error":{"code":"InvalidAuthenticationToken","message":"bad token"}}"#.into(),
            );
        }
        if target == MARKETPLACE {
            let items: Vec<String> = ["24.04.202409120", "24.04.202412010", "24.04.202410020"]
                .iter()
                .map(|v| format!(r#"{{"location":"eastus","name":"{v}","id":"/Subscriptions/sub-1/Providers/Microsoft.Compute/Locations/eastus/Publishers/Canonical/ArtifactTypes/VMImage/Offers/ubuntu-24_04-lts/Skus/server/Versions/{v}"}}"#))
                .collect();
            return (200, format!("[{}]", items.join(",")));
        }
        if target == gallery_target() && gallery_found {
            let version = |name: &str, exclude: bool| {
                format!(
                    r#"{{"id":"{GALLERY}/versions/{name}","name":"{name}","properties":{{"publishingProfile":{{"excludeFromLatest":{exclude}}}}}}}"#
                )
            };
            return (
                200,
                format!(
                    r#"{{"value":[{},{},{}]}}"#,
                    version("1.9.3", false),
                    version("1.11.0", false),
                    version("2.0.0", true)
                ),
            );
        }
        (
            404,
            r#"{"error":{"code":"NotFound","message":"no such image"}}"#.into(),
        )
    }
}

/// Two files, one marketplace image each (one `latest`, one behind) and one gallery image.
fn arm_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("agents.bicep"),
        format!(
            "resource vm 'Microsoft.Compute/virtualMachines@2024-07-01' = {{\n  name: 'a'\n  properties: {{\n    storageProfile: {{\n      imageReference: {{\n        publisher: 'Canonical'\n        offer: 'ubuntu-24_04-lts'\n        sku: 'server'\n        version: 'latest'\n      }}\n    }}\n  }}\n}}\n\nresource vmss 'Microsoft.Compute/virtualMachineScaleSets@2024-07-01' = {{\n  name: 'b'\n  properties: {{\n    virtualMachineProfile: {{\n      storageProfile: {{\n        imageReference: {{\n          id: '{}/versions/1.9.3'\n        }}\n      }}\n    }}\n  }}\n}}\n",
            arm::GALLERY
        ),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("main.tf"),
        "resource \"azurerm_linux_virtual_machine\" \"a\" {\n  source_image_reference {\n    publisher = \"Canonical\"\n    offer     = \"ubuntu-24_04-lts\"\n    sku       = \"server\"\n    version   = \"24.04.202409120\"\n  }\n}\n",
    )
    .expect("write");
    dir
}

fn online(dir: &Path, server: &arm::Server, args: &[&str]) -> std::process::Output {
    support::pin_lint()
        .args(args)
        .current_dir(dir)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("TF_BUILD")
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .env_remove("https_proxy")
        .env_remove("http_proxy")
        .env("AZURE_RESOURCE_MANAGER_ENDPOINT", &server.base)
        .env("AZURE_ACCESS_TOKEN", arm::TOKEN)
        .env("AZURE_SUBSCRIPTION_ID", "sub-1")
        .env("AZURE_LOCATION", "eastus")
        .output()
        .expect("pin-lint runs")
}

#[test]
fn online_check_and_fix_ask_azure_resource_manager_once_per_image() {
    let server = arm::Server::start(true);
    let dir = arm_repo();
    let check = online(
        dir.path(),
        &server,
        &["check", "--online", "--format", "json", "."],
    );
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    let value: serde_json::Value = serde_json::from_slice(&check.stdout).expect("JSON");
    let found: Vec<(String, u64, String)> = value["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
                f["fix"]["title"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "unpinned-vm-image".to_string(),
                9,
                "Pin to 24.04.202412010".to_string()
            ),
            (
                "stale-vm-image".to_string(),
                21,
                "Bump to 1.11.0".to_string()
            ),
            (
                "stale-vm-image".to_string(),
                6,
                "Bump to 24.04.202412010".to_string()
            ),
        ]
    );
    // Two files use the marketplace image: one request; the gallery image: one request.
    assert_eq!(server.count(arm::MARKETPLACE), 1);
    assert_eq!(server.count(&arm::gallery_target()), 1);
    assert_eq!(server.total(), 2);

    // `--fix` resolves online by default.
    let summary = dir.path().join("bump.md");
    let fixed = online(
        dir.path(),
        &server,
        &["--fix", "--summary", summary.to_str().expect("utf-8"), "."],
    );
    assert_eq!(fixed.status.code(), Some(0), "{}", stderr(&fixed));
    assert!(
        stderr(&fixed).contains(
            "Fixed 3 references in 2 files (0 pinned, 0 bumped, 0 re-pinned; VM images: 1 pinned, 2 bumped)."
        ),
        "{}",
        stderr(&fixed)
    );
    let bicep = std::fs::read_to_string(dir.path().join("agents.bicep")).expect("read");
    assert!(
        bicep.contains("        version: '24.04.202412010'\n"),
        "{bicep}"
    );
    assert!(
        bicep.contains("/images/agent-ubuntu/versions/1.11.0'\n"),
        "{bicep}"
    );
    let tf = std::fs::read_to_string(dir.path().join("main.tf")).expect("read");
    assert!(tf.contains("    version   = \"24.04.202412010\"\n"), "{tf}");
    let md = std::fs::read_to_string(&summary).expect("summary");
    assert!(
        md.contains("3 VM image references in 2 files across 2 images: 1 pinned, 2 bumped."),
        "{md}"
    );
    assert!(
        md.contains("| `main.tf:6` | `24.04.202409120` → `24.04.202412010` |"),
        "{md}"
    );
}

#[test]
fn a_failed_vm_lookup_holds_back_only_the_files_that_need_it() {
    let server = arm::Server::start(false);
    let dir = arm_repo();
    let bicep = std::fs::read_to_string(dir.path().join("agents.bicep")).expect("read");
    let fixed = online(dir.path(), &server, &["--fix", "--format", "json", "."]);
    let err = stderr(&fixed);
    assert_eq!(fixed.status.code(), Some(3), "{err}");
    let host = server.base.trim_start_matches("http://");
    assert!(
        err.contains(&format!(
            "pin-lint: error: {host}: {}: not found by Azure Resource Manager (1 lookup failed)",
            arm::GALLERY.to_ascii_lowercase()
        )),
        "{err}"
    );
    assert!(
        err.contains("pin-lint: agents.bicep: left untouched: could not resolve"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("agents.bicep")).expect("read"),
        bicep
    );
    let tf = std::fs::read_to_string(dir.path().join("main.tf")).expect("read");
    assert!(tf.contains("    version   = \"24.04.202412010\"\n"), "{tf}");
    let value: serde_json::Value = serde_json::from_slice(&fixed.stdout).expect("JSON");
    let errors = value["fix"]["lookup_errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{value:#}");
    assert_eq!(errors[0]["registry"], host);
}

/// A Managed DevOps Pool names a marketplace image by a resource id that carries its
/// subscription and region: without `AZURE_SUBSCRIPTION_ID` / `AZURE_LOCATION` those are used.
#[test]
fn a_marketplace_image_id_gives_its_own_subscription_and_location() {
    let server = arm::Server::start(true);
    let dir = tempfile::tempdir().expect("tempdir");
    let id = "/Subscriptions/sub-1/Providers/Microsoft.Compute/Locations/eastus/Publishers/Canonical/ArtifactTypes/VMImage/Offers/ubuntu-24_04-lts/Skus/server/versions/latest";
    std::fs::write(
        dir.path().join("pool.bicep"),
        format!(
            "resource pool 'Microsoft.DevOpsInfrastructure/pools@2025-01-21' = {{\n  name: 'ci'\n  properties: {{\n    fabricProfile: {{\n      kind: 'Vmss'\n      images: [\n        {{\n          resourceId: '{id}'\n        }}\n      ]\n    }}\n  }}\n}}\n"
        ),
    )
    .expect("write");
    let without_scope = |args: &[&str]| {
        support::pin_lint()
            .args(args)
            .current_dir(dir.path())
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .env("AZURE_RESOURCE_MANAGER_ENDPOINT", &server.base)
            .env("AZURE_ACCESS_TOKEN", arm::TOKEN)
            .env_remove("AZURE_SUBSCRIPTION_ID")
            .env_remove("AZURE_LOCATION")
            .output()
            .expect("pin-lint runs")
    };
    let fixed = without_scope(&["--fix", "."]);
    assert_eq!(fixed.status.code(), Some(0), "{}", stderr(&fixed));
    assert_eq!(server.count(arm::MARKETPLACE), 1);
    let pool = std::fs::read_to_string(dir.path().join("pool.bicep")).expect("read");
    assert!(
        pool.contains("/Skus/server/versions/24.04.202412010'\n"),
        "{pool}"
    );
}
