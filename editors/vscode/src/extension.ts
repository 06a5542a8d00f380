// The VS Code side: finds pin-lsp, starts it with vscode-languageclient, forwards settings and
// runs the commands. Decisions live in the modules it imports; this file only wires them to
// the VS Code API.

import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  RevealOutputChannelOn,
  State,
  type LanguageClientOptions,
} from 'vscode-languageclient/node';
import {
  bumpWorkspaceParams,
  CLIENT_COMMANDS,
  describeBumpResult,
  describePinResult,
  pinAllInFileParams,
  type Notice,
} from './commands';
import { nodeFileProbe } from './discovery';
import { DOCUMENT_SELECTOR } from './documents';
import { serverLogEntry } from './logs';
import { planLaunch, type LaunchHost } from './serverOptions';
import { actionFor, configurationResponse, didChangeConfigurationParams, initializationOptions, SECTION } from './settings';

const CLIENT_ID = 'pinLint'; // vscode-languageclient reads `pinLint.trace.server` from this id
const CLIENT_NAME = 'pin-lint';
const RUNNING_CONTEXT = 'pinLint.serverRunning';

function configuration(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration(SECTION);
}

function show(notice: Notice): void {
  if (notice.level === 'warning') {
    void vscode.window.showWarningMessage(notice.text);
  } else {
    void vscode.window.showInformationMessage(notice.text);
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function lines(input: NodeJS.ReadableStream, each: (line: string) => void): void {
  readline.createInterface({ input, crlfDelay: Infinity, terminal: false }).on('line', each);
}

/** One language client at a time; restarts build a new one, so a changed server path counts. */
class ServerController implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly output: vscode.LogOutputChannel,
  ) {}

  private host(): LaunchHost {
    return {
      configuration: configuration(),
      probe: nodeFileProbe,
      extensionPath: this.context.extensionPath,
      platform: process.platform,
      arch: process.arch,
      env: process.env,
      homeDir: os.homedir(),
      workspaceFolders: (vscode.workspace.workspaceFolders ?? [])
        .filter((f) => f.uri.scheme === 'file')
        .map((f) => f.uri.fsPath),
    };
  }

  /** Starts, stops and restarts run one after the other. */
  private serialize(work: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(work, work);
    return this.queue;
  }

  start(): Promise<void> {
    return this.serialize(() => this.startNow());
  }

  restart(): Promise<void> {
    return this.serialize(async () => {
      await this.stopNow();
      await this.startNow();
    });
  }

  stop(): Promise<void> {
    return this.serialize(() => this.stopNow());
  }

  private async startNow(): Promise<void> {
    const plan = planLaunch(this.host());
    if (!plan.ok) {
      this.output.error(plan.missing.message);
      this.output.error(`Looked for: ${plan.missing.tried.join(', ') || '(nothing)'}`);
      this.offerSettings(plan.missing.message);
      return;
    }
    this.output.info(`Starting ${plan.server.path} (${plan.server.source})`);
    const clientOptions: LanguageClientOptions = {
      documentSelector: [...DOCUMENT_SELECTOR],
      diagnosticCollectionName: CLIENT_NAME,
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      stdioOptions: {
        stdout: (input, channel) => lines(input, (line) => channel.info(line)),
        stderr: (input, channel) =>
          lines(input, (line) => {
            const entry = serverLogEntry(line);
            channel[entry.level](entry.text);
          }),
      },
      initializationOptions: () => initializationOptions(configuration()),
      middleware: {
        workspace: {
          // Answer the server's pull with the same shape as the pushed settings.
          configuration: (params) => configurationResponse(params.items, configuration()),
        },
      },
    };
    const client = new LanguageClient(CLIENT_ID, CLIENT_NAME, plan.serverOptions, clientOptions);
    client.onDidChangeState((e) => {
      void vscode.commands.executeCommand('setContext', RUNNING_CONTEXT, e.newState === State.Running);
    });
    this.client = client;
    try {
      await client.start();
    } catch (e) {
      this.output.error(`The server did not start: ${errorText(e)}`);
      this.offerSettings(`pin-lint: the server ${plan.server.path} did not start: ${errorText(e)}`);
    }
  }

  /** An error with a way out. Not awaited: activation and restarts must not wait for the
   * user to dismiss a notification. */
  private offerSettings(message: string): void {
    void vscode.window.showErrorMessage(message, 'Configure', 'Show Output').then((choice) => {
      if (choice === 'Configure') {
        void vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.server.path`);
      } else if (choice === 'Show Output') {
        this.output.show(true);
      }
    });
  }

  private async stopNow(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client === undefined) {
      return;
    }
    try {
      await client.dispose(5000);
    } catch (e) {
      this.output.warn(`Stopping the server: ${errorText(e)}`);
    }
    await vscode.commands.executeCommand('setContext', RUNNING_CONTEXT, false);
  }

  onConfigurationChanged(event: vscode.ConfigurationChangeEvent): void {
    switch (actionFor(event)) {
      case 'restart':
        void this.restart();
        break;
      case 'forward':
        if (this.client?.isRunning()) {
          void this.client.sendNotification(
            DidChangeConfigurationNotification.type,
            didChangeConfigurationParams(configuration()),
          );
        }
        break;
      case 'none':
        break;
    }
  }

  private runningClient(): LanguageClient | undefined {
    if (this.client?.isRunning()) {
      return this.client;
    }
    void vscode.window
      .showErrorMessage('pin-lint: the language server is not running.', 'Restart Server', 'Show Output')
      .then((choice) => {
        if (choice === 'Restart Server') {
          void this.restart();
        } else if (choice === 'Show Output') {
          this.output.show(true);
        }
      });
    return undefined;
  }

  async pinAllInActiveFile(): Promise<void> {
    const document = vscode.window.activeTextEditor?.document;
    if (document === undefined || vscode.languages.match([...DOCUMENT_SELECTOR], document) === 0) {
      void vscode.window.showWarningMessage('pin-lint: open a pipeline YAML, Dockerfile, Compose, Kubernetes, dev container, Bicep or Terraform file to pin its images.');
      return;
    }
    const client = this.runningClient();
    if (client === undefined) {
      return;
    }
    const name = path.basename(document.uri.fsPath);
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `pin-lint: pinning images in ${name}…` },
        () =>
          client.sendRequest(
            ExecuteCommandRequest.type,
            pinAllInFileParams(client.code2ProtocolConverter.asUri(document.uri)),
          ),
      );
      show(describePinResult(result, name));
    } catch (e) {
      void vscode.window.showErrorMessage(`pin-lint: ${errorText(e)}`);
    }
  }

  async bumpWorkspace(): Promise<void> {
    const client = this.runningClient();
    if (client === undefined) {
      return;
    }
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'pin-lint: looking up current digests…' },
        () => client.sendRequest(ExecuteCommandRequest.type, bumpWorkspaceParams()),
      );
      show(describeBumpResult(result));
    } catch (e) {
      void vscode.window.showErrorMessage(`pin-lint: ${errorText(e)}`);
    }
  }

  dispose(): void {
    void this.stop();
  }
}

let controller: ServerController | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel(CLIENT_NAME, { log: true });
  const server = new ServerController(context, output);
  controller = server;
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand(CLIENT_COMMANDS.pinAllImagesInFile, () => server.pinAllInActiveFile()),
    vscode.commands.registerCommand(CLIENT_COMMANDS.bumpStaleDigests, () => server.bumpWorkspace()),
    vscode.commands.registerCommand(CLIENT_COMMANDS.restartServer, () => server.restart()),
    vscode.workspace.onDidChangeConfiguration((e) => server.onConfigurationChanged(e)),
  );
  await server.start();
}

export async function deactivate(): Promise<void> {
  await controller?.stop();
  controller = undefined;
}
