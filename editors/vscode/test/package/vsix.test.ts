// The packaged .vsix: what VS Code will install.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { executableName, platformDir } from '../../src/discovery';
import { extensionDir, manifest } from '../support/paths';
import { extractVsix, listVsix, packagedVsix } from '../support/vsix';

test('the package holds the manifest, the docs, the bundle and an executable server', async () => {
  const vsix = packagedVsix();
  const entries = await listVsix(vsix);
  const names = entries.map((e) => e.name);
  console.log(`${path.basename(vsix)}:\n${entries.map((e) => `  ${e.size.toString().padStart(10)}  ${e.name}`).join('\n')}`);

  const lower = names.map((n) => n.toLowerCase());
  for (const wanted of ['extension.vsixmanifest', 'extension/package.json', 'extension/readme.md', 'extension/changelog.md', 'extension/license.txt', 'extension/dist/extension.js', 'extension/images/icon.png', 'extension/images/quickfix.png']) {
    assert.ok(lower.includes(wanted), `${wanted} in ${names.join(', ')}`);
  }

  const serverName = `extension/server/${platformDir(process.platform, process.arch)}/${executableName(process.platform)}`;
  const server = entries.find((e) => e.name === serverName);
  assert.ok(server, `${serverName} in ${names.join(', ')}`);
  const bundled = fs.statSync(path.join(extensionDir, 'server', platformDir(process.platform, process.arch), executableName(process.platform)));
  assert.equal(server.size, bundled.size, 'the packaged server is the bundled one');
  if (process.platform !== 'win32') {
    assert.equal(server.mode & 0o111, 0o111, `the server keeps its executable bits (mode ${server.mode.toString(8)})`);
  }

  // Only what VS Code loads: no sources, tests, dependencies or other platforms' servers.
  for (const name of names) {
    assert.doesNotMatch(name, /^extension\/(src|test|out|node_modules|scripts)\//, name);
    assert.doesNotMatch(name, /\.(ts|map|svg|vsix)$/, name);
    if (name.startsWith('extension/server/')) {
      assert.equal(name, serverName);
    }
  }
});

test('the packaged manifest is this package.json, for this platform', async () => {
  const vsix = packagedVsix();
  const m = manifest();
  const entries = await listVsix(vsix);
  assert.ok(entries.some((e) => `extension/${path.posix.normalize(m.main)}` === e.name), `main ${m.main} is packaged`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pin-lint-vsix-'));
  try {
    const ext = await extractVsix(vsix, dir);
    const packaged = JSON.parse(fs.readFileSync(path.join(ext, 'package.json'), 'utf8'));
    assert.equal(packaged.name, m.name);
    assert.equal(packaged.version, m.version);
    assert.deepEqual(packaged.contributes, m.contributes);
    // The README's pictures are shown from the installed extension, so they must be in it.
    const readme = fs.readFileSync(path.join(ext, 'readme.md'), 'utf8');
    const pictures = [...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)/g)].map((p) => p[1]);
    assert.ok(pictures.length > 0);
    for (const picture of pictures) {
      assert.ok(fs.existsSync(path.join(ext, picture)), `${picture} is packaged`);
    }
    const vsixManifest = fs.readFileSync(path.join(dir, 'extension.vsixmanifest'), 'utf8');
    const arch = process.arch === 'arm' ? 'armhf' : process.arch;
    assert.match(vsixManifest, new RegExp(`TargetPlatform="${process.platform}-${arch}"`));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
