#!/usr/bin/env bash
# throughput: analysis throughput of the release `pin-lint` on one core, in MB/s of input.
#
# A shared corpus's files (read in place from $PIN_LINT_SHARED/$CORPUS, default
# ../shared/corpus: the pipeline YAML files; CORPUS=corpus-images: the container files, every
# file but SOURCES.md, or only its Dockerfiles with FILES=dockerfile) are copied into a
# temporary tree as many times as needed to reach each size
# (default 5, 10, 20 and 40 MB; 1 MB = 10^6 bytes). Each run is pinned to one core
# (`taskset -c 0`, RAYON_NUM_THREADS=1) and its output goes to /dev/null. Prints the fastest
# and median of ROUNDS runs per size, and how throughput at the largest size compares with the
# smallest (1.00 = linear scaling).
#
#   bench/throughput.sh                  # `pin-lint refs`
#   COMMAND=check bench/throughput.sh    # `pin-lint check` (adds the template layer and rules)
#   SIZES="20" ROUNDS=10 bench/throughput.sh
#   CORPUS=corpus-images SIZES=20 bench/throughput.sh                  # container files
#   CORPUS=corpus-images FILES=dockerfile SIZES=20 bench/throughput.sh # Dockerfiles only
#   COMMAND=ratios bench/throughput.sh   # refs, check and check --fix side by side (below)
#
# COMMAND=ratios runs, at the largest size only (default 20 MB), `refs --format json`,
# `check --format json` and `check --format json --fix --offline --catalog
# $PIN_LINT_SHARED/oracle/fake-digests.tsv` (on a fresh copy of the tree each round, copied
# outside the timing), each on one core (`taskset -c 0`, RAYON_NUM_THREADS=1) and on every
# core, and prints per run the median wall time, MB/s, CPU time (user + system) and max RSS
# (GNU time), then the ratios check/refs, fix/check and all cores/one core. Wall-clock
# ratios mean something only on an idle machine: the load average before and after is
# printed with them, and CPU time / wall time shows how many cores a run kept busy.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${PIN_LINT_SHARED:-$root/../shared}
corpus=$shared/${CORPUS:-corpus}
case ${FILES:-$([ "${CORPUS:-corpus}" = corpus ] && echo yaml || echo all)} in
  yaml) select=(\( -name '*.yml' -o -name '*.yaml' \)) ;;
  all) select=(! -name SOURCES.md) ;;
  dockerfile) select=(\( -iname Dockerfile -o -iname 'Dockerfile.*' -o -iname '*.Dockerfile'
    -o -iname Containerfile -o -iname 'Containerfile.*' -o -iname '*.Containerfile' \)
    ! -iname '*.dockerignore') ;;
  *) echo "FILES must be yaml, all or dockerfile" >&2; exit 2 ;;
esac
command=${COMMAND:-refs}
if [ "$command" = ratios ]; then
  sizes=${SIZES:-20}
  rounds=${ROUNDS:-3}
else
  sizes=${SIZES:-5 10 20 40}
  rounds=${ROUNDS:-5}
fi
[ -d "$corpus" ] || { echo "shared corpus not found at $corpus; set PIN_LINT_SHARED" >&2; exit 2; }
command -v taskset >/dev/null || { echo "taskset is needed: apt-get install -y util-linux" >&2; exit 2; }

cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p pin-lint
bin=$root/target/release/pin-lint

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/one"
(cd "$corpus" && find . -type f "${select[@]}" -print0) |
  while IFS= read -r -d '' f; do
    mkdir -p "$tmp/one/$(dirname "$f")"
    cp "$corpus/$f" "$tmp/one/$f"
  done
copy_bytes=$(find "$tmp/one" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
copy_files=$(find "$tmp/one" -type f | wc -l)

largest=0
for s in $sizes; do [ "$s" -gt "$largest" ] && largest=$s; done
copies_needed() { echo $(( ($1 * 1000000 + copy_bytes - 1) / copy_bytes )); }
max_copies=$(copies_needed "$largest")
for i in $(seq 1 "$max_copies"); do cp -r "$tmp/one" "$tmp/copy$i"; done

if [ "$command" = ratios ]; then
  [ -x /usr/bin/time ] || { echo "GNU time is needed: apt-get install -y time" >&2; exit 2; }
  catalog=$shared/oracle/fake-digests.tsv
  [ -f "$catalog" ] || { echo "fake catalog not found at $catalog" >&2; exit 2; }
  n=$(copies_needed "$largest")
  paths=()
  for i in $(seq 1 "$n"); do paths+=("copy$i"); done
  bytes=$((n * copy_bytes))
  cores=$(nproc)
  echo "$(basename "$corpus"): $n copies, $((n * copy_files)) files, $bytes bytes; $rounds rounds per run; $cores cores"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  printf '%-8s %-6s %10s %8s %10s %10s\n' run cores "wall (med)" "MB/s" "CPU (med)" "max RSS"
  declare -A wall
  # measure NAME CORES ARGS…: median wall time, CPU time and max RSS of ROUNDS runs.
  measure() {
    local name=$1 on=$2
    shift 2
    local pin=() threads=$cores
    [ "$on" = 1 ] && pin=(taskset -c 0) && threads=1
    : >"$tmp/times"
    for _ in $(seq 1 "$rounds"); do
      local dir=$tmp
      if [ "$name" = fix ]; then
        rm -rf "$tmp/fix" && mkdir "$tmp/fix" && cp -r "${paths[@]/#/$tmp/}" "$tmp/fix/"
        chmod -R u+w "$tmp/fix" # the corpus may be read-only; --fix writes
        dir=$tmp/fix
      fi
      (cd "$dir" && RAYON_NUM_THREADS=$threads /usr/bin/time -f '%e %U %S %M' -o "$tmp/t" \
        "${pin[@]}" "$bin" "$@" "${paths[@]}" >/dev/null 2>"$tmp/err") || [ $? -eq 1 ] ||
        { echo "pin-lint $* failed:" >&2; cat "$tmp/err" >&2; exit 1; }
      tail -1 "$tmp/t" >>"$tmp/times"
    done
    local med
    med=$(sort -g "$tmp/times" | awk -v r="$rounds" 'NR == int(r / 2) + 1')
    wall[$name.$on]=$(echo "$med" | cut -d' ' -f1)
    # shellcheck disable=SC2086
    set -- $med
    printf '%-8s %-6s %8.3f s %8.1f %8.3f s %6.1f MiB\n' "$name" "$on" "$1" \
      "$(awk -v b="$bytes" -v t="$1" 'BEGIN {print b / 1000000 / t}')" \
      "$(awk -v u="$2" -v s="$3" 'BEGIN {print u + s}')" "$(awk -v k="$4" 'BEGIN {print k / 1024}')"
  }
  for on in 1 "$cores"; do
    measure refs "$on" refs --format json
    measure check "$on" check --format json
    measure fix "$on" check --format json --fix --offline --catalog "$catalog"
  done
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
  echo "check / refs (wall, one core): $(ratio "${wall[check.1]}" "${wall[refs.1]}")"
  echo "fix / check (wall, one core): $(ratio "${wall[fix.1]}" "${wall[check.1]}")"
  for name in refs check fix; do
    echo "$name: $cores cores / one core (throughput): $(ratio "${wall[$name.1]}" "${wall[$name.$cores]}")"
  done
  exit 0
fi

now() { date +%s.%N; }
copy_folders=$(find "$tmp/one" -type d | wc -l)
echo "$(basename "$corpus") (${FILES:-default files}): $copy_files files in $copy_folders folders, $copy_bytes bytes per copy; \`pin-lint $command\` on one core, $rounds rounds"
# User and system CPU time of the fastest round (GNU time, 0.01 s resolution): system time is
# the kernel listing folders and opening files, which grows with their number, not with bytes.
cpu_time=()
[ -x /usr/bin/time ] && cpu_time=(/usr/bin/time -f '%U %S' -o "$tmp/cpu")
printf '%8s %8s %10s %10s %12s %12s %10s %8s %8s\n' size copies files folders fastest median "MB/s" user system
first_rate=""
last_rate=""
for s in $sizes; do
  n=$(copies_needed "$s")
  paths=()
  for i in $(seq 1 "$n"); do paths+=("copy$i"); done
  bytes=$((n * copy_bytes))
  times=()
  for _ in $(seq 1 "$rounds"); do
    echo "- -" >"$tmp/cpu"
    start=$(now)
    (cd "$tmp" && RAYON_NUM_THREADS=1 "${cpu_time[@]}" taskset -c 0 "$bin" "$command" "${paths[@]}" >/dev/null) || [ $? -eq 1 ]
    end=$(now)
    # Each entry: wall time, then the user and system time of that round.
    times+=("$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.6f", b - a}') $(tail -1 "$tmp/cpu")")
  done
  sorted=()
  while IFS= read -r line; do sorted+=("$line"); done < <(printf '%s\n' "${times[@]}" | sort -g)
  read -r fastest user system <<<"${sorted[0]}"
  median=${sorted[$((rounds / 2))]%% *}
  rate=$(awk -v b="$bytes" -v t="$fastest" 'BEGIN {printf "%.3f", b / 1000000 / t}')
  [ -z "$first_rate" ] && first_rate=$rate
  last_rate=$rate
  printf '%6.1f MB %8d %10d %10d %10.3f s %10.3f s %10.1f %6s s %6s s\n' \
    "$(awk -v b="$bytes" 'BEGIN {print b / 1000000}')" "$n" "$((n * copy_files))" \
    "$((n * copy_folders))" "$fastest" "$median" "$rate" "$user" "$system"
done
printf 'throughput at the largest size / at the smallest: %.2f (1.00 = linear)\n' \
  "$(awk -v a="$last_rate" -v b="$first_rate" 'BEGIN {print a / b}')"
