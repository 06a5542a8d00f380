// How the extension starts the server: discovery plus the vscode-languageclient ServerOptions.
// Only types come from vscode-languageclient, so this module runs outside VS Code (tests).

import type { Executable, TransportKind } from 'vscode-languageclient/node';
import { findServer, type DiscoveryInput, type FileProbe, type FoundServer, type MissingServer } from './discovery';
import type { ConfigurationReader } from './settings';

/** `TransportKind.stdio`: vscode-languageclient spawns the command with piped stdio and adds
 * `--stdio`, which pin-lsp accepts (stdio is its only transport). */
const STDIO: TransportKind.stdio = 0;

/** The machine and editor facts the launcher needs (a view of `vscode` and `process`). */
export interface LaunchHost extends Omit<DiscoveryInput, 'configuredPath'> {
  /** The `pinLint` configuration section. */
  readonly configuration: ConfigurationReader;
  /** Answers whether a path is an executable file. */
  readonly probe: FileProbe;
}

export type LaunchPlan =
  | { readonly ok: true; readonly server: FoundServer; readonly serverOptions: Executable }
  | { readonly ok: false; readonly missing: MissingServer };

/** The ServerOptions for a found executable: run it directly (no shell) over stdio, in the
 * first workspace folder, with the extension host's environment. */
export function buildServerOptions(server: FoundServer, workspaceFolders: readonly string[]): Executable {
  const options: Executable['options'] = {};
  if (workspaceFolders.length > 0) {
    options.cwd = workspaceFolders[0];
  }
  return { command: server.path, args: [], transport: STDIO, options };
}

/** Find the server as configured and build the options to start it. */
export function planLaunch(host: LaunchHost): LaunchPlan {
  const discovery = findServer(
    { ...host, configuredPath: host.configuration.get<string>('server.path') },
    host.probe,
  );
  if (!discovery.found) {
    return { ok: false, missing: discovery };
  }
  return { ok: true, server: discovery, serverOptions: buildServerOptions(discovery, host.workspaceFolders) };
}
