//! Helpers for the end-to-end tests: shared data, the server binary, and a small LSP client
//! over the real process's stdio (also used by the latency benchmark through `#[path]`).
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[allow(unused_imports)] // not every test binary reads the shared data
pub use pin_test_support::shared_dir;

/// How long any single wait may take before the test fails as hung (a guard, not a
/// performance limit).
pub const HANG_GUARD: Duration = Duration::from_secs(60);

/// The `pin-lsp` binary under test.
pub fn pin_lsp_path() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pin-lsp"))
}

/// Panics with an install hint when `name` is not on PATH.
pub fn require_binary(name: &str, hint: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .find(|c| c.is_file())
        })
        .unwrap_or_else(|| panic!("required binary `{name}` not found on PATH; {hint}"))
}

/// `file://` URI of an absolute path (ASCII paths, which is all the tests use).
pub fn file_uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// Copy a corpus file into `dir`, keeping its path below the corpus (dialect detection looks
/// at it); returns the copy's path.
pub fn copy_corpus_file(dir: &Path, rel: &str) -> PathBuf {
    let from = shared_dir().join("corpus").join(rel);
    let to = dir.join(rel);
    std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
    std::fs::copy(&from, &to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
    to
}

/// A fixture folder of this crate (`tests/fixtures/<name>`) or, with a `repo:` prefix, of the
/// repository (`tests/fixtures/<name>` at the workspace root).
pub fn fixture_dir(name: &str) -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = match name.strip_prefix("repo:") {
        Some(rest) => manifest.join("../../tests/fixtures").join(rest),
        None => manifest.join("tests/fixtures").join(name),
    };
    assert!(dir.is_dir(), "fixture {} is missing", dir.display());
    dir
}

/// Copy a folder tree into `to` (created); the tests change the copies, never the fixtures.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read fixture") {
        let entry = entry.expect("fixture entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy fixture file");
        }
    }
}

/// A running `pin-lsp` with a JSON-RPC client on its stdio.
pub struct Lsp {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<(Instant, Value)>,
    backlog: VecDeque<(Instant, Value)>,
    next_id: i64,
    stderr: Arc<Mutex<String>>,
    /// Every message received so far, in order (notifications, responses, server requests).
    pub seen: Vec<Value>,
    /// Whether server requests (`workspace/applyEdit` …) are answered automatically.
    pub auto_answer: bool,
    /// When the last message returned by [`Lsp::wait_for`] had been read completely (before
    /// the client parsed its JSON).
    pub last_received: Option<Instant>,
}

impl Lsp {
    /// Start the server (logs at `debug`, captured for failure messages).
    pub fn start() -> Lsp {
        let mut child = Command::new(pin_lsp_path())
            .env("PIN_LSP_LOG", "debug")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start pin-lsp");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let stderr_pipe = child.stderr.take().expect("stderr");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr_pipe).lines().map_while(Result::ok) {
                let mut s = sink.lock().expect("stderr lock");
                s.push_str(&line);
                s.push('\n');
            }
        });
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(msg) = read_message(&mut reader) {
                if tx.send(msg).is_err() {
                    break;
                }
            }
        });
        Lsp {
            child,
            stdin,
            rx,
            backlog: VecDeque::new(),
            next_id: 1,
            stderr,
            seen: Vec::new(),
            auto_answer: true,
            last_received: None,
        }
    }

    /// The server's log so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr lock").clone()
    }

    /// `initialize` + `initialized`; returns the initialize result.
    pub fn initialize(&mut self, root: &Path, capabilities: Value, options: Value) -> Value {
        let result = self.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": file_uri(root),
                "workspaceFolders": [{"uri": file_uri(root), "name": "ws"}],
                "capabilities": capabilities,
                "initializationOptions": options,
            }),
        );
        let result = result
            .get("result")
            .cloned()
            .unwrap_or_else(|| panic!("initialize failed: {result}"));
        self.notify("initialized", json!({}));
        result
    }

    /// Send raw bytes (for malformed-input tests).
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).expect("write to server");
        self.stdin.flush().expect("flush");
    }

    /// Send one framed JSON message.
    pub fn send(&mut self, msg: &Value) {
        let body = serde_json::to_vec(msg).expect("json");
        let mut framed = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        framed.extend(body);
        self.send_raw(&framed);
    }

    /// Send a notification.
    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Send a request and wait for its response (the whole response object).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait_for(&format!("response to {method}"), |m| {
            m.get("id") == Some(&json!(id)) && m.get("method").is_none()
        })
    }

    /// Wait for the first message (received before or after this call, not yet consumed)
    /// that `pred` accepts; consumes it.
    pub fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.backlog.iter().position(|(_, m)| pred(m)) {
            let (at, msg) = self.backlog.remove(i).expect("index");
            self.last_received = Some(at);
            return msg;
        }
        let deadline = Instant::now() + HANG_GUARD;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok((at, msg)) => {
                    self.seen.push(msg.clone());
                    self.answer_server_request(&msg);
                    if pred(&msg) {
                        self.last_received = Some(at);
                        return msg;
                    }
                    self.backlog.push_back((at, msg));
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "no {what} within {HANG_GUARD:?}; server log:\n{}",
                    self.stderr()
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "the server closed its output while waiting for {what}; server log:\n{}",
                    self.stderr()
                ),
            }
        }
    }

    /// Wait for `publishDiagnostics` of `uri` at exactly `version`; returns its params.
    pub fn diagnostics_at(&mut self, uri: &str, version: i64) -> Value {
        let msg = self.wait_for(&format!("diagnostics of {uri} v{version}"), |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == version
        });
        msg["params"].clone()
    }

    /// Wait for diagnostics of `uri` that `pred` accepts.
    pub fn diagnostics_where(&mut self, uri: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let msg = self.wait_for(&format!("matching diagnostics of {uri}"), |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && pred(&m["params"])
        });
        msg["params"].clone()
    }

    fn answer_server_request(&mut self, msg: &Value) {
        let (Some(id), Some(method)) = (msg.get("id"), msg.get("method")) else {
            return;
        };
        if !self.auto_answer {
            return;
        }
        let result = match method.as_str() {
            Some("workspace/applyEdit") => json!({"applied": true}),
            Some("workspace/configuration") => json!([null]),
            _ => Value::Null,
        };
        self.send(&json!({"jsonrpc": "2.0", "id": id, "result": result}));
    }

    /// `shutdown` + `exit`; returns the exit status.
    pub fn shutdown(mut self) -> std::process::ExitStatus {
        let r = self.request("shutdown", Value::Null);
        assert!(r.get("error").is_none(), "shutdown failed: {r}");
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + HANG_GUARD;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "pin-lsp did not exit after `exit`; log:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Lsp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_message(reader: &mut impl BufRead) -> Option<(Instant, Value)> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length:") {
            length = v.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    let at = Instant::now();
    serde_json::from_slice(&body).ok().map(|v| (at, v))
}

/// Apply LSP text edits (UTF-16 positions) to `text`.
pub fn apply_text_edits(text: &str, edits: &[Value]) -> String {
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let offset = |pos: &Value| -> usize {
        let line = pos["line"].as_u64().expect("line") as usize;
        let character = pos["character"].as_u64().expect("character") as usize;
        let Some(&start) = line_starts.get(line) else {
            return text.len();
        };
        let mut units = 0;
        for (i, c) in text[start..].char_indices() {
            if units >= character || c == '\n' {
                return start + i;
            }
            units += c.len_utf16();
        }
        text.len()
    };
    let mut ranges: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            (
                offset(&e["range"]["start"]),
                offset(&e["range"]["end"]),
                e["newText"].as_str().expect("newText").to_string(),
            )
        })
        .collect();
    ranges.sort_by_key(|r| (r.0, r.1));
    let mut out = String::new();
    let mut at = 0;
    for (start, end, new) in ranges {
        out.push_str(&text[at..start]);
        out.push_str(&new);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// The edits of `uri` in a workspace edit (`changes` or `documentChanges`).
pub fn edits_for(edit: &Value, uri: &str) -> Vec<Value> {
    if let Some(changes) = edit.get("changes").and_then(|c| c.get(uri)) {
        return changes.as_array().cloned().unwrap_or_default();
    }
    edit.get("documentChanges")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|d| d["textDocument"]["uri"] == uri)
        .flat_map(|d| d["edits"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// Rule ids of a `publishDiagnostics` params object, in order.
pub fn codes(params: &Value) -> Vec<String> {
    params["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| d["code"].as_str().unwrap_or("?").to_string())
        .collect()
}
