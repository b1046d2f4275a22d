#!/usr/bin/env bash
# Per-exec latency of the oci, gvisor and sy-agnos backends next to their raw runtimes' exec and
# run on the same container, interleaved in one run (see ContainerLatencyHarness). Needs root,
# runc, crun, runsc, podman and busybox-static. Usage: bench/containers.sh [N] [W] [BACKEND...]
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -DskipTests -Dspotless.check.skip=true package -pl bench -am
exec java -cp bench/target/benchmarks.jar dev.kavach.bench.ContainerLatencyHarness "$@"
