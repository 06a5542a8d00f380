// VS Code's workbench served by code-server on loopback, in a throw-away profile, and Debian's
// Chromium driven by playwright-core to look at it. Everything lives in one temporary folder;
// every process started here is stopped by `stop()`, and by a last-resort exit handler when the
// test process ends some other way.
import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { extensionDir } from '../support/paths';

/** This folder in the sources (the compiled test runs from `out/e2e` below it). */
export const e2eDir = path.join(extensionDir, 'test', 'e2e');

const codeServerEntry = path.join(e2eDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const INSTALL_HINT = 'run scripts/test-deps (as root), which installs code-server, playwright-core, Chromium and ripgrep';

/** Chromium's flags: headless, no sandbox (root in a container), nothing that reaches the network. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** User settings of the throw-away profile: no trust prompt, welcome page, update checks or
 * telemetry; a light theme and an editor without minimap or sticky scroll, for the pictures;
 * lists without sticky rows, so that a list row is rendered once; no JSON schema downloads
 * (on a machine without network, VS Code's JSON support adds an "Unable to load schema"
 * warning for devcontainer.json to the Problems panel at a moment of its own, which made the
 * file's count one more than pin-lint's findings now and then). */
export const USER_SETTINGS = {
  'json.schemaDownload.enable': false,
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.colorTheme': 'Default Light Modern',
  'workbench.layoutControl.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'chat.commandCenter.enabled': false,
  'editor.minimap.enabled': false,
  'editor.stickyScroll.enabled': false,
  'workbench.tree.enableStickyScroll': false,
  'files.autoSave': 'off',
};

/** The Chromium to drive: PIN_LINT_CHROMIUM, else Debian's. */
export function chromiumPath(): string {
  const exe = process.env.PIN_LINT_CHROMIUM ?? '/usr/bin/chromium';
  if (!fs.existsSync(exe)) {
    throw new Error(`no Chromium at ${exe}: ${INSTALL_HINT}, or set PIN_LINT_CHROMIUM`);
  }
  return exe;
}

/** playwright-core from this folder's lock file. */
export function playwright(): typeof import('playwright-core') {
  try {
    return require('playwright-core');
  } catch (e) {
    throw new Error(`playwright-core is not installed in ${e2eDir}: ${INSTALL_HINT} (${(e as Error).message})`);
  }
}

/** A profile for code-server: user data, extensions and XDG folders, all below `root`. */
export class Profile {
  readonly userData: string;
  readonly extensions: string;
  readonly env: NodeJS.ProcessEnv;

  constructor(readonly root: string) {
    this.userData = path.join(root, 'user-data');
    this.extensions = path.join(root, 'extensions');
    fs.mkdirSync(path.join(this.userData, 'User'), { recursive: true });
    fs.mkdirSync(this.extensions, { recursive: true });
    fs.writeFileSync(path.join(this.userData, 'User', 'settings.json'), JSON.stringify(USER_SETTINGS, null, 2));
    const xdg = (name: string) => {
      const dir = path.join(root, 'xdg', name);
      fs.mkdirSync(dir, { recursive: true });
      return dir;
    };
    // code-server writes its config.yaml and logs below XDG_CONFIG_HOME / XDG_DATA_HOME.
    this.env = {
      ...process.env,
      XDG_CONFIG_HOME: xdg('config'),
      XDG_DATA_HOME: xdg('data'),
      XDG_CACHE_HOME: xdg('cache'),
      XDG_STATE_HOME: xdg('state'),
    };
    delete this.env.VSCODE_IPC_HOOK_CLI;
  }

  private args(): string[] {
    return ['--user-data-dir', this.userData, '--extensions-dir', this.extensions];
  }

  /** `code-server --install-extension VSIX`, as a user installs a downloaded package. Returns
   * the installed extension's folder. */
  installExtension(vsix: string, id: string): string {
    if (!fs.existsSync(codeServerEntry)) {
      throw new Error(`code-server is not installed in ${e2eDir}: ${INSTALL_HINT}`);
    }
    const run = cp.spawnSync(process.execPath, [codeServerEntry, ...this.args(), '--install-extension', vsix], {
      env: this.env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    const output = `${run.stdout ?? ''}${run.stderr ?? ''}`;
    if (run.error || run.status !== 0 || !/was successfully installed/.test(output)) {
      throw new Error(`code-server --install-extension ${vsix} failed (${run.error?.message ?? `exit ${run.status}`}):\n${output}`);
    }
    const installed = fs.readdirSync(this.extensions).filter((d) => d.startsWith(`${id}-`));
    if (installed.length !== 1) {
      throw new Error(`expected one ${id}-* folder in ${this.extensions}, found ${JSON.stringify(installed)}`);
    }
    return path.join(this.extensions, installed[0]);
  }

  /** Starts code-server on a free loopback port (no authentication) with `folder` open, and
   * resolves once it listens. Its output goes to `logFile`. */
  async serve(folder: string, logFile: string, timeoutMs: number): Promise<CodeServer> {
    const log = fs.openSync(logFile, 'w');
    const child = cp.spawn(
      process.execPath,
      [
        codeServerEntry,
        '--bind-addr',
        '127.0.0.1:0',
        '--auth',
        'none',
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-workspace-trust',
        '--disable-getting-started-override',
        ...this.args(),
        folder,
      ],
      // Its own process group: the extension host and pin-lsp are stopped with it.
      { env: this.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const server = new CodeServer(child, logFile);
    let output = '';
    let onExit: (code: number | null, signal: NodeJS.Signals | null) => void = () => {};
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`code-server did not listen within ${timeoutMs / 1000} s:\n${output}`)), timeoutMs);
      const onData = (d: Buffer) => {
        fs.writeSync(log, d);
        output += d.toString();
        const m = /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      onExit = (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`code-server exited (${code ?? signal}) before it listened:\n${output}`));
      };
      child.on('exit', onExit);
    }).catch(async (e) => {
      await server.stop();
      throw e;
    });
    child.off('exit', onExit);
    server.port = port;
    return server;
  }
}

const running = new Set<CodeServer>();
process.on('exit', () => {
  for (const server of running) {
    server.killGroup('SIGKILL');
  }
});

/** A running code-server and everything it started. */
export class CodeServer {
  port = 0;
  private readonly exited: Promise<void>;

  constructor(
    private readonly child: cp.ChildProcess,
    readonly logFile: string,
  ) {
    running.add(this);
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
  }

  /** The workbench URL that opens `folder`. */
  url(folder: string): string {
    return `http://127.0.0.1:${this.port}/?folder=${encodeURIComponent(folder)}`;
  }

  killGroup(signal: NodeJS.Signals): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // already gone
    }
  }

  /** Stops code-server, its extension host and the language server (the whole process group). */
  async stop(): Promise<void> {
    this.killGroup('SIGTERM');
    const grace = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), 5000));
    if ((await Promise.race([this.exited.then(() => 'done' as const), grace])) === 'late') {
      this.killGroup('SIGKILL');
      await this.exited;
    }
    // Children that outlived the parent (an extension host shutting down) go too.
    this.killGroup('SIGKILL');
    running.delete(this);
  }
}

/** Headless Chromium with a fresh profile (playwright makes a temporary one per launch). */
export async function launchBrowser(): Promise<Browser> {
  return playwright().chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    chromiumSandbox: false,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
}

/** Polls `probe` (which may read files or the page) until it returns a value, or fails with
 * `what` and the last thing the probe saw. */
export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined, seen?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`${what}: not so after ${timeoutMs / 1000} s${seen ? ` (${seen()})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Types into the focused quick input (quick open, go to line, command palette) once it shows. */
export async function quickInput(page: Page, text: string): Promise<void> {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: 30_000 });
  await input.fill(text);
}
