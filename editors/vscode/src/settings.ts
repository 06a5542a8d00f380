// The `pinLint.*` settings as the server reads them: the same object goes out as
// initializationOptions and in every workspace/didChangeConfiguration, so the server sees one
// shape whether it has just started or a setting has changed since.

/** The configuration section of every setting of this extension. */
export const SECTION = 'pinLint';

/** The part of `vscode.WorkspaceConfiguration` that this module reads. */
export interface ConfigurationReader {
  get<T>(key: string): T | undefined;
}

/** The part of `vscode.ConfigurationChangeEvent` that this module reads. */
export interface ConfigurationChange {
  affectsConfiguration(section: string): boolean;
}

/** The server's settings (pin-lsp `ClientSettings`); absent keys mean "the server's default". */
export interface ServerSettings {
  online?: boolean;
  catalogs: string[];
  insecureRegistries: string[];
  logLevel?: string;
}

/** Keys below `pinLint` that are the server's settings, forwarded without a restart. */
export const FORWARDED_KEYS = ['online', 'catalogs', 'insecureRegistries', 'logLevel'] as const;

/** Keys below `pinLint` that choose which server runs: a change restarts it. */
export const RESTART_KEYS = ['server.path'] as const;

/** Keys below `pinLint` that vscode-languageclient handles itself (message tracing). */
export const CLIENT_KEYS = ['trace.server'] as const;

function stringList(value: unknown): string[] {
  if (!Array.isArray(value)) {
    return [];
  }
  return value
    .filter((v): v is string => typeof v === 'string')
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

/** The server's settings from the `pinLint` configuration section. Values of the wrong type
 * (hand-edited settings.json) are left out, so the server falls back to its defaults rather
 * than rejecting the whole object. `online: null` leaves the choice to `pin-lint.toml`. */
export function readServerSettings(config: ConfigurationReader): ServerSettings {
  const settings: ServerSettings = {
    catalogs: stringList(config.get<unknown>('catalogs')),
    insecureRegistries: stringList(config.get<unknown>('insecureRegistries')),
  };
  const online = config.get<unknown>('online');
  if (typeof online === 'boolean') {
    settings.online = online;
  }
  const logLevel = config.get<unknown>('logLevel');
  if (typeof logLevel === 'string' && logLevel.trim().length > 0) {
    settings.logLevel = logLevel.trim();
  }
  return settings;
}

/** The `initializationOptions` of the initialize request. */
export function initializationOptions(config: ConfigurationReader): { pinLint: ServerSettings } {
  return { pinLint: readServerSettings(config) };
}

/** The params of `workspace/didChangeConfiguration` after a setting changed. Never empty:
 * an empty object would make the server ask back with workspace/configuration. */
export function didChangeConfigurationParams(config: ConfigurationReader): { settings: { pinLint: ServerSettings } } {
  return { settings: initializationOptions(config) };
}

/** The answer to `workspace/configuration` items: our shape for the `pinLint` section, null
 * for anything else (the server asks only for `pinLint`). */
export function configurationResponse(
  items: readonly { section?: string }[],
  config: ConfigurationReader,
): (ServerSettings | null)[] {
  return items.map((item) => (item.section === SECTION ? readServerSettings(config) : null));
}

/** What a configuration change asks of the extension. */
export type ChangeAction = 'restart' | 'forward' | 'none';

/** `restart` when the server executable may have changed, `forward` when only the server's
 * settings did, `none` otherwise (tracing is applied by the client library itself). */
export function actionFor(change: ConfigurationChange): ChangeAction {
  if (RESTART_KEYS.some((k) => change.affectsConfiguration(`${SECTION}.${k}`))) {
    return 'restart';
  }
  if (FORWARDED_KEYS.some((k) => change.affectsConfiguration(`${SECTION}.${k}`))) {
    return 'forward';
  }
  return 'none';
}
