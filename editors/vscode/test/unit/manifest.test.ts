// package.json, .vscodeignore and the pictures: what vsce and VS Code read from them.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { CLIENT_COMMANDS } from '../../src/commands';
import { CONTAINER_FILE_LANGUAGES, DEVCONTAINER_PATTERNS, DOCUMENT_SELECTOR, INFRA_LANGUAGES, INFRA_PATTERNS, PIPELINE_LANGUAGES } from '../../src/documents';
import { extensionDir, manifest } from '../support/paths';

/** Width and height from a PNG's IHDR chunk (throws on anything that is not a PNG). */
function pngSize(file: string): [number, number] {
  const data = fs.readFileSync(file);
  assert.equal(data.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', `${file} is not a PNG`);
  assert.equal(data.subarray(12, 16).toString('ascii'), 'IHDR');
  return [data.readUInt32BE(16), data.readUInt32BE(20)];
}

test('the icon is a 128x128 PNG', () => {
  const m = manifest();
  assert.match(m.icon, /\.png$/);
  assert.deepEqual(pngSize(path.join(extensionDir, m.icon)), [128, 128]);
});

test('README pictures are PNG files that exist (vsce refuses SVG)', () => {
  const readme = fs.readFileSync(path.join(extensionDir, 'README.md'), 'utf8');
  const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)/g)].map((m) => m[1]);
  assert.ok(images.length > 0, 'README shows the quick fix');
  for (const image of images) {
    assert.match(image, /\.png$/, image);
    const [w, h] = pngSize(path.join(extensionDir, image));
    assert.ok(w > 0 && h > 0);
  }
});

test('activation: the pipeline languages, the pipeline files and every command', () => {
  const events: string[] = manifest().activationEvents;
  for (const language of PIPELINE_LANGUAGES) {
    assert.ok(events.includes(`onLanguage:${language}`), language);
  }
  for (const id of Object.values(CLIENT_COMMANDS)) {
    assert.ok(events.includes(`onCommand:${id}`), id);
  }
  for (const pattern of ['**/azure-pipelines*.yml', '.github/workflows/*.yml', '**/.gitlab-ci.yml', '**/eng/pipelines/**/*.yml']) {
    assert.ok(events.includes(`workspaceContains:${pattern}`), pattern);
  }
});

test('Dockerfiles start the extension and offer Pin all', () => {
  const m = manifest();
  for (const language of CONTAINER_FILE_LANGUAGES) {
    assert.ok(m.activationEvents.includes(`onLanguage:${language}`), language);
  }
  for (const menu of [m.contributes.menus.commandPalette, m.contributes.menus['editor/context']] as { command: string; when: string }[][]) {
    const when = menu.find((e) => e.command === CLIENT_COMMANDS.pinAllImagesInFile)!.when;
    assert.ok(when.includes('editorLangId == dockerfile'), when);
  }
});

test('container files start the extension; dev containers are the only JSON handed over, by name', () => {
  const m = manifest();
  const events: string[] = m.activationEvents;
  for (const language of CONTAINER_FILE_LANGUAGES) {
    assert.ok(events.includes(`onLanguage:${language}`), language);
  }
  for (const pattern of DEVCONTAINER_PATTERNS) {
    assert.ok(events.includes(`workspaceContains:${pattern}`), pattern);
  }
  assert.ok(events.includes('workspaceContains:**/{compose,docker-compose}*.{yml,yaml}'));
  // No filter takes JSON or JSONC by language: settings.json and tsconfig.json stay out.
  for (const language of ['json', 'jsonc']) {
    assert.ok(!events.includes(`onLanguage:${language}`), language);
    assert.ok(!DOCUMENT_SELECTOR.some((f) => f.language === language), language);
  }
  for (const pattern of DEVCONTAINER_PATTERNS) {
    assert.ok(DOCUMENT_SELECTOR.some((f) => f.pattern === pattern && f.language === undefined), pattern);
  }
  for (const menu of [m.contributes.menus.commandPalette, m.contributes.menus['editor/context']] as { command: string; when: string }[][]) {
    const when = menu.find((e) => e.command === CLIENT_COMMANDS.pinAllImagesInFile)!.when;
    for (const clause of ['editorLangId == dockercompose', 'resourceFilename == devcontainer.json', 'resourceFilename == .devcontainer.json']) {
      assert.ok(when.includes(clause), `${clause} in ${when}`);
    }
  }
});

test('Bicep and Terraform files (VM images) start the extension and offer Pin all', () => {
  const m = manifest();
  const events: string[] = m.activationEvents;
  for (const language of INFRA_LANGUAGES) {
    assert.ok(events.includes(`onLanguage:${language}`), language);
  }
  for (const pattern of INFRA_PATTERNS) {
    assert.ok(events.includes(`workspaceContains:${pattern}`), pattern);
  }
  const pinAll = (menu: { command: string; when: string }[]) => menu.find((e) => e.command === CLIENT_COMMANDS.pinAllImagesInFile)!.when;
  for (const when of [pinAll(m.contributes.menus.commandPalette), pinAll(m.contributes.menus['editor/context'])]) {
    const ext = /resourceExtname =~ \/(\^.*?\$)\//.exec(when);
    assert.ok(ext, when);
    const re = new RegExp(ext[1]);
    for (const e of ['.yml', '.yaml', '.bicep', '.tf']) assert.ok(re.test(e), `${e} in ${when}`);
    for (const e of ['.json', '.md']) assert.ok(!re.test(e), `${e} not in ${when}`);
  }
});

test('commands have titles in the pin-lint category, and palette entries name known commands', () => {
  const m = manifest();
  for (const c of m.contributes.commands) {
    assert.equal(c.category, 'pin-lint');
    assert.ok(c.title.length > 0);
  }
  const ids = m.contributes.commands.map((c: { command: string }) => c.command);
  for (const entry of Object.values(m.contributes.menus).flat() as { command: string; when?: string }[]) {
    assert.ok(ids.includes(entry.command), entry.command);
    assert.ok(entry.when && entry.when.length > 0, `${entry.command} has a when clause`);
  }
});

test('settings have a default and a description', () => {
  for (const [key, schema] of Object.entries(manifest().contributes.configuration.properties) as [string, any][]) {
    assert.ok('default' in schema, `${key} default`);
    assert.ok((schema.markdownDescription ?? schema.description)?.length > 20, `${key} description`);
  }
});

test('the server path is not taken from an untrusted workspace', () => {
  const untrusted = manifest().capabilities.untrustedWorkspaces;
  assert.equal(untrusted.supported, 'limited');
  assert.deepEqual(untrusted.restrictedConfigurations, ['pinLint.server.path']);
});

test('engines.vscode is not older than the API the code is compiled against', () => {
  const m = manifest();
  const types = JSON.parse(fs.readFileSync(path.join(extensionDir, 'node_modules/@types/vscode/package.json'), 'utf8'));
  const engine = m.engines.vscode.replace(/^\^/, '').split('.').map(Number);
  const api = types.version.split('.').map(Number);
  assert.ok(engine[0] > api[0] || (engine[0] === api[0] && engine[1] >= api[1]), `${m.engines.vscode} vs @types/vscode ${types.version}`);
  const client = JSON.parse(fs.readFileSync(path.join(extensionDir, 'node_modules/vscode-languageclient/package.json'), 'utf8'));
  assert.equal(client.engines.vscode, m.engines.vscode, 'vscode-languageclient needs the same VS Code');
});

test('main is the esbuild bundle, and .vscodeignore keeps it, the server and the docs', () => {
  const m = manifest();
  assert.equal(m.main, './dist/extension.js');
  const ignore = fs.readFileSync(path.join(extensionDir, '.vscodeignore'), 'utf8');
  for (const kept of ['!dist/extension.js', '!server/*/pin-lsp', '!README.md', '!LICENSE', '!images/icon.png', '!images/quickfix.png']) {
    assert.ok(ignore.split('\n').includes(kept), kept);
  }
});
