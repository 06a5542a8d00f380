// The commands: the ids the extension contributes, the server's workspace/executeCommand ids,
// the requests that forward one to the other and the messages shown for their results.
//
// The ids differ on purpose: vscode-languageclient registers every command the server lists
// in `executeCommandProvider` as a VS Code command of the same id, and registering an id twice
// fails the client's start. The contributed commands add what the server cannot know (the
// active editor's document, progress, a message) and then send the server command.

import type { ExecuteCommandParams } from 'vscode-languageclient/node';

/** Commands pin-lsp executes (`workspace/executeCommand`). */
export const SERVER_COMMANDS = {
  pinAllInFile: 'pinLint.pinAllInFile',
  bumpWorkspace: 'pinLint.bumpWorkspace',
} as const;

/** Commands this extension contributes (command palette, menus). */
export const CLIENT_COMMANDS = {
  pinAllImagesInFile: 'pinLint.pinAllImagesInFile',
  bumpStaleDigests: 'pinLint.bumpStaleDigests',
  restartServer: 'pinLint.restartServer',
} as const;

/** `pinLint.pinAllInFile` for one document; the server takes its URI as the first argument. */
export function pinAllInFileParams(documentUri: string): ExecuteCommandParams {
  return { command: SERVER_COMMANDS.pinAllInFile, arguments: [documentUri] };
}

/** `pinLint.bumpWorkspace` (no argument). */
export function bumpWorkspaceParams(): ExecuteCommandParams {
  return { command: SERVER_COMMANDS.bumpWorkspace, arguments: [] };
}

/** A message for the user. */
export interface Notice {
  readonly level: 'info' | 'warning';
  readonly text: string;
}

interface CommandResult {
  applied?: unknown;
  edits?: unknown;
  files?: unknown;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

const NO_DIGESTS_HINT =
  'Digests come from catalogs (pinLint.catalogs, pin-lint.toml) or, with pinLint.online, from the registries.';

/** What to tell the user after `pinLint.pinAllInFile` answered `{ applied, edits }`. */
export function describePinResult(result: unknown, fileName: string): Notice {
  const r = (result ?? {}) as CommandResult;
  const edits = count(r.edits);
  if (edits === 0) {
    return { level: 'info', text: `pin-lint: nothing to pin in ${fileName}. ${NO_DIGESTS_HINT}` };
  }
  if (r.applied !== true) {
    return { level: 'warning', text: `pin-lint: the editor did not apply the ${plural(edits, 'pin', 'pins')} for ${fileName}.` };
  }
  return { level: 'info', text: `pin-lint: pinned ${plural(edits, 'image', 'images')} in ${fileName}.` };
}

/** What to tell the user after `pinLint.bumpWorkspace` answered `{ applied, files, edits }`. */
export function describeBumpResult(result: unknown): Notice {
  const r = (result ?? {}) as CommandResult;
  const edits = count(r.edits);
  const files = count(r.files);
  if (edits === 0) {
    return { level: 'info', text: `pin-lint: nothing to pin or bump in the workspace. ${NO_DIGESTS_HINT}` };
  }
  const what = `${plural(edits, 'reference', 'references')} in ${plural(files, 'file', 'files')}`;
  if (r.applied !== true) {
    return { level: 'warning', text: `pin-lint: the editor did not apply the changes to ${what}.` };
  }
  return { level: 'info', text: `pin-lint: pinned or bumped ${what}.` };
}
