// Where the pin-lsp executable comes from: the `pinLint.server.path` setting, else the binary
// bundled in the extension for this platform, else `pin-lsp` on PATH.
//
// Pure apart from the file probe, which is passed in, so that tests can describe any machine.

import * as fs from 'node:fs';
import * as path from 'node:path';

/** The server executable's base name (without `.exe`). */
export const SERVER_NAME = 'pin-lsp';

/** Where the executable was found. */
export type ServerSource = 'setting' | 'bundled' | 'path';

/** A server executable that exists and can be run. */
export interface FoundServer {
  readonly found: true;
  readonly source: ServerSource;
  readonly path: string;
}

/** No executable: what was looked at, and a sentence for the user. */
export interface MissingServer {
  readonly found: false;
  readonly tried: readonly string[];
  readonly message: string;
}

export type Discovery = FoundServer | MissingServer;

/** What discovery needs to know about the machine and the editor. */
export interface DiscoveryInput {
  /** The `pinLint.server.path` setting (empty or unset: not configured). */
  readonly configuredPath: string | undefined;
  /** The folder the extension is installed in. */
  readonly extensionPath: string;
  /** `process.platform` of the extension host. */
  readonly platform: NodeJS.Platform;
  /** `process.arch` of the extension host. */
  readonly arch: string;
  /** The extension host's environment (`PATH`; `Path` on Windows). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The user's home folder, for a configured path starting with `~`. */
  readonly homeDir: string;
  /** Workspace folder paths; a relative configured path is taken from the first. */
  readonly workspaceFolders: readonly string[];
}

/** Answers whether a path is a file the extension host may execute. */
export interface FileProbe {
  isExecutable(file: string): boolean;
}

function pathApi(platform: NodeJS.Platform): path.PlatformPath {
  return platform === 'win32' ? path.win32 : path.posix;
}

/** `pin-lsp.exe` on Windows, `pin-lsp` elsewhere. */
export function executableName(platform: NodeJS.Platform): string {
  return platform === 'win32' ? `${SERVER_NAME}.exe` : SERVER_NAME;
}

/** The folder name of a bundled server: `<platform>-<arch>`, as `process.platform`/`arch` say. */
export function platformDir(platform: NodeJS.Platform, arch: string): string {
  return `${platform}-${arch}`;
}

/** Where a bundled server for this platform sits inside the extension. */
export function bundledServerPath(extensionPath: string, platform: NodeJS.Platform, arch: string): string {
  return pathApi(platform).join(extensionPath, 'server', platformDir(platform, arch), executableName(platform));
}

/** The configured path made absolute: `~` is the home folder, relative paths start at the first workspace folder. */
export function expandConfiguredPath(configured: string, input: DiscoveryInput): string {
  const p = pathApi(input.platform);
  let value = configured.trim();
  if (value === '~' || value.startsWith('~/') || value.startsWith('~\\')) {
    value = p.join(input.homeDir, value.slice(1));
  }
  if (!p.isAbsolute(value) && input.workspaceFolders.length > 0) {
    value = p.join(input.workspaceFolders[0], value);
  }
  return p.normalize(value);
}

/** Every `pin-lsp` candidate on PATH, in PATH order. */
export function pathCandidates(input: DiscoveryInput): string[] {
  const p = pathApi(input.platform);
  // Windows environments are case-insensitive and usually spell it `Path`.
  const key = Object.keys(input.env).find((k) => (input.platform === 'win32' ? k.toUpperCase() === 'PATH' : k === 'PATH'));
  const value = key === undefined ? undefined : input.env[key];
  if (!value) {
    return [];
  }
  const name = executableName(input.platform);
  return value
    .split(p.delimiter)
    .map((dir) => dir.trim().replace(/^"(.*)"$/, '$1'))
    .filter((dir) => dir.length > 0)
    .map((dir) => p.join(dir, name));
}

/** Find the server: the setting, else the bundled binary, else PATH. A configured path that
 * does not exist is an error, not a reason to run some other binary. */
export function findServer(input: DiscoveryInput, probe: FileProbe): Discovery {
  const configured = input.configuredPath?.trim();
  if (configured) {
    const file = expandConfiguredPath(configured, input);
    if (probe.isExecutable(file)) {
      return { found: true, source: 'setting', path: file };
    }
    return {
      found: false,
      tried: [file],
      message: `pin-lint: the setting pinLint.server.path points to ${file}, which is not an executable file.`,
    };
  }
  const tried: string[] = [];
  const bundled = bundledServerPath(input.extensionPath, input.platform, input.arch);
  tried.push(bundled);
  if (probe.isExecutable(bundled)) {
    return { found: true, source: 'bundled', path: bundled };
  }
  for (const candidate of pathCandidates(input)) {
    tried.push(candidate);
    if (probe.isExecutable(candidate)) {
      return { found: true, source: 'path', path: candidate };
    }
  }
  return {
    found: false,
    tried,
    message:
      `pin-lint: cannot find the ${SERVER_NAME} language server. This extension has no server for ` +
      `${platformDir(input.platform, input.arch)} and there is no ${executableName(input.platform)} on PATH. ` +
      'Install pin-lsp or set pinLint.server.path.',
  };
}

/** The real file system: a regular file, executable by this process (on Windows: any file). */
export const nodeFileProbe: FileProbe = {
  isExecutable(file: string): boolean {
    try {
      if (!fs.statSync(file).isFile()) {
        return false;
      }
      if (process.platform !== 'win32') {
        fs.accessSync(file, fs.constants.X_OK);
      }
      return true;
    } catch {
      return false;
    }
  },
};
