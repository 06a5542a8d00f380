// End to end: the server inside the packaged .vsix, found by the extension's discovery,
// started from the ServerOptions the extension builds (the way vscode-languageclient starts
// them), initialized with the extension's initializationOptions, on a real pipeline file.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import * as rpc from 'vscode-jsonrpc/node';
import { CLIENT_COMMANDS, pinAllInFileParams, SERVER_COMMANDS } from '../../src/commands';
import { nodeFileProbe } from '../../src/discovery';
import { planLaunch } from '../../src/serverOptions';
import { configurationResponse, didChangeConfigurationParams, initializationOptions } from '../../src/settings';
import { FakeConfiguration } from '../support/fakeVscode';
import { spawnLikeLanguageClient } from '../support/launch';
import { manifest, sharedDir } from '../support/paths';
import { extractVsix, packagedVsix } from '../support/vsix';

/** A file of the corpus with unpinned `resources.containers` images. */
const CORPUS_REPO = 'dotnet-runtime';
const CORPUS_FILE = 'eng/pipelines/common/templates/pipeline-with-resources.yml';
/** Fails a wait that can never end (the server died or went silent) instead of hanging CI. */
const HANG_GUARD_MS = 120_000;

interface Expected {
  line: number; // 1-based, as in the oracle
  col: number; // 1-based
  text: string;
}

interface Diagnostic {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  code?: string | number;
  source?: string;
  message: string;
}

interface TextEdit {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  newText: string;
}

/** The oracle's unpinned container references of `file` (path below the corpus folder). */
function expectedUnpinned(shared: string, file: string): Expected[] {
  const rows = fs.readFileSync(path.join(shared, 'oracle', 'expected.tsv'), 'utf8').split('\n').slice(1);
  return rows
    .map((row) => row.split('\t'))
    .filter((f) => f[0] === file && f[3] === 'container' && f[5] === 'unpinned')
    .map((f) => ({ line: Number(f[1]), col: Number(f[2]), text: f[6] }));
}

function fakeDigests(shared: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of fs.readFileSync(path.join(shared, 'oracle', 'fake-digests.tsv'), 'utf8').split('\n')) {
    if (line.startsWith('#') || !line.includes('\t')) continue;
    const [reference, digest] = line.split('\t');
    map.set(reference, digest.trim());
  }
  return map;
}

let tmp: string;
let shared: string;
let server: ReturnType<typeof spawnLikeLanguageClient>;
let conn: rpc.MessageConnection;
let stderr = '';
let exited: Promise<number | null>;
const published: { uri: string; version?: number; diagnostics: Diagnostic[] }[] = [];
const appliedEdits: unknown[] = [];
let wake: () => void = () => {};

function waitFor<T>(what: string, probe: () => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${what}; server log:\n${stderr}`)), HANG_GUARD_MS);
    const check = () => {
      const value = probe();
      if (value !== undefined) {
        clearTimeout(timer);
        resolve(value);
        return true;
      }
      return false;
    };
    if (!check()) {
      const previous = wake;
      wake = () => {
        previous();
        check();
      };
    }
  });
}

// The configuration the user has: the manifest's defaults. Later changed to name a catalog.
let configuration = new FakeConfiguration();

before(async () => {
  shared = sharedDir();
  const corpusFile = path.join(shared, 'corpus', CORPUS_REPO, CORPUS_FILE);
  assert.ok(fs.existsSync(corpusFile), `corpus file missing: ${corpusFile} (set PIN_LINT_SHARED)`);

  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pin-lint-e2e-'));
  const installed = await extractVsix(packagedVsix(), tmp);
  const workspace = path.join(shared, 'corpus', CORPUS_REPO);
  const plan = planLaunch({
    configuration,
    probe: nodeFileProbe,
    extensionPath: installed,
    platform: process.platform,
    arch: process.arch,
    env: { PATH: '' }, // nothing on PATH: the server must come from the package
    homeDir: os.homedir(),
    workspaceFolders: [workspace],
  });
  assert.ok(plan.ok, plan.ok ? '' : plan.missing.message);
  assert.equal(plan.server.source, 'bundled');
  assert.ok(plan.server.path.startsWith(installed + path.sep), plan.server.path);

  server = spawnLikeLanguageClient(plan.serverOptions);
  server.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  exited = new Promise((resolve) => server.on('exit', (code) => resolve(code)));
  conn = rpc.createMessageConnection(new rpc.StreamMessageReader(server.stdout), new rpc.StreamMessageWriter(server.stdin));
  conn.onNotification('textDocument/publishDiagnostics', (p: (typeof published)[number]) => {
    published.push(p);
    wake();
  });
  conn.onNotification('window/showMessage', (p: { message: string }) => {
    stderr += `showMessage: ${p.message}\n`;
  });
  conn.onNotification('window/logMessage', () => {});
  conn.onRequest('workspace/configuration', (p: { items: { section?: string }[] }) => configurationResponse(p.items, configuration));
  conn.onRequest('client/registerCapability', () => null);
  conn.onRequest('workspace/applyEdit', (p: { edit: unknown }) => {
    appliedEdits.push(p.edit);
    wake();
    return { applied: true };
  });
  conn.listen();
});

after(async () => {
  conn?.dispose();
  if (server && server.exitCode === null) {
    server.kill();
  }
  if (tmp) {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('the packaged server initializes, lints a corpus file and pins it on command', async () => {
  const workspace = path.join(shared, 'corpus', CORPUS_REPO);
  const file = path.join(workspace, CORPUS_FILE);
  const uri = pathToFileURL(file).href;
  const expected = expectedUnpinned(shared, `${CORPUS_REPO}/${CORPUS_FILE}`);
  assert.ok(expected.length > 0, 'the oracle lists unpinned images in the corpus file');

  const init = (await conn.sendRequest('initialize', {
    processId: process.pid,
    clientInfo: { name: 'pin-lint e2e' },
    rootUri: pathToFileURL(workspace).href,
    workspaceFolders: [{ uri: pathToFileURL(workspace).href, name: CORPUS_REPO }],
    capabilities: {
      general: { positionEncodings: ['utf-16'] },
      workspace: { configuration: true, workspaceEdit: { documentChanges: true }, workspaceFolders: true },
      textDocument: { publishDiagnostics: { versionSupport: true }, codeAction: {}, hover: {} },
    },
    initializationOptions: initializationOptions(configuration),
  })) as { capabilities: { executeCommandProvider?: { commands: string[] } }; serverInfo?: { name: string } };
  assert.equal(init.serverInfo?.name, 'pin-lsp');

  // The server registers its commands under ids the extension must not contribute.
  const serverCommands = init.capabilities.executeCommandProvider?.commands ?? [];
  assert.deepEqual([...serverCommands].sort(), Object.values(SERVER_COMMANDS).sort());
  const contributed = (manifest().contributes.commands as { command: string }[]).map((c) => c.command);
  for (const id of [...contributed, ...Object.values(CLIENT_COMMANDS)]) {
    assert.ok(!serverCommands.includes(id), `${id} is also a server command`);
  }
  conn.sendNotification('initialized', {});

  conn.sendNotification('textDocument/didOpen', {
    textDocument: { uri, languageId: 'yaml', version: 1, text: fs.readFileSync(file, 'utf8') },
  });
  const first = await waitFor('publishDiagnostics for the opened file', () =>
    published.find((p) => p.uri === uri && p.version === 1),
  );
  assert.ok(first.diagnostics.length > 0, 'diagnostics were published');
  const unpinned = first.diagnostics
    .filter((d) => d.code === 'unpinned-image')
    .sort((a, b) => a.range.start.line - b.range.start.line);
  console.log(
    `${unpinned.length} unpinned-image diagnostics at lines ${unpinned.map((d) => d.range.start.line + 1).join(', ')}`,
  );
  assert.deepEqual(
    unpinned.map((d) => d.range),
    expected.map((e) => ({
      start: { line: e.line - 1, character: e.col - 1 },
      end: { line: e.line - 1, character: e.col - 1 + e.text.length },
    })),
  );
  for (const d of unpinned) {
    assert.equal(d.source, 'pin-lint');
    assert.match(d.message, /is not pinned to a digest/);
  }

  // A settings change reaches the running server: with a catalog, "pin all" has digests.
  const digests = fakeDigests(shared);
  configuration = new FakeConfiguration({ catalogs: [path.join(shared, 'oracle', 'fake-digests.tsv')] });
  conn.sendNotification('workspace/didChangeConfiguration', didChangeConfigurationParams(configuration));
  const result = (await conn.sendRequest('workspace/executeCommand', pinAllInFileParams(uri))) as {
    applied: boolean;
    edits: number;
  };
  assert.deepEqual(result, { applied: true, edits: expected.length });
  assert.equal(appliedEdits.length, 1);
  const edit = appliedEdits[0] as { documentChanges: { textDocument: { uri: string; version: number }; edits: TextEdit[] }[] };
  assert.equal(edit.documentChanges.length, 1);
  assert.deepEqual(edit.documentChanges[0].textDocument, { uri, version: 1 });
  const edits = [...edit.documentChanges[0].edits].sort((a, b) => a.range.start.line - b.range.start.line);
  assert.deepEqual(
    edits,
    expected.map((e) => {
      const at = { line: e.line - 1, character: e.col - 1 + e.text.length };
      return { range: { start: at, end: at }, newText: `@${digests.get(e.text)}` };
    }),
  );
  assert.equal(server.exitCode, null, 'the same server process served the change (no restart)');

  await conn.sendRequest('shutdown');
  conn.sendNotification('exit');
  assert.equal(await exited, 0, `server exit status; log:\n${stderr}`);
});
