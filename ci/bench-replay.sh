#!/usr/bin/env bash
# Replay benchmarks.
#
#   ci/bench-replay.sh            host: wall-clock lateness (4,000 frames/s for 60 s, null and
#                                 collecting sinks) and virtual-clock throughput
#   BENCH_VM=1 ci/bench-replay.sh also, inside the QEMU rig: replay onto vcan0 vs canplayer
#
# Knobs: BENCH_RATE (4000), BENCH_SECONDS (60), BENCH_VM_SECONDS (10), BENCH_VM_SMP (1),
#        BENCH_HOST=0 (skip the host part), BENCH_RT=1 (also run the wall-clock benches with
#        `--realtime`: the replay thread asks for SCHED_FIFO priority 10 and locks its memory,
#        which keeps other busy processes from preempting it; needs root or CAP_SYS_NICE).
# Lateness = |actual − scheduled|: on the host measured when the frame is handed to the sink; in
# the VM from the kernel receive timestamps of a second socket (the same measure for canplayer).
# Results are the lines starting with BENCH.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RATE=${BENCH_RATE:-4000}
SECS=${BENCH_SECONDS:-60}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
cd "$ROOT"

echo "== build (release)" >&2
cargo build -q --release -p ovms-replay --bin replay-bench
BIN=$CARGO_TARGET_DIR/release/replay-bench
LOG=$ROOT/scenarios/logs/tesla-model-s_savvycan-example.candump.log

if [ "${BENCH_HOST:-1}" = 1 ]; then
    echo "== host: wall clock, $RATE frames/s for $SECS s (load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores)" >&2
    "$BIN" wall --rate "$RATE" --seconds "$SECS" --sink null
    "$BIN" wall --rate "$RATE" --seconds "$SECS" --sink collect
    if [ "${BENCH_RT:-0}" = 1 ]; then
        echo "== host: the same with --realtime (SCHED_FIFO 10 + mlockall for the replay thread)" >&2
        "$BIN" wall --rate "$RATE" --seconds "$SECS" --sink null --realtime
        "$BIN" wall --rate "$RATE" --seconds "$SECS" --sink collect --realtime
    fi

    echo "== host: virtual clock throughput" >&2
    "$BIN" virtual --log "$LOG" --loops 20 --sink null
    "$BIN" virtual --frames 2000000 --loops 1 --sink null
    "$BIN" virtual --frames 1000000 --loops 1 --sink channel
fi

if [ "${BENCH_VM:-0}" = 1 ]; then
    echo "== VM: ovms-replay vs canplayer onto vcan0, $RATE frames/s for ${BENCH_VM_SECONDS:-10} s" >&2
    TRIPLE=x86_64-unknown-linux-gnu
    RUSTFLAGS="-C target-feature=+crt-static" CARGO_TARGET_DIR=$ROOT/build/vm-target \
        cargo build -q --release -p ovms-replay --bin replay-bench --target $TRIPLE
    OVMS_HIL_VM_BINS="$ROOT/build/vm-target/$TRIPLE/release/replay-bench $ROOT/ci/vm/bench-in-vm.sh" \
    OVMS_HIL_VM_TOOLS="canplayer" \
    OVMS_HIL_VM_EXTRA="bench-in-vm.sh $RATE ${BENCH_VM_SECONDS:-10}" \
    OVMS_HIL_VM_SMP=${BENCH_VM_SMP:-1} \
    OVMS_HIL_VM_TIMEOUT=${OVMS_HIL_VM_TIMEOUT:-400} \
        "$ROOT/ci/socketcan-vm.sh" 2>&1 | grep -E '^BENCH|PASS|FAIL' || true
fi
