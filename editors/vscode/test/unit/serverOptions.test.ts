import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FileProbe } from '../../src/discovery';
import { buildServerOptions, planLaunch, type LaunchHost } from '../../src/serverOptions';
import { FakeConfiguration } from '../support/fakeVscode';

function host(values: Record<string, unknown>, executables: string[], workspaceFolders = ['/ws']): LaunchHost {
  const probe: FileProbe = { isExecutable: (f) => executables.includes(f) };
  return {
    configuration: new FakeConfiguration(values),
    probe,
    extensionPath: '/ext',
    platform: 'linux',
    arch: 'x64',
    env: { PATH: '/usr/bin' },
    homeDir: '/home/dev',
    workspaceFolders,
  };
}

test('the bundled server is started over stdio in the first workspace folder', () => {
  const plan = planLaunch(host({}, ['/ext/server/linux-x64/pin-lsp']));
  assert.ok(plan.ok);
  assert.equal(plan.server.source, 'bundled');
  // transport 0 = TransportKind.stdio: the client pipes stdio and appends --stdio.
  assert.deepEqual(plan.serverOptions, {
    command: '/ext/server/linux-x64/pin-lsp',
    args: [],
    transport: 0,
    options: { cwd: '/ws' },
  });
});

test('pinLint.server.path from the configuration decides the command', () => {
  const plan = planLaunch(host({ 'server.path': '/opt/pin-lsp' }, ['/opt/pin-lsp', '/ext/server/linux-x64/pin-lsp']));
  assert.ok(plan.ok);
  assert.equal(plan.serverOptions.command, '/opt/pin-lsp');
});

test('no workspace folder: no cwd, the client chooses', () => {
  const options = buildServerOptions({ found: true, source: 'path', path: '/usr/bin/pin-lsp' }, []);
  assert.deepEqual(options, { command: '/usr/bin/pin-lsp', args: [], transport: 0, options: {} });
});

test('no server: the plan carries the message for the user', () => {
  const plan = planLaunch(host({}, []));
  assert.equal(plan.ok, false);
  assert.ok(!plan.ok && plan.missing.message.includes('pinLint.server.path'));
});
