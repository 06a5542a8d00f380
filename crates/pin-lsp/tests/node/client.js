// A scripted LSP client over stdio (vscode-jsonrpc, as VS Code's client uses), driving pin-lsp.
//
//   node client.js plan.json   (prints one JSON object with what it observed)
//
// The plan: { "server": path, "root": dir, "initializationOptions": {...}, "steps": [...] }.
// Steps: open, change, writeFile, waitDiagnostics, codeAction, hover, command, text (see `run`
// below).
// The client keeps its own copy of every open document, applies workspace edits to it (text
// edits in UTF-16 code units, which is what JavaScript strings count) and sends them back as
// incremental didChange events, like an editor. Assertions live in the Rust test.
'use strict';

const fs = require('fs');
const path = require('path');
const cp = require('child_process');
const rpc = require('vscode-jsonrpc/node');

const HANG_GUARD_MS = 60000;
const plan = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));

const server = cp.spawn(plan.server, [], { stdio: ['pipe', 'pipe', 'pipe'] });
let serverLog = '';
server.stderr.on('data', (d) => { serverLog += d.toString(); });
const conn = rpc.createMessageConnection(
  new rpc.StreamMessageReader(server.stdout),
  new rpc.StreamMessageWriter(server.stdin),
);

const docs = new Map(); // uri -> { text, version }
const published = []; // every publishDiagnostics params, in order
const applied = []; // every workspace/applyEdit the server sent
let waiters = [];

function wake() {
  const still = [];
  for (const w of waiters) {
    if (!w.check()) still.push(w);
  }
  waiters = still;
}

function waitUntil(what, predicate) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}\n${serverLog}`)), HANG_GUARD_MS);
    const w = {
      check: () => {
        const v = predicate();
        if (v) { clearTimeout(timer); resolve(v); return true; }
        return false;
      },
    };
    if (!w.check()) waiters.push(w);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function offsetAt(text, pos) {
  let line = 0;
  let i = 0;
  while (line < pos.line) {
    const nl = text.indexOf('\n', i);
    if (nl < 0) return text.length;
    i = nl + 1;
    line += 1;
  }
  let end = text.indexOf('\n', i);
  if (end < 0) end = text.length;
  if (end > i && text[end - 1] === '\r') end -= 1;
  return Math.min(i + pos.character, end);
}

function positionAt(text, offset) {
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, character: offset - (before.lastIndexOf('\n') + 1) };
}

function editsOf(edit, uri) {
  if (edit.documentChanges) {
    return edit.documentChanges.filter((d) => d.textDocument.uri === uri).flatMap((d) => d.edits);
  }
  return (edit.changes && edit.changes[uri]) || [];
}

function urisOf(edit) {
  if (edit.documentChanges) return edit.documentChanges.map((d) => d.textDocument.uri);
  return Object.keys(edit.changes || {});
}

// Apply a workspace edit to open documents (sending didChange) or files on disk.
function applyWorkspaceEdit(edit) {
  for (const uri of urisOf(edit)) {
    const edits = editsOf(edit, uri).slice();
    // Last edit first, so that earlier positions stay valid for the events that follow.
    edits.sort((a, b) => (b.range.start.line - a.range.start.line) || (b.range.start.character - a.range.start.character));
    const doc = docs.get(uri);
    if (doc) {
      for (const e of edits) {
        const s = offsetAt(doc.text, e.range.start);
        const t = offsetAt(doc.text, e.range.end);
        doc.text = doc.text.slice(0, s) + e.newText + doc.text.slice(t);
      }
      doc.version += 1;
      conn.sendNotification('textDocument/didChange', {
        textDocument: { uri, version: doc.version },
        contentChanges: edits.map((e) => ({ range: e.range, text: e.newText })),
      });
    } else {
      const file = new URL(uri).pathname;
      let text = fs.readFileSync(file, 'utf8');
      for (const e of edits) {
        const s = offsetAt(text, e.range.start);
        const t = offsetAt(text, e.range.end);
        text = text.slice(0, s) + e.newText + text.slice(t);
      }
      fs.writeFileSync(file, text);
    }
  }
}

conn.onNotification('textDocument/publishDiagnostics', (p) => { published.push(p); wake(); });
conn.onNotification('window/showMessage', () => {});
conn.onNotification('window/logMessage', () => {});
conn.onRequest('workspace/applyEdit', (p) => {
  applied.push(p.edit);
  applyWorkspaceEdit(p.edit);
  wake();
  return { applied: true };
});
conn.onRequest('client/registerCapability', () => null);
conn.onRequest('workspace/configuration', (p) => p.items.map(() => plan.initializationOptions || null));
conn.listen();

function hasCodes(diags, wanted, absent) {
  const codes = diags.map((d) => d.code);
  return (wanted || []).every((c) => codes.includes(c)) && (absent || []).every((c) => !codes.includes(c));
}

async function codeActions(uri, diag) {
  return (await conn.sendRequest('textDocument/codeAction', {
    textDocument: { uri },
    range: diag ? diag.range : { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
    context: { diagnostics: diag ? [diag] : [] },
  })) || [];
}

function latestDiagnostics(uri) {
  for (let i = published.length - 1; i >= 0; i -= 1) {
    if (published[i].uri === uri) return published[i];
  }
  return null;
}

async function run(step) {
  switch (step.op) {
    case 'open': {
      const text = fs.readFileSync(step.path, 'utf8');
      const uri = step.uri;
      docs.set(uri, { text, version: 1 });
      conn.sendNotification('textDocument/didOpen', {
        textDocument: { uri, languageId: 'yaml', version: 1, text },
      });
      return { uri };
    }
    case 'change': {
      // Replace the `nth` occurrence of `find` by `replace`, as an editor sends a keystroke:
      // one incremental didChange.
      const doc = docs.get(step.uri);
      let at = -1;
      for (let i = 0; i <= (step.nth || 0); i += 1) at = doc.text.indexOf(step.find, at + 1);
      if (at < 0) throw new Error(`text ${step.find} not found in ${step.uri}`);
      const range = { start: positionAt(doc.text, at), end: positionAt(doc.text, at + step.find.length) };
      doc.text = doc.text.slice(0, at) + step.replace + doc.text.slice(at + step.find.length);
      doc.version += 1;
      conn.sendNotification('textDocument/didChange', {
        textDocument: { uri: step.uri, version: doc.version },
        contentChanges: [{ range, text: step.replace }],
      });
      return { version: doc.version };
    }
    case 'writeFile': {
      // Change a file on disk and tell the server, as the client's file watcher would.
      const existed = fs.existsSync(step.path);
      fs.writeFileSync(step.path, step.text);
      conn.sendNotification('workspace/didChangeWatchedFiles', {
        changes: [{ uri: step.uri, type: existed ? 2 : 1 }],
      });
      return {};
    }
    case 'waitDiagnostics': {
      // Diagnostics for the document's current version that contain `codes` and none of `absent`.
      const p = await waitUntil(`diagnostics of ${step.uri} with ${JSON.stringify(step)}`, () => {
        const doc = docs.get(step.uri);
        const last = latestDiagnostics(step.uri);
        return last && last.version === doc.version && hasCodes(last.diagnostics, step.codes, step.absent) && last;
      });
      return { version: p.version, diagnostics: p.diagnostics };
    }
    case 'codeAction': {
      // On the `nth` diagnostic with code `code` (of the latest publication); waits until an
      // action whose title starts with `title` is offered (digests may still be looked up),
      // then applies it when `apply` is set.
      const started = Date.now();
      for (;;) {
        const last = latestDiagnostics(step.uri);
        const diags = step.code ? last.diagnostics.filter((d) => d.code === step.code) : [];
        const diag = step.code ? diags[step.nth || 0] : null;
        if (step.code && !diag) throw new Error(`no ${step.code} diagnostic in ${JSON.stringify(last)}`);
        const actions = await codeActions(step.uri, diag);
        const pick = actions.find((a) => a.title.startsWith(step.title));
        if (pick || Date.now() - started > HANG_GUARD_MS) {
          if (!pick) throw new Error(`no action "${step.title}" among ${JSON.stringify(actions.map((a) => a.title))}\n${serverLog}`);
          if (step.apply) applyWorkspaceEdit(pick.edit);
          return {
            titles: actions.map((a) => a.title),
            picked: pick.title,
            isPreferred: pick.isPreferred === true,
            kind: pick.kind,
            text: docs.get(step.uri).text,
          };
        }
        await sleep(25);
      }
    }
    case 'hover': {
      // `needle`: hover at the first character of the `nth` occurrence of this text, plus `delta`.
      const doc = docs.get(step.uri);
      let at = -1;
      for (let i = 0; i <= (step.nth || 0); i += 1) at = doc.text.indexOf(step.needle, at + 1);
      if (at < 0) throw new Error(`needle ${step.needle} not found`);
      at += step.delta || 0;
      const before = doc.text.slice(0, at);
      const line = before.split('\n').length - 1;
      const character = at - (before.lastIndexOf('\n') + 1);
      const started = Date.now();
      for (;;) {
        const h = await conn.sendRequest('textDocument/hover', {
          textDocument: { uri: step.uri }, position: { line, character },
        });
        const value = h && h.contents && h.contents.value;
        if (!step.until || (value && value.includes(step.until)) || Date.now() - started > HANG_GUARD_MS) {
          return { value: value || null, range: h ? h.range : null, position: { line, character } };
        }
        await sleep(25);
      }
    }
    case 'command': {
      const before = applied.length;
      const result = await conn.sendRequest('workspace/executeCommand', {
        command: step.command, arguments: step.arguments || [],
      });
      const edits = applied.slice(before);
      return { result, editedUris: edits.flatMap(urisOf) };
    }
    case 'text': {
      const doc = docs.get(step.uri);
      return { text: doc ? doc.text : fs.readFileSync(new URL(step.uri).pathname, 'utf8') };
    }
    default:
      throw new Error(`unknown step ${step.op}`);
  }
}

async function main() {
  const init = await conn.sendRequest('initialize', {
    processId: process.pid,
    clientInfo: { name: 'pin-lsp-node-test' },
    rootUri: `file://${plan.root}`,
    workspaceFolders: [{ uri: `file://${plan.root}`, name: path.basename(plan.root) }],
    initializationOptions: plan.initializationOptions || null,
    capabilities: {
      general: { positionEncodings: ['utf-16'] },
      workspace: {
        applyEdit: true,
        workspaceEdit: { documentChanges: true },
        configuration: true,
        didChangeWatchedFiles: { dynamicRegistration: true },
      },
      textDocument: {
        publishDiagnostics: { versionSupport: true },
        codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix', 'source.fixAll'] } } },
        hover: { contentFormat: ['markdown', 'plaintext'] },
      },
    },
  });
  conn.sendNotification('initialized', {});
  const results = [];
  for (const step of plan.steps) {
    results.push({ op: step.op, ...(await run(step)) });
  }
  await conn.sendRequest('shutdown');
  conn.sendNotification('exit');
  const code = await new Promise((r) => server.on('exit', (c) => r(c)));
  process.stdout.write(JSON.stringify({ initialize: init, results, exitCode: code, published: published.length }));
}

main().then(() => process.exit(0), (e) => {
  process.stdout.write(JSON.stringify({ error: String(e && e.stack ? e.stack : e), serverLog }));
  server.kill();
  process.exit(1);
});
