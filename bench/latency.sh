#!/usr/bin/env bash
# Whole-process spawn latency of /bin/true from one JVM: direct, the process backend under
# minimal, basic and strict, bwrap with comparable isolation, and unshare -Urnpf, all in one
# interleaved run; prints p50/p95 and ratios (see LatencyHarness). Usage: bench/latency.sh [N] [W]
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -DskipTests -Dspotless.check.skip=true package -pl bench -am
exec java -cp bench/target/benchmarks.jar dev.kavach.bench.LatencyHarness "$@"
