import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  actionFor,
  CLIENT_KEYS,
  configurationResponse,
  didChangeConfigurationParams,
  FORWARDED_KEYS,
  initializationOptions,
  readServerSettings,
  RESTART_KEYS,
} from '../../src/settings';
import { FakeChange, FakeConfiguration } from '../support/fakeVscode';
import { manifest } from '../support/paths';

test('defaults leave online to pin-lint.toml and send empty lists', () => {
  assert.deepEqual(initializationOptions(new FakeConfiguration()), {
    pinLint: { catalogs: [], insecureRegistries: [], logLevel: 'info' },
  });
});

test('set values reach the server under the pinLint wrapper', () => {
  const config = new FakeConfiguration({
    online: true,
    catalogs: ['build/digests.tsv', '/abs/image-info.json'],
    insecureRegistries: ['127.0.0.1:5000'],
    logLevel: 'debug',
  });
  const expected = {
    online: true,
    catalogs: ['build/digests.tsv', '/abs/image-info.json'],
    insecureRegistries: ['127.0.0.1:5000'],
    logLevel: 'debug',
  };
  assert.deepEqual(initializationOptions(config), { pinLint: expected });
  assert.deepEqual(didChangeConfigurationParams(config), { settings: { pinLint: expected } });
  assert.deepEqual(new FakeConfiguration({ online: false }).get('online'), false);
  assert.equal(readServerSettings(new FakeConfiguration({ online: false })).online, false);
});

test('hand-edited values of the wrong type are left out instead of breaking the server', () => {
  const config = new FakeConfiguration({
    online: 'yes',
    catalogs: ['  a.tsv ', '', 7, null],
    insecureRegistries: 'localhost:5000',
    logLevel: '  ',
  });
  assert.deepEqual(readServerSettings(config), { catalogs: ['a.tsv'], insecureRegistries: [] });
});

test('the server pulling section pinLint gets the same shape as the push', () => {
  const config = new FakeConfiguration({ catalogs: ['a.tsv'] });
  assert.deepEqual(configurationResponse([{ section: 'pinLint' }, { section: 'editor' }, {}], config), [
    readServerSettings(config),
    null,
    null,
  ]);
});

test('every contributed setting is forwarded, restarts the server or is the client library\'s', () => {
  const contributed = Object.keys(manifest().contributes.configuration.properties).sort();
  const handled = [...FORWARDED_KEYS, ...RESTART_KEYS, ...CLIENT_KEYS].map((k) => `pinLint.${k}`).sort();
  assert.deepEqual(contributed, handled);
});

test('a change of the server path restarts; a server setting is forwarded; tracing is left alone', () => {
  assert.equal(actionFor(new FakeChange(['pinLint.server.path'])), 'restart');
  assert.equal(actionFor(new FakeChange(['pinLint.server.path', 'pinLint.online'])), 'restart');
  for (const key of FORWARDED_KEYS) {
    assert.equal(actionFor(new FakeChange([`pinLint.${key}`])), 'forward', key);
  }
  assert.equal(actionFor(new FakeChange(['pinLint.trace.server'])), 'none');
  assert.equal(actionFor(new FakeChange(['editor.fontSize'])), 'none');
});
