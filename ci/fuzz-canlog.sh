#!/usr/bin/env bash
# Fuzz every ovms-canlog reader for a fixed time each.
#
#   SECONDS_PER_TARGET=20 ci/fuzz-canlog.sh [target ...]
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Without them it says so
# and exits 0 (fuzzing is an extra, not a gate). Corpora live outside the repository
# (CANLOG_FUZZ_CORPUS, default $TMPDIR/canlog-fuzz-corpus), seeded with the first 4 KiB of the
# real logs in scenarios/logs. A crash fails the script (exit 1) and leaves the reproducer in
# harness/canlog/fuzz/artifacts/<target>/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fuzz_dir="$here/harness/canlog/fuzz"
logs="$here/scenarios/logs"
secs="${SECONDS_PER_TARGET:-20}"
corpus_root="${CANLOG_FUZZ_CORPUS:-${TMPDIR:-/tmp}/canlog-fuzz-corpus}"

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    echo "fuzz-canlog: no nightly toolchain (rustup toolchain install nightly); skipping fuzzing."
    exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz-canlog: cargo-fuzz is not installed (cargo install cargo-fuzz); skipping fuzzing."
    exit 0
fi

all_targets=(detect crtd candump candump_screen gvret_csv peak_trc carbus_trc vector_asc tattler_csv pcap pcapng)
targets=("${@:-${all_targets[@]}}")

# Seed files per target: (target glob over scenarios/logs)
seed_glob() {
    case "$1" in
        crtd) echo "*.crtd.txt" ;;
        candump) echo "*.candump.log" ;;
        gvret_csv) echo "*.gvret.csv" ;;
        peak_trc) echo "*.peak.trc" ;;
        carbus_trc) echo "*.carbusanalyzer.trc" ;;
        tattler_csv) echo "tesla-roadster_*.csv" ;;
        detect) echo "*" ;;
        *) echo "" ;;
    esac
}

failed=0
for t in "${targets[@]}"; do
    corpus="$corpus_root/$t"
    mkdir -p "$corpus"
    glob="$(seed_glob "$t")"
    if [[ -n "$glob" ]]; then
        for f in $logs/$glob; do
            [[ -f "$f" ]] && head -c 4096 "$f" > "$corpus/seed-$(basename "$f")"
        done
    fi
    echo "fuzz-canlog: $t for ${secs}s (corpus $corpus)"
    if ! (cd "$fuzz_dir" && cargo +nightly fuzz run "$t" "$corpus" -- \
            -max_total_time="$secs" -max_len=70000 -rss_limit_mb=512 -print_final_stats=1); then
        echo "fuzz-canlog: $t FAILED (see $fuzz_dir/artifacts/$t/)"
        failed=1
    fi
done
exit "$failed"
