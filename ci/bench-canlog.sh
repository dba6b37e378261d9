#!/usr/bin/env bash
# ovms-canlog reader benchmark: frames/s per text format on >= 1M-frame files built from the real
# logs, against `wc -l` and python-can on the same files, and peak RSS reading a 1 GB log.
# Both read APIs are timed (the `frames()` iterator and the buffer-reusing `read_frame`); the
# ratios are those of `read_frame` (see harness/canlog/benches/readers.rs).
#
#   ci/bench-canlog.sh                     # full run (writes ~1.3 GB of scratch files)
#   CANLOG_BENCH_GB=0 ci/bench-canlog.sh   # skip the 1 GB RSS run
#
# Scratch files go to CANLOG_BENCH_DIR (default $TMPDIR/canlog-bench) and are removed at the end.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CANLOG_BENCH_DIR="${CANLOG_BENCH_DIR:-${TMPDIR:-/tmp}/canlog-bench}"
python3 -c 'import can' 2>/dev/null || echo "bench-canlog: python-can not importable; its columns will say n/a"
cd "$here"
cargo bench -p ovms-canlog --bench readers
rm -rf "$CANLOG_BENCH_DIR"
