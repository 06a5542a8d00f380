import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bumpWorkspaceParams,
  CLIENT_COMMANDS,
  describeBumpResult,
  describePinResult,
  pinAllInFileParams,
  SERVER_COMMANDS,
} from '../../src/commands';
import { manifest } from '../support/paths';

test('pin all forwards the document URI as the first argument of the server command', () => {
  assert.deepEqual(pinAllInFileParams('file:///ws/azure-pipelines.yml'), {
    command: 'pinLint.pinAllInFile',
    arguments: ['file:///ws/azure-pipelines.yml'],
  });
  assert.deepEqual(bumpWorkspaceParams(), { command: 'pinLint.bumpWorkspace', arguments: [] });
});

test('contributed commands are exactly the client commands, none with a server command id', () => {
  const contributed = (manifest().contributes.commands as { command: string }[]).map((c) => c.command).sort();
  assert.deepEqual(contributed, Object.values(CLIENT_COMMANDS).sort());
  const server: string[] = Object.values(SERVER_COMMANDS);
  for (const id of contributed) {
    assert.ok(!server.includes(id), `${id} would be registered twice (vscode-languageclient registers server commands)`);
  }
});

test('result messages say what happened', () => {
  assert.deepEqual(describePinResult({ applied: true, edits: 3 }, 'ci.yml'), {
    level: 'info',
    text: 'pin-lint: pinned 3 images in ci.yml.',
  });
  assert.deepEqual(describePinResult({ applied: true, edits: 1 }, 'ci.yml').text, 'pin-lint: pinned 1 image in ci.yml.');
  assert.equal(describePinResult({ applied: false, edits: 2 }, 'ci.yml').level, 'warning');
  const nothing = describePinResult({ applied: false, edits: 0 }, 'ci.yml');
  assert.equal(nothing.level, 'info');
  assert.match(nothing.text, /nothing to pin in ci\.yml/);
  assert.match(nothing.text, /pinLint\.online/);
  assert.match(describePinResult(null, 'ci.yml').text, /nothing to pin/);
  assert.deepEqual(describeBumpResult({ applied: true, files: 2, edits: 5 }), {
    level: 'info',
    text: 'pin-lint: pinned or bumped 5 references in 2 files.',
  });
  assert.equal(describeBumpResult({ applied: false, files: 1, edits: 1 }).level, 'warning');
  assert.match(describeBumpResult({ applied: false, files: 0, edits: 0 }).text, /nothing to pin or bump/);
});
