import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  bundledServerPath,
  findServer,
  nodeFileProbe,
  type DiscoveryInput,
  type FileProbe,
} from '../../src/discovery';

/** A machine whose only executables are `files`. */
function probe(...files: string[]): FileProbe & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    isExecutable(file: string) {
      asked.push(file);
      return files.includes(file);
    },
  };
}

function linux(over: Partial<DiscoveryInput> = {}): DiscoveryInput {
  return {
    configuredPath: '',
    extensionPath: '/ext',
    platform: 'linux',
    arch: 'x64',
    env: { PATH: '/usr/local/bin:/usr/bin' },
    homeDir: '/home/dev',
    workspaceFolders: ['/ws'],
    ...over,
  };
}

function windows(over: Partial<DiscoveryInput> = {}): DiscoveryInput {
  return {
    configuredPath: '',
    extensionPath: 'C:\\ext',
    platform: 'win32',
    arch: 'x64',
    env: { Path: 'C:\\Windows;"C:\\Program Files\\pin-lint\\bin"' },
    homeDir: 'C:\\Users\\dev',
    workspaceFolders: ['C:\\ws'],
    ...over,
  };
}

test('the setting wins over a bundled server and PATH', () => {
  const found = findServer(
    linux({ configuredPath: '/opt/pin-lsp' }),
    probe('/opt/pin-lsp', '/ext/server/linux-x64/pin-lsp', '/usr/bin/pin-lsp'),
  );
  assert.deepEqual(found, { found: true, source: 'setting', path: '/opt/pin-lsp' });
});

test('a configured path may start with ~ or be relative to the first workspace folder', () => {
  assert.deepEqual(findServer(linux({ configuredPath: '~/bin/pin-lsp' }), probe('/home/dev/bin/pin-lsp')), {
    found: true,
    source: 'setting',
    path: '/home/dev/bin/pin-lsp',
  });
  assert.deepEqual(findServer(linux({ configuredPath: ' target/release/pin-lsp ' }), probe('/ws/target/release/pin-lsp')), {
    found: true,
    source: 'setting',
    path: '/ws/target/release/pin-lsp',
  });
});

test('a configured path that is not there is an error, not a fallback to another binary', () => {
  const p = probe('/ext/server/linux-x64/pin-lsp', '/usr/bin/pin-lsp');
  const result = findServer(linux({ configuredPath: '/nowhere/pin-lsp' }), p);
  assert.equal(result.found, false);
  assert.ok(!result.found && result.message.includes('pinLint.server.path'), JSON.stringify(result));
  assert.ok(!result.found && result.message.includes('/nowhere/pin-lsp'));
  assert.deepEqual(p.asked, ['/nowhere/pin-lsp']);
});

test('without a setting the bundled server for the platform comes first', () => {
  const bundled = '/ext/server/linux-x64/pin-lsp';
  assert.equal(bundledServerPath('/ext', 'linux', 'x64'), bundled);
  assert.deepEqual(findServer(linux(), probe(bundled, '/usr/bin/pin-lsp')), { found: true, source: 'bundled', path: bundled });
  // A server bundled for another architecture is not used.
  assert.deepEqual(findServer(linux({ arch: 'arm64' }), probe(bundled, '/usr/bin/pin-lsp')), {
    found: true,
    source: 'path',
    path: '/usr/bin/pin-lsp',
  });
});

test('PATH is searched in order', () => {
  const p = probe('/usr/bin/pin-lsp');
  assert.deepEqual(findServer(linux(), p), { found: true, source: 'path', path: '/usr/bin/pin-lsp' });
  assert.deepEqual(p.asked, ['/ext/server/linux-x64/pin-lsp', '/usr/local/bin/pin-lsp', '/usr/bin/pin-lsp']);
});

test('on Windows the server is pin-lsp.exe, PATH may be spelled Path and hold quoted folders', () => {
  const bundled = 'C:\\ext\\server\\win32-x64\\pin-lsp.exe';
  assert.deepEqual(findServer(windows(), probe(bundled)), { found: true, source: 'bundled', path: bundled });
  const onPath = 'C:\\Program Files\\pin-lint\\bin\\pin-lsp.exe';
  assert.deepEqual(findServer(windows(), probe(onPath)), { found: true, source: 'path', path: onPath });
  assert.deepEqual(findServer(windows({ configuredPath: 'tools\\pin-lsp.exe' }), probe('C:\\ws\\tools\\pin-lsp.exe')), {
    found: true,
    source: 'setting',
    path: 'C:\\ws\\tools\\pin-lsp.exe',
  });
});

test('nothing found: a message naming the setting and everything that was tried', () => {
  const result = findServer(linux({ env: {} }), probe());
  assert.equal(result.found, false);
  if (!result.found) {
    assert.deepEqual(result.tried, ['/ext/server/linux-x64/pin-lsp']);
    assert.match(result.message, /cannot find the pin-lsp language server/);
    assert.match(result.message, /linux-x64/);
    assert.match(result.message, /pinLint\.server\.path/);
  }
});

test('the real probe accepts executable files only', { skip: process.platform === 'win32' && 'POSIX modes' }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pin-lint-probe-'));
  try {
    const file = path.join(dir, 'pin-lsp');
    fs.writeFileSync(file, '#!/bin/sh\n');
    fs.chmodSync(file, 0o644);
    assert.equal(nodeFileProbe.isExecutable(file), false, 'not executable');
    fs.chmodSync(file, 0o755);
    assert.equal(nodeFileProbe.isExecutable(file), true, 'executable');
    assert.equal(nodeFileProbe.isExecutable(dir), false, 'a folder');
    assert.equal(nodeFileProbe.isExecutable(path.join(dir, 'missing')), false, 'missing');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
