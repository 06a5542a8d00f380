// Starting a server from a vscode-languageclient `Executable` exactly as LanguageClient does
// for one (vscode-languageclient/lib/node/main.js, createMessageTransports): the args plus
// `--stdio` for TransportKind.stdio, `options` handed to child_process.spawn as they are, the
// working folder defaulting to the client's.
import * as cp from 'node:child_process';
import type { Executable } from 'vscode-languageclient/node';

const STDIO = 0; // TransportKind.stdio

export function spawnLikeLanguageClient(server: Executable, serverWorkingDir?: string): cp.ChildProcessWithoutNullStreams {
  const args = server.args !== undefined ? server.args.slice(0) : [];
  if (server.transport === STDIO) {
    args.push('--stdio');
  } else if (server.transport !== undefined) {
    throw new Error(`the extension uses stdio; this launcher does not handle transport ${JSON.stringify(server.transport)}`);
  }
  const options: cp.SpawnOptions = Object.assign({}, server.options);
  options.cwd = options.cwd || serverWorkingDir;
  const child = cp.spawn(server.command, args, options);
  if (!child.pid) {
    throw new Error(`Launching server using command ${server.command} failed.`);
  }
  return child as cp.ChildProcessWithoutNullStreams;
}
