//! Protocol behaviour of the real `pin-lsp` process: no stale diagnostics after rapid edits,
//! survival of malformed input and unknown methods, position encoding negotiation, settings,
//! and what the template layer tells about images built across files.

mod support;

use serde_json::{json, Value};
use support::{codes, copy_tree, file_uri, fixture_dir, Lsp};

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn pipeline(lines: &[String]) -> String {
    let mut text = String::from("resources:\n  containers:\n");
    for (i, image) in lines.iter().enumerate() {
        text.push_str(&format!("  - container: c{i}\n    image: {image}\n"));
    }
    text
}

/// 0-based lines of the unpinned `image:` values in `text`, computed independently of the
/// analyzer.
fn unpinned_lines(text: &str) -> Vec<u64> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("image:") && !l.contains("@sha256:"))
        .map(|(i, _)| i as u64)
        .collect()
}

fn diagnostic_lines(params: &Value, code: &str) -> Vec<u64> {
    params["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["code"] == code)
        .map(|d| d["range"]["start"]["line"].as_u64().expect("line"))
        .collect()
}

#[test]
fn rapid_changes_end_with_diagnostics_of_the_final_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("azure-pipelines.yml");
    let uri = file_uri(&path);
    let mut lsp = Lsp::start();
    lsp.initialize(dir.path(), json!({}), json!({}));

    let mut images: Vec<String> = (0..10).map(|i| format!("alpine:3.{i}")).collect();
    let mut text = pipeline(&images);
    lsp.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}),
    );
    let first = lsp.diagnostics_at(&uri, 1);
    assert_eq!(
        diagnostic_lines(&first, "unpinned-image"),
        unpinned_lines(&text)
    );

    // 120 edits back to back, each rewriting one `image:` line (incremental sync); every
    // seventh one replaces the whole text instead.
    let mut version = 1;
    for step in 0..120usize {
        version += 1;
        let k = (step * 7) % images.len();
        let new_image = if step % 3 == 0 {
            format!("alpine:3.{step}@{DIGEST}")
        } else {
            format!("alpine:3.{step}")
        };
        let line = 3 + 2 * k as u64;
        let old_line = format!("    image: {}", images[k]);
        images[k] = new_image;
        let change = if step % 7 == 0 {
            text = pipeline(&images);
            json!({"text": text})
        } else {
            text = pipeline(&images);
            json!({
                "range": {"start": {"line": line, "character": 0},
                          "end": {"line": line, "character": old_line.len()}},
                "text": format!("    image: {}", images[k]),
            })
        };
        lsp.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}),
        );
    }
    let last = lsp.diagnostics_at(&uri, version);
    let expected = unpinned_lines(&text);
    assert!(!expected.is_empty() && expected.len() < images.len());
    assert_eq!(diagnostic_lines(&last, "unpinned-image"), expected);

    // One more edit: anything published in between must be for the final version or this one.
    version += 1;
    lsp.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": version},
               "contentChanges": [{"text": pipeline(&["alpine:1".to_string()])}]}),
    );
    let after = lsp.diagnostics_at(&uri, version);
    assert_eq!(diagnostic_lines(&after, "unpinned-image"), [3]);

    let published: Vec<i64> = lsp
        .seen
        .iter()
        .filter(|m| m["method"] == "textDocument/publishDiagnostics")
        .map(|m| m["params"]["version"].as_i64().expect("version"))
        .collect();
    assert!(
        published.windows(2).all(|w| w[0] <= w[1]),
        "publications went back in version: {published:?}"
    );
    let bursts = published
        .iter()
        .filter(|v| **v > 1 && **v < version - 1)
        .count();
    println!(
        "{} edits gave {} publications: {published:?}",
        version - 1,
        published.len()
    );
    assert!(bursts < 119, "edits were not coalesced: {published:?}");
    assert!(lsp.shutdown().success());
}

#[test]
fn malformed_input_and_unknown_methods_do_not_stop_the_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut lsp = Lsp::start();
    lsp.initialize(dir.path(), json!({}), json!({}));

    // Not JSON at all.
    lsp.send_raw(b"Content-Length: 9\r\n\r\n{\"bad\": }");
    let parse_error = lsp.wait_for("parse error response", |m| m.get("error").is_some());
    assert_eq!(parse_error["error"]["code"], -32700, "{parse_error}");
    assert_eq!(parse_error["id"], Value::Null);

    // JSON, but not JSON-RPC.
    lsp.send(&json!({"hello": "world"}));
    let invalid = lsp.wait_for("invalid request response", |m| m.get("error").is_some());
    assert!(
        [-32600, -32700].contains(&invalid["error"]["code"].as_i64().unwrap_or(0)),
        "{invalid}"
    );

    // Unknown request: MethodNotFound. Unknown notification: ignored.
    let unknown = lsp.request("pinLint/noSuchThing", json!({}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    lsp.notify("pinLint/noSuchNotification", json!({"x": 1}));

    // Known method, wrong params: InvalidParams.
    let bad_params = lsp.request("textDocument/hover", json!({"nope": true}));
    assert_eq!(bad_params["error"]["code"], -32602, "{bad_params}");

    // Unknown command.
    let bad_command = lsp.request(
        "workspace/executeCommand",
        json!({"command": "pinLint.nope", "arguments": []}),
    );
    assert!(bad_command.get("error").is_some(), "{bad_command}");

    // A change to a document that was never opened, and a hover on it.
    lsp.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": "file:///nowhere.yml", "version": 3},
               "contentChanges": [{"text": "x"}]}),
    );
    let hover = lsp.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": "file:///nowhere.yml"},
               "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(hover["result"], Value::Null, "{hover}");

    // Still serving: a document gets its diagnostics.
    let uri = file_uri(&dir.path().join("azure-pipelines.yml"));
    lsp.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 7,
               "text": pipeline(&["ubuntu:24.04".to_string()])}}),
    );
    let d = lsp.diagnostics_at(&uri, 7);
    assert_eq!(codes(&d), ["unpinned-image"]);

    // Broken YAML is a diagnostic, not a crash.
    lsp.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 8},
               "contentChanges": [{"text": "jobs:\n  - job: [unclosed\n"}]}),
    );
    let d = lsp.diagnostics_at(&uri, 8);
    assert_eq!(codes(&d), ["yaml-syntax"], "{d}");
    assert!(lsp.shutdown().success());
}

#[test]
fn position_encoding_is_negotiated_and_used_everywhere() {
    // "ä" is 2 bytes and 1 UTF-16 unit, "𝄞" 4 bytes and 2 units: the reference's column
    // differs per encoding.
    let text = "resources:\n  containers:\n  - { container: \"ä𝄞\", image: alpine:3.20 }\n";
    let prefix = "  - { container: \"ä𝄞\", image: ";
    let utf16_col = prefix.encode_utf16().count() as u64;
    let utf8_col = prefix.len() as u64;
    assert_ne!(utf16_col, utf8_col);

    for (offered, name, col) in [
        (json!(["utf-8", "utf-16"]), "utf-8", utf8_col),
        (json!(["utf-32"]), "utf-16", utf16_col),
        (Value::Null, "utf-16", utf16_col),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let catalog = dir.path().join("digests.tsv");
        std::fs::write(&catalog, format!("alpine:3.20\t{DIGEST}\n")).expect("catalog");
        let uri = file_uri(&dir.path().join("azure-pipelines.yml"));
        let mut lsp = Lsp::start();
        let caps = if offered.is_null() {
            json!({})
        } else {
            json!({"general": {"positionEncodings": offered}})
        };
        // Settings without the `pinLint` wrapper; relative catalog path.
        let init = lsp.initialize(dir.path(), caps, json!({"catalogs": ["digests.tsv"]}));
        let negotiated = init["capabilities"]["positionEncoding"].clone();
        assert_eq!(negotiated, name, "offered {offered}");
        lsp.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}),
        );
        let d = lsp.diagnostics_at(&uri, 1);
        let range = &d["diagnostics"][0]["range"];
        assert_eq!(
            range["start"],
            json!({"line": 2, "character": col}),
            "{name}"
        );
        assert_eq!(
            range["end"]["character"].as_u64(),
            Some(col + "alpine:3.20".len() as u64)
        );
        // A code action at the reference pins it; the edit sits right after the tag.
        let actions = lsp.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": range,
                   "context": {"diagnostics": d["diagnostics"]}}),
        );
        let pin = actions["result"]
            .as_array()
            .expect("actions")
            .iter()
            .find(|a| {
                a["title"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("Pin to sha256:"))
            })
            .unwrap_or_else(|| panic!("no Pin action: {actions}"))
            .clone();
        assert_eq!(pin["isPreferred"], true);
        let edit = &support::edits_for(&pin["edit"], &uri)[0];
        assert_eq!(
            edit["range"]["start"]["character"],
            range["end"]["character"]
        );
        assert_eq!(edit["newText"], format!("@{DIGEST}"));
        // Hover in the middle of the reference, in the negotiated units.
        let hover = lsp.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri},
                   "position": {"line": 2, "character": col + 3}}),
        );
        let md = hover["result"]["contents"]["value"].as_str().unwrap_or("");
        assert!(
            md.contains(DIGEST) && md.contains("catalog digests.tsv"),
            "{md}"
        );
        assert!(lsp.shutdown().success());
    }
}

#[test]
fn settings_changes_and_suppression_action_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let uri = file_uri(&dir.path().join("azure-pipelines.yml"));
    let mut lsp = Lsp::start();
    lsp.initialize(
        dir.path(),
        json!({"workspace": {"workspaceEdit": {"documentChanges": true}}}),
        json!({"pinLint": {"online": false, "logLevel": "debug"}}),
    );
    let text = "jobs:\n- job: a\n  container: ubuntu:24.04\n";
    lsp.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}),
    );
    let d = lsp.diagnostics_at(&uri, 1);
    assert_eq!(codes(&d), ["unpinned-image"]);
    let actions = lsp.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": d["diagnostics"][0]["range"],
               "context": {"diagnostics": d["diagnostics"]}}),
    );
    let titles: Vec<&str> = actions["result"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| a["title"].as_str().unwrap_or(""))
        .collect();
    // No digest known yet: no Pin action, but the suppression.
    assert_eq!(titles, ["Add `# pin-lint: ignore[unpinned-image]`"]);
    let suppress = &actions["result"][0];
    assert_eq!(
        suppress["edit"]["documentChanges"][0]["textDocument"]["version"],
        1
    );
    let edits = support::edits_for(&suppress["edit"], &uri);
    let suppressed = support::apply_text_edits(text, &edits);
    assert_eq!(
        suppressed,
        "jobs:\n- job: a\n  # pin-lint: ignore[unpinned-image]\n  container: ubuntu:24.04\n"
    );
    lsp.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": suppressed}]}),
    );
    assert_eq!(codes(&lsp.diagnostics_at(&uri, 2)), Vec::<String>::new());

    // A catalog arrives through didChangeConfiguration: the Pin action appears for the
    // (unsuppressed) text.
    std::fs::write(dir.path().join("c.tsv"), format!("ubuntu:24.04 {DIGEST}\n")).expect("tsv");
    lsp.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"text": text}]}),
    );
    lsp.diagnostics_at(&uri, 3);
    lsp.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"pinLint": {"catalogs": [dir.path().join("c.tsv")]}}}),
    );
    let all = lsp.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri},
               "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
               "context": {"diagnostics": [], "only": ["source.fixAll"]}}),
    );
    let only: Vec<&str> = all["result"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| a["title"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(only, ["Pin all images in this file"]);
    let pinned =
        support::apply_text_edits(text, &support::edits_for(&all["result"][0]["edit"], &uri));
    assert_eq!(
        pinned,
        format!("jobs:\n- job: a\n  container: ubuntu:24.04@{DIGEST}\n")
    );

    // The same through the command, which applies the edit with workspace/applyEdit.
    let result = lsp.request(
        "workspace/executeCommand",
        json!({"command": "pinLint.pinAllInFile", "arguments": [uri]}),
    );
    assert_eq!(
        result["result"],
        json!({"applied": true, "edits": 1}),
        "{result}"
    );
    let apply = lsp
        .seen
        .iter()
        .find(|m| m["method"] == "workspace/applyEdit")
        .expect("applyEdit sent")
        .clone();
    let via_command =
        support::apply_text_edits(text, &support::edits_for(&apply["params"]["edit"], &uri));
    assert_eq!(via_command, pinned);
    assert!(lsp.shutdown().success());
}

#[test]
fn pin_lint_toml_is_honoured_and_reloaded_when_it_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("root");
    std::fs::create_dir_all(root.join(".git")).expect("mkdir .git");
    let toml = root.join("pin-lint.toml");
    std::fs::write(&toml, "[rules]\nunpinned-image = \"warning\"\n").expect("toml");
    let uri = file_uri(&root.join("azure-pipelines.yml"));
    let mut lsp = Lsp::start();
    lsp.initialize(&root, json!({}), Value::Null);
    let text = "jobs:\n- job: a\n  container: ubuntu:24.04\n";
    lsp.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}),
    );
    let d = lsp.diagnostics_at(&uri, 1);
    assert_eq!(codes(&d), ["unpinned-image"]);
    assert_eq!(
        d["diagnostics"][0]["severity"], 2,
        "warning from pin-lint.toml: {d}"
    );

    std::fs::write(&toml, "[rules]\nunpinned-image = \"info\"\n").expect("toml");
    lsp.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&toml), "type": 2}]}),
    );
    let d = lsp.diagnostics_where(&uri, |p| p["diagnostics"][0]["severity"] == 3);
    assert_eq!(d["version"], 1);

    // An invalid file: the user is told, and the defaults apply.
    std::fs::write(&toml, "[rules]\nunpinned-imag = \"info\"\n").expect("toml");
    lsp.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&toml), "type": 2}]}),
    );
    let shown = lsp.wait_for("a warning about pin-lint.toml", |m| {
        m["method"] == "window/showMessage"
    });
    let message = shown["params"]["message"].as_str().unwrap_or("");
    assert!(message.contains("unpinned-imag"), "{message}");
    let d = lsp.diagnostics_where(&uri, |p| p["diagnostics"][0]["severity"] == 1);
    assert_eq!(codes(&d), ["unpinned-image"]);
    assert!(lsp.shutdown().success());
}

/// The markdown of a hover at `needle` (its first occurrence, plus `delta` characters).
fn hover_at(lsp: &mut Lsp, uri: &str, text: &str, needle: &str, delta: usize) -> String {
    let at = text.find(needle).expect("needle in text") + delta;
    let line = text[..at].matches('\n').count();
    let character = at - text[..at].rfind('\n').map_or(0, |i| i + 1);
    let hover = lsp.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}),
    );
    hover["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_else(|| panic!("no hover at {needle}: {hover}"))
        .to_string()
}

#[test]
fn hovers_tell_where_a_built_image_comes_from() {
    // platform-matrix.yml hands image fragments to xplat-setup.yml, which completes them with
    // `format()` into the job container.
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("root");
    copy_tree(&fixture_dir("repo:templates/format"), &root);
    let setup = root.join("eng/common/xplat-setup.yml");
    let matrix = root.join("eng/common/platform-matrix.yml");
    let (setup_uri, matrix_uri) = (file_uri(&setup), file_uri(&matrix));
    let setup_text = std::fs::read_to_string(&setup).expect("xplat-setup.yml");
    let matrix_text = std::fs::read_to_string(&matrix).expect("platform-matrix.yml");
    let mut lsp = Lsp::start();
    lsp.initialize(&root, json!({}), json!({}));
    lsp.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": setup_uri, "languageId": "yaml", "version": 1,
               "text": setup_text}}),
    );
    let d = lsp.diagnostics_at(&setup_uri, 1);
    assert_eq!(codes(&d), ["dynamic-image", "dynamic-image"], "{d}");
    let message = d["diagnostics"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("it can produce 3 images"), "{message}");

    // On the expression: the images it makes, and the fragments they come from.
    let md = hover_at(&mut lsp, &setup_uri, &setup_text, "${{ format(", 4);
    for needle in [
        "- after template expansion:",
        "  - `mcr.microsoft.com/dotnet-buildtools/prereqs:alpine-3.21-amd64`, from `eng/common/xplat-setup.yml:9:41`, `eng/common/platform-matrix.yml:17:16`\n",
        "  - `mcr.microsoft.com/dotnet-buildtools/prereqs:azurelinux-3.0-net10.0-cross-amd64`, from `eng/common/xplat-setup.yml:9:41`, `eng/common/platform-matrix.yml:10:16`\n",
    ] {
        assert!(md.contains(needle), "{needle} not in:\n{md}");
    }

    // On a fragment: what it becomes, and where.
    lsp.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": matrix_uri, "languageId": "yaml", "version": 1,
               "text": matrix_text}}),
    );
    let d = lsp.diagnostics_at(&matrix_uri, 1);
    assert_eq!(codes(&d), ["dynamic-image"; 3], "{d}");
    let md = hover_at(&mut lsp, &matrix_uri, &matrix_text, "alpine-3.21-amd64", 2);
    assert!(
        md.contains("- completed by templates into:\n  - `mcr.microsoft.com/dotnet-buildtools/prereqs:alpine-3.21-amd64`, built at `eng/common/xplat-setup.yml:9:18`"),
        "{md}"
    );
    assert!(lsp.shutdown().success());
}

#[test]
fn images_passed_through_templates_are_pinned_where_they_are_written() {
    // ci.yml (not open) hands `testImage` to build-job.yml as a parameter; the catalog knows
    // its digest. The quick fix in ci.yml and the workspace bump both pin the literal there.
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("root");
    copy_tree(&fixture_dir("workspace"), &root);
    let image = "mcr.microsoft.com/dotnet-buildtools/prereqs:ubuntu-24.04";
    std::fs::write(root.join("digests.tsv"), format!("{image}\t{DIGEST}\n")).expect("catalog");
    let ci = root.join("eng/pipelines/ci.yml");
    let job = root.join("eng/pipelines/templates/build-job.yml");
    let (ci_uri, job_uri) = (file_uri(&ci), file_uri(&job));
    let ci_text = std::fs::read_to_string(&ci).expect("ci.yml");
    let mut lsp = Lsp::start();
    lsp.initialize(
        &root,
        json!({"workspace": {"workspaceEdit": {"documentChanges": true}}}),
        json!({"pinLint": {"catalogs": ["digests.tsv"]}}),
    );
    lsp.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": job_uri, "languageId": "yaml", "version": 1,
               "text": std::fs::read_to_string(&job).expect("build-job.yml")}}),
    );
    lsp.diagnostics_at(&job_uri, 1);

    let result = lsp.request(
        "workspace/executeCommand",
        json!({"command": "pinLint.bumpWorkspace", "arguments": []}),
    );
    assert_eq!(result["result"]["applied"], true, "{result}");
    let apply = lsp
        .seen
        .iter()
        .find(|m| m["method"] == "workspace/applyEdit")
        .expect("applyEdit sent")
        .clone();
    let edits = support::edits_for(&apply["params"]["edit"], &ci_uri);
    assert_eq!(edits.len(), 1, "{apply}");
    let bumped = support::apply_text_edits(&ci_text, &edits);
    assert_eq!(
        bumped,
        ci_text.replace(image, &format!("{image}@{DIGEST}")),
        "only the literal handed to the template is pinned"
    );

    // Open ci.yml: the finding on the literal offers the pin as a quick fix.
    lsp.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": ci_uri, "languageId": "yaml", "version": 1,
               "text": ci_text}}),
    );
    let d = lsp.diagnostics_at(&ci_uri, 1);
    let finding = d["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .find(|f| {
            f["message"]
                .as_str()
                .is_some_and(|m| m.contains("via eng/pipelines/ci.yml"))
        })
        .unwrap_or_else(|| panic!("no finding with a template chain: {d}"))
        .clone();
    let actions = lsp.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": ci_uri}, "range": finding["range"],
               "context": {"diagnostics": [finding]}}),
    );
    let pin = actions["result"]
        .as_array()
        .expect("actions")
        .iter()
        .find(|a| {
            a["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("Pin to sha256:"))
        })
        .unwrap_or_else(|| panic!("no Pin action: {actions}"))
        .clone();
    let pinned = support::apply_text_edits(&ci_text, &support::edits_for(&pin["edit"], &ci_uri));
    assert_eq!(pinned, bumped);
    assert!(lsp.shutdown().success());
}

#[test]
fn hovers_tell_which_images_reach_a_template_and_which_jobs_use_a_resource() {
    // ci.yml and official.yml call templates/build-job.yml: with an alias of a resource
    // (defined in ci.yml, or in the `containers` map official.yml hands to an external
    // template) for the build job, and with an image for the test job.
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("root");
    copy_tree(&fixture_dir("uses"), &root);
    let ubuntu = "mcr.microsoft.com/dotnet-buildtools/prereqs:ubuntu-24.04";
    let current = format!("sha256:{}", "a".repeat(64));
    std::fs::write(root.join("digests.tsv"), format!("{ubuntu}\t{current}\n")).expect("catalog");
    let open = |lsp: &mut Lsp, rel: &str| {
        let path = root.join(rel);
        let (uri, text) = (
            file_uri(&path),
            std::fs::read_to_string(&path).expect("fixture file"),
        );
        lsp.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1,
                   "text": text}}),
        );
        lsp.diagnostics_at(&uri, 1);
        (uri, text)
    };
    let mut lsp = Lsp::start();
    lsp.initialize(
        &root,
        json!({}),
        json!({"pinLint": {"catalogs": ["digests.tsv"]}}),
    );

    // The template's use sites: every image that reaches them, from where, through what.
    let (job_uri, job_text) = open(&mut lsp, "eng/pipelines/templates/build-job.yml");
    let md = hover_at(
        &mut lsp,
        &job_uri,
        &job_text,
        "${{ parameters.container }}",
        5,
    );
    for needle in [
        "- reaches this job container through templates (2 images):\n",
        "  - `mcr.microsoft.com/dotnet-buildtools/prereqs:alpine-3.21-amd64`: not pinned; alias `linux_musl`; written at `eng/pipelines/official.yml:10:16`; via eng/pipelines/official.yml → eng/pipelines/templates/build-job.yml\n",
        "  - `mcr.microsoft.com/dotnet-buildtools/prereqs:azurelinux-3.0-net10.0-cross-amd64`: not pinned; alias `linux_x64`; written at `eng/pipelines/ci.yml:8:12`; via eng/pipelines/ci.yml → eng/pipelines/templates/build-job.yml\n",
    ] {
        assert!(md.contains(needle), "{needle} not in:\n{md}");
    }
    let md = hover_at(
        &mut lsp,
        &job_uri,
        &job_text,
        "${{ parameters.testImage }}",
        5,
    );
    for needle in [
        "- reaches this job container through templates (2 images):\n",
        &format!("  - `mcr.microsoft.com/dotnet-buildtools/prereqs:debian-12@{DIGEST}`: pinned to `{DIGEST}`; written at `eng/pipelines/official.yml:21:22`; via eng/pipelines/official.yml → eng/pipelines/templates/build-job.yml\n"),
        &format!("  - `{ubuntu}`: not pinned; the tag points to `{current}`; written at `eng/pipelines/ci.yml:14:16`; via eng/pipelines/ci.yml → eng/pipelines/templates/build-job.yml\n"),
    ] {
        assert!(md.contains(needle), "{needle} not in:\n{md}");
    }

    // A resource: the jobs that use its alias, on its name and on its image.
    let (ci_uri, ci_text) = open(&mut lsp, "eng/pipelines/ci.yml");
    let used_by = "- alias `linux_x64` used by:\n  - job `build` as job container at `eng/pipelines/ci.yml:13`\n";
    let md = hover_at(&mut lsp, &ci_uri, &ci_text, "container: linux_x64", 12);
    assert!(md.starts_with("**container resource** `linux_x64`"), "{md}");
    assert!(md.contains(used_by), "{md}");
    let md = hover_at(&mut lsp, &ci_uri, &ci_text, "azurelinux-3.0", 0);
    assert!(md.contains("- site: resource"), "{md}");
    assert!(md.contains(used_by), "{md}");

    // An entry of the `containers` map handed to an external template.
    let (off_uri, off_text) = open(&mut lsp, "eng/pipelines/official.yml");
    let md = hover_at(&mut lsp, &off_uri, &off_text, "alpine-3.21", 0);
    assert!(
        md.contains("- alias `linux_musl` used by:\n  - job `musl` as job container at `eng/pipelines/official.yml:15`\n  - job `build` as job container at `eng/pipelines/official.yml:20`\n"),
        "{md}"
    );
    assert!(lsp.shutdown().success());
}

/// A VM catalog in the settings gives VM image versions, as `--catalog` does for the CLI:
/// `version: 'latest'` gets a "Pin" fix and an older version a "Bump" fix.
#[test]
fn vm_catalogs_give_vm_images_their_versions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let catalog = dir.path().join("vm-images.json");
    std::fs::write(
        &catalog,
        r#"[{"publisher":"Canonical","offer":"ubuntu-24_04-lts","sku":"server","version":"24.04.202409120","urn":"Canonical:ubuntu-24_04-lts:server:24.04.202409120"},
            {"publisher":"Canonical","offer":"ubuntu-24_04-lts","sku":"server","version":"24.04.202411030","urn":"Canonical:ubuntu-24_04-lts:server:24.04.202411030"}]"#,
    )
    .expect("catalog");
    let path = dir.path().join("main.tf");
    let uri = file_uri(&path);
    let text = "resource \"azurerm_linux_virtual_machine\" \"a\" {\n  source_image_reference {\n    publisher = \"Canonical\"\n    offer     = \"ubuntu-24_04-lts\"\n    sku       = \"server\"\n    version   = \"latest\"\n  }\n}\n";
    std::fs::write(&path, text).expect("tf");
    let mut lsp = Lsp::start();
    lsp.initialize(
        dir.path(),
        json!({}),
        json!({"pinLint": {"online": false, "catalogs": [catalog]}}),
    );
    assert!(
        !lsp.stderr().contains("cannot load catalog"),
        "{}",
        lsp.stderr()
    );
    lsp.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "terraform", "version": 1, "text": text}}),
    );
    let d = lsp.diagnostics_at(&uri, 1);
    assert_eq!(codes(&d), ["unpinned-vm-image"]);
    let actions = lsp.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": d["diagnostics"][0]["range"],
               "context": {"diagnostics": d["diagnostics"]}}),
    );
    let pin = actions["result"]
        .as_array()
        .expect("actions")
        .iter()
        .find(|a| a["title"] == "Pin to 24.04.202411030")
        .unwrap_or_else(|| panic!("a Pin action: {actions}"))
        .clone();
    let pinned = support::apply_text_edits(text, &support::edits_for(&pin["edit"], &uri));
    assert_eq!(pinned, text.replace("\"latest\"", "\"24.04.202411030\""));

    let older = text.replace("\"latest\"", "\"24.04.202409120\"");
    lsp.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": older}]}),
    );
    assert_eq!(codes(&lsp.diagnostics_at(&uri, 2)), ["stale-vm-image"]);
    assert!(lsp.shutdown().success());
}

/// A catalog that `pin-lint.toml` gives as a URL is fetched in the background with the
/// registry client (plain `http` only to an insecure registry) and then answers like a file;
/// one that cannot be fetched is reported and left out.
#[test]
fn catalogs_by_url_are_fetched_in_the_background() {
    let server = pin_test_support::files::FileServer::start(vec![(
        "/digests.tsv".to_string(),
        format!("alpine:3.20\t{DIGEST}\n").into_bytes(),
    )]);
    let addr = server.addr.as_str();
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("root");
    std::fs::create_dir_all(root.join(".git")).expect("mkdir .git");
    std::fs::write(
        root.join("pin-lint.toml"),
        format!(
            "catalogs = [\"http://{addr}/digests.tsv\", \"http://{addr}/missing.tsv\"]\ninsecure-registries = [\"{addr}\"]\n"
        ),
    )
    .expect("toml");
    let uri = file_uri(&root.join("azure-pipelines.yml"));
    let text = "jobs:\n- job: a\n  container: alpine:3.20\n";
    let mut lsp = Lsp::start();
    lsp.initialize(&root, json!({}), Value::Null);
    lsp.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}),
    );
    let d = lsp.diagnostics_at(&uri, 1);
    assert_eq!(codes(&d), ["unpinned-image"]);
    // The fetch ends with the one that failed being reported (not as a file path).
    let shown = lsp.wait_for("a warning about the missing catalog", |m| {
        m["method"] == "window/showMessage"
    });
    let message = shown["params"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("cannot load catalog")
            && message.contains(&format!("http://{addr}/missing.tsv"))
            && message.contains("404"),
        "{message}"
    );
    assert!(
        !lsp.stderr().contains("digests.tsv: No such file"),
        "{}",
        lsp.stderr()
    );
    let hover = lsp.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 2, "character": 16}}),
    );
    let md = hover["result"]["contents"]["value"].as_str().unwrap_or("");
    assert!(
        md.contains(DIGEST) && md.contains("catalog digests.tsv"),
        "{md}"
    );
    let actions = lsp.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": d["diagnostics"][0]["range"],
               "context": {"diagnostics": d["diagnostics"]}}),
    );
    assert!(
        actions
            .to_string()
            .contains(&format!("Pin to {}", &DIGEST[..19])),
        "{actions}"
    );
    assert!(lsp.shutdown().success());
}
