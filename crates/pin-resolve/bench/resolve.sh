#!/usr/bin/env bash
# Benchmark pin-resolve against sequential `skopeo inspect --raw` on a loopback registry.
# Usage: crates/pin-resolve/bench/resolve.sh [--tags 500] [--sample M (default: all)] [--concurrency 8]
# PROFILE=dev skips the release build (figures are network-bound either way).
set -euo pipefail
cd "$(dirname "$0")/../../.."
for bin in docker-registry skopeo; do
  command -v "$bin" >/dev/null || {
    echo "missing $bin: apt-get update && apt-get install -y --no-install-recommends docker-registry skopeo umoci" >&2
    exit 2
  }
done
exec cargo run --quiet --profile "${PROFILE:-release}" -p pin-resolve --example bench_resolve -- "$@"
