// The packaged extension activated in a stand-in of the VS Code API, with the real
// vscode-languageclient bundled in it and the packaged pin-lsp: activation, documents and
// diagnostics, the commands (no id registered twice), settings forwarded without a restart,
// restarts, and the error for a server path that is wrong.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { CLIENT_COMMANDS, SERVER_COMMANDS } from '../../src/commands';
import { manifest, sharedDir } from '../support/paths';
import { FakeTextDocument, FakeVscode, installVscodeModule, type Diagnostic } from '../support/vscodeFake';
import { extractVsix, packagedVsix } from '../support/vsix';

const CORPUS_REPO = 'dotnet-runtime';
const CORPUS_FILE = 'eng/pipelines/common/templates/pipeline-with-resources.yml';
const HANG_GUARD_MS = 120_000;

let tmp: string;
let shared: string;
let vscode: FakeVscode;
let uninstall: () => void;
let extension: { activate(ctx: unknown): Promise<void>; deactivate(): Promise<void> };
const context = { subscriptions: [] as { dispose(): unknown }[], extensionPath: '' };

function waitFor<T>(what: string, probe: () => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      reject(new Error(`no ${what}; output channel:\n${vscode.logs.join('\n')}`));
    }, HANG_GUARD_MS);
    const check = () => {
      if (done) return;
      const v = probe();
      if (v !== undefined) {
        done = true;
        clearTimeout(timer);
        resolve(v);
      }
    };
    vscode.onChange(check);
    check();
  });
}

function unpinnedDiagnostics(doc: FakeTextDocument): Diagnostic[] | undefined {
  const diags = vscode.diagnostics.get('pin-lint')?.get(doc.uri.toString());
  const unpinned = diags?.filter((d) => typeof d.code === 'object' && d.code.value === 'unpinned-image');
  return unpinned && unpinned.length > 0 ? unpinned : undefined;
}

function unpinnedCount(shared: string): number {
  return fs
    .readFileSync(path.join(shared, 'oracle', 'expected.tsv'), 'utf8')
    .split('\n')
    .map((r) => r.split('\t'))
    .filter((f) => f[0] === `${CORPUS_REPO}/${CORPUS_FILE}` && f[3] === 'container' && f[5] === 'unpinned').length;
}

before(async () => {
  shared = sharedDir();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pin-lint-host-'));
  context.extensionPath = await extractVsix(packagedVsix(), tmp);
  vscode = new FakeVscode();
  uninstall = installVscodeModule(vscode);
  // The bundle VS Code would load: package.json's main inside the installed package.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  extension = require(path.join(context.extensionPath, manifest().main));
});

after(async () => {
  await extension?.deactivate();
  for (const d of context.subscriptions) d.dispose();
  uninstall?.();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('activation starts the bundled server; documents get diagnostics; commands work', async () => {
  const workspace = path.join(shared, 'corpus', CORPUS_REPO);
  vscode.workspaceFolders = [workspace];
  const doc = new FakeTextDocument(path.join(workspace, CORPUS_FILE), 'yaml');
  vscode.documents.push(doc);
  vscode.activeDocument = doc;

  await extension.activate(context);
  assert.deepEqual(vscode.messages.filter((m) => m.level === 'error'), []);
  assert.ok(vscode.logs.some((l) => l.includes(`Starting ${path.join(context.extensionPath, 'server')}`) && l.includes('(bundled)')), vscode.logs.join('\n'));

  // The client registered the server's commands next to the extension's own: no clash.
  for (const id of [...Object.values(CLIENT_COMMANDS), ...Object.values(SERVER_COMMANDS)]) {
    assert.ok(vscode.commands.has(id), `${id} registered`);
  }
  const running = vscode.executed.filter((e) => e.id === 'setContext' && e.args[0] === 'pinLint.serverRunning');
  assert.deepEqual(running.at(-1)?.args, ['pinLint.serverRunning', true]);

  // The open document was synced and its diagnostics reached the collection.
  const diags = await waitFor('unpinned-image diagnostics in the pin-lint collection', () => unpinnedDiagnostics(doc));
  assert.equal(diags.length, unpinnedCount(shared));
  assert.equal(diags[0].source, 'pin-lint');

  // No digests known yet: pinning says so.
  await vscode.commands.get(CLIENT_COMMANDS.pinAllImagesInFile)!();
  assert.match(vscode.messages.at(-1)!.text, /nothing to pin in pipeline-with-resources\.yml/);
  assert.equal(vscode.appliedEdits.length, 0);

  // A catalog set in the settings reaches the running server (no restart): now it pins.
  const starts = vscode.logs.filter((l) => l.includes('Starting ')).length;
  vscode.updateSettings({ 'pinLint.catalogs': [path.join(shared, 'oracle', 'fake-digests.tsv')] });
  await vscode.commands.get(CLIENT_COMMANDS.pinAllImagesInFile)!();
  assert.equal(vscode.messages.at(-1)!.text, `pin-lint: pinned ${unpinnedCount(shared)} images in pipeline-with-resources.yml.`);
  assert.equal(vscode.appliedEdits.length, 1);
  const [[uri, edits]] = vscode.appliedEdits[0].entries();
  assert.equal(uri.toString(), doc.uri.toString());
  assert.equal(edits.length, unpinnedCount(shared));
  assert.ok(edits.every((e) => /^@sha256:[0-9a-f]{64}$/.test(e.newText)), JSON.stringify(edits[0]));
  assert.equal(vscode.logs.filter((l) => l.includes('Starting ')).length, starts, 'no restart');
});

test('restart and a wrong server path: a new server, then a clear error with Configure', async () => {
  const starts = () => vscode.logs.filter((l) => l.includes('Starting ')).length;
  const before = starts();
  await vscode.commands.get(CLIENT_COMMANDS.restartServer)!();
  assert.equal(starts(), before + 1);
  assert.deepEqual(vscode.messages.filter((m) => m.level === 'error'), [], 'server commands re-registered without a clash');
  for (const id of Object.values(SERVER_COMMANDS)) {
    assert.ok(vscode.commands.has(id), `${id} registered again`);
  }

  vscode.nextChoice = 'Configure';
  vscode.updateSettings({ 'pinLint.server.path': path.join(tmp, 'no-such-pin-lsp') });
  const error = await waitFor('an error message', () => vscode.messages.find((m) => m.level === 'error'));
  assert.match(error.text, /pinLint\.server\.path points to .*no-such-pin-lsp, which is not an executable file/);
  assert.deepEqual(error.items, ['Configure', 'Show Output']);
  await waitFor('the settings opened', () => vscode.executed.find((e) => e.id === 'workbench.action.openSettings'));
  assert.deepEqual(vscode.executed.find((e) => e.id === 'workbench.action.openSettings')?.args, ['pinLint.server.path']);
  for (const id of Object.values(SERVER_COMMANDS)) {
    assert.ok(!vscode.commands.has(id), `${id} went away with the stopped server`);
  }

  // Without a server the commands explain instead of failing silently.
  await vscode.commands.get(CLIENT_COMMANDS.bumpStaleDigests)!();
  assert.match(vscode.messages.at(-1)!.text, /the language server is not running/);
});
