// The packaged extension in a real VS Code: the freshly packaged .vsix installed into
// code-server (VS Code's workbench served on loopback), a workspace of corpus files with a
// pin-lint.toml naming a digest catalog, and headless Chromium driven by playwright-core doing
// what a user does: the Problems panel (compared with `pin-lint check --format json` on the same
// files), the hover on a reference, the "Pin to sha256:…" quick fix and "Pin all images in file"
// (compared with the oracle's pinned files), the problems of a Bicep file, a Dockerfile and a
// devcontainer.json (compared with `pin-lint check` again), and the hover on a template use
// site (compared with `pin-lint refs --expand`). Pictures of each step are written to the output folder
// (PIN_LINT_E2E_OUTPUT, default test/e2e/output); `scripts/screenshot` copies the quick fix one
// into the README.
import * as assert from 'node:assert/strict';
import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { manifest, repoRoot, sharedDir } from '../support/paths';
import { packagedVsix } from '../support/vsix';
import { CodeServer, e2eDir, launchBrowser, Profile, quickInput, until } from './codeServer';

/** The corpus file of the test, at the same path in the workspace: 26 unpinned
 * `resources.containers` images, and one of the oracle's pinned files. */
const CORPUS_FILE = 'dotnet-runtime/eng/pipelines/common/templates/pipeline-with-resources.yml';
const FILE_NAME = path.basename(CORPUS_FILE);
/** A corpus repository whose templates hand a container image down five files: the job
 * template's `container: ${{ parameters.container }}` is the use site. */
const TEMPLATE_REPO = 'dotnet-arcade';
const USE_SITE_FILE = 'dotnet-arcade/eng/common/core-templates/job/job.yml';
const USE_SITE_TEXT = 'container: ${{ parameters.container }}';
/** A Bicep agent pool with a VM image on `latest` (the repository's example: the corpus has no
 * Bicep), at this path in the workspace. */
const BICEP_FILE = 'infra/agent-pool.bicep';
/** A Dockerfile of the container-file corpus (`corpus-images`), at the same path in the
 * workspace: two unpinned `ARG` defaults used by `FROM $…`. */
const DOCKERFILE = 'dotnet-runtime/eng/docker/libraries-sdk.linux.Dockerfile';
/** A dev container definition of the container-file corpus (JSONC, which VS Code opens as
 * `jsonc`), at the same path in the workspace: an unpinned image and two OCI features. */
const DEVCONTAINER = 'dotnet-dotnet-docker/.devcontainer/devcontainer.json';
/** The whole test fails with a clear message past this, whatever it waits for. */
const HANG_GUARD_MS = 300_000;
/** The first diagnostics wait for the workbench, the extension host, activation and the server. */
const FIRST_DIAGNOSTICS_MS = 120_000;
const STEP_MS = 30_000;

/** One finding of `pin-lint check --format json`. */
interface CliFinding {
  rule: string;
  path: string;
  line: number;
  column: number;
  reference: string;
  fix: null | { title: string; edits: { line: number; column: number; new_text: string }[] };
}

/** One row of the Problems panel. */
interface ProblemRow {
  index: number;
  code: string;
  source: string;
  message: string;
  line: number;
  column: number;
}

/** What the test writes to its output folder (and removes from it first). */
const OUTPUTS = ['code-server.log', 'problems.png', 'hover.png', 'quickfix.png', 'template-hover.png', 'failure.png'];
const outputDir = path.resolve(process.env.PIN_LINT_E2E_OUTPUT ?? path.join(e2eDir, 'output'));
let tmp: string;
let workspace: string;
let server: CodeServer | undefined;
let browser: Browser | undefined;
let page: Page | undefined;
let step = 'starting';

/** pin-lint next to the server being packaged, else the release build of this repository. */
function pinLintBinary(): string {
  const exe = process.platform === 'win32' ? 'pin-lint.exe' : 'pin-lint';
  const candidates = process.env.PIN_LINT_BINARY
    ? [process.env.PIN_LINT_BINARY]
    : [
        ...(process.env.PIN_LSP_BINARY ? [path.join(path.dirname(process.env.PIN_LSP_BINARY), exe)] : []),
        path.join(process.env.CARGO_TARGET_DIR ?? path.join(repoRoot, 'target'), 'release', exe),
      ];
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) {
    throw new Error(`no pin-lint at ${candidates.join(' or ')}: run \`cargo build --release -p pin-lint\` or set PIN_LINT_BINARY`);
  }
  return found;
}

/** `pin-lint check --format json` in the workspace, as CI would run it on the same files. */
function cliFindings(rel: string): CliFinding[] {
  const run = cp.spawnSync(pinLintBinary(), ['check', '--format', 'json', rel], { cwd: workspace, encoding: 'utf8' });
  if (run.status !== 0 && run.status !== 1) {
    throw new Error(`pin-lint check failed (${run.status}): ${run.stderr}`);
  }
  return (JSON.parse(run.stdout).findings as CliFinding[]).filter((f) => f.path === rel);
}

function splitLines(text: string): string[] {
  return text.split(/(?<=\n)/);
}

/** Runs one labelled step of the test; a failure names the step and leaves a picture of the
 * workbench as it was. */
async function inStep<T>(name: string, work: () => Promise<T>): Promise<T> {
  step = name;
  try {
    return await work();
  } catch (e) {
    if (page) {
      await page.screenshot({ path: path.join(outputDir, 'failure.png') }).catch(() => {});
    }
    const log = server ? `\ncode-server log: ${server.logFile}` : '';
    throw new Error(`step "${name}" failed: ${(e as Error).message}${log}\npicture: ${path.join(outputDir, 'failure.png')}`);
  }
}

/** The file rows of the Problems panel (one per file with problems) whose label is `rel`. */
function fileRow(p: Page, rel: string) {
  const exact = (text: string) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  return p
    .locator('.markers-panel .monaco-list-rows > .monaco-list-row[aria-level="1"]')
    .filter({ has: p.locator('.label-name', { hasText: exact(path.basename(rel)) }) })
    .filter({ has: p.locator('.label-description', { hasText: exact(path.dirname(rel)) }) });
}

/** The number on the file row's badge, which counts its problems (the rows below it are
 * virtualised: only those on screen exist). */
async function badgeOf(p: Page, rel: string): Promise<number | undefined> {
  const badge = fileRow(p, rel).locator('.monaco-count-badge');
  if ((await badge.count()) === 0) return undefined;
  return Number(await badge.first().textContent());
}

interface RenderedRow extends ProblemRow {
  level: number;
  file: string;
  last: boolean;
}

/** The problem rows under the file row of `rel`. The list is virtualised, so it is scrolled
 * through to its last row, collecting the rows on screen by their index, and back. */
async function problemRows(p: Page, rel: string): Promise<ProblemRow[]> {
  const seen = new Map<number, RenderedRow>();
  const list = p.locator('.markers-panel .monaco-list');
  const box = await list.boundingBox();
  assert.ok(box, 'the Problems list is on screen');
  await p.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  for (let round = 0; round < 200 && ![...seen.values()].some((r) => r.last); round++) {
    const rows: RenderedRow[] = await p.$$eval('.markers-panel .monaco-list-rows > .monaco-list-row', (els) =>
      els.map((el) => {
        const text = (sel: string) => el.querySelector(sel)?.textContent?.trim() ?? '';
        const where = /Ln (\d+), Col (\d+)/.exec(text('.marker-line')) ?? ['', '0', '0'];
        const dir = text('.label-description');
        return {
          index: Number(el.getAttribute('data-index')),
          level: Number(el.getAttribute('aria-level')),
          last: el.getAttribute('data-last-element') === 'true',
          file: dir ? `${dir}/${text('.label-name')}` : text('.label-name'),
          code: text('.marker-code'),
          source: text('.marker-source'),
          message: text('.marker-message'),
          line: Number(where[1]),
          column: Number(where[2]),
        };
      }),
    );
    for (const row of rows) seen.set(row.index, row);
    if (rows.some((r) => r.last)) break;
    const last = Math.max(...rows.map((r) => r.index));
    await p.mouse.wheel(0, box.height / 2);
    await p
      .waitForFunction(
        (n) => [...document.querySelectorAll('.markers-panel .monaco-list-rows > .monaco-list-row')].some((el) => Number(el.getAttribute('data-index')) > n),
        last,
        { timeout: 5_000 },
      )
      .catch(() => {});
  }
  // Back to the top, where the file rows (and their badges) are rendered again; the pointer goes
  // to an empty spot of the title bar, so that no tooltip covers the pictures.
  for (let round = 0; round < 200; round++) {
    if ((await p.locator('.markers-panel .monaco-list-rows > .monaco-list-row[data-index="0"]').count()) > 0) break;
    await p.mouse.wheel(0, -box.height);
    await p
      .waitForSelector('.markers-panel .monaco-list-rows > .monaco-list-row[data-index="0"]', { timeout: 1_000 })
      .catch(() => {});
  }
  await p.mouse.move(p.viewportSize()!.width - 150, 16);
  const mine: ProblemRow[] = [];
  let file = '';
  for (const row of [...seen.values()].sort((a, b) => a.index - b.index)) {
    if (row.level === 1) file = row.file;
    else if (file === rel) mine.push(row);
  }
  return mine;
}

/** Opens `rel`, waits for its problems and checks they are those of `pin-lint check --format
 * json` on the same file: as many, with the same rule ids, lines and columns, from pin-lint. */
async function problemsMatchCli(p: Page, rel: string, timeoutMs: number): Promise<CliFinding[]> {
  const expected = cliFindings(rel);
  assert.ok(expected.length > 0, `pin-lint finds problems in ${rel}`);
  await p.keyboard.press('Control+Shift+M');
  await p.locator('.markers-panel').waitFor();
  let last: number | undefined;
  await until(
    `the Problems panel's badge for ${rel} shows ${expected.length}`,
    timeoutMs,
    async () => ((last = await badgeOf(p, rel)) === expected.length ? true : undefined),
    () => `badge: ${last ?? 'none'}`,
  );
  const rows = await problemRows(p, rel);
  assert.equal(rows.length, expected.length, `one Problems row per finding of pin-lint check in ${rel}`);
  const key = (line: number, column: number, rule: string) => `${line}:${column} ${rule}`;
  assert.deepEqual(
    rows.map((r) => key(r.line, r.column, r.code)).sort(),
    expected.map((f) => key(f.line, f.column, f.rule)).sort(),
    `the Problems rows of ${rel} are the findings of pin-lint check: same rule ids, lines and columns`,
  );
  for (const row of rows) {
    assert.equal(row.source, 'pin-lint', `source of the problem at ${row.line}:${row.column}`);
  }
  assert.ok(
    rows.every((r) => expected.some((f) => r.message.includes(f.reference))),
    'each message names its reference',
  );
  console.log(`Problems panel, ${rel}: ${rows.length} rows (${[...new Set(rows.map((r) => r.code))].join(', ')}) = pin-lint check --format json`);
  return expected;
}

/** Saves the active editor once an edit made it dirty, and returns the file's bytes. */
async function saveAndRead(p: Page, file: string): Promise<string> {
  const tab = `.tabs-container .tab[data-resource-name="${path.basename(file)}"]`;
  await p.locator(`${tab}.dirty`).waitFor({ timeout: STEP_MS });
  await p.keyboard.press('Control+S');
  await p.locator(`${tab}:not(.dirty)`).waitFor({ timeout: STEP_MS });
  return fs.readFileSync(file, 'utf8');
}

/** Opens a file of the workspace with quick open (Ctrl+P), choosing the row of that folder. */
async function openFile(p: Page, rel: string): Promise<void> {
  const name = path.basename(rel);
  await p.keyboard.press('Control+P');
  await quickInput(p, rel);
  const row = p.locator(`.quick-input-list .monaco-list-row[aria-label*="${name}"][aria-label*="${path.dirname(rel)}"]`);
  await row.first().waitFor();
  const focused = p.locator('.quick-input-list .monaco-list-row.focused').and(row);
  for (let i = 0; i < 10 && (await focused.count()) === 0; i++) {
    await p.keyboard.press('ArrowDown');
  }
  await focused.waitFor();
  await p.keyboard.press('Enter');
  await p.locator(`.tabs-container .tab.active[data-resource-name="${name}"]`).waitFor();
  await p.locator('.breadcrumbs-control', { hasText: path.basename(path.dirname(rel)) }).first().waitFor();
  await p.locator('.monaco-editor .view-lines').first().waitFor();
}

async function goTo(p: Page, line: number, column: number): Promise<void> {
  await p.keyboard.press('Control+G');
  await quickInput(p, `:${line}:${column}`);
  await p.keyboard.press('Enter');
  await p.locator('.statusbar-item', { hasText: `Ln ${line}, Col ${column}` }).first().waitFor({ timeout: STEP_MS });
}

before(async () => {
  fs.mkdirSync(outputDir, { recursive: true });
  for (const old of OUTPUTS) fs.rmSync(path.join(outputDir, old), { force: true });
  const shared = sharedDir();
  const source = path.join(shared, 'corpus', CORPUS_FILE);
  assert.ok(fs.existsSync(source), `corpus file missing: ${source} (set PIN_LINT_SHARED)`);
  assert.ok(fs.existsSync(path.join(shared, 'corpus', USE_SITE_FILE)), `corpus file missing: ${USE_SITE_FILE} (set PIN_LINT_SHARED)`);

  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pin-lint-vscode-e2e-'));
  workspace = path.join(tmp, 'workspace');
  fs.mkdirSync(path.join(workspace, path.dirname(CORPUS_FILE)), { recursive: true });
  fs.copyFileSync(source, path.join(workspace, CORPUS_FILE));
  fs.cpSync(path.join(shared, 'corpus', TEMPLATE_REPO), path.join(workspace, TEMPLATE_REPO), { recursive: true });
  for (const rel of [DOCKERFILE, DEVCONTAINER]) {
    const from = path.join(shared, 'corpus-images', rel);
    assert.ok(fs.existsSync(from), `corpus file missing: ${from} (set PIN_LINT_SHARED)`);
    fs.mkdirSync(path.join(workspace, path.dirname(rel)), { recursive: true });
    fs.copyFileSync(from, path.join(workspace, rel));
  }
  fs.mkdirSync(path.join(workspace, path.dirname(BICEP_FILE)), { recursive: true });
  fs.copyFileSync(path.join(repoRoot, 'examples', 'repo', BICEP_FILE), path.join(workspace, BICEP_FILE));
  fs.copyFileSync(path.join(shared, 'oracle', 'fake-digests.tsv'), path.join(workspace, 'fake-digests.tsv'));
  fs.writeFileSync(path.join(workspace, 'pin-lint.toml'), 'catalogs = ["fake-digests.tsv"]\n');
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('the packaged extension in VS Code: problems, hovers, quick fix and Pin all', { timeout: HANG_GUARD_MS + 10_000 }, async () => {
  let guard: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    guard = setTimeout(
      () => reject(new Error(`the VS Code end-to-end test hung for ${HANG_GUARD_MS / 1000} s in step "${step}"; output: ${outputDir}`)),
      HANG_GUARD_MS,
    );
  });
  const started = Date.now();
  try {
    await Promise.race([hang, run()]);
  } finally {
    clearTimeout(guard);
    console.log(`VS Code end-to-end test: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
});

async function run(): Promise<void> {
  const shared = sharedDir();
  const file = path.join(workspace, CORPUS_FILE);
  const original = fs.readFileSync(file, 'utf8');
  const fixed = fs.readFileSync(path.join(shared, 'oracle', 'expected-fixed', CORPUS_FILE.replaceAll('/', '__')), 'utf8');
  const expected = cliFindings(CORPUS_FILE);
  assert.ok(expected.length > 0, 'pin-lint finds problems in the corpus file');
  const first = [...expected].sort((a, b) => a.line - b.line || a.column - b.column)[0];
  assert.ok(first.fix, `pin-lint offers a fix for ${first.reference}`);
  const digest = first.fix.edits[0].new_text.replace(/^@/, '');

  const m = manifest();
  const profile = new Profile(path.join(tmp, 'profile'));
  const installed = await inStep('install the .vsix into code-server', async () => {
    const dir = profile.installExtension(packagedVsix(), `${m.publisher}.${m.name}`);
    const bundled = path.join(dir, 'server', `${process.platform}-${process.arch}`, 'pin-lsp');
    assert.ok(fs.statSync(bundled).mode & 0o100, `${bundled} is executable after installation`);
    return dir;
  });
  console.log(`installed ${path.basename(installed)}`);

  server = await inStep('start code-server', () => profile.serve(workspace, path.join(outputDir, 'code-server.log'), 60_000));
  browser = await inStep('start Chromium', () => launchBrowser());
  const p = (page = await browser.newPage({ viewport: { width: 1280, height: 760 }, colorScheme: 'light' }));
  p.setDefaultTimeout(STEP_MS);

  await inStep('open the workbench', async () => {
    await p.goto(server!.url(workspace));
    await p.locator('.monaco-workbench .explorer-folders-view').waitFor({ timeout: 90_000 });
    // Room for the editor: the side bar off.
    await p.keyboard.press('Control+B');
    await p.locator('.monaco-workbench .part.sidebar').waitFor({ state: 'hidden' });
  });

  await inStep(`open ${FILE_NAME} with Ctrl+P`, () => openFile(p, CORPUS_FILE));

  // 1. The Problems panel: pin-lint's findings, the same number at the same places as the CLI's.
  await inStep('the Problems panel lists the findings of pin-lint check', async () => {
    await problemsMatchCli(p, CORPUS_FILE, FIRST_DIAGNOSTICS_MS);
    await p.screenshot({ path: path.join(outputDir, 'problems.png') });
  });

  // 3. The hover on a reference: the digest the catalog resolves it to.
  await inStep(`hover on ${first.reference}`, async () => {
    await p.locator('.monaco-editor textarea').first().focus();
    await goTo(p, first.line, first.column);
    await p.keyboard.press('Control+K');
    await p.keyboard.press('Control+I');
    const hover = p.locator('.monaco-hover:visible', { hasText: digest });
    await hover.waitFor();
    const text = (await hover.innerText()).replace(/\s+/g, ' ');
    await p.screenshot({ path: path.join(outputDir, 'hover.png') });
    assert.match(text, new RegExp(`current digest: ${digest}, from catalog fake-digests\\.tsv`));
    assert.match(text, /pinned digest: none/);
    assert.ok(text.includes(first.reference), text);
    await p.keyboard.press('Escape');
    await hover.waitFor({ state: 'hidden' });
  });

  // 2. The quick fix on that reference (Ctrl+.), and the picture of its menu.
  await inStep(`quick fix "${first.fix!.title}"`, async () => {
    await p.keyboard.press('Control+.');
    const action = p.locator(`.action-widget .monaco-list-row.action[aria-label="${first.fix!.title}"]`);
    await action.waitFor();
    await p.screenshot({ path: path.join(outputDir, 'quickfix.png') });
    // As with the keyboard: move to the action, then Enter.
    const focused = p.locator(`.action-widget .monaco-list-row.action.focused[aria-label="${first.fix!.title}"]`);
    for (let i = 0; i < 10 && (await focused.count()) === 0; i++) {
      await p.keyboard.press('ArrowDown');
    }
    await focused.waitFor();
    await p.keyboard.press('Enter');
    const after = splitLines(await saveAndRead(p, file));
    const want = splitLines(original);
    want[first.line - 1] = splitLines(fixed)[first.line - 1];
    assert.ok(want[first.line - 1].includes(`${first.reference}@${digest}`), 'the oracle pins that line');
    assert.deepEqual(after, want, 'the quick fix pins that one line as the oracle does, and nothing else');
    await until(`the badge drops to ${expected.length - 1}`, STEP_MS, async () => ((await badgeOf(p, CORPUS_FILE)) === expected.length - 1 ? true : undefined));
  });

  await inStep('command "pin-lint: Pin all images in file"', async () => {
    await p.keyboard.press('F1');
    await quickInput(p, '>pin-lint: Pin all images in file');
    await p.locator('.quick-input-list .monaco-list-row[aria-label*="pin-lint: Pin all images in file"]').first().waitFor();
    await p.keyboard.press('Enter');
    await p.locator('.notification-toast', { hasText: `pin-lint: pinned ${expected.length - 1} images in ${FILE_NAME}.` }).waitFor();
    const saved = await saveAndRead(p, file);
    assert.ok(saved === fixed, `after Pin all and save, ${FILE_NAME} is the oracle's expected-fixed file byte for byte`);
    await p.locator('.markers-panel .message-box-container', { hasText: 'No problems have been detected' }).waitFor();
  });

  // Bicep files are given to the server too: their VM image problems show.
  await inStep(`the Problems panel lists the findings of pin-lint check in ${BICEP_FILE}`, async () => {
    await openFile(p, BICEP_FILE);
    await problemsMatchCli(p, BICEP_FILE, STEP_MS);
  });

  // Dockerfiles too.
  await inStep(`the Problems panel lists the findings of pin-lint check in ${DOCKERFILE}`, async () => {
    await openFile(p, DOCKERFILE);
    await problemsMatchCli(p, DOCKERFILE, STEP_MS);
  });

  // And dev container definitions: the extension hands this JSONC file to the server by name.
  await inStep(`the Problems panel lists the findings of pin-lint check in ${DEVCONTAINER}`, async () => {
    await openFile(p, DEVCONTAINER);
    const language = await p.locator('.statusbar-item[id="status.editor.mode"]').first().innerText();
    console.log(`${DEVCONTAINER} opened with language mode ${language.trim()}`);
    await problemsMatchCli(p, DEVCONTAINER, STEP_MS);
  });

  // 3. The hover on a template use site: the images that reach it and the chain of templates
  // they come through, as `pin-lint refs --expand` reports them.
  const reaching = imagesReaching(USE_SITE_FILE);
  assert.ok(reaching.length > 0, `pin-lint refs --expand finds images reaching ${USE_SITE_FILE}`);
  const catalog = catalogDigests(path.join(workspace, 'fake-digests.tsv'));
  await inStep(`hover on \`${USE_SITE_TEXT}\` in ${USE_SITE_FILE}`, async () => {
    await openFile(p, USE_SITE_FILE);
    const lines = fs.readFileSync(path.join(workspace, USE_SITE_FILE), 'utf8').split('\n');
    const line = lines.findIndex((l) => l.includes(USE_SITE_TEXT));
    assert.ok(line >= 0, `${USE_SITE_TEXT} in ${USE_SITE_FILE}`);
    const column = lines[line].indexOf('${{') + 1;
    await p.locator('.monaco-editor textarea').first().focus();
    await goTo(p, line + 1, column);
    await p.keyboard.press('Control+K');
    await p.keyboard.press('Control+I');
    const n = reaching.length;
    const hover = p.locator('.monaco-hover:visible', { hasText: 'through templates' });
    await hover.waitFor();
    const text = (await hover.innerText()).replace(/\s+/g, ' ');
    await p.screenshot({ path: path.join(outputDir, 'template-hover.png') });
    assert.ok(text.includes(`reaches this job container through templates (${n} image${n === 1 ? '' : 's'})`), text);
    for (const r of reaching) {
      assert.ok(text.includes(`${r.image}: not pinned; the tag points to ${catalog.get(r.image)}`), `${r.image} and its digest in: ${text}`);
      assert.ok(text.includes(`via ${r.via.join(' → ')}`), `the template chain ${r.via.join(' → ')} in: ${text}`);
    }
    console.log(`template hover: ${n} image(s) through ${reaching[0].via.length} files = pin-lint refs --expand`);
  });
}

/** The images `pin-lint refs --expand` sees reaching a template file, with their chains. */
function imagesReaching(rel: string): { image: string; via: string[] }[] {
  const run = cp.spawnSync(pinLintBinary(), ['refs', '--expand', '--format', 'json', rel.split('/')[0]], { cwd: workspace, encoding: 'utf8' });
  if (run.status !== 0) {
    throw new Error(`pin-lint refs --expand failed (${run.status}): ${run.stderr}`);
  }
  const seen = new Map<string, { image: string; via: string[] }>();
  for (const entry of JSON.parse(run.stdout).expanded as { jobs: { images: { image: string; via: string[] }[] }[] }[]) {
    for (const job of entry.jobs) {
      for (const i of job.images) {
        if (i.via[i.via.length - 1] === rel) seen.set(`${i.image} ${i.via.join(' ')}`, { image: i.image, via: i.via });
      }
    }
  }
  return [...seen.values()];
}

/** `reference<TAB>digest` rows of a TSV catalog. */
function catalogDigests(file: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const [reference, digest] = line.split('\t');
    if (!line.startsWith('#') && digest) map.set(reference, digest.trim());
  }
  return map;
}
