// Where things are, from the compiled tests in out/test/…: the extension, the repository and
// the shared corpus.
import * as fs from 'node:fs';
import * as path from 'node:path';

function findExtensionDir(): string {
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'pin-lint') {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(`no pin-lint package.json above ${__dirname}`);
    }
    dir = parent;
  }
}

/** editors/vscode */
export const extensionDir = findExtensionDir();

/** The repository root. */
export const repoRoot = path.resolve(extensionDir, '..', '..');

/** The shared data folder (corpus/, oracle/): PIN_LINT_SHARED, else ../shared beside the repository. */
export function sharedDir(): string {
  const dir = process.env.PIN_LINT_SHARED ? path.resolve(process.env.PIN_LINT_SHARED) : path.resolve(repoRoot, '..', 'shared');
  for (const part of ['corpus', 'oracle']) {
    if (!fs.existsSync(path.join(dir, part))) {
      throw new Error(
        `the shared data folder ${dir} has no ${part}/: set PIN_LINT_SHARED to the folder that holds corpus/ and oracle/`,
      );
    }
  }
  return dir;
}

/** The extension's package.json. */
export function manifest(): any {
  return JSON.parse(fs.readFileSync(path.join(extensionDir, 'package.json'), 'utf8'));
}
