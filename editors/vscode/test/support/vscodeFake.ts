// A small in-process stand-in for the `vscode` module, enough for the packaged extension and
// the real vscode-languageclient to activate, start pin-lsp, sync documents, publish
// diagnostics, run commands and apply edits. VS Code itself cannot run here; this fake keeps
// VS Code's observable rules where the extension depends on them (a command id can be
// registered once, configuration keys are read below a section, document filters match by
// language, scheme and glob).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { manifest } from './paths';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { minimatch } = require('minimatch') as { minimatch: (p: string, g: string, o?: object) => boolean };

type Listener<T> = (e: T) => unknown;

export class Disposable {
  static from(...items: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => items.forEach((i) => i.dispose()));
  }
  constructor(private readonly onDispose: () => unknown = () => {}) {}
  dispose(): unknown {
    return this.onDispose();
  }
}

export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  readonly event = (listener: Listener<T>): Disposable => {
    this.listeners.push(listener);
    return new Disposable(() => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    });
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class CancellationTokenSource {
  private readonly emitter = new EventEmitter<void>();
  token = { isCancellationRequested: false, onCancellationRequested: this.emitter.event };
  cancel(): void {
    this.token.isCancellationRequested = true;
    this.emitter.fire();
  }
  dispose(): void {}
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly authority: string,
    readonly path: string,
    readonly query: string,
    readonly fragment: string,
  ) {}
  static file(p: string): Uri {
    return new Uri('file', '', p, '', '');
  }
  static parse(value: string): Uri {
    const u = new URL(value);
    return new Uri(u.protocol.replace(/:$/, ''), u.host, decodeURIComponent(u.pathname), u.search.replace(/^\?/, ''), u.hash.replace(/^#/, ''));
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, base.authority, path.posix.join(base.path, ...parts), '', '');
  }
  get fsPath(): string {
    return this.scheme === 'file' ? fileURLToPath(this.toString()) : this.path;
  }
  with(change: { scheme?: string; path?: string }): Uri {
    return new Uri(change.scheme ?? this.scheme, this.authority, change.path ?? this.path, this.query, this.fragment);
  }
  toString(): string {
    return this.scheme === 'file' ? pathToFileURL(this.path).href : `${this.scheme}://${this.authority}${this.path}`;
  }
  toJSON(): unknown {
    return { scheme: this.scheme, path: this.path };
  }
}

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}

export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(a: Position | number, b: Position | number, c?: number, d?: number) {
    if (typeof a === 'number') {
      this.start = new Position(a, b as number);
      this.end = new Position(c as number, d as number);
    } else {
      this.start = a;
      this.end = b as Position;
    }
  }
}

export class Diagnostic {
  code?: string | number | { value: string | number; target: Uri };
  source?: string;
  tags?: number[];
  relatedInformation?: unknown[];
  constructor(
    readonly range: Range,
    readonly message: string,
    readonly severity: number = 0,
  ) {}
}

export class TextEdit {
  constructor(
    readonly range: Range,
    readonly newText: string,
  ) {}
  static replace(range: Range, newText: string): TextEdit {
    return new TextEdit(range, newText);
  }
  static insert(position: Position, newText: string): TextEdit {
    return new TextEdit(new Range(position, position), newText);
  }
}

export class WorkspaceEdit {
  private readonly edits: [Uri, TextEdit[]][] = [];
  /** Edits, or [edit, metadata] pairs as VS Code also takes them. */
  set(uri: Uri, edits: readonly (TextEdit | [TextEdit, unknown])[]): void {
    this.edits.push([uri, edits.map((e) => (Array.isArray(e) ? e[0] : e))]);
  }
  replace(uri: Uri, range: Range, newText: string): void {
    this.edits.push([uri, [new TextEdit(range, newText)]]);
  }
  insert(uri: Uri, position: Position, newText: string): void {
    this.replace(uri, new Range(position, position), newText);
  }
  delete(uri: Uri, range: Range): void {
    this.replace(uri, range, '');
  }
  entries(): [Uri, TextEdit[]][] {
    return this.edits;
  }
  get size(): number {
    return this.edits.length;
  }
}

export class CodeActionKind {
  static readonly Empty = new CodeActionKind('');
  static readonly QuickFix = new CodeActionKind('quickfix');
  static readonly Refactor = new CodeActionKind('refactor');
  static readonly RefactorExtract = new CodeActionKind('refactor.extract');
  static readonly RefactorInline = new CodeActionKind('refactor.inline');
  static readonly RefactorMove = new CodeActionKind('refactor.move');
  static readonly RefactorRewrite = new CodeActionKind('refactor.rewrite');
  static readonly Source = new CodeActionKind('source');
  static readonly SourceOrganizeImports = new CodeActionKind('source.organizeImports');
  static readonly SourceFixAll = new CodeActionKind('source.fixAll');
  static readonly Notebook = new CodeActionKind('notebook');
  constructor(readonly value: string) {}
  append(part: string): CodeActionKind {
    return new CodeActionKind(this.value ? `${this.value}.${part}` : part);
  }
  contains(other: CodeActionKind): boolean {
    return this.value === other.value || other.value.startsWith(`${this.value}.`);
  }
  intersects(other: CodeActionKind): boolean {
    return this.contains(other) || other.contains(this);
  }
}

/** Anything else the client library names: a class to extend or construct, whose unknown
 * static members are numbers (enums). */
function placeholder(name: string): unknown {
  const Base = class {
    constructor(...args: unknown[]) {
      Object.assign(this, { args });
    }
  };
  Object.defineProperty(Base, 'name', { value: name });
  return new Proxy(Base, {
    get(target, prop, receiver) {
      if (prop in target || typeof prop === 'symbol') return Reflect.get(target, prop, receiver);
      return 1;
    },
  });
}

/** A document open in the fake editor. */
export class FakeTextDocument {
  readonly uri: Uri;
  readonly fileName: string;
  readonly isClosed = false;
  readonly isUntitled = false;
  readonly isDirty = false;
  readonly eol = 1;
  version = 1;
  constructor(
    file: string,
    readonly languageId: string,
    private text = fs.readFileSync(file, 'utf8'),
  ) {
    this.uri = Uri.file(file);
    this.fileName = file;
  }
  getText(): string {
    return this.text;
  }
  get lineCount(): number {
    return this.text.split('\n').length;
  }
}

interface Filter {
  scheme?: string;
  language?: string;
  pattern?: string;
}

function matchScore(selector: Filter | string | readonly (Filter | string)[], doc: FakeTextDocument): number {
  if (Array.isArray(selector)) {
    return Math.max(0, ...selector.map((s) => matchScore(s, doc)));
  }
  const f: Filter = typeof selector === 'string' ? { language: selector } : (selector as Filter);
  let score = 0;
  if (f.scheme !== undefined) {
    if (f.scheme !== doc.uri.scheme && f.scheme !== '*') return 0;
    score = 10;
  }
  if (f.language !== undefined) {
    if (f.language !== doc.languageId && f.language !== '*') return 0;
    score = 10;
  }
  if (f.pattern !== undefined) {
    if (!minimatch(doc.uri.fsPath, f.pattern, { dot: true, matchBase: false })) return 0;
    score = 10;
  }
  return score;
}

/** One run of the fake VS Code: the module object plus what tests inspect and drive. */
export class FakeVscode {
  readonly settings: Record<string, unknown> = {};
  readonly commands = new Map<string, (...args: unknown[]) => unknown>();
  readonly executed: { id: string; args: unknown[] }[] = [];
  readonly messages: { level: string; text: string; items: string[] }[] = [];
  readonly logs: string[] = [];
  readonly diagnostics = new Map<string, Map<string, Diagnostic[]>>();
  readonly appliedEdits: WorkspaceEdit[] = [];
  readonly documents: FakeTextDocument[] = [];
  /** What the user clicks in the next error message with buttons (undefined: dismisses it). */
  nextChoice: string | undefined;
  activeDocument: FakeTextDocument | undefined;
  workspaceFolders: string[] = [];
  private readonly configurationChanged = new EventEmitter<{ affectsConfiguration(s: string): boolean }>();
  private readonly changeListeners: (() => void)[] = [];

  /** Called whenever something a test may wait for happened. */
  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }
  private changed(): void {
    for (const l of this.changeListeners) l();
  }

  /** Set user settings (full keys, `pinLint.catalogs`) and tell listeners, as VS Code does. */
  updateSettings(values: Record<string, unknown>): void {
    Object.assign(this.settings, values);
    const keys = Object.keys(values);
    this.configurationChanged.fire({
      affectsConfiguration: (section: string) => keys.some((k) => k === section || k.startsWith(`${section}.`)),
    });
  }

  private configuration(section?: string) {
    const properties = manifest().contributes.configuration.properties as Record<string, { default?: unknown }>;
    const full = (key: string) => (section ? `${section}.${key}` : key);
    const read = (key: string): unknown => {
      const k = full(key);
      if (k in this.settings) return this.settings[k];
      if (k in properties) return properties[k].default;
      const children = Object.keys(properties).filter((p) => p.startsWith(`${k}.`));
      if (children.length > 0) {
        const obj: Record<string, unknown> = {};
        for (const c of children) obj[c.slice(k.length + 1)] = read(c.slice(section ? section.length + 1 : 0));
        return obj;
      }
      return undefined;
    };
    return {
      get: <T>(key: string, fallback?: T): T | undefined => {
        const v = read(key);
        return (v === undefined ? fallback : v) as T | undefined;
      },
      has: (key: string) => read(key) !== undefined,
      inspect: (key: string) => ({ key: full(key), defaultValue: properties[full(key)]?.default }),
      update: async () => {},
    };
  }

  /** The `vscode` module object. */
  module(): Record<string, unknown> {
    const self = this;
    const event = <T>() => new EventEmitter<T>().event;
    const explicit: Record<string, unknown> = {
      version: '1.91.0',
      Disposable,
      EventEmitter,
      CancellationTokenSource,
      Uri,
      Position,
      Range,
      Diagnostic,
      TextEdit,
      WorkspaceEdit,
      CodeActionKind,
      DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
      DiagnosticTag: { Unnecessary: 1, Deprecated: 2 },
      ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
      ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
      UIKind: { Desktop: 1, Web: 2 },
      LogLevel: { Off: 0, Trace: 1, Debug: 2, Info: 3, Warning: 4, Error: 5 },
      env: { language: 'en', appName: 'Visual Studio Code', appRoot: '', machineId: 'test', sessionId: 'test', uiKind: 1, uriScheme: 'vscode', openExternal: async () => true },
      extensions: { getExtension: () => undefined, all: [], onDidChange: event() },
      commands: {
        registerCommand(id: string, fn: (...args: unknown[]) => unknown) {
          if (self.commands.has(id)) {
            throw new Error(`command '${id}' already exists`);
          }
          self.commands.set(id, fn);
          return new Disposable(() => self.commands.delete(id));
        },
        async executeCommand(id: string, ...args: unknown[]) {
          self.executed.push({ id, args });
          const fn = self.commands.get(id);
          const result = fn ? await fn(...args) : undefined;
          self.changed();
          return result;
        },
        getCommands: async () => [...self.commands.keys()],
      },
      window: {
        createOutputChannel(name: string) {
          const log = (level: string) => (text: string) => {
            self.logs.push(`[${level}] ${text}`);
            self.changed();
          };
          return {
            name,
            logLevel: 3,
            onDidChangeLogLevel: event(),
            trace: log('trace'),
            debug: log('debug'),
            info: log('info'),
            warn: log('warn'),
            error: (e: unknown) => log('error')(e instanceof Error ? e.message : String(e)),
            append: log('info'),
            appendLine: log('info'),
            replace: () => {},
            clear: () => {},
            show: () => {},
            hide: () => {},
            dispose: () => {},
          };
        },
        showErrorMessage: (text: string, ...items: unknown[]) => self.message('error', text, items),
        showWarningMessage: (text: string, ...items: unknown[]) => self.message('warning', text, items),
        showInformationMessage: (text: string, ...items: unknown[]) => self.message('info', text, items),
        withProgress: (_options: unknown, task: (p: unknown, t: unknown) => unknown) =>
          task({ report: () => {} }, new CancellationTokenSource().token),
        get activeTextEditor() {
          return self.activeDocument ? { document: self.activeDocument } : undefined;
        },
        visibleTextEditors: [],
        onDidChangeActiveTextEditor: event(),
        onDidChangeVisibleTextEditors: event(),
        tabGroups: { all: [], onDidChangeTabs: event(), onDidChangeTabGroups: event() },
        createStatusBarItem: () => ({ show() {}, hide() {}, dispose() {} }),
      },
      workspace: {
        get workspaceFolders() {
          return self.workspaceFolders.map((f, index) => ({ uri: Uri.file(f), name: path.basename(f), index }));
        },
        get textDocuments() {
          return self.documents;
        },
        getConfiguration: (section?: string) => self.configuration(section),
        getWorkspaceFolder: () => undefined,
        asRelativePath: (p: string | Uri) => (typeof p === 'string' ? p : p.fsPath),
        onDidChangeConfiguration: this.configurationChanged.event,
        onDidOpenTextDocument: event(),
        onDidCloseTextDocument: event(),
        onDidChangeTextDocument: event(),
        onDidSaveTextDocument: event(),
        onWillSaveTextDocument: event(),
        onDidChangeWorkspaceFolders: event(),
        onDidCreateFiles: event(),
        onDidDeleteFiles: event(),
        onDidRenameFiles: event(),
        onWillCreateFiles: event(),
        onWillDeleteFiles: event(),
        onWillRenameFiles: event(),
        onDidOpenNotebookDocument: event(),
        onDidCloseNotebookDocument: event(),
        onDidChangeNotebookDocument: event(),
        onDidSaveNotebookDocument: event(),
        notebookDocuments: [],
        createFileSystemWatcher: () => ({
          onDidCreate: event(),
          onDidChange: event(),
          onDidDelete: event(),
          dispose() {},
        }),
        async applyEdit(edit: WorkspaceEdit) {
          self.appliedEdits.push(edit);
          self.changed();
          return true;
        },
      },
      languages: {
        createDiagnosticCollection(name: string) {
          const store = new Map<string, Diagnostic[]>();
          self.diagnostics.set(name, store);
          return {
            name,
            set(uri: Uri, diags: Diagnostic[] | undefined) {
              store.set(uri.toString(), diags ?? []);
              self.changed();
            },
            delete(uri: Uri) {
              store.delete(uri.toString());
            },
            clear() {
              store.clear();
            },
            get: (uri: Uri) => store.get(uri.toString()),
            has: (uri: Uri) => store.has(uri.toString()),
            forEach() {},
            dispose() {},
          };
        },
        match: (selector: Filter | readonly Filter[], doc: FakeTextDocument) => matchScore(selector, doc),
        getLanguages: async () => ['yaml'],
      },
    };
    // In the namespaces, every provider registration, event and anything else not listed is
    // a no-op returning a Disposable.
    for (const ns of ['commands', 'window', 'workspace', 'languages', 'env', 'extensions']) {
      explicit[ns] = new Proxy(explicit[ns] as Record<string, unknown>, {
        get(target, prop: string) {
          if (prop in target || typeof prop === 'symbol') return Reflect.get(target, prop);
          return () => new Disposable();
        },
      });
    }
    return new Proxy(explicit, {
      get(target, prop: string) {
        if (prop in target) return target[prop];
        // `import * as vscode` (tsc's __importStar) takes an __esModule object as it is, so
        // the placeholders below are reached.
        if (prop === '__esModule') return true;
        if (prop === 'then' || typeof prop === 'symbol') return undefined;
        return (target[prop] = placeholder(prop));
      },
    });
  }

  private message(level: string, text: string, items: unknown[]): Promise<string | undefined> {
    const labels = items.filter((i): i is string => typeof i === 'string');
    this.messages.push({ level, text, items: labels });
    const choice = labels.length > 0 ? this.nextChoice : undefined;
    this.nextChoice = undefined;
    this.changed();
    return Promise.resolve(choice);
  }
}

/** Make `require('vscode')` return `fake.module()` for code loaded after this call. */
export function installVscodeModule(fake: FakeVscode): () => void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Module = require('node:module') as { _load: (request: string, ...rest: unknown[]) => unknown };
  const original = Module._load;
  const mod = fake.module();
  Module._load = function (request: string, ...rest: unknown[]) {
    return request === 'vscode' ? mod : original.call(this, request, ...rest);
  };
  return () => {
    Module._load = original;
  };
}
