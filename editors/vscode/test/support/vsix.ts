// Reading the packaged .vsix (a zip) the way VS Code installs it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as yauzl from 'yauzl';
import { extensionDir, manifest } from './paths';

/** One file of the package. */
export interface VsixEntry {
  readonly name: string;
  readonly size: number;
  /** Unix mode from the entry's external attributes (0 when the zip has none). */
  readonly mode: number;
}

/** The package `npm run package` writes for this machine; a clear error when it is missing. */
export function packagedVsix(): string {
  const m = manifest();
  const arch = process.arch === 'arm' ? 'armhf' : process.arch;
  const file = path.join(extensionDir, `${m.name}-${process.platform}-${arch}-${m.version}.vsix`);
  if (!fs.existsSync(file)) {
    throw new Error(`${file} is missing: run \`npm run package\` in ${extensionDir} first (or \`npm run test:package\`)`);
  }
  return file;
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: false }, (err, zip) => (err ? reject(err) : resolve(zip)));
  });
}

async function forEachEntry(file: string, each: (zip: yauzl.ZipFile, entry: yauzl.Entry) => Promise<void>): Promise<void> {
  const zip = await openZip(file);
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('entry', (entry: yauzl.Entry) => {
        each(zip, entry).then(() => zip.readEntry(), reject);
      });
      zip.on('end', resolve);
      zip.on('error', reject);
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
}

function modeOf(entry: yauzl.Entry): number {
  return (entry.externalFileAttributes >>> 16) & 0o7777;
}

/** Every file in the package. */
export async function listVsix(file: string): Promise<VsixEntry[]> {
  const entries: VsixEntry[] = [];
  await forEachEntry(file, async (_zip, entry) => {
    entries.push({ name: entry.fileName, size: entry.uncompressedSize, mode: modeOf(entry) });
  });
  return entries;
}

/** Unpack the package into `dir` as VS Code's installer does, with each file's mode from the
 * zip (VS Code defaults to 0644 when an entry has none). Returns the installed extension's
 * folder (`dir/extension`). */
export async function extractVsix(file: string, dir: string): Promise<string> {
  const root = path.resolve(dir);
  await forEachEntry(file, async (zip, entry) => {
    const target = path.resolve(root, entry.fileName);
    if (!target.startsWith(root + path.sep)) {
      throw new Error(`entry outside the package folder: ${entry.fileName}`);
    }
    if (entry.fileName.endsWith('/')) {
      fs.mkdirSync(target, { recursive: true });
      return;
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
      zip.openReadStream(entry, (err, s) => (err ? reject(err) : resolve(s))),
    );
    await pipeline(stream, fs.createWriteStream(target, { mode: modeOf(entry) || 0o644 }));
    fs.chmodSync(target, modeOf(entry) || 0o644);
  });
  return path.join(root, 'extension');
}
