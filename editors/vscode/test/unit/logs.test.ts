import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { serverLogEntry } from '../../src/logs';

test('tracing lines lose their timestamp and keep errors and warnings as such', () => {
  assert.deepEqual(serverLogEntry('2026-11-30T23:08:02.037730Z  WARN pin_lsp::transport: dropping a malformed message'), {
    level: 'warn',
    text: 'pin_lsp::transport: dropping a malformed message',
  });
  assert.deepEqual(serverLogEntry('2026-11-30T23:08:02.037730Z ERROR pin_lsp::lookup: registry down'), {
    level: 'error',
    text: 'pin_lsp::lookup: registry down',
  });
  assert.deepEqual(serverLogEntry('2026-11-30T23:08:02.037730Z  INFO pin_lsp::server: indexed 12 pipeline files'), {
    level: 'info',
    text: 'pin_lsp::server: indexed 12 pipeline files',
  });
});

test('debug and trace lines stay visible and say their level', () => {
  assert.deepEqual(serverLogEntry('2026-11-30T23:08:02.037730Z DEBUG pin_lsp::lookup: HEAD manifest'), {
    level: 'info',
    text: 'DEBUG pin_lsp::lookup: HEAD manifest',
  });
});

test('anything else (a panic) is an error', () => {
  assert.deepEqual(serverLogEntry("thread 'main' panicked at src/main.rs:1:1"), {
    level: 'error',
    text: "thread 'main' panicked at src/main.rs:1:1",
  });
});
