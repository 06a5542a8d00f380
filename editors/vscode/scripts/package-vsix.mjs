#!/usr/bin/env node
// Packages the extension for the host platform with vsce, offline: the extension code is one
// esbuild bundle (vsce runs `vscode:prepublish`), so node_modules stays out of the package.
// Writes pin-lint-<platform>-<arch>-<version>.vsix next to package.json and prints its path.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const extensionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(fs.readFileSync(path.join(extensionDir, 'package.json'), 'utf8'));

// VS Code's platform-specific targets; Alpine (musl) cannot be told apart by process.platform.
const TARGETS = new Set(['win32-x64', 'win32-arm64', 'linux-x64', 'linux-arm64', 'linux-armhf', 'darwin-x64', 'darwin-arm64']);
const host = `${process.platform}-${process.arch === 'arm' ? 'armhf' : process.arch}`;
if (!TARGETS.has(host)) {
  console.error(`package-vsix: no VS Code target for ${host}`);
  process.exit(1);
}
const serverDir = path.join(extensionDir, 'server', `${process.platform}-${process.arch}`);
if (!fs.existsSync(serverDir)) {
  console.error(`package-vsix: ${path.relative(extensionDir, serverDir)} is missing; run scripts/bundle-server.mjs first`);
  process.exit(1);
}

const out = path.join(extensionDir, `${manifest.name}-${host}-${manifest.version}.vsix`);
const vsce = path.join(extensionDir, 'node_modules', '@vscode', 'vsce', 'vsce');
const run = spawnSync(
  process.execPath,
  [vsce, 'package', '--no-dependencies', '--no-rewrite-relative-links', '--target', host, '--out', out],
  { cwd: extensionDir, stdio: ['ignore', 'inherit', 'inherit'] },
);
if (run.status !== 0) {
  console.error(`package-vsix: vsce failed with exit code ${run.status ?? run.signal}`);
  process.exit(1);
}
console.log(`package-vsix: ${path.relative(extensionDir, out)}`);
