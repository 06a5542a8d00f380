// Stand-ins for the two vscode objects the settings code reads, with VS Code's semantics: a
// configuration that answers the defaults contributed in package.json unless a value is set,
// and a change event that matches sections the way ConfigurationChangeEvent does.
import type { ConfigurationChange, ConfigurationReader } from '../../src/settings';
import { manifest } from './paths';

/** `vscode.workspace.getConfiguration('pinLint')` with the manifest's defaults and `values` set. */
export class FakeConfiguration implements ConfigurationReader {
  private readonly defaults: Record<string, unknown> = {};

  constructor(private readonly values: Record<string, unknown> = {}) {
    const properties = manifest().contributes.configuration.properties as Record<string, { default?: unknown }>;
    for (const [key, schema] of Object.entries(properties)) {
      this.defaults[key.replace(/^pinLint\./, '')] = schema.default;
    }
  }

  get<T>(key: string): T | undefined {
    if (Object.prototype.hasOwnProperty.call(this.values, key)) {
      return this.values[key] as T;
    }
    return this.defaults[key] as T | undefined;
  }
}

/** A `vscode.ConfigurationChangeEvent` for settings whose full keys (`pinLint.online`) changed:
 * like VS Code, a section is affected when it is one of them or contains one. */
export class FakeChange implements ConfigurationChange {
  constructor(private readonly changed: readonly string[]) {}

  affectsConfiguration(section: string): boolean {
    return this.changed.some((k) => k === section || k.startsWith(`${section}.`));
  }
}
