#!/usr/bin/env node
// Puts a pin-lsp for the host platform at server/<platform>-<arch>/pin-lsp[.exe], where the
// extension looks for its bundled server.
//
//   PIN_LSP_BINARY=/path/to/pin-lsp   use that executable as it is (no build)
//   otherwise                          `cargo build --release -p pin-lsp` in the repository
//                                      (a no-op when target/ is up to date; honours
//                                      CARGO_TARGET_DIR), then the executable cargo reports
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const extensionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(extensionDir, '..', '..');
const exe = process.platform === 'win32' ? 'pin-lsp.exe' : 'pin-lsp';

function fail(message) {
  console.error(`bundle-server: ${message}`);
  process.exit(1);
}

function built() {
  const cargo = process.env.CARGO ?? 'cargo';
  console.log(`bundle-server: ${cargo} build --release -p pin-lsp (in ${repoRoot})`);
  const run = spawnSync(cargo, ['build', '--release', '-p', 'pin-lsp', '--message-format=json-render-diagnostics'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (run.error) {
    fail(`cannot run ${cargo}: ${run.error.message} (install Rust, or set PIN_LSP_BINARY to a built pin-lsp)`);
  }
  if (run.status !== 0) {
    fail(`cargo build failed with exit code ${run.status}`);
  }
  let executable;
  for (const line of run.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const msg = JSON.parse(line);
    if (msg.reason === 'compiler-artifact' && msg.target?.name === 'pin-lsp' && msg.executable) {
      executable = msg.executable;
    }
  }
  if (!executable) {
    fail('cargo reported no pin-lsp executable');
  }
  return executable;
}

const source = process.env.PIN_LSP_BINARY ? path.resolve(process.env.PIN_LSP_BINARY) : built();
if (!fs.existsSync(source) || !fs.statSync(source).isFile()) {
  fail(`${source} is not a file`);
}

// Only the host's server: a package carries exactly one platform (vsce --target).
const serverRoot = path.join(extensionDir, 'server');
fs.rmSync(serverRoot, { recursive: true, force: true });
const targetDir = path.join(serverRoot, `${process.platform}-${process.arch}`);
fs.mkdirSync(targetDir, { recursive: true });
const target = path.join(targetDir, exe);
fs.copyFileSync(source, target);
fs.chmodSync(target, 0o755);

// The release profile keeps line tables for backtraces; the package drops them (about three
// quarters of the size) but keeps the symbols, so a panic still names its functions.
if (process.platform !== 'win32') {
  const args = process.platform === 'darwin' ? ['-S', target] : ['--strip-debug', target];
  const strip = spawnSync('strip', args, { stdio: 'inherit' });
  if (strip.error || strip.status !== 0) {
    console.warn(`bundle-server: strip failed (${strip.error?.message ?? strip.status}); packaging the unstripped binary`);
  }
}

const version = spawnSync(target, ['--version'], { encoding: 'utf8' });
if (version.status !== 0) {
  fail(`${target} --version failed: ${version.stderr || version.error?.message}`);
}
const size = (fs.statSync(target).size / (1024 * 1024)).toFixed(1);
console.log(`bundle-server: ${path.relative(extensionDir, target)} <- ${source} (${version.stdout.trim()}, ${size} MiB)`);
